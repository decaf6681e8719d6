/*
 * workload.h - a workload of `cmk-bench load`: the environments and flows to create, the
 * clients that drive runs, and the phases to run, from a JSON file (configs/workloads/):
 *
 *   {
 *     "name": "compose-shared",
 *     "description": "Compose-only runs on shared environments",
 *     "tenant": "bench",                                   created if missing
 *     "environments": { "count": 2, "infrastructure": "shared", "region": "unitedstates",
 *                       "type": "production", "name_prefix": "load" },
 *     "flows": { "per_environment": 2, "definition": "../flows/manual-compose.json",
 *                "body": { "text": "load" } },                the trigger body of every run
 *     "clients": 64,          runs in flight at once (a closed loop)
 *     "connections": 1,       DEALER sockets the clients share
 *     "request_timeout": "10s",
 *     "phases": [ { "name": "max", "duration": "10s" },
 *                 { "name": "half", "duration": "10s", "rate": "50%" } ],
 *     "verify": "all",        or a number: run.show of that many acknowledged runs (a sample)
 *     "events": []            (timed key events: not supported yet, reported as ignored)
 *   }
 *
 * A phase runs for a duration or a number of requests; "rate" offers at most that many runs/s
 * (a number) or a share of what the first closed-loop phase achieved ("50%"); no rate is a
 * closed loop. A relative "definition" path is taken from the workload file's directory.
 * Only shared environments are supported: a dedicated one needs a policy and a vault.
 */
#ifndef CMK_BENCH_WORKLOAD_H
#define CMK_BENCH_WORKLOAD_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define BENCH_WL_MAX_PHASES 8 /* phases in one workload */

/* One phase of a workload. */
typedef struct {
    char name[32];        /* for reports */
    int64_t duration_ms;  /* run this long (0: run `requests` requests) */
    uint64_t requests;    /* or this many (0: by duration) */
    double rate;          /* offered runs/s (0: closed loop or share) */
    double rate_share;    /* > 0: this share of the first closed-loop phase's runs/s */
    int clients;          /* runs in flight at once (0: the workload's) */
} bench_phase;

/* A parsed workload. */
typedef struct {
    char name[64];                    /* workload name */
    char description[256];            /* one line */
    char tenant[64];                  /* tenant id (created if missing) */
    char region[64];                  /* environments' region */
    char env_type[32];                /* production, sandbox, ... */
    char name_prefix[32];             /* environment names start with it */
    int env_count;                    /* environments to create */
    int flows_per_env;                /* flows in each */
    char definition_path[4096];       /* the flow definition's file, resolved */
    cJSON *definition;                /* the definition (owned) */
    cJSON *body;                      /* the trigger body of every run (owned, may be NULL) */
    int clients;                      /* runs in flight at once */
    int connections;                  /* DEALER sockets */
    int64_t request_timeout_ms;       /* a run not answered in this long is a failure */
    bench_phase phases[BENCH_WL_MAX_PHASES]; /* what to run */
    int nphases;                      /* how many */
    int64_t verify;                   /* run ids to check afterwards (-1: all, 0: none) */
    int events;                       /* timed events given (ignored for now) */
} bench_workload;

/* bench_workload_parse - a workload from its JSON; base_dir resolves a relative definition
 * path (NULL: the current directory); the definition file is read. CMK_EINVAL with the
 * offending field named. */
int bench_workload_parse(const cJSON *doc, const char *base_dir, bench_workload *out,
                         cmk_err *err);

/* bench_workload_load - parse a workload file */
int bench_workload_load(const char *path, bench_workload *out, cmk_err *err);

/* bench_workload_free - release what a parse allocated */
void bench_workload_free(bench_workload *w);

/* bench_workload_json - the workload as it will run, for the results */
cJSON *bench_workload_json(const bench_workload *w);

#endif
