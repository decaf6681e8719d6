/*
 * byok_file.c - what a customer's side needs of the vault's formats: a key id's parts, AES key
 * wrap with padding (RFC 5649), and a .byok document for a KEK (what a customer's HSM makes).
 * With vault_rsa.c it forms cmkvaultfmt, the small library cmkctl links for `key byok-export`;
 * the vault's import side is vault_byok.c.
 */
#include "vault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/util.h"

#define BYOK_SCHEMA "1.0.0"
#define BYOK_ALG "dir"
#define BYOK_ENC "CKM_RSA_AES_KEY_WRAP"
#define BYOK_AES_LEN 32

/* vbyok_kwp - AES-256 key wrap with padding (RFC 5649) forward (wrap) or back (unwrap) */
int vbyok_kwp(int wrap, const uint8_t key[BYOK_AES_LEN], const uint8_t *in, size_t in_len,
               uint8_t **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    size_t cap = in_len + 16;
    uint8_t *buf = malloc(cap);
    int n = 0, fin = 0, ok;

    *out = NULL;
    *out_len = 0;
    if (!ctx || !buf || in_len > (size_t)INT32_MAX) {
        EVP_CIPHER_CTX_free(ctx);
        free(buf);
        return CMK_ENOMEM;
    }
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, key, NULL, wrap) == 1 &&
         EVP_CipherUpdate(ctx, buf, &n, in, (int)in_len) == 1 && n >= 0 &&
         EVP_CipherFinal_ex(ctx, buf + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        OPENSSL_cleanse(buf, cap);
        free(buf);
        return CMK_ECRYPTO;
    }
    *out = buf;
    *out_len = (size_t)n + (size_t)fin;
    return 0;
}

/* vault_byok_export - the customer's HSM side: a .byok document for a KEK */
int vault_byok_export(const char *kek_kid, const char *kek_public_pem, const uint8_t *target_key,
                      size_t target_len, const char *generator, char **out_json, cmk_err *err)
{
    EVP_PKEY *kek = NULL, *target = NULL;
    uint8_t aes[BYOK_AES_LEN], *der = NULL, *rsa_ct = NULL, *wrapped = NULL, *all = NULL;
    size_t der_len = 0, rsa_len = 0, wrapped_len = 0;
    char *b64 = NULL, vault[VAULT_NAME_MAX], name[VAULT_KEY_NAME_MAX], ver[VAULT_VERSION_MAX];
    cJSON *j = NULL, *h;
    int bits, rc;

    *out_json = NULL;
    if ((rc = vault_kid_parse(kek_kid, vault, name, ver, err)) < 0)
        return cmk_err_prefix(err, "KEK id: ");
    if ((rc = vrsa_from_public_pem(kek_public_pem, &kek, err)) < 0)
        return rc;
    if (!EVP_PKEY_is_a(kek, "RSA") || EVP_PKEY_get_bits(kek) < 2048) {
        rc = cmk_err_set(err, CMK_EINVAL, "the KEK must be an RSA key of at least 2048 bits");
        goto out;
    }
    if ((rc = vrsa_parse_private(target_key, target_len, NULL, &target, err)) < 0 ||
        (rc = vrsa_check_key(target, &bits, err)) < 0 ||
        (rc = vrsa_private_der(target, &der, &der_len, err)) < 0)
        goto out;
    if (RAND_bytes(aes, sizeof aes) != 1) {
        rc = cmk_err_set(err, CMK_ECRYPTO, "the random generator failed");
        goto out;
    }
    if ((rc = vrsa_oaep(kek, 1, EVP_sha1(), aes, sizeof aes, &rsa_ct, &rsa_len, err)) < 0)
        goto out;
    if (vbyok_kwp(1, aes, der, der_len, &wrapped, &wrapped_len) < 0) {
        rc = cmk_err_set(err, CMK_ECRYPTO, "AES key wrap with padding failed");
        goto out;
    }
    all = malloc(rsa_len + wrapped_len);
    if (!all) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(all, rsa_ct, rsa_len);
    memcpy(all + rsa_len, wrapped, wrapped_len);
    if (vb64url_encode(all, rsa_len + wrapped_len, &b64) < 0) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    j = cJSON_CreateObject();
    if (!j) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    cJSON_AddStringToObject(j, "schema_version", BYOK_SCHEMA);
    h = cJSON_AddObjectToObject(j, "header");
    cJSON_AddStringToObject(h, "kid", kek_kid);
    cJSON_AddStringToObject(h, "alg", BYOK_ALG);
    cJSON_AddStringToObject(h, "enc", BYOK_ENC);
    cJSON_AddStringToObject(j, "ciphertext", b64);
    cJSON_AddStringToObject(j, "generator",
                            generator && *generator ? generator : "cmksim byok-export 1.0");
    *out_json = cJSON_Print(j);
    rc = *out_json ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory");
out:
    OPENSSL_cleanse(aes, sizeof aes);
    if (der) {
        OPENSSL_cleanse(der, der_len);
        free(der);
    }
    free(rsa_ct);
    free(wrapped);
    free(all);
    free(b64);
    cJSON_Delete(j);
    EVP_PKEY_free(kek);
    EVP_PKEY_free(target);
    return rc;
}

/* copy_part - copy [p, p+n) into out (cap) or fail */
static int copy_part(const char *p, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* vault_kid_parse - split a key id into vault, name, version */
int vault_kid_parse(const char *kid, char vault[VAULT_NAME_MAX], char name[VAULT_KEY_NAME_MAX],
                    char version[VAULT_VERSION_MAX], cmk_err *err)
{
    const char *p = kid, *slash, *end;

    vault[0] = name[0] = version[0] = '\0';
    if (!kid || !*kid)
        return cmk_err_set(err, CMK_EINVAL, "empty key id");
    if (strncmp(p, "https://", 8) == 0) {
        const char *dot, *path;
        p += 8;
        path = strchr(p, '/');
        dot = strchr(p, '.');
        if (!path || !dot || dot > path ||
            copy_part(p, (size_t)(dot - p), vault, VAULT_NAME_MAX) < 0 ||
            strncmp(path, "/keys/", 6) != 0)
            goto bad;
        p = path + 6;
    } else {
        slash = strchr(p, '/');
        if (!slash || copy_part(p, (size_t)(slash - p), vault, VAULT_NAME_MAX) < 0)
            goto bad;
        p = slash + 1;
        if (strncmp(p, "keys/", 5) == 0)
            p += 5;
    }
    slash = strchr(p, '/');
    end = slash ? slash : p + strlen(p);
    if (end == p || copy_part(p, (size_t)(end - p), name, VAULT_KEY_NAME_MAX) < 0)
        goto bad;
    if (slash) {
        const char *v = slash + 1;
        size_t n = strcspn(v, "/?");
        if (v[n] == '/' && v[n + 1] != '\0')
            goto bad;
        if (copy_part(v, n, version, VAULT_VERSION_MAX) < 0)
            goto bad;
    }
    if (!vault[0])
        goto bad;
    return 0;
bad:
    vault[0] = name[0] = version[0] = '\0';
    return cmk_err_set(err, CMK_EINVAL,
                       "'%s' is not a key id; expected "
                       "https://<vault>.vault.azure.net/keys/<name>[/<version>] or "
                       "<vault>/<name>[/<version>]",
                       kid ? kid : "");
}
