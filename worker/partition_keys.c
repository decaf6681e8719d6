/*
 * partition_keys.c - a partition's keys and sealing: the data, MMK and read DEKs (borrowed),
 * locking (partition_forget_keys), sealing into the reusable scratch buffer, opening a column
 * under the DEK its blob names, and small helpers for plaintext buffers (wiped before free).
 */
#include "worker/partition_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "common/util.h"
#include "worker/wmetrics.h"

#define PT_HEX (2 * CMK_DEK_ID_LEN + 1)
#define PT_VALUE_MAX (512 * 1024 * 1024) /* largest value written (SQLite's own limit is 1e9) */

/* partition_set_keys - the DEKs to seal with (borrowed) */
void partition_set_keys(partition *self, cmk_dek *data_dek, cmk_dek *mmk_dek)
{
    if (!self)
        return;
    self->data_dek = data_dek;
    self->mmk_dek = mmk_dek;
    self->locked = 0;
    self->flow_gen++;
}

/* partition_add_read_dek - an older DEK to open blobs sealed before a rotation (borrowed) */
int partition_add_read_dek(partition *self, cmk_dek *dek, cmk_err *err)
{
    if (!self || !dek)
        return cmk_err_set(err, CMK_EINVAL, "partition_add_read_dek needs a partition and a DEK");
    for (size_t i = 0; i < self->n_read; i++)
        if (memcmp(cmk_dek_id(self->read_deks[i]), cmk_dek_id(dek), CMK_DEK_ID_LEN) == 0) {
            self->read_deks[i] = dek; /* the same key: keep the newest handle */
            return 0;
        }
    if (self->n_read == self->cap_read) {
        size_t ncap = self->cap_read ? self->cap_read * 2 : 4;
        cmk_dek **n = realloc(self->read_deks, ncap * sizeof *n);
        if (!n)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory adding a read DEK");
        self->read_deks = n;
        self->cap_read = ncap;
    }
    self->read_deks[self->n_read++] = dek;
    return 0;
}

/* partition_forget_keys - drop every DEK and wipe cached cipher state (lock, revoke) */
void partition_forget_keys(partition *self)
{
    if (!self)
        return;
    self->data_dek = NULL;
    self->mmk_dek = NULL;
    if (self->read_deks)
        memset(self->read_deks, 0, self->cap_read * sizeof *self->read_deks);
    self->n_read = 0;
    self->locked = 1;
    self->flow_gen++;
    pt_wipe_index_keys(self);
    cmk_sealer_forget(self->sealer);
}

/* pt_wipe_index_keys - forget every derived index key */
void pt_wipe_index_keys(partition *p)
{
    for (size_t i = 0; i < p->n_idx; i++)
        EVP_MAC_CTX_free(p->idx_keys[i].ctx); /* frees and cleanses the keyed state */
    if (p->idx_keys)
        cmk_wipe(p->idx_keys, p->n_idx * sizeof *p->idx_keys);
    free(p->idx_keys);
    p->idx_keys = NULL;
    p->n_idx = 0;
}

/* derive_index_key - HKDF-SHA256(DEK key, info "cmksim partition index v1" | env) */
static int derive_index_key(partition *p, const cmk_dek *dek, uint8_t out[32], cmk_err *err)
{
    static const char label[] = "cmksim partition index v1|";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    size_t el = strlen(p->env);
    unsigned char info[sizeof label + 256];
    OSSL_PARAM params[4];
    int ok;

    memcpy(info, label, sizeof label - 1);
    memcpy(info + sizeof label - 1, p->env, el); /* env <= 255 bytes (partition_open) */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)cmk_dek_key(dek),
                                                  CMK_DEK_KEY_LEN);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
                                                  sizeof label - 1 + el);
    params[3] = OSSL_PARAM_construct_end();
    ok = kctx && EVP_KDF_derive(kctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok)
        return cmk_err_set(err, CMK_ECRYPTO, "deriving the index key of environment %s failed",
                           p->env);
    return 0;
}

/* index_key - the cached index key of dek (with its keyed HMAC context), derived on first use */
static pt_idx_key *index_key(partition *p, const cmk_dek *dek, cmk_err *err)
{
    OSSL_PARAM params[2];
    pt_idx_key *n, *k;

    for (size_t i = 0; i < p->n_idx; i++)
        if (memcmp(p->idx_keys[i].dek_id, cmk_dek_id(dek), CMK_DEK_ID_LEN) == 0)
            return &p->idx_keys[i];
    if (!p->hmac && !(p->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
        cmk_err_set(err, CMK_ECRYPTO, "OpenSSL has no HMAC");
        return NULL;
    }
    n = malloc((p->n_idx + 1) * sizeof *n);
    if (!n) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory deriving an index key");
        return NULL;
    }
    if (p->n_idx)
        memcpy(n, p->idx_keys, p->n_idx * sizeof *n);
    k = &n[p->n_idx];
    memcpy(k->dek_id, cmk_dek_id(dek), CMK_DEK_ID_LEN);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    k->ctx = NULL;
    if (derive_index_key(p, dek, k->key, err) < 0 || !(k->ctx = EVP_MAC_CTX_new(p->hmac)) ||
        EVP_MAC_init(k->ctx, k->key, sizeof k->key, params) != 1) {
        if (k->ctx)
            cmk_err_set(err, CMK_ECRYPTO, "keying the index hash of environment %s failed", p->env);
        else if (err && !err->code)
            cmk_err_set(err, CMK_ENOMEM, "out of memory keying an index hash");
        EVP_MAC_CTX_free(k->ctx);
        cmk_wipe(n, (p->n_idx + 1) * sizeof *n);
        free(n);
        return NULL;
    }
    if (p->idx_keys)
        cmk_wipe(p->idx_keys, p->n_idx * sizeof *p->idx_keys);
    free(p->idx_keys);
    p->idx_keys = n;
    return &p->idx_keys[p->n_idx++];
}

/* pt_index_hash - the keyed hash stored in place of an indexed customer string */
int pt_index_hash(partition *p, const cmk_dek *dek, const char *table, const char *column,
                  const char *value, char *out, size_t cap, cmk_err *err)
{
    static const char b64u[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t mac[32];
    size_t mlen = 0, o;
    pt_idx_key *key;
    uint32_t acc = 0;
    int bits = 0, ok;

    if (cap < 64)
        return cmk_err_set(err, CMK_EINVAL, "pt_index_hash needs 64 bytes of output");
    if (!p->opts.seal) {
        cmk_strlcpy(out, value, cap);
        return 0;
    }
    if (!dek)
        return cmk_err_set(err, CMK_EUNAVAIL, "environment %s has no data key loaded", p->env);
    if (!(key = index_key(p, dek, err)))
        return err ? err->code : CMK_ECRYPTO;
    /* the context keeps its key: re-initialised without one (no key schedule per hash); table
     * and column separate the hashes of different places, a NUL ends each */
    ok = EVP_MAC_init(key->ctx, NULL, 0, NULL) == 1 &&
         EVP_MAC_update(key->ctx, (const uint8_t *)table, strlen(table) + 1) == 1 &&
         EVP_MAC_update(key->ctx, (const uint8_t *)column, strlen(column) + 1) == 1 &&
         EVP_MAC_update(key->ctx, (const uint8_t *)value, strlen(value)) == 1 &&
         EVP_MAC_final(key->ctx, mac, &mlen, sizeof mac) == 1 && mlen == sizeof mac;
    if (!ok)
        return cmk_err_set(err, CMK_ECRYPTO, "hashing %s.%s of environment %s failed", table,
                           column, p->env);
    o = cmk_strlcpy(out, PT_HASH_PREFIX, cap);
    for (size_t i = 0; i < sizeof mac; i++) {
        acc = (acc << 8) | mac[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64u[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = b64u[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    cmk_wipe(mac, sizeof mac);
    return 0;
}

/* pt_locked_err - the CMK_EUNAVAIL of a locked environment */
int pt_locked_err(partition *p, cmk_err *err)
{
    return cmk_err_set(err, CMK_EUNAVAIL,
                       "environment %s is locked: its data key is not available (the key was "
                       "locked or revoked); restore access to the key to unlock it",
                       p->env);
}

/* pt_need_dek - the DEK to seal with, or CMK_EUNAVAIL; NULL when the partition does not seal */
int pt_need_dek(partition *p, int mmk, cmk_dek **out, cmk_err *err)
{
    *out = NULL;
    if (!p->opts.seal)
        return 0;
    if (p->locked)
        return pt_locked_err(p, err);
    *out = mmk ? p->mmk_dek : p->data_dek;
    if (!*out)
        return cmk_err_set(err, CMK_EUNAVAIL,
                           "environment %s has no %s loaded yet: wait until the worker has "
                           "unwrapped it (or restore access to the key)",
                           p->env, mmk ? "Microsoft-managed data key (MMK DEK)" : "data key");
    return 0;
}

/* pt_seal - seal plain at (env, table, row, column) into the scratch buffer */
int pt_seal(partition *p, cmk_dek *dek, const char *table, const char *row, const char *column,
            const void *plain, size_t len, const void **blob, size_t *blob_len, cmk_err *err)
{
    cmk_place place = {p->env, table, row, column};
    size_t need = len + CMK_BLOB_OVERHEAD;
    double t0;
    int rc;

    if (len > PT_VALUE_MAX)
        return cmk_err_set(err, CMK_EINVAL,
                           "a %zu-byte %s.%s is too large for a partition "
                           "(limit %d bytes)",
                           len, table, column, PT_VALUE_MAX);
    if (!p->opts.seal) {
        *blob = len ? plain : (const void *)"";
        *blob_len = len;
        return 0;
    }
    if (need > p->scratch_cap) {
        size_t ncap = p->scratch_cap ? p->scratch_cap : 4096;
        uint8_t *n;
        while (ncap < need)
            ncap *= 2;
        n = realloc(p->scratch, ncap);
        if (!n)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory sealing a %zu-byte %s.%s", len,
                               table, column);
        p->scratch = n;
        p->scratch_cap = ncap;
    }
    t0 = cmk_metrics_now();
    rc = cmk_seal(p->sealer, dek, &place, plain, len, p->scratch, p->scratch_cap, blob_len, err);
    cmk_metric_observe(wmetrics_get()->seal_seconds, cmk_metrics_now() - t0);
    if (rc < 0)
        return rc;
    *blob = p->scratch;
    return 0;
}

/* dek_for_blob - the DEK a blob names, among data, MMK and read DEKs */
static int dek_for_blob(partition *p, const uint8_t *blob, size_t len, const cmk_place *pl,
                        const cmk_dek **out, cmk_err *err)
{
    uint8_t id[CMK_DEK_ID_LEN];
    char hex[PT_HEX], dhex[PT_HEX], mhex[PT_HEX];
    int rc;

    if (p->locked)
        return pt_locked_err(p, err);
    if ((rc = cmk_blob_dek_id(blob, len, id, err)) < 0)
        return cmk_err_prefix(err, "%s/%s/%s/%s: ", pl->env, pl->table, pl->row, pl->column);
    if (p->data_dek && memcmp(cmk_dek_id(p->data_dek), id, sizeof id) == 0)
        *out = p->data_dek;
    else if (p->mmk_dek && memcmp(cmk_dek_id(p->mmk_dek), id, sizeof id) == 0)
        *out = p->mmk_dek;
    else
        for (size_t i = 0; i < p->n_read && !*out; i++)
            if (memcmp(cmk_dek_id(p->read_deks[i]), id, sizeof id) == 0)
                *out = p->read_deks[i];
    if (*out)
        return 0;
    if (!p->data_dek && !p->mmk_dek && p->n_read == 0)
        return cmk_err_set(err, CMK_EUNAVAIL,
                           "environment %s has no data key loaded yet: wait until the worker has "
                           "unwrapped it (or restore access to the key)",
                           p->env);
    for (size_t i = 0; i < CMK_DEK_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    cmk_dek_id_hex(p->data_dek, dhex, sizeof dhex);
    cmk_dek_id_hex(p->mmk_dek, mhex, sizeof mhex);
    return cmk_err_set(err, CMK_ECRYPTO,
                       "cannot open %s/%s/%s/%s: it is sealed under DEK %s, which this partition "
                       "does not hold (data DEK %s, MMK DEK %s, %zu older DEK%s); add the DEK "
                       "it was sealed under (partition_add_read_dek) or restore that key",
                       pl->env, pl->table, pl->row, pl->column, hex, dhex[0] ? dhex : "none",
                       mhex[0] ? mhex : "none", p->n_read, p->n_read == 1 ? "" : "s");
}

/* pt_open_col - column col of st opened at (env, table, row, column) into a malloc'd string */
int pt_open_col(partition *p, sqlite3_stmt *st, int col, const char *table, const char *row,
                const char *column, char **out, size_t *out_len, cmk_err *err)
{
    const uint8_t *blob;
    size_t len, n = 0;
    cmk_place pl = {p->env, table, row, column};
    const cmk_dek *dek = NULL;
    char *buf;
    int rc;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    blob = sqlite3_column_blob(st, col);
    len = (size_t)sqlite3_column_bytes(st, col);
    if (!p->opts.seal) {
        buf = malloc(len + 1);
        if (!buf)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory reading %s.%s", table, column);
        if (len)
            memcpy(buf, blob, len);
        buf[len] = '\0';
        *out = buf;
        if (out_len)
            *out_len = len;
        return 0;
    }
    if ((rc = dek_for_blob(p, blob, len, &pl, &dek, err)) < 0)
        return rc;
    buf = malloc(len - CMK_BLOB_OVERHEAD + 1); /* len >= CMK_BLOB_OVERHEAD: checked above */
    if (!buf)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory opening %s.%s", table, column);
    rc = cmk_open(p->sealer, dek, &pl, blob, len, (uint8_t *)buf, len - CMK_BLOB_OVERHEAD, &n, err);
    if (rc < 0) {
        free(buf); /* cmk_open wiped whatever it wrote */
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return 0;
}

/* pt_open_text - a sealed text column into a fixed field (legacy clear text copied) */
int pt_open_text(partition *p, sqlite3_stmt *st, int col, const char *table, const char *row,
                 const char *column, char *dst, size_t cap, cmk_err *err)
{
    char *plain = NULL;
    size_t n = 0;
    int rc;

    dst[0] = '\0';
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL: return 0;
    case SQLITE_TEXT: /* schema 1, not yet upgraded: the clear value */
        pt_copy(dst, cap, sqlite3_column_text(st, col));
        return 0;
    default: break;
    }
    if ((rc = pt_open_col(p, st, col, table, row, column, &plain, &n, err)) < 0)
        return rc;
    if (n >= cap) {
        pt_free_secret(plain, n);
        return cmk_err_set(err, CMK_EINVAL, "%s/%s/%s/%s holds %zu bytes, more than the %zu it may",
                           p->env, table, row, column, n, cap - 1);
    }
    if (plain) {
        memcpy(dst, plain, n + 1);
        pt_free_secret(plain, n);
    }
    return 0;
}

/* pt_copy - copy a column's text into a fixed field */
void pt_copy(char *dst, size_t cap, const unsigned char *src)
{
    cmk_strlcpy(dst, src ? (const char *)src : "", cap);
}

/* pt_free_secret - wipe and free a plaintext buffer */
void pt_free_secret(char *s, size_t len)
{
    if (!s)
        return;
    cmk_wipe(s, len);
    free(s);
}

/* pt_buf_grow - make room for n more bytes plus a NUL; the old block is wiped */
static int pt_buf_grow(pt_buf *b, size_t n)
{
    size_t ncap;
    char *nd;

    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 1024;
    while (ncap < b->len + n + 1)
        ncap *= 2;
    nd = malloc(ncap);
    if (!nd) {
        b->oom = 1;
        return -1;
    }
    if (b->len)
        memcpy(nd, b->data, b->len);
    pt_free_secret(b->data, b->cap);
    b->data = nd;
    b->cap = ncap;
    return 0;
}

/* pt_buf_add - append n bytes */
void pt_buf_add(pt_buf *b, const char *s, size_t n)
{
    if (pt_buf_grow(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* pt_buf_addf - append formatted text */
void pt_buf_addf(pt_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pt_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* pt_buf_free - wipe and free the buffer */
void pt_buf_free(pt_buf *b)
{
    pt_free_secret(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}
