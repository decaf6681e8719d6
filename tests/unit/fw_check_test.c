/*
 * fw_check_test.c - service-tag coverage of firewall configs (firewall/fw_check.h): the
 * shipped configs, partial coverage, shadowing, ports, and a firewall built from the August
 * 2025 service tags missing what PowerPlatformPlex.WestUS gained by November.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_check.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"
#define DATA CMK_SOURCE_DIR "/tests/data/servicetags/"

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

/* fmt - a prefix as text */
static const char *fmt(const fw_prefix *p)
{
    static char buf[4][FW_PREFIX_STRLEN];
    static int at;
    at = (at + 1) % 4;
    return fw_prefix_format(p, buf[at], sizeof buf[at]);
}

/* parse - a config from text against st, or fail */
static fw_config *parse(const char *text, const fw_servicetags *st)
{
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "t.json", st, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    return cfg;
}

/* check - run the check or fail */
static fw_check *check(const fw_servicetags *st, const fw_config *cfg, const char *tag,
                       const char *region, uint16_t port)
{
    fw_check *c;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(fw_check_coverage(st, cfg, tag, region, port, &c, &err) == 0, "%s", err.msg);
    return c;
}

/* check_shipped - check a shipped config for PowerPlatformPlex in region */
static fw_check *check_shipped(const char *name, const char *region, fw_config **cfg_out)
{
    char path[512];
    cmk_err err = CMK_ERR_INIT;
    snprintf(path, sizeof path, FIREWALLS "%s", name);
    *cfg_out = fw_config_load(path, tags, 0, &err);
    ck_assert_msg(*cfg_out != NULL, "%s", err.msg);
    return check(tags, *cfg_out, "PowerPlatformPlex", region, 443);
}

START_TEST(legacy_only_refuses_plex)
{
    fw_config *cfg;
    fw_check *c = check_shipped("legacy-only.json", "WestUS", &cfg);
    fw_check_totals t;
    ck_assert(!fw_check_ok(c));
    ck_assert_str_eq(fw_check_entry(c), "PowerPlatformPlex.WestUS");
    ck_assert_uint_eq(fw_check_port(c), 443);
    ck_assert_uint_eq(fw_check_count(c), 1);
    const fw_check_item *it = fw_check_at(c, 0);
    ck_assert_int_eq(it->status, FW_COV_MISSING);
    ck_assert_uint_eq(it->n_gaps, 1);
    ck_assert_str_eq(fmt(&it->gaps[0].prefix), "127.40.1.0/24");
    ck_assert_int_eq(it->gaps[0].rule, -1);
    ck_assert_int_eq(it->gaps[0].action, FW_REJECT);
    ck_assert_int_eq(it->gaps[0].shadowed_allow, -1);
    fw_check_get_totals(c, &t);
    ck_assert_uint_eq(t.missing, 1);
    ck_assert_uint_eq(t.v4_refused, 256);
    const fw_prefix *ref;
    size_t n;
    fw_check_refused(c, &ref, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(fmt(&ref[0]), "127.40.1.0/24");
    fw_check_destroy(&c);
    ck_assert_ptr_null(c);
    /* the legacy tags themselves are covered */
    c = check(tags, cfg, "LogicApps", "WestUS", 443);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(with_plex_covers_and_the_others_do_not)
{
    fw_config *cfg;
    fw_check *c = check_shipped("with-plex.json", "WestUS", &cfg);
    ck_assert(fw_check_ok(c));
    ck_assert_int_eq(fw_check_at(c, 0)->status, FW_COV_COVERED);
    ck_assert_uint_eq(fw_check_at(c, 0)->n_gaps, 0);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    c = check_shipped("drop-default.json", "WestUS", &cfg);
    ck_assert(!fw_check_ok(c));
    ck_assert_int_eq(fw_check_at(c, 0)->gaps[0].action, FW_DROP);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    c = check_shipped("wrong-region.json", "WestUS", &cfg);
    ck_assert(!fw_check_ok(c));
    fw_check_destroy(&c);
    c = check(tags, cfg, "PowerPlatformPlex", "EastUS", 443);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    /* the global tag: one region of three */
    c = check(tags, cfg, "PowerPlatformPlex", NULL, 443);
    fw_check_totals t;
    fw_check_get_totals(c, &t);
    ck_assert_uint_eq(t.prefixes, 3);
    ck_assert_uint_eq(t.covered, 1);
    ck_assert_uint_eq(t.missing, 2);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    /* report mode: judged as it would be enforced */
    c = check_shipped("report-mode.json", "WestUS", &cfg);
    ck_assert(!fw_check_ok(c));
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(partial_coverage_reports_the_uncovered_sub_ranges)
{
    fw_config *cfg = parse("{\"default\": \"drop\", \"rules\": [\n"
                           "{\"action\": \"allow\", \"source\": [\"127.40.1.0/26\", \"127.40.1.64/26\", \"127.40.1.192/27\"]}]}", tags);
    fw_check *c = check(tags, cfg, "PowerPlatformPlex.WestUS", NULL, 443);
    const fw_check_item *it = fw_check_at(c, 0);
    ck_assert(!fw_check_ok(c));
    ck_assert_int_eq(it->status, FW_COV_PARTIAL);
    ck_assert_uint_eq(it->n_gaps, 2);
    ck_assert_str_eq(fmt(&it->gaps[0].prefix), "127.40.1.128/26");
    ck_assert_str_eq(fmt(&it->gaps[1].prefix), "127.40.1.224/27");
    ck_assert_int_eq(it->gaps[1].action, FW_DROP);
    fw_check_totals t;
    fw_check_get_totals(c, &t);
    ck_assert_uint_eq(t.partial, 1);
    ck_assert_uint_eq(t.v4_refused, 96);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
    /* two halves cover the whole */
    cfg = parse("{\"default\": \"reject\", \"rules\": [\n"
                "{\"action\": \"allow\", \"source\": \"127.40.1.128/25\"},\n"
                "{\"action\": \"allow\", \"source\": \"127.40.0.0/16\", \"port\": 80},\n"
                "{\"action\": \"allow\", \"source\": \"127.40.1.0/25\"}]}", tags);
    c = check(tags, cfg, "PowerPlatformPlex", "WestUS", 443);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(an_earlier_deny_shadows_a_later_allow)
{
    fw_config *cfg = parse("{\"default\": \"allow\", \"rules\": [\n"
                           "{\"name\": \"no-weird\", \"action\": \"reject\", \"source\": \"127.40.1.64/26\"},\n"
                           "{\"name\": \"plex\", \"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex\", \"region\": \"WestUS\"}},\n"
                           "{\"name\": \"rest\", \"action\": \"drop\", \"source\": \"127.0.0.0/8\"}]}", tags);
    fw_check *c = check(tags, cfg, "PowerPlatformPlex", "WestUS", 443);
    const fw_check_item *it = fw_check_at(c, 0);
    ck_assert_int_eq(it->status, FW_COV_PARTIAL);
    ck_assert_uint_eq(it->n_gaps, 1);
    ck_assert_str_eq(fmt(&it->gaps[0].prefix), "127.40.1.64/26");
    ck_assert_int_eq(it->gaps[0].rule, 0);
    ck_assert_int_eq(it->gaps[0].action, FW_REJECT);
    ck_assert_int_eq(it->gaps[0].shadowed_allow, 1);
    fw_check_totals t;
    fw_check_get_totals(c, &t);
    ck_assert_uint_eq(t.shadowed, 1);
    fw_check_destroy(&c);
    /* EastUS Plex: not listed by an allow rule, refused by "rest": no shadowing */
    c = check(tags, cfg, "PowerPlatformPlex", "EastUS", 443);
    it = fw_check_at(c, 0);
    ck_assert_int_eq(it->gaps[0].rule, 2);
    ck_assert_int_eq(it->gaps[0].shadowed_allow, -1);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(only_rules_for_the_port_count)
{
    fw_config *cfg = parse("{\"default\": \"reject\", \"rules\": [\n"
                           "{\"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex\"}, \"port\": [443, \"8000-8100\"]}]}", tags);
    fw_check *c = check(tags, cfg, "PowerPlatformPlex", "WestUS", 443);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    c = check(tags, cfg, "PowerPlatformPlex", "WestUS", 8100);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    c = check(tags, cfg, "PowerPlatformPlex", "WestUS", 8443);
    ck_assert(!fw_check_ok(c));
    fw_check_destroy(&c);
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(fw_check_coverage(tags, cfg, "PowerPlatformPlex", "WestUS", 0, &c, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_check_coverage(tags, cfg, "PowerPlatformPlex", "Mars", 443, &c, &err), CMK_ENOENT);
    ck_assert_ptr_null(c);
    fw_config_destroy(&cfg);
}
END_TEST

static const char *const gained[] = { "48.195.24.64/26", "48.195.24.128/25", "48.195.25.0/24",
                                      "48.195.26.0/23", "48.195.28.0/23", "48.195.30.0/26" };

/* assert_misses_the_november_additions - the check lists exactly the six new prefixes */
static void assert_misses_the_november_additions(const fw_check *c)
{
    const fw_prefix *ref;
    size_t n, missing = 0;
    ck_assert(!fw_check_ok(c));
    fw_check_refused(c, &ref, &n);
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(fmt(&ref[i]), gained[i]);
    for (size_t i = 0; i < fw_check_count(c); i++)
        missing += fw_check_at(c, i)->status == FW_COV_MISSING;
    ck_assert_uint_eq(missing, 6);
    ck_assert_uint_eq(fw_check_count(c), 26);
}

START_TEST(a_firewall_built_from_the_august_file_misses_november_prefixes)
{
    cmk_err err = CMK_ERR_INIT;
    fw_servicetags *aug = fw_servicetags_load(DATA "ServiceTags_Public_20250831.json", &err);
    ck_assert_msg(aug != NULL, "%s", err.msg);
    fw_servicetags *nov = fw_servicetags_load(DATA "ServiceTags_Public_20251109.json", &err);
    ck_assert_msg(nov != NULL, "%s", err.msg);
    const char *by_tag = "{\"default\": \"reject\", \"rules\": [\n"
                         "{\"name\": \"plex\", \"action\": \"allow\", \"source\": {\"tag\": \"PowerPlatformPlex\", \"region\": \"WestUS\"}}]}";

    /* 1. tag rule resolved against August, checked against November */
    fw_config *cfg = parse(by_tag, aug);
    fw_check *c = check(nov, cfg, "PowerPlatformPlex", "WestUS", 443);
    assert_misses_the_november_additions(c);
    fw_check_destroy(&c);
    c = check(aug, cfg, "PowerPlatformPlex", "WestUS", 443); /* fine against what it was built from */
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    /* 2. an allow list of the August prefixes copied by hand */
    char text[8192] = "{\"default\": \"reject\", \"rules\": [{\"action\": \"allow\", \"source\": [";
    const fw_servicetag *t = fw_servicetags_find(aug, "PowerPlatformPlex.WestUS");
    ck_assert_uint_eq(t->n_prefixes, 20);
    for (size_t i = 0; i < t->n_prefixes; i++) {
        strcat(text, i ? ", \"" : "\"");
        strcat(text, fmt(&t->prefixes[i]));
        strcat(text, "\"");
    }
    strcat(text, "]}]}");
    cfg = parse(text, NULL);
    c = check(nov, cfg, "PowerPlatformPlex.WestUS", NULL, 443);
    assert_misses_the_november_additions(c);
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    /* 3. rebuilt from November: covered, IPv6 prefix included */
    cfg = parse(by_tag, nov);
    c = check(nov, cfg, "PowerPlatformPlex", "WestUS", 443);
    ck_assert(fw_check_ok(c));
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);

    /* 4. an IPv4-only copy misses the IPv6 prefix */
    cfg = parse("{\"default\": \"reject\", \"rules\": [{\"action\": \"allow\", \"source\": \"0.0.0.0/0\"}]}", NULL);
    c = check(nov, cfg, "PowerPlatformPlex", "WestUS", 443);
    const fw_prefix *ref;
    size_t n;
    fw_check_refused(c, &ref, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(fmt(&ref[0]), "2603:1061:2004:7100::/56");
    fw_check_destroy(&c);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&aug);
    fw_servicetags_destroy(&nov);
}
END_TEST

START_TEST(unresolved_configs_are_refused)
{
    const char *text = "{\"default\": \"reject\", \"rules\": [{\"action\": \"allow\", \"source\": {\"tag\": \"LogicApps\"}}]}";
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(text, strlen(text), "t.json", NULL, FW_CONFIG_UNRESOLVED_OK, &err);
    fw_check *c;
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(fw_check_coverage(tags, cfg, "LogicApps", NULL, 443, &c, &err), CMK_ESTATE);
    fw_config_destroy(&cfg);
}
END_TEST

/* fw_check_suite - every test of this module */
static Suite *fw_check_suite(void)
{
    Suite *s = suite_create("fw_check");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, legacy_only_refuses_plex);
    tcase_add_test(tc, with_plex_covers_and_the_others_do_not);
    tcase_add_test(tc, partial_coverage_reports_the_uncovered_sub_ranges);
    tcase_add_test(tc, an_earlier_deny_shadows_a_later_allow);
    tcase_add_test(tc, only_rules_for_the_port_count);
    tcase_add_test(tc, a_firewall_built_from_the_august_file_misses_november_prefixes);
    tcase_add_test(tc, unresolved_configs_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
