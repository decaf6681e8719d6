/*
 * bench_workload_test.c - workload files of cmk-bench load (bench/workload.c): the shipped
 * workloads parse, phases with durations, counts and rates (numbers or shares), defaults, a
 * definition path relative to the workload file, and refusals that name the bad field.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "bench/workload.h"

#define FLOWS CMK_SOURCE_DIR "/configs/flows"

/* parse - a workload from JSON text, definitions taken from configs/flows */
static int parse(const char *text, bench_workload *w, cmk_err *err)
{
    cJSON *doc = cJSON_Parse(text);
    int rc;
    ck_assert_msg(doc != NULL, "test JSON does not parse: %s", text);
    rc = bench_workload_parse(doc, FLOWS, w, err);
    cJSON_Delete(doc);
    return rc;
}

START_TEST(test_shipped_workloads_parse)
{
    const char *files[] = {CMK_SOURCE_DIR "/configs/workloads/compose-shared.json",
                           CMK_SOURCE_DIR "/configs/workloads/smoke.json",
                           CMK_SOURCE_DIR "/configs/workloads/http-shared.json",
                           CMK_SOURCE_DIR "/configs/workloads/http-trigger.json",
                           CMK_SOURCE_DIR "/configs/workloads/cmk-events.json",
                           CMK_SOURCE_DIR "/configs/workloads/soak-short.json",
                           CMK_SOURCE_DIR "/configs/workloads/dedicated-200.json",
                           CMK_SOURCE_DIR "/configs/workloads/child-flows.json",
                           CMK_SOURCE_DIR "/configs/workloads/soak-long.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        bench_workload w;
        cmk_err err = CMK_ERR_INIT;
        ck_assert_msg(bench_workload_load(files[i], &w, &err) == 0, "%s: %s", files[i], err.msg);
        ck_assert_ptr_nonnull(w.definition);
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(w.definition, "actions"));
        ck_assert_int_ge(w.nphases, 1);
        ck_assert_int_eq(w.verify, -1);
        ck_assert_double_eq(w.phases[0].rate, 0); /* first phase: closed loop */
        bench_workload_free(&w);
    }
}
END_TEST

START_TEST(test_full_workload)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    int rc = parse("{\"name\":\"t\",\"tenant\":\"acme\","
                   "\"environments\":{\"count\":3,\"region\":\"europe\",\"type\":\"sandbox\",\"name_prefix\":\"p\"},"
                   "\"flows\":{\"per_environment\":2,\"definition\":\"manual-compose.json\",\"body\":{\"text\":\"x\"}},"
                   "\"clients\":32,\"connections\":4,\"request_timeout\":\"3s\","
                   "\"phases\":[{\"name\":\"max\",\"duration\":\"10s\"},"
                   "{\"name\":\"half\",\"duration\":\"5s\",\"rate\":\"50%\",\"clients\":8},"
                   "{\"name\":\"fixed\",\"requests\":1000,\"rate\":5000}],"
                   "\"verify\":500,\"events\":[{\"at\":\"5s\",\"do\":\"kill-worker\"}]}",
                   &w, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_str_eq(w.tenant, "acme");
    ck_assert_int_eq(w.env_count, 3);
    ck_assert_str_eq(w.region, "europe");
    ck_assert_str_eq(w.env_type, "sandbox");
    ck_assert_int_eq(w.flows_per_env, 2);
    ck_assert_str_eq(w.definition_path, FLOWS "/manual-compose.json");
    ck_assert_str_eq(cJSON_GetObjectItem(w.body, "text")->valuestring, "x");
    ck_assert_int_eq(w.clients, 32);
    ck_assert_int_eq(w.connections, 4);
    ck_assert_int_eq(w.request_timeout_ms, 3000);
    ck_assert_int_eq(w.nphases, 3);
    ck_assert_int_eq(w.phases[0].duration_ms, 10000);
    ck_assert_double_eq(w.phases[1].rate_share, 0.5);
    ck_assert_int_eq(w.phases[1].clients, 8);
    ck_assert_uint_eq(w.phases[2].requests, 1000);
    ck_assert_double_eq(w.phases[2].rate, 5000);
    ck_assert_int_eq(w.verify, 500);
    ck_assert_int_eq(w.nevents, 1);
    ck_assert_int_eq(w.events[0].kind, BENCH_EV_KILL_WORKER);
    ck_assert_int_eq(w.events[0].at_ms, 5000);
    ck_assert_int_eq(w.events[0].env, -1);
    ck_assert_int_eq(w.dedicated, 0);
    ck_assert_int_eq(w.http_trigger, 0); /* flow.run by default */
    ck_assert_ptr_null(w.child);         /* no child flow unless flows.child names one */
    ck_assert_int_eq(bench_workload_needs_cmk(&w), 0); /* killing a worker needs no key */
    bench_workload_free(&w);
}
END_TEST

START_TEST(test_defaults_and_single_phase)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    int rc = parse("{\"environments\":{},\"flows\":{\"definition\":\"" FLOWS "/manual-compose.json\"},"
                   "\"requests\":200,\"verify\":\"none\"}",
                   &w, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_str_eq(w.tenant, "bench");
    ck_assert_int_eq(w.env_count, 1);
    ck_assert_int_eq(w.flows_per_env, 1);
    ck_assert_int_eq(w.clients, 16);
    ck_assert_int_eq(w.connections, 1);
    ck_assert_int_eq(w.request_timeout_ms, 10000);
    ck_assert_int_eq(w.nphases, 1);
    ck_assert_uint_eq(w.phases[0].requests, 200);
    ck_assert_int_eq(w.verify, 0);
    ck_assert_ptr_null(w.body);
    bench_workload_free(&w);
}
END_TEST

START_TEST(test_refusals_name_the_field)
{
    static const struct {
        const char *json; /* a workload */
        const char *want; /* in the message */
    } bad[] = {
        {"{\"flows\":{}}", "environments"},
        {"{\"environments\":{\"infrastructure\":\"isolated\"},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\"}", "\"dedicated\""},
        {"{\"environments\":{\"count\":2,\"dedicated\":3},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\"}", "environments.dedicated"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"events\":[{\"do\":\"rotate-key\"}]}", "events[0].at"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"events\":[{\"at\":\"1s\",\"do\":\"explode\"}]}", "events[0].do \"explode\""},
        {"{\"environments\":{\"count\":2},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"events\":[{\"at\":\"1s\",\"do\":\"kill-worker\",\"env\":2}]}", "events[0].env"},
        {"{\"environments\":{\"count\":2,\"dedicated\":1},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"events\":[{\"at\":\"1s\",\"do\":\"apply-cmk\",\"env\":0}]}", "shared environment"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"events\":[{\"at\":\"1s\",\"do\":\"firewall\"}]}", "events[0].config"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"cluster\":{\"a\":[1]}}", "cluster.a"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\",\"trigger\":\"smtp\"},\"duration\":\"1s\"}", "flows.trigger \"smtp\""},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\",\"child\":\"no-such-child.json\"},\"duration\":\"1s\"}", "flows.child"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"requests\":10,\"events\":[{\"at\":\"1s\",\"every\":\"1s\",\"do\":\"kill-worker\"}]}", "every needs phases with durations"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"10s\",\"events\":[{\"at\":\"0s\",\"every\":\"10ms\",\"do\":\"kill-worker\"}]}", "more than 256 events"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"10s\",\"soak\":{\"max_fd_growth\":1}}", "two phases"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"phases\":[{\"duration\":\"1s\"},{\"duration\":\"1s\"}],\"soak\":{\"max_fd_growth\":\"x\"}}", "soak.max_fd_growth"},
        {"{\"environments\":{},\"flows\":{},\"duration\":\"1s\"}", "flows.definition"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"nope.json\"},\"duration\":\"1s\"}", "nope.json"},
        {"{\"environments\":{\"count\":0},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\"}", "environments.count"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"}}", "duration"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"requests\":5}", "not both"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"phases\":[{\"duration\":\"1s\",\"rate\":\"50%\"}]}", "closed-loop"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"phases\":[{\"duration\":\"1s\",\"rate\":\"fast\"}]}", "phases[0].rate"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"phases\":[{\"duration\":\"soon\"}]}", "phases[0].duration"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"phases\":[]}", "phases"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"clients\":-1}", "clients"},
        {"{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\",\"verify\":\"some\"}", "verify"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bench_workload w;
        cmk_err err = CMK_ERR_INIT;
        ck_assert_msg(parse(bad[i].json, &w, &err) < 0, "accepted: %s", bad[i].json);
        ck_assert_msg(strstr(err.msg, bad[i].want) != NULL, "'%s' lacks '%s': %s", bad[i].json,
                      bad[i].want, err.msg);
    }
}
END_TEST

START_TEST(test_dedicated_and_events)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    cJSON *j;
    int rc = parse("{\"tenant\":\"acme\",\"environments\":{\"count\":3,\"dedicated\":2},"
                   "\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"20s\","
                   "\"cluster\":{\"policy.reenable_time\":\"2s\"},"
                   "\"events\":[{\"at\":\"9s\",\"do\":\"reenable\"},"
                   "{\"at\":\"3s\",\"do\":\"rotate-key\"},"
                   "{\"at\":\"5s\",\"do\":\"disable-key\"},"
                   "{\"at\":\"5s\",\"do\":\"apply-cmk\",\"env\":2},"
                   "{\"at\":\"1s\",\"do\":\"firewall\",\"config\":\"fw.json\"}]}",
                   &w, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_int_eq(w.dedicated, 2);
    ck_assert_int_eq(bench_workload_needs_cmk(&w), 1);
    ck_assert_str_eq(w.cmk_vault, "acme-bench-kv"); /* defaults from the tenant */
    ck_assert_str_eq(w.cmk_key, "bench-cmk");
    ck_assert_str_eq(w.cmk_policy, "acme-bench-cmk");
    ck_assert_str_eq(cJSON_GetObjectItem(w.cluster_set, "policy.reenable_time")->valuestring, "2s");
    ck_assert_int_eq(w.nevents, 5);
    /* sorted by time; equal times keep the file's order */
    ck_assert_int_eq(w.events[0].kind, BENCH_EV_FIREWALL);
    ck_assert_str_eq(w.events[0].config_path, FLOWS "/fw.json");
    ck_assert_int_eq(w.events[1].kind, BENCH_EV_ROTATE_KEY);
    ck_assert_int_eq(w.events[2].kind, BENCH_EV_DISABLE_KEY);
    ck_assert_int_eq(w.events[3].kind, BENCH_EV_APPLY_CMK);
    ck_assert_int_eq(w.events[3].env, 2);
    ck_assert_int_eq(w.events[4].kind, BENCH_EV_REENABLE);
    ck_assert_int_eq(w.events[4].at_ms, 9000);
    ck_assert_str_eq(bench_event_kind_name(w.events[4].kind), "reenable");
    j = bench_workload_json(&w);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "infrastructure")->valuestring, "mixed");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "events")), 5);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "cmk"), "policy")->valuestring,
                     "acme-bench-cmk");
    cJSON_Delete(j);
    bench_workload_free(&w);
    /* "infrastructure": "dedicated" makes all of them dedicated */
    ck_assert_int_eq(parse("{\"environments\":{\"count\":4,\"infrastructure\":\"dedicated\"},"
                           "\"flows\":{\"definition\":\"manual-compose.json\"},\"duration\":\"1s\"}",
                           &w, &err),
                     0);
    ck_assert_int_eq(w.dedicated, 4);
    bench_workload_free(&w);
}
END_TEST

START_TEST(test_every_and_soak)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    int rc = parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                   "\"phases\":[{\"duration\":\"4s\"},{\"duration\":\"20s\"}],"
                   "\"soak\":{\"max_rss_growth_kib\":8192,\"max_fd_growth\":4},"
                   "\"events\":[{\"at\":\"5s\",\"every\":\"10s\",\"do\":\"kill-worker\"},"
                   "{\"at\":\"1s\",\"do\":\"firewall\",\"config\":\"x.json\"}]}",
                   &w, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_int_eq(w.soak_rss_kib, 8192);
    ck_assert_int_eq(w.soak_fds, 4);
    /* 5 s, 15 s (25 s is past the 24 s of phases), then sorted with the 1 s one first */
    ck_assert_int_eq(w.nevents, 3);
    ck_assert_int_eq(w.events[0].at_ms, 1000);
    ck_assert_int_eq(w.events[1].at_ms, 5000);
    ck_assert_int_eq(w.events[2].at_ms, 15000);
    ck_assert_int_eq(w.events[2].kind, BENCH_EV_KILL_WORKER);
    bench_workload_free(&w);
    /* no soak: no bounds */
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\"}", &w, &err), 0);
    ck_assert_int_eq(w.soak_rss_kib, -1);
    ck_assert_int_eq(w.soak_fds, -1);
    bench_workload_free(&w);
}
END_TEST

START_TEST(test_thresholds)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    int rc = parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                   "\"duration\":\"1s\",\"thresholds\":{\"runs_s\":500,\"p99_ms\":50.5,\"failed_pct\":1}}",
                   &w, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert(w.min_runs_s == 500 && w.max_p99_ms == 50.5 && w.max_failed_pct == 1);
    bench_workload_free(&w);
    /* none: no bound */
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\"}", &w, &err), 0);
    ck_assert(w.min_runs_s < 0 && w.max_p99_ms < 0 && w.max_failed_pct < 0);
    bench_workload_free(&w);
    /* refusals name the threshold */
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\",\"thresholds\":{\"p95_ms\":5}}", &w, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "thresholds.p95_ms: unknown threshold"));
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\",\"thresholds\":{\"failed_pct\":101}}", &w, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "thresholds.failed_pct must be a number from 0 to 100"));
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\",\"thresholds\":{\"runs_s\":\"fast\"}}", &w, &err), CMK_EINVAL);
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"duration\":\"1s\",\"thresholds\":[1]}", &w, &err), CMK_EINVAL);
}
END_TEST

START_TEST(test_workload_json_echo)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    cJSON *j;
    ck_assert_int_eq(parse("{\"environments\":{\"count\":2},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"phases\":[{\"name\":\"a\",\"duration\":\"2s\"},{\"name\":\"b\",\"requests\":10,\"rate\":\"25%\"}]}",
                           &w, &err),
                     0);
    j = bench_workload_json(&w);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "phases")), 2);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1), "rate_share")->valuedouble, 0.25);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "verify")->valuestring, "all");
    cJSON_Delete(j);
    bench_workload_free(&w);
}
END_TEST

START_TEST(test_fill_compare_and_scale)
{
    bench_workload w;
    cmk_err err = CMK_ERR_INIT;
    cJSON *j, *c;
    const char *base = "{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                       "\"phases\":[{\"name\":\"fresh\",\"duration\":\"10s\",\"rate\":5000},"
                       "{\"name\":\"fill\",\"until_runs\":2000000},"
                       "{\"name\":\"full\",\"duration\":\"10s\",\"rate\":5000}]";
    char text[1024];

    /* the shipped workload: one shared environment, a fill to 2M, the comparison, a sample */
    ck_assert_msg(bench_workload_load(CMK_SOURCE_DIR "/configs/workloads/flat-latency.json", &w, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(w.env_count, 1);
    ck_assert_int_eq(w.dedicated, 0);
    ck_assert_int_eq(w.nphases, 3);
    ck_assert_double_eq(w.phases[0].rate, 5000);
    ck_assert_uint_eq(w.phases[1].until_runs, 2000000);
    ck_assert_double_eq(w.phases[1].rate, 0);
    ck_assert_int_eq(w.phases[1].clients ? w.phases[1].clients : w.clients, 256);
    ck_assert_str_eq(w.cmp_phase, "full");
    ck_assert_str_eq(w.cmp_with, "fresh");
    ck_assert_double_eq(w.cmp_p99_ratio_max, 1.5);
    ck_assert_int_eq(w.verify, 2000);
    j = bench_workload_json(&w);
    c = cJSON_GetObjectItem(j, "compare");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "with")->valuestring, "fresh");
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1), "until_runs")->valuedouble,
                        2000000);
    cJSON_Delete(j);
    /* --scale 0.01 --fill 3000: durations, requests and fills scaled, then the fill set */
    ck_assert_int_eq(bench_workload_scale(&w, 0.01, 0, &err), 0);
    ck_assert_int_eq(w.phases[0].duration_ms, 100);
    ck_assert_uint_eq(w.phases[1].until_runs, 20000);
    ck_assert_int_eq(bench_workload_scale(&w, 1, 3000, &err), 0);
    ck_assert_uint_eq(w.phases[1].until_runs, 3000);
    ck_assert_int_eq(bench_workload_scale(&w, 0, 0, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "--scale"));
    bench_workload_free(&w);
    ck_assert_int_eq(bench_workload_load(CMK_SOURCE_DIR "/configs/workloads/smoke.json", &w, &err), 0);
    ck_assert_int_eq(bench_workload_scale(&w, 1, 3000, &err), CMK_EINVAL); /* nothing to fill */
    ck_assert_ptr_nonnull(strstr(err.msg, "no phase with \"until_runs\""));
    bench_workload_free(&w);

    /* refusals name the field */
    snprintf(text, sizeof text, "%s,\"compare\":{\"phase\":\"full\",\"with\":\"cold\",\"p99_ratio_max\":1.5}}", base);
    ck_assert_int_eq(parse(text, &w, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "compare.with \"cold\" must name two different phases"));
    snprintf(text, sizeof text, "%s,\"compare\":{\"phase\":\"full\",\"with\":\"full\",\"p99_ratio_max\":1.5}}", base);
    ck_assert_int_eq(parse(text, &w, &err), CMK_EINVAL);
    snprintf(text, sizeof text, "%s,\"compare\":{\"phase\":\"full\",\"with\":\"fresh\",\"p99_ratio_max\":0}}", base);
    ck_assert_int_eq(parse(text, &w, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "compare.p99_ratio_max must be a number > 0"));
    snprintf(text, sizeof text, "%s,\"compare\":[1]}", base);
    ck_assert_int_eq(parse(text, &w, &err), CMK_EINVAL);
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"phases\":[{\"name\":\"f\",\"until_runs\":0}]}", &w, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "until_runs must be a number >= 1"));
    ck_assert_int_eq(parse("{\"environments\":{},\"flows\":{\"definition\":\"manual-compose.json\"},"
                           "\"phases\":[{\"name\":\"f\",\"until_runs\":5,\"duration\":\"1s\"}]}", &w, &err),
                     CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "needs one of"));
    /* no compare: no row */
    snprintf(text, sizeof text, "%s}", base);
    ck_assert_int_eq(parse(text, &w, &err), 0);
    ck_assert_str_eq(w.cmp_phase, "");
    bench_workload_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench_workload");
    TCase *tc = tcase_create("workload");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_shipped_workloads_parse);
    tcase_add_test(tc, test_full_workload);
    tcase_add_test(tc, test_defaults_and_single_phase);
    tcase_add_test(tc, test_refusals_name_the_field);
    tcase_add_test(tc, test_workload_json_echo);
    tcase_add_test(tc, test_dedicated_and_events);
    tcase_add_test(tc, test_every_and_soak);
    tcase_add_test(tc, test_thresholds);
    tcase_add_test(tc, test_fill_compare_and_scale);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
