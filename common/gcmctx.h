/*
 * gcmctx.h - one direction's reusable AES-256-GCM context for the envelope's seal and open:
 * the key schedule is set once per DEK, and each record needs only a fresh 12-byte IV.
 *
 * Why not just EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) per record: on OpenSSL 3.0
 * that call asks the provider for the IV length on every init (EVP_CIPHER_CTX_get_iv_length
 * is not cached there: a get_ctx_params round trip that looks up eight parameter names), which
 * is a fifth of the instructions of a whole 256-byte seal. EVP_CipherInit_ex2 takes the same
 * path, and the GCM implementation has no settable "iv" parameter. So the context drives the
 * AES-256-GCM implementation that EVP_CIPHER_fetch chose straight through that provider's
 * dispatch table (OSSL_PROVIDER_query_operation, provider-cipher(7)): encrypt_init with no key
 * and the IV, update, final, and the tag through get/set_ctx_params. These are the functions
 * EVP itself calls, minus its per-call bookkeeping; the provider still checks every step (a
 * second record without a fresh IV is refused: the IV state is "finished" after final).
 *
 * When the provider's table cannot be read, or names the algorithm more than once, the context
 * falls back to EVP (the same sequence as before, through an EVP_CIPHER_CTX).
 */
#ifndef CMK_GCMCTX_H
#define CMK_GCMCTX_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#define CMK_GCM_KEY_LEN 32
#define CMK_GCM_IV_LEN 12
#define CMK_GCM_TAG_LEN 16

/* The provider functions of one AES-256-GCM implementation (all set, or none). */
typedef struct {
    void *provctx;                                  /* the provider's context */
    OSSL_FUNC_cipher_newctx_fn *newctx;             /* a fresh algorithm context */
    OSSL_FUNC_cipher_freectx_fn *freectx;           /* free (the implementation wipes it) */
    OSSL_FUNC_cipher_encrypt_init_fn *einit;        /* key and/or IV, encrypting */
    OSSL_FUNC_cipher_decrypt_init_fn *dinit;        /* key and/or IV, decrypting */
    OSSL_FUNC_cipher_update_fn *update;             /* AAD (out NULL) or data */
    OSSL_FUNC_cipher_final_fn *final;               /* tag computed or checked */
    OSSL_FUNC_cipher_get_ctx_params_fn *get_params; /* the tag, after an encryption */
    OSSL_FUNC_cipher_set_ctx_params_fn *set_params; /* the expected tag, before a decryption */
} cmk_gcm_impl;

/* cmk_gcm_impl_find - the dispatch table of the implementation behind cipher (a fetched
 * AES-256-GCM); 1 if found (impl filled), 0 if not (impl zeroed: use EVP) */
int cmk_gcm_impl_find(const EVP_CIPHER *cipher, cmk_gcm_impl *impl);

/* One direction's context: the provider's algorithm context, or an EVP context. */
typedef struct {
    const cmk_gcm_impl *impl; /* provider functions; NULL: the EVP path */
    const EVP_CIPHER *cipher; /* the cipher (not owned), for the EVP path */
    void *alg;                /* provider path: algorithm context (NULL until keyed) */
    EVP_CIPHER_CTX *evp;      /* EVP path: the context (NULL until keyed) */
    int enc;                  /* 1 seals, 0 opens */
} cmk_gcm_ctx;

/* cmk_gcm_ctx_init - an empty context for direction enc; impl NULL (or one without its
 * functions) selects the EVP path. Nothing is allocated until the first start. */
void cmk_gcm_ctx_init(cmk_gcm_ctx *c, const EVP_CIPHER *cipher, const cmk_gcm_impl *impl, int enc);

/* cmk_gcm_ctx_start - begin one record: key (32 bytes; NULL keeps the key schedule set by an
 * earlier start) and a fresh 12-byte IV. 0, or -1 when OpenSSL refused (error queue left to
 * the caller) */
int cmk_gcm_ctx_start(cmk_gcm_ctx *c, const uint8_t *key, const uint8_t iv[CMK_GCM_IV_LEN]);

/* cmk_gcm_ctx_pass - after a start: AAD, then len bytes in -> out, then the tag (written
 * when sealing, checked when opening). 0, or -1 (opening: the tag does not verify) */
int cmk_gcm_ctx_pass(cmk_gcm_ctx *c, const uint8_t *aad, size_t aadlen, const uint8_t *in,
                     size_t len, uint8_t *out, uint8_t tag[CMK_GCM_TAG_LEN]);

/* cmk_gcm_ctx_reset - drop the key schedule (wiped by the implementation); the next start
 * must give a key */
void cmk_gcm_ctx_reset(cmk_gcm_ctx *c);

/* cmk_gcm_ctx_uses_provider - 1 if the context drives the provider's functions directly */
int cmk_gcm_ctx_uses_provider(const cmk_gcm_ctx *c);

#endif
