/*
 * partition_upgrade.c - schema 1 -> 3: a partition written by an older build holds flow names,
 * HTTP-trigger signatures and connection names in the clear, and callers' request ids as they
 * were given. Once the keys are known (partition_set_keys), partition_upgrade seals each clear
 * value at its place (env, table, row, column) under the key its row uses (the data DEK; a
 * non-OAuth connection's name under the MMK DEK, like its secret), replaces each request id by
 * its keyed hash, and records schema 3, all in one transaction. Then it VACUUMs (rewriting
 * every page, so that no clear copy stays in a free page or cell) and truncates the WAL.
 */
#include "worker/partition_int.h"

#include <stdlib.h>
#include <string.h>

/* A row to rewrite: its id and, for connections, which key seals it. */
typedef struct {
    char id[64];
    int oauth;
} up_row;

/* collect_ids - the ids (and column 1 as an int) of a query's rows; malloc'd array */
static int collect_ids(partition *p, const char *sql, up_row **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    up_row *arr = NULL;
    size_t cnt = 0, cap = 0;
    int rc = sqlite3_prepare_v2(p->db, sql, -1, &st, NULL);

    *out = NULL;
    *n = 0;
    if (rc != SQLITE_OK)
        return pt_db_err(p, rc, "reading the clear columns of a schema 1 partition", err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            up_row *na = realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = SQLITE_NOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        pt_copy(arr[cnt].id, sizeof arr[cnt].id, sqlite3_column_text(st, 0));
        arr[cnt].oauth = sqlite3_column_int(st, 1);
        cnt++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(arr);
        return pt_db_err(p, rc, "reading the clear columns of a schema 1 partition", err);
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* seal_column - seal the clear text of table.column in the rows listed, one UPDATE each */
static int seal_column(partition *p, const char *table, const char *column, const up_row *rows,
                       size_t n, int by_oauth, size_t *sealed, cmk_err *err)
{
    char sql[160], *plain = NULL;
    sqlite3_stmt *get = NULL, *put = NULL;
    int rc = 0, src;

    /* '' (no name, no HTTP trigger) says nothing and stays */
    snprintf(sql, sizeof sql,
             "SELECT \"%s\" FROM \"%s\" WHERE id = ?1 AND typeof(\"%s\") = 'text' AND \"%s\" <> ''",
             column, table, column, column);
    src = sqlite3_prepare_v2(p->db, sql, -1, &get, NULL);
    snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE id = ?1", table, column);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(p->db, sql, -1, &put, NULL);
    if (src != SQLITE_OK) {
        rc = pt_db_err(p, src, "sealing a schema 1 partition", err);
        goto done;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const void *blob;
        size_t blen, len;
        cmk_dek *dek;
        sqlite3_bind_text(get, 1, rows[i].id, -1, SQLITE_STATIC);
        src = sqlite3_step(get);
        if (src == SQLITE_DONE) { /* sealed already */
            sqlite3_reset(get);
            continue;
        }
        if (src != SQLITE_ROW) {
            rc = pt_db_err(p, src, "sealing a schema 1 partition", err);
            break;
        }
        len = (size_t)sqlite3_column_bytes(get, 0);
        plain = strdup((const char *)sqlite3_column_text(get, 0));
        sqlite3_reset(get);
        if (!plain) {
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory sealing a schema 1 partition");
            break;
        }
        if ((rc = pt_need_dek(p, by_oauth && !rows[i].oauth, &dek, err)) < 0 ||
            (rc = pt_seal(p, dek, table, rows[i].id, column, plain, len, &blob, &blen, err)) < 0)
            break;
        sqlite3_bind_text(put, 1, rows[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(put, 2, blen ? blob : "", (int)blen, SQLITE_STATIC);
        src = sqlite3_step(put);
        sqlite3_reset(put);
        pt_free_secret(plain, len);
        plain = NULL;
        if (src != SQLITE_DONE)
            rc = pt_db_err(p, src, "sealing a schema 1 partition", err);
        else
            (*sealed)++;
    }
done:
    if (plain)
        pt_free_secret(plain, strlen(plain));
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return rc;
}

/* hash_requests - replace each clear client_req of runs by its keyed hash, in batches (rows
 * are read first, then updated: no UPDATE runs under an open SELECT of the same table) */
static int hash_requests(partition *p, size_t *sealed, cmk_err *err)
{
    enum { BATCH = 256 };
    sqlite3_stmt *get = NULL, *put = NULL;
    sqlite3_int64 rows[BATCH];
    char (*reqs)[64] = malloc(BATCH * sizeof *reqs);
    char h[64];
    cmk_dek *dek;
    int rc = 0, src;
    size_t n;

    if (!reqs)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory hashing request ids");
    if ((rc = pt_need_dek(p, 0, &dek, err)) < 0)
        goto done;
    src = sqlite3_prepare_v2(p->db,
                             "SELECT rowid, client_req FROM runs WHERE client_req <> '' AND "
                             "substr(client_req, 1, 6) <> '" PT_HASH_PREFIX "' LIMIT 256",
                             -1, &get, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(p->db, "UPDATE runs SET client_req = ?2 WHERE rowid = ?1", -1, &put,
                                 NULL);
    if (src != SQLITE_OK) {
        rc = pt_db_err(p, src, "hashing the request ids of a schema 1 partition", err);
        goto done;
    }
    do {
        n = 0;
        while (n < BATCH && (src = sqlite3_step(get)) == SQLITE_ROW) {
            rows[n] = sqlite3_column_int64(get, 0);
            pt_copy(reqs[n], sizeof reqs[n], sqlite3_column_text(get, 1));
            n++;
        }
        sqlite3_reset(get);
        if (src != SQLITE_ROW && src != SQLITE_DONE) {
            rc = pt_db_err(p, src, "hashing the request ids of a schema 1 partition", err);
            break;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            if ((rc = pt_index_hash(p, dek, "runs", "client_req", reqs[i], h, sizeof h, err)) < 0)
                break;
            sqlite3_bind_int64(put, 1, rows[i]);
            sqlite3_bind_text(put, 2, h, -1, SQLITE_STATIC);
            src = sqlite3_step(put);
            sqlite3_reset(put);
            if (src != SQLITE_DONE)
                rc = pt_db_err(p, src, "hashing the request ids of a schema 1 partition", err);
            else
                (*sealed)++;
        }
    } while (rc == 0 && n == BATCH);
done:
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    cmk_wipe(reqs, BATCH * sizeof *reqs);
    free(reqs);
    return rc;
}

/* partition_schema_legacy - 1 while a schema 1 partition waits for partition_upgrade */
int partition_schema_legacy(const partition *self)
{
    return self ? self->legacy : 0;
}

/* partition_upgrade - seal what a schema 1 partition holds in the clear, in one transaction */
int partition_upgrade(partition *self, size_t *sealed, cmk_err *err)
{
    up_row *flows = NULL, *conns = NULL;
    size_t nf = 0, nc = 0, count = 0;
    int rc;

    if (sealed)
        *sealed = 0;
    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_upgrade needs a partition");
    if (!self->legacy)
        return 0;
    /* the MMK DEK is needed only if a non-OAuth connection is there (a dedicated worker holds
     * none): pt_need_dek says so for that row */
    if (self->opts.seal && (!self->data_dek || self->locked))
        return cmk_err_set(err, CMK_EUNAVAIL,
                           "partition %s (schema 1) cannot be sealed before its data key is loaded",
                           self->path);
    if ((rc = pt_commit_pending(self, err)) < 0)
        return rc;
    /* secure_delete: the cells replaced below are zeroed, not left in their pages */
    sqlite3_exec(self->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    if ((rc = sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
        rc = pt_db_err(self, rc, "starting the schema upgrade", err);
        goto out;
    }
    if (self->opts.seal) {
        rc = collect_ids(self, "SELECT id, 0 FROM flows", &flows, &nf, err);
        if (rc == 0)
            rc = collect_ids(self, "SELECT id, oauth FROM connections", &conns, &nc, err);
        if (rc == 0)
            rc = seal_column(self, "flows", "name", flows, nf, 0, &count, err);
        if (rc == 0) /* a flow without an HTTP trigger keeps '' */
            rc = seal_column(self, "flows", "trigger_token", flows, nf, 0, &count, err);
        if (rc == 0)
            rc = seal_column(self, "connections", "name", conns, nc, 1, &count, err);
        if (rc == 0)
            rc = hash_requests(self, &count, err);
    }
    if (rc == 0 && (rc = sqlite3_exec(self->db, "UPDATE meta SET v = '" PT_SCHEMA_VERSION "' WHERE k = 'schema'", NULL,
                                      NULL, NULL)) != SQLITE_OK)
        rc = pt_db_err(self, rc, "recording schema " PT_SCHEMA_VERSION, err);
    if (rc == 0 && (rc = sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        rc = pt_db_err(self, rc, "committing the schema upgrade", err);
    if (rc < 0) {
        if (!sqlite3_get_autocommit(self->db))
            sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    self->legacy = 0;
    /* rewrite every page (no clear copy left in free space), then empty the WAL */
    if ((rc = sqlite3_exec(self->db, "VACUUM", NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL)) !=
            SQLITE_OK) {
        rc = pt_db_err(self, rc, "compacting the partition after sealing it", err);
        pt_reqs_rebuild(self, NULL); /* the stored keys are hashes now, whatever VACUUM did */
        goto out;
    }
    /* the dedup window's requests are held by their stored keys (hashes now) and their rowids,
     * which VACUUM may renumber (runs has no INTEGER PRIMARY KEY): loaded after it */
    if ((rc = pt_reqs_rebuild(self, err)) < 0)
        goto out;
    rc = 0;
    if (sealed)
        *sealed = count;
out:
    sqlite3_exec(self->db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL);
    free(flows);
    free(conns);
    return rc;
}
