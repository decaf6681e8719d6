/*
 * metrics_test.c - the metrics registry (families, series, atomic counting from many threads,
 * histograms, label escaping, process metrics), its HTTP endpoint (port file, the port kept when
 * a process binds again) and the file_sd targets and scrape config it writes.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "metrics.h"
#include "metrics_http.h"
#include "util.h"

/* has_line - text holds exactly this line */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

START_TEST(test_counters_gauges_labels)
{
    cmk_metrics_reset();
    cmk_family *f = cmk_metrics_family("t_runs_total", "Runs.", CMK_METRIC_COUNTER, "status,env", NULL, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_eq(cmk_metrics_family("t_runs_total", "other", CMK_METRIC_GAUGE, NULL, NULL, 0), f);
    cmk_metric *ok = cmk_family_get2(f, "Succeeded", "e1");
    ck_assert_ptr_eq(cmk_family_get2(f, "Succeeded", "e1"), ok);
    ck_assert_ptr_ne(cmk_family_get2(f, "Failed", "e1"), ok);
    cmk_metric_inc(ok);
    cmk_metric_add(ok, 41);
    ck_assert_int_eq(cmk_metric_value(ok), 42);
    cmk_metric *g = cmk_metrics_gauge("t_inflight", "In flight.");
    cmk_metric_set(g, 7);
    cmk_metric_add(g, -2);
    cmk_metric_inc(cmk_family_get2(f, "we\"ird\\", "new\nline"));
    cmk_metric_inc(NULL); /* NULL series are ignored */
    ck_assert_ptr_null(cmk_metrics_family("bad name", "", CMK_METRIC_COUNTER, NULL, NULL, 0));
    ck_assert_ptr_null(cmk_metrics_family("t_x", "", CMK_METRIC_COUNTER, "a,b-c", NULL, 0));

    char *text = cmk_metrics_render();
    ck_assert_ptr_nonnull(text);
    ck_assert(has_line(text, "# TYPE t_runs_total counter"));
    ck_assert(has_line(text, "t_runs_total{status=\"Succeeded\",env=\"e1\"} 42"));
    ck_assert(has_line(text, "t_runs_total{status=\"Failed\",env=\"e1\"} 0"));
    ck_assert(has_line(text, "t_runs_total{status=\"we\\\"ird\\\\\",env=\"new\\nline\"} 1"));
    ck_assert(has_line(text, "# TYPE t_inflight gauge"));
    ck_assert(has_line(text, "t_inflight 5"));
    free(text);

    cmk_family *z = cmk_metrics_family("t_state", "", CMK_METRIC_GAUGE, "state", NULL, 0);
    cmk_metric_set(cmk_family_get1(z, "Ready"), 3);
    cmk_family_zero(z);
    ck_assert_int_eq(cmk_metric_value(cmk_family_get1(z, "Ready")), 0);
}
END_TEST

START_TEST(test_histogram_cumulative)
{
    static const double b[] = { 0.01, 0.1, 1 };
    cmk_metrics_reset();
    cmk_metric *h = cmk_metrics_histogram("t_seconds", "Latency.", b, 3);
    cmk_metric_observe(h, 0.005);
    cmk_metric_observe(h, 0.01); /* on a bound: counted in it (le) */
    cmk_metric_observe(h, 0.5);
    cmk_metric_observe(h, 7);
    char *text = cmk_metrics_render();
    ck_assert(has_line(text, "# TYPE t_seconds histogram"));
    ck_assert(has_line(text, "t_seconds_bucket{le=\"0.01\"} 2"));
    ck_assert(has_line(text, "t_seconds_bucket{le=\"0.1\"} 2"));
    ck_assert(has_line(text, "t_seconds_bucket{le=\"1\"} 3"));
    ck_assert(has_line(text, "t_seconds_bucket{le=\"+Inf\"} 4"));
    ck_assert(has_line(text, "t_seconds_sum 7.515000"));
    ck_assert(has_line(text, "t_seconds_count 4"));
    free(text);
}
END_TEST

static cmk_metric *shared_counter;
static cmk_metric *shared_hist;

/* hammer - count from a thread */
static void *hammer(void *arg)
{
    for (int i = 0; i < 100000; i++) {
        cmk_metric_inc(shared_counter);
        cmk_metric_observe(shared_hist, 0.002);
    }
    return arg;
}

START_TEST(test_threads_lose_nothing)
{
    static const double b[] = { 0.001, 0.01 };
    pthread_t t[4];
    cmk_metrics_reset();
    shared_counter = cmk_metrics_counter("t_total", "");
    shared_hist = cmk_metrics_histogram("t_h", "", b, 2);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++) {
        char *text = cmk_metrics_render(); /* rendering meanwhile is safe */
        free(text);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(cmk_metric_value(shared_counter), 400000);
    ck_assert_int_eq(cmk_metric_value(shared_hist), 400000);
}
END_TEST

START_TEST(test_process_metrics)
{
    cmk_metrics_reset();
    cmk_metrics_process_init();
    cmk_metrics_set_identity("worker-shared", "worker");
    char *text = cmk_metrics_render();
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_cpu_seconds_total "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_resident_memory_bytes "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_open_fds "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_max_fds "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_start_time_seconds "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_threads "));
    ck_assert(has_line(text, "cmk_process_info{process=\"worker-shared\",role=\"worker\"} 1"));
    /* open fds: one more after opening a file */
    long before = atol(strstr(text, "\nprocess_open_fds ") + 18);
    free(text);
    FILE *f = fopen("/dev/null", "r");
    text = cmk_metrics_render();
    ck_assert_int_eq(atol(strstr(text, "\nprocess_open_fds ") + 18), before + 1);
    free(text);
    fclose(f);
}
END_TEST

/* sink - collect a curl body */
static size_t sink(char *p, size_t size, size_t n, void *arg)
{
    FILE *f = arg;
    return fwrite(p, size, n, f);
}

/* request - method url into a malloc'd string; returns the HTTP status */
static long request(const char *method, const char *url, char **body)
{
    size_t len = 0;
    FILE *f = open_memstream(body, &len);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    fclose(f);
    return status;
}

START_TEST(test_http_port_kept_and_served)
{
    char dir[] = "/tmp/cmk-metrics-XXXXXX", addr[64], again[64], url[128], *body = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    cmk_metrics_reset();
    cmk_metric_add(cmk_metrics_counter("t_served_total", "Served."), 3);

    cmk_metrics_http *h = cmk_metrics_http_bind(dir, "worker-shared", &err);
    ck_assert_msg(h != NULL, "%s", err.msg);
    ck_assert_int_eq(cmk_metrics_endpoint_read(dir, "worker-shared", addr, sizeof addr), 0);
    ck_assert_str_eq(addr, cmk_metrics_http_address(h));
    ck_assert_int_eq(strncmp(addr, "127.0.0.1:", 10), 0);
    ck_assert_int_eq(cmk_metrics_http_start(h, &err), 0);
    snprintf(url, sizeof url, "http://%s/metrics", addr);
    ck_assert_int_eq(request("GET", url, &body), 200);
    ck_assert(has_line(body, "t_served_total 3"));
    free(body);
    snprintf(url, sizeof url, "http://%s/other", addr);
    ck_assert_int_eq(request("GET", url, &body), 404);
    ck_assert_ptr_nonnull(strstr(body, "/metrics"));
    free(body);
    ck_assert_int_eq(request("DELETE", url, &body), 405);
    free(body);
    /* a second live instance of the same name does not take over the port file */
    cmk_metrics_set_identity("worker-shared", "worker");
    ck_assert_ptr_null(cmk_metrics_http_bind(dir, "worker-shared", &err));
    ck_assert_int_eq(err.code, CMK_EEXIST);
    ck_assert_int_eq(cmk_metrics_endpoint_read(dir, "worker-shared", again, sizeof again), 0);
    ck_assert_str_eq(again, addr);
    cmk_metrics_http_destroy(&h);
    ck_assert_ptr_null(h);

    /* a restart binds the recorded port again */
    h = cmk_metrics_http_bind(dir, "worker-shared", &err);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(cmk_metrics_http_address(h), addr);
    /* a second process of another name gets its own port */
    cmk_metrics_http *h2 = cmk_metrics_http_bind(dir, "gateway", &err);
    ck_assert_ptr_nonnull(h2);
    cmk_metrics_endpoint_read(dir, "gateway", again, sizeof again);
    ck_assert_str_ne(again, addr);
    /* a name that cannot be a file */
    ck_assert_ptr_null(cmk_metrics_http_bind(dir, "../evil", &err));

    /* targets.json lists processes that have an endpoint, scrape config reads it */
    cJSON *procs = cJSON_Parse("[{\"name\":\"worker-shared\",\"role\":\"worker\"},"
                               "{\"name\":\"gateway\",\"role\":\"gateway\"},"
                               "{\"name\":\"worker-gone\",\"role\":\"worker\"}]");
    ck_assert_int_eq(cmk_metrics_write_targets(dir, procs, &err), 0);
    cJSON_Delete(procs);
    char path[256], *text = NULL, yml[300];
    snprintf(path, sizeof path, "%s/metrics/targets.json", dir);
    ck_assert_int_eq(cmk_file_read(path, &text, NULL, &err), 0);
    cJSON *t = cJSON_Parse(text);
    ck_assert_int_eq(cJSON_GetArraySize(t), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "targets"), 0)->valuestring, addr);
    ck_assert_str_eq(cmk_json_str(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 1), "labels"), "process", ""), "gateway");
    cJSON_Delete(t);
    free(text);
    ck_assert_int_eq(cmk_metrics_write_scrape_config(dir, 2, yml, sizeof yml, &err), 0);
    ck_assert_int_eq(cmk_file_read(yml, &text, NULL, &err), 0);
    ck_assert_ptr_nonnull(strstr(text, "scrape_interval: 2s"));
    ck_assert_ptr_nonnull(strstr(text, "/metrics/targets.json"));
    free(text);

    cmk_metrics_http_destroy(&h);
    cmk_metrics_http_destroy(&h2);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_counters_gauges_labels);
    tcase_add_test(tc, test_histogram_cumulative);
    tcase_add_test(tc, test_threads_lose_nothing);
    tcase_add_test(tc, test_process_metrics);
    tcase_add_test(tc, test_http_port_kept_and_served);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
