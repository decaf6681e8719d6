/*
 * partition_plan_test.c - the query plans of the partition's run statements (worker/partition.c,
 * rule PART-IDX): SQLite's EXPLAIN QUERY PLAN of every cached statement that reads or writes
 * `runs` finds its rows through an index (no full SCAN of runs, no temporary B-tree to sort),
 * each through the index it was written for, and every index of `runs` serves at least one
 * statement: a later change to a statement or to the schema cannot silently lose an index a
 * statement needs, nor keep one that nothing uses (each costs a B-tree insert per run).
 * Statements that delete every run (partition_clear, a stage swap) are whole-table by design
 * and not cached; they are not checked here. A partition's connection keeps SQLite's default
 * page cache (worker/partition.c PT_CACHE_KIB): every index grows at one end. No index
 * on runs.client_req (schema 3): a partition of schema 2 loses its runs_client_req on open.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV "env-plan"
#include "partition_fixture.h"
#include "worker/partition_int.h"

/* The index each statement of `runs` must use ("" for an INSERT: no search). */
static const struct {
    pt_stmt_id id;
    const char *index;
} want[] = {
    {PT_RUN_BY_ROWID, "INTEGER PRIMARY KEY"},   {PT_RUN_BY_ID, "sqlite_autoindex_runs_1"},
    {PT_RUN_REQS_SINCE, "runs_start"},          {PT_RUN_NEWEST, "runs_start"},
    {PT_RUN_INSERT, ""},                        {PT_RUN_SAVE, "sqlite_autoindex_runs_1"},
    {PT_RUN_GET, "sqlite_autoindex_runs_1"},    {PT_RUN_LIST_ALL, "runs_start"},
    {PT_RUN_LIST_FLOW, "runs_flow_start"},      {PT_RUN_UNFINISHED, "runs_running"},
    {PT_RUN_EXPORT, "runs_flow_start"},
};
#define NWANT (sizeof want / sizeof want[0])

/* touches_runs - does the statement's SQL name the runs table? */
static int touches_runs(const char *sql)
{
    return strstr(sql, "FROM runs") || strstr(sql, "INTO runs") || strstr(sql, "UPDATE runs");
}

/* plan_of - the EXPLAIN QUERY PLAN details of statement id, joined by " | " */
static void plan_of(pt_stmt_id id, char *out, size_t cap)
{
    cmk_err err = CMK_ERR_INIT;
    sqlite3_stmt *st = pt_stmt(part, id, &err), *eq = NULL;
    char sql[2048];
    size_t o = 0;

    ck_assert_msg(st != NULL, "statement %d: %s", (int)id, err.msg);
    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", sqlite3_sql(st));
    ck_assert_int_eq(sqlite3_prepare_v2(part->db, sql, -1, &eq, NULL), SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(eq) == SQLITE_ROW)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " | " : "",
                              (const char *)sqlite3_column_text(eq, 3));
    sqlite3_finalize(eq);
}

START_TEST(test_every_run_statement_uses_its_index)
{
    char plan[1024];
    size_t touching = 0;

    for (int id = 0; id < PT_STMT_COUNT; id++) {
        cmk_err err = CMK_ERR_INIT;
        sqlite3_stmt *st = pt_stmt(part, (pt_stmt_id)id, &err);
        size_t k;
        ck_assert_msg(st != NULL, "statement %d: %s", id, err.msg);
        if (!touches_runs(sqlite3_sql(st)))
            continue;
        touching++;
        for (k = 0; k < NWANT && want[k].id != (pt_stmt_id)id; k++)
            ;
        ck_assert_msg(k < NWANT, "statement %d touches runs but has no expected index here: add it to want[] "
                                 "(SQL: %s)", id, sqlite3_sql(st));
        plan_of((pt_stmt_id)id, plan, sizeof plan);
        if (!want[k].index[0]) {
            ck_assert_msg(strstr(plan, "runs") == NULL, "an INSERT that searches runs: %s", plan);
            continue;
        }
        ck_assert_msg(strstr(plan, want[k].index) != NULL, "%s: plan \"%s\" does not use index %s",
                      sqlite3_sql(st), plan, want[k].index);
        ck_assert_msg(strstr(plan, "TEMP B-TREE") == NULL, "%s sorts in a temporary B-tree: %s",
                      sqlite3_sql(st), plan);
        /* a SCAN of runs is allowed only through the partial index of Running runs */
        ck_assert_msg(!strstr(plan, "SCAN runs") || strstr(plan, "SCAN runs USING INDEX runs_running"),
                      "%s scans runs: %s", sqlite3_sql(st), plan);
    }
    ck_assert_uint_eq(touching, NWANT);
}
END_TEST

START_TEST(test_every_runs_index_serves_a_statement)
{
    sqlite3_stmt *q = NULL;
    int n = 0;

    ck_assert_int_eq(sqlite3_prepare_v2(part->db, "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                  "tbl_name = 'runs' ORDER BY name",
                                        -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        int used = 0;
        for (size_t k = 0; k < NWANT; k++)
            used |= strcmp(want[k].index, name) == 0;
        ck_assert_msg(used, "index %s of runs serves no statement: drop it (DROP INDEX IF EXISTS on open) or "
                            "name the statement that needs it", name);
        n++;
    }
    sqlite3_finalize(q);
    ck_assert_int_ge(n, 4);
}
END_TEST

START_TEST(test_page_cache_for_large_partitions)
{
    sqlite3_stmt *q = NULL;

    /* worker/partition.c, PT_CACHE_KIB: SQLite's default, since no index takes random pages */
    ck_assert_int_eq(sqlite3_prepare_v2(part->db, "PRAGMA cache_size", -1, &q, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), -2000);
    sqlite3_finalize(q);
}
END_TEST

/* plan_suite - the suite */
static Suite *plan_suite(void)
{
    Suite *s = suite_create("partition_plan");
    TCase *tc = tcase_create("plans");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_run_statement_uses_its_index);
    tcase_add_test(tc, test_every_runs_index_serves_a_statement);
    tcase_add_test(tc, test_page_cache_for_large_partitions);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
