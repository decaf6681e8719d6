/*
 * wruns.c - runs of flows in a worker: the engine steps each run as far as it can and hands
 * out the work it waits on - HTTP actions to the gateway (wruns_gw.c), child flows and List
 * flows as Admin to the worker itself (wruns_actions.c); the sweeper (wruns_sweep.c) ends runs
 * past run.timeout. A run is recorded when its first step returns to the loop still running
 * (with its trigger) and saved with every action's inputs and outputs when it ends; a run that
 * ends within its first step (a Compose-only flow) is written once, trigger and record together.
 * Its caller hears only once that write is durable.
 * A run submitted again with the same client request id is not run twice.
 *
 * Run ids sort by time, newest first, as Logic Apps run ids do (they count down in time):
 * "run-" + 12 hex digits of (2^48 - 1 - start ms) + 8 hex digits of a per-process sequence
 * (random start, counting down). A partition's index of run ids then grows at one end instead
 * of at random pages. Runs in flight are found by id in a hash map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "clock.h"
#include "flowdef.h"
#include "hmap.h"
#include "log.h"
#include "util.h"
#include "wmetrics.h"
#include "worker.h"
#include "wruns_int.h"

#define SLICE_STARTS 16          /* actions one step of a run may start before the loop runs again */

static cmk_hmap *runs_by_id;     /* run id -> wrun in flight (one worker per process) */
static int runs_by_id_off;       /* the map could not be kept: walk the list */

/* run_id - a run id that sorts by time, newest first (see the file header) */
static char *run_id(int64_t now_ms, char *buf, size_t cap)
{
    static uint32_t seq;
    static int seeded;
    const uint64_t top = (UINT64_C(1) << 48) - 1;
    uint64_t t = now_ms < 0 ? 0 : (uint64_t)now_ms > top ? top : (uint64_t)now_ms;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&seq, sizeof seq) != 1)
            seq = (uint32_t)cmk_mono_ms() ^ (uint32_t)(uintptr_t)buf;
        seeded = 1;
    }
    snprintf(buf, cap, "run-%012llx%08x", (unsigned long long)(top - t), (unsigned)seq--);
    return buf;
}

/* unlink_run - take r out of the registry */
static void unlink_run(wrun *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (r->w->runs == r)
        r->w->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
    if (runs_by_id && cmk_hmap_get(runs_by_id, r->id) == r)
        cmk_hmap_remove(runs_by_id, r->id);
}

/* wrun_by_id - the run in flight with this id, or NULL */
wrun *wrun_by_id(worker *w, const char *id)
{
    wrun *r;
    if (runs_by_id)
        return cmk_hmap_get(runs_by_id, id);
    for (r = w->runs; r && strcmp(r->id, id) != 0; r = r->next)
        ;
    return r;
}

/* free_run - forget a run; its pending gateway calls are dropped */
static void free_run(wrun *r)
{
    wrun_gw_drop(r);
    unlink_run(r);
    engine_run_destroy(&r->run);
    cmk_msg_destroy(&r->reply);
    free(r->trigger_json);
    free(r);
}

/* on_begun - the run's start record: nothing to wait for (runs are acknowledged at the end) */
static void on_begun(void *arg, int rc)
{
    (void)arg;
    (void)rc;
}

/* record_started - a run going back to the loop still running gets its Running row now (the
 * client request was checked when it started and nothing ran in between); 0 or the error */
static int record_started(wrun *r)
{
    wenv *e;
    cmk_err err = CMK_ERR_INIT;
    int rc;
    if (r->recorded)
        return 0;
    e = wenv_find(r->w, r->env);
    rc = !e || !e->part ? cmk_err_set(&err, CMK_EUNAVAIL, "environment %s is not open", r->env)
                        : partition_run_insert(e->part, &r->meta, r->req_key, r->trigger_json, NULL, NULL, on_begun,
                                               NULL, &err);
    if (rc < 0) {
        cmk_log(CMK_LOG_ERROR, r->env, r->id, "run.record_failed", "error=\"%s\"", err.msg);
        return rc;
    }
    r->recorded = 1;
    free(r->trigger_json);
    r->trigger_json = NULL;
    return 0;
}

/* result_json - what a caller hears about an ended run */
static cJSON *result_json(wrun *r)
{
    cJSON *o = cJSON_CreateObject();
    int64_t start = 0, end = 0;
    const char *code = NULL, *message = NULL;
    int status_code;
    const cJSON *headers, *body;
    char ts[40];

    engine_run_times(r->run, &start, &end);
    cJSON_AddStringToObject(o, "run", r->id);
    cJSON_AddStringToObject(o, "flow", r->flow_id);
    cJSON_AddStringToObject(o, "env", r->env);
    cJSON_AddStringToObject(o, "status", engine_status_name(engine_run_status(r->run)));
    cJSON_AddStringToObject(o, "start", cmk_time_format(start, ts, sizeof ts));
    cJSON_AddNumberToObject(o, "duration_ms", (double)(end - start));
    engine_run_error(r->run, &code, &message);
    if (code || message) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", code ? code : "");
        cJSON_AddStringToObject(e, "message", message ? message : "");
    }
    if (engine_run_response(r->run, &status_code, &headers, &body)) {
        cJSON *resp = cJSON_AddObjectToObject(o, "response");
        cJSON_AddNumberToObject(resp, "statusCode", status_code);
        cJSON_AddItemToObject(resp, "headers", headers ? cJSON_Duplicate(headers, 1) : cJSON_CreateObject());
        cJSON_AddItemToObject(resp, "body", body ? cJSON_Duplicate(body, 1) : cJSON_CreateNull());
    }
    /* the failed action's error, which is what Power Automate shows on a failed run */
    for (size_t i = 0; i < engine_run_record_count(r->run); i++) {
        engine_record rec;
        if (engine_run_record(r->run, i, &rec) && (rec.status == ENGINE_FAILED || rec.status == ENGINE_TIMEDOUT) &&
            rec.error_message && !cJSON_GetObjectItem(o, "failed_action")) {
            cJSON_AddStringToObject(o, "failed_action", rec.name);
            cJSON_AddStringToObject(o, "action_error", rec.error_message);
        }
    }
    return o;
}

/* on_saved - the run's final record is durable: answer the caller or the parent */
static void on_saved(void *arg, int rc)
{
    wrun *r = arg;
    worker *w = r->w;
    w->runs_finished++;
    wmetrics_run_ended(rc < 0 ? "SaveFailed" : engine_status_name(engine_run_status(r->run)),
                       cmk_metrics_now() - r->t0);
    if (r->parent) {
        wrun *p = r->parent;
        int status_code = 200;
        const cJSON *headers = NULL, *body = NULL;
        cJSON *out = cJSON_CreateObject();
        engine_status st = engine_run_status(r->run) == ENGINE_SUCCEEDED ? ENGINE_SUCCEEDED : ENGINE_FAILED;
        char *text;
        cmk_err err = CMK_ERR_INIT;
        if (engine_run_response(r->run, &status_code, &headers, &body)) {
            cJSON_AddNumberToObject(out, "statusCode", status_code);
            cJSON_AddItemToObject(out, "headers", headers ? cJSON_Duplicate(headers, 1) : cJSON_CreateObject());
            cJSON_AddItemToObject(out, "body", body ? cJSON_Duplicate(body, 1) : cJSON_CreateNull());
            if (status_code >= 400)
                st = ENGINE_FAILED;
        } else {
            cJSON_AddNumberToObject(out, "statusCode", st == ENGINE_SUCCEEDED ? 200 : 500);
            cJSON_AddItemToObject(out, "body", cJSON_CreateNull());
        }
        text = cJSON_PrintUnformatted(out);
        cJSON_Delete(out);
        p->outstanding--;
        if (engine_complete(p->run, r->parent_action, st, text, st == ENGINE_SUCCEEDED ? NULL : "the child flow failed",
                            worker_now(w), &err) == 0)
            wrun_advance(p);
        free(text);
    } else if (r->reply) {
        if (rc < 0)
            worker_fail(w, r->reply, rc, "the run could not be saved");
        else {
            cmk_msg_set_body(r->reply, result_json(r));
            worker_reply(w, r->reply);
        }
        r->reply = NULL;
    }
    free_run(r);
}

/* wrun_finish - save the ended run; the caller hears once it is durable */
void wrun_finish(wrun *r)
{
    wenv *e = wenv_find(r->w, r->env);
    char *record = NULL;
    int64_t start = 0, end = 0;
    cmk_err err = CMK_ERR_INIT;

    r->finishing = 1;
    engine_run_times(r->run, &start, &end);
    /* log first: the save may commit inline, and on_saved frees r */
    cmk_log(CMK_LOG_INFO, r->env, r->id, "run.ended", "flow=%s status=%s duration_ms=%lld", r->flow_id,
            engine_status_name(engine_run_status(r->run)), (long long)(end - start));
    if (!r->recorded) {
        /* ended within its first step: one row, trigger and record together */
        cmk_strlcpy(r->meta.status, engine_status_name(engine_run_status(r->run)), sizeof r->meta.status);
        r->meta.end_ms = end;
        r->recorded = 1;
    } else
        r->meta.id[0] = '\0';
    if (!e || !e->part || engine_run_to_json(r->run, &record, &err) < 0 ||
        (r->meta.id[0] ? partition_run_insert(e->part, &r->meta, r->req_key, r->trigger_json, record, NULL, on_saved,
                                              r, &err)
                       : partition_run_save(e->part, r->id, engine_status_name(engine_run_status(r->run)), end,
                                            record, on_saved, r, &err)) < 0) {
        cmk_log(CMK_LOG_ERROR, r->env, r->id, "run.save_failed", "error=\"%s\"", err.msg[0] ? err.msg : "no partition");
        free(record);
        on_saved(r, err.code ? err.code : CMK_EIO);
        return;
    }
    free(record);
}

/* A scheduled continuation of a time-sliced run (found again by id: it may be gone by then). */
typedef struct {
    worker *w;
    char id[64];
} wcont;

/* on_continue - the loop ran (heartbeats, other requests): step the run further */
static int on_continue(cmk_loop *loop, int64_t id, void *arg)
{
    wcont *c = arg;
    (void)loop;
    (void)id;
    {
        wrun *r = wrun_by_id(c->w, c->id);
        if (r) {
            r->continuing = 0;
            wrun_advance(r);
        }
    }
    free(c);
    return 0;
}

/* advance - step the engine until it waits on outside work or ends. A step starts at most
 * SLICE_STARTS actions; if more are ready the rest runs from a zero-delay loop timer, so the
 * worker's loop (heartbeats, other tenants' requests) runs between slices. */
static int advance_steps(wrun *r)
{
    for (int guard = 0; guard < 1000 && !r->finishing; guard++) {
        engine_work_list *work = NULL;
        cmk_err err = CMK_ERR_INIT;
        int immediate = 0, more;

        if ((more = engine_step_bounded(r->run, worker_now(r->w), SLICE_STARTS, &work, &err)) < 0) {
            cmk_log(CMK_LOG_ERROR, r->env, r->id, "run.step_failed", "error=\"%s\"", err.msg);
            engine_run_cancel(r->run, worker_now(r->w), NULL);
            more = 0;
        }
        for (size_t i = 0; work && i < work->count; i++) {
            const engine_work *wk = &work->items[i];
            if (wk->kind == ENGINE_WORK_HTTP)
                immediate |= wrun_send_http(r, wk);
            else if (wk->kind == ENGINE_WORK_CHILD_FLOW)
                immediate |= wrun_start_child(r, wk);
            else if (wk->kind == ENGINE_WORK_LIST_FLOWS) {
                immediate |= wrun_connector_action(r, wk);
            }
        }
        engine_work_list_destroy(&work);
        if (engine_run_status(r->run) != ENGINE_RUNNING) {
            if (r->outstanding == 0) {
                wrun_finish(r);
                return 0; /* r may be gone */
            }
            return 1; /* ended (e.g. Terminate) with answers still to come: they are dropped */
        }
        if (more) { /* the slice is used: let the loop run, then go on */
            wcont *c = r->continuing ? NULL : calloc(1, sizeof *c);
            if (c) {
                c->w = r->w;
                cmk_strlcpy(c->id, r->id, sizeof c->id);
                if (cmk_loop_add_timer(cmk_server_loop(r->w->srv), 0, 0, on_continue, c) > 0)
                    r->continuing = 1;
                else
                    free(c);
            }
            return 1;
        }
        if (!immediate)
            return 1;
    }
    return !r->finishing;
}

/* wrun_advance - step the run (advance_steps); one that goes back to the loop still running has its
 * Running row written first, so that a crash from here on leaves it recorded. If that write
 * fails, the run fails: its caller hears why rather than a run that nobody can find. */
void wrun_advance(wrun *r)
{
    char msg[CMK_ERR_MSG_MAX];
    if (!advance_steps(r) || r->recorded || record_started(r) == 0)
        return;
    snprintf(msg, sizeof msg, "the run could not be recorded in environment %s's partition", r->env);
    if (engine_run_status(r->run) == ENGINE_RUNNING)
        engine_run_fail(r->run, worker_now(r->w), "RunNotRecorded", msg, NULL);
    if (r->outstanding == 0 && !r->finishing)
        wrun_finish(r);
}

/* wrun_start - start a run of flow (parsed definition, shared) with trigger outputs (taken) */
int wrun_start(worker *w, wenv *env, const partition_flow *flow, const flowdef *fd, cJSON *trigger,
               const char *client_req, cmk_msg *reply, wrun *parent, const char *parent_action, cmk_err *err)
{
    wrun *r;
    partition_run existing;
    char id[64];
    int64_t now = worker_now(w); /* one start time: the id, the record and the run's row */
    int rc;

    r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(trigger);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    run_id(now, id, sizeof id);
    cmk_strlcpy(r->id, id, sizeof r->id);
    cmk_strlcpy(r->env, env->id, sizeof r->env);
    cmk_strlcpy(r->flow_id, flow->id, sizeof r->flow_id);
    r->w = w;
    r->parent = parent;
    r->depth = parent ? parent->depth + 1 : 0;
    if (parent_action)
        cmk_strlcpy(r->parent_action, parent_action, sizeof r->parent_action);
    if ((rc = engine_run_start(fd, trigger, now, &r->run, err)) < 0) {
        free(r);
        return rc;
    }
    /* the record names the definition's version (the flow's updated time), it does not copy it */
    if (engine_run_set_definition(r->run, flow->id, flow->updated_ms) < 0 ||
        !(r->trigger_json = cJSON_PrintUnformatted(trigger))) {
        engine_run_destroy(&r->run);
        free(r);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    engine_set_budget(r->run, (size_t)cmk_server_config(w->srv)->run_data_budget);
    cmk_strlcpy(r->meta.id, r->id, sizeof r->meta.id);
    cmk_strlcpy(r->meta.flow_id, flow->id, sizeof r->meta.flow_id);
    cmk_strlcpy(r->meta.client_req, client_req ? client_req : "", sizeof r->meta.client_req);
    cmk_strlcpy(r->meta.status, "Running", sizeof r->meta.status);
    r->meta.start_ms = now;
    /* the client request is checked now; the run's row is written when its first step ends
     * (advance), with its record if it ended by then */
    rc = partition_run_dedup(env->part, &r->meta, &existing, r->req_key, sizeof r->req_key, err);
    if (rc == CMK_EEXIST) {
        /* the same submission again: answer with the run it already made, never run it twice */
        cJSON *o = cJSON_CreateObject();
        char ts[40];
        cJSON_AddStringToObject(o, "run", existing.id);
        cJSON_AddStringToObject(o, "flow", existing.flow_id);
        cJSON_AddStringToObject(o, "env", env->id);
        cJSON_AddStringToObject(o, "status", existing.status);
        cJSON_AddStringToObject(o, "start", cmk_time_format(existing.start_ms, ts, sizeof ts));
        cJSON_AddBoolToObject(o, "duplicate", 1);
        engine_run_destroy(&r->run);
        free(r->trigger_json);
        free(r);
        cmk_msg_set_body(reply, o);
        worker_reply(w, reply);
        return 0;
    }
    if (rc < 0) {
        engine_run_destroy(&r->run);
        free(r->trigger_json);
        free(r);
        return rc;
    }
    r->reply = reply;
    r->prev = NULL;
    r->next = w->runs;
    if (w->runs)
        w->runs->prev = r;
    w->runs = r;
    if (!runs_by_id && !runs_by_id_off && !(runs_by_id = cmk_hmap_new()))
        runs_by_id_off = 1; /* out of memory: runs are found by walking the list from now on */
    if (runs_by_id && cmk_hmap_put(runs_by_id, r->id, r) < 0) {
        cmk_hmap_destroy(&runs_by_id);
        runs_by_id_off = 1;
    }
    w->runs_started++;
    r->t0 = cmk_metrics_now();
    cmk_metric_inc(wmetrics_get()->runs_started);
    cmk_metric_add(wmetrics_get()->runs_inflight, 1);
    wrun_advance(r);
    return 0;
}

/* wruns_tick - HTTP actions the gateway never answered time out; the sweeper */
void wruns_tick(worker *w)
{
    wruns_sweep(w);
    wruns_gw_timeouts(w);
}

/* wruns_destroy_all - the worker stops: runs in flight end (their callers retry) */
void wruns_destroy_all(worker *w)
{
    while (w->runs) {
        wrun *r = w->runs;
        if (r->reply)
            worker_fail(w, r->reply, CMK_EUNAVAIL, "the worker stopped during the run; submit it again");
        r->reply = NULL;
        free_run(r);
    }
    wruns_gw_forget();
    cmk_hmap_destroy(&runs_by_id);
    runs_by_id_off = 0;
}
