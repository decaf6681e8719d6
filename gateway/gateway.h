/*
 * gateway.h - the platform edge. Workers send outbound HTTP actions (`http.request`) to its
 * ROUTER (CURVE; only worker keys are let in by its ZAP handler, and a worker may act only for
 * the environments its key serves); the gateway performs them from a source address of the
 * right service tag (gw_route, gw_egress) and answers with the response or a Power
 * Automate-style error (gw_errmap). Its HTTP server (gw_http) serves /metrics and trigger URLs.
 * It registers with the controller like any supervised process and answers `metrics` and
 * `gateway.status` there.
 *
 * Worker conversation (docs/PROTOCOL.md, "Gateway"):
 *
 *   W:http.request {env, flow, run, action, infrastructure, region, kind, method, uri,
 *                   headers, body, timeout_ms?}
 *   G:reply {status, headers, body, latency_ms, source_ip, tag, destination, firewall}
 *   G:error {code, message, outcome, source_ip, tag, destination, latency_ms, detail}
 *
 * One decision line per request (event=egress.decision, see gateway.c).
 */
#ifndef CMK_GATEWAY_H
#define CMK_GATEWAY_H

#include "err.h"
#include "gw_egress.h"
#include "gw_http.h"
#include "gw_ingress.h"
#include "gw_metrics.h"
#include "gw_nsock.h"
#include "gw_tags.h"
#include "peer.h"
#include "server.h"
#include "zap.h"

/* The gateway. */
typedef struct {
    cmk_server *srv;      /* the daemon skeleton */
    cmk_peer *peer;       /* link to the controller */
    cmk_zap *zap;         /* accepts worker keys */
    void *router;         /* ROUTER for workers */
    gw_tags *tags;        /* service tags (egress.service_tags) */
    gw_metrics *metrics;  /* counters */
    gw_nsock *nsock;      /* sockets inside the firewall's namespace */
    gw_egress *egress;    /* the transfer thread */
    gw_ingress *ingress;  /* front-door clients for trigger URLs */
    gw_http *http;        /* /metrics and trigger URLs */
    char http_file[4200]; /* <run>/gateway.http */
} gateway;

/* gateway_start - every module, sockets, HTTP server, controller link */
int gateway_start(cmk_server *srv, gateway **out, cmk_err *err);

/* gateway_stop - close everything (NULL is fine) and null the caller's pointer */
void gateway_stop(gateway **self_p);

/* gateway_on_signal - SIGCHLD reaps namespace helpers; returns 1 if handled */
int gateway_on_signal(gateway *self, int signo);

/* gateway_find_config - a file shipped in configs/ (rel: "service-tags.json"): looked up
 * under ./configs, <exe>/../configs and the source tree of the build (CMakeCache.txt) */
int gateway_find_config(const char *rel, char *out, size_t n);

#endif
