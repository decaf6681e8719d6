/*
 * flowexpr_test.c - the expression language: every function, property access, interpolation,
 * escapes, checking with references, and errors that name the expression and the column.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowexpr.h"

/* 2026-01-02T03:04:05.123Z */
#define NOW_MS 1767323045123LL

static cJSON *g_trigger; /* trigger outputs used by every test */
static cJSON *g_actions; /* name -> {"outputs":..,"body":..} for the lookup */
static cJSON *g_params;  /* parameters */
static cJSON *g_vars;    /* variables */

/* lookup - action outputs from g_actions */
static int lookup(void *arg, const char *action, const cJSON **outputs, const cJSON **body,
                  cmk_err *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(g_actions, action);
    if (!a)
        return cmk_err_set(err, CMK_ENOENT, "action '%s' has not run", action);
    *outputs = cJSON_GetObjectItemCaseSensitive(a, "outputs");
    *body = cJSON_GetObjectItemCaseSensitive(a, "body");
    return 0;
}

/* setup - the shared context */
static void setup(void)
{
    g_trigger = cJSON_Parse("{\"headers\":{\"x-id\":\"h1\"},\"body\":{\"name\":\"Ada\",\"n\":7,"
                            "\"list\":[10,20,30],\"nested\":{\"deep\":true},\"nothing\":null}}");
    g_actions = cJSON_Parse("{\"Compose\":{\"outputs\":{\"a\":1,\"body\":\"x\"},\"body\":{\"a\":1,\"body\":\"x\"}},"
                            "\"HTTP\":{\"outputs\":{\"statusCode\":200,\"body\":{\"ok\":\"yes\"}},"
                            "\"body\":{\"ok\":\"yes\"}}}");
    g_params = cJSON_Parse("{\"region\":\"westeurope\"}");
    g_vars = cJSON_Parse("{\"count\":3}");
}

/* teardown - free the shared context */
static void teardown(void)
{
    cJSON_Delete(g_trigger);
    cJSON_Delete(g_actions);
    cJSON_Delete(g_params);
    cJSON_Delete(g_vars);
}

/* ctx - a context over the shared values */
static flowexpr_ctx ctx(void)
{
    flowexpr_ctx c = { .trigger_outputs = g_trigger, .parameters = g_params, .variables = g_vars,
                       .lookup = lookup, .lookup_arg = NULL, .now_ms = NOW_MS };
    return c;
}

/* eval_text - evaluate and print compactly (caller frees); NULL on error, message in err */
static char *eval_text(const char *text, cmk_err *err)
{
    flowexpr_ctx c = ctx();
    cJSON *v = NULL;
    if (flowexpr_eval_string(text, &c, &v, err) < 0)
        return NULL;
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return s;
}

/* expect - text evaluates to the JSON json */
#define expect(text, json)                                                                         \
    do {                                                                                           \
        cmk_err e_ = CMK_ERR_INIT;                                                                 \
        char *got_ = eval_text(text, &e_);                                                         \
        ck_assert_msg(got_ != NULL, "%s failed: %s", text, e_.msg);                               \
        ck_assert_str_eq(got_, json);                                                              \
        free(got_);                                                                                \
    } while (0)

/* expect_err - text fails with a message containing part */
#define expect_err(text, part)                                                                     \
    do {                                                                                           \
        cmk_err e_ = CMK_ERR_INIT;                                                                 \
        char *got_ = eval_text(text, &e_);                                                         \
        ck_assert_msg(got_ == NULL, "%s should fail, gave %s", text, got_ ? got_ : "");           \
        ck_assert_int_eq(e_.code, CMK_EINVAL);                                                     \
        ck_assert_msg(strstr(e_.msg, part) != NULL, "%s: '%s' lacks '%s'", text, e_.msg, part);   \
    } while (0)

START_TEST(test_literals_and_escapes)
{
    expect("hello", "\"hello\"");
    expect("", "\"\"");
    expect("mail ada@example.com", "\"mail ada@example.com\"");
    expect("@@starts with at", "\"@starts with at\"");
    expect("keep @@{this}", "\"keep @{this}\"");
    expect("@@{this}", "\"@{this}\"");
    expect("@'quoted ''x'''", "\"quoted 'x'\"");
    expect("@true", "true");
    expect("@null", "null");
    expect("@-4.5", "-4.5");
}
END_TEST

START_TEST(test_functions)
{
    expect("@concat('a', 'b', 1, true)", "\"ab1True\"");
    expect("@string(12)", "\"12\"");
    expect("@string(1.5)", "\"1.5\"");
    expect("@string(false)", "\"False\"");
    expect("@string(triggerBody()['list'])", "\"[10,20,30]\"");
    expect("@int('42')", "42");
    expect("@int(-3)", "-3");
    expect("@float('2.5')", "2.5");
    expect("@json('{\"a\":[1]}')['a'][0]", "1");
    expect("@add(1, 2)", "3");
    expect("@add(1.5, 2)", "3.5");
    expect("@sub(1, 2)", "-1");
    expect("@mul(3, 4)", "12");
    expect("@div(7, 2)", "3");
    expect("@div(7.5, 2.5)", "3");
    expect("@mod(7, 3)", "1");
    expect("@equals(1, 1)", "true");
    expect("@equals('a', 'A')", "false");
    expect("@equals(triggerBody()['list'], json('[10,20,30]'))", "true");
    expect("@not(true)", "false");
    expect("@and(true, true, false)", "false");
    expect("@and(true, true)", "true");
    expect("@or(false, true)", "true");
    expect("@or(false, false)", "false");
    expect("@greater(2, 1)", "true");
    expect("@greater(1, 1)", "false");
    expect("@greaterOrEquals(1, 1)", "true");
    expect("@less('a', 'b')", "true");
    expect("@lessOrEquals(2, 1)", "false");
    expect("@coalesce(null, triggerBody()?['nope'], 'x', 'y')", "\"x\"");
    expect("@coalesce(null)", "null");
    expect("@if(equals(1, 2), 'yes', 'no')", "\"no\"");
    expect("@empty('')", "true");
    expect("@empty(triggerBody()['list'])", "false");
    expect("@empty(null)", "true");
    expect("@length('h\xc3\xa9llo')", "5");
    expect("@length(triggerBody())", "5");
    expect("@toLower('AbC')", "\"abc\"");
    expect("@toUpper('AbC')", "\"ABC\"");
    expect("@contains('haystack', 'st')", "true");
    expect("@contains(triggerBody()['list'], 20)", "true");
    expect("@contains(triggerBody(), 'name')", "true");
    expect("@startsWith('haystack', 'hay')", "true");
    expect("@endsWith('haystack', 'hay')", "false");
    expect("@parameters('region')", "\"westeurope\"");
    expect("@variables('count')", "3");
}
END_TEST

START_TEST(test_utcnow_uses_context_time)
{
    expect("@utcNow()", "\"2026-01-02T03:04:05.1230000Z\"");
    expect("@utcNow('o')", "\"2026-01-02T03:04:05.1230000Z\"");
    expect("@utcNow('s')", "\"2026-01-02T03:04:05\"");
    expect("@utcNow('yyyy-MM-dd')", "\"2026-01-02\"");
    expect("@utcNow('HH:mm:ss.fff')", "\"03:04:05.123\"");
}
END_TEST

START_TEST(test_trigger_and_actions)
{
    expect("@triggerBody()['name']", "\"Ada\"");
    expect("@triggerBody().name", "\"Ada\"");
    expect("@triggerBody()?['NAME']", "\"Ada\"");
    expect("@triggerBody()['nested']['deep']", "true");
    expect("@triggerBody().nested.deep", "true");
    expect("@triggerBody()?['missing']?['deeper']", "null");
    expect("@triggerBody()['list'][1]", "20");
    expect("@triggerBody()?['list']?[9]", "null");
    expect("@triggerOutputs()['headers']['x-id']", "\"h1\"");
    expect("@body('HTTP')?['ok']", "\"yes\"");
    expect("@outputs('HTTP')['statusCode']", "200");
    expect("@outputs('Compose').a", "1");
    expect("@body('Compose')['body']", "\"x\"");
}
END_TEST

START_TEST(test_interpolation)
{
    expect("Hello @{triggerBody()['name']}!", "\"Hello Ada!\"");
    expect("n=@{add(1, 2)} m=@{triggerBody()?['n']}", "\"n=3 m=7\"");
    expect("@{triggerBody()['nested']}", "\"{\\\"deep\\\":true}\"");
    expect("[@{triggerBody()['nothing']}]", "\"[]\"");
    expect("@{true}", "\"True\"");
    expect("a}@{'}'}b", "\"a}}b\"");
}
END_TEST

START_TEST(test_parse_errors_name_column)
{
    cmk_err e = CMK_ERR_INIT;
    flowexpr *x = NULL;
    ck_assert_int_eq(flowexpr_parse("@concat('a'", &x, &e), CMK_EINVAL);
    ck_assert_ptr_null(x);
    ck_assert_str_eq(e.msg, "expression '@concat('a'' at column 12: expected ',' or ')' in the "
                            "arguments of concat()");
    ck_assert_int_eq(flowexpr_parse("@foo()", &x, &e), CMK_EINVAL);
    ck_assert_str_eq(e.msg, "expression '@foo()' at column 2: unknown function 'foo'");
    expect_err("@add(1)", "add() takes 2 arguments, got 1");
    expect_err("@utcNow('o', 1)", "utcNow() takes up to 1 argument, got 2");
    expect_err("@concat()", "concat() takes at least 1 argument, got 0");
    expect_err("@'abc", "column 2: unterminated string literal");
    expect_err("x @{add(1,2) y", "column 14: expected '}' to close the '@{' at column 3");
    expect_err("@add(1,2) x", "column 11: unexpected 'x' after the end of the expression");
    expect_err("@", "column 2: expected a value, a 'string' or a function call, found the end");
    expect_err("@name", "unknown name 'name'");
    expect_err("@triggerBody()?", "expected '[' or '.' after '?'");
    expect_err("@triggerBody()[1", "expected ']'");
    expect_err("@triggerBody().", "expected a property name after '.'");
    expect_err("@add(1 2)", "expected ',' or ')'");
    char deep[400] = "@";
    for (int i = 0; i < 70; i++)
        strcat(deep, "not(");
    strcat(deep, "true");
    for (int i = 0; i < 70; i++)
        strcat(deep, ")");
    expect_err(deep, "nested more than 64 levels deep");
}
END_TEST

START_TEST(test_eval_errors)
{
    expect_err("@triggerBody()['missing']",
               "expression '@triggerBody()['missing']' at column 15: property 'missing' doesn't exist, "
               "available properties are 'name, n, list, nested, nothing'");
    expect_err("@triggerBody()['list'][5]", "index 5 is out of range (the array has 3 items)");
    expect_err("@triggerBody()['name']['x']", "cannot select [x] from a string");
    expect_err("@int('4x')", "int() cannot convert the string '4x' to an integer");
    expect_err("@int(1.5)", "int() cannot convert a number to an integer");
    expect_err("@add('1', 2)", "add() takes two numbers, got a string and a number");
    expect_err("@div(1, 0)", "div() by zero");
    expect_err("@not('x')", "not() takes boolean, got a string");
    expect_err("@greater('a', 1)", "cannot compare a string with a number");
    expect_err("@body('Nope')", "action 'Nope' has not run");
    expect_err("@parameters('nope')", "parameter 'nope' is not defined");
    expect_err("@variables('nope')", "variable 'nope' is not defined");
    expect_err("@json('{')", "not valid JSON");
    expect_err("@length(1)", "length() takes a string, array or object, got a number");
    expect_err("@contains(1, 2)", "contains() cannot look for a number in a number");
    expect_err("x @{triggerBody()['zz']} y", "column 18: property 'zz' doesn't exist");

    /* no lookup at all: nothing has run */
    flowexpr_ctx empty = { 0 };
    cmk_err e = CMK_ERR_INIT;
    cJSON *v = NULL;
    ck_assert_int_eq(flowexpr_eval_string("@body('A')", &empty, &v, &e), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "action 'A' has not run"));
    ck_assert_int_eq(flowexpr_eval_string("@triggerBody()", &empty, &v, &e), 0);
    ck_assert(cJSON_IsNull(v));
    cJSON_Delete(v);
}
END_TEST

START_TEST(test_eval_json_recursive)
{
    cJSON *in = cJSON_Parse("{\"a\":\"@add(1,2)\",\"b\":[\"@{concat('x')}\",5,null,{\"@k\":\"v @{triggerBody()['n']}\"}]}");
    flowexpr_ctx c = ctx();
    cmk_err e = CMK_ERR_INIT;
    cJSON *out = NULL;
    ck_assert_int_eq(flowexpr_eval_json(in, &c, &out, &e), 0);
    char *s = cJSON_PrintUnformatted(out);
    ck_assert_str_eq(s, "{\"a\":3,\"b\":[\"x\",5,null,{\"@k\":\"v 7\"}]}");
    free(s);
    cJSON_Delete(out);
    cJSON_Delete(in);
}
END_TEST

/* refuse_b - a reference check that knows only action 'A' */
static int refuse_b(void *arg, const char *fn, const char *action, cmk_err *err)
{
    int *count = arg;
    (*count)++;
    if (strcmp(action, "A") != 0)
        return cmk_err_set(err, CMK_EINVAL, "unknown action '%s' in %s('%s')", action, fn, action);
    return 0;
}

START_TEST(test_check_json_paths_and_refs)
{
    cJSON *in = cJSON_Parse("{\"x\":{\"y\":[\"ok\",\"@bad(\"]}}");
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(flowexpr_check_json(in, "actions.C.inputs", NULL, NULL, &e), CMK_EINVAL);
    ck_assert_str_eq(e.msg, "actions.C.inputs.x.y[1]: expression '@bad(' at column 2: unknown function 'bad'");
    cJSON_Delete(in);

    int count = 0;
    in = cJSON_Parse("{\"u\":\"@body('A')?['x']\",\"v\":\"n @{outputs('B')} m\"}");
    ck_assert_int_eq(flowexpr_check_json(in, "inputs", refuse_b, &count, &e), CMK_EINVAL);
    ck_assert_str_eq(e.msg, "inputs.v: unknown action 'B' in outputs('B')");
    ck_assert_int_eq(count, 2);
    cJSON_Delete(in);

    flowexpr *x = NULL;
    count = 0;
    ck_assert_int_eq(flowexpr_parse("@concat(body('A'), body(concat('d','yn')))", &x, &e), 0);
    ck_assert_int_eq(flowexpr_refs(x, refuse_b, &count, &e), 0);
    ck_assert_int_eq(count, 1); /* a computed name can't be checked */
    flowexpr_destroy(&x);
    flowexpr_destroy(&x); /* NULL is fine */
    ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_to_text)
{
    cJSON *v = cJSON_Parse("[null,true,false,3,2.25,\"s\",{\"a\":[1]}]");
    const char *want[] = { "", "True", "False", "3", "2.25", "s", "{\"a\":[1]}" };
    for (int i = 0; i < 7; i++) {
        char *t = flowexpr_to_text(cJSON_GetArrayItem(v, i));
        ck_assert_str_eq(t, want[i]);
        free(t);
    }
    cJSON_Delete(v);
}
END_TEST

/* flowexpr_suite - every case above */
static Suite *flowexpr_suite(void)
{
    Suite *s = suite_create("flowexpr");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_literals_and_escapes);
    tcase_add_test(tc, test_functions);
    tcase_add_test(tc, test_utcnow_uses_context_time);
    tcase_add_test(tc, test_trigger_and_actions);
    tcase_add_test(tc, test_interpolation);
    tcase_add_test(tc, test_parse_errors_name_column);
    tcase_add_test(tc, test_eval_errors);
    tcase_add_test(tc, test_eval_json_recursive);
    tcase_add_test(tc, test_check_json_paths_and_refs);
    tcase_add_test(tc, test_to_text);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(flowexpr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
