/*
 * write_trial.c - one measured trial of cmk-bench write: N records through the worker's real
 * storage path (partition_open + partition_bench_put, group commit, sealing) or through
 * SQLCipher, batched or durable (see write_int.h). Each trial writes into a fresh directory
 * that it removes afterwards, so every trial starts from the same empty table.
 */
#include "write_int.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/util.h"

#define ENV_ID "env-bench" /* the environment id bound into every sealed record's place */

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* bw_rmtree - remove a trial directory */
void bw_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* open_part - the trial's partition with its keys */
static int open_part(const bw_trial *t, partition **p, cmk_err *err)
{
    partition_opts o = t->popts;
    int rc;

    o.seal = t->mode != BW_PLAIN;
    if ((rc = partition_open(t->dir, ENV_ID, &o, p, err)) < 0)
        return cmk_err_prefix(err, "opening the %s partition: ", bw_mode_name(t->mode));
    if (o.seal)
        partition_set_keys(*p, t->dek, t->dek);
    return 0;
}

/* One open write target of a batched round: a partition or a SQLCipher database. */
typedef struct {
    partition *p;      /* the partition (plain, mmk, cmk) */
    bench_sqlc_db *db; /* or SQLCipher */
} bw_sink;

/* sink_open - the trial's target in its own directory */
static int sink_open(const bw_trial *t, bw_sink *k, cmk_err *err)
{
    char path[4200];

    if (!bw_mode_sqlc(t->mode))
        return open_part(t, &k->p, err);
    if (cmk_mkdirs(t->dir, 0700, err) < 0)
        return err->code;
    snprintf(path, sizeof path, "%s/sqlcipher.db", t->dir);
    return bench_sqlc_open(t->sqlc, path,
                           t->mode == BW_SQLC_TUNED ? BENCH_SQLC_TUNED : BENCH_SQLC_DEFAULT,
                           t->popts.synchronous, t->popts.group_commit_max, &k->db, err);
}

/* sink_put - one record, then the worker's timer (partition_tick) */
static int sink_put(const bw_trial *t, bw_sink *k, int64_t row, cmk_err *err)
{
    int rc;

    if (k->db)
        return bench_sqlc_put(k->db, row, t->payload, t->size, err);
    if ((rc = partition_bench_put(k->p, row, t->payload, t->size, NULL, NULL, err)) < 0)
        return rc;
    return partition_tick(k->p, err) < -1 ? err->code : 0;
}

/* sink_commit - commit what is pending */
static int sink_commit(bw_sink *k, cmk_err *err)
{
    return k->db ? bench_sqlc_commit(k->db, err) : partition_commit(k->p, err);
}

/* sink_close - close without timing */
static void sink_close(bw_sink *k)
{
    bench_sqlc_close(&k->db);
    partition_close(&k->p);
}

/* bw_run_batched_round - the batched trials of every mode, interleaved chunk by chunk */
int bw_run_batched_round(const bw_trial *ts, int n, uint64_t chunk, int rot, bw_outcome *outs,
                         cmk_err *err)
{
    bw_sink sinks[BW_NMODES];
    int64_t spent[BW_NMODES] = {0};
    int order[BW_NMODES], rc = 0;
    uint64_t records = ts[0].records, c = 0;

    memset(sinks, 0, sizeof sinks);
    if (n < 1 || n > BW_NMODES || chunk < 1)
        return cmk_err_set(err, CMK_EINVAL, "a batched round needs 1 to %d modes", BW_NMODES);
    for (int i = 0; i < n && rc == 0; i++) {
        outs[i].rows = outs[i].failed = 0;
        outs[i].seconds = 0;
        rc = sink_open(&ts[i], &sinks[i], err);
    }
    for (uint64_t start = 0; rc == 0 && start < records; start += chunk, c++) {
        uint64_t end = start + chunk < records ? start + chunk : records;
        bench_interleave_order(n, rot + (int)c, order);
        for (int k = 0; k < n && rc == 0; k++) {
            int i = order[k];
            int64_t t0 = cmk_mono_ns(), a, b = t0;
            for (uint64_t row = start; row < end; row++) {
                a = b;
                if ((rc = sink_put(&ts[i], &sinks[i], (int64_t)row, err)) < 0)
                    break;
                b = cmk_mono_ns();
                if (bench_samples_add(outs[i].lat, b - a) < 0) {
                    rc = cmk_err_set(err, CMK_ENOMEM, "out of memory recording latencies");
                    break;
                }
            }
            spent[i] += cmk_mono_ns() - t0;
            if (rc < 0)
                cmk_err_prefix(err, "%s: ", bw_mode_name(ts[i].mode));
        }
    }
    for (int k = 0; k < n && rc == 0; k++) { /* the last group of each: part of its cost */
        int64_t t0 = cmk_mono_ns();
        rc = sink_commit(&sinks[order[k]], err);
        spent[order[k]] += cmk_mono_ns() - t0;
    }
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            outs[i].rows = records;
            outs[i].seconds = (double)spent[i] / 1e9;
        }
        sink_close(&sinks[i]);
    }
    return rc;
}

/* One durable writer. */
typedef struct {
    int64_t issued_ns; /* when its write in flight was issued */
    int ready;         /* 1: no write in flight */
} bw_writer;

/* The state of a durable trial, shared with the durable callback. */
typedef struct {
    bw_writer *w;        /* the writers */
    bench_samples *lat;  /* latencies */
    uint64_t acked;      /* writes acknowledged durable */
    uint64_t failed;     /* writes whose commit failed */
    int oom;             /* recording a latency ran out of memory */
} bw_dstate;

/* Argument of one write's durable callback. */
typedef struct {
    bw_dstate *st; /* the trial */
    int idx;       /* which writer */
} bw_darg;

/* on_durable - a write is durable (or failed): record its latency, free its writer */
static void on_durable(void *arg, int rc)
{
    bw_darg *d = arg;
    bw_writer *w = &d->st->w[d->idx];

    if (rc == 0) {
        d->st->acked++;
        if (bench_samples_add(d->st->lat, cmk_mono_ns() - w->issued_ns) < 0)
            d->st->oom = 1;
    } else {
        d->st->failed++;
    }
    w->ready = 1;
}

/* bw_run_durable - writers gated by their durable callbacks, for t->time_ms */
int bw_run_durable(const bw_trial *t, bw_outcome *o, cmk_err *err)
{
    partition *p = NULL;
    bw_dstate st = {0};
    bw_darg *args = calloc((size_t)t->writers, sizeof *args);
    int64_t t0, stop, due;
    int64_t row = 0;
    int rc = 0;

    o->rows = 0;
    o->seconds = 0;
    o->failed = 0;
    st.w = calloc((size_t)t->writers, sizeof *st.w);
    st.lat = o->lat;
    if (!args || !st.w) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < t->writers; i++) {
        st.w[i].ready = 1;
        args[i].st = &st;
        args[i].idx = i;
    }
    if ((rc = open_part(t, &p, err)) < 0)
        goto done;
    t0 = cmk_mono_ns();
    stop = t0 + t->time_ms * 1000000;
    while (cmk_mono_ns() < stop) {
        for (int i = 0; i < t->writers; i++) {
            if (!st.w[i].ready)
                continue;
            st.w[i].ready = 0;
            st.w[i].issued_ns = cmk_mono_ns();
            if ((rc = partition_bench_put(p, row++, t->payload, t->size, on_durable, &args[i],
                                          err)) < 0)
                goto done;
        }
        if (t->idle_commit && partition_pending(p) > 0 && (rc = partition_commit(p, err)) < 0)
            goto done; /* what the worker does when no request is queued */
        due = partition_tick(p, err); /* what the worker's 2 ms timer does */
        if (due < -1) {
            rc = (int)due;
            goto done;
        }
        if (due > 0) { /* every writer waits for the group: sleep until it is due */
            struct timespec ts = {0, (long)(due > 2 ? 2 : due) * 1000000L};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
    }
    if ((rc = partition_commit(p, err)) < 0) /* drain: the writes in flight become durable */
        goto done;
    o->seconds = (double)(cmk_mono_ns() - t0) / 1e9;
    o->rows = st.acked;
    o->failed = st.failed;
    if (st.oom)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory recording latencies");
done:
    partition_close(&p);
    free(args);
    free(st.w);
    return rc;
}
