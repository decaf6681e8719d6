/*
 * fw_report_test.c - text and JSON renderings of check, diff and lint (firewall/fw_report.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_report.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"

static fw_servicetags *tags; /* the simulation's service tags */
static fw_config *cfg;       /* a config with a shadowing mistake */

/* setup - tags and a config where a reject shadows part of an allow */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    const char *text = "{\"name\": \"shadow\", \"default\": \"drop\", \"rules\": [\n"
                       "{\"name\": \"no\", \"action\": \"reject\", \"source\": \"127.40.1.0/25\"},\n"
                       "{\"name\": \"plex\", \"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex.WestUS\"}}]}";
    tags = fw_servicetags_load(SIM_TAGS, &err);
    ck_assert_msg(tags != NULL, "%s", err.msg);
    cfg = fw_config_parse(text, strlen(text), "shadow.json", tags, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
}

/* teardown - free both */
static void teardown(void)
{
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&tags);
}

START_TEST(check_text_and_json_agree)
{
    fw_check *chk;
    cmk_err err = CMK_ERR_INIT;
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(fw_check_coverage(tags, cfg, "PowerPlatformPlex", "WestUS", 443, &chk, &err), 0);
    FILE *f = open_memstream(&text, &len);
    fw_report_check_text(f, chk, tags, cfg, true);
    fclose(f);
    ck_assert_msg(strstr(text, "127.40.1.0/25          rejected by rule 1 \"no\", which shadows allow "
                               "rule 2 \"plex\" (move it above rule 1)"), "%s", text);
    ck_assert_msg(strstr(text, "partial") && strstr(text, FW_REFUSED_ERROR), "%s", text);
    free(text);
    cJSON *j = fw_report_check_json(chk, tags, cfg);
    cJSON *gap = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "prefixes"), 0), "gaps"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(gap, "rule")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(gap, "rule_name")->valuestring, "no");
    ck_assert_int_eq(cJSON_GetObjectItem(gap, "shadows_rule")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "shadowed")->valueint, 1);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "ipv4_refused")->valueint, 128);
    cJSON_Delete(j);
    fw_check_destroy(&chk);
}
END_TEST

START_TEST(diff_and_lint_render)
{
    fw_stdiff *d;
    fw_lint *l;
    cmk_err err = CMK_ERR_INIT;
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(fw_servicetags_diff(tags, tags, NULL, &d, &err), 0);
    FILE *f = open_memstream(&text, &len);
    fw_report_diff_text(f, d, tags, tags, NULL);
    fclose(f);
    ck_assert_msg(strstr(text, "0 entries changed") && !strstr(text, "rebuild"), "%s", text);
    free(text);
    cJSON *j = fw_report_diff_json(d, tags, tags, "PowerPlatformPlex");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "changed")->valueint, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "tag")->valuestring, "PowerPlatformPlex");
    cJSON_Delete(j);
    fw_stdiff_destroy(&d);

    ck_assert_int_eq(fw_lint_config(cfg, &l, &err), 0);
    text = NULL;
    f = open_memstream(&text, &len);
    fw_report_lint_text(f, l, cfg);
    fclose(f);
    ck_assert_msg(strstr(text, "shadow.json:3: warning [conflict]: rule 2 \"plex\"") &&
                  strstr(text, "1 warning, 0 notes"), "%s", text);
    free(text);
    j = fw_report_lint_json(l, cfg);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "findings"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "code")->valuestring, "conflict");
    ck_assert_int_eq(cJSON_GetObjectItem(first, "line")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(first, "rule")->valueint, 2);
    cJSON_Delete(j);
    fw_lint_destroy(&l);
}
END_TEST

/* fw_report_suite - every test of this module */
static Suite *fw_report_suite(void)
{
    Suite *s = suite_create("fw_report");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, check_text_and_json_agree);
    tcase_add_test(tc, diff_and_lint_render);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_report_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
