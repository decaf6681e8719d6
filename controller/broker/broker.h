/*
 * broker.h - the controller's front door and back end (Majordomo broker in spirit).
 *
 * Front: a ROUTER where clients (cmkctl, cmk-bench, the gateway's ingress) send requests; each
 * request is looked up in the operation table (common/ops.h), checked against its door and
 * size limits, authorized, and dispatched to its handler (controller/dispatch.c); an unknown
 * type gets an EPROTO error reply naming the closest known one, and a log line.
 * Back: a ROUTER where peers (workers, gateway, firewall) register with `ready`, heartbeat, and
 * answer requests the broker forwards to them. A peer's name in `ready` must be its CURVE
 * identity (ZAP User-Id): no process can register as another. A peer silent for
 * heartbeat.interval x heartbeat.liveness expires.
 * Authorization: a hook (broker_set_authz) decides, by the sender's CURVE identity, whether a
 * front request, a peer's `ready` or a peer's request may go on; a refusal is answered with the
 * hook's EPERM error (a refused `ready` gets no answer: the peer stays unregistered).
 * Forwarding: broker_forward() sends a request to a named peer and calls back with its reply;
 * if the peer is not registered (down, restarting) the request waits for it up to its timeout
 * and then fails with EUNAVAIL; a request in flight when its peer dies is sent again when the
 * peer comes back (receivers deduplicate by request id where it matters) - once: if the peer
 * dies a second time with it in flight, it fails ("the worker stopped while handling this
 * request") and the same request (peer, type, body) is refused for a while (no poison pill).
 * Trust (docs/SECURITY.md, "Between processes"): forward ids are 128 random bits; a reply is
 * accepted only from the registration (CURVE identity and ROUTER routing id) the request was
 * sent to, anything else is dropped and logged with both identities. One live registration
 * per identity: a second `ready` for a name heard within the last 1.5 heartbeat intervals is
 * refused unless it comes from the pid the supervisor just started for that name (a restart)
 * or the supervisor reaped the registered one. Each role may send only its own message types
 * on the back channel (the protocol's heartbeat, disconnect, reply, error, and the operation
 * table's BACK-door rows whose class its role holds in authz.c); anything else is refused with an error.
 */
#ifndef CMK_BROKER_H
#define CMK_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "proto.h"
#include "server.h"

typedef struct broker broker;

/* broker_op_fn - handle a front request; reply now or later with broker_reply. Return 0, or
 * < 0 with err filled to have an error reply sent. */
typedef int (*broker_op_fn)(void *ctx, const cmk_msg *req, cmk_err *err);


/* broker_reply_fn - the reply to a forwarded request, or NULL with err on timeout. The reply is
 * freed when the callback returns; a callback that hands its body on may take it (set
 * ((cmk_msg *)reply)->body to NULL) instead of copying it. */
typedef void (*broker_reply_fn)(void *arg, const cmk_msg *reply, const cmk_err *err);

/* broker_peer_fn - a peer registered (ready) or went away (expired or disconnected) */
typedef void (*broker_peer_fn)(void *arg, const char *name, int up, int pid);

/* broker_authz_fn - may req (sent by the identity req->user) be handled? back is 1 for the back
 * channel (`ready` and peers' requests), 0 for the front door. Return 0 to go on, or < 0 with
 * err filled to refuse it; the hook audits its refusals. */
typedef int (*broker_authz_fn)(void *arg, const cmk_msg *req, int back, cmk_err *err);

/* broker_new - bind front and back (CURVE servers with kp) */
broker *broker_new(cmk_server *srv, const char *server_secret_name, cmk_err *err);
void broker_destroy(broker **self_p);

/* broker_set_dispatch - the handlers, indexed by CMK_OP_<ID> (common/ops.h), and their
 * context. A front request goes to the handler of its front-door row; a peer's request (its
 * req->user is the peer's CURVE identity; reply with broker_reply_back) to its back-door row's. */
void broker_set_dispatch(broker *self, const broker_op_fn *handlers, void *ctx);

/* broker_set_authz - the authorization check run before every front request is dispatched,
 * before a peer registers and before a peer's request is handled (controller/authz/authz.h) */
void broker_set_authz(broker *self, broker_authz_fn fn, void *arg);

/* broker_reply_back - send a reply to a peer's request (frees it) */
int broker_reply_back(broker *self, cmk_msg *reply);

/* broker_child_fn - the pid the supervisor runs under name: > 0 running, 0 supervised but not
 * running, -1 not supervised */
typedef int (*broker_child_fn)(void *arg, const char *name);

/* broker_role_fn - the role of an identity's key (authorized.json) into role; < 0 if none */
typedef int (*broker_role_fn)(void *arg, const char *identity, char *role, size_t cap);

/* broker_set_role_hook - a peer is registered with its key's role, whatever its `ready` claims
 * (without a hook, the claimed role) */
void broker_set_role_hook(broker *self, broker_role_fn fn, void *arg);

/* broker_set_child_hook - how the broker asks the supervisor whom it started (a duplicate
 * `ready` is told from a restart by it; without a hook, a live registration is never replaced) */
void broker_set_child_hook(broker *self, broker_child_fn fn, void *arg);

/* broker_set_peer_hook - be told when peers come and go */
void broker_set_peer_hook(broker *self, broker_peer_fn fn, void *arg);

/* broker_reply - send a reply (to a front request) */
int broker_reply(broker *self, cmk_msg *reply);

/* broker_forward - send a request to peer `name`; fn gets the reply (or timeout). body is
 * encoded at once (it may refer to the caller's objects) and the text kept for a resend. */
int broker_forward(broker *self, const char *name, const char *type, const cJSON *body,
                   int64_t timeout_ms, broker_reply_fn fn, void *arg, cmk_err *err);

/* broker_forward_through - broker_forward for a caller that passes the reply on without reading
 * it: a "reply"'s body arrives as text in reply->raw (reply->body is empty; an "error" is parsed
 * as always). The controller reads nothing of a flow run's reply but its type; the client that
 * gets it decodes it with every check (issue 18: one parse per hop). */
int broker_forward_through(broker *self, const char *name, const char *type, const cJSON *body,
                           int64_t timeout_ms, broker_reply_fn fn, void *arg, cmk_err *err);

/* broker_send_all - send a message type to every registered peer (shutdown) */
void broker_send_all(broker *self, const char *type);

/* broker_peer_age - ms since peer `name` was last heard, -1 if not registered */
int64_t broker_peer_age(const broker *self, const char *name);

/* broker_peers_json - the registered peers: [{name, role, pid, age_ms}] */
cJSON *broker_peers_json(const broker *self);

#endif
