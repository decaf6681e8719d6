/*
 * tenantkey_int.h - internals shared by the tenantkey_*.c files (not part of the public API):
 * the service struct, stored rows, the operation context (lock, audit, events), storage,
 * the RSA / PKCS#12 / .byok helpers, timers and the sweep of due transitions.
 */
#ifndef CMK_TENANTKEY_INT_H
#define CMK_TENANTKEY_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/envelope.h"
#include "tenantkey.h"

#define TK_PUB_DER_MAX 640         /* SubjectPublicKeyInfo of an RSA key up to 4096 bits */
#define TK_KEK_VAULT "cmksim-byok" /* the vault name in key-exchange key ids */
#define TK_CHANGE_MAX 192          /* buffer for "what changed the key last" */

/* tk_timer - one clock timer of the service (the timer's callback argument) */
typedef struct tk_timer {
    struct tk_timer *next; /* pending timers */
    tenantkey_svc *svc;    /* owning service */
    int64_t clock_id;      /* id from cmk_clock_timer_add */
    int64_t at_ms;         /* due time */
} tk_timer;

/* tk_event - an event queued under the lock, delivered after it */
typedef struct tk_event {
    struct tk_event *next;         /* queue, oldest first */
    char kind[24];                 /* tenantkey_event.kind */
    char tenant[TENANTKEY_ID_MAX]; /* tenant id */
    char env[TENANTKEY_ID_MAX];    /* environment id or "" */
    char key[TENANTKEY_NAME_MAX];  /* key name or "" */
    int64_t at_ms;                 /* clock time */
} tk_event;

struct tenantkey_svc {
    pthread_mutex_t mu;        /* guards everything below and every database use */
    sqlite3 *db;               /* controller.db (caller's) */
    cmk_clock *clock;          /* controller clock (caller's) */
    audit_log *audit;          /* audit log (caller's), may be NULL */
    directory *dir;            /* tenants and environments (caller's) */
    tenantkey_config cfg;      /* durations (master_key NULL: it lives in `master`) */
    cmk_dek *master;           /* master key as a DEK: seals private keys */
    cmk_sealer *sealer;        /* cipher contexts, used under mu */
    tk_timer *timers;          /* pending clock timers */
    tk_event *events;          /* events to deliver once mu is released */
    tk_event **events_tail;    /* where the next event goes */
    tenantkey_event_hook hook; /* event hook, may be NULL */
    void *hook_arg;            /* its argument */
};

/* ---- stored rows -------------------------------------------------------------------------- */

/* tk_tenant - a row of tk_tenants: a tenant with the feature turned on */
typedef struct {
    char tenant[TENANTKEY_ID_MAX];            /* tenant id */
    int64_t enabled_ms;                       /* when the feature was turned on */
    char enabled_by[TENANTKEY_PRINCIPAL_MAX]; /* by whom */
    int64_t last_migration_ms;                /* last BYOK environment migrated to CMK, 0 */
    int64_t keys_remove_ms;                   /* scheduled removal of every key, 0 if none */
    int64_t keys_removed_ms;                  /* when the keys were removed, 0 if not */
} tk_tenant;

/* tk_scope - a row of tk_scopes: the per tenant-region state */
typedef struct {
    char tenant[TENANTKEY_ID_MAX];                /* tenant id */
    char region[TENANTKEY_REGION_MAX];            /* region */
    int64_t last_activation_ms;                   /* start of the last activation, 0 if none */
    char last_activation_key[TENANTKEY_NAME_MAX]; /* which key */
    int64_t last_change_ms;                       /* last key change or activation, 0 if none */
    char last_change_what[TK_CHANGE_MAX];         /* what it was, for messages */
    int64_t lock_ms;                              /* lock start, 0 if not locked */
    int64_t lock_done_ms;                         /* when the lock process completes */
    int lock_complete;                            /* 1 once the completion was recorded */
    char lock_by[TENANTKEY_PRINCIPAL_MAX];        /* who locked */
    char kek_version[33];                         /* key-exchange key version, "" if none */
} tk_scope;

/* tk_key - a row of tk_keys (without the sealed private key) */
typedef struct {
    int64_t id;                  /* row id */
    tenantkey_key_info info;     /* public part and state */
    char purpose[12];            /* while Installing: "activate" or "unlock" */
    uint8_t pub[TK_PUB_DER_MAX]; /* SubjectPublicKeyInfo DER */
    size_t pub_len;              /* its length */
} tk_key;

/* tk_env - a row of tk_envs: an environment this feature touched */
typedef struct {
    char env[TENANTKEY_ID_MAX];        /* environment id */
    char tenant[TENANTKEY_ID_MAX];     /* tenant */
    char region[TENANTKEY_REGION_MAX]; /* region */
    tenantkey_env_mode mode;           /* encryption */
    int64_t key_id;                    /* tk_keys row (self-managed, locked), 0 otherwise */
    char key_name[TENANTKEY_NAME_MAX]; /* key name (kept after migration) */
    char key_fp[TENANTKEY_FP_MAX];     /* key fingerprint (kept after migration) */
    char policy[TENANTKEY_NAME_MAX];   /* enterprise policy in customer mode */
    int64_t applied_ms;                /* went self-managed */
    int64_t locked_ms;                 /* locked at */
    int64_t delete_ms;                 /* deletion due (locked), 0 otherwise */
    int64_t migrated_ms;               /* BYOK -> CMK migration, 0 if none */
    int64_t no_return_ms;              /* no return to the Microsoft key before this */
    int64_t retain_ms;                 /* BYOK key kept at least until this */
} tk_env;

/* ---- operation context (tenantkey.c) ------------------------------------------------------ */

/* tk_op - one public call: holds the lock, collects the audit detail */
typedef struct {
    tenantkey_svc *svc;    /* service */
    const char *principal; /* caller (audit shows "-" when missing) */
    const char *operation; /* audit operation, "tenantkey.<op>" */
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 8]; /* audit target */
    char detail[CMK_ERR_MSG_MAX];                           /* audit detail on success */
    cmk_err own;  /* error used when the caller passed none */
    cmk_err *err; /* caller's error or &own */
    int locked;   /* 1 while svc->mu is held */
    int64_t now;  /* clock time at the start (refreshed on relock) */
} tk_op;

/* tk_op_begin - lock, apply due transitions, set the audit target */
void tk_op_begin(tk_op *op, tenantkey_svc *svc, const char *principal, const char *operation,
                 const char *target, cmk_err *err);
void tk_op_unlock(tk_op *op);
/* tk_op_relock - take the lock again and apply due transitions */
void tk_op_relock(tk_op *op);
/* tk_op_end - audit (detail or the error's message), unlock, deliver events; returns rc */
int tk_op_end(tk_op *op, int rc);
/* tk_detail - set the audit detail of a successful call */
void tk_detail(tk_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* tk_check_principal - CMK_EPERM when no principal is named */
int tk_check_principal(tk_op *op);
/* tk_tenant_open - the tenant exists, has the feature on, and its keys were not removed */
int tk_tenant_open(tk_op *op, const char *tenant, tk_tenant *t);
/* tk_env_lookup - an environment from the directory: id, name, tenant, region, type,
 * encryption, policy and creation time */
typedef struct {
    char id[TENANTKEY_ID_MAX];         /* environment id */
    char name[TENANTKEY_ENV_NAME_MAX]; /* name */
    char tenant[TENANTKEY_ID_MAX];     /* tenant */
    char region[TENANTKEY_REGION_MAX]; /* region */
    char type[16];                     /* type */
    char encryption[16];               /* directory's encryption: microsoft / customer */
    char policy[TENANTKEY_NAME_MAX];   /* directory's policy or "" */
    int64_t created_ms;                /* creation time */
} tk_dir_env;
int tk_env_lookup(tk_op *op, const char *ref, tk_dir_env *out);
/* tk_locked_summary - 1 if anything of the tenant is locked (environments, a Locked key, a
 * lock in progress), with a short list for messages in buf */
int tk_locked_summary(tk_op *op, const char *tenant, char *buf, size_t cap);

/* tk_emit - queue an event for the hook (lock held) */
void tk_emit(tenantkey_svc *svc, const char *kind, const char *tenant, const char *env,
             const char *key, int64_t at_ms);
/* tk_deliver - deliver queued events (lock NOT held) */
void tk_deliver(tenantkey_svc *svc);
/* tk_audit_system - an audit entry by "system" (timers) */
void tk_audit_system(tenantkey_svc *svc, const char *operation, const char *target, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* message helpers: RFC 3339 time, "24 hours" / "28 days" */
char *tk_time(int64_t ms, char *buf, size_t cap);
char *tk_dur(int64_t ms, char *buf, size_t cap);
#define TK_TS 40 /* buffer for tk_time */

/* ---- storage (tenantkey_store.c) ---------------------------------------------------------- */

int tks_init(tenantkey_svc *svc, cmk_err *err);
int tks_begin(tenantkey_svc *svc, cmk_err *err);
int tks_commit(tenantkey_svc *svc, cmk_err *err);
void tks_rollback(tenantkey_svc *svc);
int tks_fail(tenantkey_svc *svc, cmk_err *err, const char *what);

/* tks_prep - prepare a statement or fail with CMK_EIO */
int tks_prep(tenantkey_svc *svc, const char *sql, sqlite3_stmt **st, cmk_err *err);

int tks_tenant_get(tenantkey_svc *svc, const char *tenant, tk_tenant *out, cmk_err *err);
int tks_tenant_put(tenantkey_svc *svc, const tk_tenant *t, cmk_err *err);
/* tks_tenants_due - tenants whose key removal is due at now (ids, malloc'd array) */
int tks_tenants_due(tenantkey_svc *svc, int64_t now, tk_tenant **out, size_t *n, cmk_err *err);

/* tks_scope_get - the scope row; a zeroed row with tenant/region set if absent (rc 0) */
int tks_scope_get(tenantkey_svc *svc, const char *tenant, const char *region, tk_scope *out,
                  cmk_err *err);
int tks_scope_put(tenantkey_svc *svc, const tk_scope *s, cmk_err *err);
int tks_scopes_list(tenantkey_svc *svc, const char *tenant, tk_scope **out, size_t *n,
                    cmk_err *err);
/* tks_kek_store / tks_kek_load - the scope's key-exchange key (sealed) */
int tks_kek_store(tenantkey_svc *svc, const char *tenant, const char *region, const char *version,
                  EVP_PKEY *pk, cmk_err *err);
int tks_kek_load(tenantkey_svc *svc, const char *tenant, const char *region, EVP_PKEY **out,
                 cmk_err *err);

/* tks_key_by_name - CMK_ENOENT if absent (message names tenant and key) */
int tks_key_by_name(tenantkey_svc *svc, const char *tenant, const char *name, tk_key *out,
                    cmk_err *err);
int tks_key_by_id(tenantkey_svc *svc, int64_t id, tk_key *out, cmk_err *err);
/* tks_keys_list - keys of a tenant (region NULL: all regions) in a state (0: any) */
int tks_keys_list(tenantkey_svc *svc, const char *tenant, const char *region,
                  tenantkey_key_state state, tk_key **out, size_t *n, cmk_err *err);
/* tks_key_insert - insert (id set) with the private key sealed */
int tks_key_insert(tenantkey_svc *svc, tk_key *k, EVP_PKEY *pk, cmk_err *err);
/* tks_key_update - state and times (not the material) */
int tks_key_update(tenantkey_svc *svc, const tk_key *k, cmk_err *err);
/* tks_key_set_material - seal pk as the key's private key (NULL: delete it) */
int tks_key_set_material(tenantkey_svc *svc, const tk_key *k, EVP_PKEY *pk, cmk_err *err);
int tks_key_delete(tenantkey_svc *svc, int64_t id, cmk_err *err);
/* tks_keys_installing_due - Installing keys whose time came, oldest first */
int tks_keys_installing_due(tenantkey_svc *svc, int64_t now, tk_key **out, size_t *n, cmk_err *err);

int tks_env_get(tenantkey_svc *svc, const char *env, tk_env *out, cmk_err *err);
int tks_env_put(tenantkey_svc *svc, const tk_env *e, cmk_err *err);
int tks_env_delete(tenantkey_svc *svc, const char *env, cmk_err *err);
/* tks_envs_list - envs of a tenant (region NULL: all) in a mode (-1: any) */
int tks_envs_list(tenantkey_svc *svc, const char *tenant, const char *region, int mode,
                  tk_env **out, size_t *n, cmk_err *err);
/* tks_envs_delete_due - locked envs whose deletion is due */
int tks_envs_delete_due(tenantkey_svc *svc, int64_t now, tk_env **out, size_t *n, cmk_err *err);
/* tks_scopes_lock_due - regions whose lock completion is due (two malloc'd arrays) */
int tks_scopes_lock_due(tenantkey_svc *svc, int64_t now, char (**tenants)[TENANTKEY_ID_MAX],
                        char (**regions)[TENANTKEY_REGION_MAX], size_t *n, cmk_err *err);
/* tks_keks_forget - delete every key-exchange key of a tenant */
int tks_keks_forget(tenantkey_svc *svc, const char *tenant, cmk_err *err);
/* tks_due_times - every future due time in storage (for timers after a start) */
int tks_due_times(tenantkey_svc *svc, int64_t **out, size_t *n, cmk_err *err);

/* ---- crypto (tenantkey_crypto.c) ---------------------------------------------------------- */

int tkc_generate(EVP_PKEY **out, cmk_err *err);
/* tkc_check_key - a 2048-bit RSA key, else CMK_EINVAL saying what the key is */
int tkc_check_key(EVP_PKEY *pk, cmk_err *err);
/* tkc_pfx_make - PKCS#12 with a self-signed certificate (CN=name), AES-256-CBC, SHA-256 MAC */
int tkc_pfx_make(EVP_PKEY *pk, const char *name, const char *password, int64_t now_ms,
                 uint8_t **out, size_t *len, cmk_err *err);
/* tkc_pfx_parse - the private key of a .pfx (password required) */
int tkc_pfx_parse(const uint8_t *data, size_t len, const char *password, EVP_PKEY **out,
                  cmk_err *err);
/* tkc_byok_kid - the kid a .byok names ("" if unreadable); for choosing the KEK */
int tkc_byok_kid(const uint8_t *data, size_t len, char kid[TENANTKEY_KID_MAX], cmk_err *err);
/* tkc_byok_open - the key inside a .byok made for the KEK whose id is kek_kid */
int tkc_byok_open(const uint8_t *data, size_t len, const char *kek_kid, EVP_PKEY *kek,
                  EVP_PKEY **out, cmk_err *err);
/* tkc_kek_kid - "https://cmksim-byok.vault.azure.net/keys/<tenant>-<region>-kek/<version>" */
char *tkc_kek_kid(const char *tenant, const char *region, const char *version, char *buf,
                  size_t cap);
/* tkc_fingerprint - SHA-256 of the RSA modulus (big-endian bytes), hex */
int tkc_fingerprint(EVP_PKEY *pk, char fp[TENANTKEY_FP_MAX], cmk_err *err);
int tkc_public_der(EVP_PKEY *pk, uint8_t *buf, size_t cap, size_t *len, cmk_err *err);
int tkc_public_pem(EVP_PKEY *pk, char **pem, cmk_err *err);
/* tkc_private_der / tkc_from_private_der - PKCS#8 DER (a secret: wipe it) */
int tkc_private_der(EVP_PKEY *pk, uint8_t **der, size_t *len, cmk_err *err);
int tkc_from_private_der(const uint8_t *der, size_t len, EVP_PKEY **out, cmk_err *err);
/* tkc_random_hex - 2*n random hex characters */
int tkc_random_hex(char *out, size_t n, cmk_err *err);
/* tkc_secret_free - wipe and free */
void tkc_secret_free(uint8_t **p, size_t len);

/* ---- keys and environments internals ------------------------------------------------------ */

/* tk_start_install - key goes Installing for purpose ("activate" / "unlock") (lock held) */
int tk_start_install(tk_op *op, tk_key *k, const char *purpose);
/* tk_parse_key - the key of an uploaded file: .pfx with password, or .byok for the KEK of
 * region (NULL: the tenant region whose KEK the .byok names) */
int tk_parse_key(tk_op *op, const char *tenant, const char *region, const uint8_t *data, size_t len,
                 const char *password, tenantkey_format format, EVP_PKEY **out);
/* tk_env_state_fill - a public state from the directory view and our row (NULL: none) */
void tk_env_state_fill(tenantkey_svc *svc, const tk_dir_env *d, const tk_env *e, const tk_tenant *t,
                       tenantkey_env_state *out);

/* ---- timers and the sweep (tenantkey_timers.c) -------------------------------------------- */

/* tk_schedule - a clock timer at at_ms that applies due transitions (lock held) */
void tk_schedule(tenantkey_svc *svc, int64_t at_ms);
void tk_timers_cancel_all(tenantkey_svc *svc);
/* tk_sweep - apply every transition due at now (lock held) */
void tk_sweep(tenantkey_svc *svc, int64_t now);

#endif
