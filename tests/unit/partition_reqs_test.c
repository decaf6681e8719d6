/*
 * partition_reqs_test.c - Check suite for the client requests of a partition's dedup window
 * (worker/partition_reqs.c, rule RUN-DEDUP-WINDOW): a request is a duplicate of a run of its
 * flow started at most the window before it, and of no older one; slices older than the window
 * are given back; the window's requests are found again after a reopen (a restart), after a DEK
 * rotation, and in a partition of schema 2 (its unique index dropped on open); a write rolled
 * back or a row deleted never makes a duplicate; an insert of a request written meanwhile is
 * refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV "env-reqs"
#include "partition_fixture.h"
#include "worker/partition_int.h"

#define WIN 60000 /* the window of these tests: one minute */

/* reopen_with - close the partition and open it again with a window of win ms */
static void reopen_with(int64_t win)
{
    cmk_err err = CMK_ERR_INIT;
    partition_opts o;

    partition_close(&part);
    partition_opts_default(&o);
    o.dedup_window_ms = win;
    ck_assert_msg(partition_open(tmpdir, ENV, &o, &part, &err) == 0, "partition_open: %s", err.msg);
    partition_set_keys(part, dek, mmk);
}

/* mk - a run's metadata */
static partition_run mk(const char *id, const char *flow, const char *req, int64_t start)
{
    partition_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.flow_id, sizeof r.flow_id, "%s", flow);
    snprintf(r.client_req, sizeof r.client_req, "%s", req);
    strcpy(r.status, "Running");
    r.start_ms = start;
    return r;
}

/* begin - partition_run_begin's code for a run (ex gets the existing run, if any) */
static int begin(const char *id, const char *flow, const char *req, int64_t start, partition_run *ex)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run r = mk(id, flow, req, start);
    int rc = partition_run_begin(part, &r, "{}", ex, NULL, NULL, &err);
    ck_assert_msg(rc == 0 || rc == CMK_EEXIST, "partition_run_begin(%s): %s", id, err.msg);
    return rc;
}

/* held - client requests held in memory, over every slice */
static size_t held(void)
{
    size_t n = 0;
    for (size_t i = 0; i < part->n_req_gens; i++)
        n += part->req_gens[i].n;
    return n;
}

/* setup_win - the fixture's partition, opened again with the tests' window */
static void setup_win(void)
{
    setup();
    reopen_with(WIN);
}

START_TEST(test_found_within_the_window_only)
{
    partition_run ex;

    ck_assert_int_eq(begin("run-1", "flow-a", "req-1", 1000000, NULL), 0);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(begin("run-2", "flow-a", "req-1", 1000000 + WIN, &ex), CMK_EEXIST); /* at its edge */
    ck_assert_str_eq(ex.id, "run-1");
    ck_assert_int_eq(ex.start_ms, 1000000);
    /* another flow, or no request id: another request */
    ck_assert_int_eq(begin("run-3", "flow-b", "req-1", 1000100, NULL), 0);
    ck_assert_int_eq(begin("run-4", "flow-a", "", 1000200, NULL), 0);
    ck_assert_int_eq(begin("run-5", "flow-a", "", 1000300, NULL), 0);
    /* a window and a millisecond later, the same request runs again, and is then the one found */
    ck_assert_int_eq(begin("run-6", "flow-a", "req-1", 1000001 + WIN, NULL), 0);
    ck_assert_int_eq(begin("run-7", "flow-a", "req-1", 1000002 + WIN, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-6");
}
END_TEST

START_TEST(test_slices_older_than_the_window_go)
{
    char id[32], req[32];

    for (int i = 0; i < 3000; i++) { /* tables grow past their first size */
        snprintf(id, sizeof id, "run-a%d", i);
        snprintf(req, sizeof req, "req-%d", i);
        ck_assert_int_eq(begin(id, "flow-a", req, 1000000 + i, NULL), 0);
    }
    ck_assert_uint_eq(held(), 3000);
    ck_assert_int_eq(begin("run-a0-again", "flow-a", "req-0", 1000000 + WIN / 2, NULL), CMK_EEXIST);
    /* two windows later: the old slices are gone, the new run is held */
    ck_assert_int_eq(begin("run-b", "flow-a", "req-b", 1000000 + 2 * WIN, NULL), 0);
    ck_assert_uint_eq(held(), 1);
    ck_assert_uint_le(part->n_req_gens, 1);
    /* and the old requests run again */
    ck_assert_int_eq(begin("run-c", "flow-a", "req-0", 1000000 + 2 * WIN + 1, NULL), 0);
    /* never more slices than the window spans */
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "run-d%d", i);
        snprintf(req, sizeof req, "req-d%d", i);
        ck_assert_int_eq(begin(id, "flow-a", req, 1000000 + 3 * WIN + (int64_t)i * (WIN / 8), NULL), 0);
    }
    ck_assert_uint_le(part->n_req_gens, 6);
}
END_TEST

START_TEST(test_found_after_a_restart)
{
    partition_run ex;
    cmk_err err = CMK_ERR_INIT;

    ck_assert_int_eq(begin("run-old", "flow-a", "req-old", 1000000, NULL), 0);
    ck_assert_int_eq(begin("run-1", "flow-a", "req-1", 1000000 + 2 * WIN, NULL), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);
    reopen_with(WIN);
    /* loaded from the rows: the runs of the latest run's window only */
    ck_assert_uint_eq(held(), 1);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(begin("run-2", "flow-a", "req-1", 1000000 + 2 * WIN + 5, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
    ck_assert_int_eq(begin("run-3", "flow-a", "req-old", 1000000 + 2 * WIN + 6, NULL), 0);
    /* a worker restarted with a longer window finds the older run again */
    reopen_with(3 * WIN);
    ck_assert_int_eq(begin("run-4", "flow-a", "req-old", 1000000 + 2 * WIN + 7, &ex), CMK_EEXIST);
}
END_TEST

START_TEST(test_found_after_a_rotation)
{
    cmk_dek *next = cmk_dek_generate(NULL);
    cmk_err err = CMK_ERR_INIT;
    partition_run ex;

    ck_assert_ptr_nonnull(next);
    ck_assert_int_eq(begin("run-1", "flow-a", "retry-me", 1000000, NULL), 0);
    partition_set_keys(part, next, mmk); /* rotated: the old DEK stays for reading */
    ck_assert_int_eq(partition_add_read_dek(part, dek, &err), 0);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(begin("run-2", "flow-a", "retry-me", 1000010, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
    ck_assert_int_eq(begin("run-3", "flow-a", "new-one", 1000020, NULL), 0);
    /* restarted after the rotation: both keys' hashes are held and found */
    partition_close(&part);
    ck_assert_int_eq(partition_open(tmpdir, ENV, NULL, &part, &err), 0);
    partition_set_keys(part, next, mmk);
    ck_assert_int_eq(partition_add_read_dek(part, dek, &err), 0);
    ck_assert_int_eq(begin("run-4", "flow-a", "retry-me", 1000030, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
    ck_assert_int_eq(begin("run-5", "flow-a", "new-one", 1000040, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-3");
    partition_close(&part);
    cmk_dek_destroy(&next);
}
END_TEST

START_TEST(test_rolled_back_or_deleted_is_no_duplicate)
{
    cmk_err err = CMK_ERR_INIT;
    size_t flows = 0, runs = 0;

    /* a group whose COMMIT fails: its runs are gone, and a retry of one runs */
    ck_assert_int_eq(begin("run-1", "flow-a", "req-1", 1000000, NULL), 0);
    partition_fail_next_commit(part, CMK_EIO);
    ck_assert_int_lt(partition_commit(part, &err), 0);
    ck_assert_int_eq(begin("run-1b", "flow-a", "req-1", 1000001, NULL), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);
    /* every run deleted (an environment reset): nothing is a duplicate, even at a reused rowid */
    ck_assert_int_eq(partition_clear(part, 0, &flows, &runs, NULL, NULL, &err), 0);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(begin("run-2", "flow-a", "req-2", 1000002, NULL), 0);
    ck_assert_int_eq(begin("run-3", "flow-a", "req-1", 1000003, NULL), 0);
}
END_TEST

START_TEST(test_insert_of_a_request_written_meanwhile)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run a = mk("run-1", "flow-a", "req-1", 1000000), b = mk("run-2", "flow-a", "req-1", 1000001), ex;
    char ka[64], kb[64];

    /* both checked before either was written: the second insert is refused with the first */
    ck_assert_int_eq(partition_run_dedup(part, &a, NULL, ka, sizeof ka, &err), 0);
    ck_assert_int_eq(partition_run_dedup(part, &b, NULL, kb, sizeof kb, &err), 0);
    ck_assert_int_eq(partition_run_insert(part, &a, ka, "{}", NULL, NULL, NULL, NULL, &err), 0);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(partition_run_insert(part, &b, kb, "{}", NULL, &ex, NULL, NULL, &err), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
}
END_TEST

START_TEST(test_schema2_partition_upgraded_on_open)
{
    cmk_err err = CMK_ERR_INIT;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    partition_run ex;
    char path[256];

    /* a schema 2 partition as the previous build left it: the unique client request index */
    ck_assert_int_eq(begin("run-1", "flow-a", "req-1", 1000000, NULL), 0);
    snprintf(path, sizeof path, "%s", partition_path(part));
    partition_close(&part);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE UNIQUE INDEX runs_client_req ON runs(flow_id, client_req) WHERE "
                                  "client_req <> ''; UPDATE meta SET v = '2' WHERE k = 'schema';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    reopen_with(WIN);
    /* the index is gone, the schema is 3, and the old run still deduplicates */
    ck_assert_int_eq(sqlite3_prepare_v2(part->db,
                                        "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'runs_client_req'),"
                                        " (SELECT v FROM meta WHERE k = 'schema')",
                                        -1, &q, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), 0);
    ck_assert_str_eq((const char *)sqlite3_column_text(q, 1), "3");
    sqlite3_finalize(q);
    memset(&ex, 0, sizeof ex);
    ck_assert_int_eq(begin("run-2", "flow-a", "req-1", 1000005, &ex), CMK_EEXIST);
    ck_assert_str_eq(ex.id, "run-1");
    (void)err;
}
END_TEST

START_TEST(test_window_must_be_positive)
{
    cmk_err err = CMK_ERR_INIT;
    partition_opts o;
    partition *p = NULL;

    partition_opts_default(&o);
    ck_assert_int_eq(o.dedup_window_ms, 5 * 60 * 1000);
    o.dedup_window_ms = 0;
    ck_assert_int_eq(partition_open(tmpdir, ENV, &o, &p, &err), CMK_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err.msg, "dedup_window"));
}
END_TEST

/* partition_reqs_suite - the suite */
static Suite *partition_reqs_suite(void)
{
    Suite *s = suite_create("partition_reqs");
    TCase *tc = tcase_create("reqs");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup_win, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_found_within_the_window_only);
    tcase_add_test(tc, test_slices_older_than_the_window_go);
    tcase_add_test(tc, test_found_after_a_restart);
    tcase_add_test(tc, test_found_after_a_rotation);
    tcase_add_test(tc, test_rolled_back_or_deleted_is_no_duplicate);
    tcase_add_test(tc, test_insert_of_a_request_written_meanwhile);
    tcase_add_test(tc, test_schema2_partition_upgraded_on_open);
    tcase_add_test(tc, test_window_must_be_positive);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(partition_reqs_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : 0;
}
