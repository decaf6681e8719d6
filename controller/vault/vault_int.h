/*
 * vault_int.h - internals shared by the vault_*.c files (not part of the public API):
 * the service struct, stored rows, the operation context, storage, RSA helpers, timers and
 * throttling.
 */
#ifndef CMK_VAULT_INT_H
#define CMK_VAULT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/envelope.h"
#include "vault.h"

#define VAULT_DAY_MS INT64_C(86400000)
#define VAULT_PUB_DER_MAX 640 /* SubjectPublicKeyInfo of a 4096-bit RSA key is 550 bytes */

/* ---- throttling (vault_throttle.c) -------------------------------------------------------- */

typedef struct vault_throttle vault_throttle;

/* vault_tx_class - which budget a transaction draws on */
typedef enum {
    VAULT_TX_MGMT = 0,   /* create, import, update, delete, list, ... */
    VAULT_TX_CRYPTO = 1, /* get, wrap, unwrap, encrypt, decrypt: weighted by key size */
} vault_tx_class;

vault_throttle *vault_throttle_new(const vault_config *cfg);
void vault_throttle_destroy(vault_throttle **self_p);
/* vault_throttle_take - charge one transaction to a vault; CMK_EBUSY with retry-after */
int vault_throttle_take(vault_throttle *self, int64_t vault_id, const char *vault_name,
                        vault_tx_class cls, int bits, cmk_err *err);
/* vault_throttle_forget - drop a purged vault's counters */
void vault_throttle_forget(vault_throttle *self, int64_t vault_id);

/* ---- the service -------------------------------------------------------------------------- */

/* vault_timer_kind - what a scheduled clock timer does */
typedef enum { VT_ROTATE = 1, VT_KEY_PURGE = 2, VT_VAULT_PURGE = 3 } vault_timer_kind;

/* vault_timer - one clock timer the service scheduled (the timer's callback argument) */
typedef struct vault_timer {
    struct vault_timer *next; /* list of pending timers */
    vault_svc *svc;           /* owning service */
    int64_t clock_id;         /* id from cmk_clock_timer_add */
    vault_timer_kind kind;    /* what to do */
    int64_t row;              /* key id (VT_ROTATE, VT_KEY_PURGE) or vault id */
    int64_t at_ms;            /* due time */
} vault_timer;

struct vault_svc {
    pthread_mutex_t mu;       /* guards everything below and every database use */
    sqlite3 *db;              /* controller.db (caller's) */
    cmk_clock *clock;         /* controller clock (caller's) */
    audit_log *audit;         /* audit log (caller's), may be NULL */
    cmk_dek *master;          /* master key as a DEK: seals key material and backups */
    cmk_sealer *sealer;       /* cipher contexts, used under mu */
    vault_config cfg;         /* settings (dns_suffix points into dns_buf) */
    char dns_buf[128];        /* copy of cfg.dns_suffix */
    vault_throttle *throttle; /* per-vault transaction windows */
    vault_rotate_hook hook;   /* rotation hook, may be NULL */
    void *hook_arg;           /* its argument */
    vault_timer *timers;      /* pending clock timers */
    int in_sweep;             /* 1 while purging due objects (no recursion) */
};

/* ---- stored rows -------------------------------------------------------------------------- */

/* vrow - a row of vault_vaults */
typedef struct {
    int64_t id;                           /* row id */
    char tenant[VAULT_PRINCIPAL_MAX];     /* tenant id */
    char name[VAULT_NAME_MAX];            /* vault name */
    char region[VAULT_REGION_MAX];        /* region */
    int retention_days;                   /* soft-delete retention */
    int soft_delete;                      /* 0/1 */
    int purge_protection;                 /* 0/1 */
    int public_network;                   /* 0/1 */
    char created_by[VAULT_PRINCIPAL_MAX]; /* creator */
    int64_t created_ms;                   /* creation time */
    int64_t updated_ms;                   /* last change */
    int64_t deleted_ms;                   /* 0 unless soft-deleted */
    int64_t purge_ms;                     /* scheduled purge when deleted */
} vrow;

/* krow - a row of vault_keys */
typedef struct {
    int64_t id;                    /* row id */
    int64_t vault_id;              /* owning vault */
    char name[VAULT_KEY_NAME_MAX]; /* key name */
    unsigned key_ops;              /* vault_keyop mask */
    int enabled;                   /* key-level enabled flag */
    char *tags;                    /* tags as a JSON object text (malloc'd) */
    int64_t current;               /* row id of the current version */
    int64_t created_ms;            /* creation time */
    int64_t updated_ms;            /* last change */
    int64_t deleted_ms;            /* 0 unless soft-deleted */
    int64_t purge_ms;              /* scheduled purge when deleted */
    int64_t rot_after_ms;          /* policy: rotate after create (0: none) */
    int64_t rot_before_ms;         /* policy: rotate before expiry (0: none) */
    int64_t rot_expiry_ms;         /* policy: new versions' lifetime (0: none) */
} krow;

/* verrow - a row of vault_key_versions (without the sealed material) */
typedef struct {
    int64_t id;                      /* row id (bound into the material's seal) */
    int64_t key_id;                  /* owning key */
    char version[VAULT_VERSION_MAX]; /* version id */
    vault_kty kty;                   /* RSA or RSA-HSM */
    int bits;                        /* modulus size */
    int enabled;                     /* version enabled flag */
    int64_t nbf_ms;                  /* activation date, 0 if none */
    int64_t exp_ms;                  /* expiry date, 0 if none */
    int64_t created_ms;              /* creation time */
    int64_t updated_ms;              /* last change */
    uint8_t pub[VAULT_PUB_DER_MAX];  /* public key, SubjectPublicKeyInfo DER */
    size_t pub_len;                  /* its length */
} verrow;

void krow_clear(krow *k);
void krows_free(krow **arr, size_t n);

/* ---- operation context (vault.c) ---------------------------------------------------------- */

/* vault_op - one public call: holds the lock, collects audit detail and a rotation event */
typedef struct {
    vault_svc *svc;        /* service */
    const char *principal; /* caller */
    const char *operation; /* audit operation name */
    char target[VAULT_NAME_MAX + VAULT_KEY_NAME_MAX + VAULT_VERSION_MAX + 8]; /* audit target */
    char detail[384];                    /* audit detail on success */
    int locked;                          /* 1 while svc->mu is held */
    int notify;                          /* 1: call the rotation hook at the end */
    char ev_tenant[VAULT_PRINCIPAL_MAX]; /* rotation event fields */
    char ev_vault[VAULT_NAME_MAX];
    char ev_key[VAULT_KEY_NAME_MAX];
    char ev_old[VAULT_VERSION_MAX];
    char ev_new[VAULT_VERSION_MAX];
    char ev_kid[VAULT_KID_MAX];
    const char *ev_reason;
    int64_t ev_at;
} vault_op;

/* vop_begin - lock, purge what is due, set the audit target "vault[/key[/version]]" */
void vop_begin(vault_op *op, vault_svc *svc, const char *principal, const char *operation,
               const char *vault, const char *key, const char *version);
/* vop_set_target - replace the audit target once the names are known */
void vop_set_target(vault_op *op, const char *vault, const char *key, const char *version);
void vop_lock(vault_op *op);
void vop_unlock(vault_op *op);
/* vop_end - unlock, audit (detail or err's message), call the rotation hook; returns rc */
int vop_end(vault_op *op, int rc, cmk_err *err);

/* vault_open_for - load a vault by name for an operation: not deleted (unless allow_deleted),
 * principal holds perm, and (for mgmt operations, throttle >= 0) charge the throttle */
int vault_open_for(vault_op *op, const char *name, unsigned perm, int allow_deleted, int throttle,
                   vrow *v, cmk_err *err);

/* vault_check_perm - CMK_EPERM naming the permission unless principal holds perm */
int vault_check_perm(vault_svc *svc, const vrow *v, const char *principal, unsigned perm,
                     cmk_err *err);

/* name and input checks */
int vault_check_principal(const char *principal, cmk_err *err);
int vault_check_key_name(const char *name, cmk_err *err);
int vault_check_tags(const cJSON *tags, cmk_err *err);
const char *vault_recovery_level(const vrow *v, char *buf, size_t cap);
void vault_make_kid(const vault_svc *svc, const char *vault, const char *key, const char *version,
                    char *out, size_t cap);
void vault_time_str(int64_t ms, char *buf, size_t cap);

/* ---- storage (vault_store.c, vault_store_keys.c)
 * -------------------------------------------------------------- */

int vstore_init(vault_svc *svc, cmk_err *err);
int vstore_begin(vault_svc *svc, cmk_err *err);
int vstore_commit(vault_svc *svc, cmk_err *err);
void vstore_rollback(vault_svc *svc);
int vstore_fail(vault_svc *svc, cmk_err *err, const char *what);
/* small statement helpers shared by vault_store.c and vault_store_keys.c */
int vstore_prep(vault_svc *svc, const char *sql, sqlite3_stmt **st, cmk_err *err);
int vstore_step_done(vault_svc *svc, sqlite3_stmt *st, cmk_err *err, const char *what);
void vstore_col_text(sqlite3_stmt *st, int i, char *out, size_t cap);
int vstore_exec_id(vault_svc *svc, const char *sql, int64_t id, cmk_err *err, const char *what);
int vstore_grow(void **arr, size_t n, size_t *cap, size_t size);

int vstore_vault_by_name(vault_svc *svc, const char *name, vrow *out, cmk_err *err);
int vstore_vault_by_id(vault_svc *svc, int64_t id, vrow *out, cmk_err *err);
int vstore_vault_insert(vault_svc *svc, vrow *v, cmk_err *err);
int vstore_vault_update(vault_svc *svc, const vrow *v, cmk_err *err);
int vstore_vault_purge(vault_svc *svc, int64_t id, cmk_err *err);
int vstore_vaults_list(vault_svc *svc, const char *tenant, vrow **out, size_t *n, cmk_err *err);
int vstore_vaults_due(vault_svc *svc, int64_t now, int64_t **ids, size_t *n, cmk_err *err);

int vstore_access_get(vault_svc *svc, int64_t vault_id, const char *principal, unsigned *perms,
                      cmk_err *err);
int vstore_access_set(vault_svc *svc, int64_t vault_id, const char *principal, unsigned perms,
                      cmk_err *err);
int vstore_access_list(vault_svc *svc, int64_t vault_id, vault_access_entry **out, size_t *n,
                       cmk_err *err);

/* vstore_key_by_name - CMK_ENOENT (with a message naming vault and key) if absent */
int vstore_key_by_name(vault_svc *svc, const vrow *v, const char *name, krow *out, cmk_err *err);
int vstore_key_by_id(vault_svc *svc, int64_t id, krow *out, cmk_err *err);
int vstore_key_insert(vault_svc *svc, krow *k, cmk_err *err);
int vstore_key_update(vault_svc *svc, const krow *k, cmk_err *err);
int vstore_key_purge(vault_svc *svc, int64_t id, cmk_err *err);
int vstore_keys_list(vault_svc *svc, int64_t vault_id, vault_key_list_flags which, krow **out,
                     size_t *n, cmk_err *err);
int vstore_keys_due(vault_svc *svc, int64_t now, int64_t **ids, size_t *n, cmk_err *err);
int vstore_keys_with_timers(vault_svc *svc, int64_t **ids, size_t *n, cmk_err *err);

/* vstore_version_get - by version id, or the current one when version is NULL or "" */
int vstore_version_get(vault_svc *svc, const vrow *v, const krow *k, const char *version,
                       verrow *out, cmk_err *err);
int vstore_versions_list(vault_svc *svc, int64_t key_id, verrow **out, size_t *n, cmk_err *err);
/* vstore_version_insert - insert a version and its private key (PKCS#8 DER) sealed */
int vstore_version_insert(vault_svc *svc, const char *tenant, verrow *ver, const uint8_t *der,
                          size_t der_len, cmk_err *err);
int vstore_version_update(vault_svc *svc, const verrow *ver, cmk_err *err);
/* vstore_version_private - the version's private key, unsealed */
int vstore_version_private(vault_svc *svc, const char *tenant, const verrow *ver, EVP_PKEY **out,
                           cmk_err *err);
/* vstore_version_der - the version's private key as PKCS#8 DER (wipe and free it) */
int vstore_version_der(vault_svc *svc, const char *tenant, const verrow *ver, uint8_t **der,
                       size_t *len, cmk_err *err);

/* ---- RSA and encoding helpers (vault_rsa.c) ----------------------------------------------- */

int vrsa_check_bits(int bits, cmk_err *err);
int vrsa_generate(int bits, EVP_PKEY **out, cmk_err *err);
/* vrsa_parse_private - PEM (any private key form, encrypted with password), DER, PKCS#12 */
int vrsa_parse_private(const uint8_t *data, size_t len, const char *password, EVP_PKEY **out,
                       cmk_err *err);
/* vrsa_check_key - an RSA key of an accepted size; *bits gets it */
int vrsa_check_key(EVP_PKEY *pk, int *bits, cmk_err *err);
int vrsa_private_der(EVP_PKEY *pk, uint8_t **der, size_t *len, cmk_err *err);
int vrsa_public_der(EVP_PKEY *pk, uint8_t *buf, size_t cap, size_t *len, cmk_err *err);
int vrsa_from_private_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err);
int vrsa_from_public_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err);
int vrsa_from_public_pem(const char *pem, EVP_PKEY **out, cmk_err *err);
int vrsa_public_pem(EVP_PKEY *pk, char **pem, cmk_err *err);
int vrsa_public_ne(EVP_PKEY *pk, char *n, size_t ncap, char *e, size_t ecap, cmk_err *err);
/* vrsa_oaep - RSA-OAEP with md (and MGF1 md) encrypt (public) or decrypt (private) */
int vrsa_oaep(EVP_PKEY *pk, int encrypt, const EVP_MD *md, const uint8_t *in, size_t in_len,
              uint8_t **out, size_t *out_len, cmk_err *err);
/* vrsa_random_version - 32 random hex characters */
int vrsa_random_version(char out[VAULT_VERSION_MAX], cmk_err *err);

/* vb64url_encode - base64url without padding; *out malloc'd */
int vb64url_encode(const uint8_t *in, size_t n, char **out);
/* vb64_decode - base64 or base64url, padding optional, whitespace ignored; *out malloc'd */
int vb64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len);

/* vjson_wipe_delete - wipe every string in a JSON tree, then delete it */
void vjson_wipe_delete(cJSON *j);

/* ---- keys internals (vault_keys.c) -------------------------------------------------------- */

/* vkeys_store_new_version - under the lock: add pk as a new current version of key `name` in
 * vault v (creating the key if needed); fills out and the op's rotation event */
int vkeys_store_new_version(vault_op *op, const vrow *v, const char *name, EVP_PKEY *pk,
                            const vault_key_params *params, const char *reason, vault_key_info *out,
                            cmk_err *err);
/* vkeys_prepare_new - checks before adding a version: vault (perm), name, params, not a
 * deleted key (lock held) */
int vkeys_prepare_new(vault_op *op, const char *vault, const char *name, unsigned perm,
                      const vault_key_params *p, vrow *v, cmk_err *err);
/* vkeys_reopen_vault - reload a vault after the lock was released; it must not be deleted */
int vkeys_reopen_vault(vault_op *op, vrow *v, cmk_err *err);
/* vkeys_fill_info - a key version as vault_key_info */
int vkeys_fill_info(vault_svc *svc, const vrow *v, const krow *k, const verrow *ver,
                    vault_key_info *out, cmk_err *err);
/* vkeys_usable - CMK_ESTATE unless key and version are enabled, active, not expired */
int vkeys_usable(vault_svc *svc, const vrow *v, const krow *k, const verrow *ver, cmk_err *err);
/* vkeys_rotate_by_policy - rotate a key whose policy is due (lock NOT held on entry); run by
 * the rotation timers */
void vkeys_rotate_by_policy(vault_svc *svc, int64_t key_id);

/* ---- timers and purge (vault_policy.c) ---------------------------------------------------- */

/* vtimer_schedule_key - (re)schedule the rotation or purge timer of a key (lock held) */
void vtimer_schedule_key(vault_svc *svc, const krow *k);
/* vtimer_schedule_vault - (re)schedule the purge timer of a vault (lock held) */
void vtimer_schedule_vault(vault_svc *svc, const vrow *v);
/* vtimer_add - schedule one timer of the service (lock held) */
void vtimer_add(vault_svc *svc, vault_timer_kind kind, int64_t row, int64_t at_ms);
/* vtimer_cancel - cancel the service's timers of one kind and row (lock held) */
void vtimer_cancel(vault_svc *svc, vault_timer_kind kind, int64_t row);
/* vtimer_cancel_all - cancel every timer (lock held) */
void vtimer_cancel_all(vault_svc *svc);
/* vpurge_key / vpurge_vault - purge for good, with an audit entry by `principal` (lock held) */
int vpurge_key(vault_svc *svc, int64_t key_id, const char *principal, const char *why,
               cmk_err *err);
int vpurge_vault(vault_svc *svc, int64_t vault_id, const char *principal, const char *why,
                 cmk_err *err);
/* vsweep_due - purge every deleted vault and key past its retention (lock held) */
int vsweep_due(vault_svc *svc, int *purged, cmk_err *err);
/* vpolicy_next_rotation - the due time of a key's next rotation, 0 if none */
int64_t vpolicy_next_rotation(vault_svc *svc, const krow *k);

#endif
