/*
 * jschema_test.c - the Request trigger's JSON schema subset: checking a schema (first problem
 * named by its path) and matching bodies (first mismatch named by its path): type, required,
 * properties, additionalProperties, items, enum, nesting.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/jschema.h"

/* check_schema - jschema_check of a JSON text; err filled */
static int check_schema(const char *text, cmk_err *err)
{
    cJSON *s = cJSON_Parse(text);
    int rc;
    ck_assert_ptr_nonnull(s);
    rc = jschema_check(s, err);
    cJSON_Delete(s);
    return rc;
}

/* match - jschema_validate of two JSON texts; why filled */
static int match(const char *schema, const char *value, char *why, size_t cap)
{
    cJSON *s = cJSON_Parse(schema), *v = cJSON_Parse(value);
    int rc;
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(v);
    why[0] = '\0';
    rc = jschema_validate(s, v, "body", why, cap);
    cJSON_Delete(s);
    cJSON_Delete(v);
    return rc;
}

START_TEST(test_check_accepts_the_subset)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(check_schema("{\"type\":\"object\",\"title\":\"t\",\"properties\":{\"a\":{\"type\":\"string\"},"
                                  "\"b\":{\"type\":[\"integer\",\"null\"]},\"c\":{\"type\":\"array\",\"items\":"
                                  "{\"type\":\"number\"}}},\"required\":[\"a\"],\"additionalProperties\":false}",
                                  &err),
                     0);
    ck_assert_int_eq(check_schema("{}", &err), 0);
}
END_TEST

START_TEST(test_check_names_the_problem)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(check_schema("[]", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema: a schema must be a JSON object"));
    ck_assert_int_eq(check_schema("{\"properties\":{\"id\":{\"type\":\"int\"}}}", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema.properties.id.type: unknown type 'int'"));
    ck_assert_int_eq(check_schema("{\"required\":\"id\"}", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema.required"));
    ck_assert_int_eq(check_schema("{\"required\":[1]}", &err), CMK_EINVAL);
    ck_assert_int_eq(check_schema("{\"type\":[\"string\",3]}", &err), CMK_EINVAL);
    ck_assert_int_eq(check_schema("{\"properties\":[]}", &err), CMK_EINVAL);
    ck_assert_int_eq(check_schema("{\"additionalProperties\":1}", &err), CMK_EINVAL);
    ck_assert_int_eq(check_schema("{\"items\":{\"type\":\"nope\"}}", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema.items.type"));
    ck_assert_int_eq(check_schema("{\"enum\":[]}", &err), CMK_EINVAL);
}
END_TEST

START_TEST(test_check_depth_is_bounded)
{
    cmk_err err = CMK_ERR_INIT;
    char text[4096] = "";
    for (int i = 0; i < JSCHEMA_MAX_DEPTH + 2; i++)
        strcat(text, "{\"items\":");
    strcat(text, "{}");
    for (int i = 0; i < JSCHEMA_MAX_DEPTH + 2; i++)
        strcat(text, "}");
    ck_assert_int_eq(check_schema(text, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "deeper than"));
}
END_TEST

START_TEST(test_types)
{
    char why[256];
    ck_assert_int_eq(match("{\"type\":\"object\"}", "{}", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":\"object\"}", "[1]", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: expected object, got array");
    ck_assert_int_eq(match("{\"type\":\"integer\"}", "3", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":\"integer\"}", "3.5", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: expected integer, got number");
    ck_assert_int_eq(match("{\"type\":\"number\"}", "3", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":\"string\"}", "\"x\"", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":\"string\"}", "true", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: expected string, got boolean");
    ck_assert_int_eq(match("{\"type\":\"boolean\"}", "false", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":\"null\"}", "null", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":[\"string\",\"null\"]}", "null", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"type\":[\"string\",\"null\"]}", "1", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: expected string or null, got integer");
    ck_assert_int_eq(match("{}", "[1,{\"a\":2}]", why, sizeof why), 0);
}
END_TEST

START_TEST(test_required_and_properties)
{
    char why[256];
    const char *s = "{\"type\":\"object\",\"required\":[\"customer\"],\"properties\":{\"customer\":{\"type\":\"object\","
                    "\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\","
                    "\"items\":{\"type\":\"string\"}}}}}}";
    ck_assert_int_eq(match(s, "{\"customer\":{\"id\":7,\"tags\":[\"a\",\"b\"]},\"extra\":1}", why, sizeof why), 0);
    ck_assert_int_eq(match(s, "{}", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: missing required property 'customer'");
    ck_assert_int_eq(match(s, "{\"customer\":{}}", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body.customer: missing required property 'id'");
    ck_assert_int_eq(match(s, "{\"customer\":{\"id\":\"7\"}}", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body.customer.id: expected integer, got string");
    ck_assert_int_eq(match(s, "{\"customer\":{\"id\":7,\"tags\":[\"a\",2]}}", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body.customer.tags[1]: expected string, got integer");
}
END_TEST

START_TEST(test_additional_properties_and_enum)
{
    char why[256];
    ck_assert_int_eq(match("{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1,\"b\":2}", why,
                           sizeof why),
                     CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "body: property 'b' is not allowed"));
    ck_assert_int_eq(match("{\"additionalProperties\":{\"type\":\"string\"}}", "{\"x\":\"y\"}", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"additionalProperties\":{\"type\":\"string\"}}", "{\"x\":1}", why, sizeof why),
                     CMK_EINVAL);
    ck_assert_str_eq(why, "body.x: expected string, got integer");
    ck_assert_int_eq(match("{\"enum\":[\"red\",\"green\"]}", "\"red\"", why, sizeof why), 0);
    ck_assert_int_eq(match("{\"enum\":[\"red\",\"green\"]}", "\"blue\"", why, sizeof why), CMK_EINVAL);
    ck_assert_str_eq(why, "body: must be one of [\"red\",\"green\"]");
}
END_TEST

/* jschema_suite - every case above */
static Suite *jschema_suite(void)
{
    Suite *s = suite_create("jschema");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_check_accepts_the_subset);
    tcase_add_test(tc, test_check_names_the_problem);
    tcase_add_test(tc, test_check_depth_is_bounded);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_required_and_properties);
    tcase_add_test(tc, test_additional_properties_and_enum);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(jschema_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
