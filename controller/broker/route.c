/*
 * route.c - requests that belong to an environment's worker (flows, runs, connections) are
 * routed to the worker that serves the environment: the shared worker while the environment is
 * on the Microsoft-managed key and shared infrastructure, its dedicated worker (worker-<env>)
 * once it is on dedicated infrastructure. What a type needs (the environment's state, no
 * migration running, both sides) and which body fields the controller owns come from the
 * operation table (common/ops.h); where the environment and its flows live comes from memory
 * (directory placements, flow homes): no SQL on a routed request's path. If the worker is down,
 * the request waits for its restart up to request.timeout and then fails with a clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "ops.h"
#include "migration.h"
#include "recurrence.h"
#include "route.h"
#include "util.h"

/* A routed request in flight. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;     /* addressed to the client */
    char type[32];      /* the request type */
    char env[64];       /* environment id */
    char flow[64];      /* flow id, if any */
    char name[256];     /* save-as: the copy's name */
    char target[96];    /* save-as across infrastructures: where the copy goes */
    int64_t period;     /* recurrence period of a definition being saved (-1: none given) */
} route_job;

/* schedule_after - keep recurrence schedules in step with the flows (recurrence.c) */
static void schedule_after(route_job *j, const cJSON *reply)
{
    const char *id = cmk_json_str(reply, "id", j->flow);
    int on = strcmp(cmk_json_str(reply, "state", "On"), "On") == 0;
    if (strcmp(j->type, "flow.delete") == 0)
        recurrence_schedule(j->ctl->recurrence, j->env, j->flow, 0, 0);
    else if (strcmp(j->type, "flow.enable") == 0 || strcmp(j->type, "flow.disable") == 0)
        recurrence_enable(j->ctl->recurrence, j->env, id, on);
    else if (j->period >= 0 && (strcmp(j->type, "flow.create") == 0 || strcmp(j->type, "flow.import") == 0 ||
                                strcmp(j->type, "flow.update") == 0 || strcmp(j->type, "flow.save-as") == 0))
        recurrence_schedule(j->ctl->recurrence, j->env, id, j->period, on);
}

/* worker_for - the worker holding a flow of env (or where new flows go) */
static void worker_for(ctl *self, const dir_env *env, const char *flow, char *name, size_t cap)
{
    const char *home = migration_home(self->migration, env->id, flow, env->infrastructure);
    cmk_worker_name(strcmp(home, "dedicated") == 0 ? env->id : NULL, name, cap);
}

static void route_done(void *arg, const cmk_msg *reply, const cmk_err *err);

/* save_as_got - the original (kept on the MMK) arrived: create the copy on the CMK side */
static void save_as_got(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    route_job *j = arg;
    cJSON *body;
    cmk_err ferr = CMK_ERR_INIT;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        route_done(j, reply, err);
        return;
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "env", j->env);
    cJSON_AddStringToObject(body, "name", j->name);
    cJSON_AddItemToObject(body, "definition", cJSON_Duplicate(cJSON_GetObjectItem(reply->body, "definition"), 1));
    cJSON_AddBoolToObject(body, "in_solution", cJSON_IsTrue(cJSON_GetObjectItem(reply->body, "in_solution")));
    cJSON_AddStringToObject(body, "kind", cmk_json_str(reply->body, "kind", "cloud"));
    cJSON_AddStringToObject(body, "infrastructure", "dedicated");
    cJSON_AddNumberToObject(body, "clock_ms", (double)cmk_clock_now(j->ctl->clock));
    cmk_strlcpy(j->type, "flow.create", sizeof j->type);
    if (broker_forward(j->ctl->broker, j->target, "flow.create", body, j->ctl->cfg->request_timeout, route_done, j, &ferr) < 0)
        route_done(j, NULL, &ferr);
    cJSON_Delete(body);
}

/* route_done - the worker answered (or did not) */
static void route_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    route_job *j = arg;
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0 && strcmp(j->type, "flow.delete") == 0 && j->flow[0]) {
        /* a deleted flow is no longer kept anywhere */
        migration_forget_flows(j->ctl->migration, j->env, j->flow);
    }
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0) {
        schedule_after(j, reply->body);
        if (reply->raw) { /* passed through unread (broker_forward_through) */
            j->reply->raw = reply->raw;
            j->reply->raw_len = reply->raw_len;
            ((cmk_msg *)reply)->raw = NULL;
        } else {
            cmk_msg_set_body(j->reply, reply->body); /* handed on, not copied (broker_reply_fn) */
            ((cmk_msg *)reply)->body = NULL;
        }
        for (int i = 0; i < reply->nbins; i++)
            cmk_msg_add_bin(j->reply, reply->bins[i].data, reply->bins[i].len, NULL);
        broker_reply(j->ctl->broker, j->reply);
    } else {
        cmk_msg *e = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_EINTERNAL,
                                   err && err->msg[0] ? err->msg : "the worker did not answer");
        cmk_msg_destroy(&j->reply);
        broker_reply(j->ctl->broker, e);
    }
    free(j);
}

/* ctl_route_to_worker - forward req to the worker of body.env, with the fields the controller
 * owns set by the controller */
int ctl_route_to_worker(ctl *self, const cmk_msg *req, cmk_err *err)
{
    const cmk_op *op = cmk_op_find(req->type);
    dir_env env;
    cJSON *body;
    char worker[CMK_WORKER_NAME_MAX];
    route_job *j;
    int rc;

    if (!op || (op->route != CMK_ROUTE_WORKER && op->route != CMK_ROUTE_WORKER_BOTH))
        return cmk_err_set(err, CMK_EINTERNAL, "'%s' is not routed to a worker", req->type);
    if ((rc = directory_env_placement(self->dir, cmk_json_str(req->body, "env", ""), &env, err)) < 0)
        return rc;
    if ((op->flags & OPF_READY) && strcmp(env.state, "Ready") != 0)
        return cmk_err_set(err, CMK_EUNAVAIL, "environment %s is %s: %s", env.id, env.state,
                           strcmp(env.state, "Locked") == 0
                               ? "Environment disabled; restore access to its key and re-enable it"
                               : "wait until the operation on it completes");
    if ((op->flags & OPF_MIGBLOCK) && migration_is_running(self->migration, env.id))
        return cmk_err_set(err, CMK_ESTATE, "Creation and updates of flows are blocked during migration: environment %s is "
                                            "moving to its customer-managed key; runs are still accepted",
                           env.id);
    if (op->route == CMK_ROUTE_WORKER_BOTH && strcmp(env.infrastructure, "dedicated") == 0)
        return ctl_route_both(self, req, &env, err);
    worker_for(self, &env, cmk_json_str(req->body, "flow", NULL), worker, sizeof worker);
    if (!(body = route_owned_body(op, req->body, req->user, &env, env.infrastructure, cmk_clock_now(self->clock))))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (op->id == CMK_OP_FLOW_CREATE && !cJSON_GetObjectItem(body, "in_solution") && env.in_solutions)
        cJSON_AddBoolToObject(body, "in_solution", 1); /* the setting: new flows are solution flows */
    j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    cmk_strlcpy(j->type, req->type, sizeof j->type);
    cmk_strlcpy(j->env, cmk_json_str(body, "env", ""), sizeof j->env);
    cmk_strlcpy(j->flow, cmk_json_str(body, "flow", ""), sizeof j->flow);
    j->period = -1;
    if (cJSON_GetObjectItem(body, "definition"))
        j->period = recurrence_period(cJSON_GetObjectItem(body, "definition"));
    else if (cJSON_GetObjectItem(cJSON_GetObjectItem(body, "package"), "definition"))
        j->period = recurrence_period(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "package"), "definition"));
    else if (strcmp(req->type, "flow.save-as") == 0) {
        /* the copy recurs like the original */
        cJSON *list = recurrence_list(self->recurrence, j->env), *it;
        cJSON_ArrayForEach(it, list) {
            int64_t ms;
            if (strcmp(cmk_json_str(it, "flow", ""), j->flow) == 0 &&
                cmk_duration_parse(cmk_json_str(it, "every", ""), &ms, NULL) == 0)
                j->period = ms;
        }
        cJSON_Delete(list);
    }
    if (op->id == CMK_OP_FLOW_SAVE_AS && strcmp(env.infrastructure, "dedicated") == 0 &&
        strcmp(worker, CMK_WORKER_SHARED) == 0) {
        /* "Save as" after CMK: the copy of a flow kept on the MMK is made on the CMK side */
        cmk_strlcpy(j->name, cmk_json_str(body, "name", "Copy"), sizeof j->name);
        cmk_worker_name(j->env, j->target, sizeof j->target);
        rc = broker_forward(self->broker, worker, "flow.get", body, self->cfg->request_timeout, save_as_got, j, err);
    } else if (j->period < 0 && strcmp(req->type, "flow.enable") != 0 && strcmp(req->type, "flow.disable") != 0)
        /* nothing of the reply is read here (schedule_after has nothing to do): passed on as text */
        rc = broker_forward_through(self->broker, worker, req->type, body, self->cfg->request_timeout, route_done, j,
                                    err);
    else
        rc = broker_forward(self->broker, worker, req->type, body, self->cfg->request_timeout, route_done, j, err);
    cJSON_Delete(body);
    if (rc < 0) {
        cmk_msg_destroy(&j->reply);
        free(j);
    }
    return rc;
}

/* op_route - the front operation for every routed type */
int op_route(void *ctx, const cmk_msg *req, cmk_err *err)
{
    return ctl_route_to_worker(ctx, req, err);
}

/* A request answered by both workers of a CMK environment (flows on either side). */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;      /* to the client */
    char type[32];
    cJSON *parts[2];     /* [0] dedicated, [1] shared */
    cmk_err errs[2];
    int outstanding;
} both_job;

/* csv_merge - both sides' CSV exports as one: one header, records newest first, at most 100
 * (quoted newlines stay inside their record) */
static void csv_merge(both_job *j, cJSON *out)
{
    cJSON *rows = cJSON_CreateArray(), *it;
    const char *header = NULL;
    size_t hlen = 0;
    char *csv;
    size_t len = 0, cap = 1024;
    int n;
    for (int k = 0; k < 2; k++) {
        const char *text = j->parts[k] ? cmk_json_str(j->parts[k], "csv", "") : "";
        const char *p = text, *start;
        int inq = 0;
        /* the header is the first line */
        const char *nl = strchr(p, '\n');
        if (!nl)
            continue;
        if (!header) {
            header = p;
            hlen = (size_t)(nl - p + 1);
        }
        p = nl + 1;
        start = p;
        for (; *p; p++) {
            if (*p == '"')
                inq = !inq;
            else if (*p == '\n' && !inq) {
                cJSON_AddItemToArray(rows, cJSON_CreateString(""));
                {
                    cJSON *last = cJSON_GetArrayItem(rows, cJSON_GetArraySize(rows) - 1);
                    char *rec = strndup(start, (size_t)(p - start + 1));
                    cJSON_SetValuestring(last, rec);
                    free(rec);
                }
                start = p + 1;
            }
        }
    }
    /* newest first: the start time is the third field (ISO 8601 sorts as text) */
    n = cJSON_GetArraySize(rows);
    {
        cJSON **v = calloc((size_t)(n ? n : 1), sizeof *v);
        for (int i = 0; i < n; i++)
            v[i] = cJSON_GetArrayItem(rows, i);
        for (int i = 1; i < n; i++)
            for (int k = i; k > 0; k--) {
                const char *a = strchr(strchr(v[k - 1]->valuestring, ',') + 1, ',');
                const char *b = strchr(strchr(v[k]->valuestring, ',') + 1, ',');
                if (a && b && strcmp(a, b) < 0) {
                    cJSON *t = v[k];
                    v[k] = v[k - 1];
                    v[k - 1] = t;
                }
            }
        csv = malloc(cap);
        csv[0] = '\0';
        for (int i = -1; i < n && i < 100; i++) {
            const char *piece = i < 0 ? header : v[i]->valuestring;
            size_t pl = i < 0 ? hlen : strlen(piece);
            if (!piece)
                continue;
            while (len + pl + 1 > cap)
                csv = realloc(csv, cap *= 2);
            memcpy(csv + len, piece, pl);
            len += pl;
            csv[len] = '\0';
        }
        free(v);
    }
    cJSON_AddStringToObject(out, "csv", csv);
    free(csv);
    cJSON_Delete(rows);
    (void)it;
}

/* both_done - one side answered; merge once both did */
static void both_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    void **pair = arg;
    both_job *j = pair[0];
    int side = (int)(intptr_t)pair[1];
    free(pair);
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0)
        j->parts[side] = cJSON_Duplicate(reply->body, 1);
    else if (err)
        j->errs[side] = *err;
    if (--j->outstanding > 0)
        return;
    if (strcmp(j->type, "run.show") == 0) {
        int k = j->parts[0] ? 0 : j->parts[1] ? 1 : -1;
        if (k < 0) {
            cmk_msg *e = cmk_msg_error(j->reply, j->errs[0].code ? j->errs[0].code : CMK_ENOENT, j->errs[0].msg);
            cmk_msg_destroy(&j->reply);
            broker_reply(j->ctl->broker, e);
        } else {
            cmk_msg_set_body(j->reply, j->parts[k]);
            j->parts[k] = NULL;
            broker_reply(j->ctl->broker, j->reply);
        }
    } else {
        cJSON *out = cJSON_CreateObject();
        if (strcmp(j->type, "run.summary") == 0) {
            cJSON *items = cJSON_AddArrayToObject(out, "items"), *it;
            for (int k = 0; k < 2; k++) {
                const cJSON *list = j->parts[k] ? cJSON_GetObjectItem(j->parts[k], "items") : NULL;
                cJSON_ArrayForEach(it, list) {
                    cJSON *r = cJSON_Duplicate(it, 1);
                    cJSON_AddStringToObject(r, "infrastructure", k == 0 ? "dedicated (after CMK)" : "shared (before CMK)");
                    cJSON_AddItemToArray(items, r);
                }
            }
        } else if (strcmp(j->type, "flow.list") == 0) {
            cJSON *items = cJSON_AddArrayToObject(out, "items"), *it;
            for (int k = 0; k < 2; k++) {
                const cJSON *list = j->parts[k] ? cJSON_GetObjectItem(j->parts[k], "items") : NULL;
                cJSON_ArrayForEach(it, list) {
                    cJSON *f = cJSON_Duplicate(it, 1);
                    cJSON_AddStringToObject(f, "protected_by", k == 0 ? "customer-managed key" : "Microsoft-managed key");
                    cJSON_AddItemToArray(items, f);
                }
            }
            /* issue 16 item 6 (fidelity branch): the CMK side did not answer (locked: its worker
             * wiped its keys): say so instead of silently listing only the MMK-held flows */
            if (!j->parts[0]) {
                char note[CMK_ERR_MSG_MAX + 200];
                if (strstr(j->errs[0].msg, "Environment disabled") || strstr(j->errs[0].msg, "locked"))
                    snprintf(note, sizeof note, "Environment disabled: the flows protected by the customer-managed key "
                                                "are unavailable while the environment is locked; only the flows kept on "
                                                "the Microsoft-managed key are listed");
                else
                    snprintf(note, sizeof note, "the flows protected by the customer-managed key are unavailable: %s",
                             j->errs[0].msg[0] ? j->errs[0].msg : "the dedicated worker did not answer");
                cJSON_AddStringToObject(out, "cmk_flows_unavailable", note);
            }
        } else
            csv_merge(j, out);
        cmk_msg_set_body(j->reply, out);
        broker_reply(j->ctl->broker, j->reply);
    }
    cJSON_Delete(j->parts[0]);
    cJSON_Delete(j->parts[1]);
    free(j);
}

/* ctl_route_both - ask the dedicated and the shared worker, merge their answers */
int ctl_route_both(ctl *self, const cmk_msg *req, const dir_env *env, cmk_err *err)
{
    const cmk_op *op = cmk_op_find(req->type);
    both_job *j = calloc(1, sizeof *j);
    char ded[CMK_WORKER_NAME_MAX];
    if (!j)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    cmk_strlcpy(j->type, req->type, sizeof j->type);
    j->outstanding = 2;
    cmk_worker_name(env->id, ded, sizeof ded);
    for (int side = 0; side < 2; side++) {
        void **pair = malloc(2 * sizeof *pair);
        cJSON *body = route_owned_body(op, req->body, req->user, env, side == 0 ? "dedicated" : "shared",
                                       cmk_clock_now(self->clock));
        pair[0] = j;
        pair[1] = (void *)(intptr_t)side;
        {
            cmk_err ferr = CMK_ERR_INIT;
            if (broker_forward(self->broker, side == 0 ? ded : CMK_WORKER_SHARED, req->type, body,
                               self->cfg->request_timeout, both_done, pair, &ferr) < 0)
                both_done(pair, NULL, &ferr); /* not sent (busy): this side answers with the error */
        }
        cJSON_Delete(body);
    }
    return 0;
}

/* A child-flow call relayed from one worker of an environment to the other. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply; /* to the calling worker (back channel) */
} relay_job;

/* relay_done - the child's worker answered (the child run's result), or did not */
static void relay_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    relay_job *j = arg;
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0) {
        cmk_msg_set_body(j->reply, cJSON_Duplicate(reply->body, 1));
        broker_reply_back(j->ctl->broker, j->reply);
    } else {
        cmk_msg *e = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_EINTERNAL,
                                   err && err->msg[0] ? err->msg : "the child flow's worker did not answer");
        cmk_msg_destroy(&j->reply);
        broker_reply_back(j->ctl->broker, e);
    }
    free(j);
}

/* serves - does the peer's authorized.json entry name env (or every shared environment, "*") */
static int serves(const cJSON *entry, const char *env)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(entry, "envs")) {
        if (cJSON_IsString(it) && (strcmp(it->valuestring, env) == 0 || strcmp(it->valuestring, "*") == 0))
            return 1;
    }
    return 0;
}

/* relay_placement - the environment of a worker's relayed call, checked: the calling worker
 * serves it, it is the shared worker, the environment is on dedicated infrastructure, the
 * calling flow (`caller`) is one kept on the shared worker, and the environment is Ready */
static int relay_placement(ctl *self, const cmk_msg *req, const char *what, dir_env *env, cmk_err *err)
{
    const char *caller = cmk_json_str(req->body, "caller", "");
    int rc;
    if ((rc = directory_env_placement(self->dir, cmk_json_str(req->body, "env", ""), env, err)) < 0)
        return rc;
    if (!serves(cmk_zap_entry(self->zap, req->user), env->id))
        return cmk_err_set(err, CMK_EPERM, "worker '%s' does not serve environment %s and cannot use its %s",
                           req->user, env->id, what);
    if (strcmp(req->user, CMK_WORKER_SHARED) != 0 || strcmp(env->infrastructure, "dedicated") != 0 || !*caller ||
        strcmp(migration_home(self->migration, env->id, caller, env->infrastructure), "shared") != 0)
        return cmk_err_set(err, CMK_EPERM,
                           "only a flow kept on the Microsoft-managed key (shared worker) of an environment on dedicated "
                           "infrastructure reaches the other side's %s; '%s' (flow '%s') in environment %s does not",
                           what, req->user, caller, env->id);
    if (strcmp(env->state, "Ready") != 0)
        return cmk_err_set(err, CMK_EUNAVAIL, "environment %s is %s: its %s cannot be used now", env->id, env->state,
                           what);
    return 0;
}

/* relay - forward a worker's call as `type` to `target`, the environment's other worker, with the
 * fields the controller owns; the answer goes back to the caller */
static int relay(ctl *self, const cmk_msg *req, const dir_env *env, const char *target, const char *type,
                 cmk_err *err)
{
    cJSON *body = route_owned_body(cmk_op_find(req->type), req->body, req->user, env, env->infrastructure,
                                   cmk_clock_now(self->clock));
    relay_job *j;
    int rc;
    if (!body)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(body, "client_req"); /* a relayed run is never deduplicated */
    j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    cmk_log(CMK_LOG_INFO, env->id, req->reqid, "relay", "type=%s as=%s from=%s to=%s", req->type, type, req->user,
            target);
    rc = broker_forward(self->broker, target, type, body, self->cfg->request_timeout, relay_done, j, err);
    cJSON_Delete(body);
    if (rc < 0) {
        cmk_msg_destroy(&j->reply);
        free(j);
    }
    return rc;
}

/* op_flow_child_run - a worker's child-flow call of a flow it does not hold: a flow held on the
 * Microsoft-managed key (shared worker) calling a child that moved to the dedicated worker. The
 * controller runs it where the child lives, as flow.run, and relays the child run's result. A
 * worker may relay only within an environment it serves, and only to the environment's other
 * worker. */
int op_flow_child_run(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    const char *flow = cmk_json_str(req->body, "flow", "");
    dir_env env;
    char target[CMK_WORKER_NAME_MAX];
    int rc;

    if ((rc = relay_placement(self, req, "flows", &env, err)) < 0)
        return rc;
    worker_for(self, &env, flow, target, sizeof target);
    if (!*flow || strcmp(target, req->user) == 0)
        return cmk_err_set(err, CMK_ENOENT, "child flow '%s' does not exist in environment %s (a child flow must be a "
                                            "flow of the same environment)", flow, env.id);
    return relay(self, req, &env, target, CMK_T_FLOW_RUN, err);
}

/* op_conn_use - a worker's use of a connection it does not hold: a flow held on the
 * Microsoft-managed key uses a connection that moved to the dedicated partition with the
 * environment (OAuth ones under the customer's key, non-OAuth ones under the Microsoft-managed
 * one). The dedicated worker opens it (conn.show unseals the secret and wipes it) and the caller
 * hears which connection and key served the action; the secret never leaves its worker. */
int op_conn_use(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    dir_env env;
    char target[CMK_WORKER_NAME_MAX];
    int rc;

    if ((rc = relay_placement(self, req, "connections", &env, err)) < 0)
        return rc;
    ctl_worker_of(&env, target, sizeof target);
    if (strcmp(target, req->user) == 0)
        return cmk_err_set(err, CMK_ENOENT, "no connection '%s' in environment %s",
                           cmk_json_str(req->body, "conn", ""), env.id);
    return relay(self, req, &env, target, CMK_T_CONN_SHOW, err);
}
