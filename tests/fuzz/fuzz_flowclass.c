/*
 * fuzz_flowclass.c - fuzz target for flow classification over a set of flows
 * (common/flowclass.c): parents, children, chains and cycles of Workflow actions.
 *
 * Input: a JSON array of {"id", "name"?, "in_solution"?, "definition"}; flows whose definition
 * does not parse are left out. Contract: classify succeeds (one verdict per flow, in order,
 * every reason's chain starting at its child) or fails with CMK_EINVAL and a message (an id
 * given twice); the result prints as JSON.
 */
#include "fuzz.h"

#include "common/flowclass.h"
#include "common/flowdef.h"

#define MAX_FLOWS 32

/* LLVMFuzzerTestOneInput - parse the set, classify, check */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *arr = cJSON_ParseWithLength((const char *)data, size), *it;
    flowclass_flow flows[MAX_FLOWS];
    flowdef *defs[MAX_FLOWS];
    flowclass_result *res = NULL;
    cmk_err err = CMK_ERR_INIT;
    size_t n = 0;
    int rc;

    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return 0;
    }
    cJSON_ArrayForEach(it, arr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(it, "definition");
        char *text;
        cmk_err perr = CMK_ERR_INIT;

        if (n == MAX_FLOWS || !cJSON_IsString(id) || !def)
            continue;
        text = cJSON_PrintUnformatted(def);
        defs[n] = NULL;
        if (text && flowdef_parse(text, strlen(text), &defs[n], &perr) == 0) {
            flows[n].id = id->valuestring;
            flows[n].display_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
            flows[n].def = defs[n];
            flows[n].in_solution = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "in_solution"));
            n++;
        }
        free(text);
    }
    rc = flowclass_classify(flows, n, &res, &err);
    fuzz_check_rc(rc, &err, "flowclass_classify");
    if (rc == 0) {
        char *json = NULL;
        FUZZ_REQUIRE(flowclass_result_count(res) == n, "%zu verdicts for %zu flows",
                     flowclass_result_count(res), n);
        for (size_t i = 0; i < n; i++) {
            const flowclass_entry *e = flowclass_result_at(res, i);
            FUZZ_REQUIRE(e && strcmp(e->id, flows[i].id) == 0, "verdict %zu out of order", i);
            FUZZ_REQUIRE(e->migratable == (e->categories == 0), "%s: migratable with categories",
                         e->id);
            FUZZ_REQUIRE(!!(e->categories & FLOWCLASS_PARENT) == (e->n_reasons > 0),
                         "%s: parent without reasons (or reasons without parent)", e->id);
            for (size_t r = 0; r < e->n_reasons; r++)
                FUZZ_REQUIRE(e->reasons[r].chain_len >= 1 &&
                                 strcmp(e->reasons[r].chain[0], e->reasons[r].child) == 0,
                             "%s: reason %zu does not start at its child", e->id, r);
        }
        rc = flowclass_result_to_json(res, &json, &err);
        FUZZ_REQUIRE(rc == 0 && json, "result does not print: %s", err.msg);
        free(json);
    }
    flowclass_result_destroy(&res);
    for (size_t i = 0; i < n; i++)
        flowdef_destroy(&defs[i]);
    cJSON_Delete(arr);
    return 0;
}
