/*
 * load_int.h - internals of cmk-bench load shared by load.c (options, setup, results),
 * load_pump.c (the loop that keeps requests in flight on the DEALER sockets: flow runs in
 * phases, then run.show to verify) and load_json.c (the results document and targets). Not
 * for use outside bench/load*.c.
 */
#ifndef CMK_BENCH_LOAD_INT_H
#define CMK_BENCH_LOAD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/client.h"
#include "common/err.h"
#include "report.h"
#include "stats.h"
#include "sysinfo.h"
#include "workload.h"

#define LD_MAX_CONNS 64  /* DEALER sockets */
#define LD_MAX_PROCS 512 /* cluster processes followed (200 dedicated workers and more) */
#define LD_MAX_FAILS 32  /* distinct failure causes kept */
#define LD_REQID_MAX 40  /* request ids we choose: "L<slot>.<seq>" */

/* One (environment, flow) that runs go to. */
typedef struct {
    char env[64];   /* environment id */
    char flow[64];  /* flow id */
    char path[512]; /* its trigger URL's path on the gateway (HTTP-trigger flows) */
} ld_target;

/* One environment of the workload. */
typedef struct {
    char id[64];   /* environment id */
    int dedicated; /* 1: added to the bench's policy at setup */
} ld_env;

/* A timed event as it was carried out. */
typedef struct {
    int done;            /* it ran (0: the phases ended before its time) */
    int ok;              /* it succeeded */
    int64_t started_ms;  /* when it started, from the start of the first phase */
    int64_t took_ms;     /* how long it took (apply-cmk: until the operation ended) */
    char message[240];   /* what happened, or why it failed */
} ld_event_result;

/* One request in flight. */
typedef struct {
    int busy;                   /* a request is in flight in this slot */
    char reqid[LD_REQID_MAX];   /* its request id */
    int64_t sent_ns;            /* when it was sent (monotonic) */
    size_t item;                /* runs: the target index; verify: the acknowledged run index */
} ld_slot;

/* An acknowledged run (a reply carried its run id). */
typedef struct {
    char run[48]; /* run id */
    int target;   /* where it ran */
} ld_ack;

/* One failure cause and how often it happened. */
typedef struct {
    char cause[48];    /* error code name, "status:Failed", "timeout", "send" */
    uint64_t count;    /* occurrences */
    char example[200]; /* the first message seen */
} ld_failure;

/* One phase as it ran. */
typedef struct {
    bench_phase ph;       /* as configured; ph.rate resolved from rate_share */
    int clients;          /* runs in flight at once */
    int64_t start_ns;     /* when the phase started (monotonic) */
    int64_t end_ns;       /* when its last reply came in */
    uint64_t submitted;   /* flow.run requests sent */
    uint64_t acked;       /* replies with a run id */
    uint64_t succeeded;   /* of which status Succeeded */
    uint64_t failed;      /* error replies, timeouts and runs that did not succeed */
    bench_samples lat;    /* latencies of succeeded runs */
    double runs_s;        /* acknowledged runs per second over the phase */
    uint64_t runs_before; /* runs the environments held when it started (warm-ups and the
                             acknowledged runs of the phases before) */
    size_t pt_first;      /* its points in ld_run.pts: [pt_first, pt_end) */
    size_t pt_end;        /* one past its last point */
} ld_phase;

/* One process of the cluster. */
typedef struct {
    char name[64];                          /* "worker-shared" */
    char role[24];                          /* "worker" */
    int pid;                                /* its pid (from the status request) */
    int restarts;                           /* restarts at the start */
    int restarts_end;                       /* and at the end */
    int readable;                           /* /proc/<pid> could be read */
    int64_t ticks[BENCH_WL_MAX_PHASES + 1]; /* utime+stime at each phase boundary */
    int64_t rss_kb;                         /* VmRSS at the end */
    int64_t rss_peak_kb;                    /* largest VmRSS sampled during the phases */
    int64_t threads;                        /* threads at the end */
    int64_t fds;                            /* open descriptors now (-1: unreadable) */
    int64_t pss_kb;                         /* Pss now (-1: unreadable) */
    int64_t private_kb;                     /* private pages now (-1: unreadable) */
    int64_t base_rss_kb;                    /* VmRSS at the end of the first phase (soak base) */
    int64_t base_fds;                       /* descriptors then */
    int based;                              /* the base was read from this same pid */
    int64_t last_rss_kb;                    /* VmRSS at the end of the last phase */
    int64_t last_fds;                       /* descriptors then */
    int lasted;                             /* the last phase's end was read */
} ld_proc;

/* The whole load run. */
typedef struct {
    bench_workload wl;                   /* the workload */
    const char *run_dir;                 /* the cluster */
    char key_path[4200];                 /* our identity (keys/bench.key) */
    cmk_client *conns[LD_MAX_CONNS];     /* DEALER sockets */
    int nconns;                          /* how many */
    ld_env *envs;                        /* the workload's environments */
    int nenvs;                           /* how many */
    char identity[128];                  /* the policy's identity (when the workload needs CMK) */
    ld_event_result events[BENCH_WL_MAX_EVENTS]; /* timed events as they ran */
    pthread_t ev_thread;                 /* carries out the events */
    int ev_started;                      /* the thread was started */
    int64_t ev_t0_ns;                    /* the events' time 0 (monotonic) */
    atomic_int ev_stop;                  /* set when the phases are over */
    cmk_client *ev_conn;                 /* the events thread's own connection */
    ld_target *targets;                  /* where runs go */
    int ntargets;                        /* how many */
    ld_slot *slots;                      /* requests in flight */
    int nslots;                          /* slots allocated (the most clients of any phase) */
    ld_ack *acks;                        /* acknowledged runs kept for verification: every
                                            one, or with "verify": N every ack_stride-th (an
                                            even sample, at most max(4 N, 65536) kept) */
    size_t nacks;                        /* acknowledged runs kept */
    size_t cap_acks;                     /* room in acks */
    uint64_t ack_total;                  /* acknowledged runs so far (kept or not) */
    uint64_t ack_stride;                 /* one kept in this many (1, 2, 4, ...) */
    bench_point *pts;                    /* every completed run request (t_ms from its phase's start) */
    size_t npts;                         /* points so far */
    size_t cap_pts;                      /* room in pts */
    ld_failure fails[LD_MAX_FAILS];      /* failures by cause */
    int nfails;                          /* causes */
    ld_phase phases[BENCH_WL_MAX_PHASES];/* phases as they ran */
    int nphases;                         /* phases run */
    ld_proc procs[LD_MAX_PROCS];         /* cluster processes, then cmk-bench itself */
    int nprocs;                          /* how many */
    uint64_t seq;                        /* request sequence */
    uint64_t late;                       /* replies after their slot timed out */
    int64_t t0_ns;                       /* start of the first phase */
    int64_t next_sample_ns;              /* next per-second progress and RSS sample */
    char req_prefix[40];                 /* client_req prefix: unique per cmk-bench run */
    bench_progress prog;                 /* progress line */
    int64_t next_line_ns;                /* next progress line (every second on a terminal,
                                            every 5 s otherwise) */
    size_t prog_pt;                      /* first point since the last progress line */
    int64_t prog_ns;                     /* when the last progress line was written */
    bench_samples prog_lat;              /* scratch: latencies since the last progress line */
    uint64_t v_checked;                  /* acknowledged runs asked for with run.show */
    uint64_t v_found;                    /* found */
    uint64_t v_lost;                     /* not found: runs lost */
    uint64_t v_errors;                   /* could not be checked (no answer, other errors) */
    char lost_example[200];              /* one lost run id, for the report */
    double load_start[3];                /* load average when the first phase started */
} ld_run;

/* ld_run_phase - run phase i (r->phases[i].ph set): keep runs in flight until its duration or
 * request count is reached, then wait for the last replies */
int ld_run_phase(ld_run *r, int i, cmk_err *err);

/* ld_record_run - account one run request of phase ph (see load_pump.c) */
void ld_record_run(ld_run *r, ld_phase *ph, int64_t lat, int64_t now, size_t item, const char *run,
                   const char *status, const char *cause, const char *message);

/* ld_run_phase_http - phase i of an HTTP-trigger workload: C threads POST to the flows' URLs
 * on the gateway (load_http.c) */
int ld_run_phase_http(ld_run *r, int i, cmk_err *err);

/* ld_verify - run.show of the acknowledged runs (all, or an even sample of wl.verify), then a
 * second, one-by-one try of those that could not be checked */
int ld_verify(ld_run *r, cmk_err *err);

/* ld_fail - count one failure of cause (with an example message); returns its index in fails */
int ld_fail(ld_run *r, const char *cause, const char *message);

/* ld_sample_procs - read every process's /proc; at_boundary >= 0 stores CPU ticks there */
void ld_sample_procs(ld_run *r, int at_boundary);

/* ld_cmk_setup - the vault, key and policy of a workload that needs CMK (existing ones are
 * reused); r->identity gets the policy's identity */
int ld_cmk_setup(ld_run *r, cmk_client *c, cmk_err *err);

/* ld_cmk_link - add environment env to the bench's policy and wait for the operation to end */
int ld_cmk_link(ld_run *r, cmk_client *c, const char *env, cmk_err *err);

/* ld_events_start - start the events thread (its time 0 is r->t0_ns); no-op without events */
int ld_events_start(ld_run *r, cmk_err *err);

/* ld_events_stop - tell the events thread that the phases are over and join it */
void ld_events_stop(ld_run *r);

/* ld_soak - the largest growth of VmRSS (KiB) and of descriptors from the end of the first
 * phase to the end of the last, over the processes read at both; who names them ("" if none) */
void ld_soak(const ld_run *r, int64_t *rss_kib, char *who_rss, int64_t *fds, char *who_fds,
             size_t cap);

/* ld_results - the results document */
cJSON *ld_results(ld_run *r, const char *command, const char *workload_file);

#endif
