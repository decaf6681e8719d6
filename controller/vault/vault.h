/*
 * vault.h - the controller's simulated Azure Key Vault.
 *
 * Vaults belong to a tenant (an opaque string) and hold RSA keys (2048, 3072, 4096 bits; kty
 * RSA or RSA-HSM) with versions, per-key and per-version enabled flags, activation (nbf) and
 * expiry (exp) dates read on the controller's cmk_clock, tags, soft delete with recovery and
 * purge (refused while purge protection holds; automatic after the retention), backup and
 * restore (only into a vault of the same tenant), RSA-OAEP / RSA-OAEP-256 wrap and unwrap,
 * rotation policies run by clock timers, .byok import through a key-exchange key (KEK) as
 * Azure specifies it, and Azure-like throttling (HTTP 429 with "retry after").
 *
 * Access: every call names the calling principal and is checked against the vault's access
 * list; the vault's creator gets every permission. A refusal is CMK_EPERM and says which
 * permission is missing and the cmkctl command that grants it. Every call, allowed or refused,
 * is appended to the audit log (audit.h) with the principal, operation, target and result.
 *
 * State errors (disabled, expired, not yet active, deleted key or version; purge protection)
 * are CMK_ESTATE; unknown objects CMK_ENOENT; bad input CMK_EINVAL; throttling CMK_EBUSY.
 *
 * Storage: tables vault_* in the controller.db given to vault_svc_new(). Private key material
 * is sealed at rest (common/envelope.h) under the master key, bound to its row: the database
 * never holds a plaintext private key.
 *
 * Threads: a vault_svc may be used from several threads (an internal mutex). RSA key
 * generation, imports and RSA private-key operations run outside the mutex. The cmk_clock
 * is not itself thread-safe: the controller must not add timers, advance or fire its clock
 * from two threads at once (the vault adds and cancels timers on create/rotate/delete).
 * Timer callbacks (rotation, purge after retention) run inside cmk_clock_advance() or
 * cmk_clock_fire_due() on the caller's thread; the caller must not hold any vault lock.
 * The service's transactions and its audit appends run under its mutex; other modules that
 * share the same sqlite3 connection must not hold a transaction open across vault calls.
 *
 * Ownership: output structs are filled in place; strings and arrays handed out are freed
 * with the matching *_free / *_clear function named beside them.
 */
#ifndef CMK_VAULT_H
#define CMK_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "audit.h"
#include "common/clock.h"
#include "common/err.h"

#define VAULT_MASTER_KEY_LEN 32
#define VAULT_NAME_MAX 32       /* buffer for a vault name (3-24 characters) */
#define VAULT_KEY_NAME_MAX 128  /* buffer for a key name (1-127 characters) */
#define VAULT_VERSION_MAX 33    /* buffer for a version id (32 hex characters) */
#define VAULT_KID_MAX 320       /* buffer for a key id URL */
#define VAULT_PRINCIPAL_MAX 256 /* buffer for a principal or tenant id (1-255 characters) */
#define VAULT_REGION_MAX 64     /* buffer for a region name */
#define VAULT_MAX_TAGS 15       /* Azure's limit of tags per key */

/* ---- permissions (access list) ------------------------------------------------------------ */

/* vault_perm - one permission of an access-list entry; combine with | */
typedef enum {
    VAULT_PERM_GET = 1u << 0,                  /* read a key's public part and attributes */
    VAULT_PERM_LIST = 1u << 1,                 /* list keys and versions */
    VAULT_PERM_WRAP_KEY = 1u << 2,             /* wrapKey */
    VAULT_PERM_UNWRAP_KEY = 1u << 3,           /* unwrapKey */
    VAULT_PERM_ENCRYPT = 1u << 4,              /* encrypt */
    VAULT_PERM_DECRYPT = 1u << 5,              /* decrypt */
    VAULT_PERM_CREATE = 1u << 6,               /* create a key or a new version */
    VAULT_PERM_IMPORT = 1u << 7,               /* import a key (PEM, DER, PKCS#12, .byok) */
    VAULT_PERM_UPDATE = 1u << 8,               /* change attributes, tags, key_ops */
    VAULT_PERM_DELETE = 1u << 9,               /* delete a key */
    VAULT_PERM_RECOVER = 1u << 10,             /* recover a deleted key or vault */
    VAULT_PERM_PURGE = 1u << 11,               /* purge a deleted key or vault */
    VAULT_PERM_BACKUP = 1u << 12,              /* back a key up */
    VAULT_PERM_RESTORE = 1u << 13,             /* restore a key backup */
    VAULT_PERM_ROTATE = 1u << 14,              /* rotate a key now */
    VAULT_PERM_GET_ROTATION_POLICY = 1u << 15, /* read a rotation policy */
    VAULT_PERM_SET_ROTATION_POLICY = 1u << 16, /* set a rotation policy */
    VAULT_PERM_MANAGE_ACCESS = 1u << 17,       /* change the access list */
    VAULT_PERM_MANAGE_VAULT = 1u << 18,        /* change vault properties, delete the vault */
} vault_perm;

#define VAULT_PERM_DATA                                                                            \
    (VAULT_PERM_GET | VAULT_PERM_LIST | VAULT_PERM_WRAP_KEY | VAULT_PERM_UNWRAP_KEY |              \
     VAULT_PERM_ENCRYPT | VAULT_PERM_DECRYPT)
#define VAULT_PERM_ALL ((1u << 19) - 1)
#define VAULT_PERM_MANAGEMENT (VAULT_PERM_ALL & ~VAULT_PERM_DATA)

/* vault_perm_name - the name of one permission bit ("unwrapKey"); "?" for others */
const char *vault_perm_name(unsigned perm);

/* vault_perms_parse - "get,wrapKey,unwrapKey" (case-insensitive; also "all", "data",
 * "management") to a mask; CMK_EINVAL naming an unknown permission and listing the known ones */
int vault_perms_parse(const char *list, unsigned *perms, cmk_err *err);

/* vault_perms_format - a mask as "get,list,..." into buf */
char *vault_perms_format(unsigned perms, char *buf, size_t cap);

/* ---- key types, operations, algorithms ---------------------------------------------------- */

typedef enum { VAULT_KTY_RSA = 1, VAULT_KTY_RSA_HSM = 2 } vault_kty;

/* vault_kty_name / vault_kty_parse - "RSA", "RSA-HSM" */
const char *vault_kty_name(vault_kty kty);
int vault_kty_parse(const char *s, vault_kty *kty, cmk_err *err);

/* vault_keyop - what a key may be used for (Azure's key_ops); combine with | */
typedef enum {
    VAULT_KEYOP_ENCRYPT = 1u << 0,
    VAULT_KEYOP_DECRYPT = 1u << 1,
    VAULT_KEYOP_WRAP_KEY = 1u << 2,
    VAULT_KEYOP_UNWRAP_KEY = 1u << 3,
    VAULT_KEYOP_IMPORT = 1u << 4, /* a key-exchange key (KEK) for .byok import */
} vault_keyop;

#define VAULT_KEYOPS_DEFAULT                                                                       \
    (VAULT_KEYOP_ENCRYPT | VAULT_KEYOP_DECRYPT | VAULT_KEYOP_WRAP_KEY | VAULT_KEYOP_UNWRAP_KEY)
#define VAULT_KEYOPS_ALL (VAULT_KEYOPS_DEFAULT | VAULT_KEYOP_IMPORT)

/* vault_keyops_parse / vault_keyops_format - "wrapKey,unwrapKey" <-> mask */
int vault_keyops_parse(const char *list, unsigned *ops, cmk_err *err);
char *vault_keyops_format(unsigned ops, char *buf, size_t cap);

/* vault_alg - wrap/unwrap algorithms */
typedef enum {
    VAULT_ALG_RSA_OAEP = 1,     /* RSA-OAEP with SHA-1 and MGF1-SHA-1 */
    VAULT_ALG_RSA_OAEP_256 = 2, /* RSA-OAEP with SHA-256 and MGF1-SHA-256 */
} vault_alg;

/* vault_alg_name / vault_alg_parse - "RSA-OAEP", "RSA-OAEP-256" */
const char *vault_alg_name(vault_alg alg);
int vault_alg_parse(const char *s, vault_alg *alg, cmk_err *err);

/* vault_flag - a tri-state for options: zero leaves the default (create) or keeps (update) */
typedef enum { VAULT_DEFAULT = 0, VAULT_ON = 1, VAULT_OFF = 2 } vault_flag;

/* ---- configuration ------------------------------------------------------------------------ */

/* vault_mono_fn - a monotonic millisecond time source (for throttle windows) */
typedef int64_t (*vault_mono_fn)(void *arg);

/* vault_config - service settings; vault_config_defaults() fills the documented defaults */
typedef struct {
    int default_retention_days; /* soft-delete retention when a vault does not say: 90 */
    int throttle_enabled;       /* 1: enforce the limits below (default); 0: no throttling */
    int64_t throttle_window_ms; /* the window the limits count over: 10000 (10 s) */
    int limit_rsa2048;          /* cryptographic transactions per window, 2048-bit keys: 4000 */
    int limit_rsa3072;          /* ... 3072-bit keys: 1000 */
    int limit_rsa4096;          /* ... 4096-bit keys: 250 */
    int limit_mgmt;             /* management transactions per window (create, import, ...): 2000 */
    int64_t rotation_min_ms;    /* shortest rotation period or time before expiry: 7 days */
    int64_t expiry_min_ms;      /* shortest expiry a rotation policy may give versions: 28 days */
    const char
        *dns_suffix; /* key ids are https://<vault>.<dns_suffix>/keys/...: "vault.azure.net" */
    vault_mono_fn mono_now; /* throttle time source: NULL for cmk_mono_ms (tests inject one) */
    void *mono_arg;         /* argument for mono_now */
} vault_config;

/* vault_config_defaults - fill cfg with the defaults documented above */
void vault_config_defaults(vault_config *cfg);

/* ---- the service -------------------------------------------------------------------------- */

typedef struct vault_svc vault_svc;

/* vault_svc_new - the vault service over controller.db (tables created if missing). master_key
 * seals key material at rest; reopening a database with another master key fails with
 * CMK_ECRYPTO. audit may be NULL (no audit). cfg NULL means the defaults. db, clock and audit
 * stay the caller's and must outlive the service. NULL on failure. */
vault_svc *vault_svc_new(sqlite3 *db, cmk_clock *clock, audit_log *audit,
                         const uint8_t master_key[VAULT_MASTER_KEY_LEN], const vault_config *cfg,
                         cmk_err *err);

/* vault_svc_destroy - cancel the service's clock timers, wipe the master key and free;
 * accepts NULL and nulls the pointer */
void vault_svc_destroy(vault_svc **self_p);

/* vault_svc_resume_timers - after a start: purge what is past its retention and schedule the
 * clock timers of every rotation policy and every pending purge found in storage */
int vault_svc_resume_timers(vault_svc *self, cmk_err *err);

/* vault_svc_purge_due - purge now every deleted vault and key past its retention (done also
 * before every operation); *purged (may be NULL) gets how many objects went */
int vault_svc_purge_due(vault_svc *self, int *purged, cmk_err *err);

/* vault_rotation_event - what the rotation hook is told */
typedef struct {
    const char *tenant;      /* the vault's tenant */
    const char *vault;       /* vault name */
    const char *key;         /* key name */
    const char *old_version; /* the version that was current before */
    const char *new_version; /* the new current version */
    const char *kid;         /* the new version's key id */
    const char *reason;      /* "rotate" (on request), "policy" (timer), "create", "import" */
    int64_t at_ms;           /* clock time of the rotation */
} vault_rotation_event;

/* vault_rotate_hook - told after a key got a new current version (called without any vault
 * lock held, so it may call back into the service) */
typedef void (*vault_rotate_hook)(const vault_rotation_event *ev, void *arg);

/* vault_svc_set_rotate_hook - register (fn NULL: remove) the rotation hook */
void vault_svc_set_rotate_hook(vault_svc *self, vault_rotate_hook fn, void *arg);

/* ---- vaults ------------------------------------------------------------------------------- */

/* vault_props - properties of a new vault (zeroed: Azure's defaults) */
typedef struct {
    const char *region;          /* e.g. "westeurope"; required */
    int retention_days;          /* soft-delete retention, 7..90; 0 = config default (90) */
    vault_flag soft_delete;      /* default on */
    vault_flag purge_protection; /* default off; needs soft delete; cannot be turned off later */
    vault_flag public_network_access; /* default on */
} vault_props;

/* vault_update_req - vault properties to change (zeroed: change nothing) */
typedef struct {
    vault_flag soft_delete;           /* on only: soft delete cannot be turned off once on */
    vault_flag purge_protection;      /* on only: purge protection cannot be turned off */
    vault_flag public_network_access; /* on or off */
} vault_update_req;

/* vault_info - a vault's properties */
typedef struct {
    char tenant[VAULT_PRINCIPAL_MAX];     /* owning tenant */
    char name[VAULT_NAME_MAX];            /* globally unique vault name */
    char region[VAULT_REGION_MAX];        /* region */
    char uri[VAULT_KID_MAX];              /* https://<name>.vault.azure.net/ */
    int retention_days;                   /* soft-delete retention */
    int soft_delete;                      /* 1 if deletes are recoverable */
    int purge_protection;                 /* 1 if purge is refused until retention ends */
    int public_network_access;            /* 1 if reachable from public networks */
    char created_by[VAULT_PRINCIPAL_MAX]; /* principal that created it */
    int64_t created_ms;                   /* creation time (clock) */
    int64_t updated_ms;                   /* last change (clock) */
    int64_t deleted_ms;                   /* deletion time, 0 if not deleted */
    int64_t scheduled_purge_ms;           /* purge time of a deleted vault, 0 otherwise */
} vault_info;

/* vault_info_to_json - the vault as a JSON object (caller frees with cJSON_Delete) */
cJSON *vault_info_to_json(const vault_info *v);

/* vault_create - create vault `name` in `tenant`; the creator gets every permission.
 * CMK_EEXIST if the name is taken (also by a deleted vault not yet purged). */
int vault_create(vault_svc *self, const char *principal, const char *tenant, const char *name,
                 const vault_props *props, vault_info *out, cmk_err *err);

/* vault_get - a vault's properties (permission: get) */
int vault_get(vault_svc *self, const char *principal, const char *name, vault_info *out,
              cmk_err *err);

/* vault_list - the vaults of `tenant` on whose access list principal is (deleted ones too if
 * include_deleted); *out is a malloc'd array freed with free() */
int vault_list(vault_svc *self, const char *principal, const char *tenant, int include_deleted,
               vault_info **out, size_t *n, cmk_err *err);

/* vault_update - change properties (permission: manageVault) */
int vault_update(vault_svc *self, const char *principal, const char *name,
                 const vault_update_req *req, vault_info *out, cmk_err *err);

/* vault_delete - delete a vault (permission: manageVault): soft (recoverable for the
 * retention) when soft delete is on, else purged at once */
int vault_delete(vault_svc *self, const char *principal, const char *name, cmk_err *err);

/* vault_recover - recover a soft-deleted vault with its keys (permission: recover) */
int vault_recover(vault_svc *self, const char *principal, const char *name, cmk_err *err);

/* vault_purge - purge a soft-deleted vault and its keys for good (permission: purge);
 * CMK_ESTATE while purge protection holds */
int vault_purge(vault_svc *self, const char *principal, const char *name, cmk_err *err);

/* vault_access_entry - one access-list entry */
typedef struct {
    char principal[VAULT_PRINCIPAL_MAX]; /* who */
    unsigned perms;                      /* vault_perm mask */
} vault_access_entry;

/* vault_access_grant - add perms to who's entry (permission: manageAccess) */
int vault_access_grant(vault_svc *self, const char *principal, const char *vault, const char *who,
                       unsigned perms, cmk_err *err);

/* vault_access_revoke - remove perms from who's entry, the entry when none remain
 * (permission: manageAccess) */
int vault_access_revoke(vault_svc *self, const char *principal, const char *vault, const char *who,
                        unsigned perms, cmk_err *err);

/* vault_access_list - the access list (permission: manageAccess); *out freed with free() */
int vault_access_list(vault_svc *self, const char *principal, const char *vault,
                      vault_access_entry **out, size_t *n, cmk_err *err);

/* ---- keys --------------------------------------------------------------------------------- */

/* vault_key_params - a new key or version (zeroed: RSA 2048, default key_ops, enabled) */
typedef struct {
    vault_kty kty;      /* 0: RSA (RSA-HSM for .byok imports) */
    int bits;           /* 2048, 3072 or 4096; 0: 2048 (imports take the key's size) */
    unsigned key_ops;   /* vault_keyop mask; 0: encrypt, decrypt, wrapKey, unwrapKey */
    vault_flag enabled; /* default on */
    int64_t nbf_ms;     /* activation date (clock ms); 0: active at once */
    int64_t exp_ms;     /* expiry date (clock ms); 0: never */
    const cJSON *tags;  /* object of string values (at most 15), or NULL */
} vault_key_params;

/* vault_key_info - a key version's public part and attributes */
typedef struct {
    char vault[VAULT_NAME_MAX];      /* vault name */
    char name[VAULT_KEY_NAME_MAX];   /* key name */
    char version[VAULT_VERSION_MAX]; /* version id */
    char kid[VAULT_KID_MAX];         /* https://<vault>.vault.azure.net/keys/<name>/<version> */
    vault_kty kty;                   /* RSA or RSA-HSM */
    int bits;                        /* modulus size */
    unsigned key_ops;                /* vault_keyop mask */
    char n[704];                     /* modulus, base64url without padding (JWK "n") */
    char e[16];                      /* public exponent, base64url (JWK "e") */
    int key_enabled;                 /* the key's enabled flag */
    int version_enabled;             /* this version's enabled flag */
    int current;                     /* 1 if this is the key's current version */
    int64_t nbf_ms;                  /* activation date of the version, 0 if none */
    int64_t exp_ms;                  /* expiry date of the version, 0 if none */
    int64_t created_ms;              /* version creation time */
    int64_t updated_ms;              /* last change of the version's attributes */
    int64_t deleted_ms;              /* key deletion time, 0 if not deleted */
    int64_t scheduled_purge_ms;      /* purge time of a deleted key, 0 otherwise */
    char recovery_level[48];         /* Azure's recoveryLevel, e.g. "Recoverable+Purgeable" */
    cJSON *tags;                     /* tags (object); owned, freed by vault_key_info_clear */
} vault_key_info;

/* vault_key_info_clear - free what an info owns (its tags) */
void vault_key_info_clear(vault_key_info *k);

/* vault_key_infos_free - clear and free an array from a list call; accepts NULL, nulls it */
void vault_key_infos_free(vault_key_info **arr, size_t n);

/* vault_key_info_to_json - JWK-like object: kid, kty, n, e, key_ops, attributes, tags */
cJSON *vault_key_info_to_json(const vault_key_info *k);

/* vault_key_update - changes to a key or version (zeroed: change nothing) */
typedef struct {
    vault_flag enabled; /* the key's flag, or the version's when a version is named */
    int set_nbf;        /* 1: set the version's activation date to nbf_ms (0 clears it) */
    int64_t nbf_ms;     /* new activation date */
    int set_exp;        /* 1: set the version's expiry to exp_ms (0 clears it) */
    int64_t exp_ms;     /* new expiry date */
    unsigned key_ops;   /* new key_ops mask; 0 keeps them */
    const cJSON *tags;  /* replaces all tags when non-NULL (an empty object clears them) */
} vault_key_update;

/* vault_key_create - generate a key (or, if the name exists, a new current version of it)
 * (permission: create); out may be NULL */
int vault_key_create(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const vault_key_params *params, vault_key_info *out, cmk_err *err);

/* vault_key_import - import an RSA private key given as PEM (PKCS#8, PKCS#1, encrypted
 * PKCS#8 with password), DER, or PKCS#12 (with password) (permission: import) */
int vault_key_import(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const uint8_t *data, size_t len, const char *password,
                     const vault_key_params *params, vault_key_info *out, cmk_err *err);

/* vault_key_import_byok - import the key inside an Azure .byok file made for one of this
 * vault's key-exchange keys (permission: import; the KEK must allow key_ops import) */
int vault_key_import_byok(vault_svc *self, const char *principal, const char *vault,
                          const char *name, const char *byok_json, size_t len,
                          const vault_key_params *params, vault_key_info *out, cmk_err *err);

/* vault_key_get - a key version (NULL: current) (permission: get). Deleted: CMK_ESTATE. */
int vault_key_get(vault_svc *self, const char *principal, const char *vault, const char *name,
                  const char *version, vault_key_info *out, cmk_err *err);

/* vault_key_public_pem - a key version's public key as PEM (permission: get); free() it */
int vault_key_public_pem(vault_svc *self, const char *principal, const char *vault,
                         const char *name, const char *version, char **pem, cmk_err *err);

/* vault_key_list_flags - what vault_key_list returns */
typedef enum {
    VAULT_LIST_ACTIVE = 0,  /* keys not deleted */
    VAULT_LIST_DELETED = 1, /* only soft-deleted keys */
    VAULT_LIST_ALL = 2,     /* both */
} vault_key_list_flags;

/* vault_key_list - the current version of each key (permission: list) */
int vault_key_list(vault_svc *self, const char *principal, const char *vault,
                   vault_key_list_flags which, vault_key_info **out, size_t *n, cmk_err *err);

/* vault_key_list_versions - every version of a key, oldest first (permission: list) */
int vault_key_list_versions(vault_svc *self, const char *principal, const char *vault,
                            const char *name, vault_key_info **out, size_t *n, cmk_err *err);

/* vault_key_rotate - a new current version like the current one (permission: rotate) */
int vault_key_rotate(vault_svc *self, const char *principal, const char *vault, const char *name,
                     vault_key_info *out, cmk_err *err);

/* vault_key_update_attrs - change a key (version NULL) or one version (permission: update) */
int vault_key_update_attrs(vault_svc *self, const char *principal, const char *vault,
                           const char *name, const char *version, const vault_key_update *upd,
                           vault_key_info *out, cmk_err *err);

/* vault_key_delete - delete a key (permission: delete): soft when the vault has soft
 * delete (recoverable for its retention), else purged at once */
int vault_key_delete(vault_svc *self, const char *principal, const char *vault, const char *name,
                     cmk_err *err);

/* vault_key_recover - recover a soft-deleted key (permission: recover) */
int vault_key_recover(vault_svc *self, const char *principal, const char *vault, const char *name,
                      cmk_err *err);

/* vault_key_purge - purge a soft-deleted key (permission: purge); CMK_ESTATE while the
 * vault's purge protection holds */
int vault_key_purge(vault_svc *self, const char *principal, const char *vault, const char *name,
                    cmk_err *err);

/* vault_key_backup - an opaque blob with every version of the key, sealed so that it
 * restores only into a vault of the same tenant (permission: backup); free() it */
int vault_key_backup(vault_svc *self, const char *principal, const char *vault, const char *name,
                     uint8_t **blob, size_t *len, cmk_err *err);

/* vault_key_restore - restore a backup into vault (permission: restore); CMK_EEXIST if the
 * key name exists there, CMK_EPERM if the backup comes from another tenant */
int vault_key_restore(vault_svc *self, const char *principal, const char *vault,
                      const uint8_t *blob, size_t len, vault_key_info *out, cmk_err *err);

/* ---- cryptographic operations ------------------------------------------------------------- */

/* vault_key_wrap - RSA-OAEP(-256) encrypt a key (e.g. a DEK) with a key version (NULL:
 * current) (permission: wrapKey; key_ops wrapKey). *out malloc'd; kid_out (may be NULL, cap
 * VAULT_KID_MAX) gets the id of the version used: keep it to unwrap after a rotation. */
int vault_key_wrap(vault_svc *self, const char *principal, const char *vault, const char *name,
                   const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                   uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err);

/* vault_key_unwrap - the inverse (permission: unwrapKey; key_ops unwrapKey); free *out with
 * vault_secret_free() */
int vault_key_unwrap(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                     uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err);

/* vault_key_encrypt / vault_key_decrypt - the same with permissions and key_ops
 * encrypt / decrypt */
int vault_key_encrypt(vault_svc *self, const char *principal, const char *vault, const char *name,
                      const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                      uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err);
int vault_key_decrypt(vault_svc *self, const char *principal, const char *vault, const char *name,
                      const char *version, vault_alg alg, const uint8_t *in, size_t in_len,
                      uint8_t **out, size_t *out_len, char *kid_out, cmk_err *err);

/* vault_secret_free - wipe and free a secret buffer; accepts NULL, nulls the pointer */
void vault_secret_free(uint8_t **p, size_t len);

/* vault_kid_parse - split a key id (https://<vault>.<suffix>/keys/<name>[/<version>], or
 * <vault>/<name>[/<version>]) into its parts (version "" when absent) */
int vault_kid_parse(const char *kid, char vault[VAULT_NAME_MAX], char name[VAULT_KEY_NAME_MAX],
                    char version[VAULT_VERSION_MAX], cmk_err *err);

/* ---- rotation policies -------------------------------------------------------------------- */

/* vault_rotation_policy - when a key rotates by itself (zeroed: no policy) */
typedef struct {
    int64_t rotate_after_create_ms; /* rotate this long after the current version was made (P90D) */
    int64_t rotate_before_expiry_ms; /* or this long before the current version expires */
    int64_t expiry_ms;               /* new versions expire this long after creation (0: never) */
} vault_rotation_policy;

/* vault_iso_duration_parse - ISO 8601 durations as Azure writes them ("P90D", "P1Y", "P2M",
 * "P1W", "PT12H", "P1DT6H") with Y = 365 d and M = 30 d; also cmk durations ("90d") */
int vault_iso_duration_parse(const char *s, int64_t *ms, cmk_err *err);

/* vault_iso_duration_format - ms as "P90D" / "PT1H30M" into buf */
char *vault_iso_duration_format(int64_t ms, char *buf, size_t cap);

/* vault_key_policy_set - set (NULL or zeroed: remove) a key's rotation policy and schedule
 * its timer (permission: setRotationPolicy). Exactly one of rotate_after_create_ms and
 * rotate_before_expiry_ms; each at least config rotation_min_ms. */
int vault_key_policy_set(vault_svc *self, const char *principal, const char *vault,
                         const char *name, const vault_rotation_policy *policy, cmk_err *err);

/* vault_key_policy_get - a key's policy (zeroed if none) and the clock time of its next
 * rotation (0 if none) (permission: getRotationPolicy); next_ms may be NULL */
int vault_key_policy_get(vault_svc *self, const char *principal, const char *vault,
                         const char *name, vault_rotation_policy *policy, int64_t *next_ms,
                         cmk_err *err);

/* ---- .byok (the customer's HSM side) ------------------------------------------------------ */

/* vault_byok_export - play the customer's HSM: wrap target_key (an RSA private key as PEM or
 * DER) for the KEK whose id is kek_kid and whose public key is kek_public_pem, as an Azure
 * .byok JSON document (*out_json malloc'd; free() it). generator: free text (NULL: cmksim). */
int vault_byok_export(const char *kek_kid, const char *kek_public_pem, const uint8_t *target_key,
                      size_t target_len, const char *generator, char **out_json, cmk_err *err);

#endif
