/*
 * config_badinput_test.c - bad config files: a syntax error is refused with the file and its
 * line, a wrong value with the file and the parameter; and every daemon given such a file
 * refuses to start (non-zero exit, the message on stderr, no process left behind, no run dir
 * made).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"

static char dir[64]; /* temp dir of a test */

/* write_file - a file in dir with text; returns its path (static buffer per call slot) */
static const char *write_file(const char *name, const char *text)
{
    static char paths[4][160];
    static int slot;
    char *p = paths[slot++ % 4];
    FILE *f;
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

/* setup - a fresh temp dir */
static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cmk-cfgbad.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* teardown - remove it */
static void teardown(void)
{
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* load - apply a file over the defaults; returns the code, err filled */
static int load(const char *path, cmk_err *err)
{
    cmk_config *cfg = cmk_config_new(dir, err);
    int rc;
    ck_assert_ptr_nonnull(cfg);
    rc = cmk_config_load_file(cfg, path, err);
    cmk_config_destroy(&cfg);
    return rc;
}

START_TEST(a_syntax_error_names_the_file_and_line)
{
    cmk_err err = CMK_ERR_INIT;
    const char *p = write_file("syntax.json", "{\n  \"log\": { \"level\": \"info\" },\n  \"heartbeat\": { \"interval\": 1s }\n}\n");
    char want[200];
    ck_assert_int_eq(load(p, &err), CMK_EINVAL);
    snprintf(want, sizeof want, "%s:3: not valid JSON", p);
    ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
}
END_TEST

START_TEST(a_bad_value_names_the_file_and_parameter)
{
    static const struct { const char *text, *want; } cases[] = {
        { "{\"heartbeat\": {\"interval\": 5}}", "heartbeat.interval has a value of the wrong type" },
        { "{\"heartbeat\": {\"interval\": \"soon\"}}", "heartbeat.interval" },
        { "{\"no\": {\"such\": \"thing\"}}", "unknown config parameter 'no.such'" },
        { "[1, 2]", "a config must be a JSON object" },
        { "{\"log\": {\"level\": true}}", "log.level has a value of the wrong type" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmk_err err = CMK_ERR_INIT;
        const char *p = write_file("bad.json", cases[i].text);
        ck_assert_int_eq(load(p, &err), CMK_EINVAL);
        ck_assert_msg(strncmp(err.msg, p, strlen(p)) == 0, "no file name: %s", err.msg);
        ck_assert_msg(strstr(err.msg, cases[i].want), "%s: %s", cases[i].text, err.msg);
    }
}
END_TEST

START_TEST(every_daemon_refuses_to_start_on_a_bad_config)
{
    static const char *daemons[] = { "cmk-controller", "cmk-worker", "cmk-gateway", "cmk-firewall" };
    const char *bin = getenv("CMK_BIN_DIR");
    const char *p = write_file("bad.json", "{\"heartbeat\": {\"interval\": 5}}");

    ck_assert_msg(bin != NULL, "CMK_BIN_DIR is not set (ctest sets it)");
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
        char cmd[1024], out[4096] = "", run[160];
        size_t n;
        FILE *f;
        int status;
        struct stat st;

        snprintf(run, sizeof run, "%s/run-%zu", dir, i);
        snprintf(cmd, sizeof cmd, "%s/%s %s--run-dir %s --config %s 2>&1", bin, daemons[i],
                 strcmp(daemons[i], "cmk-firewall") == 0 ? "serve " : "", run, p);
        f = popen(cmd, "r");
        ck_assert_ptr_nonnull(f);
        n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        status = pclose(f);
        ck_assert_msg(status != 0, "%s started with a bad config: %s", daemons[i], out);
        ck_assert_msg(strstr(out, "heartbeat.interval"), "%s did not name the parameter: %s",
                      daemons[i], out);
        ck_assert_msg(strstr(out, "bad.json"), "%s did not name the file: %s", daemons[i], out);
        ck_assert_msg(stat(run, &st) != 0, "%s made its run dir before refusing", daemons[i]);
    }
}
END_TEST

/* config_badinput_suite - every test of this file */
static Suite *config_badinput_suite(void)
{
    Suite *s = suite_create("config_badinput");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_syntax_error_names_the_file_and_line);
    tcase_add_test(tc, a_bad_value_names_the_file_and_parameter);
    tcase_add_test(tc, every_daemon_refuses_to_start_on_a_bad_config);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(config_badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
