/*
 * gw_http.h - the gateway's HTTP server (libmicrohttpd in epoll mode, driven by one thread of
 * its own that also owns the trigger calls to the controller: gw_http.c) on gateway.http:
 *
 *   GET  /metrics                     Prometheus text of gw_metrics
 *   GET  /health                      {"ok": true}
 *   ANY  /workflows/<env>/<flow>/triggers/manual/paths/invoke?...&sig=...
 *                                     trigger URL, forwarded as flow.invoke (gw_ingress.h)
 *
 * Anything else is answered 404 with a JSON error body. The bound address ("127.0.0.1:41234")
 * is written to <run>/gateway.http.
 */
#ifndef CMK_GW_HTTP_H
#define CMK_GW_HTTP_H

#include <stdint.h>

#include "err.h"
#include "gw_ingress.h"
#include "gw_metrics.h"

typedef struct gw_http gw_http;

/* gw_http_new - listen on addr ("host:port"; port 0 picks one) and serve; metrics and
 * ingress are borrowed, and the ingress is used by the HTTP thread only until gw_http_destroy */
gw_http *gw_http_new(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err);

/* Limits of the HTTP listener under abuse (config gateway.per_ip_connections,
 * gateway.max_connections, gateway.connection_timeout). */
typedef struct {
    unsigned per_ip;     /* connections one source address may hold open */
    unsigned max;        /* connections in all */
    unsigned timeout_s;  /* an idle connection (headers or body not arriving) is closed after this */
} gw_http_limits;

/* gw_http_new_limited - gw_http_new with explicit limits (gw_http_new uses 16, 512, 5 s) */
gw_http *gw_http_new_limited(const char *addr, gw_metrics *metrics, gw_ingress *ingress,
                             const gw_http_limits *limits, cmk_err *err);

/* gw_http_listen - bind addr ("host:port"; port 0 picks one) without serving yet: the gateway
 * binds before it confines itself (issue #20) and starts the server's threads after */
gw_http *gw_http_listen(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err);

/* gw_http_serve - start serving on the socket of gw_http_listen, with these limits (starts the
 * HTTP thread) */
int gw_http_serve(gw_http *self, const gw_http_limits *limits, cmk_err *err);

/* gw_http_destroy - stop serving: the trigger calls still in flight are answered 503 and their
 * connections closed; NULL is fine; nulls the caller's pointer */
void gw_http_destroy(gw_http **self_p);

/* gw_http_address - the bound "host:port" */
const char *gw_http_address(const gw_http *self);

#endif
