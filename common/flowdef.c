/*
 * flowdef.c - parse and validate flow definitions (see flowdef.h for the accepted language).
 *
 * Parsing keeps the cJSON document and builds a flat list of actions (nested ones included, in
 * document pre-order) whose names point into it. Validation stops at the first error and names
 * its JSON path. Expressions are parsed here, so a definition that is accepted can be run.
 */
#include "flowdef.h"
#include "jschema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flowexpr.h"

#define FD_COND_DEPTH 32 /* nesting of a designer condition */

struct flowdef {
    cJSON *root;             /* the document (owned); names point into it */
    const char *trigger;     /* the trigger's name */
    const cJSON *trigger_js; /* the trigger's JSON */
    flowdef_trigger kind;    /* the trigger's kind */
    const char *frequency;   /* Recurrence: "Minute", ... */
    int interval;            /* Recurrence: frequencies between runs */
    int64_t period_ms;       /* Recurrence: the period */
    flowdef_action *actions; /* every action, document pre-order */
    size_t n_actions;        /* entries in actions */
    const char **children;   /* distinct child flow ids (pointing into root) */
    size_t n_children;       /* entries in children */
    cJSON *params;           /* parameter name -> defaultValue */
    bool list_v1, list_v2;   /* uses List flows as Admin V1 / V2 */
    bool has_response;       /* has a Response action */
    int refs;                /* holders beyond the first (flowdef_ref); not atomic */
};

/* A growing string, for translating designer conditions. */
typedef struct {
    char *s;    /* text so far (NUL-terminated) */
    size_t len; /* its length */
    bool oom;   /* an allocation failed */
} fd_buf;

static const char *const fd_trigger_names[] = { "", "manual", "recurrence", "http", "powerapps-v1",
                                                "powerapps-v2", "teams" };
static const char *const fd_type_names[] = { "", "Compose", "Http", "Workflow", "ListFlowsAsAdmin",
                                             "If", "Terminate", "Response" };
static const char *const fd_status_names[] = { "Succeeded", "Failed", "Skipped", "TimedOut" };
static const char *const fd_common_keys[] = { "type", "kind", "inputs", "runAfter", "description",
                                              "metadata", "runtimeConfiguration", "operationOptions",
                                              "limit", "trackedProperties", NULL };
static const char *const fd_if_keys[] = { "expression", "actions", "else", NULL };
static const char *const fd_trigger_keys[] = { "type", "kind", "inputs", "recurrence", "description",
                                               "metadata", "conditions", "operationOptions",
                                               "runtimeConfiguration", "splitOn", NULL };
static const char *const fd_top_keys[] = { "$schema", "contentVersion", "description", "parameters",
                                           "triggers", "actions", "outputs", NULL };

/* fd_err - "<path>: <message>" into err; returns code */
static int fd_err(cmk_err *err, int code, const char *path, const char *fmt, ...)
{
    char msg[CMK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cmk_err_set(err, code, "%s: %s", path, msg);
}

/* fd_in - index of s in a NULL-terminated list, or -1 */
static int fd_in(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return i;
    return -1;
}

/* fd_keys - refuse a property that is in neither list (b may be NULL) */
static int fd_keys(const cJSON *obj, const char *const *a, const char *const *b, const char *path,
                   cmk_err *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) if (fd_in(a, it->string) < 0 && (!b || fd_in(b, it->string) < 0))
        return fd_err(err, CMK_EINVAL, path, "unknown property '%s'", it->string);
    return 0;
}

/* fd_str - a string property, or NULL */
static const char *fd_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* fd_is_expr - true if a string value holds an expression or interpolation */
static bool fd_is_expr(const char *s)
{
    return (s[0] == '@' && s[1] != '@') || strstr(s, "@{");
}

/* fd_ref - a literal body('A') / outputs('A') must name an action */
static int fd_ref(void *arg, const char *fn, const char *action, cmk_err *err)
{
    if (!flowdef_action_find(arg, action))
        return cmk_err_set(err, CMK_EINVAL, "unknown action '%s' in %s('%s')", action, fn, action);
    return 0;
}

/* fd_collect - register the actions of one scope and, depth first, of the scopes inside them */
static int fd_collect(flowdef *d, const cJSON *scope, const char *path, int parent, int branch,
                      int depth, cmk_err *err)
{
    const cJSON *it;
    if (!cJSON_IsObject(scope))
        return fd_err(err, CMK_EINVAL, path, "must be an object of actions by name");
    cJSON_ArrayForEach(it, scope)
    {
        char *ap = NULL;
        const flowdef_action *first = flowdef_action_find(d, it->string);
        int dup = first ? first->index : -1;
        flowdef_action *na = realloc(d->actions, (d->n_actions + 1) * sizeof *na);
        if (!na || asprintf(&ap, "%s.%s", path, it->string) < 0) {
            d->actions = na ? na : d->actions;
            return cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
        }
        d->actions = na;
        na = &d->actions[d->n_actions];
        *na = (flowdef_action){ .name = it->string, .index = (int)d->n_actions, .parent = parent,
                                .branch = branch, .depth = depth, .path = ap, .json = it };
        d->n_actions++;
        if (!it->string[0] || strlen(it->string) > FLOWDEF_MAX_NAME)
            return fd_err(err, CMK_EINVAL, ap, "an action name must have 1 to %d characters", FLOWDEF_MAX_NAME);
        if (dup >= 0)
            return fd_err(err, CMK_EINVAL, ap, "duplicate action name '%s' (also at %s)", it->string,
                          d->actions[dup].path);
        if (d->n_actions > FLOWDEF_MAX_ACTIONS)
            return fd_err(err, CMK_ELIMIT, ap, "too many actions (the limit is %d, nested ones included)",
                          FLOWDEF_MAX_ACTIONS);
        if (depth > FLOWDEF_MAX_DEPTH)
            return fd_err(err, CMK_ELIMIT, ap, "nesting too deep (actions may sit in at most %d levels of "
                          "Conditions)", FLOWDEF_MAX_DEPTH);
        if (!cJSON_IsObject(it))
            return fd_err(err, CMK_EINVAL, ap, "an action must be a JSON object");
        int self = na->index, rc = 0;
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(it, "actions");
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "else"), "actions");
        char sub[CMK_ERR_MSG_MAX];
        snprintf(sub, sizeof sub, "%s.actions", ap);
        if (cJSON_IsObject(inner) && (rc = fd_collect(d, inner, sub, self, 1, depth + 1, err)) < 0)
            return rc;
        snprintf(sub, sizeof sub, "%s.else.actions", ap);
        if (cJSON_IsObject(other) && (rc = fd_collect(d, other, sub, self, 0, depth + 1, err)) < 0)
            return rc;
    }
    return 0;
}

/* fd_run_after - read an action's runAfter: sibling names and known statuses */
static int fd_run_after(flowdef *d, flowdef_action *a, cmk_err *err)
{
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(a->json, "runAfter"), *it, *st;
    char path[CMK_ERR_MSG_MAX];
    if (!ra)
        return 0;
    snprintf(path, sizeof path, "%s.runAfter", a->path);
    if (!cJSON_IsObject(ra))
        return fd_err(err, CMK_EINVAL, path, "must be an object of action name -> statuses");
    if (!(a->run_after = calloc((size_t)cJSON_GetArraySize(ra) + 1, sizeof *a->run_after)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
    cJSON_ArrayForEach(it, ra)
    {
        const char *name = it->string ? it->string : "";
        const flowdef_action *dep = flowdef_action_find(d, name);
        int i = 0;
        snprintf(path, sizeof path, "%s.runAfter.%s", a->path, name);
        if (!dep)
            return fd_err(err, CMK_EINVAL, path, "unknown action '%s'", name);
        if (dep == a)
            return fd_err(err, CMK_EINVAL, path, "an action can't run after itself");
        if (dep->parent != a->parent || dep->branch != a->branch)
            return fd_err(err, CMK_EINVAL, path, "action '%s' is not in the same scope (runAfter names "
                          "actions next to this one, at %s)", name, dep->path);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0)
            return fd_err(err, CMK_EINVAL, path, "expected a non-empty array of statuses (Succeeded, Failed, "
                          "Skipped, TimedOut)");
        flowdef_run_after *r = &a->run_after[a->n_run_after++];
        *r = (flowdef_run_after){ .action = dep->name, .index = dep->index, .statuses = 0 };
        cJSON_ArrayForEach(st, it)
        {
            int k = -1;
            for (int j = 0; j < 4 && cJSON_IsString(st); j++)
                k = strcmp(st->valuestring, fd_status_names[j]) ? k : j;
            if (k < 0)
                return fd_err(err, CMK_EINVAL, path, "unknown status %s%s%s at [%d] (expected Succeeded, Failed, "
                              "Skipped or TimedOut)", cJSON_IsString(st) ? "'" : "",
                              cJSON_IsString(st) ? st->valuestring : "(not a string)", cJSON_IsString(st) ? "'" : "", i);
            r->statuses |= 1u << k;
            i++;
        }
    }
    return 0;
}

/* fd_put - append text to a growing string */
static void fd_put(fd_buf *b, const char *s)
{
    size_t n = strlen(s);
    char *ns = b->oom ? NULL : realloc(b->s, b->len + n + 1);
    if (!ns) {
        b->oom = true;
        return;
    }
    memcpy(ns + b->len, s, n + 1);
    b->s = ns;
    b->len += n;
}

/* fd_operand - one operand of a designer condition, as expression text */
static int fd_operand(flowdef *d, fd_buf *b, const cJSON *v, const char *path, cmk_err *err)
{
    char num[64], *t = NULL;
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        int rc = flowexpr_check_json(v, path, fd_ref, d, err);
        if (rc < 0)
            return rc;
        if (s[0] == '@' && s[1] != '@' && s[1] != '{') {
            fd_put(b, s + 1);
            return 0;
        }
        if (strstr(s, "@{") && !strstr(s, "@@{"))
            return fd_err(err, CMK_EINVAL, path, "write this operand as one expression such as @concat(...); "
                          "'@{...}' is not supported inside a condition");
        t = strdup(s + (s[0] == '@'));
    } else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof num, v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15 ? "%.0f"
                 : "%.17g", v->valuedouble);
        fd_put(b, strchr(num, 'e') ? "float('" : "");
        fd_put(b, num);
        fd_put(b, strchr(num, 'e') ? "')" : "");
        return 0;
    } else if (cJSON_IsBool(v) || cJSON_IsNull(v)) {
        fd_put(b, cJSON_IsNull(v) ? "null" : cJSON_IsTrue(v) ? "true" : "false");
        return 0;
    } else {
        t = cJSON_PrintUnformatted(v);
        fd_put(b, "json(");
    }
    fd_put(b, "'");
    for (char *p = t, *q; p && *p; p = q) { /* quotes doubled */
        q = strchr(p, '\'');
        if (q)
            *q++ = '\0';
        fd_put(b, p);
        fd_put(b, q ? "''" : "");
        if (!q)
            break;
    }
    fd_put(b, cJSON_IsString(v) ? "'" : "')");
    b->oom |= !t;
    free(t);
    return 0;
}

/* fd_cond - translate a Condition's expression (designer object, "@..." or boolean) to text */
static int fd_cond(flowdef *d, fd_buf *b, const cJSON *c, const char *path, int depth, cmk_err *err)
{
    static const char *const ops[] = { "and", "or", "not", "equals", "greater", "greaterOrEquals", "less",
                                       "lessOrEquals", "contains", "startsWith", "endsWith", NULL };
    char sub[CMK_ERR_MSG_MAX];
    const cJSON *it;
    int rc = 0, i = 0;
    if (depth > FD_COND_DEPTH)
        return fd_err(err, CMK_ELIMIT, path, "condition nested more than %d levels deep", FD_COND_DEPTH);
    if (cJSON_IsBool(c) || (cJSON_IsString(c) && c->valuestring[0] == '@' && !strchr("@{", c->valuestring[1])))
        return fd_operand(d, b, c, path, err);
    if (!cJSON_IsObject(c) || cJSON_GetArraySize(c) != 1)
        return fd_err(err, CMK_EINVAL, path, "a condition is true, false, an '@...' expression or an object with "
                      "one operator (and, or, not, equals, less, ...)");
    const cJSON *arg = c->child;
    int k = fd_in(ops, arg->string), n = cJSON_GetArraySize(arg);
    snprintf(sub, sizeof sub, "%s.%s", path, arg->string);
    if (k < 0)
        return fd_err(err, CMK_EINVAL, sub, "unknown condition operator (expected and, or, not, equals, greater, "
                      "greaterOrEquals, less, lessOrEquals, contains, startsWith or endsWith)");
    if (k != 2 && (!cJSON_IsArray(arg) || (k < 2 ? n < 1 : n != 2)))
        return fd_err(err, CMK_EINVAL, sub, "takes an array of %s", k < 2 ? "conditions" : "two operands");
    fd_put(b, arg->string);
    fd_put(b, "(");
    if (k == 2)
        rc = fd_cond(d, b, arg, sub, depth + 1, err);
    else
        cJSON_ArrayForEach(it, arg)
        {
            snprintf(sub, sizeof sub, "%s.%s[%d]", path, arg->string, i);
            fd_put(b, i++ ? ", " : "");
            if ((rc = k < 2 ? fd_cond(d, b, it, sub, depth + 1, err) : fd_operand(d, b, it, sub, err)) < 0)
                break;
        }
    fd_put(b, ")");
    return rc;
}

/* fd_condition - an If action: expression, branches */
static int fd_condition(flowdef *d, flowdef_action *a, cmk_err *err)
{
    const cJSON *expr = cJSON_GetObjectItemCaseSensitive(a->json, "expression");
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(a->json, "actions");
    const cJSON *other = cJSON_GetObjectItemCaseSensitive(a->json, "else");
    char path[CMK_ERR_MSG_MAX];
    fd_buf b = { .s = NULL, .len = 0, .oom = false };
    snprintf(path, sizeof path, "%s.expression", a->path);
    if (!expr)
        return fd_err(err, CMK_EINVAL, path, "missing (a Condition needs an expression)");
    fd_put(&b, "@");
    int rc = fd_cond(d, &b, expr, path, 0, err);
    a->condition = b.s;
    if (rc == 0 && b.oom)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
    flowexpr *x = NULL;
    if (rc == 0 && (rc = flowexpr_parse(a->condition, &x, err)) < 0)
        cmk_err_prefix(err, "%s: ", path);
    flowexpr_destroy(&x);
    if (rc == 0 && inner && !cJSON_IsObject(inner))
        rc = fd_err(err, CMK_EINVAL, a->path, "'actions' must be an object of actions by name");
    snprintf(path, sizeof path, "%s.else", a->path);
    if (rc == 0 && other && (!cJSON_IsObject(other) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(other, "actions"))))
        rc = fd_err(err, CMK_EINVAL, path, "must be {\"actions\": {...}}");
    if (rc == 0 && other)
        rc = fd_keys(other, (const char *const[]){ "actions", NULL }, NULL, path, err);
    return rc;
}

/* fd_inputs_obj - an action's inputs, which must be an object */
static int fd_inputs_obj(const flowdef_action *a, const char *what, cmk_err *err)
{
    char path[CMK_ERR_MSG_MAX];
    snprintf(path, sizeof path, "%s.inputs", a->path);
    if (!a->inputs)
        return fd_err(err, CMK_EINVAL, path, "missing (%s)", what);
    if (!cJSON_IsObject(a->inputs))
        return fd_err(err, CMK_EINVAL, path, "must be an object (%s)", what);
    return 0;
}

/* fd_action - validate one action (its children are validated after it) */
static int fd_action(flowdef *d, flowdef_action *a, cmk_err *err)
{
    static const char *const types[] = { "Compose", "Http", "Workflow", "OpenApiConnection", "If",
                                         "Terminate", "Response", NULL };
    static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL };
    char path[CMK_ERR_MSG_MAX];
    const char *type = fd_str(a->json, "type"), *s;
    const cJSON *host, *v;
    int rc, t = type ? fd_in(types, type) : -1;

    snprintf(path, sizeof path, "%s.type", a->path);
    if (t < 0)
        return fd_err(err, CMK_EINVAL, path, "%s%s%s (expected Compose, Http, Workflow, OpenApiConnection, If, "
                      "Terminate or Response)", type ? "unknown action type '" : "missing", type ? type : "",
                      type ? "'" : "");
    a->type = (flowdef_action_type)(t + 1);
    if ((rc = fd_keys(a->json, fd_common_keys, a->type == FLOWDEF_ACTION_CONDITION ? fd_if_keys : NULL,
                      a->path, err)) < 0 ||
        (rc = fd_run_after(d, a, err)) < 0)
        return rc;
    a->inputs = cJSON_GetObjectItemCaseSensitive(a->json, "inputs");
    snprintf(path, sizeof path, "%s.inputs", a->path);
    switch (a->type) {
    case FLOWDEF_ACTION_COMPOSE:
        if (!a->inputs)
            return fd_err(err, CMK_EINVAL, path, "missing (a Compose action needs inputs)");
        break;
    case FLOWDEF_ACTION_HTTP:
        if ((rc = fd_inputs_obj(a, "an HTTP action needs method and uri", err)) < 0)
            return rc;
        if (!(s = fd_str(a->inputs, "method")) || (!fd_is_expr(s) && fd_in(methods, s) < 0))
            return fd_err(err, CMK_EINVAL, path, "%s%s%s (expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)",
                          s ? "unknown method '" : "method is missing", s ? s : "", s ? "'" : "");
        if (!(s = fd_str(a->inputs, "uri")) || !s[0])
            return fd_err(err, CMK_EINVAL, path, "uri is missing (the URL to call)");
        if (!fd_is_expr(s) && strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
            return fd_err(err, CMK_EINVAL, path, "uri '%s' must be an absolute http:// or https:// URL", s);
        v = cJSON_GetObjectItemCaseSensitive(a->inputs, "headers");
        if (v && !cJSON_IsObject(v))
            return fd_err(err, CMK_EINVAL, path, "headers must be an object of name -> value");
        cJSON_ArrayForEach(host, v) if (!cJSON_IsString(host))
            return fd_err(err, CMK_EINVAL, path, "header '%s' must be a string", host->string);
        break;
    case FLOWDEF_ACTION_WORKFLOW:
        if ((rc = fd_inputs_obj(a, "a child flow action needs host.workflowReferenceName", err)) < 0)
            return rc;
        host = cJSON_GetObjectItemCaseSensitive(a->inputs, "host");
        if (!(s = fd_str(host, "workflowReferenceName")) || !s[0] || fd_is_expr(s))
            return fd_err(err, CMK_EINVAL, path, "host.workflowReferenceName must be the child flow's id%s",
                          s && s[0] ? ", not an expression" : "");
        a->child_flow = s;
        break;
    case FLOWDEF_ACTION_LIST_FLOWS:
        if ((rc = fd_inputs_obj(a, "a connector action needs host.apiId and host.operationId", err)) < 0)
            return rc;
        host = cJSON_GetObjectItemCaseSensitive(a->inputs, "host");
        s = fd_str(host, "apiId");
        if (!s || (strcmp(s, "shared_flowmanagement") &&
                   (strlen(s) < 22 || strcmp(s + strlen(s) - 22, "/shared_flowmanagement"))))
            return fd_err(err, CMK_EINVAL, path, "host.apiId '%s' is not supported (only the Flow Management "
                          "connector, /providers/Microsoft.PowerApps/apis/shared_flowmanagement)", s ? s : "");
        s = fd_str(host, "operationId");
        a->list_flows_version = !s ? 0 : !strcmp(s, "ListFlowsInEnvironment") ? 1 : !strcmp(s, "ListFlowsInEnvironment_V2") ? 2 : 0;
        if (!a->list_flows_version)
            return fd_err(err, CMK_EINVAL, path, "host.operationId '%s' is not supported (expected "
                          "ListFlowsInEnvironment for List Flows as Admin, ListFlowsInEnvironment_V2 for "
                          "List Flows as Admin (V2))", s ? s : "");
        break;
    case FLOWDEF_ACTION_CONDITION:
        return fd_condition(d, a, err);
    case FLOWDEF_ACTION_TERMINATE:
        if ((rc = fd_inputs_obj(a, "a Terminate action needs runStatus", err)) < 0)
            return rc;
        s = fd_str(a->inputs, "runStatus");
        if (!s || (strcmp(s, "Succeeded") && strcmp(s, "Failed") && strcmp(s, "Cancelled")))
            return fd_err(err, CMK_EINVAL, path, "runStatus %s%s%s (expected Succeeded, Failed or Cancelled)",
                          s ? "'" : "is missing", s ? s : "", s ? "' is unknown" : "");
        v = cJSON_GetObjectItemCaseSensitive(a->inputs, "runError");
        if (v && strcmp(s, "Failed"))
            return fd_err(err, CMK_EINVAL, path, "runError is allowed only with runStatus Failed");
        if (v && (!cJSON_IsObject(v) || fd_keys(v, (const char *const[]){ "code", "message", NULL }, NULL, path, err) < 0))
            return fd_err(err, CMK_EINVAL, path, "runError must be {\"code\": ..., \"message\": ...}");
        break;
    case FLOWDEF_ACTION_RESPONSE:
        if (d->kind == FLOWDEF_TRIGGER_RECURRENCE)
            return fd_err(err, CMK_EINVAL, a->path, "a Response action needs a Request trigger (manual, HTTP, "
                          "Power Apps or Teams); this flow's trigger is a Recurrence");
        if ((rc = fd_inputs_obj(a, "a Response action needs statusCode", err)) < 0)
            return rc;
        v = cJSON_GetObjectItemCaseSensitive(a->inputs, "statusCode");
        if (!(cJSON_IsString(v) && fd_is_expr(v->valuestring)) &&
            !(cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= 100 && v->valuedouble <= 599))
            return fd_err(err, CMK_EINVAL, path, "statusCode must be an HTTP status (100-599) or an expression");
        v = cJSON_GetObjectItemCaseSensitive(a->inputs, "headers");
        if (v && !cJSON_IsObject(v))
            return fd_err(err, CMK_EINVAL, path, "headers must be an object of name -> value");
        d->has_response = true;
        break;
    }
    return flowexpr_check_json(a->inputs, path, fd_ref, d, err);
}

/* fd_cycle - depth-first search along runAfter; state 0 new, 1 on the path, 2 done */
static int fd_cycle(const flowdef *d, int i, char *state, int *stack, int depth, cmk_err *err)
{
    const flowdef_action *a = &d->actions[i];
    state[i] = 1;
    stack[depth] = i;
    for (size_t k = 0; k < a->n_run_after; k++) {
        int j = a->run_after[k].index, rc, from = depth;
        if (state[j] == 1) {
            char path[CMK_ERR_MSG_MAX], loop[CMK_ERR_MSG_MAX] = "";
            size_t n = 0;
            while (from > 0 && stack[from] != j)
                from--;
            for (int s = from; s <= depth && n < sizeof loop; s++)
                n += (size_t)snprintf(loop + n, sizeof loop - n, "%s -> ", d->actions[stack[s]].name);
            if (n < sizeof loop)
                snprintf(loop + n, sizeof loop - n, "%s", d->actions[j].name);
            snprintf(path, sizeof path, "%s.runAfter.%s", a->path, d->actions[j].name);
            return fd_err(err, CMK_EINVAL, path, "runAfter cycle: %s (each waits for the next)", loop);
        }
        if (state[j] == 0 && (rc = fd_cycle(d, j, state, stack, depth + 1, err)) < 0)
            return rc;
    }
    state[i] = 2;
    return 0;
}

static int fd_request_inputs(const cJSON *t, cmk_err *err);

/* fd_trigger - the one trigger: type, kind, recurrence */
static int fd_trigger(flowdef *d, const cJSON *triggers, cmk_err *err)
{
    static const char *const kinds[] = { "Button", "Http", "PowerApp", "PowerAppV2", "Teams", NULL };
    static const flowdef_trigger kind_of[] = { FLOWDEF_TRIGGER_MANUAL, FLOWDEF_TRIGGER_HTTP, FLOWDEF_TRIGGER_POWERAPPS_V1,
                                               FLOWDEF_TRIGGER_POWERAPPS_V2, FLOWDEF_TRIGGER_TEAMS };
    static const char *const freqs[] = { "Second", "Minute", "Hour", "Day", "Week", "Month", NULL };
    static const int64_t freq_ms[] = { 1000, 60000, 3600000, 86400000, 604800000, 2592000000 };
    char path[CMK_ERR_MSG_MAX], sub[CMK_ERR_MSG_MAX];
    int rc;
    if (!cJSON_IsObject(triggers))
        return fd_err(err, CMK_EINVAL, "triggers", "%s", triggers ? "must be an object of triggers by name"
                                                                  : "missing (a flow needs exactly one trigger)");
    if (cJSON_GetArraySize(triggers) != 1)
        return fd_err(err, CMK_EINVAL, "triggers", "exactly one trigger is required, found %d",
                      cJSON_GetArraySize(triggers));
    const cJSON *t = triggers->child, *rec, *iv;
    snprintf(path, sizeof path, "triggers.%s", t->string);
    d->trigger = t->string;
    d->trigger_js = t;
    if (!t->string[0] || strlen(t->string) > FLOWDEF_MAX_NAME)
        return fd_err(err, CMK_EINVAL, path, "a trigger name must have 1 to %d characters", FLOWDEF_MAX_NAME);
    if (!cJSON_IsObject(t))
        return fd_err(err, CMK_EINVAL, path, "a trigger must be a JSON object");
    const char *type = fd_str(t, "type"), *kind = fd_str(t, "kind");
    snprintf(sub, sizeof sub, "triggers.%s.type", t->string);
    if (!type || (strcmp(type, "Request") && strcmp(type, "Recurrence")))
        return fd_err(err, CMK_EINVAL, sub, "%s%s%s (expected Request or Recurrence)",
                      type ? "unknown trigger type '" : "missing", type ? type : "", type ? "'" : "");
    if ((rc = fd_keys(t, fd_trigger_keys, NULL, path, err)) < 0)
        return rc;
    snprintf(sub, sizeof sub, "triggers.%s.inputs", t->string);
    if (cJSON_GetObjectItemCaseSensitive(t, "inputs") && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t, "inputs")))
        return fd_err(err, CMK_EINVAL, sub, "must be an object");
    if (!strcmp(type, "Request")) {
        int k = kind ? fd_in(kinds, kind) : 1;
        snprintf(sub, sizeof sub, "triggers.%s.kind", t->string);
        if (k < 0 || (cJSON_GetObjectItemCaseSensitive(t, "kind") && !kind))
            return fd_err(err, CMK_EINVAL, sub, "unknown Request trigger kind '%s' (expected Button, Http, "
                          "PowerApp, PowerAppV2 or Teams)", kind ? kind : "(not a string)");
        if (cJSON_GetObjectItemCaseSensitive(t, "recurrence"))
            return fd_err(err, CMK_EINVAL, path, "a Request trigger has no recurrence");
        d->kind = kind_of[k];
        return fd_request_inputs(t, err);
    }
    d->kind = FLOWDEF_TRIGGER_RECURRENCE;
    rec = cJSON_GetObjectItemCaseSensitive(t, "recurrence");
    snprintf(sub, sizeof sub, "triggers.%s.recurrence", t->string);
    if (!cJSON_IsObject(rec))
        return fd_err(err, CMK_EINVAL, sub, "%s (e.g. {\"frequency\": \"Minute\", \"interval\": 5})",
                      rec ? "must be an object" : "missing");
    int f = fd_str(rec, "frequency") ? fd_in(freqs, fd_str(rec, "frequency")) : -1;
    if (f < 0)
        return fd_err(err, CMK_EINVAL, sub, "frequency must be Second, Minute, Hour, Day, Week or Month");
    iv = cJSON_GetObjectItemCaseSensitive(rec, "interval");
    if (!cJSON_IsNumber(iv) || iv->valuedouble != floor(iv->valuedouble) || iv->valuedouble < 1 || iv->valuedouble > 1e6)
        return fd_err(err, CMK_EINVAL, sub, "interval must be a whole number from 1 to 1000000");
    d->frequency = freqs[f];
    d->interval = (int)iv->valuedouble;
    d->period_ms = freq_ms[f] * d->interval;
    return 0;
}

/* fd_request_inputs - a Request trigger's inputs: the method it answers and the JSON schema its
 * body must match (both optional; enforced by the worker on every HTTP call) */
static int fd_request_inputs(const cJSON *t, cmk_err *err)
{
    static const char *const http_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL };
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "inputs"), *m, *schema;
    char path[FLOWDEF_MAX_NAME + 64];
    cmk_err serr = CMK_ERR_INIT;
    if (!in)
        return 0;
    m = cJSON_GetObjectItemCaseSensitive(in, "method");
    snprintf(path, sizeof path, "triggers.%s.inputs.method", t->string);
    if (m && (!cJSON_IsString(m) || fd_in(http_methods, m->valuestring) < 0))
        return fd_err(err, CMK_EINVAL, path, "must be one of GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS");
    schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
    snprintf(path, sizeof path, "triggers.%s.inputs", t->string);
    if (schema && jschema_check(schema, &serr) < 0)
        return fd_err(err, CMK_EINVAL, path, "%s", serr.msg);
    return 0;
}

/* fd_validate - the whole document, first error wins */
static int fd_validate(flowdef *d, cmk_err *err)
{
    const cJSON *root = d->root, *params = cJSON_GetObjectItemCaseSensitive(root, "parameters"), *it;
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(root, "actions");
    int rc;
    if (!cJSON_IsObject(root))
        return cmk_err_set(err, CMK_EINVAL, "definition: must be a JSON object with triggers and actions");
    if ((rc = fd_keys(root, fd_top_keys, NULL, "definition", err)) < 0)
        return rc;
    if (params && !cJSON_IsObject(params))
        return fd_err(err, CMK_EINVAL, "parameters", "must be an object of name -> {type, defaultValue}");
    cJSON_ArrayForEach(it, params)
    {
        const cJSON *dv = cJSON_GetObjectItemCaseSensitive(it, "defaultValue");
        if (!cJSON_IsObject(it))
            return fd_err(err, CMK_EINVAL, "parameters", "parameter '%s' must be an object", it->string);
        if (dv && !cJSON_AddItemToObject(d->params, it->string, cJSON_Duplicate(dv, 1)))
            return cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "outputs") && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "outputs")))
        return fd_err(err, CMK_EINVAL, "outputs", "must be an object");
    if ((rc = fd_trigger(d, cJSON_GetObjectItemCaseSensitive(root, "triggers"), err)) < 0)
        return rc;
    if (!actions)
        return fd_err(err, CMK_EINVAL, "actions", "missing (a flow needs at least one action)");
    if ((rc = fd_collect(d, actions, "actions", -1, 1, 0, err)) < 0)
        return rc;
    if (d->n_actions == 0)
        return fd_err(err, CMK_EINVAL, "actions", "a flow needs at least one action");
    for (size_t i = 0; i < d->n_actions; i++) {
        flowdef_action *a = &d->actions[i];
        if ((rc = fd_action(d, a, err)) < 0)
            return rc;
        d->list_v1 |= a->list_flows_version == 1;
        d->list_v2 |= a->list_flows_version == 2;
        bool seen = false;
        for (size_t k = 0; a->child_flow && k < d->n_children; k++)
            seen |= !strcmp(d->children[k], a->child_flow);
        if (a->child_flow && !seen) {
            const char **nc = realloc(d->children, (d->n_children + 1) * sizeof *nc);
            if (!nc)
                return cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
            d->children = nc;
            d->children[d->n_children++] = a->child_flow;
        }
    }
    char *state = calloc(d->n_actions, 1);
    int *stack = calloc(d->n_actions + 1, sizeof *stack);
    rc = state && stack ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
    for (size_t i = 0; rc == 0 && i < d->n_actions; i++)
        if (state[i] == 0)
            rc = fd_cycle(d, (int)i, state, stack, 0, err);
    free(state);
    free(stack);
    return rc;
}

/* flowdef_parse - parse and validate a definition */
int flowdef_parse(const char *json, size_t len, flowdef **out, cmk_err *err)
{
    const char *end = NULL;
    *out = NULL;
    if (!json)
        return cmk_err_set(err, CMK_EINVAL, "definition: no text given");
    if (len > FLOWDEF_MAX_BYTES)
        return cmk_err_set(err, CMK_ELIMIT, "definition: %zu bytes is more than the limit of %d", len, FLOWDEF_MAX_BYTES);
    flowdef *d = calloc(1, sizeof *d);
    if (!d || !(d->params = cJSON_CreateObject())) {
        free(d);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while reading the definition");
    }
    d->root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    int rc = d->root ? fd_validate(d, err)
                     : cmk_err_set(err, CMK_EINVAL, "definition: not valid JSON (error near byte %td)",
                                   end ? end - json : (ptrdiff_t)0);
    if (rc < 0)
        flowdef_destroy(&d);
    *out = d;
    return rc;
}

/* flowdef_destroy - free a definition */
void flowdef_destroy(flowdef **self_p)
{
    if (!self_p || !*self_p)
        return;
    flowdef *d = *self_p;
    *self_p = NULL;
    if (d->refs > 0) { /* another holder still reads it */
        d->refs--;
        return;
    }
    for (size_t i = 0; i < d->n_actions; i++) {
        free(d->actions[i].path);
        free(d->actions[i].run_after);
        free(d->actions[i].condition);
    }
    free(d->actions);
    free(d->children);
    cJSON_Delete(d->params);
    cJSON_Delete(d->root);
    free(d);
}

/* flowdef_ref - one more holder of a parsed definition */
flowdef *flowdef_ref(const flowdef *self)
{
    flowdef *d = (flowdef *)self; /* the count is the only thing a holder changes */
    if (d)
        d->refs++;
    return d;
}

/* flowdef_to_json - the definition as compact JSON */
int flowdef_to_json(const flowdef *self, char **out, cmk_err *err)
{
    *out = cJSON_PrintUnformatted(self->root);
    return *out ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory while printing a definition");
}

/* flowdef_clone - an independent copy */
int flowdef_clone(const flowdef *self, flowdef **out, cmk_err *err)
{
    char *text = NULL;
    int rc = flowdef_to_json(self, &text, err);
    *out = NULL;
    if (rc == 0)
        rc = flowdef_parse(text, strlen(text), out, err);
    free(text);
    return rc;
}

/* flowdef_json - the parsed document */
const cJSON *flowdef_json(const flowdef *self)
{
    return self->root;
}

/* flowdef_trigger_kind - the trigger's kind */
flowdef_trigger flowdef_trigger_kind(const flowdef *self)
{
    return self->kind;
}

/* flowdef_trigger_name - the trigger's name */
const char *flowdef_trigger_name(const flowdef *self)
{
    return self->trigger;
}

/* flowdef_trigger_json - the trigger's JSON */
const cJSON *flowdef_trigger_json(const flowdef *self)
{
    return self->trigger_js;
}

/* flowdef_recurrence - frequency, interval and period of a Recurrence trigger */
int flowdef_recurrence(const flowdef *self, const char **frequency, int *interval, int64_t *period_ms)
{
    if (self->kind != FLOWDEF_TRIGGER_RECURRENCE)
        return CMK_ENOENT;
    if (frequency)
        *frequency = self->frequency;
    if (interval)
        *interval = self->interval;
    if (period_ms)
        *period_ms = self->period_ms;
    return 0;
}

/* flowdef_action_count - number of actions, nested ones included */
size_t flowdef_action_count(const flowdef *self)
{
    return self->n_actions;
}

/* flowdef_action_at - the i-th action in document order, or NULL */
const flowdef_action *flowdef_action_at(const flowdef *self, size_t i)
{
    return i < self->n_actions ? &self->actions[i] : NULL;
}

/* flowdef_action_find - an action by name, or NULL */
const flowdef_action *flowdef_action_find(const flowdef *self, const char *name)
{
    for (size_t i = 0; name && i < self->n_actions; i++)
        if (!strcmp(self->actions[i].name, name))
            return &self->actions[i];
    return NULL;
}

/* flowdef_child_count - distinct child flows called */
size_t flowdef_child_count(const flowdef *self)
{
    return self->n_children;
}

/* flowdef_child_at - the i-th child flow id, or NULL */
const char *flowdef_child_at(const flowdef *self, size_t i)
{
    return i < self->n_children ? self->children[i] : NULL;
}

/* flowdef_uses_list_flows - true if List flows as Admin of that version is used */
bool flowdef_uses_list_flows(const flowdef *self, int version)
{
    return version == 1 ? self->list_v1 : version == 2 ? self->list_v2 : false;
}

/* flowdef_has_response - true if a Response action exists */
bool flowdef_has_response(const flowdef *self)
{
    return self->has_response;
}

/* flowdef_parameters - parameter name -> defaultValue */
const cJSON *flowdef_parameters(const flowdef *self)
{
    return self->params;
}

/* flowdef_trigger_kind_name - a trigger kind in words */
const char *flowdef_trigger_kind_name(flowdef_trigger kind)
{
    return kind >= FLOWDEF_TRIGGER_MANUAL && kind <= FLOWDEF_TRIGGER_TEAMS ? fd_trigger_names[kind] : "unknown";
}

/* flowdef_action_type_name - an action type in words */
const char *flowdef_action_type_name(flowdef_action_type type)
{
    return type >= FLOWDEF_ACTION_COMPOSE && type <= FLOWDEF_ACTION_RESPONSE ? fd_type_names[type] : "unknown";
}
