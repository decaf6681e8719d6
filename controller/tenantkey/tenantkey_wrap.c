/*
 * tenantkey_wrap.c - the legacy tenant key as a key-encryption key: an environment encrypted
 * with the tenant's key (BYOK) has its data key wrapped by that RSA-2048 key (RSA-OAEP with
 * SHA-256), not by the Microsoft-managed key. Wrapping needs only the public key; unwrapping
 * needs the private key, which the lock deletes ("all encryption keys with either an Active or
 * Available state are deleted") and only an upload of the same key brings back - so a locked
 * tenant's environments cannot be read by anyone until it is unlocked with that key. The key is
 * named by tenant and fingerprint (the identity the unlock rules compare), not by row: an
 * uploaded copy of the same key unwraps what the original wrapped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tenantkey_int.h"
#include "util.h"

/* key_with_fp - the newest key of tenant with fingerprint fp (with its private key if want_private) */
static int key_with_fp(tenantkey_svc *svc, const char *tenant, const char *fp, int want_private, int64_t *id,
                       uint8_t **material, size_t *mlen, uint8_t *pub, size_t *pub_len, char *name, size_t name_cap,
                       cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = tks_prep(svc,
                      want_private ? "SELECT id, name, pub, material FROM tk_keys WHERE tenant = ? AND fp = ? AND "
                                     "material IS NOT NULL ORDER BY id DESC LIMIT 1"
                                   : "SELECT id, name, pub, material FROM tk_keys WHERE tenant = ? AND fp = ? "
                                     "ORDER BY id DESC LIMIT 1",
                      &st, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return tks_fail(svc, err, "tenant key");
        return cmk_err_set(err, CMK_EUNAVAIL,
                           want_private ? "the tenant key that encrypts this environment (fingerprint %.16s...) is not "
                                          "available: it was locked or removed; unlock it by uploading the same key"
                                        : "tenant %s has no key with fingerprint %.16s...",
                           want_private ? fp : tenant, want_private ? "" : fp);
    }
    *id = sqlite3_column_int64(st, 0);
    cmk_strlcpy(name, sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "", name_cap);
    *pub_len = (size_t)sqlite3_column_bytes(st, 2);
    if (*pub_len > TK_PUB_DER_MAX)
        *pub_len = 0;
    memcpy(pub, sqlite3_column_blob(st, 2), *pub_len);
    *material = NULL;
    *mlen = 0;
    if (want_private && sqlite3_column_bytes(st, 3) > 0) {
        *mlen = (size_t)sqlite3_column_bytes(st, 3);
        *material = malloc(*mlen);
        if (*material)
            memcpy(*material, sqlite3_column_blob(st, 3), *mlen);
    }
    sqlite3_finalize(st);
    if (want_private && !*material)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    return 0;
}

/* rsa_oaep - encrypt (enc) or decrypt with RSA-OAEP (SHA-256) under pk into *out (malloc'd) */
static int rsa_oaep(EVP_PKEY *pk, int enc, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                    cmk_err *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    size_t len = 0;
    int ok = ctx && (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
             (enc ? EVP_PKEY_encrypt(ctx, NULL, &len, in, in_len) : EVP_PKEY_decrypt(ctx, NULL, &len, in, in_len)) == 1;
    *out = NULL;
    if (ok && !(*out = malloc(len)))
        ok = 0;
    if (ok)
        ok = (enc ? EVP_PKEY_encrypt(ctx, *out, &len, in, in_len) : EVP_PKEY_decrypt(ctx, *out, &len, in, in_len)) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        if (*out) {
            OPENSSL_cleanse(*out, len);
            free(*out);
            *out = NULL;
        }
        return cmk_err_set(err, CMK_ECRYPTO, "%s the data key with the tenant key failed%s", enc ? "wrapping" : "unwrapping",
                           enc ? "" : ": it was wrapped by another key or is damaged");
    }
    *out_len = len;
    return 0;
}

/* tenantkey_dek_wrap - wrap a data key under tenant's key with fingerprint fp (public part) */
int tenantkey_dek_wrap(void *arg, const char *tenant, const char *fp, const uint8_t *in, size_t in_len, uint8_t **out,
                       size_t *out_len, cmk_err *err)
{
    tenantkey_svc *svc = arg;
    uint8_t pub[TK_PUB_DER_MAX], *material = NULL;
    const uint8_t *p = pub;
    size_t pub_len = 0, mlen = 0;
    char name[TENANTKEY_NAME_MAX];
    int64_t id;
    EVP_PKEY *pk = NULL;
    int rc;

    pthread_mutex_lock(&svc->mu);
    rc = key_with_fp(svc, tenant, fp, 0, &id, &material, &mlen, pub, &pub_len, name, sizeof name, err);
    pthread_mutex_unlock(&svc->mu);
    if (rc < 0)
        return rc;
    if (!(pk = d2i_PUBKEY(NULL, &p, (long)pub_len)))
        return cmk_err_set(err, CMK_ECRYPTO, "the public part of tenant key '%s' is unreadable", name);
    rc = rsa_oaep(pk, 1, in, in_len, out, out_len, err);
    EVP_PKEY_free(pk);
    return rc;
}

/* tenantkey_dek_unwrap - unwrap a data key with tenant's key of fingerprint fp (private part) */
int tenantkey_dek_unwrap(void *arg, const char *tenant, const char *fp, const uint8_t *in, size_t in_len,
                         uint8_t **out, size_t *out_len, cmk_err *err)
{
    tenantkey_svc *svc = arg;
    uint8_t pub[TK_PUB_DER_MAX], *material = NULL, *der = NULL;
    size_t pub_len = 0, mlen = 0, dlen = 0;
    char name[TENANTKEY_NAME_MAX], row[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + TENANTKEY_FP_MAX + 4];
    int64_t id;
    EVP_PKEY *pk = NULL;
    cmk_place pl;
    int rc;

    pthread_mutex_lock(&svc->mu);
    rc = key_with_fp(svc, tenant, fp, 1, &id, &material, &mlen, pub, &pub_len, name, sizeof name, err);
    if (rc == 0) {
        /* the place the material was sealed at (tenantkey_store.c, material_place) */
        snprintf(row, sizeof row, "%s/%s/%s", tenant, name, fp);
        pl.env = tenant;
        pl.table = "tk_keys";
        pl.row = row;
        pl.column = "material";
        der = malloc(mlen + 1);
        rc = der ? cmk_open(svc->sealer, svc->master, &pl, material, mlen, der, mlen + 1, &dlen, err)
                 : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&svc->mu);
    free(material);
    if (rc == 0)
        rc = tkc_from_private_der(der, dlen, &pk, err);
    if (der) {
        OPENSSL_cleanse(der, mlen + 1);
        free(der);
    }
    if (rc < 0)
        return rc;
    rc = rsa_oaep(pk, 0, in, in_len, out, out_len, err);
    EVP_PKEY_free(pk);
    return rc;
}
