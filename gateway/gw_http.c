/*
 * gw_http.c - libmicrohttpd plumbing of the gateway's HTTP server: routing, request bodies,
 * trigger calls and /metrics (see gw_http.h).
 *
 * Threads: one. libmicrohttpd runs in its epoll mode without threads of its own
 * (MHD_USE_EPOLL, driven by MHD_run) and the same thread, started by gw_http_serve, owns the
 * ingress's ZeroMQ DEALER to the controller (ZeroMQ sockets are not thread-safe). Its loop
 * polls four things at once with zmq_poll: libmicrohttpd's epoll descriptor, the DEALER, the
 * DEALER's disconnection monitor and an eventfd that gw_http_destroy writes to stop it; it waits no longer than libmicrohttpd's next
 * timeout and the oldest call's deadline. So no lock, queue or thread hand-off sits between an
 * HTTP request and its controller call, and a slow controller holds no thread:
 *
 *   request complete -> gw_ingress_start (flow.invoke sent, not awaited) -> connection suspended
 *   reply | timeout | connection lost | gateway stopping -> on_reply: response built -> connection resumed ->
 *   libmicrohttpd calls on_request again -> the response is queued
 *
 * Every suspended connection has exactly one call in flight, and each call ends exactly once
 * (gw_ingress.h), so each is resumed exactly once; at stop the thread ends the calls still in
 * flight (503) before libmicrohttpd is stopped. Connections are bounded by
 * gateway.max_connections and gateway.per_ip_connections, idle ones closed after
 * gateway.connection_timeout, calls in flight by gateway.max_trigger_inflight (429 beyond).
 */
#include "gw_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "tcp_listen.h"
#include "util.h"

#define MAX_TRIGGER_BODY (4 * 1024 * 1024) /* largest trigger request body accepted */
#define MAX_WAIT_MS 1000                   /* longest poll of the HTTP thread */

struct gw_http {
    struct MHD_Daemon *mhd; /* the server */
    int lfd;                /* listening socket (MHD closes it when it stops) */
    char address[64];       /* bound host:port */
    gw_metrics *metrics;    /* counters (borrowed) */
    gw_ingress *ingress;    /* controller calls (borrowed; used by the HTTP thread only) */
    int wake_fd;            /* eventfd: written to stop the thread (-1 none) */
    atomic_int stop;        /* the thread should end */
    cmk_randpool pool;      /* random bytes for client tracking ids (the HTTP thread's) */
    int started;            /* the thread runs */
    pthread_t thread;       /* it */
};

/* Where a request is. */
enum { RC_READING, RC_WAITING, RC_ANSWERED };

/* One request being read, then waiting for the controller, then answered. */
typedef struct {
    char *body;                  /* request body so far */
    size_t len;                  /* its length */
    int too_large;               /* the body passed MAX_TRIGGER_BODY */
    int state;                   /* RC_* */
    gw_http *http;               /* the server */
    struct MHD_Connection *conn; /* the connection (suspended while RC_WAITING) */
    gw_ingress_call *call;       /* the controller call while RC_WAITING */
    struct MHD_Response *resp;   /* the answer, until queued */
    unsigned status;             /* its status */
    char env[128], flow[128];    /* the trigger's */
    char method[32];             /* the request's */
    char creq[48];               /* client tracking id */
    int64_t t0;                  /* cmk_mono_ms at the request's end */
} req_ctx;

/* respond - queue a response with a body and a content type */
static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type,
                               const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* error_response - a JSON error document as a response (NULL when out of memory) */
static struct MHD_Response *error_response(int status, const char *msg)
{
    char *text = gw_ingress_error_body(status, msg);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        text ? strlen(text) : 2, text ? text : (void *)"{}", MHD_RESPMEM_MUST_COPY);
    free(text);
    if (r) {
        MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
        if (status == 429 || status == 503)
            MHD_add_response_header(r, "Retry-After", "1");
    }
    return r;
}

/* respond_error - queue a JSON error document */
static enum MHD_Result respond_error(struct MHD_Connection *c, int status, const char *msg)
{
    struct MHD_Response *r = error_response(status, msg);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* add_kv - MHD iterator: one header or query argument into a JSON object */
static enum MHD_Result add_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    cJSON_AddStringToObject(cls, key, value ? value : "");
    return MHD_YES;
}

/* copy_headers - reply headers {name: value} onto the response, except framing ones */
static void copy_headers(struct MHD_Response *r, const cJSON *headers, int *has_type)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, headers) {
        if (!cJSON_IsString(h) || !strcasecmp(h->string, "Content-Length") ||
            !strcasecmp(h->string, "Transfer-Encoding") || !strcasecmp(h->string, "Connection"))
            continue;
        if (!strcasecmp(h->string, "Content-Type"))
            *has_type = 1;
        MHD_add_response_header(r, h->string, h->valuestring);
    }
}

/* answer_error - a failed call's answer: status, log line, count, JSON error response */
static void answer_error(req_ctx *rc, const cmk_err *err)
{
    int status = gw_ingress_status(err->code);
    cmk_log(CMK_LOG_INFO, rc->env, rc->creq, "ingress.invoke", "flow=%s method=%s status=%d "
            "latency_ms=%lld error=\"%s\"", rc->flow, rc->method, status,
            (long long)(cmk_mono_ms() - rc->t0), err->msg);
    gw_metrics_ingress(rc->http->metrics, status);
    rc->status = (unsigned)status;
    rc->resp = error_response(status, err->msg);
}

/* answer_reply - translate the controller's reply (taken) into the answer: a run answers with
 * its Response action (statusCode, headers, body); a flow without one is accepted (202), as
 * Logic Apps does */
static void answer_reply(req_ctx *rc, cJSON *reply)
{
    cJSON *resp = cJSON_DetachItemFromObjectCaseSensitive(reply, "response");
    char run_id[64], *text = NULL;
    const cJSON *rb;
    int status, has_type = 0;
    struct MHD_Response *r;

    cmk_strlcpy(run_id, cmk_json_str(reply, "run", ""), sizeof run_id);
    if (cJSON_IsObject(resp)) {
        cJSON_Delete(reply);
        reply = resp;
        status = (int)cmk_json_num(reply, "statusCode", 200);
    } else {
        cJSON_Delete(resp);
        status = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(reply, "status"))
                     ? (int)cmk_json_num(reply, "status", 202)
                     : 202;
        if (status == 202)
            cJSON_DeleteItemFromObjectCaseSensitive(reply, "body");
    }
    if (status < 100 || status > 599)
        status = 502;
    rb = cJSON_GetObjectItemCaseSensitive(reply, "body");
    if (cJSON_IsString(rb))
        text = strdup(rb->valuestring);
    else if (rb && !cJSON_IsNull(rb))
        text = cJSON_PrintUnformatted(rb);
    r = MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    free(text);
    if (r) {
        copy_headers(r, cJSON_GetObjectItemCaseSensitive(reply, "headers"), &has_type);
        if (!has_type && rb && !cJSON_IsNull(rb))
            MHD_add_response_header(r, "Content-Type",
                                    cJSON_IsString(rb) ? "text/plain; charset=utf-8"
                                                       : "application/json; charset=utf-8");
        MHD_add_response_header(r, "x-ms-client-tracking-id", rc->creq);
        if (run_id[0]) /* as Logic Apps answers: the run this request started */
            MHD_add_response_header(r, "x-ms-workflow-run-id", run_id);
    }
    cJSON_Delete(reply);
    cmk_log(CMK_LOG_INFO, rc->env, rc->creq, "ingress.invoke", "flow=%s method=%s status=%d "
            "latency_ms=%lld", rc->flow, rc->method, status, (long long)(cmk_mono_ms() - rc->t0));
    gw_metrics_ingress(rc->http->metrics, status);
    rc->status = (unsigned)status;
    rc->resp = r;
}

/* on_reply - gw_ingress_done_fn: the call ended; build the answer and resume the connection
 * (libmicrohttpd then calls on_request again, which queues it) */
static void on_reply(void *arg, cJSON *reply, const cmk_err *err)
{
    req_ctx *rc = arg;
    rc->call = NULL;
    if (reply)
        answer_reply(rc, reply);
    else
        answer_error(rc, err);
    rc->state = RC_ANSWERED;
    MHD_resume_connection(rc->conn);
}

/* queue_answer - queue the answer built for rc (MHD_NO, closing the connection, if none) */
static enum MHD_Result queue_answer(struct MHD_Connection *c, req_ctx *rc)
{
    enum MHD_Result ret;
    if (!rc->resp)
        return MHD_NO;
    ret = MHD_queue_response(c, rc->status, rc->resp);
    MHD_destroy_response(rc->resp);
    rc->resp = NULL;
    return ret;
}

/* next_tracking_id - "ing-<16 hex>", 64 random bits from the pool (one RAND_bytes per id cost a
 * getpid and a DRBG call per request) */
static void next_tracking_id(gw_http *self, char *out, size_t cap)
{
    char hex[17];
    if (cmk_randpool_hex(&self->pool, 8, hex, sizeof hex) < 0) {
        cmk_random_id("ing", out, cap);
        return;
    }
    snprintf(out, cap, "ing-%s", hex);
}

/* trigger - a trigger-URL call: check sig and size, send flow.invoke and suspend the
 * connection until on_reply; a call that cannot start is answered at once */
static enum MHD_Result trigger(gw_http *self, struct MHD_Connection *c, req_ctx *rc)
{
    const char *sig = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sig");
    cJSON *body, *hdrs, *qs;
    cmk_err err = CMK_ERR_INIT;

    rc->t0 = cmk_mono_ms();
    next_tracking_id(self, rc->creq, sizeof rc->creq);
    if (!sig || !*sig) {
        cmk_log(CMK_LOG_INFO, rc->env, rc->creq, "ingress.invoke", "flow=%s method=%s status=401 "
                "error=\"no sig\"", rc->flow, rc->method);
        gw_metrics_ingress(self->metrics, 401);
        return respond_error(c, 401, "The request must be authenticated by the trigger URL's "
                             "shared access signature: the 'sig' query parameter is missing.");
    }
    if (rc->too_large) {
        gw_metrics_ingress(self->metrics, 413);
        return respond_error(c, 413, "The request body is larger than the trigger's limit of "
                             "4194304 bytes.");
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "env", rc->env);
    cJSON_AddStringToObject(body, "flow", rc->flow);
    cJSON_AddStringToObject(body, "sig", sig);
    cJSON_AddStringToObject(body, "method", rc->method);
    hdrs = cJSON_AddObjectToObject(body, "headers");
    qs = cJSON_AddObjectToObject(body, "queries");
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_kv, hdrs);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_kv, qs);
    cJSON_AddStringToObject(body, "body", rc->body ? rc->body : "");
    cJSON_AddStringToObject(body, "client_req", rc->creq);
    free(rc->body); /* copied into the call */
    rc->body = NULL;
    if (gw_ingress_start(self->ingress, body, on_reply, rc, &rc->call, &err) < 0) {
        answer_error(rc, &err);
        rc->state = RC_ANSWERED;
        return queue_answer(c, rc);
    }
    rc->state = RC_WAITING;
    MHD_suspend_connection(c);
    return MHD_YES;
}

/* on_request - libmicrohttpd's access handler: collect the body, then route */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    gw_http *self = cls;
    req_ctx *rc = *con_cls;

    if (!rc) {
        if (!(rc = calloc(1, sizeof *rc)))
            return MHD_NO;
        rc->http = self;
        rc->conn = c;
        *con_cls = rc;
        return MHD_YES;
    }
    if (rc->state == RC_ANSWERED) /* resumed after on_reply */
        return queue_answer(c, rc);
    if (rc->state == RC_WAITING) /* not called while suspended; nothing to do if it were */
        return MHD_YES;
    if (*upload_size) {
        if (rc->len + *upload_size > MAX_TRIGGER_BODY)
            rc->too_large = 1;
        else {
            char *p = realloc(rc->body, rc->len + *upload_size + 1);
            if (!p)
                return MHD_NO;
            memcpy(p + rc->len, upload_data, *upload_size);
            rc->len += *upload_size;
            p[rc->len] = '\0';
            rc->body = p;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        char *text = gw_metrics_render(self->metrics);
        enum MHD_Result ret;
        if (!text)
            return MHD_NO;
        ret = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
        return ret;
    }
    if (strcmp(url, "/health") == 0)
        return respond(c, 200, "application/json", "{\"ok\":true}", 11);
    if (gw_ingress_parse_path(url, rc->env, sizeof rc->env, rc->flow, sizeof rc->flow) == 0) {
        cmk_strlcpy(rc->method, method, sizeof rc->method);
        return trigger(self, c, rc);
    }
    return respond_error(c, 404, "No such path on the gateway: trigger URLs look like "
                         "/workflows/<env>/<flow>/triggers/manual/paths/invoke?...&sig=...; "
                         "metrics are at /metrics.");
}

/* on_completed - free a request's context; a call still in flight (the connection closed by
 * libmicrohttpd itself) is forgotten, never resumed */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_http *self = cls;
    req_ctx *rc = *con_cls;
    if (rc) {
        if (rc->call)
            gw_ingress_cancel(self->ingress, &rc->call);
        if (rc->resp)
            MHD_destroy_response(rc->resp);
        free(rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

/* serve_loop - the HTTP thread: libmicrohttpd, the ingress DEALER and the stop eventfd */
static void *serve_loop(void *arg)
{
    gw_http *self = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    int epfd = info ? info->epoll_fd : -1;
    long wait_ms = 0;

    cmk_log_defer(1); /* ingress.invoke lines leave in one write per wait, as a loop's */
    while (!atomic_load(&self->stop)) {
        zmq_pollitem_t items[4] = { { NULL, epfd, ZMQ_POLLIN, 0 },
                                    { NULL, self->wake_fd, ZMQ_POLLIN, 0 },
                                    { gw_ingress_socket(self->ingress), -1, ZMQ_POLLIN, 0 },
                                    { gw_ingress_monitor(self->ingress), -1, ZMQ_POLLIN, 0 } };
        MHD_UNSIGNED_LONG_LONG mhd_ms;
        int64_t now, next;
        int n = !items[2].socket ? 2 : !items[3].socket ? 3 : 4;

        if (wait_ms)
            cmk_log_flush();
        if (zmq_poll(items, n, wait_ms) < 0 && errno != EINTR) {
            cmk_warn("gateway.http_poll", "error=\"%s\"", zmq_strerror(errno));
            usleep(10000);
        }
        if (n > 2 && (items[2].revents & ZMQ_POLLIN)) /* replies first: they may have come */
            gw_ingress_on_input(self->ingress);        /* just before the connection went */
        if (n > 3 && (items[3].revents & ZMQ_POLLIN))
            gw_ingress_on_monitor(self->ingress);
        now = cmk_mono_ms();
        next = gw_ingress_expire(self->ingress, now);
        MHD_run(self->mhd);
        wait_ms = MAX_WAIT_MS;
        if (next >= 0 && next - (cmk_mono_ms() - now) < wait_ms)
            wait_ms = (long)(next - (cmk_mono_ms() - now));
        if (MHD_get_timeout(self->mhd, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)wait_ms)
            wait_ms = (long)mhd_ms;
        if (wait_ms < 0)
            wait_ms = 0;
    }
    /* stopping: every call still in flight ends (its connection resumed with 503), and the
     * answers get a short chance to leave before libmicrohttpd closes the connections */
    gw_ingress_fail_all(self->ingress, CMK_EUNAVAIL,
                        "the gateway is stopping; the trigger call can be retried when it is back");
    for (int i = 0; i < 10; i++) {
        zmq_pollitem_t item = { NULL, epfd, ZMQ_POLLIN, 0 };
        MHD_run(self->mhd);
        zmq_poll(&item, 1, 10);
    }
    MHD_run(self->mhd);
    cmk_log_defer(0);
    return NULL;
}

/* gw_http_new - listen and start libmicrohttpd with the default limits */
gw_http *gw_http_new(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err)
{
    gw_http_limits lim = { 16, 512, 5 };
    return gw_http_new_limited(addr, metrics, ingress, &lim, err);
}

/* gw_http_listen - bind addr only (nothing served yet): a daemon binds before it confines
 * itself and starts the server's threads after (gw_http_serve) */
gw_http *gw_http_listen(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err)
{
    gw_http *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->metrics = metrics;
    self->ingress = ingress;
    self->wake_fd = -1;
    cmk_randpool_init(&self->pool); /* filled at the first id */
    if ((self->lfd = cmk_tcp_listen(addr, "gateway.http", 128, self->address, sizeof self->address, err)) < 0) {
        free(self);
        return NULL;
    }
    return self;
}

/* gw_http_serve - start libmicrohttpd on the listening socket: a connection limit per source
 * address and in all, and a short idle timeout, so slow clients cost their sender, not other
 * callers */
int gw_http_serve(gw_http *self, const gw_http_limits *limits, cmk_err *err)
{
    int rc;
    self->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
                                 0, NULL, NULL, on_request, self, MHD_OPTION_LISTEN_SOCKET,
                                 self->lfd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, self,
                                 MHD_OPTION_CONNECTION_LIMIT, limits->max,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, limits->timeout_s ? limits->timeout_s : 1u,
                                 MHD_OPTION_END);
    if (!self->mhd)
        return cmk_err_set(err, CMK_EIO, "cannot start the HTTP server on %s", self->address);
    if ((self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        return cmk_err_set(err, CMK_EIO, "cannot make the HTTP thread's eventfd: %s", strerror(errno));
    if ((rc = pthread_create(&self->thread, NULL, serve_loop, self)) != 0)
        return cmk_err_set(err, CMK_EIO, "cannot start the HTTP thread: %s", strerror(rc));
    self->started = 1;
    return 0;
}

/* gw_http_new_limited - listen and serve with explicit limits */
gw_http *gw_http_new_limited(const char *addr, gw_metrics *metrics, gw_ingress *ingress,
                             const gw_http_limits *limits, cmk_err *err)
{
    gw_http *self = gw_http_listen(addr, metrics, ingress, err);
    if (self && gw_http_serve(self, limits, err) < 0)
        gw_http_destroy(&self);
    return self;
}

/* gw_http_destroy - stop the thread (it ends the calls in flight and resumes their
 * connections), then libmicrohttpd */
void gw_http_destroy(gw_http **self_p)
{
    gw_http *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->started) {
        uint64_t one = 1;
        atomic_store(&self->stop, 1);
        if (write(self->wake_fd, &one, sizeof one) < 0) { /* the flag is checked every second */ }
        pthread_join(self->thread, NULL);
    }
    if (self->wake_fd >= 0)
        close(self->wake_fd);
    if (self->mhd)
        MHD_stop_daemon(self->mhd); /* closes the listening socket too */
    else if (self->lfd >= 0)
        close(self->lfd);
    free(self);
    *self_p = NULL;
}

/* gw_http_address - bound address */
const char *gw_http_address(const gw_http *self)
{
    return self->address;
}
