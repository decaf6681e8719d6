/*
 * fw_endpoints_test.c - the simulated customer endpoints and the user-space enforcer
 * (firewall/fw_endpoints.h, fw_httpmsg.h) through a userspace edge (fw_edge.h) on host
 * loopback: allow serves, reject resets, drop never answers, report mode serves and says
 * would_reject, faults (on connections opened before them too), live config swaps and the
 * daemon's request handler.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fw_daemon.h"
#include "fw_edge.h"
#include "fw_httpmsg.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"

static fw_edge *edge; /* a userspace edge on a free port */
static int port;      /* its port */

/* free_port - a port nothing listens on right now */
static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), p;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    p = ntohs(sa.sin_port);
    close(fd);
    return p;
}

/* setup - a userspace edge with legacy-only */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    fw_edge_opts o = { NULL, "userspace", FIREWALLS "legacy-only.json", SIM_TAGS, 0, NULL, NULL };
    o.port = port = free_port();
    edge = fw_edge_new(&o, &err);
    ck_assert_msg(edge != NULL, "%s", err.msg);
}

/* teardown - stop it */
static void teardown(void)
{
    fw_edge_destroy(&edge);
}

/* dial - connect from src to the edge */
static int dial(const char *src)
{
    struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, src, &from.sin_addr);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
    return fd;
}

/* exchange - send a request, read until close; *e gets the errno of a failed send or read.
 * Returns what came back (malloc'd, maybe empty). wait_ms bounds each wait. */
static char *exchange(int fd, const char *req, int wait_ms, int *e, int *timed_out)
{
    char *buf = calloc(1, 65536);
    size_t n = 0;
    *e = 0;
    *timed_out = 0;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        *e = errno; /* the reset came before the request went out */
        return buf;
    }
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;
        if (poll(&p, 1, wait_ms) != 1) {
            *timed_out = 1;
            break;
        }
        r = recv(fd, buf + n, 65535 - n, 0);
        if (r < 0)
            *e = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return buf;
}

/* get - GET /anything from src with Connection: close */
static char *get(const char *src, const char *path, int *e, int *timed_out, int wait_ms)
{
    char req[256];
    int fd = dial(src);
    char *out;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    out = exchange(fd, req, wait_ms, e, timed_out);
    close(fd);
    return out;
}

/* apply - a shipped config through the daemon's handler */
static void apply(const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    char path[512];
    cJSON *b = cJSON_CreateObject(), *reply = NULL;
    snprintf(path, sizeof path, FIREWALLS "%s", name);
    cJSON_AddStringToObject(b, "path", path);
    ck_assert_msg(fw_daemon_request(edge, "firewall.apply", b, &reply, &err) == 0, "%s", err.msg);
    cJSON_Delete(reply);
    cJSON_Delete(b);
}

START_TEST(requests_heads_and_responses)
{
    static const char req[] = "POST /anything/x?a=1&b=two+words HTTP/1.1\r\nHost: h\r\n"
                              "Content-Length: 4\r\nExpect: 100-continue\r\nX-A: 1\r\nX-A: 2\r\n\r\nbody";
    fw_http_req r;
    cmk_err err = CMK_ERR_INIT;
    size_t len = 0;
    char *resp, *echo;
    const char *extra[] = { "X-Test: yes", NULL };

    ck_assert_int_eq(fw_http_parse(req, 20, &r, &err), 1); /* head not complete yet */
    ck_assert_int_eq(fw_http_parse(req, strlen(req), &r, &err), 0);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/anything/x");
    ck_assert_str_eq(r.query, "a=1&b=two+words");
    ck_assert_uint_eq(r.content_length, 4);
    ck_assert_uint_eq(r.head_len, strlen(req) - 4);
    ck_assert(r.keep_alive && r.expect_continue && !r.chunked);
    ck_assert_str_eq(cJSON_GetObjectItem(r.headers, "X-A")->valuestring, "1, 2");
    echo = fw_http_echo(&r, "body", 4, "127.40.1.9", 4242, "127.0.0.1:18080", NULL);
    ck_assert_msg(strstr(echo, "\"origin\":\"127.40.1.9\"") && strstr(echo, "\"b\":\"two words\"") &&
                  strstr(echo, "\"body\":\"body\"") && strstr(echo, "\"peer\":\"127.40.1.9:4242\""), "%s", echo);
    free(echo);
    fw_http_req_clear(&r);
    resp = fw_http_response(200, "application/json", "{}", 2, false, extra, &len);
    ck_assert_str_eq(resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                           "Connection: close\r\nServer: cmksim-customer-endpoint\r\nX-Test: yes\r\n\r\n{}");
    ck_assert_uint_eq(len, strlen(resp));
    free(resp);
    ck_assert_int_eq(fw_http_parse("BAD\r\n\r\n", 7, &r, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_http_parse("GET / HTTP/1.0\r\nContent-Length: 99999999\r\n\r\n", 47, &r, &err),
                     CMK_ELIMIT);
    ck_assert_int_eq(fw_http_parse("GET / HTTP/1.0\r\n\r\n", 18, &r, &err), 0);
    ck_assert(!r.keep_alive);
    fw_http_req_clear(&r);
}
END_TEST

START_TEST(allowed_sources_are_served_with_their_rule)
{
    int e, to;
    char *out = get("127.10.1.9", "/anything?x=1", &e, &to, 5000);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK") && strstr(out, "\"origin\":\"127.10.1.9\"") &&
                  strstr(out, "X-Cmk-Firewall-Rule: 1:logic-apps") &&
                  strstr(out, "X-Cmk-Firewall-Verdict: allow") && strstr(out, "\"enforcer\":\"userspace\""),
                  "%s", out);
    free(out);
    out = get("127.30.1.9", "/status/503", &e, &to, 5000);
    ck_assert_msg(strstr(out, "HTTP/1.1 503") && strstr(out, "{\"status\":503}"), "%s", out);
    free(out);
    out = get("127.10.1.9", "/nothing-here", &e, &to, 5000);
    ck_assert_msg(strstr(out, "HTTP/1.1 404"), "%s", out);
    free(out);
}
END_TEST

START_TEST(rejected_sources_are_reset)
{
    int e, to;
    char *out = get("127.40.1.9", "/anything", &e, &to, 5000);
    ck_assert_int_eq(to, 0);
    ck_assert_msg(e == ECONNRESET && !out[0], "errno %d, got: %s", e, out);
    free(out);
}
END_TEST

START_TEST(dropped_sources_are_never_answered)
{
    int e, to;
    char *out;
    cJSON *st;
    cmk_err err = CMK_ERR_INIT;

    apply("drop-default.json");
    out = get("127.40.1.9", "/anything", &e, &to, 300);
    ck_assert_msg(to == 1 && !out[0], "answered: %s", out);
    free(out);
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.status", NULL, &st, &err), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(st, "mode")->valuestring, "userspace");
    ck_assert_ptr_null(cJSON_GetObjectItem(st, "counters"));
    {
        cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "endpoints"), "decisions"), *it;
        int drops = 0;
        cJSON_ArrayForEach(it, d) {
            if (!strcmp(cJSON_GetObjectItem(it, "verdict")->valuestring, "drop"))
                drops += cJSON_GetObjectItem(it, "count")->valueint;
        }
        ck_assert_int_eq(drops, 1);
    }
    cJSON_Delete(st);
}
END_TEST

START_TEST(report_mode_serves_and_says_would_reject)
{
    int e, to;
    char *out;
    apply("report-mode.json");
    out = get("127.40.1.9", "/anything", &e, &to, 5000);
    ck_assert_msg(strstr(out, "HTTP/1.1 200") && strstr(out, "X-Cmk-Firewall-Verdict: would_reject") &&
                  strstr(out, "X-Cmk-Firewall-Rule: default"), "%s", out);
    free(out);
}
END_TEST

START_TEST(keep_alive_serves_many_requests)
{
    static const char two[] = "GET /anything/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /anything/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    int fd = dial("127.10.1.9"), e, to;
    char *out = exchange(fd, two, 5000, &e, &to), *second;
    close(fd);
    second = strstr(out, "/anything/2");
    ck_assert_msg(strstr(out, "/anything/1") && second && strstr(out, "Connection: keep-alive"), "%s", out);
    free(out);
}
END_TEST

START_TEST(faults_reset_and_clear)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = cJSON_Parse("{\"kind\": \"reset\", \"duration\": \"1m\"}"), *reply = NULL;
    int e, to;
    char *out;

    ck_assert_msg(fw_daemon_request(edge, "firewall.fault", b, &reply, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cJSON_GetObjectItem(reply, "duration_ms")->valueint, 60000);
    cJSON_Delete(reply);
    cJSON_Delete(b);
    out = get("127.10.1.9", "/anything", &e, &to, 5000);
    ck_assert_msg(e == ECONNRESET, "errno %d, got: %s", e, out);
    free(out);
    b = cJSON_Parse("{\"kind\": \"latency\", \"ms\": 20}");
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.fault", b, &reply, &err), 0);
    cJSON_Delete(reply);
    cJSON_Delete(b);
    out = get("127.10.1.9", "/anything", &e, &to, 5000);
    ck_assert_msg(strstr(out, "HTTP/1.1 200"), "%s", out);
    free(out);
    b = cJSON_Parse("{\"kind\": \"none\"}");
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.fault", b, &reply, &err), 0);
    cJSON_Delete(reply);
    cJSON_Delete(b);
    b = cJSON_Parse("{\"kind\": \"meteor\"}");
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.fault", b, &reply, &err), CMK_EINVAL);
    cJSON_Delete(b);
}
END_TEST

/* fault - set a fault through the daemon's handler */
static void fault(const char *body)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = cJSON_Parse(body), *reply = NULL;
    ck_assert_msg(fw_daemon_request(edge, "firewall.fault", b, &reply, &err) == 0, "%s", err.msg);
    cJSON_Delete(reply);
    cJSON_Delete(b);
}

/* one_response - send a keep-alive GET on fd and read one whole response (headers and
 * Content-Length bytes); returns its length, 0 on EOF, -errno on a socket error, -1 if no
 * answer within wait_ms */
static int one_response(int fd, int wait_ms)
{
    static const char req[] = "GET /anything HTTP/1.1\r\nHost: t\r\n\r\n";
    char buf[65536];
    size_t n = 0;
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0)
        return -errno;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        char *end, *cl;
        ssize_t r;
        if (poll(&p, 1, wait_ms) != 1)
            return -1;
        r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r < 0)
            return -errno;
        if (r == 0)
            return 0;
        n += (size_t)r;
        buf[n] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) && (cl = strstr(buf, "Content-Length: ")) &&
            n >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
            return (int)n;
    }
}

START_TEST(faults_hit_connections_opened_before_them)
{
    int fd = dial("127.10.1.9"), rc;
    ck_assert_int_gt(one_response(fd, 5000), 0);
    fault("{\"kind\": \"reset\", \"duration\": \"1m\"}");
    rc = one_response(fd, 5000);
    ck_assert_msg(rc == -ECONNRESET || rc == 0, "a kept-alive connection was answered under a reset fault: %d", rc);
    close(fd);
    fault("{\"kind\": \"none\"}");
    fd = dial("127.10.1.9");
    ck_assert_int_gt(one_response(fd, 5000), 0);
    fault("{\"kind\": \"timeout\", \"duration\": \"1m\"}");
    ck_assert_int_eq(one_response(fd, 300), -1); /* held: no answer, no close */
    close(fd);
    fault("{\"kind\": \"none\"}");
}
END_TEST

START_TEST(bad_applies_keep_the_config_in_force)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = cJSON_Parse("{\"config\": \"{\\n \\\"default\\\": \\\"maybe\\\", \\\"rules\\\": []}\"}");
    cJSON *reply = NULL, *st;
    int e, to;
    char *out;

    ck_assert_int_eq(fw_daemon_request(edge, "firewall.apply", b, &reply, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "firewall.apply:2"), "%s", err.msg);
    cJSON_Delete(b);
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.status", NULL, &st, &err), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "config"), "name")->valuestring,
                     "legacy-only");
    cJSON_Delete(st);
    out = get("127.40.1.9", "/anything", &e, &to, 5000);
    ck_assert_int_eq(e, ECONNRESET);
    free(out);
    /* a config as a JSON object works too */
    b = cJSON_Parse("{\"config\": {\"name\": \"open\", \"default\": \"allow\", \"rules\": []}}");
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.apply", b, &reply, &err), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(reply, "config")->valuestring, "open");
    cJSON_Delete(reply);
    cJSON_Delete(b);
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.nope", NULL, &reply, &err), CMK_EPROTO);
}
END_TEST

START_TEST(bad_options_are_refused)
{
    cmk_err err = CMK_ERR_INIT;
    fw_edge_opts o = { NULL, "sideways", NULL, SIM_TAGS, 18080, NULL, NULL };
    ck_assert_ptr_null(fw_edge_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "firewall.mode"));
    o.mode = "userspace";
    o.port = port; /* taken by the fixture's edge */
    ck_assert_ptr_null(fw_edge_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "firewall.endpoint_port"));
    o.config_path = FIREWALLS "no-such.json";
    ck_assert_ptr_null(fw_edge_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "firewall.config"));
}
END_TEST

/* fw_endpoints_suite - every test of this module */
static Suite *fw_endpoints_suite(void)
{
    Suite *s = suite_create("fw_endpoints");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, requests_heads_and_responses);
    tcase_add_test(tc, allowed_sources_are_served_with_their_rule);
    tcase_add_test(tc, rejected_sources_are_reset);
    tcase_add_test(tc, dropped_sources_are_never_answered);
    tcase_add_test(tc, report_mode_serves_and_says_would_reject);
    tcase_add_test(tc, keep_alive_serves_many_requests);
    tcase_add_test(tc, faults_reset_and_clear);
    tcase_add_test(tc, faults_hit_connections_opened_before_them);
    tcase_add_test(tc, bad_applies_keep_the_config_in_force);
    tcase_add_test(tc, bad_options_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_endpoints_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
