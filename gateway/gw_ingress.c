/*
 * gw_ingress.c - trigger paths, error statuses and the asynchronous front-door calls (see
 * gw_ingress.h): one DEALER (a cmk_client made at the first call, with the gateway's key), the
 * calls in flight in a hash map by request id and in a list in the order they were sent,
 * which is also the order of their deadlines (one timeout for all, a monotonic clock), so
 * expiry looks at the head only. A socket monitor on the DEALER reports a lost connection to
 * the controller: the replies of the calls in flight can no longer arrive (a reconnected
 * DEALER has another routing id), so they end at once with EUNAVAIL instead of at their
 * timeout.
 */
#include "gw_ingress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <zmq.h>

#include "client.h"
#include "clock.h"
#include "hmap.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "util.h"

/* One call in flight. */
struct gw_ingress_call {
    char reqid[CMK_PROTO_MAX_REQID + 1]; /* the request's id (the map's key) */
    int64_t deadline;                    /* cmk_mono_ms when it times out */
    gw_ingress_done_fn fn;               /* told the outcome */
    void *arg;                           /* fn's argument */
    gw_ingress_call *prev, *next;        /* in sending (= deadline) order */
};

struct gw_ingress {
    char run_dir[4096];       /* the cluster */
    char key_path[4200];      /* <run>/keys/gateway.key */
    int64_t timeout_ms;       /* per call */
    int max_inflight;         /* cap on calls in flight */
    cmk_client *client;       /* the DEALER to the front door (NULL until the first call) */
    void *monitor;            /* PAIR receiving the DEALER's disconnections (with client) */
    cmk_hmap *calls;          /* request id -> gw_ingress_call */
    gw_ingress_call *head;    /* oldest call in flight */
    gw_ingress_call *tail;    /* newest */
    int n;                    /* calls in flight */
    uint32_t prefix;          /* random per process: request ids are gi<prefix>-<seq> */
    uint64_t seq;             /* calls sent */
};

/* segment - copy one path segment of [A-Za-z0-9._-] into out; returns its end or NULL */
static const char *segment(const char *p, char *out, size_t n)
{
    size_t k = 0;
    for (; *p && *p != '/'; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || k + 1 >= n)
            return NULL;
        out[k++] = c;
    }
    out[k] = '\0';
    return k && strcmp(out, ".") && strcmp(out, "..") ? p : NULL;
}

/* gw_ingress_parse_path - /workflows/<env>/<flow>/triggers/manual/paths/invoke */
int gw_ingress_parse_path(const char *path, char *env, size_t env_n, char *flow, size_t flow_n)
{
    static const char head[] = "/workflows/", tail[] = "/triggers/manual/paths/invoke";
    const char *p;

    if (!path || strncmp(path, head, sizeof head - 1) != 0)
        return CMK_ENOENT;
    p = segment(path + sizeof head - 1, env, env_n);
    if (!p || *p != '/')
        return CMK_ENOENT;
    p = segment(p + 1, flow, flow_n);
    if (!p || strcmp(p, tail) != 0)
        return CMK_ENOENT;
    return 0;
}

/* gw_ingress_status - error code to HTTP status */
int gw_ingress_status(int code)
{
    switch (code) {
    case CMK_EPERM: return 401;
    case CMK_ENOENT: return 404;
    case CMK_EUNAVAIL: return 503;
    case CMK_ETIMEOUT: return 504;
    case CMK_EBUSY: return 429;
    default: return 400;
    }
}

/* gw_ingress_error_name - status to an error code word */
const char *gw_ingress_error_name(int status)
{
    switch (status) {
    case 401: return "DirectApiAuthorizationRequired";
    case 404: return "WorkflowNotFound";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return status >= 500 ? "InternalServerError" : "BadRequest";
    }
}

/* gw_ingress_error_body - the JSON error document */
char *gw_ingress_error_body(int status, const char *message)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    char *text;
    cJSON_AddStringToObject(e, "code", gw_ingress_error_name(status));
    cJSON_AddStringToObject(e, "message", message ? message : "");
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

/* gw_ingress_new - no client yet, no call in flight */
gw_ingress *gw_ingress_new(const char *run_dir, int64_t timeout_ms, int max_inflight)
{
    gw_ingress *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->calls = cmk_hmap_new())) {
        free(self);
        return NULL;
    }
    cmk_strlcpy(self->run_dir, run_dir, sizeof self->run_dir);
    snprintf(self->key_path, sizeof self->key_path, "%s/keys/gateway.key", run_dir);
    self->timeout_ms = timeout_ms;
    self->max_inflight = max_inflight < 1 ? 1 : max_inflight;
    if (RAND_bytes((unsigned char *)&self->prefix, sizeof self->prefix) != 1)
        self->prefix = (uint32_t)cmk_mono_ms();
    return self;
}

/* unlink_call - take a call out of the list and the map, and free it */
static void unlink_call(gw_ingress *self, gw_ingress_call *c)
{
    cmk_hmap_remove(self->calls, c->reqid);
    if (c->prev)
        c->prev->next = c->next;
    else
        self->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        self->tail = c->prev;
    self->n--;
    free(c);
}

/* end_call - unlink a call, then tell its caller (who may start another call meanwhile) */
static void end_call(gw_ingress *self, gw_ingress_call *c, cJSON *reply, const cmk_err *err)
{
    gw_ingress_done_fn fn = c->fn;
    void *arg = c->arg;
    unlink_call(self, c);
    fn(arg, reply, err);
}

/* close_client - the monitor (before the client's context is terminated), then the client */
static void close_client(gw_ingress *self)
{
    if (self->monitor) {
        zmq_socket_monitor(cmk_client_socket(self->client), NULL, 0);
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
    cmk_client_destroy(&self->client);
}

/* watch_disconnects - a PAIR fed by a monitor of the DEALER's disconnections (best effort:
 * without it calls still end at their timeout) */
static void watch_disconnects(gw_ingress *self)
{
    char ep[64];
    int zero = 0;
    void *sock = cmk_client_socket(self->client);
    snprintf(ep, sizeof ep, "inproc://gw-ingress-monitor-%p", (void *)self);
    if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_DISCONNECTED) != 0)
        return;
    if (!(self->monitor = zmq_socket(cmk_client_zmq(self->client), ZMQ_PAIR)))
        return;
    zmq_setsockopt(self->monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(self->monitor, ep) != 0) {
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
}

/* gw_ingress_destroy - drop the calls, close the client */
void gw_ingress_destroy(gw_ingress **self_p)
{
    gw_ingress *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    while (self->head)
        unlink_call(self, self->head);
    cmk_hmap_destroy(&self->calls);
    close_client(self);
    free(self);
    *self_p = NULL;
}

/* connect_client - the front-door client, made at the first call (and again after a failure) */
static int connect_client(gw_ingress *self, cmk_err *err)
{
    cmk_err why = CMK_ERR_INIT;
    int zero = 0;
    if (self->client)
        return 0;
    if (!(self->client = cmk_client_new(self->run_dir, self->key_path, &why)))
        return cmk_err_set(err, CMK_EUNAVAIL, "the gateway cannot reach the controller: %s", why.msg);
    /* never block the HTTP thread: a send that cannot be queued fails at once */
    zmq_setsockopt(cmk_client_socket(self->client), ZMQ_SNDTIMEO, &zero, sizeof zero);
    watch_disconnects(self);
    return 0;
}

/* gw_ingress_start - send one call */
int gw_ingress_start(gw_ingress *self, cJSON *body, gw_ingress_done_fn fn, void *arg,
                     gw_ingress_call **out, cmk_err *err)
{
    char reqid[CMK_PROTO_MAX_REQID + 1];
    gw_ingress_call *c = NULL;
    cmk_msg *msg = NULL;
    int rc = 0;

    if (out)
        *out = NULL;
    if (self->n >= self->max_inflight)
        rc = cmk_err_set(err, CMK_EBUSY,
                         "the gateway is busy: %d trigger calls are in flight to the controller "
                         "(gateway.max_trigger_inflight); the call can be retried later", self->n);
    if (rc == 0)
        rc = connect_client(self, err);
    snprintf(reqid, sizeof reqid, "gi%08x-%llu", (unsigned)self->prefix,
             (unsigned long long)++self->seq);
    if (rc == 0 && (!(c = calloc(1, sizeof *c)) || !(msg = cmk_msg_new(CMK_T_FLOW_INVOKE, reqid))))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (rc < 0) {
        free(c);
        cJSON_Delete(body);
        return rc;
    }
    cmk_msg_set_body(msg, body);
    if ((rc = cmk_msg_send(msg, cmk_client_socket(self->client), err)) < 0) {
        char what[CMK_ERR_MSG_MAX];
        snprintf(what, sizeof what, "%s", err ? err->msg : "");
        cmk_msg_destroy(&msg);
        free(c);
        if (rc == CMK_EBUSY) /* nothing was queued: no connection, or its queue is full */
            return cmk_err_set(err, CMK_EUNAVAIL, "the gateway cannot reach the controller: "
                               "no connection to its front door can take the call (%s)", what);
        return cmk_err_set(err, CMK_EUNAVAIL, "the gateway cannot reach the controller: %s", what);
    }
    cmk_msg_destroy(&msg);
    memcpy(c->reqid, reqid, sizeof reqid);
    c->deadline = cmk_mono_ms() + self->timeout_ms;
    c->fn = fn;
    c->arg = arg;
    if (cmk_hmap_put(self->calls, c->reqid, c) < 0) {
        free(c); /* sent, but its reply will be dropped as late */
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    c->prev = self->tail;
    if (self->tail)
        self->tail->next = c;
    else
        self->head = c;
    self->tail = c;
    self->n++;
    if (out)
        *out = c;
    return 0;
}

/* gw_ingress_cancel - forget a call */
void gw_ingress_cancel(gw_ingress *self, gw_ingress_call **call_p)
{
    if (!call_p || !*call_p)
        return;
    unlink_call(self, *call_p);
    *call_p = NULL;
}

/* gw_ingress_socket - the DEALER, once made */
void *gw_ingress_socket(gw_ingress *self)
{
    return self->client ? cmk_client_socket(self->client) : NULL;
}

/* gw_ingress_on_input - every reply waiting: match, end the call; unknown ids are late
 * replies to calls that timed out or were cancelled */
void gw_ingress_on_input(gw_ingress *self)
{
    void *sock = gw_ingress_socket(self);
    for (int i = 0; sock && i < 4096; i++) {
        cmk_msg *msg = NULL, *partial = NULL;
        cmk_err err = CMK_ERR_INIT;
        gw_ingress_call *c;
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT, &err);

        if (rc == CMK_ETIMEOUT) /* nothing more waiting */
            break;
        if (rc < 0) {
            c = partial ? cmk_hmap_get(self->calls, partial->reqid) : NULL;
            cmk_msg_destroy(&partial);
            if (c)
                end_call(self, c, NULL, &err);
            continue;
        }
        if ((c = cmk_hmap_get(self->calls, msg->reqid))) {
            if (cmk_msg_error_of(msg, &err) != 0)
                end_call(self, c, NULL, &err);
            else {
                cJSON *body = msg->body;
                msg->body = NULL;
                end_call(self, c, body, NULL);
            }
        }
        cmk_msg_destroy(&msg);
    }
}

/* gw_ingress_monitor - the PAIR of disconnection events (NULL when none) */
void *gw_ingress_monitor(gw_ingress *self)
{
    return self->monitor;
}

/* gw_ingress_on_monitor - drain the events (two frames each); a disconnection ends every call
 * in flight */
void gw_ingress_on_monitor(gw_ingress *self)
{
    int lost = 0;
    for (int i = 0; self->monitor && i < 64; i++) {
        zmq_msg_t part;
        int more = 1;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            break;
        }
        if (zmq_msg_size(&part) >= 2) {
            uint16_t event;
            memcpy(&event, zmq_msg_data(&part), sizeof event);
            lost |= event == ZMQ_EVENT_DISCONNECTED;
        }
        while (more && zmq_msg_more(&part)) { /* the endpoint frame */
            zmq_msg_close(&part);
            zmq_msg_init(&part);
            more = zmq_msg_recv(&part, self->monitor, ZMQ_DONTWAIT) >= 0;
        }
        zmq_msg_close(&part);
    }
    if (lost && self->n) {
        cmk_warn("ingress.controller_lost", "calls=%d (ended at once: their replies cannot arrive)", self->n);
        gw_ingress_fail_all(self, CMK_EUNAVAIL, "the connection to the controller was lost while "
                            "the trigger call was in flight; the run may or may not have started");
    }
}

/* gw_ingress_expire - time out the oldest calls */
int64_t gw_ingress_expire(gw_ingress *self, int64_t now_ms)
{
    while (self->head && self->head->deadline <= now_ms) {
        cmk_err err = CMK_ERR_INIT;
        cmk_err_set(&err, CMK_ETIMEOUT, "no answer from the controller within %lld ms "
                    "(request.timeout); the run may or may not have started",
                    (long long)self->timeout_ms);
        end_call(self, self->head, NULL, &err);
    }
    return self->head ? self->head->deadline - now_ms : -1;
}

/* gw_ingress_fail_all - end every call */
void gw_ingress_fail_all(gw_ingress *self, int code, const char *message)
{
    while (self->head) {
        cmk_err err = CMK_ERR_INIT;
        cmk_err_set(&err, code, "%s", message);
        end_call(self, self->head, NULL, &err);
    }
}

/* gw_ingress_inflight - calls in flight */
int gw_ingress_inflight(const gw_ingress *self)
{
    return self->n;
}

/* gw_ingress_max_inflight - the cap */
int gw_ingress_max_inflight(const gw_ingress *self)
{
    return self->max_inflight;
}
