/*
 * tenantkey_rules.c - environment database operations under the legacy tenant key (seed 003,
 * "Environment database operations") as pure decisions over encryption states:
 *
 * - Restore: the target is the environment the backup was taken from, or another one
 *   encrypted with the same customer-managed key; and the target's current encryption state
 *   (Microsoft-managed or customer-managed) must match the state when the backup was taken.
 *   Locked environments can't be restored from backup.
 * - Copy: the environment to overwrite must be another environment encrypted with the same
 *   customer-managed key.
 * - Reset: encrypted data and backups are deleted; the encryption reverts to the
 *   Microsoft-managed key.
 *
 * "Customer-managed" covers the tenant key (self-managed, locked) and an enterprise policy's
 * key (customer); the key identity compared is the tenant key's fingerprint, or the policy.
 */
#include "tenantkey_int.h"

#include <stdio.h>
#include <string.h>

/* is_customer - the state class: 1 customer-managed, 0 Microsoft-managed */
static int is_customer(const tenantkey_env_state *s)
{
    return s->mode != TENANTKEY_ENV_MICROSOFT;
}

/* key_identity - what "the same customer-managed key" compares */
static const char *key_identity(const tenantkey_env_state *s, char *buf, size_t cap)
{
    if (s->mode == TENANTKEY_ENV_CUSTOMER && s->policy[0])
        snprintf(buf, cap, "policy:%s", s->policy);
    else
        snprintf(buf, cap, "key:%s", s->key_fp);
    return buf;
}

/* describe - "the Microsoft-managed key" / "key 'k1'" / "policy 'p'" */
static const char *describe(const tenantkey_env_state *s, char *buf, size_t cap)
{
    if (!is_customer(s))
        snprintf(buf, cap, "the Microsoft-managed key");
    else if (s->mode == TENANTKEY_ENV_CUSTOMER && s->policy[0])
        snprintf(buf, cap, "the customer-managed key of policy '%s'", s->policy);
    else
        snprintf(buf, cap, "customer-managed key '%s'", s->key);
    return buf;
}

/* tenantkey_restore_allowed - may this backup overwrite target? */
int tenantkey_restore_allowed(const tenantkey_env_state *at_backup,
                              const tenantkey_env_state *source_now,
                              const tenantkey_env_state *target, int64_t now_ms, cmk_err *err)
{
    char a[TENANTKEY_NAME_MAX + 48], b[TENANTKEY_NAME_MAX + 48], ts[TK_TS];
    char ia[TENANTKEY_NAME_MAX + 16], ib[TENANTKEY_NAME_MAX + 16];
    const tenantkey_env_state *src;

    if (!at_backup || !target)
        return cmk_err_set(err, CMK_EINVAL, "restore: give the backup's state and the target");
    if (target->mode == TENANTKEY_ENV_LOCKED)
        return cmk_err_set(err, CMK_ESTATE,
                           "locked environments can't be restored from backup ('%s' is locked; "
                           "unlock it first)",
                           target->name);
    if (!is_customer(at_backup) && is_customer(target))
        return cmk_err_set(err, CMK_ESTATE,
                           "a past backup taken when the environment was encrypted with the "
                           "Microsoft-managed key can't be restored to an environment that is "
                           "currently encrypted with the customer-managed key ('%s')",
                           target->name);
    if (is_customer(at_backup) && !is_customer(target))
        return cmk_err_set(err, CMK_ESTATE,
                           "restoring a backup is allowed only when the environment's current "
                           "encryption state matches the state when the backup was taken: the "
                           "backup was taken under %s, '%s' is on the Microsoft-managed key",
                           describe(at_backup, a, sizeof a), target->name);
    if (strcmp(at_backup->env, target->env) == 0) {
        if (at_backup->mode != TENANTKEY_ENV_CUSTOMER && target->mode == TENANTKEY_ENV_CUSTOMER &&
            target->key_retained_until_ms && now_ms >= target->key_retained_until_ms)
            return cmk_err_set(err, CMK_ESTATE,
                               "the backup is encrypted with BYOK key '%s', which was kept only "
                               "until %s after the migration to a customer-managed key; it can "
                               "no longer be restored",
                               at_backup->key,
                               tk_time(target->key_retained_until_ms, ts, sizeof ts));
        return 0;
    }
    if (!is_customer(target))
        return 0; /* Microsoft-managed on both sides */
    src = source_now ? source_now : at_backup;
    if (!is_customer(src) ||
        strcmp(key_identity(src, ia, sizeof ia), key_identity(target, ib, sizeof ib)) != 0)
        return cmk_err_set(err, CMK_ESTATE,
                           "a backup can be restored only to the environment it was taken from "
                           "('%s') or to another environment encrypted with the same "
                           "customer-managed key; '%s' is encrypted with %s, '%s' with %s",
                           at_backup->name, target->name, describe(target, b, sizeof b), src->name,
                           describe(src, a, sizeof a));
    return 0;
}

/* tenantkey_copy_allowed - may source overwrite target? */
int tenantkey_copy_allowed(const tenantkey_env_state *source, const tenantkey_env_state *target,
                           cmk_err *err)
{
    char a[TENANTKEY_NAME_MAX + 48], b[TENANTKEY_NAME_MAX + 48];
    char ia[TENANTKEY_NAME_MAX + 16], ib[TENANTKEY_NAME_MAX + 16];

    if (!source || !target)
        return cmk_err_set(err, CMK_EINVAL, "copy: give the source and the target");
    if (strcmp(source->env, target->env) == 0)
        return cmk_err_set(err, CMK_EINVAL, "copy needs two different environments");
    if (source->mode == TENANTKEY_ENV_LOCKED || target->mode == TENANTKEY_ENV_LOCKED)
        return cmk_err_set(err, CMK_ESTATE,
                           "'%s' is locked: locked environments can't be copied from or to",
                           source->mode == TENANTKEY_ENV_LOCKED ? source->name : target->name);
    if (!is_customer(source) && !is_customer(target))
        return 0;
    if (!is_customer(source) || !is_customer(target) ||
        strcmp(key_identity(source, ia, sizeof ia), key_identity(target, ib, sizeof ib)) != 0)
        return cmk_err_set(err, CMK_ESTATE,
                           "the environment to overwrite is restricted to another environment "
                           "encrypted with the same customer-managed key: '%s' is encrypted "
                           "with %s, '%s' with %s; change the target's encryption to the same "
                           "key first",
                           source->name, describe(source, a, sizeof a), target->name,
                           describe(target, b, sizeof b));
    return 0;
}

/* tenantkey_reset_outcome - what a reset does to the encryption state */
int tenantkey_reset_outcome(const tenantkey_env_state *before, tenantkey_env_state *after,
                            int *delete_backups, cmk_err *err)
{
    if (!before || !after || !delete_backups)
        return cmk_err_set(err, CMK_EINVAL,
                           "reset: give the state before and where to put the "
                           "outcome");
    if (before->mode == TENANTKEY_ENV_LOCKED)
        return cmk_err_set(err, CMK_ESTATE,
                           "'%s' is locked: a locked environment can't be reset; unlock it first",
                           before->name);
    *after = *before;
    *delete_backups = 1;
    if (before->mode == TENANTKEY_ENV_SELF_MANAGED) {
        after->mode = TENANTKEY_ENV_MICROSOFT;
        after->key[0] = after->key_fp[0] = '\0';
        after->applied_ms = 0;
        snprintf(after->managed_by, sizeof after->managed_by, "Microsoft");
    }
    return 0;
}
