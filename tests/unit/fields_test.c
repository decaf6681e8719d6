/*
 * fields_test.c - typed request fields (rule BAD-7, issue 17): every accessor of
 * common/fields.h takes what its type allows and refuses the rest with EINVAL naming the field
 * and what it takes (strings: length in characters, valid UTF-8; booleans; whole numbers within
 * a range or a set, never a cast of a double out of range; enums; durations; times; objects,
 * arrays, lists of strings); the wire-text check refuses deep nesting, invalid UTF-8 and NUL
 * (naming the member), the tree walk refuses duplicate members; the wire decoder does both for
 * request types; every row of the operation table declares its fields (common/op_fields.c),
 * the typed getters read only what is declared, and docs/PROTOCOL.md shows the field table as
 * `cmkctl protocol --fields` prints it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "common/op_fields.h"
#include "common/ops.h"
#include "common/proto.h"
#include "doc_block.h"

/* body - parse a JSON object for a test */
static cJSON *body(const char *text)
{
    cJSON *b = cJSON_Parse(text);
    ck_assert_msg(b != NULL, "test body does not parse: %s", text);
    return b;
}

/* refused - cmk_field_check of f on text is EINVAL with a message holding want */
static void refused(const cmk_field *f, const char *text, const char *want)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body(text);
    ck_assert_int_eq(cmk_field_check(f, b, &err), CMK_EINVAL);
    ck_assert_int_eq(err.code, CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", text, err.msg, want);
    cJSON_Delete(b);
}

/* taken - cmk_field_check of f on text passes */
static void taken(const cmk_field *f, const char *text)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body(text);
    ck_assert_msg(cmk_field_check(f, b, &err) == 0, "%s refused: %s", text, err.msg);
    cJSON_Delete(b);
}

START_TEST(strings_have_a_length_in_characters_and_a_type)
{
    cmk_field f = {"name", CMK_FT_STR, 0, 5, NULL, 0};
    cmk_field g = {"id", CMK_FT_STR, 2, 5, NULL, 0};
    const char *out = "default";
    cmk_err err = CMK_ERR_INIT;
    cJSON *b;

    taken(&f, "{}");
    taken(&f, "{\"name\":null}");
    taken(&f, "{\"name\":\"\"}");
    taken(&f, "{\"name\":\"abcde\"}");
    taken(&f, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}"); /* 5 characters, 10 bytes */
    refused(&f, "{\"name\":\"abcdef\"}", "field 'name': must be a string of at most 5 characters (got \"abcdef\")");
    refused(&f, "{\"name\":123}", "field 'name': must be a string of at most 5 characters (got 123)");
    refused(&f, "{\"name\":true}", "(got true)");
    refused(&f, "{\"name\":{}}", "(got an object)");
    refused(&f, "{\"name\":[]}", "(got an array)");
    refused(&g, "{\"id\":\"a\"}", "field 'id': must be a string of 2 to 5 characters");
    /* a long value is described by its length, not printed */
    b = cJSON_CreateObject();
    {
        char *big = malloc(120001);
        memset(big, 'a', 120000);
        big[120000] = '\0';
        cJSON_AddStringToObject(b, "name", big);
        free(big);
    }
    ck_assert_int_eq(cmk_field_check(&f, b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "(got a string of 120000 characters)"), "%s", err.msg);
    cJSON_Delete(b);
    /* invalid UTF-8 reaching a parsed string (cJSON does not check) */
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", "a\xff");
    ck_assert_int_eq(cmk_field_check(&f, b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'name': not valid UTF-8 (byte 0xff at offset 1)"), "%s", err.msg);
    cJSON_Delete(b);
    /* the accessor */
    b = body("{\"name\":\"abc\",\"n\":1}");
    ck_assert_int_eq(cmk_field_str(b, "name", 5, &out, &err), 0);
    ck_assert_str_eq(out, "abc");
    out = "default";
    ck_assert_int_eq(cmk_field_str(b, "missing", 5, &out, &err), 0);
    ck_assert_str_eq(out, "default");
    ck_assert_int_eq(cmk_field_str(b, "name", 2, &out, &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_field_str(b, "n", 5, &out, &err), CMK_EINVAL);
    cJSON_Delete(b);
}
END_TEST

START_TEST(booleans_are_true_or_false_only)
{
    cmk_field f = {"managed", CMK_FT_BOOL, 0, 0, NULL, 0};
    cmk_err err = CMK_ERR_INIT;
    int v = 7;
    cJSON *b;

    taken(&f, "{\"managed\":true}");
    taken(&f, "{\"managed\":false}");
    taken(&f, "{}");
    refused(&f, "{\"managed\":\"yes\"}", "field 'managed': must be true or false (got \"yes\")");
    refused(&f, "{\"managed\":1}", "field 'managed': must be true or false (got 1)");
    refused(&f, "{\"managed\":\"true\"}", "(got \"true\")");
    b = body("{\"managed\":true,\"m\":\"no\"}");
    ck_assert_int_eq(cmk_field_bool(b, "managed", &v, &err), 0);
    ck_assert_int_eq(v, 1);
    v = 7;
    ck_assert_int_eq(cmk_field_bool(b, "absent", &v, &err), 0);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(cmk_field_bool(b, "m", &v, &err), CMK_EINVAL);
    ck_assert_int_eq(v, 7);
    cJSON_Delete(b);
}
END_TEST

START_TEST(integers_are_whole_and_in_range_or_in_their_set)
{
    cmk_field f = {"retention_days", CMK_FT_INT, 7, 90, NULL, 0};
    cmk_field size = {"size", CMK_FT_INT, 0, 0, "2048|3072|4096", 0};
    cmk_err err = CMK_ERR_INIT;
    int64_t v = -1;
    cJSON *b;

    taken(&f, "{\"retention_days\":7}");
    taken(&f, "{\"retention_days\":90}");
    taken(&f, "{\"retention_days\":7.0}");
    refused(&f, "{\"retention_days\":6}", "field 'retention_days': must be a whole number from 7 to 90 (got 6)");
    refused(&f, "{\"retention_days\":91}", "(got 91)");
    refused(&f, "{\"retention_days\":1e300}", "must be a whole number from 7 to 90 (got 1.0000000000000001e+300)");
    refused(&f, "{\"retention_days\":-1e300}", "from 7 to 90");
    refused(&f, "{\"retention_days\":7.5}", "(got 7.5)");
    refused(&f, "{\"retention_days\":\"30\"}", "(got \"30\")");
    refused(&f, "{\"retention_days\":1e16}", "from 7 to 90"); /* beyond what a double carries exactly */
    taken(&size, "{\"size\":2048}");
    taken(&size, "{\"size\":4096}");
    refused(&size, "{\"size\":\"big\"}", "field 'size': must be one of 2048, 3072, 4096 (got \"big\")");
    refused(&size, "{\"size\":1024}", "field 'size': must be one of 2048, 3072, 4096 (got 1024)");
    refused(&size, "{\"size\":2048.5}", "(got 2048.5)");
    b = body("{\"n\":42,\"big\":1e300,\"neg\":-5}");
    ck_assert_int_eq(cmk_field_int(b, "n", 0, 100, &v, &err), 0);
    ck_assert_int_eq(v, 42);
    v = -1;
    ck_assert_int_eq(cmk_field_int(b, "big", 0, 100, &v, &err), CMK_EINVAL);
    ck_assert_int_eq(v, -1); /* untouched: no cast of 1e300 */
    ck_assert_int_eq(cmk_field_int(b, "neg", -10, 10, &v, &err), 0);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(cmk_field_int(b, "n", INT64_MIN, INT64_MAX, &v, &err), 0);
    cJSON_Delete(b);
}
END_TEST

START_TEST(enums_are_one_of_their_words)
{
    cmk_field f = {"kind", CMK_FT_ENUM, 0, 0, "cloud|desktop", 0};
    cmk_field ic = {"kty", CMK_FT_ENUM, 0, 0, "RSA|RSA-HSM", CMK_FF_ICASE};
    cmk_err err = CMK_ERR_INIT;
    const char *out = NULL;
    cJSON *b;

    taken(&f, "{\"kind\":\"cloud\"}");
    taken(&f, "{\"kind\":\"desktop\"}");
    refused(&f, "{\"kind\":\"Cloud\"}", "field 'kind': must be one of cloud, desktop (got \"Cloud\")");
    refused(&f, "{\"kind\":\"clou\"}", "(got \"clou\")");
    refused(&f, "{\"kind\":\"\"}", "one of cloud, desktop");
    refused(&f, "{\"kind\":1}", "(got 1)");
    taken(&ic, "{\"kty\":\"rsa-hsm\"}");
    refused(&ic, "{\"kty\":\"EC\"}", "must be one of RSA, RSA-HSM (got \"EC\")");
    b = body("{\"op\":\"apply\",\"bad\":\"guess\"}");
    ck_assert_int_eq(cmk_field_enum(b, "op", "state|apply|return", &out, &err), 0);
    ck_assert_str_eq(out, "apply");
    ck_assert_int_eq(cmk_field_enum(b, "bad", "state|apply|return", &out, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'bad': must be one of state, apply, return (got \"guess\")"), "%s", err.msg);
    cJSON_Delete(b);
}
END_TEST

START_TEST(durations_parse_and_stay_in_range)
{
    cmk_field f = {"by", CMK_FT_DURATION, 0, 7 * 24 * 3600 * 1000LL, NULL, 0};
    cmk_err err = CMK_ERR_INIT;
    int64_t ms = -1;
    cJSON *b;

    taken(&f, "{\"by\":\"5m\"}");
    taken(&f, "{\"by\":\"1d12h\"}");
    taken(&f, "{\"by\":500}");
    refused(&f, "{\"by\":\"soon\"}", "field 'by': bad duration 'soon'");
    refused(&f, "{\"by\":\"8d\"}", "field 'by': must be a duration from 0s to 7d");
    refused(&f, "{\"by\":-5}", "(got -5)");
    refused(&f, "{\"by\":1.5}", "(got 1.5)");
    refused(&f, "{\"by\":true}", "(got true)");
    b = body("{\"by\":\"72h\",\"n\":250}");
    ck_assert_int_eq(cmk_field_duration(b, "by", 0, INT64_MAX, &ms, &err), 0);
    ck_assert_int_eq(ms, 72 * 3600 * 1000LL);
    ck_assert_int_eq(cmk_field_duration(b, "n", 0, INT64_MAX, &ms, &err), 0);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(cmk_field_duration(b, "by", 0, 1000, &ms, &err), CMK_EINVAL);
    cJSON_Delete(b);
}
END_TEST

START_TEST(times_objects_arrays_and_string_lists)
{
    cmk_field t = {"exp", CMK_FT_TIME, 0, 0, NULL, 0};
    cmk_field o = {"tags", CMK_FT_OBJECT, 0, 0, NULL, 0};
    cmk_field a = {"connections", CMK_FT_ARRAY, 0, 2, NULL, 0};
    cmk_field l = {"tenants", CMK_FT_STRLIST, 2, 4, NULL, 0};
    cmk_field j = {"body", CMK_FT_JSON, 0, 0, NULL, 0};

    taken(&t, "{\"exp\":1700000000000}");
    taken(&t, "{\"exp\":\"2027-01-31T00:00:00Z\"}");
    taken(&t, "{\"exp\":\"+90d\"}");
    refused(&t, "{\"exp\":-1}", "field 'exp': must be a time");
    refused(&t, "{\"exp\":true}", "(got true)");
    taken(&o, "{\"tags\":{\"a\":\"b\"}}");
    refused(&o, "{\"tags\":\"a=b\"}", "field 'tags': must be a JSON object (got \"a=b\")");
    taken(&a, "{\"connections\":[1,2]}");
    refused(&a, "{\"connections\":[1,2,3]}", "an array of at most 2 items (got an array)");
    refused(&a, "{\"connections\":{}}", "(got an object)");
    taken(&l, "{\"tenants\":[\"ab\",\"cd\"]}");
    refused(&l, "{\"tenants\":[\"ab\",\"cd\",\"ef\"]}", "an array of at most 2 strings");
    refused(&l, "{\"tenants\":[\"ab\",3]}", "field 'tenants'");
    refused(&l, "{\"tenants\":[\"abcdef\"]}", "field 'tenants': must be a string of at most 4 characters");
    refused(&l, "{\"tenants\":\"ab\"}", "(got \"ab\")");
    taken(&j, "{\"body\":[1,{\"a\":null}]}");
    taken(&j, "{\"body\":\"text\"}");
}
END_TEST

START_TEST(a_list_checks_every_member_and_names_the_first_bad_one)
{
    static const cmk_field spec[] = {
        {"id", CMK_FT_STR, 0, 10, NULL, 0},
        {"managed", CMK_FT_BOOL, 0, 0, NULL, 0},
        {NULL, CMK_FT_END, 0, 0, NULL, 0},
    };
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body("{\"id\":\"x\",\"managed\":\"yes\",\"other\":[1]}");
    ck_assert_int_eq(cmk_fields_check(spec, b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'managed'"), "%s", err.msg);
    cJSON_Delete(b);
    b = body("{\"id\":\"x\",\"managed\":false,\"other\":[1]}"); /* unlisted members pass */
    ck_assert_int_eq(cmk_fields_check(spec, b, &err), 0);
    cJSON_Delete(b);
}
END_TEST

/* text_refused - cmk_json_text_check of text (len bytes) is EINVAL with want in its message */
static void text_refused(const char *text, size_t len, const char *want)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(cmk_json_text_check(text, len, CMK_FIELDS_MAX_DEPTH, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
}

/* TEXT_REFUSED - text_refused of a string literal, embedded NUL bytes included */
#define TEXT_REFUSED(lit, want) text_refused(lit, sizeof(lit) - 1, want)

START_TEST(the_wire_text_is_utf8_without_nul_and_not_too_deep)
{
    cmk_err err = CMK_ERR_INIT;
    static const char ok[] = "{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91\",\"a\":[{\"b\":\"\\u00e9\"}],\"s\":\"x\\\"y\"}";
    char *deep;
    size_t n = 10000;

    ck_assert_int_eq(cmk_json_text_check(ok, strlen(ok), CMK_FIELDS_MAX_DEPTH, &err), 0);
    TEXT_REFUSED("{\"id\":\"t4\\u0000x\"}", "field 'id': must not contain a NUL character (\\u0000)");
    TEXT_REFUSED("{\"id\":\"t4\0x\"}", "field 'id': contains a NUL byte");
    TEXT_REFUSED("{\"id\":\"t\"}\0", "the body: contains a NUL byte");
    TEXT_REFUSED("{\"name\":\"bad\xff\xfe\"}", "field 'name': not valid UTF-8 (byte 0xff)");
    TEXT_REFUSED("{\"name\":\"\xc0\xaf\"}", "not valid UTF-8 (byte 0xc0)");         /* overlong '/' */
    TEXT_REFUSED("{\"name\":\"\xed\xa0\x80\"}", "not valid UTF-8 (byte 0xed)");     /* a surrogate */
    TEXT_REFUSED("{\"name\":\"\xf4\x90\x80\x80\"}", "not valid UTF-8 (byte 0xf4)"); /* > U+10FFFF */
    TEXT_REFUSED("{\"name\":\"\xe2\x82\"}", "not valid UTF-8");                     /* cut short */
    TEXT_REFUSED("{\"a\":{\"b\":{\"c\":\"\xff\"}}}", "field 'a.b.c': not valid UTF-8");
    TEXT_REFUSED("{\"n\xff\":1}", "a member name: not valid UTF-8");
    /* 10,000 levels deep, and one over the limit; the limit itself passes */
    deep = malloc(2 * n + 8);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    text_refused(deep, 2 * n, "nests objects and arrays more than 128 levels deep");
    memset(deep, '[', CMK_FIELDS_MAX_DEPTH + 1);
    memset(deep + CMK_FIELDS_MAX_DEPTH + 1, ']', CMK_FIELDS_MAX_DEPTH + 1);
    text_refused(deep, 2 * (CMK_FIELDS_MAX_DEPTH + 1), "more than 128 levels deep");
    memset(deep, '[', CMK_FIELDS_MAX_DEPTH);
    memset(deep + CMK_FIELDS_MAX_DEPTH, ']', CMK_FIELDS_MAX_DEPTH);
    ck_assert_int_eq(cmk_json_text_check(deep, 2 * CMK_FIELDS_MAX_DEPTH, CMK_FIELDS_MAX_DEPTH, &err), 0);
    /* brackets inside strings do not count */
    memset(deep, '[', n);
    deep[0] = '"';
    deep[n - 1] = '"';
    ck_assert_int_eq(cmk_json_text_check(deep, n, CMK_FIELDS_MAX_DEPTH, &err), 0);
    free(deep);
}
END_TEST

START_TEST(duplicate_members_are_found_at_any_depth)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body("{\"id\":\"t5\",\"id\":\"t6\"}");
    char big[8192];
    size_t o = 0;

    ck_assert_int_eq(cmk_json_check_duplicates(b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'id' is given twice"), "%s", err.msg);
    cJSON_Delete(b);
    b = body("{\"definition\":{\"actions\":{\"A\":{},\"B\":{\"x\":1,\"x\":2}}}}");
    ck_assert_int_eq(cmk_json_check_duplicates(b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'definition.actions.B.x' is given twice"), "%s", err.msg);
    cJSON_Delete(b);
    b = body("{\"a\":[{\"k\":1},{\"k\":2,\"k\":3}]}");
    ck_assert_int_eq(cmk_json_check_duplicates(b, &err), CMK_EINVAL);
    cJSON_Delete(b);
    b = body("{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":[{\"k\":1},{\"k\":1}]}"); /* same names, other objects */
    ck_assert_int_eq(cmk_json_check_duplicates(b, &err), 0);
    cJSON_Delete(b);
    /* a wide object (the sorted path): 300 members, the last repeats the first */
    o += (size_t)snprintf(big + o, sizeof big - o, "{");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "\"m%d\":%d,", i, i);
    o += (size_t)snprintf(big + o, sizeof big - o, "\"m0\":1}");
    b = body(big);
    ck_assert_int_eq(cmk_json_check_duplicates(b, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'm0' is given twice"), "%s", err.msg);
    cJSON_Delete(b);
}
END_TEST

/* decode - a request frame set of type with body text; the code */
static int decode(const char *type, const char *text, size_t len, cmk_err *err)
{
    char *buf = malloc(CMK_PROTO_MAX_HEAD + 1 + len);
    size_t h = cmk_msg_head(type, "req-9", buf, CMK_PROTO_MAX_HEAD + 1);
    cmk_frame f[1];
    cmk_msg *m = NULL, *partial = NULL;
    int rc;
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_gt(h, 0);
    memcpy(buf + h, text, len);
    f[0] = (cmk_frame){buf, h + len};
    rc = cmk_msg_decode(f, 1, 0, &m, &partial, err);
    free(buf);
    if (rc < 0) {
        ck_assert_ptr_nonnull(partial);
        ck_assert_str_eq(partial->reqid, "req-9"); /* the error reply can be addressed */
    }
    cmk_msg_destroy(&m);
    cmk_msg_destroy(&partial);
    return rc;
}

/* DECODE - decode of a string literal body */
#define DECODE(type, lit, err) decode(type, lit, sizeof(lit) - 1, err)

START_TEST(the_decoder_refuses_malformed_request_bodies_with_einval)
{
    cmk_err err = CMK_ERR_INIT;
    char deep[20010];
    memset(deep, '[', 10000);
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 10000, ']', 10000);
    ck_assert_int_eq(DECODE("tenant.create", "{\"id\":\"a\\u0000b\"}", &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'id': must not contain a NUL"), "%s", err.msg);
    ck_assert_int_eq(DECODE("tenant.create", "{\"id\":\"t\",\"name\":\"\xff\"}", &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'name': not valid UTF-8"), "%s", err.msg);
    ck_assert_int_eq(decode("tenant.create", deep, 20000, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "more than 128 levels deep"), "%s", err.msg);
    ck_assert_int_eq(DECODE("tenant.create", "{\"id\":\"t5\",\"id\":\"t6\"}", &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "field 'id' is given twice"), "%s", err.msg);
    ck_assert_int_eq(DECODE("tenant.create", "{\"id\":\"t\",\"name\":\"caf\xc3\xa9\"}", &err), 0);
}
END_TEST

START_TEST(every_operation_declares_its_fields)
{
    const cmk_op *t = cmk_op_table();
    for (int i = 0; i < CMK_NOPS; i++) {
        const cmk_field *f = cmk_op_fields(i);
        ck_assert_msg(f != NULL, "'%s' declares no field list in common/op_fields.c", t[i].type);
        for (int k = 0; f[k].type != CMK_FT_END; k++) {
            ck_assert_msg(f[k].name && f[k].name[0], "%s: a field without a name", t[i].type);
            for (int m = k + 1; f[m].type != CMK_FT_END; m++)
                ck_assert_msg(strcmp(f[k].name, f[m].name) != 0, "%s: '%s' declared twice", t[i].type, f[k].name);
            if (f[k].type == CMK_FT_STR || f[k].type == CMK_FT_STRLIST || f[k].type == CMK_FT_ARRAY)
                ck_assert_msg(f[k].max > 0, "%s.%s has no limit", t[i].type, f[k].name);
            if (f[k].type == CMK_FT_ENUM)
                ck_assert_msg(f[k].words && f[k].words[0], "%s.%s: an enum without words", t[i].type, f[k].name);
            if (f[k].type == CMK_FT_INT && !f[k].words)
                ck_assert_msg(f[k].min <= f[k].max, "%s.%s: empty range", t[i].type, f[k].name);
        }
        /* the fields a tenant-admin is scoped by are declared too */
        for (int k = 0; k < AUTHZ_MAX_FIELDS && t[i].fields[k].field; k++)
            ck_assert_msg(cmk_op_field(t[i].type, t[i].fields[k].field) != NULL,
                          "%s: the authorization field '%s' is not declared", t[i].type, t[i].fields[k].field);
    }
}
END_TEST

START_TEST(the_reproductions_of_issue_17_are_refused_by_their_declarations)
{
    static const struct {
        const char *type, *body, *want;
    } cases[] = {
        {"env.create", "{\"tenant\":\"contoso\",\"name\":\"x\",\"managed\":\"yes\"}",
         "field 'managed': must be true or false (got \"yes\")"},
        {"key.create", "{\"vault\":\"kv\",\"name\":\"k\",\"size\":\"big\"}",
         "field 'size': must be one of 2048, 3072, 4096 (got \"big\")"},
        {"tenant.show", "{\"id\":123}", "field 'id': must be a string of at most 63 characters (got 123)"},
        {"vault.create", "{\"tenant\":\"t\",\"vault\":\"kv\",\"retention_days\":1e300}",
         "field 'retention_days': must be a whole number from 7 to 90"},
        {"support.raise-cmk-limit", "{\"tenant\":\"t\",\"limit\":1e12}", "field 'limit': must be a whole number from 1 to 10000"},
        {"env.byok", "{\"env\":\"e\",\"op\":\"aply\"}", "field 'op': must be one of state, apply, return, unlock, reset"},
        {"run.list", "{\"env\":\"e\",\"limit\":-1}", "field 'limit'"},
        {"ready", "{\"role\":\"worker\",\"name\":\"w\",\"pid\":1e300}", "field 'pid'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmk_err err = CMK_ERR_INIT;
        cJSON *b = body(cases[i].body);
        ck_assert_int_eq(cmk_op_fields_check(cmk_op_find(cases[i].type), b, &err), CMK_EINVAL);
        ck_assert_msg(strstr(err.msg, cases[i].want), "%s: '%s' lacks '%s'", cases[i].type, err.msg, cases[i].want);
        cJSON_Delete(b);
    }
}
END_TEST

START_TEST(handlers_read_only_declared_fields)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body("{\"retention_days\":30,\"managed\":true,\"by\":\"5m\",\"size\":3072,\"name\":\"n\"}");
    int64_t v = 0;
    int flag = 0;
    const char *s = NULL;
    ck_assert_int_eq(cmk_op_get_int(CMK_T_VAULT_CREATE, b, "retention_days", &v, &err), 0);
    ck_assert_int_eq(v, 30);
    ck_assert_int_eq(cmk_op_get_int(CMK_T_KEY_CREATE, b, "size", &v, &err), 0);
    ck_assert_int_eq(v, 3072);
    ck_assert_int_eq(cmk_op_get_bool(CMK_T_ENV_CREATE, b, "managed", &flag, &err), 0);
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(cmk_op_get_duration(CMK_T_CLOCK_ADVANCE, b, "by", &v, &err), 0);
    ck_assert_int_eq(v, 5 * 60 * 1000);
    ck_assert_int_eq(cmk_op_get_str(CMK_T_TENANT_CREATE, b, "name", &s, &err), 0);
    ck_assert_str_eq(s, "n");
    /* undeclared, or declared with another type: a bug, said so */
    ck_assert_int_eq(cmk_op_get_int(CMK_T_ENV_CREATE, b, "retention_days", &v, &err), CMK_EINTERNAL);
    ck_assert_msg(strstr(err.msg, "common/op_fields.c does not declare"), "%s", err.msg);
    ck_assert_int_eq(cmk_op_get_bool(CMK_T_VAULT_CREATE, b, "retention_days", &flag, &err), CMK_EINTERNAL);
    cJSON_Delete(b);
}
END_TEST

/* PROTOCOL.md holds the generated field table between its markers */
START_TEST(protocol_doc_lists_the_limits)
{
    char *text = doc_block("docs/PROTOCOL.md", "fields-table"), *md;
    md = cmk_op_fields_markdown();
    ck_assert_msg(strcmp(text, md) == 0, "docs/PROTOCOL.md's field table differs from common/op_fields.c: "
                                          "replace it with the output of `cmkctl protocol --fields`");
    free(md);
    free(text);
}
END_TEST

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    Suite *s = suite_create("fields");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, strings_have_a_length_in_characters_and_a_type);
    tcase_add_test(tc, booleans_are_true_or_false_only);
    tcase_add_test(tc, integers_are_whole_and_in_range_or_in_their_set);
    tcase_add_test(tc, enums_are_one_of_their_words);
    tcase_add_test(tc, durations_parse_and_stay_in_range);
    tcase_add_test(tc, times_objects_arrays_and_string_lists);
    tcase_add_test(tc, a_list_checks_every_member_and_names_the_first_bad_one);
    tcase_add_test(tc, the_wire_text_is_utf8_without_nul_and_not_too_deep);
    tcase_add_test(tc, duplicate_members_are_found_at_any_depth);
    tcase_add_test(tc, the_decoder_refuses_malformed_request_bodies_with_einval);
    tcase_add_test(tc, every_operation_declares_its_fields);
    tcase_add_test(tc, the_reproductions_of_issue_17_are_refused_by_their_declarations);
    tcase_add_test(tc, handlers_read_only_declared_fields);
    tcase_add_test(tc, protocol_doc_lists_the_limits);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
