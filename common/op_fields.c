/*
 * op_fields.c - every request type's fields with their types and limits (see op_fields.h).
 * One list per row of CMK_OPS; tests/unit/fields_test.c proves every row has one and that
 * docs/PROTOCOL.md shows them as cmk_op_fields_markdown prints them.
 */
#include "op_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define S(n, max) {n, CMK_FT_STR, 0, (max), NULL, 0}
#define B(n) {n, CMK_FT_BOOL, 0, 0, NULL, 0}
#define I(n, lo, hi) {n, CMK_FT_INT, (lo), (hi), NULL, 0}
#define IV(n, words) {n, CMK_FT_INT, 0, 0, words, 0}
#define E(n, words) {n, CMK_FT_ENUM, 0, 0, words, 0}
#define EI(n, words) {n, CMK_FT_ENUM, 0, 0, words, CMK_FF_ICASE}
#define D(n, lo, hi) {n, CMK_FT_DURATION, (lo), (hi), NULL, 0}
#define T(n) {n, CMK_FT_TIME, 0, 0, NULL, 0}
#define O(n) {n, CMK_FT_OBJECT, 0, 0, NULL, 0}
#define A(n, items) {n, CMK_FT_ARRAY, 0, (items), NULL, 0}
#define SL(n, items, chars) {n, CMK_FT_STRLIST, (items), (chars), NULL, 0}
#define J(n) {n, CMK_FT_JSON, 0, 0, NULL, 0}
#define END {NULL, CMK_FT_END, 0, 0, NULL, 0}

#define F(id, ...) static const cmk_field f_##id[] = {__VA_ARGS__ END};

#define DAY (24LL * 3600 * 1000)
#define MAX_MS 9007199254740991LL /* 2^53 - 1: the largest whole number JSON carries exactly */

/* common members */
#define ENV S("env", CMK_FL_REF),
#define TENANT S("tenant", CMK_FL_ID),
#define VAULT S("vault", 64),
#define KNAME S("name", 127),
#define FLOW S("flow", CMK_FL_ID),
#define POLICY S("policy", CMK_FL_REF),
#define REGION S("region", CMK_FL_WORD),
#define VERSION S("version", 64),
#define PASSWORD S("password", CMK_FL_SECRET),
#define DATA S("data", CMK_FL_DATA),
#define TKFORMAT E("format", "pfx|byok"),

/* the cluster */
F(PING, S("target", CMK_FL_REF),)
F(STATUS, )
F(SHUTDOWN, )
F(CLOCK_SHOW, )
F(CLOCK_ADVANCE, D("by", 0, 36500 * DAY),)
/* tenants and environments */
F(TENANT_CREATE, S("id", CMK_FL_ID), S("name", CMK_FL_TENANT_NAME),)
F(TENANT_LIST, )
F(TENANT_SHOW, S("id", CMK_FL_ID),)
F(ENV_CREATE, TENANT S("name", CMK_FL_ENV_NAME), REGION S("type", CMK_FL_WORD), B("managed"),)
F(ENV_LIST, TENANT)
F(ENV_SHOW, ENV)
F(ENV_ENABLE_MANAGED, ENV)
F(ENV_DELETE, ENV)
/* flows, runs and connections (routed to a worker) */
F(FLOW_CREATE, ENV S("id", CMK_FL_ID), S("name", CMK_FL_NAME), J("definition"), B("in_solution"),
  E("kind", "cloud|desktop"),)
F(FLOW_GET, ENV FLOW)
F(FLOW_LIST, ENV)
F(FLOW_UPDATE, ENV FLOW S("name", CMK_FL_NAME), J("definition"), B("in_solution"),)
F(FLOW_DELETE, ENV FLOW)
F(FLOW_ENABLE, ENV FLOW)
F(FLOW_DISABLE, ENV FLOW)
F(FLOW_SAVE_AS, ENV FLOW S("name", CMK_FL_NAME),)
F(FLOW_EXPORT, ENV FLOW)
F(FLOW_IMPORT, ENV O("package"), S("name", CMK_FL_NAME),)
F(FLOW_RUN, ENV FLOW J("body"), O("headers"), O("queries"), S("client_req", CMK_FL_ID),)
F(FLOW_INVOKE, ENV FLOW S("sig", 256), S("method", 16), O("headers"), O("queries"), J("body"),
  S("client_req", CMK_FL_ID),)
F(FLOW_TRIGGER_URL, ENV FLOW)
F(FLOW_SCHEDULES, ENV)
F(RUN_LIST, ENV S("flow", CMK_FL_ID), I("since_ms", -MAX_MS, MAX_MS), I("limit", 0, 1000000),)
F(RUN_SHOW, ENV S("run", CMK_FL_ID),)
F(RUN_EXPORT_CSV, ENV S("flow", CMK_FL_ID),)
F(CONN_CREATE, ENV S("name", CMK_FL_NAME), B("oauth"), S("secret", CMK_FL_SECRET),)
F(CONN_SHOW, ENV S("conn", CMK_FL_ID),)
/* enterprise policies */
F(POLICY_CREATE, TENANT S("name", CMK_FL_REF), VAULT S("key", 127), VERSION REGION)
F(POLICY_SHOW, POLICY)
F(POLICY_LIST, TENANT)
F(POLICY_VALIDATE, POLICY)
F(POLICY_DELETE, POLICY)
F(POLICY_LINK, POLICY ENV)
F(POLICY_UNLINK, ENV)
F(POLICY_OPERATION, S("id", CMK_FL_ID),)
F(POLICY_APPLY_ROTATION, POLICY)
F(ENV_REENABLE, ENV)
F(ENV_CMK_STATUS, ENV)
F(SUPPORT_RAISE_CMK_LIMIT, TENANT I("limit", 1, 10000),)
/* the customer firewall and the gateway */
F(FIREWALL_STATUS, )
F(FIREWALL_APPLY, J("config"), S("path", 4096), S("name", 4096),)
F(FIREWALL_FAULT, E("kind", "latency|reset|timeout|none"), D("ms", 0, 10 * 60 * 1000), D("duration", 0, 7 * DAY),)
F(METRICS, )
/* tenant keys (BYOK) */
F(TENANT_ENABLE_BYOK, TENANT)
F(TENANTKEY_GENERATE, TENANT REGION KNAME PASSWORD)
F(TENANTKEY_UPLOAD, TENANT REGION KNAME DATA PASSWORD TKFORMAT)
F(TENANTKEY_ACTIVATE, TENANT KNAME)
F(TENANTKEY_LIST, TENANT)
F(TENANTKEY_KEK, TENANT REGION)
F(TENANTKEY_STATUS, TENANT REGION)
F(TENANT_LOCK, TENANT REGION DATA PASSWORD TKFORMAT S("confirmation", CMK_FL_TEXT),)
F(TENANT_UNLOCK_KEY, TENANT DATA PASSWORD TKFORMAT)
F(ENV_BYOK, ENV E("op", "state|apply|return|unlock|reset"), B("confirm"), S("typed_name", CMK_FL_TEXT),)
/* environment operations */
F(ENV_BACKUP, ENV S("label", 127),)
F(ENV_BACKUPS, ENV)
F(ENV_RESTORE, S("backup", CMK_FL_ID), ENV S("target", CMK_FL_REF),)
F(ENV_COPY, S("source", CMK_FL_REF), S("target", CMK_FL_REF),)
F(ENV_RESET, ENV)
F(ENV_SETTINGS, ENV B("create_flows_in_solutions"),)
F(APP_REGISTER_FLOW, ENV FLOW S("app", 127),)
F(MACHINE_GROUP, E("action", "create|list|reprovision"), ENV S("name", CMK_FL_NAME), S("group", CMK_FL_NAME),)
F(FLOWS_MMK, ENV B("cannot_migrate"),)
F(ENV_MIGRATION, ENV)
F(SUPPORT_RUN_HISTORY, ENV)
F(SUPPORT_PROTECT_FLOWS, ENV)
F(DEK_LIST, ENV)
/* audit and identities */
F(AUDIT_LIST, S("principal", CMK_FL_NAME), S("operation", 64), S("target", CMK_FL_NAME), S("result", 32),
  I("limit", 0, 1000000), B("newest_first"),)
F(AUDIT_VERIFY, )
F(IDENTITY_ADD, S("name", 64), S("role", CMK_FL_WORD), SL("tenants", 1000, CMK_FL_ID),)
F(IDENTITY_LIST, )
F(IDENTITY_REMOVE, S("name", 64),)
/* vaults and keys */
F(VAULT_CREATE, TENANT VAULT REGION I("retention_days", 7, 90), B("purge_protection"), B("soft_delete"),
  B("public_network_access"),)
F(VAULT_SHOW, VAULT)
F(VAULT_LIST, TENANT B("deleted"),)
F(VAULT_UPDATE, VAULT B("soft_delete"), B("purge_protection"), B("public_network_access"),
  E("default_action", "Allow|Deny"), E("bypass", "AzureServices|None"),)
F(VAULT_DELETE, VAULT)
F(VAULT_RECOVER, VAULT)
F(VAULT_PURGE, VAULT)
F(VAULT_GRANT, VAULT S("principal", CMK_FL_NAME), S("perms", CMK_FL_TEXT),)
F(VAULT_REVOKE, VAULT S("principal", CMK_FL_NAME), S("perms", CMK_FL_TEXT),)
F(VAULT_NETWORK_RULE, VAULT E("action", "list|add|remove"), S("ip", 64), S("vnet", CMK_FL_TEXT),)
F(VAULT_ACCESS, VAULT)
F(KEY_CREATE, VAULT KNAME EI("kty", "RSA|RSA-HSM"), IV("size", "2048|3072|4096"), S("ops", 256), B("enabled"),
  T("nbf"), T("exp"), O("tags"),)
F(KEY_IMPORT, VAULT KNAME DATA PASSWORD)
F(KEY_IMPORT_BYOK, VAULT KNAME S("byok", CMK_FL_DATA),)
F(KEY_SHOW, VAULT KNAME VERSION B("pem"),)
F(KEY_LIST, VAULT B("deleted"),)
F(KEY_VERSIONS, VAULT KNAME)
F(KEY_ROTATE, VAULT KNAME)
F(KEY_UPDATE, VAULT KNAME VERSION B("enabled"), T("nbf"), T("exp"), S("ops", 256), O("tags"),)
F(KEY_DELETE, VAULT KNAME)
F(KEY_RECOVER, VAULT KNAME)
F(KEY_PURGE, VAULT KNAME)
F(KEY_BACKUP, VAULT KNAME)
F(KEY_RESTORE, VAULT S("backup", CMK_FL_DATA),)
F(KEY_WRAP, VAULT KNAME VERSION EI("alg", "RSA-OAEP|RSA-OAEP-256"), S("value", CMK_FL_DATA),)
F(KEY_UNWRAP, VAULT KNAME VERSION EI("alg", "RSA-OAEP|RSA-OAEP-256"), S("value", CMK_FL_DATA),)
F(KEY_POLICY_SET, VAULT KNAME S("rotate_after", 32), S("rotate_before_expiry", 32), S("expires_after", 32),)
F(KEY_POLICY_SHOW, VAULT KNAME)
/* the back channel and internal requests */
F(READY, S("role", CMK_FL_WORD), S("name", CMK_FL_REF), I("pid", 0, 2147483647), SL("envs", 100000, CMK_FL_ID),)
F(DEK_GET, S("env", CMK_FL_ID), S("purpose", 15),)
F(FLOW_CHILD_RUN, S("env", CMK_FL_ID), FLOW S("caller", CMK_FL_ID), J("body"),)
F(CONN_USE, S("env", CMK_FL_ID), S("conn", CMK_FL_ID), S("caller", CMK_FL_ID),)
F(FLOW_DUMP, S("env", CMK_FL_ID),)
F(FLOW_PUT, S("env", CMK_FL_ID), O("flow"), S("stage", CMK_FL_ID),)
F(ENV_STAGE, S("env", CMK_FL_ID), S("stage", CMK_FL_ID), E("step", "begin|swap|discard"), B("connections"),)
F(ENV_RELEASE, S("env", CMK_FL_ID), S("reason", CMK_FL_NAME),)
F(RUN_SUMMARY, S("env", CMK_FL_ID),)
F(CONN_DUMP, S("env", CMK_FL_ID),)
F(CONN_PUT, S("env", CMK_FL_ID), A("connections", 100000),)
F(CONN_DELETE, S("env", CMK_FL_ID), SL("ids", 100000, CMK_FL_ID),)
F(GATEWAY_STATUS, )
F(HTTP_REQUEST, S("env", CMK_FL_ID), S("flow", CMK_FL_ID), S("run", CMK_FL_ID), S("method", 16), S("uri", 8192),
  O("headers"), J("body"), S("infrastructure", CMK_FL_WORD), S("region", CMK_FL_WORD),)

#define ROW_(id, ...) [CMK_OP_##id] = f_##id,
static const cmk_field *const lists[CMK_NOPS] = {CMK_OPS(ROW_)};

/* cmk_op_fields - the list of an operation */
const cmk_field *cmk_op_fields(int op_id)
{
    return op_id >= 0 && op_id < CMK_NOPS ? lists[op_id] : NULL;
}

/* cmk_op_fields_check - a body against its type's list */
int cmk_op_fields_check(const cmk_op *op, const cJSON *body, cmk_err *err)
{
    const cmk_field *spec = op ? cmk_op_fields(op->id) : NULL;
    return spec ? cmk_fields_check(spec, body, err) : 0;
}

/* cmk_op_field - a member's declaration */
const cmk_field *cmk_op_field(const char *type, const char *name)
{
    const cmk_op *op = cmk_op_find(type);
    const cmk_field *f = op ? cmk_op_fields(op->id) : NULL;
    for (; f && f->type != CMK_FT_END; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* declared - the declaration of type.name, checked against body; *it the member or NULL */
static int declared(const char *type, const cJSON *body, const char *name, cmk_ftype want, const cJSON **it,
                    cmk_err *err)
{
    const cmk_field *f = cmk_op_field(type, name);
    int rc;
    *it = NULL;
    if (!f || f->type != want)
        return cmk_err_set(err, CMK_EINTERNAL, "'%s' reads field '%s' that common/op_fields.c does not declare "
                           "with that type", type, name);
    if ((rc = cmk_field_check(f, body, err)) < 0)
        return rc;
    *it = cJSON_GetObjectItemCaseSensitive(body, name);
    if (cJSON_IsNull(*it))
        *it = NULL;
    return 0;
}

/* cmk_op_get_str - a declared string */
int cmk_op_get_str(const char *type, const cJSON *body, const char *name, const char **out, cmk_err *err)
{
    const cJSON *it;
    int rc = declared(type, body, name, CMK_FT_STR, &it, err);
    if (rc == 0 && it)
        *out = it->valuestring;
    return rc;
}

/* cmk_op_get_bool - a declared boolean */
int cmk_op_get_bool(const char *type, const cJSON *body, const char *name, int *out, cmk_err *err)
{
    const cJSON *it;
    int rc = declared(type, body, name, CMK_FT_BOOL, &it, err);
    if (rc == 0 && it)
        *out = cJSON_IsTrue(it);
    return rc;
}

/* cmk_op_get_int - a declared whole number (within its range: never a cast out of range) */
int cmk_op_get_int(const char *type, const cJSON *body, const char *name, int64_t *out, cmk_err *err)
{
    const cJSON *it;
    int rc = declared(type, body, name, CMK_FT_INT, &it, err);
    if (rc == 0 && it)
        *out = (int64_t)it->valuedouble;
    return rc;
}

/* cmk_op_get_duration - a declared duration in ms */
int cmk_op_get_duration(const char *type, const cJSON *body, const char *name, int64_t *out, cmk_err *err)
{
    const cJSON *it;
    int rc = declared(type, body, name, CMK_FT_DURATION, &it, err);
    if (rc == 0 && it) {
        if (cJSON_IsNumber(it))
            *out = (int64_t)it->valuedouble;
        else
            rc = cmk_duration_parse(it->valuestring, out, err);
    }
    return rc;
}

/* short_type - a field's type and limits for the table ("string 1..63", "2048\|3072\|4096") */
static void short_type(const cmk_field *f, char *buf, size_t cap)
{
    char a[32], b[32], w[256];
    size_t o = 0;
    for (const char *p = f->words; p && *p && o + 3 < sizeof w; p++) {
        if (*p == '|')
            w[o++] = '\\';
        w[o++] = *p;
    }
    w[o] = '\0';
    switch (f->type) {
    case CMK_FT_STR:
        if (f->min > 0)
            snprintf(buf, cap, "string, %lld to %lld", (long long)f->min, (long long)f->max);
        else
            snprintf(buf, cap, "string, max %lld", (long long)f->max);
        break;
    case CMK_FT_BOOL:
        snprintf(buf, cap, "bool");
        break;
    case CMK_FT_INT:
        if (f->words)
            snprintf(buf, cap, "int %s", w);
        else
            snprintf(buf, cap, "int, %lld to %lld", (long long)f->min, (long long)f->max);
        break;
    case CMK_FT_ENUM:
        snprintf(buf, cap, "%s%s", w, f->flags & CMK_FF_ICASE ? " (any case)" : "");
        break;
    case CMK_FT_DURATION:
        snprintf(buf, cap, "duration, %s to %s", cmk_duration_format(f->min, a, sizeof a),
                 cmk_duration_format(f->max, b, sizeof b));
        break;
    case CMK_FT_TIME:
        snprintf(buf, cap, "time (ms or date)");
        break;
    case CMK_FT_OBJECT:
        snprintf(buf, cap, "object");
        break;
    case CMK_FT_ARRAY:
        snprintf(buf, cap, "array, max %lld items", (long long)f->max);
        break;
    case CMK_FT_STRLIST:
        snprintf(buf, cap, "array of strings (max %lld items, each max %lld)", (long long)f->min, (long long)f->max);
        break;
    default:
        snprintf(buf, cap, "JSON");
        break;
    }
}

/* cmk_op_fields_markdown - "| type | fields |" */
char *cmk_op_fields_markdown(void)
{
    size_t cap = 64 * 1024, len = 0;
    char *out = malloc(cap);
    const cmk_op *t = cmk_op_table();
    if (!out)
        return NULL;
    len = (size_t)snprintf(out, cap, "| type | fields: type and limits (strings in characters) |\n|---|---|\n");
    for (int i = 0; i < CMK_NOPS; i++) {
        char line[4096], ty[320];
        size_t n = (size_t)snprintf(line, sizeof line, "| `%s` |", t[i].type);
        const cmk_field *f = cmk_op_fields(i);
        if (!f || f->type == CMK_FT_END)
            n += (size_t)snprintf(line + n, sizeof line - n, " -");
        for (int k = 0; f && f[k].type != CMK_FT_END && n < sizeof line; k++) {
            short_type(&f[k], ty, sizeof ty);
            n += (size_t)snprintf(line + n, sizeof line - n, "%s `%s` %s", k ? ";" : "", f[k].name, ty);
        }
        if (n + 3 >= sizeof line)
            n = sizeof line - 3;
        n += (size_t)snprintf(line + n, sizeof line - n, " |\n");
        while (len + n + 1 > cap) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memcpy(out + len, line, n + 1);
        len += n;
    }
    return out;
}
