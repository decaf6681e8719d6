/*
 * engine_test.c - the run state machine: runAfter order (a diamond), Failed/Skipped/TimedOut
 * propagation and handling, Condition branches, Terminate, HTTP work completed out of order
 * across two runs, a child flow and its Response, List flows as Admin, cancel, and saving a run
 * mid-flight and resuming it. Time is whatever the test passes; nothing reads the wall clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/engine.h"

#define T0 1767323045123LL /* 2026-01-02T03:04:05.123Z */
#define TRIG "\"triggers\":{\"manual\":{\"type\":\"Request\",\"kind\":\"Button\"}}"

/* def_text - parse a definition given inline */
static flowdef *def_text(const char *json)
{
    flowdef *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(flowdef_parse(json, strlen(json), &d, &e) == 0, "%s", e.msg);
    return d;
}

/* def_file - parse configs/flows/<name> */
static flowdef *def_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/configs/flows/%s", CMK_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    flowdef *d = def_text(buf);
    free(buf);
    return d;
}

/* start - a run of def (destroyed here: the run keeps its own copy) */
static engine_run *start(flowdef *def, const char *trigger, int64_t now)
{
    engine_run *run = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(engine_run_new(def, trigger, now, &run, &e) == 0, "%s", e.msg);
    flowdef_destroy(&def);
    return run;
}

/* step - one step; returns the new work (caller destroys) */
static engine_work_list *step(engine_run *run, int64_t now)
{
    engine_work_list *w = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(engine_step(run, now, &w, &e) == 0, "%s", e.msg);
    ck_assert_ptr_nonnull(w);
    return w;
}

/* complete - answer a waiting action */
static void complete(engine_run *run, const char *action, engine_status st, const char *outputs, int64_t now)
{
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(engine_complete(run, action, st, outputs, st == ENGINE_SUCCEEDED ? NULL : "it broke", now, &e) == 0,
                  "%s", e.msg);
}

/* rec - the record of an action */
static engine_record rec(const engine_run *run, const char *name)
{
    engine_record r;
    ck_assert_msg(engine_run_record_find(run, name, &r) == 0, "no record %s", name);
    return r;
}

/* status_of - an action's status name */
static const char *status_of(const engine_run *run, const char *name)
{
    return engine_status_name(rec(run, name).status);
}

/* out_text - an action's outputs as compact JSON (static buffer) */
static const char *out_text(const engine_run *run, const char *name)
{
    static char buf[1024];
    char *s = cJSON_PrintUnformatted(rec(run, name).outputs);
    snprintf(buf, sizeof buf, "%s", s ? s : "(none)");
    free(s);
    return buf;
}

START_TEST(test_diamond_order)
{
    engine_run *run = start(def_text("{" TRIG ",\"actions\":{"
        "\"D\":{\"type\":\"Compose\",\"inputs\":\"@add(outputs('B'), outputs('C'))\",\"runAfter\":{\"B\":[\"Succeeded\"],\"C\":[\"Succeeded\"]}},"
        "\"C\":{\"type\":\"Compose\",\"inputs\":\"@mul(outputs('A'), 10)\",\"runAfter\":{\"A\":[\"Succeeded\"]}},"
        "\"B\":{\"type\":\"Compose\",\"inputs\":\"@add(outputs('A'), 1)\",\"runAfter\":{\"A\":[\"Succeeded\"]}},"
        "\"A\":{\"type\":\"Compose\",\"inputs\":\"@int(triggerBody()['n'])\"}}}"), "{\"body\":{\"n\":\"2\"}}", T0);
    ck_assert_int_eq(engine_run_status(run), ENGINE_RUNNING);
    engine_work_list *w = step(run, T0 + 5);
    ck_assert_uint_eq(w->count, 0);
    engine_work_list_destroy(&w);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
    ck_assert_int_eq(rec(run, "A").order, 1);
    ck_assert_int_eq(rec(run, "C").order, 2); /* document order among the ready ones */
    ck_assert_int_eq(rec(run, "B").order, 3);
    ck_assert_int_eq(rec(run, "D").order, 4);
    ck_assert_str_eq(out_text(run, "D"), "23");
    ck_assert_int_eq(rec(run, "D").start_ms, T0 + 5);
    int64_t s, e;
    engine_run_times(run, &s, &e);
    ck_assert_int_eq(s, T0);
    ck_assert_int_eq(e, T0 + 5);
    const char *code = "x";
    engine_run_error(run, &code, NULL);
    ck_assert_ptr_null(code);
    engine_run_destroy(&run);
    ck_assert_ptr_null(run);
    engine_run_destroy(&run);
}
END_TEST

START_TEST(test_failed_skipped_propagation)
{
    const char *actions =
        "\"A\":{\"type\":\"Compose\",\"inputs\":\"@int('x')\"},"
        "\"B\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"A\":[\"Succeeded\"]}},"
        "\"C\":{\"type\":\"Compose\",\"inputs\":2,\"runAfter\":{\"B\":[\"Succeeded\"]}},"
        "\"D\":{\"type\":\"Compose\",\"inputs\":\"@utcNow()\",\"runAfter\":{\"C\":[\"Skipped\"]}}";
    char json[2048];
    /* nobody handles A's failure: the run fails */
    snprintf(json, sizeof json, "{" TRIG ",\"actions\":{%s}}", actions);
    engine_run *run = start(def_text(json), NULL, T0);
    engine_work_list *w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(status_of(run, "A"), "Failed");
    ck_assert_str_eq(rec(run, "A").error_code, "InvalidTemplate");
    ck_assert_ptr_nonnull(strstr(rec(run, "A").error_message, "int() cannot convert the string 'x'"));
    ck_assert_str_eq(status_of(run, "B"), "Skipped");
    ck_assert_str_eq(status_of(run, "C"), "Skipped");
    ck_assert_str_eq(status_of(run, "D"), "Succeeded");
    ck_assert_str_eq(out_text(run, "D"), "\"2026-01-02T03:04:05.1230000Z\"");
    ck_assert_int_eq(engine_run_status(run), ENGINE_FAILED);
    const char *code, *msg;
    engine_run_error(run, &code, &msg);
    ck_assert_str_eq(code, "ActionFailed");
    ck_assert_str_eq(msg, "An action failed. No dependent actions succeeded.");
    engine_run_destroy(&run);

    /* E runs after A failed: handled, the run succeeds */
    snprintf(json, sizeof json, "{" TRIG ",\"actions\":{%s,\"E\":{\"type\":\"Compose\",\"inputs\":\"handled\","
             "\"runAfter\":{\"A\":[\"Failed\",\"TimedOut\"]}}}}", actions);
    run = start(def_text(json), NULL, T0);
    w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(status_of(run, "E"), "Succeeded");
    ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
    engine_run_destroy(&run);
}
END_TEST

START_TEST(test_condition_branches_and_terminate)
{
    /* amount over 100: the true branch runs and terminates Failed with its runError */
    engine_run *run = start(def_file("condition-terminate.json"), "{\"body\":{\"number\":150}}", T0);
    engine_work_list *w = step(run, T0 + 1);
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_status(run), ENGINE_FAILED);
    const char *code, *msg;
    engine_run_error(run, &code, &msg);
    ck_assert_str_eq(code, "AmountTooLarge");
    ck_assert_str_eq(msg, "Amount 150 is over the limit of 100");
    ck_assert_int_eq(rec(run, "Check_amount").branch, 1);
    ck_assert_str_eq(out_text(run, "Too_large"), "\"Amount 150 is over the limit of 100\"");
    ck_assert_str_eq(status_of(run, "Stop_failed"), "Succeeded");
    ck_assert_str_eq(status_of(run, "Accepted"), "Skipped");
    ck_assert_str_eq(status_of(run, "Stop_succeeded"), "Skipped");
    ck_assert_str_eq(status_of(run, "Check_amount"), "Cancelled"); /* ended by the Terminate inside it */
    engine_run_destroy(&run);

    /* amount 50: the else branch runs and terminates Succeeded */
    run = start(def_file("condition-terminate.json"), "{\"body\":{\"number\":50}}", T0);
    w = step(run, T0 + 1);
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
    ck_assert_int_eq(rec(run, "Check_amount").branch, 0);
    ck_assert_str_eq(out_text(run, "Accepted"), "\"Amount 50 accepted\"");
    ck_assert_str_eq(status_of(run, "Too_large"), "Skipped");
    ck_assert_str_eq(status_of(run, "Stop_failed"), "Skipped");
    engine_run_destroy(&run);

    /* a Condition without Terminate: it ends with its branch, then the next action runs */
    const char *json = "{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":\"@equals(triggerBody()?['go'], 'yes')\","
        "\"actions\":{\"Yes\":{\"type\":\"Compose\",\"inputs\":\"y\"},\"Bad\":{\"type\":\"Compose\",\"inputs\":\"@int('q')\","
        "\"runAfter\":{\"Yes\":[\"Succeeded\"]}}},\"else\":{\"actions\":{\"No\":{\"type\":\"Compose\",\"inputs\":\"n\"}}}},"
        "\"After\":{\"type\":\"Compose\",\"inputs\":\"after\",\"runAfter\":{\"C\":[\"Succeeded\"]}},"
        "\"OnFail\":{\"type\":\"Compose\",\"inputs\":\"cleanup\",\"runAfter\":{\"C\":[\"Failed\"]}}}}";
    run = start(def_text(json), "{\"body\":{\"go\":\"no\"}}", T0);
    w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(status_of(run, "C"), "Succeeded");
    ck_assert_str_eq(status_of(run, "No"), "Succeeded");
    ck_assert_str_eq(status_of(run, "Yes"), "Skipped");
    ck_assert_str_eq(status_of(run, "After"), "Succeeded");
    ck_assert_str_eq(status_of(run, "OnFail"), "Skipped");
    ck_assert_str_eq(out_text(run, "C"), "(none)");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(rec(run, "C").inputs, "expressionResult")));
    ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
    engine_run_destroy(&run);

    /* the true branch fails inside: the Condition fails, After is skipped, OnFail handles it */
    run = start(def_text(json), "{\"body\":{\"go\":\"yes\"}}", T0);
    w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(status_of(run, "Bad"), "Failed");
    ck_assert_str_eq(status_of(run, "C"), "Failed");
    ck_assert_str_eq(status_of(run, "No"), "Skipped");
    ck_assert_str_eq(status_of(run, "After"), "Skipped");
    ck_assert_str_eq(status_of(run, "OnFail"), "Succeeded");
    ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
    engine_run_destroy(&run);

    /* a condition that isn't a boolean fails the Condition */
    run = start(def_text("{" TRIG ",\"actions\":{\"C\":{\"type\":\"If\",\"expression\":\"@triggerBody()\"}}}"),
                "{\"body\":\"text\"}", T0);
    w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(status_of(run, "C"), "Failed");
    ck_assert_str_eq(rec(run, "C").error_code, "InvalidTemplate");
    ck_assert_int_eq(engine_run_status(run), ENGINE_FAILED);
    engine_run_destroy(&run);
}
END_TEST

START_TEST(test_http_two_runs_out_of_order)
{
    flowdef *d = def_file("http-action.json");
    engine_run *r1 = NULL, *r2 = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(engine_run_new(d, "{\"body\":{\"text\":\"1\"}}", T0, &r1, &e), 0);
    ck_assert_int_eq(engine_run_new(d, "{\"body\":{\"text\":\"2\"}}", T0 + 1, &r2, &e), 0);
    flowdef_destroy(&d); /* runs keep their own copies */
    engine_work_list *w1 = step(r1, T0 + 10), *w2 = step(r2, T0 + 11);
    ck_assert_uint_eq(w1->count, 1);
    ck_assert_uint_eq(w2->count, 1);
    ck_assert_int_eq(w1->items[0].kind, ENGINE_WORK_HTTP);
    ck_assert_str_eq(w1->items[0].action, "Get_order");
    ck_assert_str_eq(w1->items[0].method, "GET");
    ck_assert_str_eq(w1->items[0].uri, "http://127.0.0.1:18080/anything/orders/1");
    ck_assert_str_eq(w2->items[0].uri, "http://127.0.0.1:18080/anything/orders/2");
    ck_assert_str_eq(cJSON_GetObjectItem(w1->items[0].headers, "Accept")->valuestring, "application/json");
    ck_assert_str_eq(cJSON_GetObjectItem(w1->items[0].headers, "x-request-time")->valuestring,
                     "2026-01-02T03:04:05.1330000Z");
    ck_assert_str_eq(status_of(r1, "Get_order"), "Waiting");
    engine_work_list_destroy(&w1);
    engine_work_list_destroy(&w2);

    /* stepping again gives no new work while waiting */
    w1 = step(r1, T0 + 20);
    ck_assert_uint_eq(w1->count, 0);
    engine_work_list_destroy(&w1);

    /* run 2's answer comes first */
    complete(r2, "Get_order", ENGINE_SUCCEEDED, "{\"statusCode\":200,\"headers\":{},\"body\":{\"id\":2}}", T0 + 30);
    w2 = step(r2, T0 + 31);
    engine_work_list_destroy(&w2);
    ck_assert_int_eq(engine_run_status(r2), ENGINE_SUCCEEDED);
    ck_assert_str_eq(out_text(r2, "Order_status"), "{\"status\":200,\"order\":{\"id\":2}}");
    ck_assert_str_eq(status_of(r2, "Order_failed"), "Skipped");
    ck_assert_int_eq(engine_run_status(r1), ENGINE_RUNNING);

    /* then run 1's: a 500, mapped by the caller to Failed, handled by Order_failed */
    complete(r1, "Get_order", ENGINE_FAILED, "{\"statusCode\":500,\"body\":\"oops\"}", T0 + 40);
    w1 = step(r1, T0 + 41);
    engine_work_list_destroy(&w1);
    ck_assert_str_eq(status_of(r1, "Get_order"), "Failed");
    ck_assert_str_eq(rec(r1, "Get_order").error_code, "ActionFailed");
    ck_assert_str_eq(rec(r1, "Get_order").error_message, "it broke");
    ck_assert_int_eq(rec(r1, "Get_order").start_ms, T0 + 10);
    ck_assert_int_eq(rec(r1, "Get_order").end_ms, T0 + 40);
    ck_assert_str_eq(out_text(r1, "Order_failed"), "\"The HTTP call ended with 500\"");
    ck_assert_str_eq(status_of(r1, "Order_status"), "Skipped");
    ck_assert_int_eq(engine_run_status(r1), ENGINE_SUCCEEDED);

    /* late, unknown and bad answers are refused */
    ck_assert_int_eq(engine_complete(r1, "Get_order", ENGINE_SUCCEEDED, NULL, NULL, T0, &e), CMK_ESTATE);
    ck_assert_int_eq(engine_complete(r1, "Nope", ENGINE_SUCCEEDED, NULL, NULL, T0, &e), CMK_ENOENT);
    engine_run_destroy(&r1);
    engine_run_destroy(&r2);

    /* a timeout is its own status */
    r1 = start(def_file("http-action.json"), NULL, T0);
    w1 = step(r1, T0);
    ck_assert_int_eq(engine_complete(r1, "Get_order", ENGINE_SKIPPED, NULL, NULL, T0, &e), CMK_EINVAL);
    ck_assert_int_eq(engine_complete(r1, "Get_order", ENGINE_SUCCEEDED, "{bad", NULL, T0, &e), CMK_EINVAL);
    complete(r1, "Get_order", ENGINE_TIMEDOUT, NULL, T0 + 100);
    engine_work_list_destroy(&w1);
    w1 = step(r1, T0 + 100);
    engine_work_list_destroy(&w1);
    ck_assert_str_eq(rec(r1, "Get_order").error_code, "ActionTimedOut");
    ck_assert_str_eq(out_text(r1, "Order_failed"), "\"The HTTP call ended with \"");
    engine_run_destroy(&r1);
}
END_TEST

START_TEST(test_child_flow_and_response)
{
    engine_run *parent = start(def_file("child-parent.json"), "{\"body\":{\"number\":21}}", T0);
    engine_work_list *w = step(parent, T0);
    ck_assert_uint_eq(w->count, 1);
    ck_assert_int_eq(w->items[0].kind, ENGINE_WORK_CHILD_FLOW);
    ck_assert_str_eq(w->items[0].child_flow, "child-child");
    char *body = cJSON_PrintUnformatted(w->items[0].body);
    ck_assert_str_eq(body, "{\"number\":21}");

    /* the caller runs the child with the body as its trigger */
    char trigger[256];
    snprintf(trigger, sizeof trigger, "{\"headers\":{},\"body\":%s}", body);
    free(body);
    engine_run *child = start(def_file("child-child.json"), trigger, T0 + 1);
    engine_work_list *cw = step(child, T0 + 2);
    ck_assert_uint_eq(cw->count, 0);
    engine_work_list_destroy(&cw);
    ck_assert_int_eq(engine_run_status(child), ENGINE_SUCCEEDED);
    int sc = 0;
    const cJSON *hdrs = NULL, *rbody = NULL;
    ck_assert(engine_run_response(child, &sc, &hdrs, &rbody));
    ck_assert_int_eq(sc, 200);
    char *text = cJSON_PrintUnformatted(rbody);
    ck_assert_str_eq(text, "{\"result\":42}");
    free(text);
    ck_assert_str_eq(out_text(child, "Respond_to_a_PowerApp_or_flow"), "{\"statusCode\":200,\"headers\":{},\"body\":{\"result\":42}}");

    /* its Response is the parent's answer */
    complete(parent, w->items[0].action, ENGINE_SUCCEEDED, out_text(child, "Respond_to_a_PowerApp_or_flow"), T0 + 3);
    engine_work_list_destroy(&w);
    w = step(parent, T0 + 4);
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_status(parent), ENGINE_SUCCEEDED);
    ck_assert_str_eq(out_text(parent, "Report"), "\"The child answered 42\"");
    ck_assert(!engine_run_response(parent, NULL, NULL, NULL));
    engine_run_destroy(&child);
    engine_run_destroy(&parent);

    /* an HTTP-triggered flow echoes its caller */
    engine_run *echo = start(def_file("http-trigger-echo.json"), "{\"headers\":{\"a\":\"b\"},\"body\":{\"message\":\"hi\"}}", T0);
    w = step(echo, T0);
    engine_work_list_destroy(&w);
    ck_assert(engine_run_response(echo, &sc, &hdrs, &rbody));
    text = cJSON_PrintUnformatted(rbody);
    ck_assert_str_eq(text, "{\"youSent\":{\"message\":\"hi\"},\"message\":\"hi\"}");
    free(text);
    ck_assert_str_eq(cJSON_GetObjectItem(hdrs, "Content-Type")->valuestring, "application/json");
    engine_run_destroy(&echo);

    /* only one Response per run */
    echo = start(def_text("{" TRIG ",\"actions\":{\"R1\":{\"type\":\"Response\",\"inputs\":{\"statusCode\":201}},"
                          "\"R2\":{\"type\":\"Response\",\"inputs\":{\"statusCode\":\"@add(200, 2)\",\"body\":\"x\"},"
                          "\"runAfter\":{\"R1\":[\"Succeeded\"]}}}}"), NULL, T0);
    w = step(echo, T0);
    engine_work_list_destroy(&w);
    ck_assert_str_eq(rec(echo, "R2").error_code, "ResponseAlreadySent");
    ck_assert(engine_run_response(echo, &sc, NULL, NULL));
    ck_assert_int_eq(sc, 201);
    ck_assert_int_eq(engine_run_status(echo), ENGINE_FAILED);
    engine_run_destroy(&echo);
}
END_TEST

START_TEST(test_list_flows_as_admin)
{
    for (int v = 1; v <= 2; v++) {
        engine_run *run = start(def_file(v == 1 ? "list-flows-admin-v1.json" : "list-flows-admin-v2.json"), NULL, T0);
        engine_work_list *w = step(run, T0);
        ck_assert_uint_eq(w->count, 1);
        ck_assert_int_eq(w->items[0].kind, ENGINE_WORK_LIST_FLOWS);
        ck_assert_int_eq(w->items[0].list_flows_version, v);
        ck_assert_str_eq(cJSON_GetObjectItem(w->items[0].parameters, "environmentName")->valuestring, "Default");
        complete(run, w->items[0].action, ENGINE_SUCCEEDED,
                 "{\"statusCode\":200,\"body\":{\"value\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}", T0 + 1);
        engine_work_list_destroy(&w);
        w = step(run, T0 + 2);
        engine_work_list_destroy(&w);
        ck_assert_str_eq(out_text(run, "Flow_count"), "3");
        ck_assert_int_eq(engine_run_status(run), ENGINE_SUCCEEDED);
        engine_run_destroy(&run);
    }
}
END_TEST

START_TEST(test_terminate_cancels_waiting_and_cancel)
{
    engine_run *run = start(def_text("{" TRIG ",\"actions\":{\"H\":{\"type\":\"Http\",\"inputs\":{\"method\":\"POST\","
        "\"uri\":\"http://127.0.0.1:18080/slow\",\"body\":{\"a\":1}}},\"Stop\":{\"type\":\"Terminate\",\"inputs\":"
        "{\"runStatus\":\"Cancelled\"}},\"Later\":{\"type\":\"Compose\",\"inputs\":1,\"runAfter\":{\"H\":[\"Succeeded\"]}}}}"),
        NULL, T0);
    engine_work_list *w = step(run, T0);
    ck_assert_uint_eq(w->count, 1); /* H started before Stop ended the run */
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_status(run), ENGINE_CANCELLED);
    ck_assert_str_eq(status_of(run, "H"), "Cancelled");
    ck_assert_str_eq(status_of(run, "Later"), "NotStarted");
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(engine_complete(run, "H", ENGINE_SUCCEEDED, NULL, NULL, T0, &e), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(e.msg, "is not waiting"));
    w = step(run, T0); /* an ended run does nothing */
    ck_assert_uint_eq(w->count, 0);
    engine_work_list_destroy(&w);
    engine_run_destroy(&run);

    run = start(def_file("http-action.json"), NULL, T0);
    w = step(run, T0);
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_cancel(run, T0 + 9, &e), 0);
    ck_assert_int_eq(engine_run_status(run), ENGINE_CANCELLED);
    ck_assert_str_eq(status_of(run, "Get_order"), "Cancelled");
    ck_assert_int_eq(engine_run_cancel(run, T0 + 9, &e), CMK_ESTATE);
    engine_run_destroy(&run);

    /* bad trigger outputs */
    flowdef *d = def_file("http-action.json");
    ck_assert_int_eq(engine_run_new(d, "[1]", T0, &run, &e), CMK_EINVAL);
    ck_assert_ptr_null(run);
    flowdef_destroy(&d);
}
END_TEST

START_TEST(test_save_and_resume_mid_run)
{
    engine_run *run = start(def_file("http-action.json"), "{\"body\":{\"text\":\"7\"}}", T0);
    engine_work_list *w = step(run, T0 + 1);
    engine_work_list_destroy(&w);
    char *saved = NULL, *again = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(engine_run_set_definition(run, "flow-orders", 1234), 0);
    ck_assert_int_eq(engine_run_to_json(run, &saved, &e), 0);
    /* the record names its definition (flow and version) instead of carrying a copy */
    ck_assert_ptr_null(strstr(saved, "\"definition\""));
    ck_assert_ptr_nonnull(strstr(saved, "\"definitionRef\":{\"flow\":\"flow-orders\",\"version\":1234}"));
    {   /* integers are printed exactly, at both ends of their range */
        static const struct { int64_t v; const char *text; } ints[] = {
            { 0, "\"version\":0}" }, { -7, "\"version\":-7}" },
            { INT64_MAX, "\"version\":9223372036854775807}" }, { INT64_MIN, "\"version\":-9223372036854775808}" } };
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            char *text = NULL;
            ck_assert_int_eq(engine_run_set_definition(run, "flow-orders", ints[i].v), 0);
            ck_assert_int_eq(engine_run_to_json(run, &text, &e), 0);
            ck_assert_msg(strstr(text, ints[i].text) != NULL, "%s not in %s", ints[i].text, text);
            free(text);
        }
        ck_assert_int_eq(engine_run_set_definition(run, "flow-orders", 1234), 0);
    }

    /* "crash": only the saved text survives, and the flow's definition */
    engine_run *back = NULL;
    ck_assert_int_eq(engine_run_from_json(NULL, saved, strlen(saved), &back, &e), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "flow flow-orders, version 1234"));
    ck_assert_msg(engine_run_from_json(engine_run_def(run), saved, strlen(saved), &back, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(engine_run_to_json(back, &again, &e), 0);
    ck_assert_str_eq(saved, again);
    free(again);
    ck_assert_int_eq(engine_run_status(back), ENGINE_RUNNING);
    ck_assert_int_eq(engine_run_waiting(back, &w, &e), 0);
    ck_assert_uint_eq(w->count, 1);
    ck_assert_str_eq(w->items[0].uri, "http://127.0.0.1:18080/anything/orders/7");
    engine_work_list_destroy(&w);

    /* both copies finish the same way */
    const char *answer = "{\"statusCode\":200,\"body\":{\"id\":7}}";
    complete(run, "Get_order", ENGINE_SUCCEEDED, answer, T0 + 50);
    complete(back, "Get_order", ENGINE_SUCCEEDED, answer, T0 + 50);
    w = step(run, T0 + 51);
    engine_work_list_destroy(&w);
    w = step(back, T0 + 51);
    engine_work_list_destroy(&w);
    char *a = NULL, *b = NULL;
    ck_assert_int_eq(engine_run_to_json(run, &a, &e), 0);
    ck_assert_int_eq(engine_run_to_json(back, &b, &e), 0);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(engine_run_status(back), ENGINE_SUCCEEDED);
    ck_assert_str_eq(out_text(back, "Order_status"), "{\"status\":200,\"order\":{\"id\":7}}");
    free(a);
    free(b);
    engine_run_destroy(&back);

    /* a finished run with a Response round-trips too */
    engine_run *echo = start(def_file("http-trigger-echo.json"), "{\"body\":{\"message\":\"m\"}}", T0);
    w = step(echo, T0);
    engine_work_list_destroy(&w);
    ck_assert_int_eq(engine_run_to_json(echo, &a, &e), 0);
    ck_assert_int_eq(engine_run_from_json(engine_run_def(echo), a, strlen(a), &back, &e), 0);
    ck_assert(engine_run_response(back, NULL, NULL, NULL));
    ck_assert_int_eq(engine_run_to_json(back, &b, &e), 0);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    engine_run_destroy(&back);
    engine_run_destroy(&echo);

    /* damaged saves are refused */
    ck_assert_int_eq(engine_run_from_json(engine_run_def(run), "{", 1, &back, &e), CMK_EINVAL);
    ck_assert_ptr_null(back);
    char *bad = strdup(saved), *p = strstr(bad, "\"name\":\"Order_status\"");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "\"name\":\"Order_statuX\"", 21);
    ck_assert_int_eq(engine_run_from_json(engine_run_def(run), bad, strlen(bad), &back, &e), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "saved run: action 1 is not 'Order_status'"));
    free(bad);

    /* a record of format 1 (an older build) carried its own copy of the definition: it loads alone */
    {
        cJSON *v1 = cJSON_Parse(saved), *d = NULL;
        char *dtext = NULL, *v1text;
        ck_assert_int_eq(flowdef_to_json(engine_run_def(run), &dtext, &e), 0);
        d = cJSON_Parse(dtext);
        cJSON_ReplaceItemInObject(v1, "version", cJSON_CreateNumber(1));
        cJSON_DeleteItemFromObject(v1, "definitionRef");
        cJSON_AddItemToObject(v1, "definition", d);
        v1text = cJSON_PrintUnformatted(v1);
        ck_assert_msg(engine_run_from_json(NULL, v1text, strlen(v1text), &back, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(engine_run_status(back), ENGINE_RUNNING);
        ck_assert_uint_eq(engine_run_record_count(back), engine_run_record_count(run));
        engine_run_destroy(&back);
        cJSON_DeleteItemFromObject(v1, "definition");
        free(v1text);
        v1text = cJSON_PrintUnformatted(v1);
        ck_assert_int_eq(engine_run_from_json(NULL, v1text, strlen(v1text), &back, &e), CMK_EINVAL);
        free(v1text);
        free(dtext);
        cJSON_Delete(v1);
    }
    free(saved);
    engine_run_destroy(&run);
}
END_TEST

START_TEST(test_status_names)
{
    engine_status s;
    ck_assert_str_eq(engine_status_name(ENGINE_TIMEDOUT), "TimedOut");
    ck_assert_int_eq(engine_status_parse("Skipped", &s), 0);
    ck_assert_int_eq(s, ENGINE_SKIPPED);
    ck_assert_int_eq(engine_status_parse("Done", &s), CMK_EINVAL);
    ck_assert_str_eq(engine_status_name((engine_status)42), "Unknown");
}
END_TEST

/* engine_suite - every case above */
static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_diamond_order);
    tcase_add_test(tc, test_failed_skipped_propagation);
    tcase_add_test(tc, test_condition_branches_and_terminate);
    tcase_add_test(tc, test_http_two_runs_out_of_order);
    tcase_add_test(tc, test_child_flow_and_response);
    tcase_add_test(tc, test_list_flows_as_admin);
    tcase_add_test(tc, test_terminate_cancels_waiting_and_cancel);
    tcase_add_test(tc, test_save_and_resume_mid_run);
    tcase_add_test(tc, test_status_names);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(engine_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
