/*
 * envelope.c - encrypt-on-write: AES-256-GCM blobs sealed under a DEK and bound to their place.
 *
 * The fast path of a seal costs: one compare-and-swap on the DEK's record count (the limit),
 * one fetch-add on the DEK's nonce sequence, a lock-free read of the current nonce prefix, an
 * AAD built on the stack, and one GCM pass through a cipher context that already holds the
 * DEK's key schedule (only the IV is set per record, straight through the provider's
 * encrypt_init rather than a whole EVP_CipherInit_ex: gcmctx.h). No malloc, no syscall per
 * record.
 *
 * Nonces: the 64-bit sequence splits into an epoch (high 32 bits) and a counter (low 32 bits).
 * Each epoch gets its own random 8-byte prefix, drawn once (epoch 0 when the handle is made,
 * later ones by the first thread to need them, under a mutex). A prefix is only ever used with
 * the epoch it was drawn for, and fetch-add never hands out a sequence value twice, so a
 * (prefix, counter) pair is never repeated within a handle. A forked child that inherits a
 * handle moves to a fresh epoch (and so a fresh prefix) before its first seal.
 */
#include "envelope.h"

#include "gcmctx.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define NONCE_PREFIX_LEN 8
#define PREFIX_SLOTS 4                   /* recent epochs whose prefixes stay readable */
#define AAD_STACK 1024                   /* AADs up to this size are built on the stack */
#define SEQ_MAX (UINT64_C(1) << 63)      /* nonce sequence values at or past this are refused */
#define RECORD_MAX ((size_t)INT_MAX)     /* one record is at most this long (EVP takes int) */
#define OFF_ID 1                         /* offset of the DEK id in a blob */
#define OFF_NONCE (1 + CMK_DEK_ID_LEN)   /* offset of the nonce */
#define OFF_CT CMK_BLOB_HEADER_LEN       /* offset of the ciphertext */
#define HEX_LEN (2 * CMK_DEK_ID_LEN + 1) /* DEK id as hex plus NUL */

/* The nonce prefix of one epoch, readable without a lock (seqlock style: tag, prefix, tag). */
typedef struct {
    _Atomic uint64_t tag;    /* epoch + 1 whose prefix this slot holds; 0 = empty or changing */
    _Atomic uint64_t prefix; /* the 8 prefix bytes, in memory order */
} dek_prefix_slot;

/* A data key; lives alone in its own mlock()ed, non-dumped anonymous mapping. */
struct cmk_dek {
    uint8_t key[CMK_DEK_KEY_LEN];        /* the key bytes: never logged, wiped on destroy */
    uint8_t id[CMK_DEK_ID_LEN];          /* public id, written into every blob */
    uint64_t gen;                        /* process-unique generation, for sealer key caches */
    size_t map_len;                      /* length of the mapping holding this struct */
    int locked;                          /* 1 if mlock() succeeded */
    _Atomic uint64_t limit;              /* records this DEK may seal in all */
    _Atomic uint64_t sealed;             /* records sealed so far, restored count included */
    _Atomic uint64_t seq;                /* nonce sequence: epoch << 32 | counter */
    _Atomic uint64_t forks;              /* fork generation the prefixes were drawn in */
    dek_prefix_slot slots[PREFIX_SLOTS]; /* prefixes of recent epochs, at epoch % PREFIX_SLOTS */
    pthread_mutex_t wrap_lock;           /* serialises drawing the prefix of a new epoch */
};

/* Per-thread cipher contexts, each remembering which DEK's key schedule it holds. */
struct cmk_sealer {
    EVP_CIPHER *cipher;     /* AES-256-GCM, fetched once (keeps its provider loaded) */
    cmk_gcm_impl impl;      /* that implementation's provider functions (zeroed: EVP path) */
    cmk_gcm_ctx enc;        /* context for sealing */
    cmk_gcm_ctx dec;        /* context for opening */
    const cmk_dek *enc_dek; /* DEK whose key is in enc (NULL: none) */
    uint64_t enc_gen;       /* and its generation, so a reused address is not mistaken */
    const cmk_dek *dec_dek; /* DEK whose key is in dec (NULL: none) */
    uint64_t dec_gen;       /* and its generation */
};

static _Atomic uint64_t dek_next_gen = 1;            /* next DEK generation number */
static _Atomic uint64_t fork_gen;                    /* bumped in every forked child */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT; /* installs the fork hook once */

/* on_fork_child - a child must not reuse the prefixes (and counters) it inherited */
static void on_fork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
}

/* fork_hook_install - register on_fork_child once per process */
static void fork_hook_install(void)
{
    (void)pthread_atfork(NULL, NULL, on_fork_child);
}

/* cmk_wipe - wipe a buffer holding a secret (OPENSSL_cleanse) */
void cmk_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

/* hex_id - a DEK id as 32 lowercase hex characters plus NUL */
static void hex_id(const uint8_t id[CMK_DEK_ID_LEN], char out[HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < CMK_DEK_ID_LEN; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 0x0f];
    }
    out[2 * CMK_DEK_ID_LEN] = '\0';
}

/* put_be32 - write v big-endian */
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* dek_alloc - a zeroed DEK in its own locked mapping, with its atomics and mutex set up */
static cmk_dek *dek_alloc(cmk_err *err)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096;
    size_t len = (sizeof(cmk_dek) + pg - 1) / pg * pg;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cmk_dek *dek;

    (void)pthread_once(&fork_once, fork_hook_install);
    if (p == MAP_FAILED) {
        cmk_err_set(err, CMK_ENOMEM, "cannot map %zu bytes for a data key: out of memory", len);
        return NULL;
    }
#ifdef MADV_DONTDUMP
    (void)madvise(p, len, MADV_DONTDUMP); /* keep the key out of core dumps where possible */
#endif
    dek = p;
    dek->map_len = len;
    dek->locked = mlock(p, len) == 0; /* RLIMIT_MEMLOCK may refuse; the key still works */
    dek->gen = atomic_fetch_add(&dek_next_gen, 1);
    atomic_init(&dek->limit, CMK_DEK_DEFAULT_LIMIT);
    atomic_init(&dek->sealed, 0);
    atomic_init(&dek->seq, 0);
    atomic_init(&dek->forks, atomic_load(&fork_gen));
    for (size_t i = 0; i < PREFIX_SLOTS; i++) {
        atomic_init(&dek->slots[i].tag, 0);
        atomic_init(&dek->slots[i].prefix, 0);
    }
    if (pthread_mutex_init(&dek->wrap_lock, NULL) != 0) {
        if (dek->locked)
            munlock(p, len);
        munmap(p, len);
        cmk_err_set(err, CMK_ENOMEM, "cannot set up the lock of a data key");
        return NULL;
    }
    return dek;
}

/* dek_first_prefix - draw the nonce prefix of epoch 0 */
static int dek_first_prefix(cmk_dek *dek, cmk_err *err)
{
    uint64_t prefix;

    if (RAND_bytes((unsigned char *)&prefix, sizeof prefix) != 1) {
        ERR_clear_error();
        return cmk_err_set(err, CMK_ECRYPTO,
                           "the random generator failed drawing a nonce prefix; check the "
                           "OpenSSL entropy source");
    }
    atomic_store(&dek->slots[0].prefix, prefix);
    atomic_store(&dek->slots[0].tag, 1);
    return 0;
}

/* cmk_dek_generate - a fresh random DEK with a fresh random id; NULL on failure */
cmk_dek *cmk_dek_generate(cmk_err *err)
{
    cmk_dek *dek = dek_alloc(err);

    if (!dek)
        return NULL;
    if (RAND_priv_bytes(dek->key, sizeof dek->key) != 1 ||
        RAND_bytes(dek->id, sizeof dek->id) != 1) {
        ERR_clear_error();
        cmk_err_set(err, CMK_ECRYPTO,
                    "the random generator failed making a data key; check the OpenSSL "
                    "entropy source");
        cmk_dek_destroy(&dek);
        return NULL;
    }
    if (dek_first_prefix(dek, err) < 0) {
        cmk_dek_destroy(&dek);
        return NULL;
    }
    return dek;
}

/* cmk_dek_from_bytes - a DEK from its id and key bytes (the caller still wipes `key`) */
cmk_dek *cmk_dek_from_bytes(const uint8_t id[CMK_DEK_ID_LEN], const uint8_t key[CMK_DEK_KEY_LEN],
                            cmk_err *err)
{
    cmk_dek *dek;

    if (!id || !key) {
        cmk_err_set(err, CMK_EINVAL, "a data key needs a 16-byte id and 32 key bytes");
        return NULL;
    }
    dek = dek_alloc(err);
    if (!dek)
        return NULL;
    memcpy(dek->key, key, sizeof dek->key);
    memcpy(dek->id, id, sizeof dek->id);
    if (dek_first_prefix(dek, err) < 0) {
        cmk_dek_destroy(&dek);
        return NULL;
    }
    return dek;
}

/* cmk_dek_destroy - wipe the key bytes, unlock and free; accepts NULL, nulls the pointer */
void cmk_dek_destroy(cmk_dek **self_p)
{
    cmk_dek *dek;
    size_t len;
    int locked;

    if (!self_p || !*self_p)
        return;
    dek = *self_p;
    *self_p = NULL;
    len = dek->map_len;
    locked = dek->locked;
    pthread_mutex_destroy(&dek->wrap_lock);
    OPENSSL_cleanse(dek, len); /* the key and everything else in the mapping */
    if (locked)
        munlock(dek, len);
    munmap(dek, len);
}

/* cmk_dek_id - the 16-byte id */
const uint8_t *cmk_dek_id(const cmk_dek *self)
{
    return self ? self->id : NULL;
}

/* cmk_dek_id_hex - the id as 32 hex characters plus NUL (truncated to fit a smaller cap) */
char *cmk_dek_id_hex(const cmk_dek *self, char *buf, size_t cap)
{
    char hex[HEX_LEN];
    size_t n;

    if (!buf || cap == 0)
        return buf;
    if (!self) {
        buf[0] = '\0';
        return buf;
    }
    hex_id(self->id, hex);
    n = cap - 1 < HEX_LEN - 1 ? cap - 1 : HEX_LEN - 1;
    memcpy(buf, hex, n);
    buf[n] = '\0';
    return buf;
}

/* cmk_dek_key - the key bytes, for wrapping by a KEK */
const uint8_t *cmk_dek_key(const cmk_dek *self)
{
    return self ? self->key : NULL;
}

/* cmk_dek_set_limit - set the bound on records and the count sealed so far */
void cmk_dek_set_limit(cmk_dek *self, uint64_t limit, uint64_t already_sealed)
{
    if (!self)
        return;
    atomic_store(&self->limit, limit);
    atomic_store(&self->sealed, already_sealed);
}

/* cmk_dek_limit - the bound on records */
uint64_t cmk_dek_limit(const cmk_dek *self)
{
    return self ? atomic_load(&((cmk_dek *)self)->limit) : 0;
}

/* cmk_dek_sealed - the records sealed so far */
uint64_t cmk_dek_sealed(const cmk_dek *self)
{
    return self ? atomic_load(&((cmk_dek *)self)->sealed) : 0;
}

/* cmk_dek_nonce_skip - move the nonce sequence forward by n (test hook for the wrap path) */
int cmk_dek_nonce_skip(cmk_dek *self, uint64_t n, cmk_err *err)
{
    uint64_t cur;

    if (!self)
        return cmk_err_set(err, CMK_EINVAL, "no data key given to skip nonces on");
    cur = atomic_load(&self->seq);
    do {
        if (n > SEQ_MAX || cur > SEQ_MAX - n)
            return cmk_err_set(err, CMK_EINVAL,
                               "cannot skip %" PRIu64 " nonces: the sequence would pass 2^63", n);
    } while (!atomic_compare_exchange_weak(&self->seq, &cur, cur + n));
    return 0;
}

/* dek_take - count one record against the DEK's limit, or fail with CMK_ELIMIT */
static int dek_take(cmk_dek *dek, cmk_err *err)
{
    uint64_t limit = atomic_load_explicit(&dek->limit, memory_order_relaxed);
    uint64_t n = atomic_load_explicit(&dek->sealed, memory_order_relaxed);

    do {
        if (n >= limit) {
            char hex[HEX_LEN];
            hex_id(dek->id, hex);
            return cmk_err_set(err, CMK_ELIMIT,
                               "DEK %s has sealed %" PRIu64 " records, its limit of %" PRIu64
                               ": the DEK must rotate (seal new rows under a new DEK and "
                               "re-encrypt old ones)",
                               hex, n, limit);
        }
    } while (!atomic_compare_exchange_weak_explicit(&dek->sealed, &n, n + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    return 0;
}

/* dek_prefix_draw - slow path: find or draw the prefix of epoch under the wrap lock */
static int dek_prefix_draw(cmk_dek *dek, uint64_t epoch, uint64_t *prefix, cmk_err *err)
{
    dek_prefix_slot *slot = &dek->slots[epoch % PREFIX_SLOTS];
    uint64_t want = epoch + 1;
    uint64_t p;
    int rc = 0;

    pthread_mutex_lock(&dek->wrap_lock);
    if (atomic_load(&slot->tag) == want) {
        *prefix = atomic_load(&slot->prefix); /* another thread drew it; writers hold the lock */
    } else if (RAND_bytes((unsigned char *)&p, sizeof p) != 1) {
        ERR_clear_error();
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "the random generator failed drawing a new nonce prefix; check the "
                         "OpenSSL entropy source");
    } else {
        atomic_store(&slot->tag, 0); /* readers who see 0 or a changed tag come here */
        atomic_store(&slot->prefix, p);
        atomic_store(&slot->tag, want);
        *prefix = p;
    }
    pthread_mutex_unlock(&dek->wrap_lock);
    return rc;
}

/* dek_after_fork - in a forked child: move to a fresh epoch, forget the inherited prefixes */
static void dek_after_fork(cmk_dek *dek)
{
    pthread_mutex_lock(&dek->wrap_lock);
    if (atomic_load(&dek->forks) != atomic_load(&fork_gen)) {
        uint64_t cur = atomic_load(&dek->seq);
        uint64_t next = ((cur >> 32) + 1) << 32;
        while (next > cur && !atomic_compare_exchange_weak(&dek->seq, &cur, next))
            next = ((cur >> 32) + 1) << 32;
        for (size_t i = 0; i < PREFIX_SLOTS; i++)
            atomic_store(&dek->slots[i].tag, 0);
        atomic_store(&dek->forks, atomic_load(&fork_gen));
    }
    pthread_mutex_unlock(&dek->wrap_lock);
}

/* dek_nonce - the next unique nonce of this DEK handle */
static int dek_nonce(cmk_dek *dek, uint8_t nonce[CMK_BLOB_NONCE_LEN], cmk_err *err)
{
    uint64_t s, epoch, prefix = 0;
    dek_prefix_slot *slot;
    int rc;

    if (atomic_load_explicit(&dek->forks, memory_order_acquire) !=
        atomic_load_explicit(&fork_gen, memory_order_relaxed))
        dek_after_fork(dek);
    s = atomic_fetch_add_explicit(&dek->seq, 1, memory_order_relaxed);
    epoch = s >> 32;
    slot = &dek->slots[epoch % PREFIX_SLOTS];
    if (s >= SEQ_MAX) {
        char hex[HEX_LEN];
        hex_id(dek->id, hex);
        return cmk_err_set(err, CMK_ELIMIT,
                           "DEK %s has used up its nonce space: the DEK must rotate", hex);
    }
    if (atomic_load(&slot->tag) == epoch + 1) {
        prefix = atomic_load(&slot->prefix);
        if (atomic_load(&slot->tag) != epoch + 1 &&
            (rc = dek_prefix_draw(dek, epoch, &prefix, err)) < 0)
            return rc; /* the slot changed under us: take the slow path */
    } else if ((rc = dek_prefix_draw(dek, epoch, &prefix, err)) < 0) {
        return rc;
    }
    memcpy(nonce, &prefix, NONCE_PREFIX_LEN);
    put_be32(nonce + NONCE_PREFIX_LEN, (uint32_t)s);
    return 0;
}

/* check_place - every field of a place must be present */
static int check_place(const cmk_place *place, cmk_err *err)
{
    if (!place)
        return cmk_err_set(err, CMK_EINVAL,
                           "no place given: a blob is bound to "
                           "environment, table, row and column");
    if (!place->env || !place->table || !place->row || !place->column)
        return cmk_err_set(err, CMK_EINVAL,
                           "incomplete place (the %s is missing): a blob is bound to "
                           "environment, table, row and column",
                           !place->env     ? "environment"
                           : !place->table ? "table"
                           : !place->row   ? "row"
                                           : "column");
    return 0;
}

/* aad_build - format | id | each place field length-prefixed; *aad is buf or a heap copy */
static int aad_build(const uint8_t id[CMK_DEK_ID_LEN], const cmk_place *place, uint8_t *buf,
                     size_t cap, uint8_t **aad, size_t *aadlen, cmk_err *err)
{
    const char *fields[4] = {place->env, place->table, place->row, place->column};
    size_t lens[4];
    size_t total = 1 + CMK_DEK_ID_LEN;
    uint8_t *p;

    for (size_t i = 0; i < 4; i++) {
        lens[i] = strlen(fields[i]);
        if (lens[i] > UINT32_MAX || lens[i] > RECORD_MAX - total - 4)
            return cmk_err_set(err, CMK_EINVAL, "a place field of %zu bytes is too long", lens[i]);
        total += 4 + lens[i];
    }
    p = total <= cap ? buf : malloc(total);
    if (!p)
        return cmk_err_set(err, CMK_ENOMEM,
                           "out of memory building the AAD of a %zu-byte "
                           "place",
                           total);
    *aad = p;
    *aadlen = total;
    *p++ = CMK_BLOB_FORMAT_V1;
    memcpy(p, id, CMK_DEK_ID_LEN);
    p += CMK_DEK_ID_LEN;
    for (size_t i = 0; i < 4; i++) {
        put_be32(p, (uint32_t)lens[i]);
        memcpy(p + 4, fields[i], lens[i]);
        p += 4 + lens[i];
    }
    return 0;
}

/* sealer_key - start one record on ctx for dek with iv; the key schedule is set only for a new
 * DEK (a fresh IV is all a cached one needs) */
static int sealer_key(cmk_gcm_ctx *ctx, const cmk_dek **cached, uint64_t *cached_gen,
                      const cmk_dek *dek, const uint8_t *iv)
{
    if (*cached == dek && *cached_gen == dek->gen)
        return cmk_gcm_ctx_start(ctx, NULL, iv);
    *cached = NULL;
    if (cmk_gcm_ctx_start(ctx, dek->key, iv) < 0)
        return -1;
    *cached = dek;
    *cached_gen = dek->gen;
    return 0;
}

/* cmk_sealer_new - one per thread */
cmk_sealer *cmk_sealer_new(cmk_err *err)
{
    cmk_sealer *s = calloc(1, sizeof *s);

    if (!s) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory making a sealer");
        return NULL;
    }
    s->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!s->cipher) {
        ERR_clear_error();
        cmk_err_set(err, CMK_ECRYPTO,
                    "OpenSSL has no AES-256-GCM (or is out of memory); check the OpenSSL 3 "
                    "installation and its default provider");
        cmk_sealer_destroy(&s);
        return NULL;
    }
    (void)cmk_gcm_impl_find(s->cipher, &s->impl); /* not found: the EVP path */
    ERR_clear_error();
    cmk_gcm_ctx_init(&s->enc, s->cipher, &s->impl, 1);
    cmk_gcm_ctx_init(&s->dec, s->cipher, &s->impl, 0);
    return s;
}

/* cmk_sealer_forget - drop the cached key schedules (wiped by OpenSSL on reset) */
void cmk_sealer_forget(cmk_sealer *s)
{
    if (!s)
        return;
    cmk_gcm_ctx_reset(&s->enc);
    cmk_gcm_ctx_reset(&s->dec);
    s->enc_dek = s->dec_dek = NULL;
    s->enc_gen = s->dec_gen = 0;
}

/* cmk_sealer_use_evp - test hook: wipe the contexts and take the EVP path from now on */
void cmk_sealer_use_evp(cmk_sealer *s)
{
    if (!s)
        return;
    cmk_sealer_forget(s);
    cmk_gcm_ctx_init(&s->enc, s->cipher, NULL, 1);
    cmk_gcm_ctx_init(&s->dec, s->cipher, NULL, 0);
}

/* cmk_sealer_direct - 1 if the sealer drives the provider's AES-256-GCM functions directly */
int cmk_sealer_direct(const cmk_sealer *s)
{
    return s && cmk_gcm_ctx_uses_provider(&s->enc) && cmk_gcm_ctx_uses_provider(&s->dec);
}

/* cmk_sealer_destroy - free the contexts (their key schedules are wiped); nulls the pointer */
void cmk_sealer_destroy(cmk_sealer **self_p)
{
    cmk_sealer *s;

    if (!self_p || !*self_p)
        return;
    s = *self_p;
    *self_p = NULL;
    cmk_gcm_ctx_reset(&s->enc);
    cmk_gcm_ctx_reset(&s->dec);
    EVP_CIPHER_free(s->cipher);
    free(s);
}

/* cmk_seal - seal plain[0..len) at place under dek into out */
int cmk_seal(cmk_sealer *s, cmk_dek *dek, const cmk_place *place, const uint8_t *plain, size_t len,
             uint8_t *out, size_t cap, size_t *out_len, cmk_err *err)
{
    uint8_t aadbuf[AAD_STACK];
    uint8_t *aad = NULL;
    size_t aadlen = 0;
    int rc;

    if (!s || !dek || !out || !out_len || (len && !plain))
        return cmk_err_set(err, CMK_EINVAL,
                           "cmk_seal needs a sealer, a DEK, input and an "
                           "output buffer");
    if (len > RECORD_MAX)
        return cmk_err_set(err, CMK_EINVAL,
                           "a record of %zu bytes is too large to seal (limit %zu bytes)", len,
                           RECORD_MAX);
    if (cap < len + CMK_BLOB_OVERHEAD)
        return cmk_err_set(err, CMK_EINVAL,
                           "output buffer of %zu bytes is too small: sealing %zu bytes needs "
                           "%zu",
                           cap, len, len + (size_t)CMK_BLOB_OVERHEAD);
    if ((rc = check_place(place, err)) < 0)
        return rc;
    if ((rc = aad_build(dek->id, place, aadbuf, sizeof aadbuf, &aad, &aadlen, err)) < 0)
        return rc;
    if ((rc = dek_take(dek, err)) < 0 || (rc = dek_nonce(dek, out + OFF_NONCE, err)) < 0)
        goto done;
    out[0] = CMK_BLOB_FORMAT_V1;
    memcpy(out + OFF_ID, dek->id, CMK_DEK_ID_LEN);
    if (sealer_key(&s->enc, &s->enc_dek, &s->enc_gen, dek, out + OFF_NONCE) < 0 ||
        cmk_gcm_ctx_pass(&s->enc, aad, aadlen, plain, len, out + OFF_CT, out + OFF_CT + len) < 0) {
        ERR_clear_error();
        cmk_sealer_forget(s); /* the context's state is unknown: re-key next time */
        cmk_wipe(out, len + CMK_BLOB_OVERHEAD);
        rc = cmk_err_set(err, CMK_ECRYPTO, "AES-256-GCM sealing failed inside OpenSSL");
        goto done;
    }
    *out_len = len + CMK_BLOB_OVERHEAD;
    rc = 0;
done:
    if (aad != aadbuf)
        free(aad);
    return rc;
}

/* blob_check - a blob must be long enough and of a known format */
static int blob_check(const uint8_t *blob, size_t blob_len, cmk_err *err)
{
    if (!blob || blob_len < CMK_BLOB_OVERHEAD)
        return cmk_err_set(err, CMK_EINVAL,
                           "blob too short: %zu bytes, a sealed blob has at least %d; the "
                           "stored value is truncated or not a sealed blob",
                           blob ? blob_len : 0, CMK_BLOB_OVERHEAD);
    if (blob[0] != CMK_BLOB_FORMAT_V1)
        return cmk_err_set(err, CMK_EINVAL,
                           "unknown blob format 0x%02x (this build reads format 0x%02x): the "
                           "value is corrupt, not a sealed blob, or from a newer version",
                           blob[0], CMK_BLOB_FORMAT_V1);
    return 0;
}

/* cmk_open - open a blob sealed at place under dek into out */
int cmk_open(cmk_sealer *s, const cmk_dek *dek, const cmk_place *place, const uint8_t *blob,
             size_t blob_len, uint8_t *out, size_t cap, size_t *out_len, cmk_err *err)
{
    uint8_t aadbuf[AAD_STACK];
    uint8_t tag[CMK_BLOB_TAG_LEN];
    uint8_t *aad = NULL;
    size_t aadlen = 0, len;
    int rc;

    if (!s || !dek || !out_len)
        return cmk_err_set(err, CMK_EINVAL, "cmk_open needs a sealer, a DEK and an output");
    if ((rc = blob_check(blob, blob_len, err)) < 0)
        return rc;
    if (memcmp(blob + OFF_ID, dek->id, CMK_DEK_ID_LEN) != 0) {
        char have[HEX_LEN], want[HEX_LEN];
        hex_id(blob + OFF_ID, have);
        hex_id(dek->id, want);
        return cmk_err_set(err, CMK_ECRYPTO,
                           "blob does not open: it was sealed under DEK %s, not %s; open it "
                           "with that DEK (or it was tampered with)",
                           have, want);
    }
    len = blob_len - CMK_BLOB_OVERHEAD;
    if (len > RECORD_MAX)
        return cmk_err_set(err, CMK_EINVAL, "a blob of %zu bytes is too large to open", blob_len);
    if (cap < len || (len && !out))
        return cmk_err_set(err, CMK_EINVAL,
                           "output buffer of %zu bytes is too small: the blob holds %zu", cap, len);
    if ((rc = check_place(place, err)) < 0)
        return rc;
    /* the AAD takes the id from the blob's own header: a changed header fails the tag too */
    if ((rc = aad_build(blob + OFF_ID, place, aadbuf, sizeof aadbuf, &aad, &aadlen, err)) < 0)
        return rc;
    memcpy(tag, blob + OFF_CT + len, sizeof tag);
    if (sealer_key(&s->dec, &s->dec_dek, &s->dec_gen, dek, blob + OFF_NONCE) < 0) {
        ERR_clear_error();
        cmk_sealer_forget(s);
        rc = cmk_err_set(err, CMK_ECRYPTO, "AES-256-GCM setup failed inside OpenSSL");
    } else if (cmk_gcm_ctx_pass(&s->dec, aad, aadlen, blob + OFF_CT, len, out, tag) < 0) {
        char hex[HEX_LEN];
        ERR_clear_error();
        cmk_wipe(out, len); /* never hand out unauthenticated plaintext */
        hex_id(dek->id, hex);
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         "blob does not open under this key (DEK %s) at %s/%s/%s/%s: it was "
                         "moved, tampered with, or sealed elsewhere",
                         hex, place->env, place->table, place->row, place->column);
    } else {
        *out_len = len;
        rc = 0;
    }
    if (aad != aadbuf)
        free(aad);
    return rc;
}

/* cmk_blob_dek_id - the DEK id a blob was sealed under */
int cmk_blob_dek_id(const uint8_t *blob, size_t blob_len, uint8_t id[CMK_DEK_ID_LEN], cmk_err *err)
{
    int rc = blob_check(blob, blob_len, err);

    if (rc < 0)
        return rc;
    if (!id)
        return cmk_err_set(err, CMK_EINVAL, "no buffer given for the DEK id");
    memcpy(id, blob + OFF_ID, CMK_DEK_ID_LEN);
    return 0;
}

/* gcm_raw - one AES-256-GCM pass with a throwaway EVP context (independent of the sealer's
 * direct path, so known-answer tests and hand-built AADs check that path from outside) */
static int gcm_raw(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                   size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                   cmk_err *err)
{
    cmk_gcm_ctx ctx;
    int rc = 0;

    if (!key || !iv || !tag || (aadlen && !aad) || (len && (!in || !out)))
        return cmk_err_set(err, CMK_EINVAL,
                           "AES-256-GCM needs a key, an IV, a tag buffer and "
                           "its inputs");
    if (len > RECORD_MAX || aadlen > RECORD_MAX)
        return cmk_err_set(err, CMK_EINVAL, "input too large for one AES-256-GCM pass");
    cmk_gcm_ctx_init(&ctx, EVP_aes_256_gcm(), NULL, enc);
    if (cmk_gcm_ctx_start(&ctx, key, iv) < 0) {
        rc = cmk_err_set(err, CMK_ECRYPTO, "AES-256-GCM setup failed inside OpenSSL");
    } else if (cmk_gcm_ctx_pass(&ctx, aad, aadlen, in, len, out, tag) < 0) {
        if (!enc)
            cmk_wipe(out, len);
        rc = cmk_err_set(err, CMK_ECRYPTO,
                         enc ? "AES-256-GCM sealing failed inside OpenSSL"
                             : "AES-256-GCM tag does not verify: wrong key, IV or AAD, or "
                               "the data was tampered with");
    }
    ERR_clear_error();
    cmk_gcm_ctx_reset(&ctx);
    return rc;
}

/* cmk_gcm256_seal_raw - one AES-256-GCM encryption with a 12-byte IV (known-answer tests) */
int cmk_gcm256_seal_raw(const uint8_t key[CMK_DEK_KEY_LEN], const uint8_t iv[CMK_BLOB_NONCE_LEN],
                        const uint8_t *aad, size_t aadlen, const uint8_t *plain, size_t len,
                        uint8_t *ct, uint8_t tag[CMK_BLOB_TAG_LEN], cmk_err *err)
{
    return gcm_raw(1, key, iv, aad, aadlen, plain, len, ct, tag, err);
}

/* cmk_gcm256_open_raw - one AES-256-GCM decryption with a 12-byte IV and tag check */
int cmk_gcm256_open_raw(const uint8_t key[CMK_DEK_KEY_LEN], const uint8_t iv[CMK_BLOB_NONCE_LEN],
                        const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t len,
                        const uint8_t tag[CMK_BLOB_TAG_LEN], uint8_t *plain, cmk_err *err)
{
    uint8_t t[CMK_BLOB_TAG_LEN];

    if (!tag)
        return cmk_err_set(err, CMK_EINVAL, "AES-256-GCM decryption needs the tag");
    memcpy(t, tag, sizeof t);
    return gcm_raw(0, key, iv, aad, aadlen, ct, len, plain, t, err);
}
