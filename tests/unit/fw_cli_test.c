/*
 * fw_cli_test.c - cmk-firewall's tool subcommands through fw_cli_run (firewall/fw_cli.h):
 * exit codes, human and JSON output, help, and argument errors.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_cli.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"
#define DATA CMK_SOURCE_DIR "/tests/data/servicetags/"
#define AUG DATA "ServiceTags_Public_20250831.json"
#define NOV DATA "ServiceTags_Public_20251109.json"

static char *out_text; /* stdout of the last run */
static char *err_text; /* stderr of the last run */

/* run - fw_cli_run with the given arguments (NULL-terminated); captures both streams */
static int run(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    size_t on = 0, en = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    free(out_text);
    free(err_text);
    FILE *out = open_memstream(&out_text, &on), *err = open_memstream(&err_text, &en);
    int rc = fw_cli_run(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return rc;
}

/* has - whether the last stdout contains s */
static bool has(const char *s)
{
    return strstr(out_text, s) != NULL;
}

/* temp_config - write text to a temporary .json file; returns its path (free it) */
static char *temp_config(const char *text)
{
    char *path = strdup("/tmp/fw_cli_test_XXXXXX.json");
    int fd = mkstemps(path, 5);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* teardown - free captured output */
static void teardown(void)
{
    free(out_text);
    free(err_text);
    out_text = err_text = NULL;
}

START_TEST(check_legacy_only_fails_with_the_seed_error)
{
    int rc = run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "legacy-only.json",
                 "--tag", "PowerPlatformPlex", "--region", "WestUS", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(has("NOT COVERED") && has("127.40.1.0/24") && has("rejected by the default"), "%s", out_text);
    ck_assert_msg(has("Http request failed as there is an error: 'No connection could be made "
                      "because the target machine actively refused it.'"), "%s", out_text);
    rc = run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "with-plex.json", "--tag",
             "PowerPlatformPlex.WestUS", NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(has("COVERED") && !has("NOT COVERED"), "%s", out_text);
    rc = run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "drop-default.json", "--tag",
             "PowerPlatformPlex", "--region", "westus", "--port=8443", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(has("TCP port 8443") && has("dropped") && has("time out"), "%s", out_text);
    rc = run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "report-mode.json", "--tag",
             "PowerPlatformPlex", "--region", "WestUS", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(has("report mode"), "%s", out_text);
}
END_TEST

START_TEST(check_json_is_complete)
{
    int rc = run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "wrong-region.json",
                 "--tag", "PowerPlatformPlex", "--json", NULL);
    ck_assert_int_eq(rc, 1);
    cJSON *j = cJSON_Parse(out_text);
    ck_assert_msg(j != NULL, "not JSON: %s", out_text);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "covered")));
    ck_assert_str_eq(cJSON_GetObjectItem(j, "tag")->valuestring, "PowerPlatformPlex");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "port")->valueint, 443);
    cJSON *refused = cJSON_GetObjectItem(j, "refused");
    ck_assert_int_eq(cJSON_GetArraySize(refused), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(refused, 0)->valuestring, "127.40.1.0/24");
    ck_assert_str_eq(cJSON_GetArrayItem(refused, 1)->valuestring, "127.40.3.0/24");
    cJSON *prefixes = cJSON_GetObjectItem(j, "prefixes");
    ck_assert_int_eq(cJSON_GetArraySize(prefixes), 3);
    cJSON *p1 = cJSON_GetArrayItem(prefixes, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(p1, "status")->valuestring, "covered");
    cJSON *gap = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(prefixes, 0), "gaps"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(gap, "action")->valuestring, "reject");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(gap, "rule")));
    ck_assert_str_eq(cJSON_GetObjectItem(gap, "rule_name")->valuestring, "default");
    cJSON *totals = cJSON_GetObjectItem(j, "totals");
    ck_assert_int_eq(cJSON_GetObjectItem(totals, "missing")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(totals, "covered")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "config"), "name")->valuestring, "wrong-region");
    cJSON_Delete(j);
}
END_TEST

START_TEST(august_firewall_misses_november_prefixes_check_and_diff)
{
    char *cfg = temp_config("{\"name\": \"plex-westus\", \"default\": \"reject\", \"rules\": [\n"
                            "  {\"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex\", \"region\": \"WestUS\"}}]}");
    static const char *const gained[] = { "48.195.24.64/26", "48.195.24.128/25", "48.195.25.0/24",
                                          "48.195.26.0/23", "48.195.28.0/23", "48.195.30.0/26" };
    /* built from August, checked against November: the six new prefixes are refused */
    int rc = run("check", "--service-tags", NOV, "--built-with", AUG, "--config", cfg, "--tag",
                 "PowerPlatformPlex", "--region", "WestUS", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(has("6 of 26 prefix(es) refused") && has("built from"), "%s", out_text);
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(has(gained[i]), "%s missing from:\n%s", gained[i], out_text);
    ck_assert_msg(!has("4.150.249.24/29"), "an August prefix reported:\n%s", out_text);
    /* against the file it was built from it is fine; rebuilt from November too */
    ck_assert_int_eq(run("check", "--service-tags", AUG, "--config", cfg, "--tag", "PowerPlatformPlex",
                         "--region", "WestUS", NULL), 0);
    ck_assert_int_eq(run("check", "--service-tags", NOV, "--config", cfg, "--tag", "PowerPlatformPlex",
                         "--region", "WestUS", NULL), 0);
    /* diff names the same six */
    rc = run("diff", AUG, NOV, "--tag", "PowerPlatformPlex.WestUS", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(has("PowerPlatformPlex.WestUS: changeNumber 5 -> 6, 6 prefixes added, 0 removed"), "%s", out_text);
    for (size_t i = 0; i < 6; i++) {
        char line[64];
        snprintf(line, sizeof line, "  + %s\n", gained[i]);
        ck_assert_msg(has(line), "%s missing from:\n%s", line, out_text);
    }
    rc = run("diff", AUG, NOV, "--tag", "PowerPlatformPlex", "--json", NULL);
    ck_assert_int_eq(rc, 1);
    cJSON *j = cJSON_Parse(out_text);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "changed")->valueint, 5);
    cJSON *entries = cJSON_GetObjectItem(j, "entries"), *e;
    bool seen = false;
    cJSON_ArrayForEach(e, entries) {
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "PowerPlatformPlex.WestUS") == 0) {
            seen = true;
            ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(e, "added")), 6);
            ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(e, "removed")), 0);
            ck_assert_str_eq(cJSON_GetObjectItem(e, "kind")->valuestring, "changed");
        }
    }
    ck_assert(seen);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "old"), "change_number")->valueint, 368);
    cJSON_Delete(j);
    ck_assert_int_eq(run("diff", NOV, NOV, NULL), 0);
    ck_assert_msg(has("0 entries changed"), "%s", out_text);
    unlink(cfg);
    free(cfg);
}
END_TEST

START_TEST(render_prints_the_ruleset)
{
    ck_assert_int_eq(run("render", "--config", FIREWALLS "with-plex.json", "--service-tags", SIM_TAGS,
                         "--table", "cust_fw", NULL), 0);
    ck_assert_msg(has("table inet cust_fw {") && has("127.40.1.0/24") && has("reject with tcp reset"), "%s", out_text);
    /* a config with tags needs the tags file */
    ck_assert_int_eq(run("render", "--config", FIREWALLS "with-plex.json", NULL), 2);
    ck_assert_msg(strstr(err_text, "--service-tags"), "%s", err_text);
    ck_assert_int_eq(run("render", "--config", FIREWALLS "with-plex.json", "--service-tags", SIM_TAGS,
                         "--hook", "prerouting", NULL), 2);
}
END_TEST

START_TEST(lint_reports_lines_warnings_and_errors)
{
    char *shadow = temp_config("{\"default\": \"reject\", \"rules\": [\n"
                               "  {\"name\": \"block\", \"action\": \"reject\", \"source\": \"127.40.1.0/25\"},\n"
                               "  {\"name\": \"plex\", \"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex.WestUS\"}},\n"
                               "  {\"name\": \"again\", \"action\": \"allow\", \"source\": \"127.40.1.7/25\"}\n"
                               "]}");
    char *broken = temp_config("{\"default\": \"reject\", \"rules\": [\n"
                               "  {\"action\": \"allow\", \"source\": \"127.40.1.0/24\"},\n"
                               "  {\"action\": \"allow\", \"source\": \"127.40.1.0/24\"},\n"
                               "  {\"action\": \"allow\", \"source\": \"127.40.1.0/240\"}\n"
                               "]}");
    ck_assert_int_eq(run("lint", "--config", shadow, "--service-tags", SIM_TAGS, NULL), 0);
    ck_assert_msg(has(":3: warning [conflict]") && has(":4: warning [host-bits]") &&
                  has(":4: warning [shadowed]") && has("3 warnings"), "%s", out_text);
    ck_assert_int_eq(run("lint", "--config", shadow, "--service-tags", SIM_TAGS, "--strict", NULL), 1);
    ck_assert_int_eq(run("lint", "--config", shadow, "--json", NULL), 0);
    cJSON *j = cJSON_Parse(out_text);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "valid")));
    ck_assert_int_eq(cJSON_GetObjectItem(j, "warnings")->valueint, 1); /* host bits; shadowing unknown */
    cJSON_Delete(j);
    ck_assert_int_eq(run("lint", "--config", broken, NULL), 2);
    char want[256];
    snprintf(want, sizeof want, "%s:4: rule 3: source \"127.40.1.0/240\" has a bad prefix length", broken);
    ck_assert_msg(strstr(err_text, want), "want %s, got %s", want, err_text);
    ck_assert_int_eq(run("lint", "--config", FIREWALLS "with-plex.json", "--service-tags", SIM_TAGS, NULL), 0);
    ck_assert_msg(has("0 warnings"), "%s", out_text);
    unlink(shadow);
    unlink(broken);
    free(shadow);
    free(broken);
}
END_TEST

START_TEST(decide_and_tags)
{
    ck_assert_int_eq(run("decide", "--config", FIREWALLS "legacy-only.json", "--service-tags", SIM_TAGS,
                         "--source", "127.40.1.9", NULL), 1);
    ck_assert_msg(has("127.40.1.9 -> TCP 443: reject by the default"), "%s", out_text);
    ck_assert_int_eq(run("decide", "--config", FIREWALLS "with-plex.json", "--service-tags", SIM_TAGS,
                         "--source", "127.40.1.9", "--json", NULL), 0);
    ck_assert_msg(has("\"rule_name\":\t\"power-platform-plex\""), "%s", out_text);
    ck_assert_int_eq(run("decide", "--config", FIREWALLS "report-mode.json", "--service-tags", SIM_TAGS,
                         "--source", "127.40.1.9", NULL), 0);
    ck_assert_msg(has("would_reject"), "%s", out_text);
    ck_assert_int_eq(run("tags", "--service-tags", SIM_TAGS, "--tag", "PowerPlatformPlex", NULL), 0);
    ck_assert_msg(has("PowerPlatformPlex.WestUS") && has("127.40.3.0/24"), "%s", out_text);
    ck_assert_int_eq(run("tags", "--service-tags", SIM_TAGS, "--tag", "PowerPlatformPlex", "--region", "Mars", NULL), 2);
    ck_assert_msg(strstr(err_text, "WestUS"), "%s", err_text);
}
END_TEST

START_TEST(help_teaches_with_an_example)
{
    static const char *const cmds[] = { "check", "diff", "render", "lint", "decide", "tags", NULL };
    for (size_t i = 0; cmds[i]; i++) {
        ck_assert_int_eq(run(cmds[i], "--help", NULL), 0);
        ck_assert_msg(has("usage: cmk-firewall ") && has("example:") && has("exit status"), "%s", out_text);
        ck_assert(fw_cli_is_command(cmds[i]));
    }
    ck_assert_int_eq(run("--help", NULL), 0);
    ck_assert_msg(has("check") && has("diff") && has("render") && has("lint"), "%s", out_text);
    ck_assert_int_eq(run("help", "check", NULL), 0);
    ck_assert(has("--built-with"));
    ck_assert(!fw_cli_is_command("serve"));
}
END_TEST

START_TEST(bad_arguments_exit_2_with_a_message)
{
    ck_assert_int_eq(run("bogus", NULL), 2);
    ck_assert_msg(strstr(err_text, "unknown command \"bogus\""), "%s", err_text);
    ck_assert_int_eq(run("check", "--service-tags", SIM_TAGS, "--tag", "PowerPlatformPlex", NULL), 2);
    ck_assert_msg(strstr(err_text, "missing --config"), "%s", err_text);
    ck_assert_int_eq(run("check", "--frobnicate", NULL), 2);
    ck_assert_msg(strstr(err_text, "unknown option --frobnicate"), "%s", err_text);
    ck_assert_int_eq(run("check", "--service-tags", NULL), 2);
    ck_assert_msg(strstr(err_text, "needs a value"), "%s", err_text);
    ck_assert_int_eq(run("check", "--json=yes", NULL), 2);
    ck_assert_int_eq(run("check", "--tag", "a", "--tag", "b", NULL), 2);
    ck_assert_msg(strstr(err_text, "given twice"), "%s", err_text);
    ck_assert_int_eq(run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "with-plex.json",
                         "--tag", "PowerPlatformPlex", "--port", "99999", NULL), 2);
    ck_assert_int_eq(run("check", "--service-tags", DATA "missing.json", "--config", FIREWALLS "with-plex.json",
                         "--tag", "PowerPlatformPlex", NULL), 2);
    ck_assert_msg(strstr(err_text, "missing.json"), "%s", err_text);
    ck_assert_int_eq(run("diff", AUG, NULL), 2);
    ck_assert_int_eq(run("diff", AUG, NOV, NOV, NULL), 2);
    ck_assert_int_eq(run("check", "--service-tags", SIM_TAGS, "--config", FIREWALLS "with-plex.json",
                         "--tag", "PowerPlatformPlex", "--region", "Mars", NULL), 2);
}
END_TEST

/* fw_cli_suite - every test of this module */
static Suite *fw_cli_suite(void)
{
    Suite *s = suite_create("fw_cli");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, check_legacy_only_fails_with_the_seed_error);
    tcase_add_test(tc, check_json_is_complete);
    tcase_add_test(tc, august_firewall_misses_november_prefixes_check_and_diff);
    tcase_add_test(tc, render_prints_the_ruleset);
    tcase_add_test(tc, lint_reports_lines_warnings_and_errors);
    tcase_add_test(tc, decide_and_tags);
    tcase_add_test(tc, help_teaches_with_an_example);
    tcase_add_test(tc, bad_arguments_exit_2_with_a_message);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
