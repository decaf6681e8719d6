/*
 * fuzz_flowdef.c - fuzz target for flow definitions: flowdef_parse (common/flowdef.c), and the
 * classification of the parsed flow (common/flowclass.c).
 *
 * Input: a definition as JSON text. Contract: parse succeeds, or fails with CMK_EINVAL and a
 * message naming where; a parsed definition prints to JSON that parses to the same definition
 * (same JSON text, trigger, actions and children), every action's indexes are in range, and a flow
 * of it classifies into exactly one verdict.
 */
#include "fuzz.h"

#include "common/flowclass.h"
#include "common/flowdef.h"

/* check_actions - the read accessors stay in range */
static void check_actions(const flowdef *d)
{
    size_t n = flowdef_action_count(d);
    for (size_t i = 0; i < n; i++) {
        const flowdef_action *a = flowdef_action_at(d, i);
        FUZZ_REQUIRE(a && a->name && a->path, "action %zu has no name or path", i);
        FUZZ_REQUIRE(a->index == (int)i, "action %zu says it is %d", i, a->index);
        FUZZ_REQUIRE(a->parent >= -1 && a->parent < (int)n, "action %s: parent %d", a->name,
                     a->parent);
        FUZZ_REQUIRE(a->depth >= 0 && a->depth <= FLOWDEF_MAX_DEPTH, "action %s: depth %d",
                     a->name, a->depth);
        FUZZ_REQUIRE(flowdef_action_find(d, a->name) == a, "action %s not found by name",
                     a->name);
        for (size_t k = 0; k < a->n_run_after; k++)
            FUZZ_REQUIRE(a->run_after[k].index >= 0 && a->run_after[k].index < (int)n,
                         "action %s waits for index %d", a->name, a->run_after[k].index);
    }
    FUZZ_REQUIRE(n >= 1 && n <= FLOWDEF_MAX_ACTIONS, "%zu actions", n);
}

/* LLVMFuzzerTestOneInput - parse, print, parse again, classify */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flowdef *d = NULL, *d2 = NULL;
    flowclass_result *res = NULL;
    cmk_err err = CMK_ERR_INIT;
    char *text = fuzz_text(data, size), *json = NULL;
    int rc = flowdef_parse(text, size, &d, &err);

    fuzz_check_rc(rc, &err, "flowdef_parse");
    if (rc < 0) {
        FUZZ_REQUIRE(d == NULL, "a failed parse gave a definition");
        free(text);
        return 0;
    }
    check_actions(d);
    rc = flowdef_to_json(d, &json, &err);
    FUZZ_REQUIRE(rc == 0, "flowdef_to_json: %s", err.msg);
    rc = flowdef_parse(json, strlen(json), &d2, &err);
    FUZZ_REQUIRE(rc == 0, "a printed definition does not parse again: %s\n%s", err.msg, json);
    {
        /* compared as text: cJSON_Compare cannot tell duplicate member names apart */
        char *json2 = NULL;
        rc = flowdef_to_json(d2, &json2, &err);
        FUZZ_REQUIRE(rc == 0 && strcmp(json, json2) == 0, "JSON changed:\n%s\n%s", json,
                     json2 ? json2 : "(null)");
        free(json2);
    }
    FUZZ_REQUIRE(flowdef_trigger_kind(d) == flowdef_trigger_kind(d2), "trigger changed");
    FUZZ_REQUIRE(flowdef_action_count(d) == flowdef_action_count(d2), "action count changed");
    FUZZ_REQUIRE(flowdef_child_count(d) == flowdef_child_count(d2), "children changed");
    {
        flowclass_flow f = { "fuzz-flow", "fuzz", d, false };
        rc = flowclass_classify(&f, 1, &res, &err);
        fuzz_check_rc(rc, &err, "flowclass_classify");
        if (rc == 0) {
            const flowclass_entry *e = flowclass_result_find(res, "fuzz-flow");
            FUZZ_REQUIRE(flowclass_result_count(res) == 1 && e, "not one verdict");
            FUZZ_REQUIRE(e->migratable == (e->categories == 0), "migratable with categories");
        }
        flowclass_result_destroy(&res);
    }
    free(json);
    free(text);
    flowdef_destroy(&d);
    flowdef_destroy(&d2);
    return 0;
}
