/*
 * sqlc.h - SQLCipher as cmk-bench write's outside reference: whole-page encryption inside
 * SQLite, against our column sealing. It is loaded at run time (dlopen of Debian's
 * libsqlcipher.so.0, RTLD_DEEPBIND so that it never mixes with the libsqlite3 we link), so
 * cmk-bench builds and runs without it and says "skipped" when it is absent.
 *
 * Two cipher configurations are measured (a comparison, no target):
 *   default - SQLCipher as the library ships it: a passphrase key (PBKDF2 with the library's
 *             default iteration count, run once when the database is first read) and its
 *             default cipher page size (1024 bytes in SQLCipher 3);
 *   tuned   - a raw 256-bit key (no PBKDF2) and 4096-byte cipher pages.
 * Both get the partition's storage settings: WAL, the same synchronous level, the same table
 * shape and one transaction per group_commit_max records.
 */
#ifndef CMK_BENCH_SQLC_H
#define CMK_BENCH_SQLC_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct bench_sqlc bench_sqlc;       /* the loaded library */
typedef struct bench_sqlc_db bench_sqlc_db; /* one open encrypted database */

/* bench_sqlc_load - load SQLCipher; NULL with a reason in err (CMK_ENOENT: not installed) */
bench_sqlc *bench_sqlc_load(cmk_err *err);

/* bench_sqlc_unload - close the library; accepts NULL, nulls the pointer */
void bench_sqlc_unload(bench_sqlc **self_p);

/* bench_sqlc_version - "3.20.1 (SQLCipher 3.4.1)" or what the library says */
const char *bench_sqlc_version(const bench_sqlc *self);

/* The cipher configurations. */
typedef enum { BENCH_SQLC_DEFAULT = 0, BENCH_SQLC_TUNED = 1 } bench_sqlc_cfg;

/* bench_sqlc_cfg_what - one line saying what a configuration is, for reports */
const char *bench_sqlc_cfg_what(bench_sqlc_cfg cfg);

/* bench_sqlc_open - create path encrypted under a fresh random key (tuned) or passphrase
 * (default), with the settings above */
int bench_sqlc_open(bench_sqlc *lib, const char *path, bench_sqlc_cfg cfg, int synchronous,
                    int group_max, bench_sqlc_db **out, cmk_err *err);

/* bench_sqlc_pragma - the value of `PRAGMA name` (e.g. kdf_iter, cipher_page_size,
 * cipher_version) on an open database into buf ("" if it has none) */
int bench_sqlc_pragma(bench_sqlc_db *db, const char *name, char *buf, size_t cap,
                      cmk_err *err);

/* bench_sqlc_put - one record; commits when group_max records are pending */
int bench_sqlc_put(bench_sqlc_db *db, int64_t row, const uint8_t *data, size_t len, cmk_err *err);

/* bench_sqlc_commit - commit what is pending */
int bench_sqlc_commit(bench_sqlc_db *db, cmk_err *err);

/* bench_sqlc_close - commit and close; accepts NULL, nulls the pointer */
void bench_sqlc_close(bench_sqlc_db **self_p);

#endif
