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
 *                "body": { "text": "load" },                 the trigger body of every run
 *                "trigger": "run",            or "http": POST to each flow's URL on the gateway
 *                "child": "../flows/child-child.json" },   a child flow per environment, which
 *                                             every workflowReferenceName of the flows names
 *     "clients": 64,          runs in flight at once (a closed loop)
 *     "connections": 1,       DEALER sockets the clients share
 *     "request_timeout": "10s",
 *     "phases": [ { "name": "max", "duration": "10s" },
 *                 { "name": "half", "duration": "10s", "rate": "50%" } ],
 *     "verify": "all",        or a number: run.show of that many acknowledged runs (a sample)
 *     "cmk": { "vault": "bench-kv", "key": "bench-cmk", "policy": "bench-cmk" },   optional names
 *     "cluster": { "policy.reenable_time": "2s" },     --set of `cmkctl up` when --up starts it
 *     "events": [ { "at": "3s", "do": "rotate-key" }, { "at": "5s", "do": "kill-worker",
 *                   "env": 0 }, ... ]
 *   }
 *
 * A phase runs for a duration or a number of requests; "rate" offers at most that many runs/s
 * (a number) or a share of what the first closed-loop phase achieved ("50%"); no rate is a
 * closed loop. A relative "definition" path is taken from the workload file's directory.
 * Or a phase fills: "until_runs": N runs until the workload's environments hold N runs: its
 * requests are N less the runs they hold when it starts (one warm-up run per flow and every
 * run acknowledged by the phases before), none if they hold N already. With one environment
 * that is the size of its partition (configs/workloads/flat-latency.json fills one to 2
 * million runs). `cmk-bench load --fill N` sets every until_runs to N, and --scale F
 * multiplies every phase's duration, requests and until_runs by F (a small run of the same
 * workload, e.g. for a test).
 *
 * Comparison of two phases: "compare": { "phase": "full", "with": "fresh", "p99_ratio_max":
 * 1.5 } adds a target row to the report: the p99 latency of phase "phase" divided by that of
 * phase "with" must be at most p99_ratio_max (both p99s and p50s, the ratio and the runs the
 * environments held at the start of each phase are in the row). A report, not an exit status.
 *
 * Environments: "environments.dedicated": N makes the first N of "count" dedicated: the bench
 * sets up a key vault with purge protection, an RSA key and an Encryption enterprise policy
 * whose identity it grants get/wrapKey/unwrapKey ("cmk" names them), and adds each of those
 * environments to the policy before the phases ("infrastructure": "dedicated" makes them all
 * dedicated). Every environment is created managed, so a shared one can be put under CMK by an
 * event while runs go on.
 *
 * Events, at times from the start of the first phase, carried out by a thread of their own with
 * its own connection while the runs go on:
 *   rotate-key    a new version of the policy's key (applied to the dedicated environments)
 *   disable-key   the policy's key disabled: its environments lock ("Environment disabled")
 *   enable-key    the key enabled again
 *   reenable      "Re-enable environment" for every dedicated environment that is locked
 *   apply-cmk     add shared environment "env" (an index into the environments) to the policy
 *   firewall      swap the customer firewall's config for "config" (a file, relative to the
 *                 workload file)
 *   kill-worker   SIGKILL the worker of environment "env" (default: the shared worker)
 * Runs refused while an environment is locked are failures by cause, never lost runs.
 * "every": "10s" repeats an event until the phases' total duration.
 *
 * Thresholds, like k6's: "thresholds": { "runs_s": 500, "p99_ms": 50, "failed_pct": 1 } -
 * every phase must reach at least runs_s acknowledged runs/s (a phase with a rate is held to
 * the lower of runs_s and 90% of its rate), keep the 99th percentile latency at or under p99_ms
 * and fail at most failed_pct percent of its runs; cmk-bench load exits 1 naming the first
 * threshold not met (after writing its report). Each is optional.
 *
 * Soak: "soak": { "max_rss_growth_kib": 4096, "max_fd_growth": 8 } bounds how much each
 * process's resident memory and open descriptors may grow from the end of the first phase
 * (warm) to the end of the last; cmk-bench load fails when a bound is passed.
 */
#ifndef CMK_BENCH_WORKLOAD_H
#define CMK_BENCH_WORKLOAD_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define BENCH_WL_MAX_PHASES 8  /* phases in one workload */
#define BENCH_WL_MAX_EVENTS 256 /* timed events in one workload (after "every" expands) */

/* What a timed event does. */
typedef enum {
    BENCH_EV_ROTATE_KEY = 1, /* key.rotate of the policy's key */
    BENCH_EV_DISABLE_KEY,    /* key.update enabled=false */
    BENCH_EV_ENABLE_KEY,     /* key.update enabled=true */
    BENCH_EV_REENABLE,       /* env.reenable of every locked dedicated environment */
    BENCH_EV_APPLY_CMK,      /* policy.link of a shared environment, waited for */
    BENCH_EV_FIREWALL,       /* firewall.apply of a config file */
    BENCH_EV_KILL_WORKER,    /* SIGKILL an environment's worker */
} bench_event_kind;

/* bench_event_kind_name - "rotate-key", ... */
const char *bench_event_kind_name(bench_event_kind k);

/* One timed event. */
typedef struct {
    int64_t at_ms;           /* from the start of the first phase */
    bench_event_kind kind;   /* what to do */
    int env;                 /* environment index (apply-cmk, kill-worker; -1: default) */
    char config_path[4096];  /* firewall: the config file, resolved */
} bench_event;

/* One phase of a workload. */
typedef struct {
    char name[32];        /* for reports */
    int64_t duration_ms;  /* run this long (0: run `requests` requests) */
    uint64_t requests;    /* or this many (0: by duration) */
    uint64_t until_runs;  /* or until the environments hold this many runs (0: not a fill) */
    double rate;          /* offered runs/s (0: closed loop or share) */
    double rate_share;    /* > 0: this share of the first closed-loop phase's runs/s */
    int clients;          /* runs in flight at once (0: the workload's) */
} bench_phase;

/* A parsed workload. */
typedef struct {
    char name[64];                    /* workload name */
    char description[512];            /* one paragraph */
    char tenant[64];                  /* tenant id (created if missing) */
    char region[64];                  /* environments' region */
    char env_type[32];                /* production, sandbox, ... */
    char name_prefix[32];             /* environment names start with it */
    int env_count;                    /* environments to create */
    int dedicated;                    /* of which the first this many are dedicated */
    char cmk_vault[64];               /* the bench's key vault (dedicated, key events) */
    char cmk_key[64];                 /* its key */
    char cmk_policy[64];              /* the enterprise policy */
    cJSON *cluster_set;               /* "cluster": settings for `cmkctl up --set` (owned) */
    int flows_per_env;                /* flows in each */
    char definition_path[4096];       /* the flow definition's file, resolved */
    cJSON *definition;                /* the definition (owned) */
    char child_path[4096];            /* flows.child: a child flow's definition file ("" none) */
    cJSON *child;                     /* its definition (owned): one per environment, and every
                                         "Run a Child Flow" action of the flows calls it */
    cJSON *body;                      /* the trigger body of every run (owned, may be NULL) */
    int http_trigger;                 /* flows.trigger "http": runs are POSTs to the flows' URLs
                                         on the gateway; "run" (default): flow.run requests */
    int clients;                      /* runs in flight at once */
    int connections;                  /* DEALER sockets */
    int64_t request_timeout_ms;       /* a run not answered in this long is a failure */
    bench_phase phases[BENCH_WL_MAX_PHASES]; /* what to run */
    int nphases;                      /* how many */
    int64_t verify;                   /* run ids to check afterwards (-1: all, 0: none) */
    bench_event events[BENCH_WL_MAX_EVENTS]; /* timed events, in time order */
    int nevents;                      /* how many */
    int64_t soak_rss_kib;             /* "soak": most VmRSS growth allowed per process (-1: none) */
    int64_t soak_fds;                 /* "soak": most descriptor growth allowed (-1: none) */
    double min_runs_s;                /* "thresholds.runs_s": least runs/s of a phase (<0: none) */
    double max_p99_ms;                /* "thresholds.p99_ms": most p99 latency (<0: none) */
    double max_failed_pct;            /* "thresholds.failed_pct": most failed runs, % (<0: none) */
    char cmp_phase[32];               /* "compare.phase": the phase measured ("": no compare) */
    char cmp_with[32];                /* "compare.with": the phase it is compared with */
    double cmp_p99_ratio_max;         /* "compare.p99_ratio_max": most p99 ratio */
} bench_workload;

/* bench_workload_needs_cmk - 1 if the workload needs the vault, key and policy */
int bench_workload_needs_cmk(const bench_workload *w);

/* bench_workload_parse - a workload from its JSON; base_dir resolves a relative definition
 * path (NULL: the current directory); the definition file is read. CMK_EINVAL with the
 * offending field named. */
int bench_workload_parse(const cJSON *doc, const char *base_dir, bench_workload *out,
                         cmk_err *err);

/* bench_workload_load - parse a workload file */
int bench_workload_load(const char *path, bench_workload *out, cmk_err *err);

/* bench_workload_scale - --scale f and --fill n (0: keep) of cmk-bench load: every phase's
 * duration (at least 100 ms), requests and until_runs (at least 1) times f, then every
 * until_runs n. CMK_EINVAL for f <= 0, or n with no phase that has until_runs. */
int bench_workload_scale(bench_workload *w, double f, uint64_t fill, cmk_err *err);

/* bench_workload_free - release what a parse allocated */
void bench_workload_free(bench_workload *w);

/* bench_workload_json - the workload as it will run, for the results */
cJSON *bench_workload_json(const bench_workload *w);

#endif
