/*
 * tenantkey_store.c - SQLite persistence of the legacy tenant keys in controller.db: schema,
 * the master key check, savepoint transactions, and the rows of tk_tenants (feature on),
 * tk_scopes (per tenant region: activation and lock times, key-exchange key), tk_keys and
 * tk_envs. Private keys are sealed (common/envelope.h) bound to their row. Every function
 * here runs with the service lock held.
 */
#include "tenantkey_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/util.h"
#include "store.h"

static const char *const tk_schema =
    "CREATE TABLE IF NOT EXISTS tk_meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tk_tenants ("
    "  tenant TEXT PRIMARY KEY, enabled_ms INTEGER NOT NULL, enabled_by TEXT NOT NULL,"
    "  last_migration_ms INTEGER NOT NULL DEFAULT 0, keys_remove_ms INTEGER NOT NULL DEFAULT 0,"
    "  keys_removed_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS tk_scopes ("
    "  tenant TEXT NOT NULL, region TEXT NOT NULL,"
    "  last_activation_ms INTEGER NOT NULL DEFAULT 0, last_activation_key TEXT NOT NULL DEFAULT '',"
    "  last_change_ms INTEGER NOT NULL DEFAULT 0, last_change_what TEXT NOT NULL DEFAULT '',"
    "  lock_ms INTEGER NOT NULL DEFAULT 0, lock_done_ms INTEGER NOT NULL DEFAULT 0,"
    "  lock_complete INTEGER NOT NULL DEFAULT 0, lock_by TEXT NOT NULL DEFAULT '',"
    "  kek_version TEXT NOT NULL DEFAULT '', kek_material BLOB,"
    "  PRIMARY KEY (tenant, region));"
    "CREATE TABLE IF NOT EXISTS tk_keys ("
    "  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    "  state INTEGER NOT NULL, source TEXT NOT NULL, bits INTEGER NOT NULL, fp TEXT NOT NULL,"
    "  pub BLOB NOT NULL, material BLOB, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,"
    "  activated_ms INTEGER NOT NULL DEFAULT 0, active_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  locked_ms INTEGER NOT NULL DEFAULT 0, purpose TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (tenant, name));"
    "CREATE TABLE IF NOT EXISTS tk_envs ("
    "  env TEXT PRIMARY KEY, tenant TEXT NOT NULL, region TEXT NOT NULL, mode INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL DEFAULT 0, key_name TEXT NOT NULL DEFAULT '',"
    "  key_fp TEXT NOT NULL DEFAULT '', policy TEXT NOT NULL DEFAULT '',"
    "  applied_ms INTEGER NOT NULL DEFAULT 0, locked_ms INTEGER NOT NULL DEFAULT 0,"
    "  delete_ms INTEGER NOT NULL DEFAULT 0, migrated_ms INTEGER NOT NULL DEFAULT 0,"
    "  no_return_ms INTEGER NOT NULL DEFAULT 0, retain_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS tk_keys_tenant ON tk_keys (tenant, region);"
    "CREATE INDEX IF NOT EXISTS tk_envs_tenant ON tk_envs (tenant, region);";

#define MASTER_CHECK "cmksim tenantkey master key check v1"

/* tks_fail - an SQLite failure as CMK_EIO */
int tks_fail(tenantkey_svc *svc, cmk_err *err, const char *what)
{
    return cmk_err_set(err, CMK_EIO,
                       "tenant key storage: %s failed: %s (check that controller.db is writable "
                       "and not corrupt)",
                       what, sqlite3_errmsg(svc->db));
}

/* tks_prep - prepare a statement or fail with CMK_EIO */
int tks_prep(tenantkey_svc *svc, const char *sql, sqlite3_stmt **st, cmk_err *err)
{
    if (sqlite3_prepare_v2(svc->db, sql, -1, st, NULL) != SQLITE_OK)
        return tks_fail(svc, err, "preparing a query");
    return 0;
}

/* step_done - run a statement that returns no rows, finalize it */
static int step_done(tenantkey_svc *svc, sqlite3_stmt *st, cmk_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, what);
}


/* grow - make room for one more element */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * size);
    if (!p)
        return CMK_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* seal - seal plain at place under the master key; *blob malloc'd */
static int seal(tenantkey_svc *svc, const cmk_place *pl, const uint8_t *plain, size_t len,
                uint8_t **blob, size_t *blen, cmk_err *err)
{
    *blob = malloc(len + CMK_BLOB_OVERHEAD);
    if (!*blob)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    return cmk_seal(svc->sealer, svc->master, pl, plain, len, *blob, len + CMK_BLOB_OVERHEAD, blen,
                    err);
}

/* unseal_key - open a sealed PKCS#8 blob into a key */
static int unseal_key(tenantkey_svc *svc, const cmk_place *pl, const void *blob, size_t blen,
                      EVP_PKEY **out, cmk_err *err)
{
    uint8_t *plain = malloc(blen + 1);
    size_t plen = 0;
    int rc;

    *out = NULL;
    if (!plain)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    rc = cmk_open(svc->sealer, svc->master, pl, blob, blen, plain, blen + 1, &plen, err);
    if (rc == 0)
        rc = tkc_from_private_der(plain, plen, out, err);
    OPENSSL_cleanse(plain, blen + 1);
    free(plain);
    return rc;
}

/* tks_init - create tables and check the master key */
int tks_init(tenantkey_svc *svc, cmk_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(svc->db, tk_schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = cmk_err_set(err, CMK_EIO, "tenant key storage: cannot create tables: %s",
                             msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return store_master_check(svc->db, svc->sealer, svc->master, "tk_meta", MASTER_CHECK,
                              "tenant key", err);
}

/* tks_begin / tks_commit / tks_rollback - a savepoint, so it nests in a caller's transaction */
int tks_begin(tenantkey_svc *svc, cmk_err *err) { return store_savepoint(svc->db, "tk_tx", err); }
int tks_commit(tenantkey_svc *svc, cmk_err *err) { return store_release(svc->db, "tk_tx", err); }
void tks_rollback(tenantkey_svc *svc) { store_rollback_to(svc->db, "tk_tx"); }

/* ---- tenants ---- */

#define TENANT_COLS                                                                                \
    "tenant, enabled_ms, enabled_by, last_migration_ms, keys_remove_ms, keys_removed_ms"

/* tenant_row - read a tk_tenants row */
static void tenant_row(sqlite3_stmt *st, tk_tenant *t)
{
    memset(t, 0, sizeof *t);
    store_col_text(st, 0, t->tenant, sizeof t->tenant);
    t->enabled_ms = sqlite3_column_int64(st, 1);
    store_col_text(st, 2, t->enabled_by, sizeof t->enabled_by);
    t->last_migration_ms = sqlite3_column_int64(st, 3);
    t->keys_remove_ms = sqlite3_column_int64(st, 4);
    t->keys_removed_ms = sqlite3_column_int64(st, 5);
}

/* tks_tenant_get - CMK_ENOENT (no message) if the feature was never turned on */
int tks_tenant_get(tenantkey_svc *svc, const char *tenant, tk_tenant *out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "SELECT " TENANT_COLS " FROM tk_tenants WHERE tenant = ?", &st, err);

    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        tenant_row(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? CMK_ENOENT : tks_fail(svc, err, "tenant");
}

/* tks_tenant_put - insert or replace */
int tks_tenant_put(tenantkey_svc *svc, const tk_tenant *t, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "INSERT OR REPLACE INTO tk_tenants (" TENANT_COLS ") VALUES (?,?,?,?,?,?)",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, t->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t->enabled_ms);
    sqlite3_bind_text(st, 3, t->enabled_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, t->last_migration_ms);
    sqlite3_bind_int64(st, 5, t->keys_remove_ms);
    sqlite3_bind_int64(st, 6, t->keys_removed_ms);
    return step_done(svc, st, err, "storing a tenant");
}

/* tks_tenants_due - tenants whose key removal is due */
int tks_tenants_due(tenantkey_svc *svc, int64_t now, tk_tenant **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = tks_prep(svc,
                      "SELECT " TENANT_COLS " FROM tk_tenants WHERE keys_remove_ms > 0 AND "
                      "keys_remove_ms <= ? AND keys_removed_ms = 0 ORDER BY keys_remove_ms",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, *n, &cap, sizeof **out) < 0)
            break;
        tenant_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing due tenants");
}

/* ---- scopes ---- */

#define SCOPE_COLS                                                                                 \
    "tenant, region, last_activation_ms, last_activation_key, last_change_ms, last_change_what, "  \
    "lock_ms, lock_done_ms, lock_complete, lock_by, kek_version"

/* scope_row - read a tk_scopes row */
static void scope_row(sqlite3_stmt *st, tk_scope *s)
{
    memset(s, 0, sizeof *s);
    store_col_text(st, 0, s->tenant, sizeof s->tenant);
    store_col_text(st, 1, s->region, sizeof s->region);
    s->last_activation_ms = sqlite3_column_int64(st, 2);
    store_col_text(st, 3, s->last_activation_key, sizeof s->last_activation_key);
    s->last_change_ms = sqlite3_column_int64(st, 4);
    store_col_text(st, 5, s->last_change_what, sizeof s->last_change_what);
    s->lock_ms = sqlite3_column_int64(st, 6);
    s->lock_done_ms = sqlite3_column_int64(st, 7);
    s->lock_complete = sqlite3_column_int(st, 8);
    store_col_text(st, 9, s->lock_by, sizeof s->lock_by);
    store_col_text(st, 10, s->kek_version, sizeof s->kek_version);
}

/* tks_scope_get - the row, or a zeroed one naming tenant and region */
int tks_scope_get(tenantkey_svc *svc, const char *tenant, const char *region, tk_scope *out,
                  cmk_err *err)
{
    sqlite3_stmt *st;
    int rc =
        tks_prep(svc, "SELECT " SCOPE_COLS " FROM tk_scopes WHERE tenant = ? AND region = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        scope_row(st, out);
    } else {
        memset(out, 0, sizeof *out);
        cmk_strlcpy(out->tenant, tenant, sizeof out->tenant);
        cmk_strlcpy(out->region, region, sizeof out->region);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "reading a region");
}

/* tks_scope_put - insert or update (not the key-exchange key material) */
int tks_scope_put(tenantkey_svc *svc, const tk_scope *s, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "INSERT INTO tk_scopes (" SCOPE_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT (tenant, region) DO UPDATE SET "
                      "last_activation_ms = excluded.last_activation_ms, "
                      "last_activation_key = excluded.last_activation_key, "
                      "last_change_ms = excluded.last_change_ms, "
                      "last_change_what = excluded.last_change_what, lock_ms = excluded.lock_ms, "
                      "lock_done_ms = excluded.lock_done_ms, lock_complete = excluded.lock_complete, "
                      "lock_by = excluded.lock_by, kek_version = excluded.kek_version",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, s->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->region, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, s->last_activation_ms);
    sqlite3_bind_text(st, 4, s->last_activation_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, s->last_change_ms);
    sqlite3_bind_text(st, 6, s->last_change_what, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, s->lock_ms);
    sqlite3_bind_int64(st, 8, s->lock_done_ms);
    sqlite3_bind_int(st, 9, s->lock_complete);
    sqlite3_bind_text(st, 10, s->lock_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, s->kek_version, -1, SQLITE_STATIC);
    return step_done(svc, st, err, "storing a region");
}

/* tks_scopes_list - the regions of a tenant that have state */
int tks_scopes_list(tenantkey_svc *svc, const char *tenant, tk_scope **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = tks_prep(svc, "SELECT " SCOPE_COLS " FROM tk_scopes WHERE tenant = ? ORDER BY region", &st,
                      err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, *n, &cap, sizeof **out) < 0)
            break;
        scope_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing regions");
}

/* tks_kek_store - seal and store the scope's key-exchange key (the scope row must exist) */
int tks_kek_store(tenantkey_svc *svc, const char *tenant, const char *region, const char *version,
                  EVP_PKEY *pk, cmk_err *err)
{
    char column[48];
    cmk_place pl = {tenant, "tk_scopes", region, column};
    uint8_t *der = NULL, *blob = NULL;
    size_t der_len = 0, blen = 0;
    sqlite3_stmt *st;
    int rc;

    snprintf(column, sizeof column, "kek:%s", version);
    if ((rc = tkc_private_der(pk, &der, &der_len, err)) < 0)
        return rc;
    rc = seal(svc, &pl, der, der_len, &blob, &blen, err);
    tkc_secret_free(&der, der_len);
    if (rc == 0)
        rc = tks_prep(svc,
                      "UPDATE tk_scopes SET kek_version = ?, kek_material = ? WHERE tenant = ? AND "
                      "region = ?",
                      &st, err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, blob, (int)blen, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, tenant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, region, -1, SQLITE_STATIC);
        rc = step_done(svc, st, err, "storing the key-exchange key");
    }
    free(blob);
    return rc;
}

/* tks_kek_load - the scope's key-exchange key, unsealed; CMK_ENOENT if none */
int tks_kek_load(tenantkey_svc *svc, const char *tenant, const char *region, EVP_PKEY **out,
                 cmk_err *err)
{
    char column[48], version[40];
    cmk_place pl = {tenant, "tk_scopes", region, column};
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "SELECT kek_version, kek_material FROM tk_scopes WHERE tenant = ? AND "
                      "region = ? AND kek_material IS NOT NULL",
                      &st, err);
    *out = NULL;
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ENOENT,
                           "tenant '%s' has no key-exchange key in region '%s' yet; ask for it "
                           "first (kek) and make the .byok file for it",
                           tenant, region);
    }
    store_col_text(st, 0, version, sizeof version);
    snprintf(column, sizeof column, "kek:%s", version);
    rc = unseal_key(svc, &pl, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), out,
                    err);
    sqlite3_finalize(st);
    return rc;
}

/* ---- keys ---- */

#define KEY_COLS                                                                                   \
    "id, tenant, region, name, state, source, bits, fp, pub, created_ms, created_by, "             \
    "activated_ms, active_at_ms, locked_ms, purpose"

/* key_row - read a tk_keys row */
static void key_row(sqlite3_stmt *st, tk_key *k)
{
    int n;

    memset(k, 0, sizeof *k);
    k->id = sqlite3_column_int64(st, 0);
    store_col_text(st, 1, k->info.tenant, sizeof k->info.tenant);
    store_col_text(st, 2, k->info.region, sizeof k->info.region);
    store_col_text(st, 3, k->info.name, sizeof k->info.name);
    k->info.state = (tenantkey_key_state)sqlite3_column_int(st, 4);
    store_col_text(st, 5, k->info.source, sizeof k->info.source);
    k->info.bits = sqlite3_column_int(st, 6);
    store_col_text(st, 7, k->info.fingerprint, sizeof k->info.fingerprint);
    n = sqlite3_column_bytes(st, 8);
    if (n > 0 && (size_t)n <= sizeof k->pub) {
        memcpy(k->pub, sqlite3_column_blob(st, 8), (size_t)n);
        k->pub_len = (size_t)n;
    }
    k->info.created_ms = sqlite3_column_int64(st, 9);
    store_col_text(st, 10, k->info.created_by, sizeof k->info.created_by);
    k->info.activated_ms = sqlite3_column_int64(st, 11);
    k->info.active_at_ms = sqlite3_column_int64(st, 12);
    k->info.locked_ms = sqlite3_column_int64(st, 13);
    store_col_text(st, 14, k->purpose, sizeof k->purpose);
}

/* key_one - run a one-row key query */
static int key_one(tenantkey_svc *svc, sqlite3_stmt *st, tk_key *out, cmk_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        key_row(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? CMK_ENOENT : tks_fail(svc, err, "key");
}

/* tks_key_by_name - one key of a tenant */
int tks_key_by_name(tenantkey_svc *svc, const char *tenant, const char *name, tk_key *out,
                    cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "SELECT " KEY_COLS " FROM tk_keys WHERE tenant = ? AND name = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = key_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        cmk_err_set(err, CMK_ENOENT, "tenant '%s' has no key '%s'; the key list shows its keys",
                    tenant, name);
    return rc;
}

/* tks_key_by_id - one key by row id */
int tks_key_by_id(tenantkey_svc *svc, int64_t id, tk_key *out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "SELECT " KEY_COLS " FROM tk_keys WHERE id = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = key_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        cmk_err_set(err, CMK_ENOENT, "the tenant key of this environment no longer exists");
    return rc;
}

/* keys_query - run a key listing */
static int keys_query(tenantkey_svc *svc, sqlite3_stmt *st, tk_key **out, size_t *n, cmk_err *err)
{
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, *n, &cap, sizeof **out) < 0) {
            sqlite3_finalize(st);
            free(*out);
            *out = NULL;
            *n = 0;
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        }
        key_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tks_fail(svc, err, "listing keys");
}

/* tks_keys_list - keys of a tenant (region NULL: all) in a state (0: any) */
int tks_keys_list(tenantkey_svc *svc, const char *tenant, const char *region,
                  tenantkey_key_state state, tk_key **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "SELECT " KEY_COLS " FROM tk_keys WHERE tenant = ?1 AND (?2 IS NULL OR "
                      "region = ?2) AND (?3 = 0 OR state = ?3) ORDER BY region, name",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    if (region)
        sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)state);
    return keys_query(svc, st, out, n, err);
}

/* tks_keys_installing_due - Installing keys whose end of installation has come */
int tks_keys_installing_due(tenantkey_svc *svc, int64_t now, tk_key **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "SELECT " KEY_COLS " FROM tk_keys WHERE state = ? AND active_at_ms <= ? "
                      "ORDER BY active_at_ms, id",
                      &st, err);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, TENANTKEY_KEY_INSTALLING);
    sqlite3_bind_int64(st, 2, now);
    return keys_query(svc, st, out, n, err);
}

/* material_place - where a key's sealed private key lives */
static void material_place(const tk_key *k, char *row, size_t cap, cmk_place *pl)
{
    snprintf(row, cap, "%s/%s/%s", k->info.tenant, k->info.name, k->info.fingerprint);
    pl->env = k->info.tenant;
    pl->table = "tk_keys";
    pl->row = row;
    pl->column = "material";
}

/* tks_key_insert - insert a key with its private key sealed */
int tks_key_insert(tenantkey_svc *svc, tk_key *k, EVP_PKEY *pk, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "INSERT INTO tk_keys (tenant, region, name, state, source, bits, fp, pub, "
                      "created_ms, created_by, activated_ms, active_at_ms, locked_ms, purpose) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, k->info.tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->info.region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->info.name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)k->info.state);
    sqlite3_bind_text(st, 5, k->info.source, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, k->info.bits);
    sqlite3_bind_text(st, 7, k->info.fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, k->pub, (int)k->pub_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, k->info.created_ms);
    sqlite3_bind_text(st, 10, k->info.created_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, k->info.activated_ms);
    sqlite3_bind_int64(st, 12, k->info.active_at_ms);
    sqlite3_bind_int64(st, 13, k->info.locked_ms);
    sqlite3_bind_text(st, 14, k->purpose, -1, SQLITE_STATIC);
    if ((rc = step_done(svc, st, err, "storing a key")) < 0)
        return rc;
    k->id = sqlite3_last_insert_rowid(svc->db);
    return tks_key_set_material(svc, k, pk, err);
}

/* tks_key_update - state and times */
int tks_key_update(tenantkey_svc *svc, const tk_key *k, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      "UPDATE tk_keys SET state = ?, activated_ms = ?, active_at_ms = ?, "
                      "locked_ms = ?, purpose = ? WHERE id = ?",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, (int)k->info.state);
    sqlite3_bind_int64(st, 2, k->info.activated_ms);
    sqlite3_bind_int64(st, 3, k->info.active_at_ms);
    sqlite3_bind_int64(st, 4, k->info.locked_ms);
    sqlite3_bind_text(st, 5, k->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, k->id);
    return step_done(svc, st, err, "updating a key");
}

/* tks_key_set_material - seal pk as the key's private key, or delete it (pk NULL) */
int tks_key_set_material(tenantkey_svc *svc, const tk_key *k, EVP_PKEY *pk, cmk_err *err)
{
    char row[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + TENANTKEY_FP_MAX + 4];
    cmk_place pl;
    uint8_t *der = NULL, *blob = NULL;
    size_t der_len = 0, blen = 0;
    sqlite3_stmt *st;
    int rc = 0;

    material_place(k, row, sizeof row, &pl);
    if (pk) {
        if ((rc = tkc_private_der(pk, &der, &der_len, err)) < 0)
            return rc;
        rc = seal(svc, &pl, der, der_len, &blob, &blen, err);
        tkc_secret_free(&der, der_len);
    }
    if (rc == 0)
        rc = tks_prep(svc, "UPDATE tk_keys SET material = ? WHERE id = ?", &st, err);
    if (rc == 0) {
        if (blob)
            sqlite3_bind_blob(st, 1, blob, (int)blen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, k->id);
        rc = step_done(svc, st, err, pk ? "storing key material" : "deleting key material");
    }
    free(blob);
    return rc;
}

/* tks_key_delete - remove a key row (and its material) */
int tks_key_delete(tenantkey_svc *svc, int64_t id, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc, "DELETE FROM tk_keys WHERE id = ?", &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return step_done(svc, st, err, "deleting a key");
}
