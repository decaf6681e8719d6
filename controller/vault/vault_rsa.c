/*
 * vault_rsa.c - RSA and encoding helpers for the vault: key generation, parsing private keys
 * (PEM, DER, PKCS#12), PKCS#8 / SubjectPublicKeyInfo encoding, JWK n/e, RSA-OAEP, base64url.
 * OpenSSL 3 EVP_PKEY APIs only.
 */
#include "vault_int.h"

#include <ctype.h>
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

/* ssl_reason - the last OpenSSL error as text (and clear the queue) */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(buf, cap, "no detail");
    } else {
        ERR_error_string_n(e, buf, cap);
    }
    ERR_clear_error();
    return buf;
}

/* vrsa_check_bits - accept 2048, 3072 and 4096 only */
int vrsa_check_bits(int bits, cmk_err *err)
{
    if (bits == 2048 || bits == 3072 || bits == 4096)
        return 0;
    return cmk_err_set(err, CMK_EINVAL,
                       "RSA key size %d bits is not supported; use 2048, 3072 or 4096", bits);
}

/* vrsa_generate - a fresh RSA key (slow: call without the service lock) */
int vrsa_generate(int bits, EVP_PKEY **out, cmk_err *err)
{
    char why[256];
    int rc = vrsa_check_bits(bits, err);

    if (rc < 0)
        return rc;
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!*out)
        return cmk_err_set(err, CMK_ECRYPTO, "RSA %d-bit key generation failed: %s", bits,
                           ssl_reason(why, sizeof why));
    return 0;
}

/* pem_password - PEM callback handing over the password (or none) */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
    const char *pw = u;
    size_t n;

    (void)rwflag;
    if (!pw)
        return -1;
    n = strlen(pw);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pw, n);
    return (int)n;
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

#define VRSA_PFX_MAX_ITER 1000000 /* PKCS#12 MAC iterations accepted (OpenSSL, Windows: ~2000) */

/* parse_pkcs12 - the private key inside a PKCS#12 (.pfx) blob; *iter gets the MAC's
 * iterations when they are over VRSA_PFX_MAX_ITER (the file is then refused unread), else 0 */
static EVP_PKEY *parse_pkcs12(const uint8_t *data, size_t len, const char *password,
                              long long *iter)
{
    const unsigned char *p = data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;

    if (!p12)
        return NULL;
    *iter = 0;
    if (PKCS12_mac_present(p12) &&
        (pkcs12_mac_iter(p12) < 1 || pkcs12_mac_iter(p12) > VRSA_PFX_MAX_ITER)) {
        *iter = pkcs12_mac_iter(p12);
        PKCS12_free(p12); /* refused before any key derivation */
        return NULL;
    }
    if (!PKCS12_parse(p12, password ? password : "", &pk, &cert, &ca))
        pk = NULL;
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return pk;
}

/* vrsa_parse_private - PEM (PKCS#8, PKCS#1, encrypted PKCS#8), DER (PKCS#8/PKCS#1), PKCS#12 */
int vrsa_parse_private(const uint8_t *data, size_t len, const char *password, EVP_PKEY **out,
                       cmk_err *err)
{
    EVP_PKEY *pk = NULL;
    char why[256];

    *out = NULL;
    if (!data || len == 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "no key data given: pass an RSA private key as PEM, "
                           "DER or PKCS#12 (.pfx)");
    if (len > 1u << 20)
        return cmk_err_set(err, CMK_EINVAL,
                           "the key file is too large (%zu bytes) to be an RSA "
                           "private key",
                           len);
    if (memmem(data, len, "-----BEGIN", 10)) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        if (!bio)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory reading a PEM key");
        pk = PEM_read_bio_PrivateKey(bio, NULL, pem_password, (void *)password);
        BIO_free(bio);
        if (!pk) {
            ssl_reason(why, sizeof why);
            if (memmem(data, len, "ENCRYPTED", 9))
                return cmk_err_set(err, password ? CMK_ECRYPTO : CMK_EINVAL,
                                   password
                                       ? "cannot decrypt the PEM private key: wrong password?"
                                       : "the PEM private key is encrypted: give its password");
            if (memmem(data, len, "PUBLIC KEY", 10) || memmem(data, len, "CERTIFICATE", 11))
                return cmk_err_set(err, CMK_EINVAL,
                                   "the PEM holds a public key or certificate; "
                                   "importing needs the private key");
            return cmk_err_set(err, CMK_EINVAL, "cannot read the PEM private key (%s)", why);
        }
    } else {
        const unsigned char *p = data;
        pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
        if (!pk) {
            ERR_clear_error();
            long long iter = 0;
            pk = parse_pkcs12(data, len, password, &iter);
            if (!pk && iter)
                return cmk_err_set(err, CMK_EINVAL,
                                   "the PKCS#12 file asks for %lld key-derivation iterations; at "
                                   "most %d are accepted: export it again with the usual settings",
                                   iter, VRSA_PFX_MAX_ITER);
            if (!pk) {
                ssl_reason(why, sizeof why);
                return cmk_err_set(err, CMK_EINVAL,
                                   "cannot read the key: it is neither a PEM or DER RSA private "
                                   "key nor a PKCS#12 file openable with the given password");
            }
        }
    }
    ERR_clear_error();
    *out = pk;
    return 0;
}

/* vrsa_check_key - an RSA key of an accepted size */
int vrsa_check_key(EVP_PKEY *pk, int *bits, cmk_err *err)
{
    int b;

    if (!EVP_PKEY_is_a(pk, "RSA"))
        return cmk_err_set(err, CMK_EINVAL, "the key is a %s key; the vault takes RSA keys only",
                           EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "non-RSA");
    b = EVP_PKEY_get_bits(pk);
    if (vrsa_check_bits(b, err) < 0)
        return CMK_EINVAL;
    if (bits)
        *bits = b;
    return 0;
}

/* vrsa_private_der - PKCS#8 PrivateKeyInfo DER (a secret: wipe and free) */
int vrsa_private_der(EVP_PKEY *pk, uint8_t **der, size_t *len, cmk_err *err)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
    unsigned char *buf = NULL, *p;
    int n;

    *der = NULL;
    *len = 0;
    if (!p8)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the private key as PKCS#8");
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
    if (n > 0 && (buf = malloc((size_t)n)) != NULL) {
        p = buf;
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &p);
    }
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (!buf || n <= 0) {
        free(buf);
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the private key as PKCS#8");
    }
    *der = buf;
    *len = (size_t)n;
    return 0;
}

/* vrsa_public_der - SubjectPublicKeyInfo DER into buf */
int vrsa_public_der(EVP_PKEY *pk, uint8_t *buf, size_t cap, size_t *len, cmk_err *err)
{
    int n = i2d_PUBKEY(pk, NULL);
    unsigned char *p = buf;

    if (n <= 0 || (size_t)n > cap)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the public key");
    n = i2d_PUBKEY(pk, &p);
    if (n <= 0)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot encode the public key");
    *len = (size_t)n;
    return 0;
}

/* vrsa_from_private_der - a key from PKCS#8 (or PKCS#1) DER */
int vrsa_from_private_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err)
{
    const unsigned char *p = der;
    *out = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (!*out) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO,
                           "stored key material does not decode as a private key");
    }
    return 0;
}

/* vrsa_from_public_der - a key from SubjectPublicKeyInfo DER */
int vrsa_from_public_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err)
{
    const unsigned char *p = der;
    *out = d2i_PUBKEY(NULL, &p, (long)len);
    if (!*out) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO, "stored public key does not decode");
    }
    return 0;
}

/* vrsa_from_public_pem - a public key from PEM ("PUBLIC KEY" or "RSA PUBLIC KEY") */
int vrsa_from_public_pem(const char *pem, EVP_PKEY **out, cmk_err *err)
{
    BIO *bio;

    *out = NULL;
    if (!pem || !*pem)
        return cmk_err_set(err, CMK_EINVAL, "no KEK public key given (PEM expected)");
    bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    *out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (!*out) {
        BIO_free(bio);
        bio = BIO_new_mem_buf(pem, -1);
        ERR_clear_error();
        *out = bio ? PEM_read_bio_PrivateKey(bio, NULL, pem_password, NULL) : NULL;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (!*out)
        return cmk_err_set(err, CMK_EINVAL,
                           "cannot read the KEK public key: expected a PEM "
                           "'PUBLIC KEY' (as `cmkctl key download` writes it)");
    return 0;
}

/* vrsa_public_pem - "-----BEGIN PUBLIC KEY-----" text */
int vrsa_public_pem(EVP_PKEY *pk, char **pem, cmk_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    *pem = NULL;
    if (!bio || !PEM_write_bio_PUBKEY(bio, pk)) {
        BIO_free(bio);
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

/* bn_b64url - a BIGNUM parameter as base64url of its big-endian bytes */
static int bn_b64url(EVP_PKEY *pk, const char *param, char *out, size_t cap)
{
    BIGNUM *bn = NULL;
    uint8_t buf[1024];
    char *s = NULL;
    int n, rc = -1;

    if (!EVP_PKEY_get_bn_param(pk, param, &bn))
        return -1;
    n = BN_num_bytes(bn);
    if (n > 0 && (size_t)n <= sizeof buf && BN_bn2bin(bn, buf) == n &&
        vb64url_encode(buf, (size_t)n, &s) == 0 && strlen(s) < cap) {
        memcpy(out, s, strlen(s) + 1);
        rc = 0;
    }
    free(s);
    BN_free(bn);
    return rc;
}

/* vrsa_public_ne - the JWK "n" and "e" */
int vrsa_public_ne(EVP_PKEY *pk, char *n, size_t ncap, char *e, size_t ecap, cmk_err *err)
{
    if (bn_b64url(pk, OSSL_PKEY_PARAM_RSA_N, n, ncap) < 0 ||
        bn_b64url(pk, OSSL_PKEY_PARAM_RSA_E, e, ecap) < 0) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO, "cannot read the RSA public parameters");
    }
    return 0;
}

/* vrsa_oaep - RSA-OAEP encrypt (public) or decrypt (private) with md for OAEP and MGF1 */
int vrsa_oaep(EVP_PKEY *pk, int encrypt, const EVP_MD *md, const uint8_t *in, size_t in_len,
              uint8_t **out, size_t *out_len, cmk_err *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    size_t cap = 0;
    uint8_t *buf = NULL;
    int ok;

    *out = NULL;
    *out_len = 0;
    if (!ctx)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    ok = (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
    if (ok)
        ok = (encrypt ? EVP_PKEY_encrypt(ctx, NULL, &cap, in, in_len)
                      : EVP_PKEY_decrypt(ctx, NULL, &cap, in, in_len)) > 0;
    if (ok && (buf = malloc(cap ? cap : 1)) == NULL) {
        EVP_PKEY_CTX_free(ctx);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    if (ok)
        ok = (encrypt ? EVP_PKEY_encrypt(ctx, buf, &cap, in, in_len)
                      : EVP_PKEY_decrypt(ctx, buf, &cap, in, in_len)) > 0;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        if (buf)
            OPENSSL_cleanse(buf, cap);
        free(buf);
        if (encrypt)
            return cmk_err_set(err, CMK_EINVAL,
                               "RSA-OAEP encryption failed: the input (%zu bytes) is too long for "
                               "this key and algorithm",
                               in_len);
        return cmk_err_set(err, CMK_ECRYPTO,
                           "RSA-OAEP decryption failed: the ciphertext was not made with this "
                           "key version and algorithm, or it is damaged");
    }
    *out = buf;
    *out_len = cap;
    return 0;
}

/* vrsa_random_version - 32 random hex characters */
int vrsa_random_version(char out[VAULT_VERSION_MAX], cmk_err *err)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[16];

    if (RAND_bytes(r, sizeof r) != 1)
        return cmk_err_set(err, CMK_ECRYPTO, "the random generator failed");
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

/* vb64url_encode - base64url without padding */
int vb64url_encode(const uint8_t *in, size_t n, char **out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    char *s = malloc(n / 3 * 4 + 5);

    *out = NULL;
    if (!s)
        return CMK_ENOMEM;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        s[o++] = tab[(v >> 18) & 63];
        s[o++] = tab[(v >> 12) & 63];
        if (left > 1)
            s[o++] = tab[(v >> 6) & 63];
        if (left > 2)
            s[o++] = tab[v & 63];
    }
    s[o] = '\0';
    *out = s;
    return 0;
}

/* b64_value - value of one base64 or base64url character, -1 if none */
static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* vb64_decode - base64 or base64url, padding optional, whitespace skipped */
int vb64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = malloc(in_len / 4 * 3 + 3);
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0;

    *out = NULL;
    *out_len = 0;
    if (!buf)
        return CMK_ENOMEM;
    for (size_t i = 0; i < in_len; i++) {
        int c = (unsigned char)in[i], v;
        if (isspace(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        v = b64_value(c);
        if (v < 0 || pad) {
            free(buf);
            return CMK_EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6 || pad > 2) { /* a dangling 6-bit group is not valid base64 */
        OPENSSL_cleanse(buf, o);
        free(buf);
        return CMK_EINVAL;
    }
    *out = buf;
    *out_len = o;
    return 0;
}

/* wipe_tree - wipe the strings of a JSON tree */
static void wipe_tree(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
        if (j->child)
            wipe_tree(j->child);
    }
}

/* vjson_wipe_delete - wipe every string of a JSON tree, then delete it */
void vjson_wipe_delete(cJSON *j)
{
    if (!j)
        return;
    if (j->valuestring)
        OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
    wipe_tree(j->child);
    cJSON_Delete(j);
}
