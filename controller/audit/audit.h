/*
 * audit.h - the controller's append-only, hash-chained audit log (in controller.db).
 *
 * Every entry records who did what to which object and how it ended:
 *
 *   seq | time (the cmk_clock's) | principal | operation | target | result | detail
 *
 * plus prev_hash (the hash of entry seq-1; 32 zero bytes for entry 1) and
 *
 *   hash = SHA-256(prev_hash || canonical entry)
 *
 * where the canonical entry is, byte for byte:
 *
 *   "cmksim-audit-v1" | seq (8, big-endian) | time_ms (8, big-endian, two's complement) |
 *   for principal, operation, target, result, detail: length (4, big-endian) | bytes
 *
 * A head row (last seq and hash) is kept beside the log so that removing the newest entries
 * is detected too. audit_verify() walks the chain and names the first entry that was changed,
 * removed or reordered.
 *
 * Thread safety: an internal mutex serialises appends, listing and verification. Appends run
 * in a SAVEPOINT, so they also work inside a caller's open transaction (and are rolled back
 * with it). A callback given to audit_list() must not call back into the same audit_log.
 */
#ifndef CMK_AUDIT_H
#define CMK_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "common/err.h"

#define AUDIT_HASH_LEN 32

/* Principals used for actions the system takes on its own (not on a caller's request). */
#define AUDIT_PRINCIPAL_SYSTEM "system"

typedef struct audit_log audit_log;

/* audit_entry - one entry, as handed to an audit_list() callback (valid during the call) */
typedef struct {
    int64_t seq;                       /* 1, 2, 3, ... without gaps */
    int64_t time_ms;                   /* the controller clock's time of the event */
    const char *principal;             /* who asked ("system" for timers and retention) */
    const char *operation;             /* what, e.g. "key.unwrap" */
    const char *target;                /* on what, e.g. "contoso-kv/cmk-key" */
    const char *result;                /* "ok" or an error code name ("EPERM") */
    const char *detail;                /* free text: the error message or what changed */
    uint8_t prev_hash[AUDIT_HASH_LEN]; /* hash of the entry before */
    uint8_t hash[AUDIT_HASH_LEN];      /* SHA-256(prev_hash || canonical entry) */
} audit_entry;

/* audit_filter - which entries audit_list() returns; a zeroed filter returns all, oldest first */
typedef struct {
    int64_t after_seq;     /* only entries with seq > after_seq (0: from the start) */
    int64_t from_ms;       /* only entries at or after this time (0: no bound) */
    int64_t to_ms;         /* only entries at or before this time (0: no bound) */
    const char *principal; /* exact principal, or NULL */
    const char *operation; /* exact operation, or a prefix ending in '*' ("key.*"), or NULL */
    const char *target;    /* target prefix ("contoso-kv" matches its keys too), or NULL */
    const char *result;    /* "ok", an error code name, "error" (any failure), or NULL */
    size_t limit;          /* at most this many entries (0: no limit) */
    int newest_first;      /* 1: newest entries first */
} audit_filter;

/* audit_cb - called per listed entry; return non-zero to stop the listing */
typedef int (*audit_cb)(const audit_entry *entry, void *arg);

/* audit_log_new - open the audit log in db (tables created if missing); NULL on failure.
 * The caller keeps owning db and clock, which must outlive the log. */
audit_log *audit_log_new(sqlite3 *db, cmk_clock *clock, cmk_err *err);

/* audit_log_anchor - anchor the log's head outside controller.db: keys_dir/audit-head.key (32
 * random bytes, made on first use, 0600) and keys_dir/audit.head, rewritten atomically (temp
 * file, fsync, rename) by every append (also one inside an open transaction) with "cmksim-audit-head-v1 SEQ HASH HMAC",
 * HMAC-SHA256 under that key over (seq, hash). An append whose head cannot be anchored is not
 * recorded and fails (the caller refuses its operation). audit_verify() then also reports a
 * log that ends before the anchored entry or differs from it (the newest entries deleted and
 * audit_head rewritten in the database), and a missing or altered head file. */
int audit_log_anchor(audit_log *self, const char *keys_dir, cmk_err *err);

/* audit_log_destroy - free the handle (the entries stay in the database); accepts NULL */
void audit_log_destroy(audit_log **self_p);

/* audit_append - append one entry at the clock's current time; result_code is 0 for "ok" or
 * a negative cmk_code, recorded by name. detail may be NULL. *seq_out (may be NULL) gets the
 * new entry's seq. */
int audit_append(audit_log *self, const char *principal, const char *operation, const char *target,
                 int result_code, const char *detail, int64_t *seq_out, cmk_err *err);

/* audit_must - append the entry of an operation that must be audited (fail closed): 0, or
 * CMK_EIO "refused: OPERATION on TARGET could not be audited (why); free space for the run dir
 * and retry", logged as event=audit.refused. The caller then undoes what it changed (or
 * appended the entry before changing anything) so the refused operation leaves things as
 * they were and can be run again. */
int audit_must(audit_log *self, const char *principal, const char *operation, const char *target,
               int result_code, const char *detail, cmk_err *err);

/* audit_is_refusal - whether err is an operation refused because its audit record could not be
 * written (audit_must here, or the vault's own fail-closed append): not a verdict on what the
 * operation would have found (a health check must not lock environments over it) */
int audit_is_refusal(const cmk_err *err);

/* audit_list - call cb for every entry that passes filter (NULL: all), in seq order */
int audit_list(audit_log *self, const audit_filter *filter, audit_cb cb, void *arg, cmk_err *err);

/* audit_count - number of entries in the log */
int audit_count(audit_log *self, int64_t *count, cmk_err *err);

/* audit_verify - walk the whole chain. 0 when intact (*first_bad_seq = 0). When an entry was
 * changed, removed or reordered: CMK_ECRYPTO, *first_bad_seq = the first entry that fails
 * (for a removed entry: the seq that is missing), and err says what happened. */
int audit_verify(audit_log *self, int64_t *first_bad_seq, cmk_err *err);

#endif
