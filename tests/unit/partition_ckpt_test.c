/*
 * partition_ckpt_test.c - WAL checkpoints on a thread of their own (worker/partition_ckpt.c):
 * under a stream of commits the thread checkpoints, the WAL still starts over (its file stays
 * far below what the writes filled), and every row is there after a reopen.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/envelope.h"
#include "worker/partition_int.h"

#define ENV "env-ckpt-1"

#include "partition_fixture.h"

#define ROWS 60000   /* 1 KiB records: ~17,000 WAL pages written, more than the bound below */
#define GROUP 16     /* rows per commit, as a loaded worker groups them */

/* wal_pages - the WAL file's size in 4 KiB pages (0 if there is none) */
static long wal_pages(void)
{
    char path[160];
    struct stat st;
    snprintf(path, sizeof path, "%s/partition.db-wal", tmpdir);
    return stat(path, &st) == 0 ? (long)(st.st_size / 4096) : 0;
}

START_TEST(test_checkpoints_on_thread_and_wal_starts_over)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t rec[1024];
    long on_thread = 0, inline_done = 0;
    sqlite3 *db;
    sqlite3_stmt *st;

    memset(rec, 0x5a, sizeof rec);
    ck_assert_ptr_nonnull(part->ckpt);
    for (int64_t i = 1; i <= ROWS; i++) {
        ck_assert_msg(partition_bench_put(part, i, rec, sizeof rec, NULL, NULL, &err) == 0, "%s", err.msg);
        if (i % GROUP == 0)
            ck_assert_msg(partition_commit(part, &err) == 0, "%s", err.msg);
    }
    ck_assert_int_eq(partition_commit(part, &err), 0);
    /* the WAL started over: its file holds far fewer pages than were written through it */
    ck_assert_msg(wal_pages() < PT_CKPT_INLINE * 3, "WAL of %ld pages", wal_pages());
    pt_ckpt_count(part->ckpt, &on_thread, &inline_done);
    ck_assert_int_ge(on_thread, 1);
    ck_assert_int_ge(inline_done, 1);

    /* nothing lost: every row is there after a close and a reopen */
    partition_close(&part);
    {
        char path[160];
        snprintf(path, sizeof path, "%s/partition.db", tmpdir);
        ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM bench", -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_int_eq(sqlite3_column_int64(st, 0), ROWS);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    open_part();
}
END_TEST

START_TEST(test_close_stops_the_thread_and_reopen_works)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t rec[256] = { 1 };
    for (int round = 0; round < 5; round++) {
        ck_assert_ptr_nonnull(part->ckpt);
        for (int64_t i = 1; i <= 500; i++)
            ck_assert_int_eq(partition_bench_put(part, round * 1000 + i, rec, sizeof rec, NULL, NULL, &err), 0);
        ck_assert_int_eq(partition_commit(part, &err), 0);
        partition_close(&part);
        open_part();
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("partition_ckpt");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_checkpoints_on_thread_and_wal_starts_over);
    tcase_add_test(tc, test_close_stops_the_thread_and_reopen_works);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
