/*
 * wruns_int.h - what the rooms of a worker's runs share (wruns.c steps runs; wruns_gw.c sends
 * HTTP actions to the gateway and takes its answers; wruns_actions.c answers child flows and
 * List flows as Admin; wruns_sweep.c ends runs past run.timeout). Not for the rest of the worker,
 * which uses worker.h.
 */
#ifndef CMK_WRUNS_INT_H
#define CMK_WRUNS_INT_H

#include "engine.h"
#include "partition.h"
#include "worker.h"

#define CHILD_DEPTH_MAX 8        /* child flows nested deeper than this fail */
#define GATEWAY_GRACE_MS 5000    /* beyond egress.timeout before a worker gives up on the gateway */
#define SWEEP_EVERY_MS 1000      /* how often the sweeper looks for runs past run.timeout */

struct wrun {
    worker *w;
    char env[64];                /* environment id */
    engine_run *run;             /* the engine's state */
    char id[64];                 /* run id */
    char flow_id[64];
    cmk_msg *reply;              /* the caller's reply (NULL for child runs) */
    wrun *parent;                /* the run whose child flow this is */
    char parent_action[128];     /* the parent's Workflow action */
    int depth;                   /* child depth */
    int outstanding;             /* external work in flight */
    int finishing;               /* final save in flight */
    int descendants;             /* child runs started under this top-level run, in all */
    int continuing;              /* a continuation of a time-sliced step is scheduled */
    int gw_pending;              /* its calls in w->gw_calls */
    int recorded;                /* its row is written (Running, or ended) */
    partition_run meta;          /* what its row says when it starts */
    char req_key[64];            /* the stored key of its client request (partition_run_dedup) */
    char *trigger_json;          /* its trigger outputs as text, until its row is written */
    double t0;                   /* monotonic start (cmk_metrics_now), for the latency metric */
    wrun *next, *prev;           /* registry of runs in flight (doubly linked: O(1) removal) */
};

/* ---- the stepper (wruns.c) ---- */

/* wrun_advance - step the run until it waits on outside work or ends (it may be freed) */
void wrun_advance(wrun *r);

/* wrun_finish - save the ended run; its caller hears once the write is durable (r may be freed) */
void wrun_finish(wrun *r);

/* wrun_by_id - the run in flight with this id, or NULL */
wrun *wrun_by_id(worker *w, const char *id);

/* ---- HTTP actions through the gateway (wruns_gw.c) ---- */

/* wrun_send_http - an HTTP action to the gateway; 1 if it failed at once (step the run again) */
int wrun_send_http(wrun *r, const engine_work *wk);

/* wrun_gw_drop - forget the run's calls still waiting for the gateway */
void wrun_gw_drop(wrun *r);

/* wruns_gw_timeouts - calls the gateway never answered time out (their runs step on) */
void wruns_gw_timeouts(worker *w);

/* wruns_gw_forget - free the map of calls (the worker stops) */
void wruns_gw_forget(void);

/* ---- actions the worker answers itself (wruns_actions.c); 1 if done at once ---- */

/* wrun_start_child - a child flow (here, or on the environment's other worker) */
int wrun_start_child(wrun *r, const engine_work *wk);

/* wrun_connector_action - List flows as Admin, through the action's connection if it names one */
int wrun_connector_action(wrun *r, const engine_work *wk);

/* ---- the sweeper (wruns_sweep.c) ---- */

/* wruns_sweep - runs in flight past run.timeout fail; rows left Running by a dead worker too */
void wruns_sweep(worker *w);

#endif
