/*
 * gw_ingress.h - HTTP-trigger URLs: a call to
 *
 *   POST /workflows/<env>/<flow>/triggers/manual/paths/invoke?api-version=2016-06-01
 *        &sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=<sig>
 *
 * is forwarded to the controller's front door as `flow.invoke` {env, flow, sig, method,
 * headers, queries, body, client_req} with the gateway's own key (<run>/keys/gateway.key);
 * the reply {status, headers, body} becomes the HTTP response. A call without `sig` is
 * answered 401 at once. Error replies map to HTTP statuses (gw_ingress_status).
 *
 * Controller calls are asynchronous: one front-door client (one CURVE DEALER socket, made at
 * the first call) carries every call in flight, each matched to its reply by request id in a
 * hash map. At most max_inflight calls are in flight (one more is refused at once with EBUSY:
 * 429); each ends exactly once, by its reply, by the per-call timeout (ETIMEOUT: 504), by a
 * lost connection to the controller (EUNAVAIL: 503) or by gw_ingress_fail_all (the gateway
 * stopping). None of this is thread-safe: one thread owns the
 * module and its socket (the gateway's HTTP thread, gw_http.c).
 */
#ifndef CMK_GW_INGRESS_H
#define CMK_GW_INGRESS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* gw_ingress_parse_path - env and flow of a trigger path; CMK_ENOENT if it is not one */
int gw_ingress_parse_path(const char *path, char *env, size_t env_n, char *flow, size_t flow_n);

/* gw_ingress_status - the HTTP status of an error code: EPERM 401, ENOENT 404, EUNAVAIL 503,
 * ETIMEOUT 504, EBUSY 429, anything else 400 */
int gw_ingress_status(int code);

/* gw_ingress_error_name - the Logic Apps-style error code of a status ("WorkflowNotFound") */
const char *gw_ingress_error_name(int status);

/* gw_ingress_error_body - {"error": {"code": ..., "message": ...}} as text (malloc'd) */
char *gw_ingress_error_body(int status, const char *message);

typedef struct gw_ingress gw_ingress;
typedef struct gw_ingress_call gw_ingress_call;

/* gw_ingress_done_fn - a call ended: reply is its body (the callee owns it) or NULL with err
 * set (the call's error reply, a timeout, or the gateway stopping). Called once per call, from
 * gw_ingress_on_input, gw_ingress_expire or gw_ingress_fail_all; the call is gone by then. */
typedef void (*gw_ingress_done_fn)(void *arg, cJSON *reply, const cmk_err *err);

/* gw_ingress_new - calls to the cluster in run_dir; timeout_ms per call; at most max_inflight
 * calls at once (< 1: 1) */
gw_ingress *gw_ingress_new(const char *run_dir, int64_t timeout_ms, int max_inflight);

/* gw_ingress_destroy - close the client; calls still in flight are dropped without their
 * callbacks (end them with gw_ingress_fail_all first). NULL is fine; nulls the pointer. */
void gw_ingress_destroy(gw_ingress **self_p);

/* gw_ingress_start - send flow.invoke with body (taken, even on failure) without waiting; fn
 * gets the outcome later. Fails at once (fn never called) with EBUSY when max_inflight calls
 * are in flight, EUNAVAIL when the controller cannot be reached (no cluster, no connection),
 * ENOMEM. *out (may be NULL) names the call for gw_ingress_cancel. */
int gw_ingress_start(gw_ingress *self, cJSON *body, gw_ingress_done_fn fn, void *arg,
                     gw_ingress_call **out, cmk_err *err);

/* gw_ingress_cancel - forget a call in flight without calling its fn (its caller went away);
 * a late reply is then dropped. Nulls *call_p. */
void gw_ingress_cancel(gw_ingress *self, gw_ingress_call **call_p);

/* gw_ingress_socket - the DEALER to poll for input (NULL before the first call) */
void *gw_ingress_socket(gw_ingress *self);

/* gw_ingress_on_input - read every reply waiting on the socket and end their calls */
void gw_ingress_on_input(gw_ingress *self);

/* gw_ingress_monitor - a PAIR socket to poll for the DEALER's connection events (NULL when
 * there is none) */
void *gw_ingress_monitor(gw_ingress *self);

/* gw_ingress_on_monitor - read the events waiting; a lost connection to the controller ends
 * every call in flight with EUNAVAIL (their replies cannot arrive any more) */
void gw_ingress_on_monitor(gw_ingress *self);

/* gw_ingress_expire - end the calls whose time is up at now_ms (cmk_mono_ms) with ETIMEOUT;
 * returns the ms until the next call's deadline, or -1 with none in flight */
int64_t gw_ingress_expire(gw_ingress *self, int64_t now_ms);

/* gw_ingress_fail_all - end every call in flight with code and message */
void gw_ingress_fail_all(gw_ingress *self, int code, const char *message);

/* gw_ingress_inflight - calls in flight now */
int gw_ingress_inflight(const gw_ingress *self);

/* gw_ingress_max_inflight - the cap on calls in flight */
int gw_ingress_max_inflight(const gw_ingress *self);

#endif
