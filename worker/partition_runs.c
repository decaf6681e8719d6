/*
 * partition_runs.c - a partition's run history: runs begin (trigger outputs sealed, deduplicated
 * by the caller's request id per flow), are saved with their full record (sealed), listed
 * newest first, found again after a crash (still Running), and exported as the "All runs" CSV.
 *
 * The CSV (RFC 4180: CRLF line ends, a field with a comma, quote, CR or LF is quoted and its
 * quotes doubled) has a header row and one row per run, newest first:
 *   Run ID          the run id
 *   Flow ID         the flow
 *   Start time      UTC, ISO 8601 with milliseconds (2025-05-21T10:00:00.000Z)
 *   End time        same; empty while the run is Running
 *   Duration (ms)   end - start; empty while Running
 *   Status          Running, Succeeded, Failed, Cancelled
 *   Error           the run's error, "code: message" (empty if none)
 *   Trigger (JSON)  what the trigger passed to the run: {"headers","queries","body"}
 *   Actions (JSON)  every action of the saved record, in definition order:
 *                   [{"name","status","inputs","outputs","startMs","endMs","error"}]; the
 *                   whole record if it is not an engine record; empty before the first save
 */
#include "worker/partition_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define PT_CSV_DEFAULT 100 /* the product's limit, used when max_records is 0 */

/* flen - length of a fixed-size text field (stops at its size if unterminated) */
#define flen(field) ((int)strnlen((field), sizeof(field)))

/* pt_row_to_run - columns 0..5 of a runs row into m */
void pt_row_to_run(sqlite3_stmt *st, partition_run *m)
{
    memset(m, 0, sizeof *m);
    pt_copy(m->id, sizeof m->id, sqlite3_column_text(st, 0));
    pt_copy(m->flow_id, sizeof m->flow_id, sqlite3_column_text(st, 1));
    pt_copy(m->client_req, sizeof m->client_req, sqlite3_column_text(st, 2));
    pt_copy(m->status, sizeof m->status, sqlite3_column_text(st, 3));
    m->start_ms = sqlite3_column_int64(st, 4);
    m->end_ms = sqlite3_column_int64(st, 5);
}

/* run_by_id - step PT_RUN_BY_ID; 1 if found */
static int run_by_id(partition *p, const char *id, partition_run *existing, cmk_err *err)
{
    sqlite3_stmt *st = pt_stmt(p, PT_RUN_BY_ID, err);
    int rc;

    if (!st)
        return err ? err->code : CMK_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && existing)
        pt_row_to_run(st, existing);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return pt_db_err(p, rc, "looking for an existing run", err);
    return rc == SQLITE_ROW;
}

/* find_by_req - the run of (flow, client_req) within the dedup window (partition_reqs.c): its
 * keyed hash under the data DEK, then under each older DEK (a retry after a rotation), then the
 * clear id of a schema 1 partition; 1 if found */
static int find_by_req(partition *p, const partition_run *meta, const char *stored,
                       partition_run *existing, cmk_err *err)
{
    char h[64];
    int rc = pt_reqs_find(p, meta, stored, existing, err);

    for (size_t i = 0; rc == 0 && p->opts.seal && i < p->n_read; i++) {
        if (p->read_deks[i] == p->data_dek)
            continue;
        if ((rc = pt_index_hash(p, p->read_deks[i], "runs", "client_req", meta->client_req, h,
                                sizeof h, err)) < 0)
            return rc;
        rc = pt_reqs_find(p, meta, h, existing, err);
    }
    if (rc == 0 && p->legacy && p->opts.seal)
        rc = pt_reqs_find(p, meta, meta->client_req, existing, err);
    return rc;
}

/* exists_err - the CMK_EEXIST of a run begun twice */
static int exists_err(partition *p, const partition_run *meta, int by_req, const partition_run *ex,
                      cmk_err *err)
{
    if (by_req)
        return cmk_err_set(err, CMK_EEXIST,
                           "flow %s already has run %s for client request %s (not started "
                           "again)",
                           meta->flow_id, ex->id, meta->client_req);
    return cmk_err_set(err, CMK_EEXIST, "run %s exists already in environment %s", meta->id,
                       p->env);
}

/* partition_run_dedup - is there a run of (flow, client_req) already? 0 if not, CMK_EEXIST with
 * *existing if so; req_key gets the keyed hash to store with a new run ("" without client_req) */
int partition_run_dedup(partition *self, const partition_run *meta, partition_run *existing, char *req_key,
                        size_t cap, cmk_err *err)
{
    partition_run ex;
    cmk_dek *dek;
    int rc;

    if (cap)
        req_key[0] = '\0';
    if (!self || !meta || !meta->id[0] || !meta->flow_id[0] || cap < 64)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_run_begin needs a partition and a run with an id and a "
                           "flow id");
    if ((rc = pt_need_dek(self, 0, &dek, err)) < 0)
        return rc;
    if (!meta->client_req[0])
        return 0;
    if ((rc = pt_index_hash(self, dek, "runs", "client_req", meta->client_req, req_key, cap, err)) < 0)
        return rc;
    if ((rc = find_by_req(self, meta, req_key, &ex, err)) < 0)
        return rc;
    if (rc == 1) {
        if (existing)
            *existing = ex;
        return exists_err(self, meta, 1, &ex, err);
    }
    return 0;
}

/* partition_run_insert - write a run checked by partition_run_dedup: its trigger outputs and,
 * for a run that already ended, its record (both sealed) */
int partition_run_insert(partition *self, const partition_run *meta, const char *req_key, const char *trigger_json,
                         const char *record_json, partition_run *existing, partition_durable_fn durable, void *arg,
                         cmk_err *err)
{
    partition_run ex;
    sqlite3_stmt *st;
    cmk_dek *dek;
    const void *blob = NULL;
    size_t blen = 0;
    int rc;

    if (!self || !meta || !meta->id[0] || !meta->flow_id[0] || !req_key)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_run_insert needs a partition and a run with an id and a "
                           "flow id");
    if ((rc = pt_need_dek(self, 0, &dek, err)) < 0)
        return rc;
    /* written meanwhile (no index says so at the INSERT): the same answer as _dedup's */
    if (req_key[0] && (rc = pt_reqs_find(self, meta, req_key, &ex, err)) != 0) {
        if (rc == 1 && existing)
            *existing = ex;
        return rc == 1 ? exists_err(self, meta, 1, &ex, err) : rc;
    }
    if (!(st = pt_stmt(self, PT_RUN_INSERT, err)))
        return err ? err->code : CMK_EIO;
    if (trigger_json && (rc = pt_seal(self, dek, "runs", meta->id, "trigger", trigger_json,
                                      strlen(trigger_json), &blob, &blen, err)) < 0)
        return rc;
    /* the trigger's sealed copy is bound (SQLITE_TRANSIENT) before the record reuses the scratch */
    if (blob)
        sqlite3_bind_blob(st, 7, blob, (int)blen, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 7);
    blob = NULL;
    if (record_json && (rc = pt_seal(self, dek, "runs", meta->id, "record", record_json, strlen(record_json),
                                     &blob, &blen, err)) < 0) {
        sqlite3_clear_bindings(st);
        return rc;
    }
    if ((rc = pt_write_begin(self, durable, err)) < 0) {
        sqlite3_clear_bindings(st);
        return rc;
    }
    sqlite3_bind_text(st, 1, meta->id, flen(meta->id), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, meta->flow_id, flen(meta->flow_id), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, req_key, -1, SQLITE_STATIC);
    if (meta->status[0])
        sqlite3_bind_text(st, 4, meta->status, flen(meta->status), SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 4, "Running", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, meta->start_ms);
    sqlite3_bind_int64(st, 6, meta->end_ms);
    if (blob)
        sqlite3_bind_blob(st, 8, blob, (int)blen, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* drop the sealed copies */
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        /* the id is taken, or (flow, client_req) was written meanwhile */
        cmk_err tmp = CMK_ERR_INIT;
        int by_req = 0, f = 0;
        if (req_key[0] && (f = pt_reqs_find(self, meta, req_key, &ex, &tmp)) == 1)
            by_req = 1;
        if (f != 1)
            f = run_by_id(self, meta->id, &ex, &tmp);
        if (self->in_txn && self->pending == 0 && !self->dispatching)
            (void)partition_commit(self, NULL);
        if (f == 1) {
            if (existing)
                *existing = ex;
            return exists_err(self, meta, by_req, &ex, err);
        }
    }
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "recording a new run", err);
    /* held for the dedup window; out of memory, they are loaded again before the next lookup */
    (void)pt_reqs_add(self, meta->flow_id, req_key, meta->start_ms, sqlite3_last_insert_rowid(self->db), NULL);
    return pt_write_done(self, durable, arg, err);
}

/* partition_run_begin - record a new run with its trigger outputs (sealed), deduplicated by
 * the keyed hash of client_req */
int partition_run_begin(partition *self, const partition_run *meta, const char *trigger_json,
                        partition_run *existing, partition_durable_fn durable, void *arg,
                        cmk_err *err)
{
    char key[64];
    int rc = partition_run_dedup(self, meta, existing, key, sizeof key, err);
    if (rc < 0)
        return rc;
    return partition_run_insert(self, meta, key, trigger_json, NULL, existing, durable, arg, err);
}

/* partition_run_save - update status/end time and the run's full record (sealed) */
int partition_run_save(partition *self, const char *run_id, const char *status, int64_t end_ms,
                       const char *record_json, partition_durable_fn durable, void *arg,
                       cmk_err *err)
{
    sqlite3_stmt *st;
    cmk_dek *dek = NULL;
    const void *blob = NULL;
    size_t blen = 0;
    int rc;

    if (!self || !run_id || !*run_id || !status || !*status)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_run_save needs a partition, a run id and a status");
    if (record_json && (rc = pt_need_dek(self, 0, &dek, err)) < 0)
        return rc;
    if (!(st = pt_stmt(self, PT_RUN_SAVE, err)))
        return err ? err->code : CMK_EIO;
    if (record_json && (rc = pt_seal(self, dek, "runs", run_id, "record", record_json,
                                     strlen(record_json), &blob, &blen, err)) < 0)
        return rc;
    if ((rc = pt_write_begin(self, durable, err)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, end_ms);
    if (blob)
        sqlite3_bind_blob(st, 4, blob, (int)blen, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4); /* keep the record saved before */
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return pt_write_failed(self, rc, "saving a run", err);
    if (sqlite3_changes(self->db) == 0) {
        if (self->in_txn && self->pending == 0 && !self->dispatching)
            (void)partition_commit(self, NULL);
        return cmk_err_set(err, CMK_ENOENT, "no run %s in environment %s", run_id, self->env);
    }
    return pt_write_done(self, durable, arg, err);
}

/* partition_run_get - a run; trigger_json and record_json (either may be NULL) are malloc'd */
int partition_run_get(partition *self, const char *run_id, partition_run *meta, char **trigger_json,
                      char **record_json, cmk_err *err)
{
    sqlite3_stmt *st;
    char *trig = NULL;
    size_t tlen = 0;
    int rc;

    if (trigger_json)
        *trigger_json = NULL;
    if (record_json)
        *record_json = NULL;
    if (!self || !run_id)
        return cmk_err_set(err, CMK_EINVAL, "partition_run_get needs a partition and a run id");
    if (!(st = pt_stmt(self, PT_RUN_GET, err)))
        return err ? err->code : CMK_EIO;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (meta)
            pt_row_to_run(st, meta);
        rc = 0;
        if (trigger_json)
            rc = pt_open_col(self, st, 6, "runs", run_id, "trigger", &trig, &tlen, err);
        if (rc == 0 && record_json)
            rc = pt_open_col(self, st, 7, "runs", run_id, "record", record_json, NULL, err);
        if (rc < 0)
            pt_free_secret(trig, tlen);
        else if (trigger_json)
            *trigger_json = trig;
    } else if (rc == SQLITE_DONE) {
        rc = cmk_err_set(err, CMK_ENOENT, "no run %s in environment %s", run_id, self->env);
    } else {
        rc = pt_db_err(self, rc, "reading a run", err);
    }
    sqlite3_reset(st);
    return rc;
}

/* collect_runs - step st and gather its rows (columns 0..5) into a malloc'd array */
static int collect_runs(partition *self, sqlite3_stmt *st, partition_run **out, size_t *n,
                        cmk_err *err)
{
    partition_run *arr = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            partition_run *na = realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = SQLITE_NOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        pt_row_to_run(st, &arr[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(arr);
        return pt_db_err(self, rc, "listing runs", err);
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* partition_run_list - runs of a flow (NULL: all), newest first, since since_ms, at most limit */
int partition_run_list(partition *self, const char *flow_id, int64_t since_ms, size_t limit,
                       partition_run **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!self || !out || !n)
        return cmk_err_set(err, CMK_EINVAL, "partition_run_list needs a partition and outputs");
    if (!(st = pt_stmt(self, flow_id ? PT_RUN_LIST_FLOW : PT_RUN_LIST_ALL, err)))
        return err ? err->code : CMK_EIO;
    if (flow_id)
        sqlite3_bind_text(st, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 : (sqlite3_int64)limit);
    return collect_runs(self, st, out, n, err);
}

/* partition_run_unfinished - runs still Running (to resume after a crash) */
int partition_run_unfinished(partition *self, partition_run **out, size_t *n, cmk_err *err)
{
    sqlite3_stmt *st;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!self || !out || !n)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_run_unfinished needs a partition and outputs");
    if (!(st = pt_stmt(self, PT_RUN_UNFINISHED, err)))
        return err ? err->code : CMK_EIO;
    return collect_runs(self, st, out, n, err);
}

/* csv_field - one RFC 4180 field (quoted when it holds a comma, quote, CR or LF) */
static void csv_field(pt_buf *b, const char *s, size_t n, int last)
{
    const char *q;

    if (!s)
        n = 0;
    if (n && (memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\r', n) || memchr(s, '\n', n))) {
        pt_buf_add(b, "\"", 1);
        while (n && (q = memchr(s, '"', n))) {
            pt_buf_add(b, s, (size_t)(q - s) + 1);
            pt_buf_add(b, "\"", 1); /* the quote doubled */
            n -= (size_t)(q - s) + 1;
            s = q + 1;
        }
        pt_buf_add(b, s, n);
        pt_buf_add(b, "\"", 1);
    } else if (n) {
        pt_buf_add(b, s, n);
    }
    pt_buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

/* csv_str - a NUL-terminated field */
static void csv_str(pt_buf *b, const char *s, int last)
{
    csv_field(b, s, s ? strlen(s) : 0, last);
}

/* iso_ms - a clock time in ms as UTC ISO 8601 with milliseconds */
static const char *iso_ms(int64_t ms, char buf[40])
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    struct tm tm;
    time_t t;

    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, 40, "%lld", (long long)ms);
        return buf;
    }
    snprintf(buf, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
    return buf;
}

/* json_wipe - wipe every string of a parsed tree (it held plaintext) before it is deleted */
static void json_wipe(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            cmk_wipe(j->valuestring, strlen(j->valuestring));
        if (j->string)
            cmk_wipe(j->string, strlen(j->string));
        json_wipe(j->child);
    }
}

/* csv_tail - the Error, Trigger and Actions fields (rec: the run's saved record, or NULL) */
static void csv_tail(pt_buf *b, const char *trig, size_t tlen, const char *rec, size_t len)
{
    cJSON *root = rec ? cJSON_ParseWithLength(rec, len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    cJSON *acts = cJSON_GetObjectItemCaseSensitive(root, "actions");
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
    char *txt = NULL;
    pt_buf eb = {0};

    if (code || msg) {
        pt_buf_add(&eb, code ? code : "", code ? strlen(code) : 0);
        if (code && msg)
            pt_buf_add(&eb, ": ", 2);
        pt_buf_add(&eb, msg ? msg : "", msg ? strlen(msg) : 0);
    }
    csv_field(b, eb.data, eb.len, 0);
    pt_buf_free(&eb);
    {
        /* a run recorded by an older build may hold the trigger URL's signature in its
         * queries: a reader of the CSV does not get it */
        cJSON *t = trig && strstr(trig, "\"sig\"") ? cJSON_Parse(trig) : NULL;
        char *clean = NULL;
        if (t) {
            cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "queries"), "sig");
            clean = cJSON_PrintUnformatted(t);
            cJSON_Delete(t);
        }
        if (clean) {
            csv_field(b, clean, strlen(clean), 0);
            pt_free_secret(clean, strlen(clean));
        } else {
            csv_field(b, trig, tlen, 0);
        }
    }
    if (cJSON_IsArray(acts)) {
        cJSON *a;
        cJSON_ArrayForEach(a, acts)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(a, "branch");
            cJSON_DeleteItemFromObjectCaseSensitive(a, "order");
        }
        txt = cJSON_PrintUnformatted(acts);
    }
    if (txt) {
        csv_str(b, txt, 1);
        cmk_wipe(txt, strlen(txt));
        cJSON_free(txt);
    } else if (cJSON_IsArray(acts)) {
        b->oom = 1; /* printing ran out of memory */
    } else {
        csv_field(b, rec, rec ? len : 0, 1); /* not an engine record: the whole of it */
    }
    json_wipe(root);
    cJSON_Delete(root);
}

/* partition_run_export_csv - the "All runs" CSV of a flow: newest first, at most max_records */
int partition_run_export_csv(partition *self, const char *flow_id, size_t max_records, char **csv,
                             cmk_err *err)
{
    static const char header[] = "Run ID,Flow ID,Start time,End time,Duration (ms),Status,Error,"
                                 "Trigger (JSON),Actions (JSON)\r\n";
    sqlite3_stmt *st;
    pt_buf b = {0};
    int rc = 0, src = SQLITE_DONE;

    if (csv)
        *csv = NULL;
    if (!self || !flow_id || !csv)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_run_export_csv needs a partition, a flow id and an output");
    if (self->opts.seal && self->locked)
        return pt_locked_err(self, err);
    if (!(st = pt_stmt(self, PT_RUN_EXPORT, err)))
        return err ? err->code : CMK_EIO;
    if (max_records == 0)
        max_records = PT_CSV_DEFAULT;
    sqlite3_bind_text(st, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, max_records > INT64_MAX ? -1 : (sqlite3_int64)max_records);
    pt_buf_add(&b, header, sizeof header - 1);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        partition_run r;
        char *trig = NULL, *rec = NULL, t1[40], t2[40];
        size_t tlen = 0, rlen = 0;

        pt_row_to_run(st, &r);
        rc = pt_open_col(self, st, 6, "runs", r.id, "trigger", &trig, &tlen, err);
        if (rc == 0)
            rc = pt_open_col(self, st, 7, "runs", r.id, "record", &rec, &rlen, err);
        if (rc == 0) {
            csv_str(&b, r.id, 0);
            csv_str(&b, r.flow_id, 0);
            csv_str(&b, iso_ms(r.start_ms, t1), 0);
            csv_str(&b, r.end_ms ? iso_ms(r.end_ms, t2) : "", 0);
            if (r.end_ms)
                pt_buf_addf(&b, "%lld,", (long long)(r.end_ms - r.start_ms));
            else
                pt_buf_add(&b, ",", 1);
            csv_str(&b, r.status, 0);
            csv_tail(&b, trig, tlen, rec, rlen); /* Error, Trigger, Actions: ends the line */
        }
        pt_free_secret(trig, tlen);
        pt_free_secret(rec, rlen);
    }
    sqlite3_reset(st);
    if (rc == 0 && src != SQLITE_DONE)
        rc = pt_db_err(self, src, "exporting runs", err);
    if (rc == 0 && b.oom)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory exporting the runs of flow %s", flow_id);
    if (rc < 0) {
        pt_buf_free(&b);
        return rc == CMK_EUNAVAIL ? rc
                                  : cmk_err_prefix(err, "exporting runs of flow %s: ", flow_id);
    }
    *csv = b.data;
    return 0;
}
