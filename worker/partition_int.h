/*
 * partition_int.h - internals of the partition store shared by partition.c (open, statement
 * cache, group commit), partition_keys.c (DEKs, sealing, opening), partition_flows.c (flows,
 * connections, bench), partition_runs.c (runs and the CSV export) and partition_reqs.c (the
 * client requests of the deduplication window). Not for use outside worker/partition*.c.
 */
#ifndef CMK_PARTITION_INT_H
#define CMK_PARTITION_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "worker/partition.h"

/* Cached statements, prepared on first use and kept for the partition's life. */
typedef enum {
    PT_BEGIN,          /* BEGIN */
    PT_COMMIT,         /* COMMIT */
    PT_ROLLBACK,       /* ROLLBACK */
    PT_FLOW_PUT,       /* upsert a flow */
    PT_FLOW_GET,       /* one flow's metadata and definition */
    PT_FLOW_LIST,      /* every flow's metadata */
    PT_FLOW_DELETE,    /* delete a flow */
    PT_RUN_BY_ROWID,   /* one run's metadata by rowid (a client request's run: dedup) */
    PT_RUN_REQS_SINCE, /* rowid, flow, client_req, start of the runs since a time (dedup window) */
    PT_RUN_NEWEST,     /* the latest start time of a run */
    PT_RUN_BY_ID,      /* one run's metadata */
    PT_RUN_INSERT,     /* a new run */
    PT_RUN_SAVE,       /* status, end, record of a run */
    PT_RUN_GET,        /* one run with its sealed columns */
    PT_RUN_LIST_ALL,   /* runs of every flow, newest first */
    PT_RUN_LIST_FLOW,  /* runs of one flow, newest first */
    PT_RUN_UNFINISHED, /* runs still Running */
    PT_RUN_EXPORT,     /* runs of one flow with sealed columns, newest first */
    PT_CONN_PUT,       /* upsert a connection */
    PT_CONN_GET,       /* a connection's kind, secret and name */
    PT_FLOW_SIG,       /* a flow's trigger kind and sealed trigger signature */
    PT_BENCH_PUT,      /* one benchmark record */
    PT_FLOW_STAGE,     /* a flow into a staging area (partition_stage.c) */
    PT_STMT_COUNT      /* number of cached statements */
} pt_stmt_id;

/* A durable callback waiting for its commit. */
typedef struct {
    partition_durable_fn fn; /* the callback */
    void *arg;               /* its argument */
} pt_cb;

/* An index key: HKDF-SHA256 of a DEK, for keyed hashes of indexed customer strings. */
typedef struct {
    uint8_t dek_id[CMK_DEK_ID_LEN]; /* the DEK it was derived from */
    uint8_t key[32];                /* the derived key (wiped with the keys) */
    EVP_MAC_CTX *ctx;               /* HMAC-SHA256 keyed with it, re-initialised per hash */
} pt_idx_key;

/* Schema versions: 3 (this build): no index on runs.client_req (deduplication within a window,
 * partition_reqs.c); 2: the same columns with the unique index runs_client_req (dropped on open);
 * 1: names and signatures in the clear (sealed by partition_upgrade). */
#define PT_SCHEMA_VERSION "3"
#define PT_SCHEMA_PREV "2"   /* opened and upgraded in place: the index dropped */
#define PT_SCHEMA_LEGACY "1" /* names and signatures in the clear: sealed on upgrade */

/* One client request in memory: a fingerprint of (flow, stored key) and the run's rowid. */
typedef struct {
    uint64_t fp;   /* pt_req_fp; 0 marks an empty slot */
    int64_t rowid; /* the run's row (checked on a match: flow, key and start time) */
} pt_req_slot;

/* The client requests of runs that started in one slice of time (window / PT_REQ_SLICES). */
typedef struct {
    int64_t slice;      /* floor(start_ms / slice_ms) */
    pt_req_slot *slots; /* open addressing, linear probing; cap a power of two */
    size_t cap;         /* slots */
    size_t n;           /* used */
} pt_req_gen;

/* Prefix of a keyed hash stored in place of an indexed value. */
#define PT_HASH_PREFIX "hmac1:"

/* A growable byte buffer (CSV export); wiped before it is freed or grown. */
typedef struct {
    char *data; /* bytes, NUL-terminated while len < cap */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int oom;    /* an append ran out of memory */
} pt_buf;

struct partition {
    sqlite3 *db;                     /* the open database */
    char *dir;                       /* partition directory */
    char *path;                      /* <dir>/partition.db */
    char *env;                       /* environment id (first field of every place) */
    partition_opts opts;             /* how it was opened */
    sqlite3_stmt *st[PT_STMT_COUNT]; /* statement cache, indexed by pt_stmt_id */
    cmk_sealer *sealer;              /* the one sealer of this partition (reused) */
    cmk_dek *data_dek;               /* seals flows, runs, OAuth secrets (borrowed) */
    cmk_dek *mmk_dek;                /* seals non-OAuth secrets (borrowed) */
    cmk_dek **read_deks;             /* older DEKs for reading (borrowed) */
    size_t n_read;                   /* entries in read_deks */
    size_t cap_read;                 /* slots in read_deks */
    int locked;                      /* 1 after partition_forget_keys until keys are set again */
    uint8_t *scratch;                /* reusable buffer for the blob being written */
    size_t scratch_cap;              /* its size */
    int in_txn;                      /* a write transaction is open */
    size_t pending;                  /* writes in it, not yet committed */
    int64_t first_ns;                /* CLOCK_MONOTONIC time of its first write */
    pt_cb *cbs;                      /* durable callbacks of pending writes, in write order */
    size_t n_cbs;                    /* entries in cbs */
    size_t cap_cbs;                  /* slots in cbs */
    pt_cb *spare;                    /* a second callback array, swapped in at each commit */
    size_t cap_spare;                /* its slots */
    int dispatching;                 /* callbacks are running: commits wait until they end */
    int fail_commit;                 /* test seam: the next COMMIT fails with this code */
    int legacy;                      /* schema 1: names/signatures may be clear text (upgrade) */
    pt_idx_key *idx_keys;            /* index (HMAC) keys derived from DEKs, by DEK id */
    size_t n_idx;                    /* entries in idx_keys */
    EVP_MAC *hmac;                   /* HMAC, fetched once */
    uint64_t flow_gen;               /* changes with every flow write, key change or rollback */
    pt_req_gen *req_gens;            /* client requests of the dedup window, by time slice */
    size_t n_req_gens;               /* entries in req_gens */
    int64_t req_newest;              /* latest start time added (slices older than the window go) */
    int req_stale;                   /* an entry could not be added: rebuild before the next lookup */
};

/* pt_stmt - the cached statement `which`, prepared on first use */
sqlite3_stmt *pt_stmt(partition *p, pt_stmt_id which, cmk_err *err);

/* pt_db_err - turn a SQLite result into a cmk error naming what was being done */
int pt_db_err(partition *p, int rc, const char *what, cmk_err *err);

/* pt_write_begin - open a write transaction if none is, with room to queue durable (if any);
 * call before the write's statement so that nothing can fail after it */
int pt_write_begin(partition *p, partition_durable_fn durable, cmk_err *err);

/* pt_write_done - a write succeeded: queue its callback, commit inline at group_commit_max */
int pt_write_done(partition *p, partition_durable_fn durable, void *arg, cmk_err *err);

/* pt_write_failed - a write's statement failed with rc: fail the transaction if SQLite
 * rolled it back, close it if it holds nothing; returns the cmk code for err */
int pt_write_failed(partition *p, int rc, const char *what, cmk_err *err);

/* pt_need_dek - the DEK to seal with (mmk: the MMK DEK), or CMK_EUNAVAIL; NULL when the
 * partition does not seal */
int pt_need_dek(partition *p, int mmk, cmk_dek **out, cmk_err *err);

/* pt_seal - seal plain at (env, table, row, column) into the scratch buffer (or pass it
 * through when the partition does not seal); *blob stays valid until the next pt_seal */
int pt_seal(partition *p, cmk_dek *dek, const char *table, const char *row, const char *column,
            const void *plain, size_t len, const void **blob, size_t *blob_len, cmk_err *err);

/* pt_open_col - column col of st opened at (env, table, row, column) into a malloc'd
 * NUL-terminated buffer (*out NULL for SQL NULL); *out_len (may be NULL) gets its length */
int pt_open_col(partition *p, sqlite3_stmt *st, int col, const char *table, const char *row,
                const char *column, char **out, size_t *out_len, cmk_err *err);

/* pt_open_text - a sealed text column (flows.name, flows.trigger_token, connections.name) into
 * dst (cap bytes, NUL-terminated; longer values are refused): a blob is opened at (env, table,
 * row, column), clear text of a schema 1 partition not yet upgraded is copied, NULL gives "" */
int pt_open_text(partition *p, sqlite3_stmt *st, int col, const char *table, const char *row,
                 const char *column, char *dst, size_t cap, cmk_err *err);

/* pt_commit_pending - commit the open group-commit transaction, if any (before a statement that
 * needs its own transaction) */
int pt_commit_pending(partition *p, cmk_err *err);

/* pt_index_hash - the keyed hash stored in place of an indexed customer string: PT_HASH_PREFIX
 * + base64url(HMAC-SHA256(HKDF(dek, env), table|column|value)) into out (cap >= 64); with a
 * partition that does not seal, the value itself */
int pt_index_hash(partition *p, const cmk_dek *dek, const char *table, const char *column,
                  const char *value, char *out, size_t cap, cmk_err *err);

/* pt_reqs_rebuild - forget the client requests held and load those of the runs that started
 * within the dedup window of the latest run (runs_start: the recent end of the table) */
int pt_reqs_rebuild(partition *p, cmk_err *err);

/* pt_reqs_add - remember the stored client request key of the run at rowid (started start_ms) */
int pt_reqs_add(partition *p, const char *flow_id, const char *key, int64_t start_ms, int64_t rowid,
                cmk_err *err);

/* pt_reqs_find - the run of (meta->flow_id, key) started within the dedup window before
 * meta->start_ms: 1 and *found, 0 if none, or a negative code */
int pt_reqs_find(partition *p, const partition_run *meta, const char *key, partition_run *found,
                 cmk_err *err);

/* pt_reqs_free - forget every client request held */
void pt_reqs_free(partition *p);

/* pt_row_to_run - columns 0..5 of a runs row (id, flow_id, client_req, status, start, end) */
void pt_row_to_run(sqlite3_stmt *st, partition_run *m);

/* pt_wipe_index_keys - forget every derived index key */
void pt_wipe_index_keys(partition *p);

/* pt_locked_err - the CMK_EUNAVAIL of a locked environment */
int pt_locked_err(partition *p, cmk_err *err);

/* pt_copy - copy a column's text into a fixed field (truncating, always NUL-terminated) */
void pt_copy(char *dst, size_t cap, const unsigned char *src);

/* pt_free_secret - wipe and free a NUL-terminated plaintext buffer of len bytes; NULL-safe */
void pt_free_secret(char *s, size_t len);

/* pt_buf_add / pt_buf_addf / pt_buf_free - the growable buffer */
void pt_buf_add(pt_buf *b, const char *s, size_t n);
void pt_buf_addf(pt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_buf_free(pt_buf *b);

#endif
