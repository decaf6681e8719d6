/*
 * policy.c - enterprise policies: tables, create (with the vault and key checks), list, show,
 * validate, delete, the support ticket that raises the CMK environment limit, and an
 * environment's CMK status. Key rotation is in policy_rotation.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "store.h"
#include "util.h"

/* need - a required string member of a request's body */
static const char *need(const cJSON *body, const char *name, cmk_err *err)
{
    const char *v = cmk_json_str(body, name, NULL);
    if (!v || !*v)
        cmk_err_set(err, CMK_EINVAL, "missing '%s'", name);
    return v && *v ? v : NULL;
}

/* pol_exec - SQL with text parameters, on controller.db */
int pol_exec(policy_svc *self, const char *sql, const char *a, const char *b, const char *c, const char *d,
             cmk_err *err)
{
    return store_exec_text(self->d.db, sql, a, b, c, d, err);
}

#define POL_COLS "id, tenant, name, region, vault, key, version, identity, state, health, health_reason, created"

/* row_json - a policies row */
static cJSON *row_json(sqlite3_stmt *st)
{
    static const char *const names[] = { "id", "tenant", "name", "region", "vault", "key", "version", "identity",
                                         "state", "health", "health_reason" };
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    for (int i = 0; i < 11; i++) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            cJSON_AddNullToObject(o, names[i]);
        else
            cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
    }
    cJSON_AddStringToObject(o, "kind", "Encryption");
    cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 11), ts, sizeof ts));
    return o;
}

/* pol_row - by id or name */
cJSON *pol_row(policy_svc *self, const char *ref)
{
    sqlite3_stmt *st;
    cJSON *o = NULL;
    if (!ref || sqlite3_prepare_v2(self->d.db, "SELECT " POL_COLS " FROM policies WHERE id = ?1 OR name = ?1", -1,
                                   &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        o = row_json(st);
    sqlite3_finalize(st);
    return o;
}

/* pol_kek - the policy's key */
void pol_kek(const cJSON *p, keyring_kek *kek)
{
    kek->kind = "vault";
    kek->vault = cmk_json_str(p, "vault", "");
    kek->key = cmk_json_str(p, "key", "");
    kek->version = cmk_json_str(p, "version", NULL);
    kek->principal = cmk_json_str(p, "identity", "");
}

/* pol_check_key - the lock triggers, seen from the policy's identity */
int pol_check_key(policy_svc *self, const cJSON *p, cmk_err *err)
{
    return pol_check_version(self, p, cmk_json_str(p, "version", NULL), err);
}

/* pol_check_version - the same for one version of the policy's key (NULL: the current one) */
int pol_check_version(policy_svc *self, const cJSON *p, const char *version, cmk_err *err)
{
    vault_svc *v = self->d.vault;
    const char *who = cmk_json_str(p, "identity", ""), *vault = cmk_json_str(p, "vault", "");
    const char *key = cmk_json_str(p, "key", "");
    vault_info vi;
    vault_key_info ki;
    uint8_t probe[32] = { 0 }, *wrapped = NULL, *plain = NULL;
    size_t wlen = 0, plen = 0;
    int rc;

    if ((rc = vault_get(v, who, vault, &vi, err)) < 0)
        return rc;
    if (vi.deleted_ms)
        return cmk_err_set(err, CMK_ESTATE, "the key vault %s was deleted", vault);
    if (!vi.public_network_access)
        return cmk_err_set(err, CMK_ESTATE, "network access to the key vault %s was switched off", vault);
    {
        /* the vault firewall: the policy's identity is a trusted Microsoft service calling from
         * the Power Platform infrastructure (vault.microsoft_services) */
        char why[CMK_ERR_MSG_MAX];
        if (!vault_network_admits(v, vault, self->d.cfg->vault_ms_ranges, 1, why, sizeof why))
            return cmk_err_set(err, CMK_ESTATE, "%s", why);
    }
    if ((rc = vault_key_get(v, who, vault, key, version, &ki, err)) < 0)
        return rc;
    vault_key_info_clear(&ki);
    /* wrapKey and unwrapKey, for real */
    rc = vault_key_wrap(v, who, vault, key, version, VAULT_ALG_RSA_OAEP_256, probe, sizeof probe, &wrapped, &wlen, NULL, err);
    if (rc == 0)
        rc = vault_key_unwrap(v, who, vault, key, version, VAULT_ALG_RSA_OAEP_256, wrapped, wlen, &plain, &plen, NULL, err);
    free(wrapped);
    vault_secret_free(&plain, plen);
    return rc;
}

/* check_vault_setup - soft delete, purge protection, key type and size (as the admin) */
static int check_vault_setup(policy_svc *self, const char *principal, const char *vault, const char *key,
                             const char *version, cmk_err *err)
{
    vault_info vi;
    vault_key_info ki;
    int rc = vault_get(self->d.vault, principal, vault, &vi, err);
    if (rc < 0)
        return rc;
    if (!vi.soft_delete || !vi.purge_protection)
        return cmk_err_set(err, CMK_ESTATE,
                           "the key vault %s must have soft delete and purge protection turned on; turn purge "
                           "protection on with: cmkctl vault update %s --purge-protection", vault, vault);
    if ((rc = vault_key_get(self->d.vault, principal, vault, key, version, &ki, err)) < 0)
        return rc;
    rc = 0;
    if (ki.kty != VAULT_KTY_RSA && ki.kty != VAULT_KTY_RSA_HSM)
        rc = cmk_err_set(err, CMK_EINVAL, "the key must be of type RSA or RSA-HSM");
    else if (ki.bits != 2048 && ki.bits != 3072)
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the key %s is %d bits; an encryption policy needs an RSA key of 2048 or 3072 bits", key, ki.bits);
    vault_key_info_clear(&ki);
    return rc;
}

/* policy_create - a new policy with its identity */
int policy_create(policy_svc *self, const char *principal, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *tenant = need(b, "tenant", err), *name = need(b, "name", err), *vault = need(b, "vault", err);
    const char *key = need(b, "key", err), *region = need(b, "region", err);
    const char *version = cmk_json_str(b, "version", NULL);
    char id[64], identity[96];
    cJSON *t, *existing;
    cmk_err kerr = CMK_ERR_INIT;
    int rc;

    if (!tenant || !name || !vault || !key || !region)
        return CMK_EINVAL;
    if ((rc = directory_tenant_get(self->d.dir, tenant, &t, err)) < 0)
        return rc;
    cJSON_Delete(t);
    if (!directory_valid_region(region))
        return cmk_err_set(err, CMK_EINVAL, "unknown region '%s'; use one of: %s", region, directory_regions());
    if ((existing = pol_row(self, name))) {
        cJSON_Delete(existing);
        return cmk_err_set(err, CMK_EEXIST, "a policy named '%s' exists already", name);
    }
    if ((rc = check_vault_setup(self, principal, vault, key, version, err)) < 0)
        return rc;
    cmk_random_id("pol", id, sizeof id);
    id[16] = '\0';
    snprintf(identity, sizeof identity, "pp-identity-%s", id + 4);
    {
        sqlite3_stmt *st;
        const char *vals[] = { id, tenant, name, region, vault, key, version, identity };
        if (sqlite3_prepare_v2(self->d.db,
                               "INSERT INTO policies(id, tenant, name, region, vault, key, version, identity, state, "
                               "health, created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, 'NotConfigured', 'Undetermined', ?)",
                               -1, &st, NULL) != SQLITE_OK)
            return store_err(self->d.db, err, "policy insert");
        for (int i = 0; i < 8; i++)
            if (vals[i])
                sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, cmk_clock_now(self->d.clock));
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->d.db, err, "policy insert");
        sqlite3_finalize(st);
        if (rc < 0)
            return rc;
    }
    if ((rc = audit_must(self->d.audit, principal, "policy.create", id, 0, name, err)) < 0) {
        /* fail closed: a policy nobody can trace back is not created */
        pol_exec(self, "DELETE FROM policies WHERE id = ?1", id, NULL, NULL, NULL, NULL);
        return rc;
    }
    /* the identity needs get, wrapKey and unwrapKey before environments can be added */
    *out = pol_row(self, id);
    if (pol_check_key(self, *out, &kerr) == 0)
        pol_exec(self, "UPDATE policies SET state = 'Enabled', health = 'Healthy', health_reason = NULL WHERE id = ?1", id,
                 NULL, NULL, NULL, NULL);
    else {
        char fix[768], *other = strstr(kerr.msg, "; grant it with:");
        if (other) /* one next step: the command that grants all three */
            *other = '\0';
        snprintf(fix, sizeof fix, "%s; give the policy's identity get, wrapKey and unwrapKey on %s with: "
                                  "cmkctl policy grant-identity %s, then: cmkctl policy validate %s",
                 kerr.msg, vault, name, name);
        pol_exec(self, "UPDATE policies SET health_reason = ?2 WHERE id = ?1", id, fix, NULL, NULL, NULL);
    }
    cJSON_Delete(*out);
    *out = pol_row(self, id);
    return 0;
}

int policy_get(policy_svc *self, const char *ref, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *envs;
    *out = pol_row(self, ref);
    if (!*out)
        return cmk_err_set(err, CMK_ENOENT, "no enterprise policy '%s'; `cmkctl policy list` shows them", ref ? ref : "");
    envs = cJSON_AddArrayToObject(*out, "environments");
    /* an environment removed from the policy (or reset) is not Encrypted by it: listed apart */
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, unlinked_at FROM policy_links WHERE policy = ? AND status = 'Unlinked'",
                           -1, &st, NULL) == SQLITE_OK) {
        cJSON *removed = cJSON_AddArrayToObject(*out, "removed_environments");
        sqlite3_bind_text(st, 1, cmk_json_str(*out, "id", ""), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            char ts[40];
            cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(o, "encryption", "Microsoft-managed key");
            cJSON_AddStringToObject(o, "removed_at", cmk_time_format(sqlite3_column_int64(st, 1), ts, sizeof ts));
            cJSON_AddItemToArray(removed, o);
        }
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, status, encryption_status, locked_at FROM policy_links WHERE policy = ? "
                                          "AND status <> 'Unlinked'", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, cmk_json_str(*out, "id", ""), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddStringToObject(o, "encryption_status", (const char *)sqlite3_column_text(st, 2));
            cJSON_AddBoolToObject(o, "locked", sqlite3_column_int64(st, 3) > 0);
            {
                char ver[VAULT_VERSION_MAX];
                if (keyring_kek_version(self->d.keyring, (const char *)sqlite3_column_text(st, 0), "cmk", ver,
                                        sizeof ver, NULL) == 0 && ver[0])
                    cJSON_AddStringToObject(o, "key_version", ver);
            }
            migration_mmk_warnings(self->d.migration, (const char *)sqlite3_column_text(st, 0), "customer", *out);
            cJSON_AddItemToArray(envs, o);
        }
        sqlite3_finalize(st);
    }
    return 0;
}

int policy_list(policy_svc *self, const char *tenant, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *items;
    if (sqlite3_prepare_v2(self->d.db, "SELECT " POL_COLS " FROM policies WHERE ?1 IS NULL OR tenant = ?1 ORDER BY created",
                           -1, &st, NULL) != SQLITE_OK)
        return store_err(self->d.db, err, "policy list");
    if (tenant)
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    *out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(*out, "items");
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(items, row_json(st));
    sqlite3_finalize(st);
    return 0;
}

/* policy_validate - re-check and update state and health */
int policy_validate(policy_svc *self, const char *principal, const char *ref, cJSON **out, cmk_err *err)
{
    cJSON *p = pol_row(self, ref);
    cmk_err kerr = CMK_ERR_INIT;
    int rc;
    if (!p)
        return cmk_err_set(err, CMK_ENOENT, "no enterprise policy '%s'", ref ? ref : "");
    rc = pol_check_key(self, p, &kerr);
    if (rc == 0)
        pol_exec(self, "UPDATE policies SET state = 'Enabled', health = 'Healthy', health_reason = NULL WHERE id = ?1",
                 cmk_json_str(p, "id", ""), NULL, NULL, NULL, NULL);
    else
        pol_exec(self, "UPDATE policies SET health_reason = ?2 WHERE id = ?1", cmk_json_str(p, "id", ""), kerr.msg, NULL,
                 NULL, NULL);
    audit_append(self->d.audit, principal, "policy.validate", cmk_json_str(p, "id", ""), rc, rc ? kerr.msg : NULL, NULL,
                 NULL);
    cJSON_Delete(p);
    policy_health_check(self, "validate");
    if ((rc = policy_get(self, ref, out, err)) < 0)
        return rc;
    /* the CLI exits nonzero on valid=false (the view still says why) */
    cJSON_AddBoolToObject(*out, "valid", kerr.code == 0);
    if (kerr.code)
        cJSON_AddStringToObject(*out, "validation_error", kerr.msg);
    return 0;
}

/* policy_delete - refused while environments are linked to the policy (remove them first, as
 * the real service does: deleting it under them would leave them locked with no way back) */
int policy_delete(policy_svc *self, const char *principal, const char *ref, cJSON **out, cmk_err *err)
{
    cJSON *p = pol_row(self, ref);
    sqlite3_stmt *st;
    char linked[1024] = "";
    int n = 0, rc;
    if (!p)
        return cmk_err_set(err, CMK_ENOENT, "no enterprise policy '%s'", ref ? ref : "");
    if (sqlite3_prepare_v2(self->d.db, "SELECT l.env, e.name FROM policy_links l LEFT JOIN environments e ON "
                                          "e.id = l.env WHERE l.policy = ? AND l.status IN ('Linking', 'Linked', "
                                          "'Unlinking') ORDER BY l.env", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, cmk_json_str(p, "id", ""), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 1);
            size_t len = strlen(linked);
            snprintf(linked + len, sizeof linked - len, "%s%s%s%s%s", n ? ", " : "", (const char *)sqlite3_column_text(st, 0),
                     name ? " (" : "", name ? name : "", name ? ")" : "");
            n++;
        }
        sqlite3_finalize(st);
    }
    if (n) {
        rc = cmk_err_set(err, CMK_ESTATE, "enterprise policy %s cannot be deleted: %d environment%s linked to it: %s; "
                                          "remove them first with `cmkctl policy remove-env ENV`",
                         cmk_json_str(p, "name", ""), n, n == 1 ? " is" : "s are", linked);
        audit_append(self->d.audit, principal, "policy.delete", cmk_json_str(p, "id", ""), rc, err ? err->msg : NULL,
                     NULL, NULL);
        cJSON_Delete(p);
        return rc;
    }
    /* fail closed: recorded first, not made when it cannot be (a failure is recorded after) */
    if ((rc = audit_must(self->d.audit, principal, "policy.delete", cmk_json_str(p, "id", ""), 0, NULL, err)) < 0) {
        cJSON_Delete(p);
        return rc;
    }
    rc = pol_exec(self, "UPDATE policies SET state = 'Disabled', health = 'Unhealthy', health_reason = 'deleted', "
                        "name = name || ' (deleted ' || id || ')' WHERE id = ?1",
                  cmk_json_str(p, "id", ""), NULL, NULL, NULL, err);
    if (rc < 0)
        audit_append(self->d.audit, principal, "policy.delete", cmk_json_str(p, "id", ""), rc, err ? err->msg : NULL,
                     NULL, NULL);
    *out = p;
    cJSON_AddBoolToObject(p, "deleted", 1);
    return rc;
}

/* policy_raise_limit - the support ticket */
int policy_raise_limit(policy_svc *self, const char *principal, const char *tenant, int limit, cJSON **out, cmk_err *err)
{
    char text[32];
    int rc;
    if (limit < 1 || limit > 10000)
        return cmk_err_set(err, CMK_EINVAL, "give the new limit as a number from 1 to 10000");
    snprintf(text, sizeof text, "%d", limit);
    if ((rc = directory_tenant_get(self->d.dir, tenant, out, err)) < 0)
        return rc;
    cJSON_Delete(*out);
    /* fail closed: recorded first, not made when it cannot be (a failure is recorded after) */
    if ((rc = audit_must(self->d.audit, principal, "support.raise-cmk-limit", tenant, 0, text, err)) < 0)
        return rc;
    if ((rc = directory_tenant_set_cmk_limit(self->d.dir, tenant, limit, err)) < 0)
        audit_append(self->d.audit, principal, "support.raise-cmk-limit", tenant, rc, err->msg, NULL, NULL);
    return rc < 0 ? rc : directory_tenant_get(self->d.dir, tenant, out, err);
}

/* policy_env_status - an environment's CMK view */
int policy_env_status(policy_svc *self, const char *env, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *row;
    int rc = directory_env_get(self->d.dir, env, &row, err);
    if (rc < 0)
        return rc;
    *out = row;
    if (sqlite3_prepare_v2(self->d.db, "SELECT policy, status, encryption_status, locked_at, lock_reason, unlinked_at "
                                          "FROM policy_links WHERE env = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, cmk_json_str(row, "id", ""), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            char ts[40];
            cJSON_AddStringToObject(row, "link_status", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddStringToObject(row, "encryption_status", (const char *)sqlite3_column_text(st, 2));
            if (sqlite3_column_int64(st, 3) > 0)
                cJSON_AddStringToObject(row, "lock_reason", (const char *)sqlite3_column_text(st, 4));
            if (sqlite3_column_int64(st, 5) > 0)
                cJSON_AddStringToObject(row, "left_policy_at", cmk_time_format(sqlite3_column_int64(st, 5), ts, sizeof ts));
        }
        sqlite3_finalize(st);
    }
    policy_env_lock_view(self, row); /* "Environment disabled", cause, locked_at, deletion due */
    migration_mmk_warnings(self->d.migration, cmk_json_str(row, "id", ""), cmk_json_str(row, "encryption", ""), row);
    pol_rotation_status(self, cmk_json_str(row, "id", ""), row);
    return 0;
}

/* policy_env_lock_view - "Environment disabled", its cause and the deletion due date */
void policy_env_lock_view(policy_svc *self, cJSON *row)
{
    sqlite3_stmt *st;
    const char *id = cmk_json_str(row, "id", "");
    char ts[40], cause[1100] = "", remedy[300] = "";
    int64_t locked_at = 0, due = 0;
    if (strcmp(cmk_json_str(row, "state", ""), "Locked") != 0)
        return;
    if (sqlite3_prepare_v2(self->d.db, "SELECT locked_at, lock_reason FROM policy_links WHERE env = ? AND locked_at > 0",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            locked_at = sqlite3_column_int64(st, 0);
            snprintf(cause, sizeof cause, "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1)
                                                                             : "the customer-managed key is not reachable");
            due = locked_at + (strcmp(cmk_json_str(row, "type", ""), "sandbox") == 0 ? self->d.cfg->locked_delete_sandbox
                                                                                   : self->d.cfg->locked_delete_production);
            snprintf(remedy, sizeof remedy, "restore access to the key, then: cmkctl env reenable %s", id);
        }
        sqlite3_finalize(st);
    }
    if (!locked_at) {
        /* the legacy BYOK tenant lock */
        tenantkey_env_state ts2;
        if (tenantkey_env_byok_state(self->d.tenantkeys, "system", id, &ts2, NULL) == 0 && ts2.locked_ms) {
            locked_at = ts2.locked_ms;
            due = ts2.delete_at_ms;
            snprintf(cause, sizeof cause, "the tenant's encryption key %s was locked (legacy BYOK tenant lock)", ts2.key);
            snprintf(remedy, sizeof remedy, "unlock the tenant key (cmkctl tenant unlock-key), then: cmkctl env unlock %s",
                     id);
        }
    }
    cJSON_AddStringToObject(row, "status", "Environment disabled");
    cJSON_AddStringToObject(row, "lock_cause", cause[0] ? cause : "its encryption key is not reachable");
    if (locked_at)
        cJSON_AddStringToObject(row, "locked_at", cmk_time_format(locked_at, ts, sizeof ts));
    if (due)
        cJSON_AddStringToObject(row, "deletion_due", cmk_time_format(due, ts, sizeof ts));
    if (remedy[0])
        cJSON_AddStringToObject(row, "remedy", remedy);
}

/* on_health_tick - the periodic health check */
static int on_health_tick(cmk_loop *loop, int64_t id, void *arg)
{
    policy_health_check(arg, "periodic");
    return 0;
}

/* policy_svc_new - the tables, the vault's rotation hook, the health timer */
policy_svc *policy_svc_new(const policy_deps *deps, cmk_err *err)
{
    policy_svc *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->d = *deps;
    if (store_exec(self->d.db,
                   "CREATE TABLE IF NOT EXISTS policies (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL UNIQUE,"
                   "  region TEXT NOT NULL, vault TEXT NOT NULL, key TEXT NOT NULL, version TEXT, identity TEXT NOT NULL,"
                   "  state TEXT NOT NULL, health TEXT NOT NULL, health_reason TEXT, created INTEGER NOT NULL);"
                   "CREATE TABLE IF NOT EXISTS policy_links (env TEXT PRIMARY KEY, policy TEXT NOT NULL, status TEXT NOT NULL,"
                   "  encryption_status TEXT NOT NULL DEFAULT 'Warning', locked_at INTEGER NOT NULL DEFAULT 0,"
                   "  lock_reason TEXT, linked_at INTEGER NOT NULL DEFAULT 0, unlinked_at INTEGER NOT NULL DEFAULT 0);"
                   "CREATE TABLE IF NOT EXISTS policy_ops (id TEXT PRIMARY KEY, kind TEXT NOT NULL, env TEXT NOT NULL,"
                   "  policy TEXT, principal TEXT, status TEXT NOT NULL, message TEXT, started INTEGER NOT NULL,"
                   "  ended INTEGER NOT NULL DEFAULT 0);",
                   err) < 0 || pol_rotation_init(self, err) < 0) {
        free(self);
        return NULL;
    }
    vault_svc_set_rotate_hook(self->d.vault, pol_on_rotation, self);
    self->health_timer =
        cmk_loop_add_timer(self->d.loop, self->d.cfg->health_interval, 1, on_health_tick, self);
    return self;
}

/* policy_svc_destroy - the hook and the timer go with it */
void policy_svc_destroy(policy_svc **self_p)
{
    if (!self_p || !*self_p)
        return;
    vault_svc_set_rotate_hook((*self_p)->d.vault, NULL, NULL);
    if ((*self_p)->health_timer)
        cmk_loop_cancel_timer((*self_p)->d.loop, (*self_p)->health_timer);
    free(*self_p);
    *self_p = NULL;
}

/* policy_locks_by_reason - {lock reason: count} of the locked links */
cJSON *policy_locks_by_reason(policy_svc *self)
{
    return store_count_by(self->d.db, "SELECT lock_reason, count(*) FROM policy_links WHERE locked_at > 0 "
                                         "GROUP BY lock_reason");
}
