/*
 * wruns_sweep.c - the sweeper: once a second, runs in flight past run.timeout (cluster clock)
 * fail with RunTimedOut and are saved; runs a dead worker left Running in its partition and
 * older than run.timeout are marked Failed there.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "util.h"
#include "worker.h"
#include "wruns_int.h"

/* sweep_stale_records - runs recorded Running by a worker that died (not in memory here) and
 * older than run.timeout are marked Failed in their partition */
static void sweep_stale_records(worker *w, int64_t now, int64_t timeout)
{
    for (wenv *e = w->envs; e; e = e->next) {
        partition_run *list = NULL;
        size_t n = 0;
        if (!e->part || partition_run_unfinished(e->part, &list, &n, NULL) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            wrun *live = wrun_by_id(w, list[i].id);
            cmk_err err = CMK_ERR_INIT;
            if (live || now - list[i].start_ms <= timeout)
                continue;
            if (partition_run_save(e->part, list[i].id, "Failed", now, NULL, NULL, NULL, &err) == 0)
                cmk_log(CMK_LOG_WARN, e->id, list[i].id, "run.swept",
                        "flow=%s reason=\"still Running past run.timeout; its worker stopped during the run\"",
                        list[i].flow_id);
        }
        free(list);
    }
}

/* wruns_sweep - runs in flight past run.timeout (cluster clock) are failed and saved */
void wruns_sweep(worker *w)
{
    static int64_t last;
    int64_t mono = cmk_mono_ms(), now = worker_now(w), timeout = cmk_server_config(w->srv)->run_timeout;
    char msg[160], d[40];
    if (mono - last < SWEEP_EVERY_MS)
        return;
    last = mono;
    snprintf(msg, sizeof msg, "the run was still running after %s (run.timeout) and was stopped",
             cmk_duration_format(timeout, d, sizeof d));
    for (int again = 1; again;) {
        again = 0;
        for (wrun *r = w->runs; r; r = r->next) {
            int64_t start = 0;
            engine_run_times(r->run, &start, NULL);
            if (r->finishing || engine_run_status(r->run) != ENGINE_RUNNING || now - start <= timeout)
                continue;
            engine_run_fail(r->run, now, "RunTimedOut", msg, NULL);
            cmk_log(CMK_LOG_WARN, r->env, r->id, "run.swept", "flow=%s reason=\"%s\"", r->flow_id, msg);
            for (wrun *c = w->runs; c; c = c->next) /* its children answer no one now */
                if (c->parent == r)
                    c->parent = NULL;
            r->outstanding = 0; /* late answers find no waiting action and are dropped */
            wrun_finish(r);          /* a child's parent hears of the failure; may free r: rescan */
            again = 1;
            break;
        }
    }
    sweep_stale_records(w, now, timeout);
}
