/*
 * gw_tags_test.c - where egress leaves from (gateway/gw_tags.h): Power Platform regions to
 * Azure regions, infrastructure and kind to service tags, and source addresses picked within
 * the tag's range of the shipped service-tags file.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_tags.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"

static gw_tags *tags; /* the shipped service tags */

/* setup - load them */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    tags = gw_tags_load(SIM_TAGS, &err);
    ck_assert_msg(tags != NULL, "%s", err.msg);
}

/* teardown - free them */
static void teardown(void)
{
    gw_tags_destroy(&tags);
    ck_assert_ptr_null(tags);
}

/* select_ok - the tag of a request or fail */
static const char *select_ok(const char *infra, const char *kind, const char *region)
{
    static char out[96];
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(gw_tags_select(tags, infra, kind, region, out, sizeof out, &err) == 0, "%s",
                  err.msg);
    return out;
}

/* in_prefix - whether ip lies in a.b.c.0/24 */
static int in_24(const char *ip, const char *net)
{
    struct in_addr a, n;
    inet_pton(AF_INET, ip, &a);
    inet_pton(AF_INET, net, &n);
    return (ntohl(a.s_addr) & 0xffffff00u) == ntohl(n.s_addr);
}

START_TEST(power_platform_regions_map_to_azure_regions)
{
    ck_assert_str_eq(gw_region_azure("unitedstates"), "WestUS");
    ck_assert_str_eq(gw_region_azure("europe"), "WestEurope");
    ck_assert_str_eq(gw_region_azure("UnitedStates"), "WestUS");
    ck_assert_str_eq(gw_region_azure("asia"), "EastAsia");
    ck_assert_ptr_null(gw_region_azure("mars"));
    ck_assert_ptr_null(gw_region_azure(NULL));
}
END_TEST

START_TEST(dedicated_leaves_from_plex_shared_from_legacy_tags)
{
    ck_assert_str_eq(select_ok("dedicated", "http", "unitedstates"), "PowerPlatformPlex.WestUS");
    ck_assert_str_eq(select_ok("dedicated", "connector", "europe"), "PowerPlatformPlex.WestEurope");
    ck_assert_str_eq(select_ok("shared", "http", "unitedstates"), "LogicApps.WestUS");
    ck_assert_str_eq(select_ok("shared", NULL, "europe"), "LogicApps.WestEurope");
    ck_assert_str_eq(select_ok("shared", "connector", "unitedstates"), "AzureConnectors.WestUS");
    /* an Azure region is accepted as is, in any case */
    ck_assert_str_eq(select_ok("dedicated", "http", "eastus"), "PowerPlatformPlex.EastUS");
    ck_assert_str_eq(select_ok("shared", "http", "WestEurope"), "LogicApps.WestEurope");
}
END_TEST

START_TEST(bad_requests_say_what_is_wrong)
{
    char out[96];
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(gw_tags_select(tags, "private", "http", "europe", out, sizeof out, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "shared"));
    ck_assert_int_eq(gw_tags_select(tags, NULL, "http", "europe", out, sizeof out, &err), CMK_EINVAL);
    ck_assert_int_eq(gw_tags_select(tags, "shared", "ftp", "europe", out, sizeof out, &err), CMK_EINVAL);
    ck_assert_int_eq(gw_tags_select(tags, "shared", "http", "", out, sizeof out, &err), CMK_EINVAL);
    /* a known Power Platform region whose Azure region the file does not simulate */
    ck_assert_int_eq(gw_tags_select(tags, "dedicated", "http", "japan", out, sizeof out, &err), CMK_ENOENT);
    ck_assert_msg(strstr(err.msg, "JapanEast") && strstr(err.msg, "WestUS"), "%s", err.msg);
    ck_assert_int_eq(gw_tags_select(tags, "dedicated", "http", "mars", out, sizeof out, &err), CMK_ENOENT);
}
END_TEST

START_TEST(sources_stay_inside_the_tag_range)
{
    char ip[16];
    cmk_err err = CMK_ERR_INIT;
    int distinct = 0;
    char first[16] = "";

    ck_assert_uint_eq(gw_tags_addresses(tags, "PowerPlatformPlex.WestUS"), 254);
    for (uint64_t k = 0; k < 600; k++) {
        ck_assert_int_eq(gw_tags_pick(tags, "PowerPlatformPlex.WestUS", k, ip, sizeof ip, &err), 0);
        ck_assert_msg(in_24(ip, "127.40.1.0"), "%s", ip);
        ck_assert_str_ne(ip, "127.40.1.0");   /* network address skipped */
        ck_assert_str_ne(ip, "127.40.1.255"); /* broadcast address skipped */
        if (k == 0)
            snprintf(first, sizeof first, "%s", ip);
        else if (strcmp(ip, first) != 0)
            distinct++;
    }
    ck_assert_int_gt(distinct, 500);
    ck_assert_int_eq(gw_tags_pick(tags, "PowerPlatformPlex.WestUS", 0, ip, sizeof ip, &err), 0);
    ck_assert_str_eq(ip, "127.40.1.1");
    ck_assert_int_eq(gw_tags_pick(tags, "PowerPlatformPlex.WestUS", 253, ip, sizeof ip, &err), 0);
    ck_assert_str_eq(ip, "127.40.1.254");
    /* global entries span every regional range */
    ck_assert_uint_eq(gw_tags_addresses(tags, "LogicApps"), 3 * 254);
    ck_assert_int_eq(gw_tags_pick(tags, "LogicApps", 254, ip, sizeof ip, &err), 0);
    ck_assert_str_eq(ip, "127.10.2.1");
    ck_assert_int_eq(gw_tags_pick(tags, "NoSuchTag", 1, ip, sizeof ip, &err), CMK_ENOENT);
}
END_TEST

START_TEST(source_keys_are_stable_and_spread)
{
    uint64_t a = gw_source_key("env-1", "flow-1", "HTTP");
    ck_assert_uint_eq(a, gw_source_key("env-1", "flow-1", "HTTP"));
    ck_assert_uint_ne(a, gw_source_key("env-1", "flow-2", "HTTP"));
    ck_assert_uint_ne(a, gw_source_key("env-1", "flow-1", "HTTP_2"));
    /* parts are separated: ("ab", "c") differs from ("a", "bc") */
    ck_assert_uint_ne(gw_source_key("ab", "c", NULL), gw_source_key("a", "bc", NULL));
}
END_TEST

START_TEST(files_with_ipv6_and_bad_prefixes)
{
    static const char v6[] = "{\"values\": [{\"name\": \"PowerPlatformPlex.WestUS\", \"properties\": "
                             "{\"region\": \"westus\", \"addressPrefixes\": [\"2603:1061::/56\", "
                             "\"10.0.0.8/31\", \"10.0.0.20/32\"], \"networkFeatures\": null}}]}";
    static const char bad[] = "{\"values\": [{\"name\": \"X\", \"properties\": {\"addressPrefixes\": "
                              "[\"10.0.0.0/33\"]}}]}";
    cmk_err err = CMK_ERR_INIT;
    char ip[16];
    gw_tags *t = gw_tags_parse(v6, strlen(v6), "v6.json", &err);

    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(gw_tags_addresses(t, "PowerPlatformPlex.WestUS"), 3); /* /31 both, /32 one */
    ck_assert_int_eq(gw_tags_pick(t, "PowerPlatformPlex.WestUS", 2, ip, sizeof ip, &err), 0);
    ck_assert_str_eq(ip, "10.0.0.20");
    gw_tags_destroy(&t);
    ck_assert_ptr_null(gw_tags_parse(bad, strlen(bad), "bad.json", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "10.0.0.0/33"));
    ck_assert_ptr_null(gw_tags_parse("[]", 2, "arr.json", &err));
    ck_assert_ptr_null(gw_tags_load("/nonexistent/tags.json", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "egress.service_tags"));
}
END_TEST

/* gw_tags_suite - every test of this module */
static Suite *gw_tags_suite(void)
{
    Suite *s = suite_create("gw_tags");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, power_platform_regions_map_to_azure_regions);
    tcase_add_test(tc, dedicated_leaves_from_plex_shared_from_legacy_tags);
    tcase_add_test(tc, bad_requests_say_what_is_wrong);
    tcase_add_test(tc, sources_stay_inside_the_tag_range);
    tcase_add_test(tc, source_keys_are_stable_and_spread);
    tcase_add_test(tc, files_with_ipv6_and_bad_prefixes);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(gw_tags_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
