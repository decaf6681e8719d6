/*
 * engine.c - the run state machine over a parsed flow definition (see engine.h).
 *
 * Every action has a record indexed like the definition's actions (document pre-order). A step
 * sweeps the records in that order until nothing changes: an action whose scope is running and
 * whose runAfter predecessors have all ended either starts or is skipped. Starting evaluates the
 * inputs; Compose, Condition, Terminate and Response finish at once, the others wait for the
 * caller. Deterministic: the same calls in the same order give the same run.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flowexpr.h"

static const char *const en_status_names[] = { "NotStarted", "Waiting", "Running", "Succeeded",
                                               "Failed", "Skipped", "TimedOut", "Cancelled" };

/* en_set_error - replace an error pair (code and message are copied) */
void en_set_error(char **code_p, char **msg_p, const char *code, const char *message)
{
    free(*code_p);
    free(*msg_p);
    *code_p = code ? strdup(code) : NULL;
    *msg_p = message ? strdup(message) : NULL;
}

/* en_ended - true for a status an action (or run) ends in */
static bool en_ended(engine_status s)
{
    return s >= ENGINE_SUCCEEDED;
}

/* en_mask - the runAfter bit of an ended status (0 for Cancelled) */
static unsigned en_mask(engine_status s)
{
    return s == ENGINE_SUCCEEDED ? FLOWDEF_ON_SUCCEEDED : s == ENGINE_FAILED ? FLOWDEF_ON_FAILED
           : s == ENGINE_SKIPPED ? FLOWDEF_ON_SKIPPED : s == ENGINE_TIMEDOUT ? FLOWDEF_ON_TIMEDOUT : 0;
}


/* en_lookup - body('A') / outputs('A') for expressions */
static int en_lookup(void *arg, const char *name, const cJSON **outputs, const cJSON **body, cmk_err *err)
{
    engine_run *run = arg;
    const flowdef_action *a = flowdef_action_find(run->def, name);
    if (!a)
        return cmk_err_set(err, CMK_ENOENT, "no action named '%s'", name);
    const en_rec *r = &run->recs[a->index];
    if (r->status != ENGINE_SUCCEEDED && r->status != ENGINE_FAILED && r->status != ENGINE_TIMEDOUT)
        return cmk_err_set(err, CMK_ESTATE, "action '%s' has not run (it is %s); read it only from actions that "
                           "run after it", name, en_status_names[r->status]);
    *outputs = r->outputs;
    *body = a->type == FLOWDEF_ACTION_COMPOSE ? r->outputs : cJSON_GetObjectItemCaseSensitive(r->outputs, "body");
    return 0;
}

/* en_ctx - the expression context of the run; an evaluation may produce what the budget has left */
static flowexpr_ctx en_ctx(engine_run *run, size_t *spent)
{
    flowexpr_ctx c = { .trigger_outputs = run->trigger, .parameters = flowdef_parameters(run->def),
                       .variables = NULL, .lookup = en_lookup, .lookup_arg = run, .now_ms = run->now_ms,
                       .budget = run->budget ? (run->used < run->budget ? run->budget - run->used : 1) : 0,
                       .spent = spent };
    return c;
}

/* en_size_text - a byte count in words ("16 MiB", "70000 bytes") */
static const char *en_size_text(size_t n, char *buf, size_t cap)
{
    if (n % (1024 * 1024) == 0)
        snprintf(buf, cap, "%zu MiB", n / (1024 * 1024));
    else if (n % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", n / 1024);
    else
        snprintf(buf, cap, "%zu bytes", n);
    return buf;
}

/* en_finish - an action ends */
static void en_finish(engine_run *run, size_t i, engine_status s, const char *code, const char *message)
{
    en_rec *r = &run->recs[i];
    r->status = s;
    r->end_ms = run->now_ms;
    if (code)
        en_set_error(&r->code, &r->message, code, message);
}

/* en_skip - skip an action and, for a Condition, everything inside it */
static void en_skip(engine_run *run, size_t i)
{
    run->recs[i].status = ENGINE_SKIPPED;
    for (size_t j = i + 1; j < run->n; j++)
        if (en_act(run, j)->parent == (int)i && run->recs[j].status == ENGINE_NOT_STARTED)
            en_skip(run, j);
}

/* en_unhandled - true if a Failed/TimedOut action of a scope has no sibling that ran because of it */
static bool en_unhandled(const engine_run *run, int parent, int branch)
{
    for (size_t x = 0; x < run->n; x++) {
        const flowdef_action *ax = en_act(run, x);
        engine_status sx = run->recs[x].status;
        bool handled = false;
        if (ax->parent != parent || ax->branch != branch || (sx != ENGINE_FAILED && sx != ENGINE_TIMEDOUT))
            continue;
        for (size_t y = 0; y < run->n && !handled; y++) {
            const flowdef_action *ay = en_act(run, y);
            if (ay->parent != parent || ay->branch != branch || run->recs[y].status == ENGINE_SKIPPED ||
                run->recs[y].status == ENGINE_NOT_STARTED)
                continue;
            for (size_t k = 0; k < ay->n_run_after; k++)
                handled |= ay->run_after[k].index == (int)x && (ay->run_after[k].statuses & en_mask(sx));
        }
        if (!handled)
            return true;
    }
    return false;
}

/* en_scope_ended - true if every action of the scope (parent, branch) has ended */
static bool en_scope_ended(const engine_run *run, int parent, int branch)
{
    for (size_t j = 0; j < run->n; j++)
        if (en_act(run, j)->parent == parent && en_act(run, j)->branch == branch && !en_ended(run->recs[j].status))
            return false;
    return true;
}

/* en_end_run - the run ends with a status and an optional error */
static void en_end_run(engine_run *run, engine_status s, const char *code, const char *message)
{
    run->status = s;
    run->end_ms = run->now_ms;
    en_set_error(&run->code, &run->message, code, message);
    for (size_t j = 0; j < run->n; j++)
        if (run->recs[j].status == ENGINE_WAITING || run->recs[j].status == ENGINE_RUNNING)
            en_finish(run, j, ENGINE_CANCELLED, NULL, NULL);
}

/* en_add_work - append the work of waiting action i to a list */
static int en_add_work(const engine_run *run, size_t i, engine_work_list *list)
{
    const flowdef_action *a = en_act(run, i);
    engine_work *nw = realloc(list->items, (list->count + 1) * sizeof *nw), *w;
    if (!nw)
        return CMK_ENOMEM;
    list->items = nw;
    w = &nw[list->count];
    *w = (engine_work){ .action = strdup(a->name), .request = cJSON_Duplicate(run->recs[i].inputs, 1) };
    if (!w->action || !w->request) {
        free(w->action);
        cJSON_Delete(w->request);
        return CMK_ENOMEM;
    }
    list->count++;
    w->kind = a->type == FLOWDEF_ACTION_HTTP ? ENGINE_WORK_HTTP
              : a->type == FLOWDEF_ACTION_WORKFLOW ? ENGINE_WORK_CHILD_FLOW : ENGINE_WORK_LIST_FLOWS;
    w->method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w->request, "method"));
    w->uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w->request, "uri"));
    w->headers = cJSON_GetObjectItemCaseSensitive(w->request, "headers");
    w->body = cJSON_GetObjectItemCaseSensitive(w->request, "body");
    w->child_flow = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(w->request, "host"), "workflowReferenceName"));
    w->list_flows_version = a->list_flows_version;
    w->parameters = cJSON_GetObjectItemCaseSensitive(w->request, "parameters");
    return 0;
}

/* en_terminate - a Terminate action ends the run with its runStatus */
static void en_terminate(engine_run *run, size_t i)
{
    const cJSON *in = run->recs[i].inputs, *re = cJSON_GetObjectItemCaseSensitive(in, "runError");
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "runStatus"));
    char *code = flowexpr_to_text(cJSON_GetObjectItemCaseSensitive(re, "code"));
    char *msg = flowexpr_to_text(cJSON_GetObjectItemCaseSensitive(re, "message")), dflt[256];
    snprintf(dflt, sizeof dflt, "The run was terminated by action '%s'.", en_act(run, i)->name);
    en_finish(run, i, ENGINE_SUCCEEDED, NULL, NULL);
    if (st && !strcmp(st, "Succeeded"))
        en_end_run(run, ENGINE_SUCCEEDED, NULL, NULL);
    else if (st && !strcmp(st, "Cancelled"))
        en_end_run(run, ENGINE_CANCELLED, "Cancelled", dflt);
    else
        en_end_run(run, ENGINE_FAILED, code && code[0] ? code : "Terminated", msg && msg[0] ? msg : dflt);
    free(code);
    free(msg);
}

/* en_respond - a Response action: its reply is the run's response */
static void en_respond(engine_run *run, size_t i)
{
    en_rec *r = &run->recs[i];
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r->inputs, "statusCode");
    char msg[256];
    if (!cJSON_IsNumber(sc) || sc->valuedouble != floor(sc->valuedouble) || sc->valuedouble < 100 ||
        sc->valuedouble > 599) {
        en_finish(run, i, ENGINE_FAILED, "InvalidTemplate", "the Response statusCode must be a number from 100 to 599");
        return;
    }
    if (run->response) {
        snprintf(msg, sizeof msg, "a response was already sent; action '%s' can't send another", en_act(run, i)->name);
        en_finish(run, i, ENGINE_FAILED, "ResponseAlreadySent", msg);
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddNumberToObject(resp, "statusCode", sc->valuedouble);
    cJSON_AddItemToObject(resp, "headers", cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->inputs, "headers"))
                                             ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->inputs, "headers"), 1)
                                             : cJSON_CreateObject());
    cJSON_AddItemToObject(resp, "body", cJSON_IsObject(r->inputs) && cJSON_GetObjectItemCaseSensitive(r->inputs, "body")
                                          ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->inputs, "body"), 1)
                                          : cJSON_CreateNull());
    run->response = resp;
    r->outputs = cJSON_Duplicate(resp, 1);
    en_finish(run, i, resp && r->outputs ? ENGINE_SUCCEEDED : ENGINE_FAILED, resp && r->outputs ? NULL : "OutOfMemory",
              "out of memory while building the response");
}

/* en_over_budget - action i took the run's data past its budget: the action fails and so does the
 * run (its data is dropped so that the saved record stays within the budget) */
static void en_over_budget(engine_run *run, size_t i, const char *detail)
{
    en_rec *r = &run->recs[i];
    char msg[CMK_ERR_MSG_MAX], sz[32];
    snprintf(msg, sizeof msg,
             "the run's data passed %s (run.data_budget) at action '%s'%s%s; make the flow carry less data or "
             "raise run.data_budget", en_size_text(run->budget, sz, sizeof sz), en_act(run, i)->name,
             detail ? ": " : "", detail ? detail : "");
    cJSON_Delete(r->inputs);
    cJSON_Delete(r->outputs);
    r->inputs = r->outputs = NULL;
    en_finish(run, i, ENGINE_FAILED, "RunDataLimit", msg);
    en_end_run(run, ENGINE_FAILED, "RunDataLimit", msg);
}

/* en_start - start action i: evaluate it and finish it, or leave it waiting (work added) */
static int en_start(engine_run *run, size_t i, engine_work_list *list)
{
    const flowdef_action *a = en_act(run, i);
    en_rec *r = &run->recs[i];
    size_t spent = 0;
    flowexpr_ctx ctx = en_ctx(run, &spent);
    cmk_err e = CMK_ERR_INIT;
    cJSON *v = NULL;
    int rc;
    if (run->starts_left > 0)
        run->starts_left--;
    r->order = ++run->seq;
    r->start_ms = run->now_ms;
    if (a->type == FLOWDEF_ACTION_CONDITION) {
        rc = flowexpr_eval_string(a->condition, &ctx, &v, &e);
        if (rc == 0 && !cJSON_IsBool(v))
            rc = cmk_err_set(&e, CMK_EINVAL, "the condition '%.200s' gave %s, not true or false", a->condition,
                             cJSON_IsString(v) ? "a string" : "a value that isn't a boolean");
        if (rc == 0) {
            r->branch = cJSON_IsTrue(v);
            r->inputs = cJSON_CreateObject();
            cJSON_AddBoolToObject(r->inputs, "expressionResult", r->branch);
            r->status = ENGINE_RUNNING;
            for (size_t j = i + 1; j < run->n; j++) /* the branch not taken */
                if (en_act(run, j)->parent == (int)i && en_act(run, j)->branch != r->branch)
                    en_skip(run, j);
        }
    } else {
        rc = flowexpr_eval_json(a->inputs, &ctx, &v, &e);
        if (rc == 0)
            r->inputs = cJSON_Duplicate(v, 1);
        if (rc == 0 && a->type == FLOWDEF_ACTION_HTTP &&
            (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "method")) ||
             !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "uri"))))
            rc = cmk_err_set(&e, CMK_EINVAL, "the HTTP method and uri must evaluate to strings");
    }
    if (rc == CMK_ENOMEM) {
        cJSON_Delete(v);
        return rc;
    }
    if (rc == CMK_ELIMIT && run->budget) {
        cJSON_Delete(v);
        en_over_budget(run, i, e.msg);
        return 0;
    }
    if (rc == 0 && run->budget) {
        size_t add = flowexpr_json_size(r->inputs) + (a->type == FLOWDEF_ACTION_COMPOSE ? flowexpr_json_size(v) : 0);
        run->used += add;
        if (run->used > run->budget) {
            cJSON_Delete(v);
            en_over_budget(run, i, NULL);
            return 0;
        }
    }
    if (rc < 0) {
        en_finish(run, i, ENGINE_FAILED, "InvalidTemplate", e.msg);
        rc = 0;
    } else if (a->type == FLOWDEF_ACTION_COMPOSE) {
        r->outputs = v;
        v = NULL;
        en_finish(run, i, ENGINE_SUCCEEDED, NULL, NULL);
    } else if (a->type == FLOWDEF_ACTION_TERMINATE) {
        en_terminate(run, i);
    } else if (a->type == FLOWDEF_ACTION_RESPONSE) {
        en_respond(run, i);
    } else if (a->type != FLOWDEF_ACTION_CONDITION) {
        r->status = ENGINE_WAITING;
        rc = en_add_work(run, i, list);
    }
    cJSON_Delete(v);
    return rc;
}

/* en_sweep - one pass in document order; returns 1 if something changed, < 0 on error */
static int en_sweep(engine_run *run, engine_work_list *list)
{
    int changed = 0, rc;
    for (size_t i = 0; i < run->n && run->status == ENGINE_RUNNING; i++) {
        const flowdef_action *a = en_act(run, i);
        en_rec *r = &run->recs[i];
        if (r->status == ENGINE_RUNNING && en_scope_ended(run, (int)i, r->branch)) { /* a Condition's branch ended */
            bool bad = en_unhandled(run, (int)i, r->branch);
            en_finish(run, i, bad ? ENGINE_FAILED : ENGINE_SUCCEEDED, bad ? "ActionFailed" : NULL,
                      "An action failed. No dependent actions succeeded.");
            changed = 1;
            continue;
        }
        if (r->status != ENGINE_NOT_STARTED ||
            (a->parent >= 0 && (run->recs[a->parent].status != ENGINE_RUNNING || run->recs[a->parent].branch != a->branch)))
            continue;
        bool ready = true, met = true;
        for (size_t k = 0; k < a->n_run_after && ready; k++) {
            engine_status s = run->recs[a->run_after[k].index].status;
            ready = en_ended(s);
            met &= (en_mask(s) & a->run_after[k].statuses) != 0;
        }
        if (!ready)
            continue;
        if (met && run->starts_left == 0) { /* this step's share is used: the caller steps again later */
            run->yielded = 1;
            return changed;
        }
        changed = 1;
        if (!met)
            en_skip(run, i);
        else if ((rc = en_start(run, i, list)) < 0)
            return rc;
    }
    return changed;
}

/* engine_step - advance as far as possible */
int engine_step(engine_run *run, int64_t now_ms, engine_work_list **out, cmk_err *err)
{
    return engine_step_bounded(run, now_ms, -1, out, err) < 0 ? (err ? err->code : CMK_ENOMEM) : 0;
}

/* engine_set_budget - the bytes of data the run may hold */
void engine_set_budget(engine_run *run, size_t bytes)
{
    run->budget = bytes;
}

/* engine_run_data_size - the bytes of data the run holds now */
size_t engine_run_data_size(const engine_run *run)
{
    return run->used;
}

/* engine_step_bounded - advance, starting at most max_starts actions; 1 if more is left to do */
int engine_step_bounded(engine_run *run, int64_t now_ms, int max_starts, engine_work_list **out, cmk_err *err)
{
    int rc = 1;
    if (!(*out = calloc(1, sizeof **out)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while running a flow");
    if (run->status != ENGINE_RUNNING)
        return 0;
    run->now_ms = now_ms;
    run->starts_left = max_starts < 0 ? -1 : max_starts;
    run->yielded = 0;
    if (run->budget && run->used > run->budget && run->n > 0 && run->seq == 0) {
        char msg[CMK_ERR_MSG_MAX], sz[32];
        snprintf(msg, sizeof msg, "the run's data passed %s (run.data_budget) with its trigger alone (%zu bytes); "
                 "send less data or raise run.data_budget", en_size_text(run->budget, sz, sizeof sz), run->used);
        en_end_run(run, ENGINE_FAILED, "RunDataLimit", msg);
        return 0;
    }
    while (rc > 0 && run->status == ENGINE_RUNNING && !run->yielded)
        rc = en_sweep(run, *out);
    run->starts_left = -1;
    if (rc < 0)
        return cmk_err_set(err, rc, "out of memory while running a flow");
    if (run->yielded && run->status == ENGINE_RUNNING)
        return 1;
    if (run->status == ENGINE_RUNNING && en_scope_ended(run, -1, 1)) {
        bool bad = en_unhandled(run, -1, 1);
        en_end_run(run, bad ? ENGINE_FAILED : ENGINE_SUCCEEDED, bad ? "ActionFailed" : NULL,
                   bad ? "An action failed. No dependent actions succeeded." : NULL);
    }
    return 0;
}

/* engine_complete - the answer to a waiting action */
int engine_complete(engine_run *run, const char *action, engine_status status, const char *outputs_json,
                    const char *error_message, int64_t now_ms, cmk_err *err)
{
    const flowdef_action *a = flowdef_action_find(run->def, action);
    cJSON *out = NULL;
    char dflt[256];
    if (!a)
        return cmk_err_set(err, CMK_ENOENT, "this run has no action named '%s'", action ? action : "(null)");
    if (run->recs[a->index].status != ENGINE_WAITING)
        return cmk_err_set(err, CMK_ESTATE, "action '%s' is not waiting (it is %s, the run is %s); the answer is "
                           "dropped", action, en_status_names[run->recs[a->index].status], en_status_names[run->status]);
    if (status != ENGINE_SUCCEEDED && status != ENGINE_FAILED && status != ENGINE_TIMEDOUT)
        return cmk_err_set(err, CMK_EINVAL, "an action's work ends Succeeded, Failed or TimedOut, not %s",
                           engine_status_name(status));
    run->now_ms = now_ms;
    if (run->budget && outputs_json && strlen(outputs_json) > run->budget - (run->used < run->budget ? run->used : run->budget)) {
        char detail[128];
        snprintf(detail, sizeof detail, "its outputs are %zu bytes", strlen(outputs_json));
        en_over_budget(run, (size_t)a->index, detail);
        return 0;
    }
    if (outputs_json && outputs_json[0] && !(out = cJSON_Parse(outputs_json)))
        return cmk_err_set(err, CMK_EINVAL, "the outputs of action '%s' are not valid JSON", action);
    run->used += flowexpr_json_size(out);
    run->recs[a->index].outputs = out;
    snprintf(dflt, sizeof dflt, "action '%s' %s", action, status == ENGINE_FAILED ? "failed" : "timed out");
    en_finish(run, (size_t)a->index, status, status == ENGINE_SUCCEEDED ? NULL
              : status == ENGINE_FAILED ? "ActionFailed" : "ActionTimedOut", error_message ? error_message : dflt);
    return 0;
}

/* engine_run_fail - end a running run Failed */
int engine_run_fail(engine_run *run, int64_t now_ms, const char *code, const char *message, cmk_err *err)
{
    if (run->status != ENGINE_RUNNING)
        return cmk_err_set(err, CMK_ESTATE, "the run has already ended (%s)", en_status_names[run->status]);
    run->now_ms = now_ms;
    en_end_run(run, ENGINE_FAILED, code, message);
    return 0;
}

/* engine_run_cancel - cancel a running run */
int engine_run_cancel(engine_run *run, int64_t now_ms, cmk_err *err)
{
    if (run->status != ENGINE_RUNNING)
        return cmk_err_set(err, CMK_ESTATE, "the run has already ended (%s)", en_status_names[run->status]);
    run->now_ms = now_ms;
    en_end_run(run, ENGINE_CANCELLED, "Cancelled", "The run was cancelled.");
    return 0;
}

/* engine_run_waiting - every action waiting now */
int engine_run_waiting(const engine_run *run, engine_work_list **out, cmk_err *err)
{
    if (!(*out = calloc(1, sizeof **out)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while listing a run's work");
    for (size_t i = 0; i < run->n; i++)
        if (run->recs[i].status == ENGINE_WAITING && en_add_work(run, i, *out) < 0)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory while listing a run's work");
    return 0;
}

/* engine_work_list_destroy - free a work list */
void engine_work_list_destroy(engine_work_list **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < (*self_p)->count; i++) {
        free((*self_p)->items[i].action);
        cJSON_Delete((*self_p)->items[i].request);
    }
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

/* en_alloc - a run of def (taken) with the trigger outputs (taken) */
engine_run *en_alloc(flowdef *def, cJSON *trigger)
{
    engine_run *run = calloc(1, sizeof *run);
    size_t n = flowdef_action_count(def);
    if (run && (run->recs = calloc(n + 1, sizeof *run->recs))) {
        run->def = def;
        run->trigger = trigger;
        run->n = n;
        run->status = ENGINE_RUNNING;
        run->starts_left = -1;
        for (size_t i = 0; i < n; i++)
            run->recs[i].branch = -1;
        return run;
    }
    free(run);
    flowdef_destroy(&def);
    cJSON_Delete(trigger);
    return NULL;
}

/* engine_run_new - a run of def started at now_ms */
int engine_run_new(const flowdef *def, const char *trigger_json, int64_t now_ms, engine_run **out, cmk_err *err)
{
    cJSON *trigger = trigger_json && trigger_json[0] ? cJSON_Parse(trigger_json) : cJSON_CreateObject();
    *out = NULL;
    if (!trigger && trigger_json && trigger_json[0])
        return cmk_err_set(err, CMK_EINVAL, "the trigger outputs must be a JSON object such as {\"headers\": {}, "
                           "\"body\": {...}}");
    return engine_run_start(def, trigger, now_ms, out, err);
}

/* engine_run_start - a run of def (shared, not copied) with parsed trigger outputs (taken) */
int engine_run_start(const flowdef *def, cJSON *trigger, int64_t now_ms, engine_run **out, cmk_err *err)
{
    *out = NULL;
    if (!cJSON_IsObject(trigger)) {
        cJSON_Delete(trigger);
        return cmk_err_set(err, CMK_EINVAL, "the trigger outputs must be a JSON object such as {\"headers\": {}, "
                           "\"body\": {...}}");
    }
    if (!(*out = en_alloc(flowdef_ref(def), trigger)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while starting a run");
    (*out)->start_ms = (*out)->now_ms = now_ms;
    (*out)->used = flowexpr_json_size(trigger);
    return 0;
}

/* engine_run_destroy - free a run */
void engine_run_destroy(engine_run **self_p)
{
    if (!self_p || !*self_p)
        return;
    engine_run *run = *self_p;
    for (size_t i = 0; i < run->n; i++) {
        cJSON_Delete(run->recs[i].inputs);
        cJSON_Delete(run->recs[i].outputs);
        free(run->recs[i].code);
        free(run->recs[i].message);
    }
    free(run->recs);
    free(run->code);
    free(run->message);
    cJSON_Delete(run->trigger);
    cJSON_Delete(run->response);
    flowdef_destroy(&run->def);
    free(run->def_flow);
    free(run);
    *self_p = NULL;
}

/* engine_run_status - the run's status */
engine_status engine_run_status(const engine_run *run)
{
    return run->status;
}

/* engine_run_error - the run's error */
void engine_run_error(const engine_run *run, const char **code, const char **message)
{
    if (code)
        *code = run->code;
    if (message)
        *message = run->message;
}

/* engine_run_times - start and end */
void engine_run_times(const engine_run *run, int64_t *start_ms, int64_t *end_ms)
{
    if (start_ms)
        *start_ms = run->start_ms;
    if (end_ms)
        *end_ms = run->end_ms;
}

/* engine_run_def - the run's definition */
const flowdef *engine_run_def(const engine_run *run)
{
    return run->def;
}

/* engine_run_record_count - number of records (actions) */
size_t engine_run_record_count(const engine_run *run)
{
    return run->n;
}

/* engine_run_record - the record of action i */
bool engine_run_record(const engine_run *run, size_t i, engine_record *out)
{
    if (i >= run->n)
        return false;
    const en_rec *r = &run->recs[i];
    const flowdef_action *a = en_act(run, i);
    *out = (engine_record){ .name = a->name, .type = flowdef_action_type_name(a->type), .status = r->status,
                            .inputs = r->inputs, .outputs = r->outputs, .start_ms = r->start_ms, .end_ms = r->end_ms,
                            .error_code = r->code, .error_message = r->message, .branch = r->branch, .order = r->order };
    return true;
}

/* engine_run_record_find - the record of an action by name */
int engine_run_record_find(const engine_run *run, const char *name, engine_record *out)
{
    const flowdef_action *a = flowdef_action_find(run->def, name);
    return a && engine_run_record(run, (size_t)a->index, out) ? 0 : CMK_ENOENT;
}

/* engine_run_response - the Response, once sent */
bool engine_run_response(const engine_run *run, int *status_code, const cJSON **headers, const cJSON **body)
{
    if (!run->response)
        return false;
    if (status_code)
        *status_code = (int)cJSON_GetObjectItemCaseSensitive(run->response, "statusCode")->valuedouble;
    if (headers)
        *headers = cJSON_GetObjectItemCaseSensitive(run->response, "headers");
    if (body)
        *body = cJSON_GetObjectItemCaseSensitive(run->response, "body");
    return true;
}

/* engine_status_name - a status in words */
const char *engine_status_name(engine_status status)
{
    return status >= ENGINE_NOT_STARTED && status <= ENGINE_CANCELLED ? en_status_names[status] : "Unknown";
}

/* engine_status_parse - a status from its name */
int engine_status_parse(const char *name, engine_status *out)
{
    for (int s = ENGINE_NOT_STARTED; name && s <= ENGINE_CANCELLED; s++)
        if (!strcmp(en_status_names[s], name)) {
            *out = (engine_status)s;
            return 0;
        }
    return CMK_EINVAL;
}
