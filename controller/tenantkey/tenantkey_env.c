/*
 * tenantkey_env.c - environments under the legacy tenant key: apply the region's active key
 * (downtime, confirmation; only environments created after the feature was turned on; not to
 * production environments since June 1, 2025), return to the Microsoft-managed key (a
 * production environment's name must be typed), the encryption state of an environment, a
 * reset (reverts to the Microsoft key), and the migration to customer-managed keys (seed 004:
 * CustomerViaMicrosoft, no return for 7 days, the BYOK key kept 28 days, the tenant's keys
 * removed 28 days after its last BYOK environment migrated).
 */
#include "tenantkey_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

/* date_words - "June 1, 2025" */
static char *date_words(int64_t ms, char *buf, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(buf, cap, "%B %-d, %Y", &tm);
    return buf;
}

/* tk_env_state_fill - the public state of an environment */
void tk_env_state_fill(tenantkey_svc *svc, const tk_dir_env *d, const tk_env *e, const tk_tenant *t,
                       tenantkey_env_state *out)
{
    (void)svc;
    memset(out, 0, sizeof *out);
    cmk_strlcpy(out->env, d->id, sizeof out->env);
    cmk_strlcpy(out->name, d->name, sizeof out->name);
    cmk_strlcpy(out->tenant, d->tenant, sizeof out->tenant);
    cmk_strlcpy(out->region, d->region, sizeof out->region);
    cmk_strlcpy(out->type, d->type, sizeof out->type);
    out->eligible = t && t->enabled_ms && d->created_ms >= t->enabled_ms;
    out->mode = TENANTKEY_ENV_MICROSOFT;
    if (e) {
        out->mode = e->mode;
        cmk_strlcpy(out->key, e->key_name, sizeof out->key);
        cmk_strlcpy(out->key_fp, e->key_fp, sizeof out->key_fp);
        cmk_strlcpy(out->policy, e->policy, sizeof out->policy);
        out->applied_ms = e->applied_ms;
        out->locked_ms = e->locked_ms;
        out->delete_at_ms = e->delete_ms;
        out->migrated_ms = e->migrated_ms;
        out->no_return_until_ms = e->no_return_ms;
        out->key_retained_until_ms = e->retain_ms;
    }
    if (out->mode == TENANTKEY_ENV_MICROSOFT && strcmp(d->encryption, "customer") == 0) {
        out->mode = TENANTKEY_ENV_CUSTOMER; /* through a policy, without this feature */
        cmk_strlcpy(out->policy, d->policy, sizeof out->policy);
    }
    cmk_strlcpy(out->managed_by,
                out->mode == TENANTKEY_ENV_MICROSOFT  ? "Microsoft"
                : out->mode == TENANTKEY_ENV_CUSTOMER ? "CustomerViaMicrosoft"
                                                      : "Self-managed",
                sizeof out->managed_by);
}

/* env_open - look up the environment, its tenant's feature row (NULL if none) and our row */
static int env_open(tk_op *op, const char *env, tk_dir_env *d, tk_tenant *t, int *has_t, tk_env *e,
                    int *has_e)
{
    int rc;

    *has_t = *has_e = 0;
    if ((rc = tk_check_principal(op)) < 0 || (rc = tk_env_lookup(op, env, d)) < 0)
        return rc;
    rc = tks_tenant_get(op->svc, d->tenant, t, op->err);
    if (rc < 0 && rc != CMK_ENOENT)
        return rc;
    *has_t = rc == 0;
    rc = tks_env_get(op->svc, d->id, e, op->err);
    if (rc < 0 && rc != CMK_ENOENT)
        return rc;
    *has_e = rc == 0;
    return 0;
}

/* no_return - CMK_ESTATE while a migrated environment cannot return to the Microsoft key */
static int no_return(tk_op *op, const tk_dir_env *d, const tk_env *e)
{
    char ts[TK_TS], ts2[TK_TS], dur[32];

    if (e->mode != TENANTKEY_ENV_CUSTOMER || !e->no_return_ms || op->now >= e->no_return_ms)
        return 0;
    return cmk_err_set(op->err, CMK_ESTATE,
                       "environment '%s' migrated from BYOK to a customer-managed key at %s and "
                       "cannot return to the Microsoft-managed key for %s after the migration; "
                       "allowed from %s",
                       d->name, tk_time(e->migrated_ms, ts, sizeof ts),
                       tk_dur(op->svc->cfg.migration_no_return_ms, dur, sizeof dur),
                       tk_time(e->no_return_ms, ts2, sizeof ts2));
}

/* apply_checks - the rules before the tenant key may be applied */
static int apply_checks(tk_op *op, const tk_dir_env *d, const tk_tenant *t,
                        const tenantkey_env_state *st, int confirm, tk_key *active)
{
    tk_key *keys = NULL;
    size_t n = 0;
    char ts[TK_TS], ts2[TK_TS], day[40];
    int rc;

    if (st->mode == TENANTKEY_ENV_SELF_MANAGED)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "environment '%s' is encrypted with the tenant key '%s' already",
                           d->name, st->key);
    if (st->mode == TENANTKEY_ENV_LOCKED)
        return cmk_err_set(op->err, CMK_ESTATE, "environment '%s' is locked; unlock it first",
                           d->name);
    if (st->mode == TENANTKEY_ENV_CUSTOMER)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "environment '%s' is encrypted with a customer-managed key (policy "
                           "'%s', managed by CustomerViaMicrosoft); the legacy tenant key cannot "
                           "be applied to it",
                           d->name, st->policy);
    if (!st->eligible)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "environment '%s' was created at %s, before the self-managed "
                           "encryption key feature was turned on for tenant '%s' (%s); only "
                           "environments created after that can use it",
                           d->name, tk_time(d->created_ms, ts, sizeof ts), d->tenant,
                           tk_time(t->enabled_ms, ts2, sizeof ts2));
    if (strcmp(d->type, "production") == 0 && op->now >= op->svc->cfg.production_cutoff_ms)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "the self-managed encryption key (BYOK) cannot be applied to "
                           "production environments since %s, and '%s' is a production "
                           "environment; use a customer-managed key (enterprise policy) instead",
                           date_words(op->svc->cfg.production_cutoff_ms, day, sizeof day), d->name);
    rc = tks_keys_list(op->svc, d->tenant, d->region, TENANTKEY_KEY_ACTIVE, &keys, &n, op->err);
    if (rc == 0 && n > 0)
        *active = keys[0];
    free(keys);
    if (rc < 0)
        return rc;
    if (n == 0) {
        rc = tks_keys_list(op->svc, d->tenant, d->region, TENANTKEY_KEY_INSTALLING, &keys, &n,
                           op->err);
        if (rc == 0 && n > 0)
            rc = cmk_err_set(op->err, CMK_ESTATE,
                             "tenant '%s' has no active key in %s yet: key '%s' is Installing "
                             "until %s",
                             d->tenant, d->region, keys[0].info.name,
                             tk_time(keys[0].info.active_at_ms, ts, sizeof ts));
        else if (rc == 0)
            rc = cmk_err_set(op->err, CMK_ESTATE,
                             "tenant '%s' has no active key in %s: generate or upload a key "
                             "(and activate it) first",
                             d->tenant, d->region);
        free(keys);
        return rc;
    }
    if (!confirm)
        return cmk_err_set(op->err, CMK_EINVAL,
                           "applying the key to environment '%s' means downtime for it: confirm "
                           "to go on",
                           d->name);
    return 0;
}

/* tenantkey_apply_to_env - encrypt an environment with the region's active key */
int tenantkey_apply_to_env(tenantkey_svc *self, const char *principal, const char *env, int confirm,
                           tenantkey_env_state *out, cmk_err *err)
{
    tenantkey_env_state st;
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    tk_key active;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.apply", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) < 0 ||
        (rc = tk_tenant_open(&op, d.tenant, &t)) < 0)
        goto done;
    tk_env_state_fill(self, &d, has_e ? &e : NULL, &t, &st);
    if ((rc = apply_checks(&op, &d, &t, &st, confirm, &active)) < 0)
        goto done;
    memset(&e, 0, sizeof e);
    cmk_strlcpy(e.env, d.id, sizeof e.env);
    cmk_strlcpy(e.tenant, d.tenant, sizeof e.tenant);
    cmk_strlcpy(e.region, d.region, sizeof e.region);
    e.mode = TENANTKEY_ENV_SELF_MANAGED;
    e.key_id = active.id;
    cmk_strlcpy(e.key_name, active.info.name, sizeof e.key_name);
    cmk_strlcpy(e.key_fp, active.info.fingerprint, sizeof e.key_fp);
    e.applied_ms = op.now;
    if ((rc = tks_env_put(self, &e, op.err)) == 0) {
        tk_emit(self, "env.encryption", e.tenant, e.env, e.key_name, op.now);
        tk_detail(&op, "environment '%s' is encrypted with key '%s' (downtime while it switches)",
                  d.name, e.key_name);
        if (out)
            tk_env_state_fill(self, &d, &e, &t, out);
    }
done:
    return tk_op_end(&op, rc);
}

/* tenantkey_return_to_microsoft - back to the Microsoft-managed key */
int tenantkey_return_to_microsoft(tenantkey_svc *self, const char *principal, const char *env,
                                  const char *typed_name, tenantkey_env_state *out, cmk_err *err)
{
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.return", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) < 0 ||
        (rc = tk_tenant_open(&op, d.tenant, &t)) < 0)
        goto done;
    if (!has_e || e.mode == TENANTKEY_ENV_MICROSOFT) {
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "environment '%s' is on the Microsoft-managed key already", d.name);
    } else if (e.mode == TENANTKEY_ENV_LOCKED) {
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "environment '%s' is locked: unlock it before changing its encryption",
                         d.name);
    } else if (e.mode == TENANTKEY_ENV_CUSTOMER) {
        rc = no_return(&op, &d, &e);
        if (rc == 0)
            rc = cmk_err_set(op.err, CMK_ESTATE,
                             "environment '%s' is managed by CustomerViaMicrosoft through "
                             "enterprise policy '%s': remove it from the policy to return it to "
                             "the Microsoft-managed key",
                             d.name, e.policy);
    } else if (strcmp(d.type, "production") == 0 &&
               (!typed_name || strcmp(typed_name, d.name) != 0)) {
        rc = cmk_err_set(op.err, CMK_EINVAL,
                         "'%s' is a production environment: confirm by entering the "
                         "environment's name",
                         d.name);
    }
    if (rc < 0)
        goto done;
    e.mode = TENANTKEY_ENV_MICROSOFT;
    e.key_id = 0;
    e.key_name[0] = e.key_fp[0] = '\0';
    e.applied_ms = 0;
    if ((rc = tks_env_put(self, &e, op.err)) == 0) {
        tk_emit(self, "env.encryption", e.tenant, e.env, NULL, op.now);
        tk_detail(&op, "environment '%s' returned to the Microsoft-managed key", d.name);
        if (out)
            tk_env_state_fill(self, &d, &e, &t, out);
    }
done:
    return tk_op_end(&op, rc);
}

/* tenantkey_env_byok_state - the encryption state of any environment */
int tenantkey_env_byok_state(tenantkey_svc *self, const char *principal, const char *env,
                             tenantkey_env_state *out, cmk_err *err)
{
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.env_state", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) == 0) {
        tk_env_state_fill(self, &d, has_e ? &e : NULL, has_t ? &t : NULL, out);
        tk_detail(&op, "%s", tenantkey_env_mode_name(out->mode));
    }
    return tk_op_end(&op, rc);
}

/* tenantkey_env_reset - a reset reverts to the Microsoft key */
int tenantkey_env_reset(tenantkey_svc *self, const char *principal, const char *env,
                        tenantkey_env_state *out, cmk_err *err)
{
    tenantkey_env_state before, after;
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, del = 0, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.reset", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) < 0)
        goto done;
    tk_env_state_fill(self, &d, has_e ? &e : NULL, has_t ? &t : NULL, &before);
    if ((rc = tenantkey_reset_outcome(&before, &after, &del, op.err)) < 0)
        goto done;
    if (has_e && e.mode == TENANTKEY_ENV_SELF_MANAGED) {
        e.mode = TENANTKEY_ENV_MICROSOFT;
        e.key_id = 0;
        e.key_name[0] = e.key_fp[0] = '\0';
        e.applied_ms = 0;
        if ((rc = tks_env_put(self, &e, op.err)) < 0)
            goto done;
        tk_emit(self, "env.encryption", e.tenant, e.env, NULL, op.now);
    }
    if (out)
        *out = after;
    tk_detail(&op, "encrypted data and backups deleted; encryption is %s",
              tenantkey_env_mode_name(after.mode));
done:
    return tk_op_end(&op, rc);
}

/* byok_remaining - how many environments of the tenant still use BYOK (self-managed, locked) */
static int byok_remaining(tk_op *op, const char *tenant, size_t *count)
{
    tk_env *envs = NULL;
    size_t n = 0;
    int rc = tks_envs_list(op->svc, tenant, NULL, -1, &envs, &n, op->err);

    *count = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (envs[i].mode == TENANTKEY_ENV_SELF_MANAGED || envs[i].mode == TENANTKEY_ENV_LOCKED)
            (*count)++;
    free(envs);
    return rc;
}

/* migrate - a BYOK environment moves to the customer key (lock held, in a transaction) */
static int migrate(tk_op *op, const tk_dir_env *d, tk_tenant *t, tk_env *e, const char *policy)
{
    const tenantkey_config *cfg = &op->svc->cfg;
    char ts[TK_TS], ts2[TK_TS], ts3[TK_TS];
    size_t left = 0;
    int rc;

    e->mode = TENANTKEY_ENV_CUSTOMER;
    e->key_id = 0;
    cmk_strlcpy(e->policy, policy, sizeof e->policy);
    e->migrated_ms = op->now;
    e->no_return_ms = op->now + cfg->migration_no_return_ms;
    e->retain_ms = op->now + cfg->migration_key_retention_ms;
    if ((rc = tks_env_put(op->svc, e, op->err)) < 0 ||
        (rc = byok_remaining(op, d->tenant, &left)) < 0)
        return rc;
    t->last_migration_ms = op->now;
    t->keys_remove_ms = left == 0 ? op->now + cfg->migration_key_retention_ms : 0;
    if ((rc = tks_tenant_put(op->svc, t, op->err)) < 0)
        return rc;
    if (t->keys_remove_ms)
        tk_schedule(op->svc, t->keys_remove_ms);
    tk_detail(op,
              "environment '%s' moved from BYOK key '%s' to the customer-managed key of policy "
              "'%s' with no downtime (managed by CustomerViaMicrosoft); no return to the "
              "Microsoft-managed key before %s; BYOK key kept until %s%s%s",
              d->name, e->key_name, policy, tk_time(e->no_return_ms, ts, sizeof ts),
              tk_time(e->retain_ms, ts2, sizeof ts2),
              left == 0 ? "; it was the last BYOK environment: the tenant's BYOK keys are "
                          "removed at "
                        : "",
              left == 0 ? tk_time(t->keys_remove_ms, ts3, sizeof ts3) : "");
    return 0;
}

/* tenantkey_migrated_to_cmk - the environment was added to an enterprise policy */
int tenantkey_migrated_to_cmk(tenantkey_svc *self, const char *principal, const char *env,
                              const char *policy, tenantkey_env_state *out, cmk_err *err)
{
    tenantkey_env_state st;
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.migrated_to_cmk", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) < 0)
        goto done;
    if (!policy || !*policy || strlen(policy) >= TENANTKEY_NAME_MAX) {
        rc = cmk_err_set(op.err, CMK_EINVAL, "name the enterprise policy the environment joined");
        goto done;
    }
    tk_env_state_fill(self, &d, has_e ? &e : NULL, has_t ? &t : NULL, &st);
    if (st.mode == TENANTKEY_ENV_LOCKED) {
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "environment '%s' is locked: a locked environment cannot move to a "
                         "customer-managed key; unlock it first",
                         d.name);
    } else if (has_e && e.mode == TENANTKEY_ENV_CUSTOMER) {
        rc = cmk_err_set(op.err, CMK_EEXIST,
                         "environment '%s' is on a customer-managed key already (policy '%s')",
                         d.name, e.policy);
    } else if (st.mode == TENANTKEY_ENV_SELF_MANAGED) {
        if ((rc = tks_begin(self, op.err)) == 0) {
            rc = migrate(&op, &d, &t, &e, policy);
            rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
        }
    } else { /* a non-BYOK environment: nothing of ours to carry over */
        memset(&e, 0, sizeof e);
        cmk_strlcpy(e.env, d.id, sizeof e.env);
        cmk_strlcpy(e.tenant, d.tenant, sizeof e.tenant);
        cmk_strlcpy(e.region, d.region, sizeof e.region);
        e.mode = TENANTKEY_ENV_CUSTOMER;
        cmk_strlcpy(e.policy, policy, sizeof e.policy);
        if ((rc = tks_env_put(self, &e, op.err)) == 0)
            tk_detail(&op, "non-BYOK environment '%s' added to policy '%s'", d.name, policy);
    }
    if (rc == 0) {
        tk_emit(self, "env.encryption", e.tenant, e.env, NULL, op.now);
        if (out)
            tk_env_state_fill(self, &d, &e, has_t ? &t : NULL, out);
    }
done:
    return tk_op_end(&op, rc);
}

/* tenantkey_cmk_return_check - may the environment leave its policy for the Microsoft key? */
int tenantkey_cmk_return_check(tenantkey_svc *self, const char *principal, const char *env,
                               cmk_err *err)
{
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.cmk_return_check", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) == 0 && has_e)
        rc = no_return(&op, &d, &e);
    if (rc == 0)
        tk_detail(&op, "allowed");
    return tk_op_end(&op, rc);
}

/* tenantkey_left_cmk - the environment left its policy for the Microsoft key */
int tenantkey_left_cmk(tenantkey_svc *self, const char *principal, const char *env,
                       tenantkey_env_state *out, cmk_err *err)
{
    tk_dir_env d;
    tk_tenant t;
    tk_env e;
    int has_t, has_e, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.left_cmk", env, err);
    if ((rc = env_open(&op, env, &d, &t, &has_t, &e, &has_e)) < 0)
        goto done;
    if (has_e && e.mode != TENANTKEY_ENV_CUSTOMER) {
        rc = cmk_err_set(op.err, CMK_ESTATE, "environment '%s' is not on a customer-managed key",
                         d.name);
        goto done;
    }
    if (has_e && (rc = no_return(&op, &d, &e)) == 0) {
        e.mode = TENANTKEY_ENV_MICROSOFT;
        e.policy[0] = '\0';
        e.no_return_ms = 0;
        rc = tks_env_put(self, &e, op.err);
    }
    if (rc == 0) {
        tk_detail(&op, "environment '%s' is back on the Microsoft-managed key", d.name);
        if (out) {
            cmk_strlcpy(d.encryption, "microsoft", sizeof d.encryption);
            tk_env_state_fill(self, &d, has_e ? &e : NULL, has_t ? &t : NULL, out);
        }
    }
done:
    return tk_op_end(&op, rc);
}
