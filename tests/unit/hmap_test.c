/*
 * hmap_test.c - the string hash map: put/get/replace/remove over many keys (growth and
 * backward-shift deletion keep every other key findable), iteration sees each key once.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

#define N 5000

START_TEST(test_hmap_put_get_remove_many)
{
    cmk_hmap *m = cmk_hmap_new();
    char key[32];

    ck_assert_ptr_nonnull(m);
    for (intptr_t i = 0; i < N; i++) {
        snprintf(key, sizeof key, "f%ld", (long)i);
        ck_assert_int_eq(cmk_hmap_put(m, key, (void *)(i + 1)), 0);
    }
    ck_assert_uint_eq(cmk_hmap_count(m), N);
    /* replace does not add */
    ck_assert_int_eq(cmk_hmap_put(m, "f7", (void *)777), 0);
    ck_assert_uint_eq(cmk_hmap_count(m), N);
    ck_assert_ptr_eq(cmk_hmap_get(m, "f7"), (void *)777);
    ck_assert_ptr_null(cmk_hmap_get(m, "nope"));
    ck_assert_ptr_null(cmk_hmap_remove(m, "nope"));
    /* remove every third key; the others must all stay findable */
    for (intptr_t i = 0; i < N; i += 3) {
        snprintf(key, sizeof key, "f%ld", (long)i);
        ck_assert_ptr_nonnull(cmk_hmap_remove(m, key));
    }
    for (intptr_t i = 0; i < N; i++) {
        snprintf(key, sizeof key, "f%ld", (long)i);
        if (i % 3 == 0)
            ck_assert_ptr_null(cmk_hmap_get(m, key));
        else if (i == 7)
            ck_assert_ptr_eq(cmk_hmap_get(m, key), (void *)777);
        else
            ck_assert_ptr_eq(cmk_hmap_get(m, key), (void *)(i + 1));
    }
    ck_assert_uint_eq(cmk_hmap_count(m), N - (N + 2) / 3);
    cmk_hmap_destroy(&m);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_hmap_iterates_each_key_once)
{
    cmk_hmap *m = cmk_hmap_new();
    static int seen[100];
    size_t pos = 0, n = 0;
    const char *k;
    void *v;
    char key[16];

    for (intptr_t i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        cmk_hmap_put(m, key, (void *)i);
    }
    while (cmk_hmap_next(m, &pos, &k, &v)) {
        ck_assert_int_eq(atoi(k + 1), (int)(intptr_t)v);
        seen[(intptr_t)v]++;
        n++;
    }
    ck_assert_uint_eq(n, 100);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    cmk_hmap_destroy(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hmap");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_hmap_put_get_remove_many);
    tcase_add_test(tc, test_hmap_iterates_each_key_once);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
