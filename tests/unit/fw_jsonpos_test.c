/*
 * fw_jsonpos_test.c - positions in raw JSON text (firewall/fw_jsonpos.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fw_jsonpos.h"

static const char *doc = "{\n"                                   /* 1 */
                         "  \"name\": \"x\",\n"                  /* 2 */
                         "  \"odd \\\"key\\\"\": [1, {\"a\": 2}],\n" /* 3 */
                         "  \"rules\": [\n"                      /* 4 */
                         "    { \"action\": \"allow\",\n"       /* 5 */
                         "      \"source\": \"a,b]}\" },\n"       /* 6 */
                         "    {\n"                               /* 7 */
                         "      \"source\": [\n"                 /* 8 */
                         "        \"10.0.0.0/8\",\n"             /* 9 */
                         "        { \"tag\": \"T\" }\n"          /* 10 */
                         "      ],\n"                            /* 11 */
                         "      \"port\": 443\n"                 /* 12 */
                         "    }\n"                               /* 13 */
                         "  ]\n"                                 /* 14 */
                         "}\n";

START_TEST(line_and_column_of_an_offset)
{
    int line, col;
    fw_jsonpos_line_col("ab\ncd\n", 6, 4, &line, &col);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(col, 2);
    fw_jsonpos_line_col("ab", 2, 99, &line, &col); /* clamped */
    ck_assert_int_eq(line, 1);
    ck_assert_int_eq(col, 3);
}
END_TEST

START_TEST(values_are_found_by_path)
{
    size_t n = strlen(doc);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, ""), 1);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "name"), 2);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules"), 4);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[0]"), 5);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[0].source"), 6);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[1]"), 7);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[1].source[1]"), 10);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[1].source[1].tag"), 10);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[1].port"), 12);
    long off = fw_jsonpos_find(doc, n, "rules[1].port", NULL);
    ck_assert_int_eq(strncmp(doc + off, "443", 3), 0);
    off = fw_jsonpos_find(doc, n, "rules[0].source", NULL);
    ck_assert_int_eq(strncmp(doc + off, "\"a,b]}\"", 7), 0);
}
END_TEST

START_TEST(missing_paths_give_the_deepest_parent)
{
    size_t n = strlen(doc);
    int depth;
    long off = fw_jsonpos_find(doc, n, "rules[1].nope", &depth);
    ck_assert_int_eq(depth, 2);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "rules[1].nope"), 7);
    fw_jsonpos_find(doc, n, "rules[9]", &depth);
    ck_assert_int_eq(depth, 1);
    ck_assert_int_eq(fw_jsonpos_line(doc, n, "name[0]"), 2); /* not an array */
    ck_assert_int_ge(off, 0);
    ck_assert_int_eq(fw_jsonpos_line("", 0, "a"), 0);
    ck_assert_int_eq(fw_jsonpos_line("\xEF\xBB\xBF{\"a\":\n1}", 10, "a"), 2); /* BOM */
}
END_TEST

/* fw_jsonpos_suite - every test of this module */
static Suite *fw_jsonpos_suite(void)
{
    Suite *s = suite_create("fw_jsonpos");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, line_and_column_of_an_offset);
    tcase_add_test(tc, values_are_found_by_path);
    tcase_add_test(tc, missing_paths_give_the_deepest_parent);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_jsonpos_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
