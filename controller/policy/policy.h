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

#include "err.h"
#include "proto.h"

struct ctl_s;
typedef struct policy_svc policy_svc;

/* policy_svc_new - tables in controller.db, the rotation hook, resumed operations and timers */
policy_svc *policy_svc_new(void *ctl, cmk_err *err);
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
