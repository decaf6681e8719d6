/*
 * engine.h - a resumable run of a flow: a state machine over a parsed definition, with no
 * threads, no I/O and no clock of its own (the caller passes the time on every call).
 *
 *   engine_run_new(def, trigger, now)            a run, Running
 *   loop:
 *     engine_step(run, now, &work)               run every action that can run; returns the
 *                                                actions now waiting on external work
 *     ... perform the work asynchronously (HTTP via the gateway, a child flow, List flows) ...
 *     engine_complete(run, action, status, outputs, error, now)     as each answer arrives
 *   until engine_run_status(run) != ENGINE_RUNNING
 *
 * Many runs can be in flight at once: a slow HTTP action holds only its own run. An action runs
 * when every action in its runAfter has ended in one of the listed statuses; if one ended in
 * another status, it is Skipped (and so on down the chain). A Condition runs one branch and
 * skips the other; it ends when its branch has ended (Failed if a failure in it was not
 * handled). Terminate ends the run at once with its runStatus: actions still waiting or running
 * (the Conditions around the Terminate too) are Cancelled, actions not reached stay NotStarted. Otherwise the run ends when every top-level
 * action has ended: Failed ("ActionFailed") if some Failed or TimedOut action was not handled by
 * a sibling that ran after it, else Succeeded.
 *
 * Work items and what engine_complete expects back:
 *   HTTP             request {method, uri, headers?, body?}; outputs {"statusCode", "headers",
 *                    "body"}; body('A') is outputs.body. The caller maps a refused connection or
 *                    a 4xx/5xx to Failed (with the error text) and no answer in time to TimedOut.
 *   child flow       request {host: {workflowReferenceName}, body?}; outputs: the child's Response
 *                    {"statusCode", "headers", "body"} (engine_run_response of the child's run).
 *   List flows       request {host, parameters?}; outputs {"statusCode": 200, "body": {"value":
 *                    [flows...]}}: the environment's flows.
 * For a Compose action outputs and body are the composed value.
 *
 * A run serializes to JSON and back, so an in-flight run survives a crash: after
 * engine_run_from_json, engine_run_waiting lists the work to redo or to wait for. The saved JSON
 * names its definition (engine_run_set_definition: flow id and version) instead of copying it;
 * the definition is given back to engine_run_from_json.
 */
#ifndef CMK_ENGINE_H
#define CMK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "flowdef.h"

/* Status of an action or of a run ("NotStarted", "Waiting", ... by engine_status_name). */
typedef enum {
    ENGINE_NOT_STARTED = 0, /* action not reached (yet) */
    ENGINE_WAITING,         /* action waiting for the caller's work */
    ENGINE_RUNNING,         /* Condition whose branch is running; a run that hasn't ended */
    ENGINE_SUCCEEDED,       /* ended well */
    ENGINE_FAILED,          /* ended badly */
    ENGINE_SKIPPED,         /* action whose runAfter could not be met, or in a branch not taken */
    ENGINE_TIMEDOUT,        /* action whose work got no answer in time */
    ENGINE_CANCELLED,       /* action stopped by Terminate or a cancel; a cancelled run */
} engine_status;

typedef enum {
    ENGINE_WORK_HTTP = 1,   /* an HTTP action to perform */
    ENGINE_WORK_CHILD_FLOW, /* a child flow to run */
    ENGINE_WORK_LIST_FLOWS, /* List flows as Admin: the environment's flows */
} engine_work_kind;

/* One piece of external work; owned by its list (valid after the run is gone). */
typedef struct {
    engine_work_kind kind;   /* what to do */
    char *action;            /* the action's name, for engine_complete */
    cJSON *request;          /* the action's evaluated inputs */
    const char *method;      /* HTTP: "GET", ... (in request) */
    const char *uri;         /* HTTP: the URL (in request) */
    const cJSON *headers;    /* HTTP: header object, or NULL */
    const cJSON *body;       /* HTTP and child flow: the body, or NULL */
    const char *child_flow;  /* child flow: its id */
    int list_flows_version;  /* List flows as Admin: 1 or 2 */
    const cJSON *parameters; /* List flows as Admin: the parameters, or NULL */
} engine_work;

/* Work returned by engine_step and engine_run_waiting. */
typedef struct {
    engine_work *items; /* in the order the actions started */
    size_t count;       /* entries */
} engine_work_list;

/* What happened to one action; pointers are borrowed from the run. */
typedef struct {
    const char *name;          /* the action */
    const char *type;          /* "Compose", "Http", ... */
    engine_status status;      /* its status */
    const cJSON *inputs;       /* evaluated inputs (NULL if never started) */
    const cJSON *outputs;      /* outputs (NULL if none) */
    int64_t start_ms, end_ms;  /* caller's clock; 0 if not started / not ended */
    const char *error_code;    /* e.g. "InvalidTemplate", "ActionFailed"; NULL if none */
    const char *error_message; /* what went wrong; NULL if none */
    int branch;                /* Condition: 1 true, 0 else, -1 not evaluated */
    int order;                 /* 1 for the first action started, 2 ...; 0 if never */
} engine_record;

typedef struct engine_run engine_run;

/* engine_run_new - a run of def started at now_ms; trigger_json is the trigger's
 * outputs {"headers": {..}, "queries": {..}, "body": ..} (NULL or "": none). The run shares def
 * (flowdef_ref: a definition never changes once parsed) and releases it when destroyed. */
int engine_run_new(const flowdef *def, const char *trigger_json, int64_t now_ms, engine_run **out,
                   cmk_err *err);

/* engine_run_start - the same with the trigger outputs already parsed (a JSON object, taken
 * even on failure): a request's body is parsed once, not printed and parsed again */
int engine_run_start(const flowdef *def, cJSON *trigger, int64_t now_ms, engine_run **out, cmk_err *err);

/* engine_run_set_definition - the flow id and version (its updated time) that the run's
 * definition is: what the saved record names instead of a copy of the definition */
int engine_run_set_definition(engine_run *run, const char *flow, int64_t version);

/* engine_run_destroy - free a run; accepts NULL and nulls the caller's pointer */
void engine_run_destroy(engine_run **self_p);

/* engine_step - advance as far as possible; *out (always set, caller destroys) lists the actions
 * that started waiting in this step */
int engine_step(engine_run *run, int64_t now_ms, engine_work_list **out, cmk_err *err);

/* engine_step_bounded - engine_step that starts at most max_starts actions (-1: no limit), so
 * that a caller with other work (a worker's heartbeats) can time-slice a long run; returns 1 when
 * it stopped at the limit with more to do (step again), 0 otherwise */
int engine_step_bounded(engine_run *run, int64_t now_ms, int max_starts, engine_work_list **out, cmk_err *err);

/* engine_set_budget - the bytes of data the run may hold: its trigger, every action's inputs and
 * outputs (0: no limit). An evaluation or an answer that would pass it fails its action with
 * RunDataLimit ("the run's data passed 16 MiB (run.data_budget) at action 'A' ...") and the run
 * ends Failed with that error; the over-budget data is not kept. */
void engine_set_budget(engine_run *run, size_t bytes);

/* engine_run_data_size - the bytes of data the run holds now (as the budget counts them) */
size_t engine_run_data_size(const engine_run *run);

/* engine_complete - the answer to a waiting action: Succeeded, Failed or TimedOut, its outputs
 * (JSON text or NULL) and, when it didn't succeed, an error message (or NULL). CMK_ESTATE if the
 * action is not waiting (e.g. the run was terminated meanwhile): drop the answer. Step next. */
int engine_complete(engine_run *run, const char *action, engine_status status, const char *outputs_json,
                    const char *error_message, int64_t now_ms, cmk_err *err);

/* engine_run_fail - end a running run Failed with code and message (waiting actions are
 * Cancelled), e.g. when it ran past run.timeout */
int engine_run_fail(engine_run *run, int64_t now_ms, const char *code, const char *message, cmk_err *err);

/* engine_run_cancel - cancel a running run (waiting actions are Cancelled) */
int engine_run_cancel(engine_run *run, int64_t now_ms, cmk_err *err);

/* engine_run_waiting - every action waiting now, e.g. to redo after engine_run_from_json */
int engine_run_waiting(const engine_run *run, engine_work_list **out, cmk_err *err);

/* engine_work_list_destroy - free a work list; accepts NULL and nulls the caller's pointer */
void engine_work_list_destroy(engine_work_list **self_p);

/* engine_run_status - ENGINE_RUNNING until the run ends, then Succeeded, Failed or Cancelled */
engine_status engine_run_status(const engine_run *run);

/* engine_run_error - the run's error code and message (NULL if none) */
void engine_run_error(const engine_run *run, const char **code, const char **message);

/* engine_run_times - start and end (0 while running) on the caller's clock */
void engine_run_times(const engine_run *run, int64_t *start_ms, int64_t *end_ms);

/* engine_run_def - the run's definition (shared with other runs of the same version) */
const flowdef *engine_run_def(const engine_run *run);

/* engine_run_record_count / engine_run_record / engine_run_record_find - per-action records,
 * in definition order; false / CMK_ENOENT if there is no such action */
size_t engine_run_record_count(const engine_run *run);
bool engine_run_record(const engine_run *run, size_t i, engine_record *out);
int engine_run_record_find(const engine_run *run, const char *name, engine_record *out);

/* engine_run_response - true once a Response action ran: its status code, headers, body */
bool engine_run_response(const engine_run *run, int *status_code, const cJSON **headers,
                         const cJSON **body);

/* engine_run_to_json / engine_run_from_json - the whole run as JSON: trigger outputs, status,
 * every action's record, and "definitionRef": {"flow", "version"} naming the definition (not a
 * copy: a flow's definition is stored once, with the flow). engine_run_from_json takes that
 * definition as def (shared); a record of format 1, which carried a copy, loads with def NULL. */
int engine_run_to_json(const engine_run *run, char **out, cmk_err *err);
int engine_run_from_json(const flowdef *def, const char *json, size_t len, engine_run **out, cmk_err *err);

/* engine_status_name / engine_status_parse - "Succeeded" <-> ENGINE_SUCCEEDED */
const char *engine_status_name(engine_status status);
int engine_status_parse(const char *name, engine_status *out);

#endif
