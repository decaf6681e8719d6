/*
 * partition.c - the partition store's core: opening <dir>/partition.db (directory 0700, file
 * 0600, WAL, schema), the statement cache, and group commit with durable callbacks. Keys and
 * sealing are in partition_keys.c, flows, connections and bench records in partition_flows.c,
 * runs and the CSV export in partition_runs.c, the client requests of the dedup window in
 * partition_reqs.c.
 */
#include "worker/partition_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/wmetrics.h"

#define PT_ENV_MAX 255  /* longest environment id accepted */
#define PT_BUSY_MS 2000 /* wait this long for a lock held by another connection */
/* Page cache of a partition's connection, at most (KiB): SQLite's default (2,000 KiB). Session 6
 * raised it to 32 MiB to keep the pages of the keyed-hash client request index (runs_client_req)
 * in memory: each run inserted there at a random page. That index is gone (schema 3,
 * RUN-DEDUP-WINDOW): every index of runs now grows at one end, so a run touches the same few
 * pages at the right edges of the B-trees, and the larger cache only grew the worker's memory
 * (it.soak_memory_and_fds_flat saw a dedicated worker grow 11 MiB in 24 s with it). A worker's
 * page caches together are held under PT_HEAP_SOFT_LIMIT (partition_heap_limit). */
#define PT_CACHE_KIB 2000
#define PT_DEDUP_WINDOW_MS (5 * 60 * 1000) /* worker.dedup_window's default: 5 minutes */
#define PT_HEAP_SOFT_LIMIT (256LL * 1024 * 1024) /* bytes SQLite may hold in one worker, softly */

/* SQL of the cached statements, indexed by pt_stmt_id. */
static const char *const pt_sql[PT_STMT_COUNT] = {
    [PT_BEGIN] = "BEGIN",
    [PT_COMMIT] = "COMMIT",
    [PT_ROLLBACK] = "ROLLBACK",
    [PT_FLOW_PUT] =
        "INSERT INTO flows(id, name, trigger_kind, kind, enabled, in_solution, trigger_token,"
        " created_ms, updated_ms, definition) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, trigger_kind = excluded.trigger_kind,"
        " kind = excluded.kind, enabled = excluded.enabled, in_solution = excluded.in_solution,"
        " trigger_token = excluded.trigger_token, created_ms = excluded.created_ms,"
        " updated_ms = excluded.updated_ms, definition = excluded.definition",
    [PT_FLOW_GET] = "SELECT id, name, trigger_kind, kind, enabled, in_solution, trigger_token,"
                    " created_ms, updated_ms, definition FROM flows WHERE id = ?1",
    [PT_FLOW_LIST] = "SELECT id, name, trigger_kind, kind, enabled, in_solution, trigger_token,"
                     " created_ms, updated_ms FROM flows ORDER BY created_ms, id",
    [PT_FLOW_DELETE] = "DELETE FROM flows WHERE id = ?1",
    [PT_RUN_BY_ROWID] = "SELECT id, flow_id, client_req, status, start_ms, end_ms FROM runs"
                        " WHERE rowid = ?1",
    [PT_RUN_REQS_SINCE] = "SELECT rowid, flow_id, client_req, start_ms FROM runs"
                          " WHERE start_ms >= ?1 AND client_req <> ''",
    [PT_RUN_NEWEST] = "SELECT max(start_ms) FROM runs",
    [PT_RUN_BY_ID] = "SELECT id, flow_id, client_req, status, start_ms, end_ms FROM runs"
                     " WHERE id = ?1",
    [PT_RUN_INSERT] = "INSERT INTO runs(id, flow_id, client_req, status, start_ms, end_ms,"
                      " \"trigger\", record) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [PT_RUN_SAVE] = "UPDATE runs SET status = ?2, end_ms = ?3, record = coalesce(?4, record)"
                    " WHERE id = ?1",
    [PT_RUN_GET] = "SELECT id, flow_id, client_req, status, start_ms, end_ms, \"trigger\", record"
                   " FROM runs WHERE id = ?1",
    [PT_RUN_LIST_ALL] = "SELECT id, flow_id, client_req, status, start_ms, end_ms FROM runs"
                        " WHERE start_ms >= ?2 ORDER BY start_ms DESC, rowid DESC LIMIT ?3",
    [PT_RUN_LIST_FLOW] = "SELECT id, flow_id, client_req, status, start_ms, end_ms FROM runs"
                         " WHERE flow_id = ?1 AND start_ms >= ?2"
                         " ORDER BY start_ms DESC, rowid DESC LIMIT ?3",
    [PT_RUN_UNFINISHED] = "SELECT id, flow_id, client_req, status, start_ms, end_ms FROM runs"
                          " WHERE status = 'Running' ORDER BY start_ms, rowid",
    [PT_RUN_EXPORT] = "SELECT id, flow_id, client_req, status, start_ms, end_ms, \"trigger\","
                      " record FROM runs WHERE flow_id = ?1"
                      " ORDER BY start_ms DESC, rowid DESC LIMIT ?2",
    [PT_CONN_PUT] = "INSERT INTO connections(id, name, oauth, secret) VALUES(?1, ?2, ?3, ?4)"
                    " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                    " oauth = excluded.oauth, secret = excluded.secret",
    [PT_CONN_GET] = "SELECT oauth, secret, name FROM connections WHERE id = ?1",
    [PT_FLOW_SIG] = "SELECT trigger_kind, trigger_token FROM flows WHERE id = ?1",
    [PT_BENCH_PUT] = "INSERT OR REPLACE INTO bench(id, payload) VALUES(?1, ?2)",
    [PT_FLOW_STAGE] =
        "INSERT OR REPLACE INTO flows_staged(id, name, trigger_kind, kind, enabled, in_solution,"
        " trigger_token, created_ms, updated_ms, definition, stage)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE EXISTS (SELECT 1 FROM stages WHERE id = ?11)",
};

/* Schema, created on first open. Clear columns: ids, kinds, states, times (what the platform
 * routes and counts by). flows.name, flows.trigger_token and connections.name hold sealed blobs
 * (schema 2 and 3; a schema 1 partition holds them as clear text until partition_upgrade seals
 * them); their declared TEXT type is kept so that a schema 1 file needs no table rebuild.
 * runs.client_req has no index (schema 3): the requests of the dedup window are held in memory
 * (partition_reqs.c); the unique index of schema 1 and 2 is dropped on open. */
static const char pt_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows(id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
    " trigger_kind TEXT NOT NULL, kind TEXT NOT NULL, enabled INTEGER NOT NULL,"
    " in_solution INTEGER NOT NULL, trigger_token TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, definition BLOB);"
    "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY NOT NULL, flow_id TEXT NOT NULL,"
    " client_req TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL DEFAULT 0, \"trigger\" BLOB, record BLOB);"
    "DROP INDEX IF EXISTS runs_client_req;"
    "CREATE INDEX IF NOT EXISTS runs_flow_start ON runs(flow_id, start_ms);"
    "CREATE INDEX IF NOT EXISTS runs_start ON runs(start_ms);"
    "CREATE INDEX IF NOT EXISTS runs_running ON runs(start_ms) WHERE status = 'Running';"
    "CREATE TABLE IF NOT EXISTS connections(id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
    " oauth INTEGER NOT NULL, secret BLOB);"
    "CREATE TABLE IF NOT EXISTS bench(id INTEGER PRIMARY KEY, payload BLOB);"
    /* staging of a restore, copy or reset (partition_stage.c): flows sealed at their place in
     * `flows`, swapped in by one transaction */
    "CREATE TABLE IF NOT EXISTS stages(id TEXT PRIMARY KEY NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows_staged(stage TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,"
    " trigger_kind TEXT NOT NULL, kind TEXT NOT NULL, enabled INTEGER NOT NULL,"
    " in_solution INTEGER NOT NULL, trigger_token TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, definition BLOB, PRIMARY KEY(stage, id));";

/* partition_heap_limit - bound what SQLite holds in this process (page caches above all) */
void partition_heap_limit(void)
{
    sqlite3_soft_heap_limit64(PT_HEAP_SOFT_LIMIT);
}

/* partition_opts_default - seal on, NORMAL, 5 ms, 256 */
void partition_opts_default(partition_opts *o)
{
    if (!o)
        return;
    o->seal = 1;
    o->synchronous = 1;
    o->group_commit_ms = 5;
    o->group_commit_max = 256;
    o->dedup_window_ms = PT_DEDUP_WINDOW_MS;
}

/* mono_ns - CLOCK_MONOTONIC in nanoseconds */
static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* pt_db_err - turn a SQLite result into a cmk error naming what was being done */
int pt_db_err(partition *p, int rc, const char *what, cmk_err *err)
{
    const char *msg = p && p->db ? sqlite3_errmsg(p->db) : sqlite3_errstr(rc);
    const char *path = p && p->path ? p->path : "the partition";

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return cmk_err_set(err, CMK_EBUSY,
                           "%s: %s is locked by another process (%s); retry, or "
                           "stop the other process using it",
                           what, path, msg);
    case SQLITE_FULL:
        return cmk_err_set(err, CMK_EIO,
                           "%s: the disk holding %s is full (%s); free space and "
                           "retry",
                           what, path, msg);
    case SQLITE_NOMEM: return cmk_err_set(err, CMK_ENOMEM, "%s: out of memory (%s)", what, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return cmk_err_set(err, CMK_EIO, "%s: %s is damaged (%s); restore it from a backup", what,
                           path, msg);
    case SQLITE_CONSTRAINT: return cmk_err_set(err, CMK_EEXIST, "%s: %s", what, msg);
    default: return cmk_err_set(err, CMK_EIO, "%s: SQLite error on %s: %s", what, path, msg);
    }
}

/* pt_stmt - the cached statement `which`, prepared on first use */
sqlite3_stmt *pt_stmt(partition *p, pt_stmt_id which, cmk_err *err)
{
    int rc;

    if (p->st[which])
        return p->st[which];
    rc = sqlite3_prepare_v3(p->db, pt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &p->st[which],
                            NULL);
    if (rc != SQLITE_OK) {
        pt_db_err(p, rc, "preparing a partition statement", err);
        p->st[which] = NULL;
    }
    return p->st[which];
}

/* pt_exec_cached - step a cached statement without parameters or rows (BEGIN, COMMIT...) */
static int pt_exec_cached(partition *p, pt_stmt_id which)
{
    sqlite3_stmt *st = pt_stmt(p, which, NULL);
    int rc;

    if (!st)
        return sqlite3_errcode(p->db) ? sqlite3_errcode(p->db) : SQLITE_ERROR;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* dispatch - end the transaction's bookkeeping and run its callbacks with rc, in order */
static void dispatch(partition *p, int rc)
{
    pt_cb *run = p->cbs;
    size_t n = p->n_cbs, cap = p->cap_cbs;
    int was = p->dispatching; /* 1 when a callback's own write failed and lost its group */

    p->in_txn = 0;
    p->pending = 0;
    p->cbs = p->spare; /* writes made by the callbacks queue here */
    p->cap_cbs = p->cap_spare;
    p->n_cbs = 0;
    p->spare = NULL;
    p->cap_spare = 0;
    p->dispatching = 1;
    for (size_t i = 0; i < n; i++)
        run[i].fn(run[i].arg, rc);
    p->dispatching = was;
    if (!p->spare) {
        p->spare = run;
        p->cap_spare = cap;
    } else {
        free(run);
    }
}

/* commit_once - COMMIT the open transaction (ROLLBACK if that fails) and run its callbacks */
static int commit_once(partition *p, cmk_err *err)
{
    int rc, code = 0;

    if (p->fail_commit) { /* test seam: a simulated failing COMMIT */
        code = cmk_err_set(err, p->fail_commit < -1 ? p->fail_commit : CMK_EIO,
                           "committing pending writes: simulated failure (test seam)");
        p->fail_commit = 0;
        p->flow_gen++; /* what was written since the last commit is gone */
        (void)pt_exec_cached(p, PT_ROLLBACK);
        dispatch(p, code);
        return code;
    }
    cmk_metric_observe(wmetrics_get()->group_size, (double)p->pending);
    rc = pt_exec_cached(p, PT_COMMIT);
    cmk_metric_inc(rc == SQLITE_OK ? wmetrics_get()->commits_ok : wmetrics_get()->commits_failed);
    if (rc != SQLITE_OK) {
        code = pt_db_err(p, rc, "committing pending writes", err);
        p->flow_gen++;
        if (!sqlite3_get_autocommit(p->db))
            (void)pt_exec_cached(p, PT_ROLLBACK);
    }
    dispatch(p, code);
    return code;
}

/* commit_now - commit, then again while callbacks filled a group; deferred while dispatching */
static int commit_now(partition *p, cmk_err *err)
{
    int code = 0, rc;

    if (p->dispatching)
        return 0; /* a callback asked: the dispatching commit picks it up in write order */
    while (p->in_txn) {
        rc = commit_once(p, err);
        if (rc < 0)
            code = rc;
        if (p->pending < (size_t)p->opts.group_commit_max)
            break;
    }
    return code;
}

/* pt_commit_pending - commit the open group-commit transaction, if any */
int pt_commit_pending(partition *p, cmk_err *err)
{
    return p->in_txn ? commit_now(p, err) : 0;
}

/* pt_write_begin - open a write transaction if none is, with room to queue a callback */
int pt_write_begin(partition *p, partition_durable_fn durable, cmk_err *err)
{
    int rc;

    if (durable && p->n_cbs == p->cap_cbs) {
        size_t ncap = p->cap_cbs ? p->cap_cbs * 2 : 64;
        pt_cb *n = realloc(p->cbs, ncap * sizeof *n);
        if (!n)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory queueing a durable callback");
        p->cbs = n;
        p->cap_cbs = ncap;
    }
    if (p->in_txn)
        return 0;
    rc = pt_exec_cached(p, PT_BEGIN);
    if (rc != SQLITE_OK)
        return pt_db_err(p, rc, "starting a write transaction", err);
    p->in_txn = 1;
    p->pending = 0;
    p->first_ns = mono_ns();
    return 0;
}

/* pt_write_done - a write succeeded: queue its callback, commit inline at group_commit_max */
int pt_write_done(partition *p, partition_durable_fn durable, void *arg, cmk_err *err)
{
    int rc;

    if (durable) { /* room was made by pt_write_begin */
        p->cbs[p->n_cbs].fn = durable;
        p->cbs[p->n_cbs].arg = arg;
        p->n_cbs++;
    }
    p->pending++;
    if (p->pending < (size_t)p->opts.group_commit_max)
        return 0;
    rc = commit_now(p, err);
    if (rc < 0 && !durable)
        return rc; /* nobody else hears of the failure */
    if (durable)
        cmk_err_clear(err); /* the callback got it */
    return 0;
}

/* pt_write_failed - a write's statement failed: handle the transaction, return the code */
int pt_write_failed(partition *p, int rc, const char *what, cmk_err *err)
{
    int code = pt_db_err(p, rc, what, err);

    p->flow_gen++; /* a rollback may have taken back a flow written earlier in the group */
    if (!p->in_txn)
        return code;
    if (sqlite3_get_autocommit(p->db)) {
        /* SQLite rolled the whole transaction back (disk full, I/O error): every pending
         * write is lost, and its callback must hear so */
        dispatch(p, code);
    } else if (p->pending == 0) {
        (void)commit_now(p, NULL); /* an empty transaction: close it */
    }
    return code;
}

/* check_opts - reject options that cannot work */
static int check_opts(const partition_opts *o, cmk_err *err)
{
    if (o->synchronous < 0 || o->synchronous > 3)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition synchronous=%d is not a SQLite level: use 0 (OFF), 1 "
                           "(NORMAL), 2 (FULL) or 3 (EXTRA)",
                           o->synchronous);
    if (o->group_commit_ms < 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition group_commit_ms=%d must be 0 or more milliseconds",
                           o->group_commit_ms);
    if (o->group_commit_max < 1)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition group_commit_max=%d must be at least 1 write",
                           o->group_commit_max);
    if (o->dedup_window_ms < 1)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition dedup_window_ms=%lld must be at least 1 ms (worker.dedup_window)",
                           (long long)o->dedup_window_ms);
    return 0;
}

/* make_private_dir - create dir (and parents) 0700; tighten an existing one to 0700 */
static int make_private_dir(const char *dir, cmk_err *err)
{
    struct stat st;
    int rc = cmk_mkdirs(dir, 0700, err);

    if (rc < 0)
        return rc;
    if (stat(dir, &st) < 0)
        return cmk_err_set(err, CMK_EIO, "cannot stat partition directory %s: %s", dir,
                           strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cmk_err_set(err, CMK_EINVAL, "partition directory %s exists but is not a directory",
                           dir);
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
        return cmk_err_set(err, CMK_EIO,
                           "cannot make partition directory %s private (mode 0700): %s", dir,
                           strerror(errno));
    return 0;
}

/* make_private_file - create path 0600 if missing (before SQLite sees it); tighten to 0600 */
static int make_private_file(const char *path, int must_exist, cmk_err *err)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (must_exist ? 0 : O_CREAT), 0600);

    if (fd < 0) {
        if (must_exist && errno == ENOENT)
            return 0;
        return cmk_err_set(err, CMK_EIO, "cannot create partition file %s: %s", path,
                           strerror(errno));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cmk_err_set(err, CMK_EIO, "partition file %s is not a regular file", path);
    }
    if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
        int e = errno;
        close(fd);
        return cmk_err_set(err, CMK_EIO, "cannot make partition file %s private (mode 0600): %s",
                           path, strerror(e));
    }
    close(fd);
    return 0;
}

/* private_side_files - the -wal and -shm files (if present) get mode 0600 too */
static int private_side_files(partition *p, cmk_err *err)
{
    static const char *const sfx[] = {"-wal", "-shm"};
    char path[4096];
    int rc;

    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s", p->path, sfx[i]);
        if ((rc = make_private_file(path, 1, err)) < 0)
            return rc;
    }
    return 0;
}

/* meta_check - record env and seal mode on creation; refuse a partition of another kind */
static int meta_check(partition *p, cmk_err *err)
{
    static const char *const keys[] = {"env", "seal", "schema"};
    const char *want[] = {p->env, p->opts.seal ? "1" : "0", PT_SCHEMA_VERSION};
    sqlite3_stmt *get = NULL, *put = NULL;
    int rc = 0, src, upgrade = 0;

    src = sqlite3_prepare_v2(p->db, "SELECT v FROM meta WHERE k = ?1", -1, &get, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(p->db, "INSERT INTO meta(k, v) VALUES(?1, ?2)", -1, &put, NULL);
    if (src != SQLITE_OK) {
        rc = pt_db_err(p, src, "reading the partition's metadata", err);
        goto done;
    }
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        sqlite3_bind_text(get, 1, keys[i], -1, SQLITE_STATIC);
        src = sqlite3_step(get);
        if (src == SQLITE_ROW) {
            const char *have = (const char *)sqlite3_column_text(get, 0);
            if (i == 2 && have && strcmp(have, PT_SCHEMA_LEGACY) == 0) {
                p->legacy = 1; /* sealed by partition_upgrade once the keys are known */
            } else if (i == 2 && have && strcmp(have, PT_SCHEMA_PREV) == 0) {
                upgrade = 1; /* the same columns; its client request index was dropped */
            } else if (!have || strcmp(have, want[i]) != 0) {
                if (i == 0)
                    rc = cmk_err_set(err, CMK_EINVAL,
                                     "partition %s belongs to environment %s, not %s: check the "
                                     "partition directory of this environment",
                                     p->path, have ? have : "?", p->env);
                else if (i == 1)
                    rc = cmk_err_set(err, CMK_EINVAL,
                                     "partition %s was created %s sealing, and cannot be opened "
                                     "%s it: use a fresh directory for the plaintext benchmark",
                                     p->path, have && strcmp(have, "1") == 0 ? "with" : "without",
                                     p->opts.seal ? "with" : "without");
                else
                    rc = cmk_err_set(err, CMK_EINVAL,
                                     "partition %s has schema version %s; this build reads "
                                     "version %s",
                                     p->path, have ? have : "?", PT_SCHEMA_VERSION);
            }
        } else if (src == SQLITE_DONE) {
            sqlite3_bind_text(put, 1, keys[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(put, 2, want[i], -1, SQLITE_STATIC);
            src = sqlite3_step(put);
            sqlite3_reset(put);
            if (src != SQLITE_DONE)
                rc = pt_db_err(p, src, "writing the partition's metadata", err);
        } else {
            rc = pt_db_err(p, src, "reading the partition's metadata", err);
        }
        sqlite3_reset(get);
    }
    if (rc == 0 && upgrade &&
        (src = sqlite3_exec(p->db, "UPDATE meta SET v = '" PT_SCHEMA_VERSION "' WHERE k = 'schema'", NULL,
                            NULL, NULL)) != SQLITE_OK)
        rc = pt_db_err(p, src, "upgrading the partition to schema " PT_SCHEMA_VERSION, err);
done:
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return rc;
}

/* setup_db - pragmas, schema and metadata of a freshly opened connection */
static int setup_db(partition *p, cmk_err *err)
{
    char sql[128];
    char *emsg = NULL;
    sqlite3_stmt *st = NULL;
    int rc, wal = 0;

    sqlite3_extended_result_codes(p->db, 1);
    sqlite3_busy_timeout(p->db, PT_BUSY_MS);
    rc = sqlite3_prepare_v2(p->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        wal = m && strcmp(m, "wal") == 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return pt_db_err(p, rc, "switching the partition to WAL mode", err);
    if (!wal)
        return cmk_err_set(err, CMK_EIO,
                           "partition %s cannot use WAL mode (is the file system missing shared "
                           "memory support?)",
                           p->path);
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%d; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-%d;",
             p->opts.synchronous, PT_CACHE_KIB);
    if (sqlite3_exec(p->db, sql, NULL, NULL, &emsg) != SQLITE_OK ||
        sqlite3_exec(p->db, "BEGIN", NULL, NULL, &emsg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(p->db, pt_schema, NULL, NULL, &emsg) != SQLITE_OK) {
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    if ((rc = meta_check(p, err)) < 0) {
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, &emsg) != SQLITE_OK)
        goto fail;
    return private_side_files(p, err);
fail:
    rc = cmk_err_set(err, CMK_EIO, "setting up partition %s: %s", p->path,
                     emsg ? emsg : sqlite3_errmsg(p->db));
    sqlite3_free(emsg);
    return rc;
}

/* partition_open - open or create <dir>/partition.db for environment env */
int partition_open(const char *dir, const char *env, const partition_opts *opts, partition **out,
                   cmk_err *err)
{
    partition *p;
    size_t dl;
    int rc;

    if (out)
        *out = NULL;
    if (!dir || !*dir || !env || !*env || !out)
        return cmk_err_set(err, CMK_EINVAL,
                           "partition_open needs a directory, an environment id and an output");
    if (strlen(env) > PT_ENV_MAX)
        return cmk_err_set(err, CMK_EINVAL, "environment id of %zu characters is too long (max %d)",
                           strlen(env), PT_ENV_MAX);
    p = calloc(1, sizeof *p);
    if (!p)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory opening a partition");
    if (opts)
        p->opts = *opts;
    else
        partition_opts_default(&p->opts);
    if ((rc = check_opts(&p->opts, err)) < 0)
        goto fail;
    dl = strlen(dir);
    p->dir = strdup(dir);
    p->env = strdup(env);
    p->path = malloc(dl + sizeof "/partition.db");
    if (!p->dir || !p->env || !p->path) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory opening a partition");
        goto fail;
    }
    memcpy(p->path, dir, dl);
    memcpy(p->path + dl, "/partition.db", sizeof "/partition.db");
    if ((rc = make_private_dir(dir, err)) < 0 || (rc = make_private_file(p->path, 0, err)) < 0)
        goto fail;
    if (!(p->sealer = cmk_sealer_new(err))) {
        rc = err ? err->code : CMK_ECRYPTO;
        goto fail;
    }
    rc = sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = pt_db_err(p, rc, "opening the partition", err);
        goto fail;
    }
    if ((rc = setup_db(p, err)) < 0 || (rc = pt_reqs_rebuild(p, err)) < 0)
        goto fail;
    *out = p;
    return 0;
fail:
    partition_close(&p);
    return rc;
}

/* partition_close - commit what is pending (running durable callbacks), close; NULL-safe */
void partition_close(partition **self_p)
{
    partition *p;

    if (!self_p || !*self_p)
        return;
    p = *self_p;
    *self_p = NULL;
    for (int i = 0; p->db && p->in_txn && !p->dispatching && i < 1000; i++)
        (void)commit_now(p, NULL); /* again if durable callbacks wrote more */
    for (size_t i = 0; i < PT_STMT_COUNT; i++)
        sqlite3_finalize(p->st[i]);
    if (p->db)
        sqlite3_close(p->db);
    cmk_sealer_destroy(&p->sealer);
    pt_wipe_index_keys(p);
    pt_reqs_free(p);
    EVP_MAC_free(p->hmac);
    free(p->scratch);
    free(p->read_deks);
    free(p->cbs);
    free(p->spare);
    free(p->dir);
    free(p->path);
    free(p->env);
    free(p);
}

/* partition_env - the environment id */
const char *partition_env(const partition *self)
{
    return self ? self->env : NULL;
}

/* partition_path - the database file */
const char *partition_path(const partition *self)
{
    return self ? self->path : NULL;
}

/* partition_fail_next_commit - test seam: the next COMMIT rolls back and fails with code */
void partition_fail_next_commit(partition *self, int code)
{
    if (self)
        self->fail_commit = code;
}

/* partition_tick - commit if the oldest pending write is older than group_commit_ms */
int64_t partition_tick(partition *self, cmk_err *err)
{
    int64_t age_ms, due;
    int rc;

    if (!self || !self->in_txn)
        return -1;
    age_ms = (mono_ns() - self->first_ns) / 1000000;
    if (self->pending == 0 || age_ms >= self->opts.group_commit_ms) {
        rc = commit_now(self, err);
        if (rc < 0)
            return rc < -1 ? rc : CMK_EIO; /* failed: its callbacks heard it too */
        if (!self->in_txn)
            return -1;
        age_ms = (mono_ns() - self->first_ns) / 1000000; /* callbacks wrote more */
    }
    due = self->opts.group_commit_ms - age_ms;
    return due > 0 ? due : 0;
}

/* partition_commit - commit now (running durable callbacks) */
int partition_commit(partition *self, cmk_err *err)
{
    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_commit needs a partition");
    return commit_now(self, err);
}

/* partition_pending - writes not yet committed */
size_t partition_pending(const partition *self)
{
    return self ? self->pending : 0;
}

/* partition_integrity_check - PRAGMA integrity_check; 0 if "ok" */
int partition_integrity_check(partition *self, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "partition_integrity_check needs a partition");
    rc = sqlite3_prepare_v2(self->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return pt_db_err(self, rc, "checking the partition's integrity", err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") == 0)
            rc = 0;
        else
            rc = cmk_err_set(err, CMK_EIO,
                             "partition %s fails its integrity check: %s; restore it from a "
                             "backup",
                             self->path, r ? r : "(no answer)");
    } else {
        rc = pt_db_err(self, rc, "checking the partition's integrity", err);
    }
    sqlite3_finalize(st);
    return rc;
}
