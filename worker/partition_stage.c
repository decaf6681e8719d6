/*
 * partition_stage.c - staging areas of a partition: how a restore, copy or reset replaces an
 * environment's flows without ever leaving it half-replaced. The controller begins a staging
 * area (named by its operation), writes the new flows into it (partition_flow_stage: sealed at
 * their place in `flows`, so that moving them needs no key), and only when every partition of
 * the environment holds its whole share swaps each area in: one transaction deletes the flows
 * and runs (and connections, for a reset) and moves the staged flows into `flows`. Until the
 * swap the environment's own data is untouched; a discarded (or abandoned) area changes nothing.
 * One area at a time: beginning one drops any other.
 */
#include "worker/partition_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* stage_exec - run sql statements (each binding ?1 to stage when it has a parameter) as one
 * write of the group-commit transaction, under a savepoint; counts[i] gets each one's changes */
static int stage_exec(partition *p, const char *stage, const char *const *sql, size_t n, size_t *counts,
                      const char *what, cmk_err *err)
{
    int rc;

    if ((rc = pt_write_begin(p, NULL, err)) < 0)
        return rc;
    if ((rc = sqlite3_exec(p->db, "SAVEPOINT pt_stage", NULL, NULL, NULL)) != SQLITE_OK)
        return pt_write_failed(p, rc, what, err);
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(p->db, sql[i], -1, &st, NULL);
        if (rc == SQLITE_OK) {
            if (sqlite3_bind_parameter_count(st) > 0)
                sqlite3_bind_text(st, 1, stage, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            sqlite3_finalize(st);
        }
        if (rc != SQLITE_DONE) {
            if (!sqlite3_get_autocommit(p->db))
                sqlite3_exec(p->db, "ROLLBACK TO pt_stage; RELEASE pt_stage", NULL, NULL, NULL);
            return pt_write_failed(p, rc == SQLITE_OK ? SQLITE_ERROR : rc, what, err);
        }
        if (counts)
            counts[i] = (size_t)sqlite3_changes(p->db);
    }
    if ((rc = sqlite3_exec(p->db, "RELEASE pt_stage", NULL, NULL, NULL)) != SQLITE_OK)
        return pt_write_failed(p, rc, what, err);
    return pt_write_done(p, NULL, NULL, err);
}

/* partition_stage_begin - an empty staging area named stage (any other area is dropped),
 * committed before it returns */
int partition_stage_begin(partition *self, const char *stage, cmk_err *err)
{
    static const char *const sql[] = {
        "DELETE FROM flows_staged", "DELETE FROM stages",
        "INSERT INTO stages(id, created_ms) VALUES(?1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"
    };
    int rc;
    if (!self || !stage || !*stage)
        return cmk_err_set(err, CMK_EINVAL, "partition_stage_begin needs a partition and a staging area name");
    if ((rc = stage_exec(self, stage, sql, 3, NULL, "beginning a staging area", err)) < 0)
        return rc;
    return partition_commit(self, err);
}

/* partition_stage_swap - the staged flows replace the partition's flows and runs (and
 * connections) in one committed transaction; *found 0 (and nothing changed) when no area stage
 * exists: it was swapped in already, or discarded */
int partition_stage_swap(partition *self, const char *stage, int connections, int *found, size_t *flows_out,
                         size_t *runs_out, size_t *flows_in, cmk_err *err)
{
    static const char *const sql[] = {
        "DELETE FROM flows WHERE EXISTS (SELECT 1 FROM stages WHERE id = ?1)",
        "DELETE FROM runs WHERE EXISTS (SELECT 1 FROM stages WHERE id = ?1)",
        "INSERT INTO flows(id, name, trigger_kind, kind, enabled, in_solution, trigger_token, created_ms, updated_ms,"
        " definition) SELECT id, name, trigger_kind, kind, enabled, in_solution, trigger_token, created_ms,"
        " updated_ms, definition FROM flows_staged WHERE stage = ?1",
        "DELETE FROM flows_staged",
        "DELETE FROM stages WHERE id = ?1",
        "DELETE FROM connections WHERE EXISTS (SELECT 1 FROM stages WHERE id = ?1)",
    };
    const char *order[6];
    size_t counts[6] = { 0 }, n = 0;
    int rc;
    sqlite3_stmt *st;

    if (!self || !stage || !*stage)
        return cmk_err_set(err, CMK_EINVAL, "partition_stage_swap needs a partition and a staging area name");
    *found = 0;
    if ((rc = sqlite3_prepare_v2(self->db, "SELECT 1 FROM stages WHERE id = ?1", -1, &st, NULL)) != SQLITE_OK)
        return pt_db_err(self, rc, "finding a staging area", err);
    sqlite3_bind_text(st, 1, stage, -1, SQLITE_STATIC);
    *found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!*found)
        return 0;
    /* the connections go before the area is dropped (their delete is conditional on it) */
    order[n++] = sql[0];
    order[n++] = sql[1];
    if (connections)
        order[n++] = sql[5];
    order[n++] = sql[2];
    order[n++] = sql[3];
    order[n++] = sql[4];
    self->flow_gen++;
    if ((rc = stage_exec(self, stage, order, n, counts, "swapping a staging area in", err)) < 0)
        return rc;
    if ((rc = partition_commit(self, err)) < 0)
        return rc;
    self->flow_gen++;
    if (flows_out)
        *flows_out = counts[0];
    if (runs_out)
        *runs_out = counts[1];
    if (flows_in)
        *flows_in = counts[connections ? 3 : 2];
    return 0;
}

/* partition_stage_discard - drop staging area stage (and any other left behind); the
 * partition's flows are untouched */
int partition_stage_discard(partition *self, const char *stage, cmk_err *err)
{
    static const char *const sql[] = { "DELETE FROM flows_staged", "DELETE FROM stages" };
    int rc;
    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_stage_discard needs a partition");
    if ((rc = stage_exec(self, stage ? stage : "", sql, 2, NULL, "discarding a staging area", err)) < 0)
        return rc;
    return partition_commit(self, err);
}
