/*
 * store.c - controller.db: open, pragmas, meta values, transactions.
 */
#include "store.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* store_err - fill a CMK_EIO error with SQLite's message */
int store_err(sqlite3 *db, cmk_err *err, const char *what)
{
    return cmk_err_set(err, CMK_EIO, "controller.db: %s failed: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

/* store_exec - SQL without results */
int store_exec(sqlite3 *db, const char *sql, cmk_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = cmk_err_set(err, CMK_EIO, "controller.db: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* store_open - open controller.db */
int store_open(const char *run_dir, sqlite3 **out, cmk_err *err)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    int fd;

    *out = NULL;
    snprintf(path, sizeof path, "%s/controller.db", run_dir);
    /* create it 0600 before SQLite does (which would use the umask) */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = cmk_err_set(err, CMK_EIO, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    if (store_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                   "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
                   err) < 0) {
        sqlite3_close(db);
        return err ? err->code : CMK_EIO;
    }
    chmod(path, 0600);
    *out = db;
    return 0;
}

/* The statement cache of store_stmt(). */
#define STORE_STMT_CACHE 32
static struct {
    sqlite3 *db;       /* connection (NULL: free slot) */
    const char *sql;   /* the statement's text (the caller's; a literal) */
    sqlite3_stmt *st;  /* prepared statement */
    int busy;          /* handed out */
} stmt_cache[STORE_STMT_CACHE];
static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;

/* store_stmt - from the cache, or prepared (and cached when there is room) */
sqlite3_stmt *store_stmt(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int free_slot = -1;

    pthread_mutex_lock(&stmt_lock);
    for (int i = 0; i < STORE_STMT_CACHE; i++) {
        if (stmt_cache[i].db == db && !stmt_cache[i].busy &&
            (stmt_cache[i].sql == sql || strcmp(stmt_cache[i].sql, sql) == 0)) {
            stmt_cache[i].busy = 1;
            st = stmt_cache[i].st;
            break;
        }
        if (!stmt_cache[i].db && free_slot < 0)
            free_slot = i;
    }
    pthread_mutex_unlock(&stmt_lock);
    if (st)
        return st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    pthread_mutex_lock(&stmt_lock);
    if (free_slot >= 0 && !stmt_cache[free_slot].db) {
        stmt_cache[free_slot].db = db;
        stmt_cache[free_slot].sql = sql;
        stmt_cache[free_slot].st = st;
        stmt_cache[free_slot].busy = 1;
    }
    pthread_mutex_unlock(&stmt_lock);
    return st;
}

/* store_stmt_done - reset and give back (a statement the cache had no room for is finalized) */
void store_stmt_done(sqlite3_stmt *st)
{
    int cached = 0;

    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_lock(&stmt_lock);
    for (int i = 0; i < STORE_STMT_CACHE; i++)
        if (stmt_cache[i].st == st) {
            stmt_cache[i].busy = 0;
            cached = 1;
            break;
        }
    pthread_mutex_unlock(&stmt_lock);
    if (!cached)
        sqlite3_finalize(st);
}

/* stmt_forget - finalize the cached statements of db (before it closes) */
static void stmt_forget(sqlite3 *db)
{
    pthread_mutex_lock(&stmt_lock);
    for (int i = 0; i < STORE_STMT_CACHE; i++)
        if (stmt_cache[i].db == db) {
            sqlite3_finalize(stmt_cache[i].st);
            memset(&stmt_cache[i], 0, sizeof stmt_cache[i]);
        }
    pthread_mutex_unlock(&stmt_lock);
}

/* store_close - close */
void store_close(sqlite3 **db_p)
{
    if (db_p && *db_p) {
        stmt_forget(*db_p);
        sqlite3_close(*db_p);
        *db_p = NULL;
    }
}

/* store_exec_text - SQL with up to four text parameters */
int store_exec_text(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c, const char *d,
                    cmk_err *err)
{
    sqlite3_stmt *st;
    const char *v[4] = { a, b, c, d };
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_err(db, err, "statement");
    for (int i = 0; i < 4 && i < sqlite3_bind_parameter_count(st); i++)
        if (v[i])
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(db, err, "statement");
    sqlite3_finalize(st);
    return rc;
}

int store_begin(sqlite3 *db, cmk_err *err) { return store_exec(db, "BEGIN IMMEDIATE", err); }
int store_commit(sqlite3 *db, cmk_err *err) { return store_exec(db, "COMMIT", err); }
/* Who is told of a rollback (a cache over rows that a rollback may have taken back). */
#define STORE_MAX_LISTENERS 8
static struct {
    sqlite3 *db;               /* the connection */
    store_rollback_fn fn;      /* called after ROLLBACK or ROLLBACK TO */
    void *arg;                 /* its argument */
} listeners[STORE_MAX_LISTENERS];

/* store_on_rollback - call fn(arg) after every rollback on db (set up before threads start) */
int store_on_rollback(sqlite3 *db, store_rollback_fn fn, void *arg)
{
    for (int i = 0; i < STORE_MAX_LISTENERS; i++)
        if (!listeners[i].fn) {
            listeners[i].db = db;
            listeners[i].fn = fn;
            listeners[i].arg = arg;
            return 0;
        }
    return CMK_ELIMIT;
}

/* store_off_rollback - stop telling fn */
void store_off_rollback(sqlite3 *db, store_rollback_fn fn, void *arg)
{
    for (int i = 0; i < STORE_MAX_LISTENERS; i++)
        if (listeners[i].db == db && listeners[i].fn == fn && listeners[i].arg == arg)
            listeners[i].fn = NULL;
}

/* rolled_back - tell the listeners of db */
static void rolled_back(sqlite3 *db)
{
    for (int i = 0; i < STORE_MAX_LISTENERS; i++)
        if (listeners[i].fn && listeners[i].db == db)
            listeners[i].fn(listeners[i].arg);
}

void store_rollback(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    rolled_back(db);
}

/* store_meta_get_int - a meta value */
int64_t store_meta_get_int(sqlite3 *db, const char *key, int64_t def)
{
    sqlite3_stmt *st;
    int64_t v = def;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return def;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* store_meta_set_int - set a meta value */
int store_meta_set_int(sqlite3 *db, const char *key, int64_t value, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES(?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return store_err(db, err, "meta update");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(db, err, "meta update");
    sqlite3_finalize(st);
    return rc;
}

/* store_savepoint - SAVEPOINT name */
int store_savepoint(sqlite3 *db, const char *name, cmk_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SAVEPOINT %s", name);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : store_err(db, err, "starting a transaction");
}

/* store_release - RELEASE name; rolled back when it fails */
int store_release(sqlite3 *db, const char *name, cmk_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "RELEASE %s", name);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = store_err(db, err, "committing");
        store_rollback_to(db, name);
        return rc;
    }
    return 0;
}

/* store_rollback_to - undo and release the savepoint */
void store_rollback_to(sqlite3 *db, const char *name)
{
    char sql[96];
    snprintf(sql, sizeof sql, "ROLLBACK TO %s", name);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "RELEASE %s", name);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    rolled_back(db);
}

/* store_col_text - copy a text column */
void store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    cmk_strlcpy(out, s ? s : "", cap);
}

/* store_master_check - seal a known text on first use; check it opens on later uses */
int store_master_check(sqlite3 *db, cmk_sealer *sealer, cmk_dek *master, const char *table,
                       const char *check_text, const char *what, cmk_err *err)
{
    cmk_place pl = { "-", table, "master_check", "v" };
    uint8_t blob[256], plain[256];
    size_t blen = 0, plen = 0, tlen = strlen(check_text);
    sqlite3_stmt *st = NULL;
    char sql[128];
    int rc;

    snprintf(sql, sizeof sql, "SELECT v FROM %s WHERE k = 'master_check'", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_err(db, err, "reading the master key check");
    if (sqlite3_step(st) == SQLITE_ROW) {
        int n = sqlite3_column_bytes(st, 0);
        rc = n > 0 && (size_t)n <= sizeof blob ? 0 : CMK_ECRYPTO;
        if (rc == 0) {
            memcpy(blob, sqlite3_column_blob(st, 0), (size_t)n);
            rc = cmk_open(sealer, master, &pl, blob, (size_t)n, plain, sizeof plain, &plen, NULL);
        }
        sqlite3_finalize(st);
        if (rc < 0 || plen != tlen || memcmp(plain, check_text, plen) != 0)
            return cmk_err_set(err, CMK_ECRYPTO,
                               "the %s master key does not match the one controller.db was "
                               "sealed with; start the controller with its original master key",
                               what);
        return 0;
    }
    sqlite3_finalize(st);
    if ((rc = cmk_seal(sealer, master, &pl, (const uint8_t *)check_text, tlen, blob, sizeof blob,
                       &blen, err)) < 0)
        return rc;
    snprintf(sql, sizeof sql, "INSERT INTO %s (k, v) VALUES ('master_check', ?)", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_err(db, err, "storing the master key check");
    sqlite3_bind_blob(st, 1, blob, (int)blen, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_err(db, err, "storing the master key check");
}

/* store_count_by - {label: count} from "SELECT label, count(*) ... GROUP BY" rows */
cJSON *store_count_by(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cJSON *out;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (!(out = cJSON_CreateObject())) {
        sqlite3_finalize(st);
        return NULL;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *label = (const char *)sqlite3_column_text(st, 0);
        cJSON *have = cJSON_GetObjectItemCaseSensitive(out, label ? label : "-");
        double n = (double)sqlite3_column_int64(st, 1);
        if (have)
            cJSON_SetNumberValue(have, have->valuedouble + n);
        else
            cJSON_AddNumberToObject(out, label ? label : "-", n);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        cJSON_Delete(out), out = NULL;
    return out;
}
