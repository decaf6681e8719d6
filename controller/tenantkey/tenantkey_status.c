/*
 * tenantkey_status.c - the tenant's legacy key feature at a glance, as JSON: whether it is
 * on, per region the active and installing keys, the last activation and when the next one
 * is allowed, the last key change and when a lock is allowed, the lock and when unlocking is
 * allowed, the key-exchange key; the locked environments; the key removal after migration.
 */
#include "tenantkey_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* put_time - a time member, or nothing when 0 */
static void put_time(cJSON *o, const char *name, int64_t ms)
{
    char ts[TK_TS];
    if (ms)
        cJSON_AddStringToObject(o, name, tk_time(ms, ts, sizeof ts));
}

/* region_json - one tenant region */
static cJSON *region_json(tk_op *op, const tk_scope *s)
{
    const tenantkey_config *cfg = &op->svc->cfg;
    cJSON *o = cJSON_CreateObject();
    char kid[TENANTKEY_KID_MAX];
    tk_key *keys = NULL;
    size_t n = 0;

    cJSON_AddStringToObject(o, "region", s->region);
    if (tks_keys_list(op->svc, s->tenant, s->region, 0, &keys, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++) {
            if (keys[i].info.state == TENANTKEY_KEY_ACTIVE)
                cJSON_AddStringToObject(o, "active_key", keys[i].info.name);
            if (keys[i].info.state == TENANTKEY_KEY_LOCKED)
                cJSON_AddStringToObject(o, "locked_key", keys[i].info.name);
            if (keys[i].info.state == TENANTKEY_KEY_INSTALLING) {
                cJSON_AddStringToObject(o, "installing_key", keys[i].info.name);
                put_time(o, "installing_until", keys[i].info.active_at_ms);
            }
        }
    free(keys);
    put_time(o, "last_activation", s->last_activation_ms);
    if (s->last_activation_ms)
        put_time(o, "next_activation_allowed", s->last_activation_ms + cfg->activation_gap_ms);
    if (s->last_change_ms) {
        cJSON_AddStringToObject(o, "last_key_change", s->last_change_what);
        put_time(o, "last_key_change_at", s->last_change_ms);
        put_time(o, "lock_allowed_from", s->last_change_ms + cfg->lock_guard_ms);
    }
    if (s->lock_ms) {
        int64_t a = s->lock_done_ms, b = s->lock_ms + cfg->unlock_wait_ms;
        put_time(o, "locked_at", s->lock_ms);
        put_time(o, "lock_completes_at", s->lock_done_ms);
        put_time(o, "unlock_allowed_from", a > b ? a : b);
        cJSON_AddBoolToObject(o, "lock_in_progress", op->now < s->lock_done_ms);
    }
    if (s->kek_version[0])
        cJSON_AddStringToObject(o, "kek_kid",
                                tkc_kek_kid(s->tenant, s->region, s->kek_version, kid, sizeof kid));
    return o;
}

/* tenantkey_status - the feature state of a tenant */
int tenantkey_status(tenantkey_svc *self, const char *principal, const char *tenant, cJSON **out,
                     cmk_err *err)
{
    tk_scope *scopes = NULL;
    tk_env *envs = NULL;
    size_t ns = 0, ne = 0;
    cJSON *j = NULL, *arr;
    tk_tenant t;
    tk_op op;
    int rc;

    *out = NULL;
    tk_op_begin(&op, self, principal, "tenantkey.status", tenant, err);
    if ((rc = tk_check_principal(&op)) < 0)
        goto done;
    if ((rc = directory_tenant_get(self->dir, tenant ? tenant : "", &j, op.err)) < 0)
        goto done;
    cJSON_Delete(j);
    rc = tks_tenant_get(self, tenant, &t, op.err);
    if (rc < 0 && rc != CMK_ENOENT)
        goto done;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "tenant", tenant);
    cJSON_AddBoolToObject(*out, "byok_enabled", rc == 0 && !t.keys_removed_ms);
    cJSON_AddStringToObject(*out, "notice", tenantkey_deprecation_notice());
    if (rc == CMK_ENOENT) {
        rc = 0;
        goto done;
    }
    put_time(*out, "enabled_at", t.enabled_ms);
    put_time(*out, "last_byok_migration", t.last_migration_ms);
    put_time(*out, "keys_removal_due", t.keys_remove_ms);
    put_time(*out, "keys_removed", t.keys_removed_ms);
    arr = cJSON_AddArrayToObject(*out, "regions");
    if ((rc = tks_scopes_list(self, tenant, &scopes, &ns, op.err)) < 0)
        goto done;
    for (size_t i = 0; i < ns; i++)
        cJSON_AddItemToArray(arr, region_json(&op, &scopes[i]));
    arr = cJSON_AddArrayToObject(*out, "locked_environments");
    if ((rc = tks_envs_list(self, tenant, NULL, TENANTKEY_ENV_LOCKED, &envs, &ne, op.err)) < 0)
        goto done;
    for (size_t i = 0; i < ne; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "env", envs[i].env);
        cJSON_AddStringToObject(e, "key", envs[i].key_name);
        put_time(e, "locked", envs[i].locked_ms);
        put_time(e, "deleted_at", envs[i].delete_ms);
        cJSON_AddItemToArray(arr, e);
    }
    tk_detail(&op, "%zu regions, %zu locked environments", ns, ne);
done:
    free(scopes);
    free(envs);
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return tk_op_end(&op, rc);
}
