/*
 * fw_engine_test.c - the rule engine (firewall/fw_engine.h): first match wins, ports, the
 * default, report mode, and the verdicts of the shipped configs for CMK egress addresses.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_engine.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"

static fw_servicetags *tags; /* the simulation's service tags */

/* setup - load the simulation's service tags */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    tags = fw_servicetags_load(SIM_TAGS, &err);
    ck_assert_msg(tags != NULL, "%s", err.msg);
}

/* teardown - free them */
static void teardown(void)
{
    fw_servicetags_destroy(&tags);
}

/* parse - a config from text or fail */
static fw_config *parse(const char *text)
{
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "t.json", tags, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    return cfg;
}

/* shipped - a shipped config or fail */
static fw_config *shipped(const char *name)
{
    char path[512];
    cmk_err err = CMK_ERR_INIT;
    snprintf(path, sizeof path, FIREWALLS "%s", name);
    fw_config *cfg = fw_config_load(path, tags, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    return cfg;
}

/* decide - decide or fail */
static fw_decision decide(const fw_config *cfg, const char *src, uint16_t port)
{
    fw_decision d;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(fw_engine_decide_text(cfg, src, port, &d, &err) == 0, "%s", err.msg);
    return d;
}

static const char *ordered =
    "{\"default\": \"reject\", \"rules\": [\n"
    "  {\"name\": \"block-half\", \"action\": \"drop\", \"source\": \"127.40.1.0/25\", \"port\": 443},\n"
    "  {\"name\": \"plex\", \"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex.WestUS\"}},\n"
    "  {\"name\": \"v6\", \"action\": \"reject\", \"source\": \"2603:1000::/40\", \"port\": [80, \"8000-8100\"]},\n"
    "  {\"name\": \"v6-rest\", \"action\": \"allow\", \"source\": \"2603:1000::/24\"}\n"
    "]}";

START_TEST(first_match_wins_in_order)
{
    fw_config *cfg = parse(ordered);
    fw_decision d = decide(cfg, "127.40.1.5", 443);
    ck_assert_int_eq(d.verdict, FW_DROP);
    ck_assert_int_eq(d.rule_index, 0);
    ck_assert_str_eq(d.rule_name, "block-half");
    /* the same address on another port falls through to the allow rule */
    d = decide(cfg, "127.40.1.5", 8443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_int_eq(d.rule_index, 1);
    d = decide(cfg, "127.40.1.200", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_str_eq(d.rule_name, "plex");
    /* nothing matches: the default */
    d = decide(cfg, "127.40.2.5", 443);
    ck_assert_int_eq(d.verdict, FW_REJECT);
    ck_assert_int_eq(d.rule_index, -1);
    ck_assert_str_eq(d.rule_name, "default");
    ck_assert_str_eq(fw_decision_label(&d), "reject");
    ck_assert(fw_decision_denies(&d));
    /* IPv6 and port ranges */
    d = decide(cfg, "2603:1000:1::5", 8050);
    ck_assert_int_eq(d.verdict, FW_REJECT);
    ck_assert_str_eq(d.rule_name, "v6");
    d = decide(cfg, "2603:1000:1::5", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_str_eq(d.rule_name, "v6-rest");
    d = decide(cfg, "::1", 443);
    ck_assert_int_eq(d.rule_index, -1);
    /* a v4-mapped IPv6 source is its IPv4 address */
    d = decide(cfg, "::ffff:127.40.1.200", 443);
    ck_assert_str_eq(d.rule_name, "plex");
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(report_mode_allows_but_says_what_would_happen)
{
    fw_config *cfg = parse("{\"mode\": \"report\", \"default\": \"reject\", \"rules\": [\n"
                           "  {\"name\": \"quiet\", \"action\": \"drop\", \"source\": \"10.0.0.0/8\"},\n"
                           "  {\"name\": \"ok\", \"action\": \"allow\", \"source\": \"127.40.1.0/24\"}]}");
    char buf[128];
    fw_decision d = decide(cfg, "10.1.1.1", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_int_eq(d.rule_action, FW_DROP);
    ck_assert(d.report);
    ck_assert_str_eq(fw_decision_label(&d), "would_deny");
    ck_assert(fw_decision_denies(&d));
    ck_assert_str_eq(fw_decision_format(&d, buf, sizeof buf), "verdict=would_deny rule=1:quiet");
    d = decide(cfg, "127.40.2.1", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_str_eq(fw_decision_label(&d), "would_reject");
    ck_assert_str_eq(fw_decision_format(&d, buf, sizeof buf), "verdict=would_reject rule=default");
    d = decide(cfg, "127.40.1.1", 443);
    ck_assert_str_eq(fw_decision_label(&d), "allow");
    ck_assert(!fw_decision_denies(&d));
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(shipped_configs_and_cmk_egress)
{
    /* a dedicated CMK worker in WestUS sends from PowerPlatformPlex.WestUS (127.40.1.0/24);
       the shared infrastructure from the legacy tags (127.10/20/30.1.0/24) */
    fw_config *cfg = shipped("legacy-only.json");
    fw_decision d = decide(cfg, "127.40.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_REJECT);
    ck_assert_str_eq(d.rule_name, "default");
    d = decide(cfg, "127.10.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_str_eq(d.rule_name, "logic-apps");
    d = decide(cfg, "127.30.1.9", 80);
    ck_assert_str_eq(d.rule_name, "azure-connectors");
    fw_config_destroy(&cfg);

    cfg = shipped("with-plex.json");
    d = decide(cfg, "127.40.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_int_eq(d.rule_index, 3);
    d = decide(cfg, "127.40.2.9", 443); /* EastUS Plex is not allowed */
    ck_assert_int_eq(d.verdict, FW_REJECT);
    fw_config_destroy(&cfg);

    cfg = shipped("drop-default.json");
    d = decide(cfg, "127.40.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_DROP);
    fw_config_destroy(&cfg);

    cfg = shipped("wrong-region.json");
    d = decide(cfg, "127.40.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_REJECT);
    d = decide(cfg, "127.40.2.9", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    fw_config_destroy(&cfg);

    cfg = shipped("report-mode.json");
    d = decide(cfg, "127.40.1.9", 443);
    ck_assert_int_eq(d.verdict, FW_ALLOW);
    ck_assert_str_eq(fw_decision_label(&d), "would_reject");
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(unresolved_configs_and_bad_addresses_are_refused)
{
    const char *text = "{\"default\": \"allow\", \"rules\": [{\"action\": \"drop\", \"source\": {\"tag\": \"LogicApps\"}}]}";
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "t.json", NULL, FW_CONFIG_UNRESOLVED_OK, &err);
    ck_assert_ptr_nonnull(cfg);
    fw_decision d;
    ck_assert_int_eq(fw_engine_decide_text(cfg, "127.10.1.1", 443, &d, &err), CMK_ESTATE);
    ck_assert_msg(strstr(err.msg, "service-tags"), "%s", err.msg);
    ck_assert_int_eq(d.rule_index, -1);
    fw_config_destroy(&cfg);
    cfg = parse(ordered);
    ck_assert_int_eq(fw_engine_decide_text(cfg, "127.40.1", 443, &d, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_engine_decide_text(cfg, "127.40.1.0/24", 443, &d, &err), CMK_EINVAL);
    fw_config_destroy(&cfg);
}
END_TEST

/* fw_engine_suite - every test of this module */
static Suite *fw_engine_suite(void)
{
    Suite *s = suite_create("fw_engine");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, first_match_wins_in_order);
    tcase_add_test(tc, report_mode_allows_but_says_what_would_happen);
    tcase_add_test(tc, shipped_configs_and_cmk_egress);
    tcase_add_test(tc, unresolved_configs_and_bad_addresses_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_engine_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
