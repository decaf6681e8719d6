/*
 * fw_servicetags_test.c - loading, lookup and diff of Azure service-tag files
 * (firewall/fw_servicetags.h), on trimmed real files, the full real files when present, and
 * broken texts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_servicetags.h"

#define DATA CMK_SOURCE_DIR "/tests/data/servicetags/"
#define AUG DATA "ServiceTags_Public_20250831.json"
#define NOV DATA "ServiceTags_Public_20251109.json"
#define GOV DATA "ServiceTags_Gov_20260719.json"
#define REAL_NOV "/work/shared/data/servicetags/ServiceTags_Public_20251109.json"

/* load - load or fail the test */
static fw_servicetags *load(const char *path)
{
    cmk_err err = CMK_ERR_INIT;
    fw_servicetags *st = fw_servicetags_load(path, &err);
    ck_assert_msg(st != NULL, "%s: %s", path, err.msg);
    return st;
}

/* parse_fails - parse text, expect refusal, return the message */
static const char *parse_fails(const char *text)
{
    static cmk_err err;
    cmk_err_clear(&err);
    fw_servicetags *st = fw_servicetags_parse(text, strlen(text), "t.json", &err);
    ck_assert_msg(st == NULL, "accepted: %s", text);
    ck_assert_int_eq(err.code, CMK_EINVAL);
    return err.msg;
}

/* fmt - a prefix as text */
static const char *fmt(const fw_prefix *p)
{
    static char buf[4][FW_PREFIX_STRLEN];
    static int at;
    at = (at + 1) % 4;
    return fw_prefix_format(p, buf[at], sizeof buf[at]);
}

START_TEST(trimmed_public_file_loads_every_field)
{
    fw_servicetags *st = load(NOV);
    ck_assert_str_eq(fw_servicetags_cloud(st), "Public");
    ck_assert_int_eq(fw_servicetags_change_number(st), 376);
    ck_assert_uint_eq(fw_servicetags_count(st), 13);
    const fw_servicetag *t = fw_servicetags_find(st, "PowerPlatformPlex.WestUS");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->tag, "PowerPlatformPlex");
    ck_assert_str_eq(t->suffix, "WestUS");
    ck_assert_str_eq(t->region, "westus");
    ck_assert_int_eq(t->region_id, 37);
    ck_assert_int_eq(t->change_number, 6);
    ck_assert_str_eq(t->platform, "Azure");
    ck_assert_str_eq(t->system_service, "PowerPlatformPlex");
    ck_assert_uint_eq(t->n_prefixes, 26);
    ck_assert_str_eq(fmt(&t->prefixes[0]), "4.150.249.24/29");
    ck_assert_str_eq(fmt(&t->prefixes[25]), "2603:1061:2004:7100::/56"); /* IPv6 */
    ck_assert_uint_eq(t->n_features, 2);
    ck_assert_str_eq(t->features[0], "API");
    /* global tag: empty region */
    t = fw_servicetags_find(st, "powerplatformplex"); /* names are case-insensitive */
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, "PowerPlatformPlex");
    ck_assert_str_eq(t->region, "");
    ck_assert_str_eq(t->suffix, "");
    ck_assert_uint_eq(t->n_prefixes, 397);
    /* networkFeatures: null */
    t = fw_servicetags_find(st, "LogicApps.WestUS");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(t->features);
    ck_assert_uint_eq(t->n_features, 0);
    /* a dotted name that is not a region */
    t = fw_servicetags_find(st, "AzureFrontDoor.Frontend");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->region, "");
    ck_assert_str_eq(t->tag, "AzureFrontDoor");
    ck_assert_ptr_null(fw_servicetags_find(st, "PowerPlatformPlex.Mars"));
    fw_servicetags_destroy(&st);
    ck_assert_ptr_null(st);
}
END_TEST

START_TEST(lookup_by_tag_and_region)
{
    fw_servicetags *st = load(NOV);
    const fw_servicetag *t;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", "WestUS", &t, &err), 0);
    ck_assert_str_eq(t->name, "PowerPlatformPlex.WestUS");
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", "westus", &t, &err), 0);
    ck_assert_str_eq(t->name, "PowerPlatformPlex.WestUS");
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex.WestUS", NULL, &t, &err), 0);
    ck_assert_str_eq(t->name, "PowerPlatformPlex.WestUS");
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex.WestUS", "westus", &t, &err), 0);
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", "", &t, &err), 0);
    ck_assert_str_eq(t->name, "PowerPlatformPlex");
    /* the region field differs from the name: "switzerlandn" */
    ck_assert_int_eq(fw_servicetags_lookup(st, "AzureConnectors", "switzerlandn", &t, &err), 0);
    ck_assert_str_eq(t->name, "AzureConnectors.SwitzerlandNorth");
    /* refusals say what exists */
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", "Mars", &t, &err), CMK_ENOENT);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err.msg, "no region \"Mars\"") && strstr(err.msg, "WestUS"), "%s", err.msg);
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex.WestUS", "EastUS", &t, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlexx", NULL, &t, &err), CMK_ENOENT);
    ck_assert_msg(strstr(err.msg, "PowerPlatformPlexx"), "%s", err.msg);
    ck_assert_int_eq(fw_servicetags_lookup(st, "NoSuchTag", "WestUS", &t, &err), CMK_ENOENT);
    fw_servicetags_destroy(&st);
}
END_TEST

START_TEST(regions_of_a_tag)
{
    fw_servicetags *st = load(NOV);
    const fw_servicetag **regs;
    size_t n;
    ck_assert_int_eq(fw_servicetags_regions(st, "PowerPlatformPlex", &regs, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(regs[0]->name, "PowerPlatformPlex.EastUS");
    ck_assert_str_eq(regs[1]->name, "PowerPlatformPlex.NorthEurope");
    ck_assert_str_eq(regs[2]->name, "PowerPlatformPlex.WestEurope");
    ck_assert_str_eq(regs[3]->name, "PowerPlatformPlex.WestUS");
    free(regs);
    ck_assert_int_eq(fw_servicetags_regions(st, "Nothing", &regs, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(regs);
    fw_servicetags_destroy(&st);
}
END_TEST

START_TEST(plex_westus_gained_prefixes_between_august_and_november)
{
    static const char *const gained[] = { "48.195.24.64/26", "48.195.24.128/25", "48.195.25.0/24",
                                          "48.195.26.0/23", "48.195.28.0/23", "48.195.30.0/26" };
    fw_servicetags *o = load(AUG), *n = load(NOV);
    fw_stdiff *d;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(fw_servicetags_change_number(o), 368);
    ck_assert_int_eq(fw_servicetags_diff(o, n, "PowerPlatformPlex.WestUS", &d, &err), 0);
    ck_assert_uint_eq(fw_stdiff_count(d), 1);
    const fw_tagdiff *t = fw_stdiff_at(d, 0);
    ck_assert_str_eq(t->name, "PowerPlatformPlex.WestUS");
    ck_assert_int_eq(t->kind, FW_TAGDIFF_CHANGED);
    ck_assert_int_eq(t->old_change, 5);
    ck_assert_int_eq(t->new_change, 6);
    ck_assert_uint_eq(t->n_removed, 0);
    ck_assert_uint_eq(t->n_added, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(fmt(&t->added[i]), gained[i]);
    fw_stdiff_destroy(&d);
    ck_assert_ptr_null(d);
    /* a tag filter takes the regional entries too; unchanged ones are left out */
    ck_assert_int_eq(fw_servicetags_diff(o, n, "PowerPlatformPlex", &d, &err), 0);
    ck_assert_uint_eq(fw_stdiff_count(d), 5);
    ck_assert_str_eq(fw_stdiff_at(d, 0)->name, "PowerPlatformPlex");
    ck_assert_str_eq(fw_stdiff_at(d, 4)->name, "PowerPlatformPlex.WestUS");
    fw_stdiff_destroy(&d);
    /* a file against itself: nothing */
    ck_assert_int_eq(fw_servicetags_diff(n, n, NULL, &d, &err), 0);
    ck_assert_uint_eq(fw_stdiff_count(d), 0);
    fw_stdiff_destroy(&d);
    ck_assert_int_eq(fw_servicetags_diff(o, n, "NoSuchTag", &d, &err), CMK_ENOENT);
    fw_servicetags_destroy(&o);
    fw_servicetags_destroy(&n);
}
END_TEST

#define ENTRY(name, prefixes)                                                                  \
    "{\"name\":\"" name "\",\"id\":\"" name "\",\"properties\":{\"changeNumber\":1,"         \
    "\"region\":\"\",\"regionId\":0,\"platform\":\"Azure\",\"systemService\":\"X\","          \
    "\"addressPrefixes\":[" prefixes "],\"networkFeatures\":null}}"

START_TEST(diff_compares_addresses_not_strings)
{
    const char *a = "{\"changeNumber\":1,\"cloud\":\"Public\",\"values\":["
                    ENTRY("Same", "\"10.0.0.0/24\"") "," ENTRY("Grows", "\"10.1.0.0/24\"") ","
                    ENTRY("Gone", "\"10.2.0.0/24\"") "]}";
    const char *b = "{\"changeNumber\":2,\"cloud\":\"Public\",\"values\":["
                    ENTRY("Same", "\"10.0.0.128/25\",\"10.0.0.0/25\"") ","
                    ENTRY("Grows", "\"10.1.0.0/23\",\"2603:1000::/40\"") ","
                    ENTRY("New", "\"10.3.0.0/24\"") "]}";
    cmk_err err = CMK_ERR_INIT;
    fw_servicetags *o = fw_servicetags_parse(a, strlen(a), "a", &err);
    ck_assert_msg(o != NULL, "%s", err.msg);
    fw_servicetags *n = fw_servicetags_parse(b, strlen(b), "b", &err);
    ck_assert_msg(n != NULL, "%s", err.msg);
    fw_stdiff *d;
    ck_assert_int_eq(fw_servicetags_diff(o, n, NULL, &d, &err), 0);
    ck_assert_uint_eq(fw_stdiff_count(d), 3); /* Same did not change */
    const fw_tagdiff *t = fw_stdiff_at(d, 0);
    ck_assert_str_eq(t->name, "Gone");
    ck_assert_int_eq(t->kind, FW_TAGDIFF_REMOVED);
    ck_assert_uint_eq(t->n_removed, 1);
    ck_assert_int_eq(t->new_change, -1);
    t = fw_stdiff_at(d, 1);
    ck_assert_str_eq(t->name, "Grows");
    ck_assert_uint_eq(t->n_added, 2);
    ck_assert_str_eq(fmt(&t->added[0]), "10.1.1.0/24");
    ck_assert_str_eq(fmt(&t->added[1]), "2603:1000::/40");
    t = fw_stdiff_at(d, 2);
    ck_assert_str_eq(t->name, "New");
    ck_assert_int_eq(t->kind, FW_TAGDIFF_ADDED);
    ck_assert_int_eq(t->old_change, -1);
    fw_stdiff_destroy(&d);
    fw_servicetags_destroy(&o);
    fw_servicetags_destroy(&n);
}
END_TEST

START_TEST(broken_files_are_refused_with_a_reason)
{
    const char *m;
    m = parse_fails("{\n  \"changeNumber\": 1,\n  \"values\": [\n    {\"name\": \"X\",}\n  ]\n}");
    ck_assert_msg(strstr(m, "t.json:4:") && strstr(m, "not valid JSON"), "%s", m);
    m = parse_fails("{\"changeNumber\": 1, \"cloud\": \"Public\"}");
    ck_assert_msg(strstr(m, "\"values\""), "%s", m);
    m = parse_fails("[1, 2]");
    ck_assert_msg(strstr(m, "expected an object"), "%s", m);
    m = parse_fails("{\"values\": [\n" ENTRY("A", "\"10.0.0.0/8\",\n\"10.0.0.300/24\"") "]}");
    ck_assert_msg(strstr(m, "t.json:3:") && strstr(m, "values[0].properties.addressPrefixes[1]") &&
                      strstr(m, "10.0.0.300/24"), "%s", m);
    m = parse_fails("{\"values\": [{\"id\": \"A\", \"properties\": {\"addressPrefixes\": []}}]}");
    ck_assert_msg(strstr(m, "no \"name\""), "%s", m);
    m = parse_fails("{\"values\": [{\"name\": \"A\", \"properties\": {\"addressPrefixes\": \"10.0.0.0/8\"}}]}");
    ck_assert_msg(strstr(m, "addressPrefixes"), "%s", m);
    m = parse_fails("{\"values\": [" ENTRY("A", "") "," ENTRY("a", "") "]}");
    ck_assert_msg(strstr(m, "appears twice"), "%s", m);
    m = parse_fails("{\"cloud\": 7, \"values\": []}");
    ck_assert_msg(strstr(m, "cloud"), "%s", m);
    m = parse_fails("");
    ck_assert_msg(strstr(m, "not valid JSON"), "%s", m);
    cmk_err err = CMK_ERR_INIT;
    ck_assert_ptr_null(fw_servicetags_load(DATA "no-such-file.json", &err));
    ck_assert_int_eq(err.code, CMK_ENOENT);
    ck_assert_msg(strstr(err.msg, "no-such-file.json"), "%s", err.msg);
}
END_TEST

START_TEST(gov_file_loads)
{
    fw_servicetags *st = load(GOV);
    const fw_servicetag *t;
    ck_assert_str_eq(fw_servicetags_cloud(st), "AzureGovernment");
    ck_assert_int_eq(fw_servicetags_change_number(st), 401);
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", NULL, &t, NULL), 0);
    ck_assert_uint_eq(t->n_prefixes, 35);
    ck_assert_int_eq(t->prefixes[34].family, FW_V6);
    ck_assert_int_eq(fw_servicetags_lookup(st, "PowerPlatformPlex", "USGovVirginia", &t, NULL), 0);
    fw_servicetags_destroy(&st);
}
END_TEST

START_TEST(full_real_file_loads_when_present)
{
    if (access(REAL_NOV, R_OK) != 0) {
        printf("SKIP full_real_file_loads_when_present: %s is not here\n", REAL_NOV);
        return;
    }
    fw_servicetags *st = load(REAL_NOV);
    const fw_servicetag **regs;
    size_t n;
    ck_assert_uint_eq(fw_servicetags_count(st), 3041);
    ck_assert_int_eq(fw_servicetags_regions(st, "PowerPlatformPlex", &regs, &n), 0);
    ck_assert_uint_eq(n + 1, 44); /* 44 PowerPlatformPlex entries: the global one + 43 regions */
    free(regs);
    /* every regional PowerPlatformPlex prefix is inside the global tag */
    const fw_servicetag *g = fw_servicetags_find(st, "PowerPlatformPlex");
    fw_cidrset *global = fw_servicetag_set(g);
    const fw_servicetag *w = fw_servicetags_find(st, "PowerPlatformPlex.WestUS");
    for (size_t i = 0; i < w->n_prefixes; i++)
        ck_assert(fw_cidrset_covers(global, &w->prefixes[i]));
    fw_cidrset_destroy(&global);
    fw_servicetags_destroy(&st);
}
END_TEST

/* fw_servicetags_suite - every test of this module */
static Suite *fw_servicetags_suite(void)
{
    Suite *s = suite_create("fw_servicetags");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trimmed_public_file_loads_every_field);
    tcase_add_test(tc, lookup_by_tag_and_region);
    tcase_add_test(tc, regions_of_a_tag);
    tcase_add_test(tc, plex_westus_gained_prefixes_between_august_and_november);
    tcase_add_test(tc, diff_compares_addresses_not_strings);
    tcase_add_test(tc, broken_files_are_refused_with_a_reason);
    tcase_add_test(tc, gov_file_loads);
    tcase_add_test(tc, full_real_file_loads_when_present);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_servicetags_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
