/*
 * partition_flows.c - flows (definition sealed under the data DEK), connections (OAuth secrets
 * under the data DEK, non-OAuth ones under the MMK DEK) and the benchmark table of a
 * partition. Every write goes through the cached statements and the group commit of
 * partition.c.
 */
#include "worker/partition_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/util.h"

/* flen - length of a fixed-size text field (stops at its size if unterminated) */
#define flen(field) ((int)strnlen((field), sizeof(field)))

/* pt_write_nothing - a write statement changed no row: close the transaction if it is empty */
static void pt_write_nothing(partition *p)
{
    if (p->in_txn && p->pending == 0 && !p->dispatching)
        (void)partition_commit(p, NULL);
}

/* row_to_flow - columns 0..8 of a flows row into meta, opening the sealed name and signature
 * when `want` asks for them (PARTITION_FLOW_NAME, PARTITION_FLOW_TOKEN) */
static int row_to_flow(partition *p, sqlite3_stmt *st, partition_flow *m, unsigned want,
                       cmk_err *err)
{
    int rc = 0;

    memset(m, 0, sizeof *m);
    pt_copy(m->id, sizeof m->id, sqlite3_column_text(st, 0));
    pt_copy(m->trigger_kind, sizeof m->trigger_kind, sqlite3_column_text(st, 2));
    pt_copy(m->kind, sizeof m->kind, sqlite3_column_text(st, 3));
    m->enabled = sqlite3_column_int(st, 4);
    m->in_solution = sqlite3_column_int(st, 5);
    m->created_ms = sqlite3_column_int64(st, 7);
    m->updated_ms = sqlite3_column_int64(st, 8);
    if (want & PARTITION_FLOW_NAME)
        rc = pt_open_text(p, st, 1, "flows", m->id, "name", m->name, sizeof m->name, err);
    if (rc == 0 && (want & PARTITION_FLOW_TOKEN))
        rc = pt_open_text(p, st, 6, "flows", m->id, "trigger_token", m->trigger_token,
                          sizeof m->trigger_token, err);
    return rc;
}

/* seal_bind - seal a short text at (flows|connections, row, column) and bind a copy to param */
static int seal_bind(partition *p, sqlite3_stmt *st, int param, cmk_dek *dek, const char *table,
                     const char *row, const char *column, const char *text, size_t len,
                     cmk_err *err)
{
    const void *blob;
    size_t blen;
    int rc = pt_seal(p, dek, table, row, column, text, len, &blob, &blen, err);

    if (rc < 0)
        return rc;
    /* SQLITE_TRANSIENT: the scratch buffer is reused by the next seal */
    if (sqlite3_bind_blob(st, param, blen ? blob : "", (int)blen, SQLITE_TRANSIENT) != SQLITE_OK)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory binding %s.%s", table, column);
    return 0;
}

/* flow_write - a flow into `flows` (stage NULL) or into staging area `stage` (flows_staged),
 * sealed at its place in `flows` either way, so that a swap moves it without opening it */
static int flow_write(partition *self, const char *stage, const partition_flow *meta, const char *definition,
                      size_t len, partition_durable_fn durable, void *arg, cmk_err *err)
{
    sqlite3_stmt *st;
    cmk_dek *dek;
    const void *blob = NULL;
    size_t blen = 0;
    int rc;

    if (!self || !meta || !meta->id[0] || (len && !definition))
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_flow_put needs a partition, a flow with an id and its "
                           "definition");
    self->flow_gen++;
    if ((rc = pt_need_dek(self, 0, &dek, err)) < 0)
        return rc;
    if (!(st = pt_stmt(self, stage ? PT_FLOW_STAGE : PT_FLOW_PUT, err)))
        return err ? err->code : CMK_EIO;
    if ((rc = seal_bind(self, st, 2, dek, "flows", meta->id, "name", meta->name, strnlen(meta->name, sizeof meta->name),
                        err)) < 0)
        return rc;
    if (meta->trigger_token[0]) {
        if ((rc = seal_bind(self, st, 7, dek, "flows", meta->id, "trigger_token", meta->trigger_token,
                            strnlen(meta->trigger_token, sizeof meta->trigger_token), err)) < 0)
            return rc;
    } else {
        sqlite3_bind_text(st, 7, "", 0, SQLITE_STATIC); /* no HTTP trigger */
    }
    if (definition && (rc = pt_seal(self, dek, "flows", meta->id, "definition", definition, len,
                                    &blob, &blen, err)) < 0)
        return rc;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, meta->id, flen(meta->id), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, meta->trigger_kind, flen(meta->trigger_kind), SQLITE_STATIC);
    sqlite3_bind_text(st, 4, meta->kind, flen(meta->kind), SQLITE_STATIC);
    sqlite3_bind_int(st, 5, meta->enabled ? 1 : 0);
    sqlite3_bind_int(st, 6, meta->in_solution ? 1 : 0);
    sqlite3_bind_int64(st, 8, meta->created_ms);
    sqlite3_bind_int64(st, 9, meta->updated_ms);
    if (blob)
        sqlite3_bind_blob(st, 10, blob, (int)blen, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 10);
    if (stage)
        sqlite3_bind_text(st, 11, stage, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* drop the sealed copies */
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "saving a flow", err);
    if (stage && sqlite3_changes(self->db) == 0) {
        pt_write_nothing(self);
        return cmk_err_set(err, CMK_ESTATE,
                           "staging area %s of environment %s is gone (swapped in or discarded): start the "
                           "operation again", stage, self->env);
    }
    return pt_write_done(self, durable, arg, err);
}

/* partition_flow_put - insert or replace a flow; name, signature and definition are sealed */
int partition_flow_put(partition *self, const partition_flow *meta, const char *definition,
                       size_t len, partition_durable_fn durable, void *arg, cmk_err *err)
{
    return flow_write(self, NULL, meta, definition, len, durable, arg, err);
}

/* partition_flow_stage - the same into staging area stage (partition_stage_begin) */
int partition_flow_stage(partition *self, const char *stage, const partition_flow *meta, const char *definition,
                         size_t len, partition_durable_fn durable, void *arg, cmk_err *err)
{
    if (!stage || !*stage)
        return cmk_err_set(err, CMK_EINVAL, "partition_flow_stage needs a staging area");
    return flow_write(self, stage, meta, definition, len, durable, arg, err);
}

/* partition_flow_get_ex - a flow, opening only the sealed fields `want` asks for */
int partition_flow_get_ex(partition *self, const char *id, partition_flow *meta,
                          char **definition, unsigned want, cmk_err *err)
{
    partition_flow tmp;
    sqlite3_stmt *st;
    int rc;

    if (definition)
        *definition = NULL;
    if (!self || !id)
        return cmk_err_set(err, CMK_EINVAL, "partition_flow_get needs a partition and a flow id");
    if (!(st = pt_stmt(self, PT_FLOW_GET, err)))
        return err ? err->code : CMK_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = row_to_flow(self, st, meta ? meta : &tmp, meta ? want : 0, err);
        if (rc == 0 && definition)
            rc = pt_open_col(self, st, 9, "flows", id, "definition", definition, NULL, err);
        if (rc < 0 && meta)
            cmk_wipe(meta, sizeof *meta);
    } else if (rc == SQLITE_DONE) {
        rc = cmk_err_set(err, CMK_ENOENT, "no flow %s in environment %s", id, self->env);
    } else {
        rc = pt_db_err(self, rc, "reading a flow", err);
    }
    sqlite3_reset(st);
    return rc;
}

/* partition_flow_get - a flow with its name and signature opened */
int partition_flow_get(partition *self, const char *id, partition_flow *meta, char **definition,
                       cmk_err *err)
{
    return partition_flow_get_ex(self, id, meta, definition, PARTITION_FLOW_ALL, err);
}

/* partition_flow_list_ex - every flow's metadata, opening the sealed fields `want` asks for */
int partition_flow_list_ex(partition *self, unsigned want, partition_flow **out, size_t *n,
                           cmk_err *err)
{
    partition_flow *arr = NULL;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st;
    int rc, orc = 0;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!self || !out || !n)
        return cmk_err_set(err, CMK_EINVAL, "partition_flow_list needs a partition and outputs");
    if (!(st = pt_stmt(self, PT_FLOW_LIST, err)))
        return err ? err->code : CMK_EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            partition_flow *na = realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = SQLITE_NOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        if ((orc = row_to_flow(self, st, &arr[cnt++], want, err)) < 0)
            break;
    }
    sqlite3_reset(st);
    if (orc < 0) {
        cmk_wipe(arr, cnt * sizeof *arr);
        free(arr);
        return orc;
    }
    if (rc != SQLITE_DONE) {
        free(arr);
        return pt_db_err(self, rc, "listing flows", err);
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* partition_flow_list - every flow's metadata with its name opened (no signature) */
int partition_flow_list(partition *self, partition_flow **out, size_t *n, cmk_err *err)
{
    return partition_flow_list_ex(self, PARTITION_FLOW_NAME, out, n, err);
}

/* partition_flow_check_sig - does sig open the flow's HTTP trigger? constant-time compare */
int partition_flow_check_sig(partition *self, const char *id, const char *sig, cmk_err *err)
{
    char tok[sizeof ((partition_flow *)0)->trigger_token];
    sqlite3_stmt *st;
    size_t n;
    int rc;

    if (!self || !id || !sig)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_flow_check_sig needs a partition, a flow id and a signature");
    if (!(st = pt_stmt(self, PT_FLOW_SIG, err)))
        return err ? err->code : CMK_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return cmk_err_set(err, CMK_ENOENT, "no flow %s in environment %s", id, self->env);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return pt_db_err(self, rc, "reading a flow's trigger", err);
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), "http") != 0) {
        sqlite3_reset(st);
        return cmk_err_set(err, CMK_ENOENT, "flow %s has no HTTP request trigger", id);
    }
    rc = pt_open_text(self, st, 1, "flows", id, "trigger_token", tok, sizeof tok, err);
    sqlite3_reset(st);
    if (rc < 0)
        return rc;
    n = strlen(tok);
    /* the signature's length is public (it is fixed); its bytes are compared in constant time */
    if (n == 0)
        rc = cmk_err_set(err, CMK_ENOENT, "flow %s has no HTTP request trigger", id);
    else if (strlen(sig) != n || CRYPTO_memcmp(sig, tok, n) != 0)
        rc = cmk_err_set(err, CMK_EPERM,
                         "the signature of this trigger URL is not valid; use the flow's current "
                         "URL");
    cmk_wipe(tok, sizeof tok);
    return rc;
}

/* partition_trigger_token_new - a fresh trigger signature: 256 bits from RAND_bytes, base64url */
int partition_trigger_token_new(char *buf, size_t cap, cmk_err *err)
{
    uint8_t raw[PARTITION_TRIGGER_TOKEN_BYTES];
    char *b64;
    size_t o = 0;

    if (!buf || cap < PARTITION_TRIGGER_TOKEN_LEN + 1)
        return cmk_err_set(err, CMK_EINVAL, "a trigger signature needs a buffer of %d bytes",
                           PARTITION_TRIGGER_TOKEN_LEN + 1);
    if (RAND_bytes(raw, sizeof raw) != 1)
        return cmk_err_set(err, CMK_ECRYPTO, "the random generator failed drawing a trigger signature");
    b64 = cmk_b64_encode(raw, sizeof raw);
    cmk_wipe(raw, sizeof raw);
    if (!b64)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory drawing a trigger signature");
    for (const char *c = b64; *c && *c != '=' && o < PARTITION_TRIGGER_TOKEN_LEN; c++)
        buf[o++] = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    buf[o] = '\0';
    cmk_wipe_str(b64, strlen(b64));
    return 0;
}

/* partition_flow_delete - remove a flow (its runs stay for the history) */
int partition_flow_delete(partition *self, const char *id, partition_durable_fn durable, void *arg,
                          cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (!self || !id)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_flow_delete needs a partition and a flow id");
    self->flow_gen++;
    if (!(st = pt_stmt(self, PT_FLOW_DELETE, err)))
        return err ? err->code : CMK_EIO;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "deleting a flow", err);
    if (sqlite3_changes(self->db) == 0) {
        pt_write_nothing(self);
        return cmk_err_set(err, CMK_ENOENT, "no flow %s in environment %s", id, self->env);
    }
    return pt_write_done(self, durable, arg, err);
}

/* partition_conn_put - a connection's secret, sealed under the data DEK (OAuth) or MMK DEK */
int partition_conn_put(partition *self, const char *id, const char *name, int oauth,
                       const char *secret, partition_durable_fn durable, void *arg, cmk_err *err)
{
    sqlite3_stmt *st;
    cmk_dek *dek;
    const void *blob;
    size_t blen;
    int rc;

    if (!self || !id || !*id || !secret)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_conn_put needs a partition, a connection id and a secret");
    if ((rc = pt_need_dek(self, !oauth, &dek, err)) < 0)
        return rc;
    if (!(st = pt_stmt(self, PT_CONN_PUT, err)))
        return err ? err->code : CMK_EIO;
    if (name && strlen(name) >= PARTITION_CONN_NAME_MAX)
        return cmk_err_set(err, CMK_EINVAL, "a connection name has at most %d characters",
                           PARTITION_CONN_NAME_MAX - 1);
    /* the name is sealed under the same key as the secret */
    if ((rc = seal_bind(self, st, 2, dek, "connections", id, "name", name ? name : "",
                        name ? strlen(name) : 0, err)) < 0)
        return rc;
    if ((rc = pt_seal(self, dek, "connections", id, "secret", secret, strlen(secret), &blob, &blen,
                      err)) < 0)
        return rc;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, oauth ? 1 : 0);
    sqlite3_bind_blob(st, 4, blob, (int)blen, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "saving a connection", err);
    return pt_write_done(self, durable, arg, err);
}

/* conn_row - step PT_CONN_GET for id: SQLITE_ROW, or an error set (CMK_ENOENT if none) */
static int conn_row(partition *self, const char *id, sqlite3_stmt **stp, cmk_err *err)
{
    sqlite3_stmt *st = pt_stmt(self, PT_CONN_GET, err);
    int rc;

    if (!st)
        return err ? err->code : CMK_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *stp = st;
        return 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return cmk_err_set(err, CMK_ENOENT, "no connection %s in environment %s", id, self->env);
    return pt_db_err(self, rc, "reading a connection", err);
}

/* partition_conn_get - a connection; *secret malloc'd (wipe it); *oauth (may be NULL) */
int partition_conn_get(partition *self, const char *id, int *oauth, char **secret, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (secret)
        *secret = NULL;
    if (!self || !id || !secret)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_conn_get needs a partition, a connection id and an output");
    if ((rc = conn_row(self, id, &st, err)) < 0)
        return rc;
    if (oauth)
        *oauth = sqlite3_column_int(st, 0);
    rc = pt_open_col(self, st, 1, "connections", id, "secret", secret, NULL, err);
    sqlite3_reset(st);
    return rc;
}

/* partition_conn_name - a connection's display name (sealed) into buf */
int partition_conn_name(partition *self, const char *id, char *buf, size_t cap, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (buf && cap)
        buf[0] = '\0';
    if (!self || !id || !buf || !cap)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_conn_name needs a partition, a connection id and a buffer");
    if ((rc = conn_row(self, id, &st, err)) < 0)
        return rc;
    rc = pt_open_text(self, st, 2, "connections", id, "name", buf, cap, err);
    sqlite3_reset(st);
    return rc;
}

/* partition_conn_key_id - the hex id of the DEK a connection's secret is sealed under */
int partition_conn_key_id(partition *self, const char *id, char hex[33], cmk_err *err)
{
    uint8_t kid[CMK_DEK_ID_LEN];
    sqlite3_stmt *st = NULL;
    int rc;

    if (hex)
        hex[0] = '\0';
    if (!self || !id || !hex)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_conn_key_id needs a partition, a connection id and a buffer");
    if (!self->opts.seal)
        return cmk_err_set(err, CMK_ESTATE,
                           "partition %s does not seal (plaintext benchmark reference): its "
                           "connections have no DEK",
                           self->path);
    if ((rc = conn_row(self, id, &st, err)) < 0)
        return rc;
    rc = cmk_blob_dek_id(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), kid, err);
    sqlite3_reset(st);
    if (rc < 0)
        return cmk_err_prefix(err, "connection %s: ", id);
    for (size_t i = 0; i < CMK_DEK_ID_LEN; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[kid[i] >> 4];
        hex[2 * i + 1] = digits[kid[i] & 0x0f];
    }
    hex[2 * CMK_DEK_ID_LEN] = '\0';
    return 0;
}

/* i64_text - row as decimal text into buf (>= 21 bytes); returns buf */
static const char *i64_text(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[o++] = '-';
    while (n)
        buf[o++] = tmp[--n];
    buf[o] = '\0';
    return buf;
}

/* partition_bench_put - one benchmark record, sealed if the partition seals */
int partition_bench_put(partition *self, int64_t row, const uint8_t *data, size_t len,
                        partition_durable_fn durable, void *arg, cmk_err *err)
{
    sqlite3_stmt *st;
    cmk_dek *dek;
    const void *blob;
    size_t blen;
    char rowtxt[24];
    int rc;

    if (!self || (len && !data))
        return cmk_err_set(err, CMK_EINVAL, "partition_bench_put needs a partition and data");
    if ((rc = pt_need_dek(self, 0, &dek, err)) < 0)
        return rc;
    if (!(st = pt_stmt(self, PT_BENCH_PUT, err)))
        return err ? err->code : CMK_EIO;
    if ((rc = pt_seal(self, dek, "bench", i64_text(row, rowtxt), "payload", data, len, &blob, &blen,
                      err)) < 0)
        return rc;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, row);
    sqlite3_bind_blob(st, 2, blob, (int)blen, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "writing a benchmark record", err);
    return pt_write_done(self, durable, arg, err);
}

/* partition_clear - delete every flow and run (and connection if asked) in one write; the
 * caller's transaction is the group-commit one, so either all go or none */
int partition_clear(partition *self, int connections, size_t *flows, size_t *runs,
                    partition_durable_fn durable, void *arg, cmk_err *err)
{
    static const char *const sql[] = { "DELETE FROM flows", "DELETE FROM runs", "DELETE FROM connections" };
    size_t counts[3] = { 0, 0, 0 };
    int rc;

    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_clear needs a partition");
    self->flow_gen++;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    /* a savepoint inside the group-commit transaction: a failure takes back every delete */
    if ((rc = sqlite3_exec(self->db, "SAVEPOINT pt_clear", NULL, NULL, NULL)) != SQLITE_OK)
        return pt_write_failed(self, rc, "clearing the partition", err);
    for (int i = 0; i < (connections ? 3 : 2); i++) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(self->db, sql[i], -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            sqlite3_finalize(st);
        }
        if (rc != SQLITE_DONE) {
            if (!sqlite3_get_autocommit(self->db))
                sqlite3_exec(self->db, "ROLLBACK TO pt_clear; RELEASE pt_clear", NULL, NULL, NULL);
            return pt_write_failed(self, rc == SQLITE_OK ? SQLITE_ERROR : rc, "clearing the partition", err);
        }
        counts[i] = (size_t)sqlite3_changes(self->db);
    }
    if ((rc = sqlite3_exec(self->db, "RELEASE pt_clear", NULL, NULL, NULL)) != SQLITE_OK)
        return pt_write_failed(self, rc, "clearing the partition", err);
    if (flows)
        *flows = counts[0];
    if (runs)
        *runs = counts[1];
    return pt_write_done(self, durable, arg, err);
}

/* partition_conn_list - every connection without its secret, in id order */
int partition_conn_list(partition *self, cJSON **ids, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    *ids = NULL;
    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_conn_list needs a partition");
    if ((rc = sqlite3_prepare_v2(self->db, "SELECT id, name, oauth FROM connections ORDER BY id", -1, &st, NULL)) !=
        SQLITE_OK)
        return pt_db_err(self, rc, "listing connections", err);
    *ids = cJSON_CreateArray();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "name", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
        cJSON_AddBoolToObject(o, "oauth", sqlite3_column_int(st, 2));
        cJSON_AddItemToArray(*ids, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(*ids);
        *ids = NULL;
        return pt_db_err(self, rc, "listing connections", err);
    }
    return 0;
}

/* partition_conn_delete - delete a connection (the target of a move removes its source copy) */
int partition_conn_delete(partition *self, const char *id, int *deleted, partition_durable_fn durable, void *arg,
                          cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (deleted)
        *deleted = 0;
    if (!self || !id)
        return cmk_err_set(err, CMK_EINVAL, "partition_conn_delete needs a partition and a connection id");
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    if ((rc = sqlite3_prepare_v2(self->db, "DELETE FROM connections WHERE id = ?1", -1, &st, NULL)) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc == SQLITE_OK ? SQLITE_ERROR : rc, "deleting a connection", err);
    if (deleted)
        *deleted = sqlite3_changes(self->db) > 0;
    return pt_write_done(self, durable, arg, err);
}

/* partition_flow_gen - a number that changes whenever a flow may have changed */
uint64_t partition_flow_gen(const partition *self)
{
    return self ? self->flow_gen : 0;
}
