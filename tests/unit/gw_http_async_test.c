/*
 * gw_http_async_test.c - the gateway's asynchronous trigger ingress (gateway/gw_http.c,
 * gateway/gw_ingress.c) against a stand-in controller: a real CURVE ROUTER on the front-door
 * endpoint of a temporary run dir, run by a thread of this test, that answers, holds or never
 * answers the gateway's flow.invoke calls. HTTP is spoken with libcurl on 127.0.0.1.
 *
 * Rule GW-ASYNC (docs/RULES.md): calls in flight are bounded (gateway.max_trigger_inflight;
 * one more is answered 429 at once, and the others complete); a call the controller does not
 * answer ends at the per-call timeout with 504 and its connection is resumed (a late reply is
 * dropped, the next call gets its own); a lost connection to the controller ends the calls in
 * flight with 503 at once; stopping the server answers the calls in flight 503.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zmq.h>

#include "clock.h"
#include "keys.h"
#include "proto.h"
#include "util.h"
#include "gateway/gw_http.h"
#include "gateway/gw_ingress.h"
#include "gateway/gw_metrics.h"

#define TRIGGER "/workflows/env-1/flow-1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abc"
#define HELD_MAX 8

/* What the stand-in controller does with a call. */
enum { FAKE_ANSWER, FAKE_HOLD, FAKE_SILENT };

static struct {
    char run[64];           /* temporary run dir */
    void *zmq;              /* the stand-in's context */
    void *router;           /* its front-door ROUTER (owned by its thread) */
    pthread_t thread;       /* the stand-in */
    atomic_int stop;        /* end the stand-in */
    atomic_int mode;        /* FAKE_* */
    atomic_int release;     /* answer the held calls now */
    atomic_int received;    /* flow.invoke calls received */
    atomic_int drop;        /* close the ROUTER now (the controller goes away) */
    cmk_msg *held[HELD_MAX]; /* held or unanswered calls (the stand-in's thread only) */
    int n_held;
    gw_metrics *metrics;    /* the server's counters */
    gw_ingress *ingress;    /* its calls */
    gw_http *http;          /* the server */
} fx;

/* answer - reply to a flow.invoke as a run with a Response action: 200 echoing the body */
static void answer(cmk_msg *req)
{
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_REPLY);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(rep->body, "run", "run-fake");
    cJSON_AddNumberToObject(resp, "statusCode", 200);
    cJSON_AddStringToObject(resp, "body", cmk_json_str(req->body, "body", ""));
    cJSON_AddItemToObject(rep->body, "response", resp);
    ck_assert_int_eq(cmk_msg_send(rep, fx.router, NULL), 0);
    cmk_msg_destroy(&rep);
}

/* fake_controller - the stand-in's thread */
static void *fake_controller(void *arg)
{
    while (!atomic_load(&fx.stop)) {
        zmq_pollitem_t item = { fx.router, 0, ZMQ_POLLIN, 0 };
        cmk_msg *msg = NULL, *partial = NULL;
        if (atomic_load(&fx.drop) && fx.router) {
            zmq_close(fx.router);
            fx.router = NULL;
        }
        if (!fx.router) {
            usleep(10000);
            continue;
        }
        if (atomic_load(&fx.release)) {
            for (int i = 0; i < fx.n_held; i++) {
                answer(fx.held[i]);
                cmk_msg_destroy(&fx.held[i]);
            }
            fx.n_held = 0;
            atomic_store(&fx.release, 0);
        }
        if (zmq_poll(&item, 1, 10) <= 0)
            continue;
        if (cmk_msg_recv(fx.router, &msg, &partial, NULL) < 0) {
            cmk_msg_destroy(&partial);
            continue;
        }
        ck_assert_str_eq(msg->type, "flow.invoke");
        ck_assert_str_eq(cmk_json_str(msg->body, "env", ""), "env-1");
        ck_assert_str_eq(cmk_json_str(msg->body, "sig", ""), "abc");
        if (atomic_load(&fx.mode) == FAKE_ANSWER) {
            answer(msg);
            cmk_msg_destroy(&msg);
        } else if (fx.n_held < HELD_MAX) {
            fx.held[fx.n_held++] = msg;
        } else {
            cmk_msg_destroy(&msg);
        }
        atomic_fetch_add(&fx.received, 1);
    }
    for (int i = 0; i < fx.n_held; i++)
        cmk_msg_destroy(&fx.held[i]);
    fx.n_held = 0;
    return NULL;
}

/* setup - a run dir with the controller's and the gateway's keys, the stand-in on its front
 * door, and the gateway's HTTP server: at most 2 calls in flight, 1.5 s per call */
static void setup(void)
{
    cmk_keypair ckp, gkp;
    cmk_err err = CMK_ERR_INIT;
    char path[128], ep[160];
    FILE *f;
    int zero = 0;

    memset(&fx, 0, sizeof fx);
    snprintf(fx.run, sizeof fx.run, "/tmp/gwasync.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx.run));
    ck_assert_msg(cmk_keypair_ensure(fx.run, "controller", &ckp, &err) == 0, "%s", err.msg);
    ck_assert_msg(cmk_keypair_ensure(fx.run, "gateway", &gkp, &err) == 0, "%s", err.msg);
    cmk_keypair_wipe(&gkp);
    snprintf(path, sizeof path, "%s/config.json", fx.run);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs("{}\n", f);
    fclose(f);
    fx.zmq = zmq_ctx_new();
    fx.router = zmq_socket(fx.zmq, ZMQ_ROUTER);
    zmq_setsockopt(fx.router, ZMQ_LINGER, &zero, sizeof zero);
    ck_assert_msg(cmk_curve_server(fx.router, &ckp, &err) == 0, "%s", err.msg);
    cmk_keypair_wipe(&ckp);
    snprintf(ep, sizeof ep, "ipc://%s/controller-front.sock", fx.run);
    ck_assert_int_eq(zmq_bind(fx.router, ep), 0);
    ck_assert_int_eq(pthread_create(&fx.thread, NULL, fake_controller, NULL), 0);
    fx.metrics = gw_metrics_new();
    fx.ingress = gw_ingress_new(fx.run, 1500, 2);
    fx.http = gw_http_new("127.0.0.1:0", fx.metrics, fx.ingress, &err);
    ck_assert_msg(fx.http != NULL, "%s", err.msg);
}

/* teardown - stop the server, then the stand-in; remove the run dir */
static void teardown(void)
{
    char cmd[128];
    gw_http_destroy(&fx.http);
    gw_ingress_destroy(&fx.ingress);
    gw_metrics_destroy(&fx.metrics);
    atomic_store(&fx.stop, 1);
    pthread_join(fx.thread, NULL);
    if (fx.router)
        zmq_close(fx.router);
    zmq_ctx_term(fx.zmq);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.run);
    ck_assert_int_eq(system(cmd), 0);
}

/* One HTTP call. */
typedef struct {
    CURL *curl;  /* its handle */
    char *data;  /* response body, NUL-terminated */
    size_t len;  /* bytes */
    long status; /* HTTP status, once done */
    int done;    /* finished (status 0: the transfer failed) */
} call;

/* on_data - libcurl write callback */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    call *c = arg;
    char *q = realloc(c->data, c->len + size * n + 1);
    ck_assert_ptr_nonnull(q);
    memcpy(q + c->len, p, size * n);
    c->len += size * n;
    q[c->len] = '\0';
    c->data = q;
    return size * n;
}

/* call_init - a POST of body to the trigger URL */
static void call_init(call *c, const char *body)
{
    char url[512];
    memset(c, 0, sizeof *c);
    snprintf(url, sizeof url, "http://%s%s", gw_http_address(fx.http), TRIGGER);
    c->curl = curl_easy_init();
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->curl, CURLOPT_PRIVATE, c);
}

/* call_free - release a call */
static void call_free(call *c)
{
    curl_easy_cleanup(c->curl);
    free(c->data);
}

/* call_now - one call, waited for; returns the status */
static long call_now(call *c, const char *body)
{
    call_init(c, body);
    ck_assert_int_eq(curl_easy_perform(c->curl), CURLE_OK);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
    c->done = 1;
    return c->status;
}

/* drive - run the multi handle until cond() holds (or every transfer is done when cond is
 * NULL), for at most 15 s; returns whether it held */
static int drive(CURLM *m, int (*cond)(void))
{
    int64_t end = cmk_mono_ms() + 15000;
    while (cmk_mono_ms() < end) {
        int running = 0, left;
        CURLMsg *msg;
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left))) {
            call *c = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &c->status);
            c->done = 1;
        }
        if (cond ? cond() : running == 0)
            return 1;
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    return 0;
}

/* two_received / one_received - the stand-in has that many calls */
static int two_received(void) { return atomic_load(&fx.received) >= 2; }
static int one_received(void) { return atomic_load(&fx.received) >= 1; }

/* error_field - error.<name> of a JSON error document ("" if it is not one) */
static const char *error_field(const char *text, const char *name, char *out, size_t n)
{
    cJSON *j = cJSON_Parse(text ? text : "");
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "error"), name));
    snprintf(out, n, "%s", s ? s : "");
    cJSON_Delete(j);
    return out;
}

START_TEST(calls_in_flight_are_capped_and_one_more_gets_429)
{
    CURLM *m = curl_multi_init();
    call a, b, c, d;
    char code[64], message[512];

    atomic_store(&fx.mode, FAKE_HOLD);
    call_init(&a, "first");
    call_init(&b, "second");
    curl_multi_add_handle(m, a.curl);
    curl_multi_add_handle(m, b.curl);
    ck_assert_msg(drive(m, two_received), "the two calls did not reach the controller");
    ck_assert_int_eq(gw_ingress_max_inflight(fx.ingress), 2);

    /* both held by the controller: a third is refused at once, not queued */
    ck_assert_int_eq(call_now(&c, "third"), 429);
    ck_assert_str_eq(error_field(c.data, "code", code, sizeof code), "TooManyRequests");
    ck_assert_msg(strstr(error_field(c.data, "message", message, sizeof message),
                         "gateway.max_trigger_inflight"), "%s", message);
    ck_assert_int_eq(atomic_load(&fx.received), 2);
    call_free(&c);

    /* the two complete with their own answers once the controller replies */
    atomic_store(&fx.release, 1);
    ck_assert(drive(m, NULL));
    ck_assert_int_eq(a.status, 200);
    ck_assert_int_eq(b.status, 200);
    ck_assert_str_eq(a.data, "first");
    ck_assert_str_eq(b.data, "second");

    /* and the cap is free again */
    atomic_store(&fx.mode, FAKE_ANSWER);
    ck_assert_int_eq(call_now(&d, "fourth"), 200);
    ck_assert_str_eq(d.data, "fourth");
    call_free(&d);
    curl_multi_remove_handle(m, a.curl);
    curl_multi_remove_handle(m, b.curl);
    call_free(&a);
    call_free(&b);
    curl_multi_cleanup(m);
}
END_TEST

START_TEST(an_unanswered_call_times_out_with_504_and_the_server_goes_on)
{
    call a, b;
    char code[64], message[512];

    atomic_store(&fx.mode, FAKE_SILENT);
    ck_assert_int_eq(call_now(&a, "lost"), 504);
    ck_assert_str_eq(error_field(a.data, "code", code, sizeof code), "GatewayTimeout");
    ck_assert_msg(strstr(error_field(a.data, "message", message, sizeof message),
                         "no answer from the controller within 1500 ms"), "%s", message);
    ck_assert_int_eq(gw_ingress_inflight(fx.ingress), 0);
    call_free(&a);

    /* the late reply to the timed-out call is dropped: the next call gets its own answer */
    atomic_store(&fx.mode, FAKE_ANSWER);
    atomic_store(&fx.release, 1);
    ck_assert_int_eq(call_now(&b, "next"), 200);
    ck_assert_str_eq(b.data, "next");
    call_free(&b);
}
END_TEST

START_TEST(stopping_the_server_answers_calls_in_flight_503)
{
    CURLM *m = curl_multi_init();
    call a;
    char code[64], message[512];

    atomic_store(&fx.mode, FAKE_SILENT);
    call_init(&a, "pending");
    curl_multi_add_handle(m, a.curl);
    ck_assert_msg(drive(m, one_received), "the call did not reach the controller");
    gw_http_destroy(&fx.http); /* while the call is in flight */
    ck_assert_int_eq(gw_ingress_inflight(fx.ingress), 0);
    ck_assert(drive(m, NULL));
    ck_assert_int_eq(a.status, 503);
    ck_assert_str_eq(error_field(a.data, "code", code, sizeof code), "ServiceUnavailable");
    ck_assert_msg(strstr(error_field(a.data, "message", message, sizeof message),
                         "the gateway is stopping"), "%s", message);
    curl_multi_remove_handle(m, a.curl);
    call_free(&a);
    curl_multi_cleanup(m);
}
END_TEST

START_TEST(a_lost_controller_ends_calls_in_flight_503)
{
    CURLM *m = curl_multi_init();
    call a;
    char code[64], message[512];

    atomic_store(&fx.mode, FAKE_SILENT);
    call_init(&a, "orphan");
    curl_multi_add_handle(m, a.curl);
    ck_assert_msg(drive(m, one_received), "the call did not reach the controller");
    atomic_store(&fx.drop, 1); /* its connection closes with the call in flight */
    ck_assert(drive(m, NULL));
    ck_assert_int_eq(a.status, 503); /* not 504: it did not wait for its timeout */
    ck_assert_str_eq(error_field(a.data, "code", code, sizeof code), "ServiceUnavailable");
    ck_assert_msg(strstr(error_field(a.data, "message", message, sizeof message),
                         "the connection to the controller was lost"), "%s", message);
    ck_assert_int_eq(gw_ingress_inflight(fx.ingress), 0);
    curl_multi_remove_handle(m, a.curl);
    call_free(&a);
    curl_multi_cleanup(m);
}
END_TEST

/* gw_http_async_suite - every test of this file */
static Suite *gw_http_async_suite(void)
{
    Suite *s = suite_create("gw_http_async");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, calls_in_flight_are_capped_and_one_more_gets_429);
    tcase_add_test(tc, an_unanswered_call_times_out_with_504_and_the_server_goes_on);
    tcase_add_test(tc, a_lost_controller_ends_calls_in_flight_503);
    tcase_add_test(tc, stopping_the_server_answers_calls_in_flight_503);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(gw_http_async_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
