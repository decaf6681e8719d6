/*
 * vault_store_keys.c - SQLite persistence of vault keys and key versions, and the sealing of
 * private key material under the master key: each version's PKCS#8 DER is sealed at place
 * {tenant, "vault_key_versions", row id, "material"}, so a blob copied to another row or
 * tenant fails to open. Every function here runs with the service lock held.
 */
#include "vault_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/util.h"

/* place_for - the envelope place of a version's material */
static void place_for(const char *tenant, int64_t row, char rowbuf[24], cmk_place *pl)
{
    snprintf(rowbuf, 24, "%" PRId64, row);
    pl->env = tenant;
    pl->table = "vault_key_versions";
    pl->row = rowbuf;
    pl->column = "material";
}

/* ---- keys ---- */

#define KEY_COLS                                                                                   \
    "id, vault_id, name, key_ops, enabled, tags, current_version, created_ms, updated_ms,"         \
    " deleted_ms, purge_ms, rot_after_ms, rot_before_ms, rot_expiry_ms"

/* krow_clear - free what a key row owns */
void krow_clear(krow *k)
{
    if (k) {
        free(k->tags);
        k->tags = NULL;
    }
}

/* krows_free - clear and free an array of key rows */
void krows_free(krow **arr, size_t n)
{
    if (arr && *arr) {
        for (size_t i = 0; i < n; i++)
            krow_clear(&(*arr)[i]);
        free(*arr);
        *arr = NULL;
    }
}

/* krow_read - a key row from KEY_COLS */
static void krow_read(sqlite3_stmt *st, krow *k)
{
    const char *tags = (const char *)sqlite3_column_text(st, 5);
    memset(k, 0, sizeof *k);
    k->id = sqlite3_column_int64(st, 0);
    k->vault_id = sqlite3_column_int64(st, 1);
    vstore_col_text(st, 2, k->name, sizeof k->name);
    k->key_ops = (unsigned)sqlite3_column_int64(st, 3);
    k->enabled = sqlite3_column_int(st, 4);
    k->tags = strdup(tags ? tags : "{}");
    k->current = sqlite3_column_int64(st, 6);
    k->created_ms = sqlite3_column_int64(st, 7);
    k->updated_ms = sqlite3_column_int64(st, 8);
    k->deleted_ms = sqlite3_column_int64(st, 9);
    k->purge_ms = sqlite3_column_int64(st, 10);
    k->rot_after_ms = sqlite3_column_int64(st, 11);
    k->rot_before_ms = sqlite3_column_int64(st, 12);
    k->rot_expiry_ms = sqlite3_column_int64(st, 13);
}

/* key_one - run a key SELECT expected to return at most one row */
static int key_one(vault_svc *svc, sqlite3_stmt *st, krow *out, cmk_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        krow_read(st, out);
        rc = out->tags ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        rc = CMK_ENOENT;
    } else {
        rc = vstore_fail(svc, err, "reading a key");
    }
    sqlite3_finalize(st);
    return rc;
}

/* vstore_key_by_name - a key of a vault by name */
int vstore_key_by_name(vault_svc *svc, const vrow *v, const char *name, krow *out, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, "SELECT " KEY_COLS " FROM vault_keys WHERE vault_id = ? AND name = ?",
                         &st, err);
    memset(out, 0, sizeof *out);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, v->id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = key_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT,
                           "key '%s' not found in vault '%s'; list its keys "
                           "with: cmkctl key list %s",
                           name, v->name, v->name);
    return rc;
}

/* vstore_key_by_id - a key by row id */
int vstore_key_by_id(vault_svc *svc, int64_t id, krow *out, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc, "SELECT " KEY_COLS " FROM vault_keys WHERE id = ?", &st, err);
    memset(out, 0, sizeof *out);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = key_one(svc, st, out, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_ENOENT, "the key was purged meanwhile");
    return rc;
}

/* key_bind - bind the mutable key columns as ?1..?13 */
static void key_bind(sqlite3_stmt *st, const krow *k)
{
    sqlite3_bind_int64(st, 1, k->vault_id);
    sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, k->key_ops);
    sqlite3_bind_int(st, 4, k->enabled);
    sqlite3_bind_text(st, 5, k->tags ? k->tags : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, k->current);
    sqlite3_bind_int64(st, 7, k->created_ms);
    sqlite3_bind_int64(st, 8, k->updated_ms);
    sqlite3_bind_int64(st, 9, k->deleted_ms);
    sqlite3_bind_int64(st, 10, k->purge_ms);
    sqlite3_bind_int64(st, 11, k->rot_after_ms);
    sqlite3_bind_int64(st, 12, k->rot_before_ms);
    sqlite3_bind_int64(st, 13, k->rot_expiry_ms);
}

/* vstore_key_insert - insert, setting k->id */
int vstore_key_insert(vault_svc *svc, krow *k, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        vstore_prep(svc,
                    "INSERT INTO vault_keys (vault_id, name, key_ops, enabled, tags, "
                    "current_version, created_ms, updated_ms, deleted_ms, purge_ms, rot_after_ms, "
                    "rot_before_ms, rot_expiry_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                    "?13)",
                    &st, err);
    if (rc < 0)
        return rc;
    key_bind(st, k);
    rc = vstore_step_done(svc, st, err, "creating a key");
    if (rc == 0)
        k->id = sqlite3_last_insert_rowid(svc->db);
    return rc;
}

/* vstore_key_update - write back every column of a key */
int vstore_key_update(vault_svc *svc, const krow *k, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc,
                         "UPDATE vault_keys SET vault_id = ?1, name = ?2, key_ops = ?3, "
                         "enabled = ?4, tags = ?5, current_version = ?6, created_ms = ?7, "
                         "updated_ms = ?8, deleted_ms = ?9, purge_ms = ?10, rot_after_ms = ?11, "
                         "rot_before_ms = ?12, rot_expiry_ms = ?13 WHERE id = ?14",
                         &st, err);
    if (rc < 0)
        return rc;
    key_bind(st, k);
    sqlite3_bind_int64(st, 14, k->id);
    return vstore_step_done(svc, st, err, "updating a key");
}

/* vstore_key_purge - remove a key and its versions */
int vstore_key_purge(vault_svc *svc, int64_t id, cmk_err *err)
{
    int rc = vstore_exec_id(svc, "DELETE FROM vault_key_versions WHERE key_id = ?", id, err,
                            "purging versions");
    if (rc == 0)
        rc = vstore_exec_id(svc, "DELETE FROM vault_keys WHERE id = ?", id, err, "purging a key");
    return rc;
}

/* vstore_keys_list - the keys of a vault by name */
int vstore_keys_list(vault_svc *svc, int64_t vault_id, vault_key_list_flags which, krow **out,
                     size_t *n, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = vstore_prep(svc,
                         "SELECT " KEY_COLS " FROM vault_keys WHERE vault_id = ?1 AND "
                         "(?2 = 2 OR (?2 = 0 AND deleted_ms = 0) OR (?2 = 1 AND deleted_ms > 0)) "
                         "ORDER BY name",
                         &st, err);

    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, vault_id);
    sqlite3_bind_int(st, 2, (int)which);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vstore_grow((void **)out, *n, &cap, sizeof **out) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        krow_read(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        krows_free(out, *n);
        *n = 0;
        return vstore_fail(svc, err, "listing keys");
    }
    return 0;
}

/* ---- versions ---- */

#define VER_COLS                                                                                   \
    "id, key_id, version, kty, bits, enabled, nbf_ms, exp_ms, created_ms, updated_ms, pub"

/* ver_read - a version row from VER_COLS */
static void ver_read(sqlite3_stmt *st, verrow *r)
{
    int n = sqlite3_column_bytes(st, 10);
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->key_id = sqlite3_column_int64(st, 1);
    vstore_col_text(st, 2, r->version, sizeof r->version);
    r->kty = (vault_kty)sqlite3_column_int(st, 3);
    r->bits = sqlite3_column_int(st, 4);
    r->enabled = sqlite3_column_int(st, 5);
    r->nbf_ms = sqlite3_column_int64(st, 6);
    r->exp_ms = sqlite3_column_int64(st, 7);
    r->created_ms = sqlite3_column_int64(st, 8);
    r->updated_ms = sqlite3_column_int64(st, 9);
    if (n > 0 && (size_t)n <= sizeof r->pub) {
        memcpy(r->pub, sqlite3_column_blob(st, 10), (size_t)n);
        r->pub_len = (size_t)n;
    }
}

/* vstore_version_get - one version of a key (the current one if version is NULL or "") */
int vstore_version_get(vault_svc *svc, const vrow *v, const krow *k, const char *version,
                       verrow *out, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int cur = !version || !*version;
    int rc = vstore_prep(svc,
                         cur ? "SELECT " VER_COLS " FROM vault_key_versions WHERE id = ?2"
                             : "SELECT " VER_COLS " FROM vault_key_versions WHERE key_id = ?1 AND "
                               "version = ?3",
                         &st, err);
    if (rc < 0)
        return rc;
    if (!cur) {
        sqlite3_bind_int64(st, 1, k->id);
        sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(st, 2, k->current);
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ver_read(st, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = cur ? cmk_err_set(err, CMK_EINTERNAL,
                               "key '%s' in vault '%s' has no current "
                               "version",
                               k->name, v->name)
                 : cmk_err_set(err, CMK_ENOENT,
                               "key '%s' in vault '%s' has no version '%s'; "
                               "list its versions with: cmkctl key versions %s %s",
                               k->name, v->name, version, v->name, k->name);
    } else {
        rc = vstore_fail(svc, err, "reading a key version");
    }
    sqlite3_finalize(st);
    return rc;
}

/* vstore_versions_list - every version of a key, oldest first */
int vstore_versions_list(vault_svc *svc, int64_t key_id, verrow **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = vstore_prep(svc,
                         "SELECT " VER_COLS " FROM vault_key_versions WHERE key_id = ? "
                         "ORDER BY created_ms, id",
                         &st, err);

    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, key_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vstore_grow((void **)out, *n, &cap, sizeof **out) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        ver_read(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return vstore_fail(svc, err, "listing versions");
    }
    return 0;
}

/* vstore_version_insert - insert a version, then seal its material bound to the new row id */
int vstore_version_insert(vault_svc *svc, const char *tenant, verrow *ver, const uint8_t *der,
                          size_t der_len, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = der_len + CMK_BLOB_OVERHEAD, blen = 0;
    uint8_t *blob;
    char rowbuf[24];
    cmk_place pl;
    int rc = vstore_prep(svc,
                         "INSERT INTO vault_key_versions (key_id, version, kty, bits, enabled, "
                         "nbf_ms, exp_ms, created_ms, updated_ms, pub, material) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,x'')",
                         &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, ver->key_id);
    sqlite3_bind_text(st, 2, ver->version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)ver->kty);
    sqlite3_bind_int(st, 4, ver->bits);
    sqlite3_bind_int(st, 5, ver->enabled);
    sqlite3_bind_int64(st, 6, ver->nbf_ms);
    sqlite3_bind_int64(st, 7, ver->exp_ms);
    sqlite3_bind_int64(st, 8, ver->created_ms);
    sqlite3_bind_int64(st, 9, ver->updated_ms);
    sqlite3_bind_blob(st, 10, ver->pub, (int)ver->pub_len, SQLITE_STATIC);
    rc = vstore_step_done(svc, st, err, "storing a key version");
    if (rc < 0)
        return rc;
    ver->id = sqlite3_last_insert_rowid(svc->db);
    blob = malloc(cap);
    if (!blob)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    place_for(tenant, ver->id, rowbuf, &pl);
    rc = cmk_seal(svc->sealer, svc->master, &pl, der, der_len, blob, cap, &blen, err);
    if (rc == 0)
        rc = vstore_prep(svc, "UPDATE vault_key_versions SET material = ? WHERE id = ?", &st, err);
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, blob, (int)blen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ver->id);
        rc = vstore_step_done(svc, st, err, "storing sealed key material");
    }
    free(blob);
    return rc;
}

/* vstore_version_update - write back a version's attributes */
int vstore_version_update(vault_svc *svc, const verrow *ver, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vstore_prep(svc,
                         "UPDATE vault_key_versions SET enabled = ?, nbf_ms = ?, exp_ms = ?, "
                         "updated_ms = ? WHERE id = ?",
                         &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, ver->enabled);
    sqlite3_bind_int64(st, 2, ver->nbf_ms);
    sqlite3_bind_int64(st, 3, ver->exp_ms);
    sqlite3_bind_int64(st, 4, ver->updated_ms);
    sqlite3_bind_int64(st, 5, ver->id);
    return vstore_step_done(svc, st, err, "updating a key version");
}

/* vstore_version_der - unseal a version's private key (PKCS#8 DER; wipe and free it) */
int vstore_version_der(vault_svc *svc, const char *tenant, const verrow *ver, uint8_t **der,
                       size_t *len, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    char rowbuf[24];
    cmk_place pl;
    uint8_t *plain = NULL;
    size_t plen = 0;
    int n, rc = vstore_prep(svc, "SELECT material FROM vault_key_versions WHERE id = ?", &st, err);

    *der = NULL;
    *len = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, ver->id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return vstore_fail(svc, err, "reading key material");
    }
    n = sqlite3_column_bytes(st, 0);
    if (n <= CMK_BLOB_OVERHEAD) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ECRYPTO,
                           "the sealed material of version %s is missing or "
                           "truncated in controller.db",
                           ver->version);
    }
    plain = malloc((size_t)n);
    if (!plain) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    place_for(tenant, ver->id, rowbuf, &pl);
    rc = cmk_open(svc->sealer, svc->master, &pl, sqlite3_column_blob(st, 0), (size_t)n, plain,
                  (size_t)n, &plen, err);
    sqlite3_finalize(st);
    if (rc < 0) {
        OPENSSL_cleanse(plain, (size_t)n);
        free(plain);
        return cmk_err_prefix(err, "cannot unseal key version %s: ", ver->version);
    }
    *der = plain;
    *len = plen;
    return 0;
}

/* vstore_version_private - unseal and decode a version's private key */
int vstore_version_private(vault_svc *svc, const char *tenant, const verrow *ver, EVP_PKEY **out,
                           cmk_err *err)
{
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = vstore_version_der(svc, tenant, ver, &der, &len, err);

    *out = NULL;
    if (rc < 0)
        return rc;
    rc = vrsa_from_private_der(der, len, out, err);
    OPENSSL_cleanse(der, len);
    free(der);
    return rc;
}
