/*
 * write_int.h - internals of cmk-bench write shared by write.c (options, interleaving,
 * results), write_trial.c (one measured trial through the partition store or SQLCipher) and
 * write_json.c (the results document and the targets). Not for use outside bench/write*.c.
 */
#ifndef CMK_BENCH_WRITE_INT_H
#define CMK_BENCH_WRITE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/envelope.h"
#include "common/err.h"
#include "sealbench.h"
#include "sqlc.h"
#include "stats.h"
#include "worker/partition.h"

#define BW_MAX_SIZES 8 /* sizes in one run */

/* The write modes measured side by side. */
typedef enum {
    BW_PLAIN = 0,     /* partition with opts.seal = 0: the reference */
    BW_MMK = 1,       /* sealed under a DEK wrapped by the Microsoft-managed key */
    BW_CMK = 2,       /* sealed under a DEK wrapped by a customer-managed key */
    BW_SQLC_TUNED = 3,   /* SQLCipher page encryption, raw key and 4 KiB pages (batched only,
                            when installed) */
    BW_SQLC_DEFAULT = 4, /* SQLCipher as the library ships it: PBKDF2 passphrase, its default
                            page size (batched only, when installed) */
    BW_NMODES = 5
} bw_mode;

/* bw_mode_sqlc - 1 for the SQLCipher modes */
#define bw_mode_sqlc(m) ((m) == BW_SQLC_TUNED || (m) == BW_SQLC_DEFAULT)

/* bw_mode_name / bw_mode_label - "cmk" / "customer-managed key (sealed)" */
const char *bw_mode_name(bw_mode m);
const char *bw_mode_label(bw_mode m);

/* A durable-mode configuration. */
typedef struct {
    const char *name; /* "fsync-per-write", "group-full", ... */
    const char *what; /* one line for the report */
    int writers;      /* concurrent writers */
    int synchronous;  /* SQLite level: 1 NORMAL, 2 FULL */
    int gc_ms;        /* group_commit_ms */
    int gc_max;       /* group_commit_max */
    int idle_commit;  /* commit as soon as no write is waiting (worker.commit_when_idle) */
} bw_dcfg;

#define BW_NDCFG 4 /* durable configurations */

/* What one trial does. */
typedef struct {
    bw_mode mode;           /* which write path */
    size_t size;            /* record size, bytes */
    uint64_t records;       /* batched: records to write */
    int64_t time_ms;        /* durable: write for this long, then drain */
    int writers;            /* durable: concurrent writers (each with one write in flight) */
    int idle_commit;        /* durable: commit when every ready writer has written (the worker's
                               commit_when_idle), not only on the group-commit timer */
    partition_opts popts;   /* partition settings */
    cmk_dek *dek;           /* sealed modes: the DEK (unwrapped by the mode's KEK) */
    bench_sqlc *sqlc;       /* SQLCipher library (the SQLCipher modes) */
    const char *dir;        /* the trial's own directory, removed afterwards */
    const uint8_t *payload; /* size bytes of random data */
} bw_trial;

/* What one trial measured. */
typedef struct {
    uint64_t rows;        /* records written (batched) or acknowledged durable (durable) */
    double seconds;       /* wall time of the writes, final commit included */
    uint64_t failed;      /* durable callbacks that reported a failed commit */
    bench_samples *lat;   /* per-record latencies are appended here (ns) */
} bw_outcome;

/* bw_run_batched_round - the batched trials ts[0..n) (one per mode: same size and record
 * count, each in its own directory) interleaved chunk by chunk: `chunk` records to each mode in
 * turn, the order rotated every chunk (starting at rot), so a slow moment of the machine hits
 * every mode alike. Each mode is timed only while it writes (its final commit included); group
 * commit runs as in the worker (partition_tick after each write). outs[i] gets mode i's rows,
 * seconds and per-record latencies (one partition_bench_put call each). */
int bw_run_batched_round(const bw_trial *ts, int n, uint64_t chunk, int rot, bw_outcome *outs,
                         cmk_err *err);

/* bw_run_durable - t->writers writers, each issuing its next write when the durable callback
 * of the previous one has run; latency = issue to acknowledgement */
int bw_run_durable(const bw_trial *t, bw_outcome *o, cmk_err *err);

/* bw_rmtree - remove a trial directory and everything under it */
void bw_rmtree(const char *dir);

/* The measurements of one (configuration, mode) cell over the repetitions. */
typedef struct {
    double *rows_s;     /* rows/s of each repetition (NaN-free; 0 if not run) */
    double *mb_s;       /* payload MB/s of each repetition */
    int reps;           /* repetitions run */
    uint64_t rows;      /* rows of one repetition */
    uint64_t failed;    /* failed durable writes, all repetitions */
    bench_samples lat;  /* latencies of every repetition, pooled */
} bw_cell;

/* bw_cell_json - a cell as {rows_s: spread, mb_s: spread, latency_us: {...}, per_rep_rows_s} */
cJSON *bw_cell_json(bw_cell *c);

/* bw_ratio_json - the per-repetition ratio num/den as {median, min, max, n}; NULL if none */
cJSON *bw_ratio_json(const bw_cell *num, const bw_cell *den);

/* bw_targets_json - the targets against the measured document (batched and durable
 * sections already in res): an array of {id, what, target, measured, min, max, met}. Batched
 * ratios to plaintext: 256 B >= 0.85, 1 KiB >= 0.95, 4 KiB >= 0.97, 64 KiB >= 0.95; durable
 * group commit >= 10x one fsync per write. SQLCipher has no target (a reported comparison). */
cJSON *bw_targets_json(const cJSON *res, int durable_writers);

#endif
