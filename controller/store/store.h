/*
 * store.h - controller.db: the controller's SQLite database (WAL, foreign keys on), its schema
 * versions, and small helpers every controller module uses (meta values, transactions).
 *
 * Modules own their tables: tenants and environments (directory.c), the vault (vault_store.c),
 * the audit log (audit.c). Each creates its tables if missing.
 */
#ifndef CMK_STORE_H
#define CMK_STORE_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "envelope.h"
#include "err.h"

/* store_open - open (creating) <run>/controller.db with mode 0600 */
int store_open(const char *run_dir, sqlite3 **out, cmk_err *err);

/* store_close - close; accepts NULL and nulls the pointer */
void store_close(sqlite3 **db_p);

/* store_stmt - a prepared statement for sql from a small cache kept per connection (hot paths:
 * one parse per statement, not per request). Give it back with store_stmt_done(). Safe across
 * threads: a cached statement in use is never handed out twice (the second caller gets a fresh
 * one, finalized by store_stmt_done). NULL on a prepare error (sqlite3_errmsg says why). */
sqlite3_stmt *store_stmt(sqlite3 *db, const char *sql);

/* store_stmt_done - reset a statement from store_stmt() and return it to the cache */
void store_stmt_done(sqlite3_stmt *st);

/* store_exec - run SQL without results */
int store_exec(sqlite3 *db, const char *sql, cmk_err *err);

/* store_exec_text - run SQL whose parameters ?1..?4 are texts (NULL binds NULL); 0 or CMK_EIO */
int store_exec_text(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c, const char *d,
                    cmk_err *err);

/* store_begin / store_commit / store_rollback - an IMMEDIATE transaction */
int store_begin(sqlite3 *db, cmk_err *err);
int store_commit(sqlite3 *db, cmk_err *err);
void store_rollback(sqlite3 *db);

/* store_savepoint / store_release / store_rollback_to - a named savepoint, so a module's
 * transaction nests in a caller's one; a release that fails rolls the savepoint back */
int store_savepoint(sqlite3 *db, const char *name, cmk_err *err);
int store_release(sqlite3 *db, const char *name, cmk_err *err);
void store_rollback_to(sqlite3 *db, const char *name);

/* store_rollback_fn - told after a rollback on a connection (a cache forgets what it held) */
typedef void (*store_rollback_fn)(void *arg);

/* store_on_rollback / store_off_rollback - be told after every store_rollback and
 * store_rollback_to on db (at most 8 listeners; register before threads start) */
int store_on_rollback(sqlite3 *db, store_rollback_fn fn, void *arg);
void store_off_rollback(sqlite3 *db, store_rollback_fn fn, void *arg);

/* store_count_by - {label: count} from the rows of "SELECT label, count(*) ... GROUP BY ..."
 * (a NULL label counts as "-"); NULL on a database error or out of memory */
cJSON *store_count_by(sqlite3 *db, const char *sql);

/* store_col_text - copy a text column ("" for NULL) */
void store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap);

/* store_master_check - a module's master key check in its meta table (k TEXT PRIMARY KEY,
 * v BLOB): check_text is sealed under master on first use and must open on every later use;
 * otherwise CMK_ECRYPTO telling the operator to start with the original `what` master key */
int store_master_check(sqlite3 *db, cmk_sealer *sealer, cmk_dek *master, const char *table,
                       const char *check_text, const char *what, cmk_err *err);

/* store_meta_get_int / store_meta_set_int - small persistent values (clock offset, ...) */
int64_t store_meta_get_int(sqlite3 *db, const char *key, int64_t def);
int store_meta_set_int(sqlite3 *db, const char *key, int64_t value, cmk_err *err);

/* store_err - a CMK_EIO error naming what failed and SQLite's message */
int store_err(sqlite3 *db, cmk_err *err, const char *what);

#endif
