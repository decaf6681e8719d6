/*
 * wmetrics.c - the worker's metric series, made once (see wmetrics.h).
 */
#include "wmetrics.h"

#include <pthread.h>
#include <string.h>

static wmetrics m;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Run latency: a Compose-only run takes well under a millisecond, HTTP actions up to seconds. */
static const double run_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,   0.5,   1,      2.5,   5,    10,    30 };
static const double group_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };
static const double seal_bounds[] = { 0.000002, 0.000005, 0.00001, 0.00002, 0.00005,
                                      0.0001,   0.00025,  0.0005,  0.001,   0.005 };

/* make - every series */
static void make(void)
{
    m.runs_started = cmk_metrics_counter("cmk_worker_runs_started_total", "Runs begun.");
    m.runs = cmk_metrics_family("cmk_worker_runs_total", "Runs ended (durably saved), by status.",
                                CMK_METRIC_COUNTER, "status", NULL, 0);
    /* the usual outcomes exist from the start, so rate() sees them at 0 before the first */
    cmk_family_get1(m.runs, "Succeeded");
    cmk_family_get1(m.runs, "Failed");
    m.run_seconds = cmk_metrics_histogram("cmk_worker_run_duration_seconds",
                                          "Run latency: from start to its durable end.",
                                          run_bounds, (int)(sizeof run_bounds / sizeof run_bounds[0]));
    m.runs_inflight = cmk_metrics_gauge("cmk_worker_runs_inflight", "Runs in flight.");
    cmk_family *commits = cmk_metrics_family("cmk_worker_commits_total",
                                             "Group commits of partitions, by result.",
                                             CMK_METRIC_COUNTER, "result", NULL, 0);
    m.commits_ok = cmk_family_get1(commits, "ok");
    m.commits_failed = cmk_family_get1(commits, "failed");
    m.group_size = cmk_metrics_histogram("cmk_worker_commit_group_size",
                                         "Writes made durable by one group commit.", group_bounds,
                                         (int)(sizeof group_bounds / sizeof group_bounds[0]));
    m.seal_seconds = cmk_metrics_histogram("cmk_worker_seal_seconds",
                                           "Time to seal one value (AES-256-GCM, bound to its place).",
                                           seal_bounds, (int)(sizeof seal_bounds / sizeof seal_bounds[0]));
    m.partition_bytes = cmk_metrics_family("cmk_worker_partition_bytes",
                                           "Size of a partition's database (pages in use).",
                                           CMK_METRIC_GAUGE, "env,partition", NULL, 0);
    m.environments = cmk_metrics_gauge("cmk_worker_environments",
                                       "Environments with an open partition.");
}

/* wmetrics_get - the series */
const wmetrics *wmetrics_get(void)
{
    pthread_once(&once, make);
    return &m;
}

/* wmetrics_run_ended - count a run; the status series are looked up without the lock for the
 * usual two */
void wmetrics_run_ended(const char *status, double seconds)
{
    static cmk_metric *ok, *failed;
    const wmetrics *w = wmetrics_get();
    cmk_metric *s;

    if (!ok) {
        ok = cmk_family_get1(w->runs, "Succeeded");
        failed = cmk_family_get1(w->runs, "Failed");
    }
    if (!strcmp(status, "Succeeded"))
        s = ok;
    else if (!strcmp(status, "Failed"))
        s = failed;
    else
        s = cmk_family_get1(w->runs, status);
    cmk_metric_inc(s);
    cmk_metric_observe(w->run_seconds, seconds);
    cmk_metric_add(w->runs_inflight, -1);
}
