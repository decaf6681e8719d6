/*
 * engine_json.c - a run as JSON and back (see engine.h): trigger outputs, status, every action's
 * record, and the definition named by flow and version (format 2) rather than copied (format 1,
 * still read), so that an in-flight run survives a crash and an ended one is saved once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define EN_VERSION 2    /* serialization format: 2 names the definition, 1 carried a copy of it */
#define EN_VERSION_V1 1 /* still read */

/* en_put_error - {"code","message"} or nothing */
static void en_put_error(cJSON *obj, const char *code, const char *message)
{
    cJSON *e = code || message ? cJSON_AddObjectToObject(obj, "error") : NULL;
    if (e && code)
        cJSON_AddStringToObject(e, "code", code);
    if (e && message)
        cJSON_AddStringToObject(e, "message", message);
}

/* engine_run_set_definition - the flow and version the run's definition is, for its record */
int engine_run_set_definition(engine_run *run, const char *flow, int64_t version)
{
    char *f = strdup(flow ? flow : "");
    if (!f)
        return CMK_ENOMEM;
    free(run->def_flow);
    run->def_flow = f;
    run->def_version = version;
    return 0;
}

/* en_ref - a reference to item under key (no copy: the record is printed, then dropped) */
static void en_ref(cJSON *obj, const char *key, const cJSON *item)
{
    if (item)
        cJSON_AddItemReferenceToObject(obj, key, (cJSON *)item);
}

/* en_int - an integer property, printed as one (cJSON would print a double with %1.15g and
 * read it back with sscanf to check it) */
static void en_int(cJSON *obj, const char *key, int64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--p = '\0';
    do /* digits by hand: snprintf's "%lld" was 3% of the worker's CPU under load */
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    cJSON_AddRawToObject(obj, key, p);
}

/* engine_run_to_json - the whole run; the definition is named (flow and version), not copied */
int engine_run_to_json(const engine_run *run, char **out, cmk_err *err)
{
    cJSON *root = cJSON_CreateObject(), *acts;
    *out = NULL;
    en_int(root, "version", EN_VERSION);
    if (run->def_flow) {
        cJSON *d = cJSON_AddObjectToObject(root, "definitionRef");
        cJSON_AddStringToObject(d, "flow", run->def_flow);
        en_int(d, "version", run->def_version);
    }
    en_ref(root, "trigger", run->trigger);
    cJSON_AddStringToObject(root, "status", engine_status_name(run->status));
    en_put_error(root, run->code, run->message);
    en_int(root, "startMs", run->start_ms);
    en_int(root, "endMs", run->end_ms);
    en_int(root, "nowMs", run->now_ms);
    en_int(root, "seq", run->seq);
    en_ref(root, "response", run->response);
    acts = cJSON_AddArrayToObject(root, "actions");
    for (size_t i = 0; acts && i < run->n; i++) {
        const en_rec *r = &run->recs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(acts, o);
        cJSON_AddStringToObject(o, "name", en_act(run, i)->name);
        cJSON_AddStringToObject(o, "status", engine_status_name(r->status));
        en_ref(o, "inputs", r->inputs);
        en_ref(o, "outputs", r->outputs);
        en_int(o, "startMs", r->start_ms);
        en_int(o, "endMs", r->end_ms);
        en_put_error(o, r->code, r->message);
        en_int(o, "branch", r->branch);
        en_int(o, "order", r->order);
    }
    *out = acts ? cJSON_PrintBuffered(root, 1024, 0) : NULL; /* one buffer for a typical record */
    cJSON_Delete(root);
    return *out ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory while saving a run");
}

/* en_num - a number property, or 0 */
static int64_t en_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* en_get_error - read {"error": {"code","message"}} */
static void en_get_error(const cJSON *obj, char **code, char **message)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, "error");
    if (e)
        en_set_error(code, message, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")));
}

/* en_restore - fill a run from its saved JSON */
static int en_restore(engine_run *run, const cJSON *root, cmk_err *err)
{
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(root, "actions"), *o, *v;
    size_t i = 0;
    if (engine_status_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "status")), &run->status) < 0 ||
        !cJSON_IsArray(acts) || (size_t)cJSON_GetArraySize(acts) != run->n)
        return cmk_err_set(err, CMK_EINVAL, "saved run: status or actions don't match its definition");
    en_get_error(root, &run->code, &run->message);
    run->start_ms = en_num(root, "startMs");
    run->end_ms = en_num(root, "endMs");
    run->now_ms = en_num(root, "nowMs");
    run->seq = (int)en_num(root, "seq");
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "response")) && !(run->response = cJSON_Duplicate(v, 1)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while loading a run");
    cJSON_ArrayForEach(o, acts)
    {
        en_rec *r = &run->recs[i];
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
        if (!name || strcmp(name, en_act(run, i)->name) ||
            engine_status_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")), &r->status) < 0)
            return cmk_err_set(err, CMK_EINVAL, "saved run: action %zu is not '%s' with a known status", i,
                               en_act(run, i)->name);
        if ((v = cJSON_GetObjectItemCaseSensitive(o, "inputs")))
            r->inputs = cJSON_Duplicate(v, 1);
        if ((v = cJSON_GetObjectItemCaseSensitive(o, "outputs")))
            r->outputs = cJSON_Duplicate(v, 1);
        r->start_ms = en_num(o, "startMs");
        r->end_ms = en_num(o, "endMs");
        r->branch = (int)en_num(o, "branch");
        r->order = (int)en_num(o, "order");
        en_get_error(o, &r->code, &r->message);
        i++;
    }
    return 0;
}

/* engine_run_from_json - a run saved by engine_run_to_json */
int engine_run_from_json(const flowdef *def, const char *json, size_t len, engine_run **out, cmk_err *err)
{
    cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL, *trigger;
    const cJSON *def_js = cJSON_GetObjectItemCaseSensitive(root, "definition"),
                *ref = cJSON_GetObjectItemCaseSensitive(root, "definitionRef");
    int64_t version = root ? en_num(root, "version") : 0;
    flowdef *use = NULL;
    char *def_text = NULL;
    int rc = 0;
    *out = NULL;
    if (!root || (version != EN_VERSION && version != EN_VERSION_V1) || (version == EN_VERSION_V1 && !def_js))
        rc = cmk_err_set(err, CMK_EINVAL, "saved run: not a run saved by this version (version %d, or %d with a "
                         "definition, expected)", EN_VERSION, EN_VERSION_V1);
    else if (version == EN_VERSION_V1) {
        /* a record of an older build carries its own copy of the definition */
        if (!(def_text = cJSON_PrintUnformatted(def_js)))
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory while loading a run");
        else if ((rc = flowdef_parse(def_text, strlen(def_text), &use, err)) < 0)
            cmk_err_prefix(err, "saved run: ");
    } else if (!def)
        rc = cmk_err_set(err, CMK_EINVAL, "saved run: it names its definition (flow %s, version %.0f); give that "
                         "definition to load it", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ref, "flow"))
                         ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ref, "flow")) : "?",
                         cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ref, "version")));
    else
        use = flowdef_ref(def);
    trigger = rc == 0 ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "trigger"), 1) : NULL;
    if (rc == 0 && !cJSON_IsObject(trigger)) {
        cJSON_Delete(trigger);
        flowdef_destroy(&use);
        rc = cmk_err_set(err, CMK_EINVAL, "saved run: no trigger outputs");
    }
    if (rc == 0 && !(*out = en_alloc(use, trigger)))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory while loading a run");
    if (rc == 0 && cJSON_IsObject(ref) &&
        engine_run_set_definition(*out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ref, "flow")),
                                  en_num(ref, "version")) < 0)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory while loading a run");
    if (rc == 0)
        rc = en_restore(*out, root, err);
    if (rc < 0)
        engine_run_destroy(out);
    else
        (*out)->used = len; /* about what it holds: its saved text */
    free(def_text);
    cJSON_Delete(root);
    return rc;
}

