/*
 * tenantkey.h - the legacy "Manage the encryption key" feature (bring-your-own-key, BYOK) of
 * Dataverse tenants, and its migration to customer-managed keys (CMK).
 *
 * LEGACY: support ended January 6, 2026; since June 1, 2025 the key cannot be applied to
 * production environments (tenantkey_deprecation_notice() says so for the CLI to print).
 *
 * Model (seeds 003 and 004):
 * - The feature is off until turned on for a tenant (tenantkey_enable_byok); only environments
 *   created after that can use it.
 * - Keys belong to the tenant and live in a region (names are unique within the tenant). In
 *   each tenant region there is at most one Active key. Key states: Available, Installing,
 *   Active, Locked. The first key of a tenant region (generated or uploaded) is activated at
 *   once; later keys need tenantkey_activate(). Activation passes through Installing
 *   (cfg.installing_ms) and then re-encrypts every self-managed environment of the region with
 *   the new key (no downtime); the previous Active key becomes Available.
 * - Environments: on the Microsoft-managed key, self-managed (BYOK, the region's active key),
 *   locked, or migrated to a customer-managed key ("CustomerViaMicrosoft").
 * - Lock: with the active key and its password plus a confirmation text, every environment on
 *   the active key ("Lock active environments") is locked, the Active key becomes Locked (its
 *   private key is deleted) and every Available key is deleted. Unlock: upload the same key
 *   (same RSA modulus), it goes Installing then Active, then unlock each environment.
 *
 * Every timing rule reads the controller's cmk_clock; every duration is a tenantkey_config
 * field. Clock timers carry out Installing -> Active, the lock's completion, the deletion of
 * environments locked for 28 days, and the removal of the tenant's keys 28 days after its last
 * BYOK environment migrated. Each public operation first applies whatever became due, so the
 * rules hold even between timer firings; tenantkey_svc_resume() does the same after a start.
 *
 * Errors: 0 or a negative cmk_code; the message quotes the rule and says what to do. Rule
 * refusals are CMK_ESTATE (wrong state or too early; the message gives the time from which it
 * is allowed), bad input CMK_EINVAL, unknown objects CMK_ENOENT, existing names CMK_EEXIST, a
 * key that is not the one required CMK_EPERM. Every call, allowed or refused, is appended to
 * the audit log (operation "tenantkey.<op>", target tenant[/key] or environment id).
 *
 * Storage: tables tk_* in the controller.db given to tenantkey_svc_new() (created if missing).
 * Private keys (tenant keys and key-exchange keys) are sealed at rest (common/envelope.h)
 * under a DEK derived from cfg.master_key; the database never holds a plaintext private key.
 *
 * Threads: a tenantkey_svc may be used from several threads (an internal mutex); RSA key
 * generation runs outside it. Timer callbacks run inside cmk_clock_advance() or
 * cmk_clock_fire_due() on the caller's thread, which must not hold a tenantkey lock. Other
 * modules sharing the sqlite3 connection must not hold a transaction open across calls.
 */
#ifndef CMK_TENANTKEY_H
#define CMK_TENANTKEY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "audit.h"
#include "common/clock.h"
#include "common/err.h"
#include "directory.h"

#define TENANTKEY_MASTER_KEY_LEN 32
#define TENANTKEY_ID_MAX 64         /* buffer for a tenant or environment id */
#define TENANTKEY_REGION_MAX 32     /* buffer for a region name */
#define TENANTKEY_NAME_MAX 128      /* buffer for a key name (1-127 characters) */
#define TENANTKEY_ENV_NAME_MAX 128  /* buffer for an environment name (1-100 characters) */
#define TENANTKEY_FP_MAX 65         /* buffer for a key fingerprint (64 hex characters) */
#define TENANTKEY_KID_MAX 320       /* buffer for a key-exchange key id */
#define TENANTKEY_PRINCIPAL_MAX 256 /* buffer for a principal */

/* ---- configuration ------------------------------------------------------------------------ */

/* tenantkey_config - durations and dates of the rules; tenantkey_config_defaults() fills the
 * documented defaults. master_key must be set by the caller. */
typedef struct {
    int64_t installing_ms;              /* Installing -> Active: 10 minutes */
    int64_t activation_gap_ms;          /* no other activation after one: 24 hours */
    int64_t lock_guard_ms;              /* no lock after a key change or activation: 72 hours */
    int64_t lock_duration_ms;           /* the lock process (unlock refused meanwhile): 1 hour */
    int64_t unlock_wait_ms;             /* earliest unlock after a lock: 1 hour */
    int64_t locked_env_delete_ms;       /* locked environments deleted after: 28 days */
    int64_t migration_no_return_ms;     /* migrated env cannot return to Microsoft key: 7 days */
    int64_t migration_key_retention_ms; /* BYOK keys kept after the last migration: 28 days */
    int64_t production_cutoff_ms;       /* no apply to production from: 2025-06-01T00:00:00Z */
    const uint8_t *master_key;          /* 32 bytes sealing key material (caller's; copied) */
} tenantkey_config;

/* tenantkey_config_defaults - the defaults above (master_key NULL) */
void tenantkey_config_defaults(tenantkey_config *cfg);

/* ---- states and records ------------------------------------------------------------------- */

/* tenantkey_key_state - the state of a tenant key, as the admin center shows it */
typedef enum {
    TENANTKEY_KEY_AVAILABLE = 1,  /* stored; can be activated */
    TENANTKEY_KEY_INSTALLING = 2, /* being activated (or re-installed to unlock) */
    TENANTKEY_KEY_ACTIVE = 3,     /* the region's encryption key */
    TENANTKEY_KEY_LOCKED = 4,     /* used to lock the region; private key deleted */
} tenantkey_key_state;

/* tenantkey_key_state_name - "Available", "Installing", "Active", "Locked" */
const char *tenantkey_key_state_name(tenantkey_key_state s);

/* tenantkey_format - what an uploaded key file is */
typedef enum { TENANTKEY_FORMAT_PFX = 1, TENANTKEY_FORMAT_BYOK = 2 } tenantkey_format;

/* tenantkey_format_parse - "pfx" or "byok" (case-insensitive) */
int tenantkey_format_parse(const char *s, tenantkey_format *fmt, cmk_err *err);

/* tenantkey_key_info - one tenant key (public part and state) */
typedef struct {
    char tenant[TENANTKEY_ID_MAX];            /* owning tenant */
    char region[TENANTKEY_REGION_MAX];        /* region of the key */
    char name[TENANTKEY_NAME_MAX];            /* key name (unique in the tenant) */
    tenantkey_key_state state;                /* Available, Installing, Active, Locked */
    char source[12];                          /* "generated", "pfx" or "byok" */
    int bits;                                 /* RSA modulus size (2048) */
    char fingerprint[TENANTKEY_FP_MAX];       /* SHA-256 of the RSA modulus, hex */
    char created_by[TENANTKEY_PRINCIPAL_MAX]; /* who generated or uploaded it */
    int64_t created_ms;                       /* when */
    int64_t activated_ms;                     /* last activation (or unlock) start, 0 if none */
    int64_t active_at_ms;                     /* end of Installing (past or due), 0 if none */
    int64_t locked_ms;                        /* when it locked the region, 0 if not Locked */
} tenantkey_key_info;

/* tenantkey_key_info_to_json - {tenant, region, name, state, source, bits, fingerprint, ...} */
cJSON *tenantkey_key_info_to_json(const tenantkey_key_info *k);

/* tenantkey_key_infos_free - free an array from tenantkey_list; accepts NULL, nulls it */
void tenantkey_key_infos_free(tenantkey_key_info **arr);

/* tenantkey_env_mode - an environment's encryption as this feature sees it */
typedef enum {
    TENANTKEY_ENV_MICROSOFT = 0,    /* Microsoft-managed key */
    TENANTKEY_ENV_SELF_MANAGED = 1, /* the tenant region's active BYOK key */
    TENANTKEY_ENV_LOCKED = 2,       /* locked with the tenant key */
    TENANTKEY_ENV_CUSTOMER = 3,     /* customer-managed key through an enterprise policy */
} tenantkey_env_mode;

/* tenantkey_env_mode_name - "microsoft", "self-managed", "locked", "customer" */
const char *tenantkey_env_mode_name(tenantkey_env_mode m);

/* tenantkey_env_state - an environment's encryption state; also the snapshot a backup keeps
 * (the state at backup time) for tenantkey_restore_allowed() */
typedef struct {
    char env[TENANTKEY_ID_MAX];        /* environment id */
    char name[TENANTKEY_ENV_NAME_MAX]; /* environment name */
    char tenant[TENANTKEY_ID_MAX];     /* tenant id */
    char region[TENANTKEY_REGION_MAX]; /* region */
    char type[16];                     /* production, sandbox, ... */
    tenantkey_env_mode mode;           /* encryption */
    char managed_by[24];               /* "Microsoft", "Self", "CustomerViaMicrosoft" */
    char key[TENANTKEY_NAME_MAX];      /* tenant key (self-managed, locked, migrated from) */
    char key_fp[TENANTKEY_FP_MAX];     /* its fingerprint: the key identity rules compare */
    char policy[TENANTKEY_NAME_MAX];   /* enterprise policy (customer mode), "" otherwise */
    int eligible;                      /* 1 if created after BYOK was turned on */
    int64_t applied_ms;                /* when it went self-managed, 0 if never */
    int64_t locked_ms;                 /* when it was locked, 0 if not locked */
    int64_t delete_at_ms;              /* locked: when it will be deleted, 0 otherwise */
    int64_t migrated_ms;               /* when it migrated from BYOK to CMK, 0 if not */
    int64_t no_return_until_ms;        /* migrated: no return to Microsoft key before */
    int64_t key_retained_until_ms;     /* migrated: its BYOK key kept at least until */
} tenantkey_env_state;

/* tenantkey_env_state_to_json - the state as a JSON object */
cJSON *tenantkey_env_state_to_json(const tenantkey_env_state *s);

/* tenantkey_event - what the event hook is told (strings valid during the call) */
typedef struct {
    const char *kind;   /* "key.active", "env.encryption", "env.locked", "env.unlocked",
                           "env.deleted", "keys.removed" */
    const char *tenant; /* tenant id */
    const char *env;    /* environment id, or NULL */
    const char *key;    /* key name, or NULL */
    int64_t at_ms;      /* clock time */
} tenantkey_event;

/* tenantkey_event_hook - called after a change, without any tenantkey lock held */
typedef void (*tenantkey_event_hook)(const tenantkey_event *ev, void *arg);

/* ---- the service -------------------------------------------------------------------------- */

typedef struct tenantkey_svc tenantkey_svc;

/* tenantkey_svc_new - the service over controller.db (tables created if missing). db, clock,
 * audit (may be NULL: no audit) and dir stay the caller's and must outlive the service. cfg
 * is required (start from tenantkey_config_defaults() and set master_key). Reopening a
 * database with another master key fails with CMK_ECRYPTO. NULL on failure. */
tenantkey_svc *tenantkey_svc_new(sqlite3 *db, cmk_clock *clock, audit_log *audit, directory *dir,
                                 const tenantkey_config *cfg, cmk_err *err);

/* tenantkey_svc_destroy - cancel the clock timers, wipe the master key, free; accepts NULL */
void tenantkey_svc_destroy(tenantkey_svc **self_p);

/* tenantkey_svc_resume - after a start: apply what is due and schedule the clock timers of
 * every pending transition found in storage */
int tenantkey_svc_resume(tenantkey_svc *self, cmk_err *err);

/* tenantkey_set_event_hook - register (fn NULL: remove) the event hook */
void tenantkey_set_event_hook(tenantkey_svc *self, tenantkey_event_hook fn, void *arg);

/* ---- feature and keys --------------------------------------------------------------------- */

/* tenantkey_enable_byok - turn the feature on for a tenant (done by Microsoft in the seed);
 * CMK_EEXIST if it is on already */
int tenantkey_enable_byok(tenantkey_svc *self, const char *principal, const char *tenant,
                          cmk_err *err);

/* tenantkey_generate - a new RSA-2048 key in tenant/region, returned as a PKCS#12 (.pfx)
 * protected by password (AES-256-CBC, SHA-256 MAC, with a self-signed certificate). *pfx is
 * malloc'd (free it); out may be NULL. The first key of the region is activated at once. */
int tenantkey_generate(tenantkey_svc *self, const char *principal, const char *tenant,
                       const char *region, const char *name, const char *password, uint8_t **pfx,
                       size_t *pfx_len, tenantkey_key_info *out, cmk_err *err);

/* tenantkey_upload - add a key from a .pfx (password required) or a .byok file (made for the
 * tenant region's key-exchange key; password ignored). Only 2048-bit RSA keys are accepted.
 * The first key of the region is activated at once. */
int tenantkey_upload(tenantkey_svc *self, const char *principal, const char *tenant,
                     const char *region, const char *name, const uint8_t *data, size_t len,
                     const char *password, tenantkey_format format, tenantkey_key_info *out,
                     cmk_err *err);

/* tenantkey_activate - start activating an Available key (Installing, then Active) */
int tenantkey_activate(tenantkey_svc *self, const char *principal, const char *tenant,
                       const char *name, tenantkey_key_info *out, cmk_err *err);

/* tenantkey_list - the tenant's keys, by region and name; *out freed with
 * tenantkey_key_infos_free */
int tenantkey_list(tenantkey_svc *self, const char *principal, const char *tenant,
                   tenantkey_key_info **out, size_t *n, cmk_err *err);

/* tenantkey_kek_public_pem - the tenant region's key-exchange key (made on first request):
 * its public key as PEM (*pem malloc'd) and its key id, for vault_byok_export() or an HSM */
int tenantkey_kek_public_pem(tenantkey_svc *self, const char *principal, const char *tenant,
                             const char *region, char **pem, char kid[TENANTKEY_KID_MAX],
                             cmk_err *err);

/* tenantkey_status - the tenant's feature state as JSON: enabled, per region the active key,
 * last activation and when the next is allowed, when lock is allowed, the lock; locked
 * environments; key removal after migration */
int tenantkey_status(tenantkey_svc *self, const char *principal, const char *tenant, cJSON **out,
                     cmk_err *err);

/* ---- lock and unlock ---------------------------------------------------------------------- */

/* tenantkey_lock_confirmation_text - the text the admin must type to lock tenant/region */
char *tenantkey_lock_confirmation_text(const char *tenant, const char *region, char *buf,
                                       size_t cap);

/* tenantkey_lock - lock with the active key (file + password) and the confirmation text */
int tenantkey_lock(tenantkey_svc *self, const char *principal, const char *tenant,
                   const uint8_t *data, size_t len, const char *password, tenantkey_format format,
                   const char *confirmation, cmk_err *err);

/* tenantkey_unlock_key - upload the key that locked the tenant: it goes Installing, then
 * Active; out may be NULL */
int tenantkey_unlock_key(tenantkey_svc *self, const char *principal, const char *tenant,
                         const uint8_t *data, size_t len, const char *password,
                         tenantkey_format format, tenantkey_key_info *out, cmk_err *err);

/* tenantkey_unlock_env - unlock one locked environment (its key must be Active again) */
int tenantkey_unlock_env(tenantkey_svc *self, const char *principal, const char *env,
                         tenantkey_env_state *out, cmk_err *err);

/* ---- environments ------------------------------------------------------------------------- */

/* tenantkey_apply_to_env - encrypt an environment with its region's active key (downtime:
 * confirm must be non-zero) */
int tenantkey_apply_to_env(tenantkey_svc *self, const char *principal, const char *env, int confirm,
                           tenantkey_env_state *out, cmk_err *err);

/* tenantkey_return_to_microsoft - back to the Microsoft-managed key; for a production
 * environment typed_name must be the environment's name */
int tenantkey_return_to_microsoft(tenantkey_svc *self, const char *principal, const char *env,
                                  const char *typed_name, tenantkey_env_state *out, cmk_err *err);

/* tenantkey_env_byok_state - an environment's encryption state (works for any environment) */
int tenantkey_env_byok_state(tenantkey_svc *self, const char *principal, const char *env,
                             tenantkey_env_state *out, cmk_err *err);

/* tenantkey_env_reset - record a reset: encrypted data and backups are deleted and the
 * environment reverts to the Microsoft-managed key (refused while locked) */
int tenantkey_env_reset(tenantkey_svc *self, const char *principal, const char *env,
                        tenantkey_env_state *out, cmk_err *err);

/* ---- migration to customer-managed keys (seed 004) ---------------------------------------- */

/* tenantkey_migrated_to_cmk - hook for the policy module: env was added to enterprise policy
 * `policy`. A BYOK environment moves to the customer key with no downtime ("managed by
 * CustomerViaMicrosoft"), cannot return to the Microsoft key for cfg.migration_no_return_ms;
 * its key is kept cfg.migration_key_retention_ms; when no BYOK environment remains, the
 * tenant's keys are removed that long after. Refused for a locked environment. */
int tenantkey_migrated_to_cmk(tenantkey_svc *self, const char *principal, const char *env,
                              const char *policy, tenantkey_env_state *out, cmk_err *err);

/* tenantkey_cmk_return_check - for the policy module, before an environment leaves its
 * policy for the Microsoft-managed key: CMK_ESTATE within the no-return period (audited) */
int tenantkey_cmk_return_check(tenantkey_svc *self, const char *principal, const char *env,
                               cmk_err *err);

/* tenantkey_left_cmk - hook for the policy module: env left its policy for the Microsoft key
 * (refused within the no-return period) */
int tenantkey_left_cmk(tenantkey_svc *self, const char *principal, const char *env,
                       tenantkey_env_state *out, cmk_err *err);

/* ---- environment database operations: pure decisions (seed 003) --------------------------- */

/* tenantkey_restore_allowed - may a backup of source, taken in state at_backup, overwrite
 * target? Allowed when the target's current encryption (Microsoft or customer-managed)
 * matches the state at backup time, into the same environment or one under the same
 * customer-managed key. source_now (NULL if deleted) is the source's current state. A
 * locked target is refused; a BYOK backup of a migrated environment restores only while its
 * BYOK key is retained (now_ms). */
int tenantkey_restore_allowed(const tenantkey_env_state *at_backup,
                              const tenantkey_env_state *source_now,
                              const tenantkey_env_state *target, int64_t now_ms, cmk_err *err);

/* tenantkey_copy_allowed - may source be copied over target? Only to another environment
 * under the same customer-managed key when either side is customer-managed; never to or
 * from a locked environment */
int tenantkey_copy_allowed(const tenantkey_env_state *source, const tenantkey_env_state *target,
                           cmk_err *err);

/* tenantkey_reset_outcome - what a reset does: *after is the state afterwards (Microsoft
 * key) and *delete_backups 1 (encrypted data and backups are deleted); refused when locked */
int tenantkey_reset_outcome(const tenantkey_env_state *before, tenantkey_env_state *after,
                            int *delete_backups, cmk_err *err);

/* ---- notices ------------------------------------------------------------------------------ */

/* tenantkey_mmk_only_features - the features that stay on the Microsoft-managed key whatever
 * the environment's key (seed 003's list, exact names); *n gets the count */
const char *const *tenantkey_mmk_only_features(size_t *n);

/* tenantkey_deprecation_notice - the legacy notice every command prints */
const char *tenantkey_deprecation_notice(void);

#endif
