/*
 * wenv.c - the environments a worker serves: on first use, fetch the environment's data keys
 * and open its partition; requests that arrive meanwhile wait in a queue.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "worker.h"

/* A request waiting for its environment. */
typedef struct wqueued {
    wop_fn fn;            /* what to run */
    cmk_msg *reply;       /* addressed reply */
    cJSON *body;          /* request body (owned copy) */
    struct wqueued *next;
} wqueued;

wenv *wenv_find(worker *w, const char *id)
{
    for (wenv *e = w->envs; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

/* run_one - run a request on a ready environment */
static void run_one(worker *w, wenv *e, wop_fn fn, cmk_msg *reply, const cJSON *body)
{
    cmk_err err = CMK_ERR_INIT;
    if (fn(w, e, reply, body, &err) < 0) {
        /* a miss is expected (the controller asks both partitions of an environment for a run,
         * a flow or a connection, and one of them has none): not a warning */
        cmk_log(err.code == CMK_ENOENT ? CMK_LOG_DEBUG : CMK_LOG_WARN, e->id, reply->reqid, "request.failed",
                "code=%s error=\"%s\"", cmk_code_name(err.code), err.msg);
        worker_fail(w, reply, err.code ? err.code : CMK_EINTERNAL, err.msg);
    }
}

/* drain - run or fail the queue */
static void drain(worker *w, wenv *e, const cmk_err *err)
{
    wqueued *q = e->queue;
    e->queue = NULL;
    /* the queue was built newest first: run oldest first */
    wqueued *rev = NULL;
    while (q) {
        wqueued *next = q->next;
        q->next = rev;
        rev = q;
        q = next;
    }
    while (rev) {
        wqueued *next = rev->next;
        if (err)
            worker_fail(w, rev->reply, err->code ? err->code : CMK_EUNAVAIL, err->msg);
        else
            run_one(w, e, rev->fn, rev->reply, rev->body);
        cJSON_Delete(rev->body);
        free(rev);
        rev = next;
    }
}

/* on_keys - the environment's keys arrived (or not): open the partition */
static void on_keys(void *arg, const char *env_id, cmk_dek *data, cmk_dek *mmk, const cmk_err *kerr)
{
    worker *w = arg;
    wenv *e = wenv_find(w, env_id);
    cmk_err err = CMK_ERR_INIT;
    char dir[PATH_MAX];
    partition_opts opts;

    if (!e)
        return;
    e->opening = 0;
    if (kerr) {
        drain(w, e, kerr);
        return;
    }
    if (!e->part) {
        /* the shared infrastructure's partition and the dedicated one are separate files */
        snprintf(dir, sizeof dir, "%s/partitions/%s/%s", cmk_server_config(w->srv)->run_dir, e->id,
                 cmk_server_shared(w->srv) ? "shared" : "dedicated");
        partition_opts_default(&opts);
        opts.dedup_window_ms = cmk_server_config(w->srv)->dedup_window; /* rule RUN-DEDUP-WINDOW */
        if (partition_open(dir, e->id, &opts, &e->part, &err) < 0) {
            cmk_log(CMK_LOG_ERROR, e->id, NULL, "partition.open_failed", "error=\"%s\"", err.msg);
            drain(w, e, &err);
            return;
        }
        cmk_log(CMK_LOG_INFO, e->id, NULL, "partition.opened", "dir=%s", dir);
    }
    partition_set_keys(e->part, data, mmk);
    if (partition_schema_legacy(e->part)) {
        /* written by an older build: seal its clear names and signatures before serving */
        size_t n = 0;
        if (partition_upgrade(e->part, &n, &err) < 0)
            cmk_log(CMK_LOG_ERROR, e->id, NULL, "partition.upgrade_failed", "error=\"%s\"", err.msg);
        else
            cmk_log(CMK_LOG_INFO, e->id, NULL, "partition.upgraded", "schema=2 sealed=%zu", n);
    }
    drain(w, e, NULL);
}

/* wenv_dispatch - run req now, or once its environment is ready */
int wenv_dispatch(worker *w, const cmk_msg *req, wop_fn fn, cmk_err *err)
{
    const char *id = cmk_json_str(req->body, "env", "");
    wenv *e;
    cmk_msg *reply;

    if (!*id)
        return cmk_err_set(err, CMK_EINVAL, "the request names no environment");
    if (!cmk_server_shared(w->srv)) {
        /* a dedicated worker serves only its own environments */
        const cJSON *it;
        int mine = 0;
        cJSON_ArrayForEach(it, cmk_server_envs(w->srv)) {
            mine |= cJSON_IsString(it) && strcmp(it->valuestring, id) == 0;
        }
        if (!mine)
            return cmk_err_set(err, CMK_EPERM, "this worker does not serve environment %s", id);
    }
    e = wenv_find(w, id);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        cmk_strlcpy(e->id, id, sizeof e->id);
        e->next = w->envs;
        w->envs = e;
    }
    cmk_strlcpy(e->region, cmk_json_str(req->body, "region", e->region), sizeof e->region);
    cmk_strlcpy(e->infrastructure, cmk_json_str(req->body, "infrastructure", "shared"), sizeof e->infrastructure);
    reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    if (!reply)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (e->part && !e->opening) {
        run_one(w, e, fn, reply, req->body);
        return 0;
    }
    {
        wqueued *q = calloc(1, sizeof *q);
        if (!q) {
            cmk_msg_destroy(&reply);
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        }
        q->fn = fn;
        q->reply = reply;
        q->body = cJSON_Duplicate(req->body, 1);
        q->next = e->queue;
        e->queue = q;
    }
    if (!e->opening) {
        e->opening = 1;
        if (wkeys_get(w->keys, e->id, on_keys, w, err) < 0) {
            e->opening = 0;
            drain(w, e, err);
        }
    }
    return 0;
}

/* wenv_tick - group commits that came due */
void wenv_tick(worker *w)
{
    for (wenv *e = w->envs; e; e = e->next)
        if (e->part && partition_pending(e->part) > 0) {
            cmk_err err = CMK_ERR_INIT;
            if (partition_tick(e->part, &err) < -1)
                cmk_log(CMK_LOG_ERROR, e->id, NULL, "partition.commit_failed", "error=\"%s\"", err.msg);
        }
}

/* wenv_close_all - commit and close every partition, wipe keys */
void wenv_close_all(worker *w)
{
    while (w->envs) {
        wenv *e = w->envs;
        cmk_err err = CMK_ERR_INIT;
        w->envs = e->next;
        cmk_err_set(&err, CMK_EUNAVAIL, "the worker is stopping");
        drain(w, e, &err);
        wdefs_destroy(&e->defs);
        partition_close(&e->part);
        free(e);
    }
    wkeys_forget(w->keys, NULL);
}

/* wenv_release - close an environment's partition and wipe its keys (lock, revoke, or the
 * environment moving to another worker); requests for it fail until it is opened again */
int wenv_release(worker *w, const char *id, const char *why)
{
    for (wenv **pp = &w->envs; *pp; pp = &(*pp)->next) {
        wenv *e = *pp;
        cmk_err err = CMK_ERR_INIT;
        if (strcmp(e->id, id) != 0)
            continue;
        if (e->opening)
            return CMK_EBUSY; /* keys on their way: try again */
        *pp = e->next;
        cmk_err_set(&err, CMK_EUNAVAIL, "environment %s: %s", id, why);
        drain(w, e, &err);
        wdefs_destroy(&e->defs);
        if (e->part)
            partition_forget_keys(e->part);
        partition_close(&e->part);
        free(e);
        break;
    }
    wkeys_forget(w->keys, id);
    cmk_log(CMK_LOG_INFO, id, NULL, "env.released", "reason=\"%s\"", why);
    return 0;
}
