/*
 * partition_reqs.c - the client requests of a partition's deduplication window (rule
 * RUN-DEDUP-WINDOW): a caller's request id is a duplicate of a run of the same flow with the same
 * id that started at most opts.dedup_window_ms before it.
 *
 * Why in memory: the stored key of a request id is a keyed hash (SEC-SEAL-1), random by design.
 * An index on it (schema 2's runs_client_req) put every run's entry on a random page of a B-tree
 * that grew with the partition's history: each group commit wrote one such page per run into
 * the WAL and each checkpoint copied them back at random places (issue 18, docs/BENCHMARKS.md
 * session 7: 3.0-3.5x the bytes written per run and 44-68 against 13-18 us of CPU per run in a
 * SQLite-only loop, where 13-18 us is also the cost without any client request). Here the rows stay
 * the only thing on disk (runs.client_req, no index; they append), and the keys of the runs of
 * the window are held in memory: a fingerprint of (flow, stored key) and the run's rowid, in one
 * open-addressing table per slice of time (window / PT_REQ_SLICES). A slice older than the
 * window is dropped whole; a lookup probes each slice's table, then reads the candidate's row by
 * rowid and checks its flow, its stored key and its start time, so a fingerprint collision, a
 * rolled-back insert or a row deleted since never makes a duplicate. On open the table is loaded
 * from the runs that started within the window of the latest one (through runs_start).
 *
 * Memory: 16 bytes per slot, at most 3/4 full: 21-43 bytes per run of the window (5,000 runs/s
 * for the default 5 minutes: 1.5 million runs, 32-64 MiB).
 */
#include "worker/partition_int.h"

#include <stdlib.h>
#include <string.h>

#define PT_REQ_SLICES 4    /* slices per window: memory is given back a quarter window at a time */
#define PT_REQ_MIN_CAP 256 /* slots of a new slice's table */

/* slice_ms - the length of one slice of the window */
static int64_t slice_ms(const partition *p)
{
    int64_t s = p->opts.dedup_window_ms / PT_REQ_SLICES;
    return s > 0 ? s : 1;
}

/* slice_of - floor(t / len), for negative times too */
static int64_t slice_of(int64_t t, int64_t len)
{
    return t >= 0 ? t / len : -((-t + len - 1) / len);
}

/* pt_req_fp - fingerprint of (flow, stored key): FNV-1a 64, never 0 (the key is a keyed hash
 * under the environment's key: its bits are random, callers cannot aim at a bucket; only a
 * partition that does not seal, cmk-bench's plaintext reference, stores the caller's id) */
static uint64_t pt_req_fp(const char *flow_id, const char *key)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *s = (const unsigned char *)flow_id; *s; s++)
        h = (h ^ *s) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL; /* a separator no id holds */
    for (const unsigned char *s = (const unsigned char *)key; *s; s++)
        h = (h ^ *s) * 1099511628211ULL;
    h ^= h >> 29; /* the low bits pick the slot: mix the high ones in */
    return h ? h : 1;
}

/* gen_put - place (fp, rowid) in g (room is there) */
static void gen_put(pt_req_gen *g, uint64_t fp, int64_t rowid)
{
    size_t mask = g->cap - 1, i = (size_t)fp & mask;

    while (g->slots[i].fp)
        i = (i + 1) & mask;
    g->slots[i].fp = fp;
    g->slots[i].rowid = rowid;
    g->n++;
}

/* gen_grow - double g's table (or make its first) */
static int gen_grow(pt_req_gen *g)
{
    size_t ncap = g->cap ? g->cap * 2 : PT_REQ_MIN_CAP;
    pt_req_gen n = {g->slice, calloc(ncap, sizeof(pt_req_slot)), ncap, 0};

    if (!n.slots)
        return -1;
    for (size_t i = 0; i < g->cap; i++)
        if (g->slots[i].fp)
            gen_put(&n, g->slots[i].fp, g->slots[i].rowid);
    free(g->slots);
    *g = n;
    return 0;
}

/* prune - drop the slices that ended before the window of the latest start */
static void prune(partition *p)
{
    int64_t len = slice_ms(p), oldest = slice_of(p->req_newest - p->opts.dedup_window_ms, len);
    size_t k = 0;

    for (size_t i = 0; i < p->n_req_gens; i++) {
        if (p->req_gens[i].slice < oldest)
            free(p->req_gens[i].slots);
        else
            p->req_gens[k++] = p->req_gens[i];
    }
    p->n_req_gens = k;
}

/* gen_for - the table of the slice of start_ms, made if missing; NULL when out of memory */
static pt_req_gen *gen_for(partition *p, int64_t start_ms)
{
    int64_t s = slice_of(start_ms, slice_ms(p));
    pt_req_gen *n;

    for (size_t i = p->n_req_gens; i-- > 0;) /* the newest is last: usually the one */
        if (p->req_gens[i].slice == s)
            return &p->req_gens[i];
    n = realloc(p->req_gens, (p->n_req_gens + 1) * sizeof *n);
    if (!n)
        return NULL;
    p->req_gens = n;
    n = &p->req_gens[p->n_req_gens];
    memset(n, 0, sizeof *n);
    n->slice = s;
    if (gen_grow(n) < 0)
        return NULL;
    p->n_req_gens++;
    return n;
}

/* pt_reqs_free - forget every client request held */
void pt_reqs_free(partition *p)
{
    for (size_t i = 0; i < p->n_req_gens; i++)
        free(p->req_gens[i].slots);
    free(p->req_gens);
    p->req_gens = NULL;
    p->n_req_gens = 0;
    p->req_newest = INT64_MIN;
}

/* pt_reqs_add - remember the stored client request key of the run at rowid */
int pt_reqs_add(partition *p, const char *flow_id, const char *key, int64_t start_ms, int64_t rowid,
                cmk_err *err)
{
    pt_req_gen *g;

    if (!key || !key[0])
        return 0;
    if (start_ms > p->req_newest) { /* INT64_MIN when nothing is held yet */
        p->req_newest = start_ms;
        prune(p);
    }
    if (start_ms < p->req_newest - p->opts.dedup_window_ms)
        return 0; /* started before the window: no later request can be its duplicate */
    if (!(g = gen_for(p, start_ms)) || ((g->n + 1) * 4 > g->cap * 3 && gen_grow(g) < 0)) {
        p->req_stale = 1; /* the next lookup loads them again from the rows */
        return cmk_err_set(err, CMK_ENOMEM, "out of memory holding the client requests of environment %s",
                           p->env);
    }
    gen_put(g, pt_req_fp(flow_id, key), rowid);
    return 0;
}

/* check_row - is the run at rowid the run of (flow, key) within the window? 1 and *found if so */
static int check_row(partition *p, const partition_run *meta, const char *key, int64_t rowid,
                     partition_run *found, cmk_err *err)
{
    sqlite3_stmt *st = pt_stmt(p, PT_RUN_BY_ROWID, err);
    partition_run r;
    int rc;

    if (!st)
        return err ? err->code : CMK_EIO;
    sqlite3_bind_int64(st, 1, rowid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        pt_row_to_run(st, &r);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0; /* rolled back or deleted since */
    if (rc != SQLITE_ROW)
        return pt_db_err(p, rc, "looking for an existing run", err);
    if (strcmp(r.flow_id, meta->flow_id) != 0 || strcmp(r.client_req, key) != 0 ||
        r.start_ms < meta->start_ms - p->opts.dedup_window_ms)
        return 0;
    if (found)
        *found = r;
    return 1;
}

/* pt_reqs_find - the run of (meta->flow_id, key) started within the window before meta */
int pt_reqs_find(partition *p, const partition_run *meta, const char *key, partition_run *found,
                 cmk_err *err)
{
    uint64_t fp;
    int rc;

    if (!key || !key[0])
        return 0;
    if (p->req_stale && (rc = pt_reqs_rebuild(p, err)) < 0)
        return rc; /* refused rather than risk running a request twice */
    fp = pt_req_fp(meta->flow_id, key);
    for (size_t i = p->n_req_gens; i-- > 0;) {
        const pt_req_gen *g = &p->req_gens[i];
        size_t mask = g->cap - 1;
        for (size_t j = (size_t)fp & mask; g->slots[j].fp; j = (j + 1) & mask) {
            if (g->slots[j].fp != fp)
                continue;
            if ((rc = check_row(p, meta, key, g->slots[j].rowid, found, err)) != 0)
                return rc;
        }
    }
    return 0;
}

/* pt_reqs_rebuild - load the client requests of the runs of the latest run's window */
int pt_reqs_rebuild(partition *p, cmk_err *err)
{
    sqlite3_stmt *st;
    int64_t newest = 0;
    int rc, src = SQLITE_DONE, have = 0;

    pt_reqs_free(p);
    p->req_stale = 0;
    if (!(st = pt_stmt(p, PT_RUN_NEWEST, err)))
        return err ? err->code : CMK_EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        newest = sqlite3_column_int64(st, 0);
        have = 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return pt_db_err(p, rc, "loading the client requests of the dedup window", err);
    if (!have)
        return 0; /* no run yet */
    if (!(st = pt_stmt(p, PT_RUN_REQS_SINCE, err)))
        return err ? err->code : CMK_EIO;
    sqlite3_bind_int64(st, 1, newest - p->opts.dedup_window_ms);
    rc = 0;
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = pt_reqs_add(p, (const char *)sqlite3_column_text(st, 1),
                         (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
                         sqlite3_column_int64(st, 0), err);
    sqlite3_reset(st);
    if (rc == 0 && src != SQLITE_DONE)
        rc = pt_db_err(p, src, "loading the client requests of the dedup window", err);
    if (rc < 0)
        p->req_stale = 1;
    return rc;
}
