/*
 * gw_ingress_test.c - trigger URLs (gateway/gw_ingress.h): which paths are triggers, how
 * error replies become HTTP statuses, and the JSON error document.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "gw_ingress.h"

START_TEST(trigger_paths_name_env_and_flow)
{
    char env[64], flow[64];
    ck_assert_int_eq(gw_ingress_parse_path("/workflows/env-1/flow-2/triggers/manual/paths/invoke",
                                           env, sizeof env, flow, sizeof flow), 0);
    ck_assert_str_eq(env, "env-1");
    ck_assert_str_eq(flow, "flow-2");
    ck_assert_int_eq(gw_ingress_parse_path("/workflows/a.b_c/F1/triggers/manual/paths/invoke",
                                           env, sizeof env, flow, sizeof flow), 0);
    ck_assert_str_eq(env, "a.b_c");
}
END_TEST

START_TEST(other_paths_are_not_triggers)
{
    static const char *const bad[] = {
        "/workflows/env-1/triggers/manual/paths/invoke",
        "/workflows//flow/triggers/manual/paths/invoke",
        "/workflows/env/flow/triggers/manual/paths/invoke/",
        "/workflows/env/flow/triggers/other/paths/invoke",
        "/workflows/env/fl ow/triggers/manual/paths/invoke",
        "/workflows/env/../triggers/manual/paths/invoke",
        "/metrics",
        "",
    };
    char env[64], flow[8];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(gw_ingress_parse_path(bad[i], env, sizeof env, flow, sizeof flow) == CMK_ENOENT,
                      "accepted %s", bad[i]);
    /* too long for the caller's buffer */
    ck_assert_int_eq(gw_ingress_parse_path("/workflows/e/flow-much-too-long/triggers/manual/paths/invoke",
                                           env, sizeof env, flow, sizeof flow), CMK_ENOENT);
    ck_assert_int_eq(gw_ingress_parse_path(NULL, env, sizeof env, flow, sizeof flow), CMK_ENOENT);
}
END_TEST

START_TEST(error_codes_map_to_statuses)
{
    ck_assert_int_eq(gw_ingress_status(CMK_EPERM), 401);
    ck_assert_int_eq(gw_ingress_status(CMK_ENOENT), 404);
    ck_assert_int_eq(gw_ingress_status(CMK_EUNAVAIL), 503);
    ck_assert_int_eq(gw_ingress_status(CMK_ETIMEOUT), 504);
    ck_assert_int_eq(gw_ingress_status(CMK_EBUSY), 429);
    ck_assert_int_eq(gw_ingress_status(CMK_EINVAL), 400);
    ck_assert_int_eq(gw_ingress_status(CMK_EPROTO), 400);
    ck_assert_str_eq(gw_ingress_error_name(401), "DirectApiAuthorizationRequired");
    ck_assert_str_eq(gw_ingress_error_name(404), "WorkflowNotFound");
}
END_TEST

START_TEST(error_bodies_are_json)
{
    char *text = gw_ingress_error_body(401, "no \"sig\"");
    cJSON *j = cJSON_Parse(text), *e = cJSON_GetObjectItem(j, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "code")->valuestring, "DirectApiAuthorizationRequired");
    ck_assert_str_eq(cJSON_GetObjectItem(e, "message")->valuestring, "no \"sig\"");
    cJSON_Delete(j);
    free(text);
}
END_TEST

/* never_called - a done callback that must not run */
static void never_called(void *arg, cJSON *reply, const cmk_err *err)
{
    ck_abort_msg("a call that failed to start was ended later");
}

START_TEST(a_call_without_a_cluster_fails_cleanly)
{
    gw_ingress *in = gw_ingress_new("/nonexistent-run-dir", 100, 4);
    gw_ingress_call *call = (gw_ingress_call *)1;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(gw_ingress_start(in, cJSON_CreateObject(), never_called, NULL, &call, &err),
                     CMK_EUNAVAIL);
    ck_assert_ptr_null(call);
    ck_assert_ptr_nonnull(strstr(err.msg, "controller"));
    ck_assert_int_eq(gw_ingress_inflight(in), 0);
    ck_assert_int_eq(gw_ingress_expire(in, 0), -1);
    ck_assert_ptr_null(gw_ingress_socket(in));
    gw_ingress_destroy(&in);
    ck_assert_ptr_null(in);
}
END_TEST

/* gw_ingress_suite - every test of this module */
static Suite *gw_ingress_suite(void)
{
    Suite *s = suite_create("gw_ingress");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trigger_paths_name_env_and_flow);
    tcase_add_test(tc, other_paths_are_not_triggers);
    tcase_add_test(tc, error_codes_map_to_statuses);
    tcase_add_test(tc, error_bodies_are_json);
    tcase_add_test(tc, a_call_without_a_cluster_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(gw_ingress_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
