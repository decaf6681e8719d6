/*
 * gw_metrics.h - the gateway's counters, rendered as Prometheus text (served at /metrics and
 * through the `metrics` request of the gateway's peer channel). Thread-safe: the event loop
 * counts egress, the HTTP server's threads count ingress and render.
 *
 *   cmk_gateway_egress_requests_total{tag="PowerPlatformPlex.WestUS",outcome="refused"} 3
 *   cmk_gateway_egress_duration_seconds_bucket{tag="...",le="0.05"} 2   (histogram per tag)
 *   cmk_gateway_egress_inflight 0
 *   cmk_gateway_ingress_requests_total{status="401"} 1
 */
#ifndef CMK_GW_METRICS_H
#define CMK_GW_METRICS_H

#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct gw_metrics gw_metrics;

/* gw_metrics_new - empty counters; NULL when out of memory */
gw_metrics *gw_metrics_new(void);

/* gw_metrics_destroy - free (NULL is fine) and null the caller's pointer */
void gw_metrics_destroy(gw_metrics **self_p);

/* gw_metrics_egress - one finished outbound request of tag ("-" if none) with an outcome */
void gw_metrics_egress(gw_metrics *self, const char *tag, const char *outcome, int64_t latency_ms);

/* gw_metrics_inflight - add delta to the in-flight gauge */
void gw_metrics_inflight(gw_metrics *self, int delta);

/* gw_metrics_ingress - one trigger-URL call answered with an HTTP status */
void gw_metrics_ingress(gw_metrics *self, int status);

/* gw_metrics_render - the Prometheus text exposition (malloc'd; NULL when out of memory) */
char *gw_metrics_render(gw_metrics *self);

/* gw_metrics_json - {egress: [{tag, outcome, count}], inflight, ingress: [{status, count}]} */
cJSON *gw_metrics_json(gw_metrics *self);

#endif
