/*
 * gw_route.h - an `http.request` from a worker turned into an egress job: the body checked,
 * the service tag chosen (gw_tags_select) and a source address picked within it.
 *
 * Body: {env, flow, run, action, infrastructure: "shared"|"dedicated", region, kind:
 * "http"|"connector", method, uri, headers {name: value}, body (string), timeout_ms?}.
 * The source address is picked by a hash of (env, flow, action): one action always leaves
 * from the same address of its range (like a sticky NAT), so keep-alive connections are
 * reused, while different flows spread over the range.
 */
#ifndef CMK_GW_ROUTE_H
#define CMK_GW_ROUTE_H

#include <cjson/cJSON.h>

#include "err.h"
#include "gw_egress.h"
#include "gw_tags.h"

/* Longest accepted request body of an outbound action. */
#define GW_MAX_REQUEST_BODY (8 * 1024 * 1024)

/* Longest timeout a request may ask for. */
#define GW_MAX_TIMEOUT_MS (10 * 60 * 1000)

/* gw_route_plan - validate body and fill a new job (*out, caller owns it; its req stays NULL).
 * default_timeout_ms applies when the body has no timeout_ms. CMK_EINVAL names the field. */
int gw_route_plan(const gw_tags *tags, const cJSON *body, int64_t default_timeout_ms,
                  gw_job **out, cmk_err *err);

/* gw_route_env_allowed - whether an authorized.json entry ({envs: [...]}) may act for env:
 * "*" serves every environment */
int gw_route_env_allowed(const cJSON *entry, const char *env);

#endif
