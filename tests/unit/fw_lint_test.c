/*
 * fw_lint_test.c - findings about valid firewall configs (firewall/fw_lint.h): shadowed and
 * conflicting rules across port ranges, host bits, empty tags, report mode, unresolved tags.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_lint.h"

static fw_lint *lint;     /* findings of the last run */
static fw_config *cfg;    /* config of the last run */

/* run - parse text against tags (may be NULL) and lint it */
static void run(const char *text, const fw_servicetags *tags)
{
    cmk_err err = CMK_ERR_INIT;
    fw_lint_destroy(&lint);
    fw_config_destroy(&cfg);
    cfg = fw_config_parse(text, strlen(text), "l.json", tags, FW_CONFIG_UNRESOLVED_OK, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert_msg(fw_lint_config(cfg, &lint, &err) == 0, "%s", err.msg);
}

/* find - the first finding with this code (and rule index, -2 for any), or NULL */
static const fw_lint_finding *find(const char *code, int rule)
{
    for (size_t i = 0; i < fw_lint_count(lint); i++) {
        const fw_lint_finding *f = fw_lint_at(lint, i);
        if (strcmp(f->code, code) == 0 && (rule == -2 || f->rule == rule))
            return f;
    }
    return NULL;
}

/* teardown - free the last run */
static void teardown(void)
{
    fw_lint_destroy(&lint);
    fw_config_destroy(&cfg);
}

START_TEST(a_clean_config_has_no_findings)
{
    run("{\"default\": \"reject\", \"rules\": [\n"
        "{\"action\": \"allow\", \"source\": \"127.10.1.0/24\"},\n"
        "{\"action\": \"allow\", \"source\": \"127.40.1.0/24\", \"port\": 443}]}", NULL);
    ck_assert_uint_eq(fw_lint_count(lint), 0);
    ck_assert_uint_eq(fw_lint_warnings(lint), 0);
}
END_TEST

START_TEST(shadowed_rules_are_found_per_port)
{
    run("{\"default\": \"reject\", \"rules\": [\n"
        "{\"name\": \"web\", \"action\": \"allow\", \"source\": \"10.0.0.0/8\", \"port\": 443},\n"
        "{\"name\": \"web-and-80\", \"action\": \"allow\", \"source\": \"10.0.0.0/8\", \"port\": [80, 443]},\n"
        "{\"name\": \"narrow\", \"action\": \"allow\", \"source\": \"10.1.0.0/16\", \"port\": \"80-443\"},\n"
        "{\"name\": \"narrow-wide\", \"action\": \"allow\", \"source\": \"10.1.0.0/16\", \"port\": \"80-444\"},\n"
        "{\"name\": \"block\", \"action\": \"drop\", \"source\": \"10.2.0.0/16\", \"port\": 443}]}", NULL);
    /* web-and-80 still matches port 80; narrow covers ports 81..442 that nobody took */
    ck_assert_ptr_null(find("shadowed", 1));
    ck_assert_ptr_null(find("shadowed", 2));
    ck_assert_ptr_null(find("shadowed", 3));
    const fw_lint_finding *f = find("shadowed", 4);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->line, 6);
    ck_assert_int_eq(f->level, FW_LINT_WARNING);
    ck_assert_msg(strstr(f->msg, "rule 5 \"block\" (drop) never matches") && strstr(f->msg, "another action"), "%s", f->msg);
    run("{\"default\": \"reject\", \"rules\": [\n"
        "{\"action\": \"allow\", \"source\": [\"10.0.0.0/9\", \"10.128.0.0/9\"]},\n"
        "{\"action\": \"allow\", \"source\": \"10.5.0.0/16\", \"port\": 443},\n"
        "{\"action\": \"drop\", \"source\": \"any\"},\n"
        "{\"action\": \"allow\", \"source\": \"192.168.0.0/16\"}]}", NULL);
    f = find("shadowed", 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f->msg, "redundant"), "%s", f->msg);
    ck_assert_ptr_nonnull(find("shadowed", 3));
    ck_assert_ptr_null(find("shadowed", 2));
    ck_assert_uint_eq(fw_lint_warnings(lint), 2);
}
END_TEST

START_TEST(deny_before_allow_is_a_conflict)
{
    run("{\"default\": \"reject\", \"rules\": [\n"
        "{\"name\": \"no\", \"action\": \"reject\", \"source\": \"127.40.1.64/26\"},\n"
        "{\"name\": \"yes\", \"action\": \"allow\", \"source\": \"127.40.1.0/24\"},\n"
        "{\"name\": \"mute\", \"action\": \"drop\", \"source\": \"127.40.0.0/16\"}]}", NULL);
    const fw_lint_finding *f = find("conflict", 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->level, FW_LINT_WARNING);
    ck_assert_int_eq(f->line, 3);
    ck_assert_msg(strstr(f->msg, "rule 1 \"no\" (reject, line 2)") && strstr(f->msg, "127.40.1.64/26"), "%s", f->msg);
    /* a deny partly pre-empted by an allow is only a note */
    f = find("conflict", 2);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->level, FW_LINT_NOTE);
    ck_assert_uint_eq(fw_lint_warnings(lint), 1);
}
END_TEST

START_TEST(notes_and_loading_warnings)
{
    run("{\"mode\": \"report\", \"default\": \"reject\", \"rules\": [\n"
        "{\"action\": \"allow\", \"source\": \"127.40.1.1/24\"},\n"
        "{\"action\": \"allow\", \"source\": {\"tag\": \"LogicApps\"}},\n"
        "{\"action\": \"allow\", \"source\": \"127.40.1.0/24\"}]}", NULL);
    ck_assert_ptr_nonnull(find("report-mode", -1));
    ck_assert_ptr_nonnull(find("unresolved", -1));
    const fw_lint_finding *f = find("host-bits", 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->line, 2);
    /* not analysed past the unresolved rule, so rule 3 is not called shadowed */
    ck_assert_ptr_null(find("shadowed", -2));
    /* findings come sorted by line: notes without a line first */
    for (size_t i = 1; i < fw_lint_count(lint); i++)
        ck_assert_int_le(fw_lint_at(lint, i - 1)->line, fw_lint_at(lint, i)->line);

    const char *tags_text = "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [\n"
                            "{\"name\": \"Empty\", \"id\": \"Empty\", \"properties\": {\"addressPrefixes\": []}}]}";
    cmk_err err = CMK_ERR_INIT;
    fw_servicetags *st = fw_servicetags_parse(tags_text, strlen(tags_text), "t", &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    run("{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": {\"tag\": \"Empty\"}}]}", st);
    f = find("empty-tag", 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f->msg, "matches nothing"), "%s", f->msg);
    ck_assert_ptr_null(find("shadowed", -2));
    fw_lint_destroy(&lint);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&st);
}
END_TEST

/* fw_lint_suite - every test of this module */
static Suite *fw_lint_suite(void)
{
    Suite *s = suite_create("fw_lint");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, a_clean_config_has_no_findings);
    tcase_add_test(tc, shadowed_rules_are_found_per_port);
    tcase_add_test(tc, deny_before_allow_is_a_conflict);
    tcase_add_test(tc, notes_and_loading_warnings);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_lint_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
