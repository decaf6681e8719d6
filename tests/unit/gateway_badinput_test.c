/*
 * gateway_badinput_test.c - bad input at the gateway. HTTP requests to its real server
 * (gw_http on 127.0.0.1, spoken to with libcurl): an unknown path gets 404, a trigger call
 * without `sig` 401, a body over 4 MiB 413, and with no controller behind it 503 - each with a
 * JSON error document, and the server keeps serving. `http.request` bodies from workers
 * (gw_route_plan): every malformed field is refused with CMK_EINVAL naming the field, and no
 * job is made; an empty environment id (found by fuzzing) is refused too.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "gateway/gw_egress.h"
#include "gateway/gw_http.h"
#include "gateway/gw_ingress.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_route.h"
#include "gateway/gw_tags.h"

#define TAGS CMK_SOURCE_DIR "/configs/service-tags.json"

static struct {
    gw_metrics *metrics; /* the server's counters */
    gw_ingress *ingress; /* a pool for a cluster that is not there */
    gw_http *http;       /* the server */
} fx;

/* buf - a growing response body */
typedef struct {
    char *data; /* NUL-terminated */
    size_t len; /* bytes */
} buf;

/* on_data - libcurl write callback */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    char *q = realloc(b->data, b->len + size * n + 1);
    ck_assert_ptr_nonnull(q);
    memcpy(q + b->len, p, size * n);
    b->len += size * n;
    q[b->len] = '\0';
    b->data = q;
    return size * n;
}

/* setup - a gateway HTTP server with no controller behind it */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    fx.metrics = gw_metrics_new();
    fx.ingress = gw_ingress_new("/nonexistent-cmk-run-dir", 300, 16);
    fx.http = gw_http_new("127.0.0.1:0", fx.metrics, fx.ingress, &err);
    ck_assert_msg(fx.http != NULL, "%s", err.msg);
}

/* teardown - stop it */
static void teardown(void)
{
    gw_http_destroy(&fx.http);
    gw_ingress_destroy(&fx.ingress);
    gw_metrics_destroy(&fx.metrics);
}

/* request - method path [body of n bytes]; returns the status, *out the JSON body (or NULL) */
static long request(const char *method, const char *path, const char *body, size_t n, cJSON **out)
{
    CURL *c = curl_easy_init();
    char url[512];
    buf b = { NULL, 0 };
    long status = 0;

    snprintf(url, sizeof url, "http://%s%s", gw_http_address(fx.http), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    *out = b.data ? cJSON_Parse(b.data) : NULL;
    free(b.data);
    return status;
}

/* error_code - error.code of a JSON error document ("" if it is not one) */
static const char *error_code(const cJSON *j)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "error"), "code"));
    return s ? s : "";
}

/* error_message - error.message ("" if none) */
static const char *error_message(const cJSON *j)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "error"), "message"));
    return s ? s : "";
}

#define TRIGGER "/workflows/env-1/flow-1/triggers/manual/paths/invoke?api-version=2016-06-01"

START_TEST(bad_http_requests_get_a_status_and_a_json_error)
{
    cJSON *j = NULL;
    char *big;

    ck_assert_int_eq(request("GET", "/workflows/../etc/passwd", NULL, 0, &j), 404);
    ck_assert_str_eq(error_code(j), "WorkflowNotFound");
    ck_assert_ptr_nonnull(strstr(error_message(j), "No such path on the gateway"));
    cJSON_Delete(j);

    ck_assert_int_eq(request("POST", TRIGGER, "{}", 2, &j), 401);
    ck_assert_str_eq(error_code(j), "DirectApiAuthorizationRequired");
    ck_assert_str_eq(error_message(j),
                     "The request must be authenticated by the trigger URL's shared access "
                     "signature: the 'sig' query parameter is missing.");
    cJSON_Delete(j);

    big = malloc(4 * 1024 * 1024 + 10);
    memset(big, 'x', 4 * 1024 * 1024 + 10);
    ck_assert_int_eq(request("POST", TRIGGER "&sig=abc", big, 4 * 1024 * 1024 + 10, &j), 413);
    ck_assert_str_eq(error_message(j), "The request body is larger than the trigger's limit of "
                                       "4194304 bytes.");
    cJSON_Delete(j);
    free(big);

    /* well-formed, but nothing behind the gateway: unavailable, not a hang or a crash */
    ck_assert_int_eq(request("POST", TRIGGER "&sig=abc", "{\"a\":1}", 7, &j), 503);
    ck_assert_str_eq(error_code(j), "ServiceUnavailable");
    cJSON_Delete(j);

    /* and it still serves */
    ck_assert_int_eq(request("GET", "/health", NULL, 0, &j), 200);
    cJSON_Delete(j);
}
END_TEST

START_TEST(bad_http_request_bodies_are_refused_naming_the_field)
{
    static const struct { const char *body, *want; } cases[] = {
        { "{\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://127.0.0.1/\"}",
          "http.request needs \"env\"" },
        { "{\"env\":\"\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://127.0.0.1/\"}",
          "http.request: \"env\" must not be empty" },
        { "{\"env\":7,\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://127.0.0.1/\"}",
          "http.request: \"env\" must be a string" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"file:///etc/passwd\"}",
          "\"uri\" must be an absolute http:// or https:// URI" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/ b\"}",
          "\"uri\" contains a space or a control character" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/\",\"method\":\"GE T\"}",
          "is not an HTTP method" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/\",\"headers\":{\"Bad Name\":\"v\"}}",
          "is not a valid header name" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/\",\"body\":{\"a\":1}}",
          "\"body\" must be a string" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/\",\"timeout_ms\":0}",
          "\"timeout_ms\" must be a number from 1 to" },
        { "{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":\"unitedstates\",\"uri\":\"http://a/\",\"timeout_ms\":1e300}",
          "\"timeout_ms\" must be a number from 1 to" },
    };
    cmk_err err = CMK_ERR_INIT;
    gw_tags *tags = gw_tags_load(TAGS, &err);

    ck_assert_msg(tags != NULL, "%s", err.msg);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *b = cJSON_Parse(cases[i].body);
        gw_job *job = (gw_job *)1;
        cmk_err e = CMK_ERR_INIT;
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(gw_route_plan(tags, b, 1000, &job, &e), CMK_EINVAL);
        ck_assert_ptr_null(job);
        ck_assert_msg(strstr(e.msg, cases[i].want), "case %zu: %s", i, e.msg);
        cJSON_Delete(b);
    }
    {
        /* the control: the same body with good fields is planned */
        cJSON *b = cJSON_Parse("{\"env\":\"e\",\"infrastructure\":\"dedicated\",\"region\":"
                               "\"unitedstates\",\"uri\":\"http://127.0.0.1/\"}");
        gw_job *job = NULL;
        ck_assert_msg(gw_route_plan(tags, b, 1000, &job, &err) == 0, "%s", err.msg);
        ck_assert_ptr_nonnull(job);
        gw_job_destroy(&job);
        cJSON_Delete(b);
    }
    gw_tags_destroy(&tags);
}
END_TEST

/* gateway_badinput_suite - every test of this file */
static Suite *gateway_badinput_suite(void)
{
    Suite *s = suite_create("gateway_badinput");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_http_requests_get_a_status_and_a_json_error);
    tcase_add_test(tc, bad_http_request_bodies_are_refused_naming_the_field);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(gateway_badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
