/*
 * sqlc.c - SQLCipher loaded at run time for cmk-bench write (see sqlc.h). Only the few SQLite
 * entry points the benchmark needs are looked up; the types are opaque pointers so that no
 * SQLCipher header is needed to build.
 */
#include "sqlc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/envelope.h"
#include "common/util.h"

#define SQLC_OK 0
#define SQLC_DONE 101
#define SQLC_OPEN_RW 0x02
#define SQLC_OPEN_CREATE 0x04
#define SQLC_OPEN_NOMUTEX 0x8000

struct bench_sqlc {
    void *dl;                                                   /* dlopen handle */
    char version[64];                                           /* for reports */
    int (*open_v2)(const char *, void **, int, const char *);   /* sqlite3_open_v2 */
    int (*close)(void *);                                       /* sqlite3_close */
    int (*exec)(void *, const char *, int (*)(void *, int, char **, char **), void *,
                char **);                                       /* sqlite3_exec */
    int (*prepare)(void *, const char *, int, void **, const char **); /* sqlite3_prepare_v2 */
    int (*bind_int64)(void *, int, long long);                  /* sqlite3_bind_int64 */
    int (*bind_blob)(void *, int, const void *, int, void (*)(void *)); /* sqlite3_bind_blob */
    int (*step)(void *);                                        /* sqlite3_step */
    int (*reset)(void *);                                       /* sqlite3_reset */
    int (*finalize)(void *);                                    /* sqlite3_finalize */
    const char *(*errmsg)(void *);                              /* sqlite3_errmsg */
    void (*free_)(void *);                                      /* sqlite3_free */
};

struct bench_sqlc_db {
    bench_sqlc *lib; /* the library */
    void *db;        /* sqlite3 * */
    void *put;       /* sqlite3_stmt * of the insert */
    int group_max;   /* commit every this many records */
    int pending;     /* records in the open transaction */
};

/* bench_sqlc_load - dlopen and look up the entry points */
bench_sqlc *bench_sqlc_load(cmk_err *err)
{
    static const char *const names[] = {"libsqlcipher.so.0", "libsqlcipher.so"};
    bench_sqlc *l;
    void *dl = NULL;
    const char *(*libversion)(void);

#if defined(__SANITIZE_ADDRESS__)
    cmk_err_set(err, CMK_ENOENT, "SQLCipher skipped: a sanitizer build cannot load it with "
                                 "RTLD_DEEPBIND");
    return NULL;
#endif
    for (size_t i = 0; i < 2 && !dl; i++)
        dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!dl) {
        cmk_err_set(err, CMK_ENOENT,
                    "SQLCipher not installed (apt-get install libsqlcipher-dev) — skipped");
        return NULL;
    }
    if (!(l = calloc(1, sizeof *l))) {
        dlclose(dl);
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    l->dl = dl;
    *(void **)&l->open_v2 = dlsym(dl, "sqlite3_open_v2");
    *(void **)&l->close = dlsym(dl, "sqlite3_close");
    *(void **)&l->exec = dlsym(dl, "sqlite3_exec");
    *(void **)&l->prepare = dlsym(dl, "sqlite3_prepare_v2");
    *(void **)&l->bind_int64 = dlsym(dl, "sqlite3_bind_int64");
    *(void **)&l->bind_blob = dlsym(dl, "sqlite3_bind_blob");
    *(void **)&l->step = dlsym(dl, "sqlite3_step");
    *(void **)&l->reset = dlsym(dl, "sqlite3_reset");
    *(void **)&l->finalize = dlsym(dl, "sqlite3_finalize");
    *(void **)&l->errmsg = dlsym(dl, "sqlite3_errmsg");
    *(void **)&l->free_ = dlsym(dl, "sqlite3_free");
    *(void **)&libversion = dlsym(dl, "sqlite3_libversion");
    if (!l->open_v2 || !l->close || !l->exec || !l->prepare || !l->bind_int64 || !l->bind_blob ||
        !l->step || !l->reset || !l->finalize || !l->errmsg || !l->free_ || !libversion ||
        !dlsym(dl, "sqlite3_key")) {
        bench_sqlc_unload(&l);
        cmk_err_set(err, CMK_ENOENT, "libsqlcipher lacks SQLite entry points or sqlite3_key — skipped");
        return NULL;
    }
    snprintf(l->version, sizeof l->version, "libsqlcipher (SQLite %s)", libversion());
    return l;
}

/* bench_sqlc_unload - close the library */
void bench_sqlc_unload(bench_sqlc **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->dl)
        dlclose((*self_p)->dl);
    free(*self_p);
    *self_p = NULL;
}

/* bench_sqlc_version - the library's version */
const char *bench_sqlc_version(const bench_sqlc *self)
{
    return self->version;
}

/* exec - one SQL script; CMK_EIO with SQLite's message */
static int exec(bench_sqlc_db *d, const char *sql, cmk_err *err)
{
    char *msg = NULL;
    int rc = d->lib->exec(d->db, sql, NULL, NULL, &msg);

    if (rc == SQLC_OK)
        return 0;
    rc = cmk_err_set(err, CMK_EIO, "SQLCipher: %s: %s", sql, msg ? msg : d->lib->errmsg(d->db));
    d->lib->free_(msg);
    return rc;
}

/* bench_sqlc_cfg_what - what a configuration is */
const char *bench_sqlc_cfg_what(bench_sqlc_cfg cfg)
{
    return cfg == BENCH_SQLC_TUNED
               ? "raw 256-bit key (no PBKDF2), 4096-byte cipher pages"
               : "the library's defaults: passphrase key through PBKDF2 (default iterations), "
                 "default cipher page size";
}

/* key_sql - `PRAGMA key` with a fresh random raw key (tuned) or passphrase (default) */
static void key_sql(bench_sqlc_cfg cfg, char *sql, size_t cap)
{
    uint8_t key[32];
    char hex[65];

    RAND_bytes(key, sizeof key);
    cmk_hex_encode(key, sizeof key, hex, sizeof hex);
    if (cfg == BENCH_SQLC_TUNED)
        snprintf(sql, cap, "PRAGMA key = \"x'%s'\";", hex); /* raw key: no PBKDF2 */
    else
        snprintf(sql, cap, "PRAGMA key = '%s';", hex); /* a passphrase: PBKDF2 */
    cmk_wipe(key, sizeof key);
    cmk_wipe(hex, sizeof hex);
}

/* bench_sqlc_open - a fresh encrypted database with the partition's settings */
int bench_sqlc_open(bench_sqlc *lib, const char *path, bench_sqlc_cfg cfg, int synchronous,
                    int group_max, bench_sqlc_db **out, cmk_err *err)
{
    bench_sqlc_db *d = calloc(1, sizeof *d);
    char sql[200];
    int rc;

    *out = NULL;
    if (!d)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    d->lib = lib;
    d->group_max = group_max > 0 ? group_max : 1;
    if (lib->open_v2(path, &d->db, SQLC_OPEN_RW | SQLC_OPEN_CREATE | SQLC_OPEN_NOMUTEX, NULL)) {
        rc = cmk_err_set(err, CMK_EIO, "SQLCipher cannot open %s", path);
        goto fail;
    }
    key_sql(cfg, sql, sizeof sql);
    rc = exec(d, sql, err);
    cmk_wipe(sql, sizeof sql);
    if (rc < 0)
        goto fail;
    snprintf(sql, sizeof sql,
             "%s PRAGMA journal_mode = WAL; PRAGMA synchronous = %d; PRAGMA temp_store = MEMORY;",
             cfg == BENCH_SQLC_TUNED ? "PRAGMA cipher_page_size = 4096;" : "", synchronous);
    if ((rc = exec(d, sql, err)) < 0 ||
        (rc = exec(d, "CREATE TABLE IF NOT EXISTS bench(id INTEGER PRIMARY KEY, payload BLOB);",
                   err)) < 0)
        goto fail;
    if (lib->prepare(d->db, "INSERT OR REPLACE INTO bench(id, payload) VALUES(?1, ?2)", -1,
                     &d->put, NULL) != SQLC_OK) {
        rc = cmk_err_set(err, CMK_EIO, "SQLCipher: %s", lib->errmsg(d->db));
        goto fail;
    }
    *out = d;
    return 0;
fail:
    bench_sqlc_close(&d);
    return rc;
}

/* Where pragma_row puts a value. */
typedef struct {
    char *buf;  /* the caller's buffer */
    size_t cap; /* its size */
} sqlc_value;

/* pragma_row - sqlite3_exec callback: the first column of the first row into the buffer */
static int pragma_row(void *arg, int ncol, char **vals, char **names)
{
    sqlc_value *v = arg;
    (void)names;
    if (ncol > 0 && vals[0] && !v->buf[0])
        cmk_strlcpy(v->buf, vals[0], v->cap);
    return 0;
}

/* bench_sqlc_pragma - the value of one PRAGMA */
int bench_sqlc_pragma(bench_sqlc_db *d, const char *name, char *buf, size_t cap, cmk_err *err)
{
    char sql[96], *msg = NULL;
    sqlc_value v = {buf, cap};
    int rc;

    if (!cap)
        return cmk_err_set(err, CMK_EINVAL, "no room for the value of PRAGMA %s", name);
    buf[0] = '\0';
    snprintf(sql, sizeof sql, "PRAGMA %s;", name);
    rc = d->lib->exec(d->db, sql, pragma_row, &v, &msg);
    if (rc == SQLC_OK)
        return 0;
    rc = cmk_err_set(err, CMK_EIO, "SQLCipher: %s: %s", sql, msg ? msg : d->lib->errmsg(d->db));
    d->lib->free_(msg);
    return rc;
}

/* bench_sqlc_put - one record in the open transaction */
int bench_sqlc_put(bench_sqlc_db *d, int64_t row, const uint8_t *data, size_t len, cmk_err *err)
{
    int rc;

    if (d->pending == 0 && (rc = exec(d, "BEGIN", err)) < 0)
        return rc;
    d->lib->bind_int64(d->put, 1, row);
    d->lib->bind_blob(d->put, 2, data, (int)len, NULL);
    rc = d->lib->step(d->put);
    d->lib->reset(d->put);
    if (rc != SQLC_DONE)
        return cmk_err_set(err, CMK_EIO, "SQLCipher insert: %s", d->lib->errmsg(d->db));
    if (++d->pending >= d->group_max)
        return bench_sqlc_commit(d, err);
    return 0;
}

/* bench_sqlc_commit - commit the open transaction */
int bench_sqlc_commit(bench_sqlc_db *d, cmk_err *err)
{
    if (!d->pending)
        return 0;
    d->pending = 0;
    return exec(d, "COMMIT", err);
}

/* bench_sqlc_close - commit and close */
void bench_sqlc_close(bench_sqlc_db **self_p)
{
    bench_sqlc_db *d;

    if (!self_p || !*self_p)
        return;
    d = *self_p;
    if (d->db) {
        (void)bench_sqlc_commit(d, NULL);
        if (d->put)
            d->lib->finalize(d->put);
        d->lib->close(d->db);
    }
    free(d);
    *self_p = NULL;
}
