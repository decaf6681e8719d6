/*
 * gw_route_test.c - an http.request body checked and planned (gateway/gw_route.h), which
 * environments a worker key may act for, the firewall state file the gateway follows
 * (gateway/gw_nsock.h), and the gateway's metrics text (gateway/gw_metrics.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_metrics.h"
#include "gw_nsock.h"
#include "gw_route.h"

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
}

/* plan - plan a JSON body; returns the code, *job on success */
static int plan(const char *json, gw_job **job, cmk_err *err)
{
    cJSON *b = cJSON_Parse(json);
    int rc;
    ck_assert_msg(b != NULL, "bad test JSON: %s", json);
    rc = gw_route_plan(tags, b, 30000, job, err);
    cJSON_Delete(b);
    return rc;
}

START_TEST(a_dedicated_request_is_planned_from_plex)
{
    cmk_err err = CMK_ERR_INIT;
    gw_job *j = NULL;
    int rc = plan("{\"env\": \"env-1\", \"flow\": \"f\", \"run\": \"r\", \"action\": \"HTTP\","
                  " \"infrastructure\": \"dedicated\", \"region\": \"unitedstates\", \"kind\": \"http\","
                  " \"method\": \"post\", \"uri\": \"http://127.0.0.1:18080/anything\","
                  " \"headers\": {\"Content-Type\": \"application/json\"}, \"body\": \"{}\","
                  " \"timeout_ms\": 1500}", &j, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_str_eq(j->tag, "PowerPlatformPlex.WestUS");
    ck_assert_int_eq(strncmp(j->source_ip, "127.40.1.", 9), 0);
    ck_assert_str_eq(j->method, "POST");
    ck_assert_str_eq(j->body, "{}");
    ck_assert_uint_eq(j->body_len, 2);
    ck_assert_int_eq(j->timeout_ms, 1500);
    ck_assert_str_eq(cJSON_GetObjectItem(j->headers, "Content-Type")->valuestring, "application/json");
    ck_assert_ptr_null(j->req);
    gw_job_destroy(&j);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(defaults_apply)
{
    cmk_err err = CMK_ERR_INIT;
    gw_job *j = NULL;
    ck_assert_int_eq(plan("{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\","
                          " \"uri\": \"https://127.0.0.1/x\"}", &j, &err), 0);
    ck_assert_str_eq(j->tag, "LogicApps.WestEurope");
    ck_assert_str_eq(j->method, "GET");
    ck_assert_str_eq(j->kind, "http");
    ck_assert_int_eq(j->timeout_ms, 30000);
    ck_assert_ptr_null(j->body);
    gw_job_destroy(&j);
}
END_TEST

START_TEST(bad_bodies_are_refused_with_the_field)
{
    static const struct {
        const char *json; /* body */
        const char *word; /* in the message */
    } cases[] = {
        { "{\"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\"}", "env" },
        { "{\"env\": \"e\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\"}", "infrastructure" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\"}", "uri" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"ftp://127.0.0.1/\"}", "http://" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/a b\"}", "space" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\", \"method\": \"G T\"}", "method" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\", \"headers\": {\"X\": \"a\\r\\nInjected: 1\"}}", "line breaks" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\", \"headers\": {\"Bad Name\": \"v\"}}", "header name" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\", \"body\": {\"a\": 1}}", "body" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\", \"timeout_ms\": 0}", "timeout_ms" },
        { "{\"env\": 5, \"infrastructure\": \"shared\", \"region\": \"europe\", \"uri\": \"http://127.0.0.1/\"}", "string" },
        { "{\"env\": \"e\", \"infrastructure\": \"shared\", \"region\": \"mars\", \"uri\": \"http://127.0.0.1/\"}", "mars" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmk_err err = CMK_ERR_INIT;
        gw_job *j = NULL;
        ck_assert_msg(plan(cases[i].json, &j, &err) < 0, "accepted: %s", cases[i].json);
        ck_assert_ptr_null(j);
        ck_assert_msg(strstr(err.msg, cases[i].word), "case %zu: '%s' not in: %s", i, cases[i].word,
                      err.msg);
    }
}
END_TEST

START_TEST(worker_keys_act_only_for_their_environments)
{
    cJSON *shared = cJSON_Parse("{\"name\": \"worker-shared\", \"envs\": [\"*\"]}");
    cJSON *ded = cJSON_Parse("{\"name\": \"worker-env-1\", \"envs\": [\"env-1\"]}");
    cJSON *none = cJSON_Parse("{\"name\": \"admin\", \"envs\": []}");
    ck_assert(gw_route_env_allowed(shared, "env-9"));
    ck_assert(gw_route_env_allowed(ded, "env-1"));
    ck_assert(!gw_route_env_allowed(ded, "env-2"));
    ck_assert(!gw_route_env_allowed(none, "env-1"));
    ck_assert(!gw_route_env_allowed(NULL, "env-1"));
    cJSON_Delete(shared);
    cJSON_Delete(ded);
    cJSON_Delete(none);
}
END_TEST

START_TEST(the_firewall_state_file)
{
    gw_fwstate st;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(gw_fwstate_parse("{\"mode\": \"kernel\", \"holder_pid\": 42, \"netns\": "
                                      "\"/proc/42/ns/net\", \"userns\": \"/proc/42/ns/user\", "
                                      "\"netns_inode\": 4026532871, \"endpoint_port\": 18080, "
                                      "\"config\": \"legacy-only\"}", &st, &err), 0);
    ck_assert_str_eq(st.mode, "kernel");
    ck_assert_int_eq(st.holder_pid, 42);
    ck_assert_str_eq(st.netns, "/proc/42/ns/net");
    ck_assert_uint_eq(st.netns_inode, 4026532871ul);
    ck_assert_str_eq(st.config, "legacy-only");
    ck_assert_int_eq(gw_fwstate_parse("{\"mode\": \"kernel\"}", &st, &err), CMK_EINVAL);
    ck_assert_int_eq(gw_fwstate_parse("nope", &st, &err), CMK_EINVAL);
    ck_assert_str_eq(st.mode, "none");
}
END_TEST

START_TEST(without_a_firewall_sockets_are_made_on_the_host)
{
    char dir[] = "/tmp/gw_route_test.XXXXXX";
    gw_fwstate st;
    gw_nsock *ns;
    int fd;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ns = gw_nsock_new(dir, NULL);
    ck_assert_ptr_nonnull(ns);
    gw_nsock_refresh(ns, &st);
    ck_assert_str_eq(st.mode, "none");
    fd = gw_nsock_socket(ns, AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    gw_nsock_destroy(&ns);
    ck_assert_ptr_null(ns);
    rmdir(dir);
}
END_TEST

/* write_state - a kernel-mode state.json naming holder pid and a network namespace inode */
static void write_state(const char *dir, int pid, unsigned long inode)
{
    char path[256], text[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/firewall", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/firewall/state.json", dir);
    snprintf(text, sizeof text, "{\"mode\":\"kernel\",\"holder_pid\":%d,\"netns\":\"/proc/%d/ns/net\","
             "\"userns\":\"/proc/%d/ns/user\",\"netns_inode\":%lu,\"config\":\"t\"}", pid, pid, pid, inode);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* remove_state - the state file and its directory */
static void remove_state(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/firewall/state.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/firewall", dir);
    rmdir(path);
    rmdir(dir);
}

START_TEST(a_gone_or_replaced_namespace_holder_is_no_firewall)
{
    char dir[] = "/tmp/gw_route_test.XXXXXX";
    gw_fwstate st;
    gw_nsock *ns;
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    ck_assert_int_gt(dead, 0);
    waitpid(dead, NULL, 0);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ns = gw_nsock_new(dir, NULL);
    ck_assert_ptr_nonnull(ns);
    /* the holder has exited: the spawner finds no process (ESRCH) */
    write_state(dir, (int)dead, 4026531840UL);
    gw_nsock_refresh(ns, &st);
    ck_assert_str_eq(st.mode, "none");
    /* a live process whose network namespace is not the announced one (a reused pid): ESTALE */
    /* (the state file's size changes: the gateway reads it again) */
    write_state(dir, (int)getpid(), 1UL);
    gw_nsock_refresh(ns, &st);
    ck_assert_str_eq(st.mode, "none");
    gw_nsock_destroy(&ns);
    remove_state(dir);
}
END_TEST

START_TEST(metrics_are_prometheus_text)
{
    gw_metrics *m = gw_metrics_new();
    char *text;
    cJSON *j;
    gw_metrics_egress(m, "PowerPlatformPlex.WestUS", "refused", 3);
    gw_metrics_egress(m, "PowerPlatformPlex.WestUS", "refused", 7);
    gw_metrics_egress(m, "LogicApps.WestUS", "ok", 40);
    gw_metrics_egress(m, "bad\"tag", "ok", 1);
    gw_metrics_ingress(m, 401);
    gw_metrics_inflight(m, 2);
    gw_metrics_inflight(m, -1);
    text = gw_metrics_render(m);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE cmk_gateway_egress_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_requests_total{tag=\"PowerPlatformPlex.WestUS\",outcome=\"refused\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_requests_total{tag=\"LogicApps.WestUS\",outcome=\"ok\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "tag=\"bad_tag\""));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_duration_seconds_bucket{tag=\"PowerPlatformPlex.WestUS\",le=\"0.005\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_duration_seconds_bucket{tag=\"PowerPlatformPlex.WestUS\",le=\"+Inf\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_duration_seconds_count{tag=\"LogicApps.WestUS\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_egress_inflight 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "cmk_gateway_ingress_requests_total{status=\"401\"} 1\n"));
    free(text);
    j = gw_metrics_json(m);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "egress")), 3);
    cJSON_Delete(j);
    gw_metrics_destroy(&m);
    ck_assert_ptr_null(m);
}
END_TEST

/* gw_route_suite - every test of this module */
static Suite *gw_route_suite(void)
{
    Suite *s = suite_create("gw_route");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_dedicated_request_is_planned_from_plex);
    tcase_add_test(tc, defaults_apply);
    tcase_add_test(tc, bad_bodies_are_refused_with_the_field);
    tcase_add_test(tc, worker_keys_act_only_for_their_environments);
    tcase_add_test(tc, the_firewall_state_file);
    tcase_add_test(tc, without_a_firewall_sockets_are_made_on_the_host);
    tcase_add_test(tc, a_gone_or_replaced_namespace_holder_is_no_firewall);
    tcase_add_test(tc, metrics_are_prometheus_text);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(gw_route_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
