/*
 * jschema.c - a Request trigger's JSON schema: checked when the flow is saved (jschema_check)
 * and matched against each request body (jschema_validate). See jschema.h for the subset.
 */
#include "jschema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = { "object", "array", "string", "number", "integer", "boolean", "null", NULL };

/* type_of - the JSON Schema type name of a value ("integer" for a whole number) */
static const char *type_of(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "object";
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNull(v) || !v)
        return "null";
    return v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.007199254740992e15 ? "integer"
                                                                                                   : "number";
}

/* type_matches - does a value of type `actual` satisfy the schema type `want`? */
static int type_matches(const char *want, const char *actual)
{
    return strcmp(want, actual) == 0 || (strcmp(want, "number") == 0 && strcmp(actual, "integer") == 0);
}

/* known_type - 1 for a type name of the subset */
static int known_type(const char *name)
{
    for (int i = 0; type_names[i]; i++)
        if (strcmp(type_names[i], name) == 0)
            return 1;
    return 0;
}

/* check_at - jschema_check below path */
static int check_at(const cJSON *s, const char *path, int depth, cmk_err *err)
{
    const cJSON *t, *it, *req, *props, *items, *addl, *en;
    char sub[512];
    if (depth > JSCHEMA_MAX_DEPTH)
        return cmk_err_set(err, CMK_EINVAL, "%s: the schema is nested deeper than %d levels", path, JSCHEMA_MAX_DEPTH);
    if (!cJSON_IsObject(s))
        return cmk_err_set(err, CMK_EINVAL, "%s: a schema must be a JSON object such as {\"type\": \"object\"}", path);
    t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (t) {
        if (cJSON_IsString(t)) {
            if (!known_type(t->valuestring))
                return cmk_err_set(err, CMK_EINVAL, "%s.type: unknown type '%s' (object, array, string, number, "
                                                    "integer, boolean or null)", path, t->valuestring);
        } else if (cJSON_IsArray(t)) {
            cJSON_ArrayForEach(it, t) {
                if (!cJSON_IsString(it) || !known_type(it->valuestring))
                    return cmk_err_set(err, CMK_EINVAL, "%s.type: every entry must be a type name (object, array, "
                                                        "string, number, integer, boolean or null)", path);
            }
        } else
            return cmk_err_set(err, CMK_EINVAL, "%s.type: must be a type name or a list of them", path);
    }
    req = cJSON_GetObjectItemCaseSensitive(s, "required");
    if (req) {
        if (!cJSON_IsArray(req))
            return cmk_err_set(err, CMK_EINVAL, "%s.required: must be a list of property names", path);
        cJSON_ArrayForEach(it, req) {
            if (!cJSON_IsString(it))
                return cmk_err_set(err, CMK_EINVAL, "%s.required: must be a list of property names", path);
        }
    }
    props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    if (props) {
        if (!cJSON_IsObject(props))
            return cmk_err_set(err, CMK_EINVAL, "%s.properties: must be an object of name -> schema", path);
        cJSON_ArrayForEach(it, props) {
            int rc;
            snprintf(sub, sizeof sub, "%s.properties.%s", path, it->string);
            if ((rc = check_at(it, sub, depth + 1, err)) < 0)
                return rc;
        }
    }
    addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    if (addl && !cJSON_IsBool(addl) && !cJSON_IsObject(addl))
        return cmk_err_set(err, CMK_EINVAL, "%s.additionalProperties: must be true, false or a schema", path);
    if (cJSON_IsObject(addl)) {
        snprintf(sub, sizeof sub, "%s.additionalProperties", path);
        if (check_at(addl, sub, depth + 1, err) < 0)
            return CMK_EINVAL;
    }
    items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (items) {
        snprintf(sub, sizeof sub, "%s.items", path);
        if (check_at(items, sub, depth + 1, err) < 0)
            return CMK_EINVAL;
    }
    en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (en && (!cJSON_IsArray(en) || cJSON_GetArraySize(en) == 0))
        return cmk_err_set(err, CMK_EINVAL, "%s.enum: must be a non-empty list of values", path);
    return 0;
}

/* jschema_check - a schema of the subset */
int jschema_check(const cJSON *schema, cmk_err *err)
{
    return check_at(schema, "schema", 0, err);
}

/* mismatch - write the first mismatch */
static int mismatch(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int mismatch(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && cap)
        vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return CMK_EINVAL;
}

/* validate_at - jschema_validate below path */
static int validate_at(const cJSON *s, const cJSON *v, const char *path, int depth, char *why, size_t cap)
{
    const cJSON *t, *it, *props, *addl, *items, *en;
    const char *actual = type_of(v);
    char sub[512];

    if (!cJSON_IsObject(s))
        return 0;
    if (depth > JSCHEMA_MAX_DEPTH)
        return mismatch(why, cap, "%s: nested deeper than the schema checks (%d levels)", path, JSCHEMA_MAX_DEPTH);
    t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(t) && !type_matches(t->valuestring, actual))
        return mismatch(why, cap, "%s: expected %s, got %s", path, t->valuestring, actual);
    if (cJSON_IsArray(t)) {
        int ok = 0;
        char list[160] = "";
        cJSON_ArrayForEach(it, t) {
            if (cJSON_IsString(it)) {
                ok |= type_matches(it->valuestring, actual);
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? " or " : "",
                         it->valuestring);
            }
        }
        if (!ok)
            return mismatch(why, cap, "%s: expected %s, got %s", path, list, actual);
    }
    en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (cJSON_IsArray(en)) {
        int ok = 0;
        cJSON_ArrayForEach(it, en) ok |= cJSON_Compare(it, v, 1);
        if (!ok) {
            char *allowed = cJSON_PrintUnformatted(en);
            int rc = mismatch(why, cap, "%s: must be one of %s", path, allowed ? allowed : "the enum");
            cJSON_free(allowed);
            return rc;
        }
    }
    if (cJSON_IsObject(v)) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
        props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        cJSON_ArrayForEach(it, req) {
            if (cJSON_IsString(it) && !cJSON_GetObjectItemCaseSensitive(v, it->valuestring))
                return mismatch(why, cap, "%s: missing required property '%s'", path, it->valuestring);
        }
        cJSON_ArrayForEach(it, v) {
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, it->string);
            int rc;
            snprintf(sub, sizeof sub, "%s.%s", path, it->string);
            if (!ps && cJSON_IsFalse(addl))
                return mismatch(why, cap, "%s: property '%s' is not allowed (the schema lists %s)", path, it->string,
                                "its properties and forbids others");
            if (!ps && cJSON_IsObject(addl))
                ps = addl;
            if (ps && (rc = validate_at(ps, it, sub, depth + 1, why, cap)) < 0)
                return rc;
        }
    }
    items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (cJSON_IsArray(v) && cJSON_IsObject(items)) {
        int i = 0;
        cJSON_ArrayForEach(it, v) {
            int rc;
            snprintf(sub, sizeof sub, "%s[%d]", path, i++);
            if ((rc = validate_at(items, it, sub, depth + 1, why, cap)) < 0)
                return rc;
        }
    }
    return 0;
}

/* jschema_validate - the first mismatch */
int jschema_validate(const cJSON *schema, const cJSON *value, const char *root, char *why, size_t cap)
{
    return validate_at(schema, value, root ? root : "body", 0, why, cap);
}
