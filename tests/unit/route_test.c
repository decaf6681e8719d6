/*
 * route_test.c - the body a request carries to an environment's worker (route_body.c): the
 * controller-owned fields are the controller's whatever the client (or a Recurrence trigger)
 * put there, every other member is kept, and none appears twice; which worker serves an
 * environment.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "route.h"

/* count - how many members of o are named name */
static int count(const cJSON *o, const char *name)
{
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, o) {
        if (it->string && strcmp(it->string, name) == 0)
            n++;
    }
    return n;
}

/* shared_env - an environment on the Microsoft-managed key and shared infrastructure */
static dir_env shared_env(void)
{
    dir_env e;
    memset(&e, 0, sizeof e);
    strcpy(e.id, "env-1");
    strcpy(e.tenant, "contoso");
    strcpy(e.region, "unitedstates");
    strcpy(e.encryption, "microsoft");
    strcpy(e.infrastructure, "shared");
    strcpy(e.state, "Ready");
    return e;
}

START_TEST(test_client_cannot_set_owned_fields)
{
    dir_env e = shared_env();
    cJSON *client = cJSON_Parse("{\"flow\":\"f-1\",\"client_req\":\"c-1\",\"env\":\"env-9\",\"region\":\"europe\","
                                "\"infrastructure\":\"dedicated\",\"encryption\":\"customer\",\"requested_by\":\"mallory\","
                                "\"clock_ms\":5}");
    cJSON *body = route_owned_body(cmk_op_find("flow.run"), client, "admin", &e, e.infrastructure, 1234);
    static const char *const owned[] = { "env", "region", "infrastructure", "encryption", "requested_by", "clock_ms" };

    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(cJSON_GetObjectItem(body, "env")->valuestring, "env-1");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "region")->valuestring, "unitedstates");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "infrastructure")->valuestring, "shared");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "encryption")->valuestring, "microsoft");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "requested_by")->valuestring, "admin");
    ck_assert_int_eq((int)cJSON_GetObjectItem(body, "clock_ms")->valuedouble, 1234);
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        ck_assert_msg(count(body, owned[i]) == 1, "%s appears %d times", owned[i], count(body, owned[i]));
    /* the rest is the client's */
    ck_assert_str_eq(cJSON_GetObjectItem(body, "flow")->valuestring, "f-1");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "client_req")->valuestring, "c-1");
    ck_assert_int_eq(cJSON_GetArraySize(body), 8);
    cJSON_Delete(body); /* before the fields it refers to */
    cJSON_Delete(client);
}
END_TEST

START_TEST(test_no_client_fields)
{
    dir_env e = shared_env();
    cJSON *body = route_owned_body(cmk_op_find("flow.run"), NULL, "system", &e, "dedicated", 7);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(cJSON_GetArraySize(body), 6);
    ck_assert_str_eq(cJSON_GetObjectItem(body, "infrastructure")->valuestring, "dedicated");
    ck_assert_str_eq(cJSON_GetObjectItem(body, "requested_by")->valuestring, "system");
    cJSON_Delete(body);
}
END_TEST

START_TEST(test_worker_of)
{
    dir_env e = shared_env();
    char name[CMK_WORKER_NAME_MAX];
    ctl_worker_of(&e, name, sizeof name);
    ck_assert_str_eq(name, CMK_WORKER_SHARED);
    strcpy(e.infrastructure, "dedicated");
    ctl_worker_of(&e, name, sizeof name);
    ck_assert_str_eq(name, "worker-env-1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_client_cannot_set_owned_fields);
    tcase_add_test(tc, test_no_client_fields);
    tcase_add_test(tc, test_worker_of);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
