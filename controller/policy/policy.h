/*
 * policy.h - enterprise policies of kind Encryption: the admin's side of customer-managed keys.
 *
 * A policy names a vault, a key (and optionally a version) and a region, and has a
 * system-assigned identity ("pp-identity-<policy>") that must be granted get, wrapKey and
 * unwrapKey on the vault. State Enabled | Disabled | NotConfigured; health Undetermined |
 * Healthy | Warning | Unhealthy.
 *
 * Linking an environment (policy_link.c) is an operation that can be polled (Running,
 * Succeeded, Failed): the environment is disabled while it is added, its data key is re-wrapped
 * by the customer key, and it moves to its own dedicated worker. Unlinking reverts it to the
 * Microsoft-managed key. The health monitor (policy_link.c) locks every environment of a
 * policy whose key stopped being reachable; "Re-enable environment" brings it back; a locked
 * environment not re-enabled is deleted after 7 days (sandbox) or 30 days (production).
 * A new key version is applied to linked environments policy.rotation_apply (24 h) later by
 * re-wrapping their data keys (policy_rotation.c).
 * docs/RULES.md lists each rule with its id and test.
 */
#ifndef CMK_POLICY_H
#define CMK_POLICY_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "audit.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "directory.h"
#include "err.h"
#include "keyring.h"
#include "loop.h"
#include "migration.h"
#include "supervisor.h"
#include "tenantkey.h"
#include "vault.h"

typedef struct policy_svc policy_svc;

/* What the policy service is given (owned by the controller, which outlives it). */
typedef struct {
    sqlite3 *db;               /* controller.db: policies, policy_links, policy_ops, policy_rotations */
    cmk_clock *clock;          /* operations' times, lock and deletion timers, re-enable, rotations */
    cmk_loop *loop;            /* the periodic health check */
    const cmk_config *cfg;     /* health.interval, cmk.env_limit, locked deletion, re-enable and rotation
                                * times, vault.microsoft_services ranges, the run dir (worker keys) */
    directory *dir;            /* environments' state, encryption, infrastructure, policy; tenants' limits */
    audit_log *audit;          /* every operation's record */
    vault_svc *vault;          /* the policy's key, seen from its identity; the rotation hook */
    keyring *keyring;          /* the environments' "cmk" data keys */
    tenantkey_svc *tenantkeys; /* legacy BYOK environments that move to CMK and back */
    supervisor *sup;           /* the dedicated workers */
    broker *broker;            /* env.release to a locked environment's worker */
    migration_svc *migration;  /* moving flows when an environment is added or removed */
} policy_deps;

/* policy_svc_new - tables in controller.db, the rotation hook, the health timer; deps is copied */
policy_svc *policy_svc_new(const policy_deps *deps, cmk_err *err);
void policy_svc_destroy(policy_svc **self_p);

/* policy_create - {tenant, name, vault, key, version?, region}; checks the vault and key */
int policy_create(policy_svc *self, const char *principal, const cJSON *body, cJSON **out, cmk_err *err);

/* policy_get / policy_list / policy_delete */
int policy_get(policy_svc *self, const char *ref, cJSON **out, cmk_err *err);
int policy_list(policy_svc *self, const char *tenant, cJSON **out, cmk_err *err);
int policy_delete(policy_svc *self, const char *principal, const char *ref, cJSON **out, cmk_err *err);

/* policy_validate - check the vault and key again (state and health) */
int policy_validate(policy_svc *self, const char *principal, const char *ref, cJSON **out, cmk_err *err);

/* policy_link / policy_unlink / policy_reenable - start an operation; *out gets it */
int policy_link(policy_svc *self, const char *principal, const char *policy, const char *env, cJSON **out, cmk_err *err);
int policy_unlink(policy_svc *self, const char *principal, const char *env, cJSON **out, cmk_err *err);
int policy_reenable(policy_svc *self, const char *principal, const char *env, cJSON **out, cmk_err *err);

/* policy_operation - one operation by id */
int policy_operation(policy_svc *self, const char *id, cJSON **out, cmk_err *err);

/* policy_op_new - a Running operation row that others start (kind "protect": the support
 * ticket that moves the flows of a CMK environment); *id gets its id */
int policy_op_new(policy_svc *self, const char *kind, const char *env, const char *policy, const char *principal,
                  char id[64], cmk_err *err);

/* policy_migration_done - a migration_done_fn (arg: the policy_svc): the flows of env moved (or
 * did not), so the link, unlink or protect operation that started the move completes */
void policy_migration_done(void *arg, const char *env, int rc, int moved, int held, const char *message);

/* policy_health_check - evaluate every policy now; lock environments of unhealthy ones */
void policy_health_check(policy_svc *self, const char *why);

/* policy_env_status - the CMK view of an environment: policy, encryption status, lock, warnings */
int policy_env_status(policy_svc *self, const char *env, cJSON **out, cmk_err *err);

/* policy_locks_by_reason - {lock reason: count} of the environments a policy lock holds now
 * (NULL on a database error) */
cJSON *policy_locks_by_reason(policy_svc *self);

/* policy_env_lock_view - if env (a directory row) is Locked, add what the environment details
 * page shows: "status": "Environment disabled", "lock_cause", "locked_at", "deletion_due" and
 * "remedy" (a policy lock, or the legacy BYOK tenant lock); nothing otherwise */
void policy_env_lock_view(policy_svc *self, cJSON *env_row);

/* policy_raise_limit - the support ticket that raises a tenant's CMK environment limit */
int policy_raise_limit(policy_svc *self, const char *principal, const char *tenant, int limit, cJSON **out, cmk_err *err);

/* policy_apply_rotation - apply the policy's pending key rotations now (re-wrap the data keys);
 * *out gets {policy, applied: [env], failed: [{env, error}]} */
int policy_apply_rotation(policy_svc *self, const char *principal, const char *policy, cJSON **out, cmk_err *err);

/* policy_resume - reschedule, after a restart, what timers were doing (deletions, re-enables,
 * pending key rotations) */
void policy_resume(policy_svc *self);

/* policy_start_dedicated_workers - spawn the dedicated worker of every dedicated environment */
int policy_start_dedicated_workers(policy_svc *self, cmk_err *err);

#endif
