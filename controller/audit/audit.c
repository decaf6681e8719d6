/*
 * audit.c - append-only hash-chained audit log in controller.db (see audit.h for the format).
 */
#include "audit.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/util.h"

#include "ctl_metrics.h"
#include "log.h"

#define AUDIT_DOMAIN "cmksim-audit-v1"
#define ANCHOR_DOMAIN "cmksim-audit-head-v1"
#define ANCHOR_KEY_LEN 32

struct audit_log {
    pthread_mutex_t mu; /* serialises every use of the log */
    sqlite3 *db;        /* controller.db, owned by the caller */
    cmk_clock *clock;   /* time source for entries, owned by the caller */
    /* the head anchored outside controller.db (audit_log_anchor) */
    int anchored;                         /* 1 once audit_log_anchor succeeded */
    char head_path[PATH_MAX];             /* keys/audit.head */
    uint8_t anchor_key[ANCHOR_KEY_LEN];   /* HMAC key, from keys/audit-head.key */
    int head_missing;                     /* the key existed but the head file did not at open */
};

static const char *const audit_schema = "CREATE TABLE IF NOT EXISTS audit_log ("
                                        "  seq INTEGER PRIMARY KEY,"
                                        "  time_ms INTEGER NOT NULL,"
                                        "  principal TEXT NOT NULL,"
                                        "  operation TEXT NOT NULL,"
                                        "  target TEXT NOT NULL,"
                                        "  result TEXT NOT NULL,"
                                        "  detail TEXT NOT NULL,"
                                        "  prev_hash BLOB NOT NULL,"
                                        "  hash BLOB NOT NULL);"
                                        "CREATE TABLE IF NOT EXISTS audit_head ("
                                        "  id INTEGER PRIMARY KEY CHECK (id = 1),"
                                        "  seq INTEGER NOT NULL,"
                                        "  hash BLOB NOT NULL);";

/* db_fail - turn an SQLite failure into a CMK_EIO error naming what we were doing */
static int db_fail(sqlite3 *db, cmk_err *err, const char *what)
{
    return cmk_err_set(err, CMK_EIO,
                       "audit log: %s failed: %s (check that controller.db is "
                       "writable and not corrupt)",
                       what, sqlite3_errmsg(db));
}

/* audit_log_new - open the log, creating its tables */
audit_log *audit_log_new(sqlite3 *db, cmk_clock *clock, cmk_err *err)
{
    audit_log *self;
    char *msg = NULL;

    if (!db || !clock) {
        cmk_err_set(err, CMK_EINVAL, "audit log: a database and a clock are required");
        return NULL;
    }
    if (sqlite3_exec(db, audit_schema, NULL, NULL, &msg) != SQLITE_OK) {
        cmk_err_set(err, CMK_EIO, "audit log: cannot create tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return NULL;
    }
    self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "audit log: out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->mu, NULL);
    self->db = db;
    self->clock = clock;
    return self;
}

/* audit_log_destroy - free the handle */
void audit_log_destroy(audit_log **self_p)
{
    if (self_p && *self_p) {
        OPENSSL_cleanse((*self_p)->anchor_key, sizeof (*self_p)->anchor_key);
        pthread_mutex_destroy(&(*self_p)->mu);
        free(*self_p);
        *self_p = NULL;
    }
}

/* put_be64 - big-endian 64-bit */
static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* hash_field - feed a length-prefixed string into the digest */
static int hash_field(EVP_MD_CTX *ctx, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    return EVP_DigestUpdate(ctx, len, 4) && (n == 0 || EVP_DigestUpdate(ctx, s, n));
}

/* entry_hash - SHA-256(prev_hash || canonical entry) */
static int entry_hash(const audit_entry *e, uint8_t out[AUDIT_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t nums[16];
    unsigned int len = 0;
    int ok;

    if (!ctx)
        return CMK_ENOMEM;
    put_be64(nums, (uint64_t)e->seq);
    put_be64(nums + 8, (uint64_t)e->time_ms);
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(ctx, e->prev_hash, AUDIT_HASH_LEN) &&
         EVP_DigestUpdate(ctx, AUDIT_DOMAIN, strlen(AUDIT_DOMAIN)) &&
         EVP_DigestUpdate(ctx, nums, sizeof nums) && hash_field(ctx, e->principal) &&
         hash_field(ctx, e->operation) && hash_field(ctx, e->target) &&
         hash_field(ctx, e->result) && hash_field(ctx, e->detail) &&
         EVP_DigestFinal_ex(ctx, out, &len) && len == AUDIT_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : CMK_ECRYPTO;
}

/* read_head - the last seq and hash (0 and zeros for an empty log) */
static int read_head(audit_log *self, int64_t *seq, uint8_t hash[AUDIT_HASH_LEN], cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *seq = 0;
    memset(hash, 0, AUDIT_HASH_LEN);
    if (sqlite3_prepare_v2(self->db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(self->db, err, "reading the head");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN)
            memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(self->db, err, "reading the head");
}

/* anchor_mac - HMAC-SHA256(anchor key, ANCHOR_DOMAIN || seq (8, big-endian) || hash) */
static int anchor_mac(const audit_log *self, int64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
                      uint8_t mac[32])
{
    uint8_t msg[sizeof ANCHOR_DOMAIN - 1 + 8 + AUDIT_HASH_LEN];
    size_t len = 0;
    memcpy(msg, ANCHOR_DOMAIN, sizeof ANCHOR_DOMAIN - 1);
    put_be64(msg + sizeof ANCHOR_DOMAIN - 1, (uint64_t)seq);
    memcpy(msg + sizeof ANCHOR_DOMAIN - 1 + 8, hash, AUDIT_HASH_LEN);
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, self->anchor_key, ANCHOR_KEY_LEN, msg,
                     sizeof msg, mac, 32, &len) && len == 32
               ? 0
               : CMK_ECRYPTO;
}

/* write_anchor - keys/audit.head = "ANCHOR_DOMAIN seq hash mac", written atomically (temp file,
 * fsync, rename) */
static int write_anchor(audit_log *self, int64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
                        cmk_err *err)
{
    uint8_t mac[32];
    char hh[2 * AUDIT_HASH_LEN + 1], mh[65], text[256];
    int n;

    if (anchor_mac(self, seq, hash, mac) < 0)
        return cmk_err_set(err, CMK_ECRYPTO, "audit log: HMAC of the head failed");
    cmk_hex_encode(hash, AUDIT_HASH_LEN, hh, sizeof hh);
    cmk_hex_encode(mac, sizeof mac, mh, sizeof mh);
    n = snprintf(text, sizeof text, "%s %" PRId64 " %s %s\n", ANCHOR_DOMAIN, seq, hh, mh);
    if (cmk_file_write_atomic(self->head_path, text, (size_t)n, 0600, err) < 0)
        return cmk_err_prefix(err, "audit log: cannot anchor the head: ");
    return 0;
}

/* read_anchor - the anchored seq and hash; CMK_ENOENT if there is no head file, CMK_ECRYPTO if
 * it was altered (or made under another key) */
static int read_anchor(audit_log *self, int64_t *seq, uint8_t hash[AUDIT_HASH_LEN], cmk_err *err)
{
    char *text = NULL, dom[32], hh[2 * AUDIT_HASH_LEN + 2], mh[66];
    uint8_t mac[32], want[32];
    long long s = 0;
    size_t len = 0;
    int rc = cmk_file_read(self->head_path, &text, &len, err);

    if (rc < 0)
        return rc;
    rc = sscanf(text, "%31s %lld %65s %65s", dom, &s, hh, mh) == 4 && strcmp(dom, ANCHOR_DOMAIN) == 0 &&
                 s >= 0 && cmk_hex_decode(hh, hash, AUDIT_HASH_LEN, NULL) == 0 &&
                 cmk_hex_decode(mh, mac, sizeof mac, NULL) == 0
             ? 0
             : CMK_ECRYPTO;
    free(text);
    if (rc == 0 && anchor_mac(self, s, hash, want) < 0)
        return cmk_err_set(err, CMK_ECRYPTO, "audit log: HMAC of the head failed");
    if (rc < 0 || CRYPTO_memcmp(mac, want, sizeof mac) != 0)
        return cmk_err_set(err, CMK_ECRYPTO,
                           "the audit head file %s was altered (its HMAC under keys/audit-head.key does "
                           "not match)", self->head_path);
    *seq = s;
    return 0;
}

/* audit_log_anchor - anchor the head outside controller.db */
int audit_log_anchor(audit_log *self, const char *keys_dir, cmk_err *err)
{
    char path[PATH_MAX], *text = NULL, hex[2 * ANCHOR_KEY_LEN + 2];
    size_t len = 0;
    int rc, created = 0;

    snprintf(path, sizeof path, "%s/audit-head.key", keys_dir);
    snprintf(self->head_path, sizeof self->head_path, "%s/audit.head", keys_dir);
    rc = cmk_file_read(path, &text, &len, err);
    if (rc == CMK_ENOENT) {
        /* first use: a new key, and the head as it is now */
        if (RAND_bytes(self->anchor_key, ANCHOR_KEY_LEN) != 1)
            return cmk_err_set(err, CMK_ECRYPTO, "no randomness for the audit head key");
        cmk_hex_encode(self->anchor_key, ANCHOR_KEY_LEN, hex, sizeof hex);
        strcat(hex, "\n");
        rc = cmk_file_write_atomic(path, hex, strlen(hex), 0600, err);
        OPENSSL_cleanse(hex, sizeof hex);
        if (rc < 0)
            return rc;
        created = 1;
    } else if (rc < 0) {
        return rc;
    } else {
        if (len > 0 && text[len - 1] == '\n')
            text[--len] = '\0';
        rc = cmk_hex_decode(text, self->anchor_key, ANCHOR_KEY_LEN, NULL);
        OPENSSL_cleanse(text, len);
        free(text);
        if (rc < 0)
            return cmk_err_set(err, CMK_ECRYPTO, "%s: not a %d-byte hex key", path, ANCHOR_KEY_LEN);
    }
    pthread_mutex_lock(&self->mu);
    self->anchored = 1;
    if (created) {
        int64_t seq;
        uint8_t hash[AUDIT_HASH_LEN];
        rc = read_head(self, &seq, hash, err);
        if (rc == 0)
            rc = write_anchor(self, seq, hash, err);
    } else if (access(self->head_path, F_OK) != 0 && errno == ENOENT) {
        self->head_missing = 1; /* audit_verify reports it */
        rc = 0;
    }
    pthread_mutex_unlock(&self->mu);
    return rc < 0 ? rc : 0;
}

/* append_locked - insert the entry and move the head, inside a savepoint */
static int append_locked(audit_log *self, audit_entry *e, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = read_head(self, &e->seq, e->prev_hash, err);
    if (rc < 0)
        return rc;
    e->seq++;
    if (entry_hash(e, e->hash) < 0)
        return cmk_err_set(err, CMK_ECRYPTO, "audit log: SHA-256 failed");
    if (sqlite3_prepare_v2(self->db,
                           "INSERT INTO audit_log (seq, time_ms, principal, operation, target, "
                           "result, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(self->db, err, "appending an entry");
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_int64(st, 2, e->time_ms);
    sqlite3_bind_text(st, 3, e->principal, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->operation, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->result, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->detail, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, e->prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, e->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(self->db, err, "appending an entry");
    if (sqlite3_prepare_v2(self->db,
                           "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
                           "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(self->db, err, "moving the head");
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_blob(st, 2, e->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(self->db, err, "moving the head");
}

/* audit_append - append one entry */
int audit_append(audit_log *self, const char *principal, const char *operation, const char *target,
                 int result_code, const char *detail, int64_t *seq_out, cmk_err *err)
{
    audit_entry e;
    int rc, outer;
    cmk_err local = CMK_ERR_INIT;

    if (!err)
        err = &local;
    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "audit log: no log given");
    memset(&e, 0, sizeof e);
    e.principal = principal && *principal ? principal : "-";
    e.operation = operation && *operation ? operation : "-";
    e.target = target && *target ? target : "-";
    e.result = result_code == 0 ? "ok" : cmk_code_name(result_code);
    e.detail = detail ? detail : "";
    pthread_mutex_lock(&self->mu);
    e.time_ms = cmk_clock_now(self->clock);
    /* the head is anchored with every append, also one that lands inside an open transaction
     * (the connection is shared): if that transaction is rolled back, an entry that was
     * acknowledged vanishes, and audit_verify reports it - as it should */
    outer = sqlite3_get_autocommit(self->db);
    if (sqlite3_exec(self->db, "SAVEPOINT audit_append", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(self->db, err, "starting an append");
        goto out;
    }
    rc = append_locked(self, &e, err);
    if (rc == 0 && self->anchored)
        rc = write_anchor(self, e.seq, e.hash, err); /* not anchored: not recorded (fail closed) */
    if (rc < 0) {
        sqlite3_exec(self->db, "ROLLBACK TO audit_append", NULL, NULL, NULL);
        sqlite3_exec(self->db, "RELEASE audit_append", NULL, NULL, NULL);
        goto out;
    }
    if (sqlite3_exec(self->db, "RELEASE audit_append", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(self->db, err, "committing an append");
        sqlite3_exec(self->db, "ROLLBACK TO audit_append", NULL, NULL, NULL);
        sqlite3_exec(self->db, "RELEASE audit_append", NULL, NULL, NULL);
        if (outer && self->anchored)
            write_anchor(self, e.seq - 1, e.prev_hash, NULL); /* back to the committed head */
        goto out;
    }
    if (seq_out)
        *seq_out = e.seq;
out:
    pthread_mutex_unlock(&self->mu);
    ctl_metrics_audit_append(rc == 0);
    if (rc < 0) /* every failed append is seen, also by callers that go on (a lock by timer) */
        cmk_warn("audit.append_failed", "op=%s target=%s error=\"%s\"", e.operation, e.target,
                 err->msg);
    return rc;
}

/* audit_must - append, or refuse the operation with an error naming why */
int audit_must(audit_log *self, const char *principal, const char *operation, const char *target,
               int result_code, const char *detail, cmk_err *err)
{
    cmk_err aerr = CMK_ERR_INIT;

    if (audit_append(self, principal, operation, target, result_code, detail, NULL, &aerr) == 0)
        return 0;
    cmk_warn("audit.refused", "op=%s target=%s error=\"%s\"", operation ? operation : "-", target ? target : "-",
             aerr.msg);
    return cmk_err_set(err, CMK_EIO,
                       "refused: %s on %s could not be audited (%s); free space for the run dir and retry",
                       operation ? operation : "-", target && *target ? target : "-", aerr.msg);
}

/* row_entry - fill an entry from a SELECT of the nine columns in table order */
static void row_entry(sqlite3_stmt *st, audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = sqlite3_column_int64(st, 0);
    e->time_ms = sqlite3_column_int64(st, 1);
    e->principal = (const char *)sqlite3_column_text(st, 2);
    e->operation = (const char *)sqlite3_column_text(st, 3);
    e->target = (const char *)sqlite3_column_text(st, 4);
    e->result = (const char *)sqlite3_column_text(st, 5);
    e->detail = (const char *)sqlite3_column_text(st, 6);
    if (sqlite3_column_bytes(st, 7) == AUDIT_HASH_LEN)
        memcpy(e->prev_hash, sqlite3_column_blob(st, 7), AUDIT_HASH_LEN);
    if (sqlite3_column_bytes(st, 8) == AUDIT_HASH_LEN)
        memcpy(e->hash, sqlite3_column_blob(st, 8), AUDIT_HASH_LEN);
    if (!e->principal)
        e->principal = "";
    if (!e->operation)
        e->operation = "";
    if (!e->target)
        e->target = "";
    if (!e->result)
        e->result = "";
    if (!e->detail)
        e->detail = "";
}

/* audit_list - call cb for each entry passing the filter */
int audit_list(audit_log *self, const audit_filter *filter, audit_cb cb, void *arg, cmk_err *err)
{
    static const char *const sql_asc =
        "SELECT seq, time_ms, principal, operation, target, result, detail, prev_hash, hash "
        "FROM audit_log WHERE seq > ?1 AND (?2 = 0 OR time_ms >= ?2) AND (?3 = 0 OR time_ms <= ?3)"
        " AND (?4 IS NULL OR principal = ?4)"
        " AND (?5 IS NULL OR (?6 = 0 AND operation = ?5) OR"
        "      (?6 = 1 AND substr(operation, 1, length(?5)) = ?5))"
        " AND (?7 IS NULL OR substr(target, 1, length(?7)) = ?7)"
        " AND (?8 IS NULL OR result = ?8 OR (?8 = 'error' AND result <> 'ok'))"
        " ORDER BY seq ASC LIMIT ?9";
    static const char *const sql_desc =
        "SELECT seq, time_ms, principal, operation, target, result, detail, prev_hash, hash "
        "FROM audit_log WHERE seq > ?1 AND (?2 = 0 OR time_ms >= ?2) AND (?3 = 0 OR time_ms <= ?3)"
        " AND (?4 IS NULL OR principal = ?4)"
        " AND (?5 IS NULL OR (?6 = 0 AND operation = ?5) OR"
        "      (?6 = 1 AND substr(operation, 1, length(?5)) = ?5))"
        " AND (?7 IS NULL OR substr(target, 1, length(?7)) = ?7)"
        " AND (?8 IS NULL OR result = ?8 OR (?8 = 'error' AND result <> 'ok'))"
        " ORDER BY seq DESC LIMIT ?9";
    audit_filter none;
    sqlite3_stmt *st = NULL;
    int rc;

    if (!self || !cb)
        return cmk_err_set(err, CMK_EINVAL, "audit list: a log and a callback are required");
    if (!filter) {
        memset(&none, 0, sizeof none);
        filter = &none;
    }
    pthread_mutex_lock(&self->mu);
    if (sqlite3_prepare_v2(self->db, filter->newest_first ? sql_desc : sql_asc, -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_fail(self->db, err, "listing entries");
        goto out;
    }
    sqlite3_bind_int64(st, 1, filter->after_seq);
    sqlite3_bind_int64(st, 2, filter->from_ms);
    sqlite3_bind_int64(st, 3, filter->to_ms);
    if (filter->principal)
        sqlite3_bind_text(st, 4, filter->principal, -1, SQLITE_STATIC);
    if (filter->operation) {
        size_t n = strlen(filter->operation);
        int prefix = n > 0 && filter->operation[n - 1] == '*';
        sqlite3_bind_text(st, 5, filter->operation, (int)(prefix ? n - 1 : n), SQLITE_STATIC);
        sqlite3_bind_int(st, 6, prefix);
    } else {
        sqlite3_bind_int(st, 6, 0);
    }
    if (filter->target)
        sqlite3_bind_text(st, 7, filter->target, -1, SQLITE_STATIC);
    if (filter->result)
        sqlite3_bind_text(st, 8, filter->result, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, filter->limit ? (int64_t)filter->limit : -1);
    for (;;) {
        audit_entry e;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        row_entry(st, &e);
        if (cb(&e, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(self->db, err, "listing entries");
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&self->mu);
    return rc;
}

/* audit_count - number of entries */
int audit_count(audit_log *self, int64_t *count, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&self->mu);
    *count = 0;
    if (sqlite3_prepare_v2(self->db, "SELECT count(*) FROM audit_log", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_fail(self->db, err, "counting entries");
        goto out;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = db_fail(self->db, err, "counting entries");
    }
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&self->mu);
    return rc;
}

/* verify_fail - record the first bad seq and the reason */
static int verify_fail(int64_t *first_bad_seq, int64_t seq, cmk_err *err, const char *what)
{
    if (first_bad_seq)
        *first_bad_seq = seq;
    return cmk_err_set(err, CMK_ECRYPTO,
                       "audit log integrity check failed at entry %" PRId64 ": %s; the log has "
                       "been tampered with since it was written (keep this controller.db as "
                       "evidence and investigate)",
                       seq, what);
}

/* audit_verify - walk the chain and the head */
int audit_verify(audit_log *self, int64_t *first_bad_seq, cmk_err *err)
{
    sqlite3_stmt *st = NULL;
    uint8_t prev[AUDIT_HASH_LEN] = {0}, head_hash[AUDIT_HASH_LEN], calc[AUDIT_HASH_LEN];
    uint8_t anchor_hash[AUDIT_HASH_LEN], at_anchor[AUDIT_HASH_LEN];
    int64_t last = 0, head_seq = 0, anchor_seq = -1;
    char why[256];
    int rc;

    if (first_bad_seq)
        *first_bad_seq = 0;
    pthread_mutex_lock(&self->mu);
    rc = read_head(self, &head_seq, head_hash, err);
    if (rc < 0)
        goto out;
    if (self->anchored) {
        rc = read_anchor(self, &anchor_seq, anchor_hash, err);
        if (rc == CMK_ENOENT || (rc == 0 && self->head_missing)) {
            rc = verify_fail(first_bad_seq, 1, err,
                             "the head anchored outside controller.db (keys/audit.head) is missing "
                             "although its key exists: it was deleted");
            goto out;
        }
        if (rc < 0) {
            if (first_bad_seq)
                *first_bad_seq = 1;
            goto out;
        }
        memset(at_anchor, 0, sizeof at_anchor); /* the hash of entry 0 (none) is all zeros */
    }
    if (sqlite3_prepare_v2(self->db,
                           "SELECT seq, time_ms, principal, operation, target, result, detail, "
                           "prev_hash, hash FROM audit_log ORDER BY seq ASC",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(self->db, err, "verifying");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_entry e;
        row_entry(st, &e);
        if (e.seq != last + 1) {
            snprintf(why, sizeof why,
                     "entry %" PRId64 " is missing (the log jumps from entry %" PRId64
                     " to %" PRId64 "): entries were removed",
                     last + 1, last, e.seq);
            rc = verify_fail(first_bad_seq, last + 1, err, why);
            goto out;
        }
        if (entry_hash(&e, calc) < 0) {
            rc = cmk_err_set(err, CMK_ECRYPTO, "audit log: SHA-256 failed");
            goto out;
        }
        if (memcmp(calc, e.hash, AUDIT_HASH_LEN) != 0) {
            rc = verify_fail(first_bad_seq, e.seq, err,
                             "its content was changed after it was written (its hash does not "
                             "match what it says)");
            goto out;
        }
        if (memcmp(prev, e.prev_hash, AUDIT_HASH_LEN) != 0) {
            snprintf(why, sizeof why,
                     "it does not follow entry %" PRId64 " (the chain link is "
                     "broken): entries were removed, replaced or reordered",
                     last);
            rc = verify_fail(first_bad_seq, e.seq, err, why);
            goto out;
        }
        memcpy(prev, e.hash, AUDIT_HASH_LEN);
        last = e.seq;
        if (e.seq == anchor_seq)
            memcpy(at_anchor, e.hash, AUDIT_HASH_LEN);
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(self->db, err, "verifying");
        goto out;
    }
    if (anchor_seq > last) {
        snprintf(why, sizeof why,
                 "the log ends at entry %" PRId64 " but the head anchored outside controller.db "
                 "(keys/audit.head) records entry %" PRId64
                 ": the newest entries were removed (and the head in the database rewritten)",
                 last, anchor_seq);
        rc = verify_fail(first_bad_seq, last + 1, err, why);
        goto out;
    }
    if (anchor_seq > 0 && memcmp(at_anchor, anchor_hash, AUDIT_HASH_LEN) != 0) {
        snprintf(why, sizeof why,
                 "it is not the entry anchored outside controller.db (keys/audit.head): the log "
                 "was rewritten from there on");
        rc = verify_fail(first_bad_seq, anchor_seq, err, why);
        goto out;
    }
    if (head_seq > last) {
        snprintf(why, sizeof why,
                 "the log ends at entry %" PRId64 " but its head records entry %" PRId64
                 ": the newest entries were removed",
                 last, head_seq);
        rc = verify_fail(first_bad_seq, last + 1, err, why);
        goto out;
    }
    if (head_seq < last) {
        snprintf(why, sizeof why,
                 "the log goes on to entry %" PRId64 " but its head records "
                 "entry %" PRId64 ": entries were added behind the log's back",
                 last, head_seq);
        rc = verify_fail(first_bad_seq, head_seq + 1, err, why);
        goto out;
    }
    if (last > 0 && memcmp(head_hash, prev, AUDIT_HASH_LEN) != 0) {
        rc = verify_fail(first_bad_seq, last, err,
                         "the newest entry was replaced (it does not match the log head)");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&self->mu);
    return rc;
}


/* audit_is_refusal - the wording every fail-closed refusal shares ("... could not be audited") */
int audit_is_refusal(const cmk_err *err)
{
    return err && err->code == CMK_EIO && strstr(err->msg, "could not be audited") != NULL;
}
