/*
 * partition_test.c - Check suite for worker/partition: flows, runs (deduplication, lists,
 * unfinished runs), the "All runs" CSV export, connections under the data or MMK DEK, opening
 * under the wrong DEK, locked environments (partition_forget_keys) and reading after a DEK
 * rotation. Durability, crash safety, file modes and the on-disk grep are in
 * partition_durability_test.c.
 */
#include <check.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define ENV "env-test-1"

#include "partition_fixture.h"

/* mkflow - flow metadata with an id and a name */
static partition_flow mkflow(const char *id, const char *name, int64_t created)
{
    partition_flow f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "%s", id);
    snprintf(f.name, sizeof f.name, "%s", name);
    strcpy(f.trigger_kind, "http");
    strcpy(f.kind, "cloud");
    f.enabled = 1;
    f.in_solution = 1;
    strcpy(f.trigger_token, "tok-123");
    f.created_ms = created;
    f.updated_ms = created + 1;
    return f;
}

/* mkrun - run metadata */
static partition_run mkrun(const char *id, const char *flow, const char *req, int64_t start)
{
    partition_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.flow_id, sizeof r.flow_id, "%s", flow);
    snprintf(r.client_req, sizeof r.client_req, "%s", req ? req : "");
    strcpy(r.status, "Running");
    r.start_ms = start;
    return r;
}

/* begin_ok - begin a run, failing the test on error */
static void begin_ok(const char *id, const char *flow, const char *req, int64_t start,
                     const char *trigger)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run r = mkrun(id, flow, req, start);
    int rc = partition_run_begin(part, &r, trigger, NULL, NULL, NULL, &err);
    ck_assert_msg(rc == 0, "partition_run_begin %s: %s", id, err.msg);
}

/* dek_hex - a DEK's id as hex */
static const char *dek_hex(const cmk_dek *d, char buf[33])
{
    return cmk_dek_id_hex(d, buf, 33);
}

START_TEST(test_flows_roundtrip)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow a = mkflow("flow-a", "Get Invoice HTTP", 100), b = mkflow("flow-b", "Pay", 200);
    partition_flow got, *list = NULL;
    const char *def = "{\"triggers\":{\"manual\":{}},\"actions\":{}}";
    char *back = NULL;
    size_t n = 0;

    ck_assert_int_eq(partition_flow_put(part, &b, def, strlen(def), NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_put(part, &a, def, strlen(def), NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, &back, &err), 0);
    ck_assert_str_eq(back, def);
    ck_assert_str_eq(got.name, "Get Invoice HTTP");
    ck_assert_str_eq(got.trigger_kind, "http");
    ck_assert_str_eq(got.kind, "cloud");
    ck_assert_str_eq(got.trigger_token, "tok-123");
    ck_assert_int_eq(got.enabled, 1);
    ck_assert_int_eq(got.in_solution, 1);
    ck_assert_int_eq(got.created_ms, 100);
    ck_assert_int_eq(got.updated_ms, 101);
    free(back);

    /* metadata only: no definition wanted */
    ck_assert_int_eq(partition_flow_get(part, "flow-b", &got, NULL, &err), 0);
    ck_assert_str_eq(got.name, "Pay");

    /* replace */
    a.enabled = 0;
    strcpy(a.name, "Get Invoice HTTP v2");
    ck_assert_int_eq(partition_flow_put(part, &a, "{\"v\":2}", 7, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, &back, &err), 0);
    ck_assert_str_eq(back, "{\"v\":2}");
    ck_assert_str_eq(got.name, "Get Invoice HTTP v2");
    ck_assert_int_eq(got.enabled, 0);
    free(back);

    ck_assert_int_eq(partition_flow_list(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].id, "flow-a"); /* by creation time */
    ck_assert_str_eq(list[1].id, "flow-b");
    free(list);

    /* survives a reopen */
    partition_close(&part);
    ck_assert_ptr_null(part);
    open_part();
    ck_assert_int_eq(partition_flow_get(part, "flow-b", &got, &back, &err), 0);
    ck_assert_str_eq(back, def);
    free(back);

    ck_assert_int_eq(partition_flow_delete(part, "flow-a", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, &back, &err), CMK_ENOENT);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(err.msg, "flow-a"));
    ck_assert_int_eq(partition_flow_delete(part, "flow-a", NULL, NULL, &err), CMK_ENOENT);
    ck_assert_int_eq(partition_flow_list(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    free(list);
    ck_assert_uint_eq(partition_pending(part), 1); /* the delete; the failed one added nothing */
    ck_assert_str_eq(partition_env(part), ENV);
}
END_TEST

START_TEST(test_runs)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run m, *list = NULL;
    char *trig = NULL, *rec = NULL;
    size_t n = 0;

    begin_ok("run-1", "flow-a", NULL, 1000, "{\"body\":{\"x\":1}}");
    begin_ok("run-2", "flow-a", NULL, 3000, NULL);
    begin_ok("run-3", "flow-b", NULL, 2000, "{\"body\":\"b\"}");
    begin_ok("run-4", "flow-a", NULL, 3000, "{}"); /* same start as run-2, begun later */

    ck_assert_int_eq(partition_run_save(part, "run-1", "Succeeded", 1500,
                                        "{\"status\":\"Succeeded\",\"actions\":[]}", NULL, NULL,
                                        &err),
                     0);
    ck_assert_int_eq(partition_run_get(part, "run-1", &m, &trig, &rec, &err), 0);
    ck_assert_str_eq(m.status, "Succeeded");
    ck_assert_str_eq(m.flow_id, "flow-a");
    ck_assert_int_eq(m.start_ms, 1000);
    ck_assert_int_eq(m.end_ms, 1500);
    ck_assert_str_eq(trig, "{\"body\":{\"x\":1}}");
    ck_assert_str_eq(rec, "{\"status\":\"Succeeded\",\"actions\":[]}");
    free(trig);
    free(rec);

    /* a save without a record keeps the record */
    ck_assert_int_eq(partition_run_save(part, "run-1", "Failed", 1600, NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_run_get(part, "run-1", &m, NULL, &rec, &err), 0);
    ck_assert_str_eq(m.status, "Failed");
    ck_assert_str_eq(rec, "{\"status\":\"Succeeded\",\"actions\":[]}");
    free(rec);

    /* no trigger, no record yet */
    ck_assert_int_eq(partition_run_get(part, "run-2", &m, &trig, &rec, &err), 0);
    ck_assert_ptr_null(trig);
    ck_assert_ptr_null(rec);
    ck_assert_int_eq(m.end_ms, 0);

    ck_assert_int_eq(partition_run_save(part, "run-9", "Failed", 1, "{}", NULL, NULL, &err),
                     CMK_ENOENT);
    ck_assert_int_eq(partition_run_get(part, "run-9", &m, NULL, NULL, &err), CMK_ENOENT);

    /* lists: newest first */
    ck_assert_int_eq(partition_run_list(part, NULL, 0, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(list[0].id, "run-4");
    ck_assert_str_eq(list[1].id, "run-2");
    ck_assert_str_eq(list[2].id, "run-3");
    ck_assert_str_eq(list[3].id, "run-1");
    free(list);
    ck_assert_int_eq(partition_run_list(part, "flow-a", 0, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0].id, "run-4");
    ck_assert_str_eq(list[2].id, "run-1");
    free(list);
    ck_assert_int_eq(partition_run_list(part, "flow-a", 2000, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    free(list);
    ck_assert_int_eq(partition_run_list(part, NULL, 0, 2, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[1].id, "run-2");
    free(list);
    ck_assert_int_eq(partition_run_list(part, "flow-none", 0, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(list);

    /* unfinished: the Running ones, oldest first */
    ck_assert_int_eq(partition_run_unfinished(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0].id, "run-3");
    ck_assert_str_eq(list[1].id, "run-2");
    ck_assert_str_eq(list[2].id, "run-4");
    free(list);
    ck_assert_int_eq(partition_run_save(part, "run-3", "Cancelled", 2500, "{}", NULL, NULL, &err),
                     0);
    partition_close(&part);
    open_part();
    ck_assert_int_eq(partition_run_unfinished(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    free(list);
}
END_TEST

START_TEST(test_dedupe)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run r, ex;
    partition_run *list = NULL;
    size_t n = 0;

    begin_ok("run-1", "flow-a", "req-1", 1000, "{}");
    r = mkrun("run-2", "flow-a", "req-1", 2000);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", &ex, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
    ck_assert_int_eq(ex.start_ms, 1000);
    ck_assert_ptr_nonnull(strstr(err.msg, "req-1"));
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), CMK_EEXIST);

    /* the same request id for another flow is another request */
    begin_ok("run-3", "flow-b", "req-1", 3000, "{}");
    /* no request id: never deduplicated */
    begin_ok("run-4", "flow-a", "", 4000, "{}");
    begin_ok("run-5", "flow-a", "", 5000, "{}");

    /* after a commit and a reopen too */
    partition_close(&part);
    open_part();
    r = mkrun("run-6", "flow-a", "req-1", 6000);
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", &ex, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");

    /* the same run id twice */
    r = mkrun("run-4", "flow-a", "", 7000);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", &ex, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-4");
    ck_assert_int_eq(ex.start_ms, 4000);

    ck_assert_int_eq(partition_run_list(part, NULL, 0, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 4); /* run-1, run-3, run-4, run-5 */
    free(list);
    ck_assert_uint_eq(partition_pending(part), 0);
}
END_TEST

/* A parsed CSV: rows of fields. */
typedef struct {
    char ***rows;    /* rows[i][j] */
    size_t *nfields; /* fields per row */
    size_t nrows;    /* rows */
} csv_doc;

/* csv_parse - a strict RFC 4180 parser (CRLF line ends); fails the test on bad syntax */
static csv_doc csv_parse(const char *s)
{
    csv_doc d = {0};
    size_t cap = 0;

    while (*s) {
        char **fields = NULL;
        size_t nf = 0;
        for (;;) {
            char *f = malloc(strlen(s) + 1);
            size_t k = 0;
            ck_assert_ptr_nonnull(f);
            if (*s == '"') {
                s++;
                for (;;) {
                    ck_assert_msg(*s != '\0', "unterminated quoted field");
                    if (*s == '"' && s[1] == '"') {
                        f[k++] = '"';
                        s += 2;
                    } else if (*s == '"') {
                        s++;
                        break;
                    } else {
                        f[k++] = *s++;
                    }
                }
            } else {
                while (*s && *s != ',' && *s != '\r') {
                    ck_assert_msg(*s != '"' && *s != '\n', "bare quote or LF in unquoted field");
                    f[k++] = *s++;
                }
            }
            f[k] = '\0';
            fields = realloc(fields, (nf + 1) * sizeof *fields);
            fields[nf++] = f;
            if (*s == ',') {
                s++;
                continue;
            }
            ck_assert_msg(s[0] == '\r' && s[1] == '\n', "record does not end with CRLF");
            s += 2;
            break;
        }
        if (d.nrows == cap) {
            cap = cap ? cap * 2 : 16;
            d.rows = realloc(d.rows, cap * sizeof *d.rows);
            d.nfields = realloc(d.nfields, cap * sizeof *d.nfields);
        }
        d.rows[d.nrows] = fields;
        d.nfields[d.nrows++] = nf;
    }
    return d;
}

/* csv_free - free a parsed CSV */
static void csv_free(csv_doc *d)
{
    for (size_t i = 0; i < d->nrows; i++) {
        for (size_t j = 0; j < d->nfields[i]; j++)
            free(d->rows[i][j]);
        free(d->rows[i]);
    }
    free(d->rows);
    free(d->nfields);
}

/* a run that ended within its first step is written once: checked, then inserted with its
 * record; its client request is deduplicated like one begun and saved */
START_TEST(test_run_written_once)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run r = mkrun("run-9", "flow-a", "req-9", 9000), ex, got;
    char key[64], *trig = NULL, *rec = NULL;

    ck_assert_int_eq(partition_run_dedup(part, &r, &ex, key, sizeof key, &err), 0);
    ck_assert_uint_gt(strlen(key), 0); /* a keyed hash, not the request id */
    ck_assert_str_ne(key, "req-9");
    strcpy(r.status, "Succeeded");
    r.end_ms = 9005;
    ck_assert_msg(partition_run_insert(part, &r, key, "{\"body\":1}", "{\"status\":\"Succeeded\"}", NULL, NULL, NULL,
                                       &err) == 0, "%s", err.msg);
    ck_assert_int_eq(partition_run_get(part, "run-9", &got, &trig, &rec, &err), 0);
    ck_assert_str_eq(got.status, "Succeeded");
    ck_assert_int_eq(got.end_ms, 9005);
    ck_assert_str_eq(trig, "{\"body\":1}");
    ck_assert_str_eq(rec, "{\"status\":\"Succeeded\"}");
    free(trig);
    free(rec);
    /* the same client request again is found, before and after a commit */
    r = mkrun("run-10", "flow-a", "req-9", 9100);
    ck_assert_int_eq(partition_run_dedup(part, &r, &ex, key, sizeof key, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-9");
    ck_assert_int_eq(partition_commit(part, &err), 0);
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", &ex, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-9");
    /* no client request: an empty key, never deduplicated */
    r = mkrun("run-11", "flow-a", "", 9200);
    ck_assert_int_eq(partition_run_dedup(part, &r, NULL, key, sizeof key, &err), 0);
    ck_assert_str_eq(key, "");
    ck_assert_int_eq(partition_run_insert(part, &r, key, "{}", NULL, NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_run_get(part, "run-11", &got, NULL, &rec, &err), 0);
    ck_assert_str_eq(got.status, "Running");
    ck_assert_ptr_null(rec);
}
END_TEST

START_TEST(test_csv_export)
{
    cmk_err err = CMK_ERR_INIT;
    const char *tricky = "{\"body\":\"a, \\\"quoted\\\"\nline two\r\nthree\"}";
    const char *record = "{\"version\":1,\"definition\":{},\"status\":\"Failed\","
                         "\"error\":{\"code\":\"ActionFailed\",\"message\":\"HTTP, failed\"},"
                         "\"actions\":[{\"name\":\"Call\",\"status\":\"Failed\",\"inputs\":"
                         "{\"uri\":\"http://x/\"},\"outputs\":{\"statusCode\":500},"
                         "\"startMs\":1,\"endMs\":2,\"branch\":-1,\"order\":1}]}";
    char *csv = NULL, trig[64], id[32];
    csv_doc d;

    for (int i = 0; i < 130; i++) {
        snprintf(id, sizeof id, "run-%03d", i);
        snprintf(trig, sizeof trig, "{\"body\":{\"n\":%d}}", i);
        begin_ok(id, "flow-a", NULL, 1000 + i * 10, i == 129 ? tricky : trig);
    }
    begin_ok("run-other", "flow-b", NULL, 99999, "{}");
    ck_assert_int_eq(partition_run_save(part, "run-128", "Failed", 1000 + 128 * 10 + 2500, record,
                                        NULL, NULL, &err),
                     0);

    ck_assert_int_eq(partition_run_export_csv(part, "flow-a", 100, &csv, &err), 0);
    d = csv_parse(csv);
    ck_assert_uint_eq(d.nrows, 101); /* header + the product's 100 */
    ck_assert_uint_eq(d.nfields[0], 9);
    ck_assert_str_eq(d.rows[0][0], "Run ID");
    ck_assert_str_eq(d.rows[0][7], "Trigger (JSON)");
    for (size_t i = 1; i < d.nrows; i++) {
        ck_assert_uint_eq(d.nfields[i], 9);
        snprintf(id, sizeof id, "run-%03zu", 130 - i); /* newest first */
        ck_assert_str_eq(d.rows[i][0], id);
        ck_assert_str_eq(d.rows[i][1], "flow-a");
    }
    /* the newest run: Running, trigger with commas, quotes, LF and CRLF */
    ck_assert_str_eq(d.rows[1][7], tricky);
    ck_assert_str_eq(d.rows[1][5], "Running");
    ck_assert_str_eq(d.rows[1][3], "");
    ck_assert_str_eq(d.rows[1][4], "");
    ck_assert_str_eq(d.rows[1][2], "1970-01-01T00:00:02.290Z");
    /* the saved, failed one */
    ck_assert_str_eq(d.rows[2][0], "run-128");
    ck_assert_str_eq(d.rows[2][5], "Failed");
    ck_assert_str_eq(d.rows[2][4], "2500");
    ck_assert_str_eq(d.rows[2][3], "1970-01-01T00:00:04.780Z");
    ck_assert_str_eq(d.rows[2][6], "ActionFailed: HTTP, failed");
    ck_assert_ptr_nonnull(strstr(d.rows[2][8], "\"name\":\"Call\""));
    ck_assert_ptr_nonnull(strstr(d.rows[2][8], "\"statusCode\":500"));
    ck_assert_ptr_nonnull(strstr(d.rows[2][8], "\"uri\":\"http://x/\""));
    ck_assert_ptr_null(strstr(d.rows[2][8], "\"order\""));
    ck_assert_str_eq(d.rows[3][7], "{\"body\":{\"n\":127}}");
    ck_assert_str_eq(d.rows[3][8], "");
    csv_free(&d);
    free(csv);

    ck_assert_int_eq(partition_run_export_csv(part, "flow-a", 3, &csv, &err), 0);
    d = csv_parse(csv);
    ck_assert_uint_eq(d.nrows, 4);
    ck_assert_str_eq(d.rows[3][0], "run-127");
    csv_free(&d);
    free(csv);

    ck_assert_int_eq(partition_run_export_csv(part, "flow-none", 100, &csv, &err), 0);
    d = csv_parse(csv);
    ck_assert_uint_eq(d.nrows, 1); /* just the header */
    csv_free(&d);
    free(csv);
}
END_TEST

START_TEST(test_connections)
{
    cmk_err err = CMK_ERR_INIT;
    char hex[33], want[33];
    char *secret = NULL;
    int oauth = -1;
    cmk_dek *dek2 = cmk_dek_generate(&err);

    ck_assert_int_eq(partition_conn_put(part, "conn-oauth", "Office 365", 1, "refresh-token-abc",
                                        NULL, NULL, &err),
                     0);
    ck_assert_int_eq(
        partition_conn_put(part, "conn-basic", "SQL basic auth", 0, "pw-xyz", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_conn_key_id(part, "conn-oauth", hex, &err), 0);
    ck_assert_str_eq(hex, dek_hex(dek, want));
    ck_assert_int_eq(partition_conn_key_id(part, "conn-basic", hex, &err), 0);
    ck_assert_str_eq(hex, dek_hex(mmk, want));
    ck_assert_str_ne(hex, dek_hex(dek, want));

    ck_assert_int_eq(partition_conn_get(part, "conn-oauth", &oauth, &secret, &err), 0);
    ck_assert_int_eq(oauth, 1);
    ck_assert_str_eq(secret, "refresh-token-abc");
    cmk_wipe(secret, strlen(secret));
    free(secret);
    ck_assert_int_eq(partition_conn_get(part, "conn-basic", &oauth, &secret, &err), 0);
    ck_assert_int_eq(oauth, 0);
    ck_assert_str_eq(secret, "pw-xyz");
    free(secret);
    ck_assert_int_eq(partition_conn_get(part, "conn-none", NULL, &secret, &err), CMK_ENOENT);
    ck_assert_int_eq(partition_conn_key_id(part, "conn-none", hex, &err), CMK_ENOENT);

    /* a customer key for data: non-OAuth secrets stay under the MMK DEK */
    partition_set_keys(part, dek2, mmk);
    ck_assert_int_eq(partition_add_read_dek(part, dek, &err), 0);
    ck_assert_int_eq(partition_conn_put(part, "conn-basic2", "FTP", 0, "ftp-pw", NULL, NULL, &err),
                     0);
    ck_assert_int_eq(partition_conn_put(part, "conn-oauth2", "Teams", 1, "tok2", NULL, NULL, &err),
                     0);
    ck_assert_int_eq(partition_conn_key_id(part, "conn-basic2", hex, &err), 0);
    ck_assert_str_eq(hex, dek_hex(mmk, want));
    ck_assert_int_eq(partition_conn_key_id(part, "conn-oauth2", hex, &err), 0);
    ck_assert_str_eq(hex, dek_hex(dek2, want));
    ck_assert_int_eq(partition_conn_get(part, "conn-oauth", NULL, &secret, &err), 0);
    ck_assert_str_eq(secret, "refresh-token-abc");
    free(secret);
    partition_close(&part);
    cmk_dek_destroy(&dek2);
}
END_TEST

/* blob_dek_hex - the DEK id of a sealed column read straight from the file with SQLite */
static void blob_dek_hex(const char *sql, char hex[33])
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    uint8_t id[CMK_DEK_ID_LEN];
    cmk_err err = CMK_ERR_INIT;

    ck_assert_int_eq(sqlite3_open_v2(partition_path(part), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(
        cmk_blob_dek_id(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), id, &err),
        0);
    for (size_t i = 0; i < CMK_DEK_ID_LEN; i++)
        sprintf(hex + 2 * i, "%02x", id[i]);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

START_TEST(test_rotation_read_deks)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow f = mkflow("flow-old", "Old", 1), g = mkflow("flow-new", "New", 2);
    cmk_dek *dek2 = cmk_dek_generate(&err);
    char *def = NULL, hex[33], want[33];

    ck_assert_int_eq(partition_flow_put(part, &f, "old-def", 7, NULL, NULL, &err), 0);
    begin_ok("run-old", "flow-old", NULL, 10, "old-trigger");
    ck_assert_int_eq(partition_commit(part, &err), 0);

    /* rotate: new rows under dek2; without the old DEK, old rows do not open */
    partition_set_keys(part, dek2, mmk);
    ck_assert_int_eq(partition_flow_get(part, "flow-old", NULL, &def, &err), CMK_ECRYPTO);
    ck_assert_ptr_null(def);
    ck_assert_ptr_nonnull(strstr(err.msg, dek_hex(dek, want)));
    ck_assert_int_eq(partition_add_read_dek(part, dek, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-old", NULL, &def, &err), 0);
    ck_assert_str_eq(def, "old-def");
    free(def);

    ck_assert_int_eq(partition_flow_put(part, &g, "new-def", 7, NULL, NULL, &err), 0);
    begin_ok("run-new", "flow-new", NULL, 20, "new-trigger");
    ck_assert_int_eq(partition_commit(part, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-new", NULL, &def, &err), 0);
    ck_assert_str_eq(def, "new-def");
    free(def);

    blob_dek_hex("SELECT definition FROM flows WHERE id = 'flow-old'", hex);
    ck_assert_str_eq(hex, dek_hex(dek, want));
    blob_dek_hex("SELECT definition FROM flows WHERE id = 'flow-new'", hex);
    ck_assert_str_eq(hex, dek_hex(dek2, want));
    blob_dek_hex("SELECT \"trigger\" FROM runs WHERE id = 'run-new'", hex);
    ck_assert_str_eq(hex, dek_hex(dek2, want));
    blob_dek_hex("SELECT \"trigger\" FROM runs WHERE id = 'run-old'", hex);
    ck_assert_str_eq(hex, dek_hex(dek, want));

    /* a re-encrypted row (put again) moves to the new DEK */
    ck_assert_int_eq(partition_flow_put(part, &f, "old-def", 7, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);
    blob_dek_hex("SELECT definition FROM flows WHERE id = 'flow-old'", hex);
    ck_assert_str_eq(hex, dek_hex(dek2, want));
    partition_close(&part);
    cmk_dek_destroy(&dek2);
}
END_TEST

START_TEST(test_wrong_dek)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow f = mkflow("flow-1", "One", 1), meta;
    cmk_dek *other = cmk_dek_generate(&err);
    char *def = NULL, *trig = NULL, *secret = NULL, *csv = NULL, want[33];

    ck_assert_int_eq(partition_flow_put(part, &f, "{\"a\":1}", 7, NULL, NULL, &err), 0);
    begin_ok("run-1", "flow-1", NULL, 5, "{\"t\":1}");
    ck_assert_int_eq(partition_conn_put(part, "c1", "Conn", 1, "s3cret", NULL, NULL, &err), 0);
    partition_close(&part);

    ck_assert_int_eq(partition_open(tmpdir, ENV, NULL, &part, &err), 0);
    partition_set_keys(part, other, other);
    ck_assert_int_eq(partition_flow_get_ex(part, "flow-1", &meta, &def, 0, &err), CMK_ECRYPTO);
    ck_assert_ptr_null(def);
    ck_assert_msg(strstr(err.msg, dek_hex(dek, want)) != NULL, "DEK id not named: %s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "flows/flow-1/definition"));
    /* the name is sealed too (schema 2) */
    ck_assert_int_eq(partition_flow_get(part, "flow-1", &meta, NULL, &err), CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "flows/flow-1/name"));
    ck_assert_int_eq(partition_run_get(part, "run-1", NULL, &trig, NULL, &err), CMK_ECRYPTO);
    ck_assert_ptr_null(trig);
    ck_assert_int_eq(partition_conn_get(part, "c1", NULL, &secret, &err), CMK_ECRYPTO);
    ck_assert_ptr_null(secret);
    ck_assert_int_eq(partition_run_export_csv(part, "flow-1", 100, &csv, &err), CMK_ECRYPTO);
    ck_assert_ptr_null(csv);
    /* the clear metadata (ids, kinds, states, times) still lists; the name does not */
    ck_assert_int_eq(partition_flow_get_ex(part, "flow-1", &meta, NULL, 0, &err), 0);
    ck_assert_str_eq(meta.id, "flow-1");
    ck_assert_str_eq(meta.name, "");

    /* no key at all yet */
    partition_close(&part);
    ck_assert_int_eq(partition_open(tmpdir, ENV, NULL, &part, &err), 0);
    ck_assert_int_eq(partition_flow_get(part, "flow-1", NULL, &def, &err), CMK_EUNAVAIL);
    ck_assert_int_eq(partition_flow_put(part, &f, "x", 1, NULL, NULL, &err), CMK_EUNAVAIL);
    partition_close(&part);
    cmk_dek_destroy(&other);

    /* another environment's partition */
    ck_assert_int_eq(partition_open(tmpdir, "env-other", NULL, &part, &err), CMK_EINVAL);
    ck_assert_ptr_null(part);
    ck_assert_ptr_nonnull(strstr(err.msg, ENV));
}
END_TEST

START_TEST(test_forget_keys)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow f = mkflow("flow-1", "One", 1), meta;
    partition_run r = mkrun("run-2", "flow-1", NULL, 9), *runs = NULL;
    partition_flow *flows = NULL;
    uint8_t payload[16] = {0};
    char *out = NULL, hex[33];
    size_t n = 0;

    ck_assert_int_eq(partition_flow_put(part, &f, "{\"a\":1}", 7, NULL, NULL, &err), 0);
    begin_ok("run-1", "flow-1", NULL, 5, "{\"t\":1}");
    ck_assert_int_eq(partition_conn_put(part, "c1", "Conn", 0, "pw", NULL, NULL, &err), 0);

    partition_forget_keys(part);
#define LOCKED(call)                                                                               \
    do {                                                                                           \
        cmk_err_clear(&err);                                                                       \
        ck_assert_int_eq((call), CMK_EUNAVAIL);                                                    \
        ck_assert_msg(strstr(err.msg, "environment " ENV " is locked") != NULL, "message: %s",     \
                      err.msg);                                                                    \
    } while (0)
    LOCKED(partition_flow_put(part, &f, "x", 1, NULL, NULL, &err));
    LOCKED(partition_flow_get(part, "flow-1", &meta, &out, &err));
    LOCKED(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err));
    LOCKED(partition_run_save(part, "run-1", "Succeeded", 10, "{}", NULL, NULL, &err));
    LOCKED(partition_run_get(part, "run-1", NULL, &out, NULL, &err));
    LOCKED(partition_run_export_csv(part, "flow-1", 100, &out, &err));
    LOCKED(partition_conn_put(part, "c2", "Conn", 1, "tok", NULL, NULL, &err));
    LOCKED(partition_conn_put(part, "c3", "Conn", 0, "pw", NULL, NULL, &err));
    LOCKED(partition_conn_get(part, "c1", NULL, &out, &err));
    LOCKED(partition_bench_put(part, 1, payload, sizeof payload, NULL, NULL, &err));
    LOCKED(partition_add_read_dek(part, dek, &err) == 0
               ? partition_flow_get(part, "flow-1", NULL, &out, &err)
               : -99); /* forgotten keys stay forgotten even if an old DEK is added back */
#undef LOCKED
    ck_assert_ptr_null(out);

    /* what the platform lists without the key still works: ids, kinds, states (names are
     * sealed: they need the key) */
    ck_assert_int_eq(partition_flow_get_ex(part, "flow-1", &meta, NULL, 0, &err), 0);
    ck_assert_int_eq(partition_flow_list_ex(part, 0, &flows, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    free(flows);
    ck_assert_int_eq(partition_flow_list(part, &flows, &n, &err), CMK_EUNAVAIL);
    ck_assert_ptr_null(flows);
    ck_assert_int_eq(partition_flow_get(part, "flow-1", &meta, NULL, &err), CMK_EUNAVAIL);
    ck_assert_int_eq(partition_run_list(part, NULL, 0, 0, &runs, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    free(runs);
    ck_assert_int_eq(partition_conn_key_id(part, "c1", hex, &err), 0);
    ck_assert_int_eq(partition_run_save(part, "run-1", "Cancelled", 10, NULL, NULL, NULL, &err), 0);

    /* restore */
    partition_set_keys(part, dek, mmk);
    ck_assert_int_eq(partition_flow_get(part, "flow-1", NULL, &out, &err), 0);
    ck_assert_str_eq(out, "{\"a\":1}");
    free(out);
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
}
END_TEST

START_TEST(test_bad_args)
{
    cmk_err err = CMK_ERR_INIT;
    partition_opts o;
    partition *p = (partition *)0x1;
    partition_flow f = mkflow("", "No id", 1);

    partition_opts_default(&o);
    ck_assert_int_eq(o.seal, 1);
    ck_assert_int_eq(o.synchronous, 1);
    ck_assert_int_eq(o.group_commit_ms, 5);
    ck_assert_int_eq(o.group_commit_max, 256);
    o.group_commit_max = 0;
    ck_assert_int_eq(partition_open(tmpdir, ENV, &o, &p, &err), CMK_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err.msg, "group_commit_max"));
    partition_opts_default(&o);
    o.synchronous = 7;
    ck_assert_int_eq(partition_open(tmpdir, ENV, &o, &p, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_open(NULL, ENV, NULL, &p, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_open(tmpdir, "", NULL, &p, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_flow_put(part, &f, "x", 1, NULL, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_flow_put(NULL, &f, "x", 1, NULL, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_run_begin(part, NULL, "x", NULL, NULL, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_run_save(part, "r", NULL, 0, NULL, NULL, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_conn_put(part, "c", "n", 1, NULL, NULL, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_add_read_dek(part, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_commit(NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(partition_tick(NULL, &err), -1);
    ck_assert_uint_eq(partition_pending(NULL), 0);
    ck_assert_ptr_null(partition_env(NULL));
    partition_close(NULL);
    p = NULL;
    partition_close(&p);
    ck_assert_int_eq(partition_integrity_check(part, &err), 0);
}
END_TEST

/* partition_suite - the suite */
static Suite *partition_suite(void)
{
    Suite *su = suite_create("partition");
    TCase *tc = tcase_create("core");

    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_flows_roundtrip);
    tcase_add_test(tc, test_runs);
    tcase_add_test(tc, test_dedupe);
    tcase_add_test(tc, test_run_written_once);
    tcase_add_test(tc, test_csv_export);
    tcase_add_test(tc, test_connections);
    tcase_add_test(tc, test_rotation_read_deks);
    tcase_add_test(tc, test_wrong_dek);
    tcase_add_test(tc, test_forget_keys);
    tcase_add_test(tc, test_bad_args);
    suite_add_tcase(su, tc);
    return su;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(partition_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
