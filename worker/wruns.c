/*
 * wruns.c - runs of flows in a worker: the engine steps each run as far as it can; HTTP
 * actions go to the gateway (replies come back asynchronously, matched by request id), child
 * flows run in the same worker and answer with their Response, List flows as Admin is answered
 * from the partition. A run is recorded when its first step returns to the loop still running
 * (with its trigger) and saved with every action's inputs and outputs when it ends; a run that
 * ends within its first step (a Compose-only flow) is written once, trigger and record together.
 * Its caller hears only once that write is durable.
 * A run submitted again with the same client request id is not run twice.
 *
 * Run ids sort by time, newest first, as Logic Apps run ids do (they count down in time):
 * "run-" + 12 hex digits of (2^48 - 1 - start ms) + 8 hex digits of a per-process sequence
 * (random start, counting down). A partition's index of run ids then grows at one end instead
 * of at random pages. Pending gateway calls are found by request id in a hash map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <zmq.h>

#include "clock.h"
#include "flowdef.h"
#include "hmap.h"
#include "log.h"
#include "util.h"
#include "wmetrics.h"
#include "worker.h"
#include "ops.h"

#define CHILD_DEPTH_MAX 8        /* child flows nested deeper than this fail */
#define GATEWAY_GRACE_MS 5000    /* beyond egress.timeout before a worker gives up on the gateway */
#define SLICE_STARTS 16          /* actions one step of a run may start before the loop runs again */
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

/* An HTTP action waiting for the gateway. */
typedef struct wgw_call {
    char reqid[CMK_PROTO_MAX_REQID + 1];
    wrun *run;
    char action[128];
    int64_t deadline;            /* mono ms */
    struct wgw_call *next, *prev;
} wgw_call;

static cmk_hmap *gw_by_req;      /* request id -> wgw_call (one worker per process) */
static cmk_hmap *runs_by_id;     /* run id -> wrun in flight (one worker per process) */
static int runs_by_id_off;       /* the map could not be kept: walk the list */

/* gw_unlink - take a pending gateway call out of the list and the map (not freed) */
static void gw_unlink(worker *w, wgw_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->gw_calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    if (gw_by_req)
        cmk_hmap_remove(gw_by_req, c->reqid);
    c->run->gw_pending--;
}

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

static void advance(wrun *r);
static int send_http(wrun *r, const engine_work *wk);
static int start_child(wrun *r, const engine_work *wk);

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

/* run_by_id - the run in flight with this id, or NULL */
static wrun *run_by_id(worker *w, const char *id)
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
    worker *w = r->w;
    for (wgw_call *c = r->gw_pending > 0 ? w->gw_calls : NULL, *next; c && r->gw_pending > 0; c = next) {
        next = c->next;
        if (c->run == r) {
            gw_unlink(w, c);
            free(c);
        }
    }
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
            advance(p);
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

/* finish - save the ended run; the caller hears once it is durable */
static void finish(wrun *r)
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

/* send_http - an HTTP action to the gateway; 1 if it failed at once (step the run again) */
static int send_http(wrun *r, const engine_work *wk)
{
    worker *w = r->w;
    wenv *e = wenv_find(w, r->env);
    cmk_msg *msg = cmk_msg_new(CMK_T_HTTP_REQUEST, NULL);
    wgw_call *c = calloc(1, sizeof *c);
    cmk_err err = CMK_ERR_INIT;
    int64_t timeout = cmk_server_config(w->srv)->egress_timeout;

    if (!msg || !c) {
        cmk_msg_destroy(&msg);
        free(c);
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, "out of memory", worker_now(w), &err);
        return 1;
    }
    cJSON_AddStringToObject(msg->body, "env", r->env);
    cJSON_AddStringToObject(msg->body, "flow", r->flow_id);
    cJSON_AddStringToObject(msg->body, "run", r->id);
    cJSON_AddStringToObject(msg->body, "action", wk->action);
    cJSON_AddStringToObject(msg->body, "infrastructure", e ? e->infrastructure : "shared");
    cJSON_AddStringToObject(msg->body, "region", e ? e->region : "");
    cJSON_AddStringToObject(msg->body, "kind", "http");
    cJSON_AddStringToObject(msg->body, "method", wk->method ? wk->method : "GET");
    cJSON_AddStringToObject(msg->body, "uri", wk->uri ? wk->uri : "");
    cJSON_AddItemToObject(msg->body, "headers", wk->headers ? cJSON_Duplicate(wk->headers, 1) : cJSON_CreateObject());
    if (wk->body) {
        char *text = cJSON_IsString(wk->body) ? strdup(wk->body->valuestring) : cJSON_PrintUnformatted(wk->body);
        cJSON_AddStringToObject(msg->body, "body", text ? text : "");
        free(text);
    }
    cJSON_AddNumberToObject(msg->body, "timeout_ms", (double)timeout);
    if (cmk_msg_send(msg, w->gateway, &err) < 0) {
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, err.msg, worker_now(w), &err);
        cmk_msg_destroy(&msg);
        free(c);
        return 1;
    }
    cmk_strlcpy(c->reqid, msg->reqid, sizeof c->reqid);
    c->run = r;
    cmk_strlcpy(c->action, wk->action, sizeof c->action);
    c->deadline = cmk_mono_ms() + timeout + GATEWAY_GRACE_MS;
    c->next = w->gw_calls;
    if (c->next)
        c->next->prev = c;
    w->gw_calls = c;
    r->gw_pending++;
    if (!gw_by_req)
        gw_by_req = cmk_hmap_new();
    if (gw_by_req && cmk_hmap_put(gw_by_req, c->reqid, c) < 0)
        cmk_warn("gateway.map_full", "req=%s: its reply will be looked for in the list", c->reqid);
    r->outstanding++;
    cmk_msg_destroy(&msg);
    return 0;
}

/* list_flows - the environment's flows for List flows as Admin */
static char *list_flows(wrun *r, int version)
{
    wenv *e = wenv_find(r->w, r->env);
    partition_flow *list = NULL;
    size_t n = 0;
    cJSON *out = cJSON_CreateObject(), *body = cJSON_AddObjectToObject(out, "body"),
          *value = cJSON_AddArrayToObject(body, "value");
    char *text;
    cJSON_AddNumberToObject(out, "statusCode", 200);
    if (e && e->part && partition_flow_list(e->part, &list, &n, NULL) == 0) {
        for (size_t i = 0; i < n; i++) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "name", list[i].id);
            cJSON_AddStringToObject(f, version == 2 ? "displayName" : "DisplayName", list[i].name);
            cJSON_AddStringToObject(f, "state", list[i].enabled ? "Started" : "Stopped");
            cJSON_AddItemToArray(value, f);
        }
        free(list);
    }
    text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

/* open_connection - a connector action's host.connectionName that names one of the
 * environment's connections (conn-...) is opened: its secret unsealed with the key that
 * protects it (the customer's for OAuth ones after CMK, the Microsoft-managed one for non-OAuth
 * ones); 0 and *used (a JSON object for the outputs, or NULL when the action names no stored
 * connection), or the reason the action fails */
static int open_connection(wrun *r, const engine_work *wk, cJSON **used, cmk_err *err)
{
    wenv *e = wenv_find(r->w, r->env);
    const char *name = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(wk->request, "host"), "connectionName"));
    char *secret = NULL, hex[33] = "";
    int oauth = 0, rc;
    *used = NULL;
    if (!name || strncmp(name, "conn", 4) != 0)
        return 0; /* the connector's built-in connection */
    if (!e || !e->part)
        return cmk_err_set(err, CMK_EUNAVAIL, "environment %s is not open", r->env);
    if ((rc = partition_conn_get(e->part, name, &oauth, &secret, err)) < 0)
        return cmk_err_prefix(err, "the action's connection cannot be used: ");
    cmk_wipe_str(secret, strlen(secret));
    partition_conn_key_id(e->part, name, hex, NULL);
    *used = cJSON_CreateObject();
    cJSON_AddStringToObject(*used, "id", name);
    cJSON_AddBoolToObject(*used, "oauth", oauth);
    cJSON_AddStringToObject(*used, "protected_by", oauth ? "environment key" : "Microsoft-managed key");
    cJSON_AddStringToObject(*used, "sealed_under_dek", hex);
    return 0;
}

/* connector_done - complete a List flows as Admin action, with the connection it used (or NULL) */
static void connector_done(wrun *r, const char *action, int version, cJSON *used)
{
    cmk_err e2 = CMK_ERR_INIT;
    char *out = list_flows(r, version);
    if (used) {
        cJSON *o = cJSON_Parse(out);
        free(out);
        cJSON_AddItemToObject(o, "connection", used);
        out = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    engine_complete(r->run, action, ENGINE_SUCCEEDED, out, NULL, worker_now(r->w), &e2);
    free(out);
}

/* relay_waiter - the run `id` if it still waits for an answer relayed from the environment's
 * other worker (it may have ended, or be gone, by the time the answer comes); NULL otherwise */
static wrun *relay_waiter(worker *w, const char *id)
{
    wrun *r = run_by_id(w, id);
    return r && !r->finishing && r->outstanding > 0 && engine_run_status(r->run) == ENGINE_RUNNING ? r : NULL;
}

/* A connection opened on the environment's other worker (found again by run id). */
typedef struct {
    worker *w;
    char run[64];
    char action[128];
    int version;
} wconnuse;

/* on_conn_used - the dedicated worker opened the connection (or why not): the action ends */
static void on_conn_used(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg)
{
    wconnuse *c = arg;
    wrun *r = relay_waiter(c->w, c->run);
    (void)peer;
    if (r) {
        r->outstanding--;
        if (reply) {
            cJSON *used = cJSON_CreateObject();
            const char *k[] = {"id", "protected_by", "sealed_under_dek"};
            for (size_t i = 0; i < sizeof k / sizeof *k; i++)
                cJSON_AddStringToObject(used, k[i], cmk_json_str(reply->body, k[i], ""));
            cJSON_AddBoolToObject(used, "oauth", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply->body, "oauth")));
            cJSON_AddStringToObject(used, "opened_by", "the environment's dedicated worker");
            connector_done(r, c->action, c->version, used);
        } else {
            char msg[CMK_ERR_MSG_MAX];
            cmk_err e2 = CMK_ERR_INIT;
            snprintf(msg, sizeof msg, "the action's connection cannot be used: %s",
                     err && err->msg[0] ? err->msg : "the dedicated worker did not answer");
            engine_complete(r->run, c->action, ENGINE_FAILED, NULL, msg, worker_now(r->w), &e2);
        }
        advance(r);
    }
    free(c);
}

/* use_remote_connection - the connection moved to the environment's dedicated partition (a
 * flow held on the Microsoft-managed key after CMK): the dedicated worker opens it (conn.use);
 * 0 if asked */
static int use_remote_connection(wrun *r, const engine_work *wk, const char *name, cmk_err *err)
{
    wconnuse *c = calloc(1, sizeof *c);
    cJSON *body = cJSON_CreateObject();
    int rc;
    if (!c || !body) {
        free(c);
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    c->w = r->w;
    c->version = wk->list_flows_version;
    cmk_strlcpy(c->run, r->id, sizeof c->run);
    cmk_strlcpy(c->action, wk->action, sizeof c->action);
    cJSON_AddStringToObject(body, "env", r->env);
    cJSON_AddStringToObject(body, "conn", name);
    cJSON_AddStringToObject(body, "caller", r->flow_id);
    r->outstanding++;
    rc = cmk_peer_request(r->w->peer, CMK_T_CONN_USE, body,
                          cmk_server_config(r->w->srv)->request_timeout + GATEWAY_GRACE_MS, on_conn_used, c, err);
    cJSON_Delete(body);
    if (rc < 0) {
        r->outstanding--;
        free(c);
    }
    return rc;
}

/* connector_action - List flows as Admin, through the action's connection if it names one; 1 if
 * the action ended (step the run again), 0 if it waits for the dedicated worker */
static int connector_action(wrun *r, const engine_work *wk)
{
    cmk_err err = CMK_ERR_INIT, e2 = CMK_ERR_INIT;
    cJSON *used = NULL;
    wenv *e = wenv_find(r->w, r->env);
    int rc = open_connection(r, wk, &used, &err);
    if (rc == CMK_ENOENT && e && cmk_server_shared(r->w->srv) && strcmp(e->infrastructure, "dedicated") == 0) {
        const char *name = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(wk->request, "host"), "connectionName"));
        cmk_err_clear(&err);
        if ((rc = use_remote_connection(r, wk, name, &err)) == 0)
            return 0;
        cmk_err_prefix(&err, "the action's connection cannot be used: ");
    }
    if (rc < 0) {
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, err.msg, worker_now(r->w), &e2);
        return 1;
    }
    connector_done(r, wk->action, wk->list_flows_version, used);
    return 1;
}

/* run_root - the top-level run a child run belongs to */
static wrun *run_root(wrun *r)
{
    while (r->parent)
        r = r->parent;
    return r;
}

/* A child-flow call relayed to the environment's other worker (found again by run id: the run
 * may be gone by the time the answer comes). */
typedef struct {
    worker *w;
    char run[64];
    char action[128];
} wremote;

/* on_remote_child - the child run's result from the other worker (the controller relayed the
 * call), or why there is none: the parent's Workflow action ends like a local child's */
static void on_remote_child(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg)
{
    wremote *c = arg;
    wrun *r = relay_waiter(c->w, c->run);
    (void)peer;
    if (r) {
        cmk_err e2 = CMK_ERR_INIT;
        engine_status st = ENGINE_FAILED;
        char *text = NULL;
        const char *why = err && err->msg[0] ? err->msg : "the child flow's worker did not answer";
        if (reply) {
            const cJSON *resp = cJSON_GetObjectItemCaseSensitive(reply->body, "response");
            cJSON *out = cJSON_CreateObject();
            int ok = strcmp(cmk_json_str(reply->body, "status", ""), "Succeeded") == 0;
            int code = resp ? (int)cmk_json_num(resp, "statusCode", 200) : ok ? 200 : 500;
            st = ok && code < 400 ? ENGINE_SUCCEEDED : ENGINE_FAILED;
            cJSON_AddNumberToObject(out, "statusCode", code);
            if (resp) {
                const cJSON *h = cJSON_GetObjectItemCaseSensitive(resp, "headers");
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(resp, "body");
                cJSON_AddItemToObject(out, "headers", h ? cJSON_Duplicate(h, 1) : cJSON_CreateObject());
                cJSON_AddItemToObject(out, "body", b ? cJSON_Duplicate(b, 1) : cJSON_CreateNull());
            } else
                cJSON_AddItemToObject(out, "body", cJSON_CreateNull());
            text = cJSON_PrintUnformatted(out);
            cJSON_Delete(out);
            why = "the child flow failed";
        }
        r->outstanding--;
        if (engine_complete(r->run, c->action, st, text, st == ENGINE_SUCCEEDED ? NULL : why, worker_now(r->w),
                            &e2) == 0)
            advance(r);
        free(text);
    }
    free(c);
}

/* start_remote_child - a child flow this worker does not hold, in an environment on dedicated
 * infrastructure: a flow held on the Microsoft-managed key calls a child that migrated. The
 * controller runs it on the worker where it lives (flow.child-run); 0 if sent */
static int start_remote_child(wrun *r, const engine_work *wk, cmk_err *err)
{
    worker *w = r->w;
    wremote *c = calloc(1, sizeof *c);
    cJSON *body = cJSON_CreateObject();
    int rc;
    if (!c || !body) {
        free(c);
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    c->w = w;
    cmk_strlcpy(c->run, r->id, sizeof c->run);
    cmk_strlcpy(c->action, wk->action, sizeof c->action);
    cJSON_AddStringToObject(body, "env", r->env);
    cJSON_AddStringToObject(body, "flow", wk->child_flow ? wk->child_flow : "");
    cJSON_AddStringToObject(body, "caller", r->flow_id);
    cJSON_AddItemToObject(body, "body", wk->body ? cJSON_Duplicate(wk->body, 1) : cJSON_CreateNull());
    r->outstanding++;
    rc = cmk_peer_request(w->peer, CMK_T_FLOW_CHILD_RUN, body,
                          cmk_server_config(w->srv)->request_timeout + GATEWAY_GRACE_MS, on_remote_child, c, err);
    cJSON_Delete(body);
    if (rc < 0) {
        r->outstanding--;
        free(c);
        return rc;
    }
    cmk_log(CMK_LOG_INFO, r->env, r->id, "run.child_remote", "flow=%s action=%s child=%s", r->flow_id, wk->action,
            wk->child_flow ? wk->child_flow : "");
    return 0;
}

/* start_child - a child flow of the same environment; 1 if it failed at once (the action is
 * Failed with the reason and the run goes on by its runAfter rules) */
static int start_child(wrun *r, const engine_work *wk)
{
    worker *w = r->w;
    wenv *e = wenv_find(w, r->env);
    wrun *root = run_root(r);
    int64_t max_desc = cmk_server_config(w->srv)->run_max_descendants;
    partition_flow meta;
    flowdef *fd = NULL;
    const char *child = wk->child_flow ? wk->child_flow : "";
    cJSON *t;
    cmk_err err = CMK_ERR_INIT;
    int rc;

    if (r->depth >= CHILD_DEPTH_MAX)
        rc = cmk_err_set(&err, CMK_ELIMIT, "child flow %s not started: child flows are nested more than %d deep",
                         child, CHILD_DEPTH_MAX);
    else if (root->descendants >= max_desc)
        rc = cmk_err_set(&err, CMK_ELIMIT,
                         "child flow %s not started: this run already started %d child runs in all, the most one run "
                         "may (run.max_descendants)", child, root->descendants);
    else if (!e || !e->part)
        rc = cmk_err_set(&err, CMK_EUNAVAIL, "environment not open");
    else if ((rc = wdefs_get(&e->defs, e->part, child, &meta, &fd, &err)) == CMK_ENOENT) {
        if (cmk_server_shared(w->srv) && strcmp(e->infrastructure, "dedicated") == 0) {
            /* held on the Microsoft-managed key, the child migrated: call it where it lives */
            root->descendants++;
            if ((rc = start_remote_child(r, wk, &err)) == 0)
                return 0;
        } else
            cmk_err_set(&err, CMK_ENOENT, "child flow '%s' does not exist in environment %s (a child flow must be a "
                        "flow of the same environment)", child, r->env);
    }
    if (rc == 0 && !meta.enabled)
        rc = cmk_err_set(&err, CMK_ESTATE, "child flow %s is turned off; turn it on to call it", meta.id);
    if (rc == 0) {
        t = cJSON_CreateObject();
        cJSON_AddItemToObject(t, "headers", cJSON_CreateObject());
        cJSON_AddItemToObject(t, "queries", cJSON_CreateObject());
        cJSON_AddItemToObject(t, "body", wk->body ? cJSON_Duplicate(wk->body, 1) : cJSON_CreateNull());
        r->outstanding++;
        root->descendants++;
        rc = wrun_start(w, e, &meta, fd, t, "", NULL, r, wk->action, &err);
        if (rc < 0)
            r->outstanding--;
    }
    flowdef_destroy(&fd);
    if (rc < 0) {
        cmk_err e2 = CMK_ERR_INIT;
        cmk_log(CMK_LOG_INFO, r->env, r->id, "run.child_refused", "flow=%s action=%s error=\"%s\"", r->flow_id,
                wk->action, err.msg);
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, err.msg, worker_now(w), &e2);
        return 1;
    }
    return 0;
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
        wrun *r = run_by_id(c->w, c->id);
        if (r) {
            r->continuing = 0;
            advance(r);
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
                immediate |= send_http(r, wk);
            else if (wk->kind == ENGINE_WORK_CHILD_FLOW)
                immediate |= start_child(r, wk);
            else if (wk->kind == ENGINE_WORK_LIST_FLOWS) {
                immediate |= connector_action(r, wk);
            }
        }
        engine_work_list_destroy(&work);
        if (engine_run_status(r->run) != ENGINE_RUNNING) {
            if (r->outstanding == 0) {
                finish(r);
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

/* advance - step the run (advance_steps); one that goes back to the loop still running has its
 * Running row written first, so that a crash from here on leaves it recorded. If that write
 * fails, the run fails: its caller hears why rather than a run that nobody can find. */
static void advance(wrun *r)
{
    char msg[CMK_ERR_MSG_MAX];
    if (!advance_steps(r) || r->recorded || record_started(r) == 0)
        return;
    snprintf(msg, sizeof msg, "the run could not be recorded in environment %s's partition", r->env);
    if (engine_run_status(r->run) == ENGINE_RUNNING)
        engine_run_fail(r->run, worker_now(r->w), "RunNotRecorded", msg, NULL);
    if (r->outstanding == 0 && !r->finishing)
        finish(r);
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
    advance(r);
    return 0;
}

/* wruns_on_gateway - a reply to an HTTP action */
void wruns_on_gateway(worker *w, const cmk_msg *msg)
{
    wgw_call *c = gw_by_req ? cmk_hmap_get(gw_by_req, msg->reqid) : NULL;
    cmk_err err = CMK_ERR_INIT;
    for (wgw_call *it = c ? NULL : w->gw_calls; it; it = it->next) /* one the map could not hold */
        if (strcmp(it->reqid, msg->reqid) == 0) {
            c = it;
            break;
        }
    if (c)
        gw_unlink(w, c);
    if (!c) {
        cmk_debug("gateway.late_reply", "req=%s", msg->reqid);
        return;
    }
    c->run->outstanding--;
    if (strcmp(msg->type, CMK_MSG_ERROR) == 0) {
        cmk_err gerr = CMK_ERR_INIT;
        cmk_msg_error_of(msg, &gerr);
        engine_complete(c->run->run, c->action, gerr.code == CMK_ETIMEOUT ? ENGINE_TIMEDOUT : ENGINE_FAILED, NULL,
                        gerr.msg, worker_now(w), &err);
    } else {
        int status = (int)cmk_json_num(msg->body, "status", 0);
        cJSON *out = cJSON_CreateObject(), *body;
        const char *text = cmk_json_str(msg->body, "body", NULL);
        char *outs, emsg[160];
        cJSON_AddNumberToObject(out, "statusCode", status);
        cJSON_AddItemToObject(out, "headers", cJSON_Duplicate(cJSON_GetObjectItem(msg->body, "headers"), 1));
        body = text ? cJSON_Parse(text) : NULL;
        cJSON_AddItemToObject(out, "body", body ? body : text ? cJSON_CreateString(text) : cJSON_CreateNull());
        outs = cJSON_PrintUnformatted(out);
        cJSON_Delete(out);
        snprintf(emsg, sizeof emsg, "the HTTP action returned status %d", status);
        engine_complete(c->run->run, c->action, status >= 200 && status < 400 ? ENGINE_SUCCEEDED : ENGINE_FAILED, outs,
                        status >= 200 && status < 400 ? NULL : emsg, worker_now(w), &err);
        free(outs);
    }
    advance(c->run);
    free(c);
}

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
            wrun *live = run_by_id(w, list[i].id);
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

/* sweep - runs in flight past run.timeout (cluster clock) are failed and saved */
static void sweep(worker *w)
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
            finish(r);          /* a child's parent hears of the failure; may free r: rescan */
            again = 1;
            break;
        }
    }
    sweep_stale_records(w, now, timeout);
}

/* wruns_tick - HTTP actions the gateway never answered time out; the sweeper */
void wruns_tick(worker *w)
{
    sweep(w);
    int64_t now = cmk_mono_ms();
    for (wgw_call *c = w->gw_calls, *next; c; c = next) {
        next = c->next;
        if (c->deadline > now)
            continue;
        gw_unlink(w, c);
        c->run->outstanding--;
        engine_complete(c->run->run, c->action, ENGINE_TIMEDOUT, NULL,
                        "the gateway did not answer within the HTTP action's timeout", worker_now(w), NULL);
        advance(c->run);
        free(c);
        next = w->gw_calls; /* advancing may have ended runs and dropped their calls: look again */
    }
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
    cmk_hmap_destroy(&gw_by_req);
    cmk_hmap_destroy(&runs_by_id);
    runs_by_id_off = 0;
}
