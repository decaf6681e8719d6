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
 * Controller calls go through a small pool of front-door clients (one ZeroMQ socket each,
 * used by one HTTP thread at a time), so concurrent trigger calls do not wait for each other.
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

/* gw_ingress_new - a client pool for the cluster in run_dir; timeout per call */
gw_ingress *gw_ingress_new(const char *run_dir, int64_t timeout_ms);

/* gw_ingress_destroy - close every client (NULL is fine) and null the caller's pointer */
void gw_ingress_destroy(gw_ingress **self_p);

/* gw_ingress_invoke - send flow.invoke with body (borrowed) and wait for the reply body
 * (*reply, caller owns it). An error reply returns its code with err filled. Thread-safe. */
int gw_ingress_invoke(gw_ingress *self, const cJSON *body, cJSON **reply, cmk_err *err);

#endif
