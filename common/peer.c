/*
 * peer.c - the supervised side of the back channel: ready, heartbeat, reconnect.
 */
#include "peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "util.h"

/* A request to the controller awaiting its reply. */
typedef struct peer_call {
    char reqid[CMK_PROTO_MAX_REQID + 1]; /* its request id */
    int64_t deadline;                    /* mono ms */
    cmk_peer_reply_fn fn;                /* who wants the reply */
    void *arg;
    struct peer_call *next;
} peer_call;

struct cmk_peer {
    cmk_server *srv;          /* the daemon */
    cmk_peer_fn fn;           /* request handler */
    void *arg;                /* its argument */
    void *sock;               /* DEALER to controller.back, NULL while waiting to reconnect */
    cmk_keypair kp;           /* our key pair */
    char server_pub[CMK_Z85_KEY_LEN + 1]; /* controller's public key */
    int64_t last_heard;       /* mono ms of the last message from the controller */
    int64_t backoff;          /* next reconnect delay */
    int64_t hb_timer;         /* heartbeat timer id */
    int64_t reconnect_timer;  /* pending reconnect timer id, 0 if none */
    long reconnects;          /* reconnections so far */
    cJSON *info;              /* extra ready/ping fields */
    peer_call *calls;         /* requests awaiting replies */
};

/* fail_calls - every pending call (or only the expired ones) ends with err */
static void fail_calls(cmk_peer *self, int only_expired, int code, const char *why)
{
    int64_t now = cmk_mono_ms();
    peer_call **pp = &self->calls;
    while (*pp) {
        peer_call *c = *pp;
        if (only_expired && c->deadline > now) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        {
            cmk_err err = CMK_ERR_INIT;
            cmk_err_set(&err, code, "%s", why);
            c->fn(self, NULL, &err, c->arg);
        }
        free(c);
    }
}

/* finish_call - a reply for a pending call; 1 if it was one */
static int finish_call(cmk_peer *self, const cmk_msg *msg)
{
    for (peer_call **pp = &self->calls; *pp; pp = &(*pp)->next) {
        peer_call *c = *pp;
        if (strcmp(c->reqid, msg->reqid) != 0)
            continue;
        *pp = c->next;
        {
            cmk_err err = CMK_ERR_INIT;
            if (cmk_msg_error_of(msg, &err) < 0)
                c->fn(self, NULL, &err, c->arg);
            else
                c->fn(self, msg, &err, c->arg);
        }
        free(c);
        return 1;
    }
    return 0;
}

/* cmk_peer_request - send and remember */
int cmk_peer_request(cmk_peer *self, const char *type, const cJSON *body, int64_t timeout_ms,
                     cmk_peer_reply_fn fn, void *arg, cmk_err *err)
{
    cmk_msg *msg = cmk_msg_new(type, NULL);
    peer_call *c = calloc(1, sizeof *c);
    int rc;
    if (!msg || !c) {
        cmk_msg_destroy(&msg);
        free(c);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    if (body)
        cmk_msg_set_body(msg, cJSON_Duplicate(body, 1));
    rc = cmk_peer_send(self, msg, err);
    if (rc == 0) {
        cmk_strlcpy(c->reqid, msg->reqid, sizeof c->reqid);
        c->deadline = cmk_mono_ms() + timeout_ms;
        c->fn = fn;
        c->arg = arg;
        c->next = self->calls;
        self->calls = c;
    } else
        free(c);
    cmk_msg_destroy(&msg);
    return rc;
}

static int peer_connect(cmk_peer *self, cmk_err *err);

long cmk_peer_reconnects(const cmk_peer *self) { return self->reconnects; }

/* cmk_peer_set_info - extra fields */
void cmk_peer_set_info(cmk_peer *self, cJSON *info)
{
    cJSON_Delete(self->info);
    self->info = info;
}

/* cmk_peer_send - send to the controller */
int cmk_peer_send(cmk_peer *self, const cmk_msg *msg, cmk_err *err)
{
    if (!self->sock)
        return cmk_err_set(err, CMK_EUNAVAIL, "not connected to the controller");
    return cmk_msg_send(msg, self->sock, err);
}

/* add_info - identity fields into a body */
static void add_info(cmk_peer *self, cJSON *body)
{
    const cJSON *it;
    cJSON_AddStringToObject(body, "role", cmk_server_role(self->srv));
    cJSON_AddStringToObject(body, "name", cmk_server_name(self->srv));
    cJSON_AddNumberToObject(body, "pid", getpid());
    cJSON_AddNumberToObject(body, "started_ms", (double)cmk_server_started_ms(self->srv));
    cJSON_AddItemToObject(body, "envs", cJSON_Duplicate(cmk_server_envs(self->srv), 1));
    cJSON_AddBoolToObject(body, "shared", cmk_server_shared(self->srv));
    cJSON_ArrayForEach(it, self->info) {
        cJSON_AddItemToObject(body, it->string, cJSON_Duplicate(it, 1));
    }
}

/* send_simple - a message of a type with our info or empty body */
static void send_simple(cmk_peer *self, const char *type, int with_info)
{
    cmk_msg *msg = cmk_msg_new(type, NULL);
    cmk_err err = CMK_ERR_INIT;
    if (!msg)
        return;
    if (with_info)
        add_info(self, msg->body);
    if (cmk_peer_send(self, msg, &err) < 0)
        cmk_debug("peer.send_failed", "type=%s error=\"%s\"", type, err.msg);
    cmk_msg_destroy(&msg);
}

/* drop_socket - close the DEALER */
static void drop_socket(cmk_peer *self)
{
    if (self->sock) {
        int zero = 0;
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->sock);
        zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(self->sock);
        self->sock = NULL;
    }
}

/* on_reconnect - backoff expired */
static int on_reconnect(cmk_loop *loop, int64_t id, void *arg)
{
    cmk_peer *self = arg;
    cmk_err err = CMK_ERR_INIT;
    self->reconnect_timer = 0;
    if (peer_connect(self, &err) < 0)
        cmk_warn("peer.connect_failed", "error=\"%s\"", err.msg);
    return 0;
}

/* schedule_reconnect - drop the socket and reconnect after the backoff */
static void schedule_reconnect(cmk_peer *self, const char *why)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    drop_socket(self);
    fail_calls(self, 0, CMK_EUNAVAIL, "the connection to the controller was lost; try again");
    cmk_warn("peer.reconnect", "reason=\"%s\" delay_ms=%lld", why, (long long)self->backoff);
    if (!self->reconnect_timer)
        self->reconnect_timer =
            cmk_loop_add_timer(cmk_server_loop(self->srv), self->backoff, 0, on_reconnect, self);
    self->backoff = self->backoff * 2 > cfg->reconnect_max ? cfg->reconnect_max : self->backoff * 2;
    self->reconnects++;
}

/* reply_ping - answer a ping */
static void reply_ping(cmk_peer *self, const cmk_msg *req)
{
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_REPLY);
    cmk_err err = CMK_ERR_INIT;
    if (!rep)
        return;
    cJSON_AddBoolToObject(rep->body, "pong", 1);
    add_info(self, rep->body);
    cmk_peer_send(self, rep, &err);
    cmk_msg_destroy(&rep);
}

/* handle - one message from the controller */
static void handle(cmk_peer *self, cmk_msg *msg)
{
    cmk_err err = CMK_ERR_INIT;

    if (strcmp(msg->type, CMK_MSG_HEARTBEAT) == 0)
        return;
    if ((strcmp(msg->type, CMK_MSG_REPLY) == 0 || strcmp(msg->type, CMK_MSG_ERROR) == 0) && finish_call(self, msg))
        return;
    if (strcmp(msg->type, CMK_MSG_DISCONNECT) == 0) {
        /* the controller does not know us (it restarted): register again at once */
        self->backoff = cmk_server_config(self->srv)->reconnect_min;
        send_simple(self, CMK_MSG_READY, 1);
        return;
    }
    if (strcmp(msg->type, CMK_MSG_SHUTDOWN) == 0) {
        cmk_info("peer.shutdown", "from=controller");
        cmk_server_stop(self->srv);
        return;
    }
    if (strcmp(msg->type, CMK_MSG_PING) == 0) {
        reply_ping(self, msg);
        return;
    }
    if (!self->fn) {
        cmk_err_set(&err, CMK_EPROTO, "unknown request '%s' for a %s", msg->type,
                    cmk_server_role(self->srv));
    } else if (self->fn(self, msg, self->arg, &err) == 0)
        return;
    cmk_log(err.code == CMK_ENOENT ? CMK_LOG_DEBUG : CMK_LOG_WARN, NULL, msg->reqid, "request.failed",
            "type=%s error=\"%s\"", msg->type, err.msg);
    {
        cmk_msg *rep = cmk_msg_error(msg, err.code ? err.code : CMK_EINTERNAL, err.msg);
        if (rep) {
            cmk_peer_send(self, rep, NULL);
            cmk_msg_destroy(&rep);
        }
    }
}

/* on_socket - messages from the controller */
static int on_socket(cmk_loop *loop, void *sock, int fd, void *arg)
{
    cmk_peer *self = arg;
    int64_t t0 = cmk_mono_ms();
    /* at most 256 messages or 50 ms per wake-up: the loop's timers (heartbeats) run between
     * batches, however many requests are queued (the socket stays readable for the next poll) */
    for (int i = 0; i < 256 && self->sock == sock && cmk_mono_ms() - t0 < 50; i++) {
        cmk_msg *msg = NULL, *partial = NULL;
        cmk_err err = CMK_ERR_INIT;
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT, &err);

        if (rc == CMK_ETIMEOUT) /* nothing waiting (CMK_RECV_DONTWAIT) */
            break;
        if (rc < 0) {
            cmk_warn("peer.bad_message", "error=\"%s\"", err.msg);
            cmk_msg_destroy(&partial);
            continue;
        }
        self->last_heard = cmk_mono_ms();
        self->backoff = cmk_server_config(self->srv)->reconnect_min;
        handle(self, msg);
        cmk_msg_destroy(&msg);
    }
    return 0;
}

/* on_heartbeat - send a heartbeat; reconnect if the controller went silent */
static int on_heartbeat(cmk_loop *loop, int64_t id, void *arg)
{
    cmk_peer *self = arg;
    const cmk_config *cfg = cmk_server_config(self->srv);

    fail_calls(self, 1, CMK_ETIMEOUT, "the controller did not answer in time");
    if (!self->sock)
        return 0;
    if (cmk_mono_ms() - self->last_heard > cfg->heartbeat_interval * cfg->heartbeat_liveness) {
        schedule_reconnect(self, "controller silent");
        return 0;
    }
    send_simple(self, CMK_MSG_HEARTBEAT, 0);
    return 0;
}

/* peer_connect - new DEALER, CURVE, connect, ready */
static int peer_connect(cmk_peer *self, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    char ep[4200];
    int zero = 0, hwm = 100000;

    self->sock = zmq_socket(cmk_server_zmq(self->srv), ZMQ_DEALER);
    if (!self->sock)
        return cmk_err_set(err, CMK_EIO, "cannot create a socket: %s", zmq_strerror(errno));
    zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (cmk_proto_limit_socket(self->sock, cfg->msg_max_size, err) < 0 ||
        cmk_curve_client(self->sock, &self->kp, self->server_pub, err) < 0)
        return err->code;
    cmk_config_endpoint(cfg, cfg->controller_back, ep, sizeof ep);
    if (zmq_connect(self->sock, ep) != 0)
        return cmk_err_set(err, CMK_EIO, "cannot connect to %s: %s", ep, zmq_strerror(errno));
    cmk_loop_add_socket(cmk_server_loop(self->srv), self->sock, on_socket, self);
    self->last_heard = cmk_mono_ms();
    send_simple(self, CMK_MSG_READY, 1);
    cmk_info("peer.connected", "endpoint=%s", ep);
    return 0;
}

/* cmk_peer_new - keys, connect, ready, heartbeat timer */
cmk_peer *cmk_peer_new(cmk_server *srv, cmk_peer_fn fn, void *arg, cmk_err *err)
{
    cmk_peer *self = calloc(1, sizeof *self);
    const cmk_config *cfg = cmk_server_config(srv);

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->srv = srv;
    self->fn = fn;
    self->arg = arg;
    self->backoff = cfg->reconnect_min;
    if (cmk_keypair_ensure(cfg->run_dir, cmk_server_name(srv), &self->kp, err) < 0 ||
        cmk_public_load(cfg->run_dir, "controller", self->server_pub, err) < 0 ||
        peer_connect(self, err) < 0) {
        cmk_peer_destroy(&self);
        return NULL;
    }
    self->hb_timer = cmk_loop_add_timer(cmk_server_loop(srv), cfg->heartbeat_interval, 1,
                                        on_heartbeat, self);
    return self;
}

/* cmk_peer_destroy - say disconnect, close, wipe keys */
void cmk_peer_destroy(cmk_peer **self_p)
{
    cmk_peer *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->sock)
        send_simple(self, CMK_MSG_DISCONNECT, 0);
    fail_calls(self, 0, CMK_EUNAVAIL, "the process is stopping");
    if (self->hb_timer)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->hb_timer);
    if (self->reconnect_timer)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->reconnect_timer);
    drop_socket(self);
    cmk_keypair_wipe(&self->kp);
    cJSON_Delete(self->info);
    free(self);
    *self_p = NULL;
}
