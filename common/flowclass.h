/*
 * flowclass.h - which flows of an environment cannot be migrated automatically to a
 * customer-managed key, and why: a pure function of the flows' definitions (seed 000, "Protect
 * flows that continue to be protected by MMK").
 *
 * Categories, with the seed's names and approaches quoted exactly:
 *   FLOWCLASS_POWERAPPS_V1   a Power Apps (V1) trigger (Request/PowerApp) and not in a solution
 *   FLOWCLASS_HTTP_TEAMS     an HTTP request trigger (Request/Http) or a Teams trigger (Request/Teams),
 *                            in a solution or not: the flow's URL changes in the CMK infrastructure
 *   FLOWCLASS_PARENT         calls, through a child-flow (Workflow) action, a flow of the set that
 *                            can't be migrated - transitively, at any depth, cycles included. Only
 *                            callers are held back: a flow CALLED BY an unmigratable flow is fine.
 *   FLOWCLASS_LIST_FLOWS_V1  uses the List flows as Admin (V1) action (operationId
 *                            ListFlowsInEnvironment); the V2 action is fine
 * A flow may be in several categories. A Workflow action naming a flow that isn't in the set is
 * ignored (nothing is known about it). Nothing here does I/O or keeps state between calls.
 */
#ifndef CMK_FLOWCLASS_H
#define CMK_FLOWCLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "flowdef.h"

/* Categories (bits), in the seed's table order. */
typedef enum {
    FLOWCLASS_POWERAPPS_V1 = 1 << 0,  /* Power App v1 trigger flows that aren't in a solution */
    FLOWCLASS_HTTP_TEAMS = 1 << 1,    /* HTTP trigger flows and Teams trigger flows */
    FLOWCLASS_PARENT = 1 << 2,        /* Parents of flows that can't be automatically migrated */
    FLOWCLASS_LIST_FLOWS_V1 = 1 << 3, /* Flows using the List flows as Admin (v1) connector action */
} flowclass_category;

#define FLOWCLASS_ALL 0xFu /* every category bit */

/* One flow to classify; everything borrowed. */
typedef struct {
    const char *id;           /* the flow's id (FlowName); unique in the set */
    const char *display_name; /* DisplayName (may be NULL) */
    const flowdef *def;       /* its parsed definition */
    bool in_solution;         /* the flow is in a Dataverse solution */
} flowclass_flow;

/* Why a parent can't be migrated: one of its children that can't be. */
typedef struct {
    const char *child;        /* the child flow called directly (a Workflow action) */
    const char **chain;       /* ids from child down to a flow unmigratable on its own; chain[0] is child */
    size_t chain_len;         /* entries in chain (1 when the child itself is the cause) */
    unsigned root_categories; /* the last flow's own categories (no FLOWCLASS_PARENT) */
} flowclass_reason;

/* The verdict on one flow; owned by the result. */
typedef struct {
    const char *id;                  /* the flow's id */
    const char *display_name;        /* its display name ("" if none) */
    bool migratable;                 /* true: protected by CMK automatically */
    unsigned categories;             /* FLOWCLASS_* bits; 0 when migratable */
    const flowclass_reason *reasons; /* with FLOWCLASS_PARENT: one per unmigratable child */
    size_t n_reasons;                /* entries in reasons */
} flowclass_entry;

typedef struct flowclass_result flowclass_result;

/* flowclass_classify - classify n flows; *out (owned by the caller) has one entry per flow, in
 * input order. Refused: a flow without id or definition, an id given twice. */
int flowclass_classify(const flowclass_flow *flows, size_t n, flowclass_result **out, cmk_err *err);

/* flowclass_result_destroy - free a result; accepts NULL and nulls the caller's pointer */
void flowclass_result_destroy(flowclass_result **self_p);

/* flowclass_result_count / _at / _find - the entries */
size_t flowclass_result_count(const flowclass_result *self);
const flowclass_entry *flowclass_result_at(const flowclass_result *self, size_t i);
const flowclass_entry *flowclass_result_find(const flowclass_result *self, const char *id);

/* flowclass_result_unmigratable - number of flows that stay on the Microsoft-managed key */
size_t flowclass_result_unmigratable(const flowclass_result *self);

/* flowclass_result_to_json - {"total","migratable","notMigratable","flows":[{"id","displayName",
 * "migratable","categories":[{"key","category","approach","note"?}],"reasons":[{"child","chain",
 * "rootCategories"}]}]} (*out malloc'd, caller frees) */
int flowclass_result_to_json(const flowclass_result *self, char **out, cmk_err *err);

/* flowclass_category_key - a stable id: "powerapps-v1-not-in-solution", "http-or-teams-trigger",
 * "parent-of-unmigratable-flow", "list-flows-as-admin-v1"; NULL for anything else */
const char *flowclass_category_key(flowclass_category c);

/* flowclass_category_name - the seed's category text, e.g. "HTTP trigger flows and Teams trigger flows" */
const char *flowclass_category_name(flowclass_category c);

/* flowclass_category_remedy - the seed's "Approach to protect with CMK", as plain text */
const char *flowclass_category_remedy(flowclass_category c);

/* flowclass_category_note - the seed's further explanation of a category, or "" */
const char *flowclass_category_note(flowclass_category c);

#endif
