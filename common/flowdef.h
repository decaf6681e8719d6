/*
 * flowdef.h - flow definitions: parse and validate the subset of the Logic Apps workflow
 * definition language that cmksim runs, and read the result.
 *
 *   { "$schema"?, "contentVersion"?, "description"?, "parameters"?: { "<p>": {"type", "defaultValue"} },
 *     "triggers": { "<name>": <trigger> },                                   exactly one
 *     "actions":  { "<name>": <action>, ... },                               at least one
 *     "outputs"?: {} }
 *
 * Triggers, as Power Automate writes them in definitions:
 *   manual (Manually trigger a flow)      {"type": "Request", "kind": "Button"}
 *   HTTP request received                 {"type": "Request", "kind": "Http"}   (no kind: Http too)
 *   Power Apps (V1)                       {"type": "Request", "kind": "PowerApp"}
 *   Power Apps (V2)                       {"type": "Request", "kind": "PowerAppV2"}
 *   Teams                                 {"type": "Request", "kind": "Teams"}
 *   recurrence                            {"type": "Recurrence", "recurrence": {"frequency":
 *                                          "Second|Minute|Hour|Day|Week|Month", "interval": N}}
 * Actions (each may carry "runAfter": {"<sibling>": ["Succeeded"|"Failed"|"Skipped"|"TimedOut"]}):
 *   Compose      {"type": "Compose", "inputs": <any>}
 *   HTTP         {"type": "Http", "inputs": {"method", "uri", "headers"?, "body"?}}
 *   child flow   {"type": "Workflow", "inputs": {"host": {"workflowReferenceName": "<flow id>"}, "body"?}}
 *   List flows as Admin (V1) / (V2)
 *                {"type": "OpenApiConnection", "inputs": {"host": {"apiId":
 *                 ".../apis/shared_flowmanagement", "operationId": "ListFlowsInEnvironment" (V1) or
 *                 "ListFlowsInEnvironment_V2" (V2)}, "parameters"?: {...}}}
 *   Condition    {"type": "If", "expression": <cond>, "actions"?: {..}, "else"?: {"actions": {..}}}
 *                <cond> is true/false, an "@..." expression, or a designer object such as
 *                {"and": [{"equals": ["@triggerBody()?['x']", "yes"]}]} (and, or, not, equals,
 *                greater, greaterOrEquals, less, lessOrEquals, contains, startsWith, endsWith)
 *   Terminate    {"type": "Terminate", "inputs": {"runStatus": "Succeeded|Failed|Cancelled",
 *                 "runError"?: {"code", "message"}}}                  (runError only with Failed)
 *   Response     {"type": "Response", "kind"?: "Http|PowerApp", "inputs": {"statusCode",
 *                 "headers"?, "body"?}}         (needs a Request trigger; how a child flow replies)
 *
 * Validation stops at the FIRST error and names its JSON path, e.g.
 *   "actions.Send_mail.runAfter.Compose_1: unknown action 'Compose_1'"
 * Order: the document's shape and limits (names, nesting, count), then each trigger and action
 * in document order (type, properties, runAfter, inputs, expressions), then runAfter cycles.
 * Action names are unique in the whole definition; runAfter names actions of the same scope.
 */
#ifndef CMK_FLOWDEF_H
#define CMK_FLOWDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define FLOWDEF_MAX_BYTES (1024 * 1024) /* size of a definition, as in Logic Apps */
#define FLOWDEF_MAX_ACTIONS 500         /* actions in a definition, nested ones included */
#define FLOWDEF_MAX_DEPTH 8             /* levels of Conditions an action may sit in */
#define FLOWDEF_MAX_NAME 80             /* characters of an action or trigger name */

typedef enum {
    FLOWDEF_TRIGGER_MANUAL = 1,   /* Request / Button */
    FLOWDEF_TRIGGER_RECURRENCE,   /* Recurrence */
    FLOWDEF_TRIGGER_HTTP,         /* Request / Http (or no kind) */
    FLOWDEF_TRIGGER_POWERAPPS_V1, /* Request / PowerApp */
    FLOWDEF_TRIGGER_POWERAPPS_V2, /* Request / PowerAppV2 */
    FLOWDEF_TRIGGER_TEAMS,        /* Request / Teams */
} flowdef_trigger;

typedef enum {
    FLOWDEF_ACTION_COMPOSE = 1, /* Compose */
    FLOWDEF_ACTION_HTTP,        /* Http */
    FLOWDEF_ACTION_WORKFLOW,    /* Workflow: a child flow */
    FLOWDEF_ACTION_LIST_FLOWS,  /* OpenApiConnection: List flows as Admin (V1 or V2) */
    FLOWDEF_ACTION_CONDITION,   /* If */
    FLOWDEF_ACTION_TERMINATE,   /* Terminate */
    FLOWDEF_ACTION_RESPONSE,    /* Response */
} flowdef_action_type;

/* Statuses a runAfter entry accepts (bit set). */
enum {
    FLOWDEF_ON_SUCCEEDED = 1,
    FLOWDEF_ON_FAILED = 2,
    FLOWDEF_ON_SKIPPED = 4,
    FLOWDEF_ON_TIMEDOUT = 8,
};

/* One runAfter entry. */
typedef struct {
    const char *action; /* the sibling waited for */
    int index;          /* its index (flowdef_action_at) */
    unsigned statuses;  /* FLOWDEF_ON_* that let this action run */
} flowdef_run_after;

/* One action, nested ones included; read-only, owned by the flowdef. */
typedef struct {
    const char *name;             /* unique in the definition */
    flowdef_action_type type;     /* what it does */
    int index;                    /* own index, document (pre-)order */
    int parent;                   /* index of the enclosing Condition, -1 at top level */
    int branch;                   /* in the parent: 1 its "actions" (true), 0 its "else" */
    int depth;                    /* number of enclosing Conditions */
    char *path;                   /* JSON path, e.g. "actions.Check.else.actions.Stop" */
    const cJSON *json;            /* the action's JSON */
    flowdef_run_after *run_after; /* what it waits for (none: runs first in its scope) */
    size_t n_run_after;           /* entries in run_after */
    const cJSON *inputs;          /* "inputs", or NULL */
    char *condition;              /* Condition: the expression as one "@..." text */
    const char *child_flow;       /* Workflow: the child flow's id (workflowReferenceName) */
    int list_flows_version;       /* List flows as Admin: 1 or 2; otherwise 0 */
} flowdef_action;

typedef struct flowdef flowdef;

/* flowdef_parse - parse and validate a definition of len bytes; *out owned by the caller */
int flowdef_parse(const char *json, size_t len, flowdef **out, cmk_err *err);

/* flowdef_destroy - free a definition; accepts NULL and nulls the caller's pointer */
void flowdef_destroy(flowdef **self_p);

/* flowdef_ref - the same parsed definition for one more holder (each holder calls
 * flowdef_destroy once; the last one frees it). A definition is never changed after
 * flowdef_parse, so holders share it: a worker caches one per flow version and every run of
 * that version reads it. Not thread-safe: holders live in one thread. */
flowdef *flowdef_ref(const flowdef *self);

/* flowdef_clone - an independent copy */
int flowdef_clone(const flowdef *self, flowdef **out, cmk_err *err);

/* flowdef_to_json - the definition as compact JSON (*out malloc'd, caller frees) */
int flowdef_to_json(const flowdef *self, char **out, cmk_err *err);

/* flowdef_json - the parsed document (borrowed) */
const cJSON *flowdef_json(const flowdef *self);

/* flowdef_trigger_kind / _name / _json - the one trigger */
flowdef_trigger flowdef_trigger_kind(const flowdef *self);
const char *flowdef_trigger_name(const flowdef *self);
const cJSON *flowdef_trigger_json(const flowdef *self);

/* flowdef_recurrence - frequency ("Minute", ...) and interval of a Recurrence trigger; CMK_ENOENT
 * for other triggers. *period_ms (may be NULL) gets the period; a Month counts 30 days. */
int flowdef_recurrence(const flowdef *self, const char **frequency, int *interval, int64_t *period_ms);

/* flowdef_action_count / _at / _find - the actions in document (pre-)order */
size_t flowdef_action_count(const flowdef *self);
const flowdef_action *flowdef_action_at(const flowdef *self, size_t i);
const flowdef_action *flowdef_action_find(const flowdef *self, const char *name);

/* flowdef_child_count / _at - distinct child flow ids of Workflow actions, in document order */
size_t flowdef_child_count(const flowdef *self);
const char *flowdef_child_at(const flowdef *self, size_t i);

/* flowdef_uses_list_flows - true if an action is List flows as Admin of that version (1 or 2) */
bool flowdef_uses_list_flows(const flowdef *self, int version);

/* flowdef_has_response - true if a Response action exists */
bool flowdef_has_response(const flowdef *self);

/* flowdef_parameters - name -> defaultValue of the definition's parameters (borrowed, never NULL) */
const cJSON *flowdef_parameters(const flowdef *self);

/* flowdef_trigger_kind_name - "manual", "recurrence", "http", "powerapps-v1", "powerapps-v2", "teams" */
const char *flowdef_trigger_kind_name(flowdef_trigger kind);

/* flowdef_action_type_name - "Compose", "Http", "Workflow", "ListFlowsAsAdmin", "If", ... */
const char *flowdef_action_type_name(flowdef_action_type type);

#endif
