/*
 * randpool_test.c - the pool of random bytes for hot-path ids (common/util.c cmk_randpool): an
 * empty pool fills on its first draw, draws are hex of the asked length and differ, bytes given
 * out are wiped from the pool, and it refills once spent.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

START_TEST(draws_are_hex_distinct_and_wiped)
{
    cmk_randpool *p = malloc(sizeof *p);
    char a[33], b[33], small[8];
    static const uint8_t zero[16];

    ck_assert_ptr_nonnull(p);
    cmk_randpool_init(p);
    ck_assert_uint_eq(p->used, sizeof p->buf);
    ck_assert_int_eq(cmk_randpool_hex(p, 16, a, sizeof a), 0);
    ck_assert_uint_eq(p->used, 16);
    ck_assert_mem_eq(p->buf, zero, 16); /* given out: wiped */
    ck_assert_int_eq(cmk_randpool_hex(p, 16, b, sizeof b), 0);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(cmk_randpool_hex(p, 65, small, sizeof small), -1); /* more than an id */
    /* spent: the next draw refills */
    p->used = sizeof p->buf - 8;
    ck_assert_int_eq(cmk_randpool_hex(p, 16, a, sizeof a), 0);
    ck_assert_uint_eq(p->used, 16);
    free(p);
}
END_TEST

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    Suite *s = suite_create("randpool");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, draws_are_hex_distinct_and_wiped);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
