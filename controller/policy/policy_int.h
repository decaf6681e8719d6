/*
 * policy_int.h - what policy.c, policy_link.c and policy_rotation.c share (not a public API).
 */
#ifndef CMK_POLICY_INT_H
#define CMK_POLICY_INT_H

#include "policy.h"

struct policy_svc {
    policy_deps d;            /* what it was given */
    int64_t health_timer;     /* loop timer of the periodic health check */
    int checking;             /* a health check is running (no re-entry) */
};

/* pol_exec1 - run SQL with up to 4 text parameters (NULL binds NULL); 0 or CMK_EIO */
int pol_exec(policy_svc *self, const char *sql, const char *a, const char *b, const char *c, const char *d,
             cmk_err *err);

/* pol_row - one policy row as JSON by id or name (NULL if none) */
cJSON *pol_row(policy_svc *self, const char *ref);

/* pol_kek - the policy's key as a keyring KEK (strings point into policy) */
void pol_kek(const cJSON *policy, keyring_kek *kek);

/* pol_check_key - can the policy's identity use its key? 0, or the reason in err */
int pol_check_key(policy_svc *self, const cJSON *policy, cmk_err *err);

/* pol_check_version - the same for one version of the policy's key (NULL: the current one) */
int pol_check_version(policy_svc *self, const cJSON *policy, const char *version, cmk_err *err);

/* pol_rotation_init - the policy_rotations table (pending and applied rotations per environment) */
int pol_rotation_init(policy_svc *self, cmk_err *err);

/* pol_on_rotation - the vault's rotation hook: pending rotations for the linked environments */
void pol_on_rotation(const vault_rotation_event *ev, void *arg);

/* pol_rotation_resume - after a restart: timers of pending rotations (applied at once if due) */
void pol_rotation_resume(policy_svc *self);

/* pol_rotation_check - rotation rules of a policy whose key is usable: lock environments whose
 * data key an unusable version wraps, warn of a previous version disabled early; 0 healthy,
 * 1 unhealthy, 2 warning, with the reason */
int pol_rotation_check(policy_svc *self, const cJSON *policy, char *reason, size_t cap);

/* pol_rotation_env_ok - can the version that wraps env's data key be used? 0 or why not */
int pol_rotation_env_ok(policy_svc *self, const cJSON *policy, const char *env, cmk_err *err);

/* pol_rotation_status - key_version, rotation, rotation_due and warnings of env into row */
void pol_rotation_status(policy_svc *self, const char *env, cJSON *row);

/* pol_op_new / pol_op_end - operation rows */
int pol_op_new(policy_svc *self, const char *kind, const char *env, const char *policy, const char *principal,
               char id[64], cmk_err *err);
void pol_op_end(policy_svc *self, const char *id, const char *status, const char *message);

/* pol_lock_env - lock an environment of an unhealthy policy */
void pol_lock_env(policy_svc *self, const char *env, const char *reason);

/* pol_schedule_deletion - the 7/30-day deletion timer of a locked environment */
void pol_schedule_deletion(policy_svc *self, const char *env, const char *type, int64_t locked_at);

/* pol_dedicated_worker - make the key of and spawn worker-<env> */
int pol_dedicated_worker(policy_svc *self, const char *env, cmk_err *err);

#endif
