/*
 * audit_test.c - the hash-chained audit log: append, list with filters, and verification
 * that names a changed, removed or reordered entry.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controller/audit/audit.h"

static sqlite3 *db;
static cmk_clock *clk;
static audit_log *alog;

/* setup - an in-memory db, a virtual clock, a log with five entries */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    clk = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    alog = audit_log_new(db, clk, &err);
    ck_assert_msg(alog != NULL, "%s", err.msg);
    ck_assert_int_eq(
        audit_append(alog, "alice", "vault.create", "contoso-kv", 0, "tenant=t1", NULL, &err), 0);
    ck_assert_int_eq(audit_append(alog, "bob", "key.unwrap", "contoso-kv/cmk", CMK_EPERM,
                                  "principal 'bob' lacks permission 'unwrapKey'", NULL, &err),
                     0);
    cmk_clock_advance(clk, 3600000, &err);
    ck_assert_int_eq(
        audit_append(alog, "alice", "key.create", "contoso-kv/cmk", 0, NULL, NULL, &err), 0);
    ck_assert_int_eq(
        audit_append(alog, "system", "key.rotate", "contoso-kv/cmk", 0, "policy", NULL, &err), 0);
    ck_assert_int_eq(
        audit_append(alog, "alice", "vault.get", "other-kv", CMK_ENOENT, "nope", NULL, &err), 0);
}

/* teardown - close everything */
static void teardown(void)
{
    audit_log_destroy(&alog);
    ck_assert_ptr_null(alog);
    cmk_clock_destroy(&clk);
    sqlite3_close(db);
}

/* exec - run SQL on the test db */
static void exec(const char *sql)
{
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "");
}

/* collector for audit_list */
typedef struct {
    int n;
    int64_t seqs[32];
    char ops[32][32];
    char results[32][16];
    int64_t times[32];
    int stop_after;
} coll;

/* collect - record an entry */
static int collect(const audit_entry *e, void *arg)
{
    coll *c = arg;
    if (c->n < 32) {
        c->seqs[c->n] = e->seq;
        snprintf(c->ops[c->n], sizeof c->ops[0], "%s", e->operation);
        snprintf(c->results[c->n], sizeof c->results[0], "%s", e->result);
        c->times[c->n] = e->time_ms;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

START_TEST(test_append_and_list)
{
    cmk_err err = CMK_ERR_INIT;
    coll c;
    int64_t count = 0, seq = 0;

    memset(&c, 0, sizeof c);
    ck_assert_int_eq(audit_list(alog, NULL, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(c.seqs[i], i + 1);
    ck_assert_str_eq(c.results[0], "ok");
    ck_assert_str_eq(c.results[1], "EPERM");
    ck_assert_str_eq(c.results[4], "ENOENT");
    /* entries carry the clock's time: one virtual hour between entry 2 and 3 */
    ck_assert_int_ge(c.times[2] - c.times[1], 3600000);
    ck_assert_int_eq(audit_count(alog, &count, &err), 0);
    ck_assert_int_eq(count, 5);
    ck_assert_int_eq(audit_append(alog, "carol", "x", "y", 0, "", &seq, &err), 0);
    ck_assert_int_eq(seq, 6);
}
END_TEST

START_TEST(test_filters)
{
    cmk_err err = CMK_ERR_INIT;
    audit_filter f;
    coll c;

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.principal = "alice";
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 3);

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.operation = "key.*";
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 3);

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.operation = "key.create";
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 1);

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.result = "error";
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 2);

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.target = "contoso-kv";
    f.newest_first = 1;
    f.limit = 2;
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(c.seqs[0], 4);
    ck_assert_int_eq(c.seqs[1], 3);

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.after_seq = 3;
    ck_assert_int_eq(audit_list(alog, &f, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 2);

    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    ck_assert_int_eq(audit_list(alog, NULL, collect, &c, &err), 0);
    ck_assert_int_eq(c.n, 1);
}
END_TEST

START_TEST(test_verify_intact)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = -1;
    ck_assert_msg(audit_verify(alog, &bad, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_verify_empty_log)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = -1;
    exec("DELETE FROM audit_log; DELETE FROM audit_head;");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), 0);
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_verify_detects_modified_row)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("UPDATE audit_log SET result = 'ok' WHERE seq = 2");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 2);
    ck_assert_ptr_nonnull(strstr(err.msg, "entry 2"));
    ck_assert_ptr_nonnull(strstr(err.msg, "changed"));
}
END_TEST

START_TEST(test_verify_detects_modified_time)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("UPDATE audit_log SET time_ms = time_ms - 1 WHERE seq = 4");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 4);
}
END_TEST

START_TEST(test_verify_detects_deleted_row)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("DELETE FROM audit_log WHERE seq = 3");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing"));
}
END_TEST

START_TEST(test_verify_detects_deleted_first_row)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("DELETE FROM audit_log WHERE seq = 1");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 1);
}
END_TEST

START_TEST(test_verify_detects_deleted_newest_row)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("DELETE FROM audit_log WHERE seq = 5");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 5);
    ck_assert_ptr_nonnull(strstr(err.msg, "newest entries were removed"));
}
END_TEST

START_TEST(test_verify_detects_deleted_and_renumbered)
{
    /* remove entry 3 and renumber the rest so there is no gap: the chain link breaks */
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;"
         "UPDATE audit_head SET seq = 4");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 3);
}
END_TEST

START_TEST(test_verify_detects_reordered_rows)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("UPDATE audit_log SET seq = -2 WHERE seq = 2;"
         "UPDATE audit_log SET seq = 2 WHERE seq = 3;"
         "UPDATE audit_log SET seq = 3 WHERE seq = -2;");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 2);
}
END_TEST

START_TEST(test_verify_detects_swapped_content_with_hashes)
{
    /* swap whole rows 2 and 3 except seq, hashes included: the chain link breaks at 2 */
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (2, 3);"
         "UPDATE audit_log SET (time_ms, principal, operation, target, result, detail, "
         "prev_hash, hash) = (SELECT time_ms, principal, operation, target, result, detail, "
         "prev_hash, hash FROM t WHERE t.seq = 5 - audit_log.seq) WHERE seq IN (2, 3);");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_eq(bad, 2);
}
END_TEST

START_TEST(test_verify_detects_appended_behind_back)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 0;
    exec("INSERT INTO audit_log SELECT 6, time_ms, principal, operation, target, result, detail,"
         " hash, hash FROM audit_log WHERE seq = 5");
    ck_assert_int_eq(audit_verify(alog, &bad, &err), CMK_ECRYPTO);
    ck_assert_int_ge(bad, 6);
}
END_TEST

START_TEST(test_append_inside_transaction_and_reopen)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = 1, count = 0;

    exec("BEGIN");
    ck_assert_int_eq(audit_append(alog, "alice", "in.tx", "t", 0, NULL, NULL, &err), 0);
    exec("ROLLBACK");
    ck_assert_int_eq(audit_count(alog, &count, &err), 0);
    ck_assert_int_eq(count, 5);
    /* a second handle on the same db continues the chain */
    audit_log_destroy(&alog);
    alog = audit_log_new(db, clk, &err);
    ck_assert_ptr_nonnull(alog);
    ck_assert_int_eq(audit_append(alog, "alice", "after", "t", CMK_EBUSY, NULL, NULL, &err), 0);
    ck_assert_int_eq(audit_verify(alog, &bad, &err), 0);
    ck_assert_int_eq(bad, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_append_and_list);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_verify_intact);
    tcase_add_test(tc, test_verify_empty_log);
    tcase_add_test(tc, test_verify_detects_modified_row);
    tcase_add_test(tc, test_verify_detects_modified_time);
    tcase_add_test(tc, test_verify_detects_deleted_row);
    tcase_add_test(tc, test_verify_detects_deleted_first_row);
    tcase_add_test(tc, test_verify_detects_deleted_newest_row);
    tcase_add_test(tc, test_verify_detects_deleted_and_renumbered);
    tcase_add_test(tc, test_verify_detects_reordered_rows);
    tcase_add_test(tc, test_verify_detects_swapped_content_with_hashes);
    tcase_add_test(tc, test_verify_detects_appended_behind_back);
    tcase_add_test(tc, test_append_inside_transaction_and_reopen);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
