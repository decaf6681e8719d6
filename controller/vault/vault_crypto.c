/*
 * vault_crypto.c - the vault's cryptographic operations on a key version: wrapKey, unwrapKey,
 * encrypt, decrypt (RSA-OAEP with SHA-1 or SHA-256), the public key as PEM, and key id
 * parsing. The RSA operation itself runs outside the service lock.
 */
#include "vault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/util.h"

/* open_version - vault (perm), key, version, throttle by key size (lock held) */
static int open_version(vault_op *op, const char *vault, const char *name, const char *version,
                        unsigned perm, vrow *v, krow *k, verrow *ver, cmk_err *err)
{
    int rc;

    memset(k, 0, sizeof *k);
    if ((rc = vault_open_for(op, vault, perm, 0, -1, v, err)) < 0)
        return rc;
    if ((rc = vault_check_key_name(name, err)) < 0)
        return rc;
    if ((rc = vstore_key_by_name(op->svc, v, name, k, err)) < 0)
        return rc;
    if ((rc = vstore_version_get(op->svc, v, k, version, ver, err)) < 0)
        return rc;
    return vault_throttle_take(op->svc->throttle, v->id, v->name, VAULT_TX_CRYPTO, ver->bits, err);
}

/* crypto_op - wrap/unwrap/encrypt/decrypt */
static int crypto_op(vault_svc *self, const char *principal, const char *opname, unsigned perm,
                     unsigned keyop, int encrypt, const char *vault, const char *name,
                     const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                     uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow ver;
    EVP_PKEY *pk = NULL;
    char ops[128], opn[32];
    int rc;

    *out = NULL;
    *out_len = 0;
    vault_keyops_format(keyop, opn, sizeof opn);
    vop_begin(&op, self, principal, opname, vault, name, version);
    if ((rc = open_version(&op, vault, name, version, perm, &v, &k, &ver, err)) < 0)
        goto done;
    vop_set_target(&op, vault, name, ver.version);
    if (!(k.key_ops & keyop)) {
        rc = cmk_err_set(err, CMK_EPERM,
                         "key '%s' in vault '%s' does not allow operation '%s' "
                         "(its key_ops are: %s); allow it with: cmkctl key update %s %s "
                         "--ops %s",
                         name, vault, opn, vault_keyops_format(k.key_ops, ops, sizeof ops), vault,
                         name, opn);
        goto done;
    }
    if ((rc = vkeys_usable(self, &v, &k, &ver, err)) < 0)
        goto done;
    if (alg != VAULT_ALG_RSA_OAEP && alg != VAULT_ALG_RSA_OAEP_256) {
        rc = cmk_err_set(err, CMK_EINVAL, "unsupported algorithm; use RSA-OAEP or RSA-OAEP-256");
        goto done;
    }
    if (!in || in_len == 0) {
        rc = cmk_err_set(err, CMK_EINVAL, "nothing to %s: the input is empty", opn);
        goto done;
    }
    rc = encrypt ? vrsa_from_public_der(ver.pub, ver.pub_len, &pk, err)
                 : vstore_version_private(self, v.tenant, &ver, &pk, err);
    if (rc < 0)
        goto done;
    if (kid_out)
        vault_make_kid(self, v.name, k.name, ver.version, kid_out, VAULT_KID_MAX);
    vop_unlock(&op); /* the RSA operation runs outside the lock */
    rc = vrsa_oaep(pk, encrypt, alg == VAULT_ALG_RSA_OAEP ? EVP_sha1() : EVP_sha256(), in, in_len,
                   out, out_len, err);
    if (rc < 0)
        cmk_err_prefix(err, "%s with key '%s' version %s: ", opn, name, ver.version);
    snprintf(op.detail, sizeof op.detail, "version=%s alg=%s bytes=%zu", ver.version,
             vault_alg_name(alg), in_len);
done:
    EVP_PKEY_free(pk);
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_wrap - RSA-OAEP wrap with a key version */
int vault_key_wrap(vault_svc *self, const char *principal, const char *vault, const char *name,
                   const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                   uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err)
{
    return crypto_op(self, principal, "key.wrap", VAULT_PERM_WRAP_KEY, VAULT_KEYOP_WRAP_KEY, 1,
                     vault, name, version, alg, in, in_len, out, out_len, kid_out, err);
}

/* vault_key_unwrap - RSA-OAEP unwrap with a key version */
int vault_key_unwrap(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                     uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err)
{
    return crypto_op(self, principal, "key.unwrap", VAULT_PERM_UNWRAP_KEY, VAULT_KEYOP_UNWRAP_KEY,
                     0, vault, name, version, alg, in, in_len, out, out_len, kid_out, err);
}

/* vault_key_encrypt - RSA-OAEP encrypt with a key version */
int vault_key_encrypt(vault_svc *self, const char *principal, const char *vault, const char *name,
                      const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                      uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err)
{
    return crypto_op(self, principal, "key.encrypt", VAULT_PERM_ENCRYPT, VAULT_KEYOP_ENCRYPT, 1,
                     vault, name, version, alg, in, in_len, out, out_len, kid_out, err);
}

/* vault_key_decrypt - RSA-OAEP decrypt with a key version */
int vault_key_decrypt(vault_svc *self, const char *principal, const char *vault, const char *name,
                      const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                      uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err)
{
    return crypto_op(self, principal, "key.decrypt", VAULT_PERM_DECRYPT, VAULT_KEYOP_DECRYPT, 0,
                     vault, name, version, alg, in, in_len, out, out_len, kid_out, err);
}

/* vault_key_public_pem - a key version's public key as PEM */
int vault_key_public_pem(vault_svc *self, const char *principal, const char *vault,
                         const char *name, const char *version, char **pem, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow ver;
    EVP_PKEY *pk = NULL;
    int rc;

    *pem = NULL;
    vop_begin(&op, self, principal, "key.download", vault, name, version);
    rc = open_version(&op, vault, name, version, VAULT_PERM_GET, &v, &k, &ver, err);
    if (rc == 0 && k.deleted_ms)
        rc = cmk_err_set(err, CMK_ESTATE,
                         "key '%s' in vault '%s' is deleted; recover it with: "
                         "cmkctl key recover %s %s",
                         name, vault, vault, name);
    if (rc == 0)
        rc = vrsa_from_public_der(ver.pub, ver.pub_len, &pk, err);
    if (rc == 0)
        rc = vrsa_public_pem(pk, pem, err);
    if (rc == 0)
        snprintf(op.detail, sizeof op.detail, "version=%s", ver.version);
    EVP_PKEY_free(pk);
    krow_clear(&k);
    return vop_end(&op, rc, err);
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
