/*
 * partition.h - one environment's partition: a SQLite file that holds the environment's flows,
 * runs (with every action's inputs and outputs) and connections, with every sensitive column
 * sealed (common/envelope.h) before it is written.
 *
 * Layout: <dir>/partition.db, directory 0700, file 0600, WAL mode. A worker opens only the
 * partitions of the environments it serves. `strings` over the file finds no flow content.
 *
 * Sealed columns and their places (cmk_place: env, table, row, column):
 *   flows.name, flows.trigger_token, flows.definition, runs.trigger, runs.record,
 *   connections.name, connections.secret (and bench.payload when the partition seals): every
 *   string a customer wrote. Ids, trigger kinds, flow kinds, states, run statuses and times stay
 *   in the clear: they are what the platform routes and counts by. runs.client_req (a caller's
 *   request id) holds a keyed hash (HMAC-SHA256 under a key derived from the data DEK), not the
 *   id itself. A connection's name is sealed under the key of its secret.
 *
 * Deduplication (rule RUN-DEDUP-WINDOW): a client request is a duplicate of a run of the same
 * flow with the same request id that started at most dedup_window_ms before it, and only of
 * such a run. The keys of the runs of the window are held in memory (partition_reqs.c), loaded
 * again from the runs' rows on open (a restart); no index on runs.client_req, whose random keys
 * cost a random page per run in every commit and checkpoint as the history grew (issue 18).
 *
 * Schema versions: 3 (this build) writes sealed values only, without the client request index;
 * a schema 2 partition is upgraded on open (the index dropped). A schema 1 partition (names and
 * trigger signatures in the clear) still opens and reads; partition_upgrade() seals its clear
 * columns in place in one transaction, then VACUUMs and truncates the WAL so that no clear copy
 * is left in the file's free pages or the log.
 *
 * Keys: the data DEK (wrapped by the environment's KEK: Microsoft-managed or customer-managed)
 * seals flows, runs and OAuth connection secrets; the MMK DEK (always wrapped by the
 * Microsoft-managed key) seals non-OAuth connection secrets, as the seed requires. Older DEKs
 * are added for reading after a DEK rotation. partition_forget_keys() (lock, revoke) drops
 * them; every operation that needs a key then fails with CMK_EUNAVAIL.
 *
 * Durability: writes go into an open transaction that is committed in groups — when
 * group_commit_max writes are pending or when partition_tick() finds the oldest pending write
 * older than group_commit_ms. A write's `durable` callback runs after the commit that made it
 * durable; a worker acknowledges a run only then, so an acknowledged run survives a SIGKILL
 * while costing far less than one fsync per run.
 *
 * Threads: a partition is used from one thread (the worker's loop).
 */
#ifndef CMK_PARTITION_H
#define CMK_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/envelope.h"
#include "common/err.h"

typedef struct partition partition;

/* How a partition is opened. */
typedef struct {
    int seal;             /* 1: seal sensitive columns (always, but for cmk-bench's plaintext reference) */
    int synchronous;      /* SQLite synchronous: 0 OFF, 1 NORMAL, 2 FULL (default 1, with WAL) */
    int group_commit_ms;  /* commit pending writes at least this often (default 5) */
    int group_commit_max; /* or as soon as this many are pending (default 256) */
    int64_t dedup_window_ms; /* a client request is deduplicated against the runs of its flow that
                              * started at most this long before it (default 5 min:
                              * worker.dedup_window) */
} partition_opts;

/* partition_heap_limit - a soft bound on the memory SQLite holds in this process (every
 * partition's page cache together); call once before opening partitions */
void partition_heap_limit(void);

/* partition_opts_default - seal on, NORMAL, 5 ms, 256, a dedup window of 5 minutes */
void partition_opts_default(partition_opts *o);

/* partition_durable_fn - a write became durable (rc 0) or failed (rc < 0) */
typedef void (*partition_durable_fn)(void *arg, int rc);

/* partition_open - open or create <dir>/partition.db for environment env */
int partition_open(const char *dir, const char *env, const partition_opts *opts, partition **out, cmk_err *err);

/* partition_close - commit what is pending (running durable callbacks), close; NULL-safe */
void partition_close(partition **self_p);

/* partition_set_keys - the DEKs to seal with (borrowed: they must outlive their use) */
void partition_set_keys(partition *self, cmk_dek *data_dek, cmk_dek *mmk_dek);

/* partition_add_read_dek - an older DEK to open blobs sealed before a rotation (borrowed) */
int partition_add_read_dek(partition *self, cmk_dek *dek, cmk_err *err);

/* partition_forget_keys - drop every DEK and wipe cached cipher state (lock, revoke) */
void partition_forget_keys(partition *self);

/* partition_env - the environment id */
const char *partition_env(const partition *self);

/* ---- flows ---- */

/* A flow's metadata (name and trigger_token are sealed at rest, in memory after opening). */
typedef struct {
    char id[64];            /* flow id */
    char name[256];         /* display name (sealed at rest) */
    char trigger_kind[24];  /* manual, recurrence, http, powerapps-v1, powerapps-v2, teams */
    char kind[16];          /* cloud or desktop */
    int enabled;            /* turned on */
    int in_solution;        /* in a Dataverse solution */
    char trigger_token[64]; /* HTTP-trigger URL signature ("" if none; sealed at rest) */
    int64_t created_ms;     /* clock times */
    int64_t updated_ms;
} partition_flow;

/* What partition_flow_get_ex / partition_flow_list_ex open besides the clear metadata. */
#define PARTITION_FLOW_NAME 1u  /* the display name */
#define PARTITION_FLOW_TOKEN 2u /* the HTTP-trigger signature */
#define PARTITION_FLOW_ALL 3u

/* A trigger signature: 32 random bytes, base64url without padding (43 characters). */
#define PARTITION_TRIGGER_TOKEN_BYTES 32
#define PARTITION_TRIGGER_TOKEN_LEN 43

/* Longest connection name, with its NUL. */
#define PARTITION_CONN_NAME_MAX 256

/* partition_flow_put - insert or replace a flow; name, trigger signature and definition are
 * sealed under the data DEK */
int partition_flow_put(partition *self, const partition_flow *meta, const char *definition, size_t len,
                       partition_durable_fn durable, void *arg, cmk_err *err);

/* partition_flow_get - a flow with name and signature opened; *definition (may be NULL if not
 * wanted) is malloc'd */
int partition_flow_get(partition *self, const char *id, partition_flow *meta, char **definition, cmk_err *err);

/* partition_flow_get_ex - the same, opening only the sealed fields in `want` (PARTITION_FLOW_*);
 * the others are left "" (a run needs neither: no decryption beyond the definition) */
int partition_flow_get_ex(partition *self, const char *id, partition_flow *meta, char **definition,
                          unsigned want, cmk_err *err);

/* partition_flow_list - every flow's metadata with its name opened, no signature (malloc'd
 * array, free()) */
int partition_flow_list(partition *self, partition_flow **out, size_t *n, cmk_err *err);

/* partition_flow_list_ex - the same, opening the sealed fields in `want` */
int partition_flow_list_ex(partition *self, unsigned want, partition_flow **out, size_t *n, cmk_err *err);

/* partition_flow_check_sig - 0 if sig is the flow's HTTP-trigger signature (compared in
 * constant time with CRYPTO_memcmp after opening it); CMK_EPERM if not, CMK_ENOENT if the flow
 * does not exist or has no HTTP trigger */
int partition_flow_check_sig(partition *self, const char *id, const char *sig, cmk_err *err);

/* partition_trigger_token_new - a fresh signature (PARTITION_TRIGGER_TOKEN_LEN characters of
 * base64url from RAND_bytes) into buf (cap > PARTITION_TRIGGER_TOKEN_LEN) */
int partition_trigger_token_new(char *buf, size_t cap, cmk_err *err);

/* partition_flow_delete - remove a flow (its runs stay for the history) */
int partition_flow_delete(partition *self, const char *id, partition_durable_fn durable, void *arg, cmk_err *err);

/* ---- runs ---- */

/* A run's clear metadata. */
typedef struct {
    char id[64];         /* run id */
    char flow_id[64];    /* the flow */
    char client_req[64]; /* caller's request id, for deduplication ("" if none) */
    char status[16];     /* Running, Succeeded, Failed, Cancelled */
    int64_t start_ms;    /* clock times; end_ms 0 while running */
    int64_t end_ms;
} partition_run;

/* partition_run_begin - record a new run with its trigger outputs (sealed). If a run with the
 * same non-empty client_req exists for the flow, started within the dedup window before
 * meta->start_ms, nothing is written: CMK_EEXIST and *existing (may be NULL) gets that run. */
int partition_run_begin(partition *self, const partition_run *meta, const char *trigger_json,
                        partition_run *existing, partition_durable_fn durable, void *arg, cmk_err *err);

/* partition_run_dedup / partition_run_insert - partition_run_begin in two halves, so that a run
 * that ends within its first step is written once, with its record, instead of an INSERT then
 * an UPDATE: _dedup is the client_req check (0, or CMK_EEXIST and *existing; req_key, cap >= 64,
 * gets the keyed hash to store), _insert writes the run (meta->status and end_ms as given;
 * record_json NULL for a run still Running) with that key; nothing else may be written in
 * between that could start the same client request. */
int partition_run_dedup(partition *self, const partition_run *meta, partition_run *existing, char *req_key,
                        size_t cap, cmk_err *err);
int partition_run_insert(partition *self, const partition_run *meta, const char *req_key, const char *trigger_json,
                         const char *record_json, partition_run *existing, partition_durable_fn durable, void *arg,
                         cmk_err *err);

/* partition_run_save - update status/end time and the run's full record (sealed JSON: every
 * action's status, inputs, outputs, timings; engine_run_to_json) */
int partition_run_save(partition *self, const char *run_id, const char *status, int64_t end_ms,
                       const char *record_json, partition_durable_fn durable, void *arg, cmk_err *err);

/* partition_run_get - a run; trigger_json and record_json (either may be NULL) are malloc'd */
int partition_run_get(partition *self, const char *run_id, partition_run *meta, char **trigger_json,
                      char **record_json, cmk_err *err);

/* partition_run_list - runs of a flow (NULL: all flows), newest first, started at or after
 * since_ms, at most limit (0: all) (malloc'd array, free()) */
int partition_run_list(partition *self, const char *flow_id, int64_t since_ms, size_t limit,
                       partition_run **out, size_t *n, cmk_err *err);

/* partition_run_unfinished - runs still Running (to resume after a crash) */
int partition_run_unfinished(partition *self, partition_run **out, size_t *n, cmk_err *err);

/* partition_run_export_csv - the "All runs" CSV of a flow: newest first, at most max_records
 * (the product's limit is 100), with trigger and action inputs and outputs; *csv malloc'd */
int partition_run_export_csv(partition *self, const char *flow_id, size_t max_records, char **csv, cmk_err *err);

/* ---- connections ---- */

/* partition_conn_put - a connection's secret: OAuth (Microsoft Entra) ones are sealed under the
 * data DEK, non-OAuth ones always under the MMK DEK */
int partition_conn_put(partition *self, const char *id, const char *name, int oauth, const char *secret,
                       partition_durable_fn durable, void *arg, cmk_err *err);

/* partition_conn_get - a connection; *secret malloc'd (wipe it); *oauth (may be NULL) */
int partition_conn_get(partition *self, const char *id, int *oauth, char **secret, cmk_err *err);

/* partition_conn_name - a connection's display name (sealed at rest) into buf */
int partition_conn_name(partition *self, const char *id, char *buf, size_t cap, cmk_err *err);

/* partition_conn_key_id - the hex id of the DEK a connection's secret is sealed under */
int partition_conn_key_id(partition *self, const char *id, char hex[33], cmk_err *err);

/* ---- schema upgrade ---- */

/* partition_upgrade - seal what a schema 1 partition holds in the clear (flow names, trigger
 * signatures, connection names; client request ids become keyed hashes) in one transaction,
 * then VACUUM and truncate the WAL; needs the keys (call after partition_set_keys). Nothing to
 * do (0, *sealed 0) for a schema 2 partition. *sealed (may be NULL) gets the values sealed. */
int partition_upgrade(partition *self, size_t *sealed, cmk_err *err);

/* partition_schema_legacy - 1 while a schema 1 partition waits for partition_upgrade */
int partition_schema_legacy(const partition *self);

/* partition_conn_list - every connection without its secret: a JSON array of {id, name, oauth}
 * (the caller deletes it) */
int partition_conn_list(partition *self, cJSON **items, cmk_err *err);

/* partition_conn_delete - delete a connection (a missing one is not an error: *deleted 0) */
int partition_conn_delete(partition *self, const char *id, int *deleted, partition_durable_fn durable, void *arg,
                          cmk_err *err);

/* ---- durability ---- */

/* partition_tick - commit if the oldest pending write is older than group_commit_ms; returns
 * ms until the next commit is due (-1: nothing pending) */
int64_t partition_tick(partition *self, cmk_err *err);

/* partition_commit - commit now (running durable callbacks) */
int partition_commit(partition *self, cmk_err *err);

/* partition_pending - writes not yet committed */
size_t partition_pending(const partition *self);

/* partition_integrity_check - PRAGMA integrity_check; 0 if "ok" */
int partition_integrity_check(partition *self, cmk_err *err);

/* ---- benchmark path (cmk-bench write) ---- */

/* partition_bench_put - one record of len bytes into table bench, sealed if the partition
 * seals, through the same statement cache and group commit as every other write */
int partition_bench_put(partition *self, int64_t row, const uint8_t *data, size_t len,
                        partition_durable_fn durable, void *arg, cmk_err *err);

/* ---- additions (not in the original contract) ---- */

/* Write calls and durable callbacks, precisely: a write that returns 0 was accepted and its
 * durable callback (if given) runs exactly once, with 0 after the COMMIT that made it durable
 * or with the error of a failed COMMIT (the transaction is then rolled back), even when that
 * commit happens inline at the end of the call itself. A write that returns < 0 wrote nothing
 * and its callback never runs, but for one case: a write WITHOUT a callback returns the error
 * of a failed inline commit. Callbacks run in write order; a commit asked for from inside a
 * callback is deferred until the running callbacks have returned. Keyed operations (writing a
 * sealed column, opening one, the CSV export) fail with CMK_EUNAVAIL after
 * partition_forget_keys until partition_set_keys; metadata (lists, partition_flow_get without
 * a definition, partition_conn_key_id) stays readable. With opts.seal 0 nothing is sealed and
 * no key is needed; a partition keeps the seal mode it was created with. partition_tick
 * returns a cmk code below -1 (err filled) when a due commit failed. partition_run_export_csv
 * with max_records 0 uses the product's limit, 100. */

/* partition_clear - delete every flow and every run (and every connection if connections is
 * non-zero) of the partition as one write (committed together, durable callback as above);
 * *flows and *runs (either may be NULL) get the numbers deleted. Needs no key. */
int partition_clear(partition *self, int connections, size_t *flows, size_t *runs,
                    partition_durable_fn durable, void *arg, cmk_err *err);

/* ---- staging (partition_stage.c): a restore, copy or reset replaces the flows all at once ---- */

/* partition_stage_begin - an empty staging area named stage (dropping any other), committed */
int partition_stage_begin(partition *self, const char *stage, cmk_err *err);

/* partition_flow_stage - partition_flow_put into staging area stage instead of `flows` (sealed
 * at the same places); CMK_ESTATE if the area does not exist (swapped in or discarded) */
int partition_flow_stage(partition *self, const char *stage, const partition_flow *meta, const char *definition,
                         size_t len, partition_durable_fn durable, void *arg, cmk_err *err);

/* partition_stage_swap - in one committed transaction: every flow and run (and connection if
 * connections) deleted, the staged flows moved in, the area dropped. No key needed. *found 0
 * and nothing changed when there is no area stage (already swapped in, or discarded); *flows_out,
 * *runs_out, *flows_in (may be NULL) get the flows and runs deleted and the flows moved in */
int partition_stage_swap(partition *self, const char *stage, int connections, int *found, size_t *flows_out,
                         size_t *runs_out, size_t *flows_in, cmk_err *err);

/* partition_stage_discard - drop the staging area (and any other), committed; the partition's
 * own data is untouched */
int partition_stage_discard(partition *self, const char *stage, cmk_err *err);

/* partition_flow_gen - a number that changes with every flow write (put, delete, clear), every
 * key change (partition_set_keys, partition_forget_keys) and every rollback: a cache of what
 * was read from the flows table (a worker's parsed definitions) is valid while it stays the same */
uint64_t partition_flow_gen(const partition *self);

/* partition_path - the database file (<dir>/partition.db) */
const char *partition_path(const partition *self);

/* partition_fail_next_commit - fault-injection seam for tests: the next COMMIT is rolled back
 * instead and reported as failing with code (e.g. CMK_EIO for a full disk); 0 cancels */
void partition_fail_next_commit(partition *self, int code);

/* "All runs" CSV columns (partition_run_export_csv; RFC 4180, CRLF, header row first):
 *   Run ID, Flow ID, Start time, End time (UTC ISO 8601 with ms; empty while Running),
 *   Duration (ms) (empty while Running), Status, Error ("code: message"), Trigger (JSON: the
 *   trigger outputs the run started with), Actions (JSON array of every action's name, status,
 *   inputs, outputs, startMs, endMs, error, from the saved record). */

#endif
