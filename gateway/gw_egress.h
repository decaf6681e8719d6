/*
 * gw_egress.h - performing outbound HTTP actions: libcurl's multi interface in one dedicated
 * thread (keep-alive, many transfers at once), results handed back to the event loop.
 *
 * The event loop submits jobs (gw_egress_submit) and watches gw_egress_fd(); when it becomes
 * readable, gw_egress_take() returns finished jobs one by one. Each job's socket is made by
 * gw_nsock (inside the customer firewall's network namespace in kernel mode) and bound to the
 * job's source address. Destinations other than loopback are refused (GW_OUT_POLICY), and
 * host names are never looked up, so no traffic leaves the machine: IP literals and localhost
 * go ahead, "*.invalid" fails as DNS would (GW_OUT_DNS), other names are refused by policy.
 *
 *   W:http.request -> gw_route_plan -> gw_egress_submit ... fd readable ... gw_egress_take
 *     -> reply {status, headers, body, ...} or error (gw_errmap) -> decision line, metrics
 */
#ifndef CMK_GW_EGRESS_H
#define CMK_GW_EGRESS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "gw_errmap.h"
#include "gw_nsock.h"
#include "proto.h"

/* One outbound HTTP action, from request to result. */
typedef struct gw_job {
    /* what to do (filled by gw_route_plan) */
    cmk_msg *req;             /* the worker's request (owned): routing id, request id */
    char env[128];            /* environment id */
    char flow[128];           /* flow id */
    char run[128];            /* run id */
    char action[128];         /* action name */
    char infrastructure[16];  /* "shared" or "dedicated" */
    char region[64];          /* Power Platform region as asked */
    char kind[16];            /* "http" or "connector" */
    char tag[96];             /* service-tag entry it leaves from */
    char source_ip[48];       /* source address within the tag */
    char *method;             /* HTTP method (owned) */
    char *uri;                /* absolute URI (owned) */
    cJSON *headers;           /* request headers {name: value} (owned) */
    char *body;               /* request body (owned, may be NULL) */
    size_t body_len;          /* its length */
    int64_t timeout_ms;       /* whole-transfer timeout */
    int64_t submitted_ms;     /* monotonic ms at submission */
    /* what happened (filled by the egress thread) */
    gw_fwstate fw;            /* the firewall as it was when the transfer started */
    char dest[64];            /* destination address:port libcurl connected to */
    int curl_code;            /* CURLcode */
    long os_errno;            /* CURLINFO_OS_ERRNO */
    unsigned fail_flags;      /* GW_FAIL_* */
    char curl_error[256];     /* libcurl's error text */
    long status;              /* HTTP status (0 if none) */
    cJSON *resp_headers;      /* response headers {name: value} (owned) */
    char *resp_body;          /* response body (owned, NUL-terminated) */
    size_t resp_len;          /* its length */
    int64_t latency_ms;       /* submission to completion */
    gw_outcome outcome;       /* classified result */
    struct gw_job *next;      /* queue link */
} gw_job;

typedef struct gw_egress gw_egress;

/* gw_job_destroy - free a job and everything it owns (NULL is fine) */
void gw_job_destroy(gw_job **job_p);

/* gw_egress_new - start the transfer thread; ns makes the sockets (borrowed) */
gw_egress *gw_egress_new(gw_nsock *ns, cmk_err *err);

/* gw_egress_destroy - stop the thread, drop unfinished jobs (NULL is fine) */
void gw_egress_destroy(gw_egress **self_p);

/* gw_egress_fd - readable when finished jobs wait */
int gw_egress_fd(const gw_egress *self);

/* gw_egress_submit - hand a job to the thread (takes ownership) */
void gw_egress_submit(gw_egress *self, gw_job **job_p);

/* gw_egress_take - the next finished job (caller owns it), or NULL; clears the fd when empty */
gw_job *gw_egress_take(gw_egress *self);

/* gw_egress_active - jobs submitted and not yet taken */
int gw_egress_active(gw_egress *self);

#endif
