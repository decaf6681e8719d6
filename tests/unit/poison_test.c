/*
 * poison_test.c - the broker's memory of poison pills: a remembered (peer, type, body) is
 * known again, another peer, type or body is not, and a full ring forgets the oldest first.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "poison.h"

START_TEST(test_poison_remembers_exact_request)
{
    poison_memory *m = poison_memory_new();
    const char *body = "{\"env\":\"env-1\",\"flow\":\"f\",\"n\":1}";
    const char *other = "{\"env\":\"env-1\",\"flow\":\"f\",\"n\":2}";

    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(poison_known(m, "worker-shared", "flow.run", body), 0); /* empty */
    poison_remember(m, "worker-shared", "flow.run", body);
    ck_assert_int_eq(poison_known(m, "worker-shared", "flow.run", body), 1);
    ck_assert_int_eq(poison_known(m, "worker-shared", "flow.run", other), 0);
    ck_assert_int_eq(poison_known(m, "worker-env-2", "flow.run", body), 0);
    ck_assert_int_eq(poison_known(m, "worker-shared", "run.show", body), 0);
    ck_assert_int_eq(poison_known(m, "worker-shared", "flow.run", NULL), 0);
    /* peer and type are separated: "ab"+"c" is not "a"+"bc" */
    poison_remember(m, "ab", "c", NULL);
    ck_assert_int_eq(poison_known(m, "a", "bc", NULL), 0);
    ck_assert_int_eq(poison_known(m, "ab", "c", NULL), 1);

    poison_memory_destroy(&m);
    ck_assert_ptr_null(m);
    poison_memory_destroy(&m); /* twice is fine */
}
END_TEST

START_TEST(test_poison_ring_forgets_oldest)
{
    poison_memory *m = poison_memory_new();
    char type[32];

    for (int i = 0; i < POISON_SLOTS + 3; i++) {
        snprintf(type, sizeof type, "t%d", i);
        poison_remember(m, "w", type, NULL);
    }
    for (int i = 0; i < POISON_SLOTS + 3; i++) {
        snprintf(type, sizeof type, "t%d", i);
        ck_assert_int_eq(poison_known(m, "w", type, NULL), i >= 3);
    }
    poison_memory_destroy(&m);
    ck_assert_int_eq(poison_known(NULL, "w", "t", NULL), 0); /* no memory: nothing known */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("poison");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_poison_remembers_exact_request);
    tcase_add_test(tc, test_poison_ring_forgets_oldest);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
