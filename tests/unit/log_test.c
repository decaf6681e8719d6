/*
 * log_test.c - bounded logs (issue 15, LIVE-7): repeated warnings are rate-limited with a count,
 * and a log file past log.max_size is rotated to NAME.1.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* count_lines - lines of path holding needle */
static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

START_TEST(repeated_warnings_are_rate_limited)
{
    char path[] = "/tmp/cmk-log-test-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "a");
    ck_assert_ptr_nonnull(f);
    cmk_log_init("t", f, CMK_LOG_INFO);
    cmk_log_limits(0, 5);
    for (int i = 0; i < 1000; i++)
        cmk_warn("test.repeated", "i=%d", i);
    cmk_warn("test.other", "%s", "x");
    ck_assert_int_eq(count_lines(path, "event=test.repeated"), 5);
    ck_assert_int_eq(count_lines(path, "event=test.other"), 1);
    for (int i = 0; i < 100; i++)
        cmk_info("test.info", "i=%d", i); /* info lines are not limited */
    ck_assert_int_eq(count_lines(path, "event=test.info"), 100);
    cmk_log_init("t", NULL, CMK_LOG_INFO);
    cmk_log_limits(0, 0);
    fclose(f);
    unlink(path);
}
END_TEST

START_TEST(a_log_past_its_size_is_rotated)
{
    char path[] = "/tmp/cmk-log-test-XXXXXX", old[64];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "a");
    struct stat st;
    ck_assert_ptr_nonnull(f);
    snprintf(old, sizeof old, "%s.1", path);
    cmk_log_init("t", f, CMK_LOG_INFO);
    cmk_log_limits(65536, 0);
    for (int i = 0; i < 3000; i++)
        cmk_info("test.fill", "i=%d pad=%0100d", i, 0);
    ck_assert_int_eq(stat(old, &st), 0);
    ck_assert_int_ge(st.st_size, 65536);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_lt(st.st_size, 65536 + 4096);
    ck_assert_int_gt(count_lines(path, "event=test.fill i=2999 "), 0); /* the newest lines are in the new file */
    cmk_log_init("t", NULL, CMK_LOG_INFO);
    cmk_log_limits(0, 0);
    fclose(f);
    unlink(path);
    unlink(old);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, repeated_warnings_are_rate_limited);
    tcase_add_test(tc, a_log_past_its_size_is_rotated);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
