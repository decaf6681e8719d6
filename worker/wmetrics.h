/*
 * wmetrics.h - a worker's metrics (common/metrics.h): runs by status and their latency, group
 * commits and their size, seal time, partitions' size on disk. Series pointers are made once
 * (wmetrics_get), so counting a run or a seal is a few atomic additions.
 *
 *   cmk_worker_runs_started_total, cmk_worker_runs_total{status="Succeeded"},
 *   cmk_worker_run_duration_seconds (histogram), cmk_worker_runs_inflight,
 *   cmk_worker_commits_total{result="ok"|"failed"}, cmk_worker_commit_group_size (histogram),
 *   cmk_worker_seal_seconds (histogram), cmk_worker_partition_bytes{env,partition},
 *   cmk_worker_environments
 */
#ifndef CMK_WMETRICS_H
#define CMK_WMETRICS_H

#include "metrics.h"

/* The worker's series. */
typedef struct {
    cmk_metric *runs_started;   /* runs begun */
    cmk_family *runs;           /* runs ended, by status */
    cmk_metric *run_seconds;    /* run latency: start to durable end */
    cmk_metric *runs_inflight;  /* runs in flight */
    cmk_metric *commits_ok;     /* group commits that succeeded */
    cmk_metric *commits_failed; /* ... that failed (their writes failed) */
    cmk_metric *group_size;     /* writes per commit */
    cmk_metric *seal_seconds;   /* one value sealed (AES-256-GCM) */
    cmk_family *partition_bytes; /* database size by environment and partition */
    cmk_metric *environments;   /* environments open */
} wmetrics;

/* wmetrics_get - the series (made on first call; thread-safe) */
const wmetrics *wmetrics_get(void);

/* wmetrics_run_ended - one run ended with status after seconds */
void wmetrics_run_ended(const char *status, double seconds);

#endif
