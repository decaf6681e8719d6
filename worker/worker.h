/*
 * worker.h - a worker process: the shared one (--shared, every environment still on the
 * Microsoft-managed key) or a dedicated one (--env ID, one CMK environment).
 *
 * It registers with the controller through its peer and serves the requests the controller
 * routes to its environments (flow.*, run.*, conn.*). Each environment it serves has a context
 * (wenv): its data keys (fetched once over the back channel, wkeys.c) and its partition
 * (partition.c), opened on first use; requests that arrive meanwhile queue. Runs (wruns.c)
 * execute flows with the engine; HTTP actions go to the gateway over a CURVE DEALER and their
 * replies come back asynchronously, so a slow action never blocks other runs.
 */
#ifndef CMK_WORKER_H
#define CMK_WORKER_H

#include <cjson/cJSON.h>

#include "engine.h"
#include "err.h"
#include "partition.h"
#include "peer.h"
#include "proto.h"
#include "server.h"
#include "wdefs.h"
#include "wkeys.h"

typedef struct worker worker;
typedef struct wenv wenv;
typedef struct wrun wrun;

/* wop_fn - a request on a ready environment; reply with worker_reply / worker_fail */
typedef int (*wop_fn)(worker *w, wenv *env, cmk_msg *reply, const cJSON *body, cmk_err *err);

/* One environment this worker serves. */
struct wenv {
    char id[64];              /* environment id */
    char region[32];          /* Power Platform region */
    char infrastructure[16];  /* shared or dedicated */
    partition *part;          /* its partition, once open */
    int opening;              /* keys requested, partition not open yet */
    struct wqueued *queue;    /* requests waiting for the partition */
    struct wdefs *defs;       /* parsed definitions per flow version (wdefs.h) */
    wenv *next;
};

/* The worker. */
struct worker {
    cmk_server *srv;          /* the daemon skeleton */
    cmk_peer *peer;           /* link to the controller */
    void *gateway;            /* DEALER to the gateway (CURVE) */
    wkeys *keys;              /* environments' data keys */
    wenv *envs;               /* environments served so far */
    wrun *runs;               /* runs in flight */
    struct wgw_call *gw_calls; /* HTTP actions awaiting the gateway */
    int64_t tick_timer;       /* group commit and gateway deadlines */
    int64_t tick_ms;          /* its interval now: short while work is pending, long when idle */
    long runs_started;        /* counters for status */
    long runs_finished;
    int64_t clock_offset;     /* the controller's clock minus this host's wall clock, as the last
                               * routed request said (clock_ms) */
};

/* worker_start - keys, controller link, gateway link */
int worker_start(cmk_server *srv, worker **out, cmk_err *err);

/* worker_stop - close everything, wiping keys */
void worker_stop(worker **self_p);

/* worker_reply - send reply (body set by the caller) to the controller and free it */
void worker_reply(worker *w, cmk_msg *reply);

/* worker_fail - turn reply into an error reply, send and free it */
void worker_fail(worker *w, cmk_msg *reply, int code, const char *message);

/* worker_now - the controller's clock as this worker knows it (wall + the controller's offset,
 * learnt from the clock_ms of every routed request) */
int64_t worker_now(const worker *w);

/* wops - the request table of flow.*, run.*, conn.* (wflows.c) */
wop_fn wops_find(const char *type);

/* wstage_op - env.stage: begin, swap in or discard a restore's staging area (wstage.c) */
int wstage_op(worker *w, wenv *e, cmk_msg *reply, const cJSON *body, cmk_err *err);

/* worker_takes - 1 if a worker answers requests of this type */
int worker_takes(const char *type);

/* runs (wruns.c): wrun_start runs flow (its parsed definition fd, shared with the run) with
 * trigger outputs (a JSON object, taken) */
int wrun_start(worker *w, wenv *env, const partition_flow *flow, const flowdef *fd, cJSON *trigger,
               const char *client_req, cmk_msg *reply, wrun *parent, const char *parent_action, cmk_err *err);
void wruns_on_gateway(worker *w, const cmk_msg *msg);
void wruns_tick(worker *w);
void wruns_destroy_all(worker *w);

/* environments (wenv.c) */
int wenv_dispatch(worker *w, const cmk_msg *req, wop_fn fn, cmk_err *err);
void wenv_tick(worker *w);
void wenv_close_all(worker *w);
wenv *wenv_find(worker *w, const char *id);
int wenv_release(worker *w, const char *id, const char *why);

#endif
