/*
 * vault_store.c - SQLite persistence of the vault: schema, the master key check, transactions,
 * rows of vaults and access lists, and the queries for due purges (keys and versions are in
 * vault_store_keys.c). Every function here runs with the service lock held.
 */
#include "vault_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/util.h"
#include "store.h"

static const char *const vault_schema =
    "CREATE TABLE IF NOT EXISTS vault_meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS vault_vaults ("
    "  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL UNIQUE,"
    "  region TEXT NOT NULL, retention_days INTEGER NOT NULL, soft_delete INTEGER NOT NULL,"
    "  purge_protection INTEGER NOT NULL, public_network INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    "  deleted_ms INTEGER NOT NULL DEFAULT 0, purge_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS vault_access ("
    "  vault_id INTEGER NOT NULL, principal TEXT NOT NULL, perms INTEGER NOT NULL,"
    "  PRIMARY KEY (vault_id, principal));"
    "CREATE TABLE IF NOT EXISTS vault_keys ("
    "  id INTEGER PRIMARY KEY, vault_id INTEGER NOT NULL, name TEXT NOT NULL,"
    "  key_ops INTEGER NOT NULL, enabled INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '{}',"
    "  current_version INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL, deleted_ms INTEGER NOT NULL DEFAULT 0,"
    "  purge_ms INTEGER NOT NULL DEFAULT 0, rot_after_ms INTEGER NOT NULL DEFAULT 0,"
    "  rot_before_ms INTEGER NOT NULL DEFAULT 0, rot_expiry_ms INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (vault_id, name));"
    "CREATE TABLE IF NOT EXISTS vault_key_versions ("
    "  id INTEGER PRIMARY KEY, key_id INTEGER NOT NULL, version TEXT NOT NULL,"
    "  kty INTEGER NOT NULL, bits INTEGER NOT NULL, enabled INTEGER NOT NULL,"
    "  nbf_ms INTEGER NOT NULL DEFAULT 0, exp_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, pub BLOB NOT NULL,"
    "  material BLOB NOT NULL, UNIQUE (key_id, version));"
    "CREATE INDEX IF NOT EXISTS vault_keys_purge ON vault_keys (purge_ms);"
    "CREATE INDEX IF NOT EXISTS vault_vaults_purge ON vault_vaults (purge_ms);";

#define MASTER_CHECK "cmksim vault master key check v1"

/* vstore_fail - an SQLite failure as CMK_EIO */
int vstore_fail(vault_svc *svc, cmk_err *err, const char *what)
{
    return cmk_err_set(err, CMK_EIO,
                       "vault storage: %s failed: %s (check that controller.db "
                       "is writable and not corrupt)",
                       what, sqlite3_errmsg(svc->db));
}

/* vstore_prep - prepare a statement or fail with CMK_EIO */
int vstore_prep(vault_svc *svc, const char *sql, sqlite3_stmt **st, cmk_err *err)
{
    if (sqlite3_prepare_v2(svc->db, sql, -1, st, NULL) != SQLITE_OK)
        return vstore_fail(svc, err, "preparing a query");
    return 0;
}

/* vstore_step_done - run a statement that returns no rows, finalize it */
int vstore_step_done(vault_svc *svc, sqlite3_stmt *st, cmk_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : vstore_fail(svc, err, what);
}

/* vstore_col_text - copy a text column */
void vstore_col_text(sqlite3_stmt *st, int i, char *out, size_t cap) { store_col_text(st, i, out, cap); }

/* vstore_init - create tables and check the master key */
int vstore_init(vault_svc *svc, cmk_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(svc->db, vault_schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc =
            cmk_err_set(err, CMK_EIO, "vault storage: cannot create tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return store_master_check(svc->db, svc->sealer, svc->master, "vault_meta", MASTER_CHECK,
                              "vault", err);
}

/* vstore_begin / vstore_commit / vstore_rollback - a savepoint, so it nests in a caller's
 * transaction */
int vstore_begin(vault_svc *svc, cmk_err *err) { return store_savepoint(svc->db, "vault_tx", err); }
int vstore_commit(vault_svc *svc, cmk_err *err) { return store_release(svc->db, "vault_tx", err); }
void vstore_rollback(vault_svc *svc) { store_rollback_to(svc->db, "vault_tx"); }

/* ---- vaults ---- */

#define VAULT_COLS                                                                                 \
    "id, tenant, name, region, retention_days, soft_delete, purge_protection, public_network,"     \
    " created_by, created_ms, updated_ms, deleted_ms, purge_ms"

/* vrow_read - a vault row from VAULT_COLS */
static void vrow_read(sqlite3_stmt *st, vrow *v)
{
    memset(v, 0, sizeof *v);
    v->id = sqlite3_column_int64(st, 0);
    vstore_col_text(st, 1, v->tenant, sizeof v->tenant);
    vstore_col_text(st, 2, v->name, sizeof v->name);
    vstore_col_text(st, 3, v->region, sizeof v->region);
    v->retention_days = sqlite3_column_int(st, 4);
    v->soft_delete = sqlite3_column_int(st, 5);
    v->purge_protection = sqlite3_column_int(st, 6);
    v->public_network = sqlite3_column_int(st, 7);
    vstore_col_text(st, 8, v->created_by, sizeof v->created_by);
    v->created_ms = sqlite3_column_int64(st, 9);
    v->updated_ms = sqlite3_column_int64(st, 10);
    v->deleted_ms = sqlite3_column_int64(st, 11);
    v->purge_ms = sqlite3_column_int64(st, 12);
}

/* vault_one - run a vault SELECT expected to return at most one row */
static int vault_one(vault_svc *svc, sqlite3_stmt *st, vrow *out, cmk_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        vrow_read(st, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = CMK_ENOENT;
    } else {
        rc = vstore_fail(svc, err, "reading a vault");
    }
    sqlite3_finalize(st);
    return rc;
}

/* vstore_vault_by_name - a vault by name */
int vstore_vault_by_name(vault_svc *svc, const char *name, vrow *out, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, "SELECT " VAULT_COLS " FROM vault_vaults WHERE name = ?", &st, err);

    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = vault_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT,
                           "vault '%s' not found; list your vaults with: "
                           "cmkctl vault list",
                           name);
    return rc;
}

/* vstore_vault_by_id - a vault by row id */
int vstore_vault_by_id(vault_svc *svc, int64_t id, vrow *out, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, "SELECT " VAULT_COLS " FROM vault_vaults WHERE id = ?", &st, err);

    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = vault_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT, "the vault was purged meanwhile");
    return rc;
}

/* vstore_vault_insert - insert, setting v->id */
int vstore_vault_insert(vault_svc *svc, vrow *v, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc,
                         "INSERT INTO vault_vaults (tenant, name, region, retention_days, "
                         "soft_delete, purge_protection, public_network, created_by, created_ms, "
                         "updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, v->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v->region, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, v->retention_days);
    sqlite3_bind_int(st, 5, v->soft_delete);
    sqlite3_bind_int(st, 6, v->purge_protection);
    sqlite3_bind_int(st, 7, v->public_network);
    sqlite3_bind_text(st, 8, v->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, v->created_ms);
    sqlite3_bind_int64(st, 10, v->updated_ms);
    rc = vstore_step_done(svc, st, err, "creating a vault");
    if (rc == 0)
        v->id = sqlite3_last_insert_rowid(svc->db);
    return rc;
}

/* vstore_vault_update - write back the mutable columns */
int vstore_vault_update(vault_svc *svc, const vrow *v, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        vstore_prep(svc,
                    "UPDATE vault_vaults SET soft_delete = ?, purge_protection = ?, "
                    "public_network = ?, updated_ms = ?, deleted_ms = ?, purge_ms = ? WHERE id = ?",
                    &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, v->soft_delete);
    sqlite3_bind_int(st, 2, v->purge_protection);
    sqlite3_bind_int(st, 3, v->public_network);
    sqlite3_bind_int64(st, 4, v->updated_ms);
    sqlite3_bind_int64(st, 5, v->deleted_ms);
    sqlite3_bind_int64(st, 6, v->purge_ms);
    sqlite3_bind_int64(st, 7, v->id);
    return vstore_step_done(svc, st, err, "updating a vault");
}

/* vstore_exec_id - run one statement with a single id parameter */
int vstore_exec_id(vault_svc *svc, const char *sql, int64_t id, cmk_err *err, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, sql, &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return vstore_step_done(svc, st, err, what);
}

/* vstore_vault_purge - remove a vault, its access list, keys and versions */
int vstore_vault_purge(vault_svc *svc, int64_t id, cmk_err *err)
{
    int rc = vstore_exec_id(svc,
                            "DELETE FROM vault_key_versions WHERE key_id IN "
                            "(SELECT id FROM vault_keys WHERE vault_id = ?)",
                            id, err, "purging versions");
    if (rc == 0)
        rc = vstore_exec_id(svc, "DELETE FROM vault_keys WHERE vault_id = ?", id, err,
                            "purging keys");
    if (rc == 0)
        rc = vstore_exec_id(svc, "DELETE FROM vault_access WHERE vault_id = ?", id, err,
                            "purging the access list");
    if (rc == 0)
        rc = vstore_exec_id(svc, "DELETE FROM vault_vaults WHERE id = ?", id, err,
                            "purging a vault");
    return rc;
}

/* vstore_grow - make room for one more element in a malloc'd array */
int vstore_grow(void **arr, size_t n, size_t *cap, size_t size)
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

/* vstore_vaults_list - the vaults of a tenant (all tenants if NULL), by name */
int vstore_vaults_list(vault_svc *svc, const char *tenant, vrow **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = vstore_prep(svc,
                         "SELECT " VAULT_COLS " FROM vault_vaults WHERE (?1 IS NULL OR tenant = ?1)"
                         " ORDER BY name",
                         &st, err);

    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    if (tenant)
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vstore_grow((void **)out, *n, &cap, sizeof **out) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        vrow_read(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc == SQLITE_NOMEM ? cmk_err_set(err, CMK_ENOMEM, "out of memory")
                                  : vstore_fail(svc, err, "listing vaults");
    }
    return 0;
}

/* ids_query - collect the ids a query returns (one int64 parameter) */
static int ids_query(vault_svc *svc, const char *sql, int64_t param, int64_t **ids, size_t *n,
                     cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = vstore_prep(svc, sql, &st, err);

    *ids = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, param);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vstore_grow((void **)ids, *n, &cap, sizeof **ids) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return vstore_fail(svc, err, "listing due objects");
    }
    return 0;
}

/* vstore_vaults_due - deleted vaults whose purge time has come */
int vstore_vaults_due(vault_svc *svc, int64_t now, int64_t **ids, size_t *n, cmk_err *err)
{
    return ids_query(svc,
                     "SELECT id FROM vault_vaults WHERE deleted_ms > 0 AND purge_ms > 0 "
                     "AND purge_ms <= ? ORDER BY purge_ms",
                     now, ids, n, err);
}

/* vstore_keys_due - deleted keys whose purge time has come */
int vstore_keys_due(vault_svc *svc, int64_t now, int64_t **ids, size_t *n, cmk_err *err)
{
    return ids_query(svc,
                     "SELECT id FROM vault_keys WHERE deleted_ms > 0 AND purge_ms > 0 "
                     "AND purge_ms <= ? ORDER BY purge_ms",
                     now, ids, n, err);
}

/* vstore_keys_with_timers - keys that are deleted or have a rotation policy */
int vstore_keys_with_timers(vault_svc *svc, int64_t **ids, size_t *n, cmk_err *err)
{
    return ids_query(svc,
                     "SELECT id FROM vault_keys WHERE deleted_ms > 0 OR rot_after_ms > 0 "
                     "OR rot_before_ms > ? ORDER BY id",
                     0, ids, n, err);
}

/* ---- access list ---- */

/* vstore_access_get - perms of principal on a vault (0 if not listed) */
int vstore_access_get(vault_svc *svc, int64_t vault_id, const char *principal, unsigned *perms,
                      cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, "SELECT perms FROM vault_access WHERE vault_id = ? AND principal = ?",
                         &st, err);
    *perms = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, vault_id);
    sqlite3_bind_text(st, 2, principal, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *perms = (unsigned)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : vstore_fail(svc, err, "reading access");
}

/* vstore_access_set - set perms (0 removes the entry) */
int vstore_access_set(vault_svc *svc, int64_t vault_id, const char *principal, unsigned perms,
                      cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (perms == 0) {
        rc = vstore_prep(svc, "DELETE FROM vault_access WHERE vault_id = ? AND principal = ?", &st,
                         err);
    } else {
        rc = vstore_prep(svc,
                         "INSERT INTO vault_access (vault_id, principal, perms) VALUES (?,?,?) "
                         "ON CONFLICT (vault_id, principal) DO UPDATE SET perms = excluded.perms",
                         &st, err);
    }
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, vault_id);
    sqlite3_bind_text(st, 2, principal, -1, SQLITE_STATIC);
    if (perms)
        sqlite3_bind_int64(st, 3, perms);
    return vstore_step_done(svc, st, err, "changing access");
}

/* vstore_access_list - a vault's access list, by principal */
int vstore_access_list(vault_svc *svc, int64_t vault_id, vault_access_entry **out, size_t *n,
                       cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = vstore_prep(svc,
                         "SELECT principal, perms FROM vault_access WHERE vault_id = ? "
                         "ORDER BY principal",
                         &st, err);

    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, vault_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vstore_grow((void **)out, *n, &cap, sizeof **out) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        vstore_col_text(st, 0, (*out)[*n].principal, sizeof(*out)[*n].principal);
        (*out)[(*n)++].perms = (unsigned)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return vstore_fail(svc, err, "listing access");
    }
    return 0;
}
