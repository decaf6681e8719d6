/*
 * authz.c - the authorization matrix: the roles' classes, and the check the broker runs before
 * it dispatches a request (front door) or a peer's request (back channel). Each operation's
 * class, scope and tenant fields are in the operation table (common/ops.h). docs/SECURITY.md
 * carries the same matrix; tests/unit/authz_test.c fails if they differ.
 */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "util.h"

#define C(x) (1u << AUTHZ_##x)

/* The roles: which classes each may call. */
static const struct {
    const char *role; /* authorized.json "role" */
    unsigned classes; /* bit set of authz_class */
    int assignable;   /* `identity add` may give it */
} roles[] = {
    {"admin", C(READ) | C(WRITE) | C(KEYS) | C(FAULT) | C(ADMIN) | C(SYSTEM), 1},
    {"reader", C(READ), 1},
    {"tenant-admin", C(READ) | C(WRITE) | C(KEYS), 1},
    {"bench", C(READ) | C(WRITE) | C(KEYS) | C(FAULT), 0},
    {"gateway", C(SYSTEM) | C(PEER), 0},
    {"worker", C(PEER) | C(DATAKEY) | C(RELAY), 0},
    {"firewall", C(PEER), 0},
    {"console", C(READ) | C(PEER), 0},
};

#define NROLES (sizeof roles / sizeof roles[0])

/* authz_find - an operation's row at a door (internal operations are at neither) */
const authz_op *authz_find(authz_door door, const char *type)
{
    const cmk_op *op = cmk_op_find(type);
    return op && op->door == door ? op : NULL;
}

/* authz_class_parse - a class by name, -1 if unknown */
int authz_class_parse(const char *name)
{
    for (int i = 0; name && i < AUTHZ_NCLASS; i++)
        if (strcmp(authz_class_name((authz_class)i), name) == 0)
            return i;
    return -1;
}

/* authz_roles - the role names */
const char *const *authz_roles(void)
{
    static const char *names[NROLES + 1];
    for (size_t i = 0; i < NROLES; i++)
        names[i] = roles[i].role;
    names[NROLES] = NULL;
    return names;
}

/* role_classes - the class set of a role, 0 if unknown */
static unsigned role_classes(const char *role)
{
    for (size_t i = 0; role && i < NROLES; i++)
        if (strcmp(roles[i].role, role) == 0)
            return roles[i].classes;
    return 0;
}

/* authz_role_allows - may role call class cls */
int authz_role_allows(const char *role, authz_class cls)
{
    return (unsigned)cls < AUTHZ_NCLASS && (role_classes(role) & (1u << cls)) != 0;
}

/* authz_role_assignable - a role `identity add` may give */
int authz_role_assignable(const char *role)
{
    for (size_t i = 0; role && i < NROLES; i++)
        if (strcmp(roles[i].role, role) == 0)
            return roles[i].assignable;
    return 0;
}

/* who - "identity 'NAME' (role ROLE[, tenants A,B])" into buf */
static const char *who(const cJSON *entry, const char *name, char *buf, size_t cap)
{
    const cJSON *tenants = cJSON_GetObjectItem(entry, "tenants"), *it;
    size_t len;

    snprintf(buf, cap, "identity '%s' (role %s", name, cmk_json_str(entry, "role", "none"));
    if (strcmp(cmk_json_str(entry, "role", ""), "tenant-admin") == 0) {
        const char *sep = ", tenants ";
        cJSON_ArrayForEach(it, tenants)
        {
            if (!cJSON_IsString(it))
                continue;
            len = strlen(buf);
            snprintf(buf + len, cap - len, "%s%s", sep, it->valuestring);
            sep = ",";
        }
        if (strcmp(sep, ",") != 0) {
            len = strlen(buf);
            snprintf(buf + len, cap - len, ", no tenants");
        }
    }
    len = strlen(buf);
    snprintf(buf + len, cap - len, ")");
    return buf;
}

/* allowed_roles - "worker" or "gateway, admin": roles that may call cls */
static const char *allowed_roles(authz_class cls, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < NROLES; i++)
        if (roles[i].classes & (1u << cls)) {
            size_t len = strlen(buf);
            snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", roles[i].role);
        }
    return buf;
}

/* has_tenant - is t among the entry's tenants */
static int has_tenant(const cJSON *entry, const char *t)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(entry, "tenants"))
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, t) == 0)
            return 1;
    }
    return 0;
}

/* scope_tenant - a tenant-admin's request: every named object must be of its tenants */
static int scope_tenant(const cJSON *entry, const char *name, const authz_op *op, const cJSON *body,
                        authz_resolve_fn resolve, void *arg, char *target, size_t cap, cmk_err *err)
{
    char me[256], tenant[128], fields[96] = "";
    int named = 0;

    who(entry, name, me, sizeof me);
    if (op->scope == AUTHZ_SCOPE_NONE)
        return 0;
    if (op->scope == AUTHZ_SCOPE_GLOBAL)
        return cmk_err_set(
            err, CMK_EPERM,
            "%s may not call '%s': it reaches data of every tenant, not only its own; "
            "use an admin identity",
            me, op->type);
    for (int i = 0; i < AUTHZ_MAX_FIELDS && op->fields[i].field; i++) {
        const char *f = op->fields[i].field, *v = cmk_json_str(body, f, NULL);
        size_t len = strlen(fields);
        cmk_err rerr = CMK_ERR_INIT;

        snprintf(fields + len, sizeof fields - len, "%s`%s`", len ? " or " : "", f);
        if (!v || !*v)
            continue;
        named = 1;
        if (target)
            snprintf(target, cap, "%s", v);
        if (op->fields[i].ref == AUTHZ_REF_TENANT)
            cmk_strlcpy(tenant, v, sizeof tenant);
        else if (!resolve || resolve(arg, op->fields[i].ref, v, tenant, sizeof tenant, &rerr) < 0)
            return cmk_err_set(err, CMK_EPERM,
                               "%s may not call '%s' on %s '%s': its tenant cannot be checked (%s)",
                               me, op->type, f, v, rerr.msg[0] ? rerr.msg : "no lookup for it");
        if (!has_tenant(entry, tenant))
            return cmk_err_set(
                err, CMK_EPERM,
                "%s may not call '%s' on %s '%s': it belongs to tenant %s; use an identity of "
                "tenant %s or an admin identity",
                me, op->type, f, v, tenant, tenant);
    }
    if (!named)
        return cmk_err_set(
            err, CMK_EPERM,
            "%s may not call '%s' without naming what it acts on: give %s, so that its tenant "
            "can be checked",
            me, op->type, fields);
    return 0;
}

/* article - "a" or "an" before a class name in messages */
static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) ? "an" : "a";
}

/* authz_check - the matrix decision for one request */
int authz_check(const cJSON *entry, const char *name, authz_door door, const char *type,
                const cJSON *body, authz_resolve_fn resolve, void *arg, char *target, size_t cap,
                cmk_err *err)
{
    const authz_op *op = authz_find(door, type);
    const char *role = cmk_json_str(entry, "role", "");
    const char *where = door == AUTHZ_BACK ? " on the back channel" : "";
    char me[256], rs[96];

    if (target && cap)
        target[0] = '\0';
    else
        target = NULL;
    if (!entry)
        return cmk_err_set(
            err, CMK_EPERM,
            "identity '%s' may not call '%s': it is no longer in keys/public/authorized.json; "
            "ask an admin for an identity (`cmkctl identity add`)",
            name && *name ? name : "-", type);
    for (int i = 0; op && target && i < AUTHZ_MAX_FIELDS && op->fields[i].field && !target[0]; i++)
        snprintf(target, cap, "%s", cmk_json_str(body, op->fields[i].field, ""));
    who(entry, name, me, sizeof me);
    if (!op) {
        if (door == AUTHZ_FRONT && strcmp(role, "admin") == 0)
            return 0; /* unknown to the matrix: admin only (the ops table answers unknown types) */
        return cmk_err_set(err, CMK_EPERM,
                           "%s may not call '%s'%s: it is in no class of the authorization matrix "
                           "(docs/SECURITY.md), so only an admin may; use an admin identity",
                           me, type, where);
    }
    if (!authz_role_allows(role, op->cls)) {
        if (authz_role_allows("admin", op->cls))
            return cmk_err_set(
                err, CMK_EPERM,
                "%s may not call '%s'%s: it is %s %s operation; use an admin identity", me, type,
                where, article(authz_class_name(op->cls)), authz_class_name(op->cls));
        return cmk_err_set(
            err, CMK_EPERM, "%s may not call '%s'%s: it is %s %s operation, for roles %s only", me,
            type, where, article(authz_class_name(op->cls)), authz_class_name(op->cls),
            allowed_roles(op->cls, rs, sizeof rs));
    }
    if (strcmp(role, "tenant-admin") == 0)
        return scope_tenant(entry, name, op, body, resolve, arg, target, cap, err);
    return 0;
}

/* one_tenant - run sql (one text parameter) and take column 0 of its only row */
static int one_tenant(sqlite3 *db, const char *sql, const char *what, const char *value,
                      char *tenant, size_t cap, cmk_err *err)
{
    sqlite3_stmt *st;
    int n = 0, rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return cmk_err_set(err, CMK_EIO, "cannot look up %s '%s': %s", what, value,
                           sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        int exact = sqlite3_column_int(st, 1);
        if (n == 0 || exact)
            cmk_strlcpy(tenant, t ? t : "", cap);
        n++;
        if (exact) {
            n = 1;
            break;
        }
    }
    sqlite3_finalize(st);
    if (n == 0)
        return cmk_err_set(err, CMK_ENOENT, "no %s '%s'", what, value);
    if (n > 1)
        return cmk_err_set(err, CMK_EINVAL, "%d objects are named '%s'; use the %s id", n, value,
                           what);
    return 0;
}

/* authz_resolve_db - tenants of objects in controller.db */
int authz_resolve_db(void *arg, authz_ref ref, const char *value, char *tenant, size_t cap,
                     cmk_err *err)
{
    sqlite3 *db = arg;
    switch (ref) {
    case AUTHZ_REF_TENANT: cmk_strlcpy(tenant, value, cap); return 0;
    case AUTHZ_REF_ENV:
        return one_tenant(db,
                          "SELECT tenant, id = ?1 FROM environments WHERE id = ?1 OR name = ?1 "
                          "ORDER BY id = ?1 DESC",
                          "environment", value, tenant, cap, err);
    case AUTHZ_REF_VAULT:
        return one_tenant(db, "SELECT tenant, 1 FROM vault_vaults WHERE name = ?1", "vault", value,
                          tenant, cap, err);
    case AUTHZ_REF_POLICY:
        return one_tenant(
            db,
            "SELECT tenant, id = ?1 FROM policies WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC",
            "enterprise policy", value, tenant, cap, err);
    case AUTHZ_REF_POLICY_OP:
        return one_tenant(db,
                          "SELECT e.tenant, 1 FROM policy_ops o JOIN environments e ON e.id = "
                          "o.env WHERE o.id = ?1",
                          "policy operation", value, tenant, cap, err);
    case AUTHZ_REF_BACKUP:
        return one_tenant(db, "SELECT tenant, 1 FROM env_backups WHERE id = ?1",
                          "environment backup", value, tenant, cap, err);
    case AUTHZ_REF_NONE: break;
    }
    return cmk_err_set(err, CMK_EINVAL, "nothing to look up");
}
