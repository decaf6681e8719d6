/*
 * sealbench.c - seal cost, `openssl speed` reference, and the mmk / cmk key-encryption keys
 * of cmk-bench write (see sealbench.h).
 */
#include "sealbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/clock.h"
#include "common/util.h"

struct bench_kek {
    bench_kek_kind kind;          /* mmk or cmk */
    uint8_t aes[CMK_DEK_KEY_LEN]; /* mmk: the AES-256 key-wrapping key */
    EVP_PKEY *rsa;                /* cmk: the RSA key pair */
    char alg[64];                 /* for reports */
};

/* bench_kek_new - a fresh KEK */
bench_kek *bench_kek_new(bench_kek_kind kind, int rsa_bits, cmk_err *err)
{
    bench_kek *k = calloc(1, sizeof *k);

    if (!k) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    k->kind = kind;
    if (kind == BENCH_KEK_MMK) {
        if (RAND_bytes(k->aes, sizeof k->aes) != 1)
            goto fail;
        snprintf(k->alg, sizeof k->alg, "AES-256 key wrap with padding (RFC 5649)");
        return k;
    }
    if (rsa_bits != 2048 && rsa_bits != 3072 && rsa_bits != 4096) {
        cmk_err_set(err, CMK_EINVAL, "--rsa-bits %d: use 2048, 3072 or 4096", rsa_bits);
        free(k);
        return NULL;
    }
    if (!(k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits)))
        goto fail;
    snprintf(k->alg, sizeof k->alg, "RSA-OAEP-256, %d-bit key", rsa_bits);
    return k;
fail:
    cmk_err_set(err, CMK_ECRYPTO, "cannot make a %s key-encryption key (OpenSSL failed)",
                kind == BENCH_KEK_MMK ? "Microsoft-managed" : "customer-managed");
    bench_kek_destroy(&k);
    return NULL;
}

/* bench_kek_destroy - wipe and free */
void bench_kek_destroy(bench_kek **self_p)
{
    if (!self_p || !*self_p)
        return;
    cmk_wipe((*self_p)->aes, sizeof (*self_p)->aes);
    EVP_PKEY_free((*self_p)->rsa);
    free(*self_p);
    *self_p = NULL;
}

/* bench_kek_alg - description */
const char *bench_kek_alg(const bench_kek *self)
{
    return self->alg;
}

/* aes_wrap - RFC 5649 wrap (enc 1) or unwrap (enc 0) */
static int aes_wrap(bench_kek *k, int enc, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0, ok;

    if (!ctx)
        return 0;
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, k->aes, NULL, enc) == 1 &&
         EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1 &&
         EVP_CipherFinal_ex(ctx, out + n, &f) == 1;
    EVP_CIPHER_CTX_free(ctx);
    *out_len = (size_t)(n + f);
    return ok;
}

/* rsa_oaep - RSA-OAEP (SHA-256, MGF1-SHA-256) encrypt (enc 1) or decrypt (enc 0) */
static int rsa_oaep(bench_kek *k, int enc, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->rsa, NULL);
    int ok;

    if (!ctx)
        return 0;
    ok = (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
         (enc ? EVP_PKEY_encrypt(ctx, out, out_len, in, in_len)
              : EVP_PKEY_decrypt(ctx, out, out_len, in, in_len)) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* bench_kek_wrap - wrap key bytes */
int bench_kek_wrap(bench_kek *self, const uint8_t key[CMK_DEK_KEY_LEN], uint8_t **out,
                   size_t *out_len, cmk_err *err)
{
    size_t cap = self->kind == BENCH_KEK_MMK ? CMK_DEK_KEY_LEN + 16 : 512;
    int ok;

    if (!(*out = malloc(cap)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    *out_len = cap;
    ok = self->kind == BENCH_KEK_MMK ? aes_wrap(self, 1, key, CMK_DEK_KEY_LEN, *out, out_len)
                                     : rsa_oaep(self, 1, key, CMK_DEK_KEY_LEN, *out, out_len);
    if (!ok) {
        free(*out);
        *out = NULL;
        return cmk_err_set(err, CMK_ECRYPTO, "wrapping a DEK with %s failed", self->alg);
    }
    return 0;
}

/* bench_kek_unwrap - unwrap into key */
int bench_kek_unwrap(bench_kek *self, const uint8_t *wrapped, size_t len,
                     uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err)
{
    uint8_t buf[512];
    size_t n = sizeof buf;
    int ok = self->kind == BENCH_KEK_MMK ? aes_wrap(self, 0, wrapped, len, buf, &n)
                                         : rsa_oaep(self, 0, wrapped, len, buf, &n);

    if (ok && n == CMK_DEK_KEY_LEN)
        memcpy(key, buf, CMK_DEK_KEY_LEN);
    cmk_wipe(buf, sizeof buf);
    if (!ok || n != CMK_DEK_KEY_LEN) {
        cmk_wipe(key, CMK_DEK_KEY_LEN);
        return cmk_err_set(err, CMK_ECRYPTO, "unwrapping a DEK with %s failed", self->alg);
    }
    return 0;
}

/* bench_dek_via - a DEK that went through wrap and unwrap */
cmk_dek *bench_dek_via(bench_kek *kek, cmk_err *err)
{
    cmk_dek *fresh = cmk_dek_generate(err), *out = NULL;
    uint8_t *wrapped = NULL, key[CMK_DEK_KEY_LEN];
    size_t wl = 0;

    if (!fresh)
        return NULL;
    if (bench_kek_wrap(kek, cmk_dek_key(fresh), &wrapped, &wl, err) == 0 &&
        bench_kek_unwrap(kek, wrapped, wl, key, err) == 0) {
        out = cmk_dek_from_bytes(cmk_dek_id(fresh), key, err);
        cmk_wipe(key, sizeof key);
    }
    free(wrapped);
    cmk_dek_destroy(&fresh);
    return out;
}

/* bench_unwrap_cost - microseconds per unwrap */
int bench_unwrap_cost(bench_kek *kek, int min_ms, double *us_per_op, cmk_err *err)
{
    uint8_t raw[CMK_DEK_KEY_LEN], key[CMK_DEK_KEY_LEN], *wrapped = NULL;
    size_t wl = 0;
    int64_t t0, t1, ops = 0;
    int rc;

    if (RAND_bytes(raw, sizeof raw) != 1)
        return cmk_err_set(err, CMK_ECRYPTO, "no random bytes from OpenSSL");
    if ((rc = bench_kek_wrap(kek, raw, &wrapped, &wl, err)) < 0)
        return rc;
    t0 = cmk_mono_ns();
    do {
        if ((rc = bench_kek_unwrap(kek, wrapped, wl, key, err)) < 0)
            break;
        ops++;
        t1 = cmk_mono_ns();
    } while (t1 - t0 < (int64_t)min_ms * 1000000 || ops < 3);
    if (rc == 0)
        *us_per_op = (double)(t1 - t0) / 1000.0 / (double)ops;
    cmk_wipe(key, sizeof key);
    cmk_wipe(raw, sizeof raw);
    free(wrapped);
    return rc;
}

/* seal_window - ns per cmk_seal over one window of at least min_ms */
static int seal_window(cmk_sealer *s, cmk_dek *dek, const uint8_t *plain, uint8_t *out,
                       size_t size, int min_ms, double *ns, cmk_err *err)
{
    cmk_place place = {"env-bench", "bench", "1234567", "payload"};
    int64_t t0 = cmk_mono_ns(), t1, ops = 0;
    size_t ol;
    int rc = 0;

    do {
        for (int i = 0; i < 64 && rc == 0; i++, ops++) /* read the clock every 64 seals */
            rc = cmk_seal(s, dek, &place, plain, size, out, size + CMK_BLOB_OVERHEAD, &ol, err);
        t1 = cmk_mono_ns();
    } while (rc == 0 && t1 - t0 < (int64_t)min_ms * 1000000);
    *ns = (double)(t1 - t0) / (double)ops;
    return rc;
}

/* bench_seal_cost - nanoseconds per cmk_seal: best and median of BENCH_SEAL_WINDOWS windows */
int bench_seal_cost(size_t size, int min_ms, double *best_ns, double *median_ns, cmk_err *err)
{
    cmk_dek *dek = cmk_dek_generate(err);
    cmk_sealer *s = dek ? cmk_sealer_new(err) : NULL;
    uint8_t *plain = malloc(size), *out = malloc(size + CMK_BLOB_OVERHEAD);
    double w[BENCH_SEAL_WINDOWS];
    int rc = 0, win = min_ms / BENCH_SEAL_WINDOWS;

    if (!dek || !s || !plain || !out) {
        rc = dek && s ? cmk_err_set(err, CMK_ENOMEM, "out of memory") : (err ? err->code : -1);
        goto done;
    }
    RAND_bytes(plain, (int)size);
    for (int i = 0; i < BENCH_SEAL_WINDOWS && rc == 0; i++)
        rc = seal_window(s, dek, plain, out, size, win > 0 ? win : 1, &w[i], err);
    if (rc == 0) {
        for (int i = 1; i < BENCH_SEAL_WINDOWS; i++) /* insertion sort of a handful */
            for (int j = i; j > 0 && w[j] < w[j - 1]; j--) {
                double t = w[j];
                w[j] = w[j - 1];
                w[j - 1] = t;
            }
        *best_ns = w[0];
        *median_ns = w[BENCH_SEAL_WINDOWS / 2];
    }
done:
    free(plain);
    free(out);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
    return rc;
}

/* bench_openssl_speed_parse - +H: sizes and +F: throughputs */
int bench_openssl_speed_parse(const char *text, bench_ossl_point *out, size_t cap, size_t *n,
                              cmk_err *err)
{
    size_t sizes[32], nsizes = 0;
    const char *p = text;

    *n = 0;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];

        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        if (strncmp(line, "+H:", 3) == 0) {
            char *save = NULL;
            nsizes = 0;
            for (char *t = strtok_r(line + 3, ":", &save); t && nsizes < 32;
                 t = strtok_r(NULL, ":", &save))
                sizes[nsizes++] = (size_t)strtoull(t, NULL, 10);
        } else if (strncmp(line, "+F:", 3) == 0 && nsizes) {
            char *save = NULL, *t;
            size_t i = 0;
            strtok_r(line + 3, ":", &save);        /* test index */
            if (!strtok_r(NULL, ":", &save))        /* algorithm name */
                continue;
            while ((t = strtok_r(NULL, ":", &save)) && i < nsizes && *n < cap) {
                out[*n].size = sizes[i++];
                out[*n].bytes_s = strtod(t, NULL);
                (*n)++;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    if (!*n)
        return cmk_err_set(err, CMK_EINVAL,
                           "no +H:/+F: lines in the output of `openssl speed -mr`: is this "
                           "OpenSSL's own openssl binary?");
    return 0;
}

/* bench_which - an executable on PATH */
int bench_which(const char *prog, char *buf, size_t cap)
{
    const char *path = getenv("PATH");
    char dir[4096], full[4200];

    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *c = strchr(path, ':');
        size_t len = c ? (size_t)(c - path) : strlen(path);
        snprintf(dir, sizeof dir, "%.*s", (int)(len ? len : 1), len ? path : ".");
        snprintf(full, sizeof full, "%s/%s", dir, prog);
        if (access(full, X_OK) == 0) {
            if (buf)
                cmk_strlcpy(buf, full, cap);
            return 1;
        }
        path = c ? c + 1 : path + len;
    }
    return 0;
}

/* bench_openssl_speed_run - one `openssl speed` per size */
int bench_openssl_speed_run(const size_t *sizes, size_t n, int seconds, bench_ossl_point *out,
                            size_t *nout, char *cmd, size_t cmd_cap, cmk_err *err)
{
    char exe[4096];
    int rc = 0;

    *nout = 0;
    if (!bench_which("openssl", exe, sizeof exe))
        return cmk_err_set(err, CMK_ENOENT,
                           "no openssl binary on PATH (apt-get install openssl): the "
                           "`openssl speed` reference was skipped");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char line[4400], *text = NULL;
        size_t len = 0, cap = 0, got = 0;
        FILE *f;

        snprintf(cmd, cmd_cap, "openssl speed -evp aes-256-gcm -mr -seconds %d -bytes %zu",
                 seconds, sizes[i]);
        snprintf(line, sizeof line, "'%s' speed -evp aes-256-gcm -mr -seconds %d -bytes %zu "
                 "2>/dev/null", exe, seconds, sizes[i]);
        if (!(f = popen(line, "r")))
            return cmk_err_set(err, CMK_EIO, "cannot run %s", cmd);
        while (fgets(line, sizeof line, f)) {
            size_t l = strlen(line);
            if (len + l + 1 > cap) {
                char *nt = realloc(text, cap = (len + l + 1) * 2);
                if (!nt)
                    break;
                text = nt;
            }
            memcpy(text + len, line, l + 1);
            len += l;
        }
        if (pclose(f) != 0 || !text)
            rc = cmk_err_set(err, CMK_EIO, "`%s` failed", cmd);
        else if ((rc = bench_openssl_speed_parse(text, out + *nout, 1, &got, err)) == 0)
            *nout += got;
        free(text);
    }
    return rc;
}
