/*
 * partition_sealed_test.c - Check suite for what a customer wrote at rest in a partition
 * (rules SEC-SEAL-1 and SEC-SIG-1 of docs/SECURITY.md): flow names, HTTP-trigger signatures and
 * connection names are sealed blobs bound to their place (a blob copied to another row does not
 * open), callers' request ids are keyed hashes that still deduplicate, trigger signatures are
 * 256 random bits compared in constant time (right one accepted, a wrong one of the same length
 * refused), and a schema 1 partition (names in the clear) still opens, reads, and is sealed in
 * place by partition_upgrade with no clear copy left in the database file or its WAL.
 */
#include <check.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define ENV "env-seal-1"

#include "partition_fixture.h"

/* mkflow - an HTTP-trigger flow's metadata */
static partition_flow mkflow(const char *id, const char *name, const char *token)
{
    partition_flow f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "%s", id);
    snprintf(f.name, sizeof f.name, "%s", name);
    strcpy(f.trigger_kind, token && *token ? "http" : "manual");
    strcpy(f.kind, "cloud");
    f.enabled = 1;
    snprintf(f.trigger_token, sizeof f.trigger_token, "%s", token ? token : "");
    f.created_ms = 100;
    f.updated_ms = 101;
    return f;
}

/* raw_text - one value of a SQL query on the partition file through a separate connection */
static char *raw_text(const char *sql)
{
    char path[160];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    snprintf(path, sizeof path, "%s/partition.db", tmpdir);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* raw_exec - run SQL on the partition file through a separate connection */
static void raw_exec(const char *sql)
{
    char path[160], *emsg = NULL;
    sqlite3 *db = NULL;
    int rc;

    snprintf(path, sizeof path, "%s/partition.db", tmpdir);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, emsg ? emsg : "?");
    sqlite3_close(db);
}

/* file_has - does the file contain needle? (-1 if it cannot be read) */
static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), len;
    char *buf;
    int found = 0;

    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, len, f), len);
    fclose(f);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

/* on_disk - is needle in partition.db or its WAL? */
static int on_disk(const char *needle)
{
    char path[160];
    int a, b;

    snprintf(path, sizeof path, "%s/partition.db", tmpdir);
    a = file_has(path, needle);
    snprintf(path, sizeof path, "%s/partition.db-wal", tmpdir);
    b = file_has(path, needle);
    return a == 1 || b == 1;
}

START_TEST(test_token_new)
{
    cmk_err err = CMK_ERR_INIT;
    char a[64], b[64], small[16];

    ck_assert_int_eq(partition_trigger_token_new(a, sizeof a, &err), 0);
    ck_assert_int_eq(partition_trigger_token_new(b, sizeof b, &err), 0);
    ck_assert_uint_eq(strlen(a), PARTITION_TRIGGER_TOKEN_LEN); /* 256 bits in base64url */
    ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                      strlen(a));
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(partition_trigger_token_new(small, sizeof small, &err), CMK_EINVAL);
}
END_TEST

START_TEST(test_sig_check)
{
    cmk_err err = CMK_ERR_INIT;
    char tok[64], wrong[64];
    partition_flow f, m = mkflow("flow-manual", "Manual", NULL);

    ck_assert_int_eq(partition_trigger_token_new(tok, sizeof tok, &err), 0);
    f = mkflow("flow-http", "Echo", tok);
    ck_assert_int_eq(partition_flow_put(part, &f, "{}", 2, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_put(part, &m, "{}", 2, NULL, NULL, &err), 0);

    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", tok, &err), 0);
    /* the same length, one character off (first, then last) */
    strcpy(wrong, tok);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", wrong, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "signature"));
    ck_assert_ptr_null(strstr(err.msg, tok)); /* the error does not carry the secret */
    strcpy(wrong, tok);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", wrong, &err), CMK_EPERM);
    /* a prefix, an extension, nothing */
    strcpy(wrong, tok);
    wrong[10] = '\0';
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", wrong, &err), CMK_EPERM);
    snprintf(wrong, sizeof wrong, "%sx", tok);
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", wrong, &err), CMK_EPERM);
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", "", &err), CMK_EPERM);
    /* no HTTP trigger, no flow */
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-manual", "", &err), CMK_ENOENT);
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-none", tok, &err), CMK_ENOENT);
    /* locked: no key, no check */
    partition_forget_keys(part);
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-http", tok, &err), CMK_EUNAVAIL);
}
END_TEST

START_TEST(test_sealed_columns)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow a = mkflow("flow-a", "NAME-MARKER-A-71c2", "SIG-MARKER-A-0123456789"),
                   b = mkflow("flow-b", "NAME-MARKER-B-71c2", NULL), got;
    partition_run r;
    char *s, name[64];

    ck_assert_int_eq(partition_flow_put(part, &a, "{}", 2, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_flow_put(part, &b, "{}", 2, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_conn_put(part, "c-o", "CONN-NAME-O-88aa", 1, "x", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_conn_put(part, "c-b", "CONN-NAME-B-88aa", 0, "y", NULL, NULL, &err), 0);
    memset(&r, 0, sizeof r);
    strcpy(r.id, "run-1");
    strcpy(r.flow_id, "flow-a");
    strcpy(r.client_req, "CLIENT-REQ-MARKER-5d");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);

    /* at rest: blobs, a keyed hash; nothing of the markers in the file or its WAL */
    s = raw_text("SELECT typeof(name) || typeof(trigger_token) FROM flows WHERE id = 'flow-a'");
    ck_assert_str_eq(s, "blobblob");
    free(s);
    s = raw_text("SELECT group_concat(typeof(name)) FROM connections");
    ck_assert_str_eq(s, "blob,blob");
    free(s);
    s = raw_text("SELECT client_req FROM runs WHERE id = 'run-1'");
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strncmp(s, "hmac1:", 6) == 0, "client_req at rest: %s", s);
    free(s);
    ck_assert_int_eq(on_disk("flow-a"), 1); /* the grep sees clear ids: it can fail */
    ck_assert_int_eq(on_disk("NAME-MARKER"), 0);
    ck_assert_int_eq(on_disk("SIG-MARKER"), 0);
    ck_assert_int_eq(on_disk("CONN-NAME"), 0);
    ck_assert_int_eq(on_disk("CLIENT-REQ-MARKER"), 0);

    /* and they read back */
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, NULL, &err), 0);
    ck_assert_str_eq(got.name, "NAME-MARKER-A-71c2");
    ck_assert_str_eq(got.trigger_token, "SIG-MARKER-A-0123456789");
    ck_assert_int_eq(partition_conn_name(part, "c-b", name, sizeof name, &err), 0);
    ck_assert_str_eq(name, "CONN-NAME-B-88aa");
    /* a non-OAuth connection's name is under the MMK DEK, like its secret: the data DEK alone
     * does not open it */
    partition_set_keys(part, dek, NULL);
    ck_assert_int_eq(partition_conn_name(part, "c-o", name, sizeof name, &err), 0);
    ck_assert_int_ne(partition_conn_name(part, "c-b", name, sizeof name, &err), 0);
    partition_set_keys(part, dek, mmk);
    /* the keyed hash still deduplicates */
    strcpy(r.id, "run-2");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_ptr_nonnull(strstr(err.msg, "run-1"));

    /* a name copied onto another row does not open there (AAD binds the row) */
    partition_close(&part);
    raw_exec("UPDATE flows SET name = (SELECT name FROM flows WHERE id = 'flow-a') WHERE id = 'flow-b'");
    open_part();
    ck_assert_int_eq(partition_flow_get(part, "flow-b", &got, NULL, &err), CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "flows/flow-b/name"));
    /* a run needs neither name nor signature: it does not open them */
    ck_assert_int_eq(partition_flow_get_ex(part, "flow-b", &got, NULL, 0, &err), 0);
    ck_assert_str_eq(got.name, "");
}
END_TEST

START_TEST(test_upgrade_schema1)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow a = mkflow("flow-a", "x", "y"), got;
    partition_run r;
    char *s, name[64];
    size_t sealed = 0;

    /* a schema 1 partition, as an older build left it: clear names, signature, request id */
    ck_assert_int_eq(partition_flow_put(part, &a, "{}", 2, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_conn_put(part, "c-b", "n", 0, "pw", NULL, NULL, &err), 0);
    memset(&r, 0, sizeof r);
    strcpy(r.id, "run-1");
    strcpy(r.flow_id, "flow-a");
    strcpy(r.client_req, "tmp");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    partition_close(&part);
    raw_exec("UPDATE flows SET name = 'LEGACY-FLOW-NAME-4411', trigger_token = 'LEGACYSIG0123456';"
             "UPDATE connections SET name = 'LEGACY-CONN-NAME-4411';"
             "UPDATE runs SET client_req = 'LEGACY-CLIENT-REQ-4411';"
             "UPDATE meta SET v = '1' WHERE k = 'schema';");
    ck_assert_int_eq(on_disk("LEGACY-FLOW-NAME-4411"), 1); /* the grep can find it */

    /* it opens and reads before its upgrade (no key needed for clear text) */
    ck_assert_int_eq(partition_open(tmpdir, ENV, NULL, &part, &err), 0);
    ck_assert_int_eq(partition_schema_legacy(part), 1);
    ck_assert_int_eq(partition_upgrade(part, &sealed, &err), CMK_EUNAVAIL); /* no keys yet */
    partition_set_keys(part, dek, mmk);
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, NULL, &err), 0);
    ck_assert_str_eq(got.name, "LEGACY-FLOW-NAME-4411");
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-a", "LEGACYSIG0123456", &err), 0);

    /* sealed in place: 4 values, schema 3, nothing left in the file or the WAL */
    ck_assert_msg(partition_upgrade(part, &sealed, &err) == 0, "upgrade: %s", err.msg);
    ck_assert_uint_eq(sealed, 4);
    ck_assert_int_eq(partition_schema_legacy(part), 0);
    s = raw_text("SELECT v FROM meta WHERE k = 'schema'");
    ck_assert_str_eq(s, "3");
    free(s);
    ck_assert_int_eq(on_disk("LEGACY-FLOW-NAME-4411"), 0);
    ck_assert_int_eq(on_disk("LEGACYSIG0123456"), 0);
    ck_assert_int_eq(on_disk("LEGACY-CONN-NAME-4411"), 0);
    ck_assert_int_eq(on_disk("LEGACY-CLIENT-REQ-4411"), 0);

    /* the same values, the same URL, the same deduplication */
    ck_assert_int_eq(partition_flow_get(part, "flow-a", &got, NULL, &err), 0);
    ck_assert_str_eq(got.name, "LEGACY-FLOW-NAME-4411");
    ck_assert_str_eq(got.trigger_token, "LEGACYSIG0123456");
    ck_assert_int_eq(partition_flow_check_sig(part, "flow-a", "LEGACYSIG0123456", &err), 0);
    ck_assert_int_eq(partition_conn_name(part, "c-b", name, sizeof name, &err), 0);
    ck_assert_str_eq(name, "LEGACY-CONN-NAME-4411");
    strcpy(r.id, "run-2");
    strcpy(r.client_req, "LEGACY-CLIENT-REQ-4411");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), CMK_EEXIST);
    /* reopened: schema 3, nothing to do */
    partition_close(&part);
    open_part();
    ck_assert_int_eq(partition_schema_legacy(part), 0);
    ck_assert_int_eq(partition_upgrade(part, &sealed, &err), 0);
    ck_assert_uint_eq(sealed, 0);
    /* a schema it does not know is refused */
    partition_close(&part);
    raw_exec("UPDATE meta SET v = '9' WHERE k = 'schema'");
    ck_assert_int_eq(partition_open(tmpdir, ENV, NULL, &part, &err), CMK_EINVAL);
}
END_TEST

START_TEST(test_dedupe_after_rotation)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow a = mkflow("flow-a", "A", NULL);
    partition_run r;
    cmk_dek *next = cmk_dek_generate(&err);

    ck_assert_int_eq(partition_flow_put(part, &a, "{}", 2, NULL, NULL, &err), 0);
    memset(&r, 0, sizeof r);
    strcpy(r.id, "run-1");
    strcpy(r.flow_id, "flow-a");
    strcpy(r.client_req, "retry-me");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    /* the data DEK rotates; the old one stays for reading: a retry is still a duplicate */
    partition_set_keys(part, next, mmk);
    ck_assert_int_eq(partition_add_read_dek(part, dek, &err), 0);
    strcpy(r.id, "run-2");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), CMK_EEXIST);
    strcpy(r.client_req, "fresh");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    partition_close(&part);
    cmk_dek_destroy(&next);
}
END_TEST

/* partition_sealed_suite - the suite */
static Suite *partition_sealed_suite(void)
{
    Suite *su = suite_create("partition_sealed");
    TCase *tc = tcase_create("sealed");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_token_new);
    tcase_add_test(tc, test_sig_check);
    tcase_add_test(tc, test_sealed_columns);
    tcase_add_test(tc, test_upgrade_schema1);
    tcase_add_test(tc, test_dedupe_after_rotation);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(partition_sealed_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
