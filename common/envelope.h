/*
 * envelope.h - encrypt-on-write: AES-256-GCM blobs sealed under a data key (DEK), bound to
 * their place.
 *
 * Key hierarchy (DESIGN.md section 4): a KEK (customer key in the vault, or the
 * Microsoft-managed key) wraps a per-partition DEK; the DEK seals every sensitive column
 * before it reaches SQLite. This module only knows DEKs; wrapping is the vault's job.
 *
 * Blob format, version 1 (CMK_BLOB_OVERHEAD = 45 bytes over the plaintext):
 *
 *   [0]      format byte, 0x01
 *   [1..16]  DEK id (16 bytes)
 *   [17..28] nonce (12 bytes): 8-byte random prefix drawn per cmk_dek handle + 4-byte counter;
 *            when the counter wraps a new random prefix is drawn (no syscall per record)
 *   [29..]   ciphertext (same length as the plaintext)
 *   [..+16]  GCM tag
 *
 * The AAD is the blob header (format byte and DEK id) plus the place, each field
 * length-prefixed: environment, table, row, column. Byte for byte:
 *   format (1) | DEK id (16) | for env, table, row, column: length (4, big-endian) | bytes
 * so ("ab","c") and ("a","bc") give different AADs. A blob copied to another row, column,
 * table or environment fails to open, as does one opened under another DEK or with a flipped
 * bit. A DEK seals at most cmk_dek_limit() records (default CMK_DEK_DEFAULT_LIMIT); past that,
 * sealing fails with CMK_ELIMIT and the DEK must rotate.
 *
 * Thread safety: a cmk_dek may be used by several threads at once (the counter is atomic);
 * each thread uses its own cmk_sealer (which holds the reusable OpenSSL cipher contexts).
 */
#ifndef CMK_ENVELOPE_H
#define CMK_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CMK_DEK_KEY_LEN 32
#define CMK_DEK_ID_LEN 16
#define CMK_BLOB_FORMAT_V1 0x01
#define CMK_BLOB_HEADER_LEN (1 + CMK_DEK_ID_LEN + 12)
#define CMK_BLOB_TAG_LEN 16
#define CMK_BLOB_OVERHEAD (CMK_BLOB_HEADER_LEN + CMK_BLOB_TAG_LEN)
#define CMK_DEK_DEFAULT_LIMIT (UINT64_C(1) << 32)

/* cmk_place - where a blob lives; all four fields are bound into the AAD */
typedef struct {
    const char *env;    /* environment id */
    const char *table;  /* table name */
    const char *row;    /* row key, as text */
    const char *column; /* column name */
} cmk_place;

typedef struct cmk_dek cmk_dek;       /* a data key: 32 key bytes in locked memory + id */
typedef struct cmk_sealer cmk_sealer; /* per-thread reusable cipher contexts */

/* cmk_dek_generate - a fresh random DEK with a fresh random id; NULL on failure */
cmk_dek *cmk_dek_generate(cmk_err *err);

/* cmk_dek_from_bytes - a DEK from its id and key bytes (e.g. just unwrapped). The caller
 * still owns and must wipe `key`. */
cmk_dek *cmk_dek_from_bytes(const uint8_t id[CMK_DEK_ID_LEN], const uint8_t key[CMK_DEK_KEY_LEN],
                            cmk_err *err);

/* cmk_dek_destroy - wipe the key bytes, unlock and free; accepts NULL, nulls the pointer */
void cmk_dek_destroy(cmk_dek **self_p);

/* cmk_dek_id - the 16-byte id */
const uint8_t *cmk_dek_id(const cmk_dek *self);

/* cmk_dek_id_hex - the id as 32 hex characters plus NUL into buf (cap >= 33) */
char *cmk_dek_id_hex(const cmk_dek *self, char *buf, size_t cap);

/* cmk_dek_key - the key bytes, for wrapping by a KEK; never log or store them in the clear */
const uint8_t *cmk_dek_key(const cmk_dek *self);

/* cmk_dek_set_limit / cmk_dek_limit / cmk_dek_sealed - the bound on records and the count so
 * far (the count starts at `already_sealed` given here, e.g. restored from storage) */
void cmk_dek_set_limit(cmk_dek *self, uint64_t limit, uint64_t already_sealed);
uint64_t cmk_dek_limit(const cmk_dek *self);
uint64_t cmk_dek_sealed(const cmk_dek *self);

/* cmk_sealer_new / destroy - one per thread */
cmk_sealer *cmk_sealer_new(cmk_err *err);
void cmk_sealer_destroy(cmk_sealer **self_p);

/* cmk_seal - seal plain[0..len) at place under dek into out (cap >= len + CMK_BLOB_OVERHEAD);
 * *out_len gets the blob length */
int cmk_seal(cmk_sealer *s, cmk_dek *dek, const cmk_place *place, const uint8_t *plain,
             size_t len, uint8_t *out, size_t cap, size_t *out_len, cmk_err *err);

/* cmk_open - open a blob sealed at place under dek into out (cap >= blob_len -
 * CMK_BLOB_OVERHEAD); *out_len gets the plaintext length. Fails with CMK_ECRYPTO and a clear
 * message for another DEK, another place, or a tampered blob; CMK_EINVAL for a blob too short
 * or of an unknown format. */
int cmk_open(cmk_sealer *s, const cmk_dek *dek, const cmk_place *place, const uint8_t *blob,
             size_t blob_len, uint8_t *out, size_t cap, size_t *out_len, cmk_err *err);

/* cmk_blob_dek_id - the DEK id a blob was sealed under (to pick the key); CMK_EINVAL if the
 * blob is too short or of an unknown format */
int cmk_blob_dek_id(const uint8_t *blob, size_t blob_len, uint8_t id[CMK_DEK_ID_LEN],
                    cmk_err *err);

/* cmk_wipe - wipe a buffer holding a secret (OPENSSL_cleanse) */
void cmk_wipe(void *p, size_t n);

/* Additions below: not part of the original API, used by tests and tools. */

#define CMK_BLOB_NONCE_LEN 12

/* cmk_dek_nonce_skip - move the DEK's nonce sequence forward by n (never backward, so no
 * nonce is ever reused); a test hook to reach the 32-bit counter wrap, where a new random
 * prefix is drawn. CMK_EINVAL if the sequence would pass 2^63. */
int cmk_dek_nonce_skip(cmk_dek *self, uint64_t n, cmk_err *err);

/* cmk_sealer_forget - drop the key schedules the sealer caches (call after a DEK is wiped on
 * lock or revoke, so no expanded key lingers in the cipher contexts); accepts NULL */
void cmk_sealer_forget(cmk_sealer *s);

/* cmk_sealer_direct - 1 if the sealer drives the provider's AES-256-GCM functions directly
 * (a fresh IV per record without an EVP init; see gcmctx.h), 0 if it goes through EVP */
int cmk_sealer_direct(const cmk_sealer *s);

/* cmk_sealer_use_evp - test hook: forget the key schedules and go through EVP from now on (the
 * fallback when the provider's functions cannot be reached); accepts NULL */
void cmk_sealer_use_evp(cmk_sealer *s);

/* cmk_gcm256_seal_raw - one AES-256-GCM encryption with a 12-byte IV, no blob framing (for
 * known-answer tests): ct gets len bytes, tag gets 16 */
int cmk_gcm256_seal_raw(const uint8_t key[CMK_DEK_KEY_LEN], const uint8_t iv[CMK_BLOB_NONCE_LEN],
                        const uint8_t *aad, size_t aadlen, const uint8_t *plain, size_t len,
                        uint8_t *ct, uint8_t tag[CMK_BLOB_TAG_LEN], cmk_err *err);

/* cmk_gcm256_open_raw - the inverse: plain gets len bytes (wiped on failure); CMK_ECRYPTO if
 * the tag does not verify */
int cmk_gcm256_open_raw(const uint8_t key[CMK_DEK_KEY_LEN], const uint8_t iv[CMK_BLOB_NONCE_LEN],
                        const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t len,
                        const uint8_t tag[CMK_BLOB_TAG_LEN], uint8_t *plain, cmk_err *err);

#endif
