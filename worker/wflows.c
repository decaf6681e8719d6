/*
 * wflows.c - a worker's requests on flows, runs and connections: create (validated at save
 * time), get, list, update, delete, turn on/off, "Save as" (new id, and a new trigger URL for
 * HTTP-trigger flows), export, import, run, HTTP-trigger invoke, run history, CSV export; for
 * the controller: flow.dump and flow.put (migration, backup; restore, copy and reset put into
 * a staging area, see wstage.c).
 *
 * Trigger URLs: an HTTP-trigger flow's signature is 256 random bits, sealed in the partition,
 * checked in constant time (partition_flow_check_sig). It appears only in answers to requests
 * that the authorization matrix limits to writers (flow.create, flow.update, flow.save-as,
 * flow.import and flow.trigger-url) and in flow.dump (controller only: migration, backup,
 * restore, which re-seal it in the target partition); flow.get, flow.list, flow.export,
 * run.show and every other answer a reader can get leave it out, and the `sig` query parameter
 * is not kept in a run's trigger outputs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "flowdef.h"
#include "jschema.h"
#include "log.h"
#include "op_fields.h"
#include "ops.h"
#include "util.h"
#include "worker.h"

#define CSV_MAX_RECORDS 100 /* the product's limit of the "All runs" CSV export */

/* trigger_kind_name - partition's trigger_kind text */
static const char *trigger_kind_name(flowdef_trigger k)
{
    switch (k) {
    case FLOWDEF_TRIGGER_MANUAL: return "manual";
    case FLOWDEF_TRIGGER_RECURRENCE: return "recurrence";
    case FLOWDEF_TRIGGER_HTTP: return "http";
    case FLOWDEF_TRIGGER_POWERAPPS_V1: return "powerapps-v1";
    case FLOWDEF_TRIGGER_POWERAPPS_V2: return "powerapps-v2";
    case FLOWDEF_TRIGGER_TEAMS: return "teams";
    }
    return "unknown";
}

/* definition_text - the definition member (object or string) as text; malloc'd */
static char *definition_text(const cJSON *body)
{
    const cJSON *d = cJSON_GetObjectItem(body, "definition");
    if (cJSON_IsString(d))
        return strdup(d->valuestring);
    if (cJSON_IsObject(d))
        return cJSON_PrintUnformatted(d);
    return NULL;
}

/* trigger_path_of - the trigger URL's path and query of an HTTP-trigger flow into buf */
static const char *trigger_path_of(const partition_flow *f, const char *env, char *buf, size_t cap)
{
    snprintf(buf, cap, "/workflows/%s/%s/triggers/manual/paths/invoke?api-version=2016-06-01"
                       "&sp=%%2Ftriggers%%2Fmanual%%2Frun&sv=1.0&sig=%s", env, f->id, f->trigger_token);
    return buf;
}

/* flow_json - metadata as the CLI shows it; the trigger URL only if with_url (writers) */
static cJSON *flow_json(const partition_flow *f, const char *env, int with_url)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    cJSON_AddStringToObject(o, "id", f->id);
    cJSON_AddStringToObject(o, "env", env);
    cJSON_AddStringToObject(o, "name", f->name);
    cJSON_AddStringToObject(o, "trigger", f->trigger_kind);
    cJSON_AddStringToObject(o, "kind", f->kind);
    cJSON_AddStringToObject(o, "state", f->enabled ? "On" : "Off");
    cJSON_AddBoolToObject(o, "in_solution", f->in_solution);
    if (with_url && f->trigger_token[0]) {
        char path[384];
        cJSON_AddStringToObject(o, "trigger_path", trigger_path_of(f, env, path, sizeof path));
        cmk_wipe(path, sizeof path);
    }
    cJSON_AddStringToObject(o, "created", cmk_time_format(f->created_ms, ts, sizeof ts));
    cJSON_AddStringToObject(o, "updated", cmk_time_format(f->updated_ms, ts, sizeof ts));
    return o;
}

/* A reply sent once a write is durable. */
typedef struct {
    worker *w;
    cmk_msg *reply;
} durable_reply;

static void on_durable(void *arg, int rc)
{
    durable_reply *d = arg;
    if (rc < 0)
        worker_fail(d->w, d->reply, rc, "the write could not be committed to the partition");
    else
        worker_reply(d->w, d->reply);
    free(d);
}

/* reply_when_durable - body into reply; send it after the write commits */
static durable_reply *reply_when_durable(worker *w, cmk_msg *reply, cJSON *body)
{
    durable_reply *d = calloc(1, sizeof *d);
    cmk_msg_set_body(reply, body);
    if (d) {
        d->w = w;
        d->reply = reply;
    }
    return d;
}

/* save_flow - validate and store a flow; meta filled from the definition; the reply carries
 * the trigger URL if with_url (answers to writers only) */
static int save_flow(worker *w, wenv *e, cmk_msg *reply, partition_flow *meta, const char *def, int with_url,
                     const char *stage, cmk_err *err)
{
    flowdef *fd = NULL;
    durable_reply *d;
    int rc = flowdef_parse(def, strlen(def), &fd, err);
    if (rc < 0)
        return cmk_err_prefix(err, "the flow definition is not valid: ");
    cmk_strlcpy(meta->trigger_kind, trigger_kind_name(flowdef_trigger_kind(fd)), sizeof meta->trigger_kind);
    if (flowdef_trigger_kind(fd) == FLOWDEF_TRIGGER_HTTP && !meta->trigger_token[0]) {
        if ((rc = partition_trigger_token_new(meta->trigger_token, sizeof meta->trigger_token, err)) < 0) {
            flowdef_destroy(&fd);
            return rc;
        }
    } else if (flowdef_trigger_kind(fd) != FLOWDEF_TRIGGER_HTTP)
        meta->trigger_token[0] = '\0';
    flowdef_destroy(&fd);
    meta->updated_ms = worker_now(w);
    d = reply_when_durable(w, reply, flow_json(meta, e->id, with_url));
    if (!d)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    rc = stage ? partition_flow_stage(e->part, stage, meta, def, strlen(def), on_durable, d, err)
               : partition_flow_put(e->part, meta, def, strlen(def), on_durable, d, err);
    cmk_wipe(meta->trigger_token, sizeof meta->trigger_token);
    if (rc < 0) {
        free(d);
        cmk_msg_set_body(reply, cJSON_CreateObject());
    }
    return rc;
}

/* check_children - every child flow a definition calls exists in this environment (as the designer
 * refuses to save a flow naming a missing child); a flow may call itself (self_id) */
static int check_children(wenv *e, const char *def, const char *self_id, cmk_err *err)
{
    flowdef *fd = NULL;
    int rc = 0;
    if (flowdef_parse(def, strlen(def), &fd, NULL) < 0)
        return 0; /* save_flow reports the definition's own error */
    for (size_t i = 0; rc == 0 && i < flowdef_child_count(fd); i++) {
        const char *child = flowdef_child_at(fd, i);
        partition_flow meta;
        if (self_id && strcmp(child, self_id) == 0)
            continue;
        if (partition_flow_get(e->part, child, &meta, NULL, NULL) < 0)
            rc = cmk_err_set(err, CMK_EINVAL,
                             "the flow calls child flow '%s', which does not exist in environment %s; create the "
                             "child flow first", child, e->id);
    }
    flowdef_destroy(&fd);
    return rc;
}

/* op_flow_create - {name, definition, in_solution?, kind?} */
static int op_flow_create(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta = { 0 };
    char *def = definition_text(b), id[64];
    int rc;

    if (!def)
        return cmk_err_set(err, CMK_EINVAL, "a flow needs a definition (a Logic Apps workflow definition as JSON)");
    if (cmk_json_str(b, "id", NULL)) {
        /* a chosen id (child flows are referenced by id) */
        const char *want = cmk_json_str(b, "id", "");
        size_t n = strlen(want);
        int ok = n >= 1 && n < 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = (want[i] >= 'a' && want[i] <= 'z') || (want[i] >= '0' && want[i] <= '9') || want[i] == '-';
        if (!ok) {
            free(def);
            return cmk_err_set(err, CMK_EINVAL, "flow id '%s' is not valid: use 1-63 lowercase letters, digits and dashes", want);
        }
        if (partition_flow_get_ex(e->part, want, &meta, NULL, 0, NULL) == 0) {
            free(def);
            return cmk_err_set(err, CMK_EEXIST, "environment %s has a flow '%s' already", e->id, want);
        }
        memset(&meta, 0, sizeof meta);
        cmk_strlcpy(id, want, sizeof id);
    } else {
        cmk_random_id("flow", id, sizeof id);
        id[17] = '\0';
    }
    if ((rc = check_children(e, def, id, err)) < 0) {
        free(def);
        return rc;
    }
    cmk_strlcpy(meta.id, id, sizeof meta.id);
    cmk_strlcpy(meta.name, cmk_json_str(b, "name", id), sizeof meta.name);
    if (strcmp(cmk_json_str(b, "kind", "cloud"), "cloud") != 0 && strcmp(cmk_json_str(b, "kind", "cloud"), "desktop") != 0) {
        free(def);
        return cmk_err_set(err, CMK_EINVAL, "a flow's kind is cloud or desktop, not '%s'", cmk_json_str(b, "kind", ""));
    }
    cmk_strlcpy(meta.kind, cmk_json_str(b, "kind", "cloud"), sizeof meta.kind);
    meta.enabled = 1;
    meta.in_solution = cmk_json_bool(b, "in_solution", 0);
    meta.created_ms = worker_now(w);
    rc = save_flow(w, e, reply, &meta, def, 1, NULL, err);
    if (rc == 0)
        cmk_log(CMK_LOG_INFO, e->id, reply->reqid, "flow.created", "flow=%s trigger=%s", meta.id, meta.trigger_kind);
    free(def);
    return rc;
}

/* load - a flow's metadata (and definition if def != NULL), opening the sealed fields in want
 * (PARTITION_FLOW_NAME, PARTITION_FLOW_TOKEN; a flow saved again needs both) */
static int load(wenv *e, const cJSON *b, partition_flow *meta, char **def, unsigned want, cmk_err *err)
{
    const char *id = cmk_json_str(b, "flow", "");
    int rc;
    if (!*id)
        return cmk_err_set(err, CMK_EINVAL, "name the flow (its id)");
    rc = partition_flow_get_ex(e->part, id, meta, def, want, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT, "no flow '%s' in environment %s; `cmkctl flow list --env %s` shows them", id,
                           e->id, e->id);
    return rc;
}

static int op_flow_get(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char *def = NULL;
    cJSON *o;
    int rc = load(e, b, &meta, &def, PARTITION_FLOW_NAME, err);
    if (rc < 0)
        return rc;
    o = flow_json(&meta, e->id, 0);
    cJSON_AddItemToObject(o, "definition", cJSON_Parse(def));
    cmk_wipe_str(def, strlen(def));
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

static int op_flow_list(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow *list;
    size_t n;
    cJSON *o, *items;
    int rc = partition_flow_list(e->part, &list, &n, err);
    if (rc < 0)
        return rc;
    o = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, flow_json(&list[i], e->id, 0));
    free(list);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_flow_update - {flow, definition?, name?, in_solution?} */
static int op_flow_update(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char *old = NULL, *def = definition_text(b);
    int rc = load(e, b, &meta, &old, PARTITION_FLOW_ALL, err);
    if (rc == 0) {
        if (cmk_json_str(b, "name", NULL))
            cmk_strlcpy(meta.name, cmk_json_str(b, "name", ""), sizeof meta.name);
        if (cJSON_IsBool(cJSON_GetObjectItem(b, "in_solution")))
            meta.in_solution = cmk_json_bool(b, "in_solution", 0);
        if (def)
            rc = check_children(e, def, meta.id, err);
        if (rc == 0)
            rc = save_flow(w, e, reply, &meta, def ? def : old, 1, NULL, err);
    }
    if (old)
        cmk_wipe_str(old, strlen(old));
    free(def);
    return rc;
}

/* set_enabled - flow.enable / flow.disable */
static int set_enabled(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err, int on)
{
    partition_flow meta;
    char *def = NULL;
    int rc = load(e, b, &meta, &def, PARTITION_FLOW_ALL, err);
    if (rc == 0) {
        meta.enabled = on;
        rc = save_flow(w, e, reply, &meta, def, 0, NULL, err);
        cmk_wipe_str(def, strlen(def));
    }
    return rc;
}

static int op_flow_enable(worker *w, wenv *e, cmk_msg *r, const cJSON *b, cmk_err *err) { return set_enabled(w, e, r, b, err, 1); }
static int op_flow_disable(worker *w, wenv *e, cmk_msg *r, const cJSON *b, cmk_err *err) { return set_enabled(w, e, r, b, err, 0); }

static int op_flow_delete(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    durable_reply *d;
    cJSON *o;
    int rc = load(e, b, &meta, NULL, PARTITION_FLOW_NAME, err);
    if (rc < 0)
        return rc;
    o = flow_json(&meta, e->id, 0);
    cJSON_AddBoolToObject(o, "deleted", 1);
    d = reply_when_durable(w, reply, o);
    rc = partition_flow_delete(e->part, meta.id, on_durable, d, err);
    if (rc < 0)
        free(d);
    return rc;
}

/* op_flow_save_as - a copy with a new id; an HTTP-trigger copy gets a new trigger URL */
static int op_flow_save_as(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char *def = NULL, id[64];
    int rc = load(e, b, &meta, &def, 0, err);
    if (rc < 0)
        return rc;
    cmk_random_id("flow", id, sizeof id);
    id[17] = '\0';
    cmk_strlcpy(meta.id, id, sizeof meta.id);
    cmk_strlcpy(meta.name, cmk_json_str(b, "name", "Copy"), sizeof meta.name);
    meta.trigger_token[0] = '\0';
    meta.created_ms = worker_now(w);
    rc = save_flow(w, e, reply, &meta, def, 1, NULL, err);
    cmk_wipe_str(def, strlen(def));
    return rc;
}

/* op_flow_export - {name, kind, in_solution, definition} */
static int op_flow_export(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char *def = NULL;
    cJSON *pkg;
    int rc = load(e, b, &meta, &def, PARTITION_FLOW_NAME, err);
    if (rc < 0)
        return rc;
    pkg = cJSON_CreateObject();
    cJSON_AddStringToObject(pkg, "format", "cmksim-flow/1");
    cJSON_AddStringToObject(pkg, "name", meta.name);
    cJSON_AddStringToObject(pkg, "kind", meta.kind);
    cJSON_AddBoolToObject(pkg, "in_solution", meta.in_solution);
    cJSON_AddItemToObject(pkg, "definition", cJSON_Parse(def));
    cmk_wipe_str(def, strlen(def));
    cmk_msg_set_body(reply, pkg);
    worker_reply(w, reply);
    return 0;
}

/* op_flow_import - {package} as written by export */
static int op_flow_import(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    const cJSON *pkg = cJSON_GetObjectItem(b, "package");
    cJSON *body;
    int rc;
    if (!cJSON_IsObject(pkg) || strcmp(cmk_json_str(pkg, "format", ""), "cmksim-flow/1") != 0)
        return cmk_err_set(err, CMK_EINVAL, "not a flow package (expected \"format\": \"cmksim-flow/1\" from flow export)");
    body = cJSON_Duplicate(pkg, 1);
    if (cmk_json_str(b, "name", NULL))
        cJSON_ReplaceItemInObject(body, "name", cJSON_CreateString(cmk_json_str(b, "name", "")));
    rc = op_flow_create(w, e, reply, body, err);
    cJSON_Delete(body);
    return rc;
}

/* trigger_outputs - {"headers", "queries", "body"} for the engine (the request's parsed
 * values, copied once: the engine takes the object as it is) */
static cJSON *trigger_outputs(const cJSON *b)
{
    cJSON *t = cJSON_CreateObject();
    const cJSON *h = cJSON_GetObjectItem(b, "headers"), *q = cJSON_GetObjectItem(b, "queries"),
                *body = cJSON_GetObjectItem(b, "body");
    cJSON_AddItemToObject(t, "headers", h ? cJSON_Duplicate(h, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(t, "queries", q ? cJSON_Duplicate(q, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(t, "body", body ? cJSON_Duplicate(body, 1) : cJSON_CreateNull());
    return t;
}

/* op_flow_run - {flow, body?, client_req?}: run it; reply once the run has ended and is durable.
 * The definition comes parsed from the worker's cache while the flow is unchanged (wdefs.h). */
static int op_flow_run(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    flowdef *fd = NULL;
    const char *id = cmk_json_str(b, "flow", "");
    int rc;
    if (!*id)
        return cmk_err_set(err, CMK_EINVAL, "name the flow (its id)");
    rc = wdefs_get(&e->defs, e->part, id, &meta, &fd, err); /* a run needs neither the name nor the signature */
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT, "no flow '%s' in environment %s; `cmkctl flow list --env %s` shows them", id,
                           e->id, e->id);
    if (rc < 0)
        return rc;
    if (!meta.enabled) {
        flowdef_destroy(&fd);
        return cmk_err_set(err, CMK_ESTATE, "flow %s is turned off; turn it on with `cmkctl flow enable`", meta.id);
    }
    rc = wrun_start(w, e, &meta, fd, trigger_outputs(b), cmk_json_str(b, "client_req", ""), reply, NULL, NULL, err);
    flowdef_destroy(&fd);
    return rc;
}

/* refusal - the gateway's reply for a request the trigger does not take: {status, headers, body:
 * {error: {code, message}}}; no run is started */
static cJSON *refusal(int status, const char *code, const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cJSON *refusal(int status, const char *code, const char *allow, const char *fmt, ...)
{
    cJSON *r = cJSON_CreateObject(), *e;
    char msg[CMK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON_AddNumberToObject(r, "status", status);
    if (allow)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "headers"), "Allow", allow);
    e = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "body"), "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    return r;
}

/* header_of - a request header, by case-insensitive name */
static const char *header_of(const cJSON *b, const char *name)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(b, "headers")) {
        if (h->string && strcasecmp(h->string, name) == 0 && cJSON_IsString(h))
            return h->valuestring;
    }
    return NULL;
}

/* http_refusal - what the Request trigger declares, enforced before any run: its method (405
 * with Allow), a JSON body when JSON is expected (the trigger has a schema, or the request says
 * Content-Type: application/json) (400 with the parser's reason), the schema (400 naming the
 * first mismatch). NULL to go on. */
static cJSON *http_refusal(const char *def, const cJSON *b)
{
    cJSON *d = cJSON_Parse(def), *out = NULL, *parsed = NULL;
    const cJSON *trig = d ? cJSON_GetObjectItemCaseSensitive(d, "triggers") : NULL;
    const cJSON *in = trig && trig->child ? cJSON_GetObjectItemCaseSensitive(trig->child, "inputs") : NULL;
    const char *want = cmk_json_str(in, "method", NULL), *got = cmk_json_str(b, "method", "");
    const char *raw = cmk_json_str(b, "body", ""), *ctype = header_of(b, "Content-Type");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
    char why[CMK_ERR_MSG_MAX];

    if (want && strcmp(want, got) != 0) {
        out = refusal(405, "MethodNotAllowed", want, "This trigger accepts only %s requests, not %.16s; "
                      "call it with %s.", want, got, want);
        goto done;
    }
    if (!schema && !(ctype && strcasestr(ctype, "json")))
        goto done;
    if (!*raw && !schema)
        goto done;
    if (*raw) {
        const char *end = NULL;
        parsed = cJSON_ParseWithOpts(raw, &end, 1);
        if (!parsed) {
            size_t at = end && end >= raw ? (size_t)(end - raw) : 0;
            out = refusal(400, "InvalidRequestContent", NULL, "The request body is not valid JSON (at byte %zu: "
                          "'%.20s'); this trigger expects JSON%s. No run was started.", at, raw + at,
                          schema ? " matching its schema" : " (Content-Type: application/json)");
            goto done;
        }
    }
    if (schema && jschema_validate(schema, parsed, "body", why, sizeof why) < 0)
        out = refusal(400, "TriggerInputSchemaMismatch", NULL, "The request body does not match the trigger's "
                      "schema: %s. No run was started.", why);
done:
    cJSON_Delete(parsed);
    cJSON_Delete(d);
    return out;
}

/* op_flow_invoke - an HTTP trigger from the gateway: the signature must be the flow's */
static int op_flow_invoke(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char *def = NULL;
    cJSON *refused;
    const char *id = cmk_json_str(b, "flow", "");
    int rc;
    if (!*id)
        return cmk_err_set(err, CMK_EINVAL, "name the flow (its id)");
    rc = partition_flow_check_sig(e->part, id, cmk_json_str(b, "sig", ""), err);
    if (rc < 0)
        return rc;
    /* the declared method, a JSON body, the declared schema: refused with no run */
    if ((rc = load(e, b, &meta, &def, 0, err)) < 0)
        return rc;
    refused = http_refusal(def, b);
    cmk_wipe_str(def, strlen(def));
    if (refused) {
        cmk_msg_set_body(reply, refused);
        worker_reply(w, reply);
        return 0;
    }
    {
        /* the HTTP body arrives as text: a JSON body is the trigger body as JSON; the
         * signature is not kept in the run's trigger outputs (a reader sees those) */
        cJSON *copy = cJSON_Duplicate(b, 1), *parsed = NULL;
        const cJSON *raw = cJSON_GetObjectItem(b, "body");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "sig");
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(copy, "queries"), "sig");
        if (cJSON_IsString(raw) && (parsed = cJSON_Parse(raw->valuestring)) != NULL)
            cJSON_ReplaceItemInObject(copy, "body", parsed);
        rc = op_flow_run(w, e, reply, copy, err);
        cJSON_Delete(copy);
        return rc;
    }
}

/* op_flow_trigger_url - {flow}: the HTTP trigger's URL (WRITE in the authorization matrix:
 * only who may run the flow asks for it) */
static int op_flow_trigger_url(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow meta;
    char path[384];
    cJSON *o;
    int rc = load(e, b, &meta, NULL, PARTITION_FLOW_TOKEN, err);
    if (rc < 0)
        return rc;
    if (strcmp(meta.trigger_kind, "http") != 0 || !meta.trigger_token[0]) {
        cmk_wipe(meta.trigger_token, sizeof meta.trigger_token);
        return cmk_err_set(err, CMK_ENOENT, "flow %s has no HTTP request trigger (its trigger is %s)", meta.id,
                           meta.trigger_kind);
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", meta.id);
    cJSON_AddStringToObject(o, "env", e->id);
    cJSON_AddStringToObject(o, "trigger_path", trigger_path_of(&meta, e->id, path, sizeof path));
    cmk_wipe(path, sizeof path);
    cmk_wipe(&meta, sizeof meta);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* strip_sig - a trigger-outputs object without the `sig` query parameter (runs recorded by
 * older builds kept it) */
static void strip_sig(cJSON *trigger)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(trigger, "queries"), "sig");
}

/* run_json - a run's clear metadata */
static cJSON *run_json(const partition_run *r)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    cJSON_AddStringToObject(o, "run", r->id);
    cJSON_AddStringToObject(o, "flow", r->flow_id);
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddStringToObject(o, "start", cmk_time_format(r->start_ms, ts, sizeof ts));
    cJSON_AddNumberToObject(o, "duration_ms", r->end_ms ? (double)(r->end_ms - r->start_ms) : 0);
    return o;
}

/* op_run_list - the flow details list: run id, start, duration, status */
static int op_run_list(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_run *list;
    size_t n;
    cJSON *o, *items;
    int64_t since = 0, limit = 0; /* in their declared ranges (common/op_fields.c): no cast out of range */
    int rc = cmk_op_get_int(CMK_T_RUN_LIST, b, "since_ms", &since, err);
    if (rc == 0)
        rc = cmk_op_get_int(CMK_T_RUN_LIST, b, "limit", &limit, err);
    if (rc == 0)
        rc = partition_run_list(e->part, cmk_json_str(b, "flow", NULL), since, (size_t)limit, &list, &n, err);
    if (rc < 0)
        return rc;
    o = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, run_json(&list[i]));
    free(list);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_run_summary - every run of every flow: run id, flow, start, duration, status (no inputs or
 * outputs: the support ticket's view) */
static int op_run_summary(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_run *list;
    size_t n;
    cJSON *o, *items;
    int rc = partition_run_list(e->part, NULL, 0, 0, &list, &n, err);
    if (rc < 0)
        return rc;
    o = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, run_json(&list[i]));
    free(list);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_run_show - one run in full: trigger outputs and every action's inputs and outputs */
static int op_run_show(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_run meta;
    char *trig = NULL, *rec = NULL;
    cJSON *o;
    int rc = partition_run_get(e->part, cmk_json_str(b, "run", ""), &meta, &trig, &rec, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT, "no run '%s' in environment %s", cmk_json_str(b, "run", ""), e->id);
    if (rc < 0)
        return rc;
    o = run_json(&meta);
    cJSON_AddItemToObject(o, "trigger", trig ? cJSON_Parse(trig) : cJSON_CreateNull());
    strip_sig(cJSON_GetObjectItem(o, "trigger"));
    cJSON_AddItemToObject(o, "record", rec ? cJSON_Parse(rec) : cJSON_CreateNull());
    if (trig)
        cmk_wipe_str(trig, strlen(trig));
    if (rec)
        cmk_wipe_str(rec, strlen(rec));
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_run_export_csv - the "All runs" CSV, at most 100 records */
static int op_run_export_csv(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    char *csv = NULL;
    cJSON *o;
    int rc = partition_run_export_csv(e->part, cmk_json_str(b, "flow", NULL), CSV_MAX_RECORDS, &csv, err);
    if (rc < 0)
        return rc;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "csv", csv);
    cmk_wipe_str(csv, strlen(csv));
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_conn_create - {name, oauth, secret}: OAuth secrets under the environment's key, non-OAuth
 * ones under the Microsoft-managed key */
static int op_conn_create(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    char id[64], hex[33];
    durable_reply *d;
    cJSON *o;
    int oauth = cmk_json_bool(b, "oauth", 1), rc;
    if (!cmk_json_str(b, "secret", NULL))
        return cmk_err_set(err, CMK_EINVAL, "a connection needs a secret");
    cmk_random_id("conn", id, sizeof id);
    id[17] = '\0';
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", cmk_json_str(b, "name", id));
    cJSON_AddBoolToObject(o, "oauth", oauth);
    d = reply_when_durable(w, reply, o);
    rc = partition_conn_put(e->part, id, cmk_json_str(b, "name", id), oauth, cmk_json_str(b, "secret", ""), on_durable, d,
                            err);
    if (rc < 0) {
        free(d);
        return rc;
    }
    if (partition_conn_key_id(e->part, id, hex, NULL) == 0)
        cJSON_AddStringToObject(o, "sealed_under_dek", hex);
    return 0;
}

/* op_conn_show - a connection without its secret, and which key protects it */
static int op_conn_show(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    char hex[33];
    int oauth = 0, rc;
    char *secret = NULL;
    cJSON *o;
    rc = partition_conn_get(e->part, cmk_json_str(b, "conn", ""), &oauth, &secret, err);
    if (rc < 0)
        return rc;
    cmk_wipe_str(secret, strlen(secret));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", cmk_json_str(b, "conn", ""));
    {
        char name[PARTITION_CONN_NAME_MAX];
        if (partition_conn_name(e->part, cmk_json_str(b, "conn", ""), name, sizeof name, err) < 0) {
            cJSON_Delete(o);
            return err ? err->code : CMK_EIO;
        }
        cJSON_AddStringToObject(o, "name", name);
    }
    cJSON_AddBoolToObject(o, "oauth", oauth);
    if (partition_conn_key_id(e->part, cmk_json_str(b, "conn", ""), hex, err) == 0)
        cJSON_AddStringToObject(o, "sealed_under_dek", hex);
    cJSON_AddStringToObject(o, "protected_by", oauth ? "environment key" : "Microsoft-managed key");
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_conn_dump - every connection with its secret (for the controller's migration, over
 * CURVE like flow.dump's definitions; the front door does not route this type) */
static int op_conn_dump(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    cJSON *items, *it, *o;
    int rc = partition_conn_list(e->part, &items, err);
    (void)b;
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(it, items) {
        char *secret = NULL, name[256];
        /* the listed name is the column as stored (sealed at rest): send the opened one */
        if ((rc = partition_conn_name(e->part, cmk_json_str(it, "id", ""), name, sizeof name, err)) < 0 ||
            (rc = partition_conn_get(e->part, cmk_json_str(it, "id", ""), NULL, &secret, err)) < 0) {
            cJSON_Delete(items);
            return rc;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(it, "name", cJSON_CreateString(name));
        cJSON_AddStringToObject(it, "secret", secret);
        cmk_wipe_str(secret, strlen(secret));
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_conn_put - {connections: [{id, name, oauth, secret}]}: store them as given (the target of
 * a move), each sealed under this partition's key for its kind: OAuth ones under the data key
 * (the customer's on the dedicated side), non-OAuth ones under the Microsoft-managed one */
static int op_conn_put(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    const cJSON *list = cJSON_GetObjectItem(b, "connections"), *it;
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "stored");
    durable_reply *d;
    int n = cJSON_GetArraySize(list), i = 0, rc = 0;
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(o);
        return cmk_err_set(err, CMK_EINVAL, "conn.put needs connections: [{id, name, oauth, secret}]");
    }
    if (n == 0) {
        cmk_msg_set_body(reply, o);
        worker_reply(w, reply);
        return 0;
    }
    cJSON_ArrayForEach(it, list)
        cJSON_AddItemToArray(ids, cJSON_CreateString(cmk_json_str(it, "id", "")));
    d = reply_when_durable(w, reply, o);
    if (!d)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, list) {
        const char *id = cmk_json_str(it, "id", NULL), *secret = cmk_json_str(it, "secret", NULL);
        i++;
        if (!id || !secret) {
            rc = cmk_err_set(err, CMK_EINVAL, "conn.put: every connection needs an id and a secret");
            break;
        }
        /* the last write carries the reply: group commit makes them durable together */
        rc = partition_conn_put(e->part, id, cmk_json_str(it, "name", id), cmk_json_bool(it, "oauth", 1), secret,
                                i == n ? on_durable : NULL, i == n ? d : NULL, err);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        free(d);
        cmk_msg_set_body(reply, cJSON_CreateObject());
    }
    return rc;
}

/* op_conn_delete - {ids: [...]}: remove connections moved elsewhere (missing ones count as done) */
static int op_conn_delete(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    const cJSON *ids = cJSON_GetObjectItem(b, "ids"), *it;
    cJSON *o = cJSON_CreateObject();
    durable_reply *d;
    int n = cJSON_GetArraySize(ids), i = 0, rc = 0, deleted = 0, one;
    if (n == 0) {
        cJSON_AddNumberToObject(o, "deleted", 0);
        cmk_msg_set_body(reply, o);
        worker_reply(w, reply);
        return 0;
    }
    d = reply_when_durable(w, reply, o);
    if (!d)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, ids) {
        i++;
        rc = partition_conn_delete(e->part, cJSON_IsString(it) ? it->valuestring : "", &one, i == n ? on_durable : NULL,
                                   i == n ? d : NULL, err);
        if (rc < 0)
            break;
        deleted += one;
    }
    if (rc < 0) {
        free(d);
        cmk_msg_set_body(reply, cJSON_CreateObject());
        return rc;
    }
    cJSON_AddNumberToObject(o, "deleted", deleted);
    return 0;
}

/* op_flow_dump - every flow with its definition (for the controller's migration and
 * classification; the front door does not route this type) */
static int op_flow_dump(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    partition_flow *list;
    size_t n;
    cJSON *o, *items;
    int rc = partition_flow_list_ex(e->part, PARTITION_FLOW_ALL, &list, &n, err);
    if (rc < 0)
        return rc;
    o = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++) {
        char *def = NULL;
        cJSON *f = flow_json(&list[i], e->id, 0);
        if (partition_flow_get(e->part, list[i].id, &list[i], &def, NULL) == 0) {
            cJSON_AddItemToObject(f, "definition", cJSON_Parse(def));
            cmk_wipe_str(def, strlen(def));
        }
        cJSON_AddBoolToObject(f, "enabled", list[i].enabled);
        cJSON_AddNumberToObject(f, "created_ms", (double)list[i].created_ms);
        cJSON_AddStringToObject(f, "trigger_token", list[i].trigger_token);
        cJSON_AddItemToArray(items, f);
    }
    cmk_wipe(list, n * sizeof *list);
    free(list);
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}

/* op_flow_put - store a flow as given (id, metadata, definition): the target side of a
 * migration, or (with `stage`) a flow of a restore or copy into its staging area; the
 * definition is sealed under this partition's key */
static int op_flow_put(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    const cJSON *f = cJSON_GetObjectItem(b, "flow");
    partition_flow meta = { 0 };
    char *def = f ? definition_text(f) : NULL;
    int rc;
    if (!def)
        return cmk_err_set(err, CMK_EINVAL, "flow.put needs a flow with a definition");
    cmk_strlcpy(meta.id, cmk_json_str(f, "id", ""), sizeof meta.id);
    cmk_strlcpy(meta.name, cmk_json_str(f, "name", meta.id), sizeof meta.name);
    cmk_strlcpy(meta.kind, cmk_json_str(f, "kind", "cloud"), sizeof meta.kind);
    cmk_strlcpy(meta.trigger_token, cmk_json_str(f, "trigger_token", ""), sizeof meta.trigger_token);
    meta.enabled = cmk_json_bool(f, "enabled", 1);
    meta.in_solution = cmk_json_bool(f, "in_solution", 0);
    meta.created_ms = (int64_t)cmk_json_num(f, "created_ms", (double)worker_now(w));
    /* a restore or copy writes into the staging area the controller began (env.stage) */
    rc = save_flow(w, e, reply, &meta, def, 0, cmk_json_str(b, "stage", NULL), err);
    free(def);
    return rc;
}

/* the worker's handlers, by operation (common/ops.h) */
static const wop_fn wops[CMK_NOPS] = {
    [CMK_OP_FLOW_DUMP] = op_flow_dump,     [CMK_OP_FLOW_PUT] = op_flow_put,
    [CMK_OP_FLOW_CREATE] = op_flow_create,
    [CMK_OP_FLOW_GET] = op_flow_get,       [CMK_OP_FLOW_LIST] = op_flow_list,
    [CMK_OP_FLOW_UPDATE] = op_flow_update, [CMK_OP_FLOW_DELETE] = op_flow_delete,
    [CMK_OP_FLOW_ENABLE] = op_flow_enable, [CMK_OP_FLOW_DISABLE] = op_flow_disable,
    [CMK_OP_FLOW_SAVE_AS] = op_flow_save_as, [CMK_OP_FLOW_EXPORT] = op_flow_export,
    [CMK_OP_FLOW_IMPORT] = op_flow_import, [CMK_OP_FLOW_RUN] = op_flow_run,
    [CMK_OP_FLOW_INVOKE] = op_flow_invoke, [CMK_OP_RUN_LIST] = op_run_list,
    [CMK_OP_RUN_SUMMARY] = op_run_summary, [CMK_OP_RUN_SHOW] = op_run_show,
    [CMK_OP_RUN_EXPORT_CSV] = op_run_export_csv, [CMK_OP_CONN_CREATE] = op_conn_create,
    [CMK_OP_CONN_SHOW] = op_conn_show,    [CMK_OP_FLOW_TRIGGER_URL] = op_flow_trigger_url,
    [CMK_OP_CONN_DUMP] = op_conn_dump,    [CMK_OP_CONN_PUT] = op_conn_put,
    [CMK_OP_CONN_DELETE] = op_conn_delete, [CMK_OP_ENV_STAGE] = wstage_op,
};

/* wops_find - the handler of a request type, or NULL */
wop_fn wops_find(const char *type)
{
    const cmk_op *op = cmk_op_find(type);
    return op ? wops[op->id] : NULL;
}
