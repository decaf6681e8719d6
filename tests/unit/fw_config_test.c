/*
 * fw_config_test.c - firewall config loading and validation (firewall/fw_config.h): the
 * shipped configs, every source and port form, and refusals that name the line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_config.h"

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

/* parse_ok - parse text or fail the test */
static fw_config *parse_ok(const char *text, unsigned flags)
{
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "fw.json", tags, flags, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    return cfg;
}

/* parse_fails - parse text, expect a refusal, return its message */
static const char *parse_fails(const char *text, const fw_servicetags *with)
{
    static cmk_err err;
    cmk_err_clear(&err);
    fw_config *cfg = fw_config_parse(text, strlen(text), "fw.json", with, 0, &err);
    ck_assert_msg(cfg == NULL, "accepted: %s", text);
    ck_assert_int_eq(err.code, CMK_EINVAL);
    return err.msg;
}

START_TEST(shipped_configs_load)
{
    static const struct {
        const char *file;   /* config file name */
        size_t rules;       /* rule count */
        fw_action def;      /* default */
        fw_mode mode;       /* mode */
        const char *last;   /* name of the last rule */
    } want[] = {
        { "legacy-only.json", 3, FW_REJECT, FW_MODE_ENFORCE, "azure-connectors" },
        { "with-plex.json", 4, FW_REJECT, FW_MODE_ENFORCE, "power-platform-plex" },
        { "drop-default.json", 3, FW_DROP, FW_MODE_ENFORCE, "azure-connectors" },
        { "wrong-region.json", 4, FW_REJECT, FW_MODE_ENFORCE, "power-platform-plex-eastus" },
        { "report-mode.json", 3, FW_REJECT, FW_MODE_REPORT, "azure-connectors" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[512];
        cmk_err err = CMK_ERR_INIT;
        snprintf(path, sizeof path, FIREWALLS "%s", want[i].file);
        fw_config *cfg = fw_config_load(path, tags, 0, &err);
        ck_assert_msg(cfg != NULL, "%s", err.msg);
        ck_assert_uint_eq(fw_config_rule_count(cfg), want[i].rules);
        ck_assert_int_eq(fw_config_default(cfg), want[i].def);
        ck_assert_int_eq(fw_config_mode(cfg), want[i].mode);
        ck_assert(fw_config_resolved(cfg));
        ck_assert_uint_eq(fw_config_warning_count(cfg), 0);
        const fw_rule *r = fw_config_rule(cfg, want[i].rules - 1);
        ck_assert_str_eq(r->name, want[i].last);
        ck_assert_uint_eq(r->n_sources, 1);
        ck_assert_ptr_nonnull(r->sources[0].resolved);
        ck_assert_uint_eq(fw_cidrset_v4_addresses(r->set), 256);
        ck_assert(r->any_port);
        fw_config_destroy(&cfg);
        ck_assert_ptr_null(cfg);
    }
}
END_TEST

START_TEST(every_source_and_port_form)
{
    fw_config *cfg = parse_ok(
        "{ \"name\": \"forms\", \"comment\": \"x\", \"mode\": \"report\", \"default\": \"deny\",\n"
        "  \"rules\": [\n"
        "    { \"action\": \"allow\", \"source\": \"10.0.0.0/8\", \"port\": 443 },\n"
        "    { \"name\": \"mix\", \"comment\": \"c\", \"action\": \"reject\",\n"
        "      \"source\": [\"2603:1000::/40\", \"127.40.1.7\", {\"tag\": \"PowerPlatformPlex.EastUS\"},\n"
        "                 {\"tag\": \"LogicApps\", \"region\": \"westus\"}],\n"
        "      \"port\": [80, \"8000-8100\", \"443\", \"8050-8200\", 81] },\n"
        "    { \"name\": \"all\", \"action\": \"drop\", \"source\": \"any\" }\n"
        "  ] }\n", 0);
    ck_assert_str_eq(fw_config_name(cfg), "forms");
    ck_assert_int_eq(fw_config_mode(cfg), FW_MODE_REPORT);
    ck_assert_int_eq(fw_config_default(cfg), FW_DROP); /* "deny" is drop */
    const fw_rule *r = fw_config_rule(cfg, 0);
    ck_assert_str_eq(r->name, "rule-1");
    ck_assert_int_eq(r->line, 3);
    ck_assert_uint_eq(r->n_ports, 1);
    ck_assert(fw_rule_matches_port(r, 443) && !fw_rule_matches_port(r, 444));
    r = fw_config_rule(cfg, 1);
    ck_assert_str_eq(r->name, "mix");
    ck_assert_str_eq(r->comment, "c");
    ck_assert_int_eq(r->action, FW_REJECT);
    ck_assert_uint_eq(r->n_sources, 4);
    ck_assert_str_eq(r->sources[2].resolved, "PowerPlatformPlex.EastUS");
    ck_assert_str_eq(r->sources[3].resolved, "LogicApps.WestUS");
    ck_assert_int_eq(r->sources[3].line, 6);
    /* ports merged: 80-81, 443, 8000-8200 */
    ck_assert_uint_eq(r->n_ports, 3);
    ck_assert_uint_eq(r->ports[0].lo, 80);
    ck_assert_uint_eq(r->ports[0].hi, 81);
    ck_assert_uint_eq(r->ports[2].lo, 8000);
    ck_assert_uint_eq(r->ports[2].hi, 8200);
    ck_assert(fw_rule_matches_port(r, 8150) && !fw_rule_matches_port(r, 8201) &&
              !fw_rule_matches_port(r, 82));
    fw_addr a;
    ck_assert_int_eq(fw_addr_parse("127.40.2.200", &a, NULL), 0);
    ck_assert(fw_rule_matches(r, &a, 443));
    ck_assert(!fw_rule_matches(r, &a, 22));
    ck_assert_int_eq(fw_addr_parse("127.10.1.1", &a, NULL), 0);
    ck_assert(fw_rule_matches(r, &a, 80));
    ck_assert_int_eq(fw_addr_parse("2603:1000:ff::1", &a, NULL), 0);
    ck_assert(fw_rule_matches(r, &a, 80));
    r = fw_config_rule(cfg, 2);
    ck_assert(r->any_source && r->any_port);
    ck_assert(fw_rule_matches(r, &a, 1));
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(host_bits_warn_with_their_line)
{
    fw_config *cfg = parse_ok("{\"default\": \"reject\", \"rules\": [\n"
                              "  {\"action\": \"allow\", \"source\": \"127.40.1.0/24\"},\n"
                              "  {\"action\": \"allow\",\n   \"source\": \"10.1.2.3/8\"}]}", 0);
    ck_assert_str_eq(fw_config_name(cfg), "fw"); /* from the origin "fw.json" */
    ck_assert_uint_eq(fw_config_warning_count(cfg), 1);
    const fw_config_warning *w = fw_config_warning_at(cfg, 0);
    ck_assert_int_eq(w->line, 4);
    ck_assert_int_eq(w->rule, 1);
    ck_assert_str_eq(w->code, "host-bits");
    ck_assert_msg(strstr(w->msg, "10.0.0.0/8") && strstr(w->msg, "rule 2"), "%s", w->msg);
    ck_assert(fw_config_rule(cfg, 1)->sources[0].host_bits);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(syntax_errors_name_line_and_column)
{
    const char *m = parse_fails("{\n  \"default\": \"reject\"\n  \"rules\": []\n}\n", tags);
    ck_assert_msg(strncmp(m, "fw.json:3:", 10) == 0 && strstr(m, "not valid JSON"), "%s", m);
    m = parse_fails("{\"default\": \"reject\", \"rules\": [],}", tags);
    ck_assert_msg(strstr(m, "fw.json:1:"), "%s", m);
    m = parse_fails("{\"default\": \"reject\", \"rules\": []}\n\n}", tags);
    ck_assert_msg(strstr(m, "fw.json:3:1"), "%s", m);
    m = parse_fails("", tags);
    ck_assert_msg(strstr(m, "fw.json:1:"), "%s", m);
}
END_TEST

START_TEST(semantic_errors_name_line_and_rule)
{
    static const struct {
        const char *text;  /* config */
        const char *line;  /* "fw.json:N:" expected at the start */
        const char *words; /* expected in the message */
    } bad[] = {
        { "{\"default\": \"reject\",\n\"rules\": [\n{\"action\": \"allow\", \"source\": \"10.0.0.0/8\"},\n"
          "{\"action\": \"allow\", \"source\": \"10.0.0.0/8\"},\n{\"name\": \"r3\", \"action\": \"allow\",\n"
          " \"source\": [\"127.0.0.1\",\n  \"10.0.0.300/8\"]}]}",
          "fw.json:7:", "rule 3 \"r3\": source \"10.0.0.300/8\" is not a valid CIDR" },
        { "{\"default\": \"reject\",\n\"rulez\": []}", "fw.json:2:", "unknown key \"rulez\"" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\",\n\"prot\": 443, \"source\": \"any\"}]}",
          "fw.json:3:", "rule 1: unknown key \"prot\" in a rule (known keys: name, comment, action, source, port)" },
        { "{\"default\": \"reject\", \"rules\": [{\"action\": \"permit\", \"source\": \"any\"}]}",
          "fw.json:1:", "action \"permit\" is not one of" },
        { "{\"rules\": []}", "fw.json:1:", "no \"default\"" },
        { "{\"default\": \"maybe\", \"rules\": []}", "fw.json:1:", "\"default\" must be" },
        { "{\"default\": \"reject\",\n\"mode\": \"enforcing\", \"rules\": []}", "fw.json:2:", "\"mode\" must be" },
        { "{\"default\": \"reject\"}", "fw.json:1:", "no \"rules\"" },
        { "{\"default\": \"reject\", \"rules\": {}}", "fw.json:1:", "must be a list" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": \"any\", \"port\": 70000}]}",
          "fw.json:2:", "port 70000 is not a port number" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": \"any\", \"port\": \"90-80\"}]}",
          "fw.json:2:", "out of range" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": \"any\", \"port\": []}]}",
          "fw.json:2:", "empty list" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": []}]}",
          "fw.json:2:", "empty list" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\"}]}", "fw.json:2:", "no \"source\"" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\", \"source\": 10}]}",
          "fw.json:2:", "a source must be" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"name\": \"a\", \"action\": \"allow\", \"source\": \"any\"},\n"
          "{\"name\": \"a\", \"action\": \"drop\", \"source\": \"any\"}]}",
          "fw.json:3:", "already used by rule 1 (line 2)" },
        { "{\"default\": \"reject\", \"default\": \"allow\", \"rules\": []}", "fw.json:1:", "appears twice" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\",\n \"source\": {\"tag\": \"PowerPlatformPlexx\"}}]}",
          "fw.json:3:", "\"PowerPlatformPlexx\" is not in" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\",\n \"source\": {\"tag\": \"PowerPlatformPlex\", \"region\": \"Mars\"}}]}",
          "fw.json:3:", "no region \"Mars\"" },
        { "{\"default\": \"reject\", \"rules\": [\n{\"action\": \"allow\",\n \"source\": {\"tag\": \"LogicApps\", \"zone\": 1}}]}",
          "fw.json:3:", "unknown key \"zone\"" },
        { "{\"name\": \"has \\\"quotes\\\"\", \"default\": \"reject\", \"rules\": []}", "fw.json:1:", "printable ASCII" },
        { "[]", "fw.json:1:", "a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *m = parse_fails(bad[i].text, tags);
        ck_assert_msg(strncmp(m, bad[i].line, strlen(bad[i].line)) == 0, "case %zu: %s", i, m);
        ck_assert_msg(strstr(m, bad[i].words), "case %zu: %s", i, m);
    }
}
END_TEST

START_TEST(tags_need_a_service_tags_file)
{
    const char *text = "{\"default\": \"reject\", \"rules\": [\n"
                       "{\"action\": \"allow\", \"source\": \"10.0.0.0/8\"},\n"
                       "{\"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex\"}}]}";
    const char *m = parse_fails(text, NULL);
    ck_assert_msg(strstr(m, "fw.json:3:") && strstr(m, "--service-tags"), "%s", m);
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "fw.json", NULL, FW_CONFIG_UNRESOLVED_OK, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert(!fw_config_resolved(cfg));
    ck_assert(fw_config_rule(cfg, 0)->resolved);
    ck_assert(!fw_config_rule(cfg, 1)->resolved);
    ck_assert_ptr_null(fw_config_tags_origin(cfg));
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(ports_and_actions_parse)
{
    fw_port_range p;
    cmk_err err = CMK_ERR_INIT;
    fw_action a;
    ck_assert_int_eq(fw_port_parse("8000-8100", &p, &err), 0);
    ck_assert_uint_eq(p.lo, 8000);
    ck_assert_uint_eq(p.hi, 8100);
    ck_assert_int_eq(fw_port_parse("65535", &p, &err), 0);
    ck_assert_int_eq(fw_port_parse("0", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_port_parse("80-", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_port_parse("http", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_port_parse("-1", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_action_parse("deny", &a), 0);
    ck_assert_int_eq(a, FW_DROP);
    ck_assert_int_eq(fw_action_parse("Allow", &a), CMK_EINVAL);
    ck_assert_str_eq(fw_action_name(FW_REJECT), "reject");
    ck_assert_str_eq(fw_mode_name(FW_MODE_REPORT), "report");
    ck_assert_ptr_null(fw_config_load(FIREWALLS "no-such.json", tags, 0, &err));
    ck_assert_int_eq(err.code, CMK_ENOENT);
}
END_TEST

START_TEST(every_truncation_is_refused_cleanly)
{
    /* a valid config cut at every length: refused with a line number, never a crash */
    const char *text = "{\"name\": \"t\", \"mode\": \"report\", \"default\": \"reject\", \"rules\": [\n"
                       "  {\"name\": \"a\", \"action\": \"allow\", \"source\": [\"10.0.0.0/8\", {\"tag\": \"PowerPlatformPlex\", \"region\": \"WestUS\"}],\n"
                       "   \"port\": [443, \"8000-8100\"]}]}";
    size_t n = strlen(text);
    for (size_t cut = 0; cut < n; cut++) {
        cmk_err err = CMK_ERR_INIT;
        fw_config *cfg = fw_config_parse(text, cut, "cut.json", tags, 0, &err);
        ck_assert_msg(cfg == NULL, "accepted a config cut at %zu", cut);
        ck_assert_msg(strncmp(err.msg, "cut.json:", 9) == 0, "cut %zu: %s", cut, err.msg);
    }
    fw_config *cfg = parse_ok(text, 0);
    fw_config_destroy(&cfg);
}
END_TEST

/* fw_config_suite - every test of this module */
static Suite *fw_config_suite(void)
{
    Suite *s = suite_create("fw_config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, shipped_configs_load);
    tcase_add_test(tc, every_source_and_port_form);
    tcase_add_test(tc, host_bits_warn_with_their_line);
    tcase_add_test(tc, syntax_errors_name_line_and_column);
    tcase_add_test(tc, semantic_errors_name_line_and_rule);
    tcase_add_test(tc, tags_need_a_service_tags_file);
    tcase_add_test(tc, ports_and_actions_parse);
    tcase_add_test(tc, every_truncation_is_refused_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
