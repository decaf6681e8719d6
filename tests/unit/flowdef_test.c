/*
 * flowdef_test.c - flow definitions: every sample in configs/flows parses with the expected
 * trigger and actions; every kind of invalid definition is refused with the exact JSON path
 * and message of its FIRST error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowdef.h"

#define TRIG "\"triggers\":{\"manual\":{\"type\":\"Request\",\"kind\":\"Button\"}}"
#define COMPOSE(name) "\"" name "\":{\"type\":\"Compose\",\"inputs\":1}"

/* load - read configs/flows/<name> (caller frees) */
static char *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/flows/%s", CMK_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* parse_file - parse a sample; fails the test on error */
static flowdef *parse_file(const char *name)
{
    size_t len;
    char *text = load(name, &len);
    flowdef *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    int rc = flowdef_parse(text, len, &d, &e);
    free(text);
    ck_assert_msg(rc == 0, "%s: %s", name, e.msg);
    return d;
}

static const struct {
    const char *file;     /* sample */
    flowdef_trigger kind; /* its trigger */
    size_t actions;       /* actions, nested included */
    size_t children;      /* child flows */
    int list_v1, list_v2; /* List flows as Admin use */
    int response;         /* has a Response */
} samples[] = {
    { "manual-compose.json", FLOWDEF_TRIGGER_MANUAL, 2, 0, 0, 0, 0 },
    { "recurrence-compose.json", FLOWDEF_TRIGGER_RECURRENCE, 1, 0, 0, 0, 0 },
    { "http-trigger-echo.json", FLOWDEF_TRIGGER_HTTP, 2, 0, 0, 0, 1 },
    { "powerapps-v1.json", FLOWDEF_TRIGGER_POWERAPPS_V1, 2, 0, 0, 0, 1 },
    { "powerapps-v2.json", FLOWDEF_TRIGGER_POWERAPPS_V2, 2, 0, 0, 0, 1 },
    { "teams-trigger.json", FLOWDEF_TRIGGER_TEAMS, 1, 0, 0, 0, 0 },
    { "http-action.json", FLOWDEF_TRIGGER_MANUAL, 3, 0, 0, 0, 0 },
    { "child-parent.json", FLOWDEF_TRIGGER_MANUAL, 2, 1, 0, 0, 0 },
    { "child-child.json", FLOWDEF_TRIGGER_MANUAL, 2, 0, 0, 0, 1 },
    { "list-flows-admin-v1.json", FLOWDEF_TRIGGER_RECURRENCE, 2, 0, 1, 0, 0 },
    { "list-flows-admin-v2.json", FLOWDEF_TRIGGER_RECURRENCE, 2, 0, 0, 1, 0 },
    { "condition-terminate.json", FLOWDEF_TRIGGER_MANUAL, 6, 0, 0, 0, 0 },
};

START_TEST(test_sample_parses)
{
    flowdef *d = parse_file(samples[_i].file), *copy = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(flowdef_trigger_kind(d), samples[_i].kind);
    ck_assert_uint_eq(flowdef_action_count(d), samples[_i].actions);
    ck_assert_uint_eq(flowdef_child_count(d), samples[_i].children);
    ck_assert_int_eq(flowdef_uses_list_flows(d, 1), samples[_i].list_v1);
    ck_assert_int_eq(flowdef_uses_list_flows(d, 2), samples[_i].list_v2);
    ck_assert_int_eq(flowdef_has_response(d), samples[_i].response);
    /* a round trip through JSON gives the same definition */
    char *a = NULL, *b = NULL;
    ck_assert_int_eq(flowdef_to_json(d, &a, &e), 0);
    ck_assert_int_eq(flowdef_clone(d, &copy, &e), 0);
    ck_assert_int_eq(flowdef_to_json(copy, &b, &e), 0);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(flowdef_action_count(copy), samples[_i].actions);
    free(a);
    free(b);
    flowdef_destroy(&copy);
    flowdef_destroy(&d);
    ck_assert_ptr_null(d);
    flowdef_destroy(&d);
}
END_TEST

START_TEST(test_accessors)
{
    flowdef *d = parse_file("manual-compose.json");
    ck_assert_str_eq(flowdef_trigger_name(d), "manual");
    ck_assert_str_eq(flowdef_trigger_kind_name(flowdef_trigger_kind(d)), "manual");
    const flowdef_action *s = flowdef_action_find(d, "Summary");
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->type, FLOWDEF_ACTION_COMPOSE);
    ck_assert_str_eq(flowdef_action_type_name(s->type), "Compose");
    ck_assert_uint_eq(s->n_run_after, 1);
    ck_assert_str_eq(s->run_after[0].action, "Greeting");
    ck_assert_int_eq(s->run_after[0].index, 0);
    ck_assert_uint_eq(s->run_after[0].statuses, FLOWDEF_ON_SUCCEEDED);
    ck_assert_str_eq(s->path, "actions.Summary");
    ck_assert_ptr_null(flowdef_action_find(d, "Nope"));
    ck_assert_ptr_null(flowdef_action_at(d, 2));
    ck_assert_int_eq(flowdef_recurrence(d, NULL, NULL, NULL), CMK_ENOENT);
    flowdef_destroy(&d);

    d = parse_file("recurrence-compose.json");
    const char *freq = NULL;
    int interval = 0;
    int64_t period = 0;
    ck_assert_int_eq(flowdef_recurrence(d, &freq, &interval, &period), 0);
    ck_assert_str_eq(freq, "Minute");
    ck_assert_int_eq(interval, 5);
    ck_assert_int_eq(period, 300000);
    flowdef_destroy(&d);

    d = parse_file("condition-terminate.json");
    const flowdef_action *c = flowdef_action_find(d, "Check_amount");
    ck_assert_int_eq(c->type, FLOWDEF_ACTION_CONDITION);
    ck_assert_str_eq(c->condition, "@and(greater(outputs('Amount'), 100))");
    const flowdef_action *stop = flowdef_action_find(d, "Stop_succeeded");
    ck_assert_int_eq(stop->parent, c->index);
    ck_assert_int_eq(stop->branch, 0);
    ck_assert_int_eq(stop->depth, 1);
    ck_assert_str_eq(stop->path, "actions.Check_amount.else.actions.Stop_succeeded");
    ck_assert_int_eq(flowdef_action_find(d, "Too_large")->branch, 1);
    flowdef_destroy(&d);

    d = parse_file("child-parent.json");
    ck_assert_str_eq(flowdef_child_at(d, 0), "child-child");
    ck_assert_str_eq(flowdef_action_find(d, "Run_a_Child_Flow")->child_flow, "child-child");
    flowdef_destroy(&d);

    d = parse_file("list-flows-admin-v2.json");
    ck_assert_int_eq(flowdef_action_find(d, "List_Flows_as_Admin_V2")->list_flows_version, 2);
    ck_assert_str_eq(cJSON_GetObjectItem(flowdef_parameters(d), "environment")->valuestring, "Default");
    flowdef_destroy(&d);
}
END_TEST

START_TEST(test_designer_conditions_translate)
{
    const char *text = "{" TRIG ",\"actions\":{" COMPOSE("A") ",\"C\":{\"type\":\"If\",\"expression\":"
                       "{\"or\":[{\"not\":{\"equals\":[\"@outputs('A')\",\"it's\"]}},{\"lessOrEquals\":[2.5,"
                       "\"@triggerBody()?['n']\"]},{\"contains\":[{\"k\":[1]},\"k\"]},true]}}}}";
    flowdef *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(flowdef_parse(text, strlen(text), &d, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(flowdef_action_find(d, "C")->condition,
                     "@or(not(equals(outputs('A'), 'it''s')), lessOrEquals(2.5, triggerBody()?['n']), "
                     "contains(json('{\"k\":[1]}'), 'k'), true)");
    ck_assert_uint_eq(flowdef_action_find(d, "C")->n_run_after, 0);
    flowdef_destroy(&d);

    text = "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":\"@equals(1, 1)\",\"actions\":{}}}}";
    ck_assert_msg(flowdef_parse(text, strlen(text), &d, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(flowdef_action_find(d, "C")->condition, "@equals(1, 1)");
    flowdef_destroy(&d);
}
END_TEST

/* Invalid definitions and the exact first error each must give. */
static const struct {
    const char *json; /* the definition */
    int code;         /* expected code */
    const char *msg;  /* expected message, exactly */
} bad[] = {
    { "[]", CMK_EINVAL, "definition: must be a JSON object with triggers and actions" },
    { "{" TRIG ",\"trigger\":{},\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL, "definition: unknown property 'trigger'" },
    { "{\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL, "triggers: missing (a flow needs exactly one trigger)" },
    { "{\"triggers\":{\"a\":{\"type\":\"Request\"},\"b\":{\"type\":\"Request\"}},\"actions\":{" COMPOSE("A") "}}",
      CMK_EINVAL, "triggers: exactly one trigger is required, found 2" },
    { "{\"triggers\":{\"t\":{\"type\":\"Webhook\"}},\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL,
      "triggers.t.type: unknown trigger type 'Webhook' (expected Request or Recurrence)" },
    { "{\"triggers\":{\"t\":{\"type\":\"Request\",\"kind\":\"Email\"}},\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL,
      "triggers.t.kind: unknown Request trigger kind 'Email' (expected Button, Http, PowerApp, PowerAppV2 or Teams)" },
    { "{\"triggers\":{\"t\":{\"type\":\"Recurrence\",\"recurrence\":{\"frequency\":\"Year\",\"interval\":1}}},"
      "\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL,
      "triggers.t.recurrence: frequency must be Second, Minute, Hour, Day, Week or Month" },
    { "{\"triggers\":{\"t\":{\"type\":\"Recurrence\",\"recurrence\":{\"frequency\":\"Hour\",\"interval\":0}}},"
      "\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL,
      "triggers.t.recurrence: interval must be a whole number from 1 to 1000000" },
    { "{\"triggers\":{\"t\":{\"type\":\"Recurrence\"}},\"actions\":{" COMPOSE("A") "}}", CMK_EINVAL,
      "triggers.t.recurrence: missing (e.g. {\"frequency\": \"Minute\", \"interval\": 5})" },
    { "{" TRIG "}", CMK_EINVAL, "actions: missing (a flow needs at least one action)" },
    { "{" TRIG ",\"actions\":{}}", CMK_EINVAL, "actions: a flow needs at least one action" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"SendMail\"}}}", CMK_EINVAL,
      "actions.A.type: unknown action type 'SendMail' (expected Compose, Http, Workflow, OpenApiConnection, If, "
      "Terminate or Response)" },
    { "{" TRIG ",\"actions\":{\"A\":{\"inputs\":1}}}", CMK_EINVAL,
      "actions.A.type: missing (expected Compose, Http, Workflow, OpenApiConnection, If, Terminate or Response)" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\"}}}", CMK_EINVAL,
      "actions.A.inputs: missing (a Compose action needs inputs)" },
    { "{" TRIG ",\"actions\":{" COMPOSE("Compose") ",\"Send_mail\":{\"type\":\"Compose\",\"inputs\":2,"
      "\"runAfter\":{\"Compose_1\":[\"Succeeded\"]}}}}", CMK_EINVAL,
      "actions.Send_mail.runAfter.Compose_1: unknown action 'Compose_1'" },
    { "{" TRIG ",\"actions\":{" COMPOSE("A") ",\"B\":{\"type\":\"Compose\",\"inputs\":2,"
      "\"runAfter\":{\"A\":[\"Succeeded\",\"Done\"]}}}}", CMK_EINVAL,
      "actions.B.runAfter.A: unknown status 'Done' at [1] (expected Succeeded, Failed, Skipped or TimedOut)" },
    { "{" TRIG ",\"actions\":{" COMPOSE("A") ",\"B\":{\"type\":\"Compose\",\"inputs\":2,\"runAfter\":{\"A\":[]}}}}",
      CMK_EINVAL, "actions.B.runAfter.A: expected a non-empty array of statuses (Succeeded, Failed, Skipped, TimedOut)" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":2,\"runAfter\":{\"A\":[\"Failed\"]}}}}",
      CMK_EINVAL, "actions.A.runAfter.A: an action can't run after itself" },
    { "{" TRIG ",\"actions\":{" COMPOSE("A") ",\"C\":{\"type\":\"If\",\"expression\":true,\"actions\":{\"X\":"
      "{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"A\":[\"Succeeded\"]}}}}}}", CMK_EINVAL,
      "actions.C.actions.X.runAfter.A: action 'A' is not in the same scope (runAfter names actions next to this "
      "one, at actions.A)" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"B\":[\"Succeeded\"]}},"
      "\"B\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"A\":[\"Succeeded\"]}}}}", CMK_EINVAL,
      "actions.B.runAfter.A: runAfter cycle: A -> B -> A (each waits for the next)" },
    { "{" TRIG ",\"actions\":{" COMPOSE("Z") ",\"A\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"Z\":[\"Succeeded\"],"
      "\"C\":[\"Failed\"]}},\"B\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"A\":[\"Succeeded\"]}},"
      "\"C\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"B\":[\"Skipped\"]}}}}", CMK_EINVAL,
      "actions.B.runAfter.A: runAfter cycle: A -> C -> B -> A (each waits for the next)" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":\"@concat('a'\"}}}", CMK_EINVAL,
      "actions.A.inputs: expression '@concat('a'' at column 12: expected ',' or ')' in the arguments of concat()" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":{\"body\":{\"x\":[\"x @{add(1)}\"]}}}}}",
      CMK_EINVAL, "actions.A.inputs.body.x[0]: expression 'x @{add(1)}' at column 5: add() takes 2 arguments, got 1" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":\"@body('Nope')\"}}}", CMK_EINVAL,
      "actions.A.inputs: unknown action 'Nope' in body('Nope')" },
    { "{" TRIG ",\"actions\":{" COMPOSE("A") ",\"C\":{\"type\":\"If\",\"expression\":true,\"else\":{\"actions\":{"
      COMPOSE("A") "}}}}}", CMK_EINVAL, "actions.C.else.actions.A: duplicate action name 'A' (also at actions.A)" },
    { "{" TRIG ",\"actions\":{\"H\":{\"type\":\"Http\",\"inputs\":{\"method\":\"GET\"}}}}", CMK_EINVAL,
      "actions.H.inputs: uri is missing (the URL to call)" },
    { "{" TRIG ",\"actions\":{\"H\":{\"type\":\"Http\",\"inputs\":{\"method\":\"FETCH\",\"uri\":\"http://x\"}}}}",
      CMK_EINVAL, "actions.H.inputs: unknown method 'FETCH' (expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)" },
    { "{" TRIG ",\"actions\":{\"H\":{\"type\":\"Http\",\"inputs\":{\"method\":\"GET\",\"uri\":\"orders\"}}}}",
      CMK_EINVAL, "actions.H.inputs: uri 'orders' must be an absolute http:// or https:// URL" },
    { "{" TRIG ",\"actions\":{\"H\":{\"type\":\"Http\"}}}", CMK_EINVAL,
      "actions.H.inputs: missing (an HTTP action needs method and uri)" },
    { "{" TRIG ",\"actions\":{\"W\":{\"type\":\"Workflow\",\"inputs\":{\"body\":{}}}}}", CMK_EINVAL,
      "actions.W.inputs: host.workflowReferenceName must be the child flow's id" },
    { "{" TRIG ",\"actions\":{\"W\":{\"type\":\"Workflow\",\"inputs\":{\"host\":{\"workflowReferenceName\":"
      "\"@triggerBody()\"}}}}}", CMK_EINVAL,
      "actions.W.inputs: host.workflowReferenceName must be the child flow's id, not an expression" },
    { "{" TRIG ",\"actions\":{\"L\":{\"type\":\"OpenApiConnection\",\"inputs\":{\"host\":{\"apiId\":"
      "\"/providers/Microsoft.PowerApps/apis/shared_office365\",\"operationId\":\"SendEmailV2\"}}}}}", CMK_EINVAL,
      "actions.L.inputs: host.apiId '/providers/Microsoft.PowerApps/apis/shared_office365' is not supported (only "
      "the Flow Management connector, /providers/Microsoft.PowerApps/apis/shared_flowmanagement)" },
    { "{" TRIG ",\"actions\":{\"L\":{\"type\":\"OpenApiConnection\",\"inputs\":{\"host\":{\"apiId\":"
      "\"/providers/Microsoft.PowerApps/apis/shared_flowmanagement\",\"operationId\":\"ListFlows\"}}}}}", CMK_EINVAL,
      "actions.L.inputs: host.operationId 'ListFlows' is not supported (expected ListFlowsInEnvironment for List "
      "Flows as Admin, ListFlowsInEnvironment_V2 for List Flows as Admin (V2))" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"actions\":{}}}}", CMK_EINVAL,
      "actions.C.expression: missing (a Condition needs an expression)" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":{\"and\":[{\"equal\":[1,1]}]}}}}", CMK_EINVAL,
      "actions.C.expression.and[0].equal: unknown condition operator (expected and, or, not, equals, greater, "
      "greaterOrEquals, less, lessOrEquals, contains, startsWith or endsWith)" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":{\"and\":[{\"equals\":[\"@foo()\",1]}]}}}}",
      CMK_EINVAL, "actions.C.expression.and[0].equals[0]: expression '@foo()' at column 2: unknown function 'foo'" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":{\"equals\":[1]}}}}", CMK_EINVAL,
      "actions.C.expression.equals: takes an array of two operands" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":\"yes\"}}}", CMK_EINVAL,
      "actions.C.expression: a condition is true, false, an '@...' expression or an object with one operator "
      "(and, or, not, equals, less, ...)" },
    { "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":true,\"else\":{\"action\":{}}}}}", CMK_EINVAL,
      "actions.C.else: must be {\"actions\": {...}}" },
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Compose\",\"inputs\":1,\"actions\":{}}}}", CMK_EINVAL,
      "actions.A: unknown property 'actions'" },
    { "{" TRIG ",\"actions\":{\"T\":{\"type\":\"Terminate\",\"inputs\":{\"runStatus\":\"Stopped\"}}}}", CMK_EINVAL,
      "actions.T.inputs: runStatus 'Stopped' is unknown (expected Succeeded, Failed or Cancelled)" },
    { "{" TRIG ",\"actions\":{\"T\":{\"type\":\"Terminate\",\"inputs\":{\"runStatus\":\"Succeeded\",\"runError\":"
      "{\"message\":\"x\"}}}}}", CMK_EINVAL, "actions.T.inputs: runError is allowed only with runStatus Failed" },
    { "{\"triggers\":{\"t\":{\"type\":\"Recurrence\",\"recurrence\":{\"frequency\":\"Hour\",\"interval\":1}}},"
      "\"actions\":{\"R\":{\"type\":\"Response\",\"inputs\":{\"statusCode\":200}}}}", CMK_EINVAL,
      "actions.R: a Response action needs a Request trigger (manual, HTTP, Power Apps or Teams); this flow's "
      "trigger is a Recurrence" },
    { "{" TRIG ",\"actions\":{\"R\":{\"type\":\"Response\",\"inputs\":{\"statusCode\":42}}}}", CMK_EINVAL,
      "actions.R.inputs: statusCode must be an HTTP status (100-599) or an expression" },
    /* the first error wins: A's type comes before B's runAfter */
    { "{" TRIG ",\"actions\":{\"A\":{\"type\":\"Nope\"},\"B\":{\"type\":\"Compose\",\"inputs\":1,"
      "\"runAfter\":{\"Q\":[\"Succeeded\"]}}}}", CMK_EINVAL,
      "actions.A.type: unknown action type 'Nope' (expected Compose, Http, Workflow, OpenApiConnection, If, "
      "Terminate or Response)" },
};

START_TEST(test_invalid_first_error)
{
    flowdef *d = (flowdef *)&d; /* must be reset to NULL */
    cmk_err e = CMK_ERR_INIT;
    int rc = flowdef_parse(bad[_i].json, strlen(bad[_i].json), &d, &e);
    ck_assert_int_eq(rc, bad[_i].code);
    ck_assert_int_eq(e.code, bad[_i].code);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(e.msg, bad[_i].msg);
}
END_TEST

START_TEST(test_not_json)
{
    flowdef *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(flowdef_parse("{\"triggers\": ", 13, &d, &e), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "definition: not valid JSON (error near byte"));
    ck_assert_int_eq(flowdef_parse(NULL, 0, &d, &e), CMK_EINVAL);
}
END_TEST

START_TEST(test_limits)
{
    flowdef *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);

    /* 9 nested Conditions: the action inside the 9th is too deep; 8 are fine */
    for (int levels = 8; levels <= 9; levels++) {
        n = (size_t)snprintf(buf, cap, "{" TRIG ",\"actions\":{");
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(buf + n, cap - n, "\"C%d\":{\"type\":\"If\",\"expression\":true,\"actions\":{", i);
        n += (size_t)snprintf(buf + n, cap - n, COMPOSE("Deep"));
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(buf + n, cap - n, "}}");
        n += (size_t)snprintf(buf + n, cap - n, "}}");
        int rc = flowdef_parse(buf, n, &d, &e);
        if (levels == 8) {
            ck_assert_msg(rc == 0, "%s", e.msg);
            ck_assert_int_eq(flowdef_action_find(d, "Deep")->depth, 8);
            flowdef_destroy(&d);
        } else {
            ck_assert_int_eq(rc, CMK_ELIMIT);
            ck_assert_str_eq(e.msg, "actions.C0.actions.C1.actions.C2.actions.C3.actions.C4.actions.C5.actions.C6."
                                    "actions.C7.actions.C8.actions.Deep: nesting too deep (actions may sit in at "
                                    "most 8 levels of Conditions)");
        }
    }

    /* 500 actions are fine, 501 are too many */
    for (int count = 500; count <= 501; count++) {
        n = (size_t)snprintf(buf, cap, "{" TRIG ",\"actions\":{");
        for (int i = 0; i < count; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s\"a%d\":{\"type\":\"Compose\",\"inputs\":%d}", i ? "," : "", i, i);
        n += (size_t)snprintf(buf + n, cap - n, "}}");
        int rc = flowdef_parse(buf, n, &d, &e);
        if (count == 500) {
            ck_assert_msg(rc == 0, "%s", e.msg);
            ck_assert_uint_eq(flowdef_action_count(d), 500);
            flowdef_destroy(&d);
        } else {
            ck_assert_int_eq(rc, CMK_ELIMIT);
            ck_assert_str_eq(e.msg, "actions.a500: too many actions (the limit is 500, nested ones included)");
        }
    }
    free(buf);

    /* a definition over 1 MiB */
    ck_assert_int_eq(flowdef_parse("{}", FLOWDEF_MAX_BYTES + 1, &d, &e), CMK_ELIMIT);
    ck_assert_ptr_nonnull(strstr(e.msg, "more than the limit"));
}
END_TEST

/* flowdef_suite - every case above */
static Suite *flowdef_suite(void)
{
    Suite *s = suite_create("flowdef");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_sample_parses, 0, (int)(sizeof samples / sizeof samples[0]));
    tcase_add_test(tc, test_accessors);
    tcase_add_test(tc, test_designer_conditions_translate);
    tcase_add_loop_test(tc, test_invalid_first_error, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_not_json);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(flowdef_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
