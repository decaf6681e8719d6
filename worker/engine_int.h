/*
 * engine_int.h - the engine's run state, shared by engine.c (the state machine) and
 * engine_json.c (a run saved as JSON and loaded again). Not for other modules: they use engine.h.
 */
#ifndef CMK_ENGINE_INT_H
#define CMK_ENGINE_INT_H

#include "engine.h"

/* One action's record. */
typedef struct {
    engine_status status;     /* its status */
    cJSON *inputs, *outputs;  /* evaluated inputs; outputs */
    int64_t start_ms, end_ms; /* caller's clock; 0 if none */
    char *code, *message;     /* error, or NULL */
    int branch;               /* Condition: 1 true, 0 else, -1 not evaluated */
    int order;                /* start order, 0 if never */
} en_rec;

struct engine_run {
    flowdef *def;             /* the definition (shared: flowdef_ref) */
    char *def_flow;           /* the flow it is a version of, for the record (or NULL) */
    int64_t def_version;      /* that version (the flow's updated time) */
    cJSON *trigger;           /* trigger outputs */
    en_rec *recs;             /* one per action */
    size_t n;                 /* entries in recs */
    engine_status status;     /* ENGINE_RUNNING until the end */
    char *code, *message;     /* the run's error, or NULL */
    int64_t start_ms, end_ms; /* caller's clock */
    int64_t now_ms;           /* time of the current call */
    int seq;                  /* actions started so far */
    cJSON *response;          /* {"statusCode","headers","body"} once a Response ran */
    size_t budget;            /* bytes of data the run may hold (0: no limit) */
    size_t used;              /* bytes it holds: trigger, inputs, outputs */
    int starts_left;          /* actions this step may still start (-1: no limit) */
    int yielded;              /* the step stopped at its limit: more to do */
};

/* en_act - the definition of action i */
static inline const flowdef_action *en_act(const engine_run *run, size_t i)
{
    return flowdef_action_at(run->def, i);
}

/* en_set_error - replace an error pair (code and message are copied) */
void en_set_error(char **code_p, char **msg_p, const char *code, const char *message);

/* en_alloc - a run of def (taken) with the trigger outputs (taken); NULL when out of memory
 * (both are released then) */
engine_run *en_alloc(flowdef *def, cJSON *trigger);

#endif
