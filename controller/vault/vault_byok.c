/*
 * vault_byok.c - bring-your-own-key transfer as Azure Key Vault specifies it.
 *
 * The vault holds a key-exchange key (KEK): an RSA(-HSM) key whose key_ops are "import". The
 * customer's HSM exports the target key for that KEK as a .byok JSON file:
 *
 *   { "schema_version": "1.0.0",
 *     "header": { "kid": "<KEK key id>", "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP" },
 *     "ciphertext": "<base64url>",
 *     "generator": "<tool and HSM>" }
 *
 * ciphertext = RSA-OAEP(SHA-1, MGF1-SHA-1; KEK public key; ephemeral 256-bit AES key)
 *           || AES key wrap with padding (RFC 5649; that AES key; target key as PKCS#8 DER)
 *
 * vault_key_import_byok() is the vault's side; vault_byok_export() plays the customer's HSM.
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
#define BYOK_MAX (1u << 20)

/* kwp - AES-256 key wrap with padding (RFC 5649) forward (wrap) or back (unwrap) */
static int kwp(int wrap, const uint8_t key[BYOK_AES_LEN], const uint8_t *in, size_t in_len,
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
    if (kwp(1, aes, der, der_len, &wrapped, &wrapped_len) < 0) {
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

/* byok_parsed - the fields of a .byok document */
typedef struct {
    char kid[VAULT_KID_MAX];         /* header.kid: the KEK */
    char vault[VAULT_NAME_MAX];      /* the KEK's vault */
    char kek[VAULT_KEY_NAME_MAX];    /* the KEK's name */
    char version[VAULT_VERSION_MAX]; /* the KEK's version ("" for current) */
    char generator[96];              /* generator, for the audit */
    uint8_t *ct;                     /* decoded ciphertext */
    size_t ct_len;                   /* its length */
} byok_parsed;

/* byok_parse - read and check a .byok document */
static int byok_parse(const char *json, size_t len, byok_parsed *b, cmk_err *err)
{
    cJSON *j, *h;
    const char *s, *kid, *ct;
    int rc = 0;

    memset(b, 0, sizeof *b);
    if (!json || len == 0 || len > BYOK_MAX)
        return cmk_err_set(err, CMK_EINVAL, "no .byok content given (or larger than 1 MiB)");
    j = cJSON_ParseWithLength(json, len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return cmk_err_set(err, CMK_EINVAL, "the .byok file is not JSON");
    }
    h = cJSON_GetObjectItemCaseSensitive(j, "header");
    s = cmk_json_str(j, "schema_version", NULL);
    if (!s || strcmp(s, BYOK_SCHEMA) != 0) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "unsupported .byok schema_version '%s'; expected "
                         "\"" BYOK_SCHEMA "\"",
                         s ? s : "(missing)");
        goto out;
    }
    if (!cJSON_IsObject(h)) {
        rc = cmk_err_set(err, CMK_EINVAL, "the .byok file has no \"header\" object");
        goto out;
    }
    s = cmk_json_str(h, "alg", NULL);
    if (!s || strcmp(s, BYOK_ALG) != 0) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "unsupported .byok header alg '%s'; expected \"" BYOK_ALG "\"",
                         s ? s : "(missing)");
        goto out;
    }
    s = cmk_json_str(h, "enc", NULL);
    if (!s || strcmp(s, BYOK_ENC) != 0) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "unsupported .byok header enc '%s'; expected \"" BYOK_ENC
                         "\" (RSA-OAEP of an AES key, then AES key wrap with padding)",
                         s ? s : "(missing)");
        goto out;
    }
    kid = cmk_json_str(h, "kid", NULL);
    if (!kid || strlen(kid) >= sizeof b->kid) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the .byok header has no usable \"kid\" (the KEK's "
                         "key id)");
        goto out;
    }
    cmk_strlcpy(b->kid, kid, sizeof b->kid);
    if ((rc = vault_kid_parse(kid, b->vault, b->kek, b->version, err)) < 0) {
        cmk_err_prefix(err, ".byok header kid: ");
        goto out;
    }
    cmk_strlcpy(b->generator, cmk_json_str(j, "generator", "-"), sizeof b->generator);
    ct = cmk_json_str(j, "ciphertext", NULL);
    if (!ct || vb64_decode(ct, strlen(ct), &b->ct, &b->ct_len) < 0 || b->ct_len == 0) {
        rc = cmk_err_set(err, CMK_EINVAL, "the .byok ciphertext is missing or not base64url");
        goto out;
    }
out:
    cJSON_Delete(j);
    return rc;
}

/* byok_open_kek - the KEK named by the .byok in this vault, ready to unwrap (lock held) */
static int byok_open_kek(vault_op *op, const vrow *v, const byok_parsed *b, EVP_PKEY **kek,
                         int *kek_bits, cmk_err *err)
{
    krow k;
    verrow ver;
    char ops[128];
    int rc;

    *kek = NULL;
    memset(&k, 0, sizeof k);
    if (strcmp(b->vault, v->name) != 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "this .byok was made for KEK '%s' of vault '%s'; "
                           "import it into vault '%s', or export it again with a KEK of vault "
                           "'%s'",
                           b->kid, b->vault, b->vault, v->name);
    rc = vstore_key_by_name(op->svc, v, b->kek, &k, err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(err, CMK_EINVAL,
                           "unknown KEK '%s': vault '%s' has no key '%s'; "
                           "create a KEK (cmkctl key create %s <name> --kty RSA-HSM --ops import) "
                           "and export the .byok for it",
                           b->kid, v->name, b->kek, v->name);
    if (rc == 0)
        rc = vstore_version_get(op->svc, v, &k, b->version, &ver, err);
    if (rc == CMK_ENOENT)
        rc = cmk_err_set(err, CMK_EINVAL, "unknown KEK '%s': key '%s' has no version '%s'", b->kid,
                         b->kek, b->version);
    if (rc == 0 && !(k.key_ops & VAULT_KEYOP_IMPORT))
        rc = cmk_err_set(err, CMK_EINVAL,
                         "key '%s' is not a key-exchange key (its key_ops are "
                         "%s, not import); create a KEK with: cmkctl key create %s <name> --kty "
                         "RSA-HSM --ops import",
                         b->kek, vault_keyops_format(k.key_ops, ops, sizeof ops), v->name);
    if (rc == 0 && (rc = vkeys_usable(op->svc, v, &k, &ver, err)) < 0)
        cmk_err_prefix(err, "the KEK cannot be used: ");
    if (rc == 0) {
        *kek_bits = ver.bits;
        rc = vstore_version_private(op->svc, v->tenant, &ver, kek, err);
    }
    krow_clear(&k);
    return rc;
}

/* byok_unwrap - the target key inside the ciphertext (no lock needed) */
static int byok_unwrap(EVP_PKEY *kek, int kek_bits, const byok_parsed *b, EVP_PKEY **target,
                       cmk_err *err)
{
    size_t rsa_len = (size_t)kek_bits / 8, aes_len = 0, der_len = 0;
    uint8_t *aes = NULL, *der = NULL;
    int rc;

    *target = NULL;
    if (b->ct_len <= rsa_len + 8)
        return cmk_err_set(err, CMK_EINVAL,
                           "the .byok ciphertext is too short (%zu bytes) for "
                           "a %d-bit KEK plus a wrapped key",
                           b->ct_len, kek_bits);
    rc = vrsa_oaep(kek, 0, EVP_sha1(), b->ct, rsa_len, &aes, &aes_len, err);
    if (rc < 0)
        return cmk_err_set(err, CMK_ECRYPTO,
                           "the .byok ciphertext was not made for KEK '%s' "
                           "(RSA-OAEP with SHA-1 failed to decrypt the transfer key)",
                           b->kid);
    if (aes_len != BYOK_AES_LEN) {
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "the .byok transfer key is %zu bytes; expected a "
                         "256-bit AES key",
                         aes_len);
        goto out;
    }
    if (kwp(0, aes, b->ct + rsa_len, b->ct_len - rsa_len, &der, &der_len) < 0) {
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "the .byok wrapped key fails the AES key wrap "
                         "integrity check: the file is damaged");
        goto out;
    }
    if ((rc = vrsa_from_private_der(der, der_len, target, err)) < 0) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the key inside the .byok is not a PKCS#8 private "
                         "key");
        goto out;
    }
    if ((rc = vrsa_check_key(*target, NULL, err)) < 0) {
        EVP_PKEY_free(*target);
        *target = NULL;
        cmk_err_prefix(err, "the key inside the .byok: ");
    }
out:
    vault_secret_free(&aes, aes_len);
    vault_secret_free(&der, der_len);
    return rc;
}

/* vault_key_import_byok - import the key of a .byok file */
int vault_key_import_byok(vault_svc *self, const char *principal, const char *vault,
                          const char *name, const char *byok_json, size_t len,
                          const vault_key_params *params, vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    byok_parsed b;
    vault_key_params p;
    EVP_PKEY *kek = NULL, *target = NULL;
    int kek_bits = 0, rc;

    memset(&b, 0, sizeof b);
    if (params)
        p = *params;
    else
        memset(&p, 0, sizeof p);
    if (!p.kty)
        p.kty = VAULT_KTY_RSA_HSM;
    vop_begin(&op, self, principal, "key.import_byok", vault, name, NULL);
    if ((rc = vkeys_prepare_new(&op, vault, name, VAULT_PERM_IMPORT, &p, &v, err)) < 0 ||
        (rc = byok_parse(byok_json, len, &b, err)) < 0 ||
        (rc = byok_open_kek(&op, &v, &b, &kek, &kek_bits, err)) < 0)
        goto done;
    vop_unlock(&op); /* RSA private operation outside the lock */
    rc = byok_unwrap(kek, kek_bits, &b, &target, err);
    vop_lock(&op);
    if (rc == 0)
        rc = vkeys_reopen_vault(&op, &v, err);
    if (rc == 0)
        rc = vkeys_store_new_version(&op, &v, name, target, &p, "import", out, err);
    if (rc == 0) {
        size_t o = strlen(op.detail);
        snprintf(op.detail + o, sizeof op.detail - o, " from .byok kek=%s generator=\"%s\"", b.kid,
                 b.generator);
    }
done:
    EVP_PKEY_free(kek);
    EVP_PKEY_free(target);
    free(b.ct);
    return vop_end(&op, rc, err);
}
