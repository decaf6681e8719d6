/*
 * tenantkey_crypto.c - key material of the legacy tenant keys: RSA-2048 generation and the
 * 2048-bit RSA requirement, PKCS#12 (.pfx) export and import as Azure's key files are made
 * (self-signed certificate, AES-256-CBC, SHA-256 MAC), and the opening of Azure .byok files
 * (RSA-OAEP-SHA-1 transfer key || RFC 5649 AES key wrap of the PKCS#8 key) for a tenant
 * region's key-exchange key. OpenSSL 3 EVP APIs only.
 *
 * The .byok producer side is vault_byok_export() (vault.h); its parser in vault_byok.c is
 * private to the vault, so the reading side is done here with the same format checks.
 */
#include "tenantkey_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "vault.h"

#define TK_RSA_BITS 2048
#define TK_BYOK_SCHEMA "1.0.0"
#define TK_BYOK_ALG "dir"
#define TK_BYOK_ENC "CKM_RSA_AES_KEY_WRAP"
#define TK_FILE_MAX (1u << 20)
#define TK_PFX_MAX_ITER 1000000 /* PKCS#12 MAC iterations accepted (OpenSSL and Windows: ~2000) */

/* tkc_secret_free - wipe and free a secret buffer */
void tkc_secret_free(uint8_t **p, size_t len)
{
    if (p && *p) {
        OPENSSL_cleanse(*p, len);
        free(*p);
        *p = NULL;
    }
}

/* tkc_generate - a fresh RSA-2048 key (slow: call without the service lock) */
int tkc_generate(EVP_PKEY **out, cmk_err *err)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)TK_RSA_BITS);
    ERR_clear_error();
    return *out ? 0 : cmk_err_set(err, CMK_ECRYPTO, "RSA-2048 key generation failed");
}

/* tkc_check_key - the requirement "2048-bit RSA" */
int tkc_check_key(EVP_PKEY *pk, cmk_err *err)
{
    int bits;

    if (!EVP_PKEY_is_a(pk, "RSA")) {
        const char *t = EVP_PKEY_get0_type_name(pk);
        return cmk_err_set(err, CMK_EINVAL,
                           "the key in the file is a%s %s key; the encryption key must be a "
                           "2048-bit RSA key",
                           t && strchr("AEFHILMNORSX", t[0]) ? "n" : "", t ? t : "non-RSA");
    }
    bits = EVP_PKEY_get_bits(pk);
    if (bits != TK_RSA_BITS)
        return cmk_err_set(err, CMK_EINVAL,
                           "the key in the file is a %d-bit RSA key; the encryption key must be "
                           "a 2048-bit RSA key",
                           bits);
    return 0;
}

/* make_cert - a self-signed certificate for pk: CN=name, valid two years from now_ms */
static X509 *make_cert(EVP_PKEY *pk, const char *name, int64_t now_ms)
{
    X509 *x = X509_new();
    X509_NAME *subj;
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    time_t now = (time_t)(now_ms / 1000);
    int ok = x != NULL && RAND_bytes(serial, sizeof serial) == 1;

    if (ok) {
        serial[0] &= 0x7f; /* a positive serial */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
             ASN1_TIME_set(X509_getm_notBefore(x), now) &&
             ASN1_TIME_set(X509_getm_notAfter(x), now + 2 * 365 * 86400) && X509_set_pubkey(x, pk);
    }
    if (ok) {
        subj = X509_get_subject_name(x);
        ok = X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
                                        -1, 0) &&
             X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_UTF8,
                                        (const unsigned char *)"cmksim tenant key", -1, -1, 0) &&
             X509_set_issuer_name(x, subj);
    }
    if (ok) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
                                  "critical,digitalSignature,keyEncipherment");
        ok = ext && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (ok)
        ok = X509_sign(x, pk, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* tkc_pfx_make - the .pfx the admin downloads */
int tkc_pfx_make(EVP_PKEY *pk, const char *name, const char *password, int64_t now_ms,
                 uint8_t **out, size_t *len, cmk_err *err)
{
    X509 *cert = make_cert(pk, name, now_ms);
    PKCS12 *p12 = NULL;
    unsigned char *buf = NULL, *p;
    int n = 0;

    *out = NULL;
    *len = 0;
    if (cert)
        p12 = PKCS12_create(password, name, pk, cert, NULL, NID_aes_256_cbc, NID_aes_256_cbc,
                            PKCS12_DEFAULT_ITER, -1, 0);
    if (p12 && !PKCS12_set_mac(p12, password, -1, NULL, 0, PKCS12_DEFAULT_ITER, EVP_sha256())) {
        PKCS12_free(p12);
        p12 = NULL;
    }
    if (p12 && (n = i2d_PKCS12(p12, NULL)) > 0 && (buf = malloc((size_t)n)) != NULL) {
        p = buf;
        n = i2d_PKCS12(p12, &p);
    }
    PKCS12_free(p12);
    X509_free(cert);
    ERR_clear_error();
    if (!buf || n <= 0) {
        free(buf);
        return cmk_err_set(err, CMK_ECRYPTO, "cannot build the PKCS#12 (.pfx) file");
    }
    *out = buf;
    *len = (size_t)n;
    return 0;
}

/* pkcs12_mac_iter - the key-derivation iterations of a PKCS#12 MAC (1 when absent, -1 when
 * unreadable); a file may ask for 2^31 and keep a thread busy for minutes */
static long long pkcs12_mac_iter(const PKCS12 *p12)
{
    const ASN1_INTEGER *iter = NULL;
    int64_t v = 1;
    PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
    if (iter && ASN1_INTEGER_get_int64(&v, iter) != 1)
        return -1;
    return (long long)v;
}

/* tkc_pfx_parse - open a .pfx with its password */
int tkc_pfx_parse(const uint8_t *data, size_t len, const char *password, EVP_PKEY **out,
                  cmk_err *err)
{
    const unsigned char *p = data;
    PKCS12 *p12;
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    int mac_ok = 0, rc = 0;

    *out = NULL;
    if (!password || !*password)
        return cmk_err_set(err, CMK_EINVAL,
                           "a .pfx key file must be password protected: give its password");
    if (!data || len == 0 || len > TK_FILE_MAX)
        return cmk_err_set(err, CMK_EINVAL, "no .pfx content given (or larger than 1 MiB)");
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_EINVAL,
                           "the file is not a PKCS#12 (.pfx) file; upload a .pfx or a .byok "
                           "encryption key file");
    }
    if (PKCS12_mac_present(p12) &&
        (pkcs12_mac_iter(p12) < 1 || pkcs12_mac_iter(p12) > TK_PFX_MAX_ITER)) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the .pfx file asks for %lld key-derivation iterations; at most %d are "
                         "accepted: export it again with the usual settings",
                         pkcs12_mac_iter(p12), TK_PFX_MAX_ITER);
        goto out;
    }
    if (PKCS12_mac_present(p12)) {
        mac_ok = PKCS12_verify_mac(p12, password, -1) == 1;
        if (!mac_ok) {
            rc = cmk_err_set(err, CMK_EINVAL, "the password does not open this .pfx file");
            goto out;
        }
    }
    if (!PKCS12_parse(p12, password, &pk, &cert, &ca)) {
        rc = mac_ok ? cmk_err_set(err, CMK_EINVAL,
                                  "the .pfx file cannot be decrypted although its password is "
                                  "right: it may use a legacy cipher (RC2, 3DES); export it "
                                  "again with AES-256")
                    : cmk_err_set(err, CMK_EINVAL, "the password does not open this .pfx file");
        goto out;
    }
    if (!pk) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the .pfx file holds no private key; export the key with its private "
                         "key (both the public and the private key are needed)");
        goto out;
    }
    *out = pk;
    pk = NULL;
out:
    ERR_clear_error();
    EVP_PKEY_free(pk);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return rc;
}

/* byok_json - parse a .byok document and check its schema, alg and enc */
static int byok_json(const uint8_t *data, size_t len, cJSON **out, cmk_err *err)
{
    cJSON *j, *h;
    const char *s;

    *out = NULL;
    if (!data || len == 0 || len > TK_FILE_MAX)
        return cmk_err_set(err, CMK_EINVAL, "no .byok content given (or larger than 1 MiB)");
    j = cJSON_ParseWithLength((const char *)data, len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return cmk_err_set(err, CMK_EINVAL, "the .byok file is not JSON");
    }
    h = cJSON_GetObjectItemCaseSensitive(j, "header");
    s = cmk_json_str(j, "schema_version", NULL);
    if (!s || strcmp(s, TK_BYOK_SCHEMA) != 0) {
        cmk_err_set(err, CMK_EINVAL, "unsupported .byok schema_version '%s'; expected \"%s\"",
                    s ? s : "(missing)", TK_BYOK_SCHEMA);
        goto bad;
    }
    if (!cJSON_IsObject(h)) {
        cmk_err_set(err, CMK_EINVAL, "the .byok file has no \"header\" object");
        goto bad;
    }
    s = cmk_json_str(h, "alg", NULL);
    if (!s || strcmp(s, TK_BYOK_ALG) != 0) {
        cmk_err_set(err, CMK_EINVAL, "unsupported .byok header alg '%s'; expected \"%s\"",
                    s ? s : "(missing)", TK_BYOK_ALG);
        goto bad;
    }
    s = cmk_json_str(h, "enc", NULL);
    if (!s || strcmp(s, TK_BYOK_ENC) != 0) {
        cmk_err_set(err, CMK_EINVAL, "unsupported .byok header enc '%s'; expected \"%s\"",
                    s ? s : "(missing)", TK_BYOK_ENC);
        goto bad;
    }
    s = cmk_json_str(h, "kid", NULL);
    if (!s || !*s || strlen(s) >= TENANTKEY_KID_MAX) {
        cmk_err_set(err, CMK_EINVAL,
                    "the .byok header has no usable \"kid\" (the key-exchange "
                    "key's id)");
        goto bad;
    }
    *out = j;
    return 0;
bad:
    cJSON_Delete(j);
    return CMK_EINVAL;
}

/* tkc_byok_kid - the key-exchange key a .byok was made for */
int tkc_byok_kid(const uint8_t *data, size_t len, char kid[TENANTKEY_KID_MAX], cmk_err *err)
{
    cJSON *j;
    int rc = byok_json(data, len, &j, err);

    kid[0] = '\0';
    if (rc < 0)
        return rc;
    cmk_strlcpy(kid, cmk_json_str(cJSON_GetObjectItem(j, "header"), "kid", ""), TENANTKEY_KID_MAX);
    cJSON_Delete(j);
    return 0;
}

/* oaep_sha1_decrypt - RSA-OAEP (SHA-1, MGF1-SHA-1) decryption with the KEK */
static int oaep_sha1_decrypt(EVP_PKEY *kek, const uint8_t *in, size_t in_len, uint8_t *out,
                             size_t *out_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kek, NULL);
    size_t cap = *out_len;
    int ok = ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) > 0 &&
             EVP_PKEY_decrypt(ctx, out, &cap, in, in_len) > 0;

    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    *out_len = ok ? cap : 0;
    return ok ? 0 : -1;
}

/* kwp_unwrap - AES-256 key unwrap with padding (RFC 5649) */
static int kwp_unwrap(const uint8_t key[32], const uint8_t *in, size_t in_len, uint8_t **out,
                      size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *buf = malloc(in_len + 16);
    int n = 0, fin = 0, ok;

    *out = NULL;
    *out_len = 0;
    if (!ctx || !buf || in_len > (size_t)INT32_MAX) {
        EVP_CIPHER_CTX_free(ctx);
        free(buf);
        return -1;
    }
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, key, NULL) == 1 &&
         EVP_DecryptUpdate(ctx, buf, &n, in, (int)in_len) == 1 && n >= 0 &&
         EVP_DecryptFinal_ex(ctx, buf + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        OPENSSL_cleanse(buf, in_len + 16);
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = (size_t)n + (size_t)fin;
    return 0;
}

/* tkc_byok_open - the key inside a .byok made for this KEK */
int tkc_byok_open(const uint8_t *data, size_t len, const char *kek_kid, EVP_PKEY *kek,
                  EVP_PKEY **out, cmk_err *err)
{
    cJSON *j = NULL;
    const char *kid, *ct;
    uint8_t *raw = NULL, aes[512], *der = NULL; /* the output must hold a modulus */
    size_t raw_len = 0, aes_len = sizeof aes, der_len = 0, rsa_len;
    char v1[32], n1[TENANTKEY_NAME_MAX], ver1[40], v2[32], n2[TENANTKEY_NAME_MAX], ver2[40];
    int rc;

    *out = NULL;
    if ((rc = byok_json(data, len, &j, err)) < 0)
        return rc;
    kid = cmk_json_str(cJSON_GetObjectItem(j, "header"), "kid", "");
    /* the same KEK: vault and key name equal, and the version equal when the .byok names one */
    if (vault_kid_parse(kid, v1, n1, ver1, NULL) < 0 ||
        vault_kid_parse(kek_kid, v2, n2, ver2, NULL) < 0 || strcmp(v1, v2) != 0 ||
        strcmp(n1, n2) != 0 || (ver1[0] && strcmp(ver1, ver2) != 0)) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "this .byok was made for key-exchange key '%s', not for this tenant "
                         "region's '%s'; export the key again for that key-exchange key",
                         kid, kek_kid);
        goto out;
    }
    ct = cmk_json_str(j, "ciphertext", NULL);
    if (!ct || cmk_b64_decode(ct, &raw, &raw_len, NULL) < 0 || raw_len == 0) {
        rc = cmk_err_set(err, CMK_EINVAL, "the .byok ciphertext is missing or not base64url");
        goto out;
    }
    rsa_len = (size_t)EVP_PKEY_get_size(kek);
    if (raw_len <= rsa_len + 8) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "the .byok ciphertext is too short (%zu bytes) for a %zu-bit "
                         "key-exchange key plus a wrapped key",
                         raw_len, rsa_len * 8);
        goto out;
    }
    if (oaep_sha1_decrypt(kek, raw, rsa_len, aes, &aes_len) < 0 || aes_len != 32) {
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "the .byok transfer key does not decrypt with key-exchange key '%s' "
                         "(RSA-OAEP with SHA-1): the file is damaged or made for another key",
                         kek_kid);
        goto out;
    }
    if (kwp_unwrap(aes, raw + rsa_len, raw_len - rsa_len, &der, &der_len) < 0) {
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "the .byok wrapped key fails the AES key wrap "
                         "integrity check: the file is damaged");
        goto out;
    }
    if (tkc_from_private_der(der, der_len, out, err) < 0)
        rc = cmk_err_set(err, CMK_EINVAL, "the key inside the .byok is not a PKCS#8 private key");
out:
    OPENSSL_cleanse(aes, sizeof aes);
    tkc_secret_free(&der, der_len);
    free(raw);
    cJSON_Delete(j);
    return rc;
}

/* tkc_kek_kid - the id of a tenant region's key-exchange key */
char *tkc_kek_kid(const char *tenant, const char *region, const char *version, char *buf,
                  size_t cap)
{
    snprintf(buf, cap, "https://" TK_KEK_VAULT ".vault.azure.net/keys/%s-%s-kek/%s", tenant, region,
             version);
    return buf;
}

/* tkc_fingerprint - SHA-256 of the modulus: the identity of "the same key" */
int tkc_fingerprint(EVP_PKEY *pk, char fp[TENANTKEY_FP_MAX], cmk_err *err)
{
    BIGNUM *n = NULL;
    uint8_t buf[1024], md[32];
    unsigned int mdlen = 0;
    int len, ok;

    ok = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) == 1;
    len = ok ? BN_num_bytes(n) : 0;
    ok = ok && len > 0 && (size_t)len <= sizeof buf && BN_bn2bin(n, buf) == len &&
         EVP_Digest(buf, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1;
    BN_free(n);
    ERR_clear_error();
    if (!ok)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot read the RSA modulus of the key");
    cmk_hex_encode(md, sizeof md, fp, TENANTKEY_FP_MAX);
    return 0;
}

/* tkc_public_der - SubjectPublicKeyInfo DER into buf */
int tkc_public_der(EVP_PKEY *pk, uint8_t *buf, size_t cap, size_t *len, cmk_err *err)
{
    int n = i2d_PUBKEY(pk, NULL);
    unsigned char *p = buf;

    if (n <= 0 || (size_t)n > cap || (n = i2d_PUBKEY(pk, &p)) <= 0) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the public key");
    }
    *len = (size_t)n;
    return 0;
}

/* tkc_public_pem - "-----BEGIN PUBLIC KEY-----" text, malloc'd */
int tkc_public_pem(EVP_PKEY *pk, char **pem, cmk_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    *pem = NULL;
    if (!bio || !PEM_write_bio_PUBKEY(bio, pk)) {
        BIO_free(bio);
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO, "cannot write the public key as PEM");
    }
    n = BIO_get_mem_data(bio, &data);
    *pem = malloc((size_t)n + 1);
    if (*pem) {
        memcpy(*pem, data, (size_t)n);
        (*pem)[n] = '\0';
    }
    BIO_free(bio);
    return *pem ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory");
}

/* tkc_private_der - PKCS#8 PrivateKeyInfo DER (wipe and free it) */
int tkc_private_der(EVP_PKEY *pk, uint8_t **der, size_t *len, cmk_err *err)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
    unsigned char *buf = NULL, *p;
    int n = 0;

    *der = NULL;
    *len = 0;
    if (p8 && (n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) > 0 && (buf = malloc((size_t)n)) != NULL) {
        p = buf;
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &p);
    }
    PKCS8_PRIV_KEY_INFO_free(p8);
    ERR_clear_error();
    if (!buf || n <= 0) {
        if (buf)
            OPENSSL_cleanse(buf, (size_t)(n > 0 ? n : 0));
        free(buf);
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the private key as PKCS#8");
    }
    *der = buf;
    *len = (size_t)n;
    return 0;
}

/* tkc_from_private_der - a key from PKCS#8 DER */
int tkc_from_private_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err)
{
    const unsigned char *p = der;

    *out = d2i_AutoPrivateKey(NULL, &p, (long)len);
    ERR_clear_error();
    return *out ? 0 : cmk_err_set(err, CMK_ECRYPTO, "key material does not decode as a key");
}

/* tkc_random_hex - 2n random hex characters plus NUL into out (cap 2n+1) */
int tkc_random_hex(char *out, size_t n, cmk_err *err)
{
    uint8_t r[32];

    if (n > sizeof r || RAND_bytes(r, (int)n) != 1)
        return cmk_err_set(err, CMK_ECRYPTO, "the random generator failed");
    cmk_hex_encode(r, n, out, 2 * n + 1);
    return 0;
}
