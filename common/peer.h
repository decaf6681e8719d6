/*
 * peer.h - the supervised side of the back channel (Paranoid Pirate worker).
 *
 * Workers, the gateway and the firewall each run one peer: a DEALER connected with CURVE to
 * the controller's back ROUTER. It sends `ready` (role, name, pid, environments), heartbeats
 * every heartbeat.interval, and takes the controller for gone after heartbeat.liveness silent
 * intervals; then it drops the socket and reconnects with capped exponential backoff
 * (peer.reconnect_min doubling up to peer.reconnect_max) and says `ready` again.
 * It answers `ping` itself, stops its server on `shutdown`, and hands every other request to
 * the daemon's handler.
 */
#ifndef CMK_PEER_H
#define CMK_PEER_H

#include "err.h"
#include "proto.h"
#include "server.h"

typedef struct cmk_peer cmk_peer;

/* cmk_peer_fn - a request from the controller; reply with cmk_peer_send (the reply keeps the
 * request id). Return 0, or < 0 with err set to have an error reply sent for you. */
typedef int (*cmk_peer_fn)(cmk_peer *peer, const cmk_msg *req, void *arg, cmk_err *err);

/* cmk_peer_new - connect and say ready; fn may be NULL (only ping and shutdown) */
cmk_peer *cmk_peer_new(cmk_server *srv, cmk_peer_fn fn, void *arg, cmk_err *err);
void cmk_peer_destroy(cmk_peer **self_p);

/* cmk_peer_send - send a message to the controller */
int cmk_peer_send(cmk_peer *self, const cmk_msg *msg, cmk_err *err);

/* cmk_peer_reply_fn - the controller's reply to a request (NULL with err on timeout or
 * reconnect) */
typedef void (*cmk_peer_reply_fn)(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg);

/* cmk_peer_request - send a request to the controller (e.g. dek.get); fn gets the reply or an
 * error within timeout_ms. An "error" reply reaches fn as err with reply NULL. */
int cmk_peer_request(cmk_peer *self, const char *type, const cJSON *body, int64_t timeout_ms,
                     cmk_peer_reply_fn fn, void *arg, cmk_err *err);

/* cmk_peer_set_info - extra fields for ready and ping replies (takes ownership) */
void cmk_peer_set_info(cmk_peer *self, cJSON *info);

/* cmk_peer_reconnects - how many times the peer reconnected */
long cmk_peer_reconnects(const cmk_peer *self);

#endif
