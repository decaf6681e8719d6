/*
 * route.h - the two pieces of routing that need no controller (route_body.c): which worker
 * serves an environment, and the body a request carries to it, with every field the
 * controller owns set by the controller. route.c (the front door's routing) and the
 * controller's own requests to workers (controller/schedule/recurrence.c: a Recurrence
 * trigger's flow.run) build their bodies here, so that one function decides what a worker is
 * told about an environment.
 */
#ifndef CMK_ROUTE_H
#define CMK_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "directory.h"
#include "ops.h"

/* ctl_worker_of - the worker serving an environment (its dedicated one once dedicated) */
void ctl_worker_of(const dir_env *env, char *name, size_t cap);

/* route_owned_body - the body for op sent to env's worker on `infrastructure`: the members of
 * fields (the client's body; NULL for none) except the ones the controller owns, which it sets:
 * env, region, infrastructure, encryption (from env), requested_by, clock_ms (the cluster's
 * time, CLOCK-2). A client's `infrastructure` or `requested_by` changes nothing. Members of
 * fields are added by reference: free the body before fields. NULL when out of memory. */
cJSON *route_owned_body(const cmk_op *op, const cJSON *fields, const char *requested_by, const dir_env *env,
                        const char *infrastructure, int64_t clock_ms);

#endif
