/*
 * tenantkey_store_env.c - SQLite persistence of the environments the legacy tenant key
 * feature touched (tk_envs: encryption mode, key, lock and migration times), and the query of
 * every future due time, to reschedule clock timers after a start. Lock held throughout.
 */
#include "tenantkey_int.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define ENV_COLS                                                                                   \
    "env, tenant, region, mode, key_id, key_name, key_fp, policy, applied_ms, locked_ms, "         \
    "delete_ms, migrated_ms, no_return_ms, retain_ms"

/* env_row - read a tk_envs row */
static void env_row(sqlite3_stmt *st, tk_env *e)
{
    memset(e, 0, sizeof *e);
    store_col_text(st, 0, e->env, sizeof e->env);
    store_col_text(st, 1, e->tenant, sizeof e->tenant);
    store_col_text(st, 2, e->region, sizeof e->region);
    e->mode = (tenantkey_env_mode)sqlite3_column_int(st, 3);
    e->key_id = sqlite3_column_int64(st, 4);
    store_col_text(st, 5, e->key_name, sizeof e->key_name);
    store_col_text(st, 6, e->key_fp, sizeof e->key_fp);
    store_col_text(st, 7, e->policy, sizeof e->policy);
    e->applied_ms = sqlite3_column_int64(st, 8);
    e->locked_ms = sqlite3_column_int64(st, 9);
    e->delete_ms = sqlite3_column_int64(st, 10);
    e->migrated_ms = sqlite3_column_int64(st, 11);
    e->no_return_ms = sqlite3_column_int64(st, 12);
    e->retain_ms = sqlite3_column_int64(st, 13);
}

/* envs_query - run an environment listing */
static int envs_query(tenantkey_svc *svc, sqlite3_stmt *st, tk_env **out, size_t *n, cmk_err *err)
{
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            tk_env *p = realloc(*out, nc * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return cmk_err_set(err, CMK_ENOMEM, "out of memory");
            }
            *out = p;
            cap = nc;
        }
        env_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing environments");
}

/* tks_env_get - our row of an environment; CMK_ENOENT (no message) if none */
int tks_env_get(tenantkey_svc *svc, const char *env, tk_env *out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "SELECT " ENV_COLS " FROM tk_envs WHERE env = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        env_row(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? 0
           : rc == SQLITE_DONE ? CMK_ENOENT
                               : tks_fail(svc, err, "reading an environment");
}

/* tks_env_put - insert or replace */
int tks_env_put(tenantkey_svc *svc, const tk_env *e, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "INSERT OR REPLACE INTO tk_envs (" ENV_COLS ") VALUES "
                      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, e->env, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->region, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)e->mode);
    sqlite3_bind_int64(st, 5, e->key_id);
    sqlite3_bind_text(st, 6, e->key_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->key_fp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, e->policy, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, e->applied_ms);
    sqlite3_bind_int64(st, 10, e->locked_ms);
    sqlite3_bind_int64(st, 11, e->delete_ms);
    sqlite3_bind_int64(st, 12, e->migrated_ms);
    sqlite3_bind_int64(st, 13, e->no_return_ms);
    sqlite3_bind_int64(st, 14, e->retain_ms);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "storing an environment");
}

/* tks_env_delete - forget an environment */
int tks_env_delete(tenantkey_svc *svc, const char *env, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "DELETE FROM tk_envs WHERE env = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "deleting an environment");
}

/* tks_envs_list - envs of a tenant (region NULL: all) in a mode (-1: any) */
int tks_envs_list(tenantkey_svc *svc, const char *tenant, const char *region, int mode,
                  tk_env **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "SELECT " ENV_COLS " FROM tk_envs WHERE tenant = ?1 AND (?2 IS NULL OR "
                      "region = ?2) AND (?3 < 0 OR mode = ?3) ORDER BY env",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    if (region)
        sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, mode);
    return envs_query(svc, st, out, n, err);
}

/* tks_envs_delete_due - locked environments whose deletion is due */
int tks_envs_delete_due(tenantkey_svc *svc, int64_t now, tk_env **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "SELECT " ENV_COLS " FROM tk_envs WHERE mode = ? AND delete_ms > 0 AND "
                      "delete_ms <= ? ORDER BY delete_ms, env",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, TENANTKEY_ENV_LOCKED);
    sqlite3_bind_int64(st, 2, now);
    return envs_query(svc, st, out, n, err);
}

/* tks_due_times - every pending due time: installs, lock completions, deletions, removals */
int tks_due_times(tenantkey_svc *svc, int64_t **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = tks_prep(svc,
                      "SELECT active_at_ms FROM tk_keys WHERE state = ?1 "
                      "UNION SELECT lock_done_ms FROM tk_scopes WHERE lock_ms > 0 AND "
                      "lock_complete = 0 "
                      "UNION SELECT delete_ms FROM tk_envs WHERE mode = ?2 AND delete_ms > 0 "
                      "UNION SELECT keys_remove_ms FROM tk_tenants WHERE keys_remove_ms > 0 AND "
                      "keys_removed_ms = 0",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, TENANTKEY_KEY_INSTALLING);
    sqlite3_bind_int(st, 2, TENANTKEY_ENV_LOCKED);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            int64_t *p = realloc(*out, nc * sizeof *p);
            if (!p)
                break;
            *out = p;
            cap = nc;
        }
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing due times");
}

/* tks_scopes_lock_due - regions whose lock process has run its course but is not recorded */
int tks_scopes_lock_due(tenantkey_svc *svc, int64_t now, char (**tenants)[TENANTKEY_ID_MAX],
                        char (**regions)[TENANTKEY_REGION_MAX], size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = tks_prep(svc,
                      "SELECT tenant, region FROM tk_scopes WHERE lock_ms > 0 AND "
                      "lock_complete = 0 AND lock_done_ms <= ? ORDER BY lock_done_ms",
                      &st, err);
    *tenants = NULL;
    *regions = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            void *a = realloc(*tenants, nc * sizeof **tenants);
            if (a)
                *tenants = a;
            void *b = a ? realloc(*regions, nc * sizeof **regions) : NULL;
            if (!b)
                break;
            *regions = b;
            cap = nc;
        }
        store_col_text(st, 0, (*tenants)[*n], TENANTKEY_ID_MAX);
        store_col_text(st, 1, (*regions)[*n], TENANTKEY_REGION_MAX);
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing due locks");
}

/* tks_keks_forget - delete every key-exchange key of a tenant */
int tks_keks_forget(tenantkey_svc *svc, const char *tenant, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc =
        tks_prep(svc, "UPDATE tk_scopes SET kek_version = '', kek_material = NULL WHERE tenant = ?",
                 &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "deleting key-exchange keys");
}
