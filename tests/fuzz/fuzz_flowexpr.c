/*
 * fuzz_flowexpr.c - fuzz target for flow expressions: flowexpr_parse and flowexpr_eval
 * (common/flowexpr.c).
 *
 * Input: one string value of a definition ("@expr", "a @{expr} b", plain text). It is parsed,
 * its action references listed, and evaluated against a fixed run context (trigger outputs,
 * parameters, variables, one action "A" that ran). Contract: every step succeeds or fails with
 * a negative code and a message; evaluating twice gives the same value; parse-and-evaluate in
 * one call agrees with the two steps.
 */
#include "fuzz.h"

#include "common/flowexpr.h"

static cJSON *trigger_outputs, *parameters, *variables, *a_outputs; /* the fixed context */

/* lookup - body('A') / outputs('A'): only "A" ran */
static int lookup(void *arg, const char *action, const cJSON **outputs, const cJSON **body,
                  cmk_err *err)
{
    if (strcmp(action, "A") != 0)
        return cmk_err_set(err, CMK_EINVAL, "action '%s' has not run", action);
    *outputs = a_outputs;
    *body = cJSON_GetObjectItemCaseSensitive(a_outputs, "body");
    return 0;
}

/* count_ref - a reference callback that accepts every action */
static int count_ref(void *arg, const char *fn, const char *action, cmk_err *err)
{
    FUZZ_REQUIRE(fn && action, "reference without function or action");
    (*(int *)arg)++;
    return 0;
}

/* init - the context, once */
static void init(void)
{
    if (trigger_outputs)
        return;
    trigger_outputs = cJSON_Parse("{\"headers\":{\"Content-Type\":\"application/json\"},"
                                  "\"queries\":{\"q\":\"1\"},\"body\":{\"x\":\"yes\",\"n\":3,"
                                  "\"list\":[1,2,{\"k\":null}],\"t\":true}}");
    parameters = cJSON_Parse("{\"p\":\"value\",\"n\":42}");
    variables = cJSON_Parse("{\"v\":[\"a\",\"b\"]}");
    a_outputs = cJSON_Parse("{\"statusCode\":200,\"body\":{\"ok\":true,\"s\":\"text\"}}");
    FUZZ_REQUIRE(trigger_outputs && parameters && variables && a_outputs, "context");
}

/* LLVMFuzzerTestOneInput - parse, list references, evaluate */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flowexpr *e = NULL;
    cmk_err err = CMK_ERR_INIT;
    char *text;
    cJSON *v1 = NULL, *v2 = NULL, *v3 = NULL;
    int rc, rc1, rc3, refs = 0;

    if (size > 64 * 1024)
        return 0;
    init();
    text = fuzz_text(data, size);
    rc = flowexpr_parse(text, &e, &err);
    fuzz_check_rc(rc, &err, "flowexpr_parse");
    if (rc == 0) {
        flowexpr_ctx ctx = { trigger_outputs, parameters, variables, lookup, NULL,
                             1767323045123LL, 0, NULL };
        cmk_err e1 = CMK_ERR_INIT, e2 = CMK_ERR_INIT, e3 = CMK_ERR_INIT, er = CMK_ERR_INIT;
        int rr = flowexpr_refs(e, count_ref, &refs, &er);
        fuzz_check_rc(rr, &er, "flowexpr_refs");
        rc1 = flowexpr_eval(e, &ctx, &v1, &e1);
        fuzz_check_rc(rc1, &e1, "flowexpr_eval");
        rc = flowexpr_eval(e, &ctx, &v2, &e2);
        fuzz_check_rc(rc, &e2, "flowexpr_eval");
        FUZZ_REQUIRE(rc == rc1, "evaluating twice gave %d then %d", rc1, rc);
        rc3 = flowexpr_eval_string(text, &ctx, &v3, &e3);
        fuzz_check_rc(rc3, &e3, "flowexpr_eval_string");
        FUZZ_REQUIRE(rc3 == rc1, "eval_string %d vs parse+eval %d", rc3, rc1);
        if (rc1 == 0) {
            char *t;
            FUZZ_REQUIRE(v1 && v2 && v3, "success without a value");
            FUZZ_REQUIRE(cJSON_Compare(v1, v2, 1) && cJSON_Compare(v1, v3, 1),
                         "evaluations differ");
            t = flowexpr_to_text(v1);
            FUZZ_REQUIRE(t != NULL, "a value has no text");
            free(t);
        }
        /* without a context (NULLs everywhere) nothing may crash either */
        {
            flowexpr_ctx none = { 0 };
            cJSON *v4 = NULL;
            cmk_err e4 = CMK_ERR_INIT;
            int rc4 = flowexpr_eval(e, &none, &v4, &e4);
            fuzz_check_rc(rc4, &e4, "flowexpr_eval (empty context)");
            cJSON_Delete(v4);
        }
    }
    cJSON_Delete(v1);
    cJSON_Delete(v2);
    cJSON_Delete(v3);
    flowexpr_destroy(&e);
    free(text);
    return 0;
}
