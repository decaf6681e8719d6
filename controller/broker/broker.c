/*
 * broker.c - front and back ROUTERs, peer registry, request forwarding; on the back channel
 * the rules of broker.h's "Trust" paragraph (who may answer, register, and send what).
 */
#include "broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "authz.h"
#include "clock.h"
#include "hmap.h"
#include "ctl_metrics.h"
#include "keys.h"
#include "log.h"
#include "op_fields.h"
#include "ops.h"
#include "poison.h"
#include "util.h"


/* A registered peer. */
typedef struct {
    char name[64];                          /* CURVE identity name, e.g. worker-shared */
    char role[16];                          /* worker, gateway, firewall */
    int pid;                                /* its pid, from ready */
    uint8_t routing[CMK_PROTO_MAX_ROUTING]; /* back ROUTER identity */
    size_t routing_len;
    int64_t last_heard;                     /* mono ms */
    int used;                               /* slot in use */
} broker_peer;

/* A request forwarded (or waiting to be forwarded) to a peer. */
typedef struct forward {
    char id[CMK_PROTO_MAX_REQID + 1]; /* request id on the back channel: 128 random bits, hex */
    char peer[64];                    /* peer name */
    char type[CMK_PROTO_MAX_TYPE + 1];
    char *text;                       /* the body as sent: encoded once, kept to resend after a peer restart */
    size_t text_len;
    int64_t deadline;                 /* mono ms */
    int sent;                         /* sent to the current incarnation of the peer */
    uint8_t routing[CMK_PROTO_MAX_ROUTING]; /* ROUTER id it was sent to: the only one whose reply counts */
    size_t routing_len;
    int deaths;                       /* incarnations of the peer that died with it in flight */
    int raw;                          /* the callback takes a reply's body as text (reply->raw) */
    broker_reply_fn fn;
    void *arg;
    struct forward *next, *prev;
} forward;

struct broker {
    cmk_server *srv;
    void *front, *back;        /* ROUTER sockets */
    const broker_op_fn *handlers; /* by CMK_OP_<ID> */
    void *ops_ctx;                /* their context */
    broker_authz_fn authz;     /* who may call what; NULL lets everything through */
    void *authz_arg;
    broker_peer_fn peer_fn;    /* peer come/go hook */
    void *peer_arg;
    broker_peer *peers;        /* registry */
    size_t npeers;
    forward *forwards;         /* pending forwards, newest first */
    cmk_hmap *forward_ids;     /* forward id -> forward, for replies */
    broker_child_fn child_fn;  /* whom the supervisor started */
    broker_role_fn role_fn;    /* the role of a key */
    void *role_arg;
    void *child_arg;
    poison_memory *poisons;    /* requests that stopped their peer twice */
    struct inflight {
        char peer[64];         /* peer name */
        int n;                 /* forwards to it now */
    } *inflight;               /* per-peer counts (request.max_inflight bounds them) */
    size_t ninflight;          /* entries used */
    int64_t hb_timer;
    ctl_metrics *metrics;      /* front requests counted and timed */
    cmk_randpool ids;          /* random bytes for forward ids, drawn 16 at a time */
};

static broker_peer *peer_by_name(const broker *self, const char *name)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers[i].used && strcmp(self->peers[i].name, name) == 0)
            return &self->peers[i];
    return NULL;
}

static broker_peer *peer_by_routing(const broker *self, const uint8_t *id, size_t len)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers[i].used && self->peers[i].routing_len == len &&
            memcmp(self->peers[i].routing, id, len) == 0)
            return &self->peers[i];
    return NULL;
}

/* routing_hex - a ROUTER routing id as hex for logs (truncated to fit) */
static const char *routing_hex(const uint8_t *id, size_t len, char *buf, size_t cap)
{
    if (len > (cap - 1) / 2)
        len = (cap - 1) / 2;
    return len ? cmk_hex_encode(id, len, buf, cap) : strcpy(buf, "-");
}

/* peer_role - a role that registers on the back channel (authz.c's roles with the PEER class) */
static int peer_role(const char *role)
{
    return authz_role_allows(role, AUTHZ_PEER);
}

/* role_may_send - may a registered peer of role send type on the back channel: the protocol's
 * own messages (heartbeat, disconnect, reply, error) and the operation table's BACK-door rows
 * whose class its role holds (ready: PEER, every peer; dek.get: DATAKEY, workers;
 * flow.child-run and conn.use: RELAY, workers). Nothing
 * else; the authorization matrix still decides the request itself (dek.get: which keys) */
static int role_may_send(const char *role, const char *type)
{
    const cmk_op *op;
    if (strcmp(type, CMK_MSG_REPLY) == 0 || strcmp(type, CMK_MSG_HEARTBEAT) == 0 ||
        strcmp(type, CMK_MSG_ERROR) == 0 || strcmp(type, CMK_MSG_DISCONNECT) == 0)
        return 1;
    op = cmk_op_find(type);
    return op && op->door == AUTHZ_BACK && authz_role_allows(role, op->cls);
}

/* send_to_peer - address msg to a peer and send on back */
static int send_to_peer(broker *self, const broker_peer *p, cmk_msg *msg, cmk_err *err)
{
    cmk_msg_set_routing(msg, p->routing, p->routing_len);
    return cmk_msg_send(msg, self->back, err);
}

/* send_forward - put one pending forward on the wire */
static void send_forward(broker *self, forward *f, const broker_peer *p)
{
    cmk_msg msg; /* the head only: the body is the forward's text */
    cmk_err err = CMK_ERR_INIT;

    msg.nbins = 0;
    msg.body = NULL;
    msg.raw = NULL;
    cmk_strlcpy(msg.type, f->type, sizeof msg.type);
    cmk_strlcpy(msg.reqid, f->id, sizeof msg.reqid);
    cmk_msg_set_routing(&msg, p->routing, p->routing_len);
    if (cmk_msg_send_text(&msg, f->text, f->text_len, self->back, &err) == 0) {
        f->sent = 1;
        memcpy(f->routing, p->routing, p->routing_len);
        f->routing_len = p->routing_len;
    } else
        cmk_warn("broker.forward_failed", "peer=%s type=%s error=\"%s\"", p->name, f->type, err.msg);
}

/* inflight_of - the in-flight counter of a peer (created at 0; NULL when out of memory) */
static int *inflight_of(broker *self, const char *peer)
{
    struct inflight *n;

    for (size_t i = 0; i < self->ninflight; i++)
        if (strcmp(self->inflight[i].peer, peer) == 0)
            return &self->inflight[i].n;
    if (!(n = realloc(self->inflight, (self->ninflight + 1) * sizeof *n)))
        return NULL;
    self->inflight = n;
    cmk_strlcpy(n[self->ninflight].peer, peer, sizeof n[self->ninflight].peer);
    n[self->ninflight].n = 0;
    return &n[self->ninflight++].n;
}

/* finish_forward - unlink f, call back, free */
static void finish_forward(broker *self, forward *f, const cmk_msg *reply, const cmk_err *err)
{
    int *n = inflight_of(self, f->peer);
    if (n && *n > 0)
        (*n)--;
    if (f->prev)
        f->prev->next = f->next;
    else
        self->forwards = f->next;
    if (f->next)
        f->next->prev = f->prev;
    cmk_hmap_remove(self->forward_ids, f->id);
    f->fn(f->arg, reply, err);
    free(f->text);
    free(f);
}

/* requeue_forwards - the incarnation of peer `name` that had them is gone: what was in flight
 * waits for the next one. died: it stopped (expired, replaced by a new process) rather than
 * said goodbye; a request it had in flight the second time fails instead of being sent again
 * (no poison pill: one request cannot make a restart loop). */
static void requeue_forwards(broker *self, const char *name, int died)
{
    for (forward *f = self->forwards, *next; f; f = next) {
        next = f->next;
        if (strcmp(f->peer, name) != 0 || !f->sent)
            continue;
        f->sent = 0;
        if (!died || ++f->deaths < 2) {
            if (died)
                cmk_log(CMK_LOG_WARN, NULL, f->id, "forward.resend", "peer=%s type=%s reason=\"the peer stopped with it in flight; sent once more\"",
                        name, f->type);
            continue;
        }
        {
            cmk_err err = CMK_ERR_INIT;
            cmk_log(CMK_LOG_WARN, NULL, f->id, "forward.poisoned", "peer=%s type=%s deaths=%d action=fail",
                    name, f->type, f->deaths);
            poison_remember(self->poisons, f->peer, f->type, f->text);
            cmk_err_set(&err, CMK_EUNAVAIL,
                        "the worker stopped while handling this request (%s stopped twice with this '%s' "
                        "in flight); it is not sent again - see %s.log",
                        name, f->type, name);
            finish_forward(self, f, NULL, &err);
        }
    }
}

/* peer_gone - forget a peer; its in-flight requests wait for its return */
static void peer_gone(broker *self, broker_peer *p, const char *why)
{
    char name[64];
    int pid = p->pid;
    cmk_strlcpy(name, p->name, sizeof name);
    cmk_warn("peer.gone", "name=%s pid=%d reason=\"%s\"", name, pid, why);
    p->used = 0;
    requeue_forwards(self, name, strcmp(why, "disconnected") != 0);
    if (self->peer_fn)
        self->peer_fn(self->peer_arg, name, 0, pid);
}

/* on_ready - register a peer */
static void on_ready(broker *self, const cmk_msg *msg)
{
    const char *name = cmk_json_str(msg->body, "name", "");
    int pid = (int)cmk_json_num(msg->body, "pid", 0);
    char role[16];
    broker_peer *p;

    if (!*name || strcmp(name, msg->user) != 0) {
        cmk_warn("peer.refused", "claimed=%s identity=%s reason=\"name in ready is not the key's name\"",
                 name, msg->user[0] ? msg->user : "-");
        return;
    }
    cmk_strlcpy(role, cmk_json_str(msg->body, "role", ""), sizeof role);
    if (self->role_fn && self->role_fn(self->role_arg, name, role, sizeof role) == 0 &&
        strcmp(role, cmk_json_str(msg->body, "role", "")) != 0)
        /* registered with its key's role: that decides what it may send */
        cmk_warn("peer.role_mismatch", "name=%s claimed=%s key_role=%s", name, cmk_json_str(msg->body, "role", "-"),
                 role);
    if (!peer_role(role)) {
        cmk_warn("peer.refused", "identity=%s role=%s reason=\"no such peer role\"", name, role);
        return;
    }
    p = peer_by_name(self, name);
    if (p && (p->pid != pid || p->routing_len != msg->routing_len ||
              memcmp(p->routing, msg->routing, msg->routing_len) != 0)) {
        /* a second registration of a registered name: a restart, a reconnect, or a second
         * process holding a copy of the key (one live connection per identity) */
        const char *why = NULL;
        int child = self->child_fn ? self->child_fn(self->child_arg, name) : -1;
        int64_t silent = cmk_mono_ms() - p->last_heard;
        int64_t alive_ms = cmk_server_config(self->srv)->heartbeat_interval * 3 / 2;

        if (silent > alive_ms)
            why = "the registered one is silent";
        else if (child > 0 && pid == child && p->pid != child)
            why = "the supervisor restarted it";
        else if (child == 0)
            why = "the supervisor reaped the registered one";
        if (!why) {
            char old_r[2 * 32 + 1], new_r[2 * 32 + 1];
            cmk_warn("peer.duplicate_refused",
                     "name=%s registered_pid=%d registered_routing=%s claimed_pid=%d routing=%s heard_ms_ago=%lld "
                     "supervisor_pid=%d reason=\"identity already has a live connection\"",
                     name, p->pid, routing_hex(p->routing, p->routing_len, old_r, sizeof old_r), pid,
                     routing_hex(msg->routing, msg->routing_len, new_r, sizeof new_r), (long long)silent, child);
            return;
        }
        cmk_info("peer.replaced", "name=%s old_pid=%d pid=%d reason=\"%s\"", name, p->pid, pid, why);
        /* what was in flight to the old one goes to the new one; a different pid means the
         * old process stopped with it (counted against a poison pill) */
        requeue_forwards(self, name, p->pid != pid);
        p = peer_by_name(self, name); /* requeue_forwards' callbacks may have changed the registry */
    }
    if (!p) {
        for (size_t i = 0; i < self->npeers && !p; i++)
            if (!self->peers[i].used)
                p = &self->peers[i];
        if (!p) {
            broker_peer *np = realloc(self->peers, (self->npeers + 8) * sizeof *np);
            if (!np)
                return;
            memset(np + self->npeers, 0, 8 * sizeof *np);
            self->peers = np;
            p = &self->peers[self->npeers];
            self->npeers += 8;
        }
    }
    memset(p, 0, sizeof *p);
    p->used = 1;
    cmk_strlcpy(p->name, name, sizeof p->name);
    cmk_strlcpy(p->role, role, sizeof p->role);
    p->pid = pid;
    memcpy(p->routing, msg->routing, msg->routing_len);
    p->routing_len = msg->routing_len;
    p->last_heard = cmk_mono_ms();
    cmk_info("peer.ready", "name=%s role=%s pid=%d", p->name, p->role, p->pid);
    if (self->peer_fn)
        self->peer_fn(self->peer_arg, p->name, 1, p->pid);
    /* requests that waited for this peer go out now */
    for (forward *f = self->forwards; f; f = f->next)
        if (!f->sent && strcmp(f->peer, p->name) == 0)
            send_forward(self, f, p);
}

/* broker_op_limits - a request within its operation's limits: its body at most max_body bytes,
 * no binary frames (requests carry none; only replies do) */
static int broker_op_limits(const cmk_op *op, const cmk_msg *msg, cmk_err *err)
{
    if (msg->body_len > op->max_body)
        return cmk_err_set(err, CMK_EINVAL, "the body of '%s' is %zu bytes; at most %zu are accepted",
                           op->type, msg->body_len, op->max_body);
    if (msg->nbins > 0)
        return cmk_err_set(err, CMK_EINVAL, "'%s' takes no binary frames; this one has %d", op->type,
                           msg->nbins);
    return 0;
}

/* on_back - messages from peers */
static int on_back(cmk_loop *loop, void *sock, int fd, void *arg)
{
    broker *self = arg;
    for (int i = 0; i < 1024; i++) {
        cmk_msg *msg = NULL, *partial = NULL;
        cmk_err err = CMK_ERR_INIT;
        broker_peer *p;
        /* a reply's body stays text until its forward is known: most are passed on unread */
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT | CMK_RECV_RAW_REPLY, &err);

        if (rc == CMK_ETIMEOUT) /* nothing waiting (CMK_RECV_DONTWAIT) */
            break;
        if (rc < 0) {
            cmk_warn("back.bad_message", "error=\"%s\"", err.msg);
            cmk_msg_destroy(&partial);
            continue;
        }
        if (strcmp(msg->type, CMK_MSG_READY) == 0) {
            if (cmk_op_fields_check(cmk_op_find(msg->type), msg->body, &err) < 0)
                cmk_warn("peer.refused", "identity=%s reason=\"%s\"", msg->user[0] ? msg->user : "-", err.msg);
            else if (self->authz && self->authz(self->authz_arg, msg, 1, &err) < 0)
                cmk_warn("peer.refused", "identity=%s reason=\"%s\"", msg->user[0] ? msg->user : "-", err.msg);
            else
                on_ready(self, msg);
            cmk_msg_destroy(&msg);
            continue;
        }
        p = peer_by_routing(self, msg->routing, msg->routing_len);
        if (!p) {
            /* not registered (we restarted, or it expired): tell it to register again */
            cmk_msg *d = cmk_msg_reply(msg, CMK_MSG_DISCONNECT);
            if (d && strcmp(msg->type, CMK_MSG_DISCONNECT) != 0)
                cmk_msg_send(d, self->back, NULL);
            cmk_msg_destroy(&d);
            cmk_msg_destroy(&msg);
            continue;
        }
        if (!role_may_send(p->role, msg->type)) {
            /* each role sends only its own types (role_may_send) */
            cmk_err rerr = CMK_ERR_INIT;
            /* the matrix words (and audits) the refusal when it refuses too */
            if (!self->authz || self->authz(self->authz_arg, msg, 1, &rerr) == 0)
                cmk_err_set(&rerr, CMK_EPERM, "a %s may not send '%s' on the back channel (docs/SECURITY.md, "
                            "\"Between processes\")", p->role, msg->type);
            cmk_log(CMK_LOG_WARN, NULL, msg->reqid, "back.type_refused", "peer=%s role=%s pid=%d type=%s",
                    p->name, p->role, p->pid, msg->type);
            broker_reply_back(self, cmk_msg_error(msg, rerr.code, rerr.msg));
            cmk_msg_destroy(&msg);
            continue;
        }
        p->last_heard = cmk_mono_ms();
        if (strcmp(msg->type, CMK_MSG_HEARTBEAT) == 0) {
            /* nothing else to do */
        } else if (strcmp(msg->type, CMK_MSG_DISCONNECT) == 0) {
            peer_gone(self, p, "disconnected");
        } else if (strcmp(msg->type, CMK_MSG_REPLY) == 0 || strcmp(msg->type, CMK_MSG_ERROR) == 0) {
            forward *f = cmk_hmap_get(self->forward_ids, msg->reqid);
            if (f && (!f->sent || strcmp(f->peer, p->name) != 0 || strcmp(msg->user, f->peer) != 0 ||
                      f->routing_len != msg->routing_len ||
                      memcmp(f->routing, msg->routing, msg->routing_len) != 0)) {
                /* an answer from someone the request was not sent to: drop it */
                char from_r[2 * 32 + 1], to_r[2 * 32 + 1];
                cmk_log(CMK_LOG_WARN, NULL, msg->reqid, "back.forged_reply",
                        "from=%s from_identity=%s from_routing=%s sent_to=%s sent_routing=%s type=%s action=drop",
                        p->name, msg->user[0] ? msg->user : "-",
                        routing_hex(msg->routing, msg->routing_len, from_r, sizeof from_r), f->peer,
                        f->sent ? routing_hex(f->routing, f->routing_len, to_r, sizeof to_r) : "(not sent)", f->type);
            } else if (f && !f->raw && cmk_msg_parse_raw(msg, &err) < 0) {
                /* read as any other message would have been: refused, the forward waits on */
                cmk_warn("back.bad_message", "peer=%s req=%s error=\"%s\"", p->name, msg->reqid, err.msg);
            } else if (f) {
                cmk_err rerr = CMK_ERR_INIT;
                cmk_msg_error_of(msg, &rerr);
                finish_forward(self, f, msg, &rerr);
            } else
                cmk_debug("back.late_reply", "peer=%s req=%s", p->name, msg->reqid);
        } else {
            const cmk_op *op = cmk_op_find(msg->type);
            cmk_err rerr = CMK_ERR_INIT;
            if (!op || op->door != AUTHZ_BACK)
                cmk_err_set(&rerr, CMK_EPROTO, "the controller does not take '%s' from a peer", msg->type);
            else if (broker_op_limits(op, msg, &rerr) < 0) {
                /* over its limits: refused */
            } else if (cmk_op_fields_check(op, msg->body, &rerr) < 0) {
                /* a malformed field */
            } else if (self->authz && self->authz(self->authz_arg, msg, 1, &rerr) < 0) {
                /* refused and audited by the hook */
            } else if (self->handlers[op->id](self->ops_ctx, msg, &rerr) == 0) {
                cmk_msg_destroy(&msg);
                continue;
            }
            cmk_log(CMK_LOG_WARN, NULL, msg->reqid, "back.refused", "peer=%s type=%s code=%s error=\"%s\"",
                    p->name, msg->type, cmk_code_name(rerr.code), rerr.msg);
            broker_reply_back(self, cmk_msg_error(msg, rerr.code ? rerr.code : CMK_EINTERNAL, rerr.msg));
        }
        cmk_msg_destroy(&msg);
    }
    return 0;
}

/* on_front - requests from clients */
static int on_front(cmk_loop *loop, void *sock, int fd, void *arg)
{
    broker *self = arg;
    for (int i = 0; i < 1024; i++) {
        cmk_msg *msg = NULL, *partial = NULL, *rep = NULL;
        cmk_err err = CMK_ERR_INIT;
        const cmk_op *op;
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT, &err);

        if (rc == CMK_ETIMEOUT) /* nothing waiting (CMK_RECV_DONTWAIT) */
            break;
        if (rc < 0) {
            cmk_log(CMK_LOG_WARN, NULL, partial ? partial->reqid : NULL, "front.bad_message",
                    "error=\"%s\"", err.msg);
            if (partial && partial->routing_len) /* a malformed field is EINVAL, the rest EPROTO */
                rep = cmk_msg_error(partial, err.code == CMK_EINVAL ? CMK_EINVAL : CMK_EPROTO, err.msg);
            cmk_msg_destroy(&partial);
            if (rep)
                broker_reply(self, rep);
            continue;
        }
        op = cmk_op_find(msg->type);
        ctl_metrics_request(self->metrics, msg, op && op->door == AUTHZ_FRONT ? op->type : "unknown");
        if (!op || op->door != AUTHZ_FRONT) {
            const char *near = cmk_op_closest(msg->type);
            if (near)
                cmk_err_set(&err, CMK_EPROTO, "unknown request '%s'; did you mean '%s'? (`cmkctl protocol` lists them)",
                            msg->type, near);
            else
                cmk_err_set(&err, CMK_EPROTO, "unknown request '%s'; `cmkctl protocol` lists the requests", msg->type);
        } else if (broker_op_limits(op, msg, &err) < 0) {
            /* over its limits: refused */
        } else if (cmk_op_fields_check(op, msg->body, &err) < 0) {
            /* a field of the wrong type, out of range or malformed (common/op_fields.c) */
        } else if (self->authz && self->authz(self->authz_arg, msg, 0, &err) < 0) {
            /* refused and audited by the hook */
        } else if (self->handlers[op->id](self->ops_ctx, msg, &err) == 0) {
            cmk_msg_destroy(&msg);
            continue;
        }
        cmk_log(CMK_LOG_WARN, NULL, msg->reqid, "request.refused", "type=%s user=%s code=%s error=\"%s\"",
                msg->type, msg->user, cmk_code_name(err.code), err.msg);
        rep = cmk_msg_error(msg, err.code ? err.code : CMK_EINTERNAL, err.msg);
        if (rep)
            broker_reply(self, rep);
        cmk_msg_destroy(&msg);
    }
    return 0;
}

/* on_tick - heartbeats to peers, expiry, forward deadlines */
static int on_tick(cmk_loop *loop, int64_t id, void *arg)
{
    broker *self = arg;
    const cmk_config *cfg = cmk_server_config(self->srv);
    int64_t now = cmk_mono_ms(), expiry = cfg->heartbeat_interval * cfg->heartbeat_liveness;

    for (size_t i = 0; i < self->npeers; i++) {
        broker_peer *p = &self->peers[i];
        if (!p->used)
            continue;
        if (now - p->last_heard > expiry) {
            peer_gone(self, p, "heartbeat expired");
            continue;
        }
        {
            cmk_msg *hb = cmk_msg_new(CMK_MSG_HEARTBEAT, "-");
            if (hb) {
                send_to_peer(self, p, hb, NULL);
                cmk_msg_destroy(&hb);
            }
        }
    }
    for (forward *f = self->forwards, *next; f; f = next) {
        next = f->next;
        if (now >= f->deadline) {
            cmk_err err = CMK_ERR_INIT;
            if (f->sent)
                cmk_err_set(&err, CMK_ETIMEOUT, "%s did not answer '%s' in time", f->peer, f->type);
            else
                cmk_err_set(&err, CMK_EUNAVAIL,
                            "%s is not running and did not come back in time; see `cmkctl status` "
                            "and %s/logs/%s.log", f->peer, cfg->run_dir, f->peer);
            finish_forward(self, f, NULL, &err);
        }
    }
    ctl_metrics_expire(self->metrics, 10 * 60 * 1000); /* never answered: stop waiting */
    return 0;
}

/* bind_router - a CURVE ROUTER bound to an endpoint */
static void *bind_router(broker *self, const char *tmpl, const cmk_keypair *kp, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    char ep[4200];
    int zero = 0, one = 1, hwm = 100000;
    void *s = zmq_socket(cmk_server_zmq(self->srv), ZMQ_ROUTER);

    if (!s) {
        cmk_err_set(err, CMK_EIO, "cannot create a socket: %s", zmq_strerror(errno));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    cmk_config_endpoint(cfg, tmpl, ep, sizeof ep);
    if (cmk_proto_limit_socket(s, cfg->msg_max_size, err) < 0 || cmk_curve_server(s, kp, err) < 0) {
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, ep) != 0) {
        cmk_err_set(err, CMK_EIO, "cannot bind %s: %s (another cluster in this run dir?)", ep,
                    zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    cmk_info("broker.bound", "endpoint=%s", ep);
    return s;
}

/* broker_new - bind the two ROUTERs */
broker *broker_new(cmk_server *srv, const char *server_secret_name, cmk_err *err)
{
    broker *self = calloc(1, sizeof *self);
    const cmk_config *cfg = cmk_server_config(srv);
    cmk_keypair kp;

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->srv = srv;
    self->metrics = ctl_metrics_new(); /* NULL (out of memory): requests are not counted */
    cmk_randpool_init(&self->ids); /* empty: the first forward fills it */
    if (!(self->forward_ids = cmk_hmap_new()) || !(self->poisons = poison_memory_new())) {
        cmk_hmap_destroy(&self->forward_ids);
        ctl_metrics_destroy(&self->metrics);
        free(self);
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    if (cmk_keypair_ensure(cfg->run_dir, server_secret_name, &kp, err) < 0) {
        poison_memory_destroy(&self->poisons);
        cmk_hmap_destroy(&self->forward_ids);
        ctl_metrics_destroy(&self->metrics);
        free(self);
        return NULL;
    }
    self->front = bind_router(self, cfg->controller_front, &kp, err);
    self->back = self->front ? bind_router(self, cfg->controller_back, &kp, err) : NULL;
    cmk_keypair_wipe(&kp);
    if (!self->back) {
        broker_destroy(&self);
        return NULL;
    }
    cmk_loop_add_socket(cmk_server_loop(srv), self->front, on_front, self);
    cmk_loop_add_socket(cmk_server_loop(srv), self->back, on_back, self);
    self->hb_timer = cmk_loop_add_timer(cmk_server_loop(srv), cfg->heartbeat_interval, 1, on_tick, self);
    return self;
}

/* broker_destroy - fail pending forwards, close sockets */
void broker_destroy(broker **self_p)
{
    broker *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    while (self->forwards) {
        cmk_err err = CMK_ERR_INIT;
        cmk_err_set(&err, CMK_EUNAVAIL, "the controller is stopping");
        finish_forward(self, self->forwards, NULL, &err);
    }
    if (self->hb_timer)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->hb_timer);
    if (self->front) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->front);
        zmq_close(self->front);
    }
    if (self->back) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->back);
        zmq_close(self->back);
    }
    free(self->peers);
    free(self->inflight);
    poison_memory_destroy(&self->poisons);
    cmk_hmap_destroy(&self->forward_ids);
    ctl_metrics_destroy(&self->metrics);
    free(self);
    *self_p = NULL;
}

void broker_set_dispatch(broker *self, const broker_op_fn *handlers, void *ctx)
{
    self->handlers = handlers;
    self->ops_ctx = ctx;
}

/* broker_set_authz - the authorization hook */
void broker_set_authz(broker *self, broker_authz_fn fn, void *arg)
{
    self->authz = fn;
    self->authz_arg = arg;
}

/* broker_reply_back - a reply to a peer */
int broker_reply_back(broker *self, cmk_msg *reply)
{
    cmk_err err = CMK_ERR_INIT;
    int rc;
    if (!reply)
        return CMK_ENOMEM;
    rc = cmk_msg_send(reply, self->back, &err);
    if (rc < 0)
        cmk_warn("back.reply_failed", "req=%s error=\"%s\"", reply->reqid, err.msg);
    cmk_msg_destroy(&reply);
    return rc;
}

void broker_set_child_hook(broker *self, broker_child_fn fn, void *arg)
{
    self->child_fn = fn;
    self->child_arg = arg;
}

void broker_set_role_hook(broker *self, broker_role_fn fn, void *arg)
{
    self->role_fn = fn;
    self->role_arg = arg;
}

void broker_set_peer_hook(broker *self, broker_peer_fn fn, void *arg)
{
    self->peer_fn = fn;
    self->peer_arg = arg;
}

/* broker_reply - send a front reply and free it */
int broker_reply(broker *self, cmk_msg *reply)
{
    cmk_err err = CMK_ERR_INIT;
    int rc;
    ctl_metrics_reply(self->metrics, reply);
    rc = cmk_msg_send(reply, self->front, &err);
    if (rc < 0)
        cmk_warn("front.reply_failed", "req=%s error=\"%s\"", reply->reqid, err.msg);
    cmk_msg_destroy(&reply);
    return rc;
}

/* forward_new - send or queue a request to a peer (raw: the callback takes the reply's body as text) */
static int forward_new(broker *self, const char *name, const char *type, const cJSON *body, int64_t timeout_ms,
                       broker_reply_fn fn, void *arg, int raw, cmk_err *err)
{
    int64_t limit = cmk_server_config(self->srv)->max_inflight;
    int *n = inflight_of(self, name);
    forward *f;
    broker_peer *p;
    char *text;

    if (!n)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (!(text = body ? cJSON_PrintUnformatted(body) : strdup("{}")))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory encoding a '%s' request", type);
    if (poison_known(self->poisons, name, type, text)) {
        free(text);
        cmk_log(CMK_LOG_WARN, NULL, NULL, "forward.poison_refused", "peer=%s type=%s", name, type);
        return cmk_err_set(err, CMK_ELIMIT,
                           "the worker stopped twice while handling this same '%s' request; it is not "
                           "sent again for %d minutes (docs/SECURITY.md, \"Liveness\")",
                           type, POISON_MEMORY_MS / 60000);
    }
    if (limit > 0 && *n >= limit) {
        free(text);
        cmk_log(CMK_LOG_WARN, NULL, NULL, "forward.busy", "peer=%s inflight=%d type=%s", name, *n, type);
        return cmk_err_set(err, CMK_EBUSY,
                           "%s is busy: %d requests are in flight to it (request.max_inflight); "
                           "retry later or send fewer at once",
                           name, *n);
    }
    if (!(f = calloc(1, sizeof *f))) {
        free(text);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    /* not guessable: 128 random bits, from a pool (one RAND_bytes per 256 forwards: per forward
     * its fork check and locks cost ~4% of the controller's CPU per run, issue #18) */
    if (cmk_randpool_hex(&self->ids, 16, f->id, sizeof f->id) < 0) {
        free(text);
        free(f);
        return cmk_err_set(err, CMK_ECRYPTO, "no randomness for a request id (OpenSSL RAND_bytes failed)");
    }
    if (cmk_hmap_put(self->forward_ids, f->id, f) < 0) {
        free(text);
        free(f);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    (*n)++;
    cmk_strlcpy(f->peer, name, sizeof f->peer);
    cmk_strlcpy(f->type, type, sizeof f->type);
    f->text = text; /* the body may refer to the caller's objects: encoded now, not copied */
    f->text_len = strlen(text);
    f->deadline = cmk_mono_ms() + timeout_ms;
    f->fn = fn;
    f->arg = arg;
    f->raw = raw;
    f->next = self->forwards;
    if (f->next)
        f->next->prev = f;
    self->forwards = f;
    p = peer_by_name(self, name);
    if (p)
        send_forward(self, f, p);
    return 0;
}

/* broker_forward - send or queue a request to a peer */
int broker_forward(broker *self, const char *name, const char *type, const cJSON *body,
                   int64_t timeout_ms, broker_reply_fn fn, void *arg, cmk_err *err)
{
    return forward_new(self, name, type, body, timeout_ms, fn, arg, 0, err);
}

/* broker_forward_through - a forward whose reply is passed on unread */
int broker_forward_through(broker *self, const char *name, const char *type, const cJSON *body,
                           int64_t timeout_ms, broker_reply_fn fn, void *arg, cmk_err *err)
{
    return forward_new(self, name, type, body, timeout_ms, fn, arg, 1, err);
}

/* broker_send_all - one message type to every peer */
void broker_send_all(broker *self, const char *type)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers[i].used) {
            cmk_msg *m = cmk_msg_new(type, NULL);
            if (m) {
                send_to_peer(self, &self->peers[i], m, NULL);
                cmk_msg_destroy(&m);
            }
        }
}

/* broker_peer_age - ms since last heard */
int64_t broker_peer_age(const broker *self, const char *name)
{
    const broker_peer *p = peer_by_name(self, name);
    return p ? cmk_mono_ms() - p->last_heard : -1;
}

/* broker_peers_json - registry as JSON */
cJSON *broker_peers_json(const broker *self)
{
    cJSON *arr = cJSON_CreateArray();
    int64_t now = cmk_mono_ms();
    for (size_t i = 0; arr && i < self->npeers; i++) {
        const broker_peer *p = &self->peers[i];
        cJSON *o;
        if (!p->used)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "role", p->role);
        cJSON_AddNumberToObject(o, "pid", p->pid);
        cJSON_AddNumberToObject(o, "age_ms", (double)(now - p->last_heard));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
