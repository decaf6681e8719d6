/*
 * wruns_actions.c - the actions a worker answers itself: child flows (run in this worker, or
 * relayed through the controller to the environment's other worker when the child lives
 * there) and List flows as Admin (from the partition, through the action's connection, which
 * may have moved to the environment's dedicated partition). Each ends its action in the parent
 * run and steps it on (wrun_advance).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowdef.h"
#include "log.h"
#include "ops.h"
#include "util.h"
#include "worker.h"
#include "wruns_int.h"

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
    wrun *r = wrun_by_id(w, id);
    return r && !r->finishing && r->outstanding > 0 && engine_run_status(r->run) == ENGINE_RUNNING ? r : NULL;
}

/* A call relayed to the environment's other worker - a connection to open, or a child flow to
 * run - waiting for its answer (the run is found again by id: it may be gone by then). */
typedef struct {
    worker *w;
    char run[64];
    char action[128];
    int version;     /* List flows as Admin: the action's version */
} wrelay;

/* on_conn_used - the dedicated worker opened the connection (or why not): the action ends */
static void on_conn_used(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg)
{
    wrelay *c = arg;
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
        wrun_advance(r);
    }
    free(c);
}

/* use_remote_connection - the connection moved to the environment's dedicated partition (a
 * flow held on the Microsoft-managed key after CMK): the dedicated worker opens it (conn.use);
 * 0 if asked */
static int use_remote_connection(wrun *r, const engine_work *wk, const char *name, cmk_err *err)
{
    wrelay *c = calloc(1, sizeof *c);
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

/* wrun_connector_action - List flows as Admin, through the action's connection if it names one; 1 if
 * the action ended (step the run again), 0 if it waits for the dedicated worker */
int wrun_connector_action(wrun *r, const engine_work *wk)
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

/* on_remote_child - the child run's result from the other worker (the controller relayed the
 * call), or why there is none: the parent's Workflow action ends like a local child's */
static void on_remote_child(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg)
{
    wrelay *c = arg;
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
            wrun_advance(r);
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
    wrelay *c = calloc(1, sizeof *c);
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

/* wrun_start_child - a child flow of the same environment; 1 if it failed at once (the action is
 * Failed with the reason and the run goes on by its runAfter rules) */
int wrun_start_child(wrun *r, const engine_work *wk)
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
