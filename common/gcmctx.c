/*
 * gcmctx.c - reusable AES-256-GCM contexts for the envelope: the fetched implementation driven
 * through its provider's dispatch table, with EVP as the fallback (see gcmctx.h).
 */
#include "gcmctx.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>

/* name_matches - 1 if one of the colon-separated names is a name of cipher */
static int name_matches(const EVP_CIPHER *cipher, const char *names)
{
    char one[128];

    while (names && *names) {
        const char *colon = strchr(names, ':');
        size_t n = colon ? (size_t)(colon - names) : strlen(names);
        if (n > 0 && n < sizeof one) {
            memcpy(one, names, n);
            one[n] = '\0';
            if (EVP_CIPHER_is_a(cipher, one))
                return 1;
        }
        names = colon ? colon + 1 : NULL;
    }
    return 0;
}

/* impl_take - the functions of one dispatch table into impl; 1 if every one is there */
static int impl_take(const OSSL_DISPATCH *d, cmk_gcm_impl *impl)
{
    for (; d && d->function_id != 0; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX: impl->newctx = OSSL_FUNC_cipher_newctx(d); break;
        case OSSL_FUNC_CIPHER_FREECTX: impl->freectx = OSSL_FUNC_cipher_freectx(d); break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT: impl->einit = OSSL_FUNC_cipher_encrypt_init(d); break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT: impl->dinit = OSSL_FUNC_cipher_decrypt_init(d); break;
        case OSSL_FUNC_CIPHER_UPDATE: impl->update = OSSL_FUNC_cipher_update(d); break;
        case OSSL_FUNC_CIPHER_FINAL: impl->final = OSSL_FUNC_cipher_final(d); break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
            impl->get_params = OSSL_FUNC_cipher_get_ctx_params(d);
            break;
        case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
            impl->set_params = OSSL_FUNC_cipher_set_ctx_params(d);
            break;
        default: break;
        }
    }
    return impl->newctx && impl->freectx && impl->einit && impl->dinit && impl->update &&
           impl->final && impl->get_params && impl->set_params;
}

/* cmk_gcm_impl_find - the one implementation of the fetched cipher in its provider's table */
int cmk_gcm_impl_find(const EVP_CIPHER *cipher, cmk_gcm_impl *impl)
{
    const OSSL_PROVIDER *prov = cipher ? EVP_CIPHER_get0_provider(cipher) : NULL;
    const OSSL_ALGORITHM *algs, *hit = NULL;
    int no_cache = 0, hits = 0, ok = 0;

    memset(impl, 0, sizeof *impl);
    if (!prov || !(algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache)))
        return 0;
    for (const OSSL_ALGORITHM *a = algs; a->algorithm_names; a++)
        if (name_matches(cipher, a->algorithm_names)) {
            hit = a;
            hits++;
        }
    /* more than one entry of that name (other properties): which one fetch chose is unknown */
    if (hits == 1 && impl_take(hit->implementation, impl) &&
        (impl->provctx = OSSL_PROVIDER_get0_provider_ctx(prov)) != NULL)
        ok = 1;
    OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
    if (!ok)
        memset(impl, 0, sizeof *impl);
    return ok;
}

/* cmk_gcm_ctx_init - an empty context */
void cmk_gcm_ctx_init(cmk_gcm_ctx *c, const EVP_CIPHER *cipher, const cmk_gcm_impl *impl, int enc)
{
    memset(c, 0, sizeof *c);
    c->impl = impl && impl->newctx ? impl : NULL;
    c->cipher = cipher;
    c->enc = enc ? 1 : 0;
}

/* cmk_gcm_ctx_start - key (or NULL) and IV for one record */
int cmk_gcm_ctx_start(cmk_gcm_ctx *c, const uint8_t *key, const uint8_t iv[CMK_GCM_IV_LEN])
{
    const cmk_gcm_impl *f = c->impl;

    if (!f) {
        if (!c->evp && (!key || !(c->evp = EVP_CIPHER_CTX_new())))
            return -1;
        return EVP_CipherInit_ex(c->evp, key ? c->cipher : NULL, NULL, key, iv, c->enc) == 1 ? 0
                                                                                             : -1;
    }
    if (!c->alg && (!key || !(c->alg = f->newctx(f->provctx))))
        return -1;
    if (c->enc)
        return f->einit(c->alg, key, key ? CMK_GCM_KEY_LEN : 0, iv, CMK_GCM_IV_LEN, NULL) == 1 ? 0
                                                                                               : -1;
    return f->dinit(c->alg, key, key ? CMK_GCM_KEY_LEN : 0, iv, CMK_GCM_IV_LEN, NULL) == 1 ? 0 : -1;
}

/* pass_provider - AAD, data and tag through the provider's functions */
static int pass_provider(cmk_gcm_ctx *c, const uint8_t *aad, size_t aadlen, const uint8_t *in,
                         size_t len, uint8_t *out, uint8_t *tag)
{
    const cmk_gcm_impl *f = c->impl;
    OSSL_PARAM prm[2];
    uint8_t fin[16];
    size_t n;

    if (aadlen && f->update(c->alg, NULL, &n, aadlen, aad, aadlen) != 1)
        return -1;
    if (len && f->update(c->alg, out, &n, len, in, len) != 1)
        return -1;
    prm[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, CMK_GCM_TAG_LEN);
    prm[1] = OSSL_PARAM_construct_end();
    if (c->enc)
        return f->final(c->alg, fin, &n, sizeof fin) == 1 && f->get_params(c->alg, prm) == 1 ? 0
                                                                                             : -1;
    return f->set_params(c->alg, prm) == 1 && f->final(c->alg, fin, &n, sizeof fin) == 1 ? 0 : -1;
}

/* pass_evp - the same through EVP */
static int pass_evp(cmk_gcm_ctx *c, const uint8_t *aad, size_t aadlen, const uint8_t *in,
                    size_t len, uint8_t *out, uint8_t *tag)
{
    OSSL_PARAM prm[2];
    uint8_t fin[16];
    int n;

    if (aadlen && EVP_CipherUpdate(c->evp, NULL, &n, aad, (int)aadlen) != 1)
        return -1;
    if (len && EVP_CipherUpdate(c->evp, out, &n, in, (int)len) != 1)
        return -1;
    /* the tag goes through the params API directly: cheaper than EVP_CIPHER_CTX_ctrl */
    prm[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, CMK_GCM_TAG_LEN);
    prm[1] = OSSL_PARAM_construct_end();
    if (c->enc)
        return EVP_CipherFinal_ex(c->evp, fin, &n) == 1 &&
                       EVP_CIPHER_CTX_get_params(c->evp, prm) == 1
                   ? 0
                   : -1;
    return EVP_CIPHER_CTX_set_params(c->evp, prm) == 1 && EVP_CipherFinal_ex(c->evp, fin, &n) == 1
               ? 0
               : -1;
}

/* cmk_gcm_ctx_pass - one record after a start */
int cmk_gcm_ctx_pass(cmk_gcm_ctx *c, const uint8_t *aad, size_t aadlen, const uint8_t *in,
                     size_t len, uint8_t *out, uint8_t tag[CMK_GCM_TAG_LEN])
{
    if (c->impl ? !c->alg : !c->evp)
        return -1; /* no start: no key, no IV */
    return c->impl ? pass_provider(c, aad, aadlen, in, len, out, tag)
                   : pass_evp(c, aad, aadlen, in, len, out, tag);
}

/* cmk_gcm_ctx_reset - free the algorithm context (the implementation wipes the key schedule) */
void cmk_gcm_ctx_reset(cmk_gcm_ctx *c)
{
    if (!c)
        return;
    if (c->alg && c->impl)
        c->impl->freectx(c->alg);
    c->alg = NULL;
    EVP_CIPHER_CTX_free(c->evp);
    c->evp = NULL;
}

/* cmk_gcm_ctx_uses_provider - the direct path or EVP */
int cmk_gcm_ctx_uses_provider(const cmk_gcm_ctx *c)
{
    return c && c->impl != NULL;
}
