/*
 * log_test.c - bounded logs (issue 15, LIVE-7): repeated warnings are rate-limited with a count,
 * and a log file past log.max_size is rotated to NAME.1. A loop thread's info lines wait for
 * the flush before the loop's next wait (one write for many lines, issue #18), never past a
 * warning, and a forked child does not write its parent's waiting lines.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

START_TEST(loop_lines_wait_for_the_flush_and_never_past_a_warning)
{
    char path[] = "/tmp/cmk-log-test-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "a");
    ck_assert_ptr_nonnull(f);
    cmk_log_init("t", f, CMK_LOG_INFO);
    cmk_log_limits(0, 0);
    cmk_log_defer(1);
    cmk_info("test.first", "%s", "x");
    cmk_info("test.second", "%s", "x");
    ck_assert_int_eq(count_lines(path, "event=test."), 0); /* waiting */
    cmk_log_flush();
    ck_assert_int_eq(count_lines(path, "event=test.first"), 1);
    ck_assert_int_eq(count_lines(path, "event=test.second"), 1);
    cmk_info("test.third", "%s", "x");
    cmk_warn("test.warned", "%s", "x"); /* a warning goes out at once, after what waited */
    ck_assert_int_eq(count_lines(path, "event=test.third"), 1);
    ck_assert_int_eq(count_lines(path, "event=test.warned"), 1);
    cmk_info("test.fourth", "%s", "x");
    cmk_log_defer(0); /* off: flushes */
    ck_assert_int_eq(count_lines(path, "event=test.fourth"), 1);
    cmk_info("test.fifth", "%s", "x"); /* not deferred: at once */
    ck_assert_int_eq(count_lines(path, "event=test.fifth"), 1);
    {
        FILE *r = fopen(path, "r");
        char line[4096], order[8][32];
        int n = 0;
        while (r && n < 8 && fgets(line, sizeof line, r))
            sscanf(strstr(line, "event=") ? strstr(line, "event=") : "", "event=%31s", order[n++]);
        fclose(r);
        ck_assert_int_eq(n, 6);
        ck_assert_str_eq(order[0], "test.first");
        ck_assert_str_eq(order[2], "test.third");
        ck_assert_str_eq(order[3], "test.warned");
        ck_assert_str_eq(order[5], "test.fifth");
    }
    cmk_log_init("t", NULL, CMK_LOG_INFO);
    fclose(f);
    unlink(path);
}
END_TEST

START_TEST(a_forked_child_does_not_write_its_parents_waiting_lines)
{
    char path[] = "/tmp/cmk-log-test-XXXXXX";
    int fd = mkstemp(path), status = 0;
    FILE *f = fdopen(fd, "a");
    pid_t pid;
    ck_assert_ptr_nonnull(f);
    cmk_log_init("t", f, CMK_LOG_INFO);
    cmk_log_limits(0, 0);
    cmk_log_defer(1);
    cmk_info("test.parent", "%s", "x");
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        cmk_info("test.child", "%s", "x");
        cmk_log_flush();
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    cmk_log_defer(0);
    ck_assert_int_eq(count_lines(path, "event=test.parent"), 1);
    ck_assert_int_eq(count_lines(path, "event=test.child"), 1);
    cmk_log_init("t", NULL, CMK_LOG_INFO);
    fclose(f);
    unlink(path);
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
    tcase_add_test(tc, loop_lines_wait_for_the_flush_and_never_past_a_warning);
    tcase_add_test(tc, a_forked_child_does_not_write_its_parents_waiting_lines);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
