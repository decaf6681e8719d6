/*
 * flowexpr.h - the expression language of flow definitions (a subset of the Logic Apps
 * workflow definition language), parsed once and evaluated against a run's context.
 *
 * A JSON string value in a definition is one of:
 *   "plain text"              a literal (no '@' at the start, no "@{" inside)
 *   "@expr"                   the whole value is one expression; the result keeps its JSON type
 *   "a @{expr} b"             interpolation: each @{expr} is turned into text; result is a string
 *   "@@text"                  a leading "@@" stands for one '@'; "@@{" anywhere stands for "@{"
 *
 * Grammar of expr:
 *   expr    := primary postfix*
 *   primary := number | 'string' ('' is a quote) | true | false | null | name '(' [expr {, expr}] ')'
 *   postfix := ['?'] '[' expr ']' | ['?'] '.' name        '?' yields null instead of failing
 *
 * Functions (arity checked at parse time): triggerBody() triggerOutputs() body('A') outputs('A')
 * parameters('p') variables('v') concat(..) string(x) int(x) float(x) json(s) add sub mul
 * div mod equals(a,b) not(x) and(..) or(..) greater greaterOrEquals less lessOrEquals
 * utcNow([format]) coalesce(..) if(c,a,b) empty(x) length(x) toLower(s) toUpper(s) contains(c,x)
 * startsWith(s,p) endsWith(s,p).
 * utcNow formats: "o" (default, 2026-01-02T03:04:05.1230000Z), "s", or yyyy MM dd HH mm ss f..fffffff.
 * Text conversion follows Logic Apps: string(true) is "True", objects become compact JSON.
 * Property names match case-insensitively (as in Logic Apps); string comparison is case-sensitive.
 * An interpolated value is concat() of its pieces. Nothing here reads the wall clock or does I/O.
 */
#ifndef CMK_FLOWEXPR_H
#define CMK_FLOWEXPR_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* A parsed string value: a literal, one expression, or an interpolated template. */
typedef struct flowexpr flowexpr;

/* flowexpr_lookup_fn - give an action's outputs and body (borrowed) or fail with a message */
typedef int (*flowexpr_lookup_fn)(void *arg, const char *action, const cJSON **outputs,
                                  const cJSON **body, cmk_err *err);

/* flowexpr_ref_fn - told of each literal action name in body('A') / outputs('A') while checking;
 * return < 0 with err filled to refuse the reference */
typedef int (*flowexpr_ref_fn)(void *arg, const char *fn, const char *action, cmk_err *err);

/* What an expression can see while it is evaluated. Every pointer is borrowed; any may be NULL. */
typedef struct {
    const cJSON *trigger_outputs; /* {"headers":{..},"queries":{..},"body":..}: triggerOutputs() */
    const cJSON *parameters;      /* name -> value, for parameters('p') */
    const cJSON *variables;       /* name -> value, for variables('v'); NULL: none */
    flowexpr_lookup_fn lookup;    /* body('A') / outputs('A'); NULL: no action has run */
    void *lookup_arg;             /* passed to lookup */
    int64_t now_ms;               /* utcNow(): ms since the epoch, from the caller's clock */
    size_t budget;                /* bytes the evaluation may produce in all (every intermediate
                                   * result counts, strings are checked before they are built);
                                   * past it: CMK_ELIMIT. 0: no limit */
    size_t *spent;                /* running total against budget, kept across calls; may be NULL */
} flowexpr_ctx;

/* flowexpr_json_size - about how many bytes a JSON value holds (text, keys, 8 per value) */
size_t flowexpr_json_size(const cJSON *v);

/* flowexpr_parse - parse one string value; errors name the column and what was expected */
int flowexpr_parse(const char *text, flowexpr **out, cmk_err *err);

/* flowexpr_destroy - free an expression; accepts NULL and nulls the caller's pointer */
void flowexpr_destroy(flowexpr **self_p);

/* flowexpr_eval - evaluate to a new JSON value (*out, caller deletes) */
int flowexpr_eval(const flowexpr *self, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err);

/* flowexpr_eval_string - parse and evaluate one string value */
int flowexpr_eval_string(const char *text, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err);

/* flowexpr_eval_json - copy a JSON value, evaluating every string in it (object keys stay) */
int flowexpr_eval_json(const cJSON *in, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err);

/* flowexpr_check_json - parse every string in a JSON value; errors start with "path.to.value: ".
 * ref (may be NULL) is told of every literal action reference. */
int flowexpr_check_json(const cJSON *in, const char *path, flowexpr_ref_fn ref, void *ref_arg,
                        cmk_err *err);

/* flowexpr_refs - tell ref of every literal action reference (body('A'), outputs('A')) */
int flowexpr_refs(const flowexpr *self, flowexpr_ref_fn ref, void *ref_arg, cmk_err *err);

/* flowexpr_to_text - a value as interpolation shows it ("" for null, "True", compact JSON);
 * returns a malloc'd string or NULL when out of memory */
char *flowexpr_to_text(const cJSON *v);

#endif
