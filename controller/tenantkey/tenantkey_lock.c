/*
 * tenantkey_lock.c - locking and unlocking a tenant region (seed 003, "Lock the tenant" and
 * "Unlock locked environments"): the lock needs the active key with its password and the
 * confirmation text, is refused for 72 hours after a key change or activation, locks every
 * environment on the active key, makes the Active key Locked (its private key deleted) and
 * deletes every Available key; it takes up to an hour, during which, and until an hour after
 * the lock, unlocking is refused. Unlocking uploads the same key (same RSA modulus): it goes
 * Installing, then Active, and each environment is then unlocked on its own.
 */
#include "tenantkey_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* tenantkey_lock_confirmation_text - what the admin types to confirm a lock */
char *tenantkey_lock_confirmation_text(const char *tenant, const char *region, char *buf,
                                       size_t cap)
{
    snprintf(buf, cap, "lock all environments of %s in %s", tenant ? tenant : "",
             region ? region : "");
    return buf;
}

/* key_of_file - parse an uploaded key file and take its fingerprint */
static int key_of_file(tk_op *op, const char *tenant, const uint8_t *data, size_t len,
                       const char *password, tenantkey_format format, EVP_PKEY **pk,
                       char fp[TENANTKEY_FP_MAX])
{
    int rc = tk_parse_key(op, tenant, NULL, data, len, password, format, pk);
    if (rc == 0)
        rc = tkc_fingerprint(*pk, fp, op->err);
    return rc;
}

/* find_key - the key of a tenant in `state` whose fingerprint is fp; CMK_ENOENT if none,
 * *count gets how many keys are in that state */
static int find_key(tk_op *op, const char *tenant, tenantkey_key_state state, const char *fp,
                    tk_key *out, size_t *count)
{
    tk_key *keys = NULL;
    size_t n = 0;
    int rc = tks_keys_list(op->svc, tenant, NULL, state, &keys, &n, op->err);

    *count = n;
    if (rc < 0)
        return rc;
    rc = CMK_ENOENT;
    for (size_t i = 0; i < n && rc == CMK_ENOENT; i++)
        if (strcmp(keys[i].info.fingerprint, fp) == 0) {
            *out = keys[i];
            rc = 0;
        }
    if (rc == CMK_ENOENT && n > 0)
        *out = keys[0]; /* for the message */
    free(keys);
    return rc;
}

/* lock_checks - the rules before a lock: nothing Installing, 72 hours, confirmation */
static int lock_checks(tk_op *op, const tk_key *active, const char *confirmation)
{
    tk_key *inst = NULL;
    tk_scope s;
    size_t n = 0;
    char ts[TK_TS], ts2[TK_TS], dur[32], text[TENANTKEY_ID_MAX + 64];
    const tenantkey_config *cfg = &op->svc->cfg;
    int rc = tks_keys_list(op->svc, active->info.tenant, active->info.region,
                           TENANTKEY_KEY_INSTALLING, &inst, &n, op->err);

    if (rc == 0 && n > 0)
        rc = cmk_err_set(op->err, CMK_ESTATE,
                         "key '%s' is being activated in %s until %s; the lock is refused "
                         "while a key is Installing",
                         inst[0].info.name, active->info.region,
                         tk_time(inst[0].info.active_at_ms, ts, sizeof ts));
    free(inst);
    if (rc < 0 ||
        (rc = tks_scope_get(op->svc, active->info.tenant, active->info.region, &s, op->err)) < 0)
        return rc;
    if (s.last_change_ms && op->now < s.last_change_ms + cfg->lock_guard_ms)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "you can't lock environments for %s after an encryption key change "
                           "or activation (%s at %s); the lock is allowed from %s",
                           tk_dur(cfg->lock_guard_ms, dur, sizeof dur), s.last_change_what,
                           tk_time(s.last_change_ms, ts, sizeof ts),
                           tk_time(s.last_change_ms + cfg->lock_guard_ms, ts2, sizeof ts2));
    tenantkey_lock_confirmation_text(active->info.tenant, active->info.region, text, sizeof text);
    if (!confirmation || strcmp(confirmation, text) != 0)
        return cmk_err_set(op->err, CMK_EINVAL,
                           "the confirmation text does not match; to lock every active "
                           "environment of tenant '%s' in %s, enter exactly: %s",
                           active->info.tenant, active->info.region, text);
    return 0;
}

/* lock_envs - lock every self-managed environment of the region; *names gets a list */
static int lock_envs(tk_op *op, const tk_key *active, char *names, size_t cap, int *count)
{
    tk_env *envs = NULL;
    size_t n = 0;
    int rc = tks_envs_list(op->svc, active->info.tenant, active->info.region,
                           TENANTKEY_ENV_SELF_MANAGED, &envs, &n, op->err);

    names[0] = '\0';
    *count = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        tk_env *e = &envs[i];
        cmk_err e2 = CMK_ERR_INIT;
        int d = directory_env_set(op->svc->dir, e->env, "state", "Locked", &e2);
        if (d == CMK_ENOENT) { /* deleted behind our back: forget it */
            rc = tks_env_delete(op->svc, e->env, op->err);
            continue;
        }
        if (d < 0)
            return cmk_err_set(op->err, d, "%s", e2.msg);
        e->mode = TENANTKEY_ENV_LOCKED;
        e->locked_ms = op->now;
        e->delete_ms = op->now + op->svc->cfg.locked_env_delete_ms;
        if ((rc = tks_env_put(op->svc, e, op->err)) == 0) {
            size_t o = strlen(names);
            if (o + strlen(e->env) + 4 < cap)
                snprintf(names + o, cap - o, "%s%s", o ? ", " : "", e->env);
            tk_emit(op->svc, "env.locked", e->tenant, e->env, e->key_name, op->now);
            (*count)++;
        }
    }
    free(envs);
    return rc;
}

/* tenantkey_lock - lock the region of the active key */
int tenantkey_lock(tenantkey_svc *self, const char *principal, const char *tenant,
                   const uint8_t *data, size_t len, const char *password, tenantkey_format format,
                   const char *confirmation, cmk_err *err)
{
    char fp[TENANTKEY_FP_MAX], envs[256], deleted[256] = "", ts[TK_TS], ts2[TK_TS];
    EVP_PKEY *pk = NULL;
    tk_key active, *avail = NULL;
    tk_tenant t;
    tk_scope s;
    size_t n = 0, na = 0;
    int count = 0, rc;
    tk_op op;

    tk_op_begin(&op, self, principal, "tenantkey.lock", tenant, err);
    if ((rc = tk_tenant_open(&op, tenant, &t)) < 0 ||
        (rc = key_of_file(&op, tenant, data, len, password, format, &pk, fp)) < 0)
        goto done;
    rc = find_key(&op, tenant, TENANTKEY_KEY_ACTIVE, fp, &active, &n);
    if (rc == CMK_ENOENT && n == 0)
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "a lock needs the tenant's Active key, and tenant '%s' has no Active "
                         "key",
                         tenant);
    else if (rc == CMK_ENOENT)
        rc = cmk_err_set(op.err, CMK_EPERM,
                         "the uploaded key is not the Active key of tenant '%s' (key '%s' in %s, "
                         "fingerprint %.16s...); upload the Active key's file and password",
                         tenant, active.info.name, active.info.region, active.info.fingerprint);
    if (rc < 0 || (rc = lock_checks(&op, &active, confirmation)) < 0 ||
        (rc = tks_begin(self, op.err)) < 0)
        goto done;
    rc = lock_envs(&op, &active, envs, sizeof envs, &count);
    if (rc == 0)
        rc = tks_keys_list(self, tenant, active.info.region, TENANTKEY_KEY_AVAILABLE, &avail, &na,
                           op.err);
    for (size_t i = 0; rc == 0 && i < na; i++) {
        size_t o = strlen(deleted);
        rc = tks_key_delete(self, avail[i].id, op.err);
        if (o + strlen(avail[i].info.name) + 8 < sizeof deleted)
            snprintf(deleted + o, sizeof deleted - o, "%s'%s'", o ? ", " : "", avail[i].info.name);
    }
    if (rc == 0) {
        active.info.state = TENANTKEY_KEY_LOCKED;
        active.info.locked_ms = op.now;
        active.purpose[0] = '\0';
        if ((rc = tks_key_update(self, &active, op.err)) == 0)
            rc = tks_key_set_material(self, &active, NULL, op.err);
    }
    if (rc == 0 && (rc = tks_scope_get(self, tenant, active.info.region, &s, op.err)) == 0) {
        s.lock_ms = op.now;
        s.lock_done_ms = op.now + self->cfg.lock_duration_ms;
        s.lock_complete = 0;
        cmk_strlcpy(s.lock_by, principal, sizeof s.lock_by);
        rc = tks_scope_put(self, &s, op.err);
    }
    rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
    if (rc == 0) {
        tk_schedule(self, s.lock_done_ms);
        tk_schedule(self, op.now + self->cfg.locked_env_delete_ms);
        tk_detail(&op,
                  "locked %d environments of %s (%s); key '%s' is Locked and deleted with "
                  "Available keys (%s); lock completes at %s; locked environments are deleted at "
                  "%s unless unlocked",
                  count, active.info.region, envs[0] ? envs : "none", active.info.name,
                  deleted[0] ? deleted : "none", tk_time(s.lock_done_ms, ts, sizeof ts),
                  tk_time(op.now + self->cfg.locked_env_delete_ms, ts2, sizeof ts2));
    }
done:
    free(avail);
    EVP_PKEY_free(pk);
    return tk_op_end(&op, rc);
}

/* unlock_timing - unlocking is refused while the lock runs and until the wait is over */
static int unlock_timing(tk_op *op, const tk_scope *s)
{
    char ts[TK_TS], dur[32];
    const tenantkey_config *cfg = &op->svc->cfg;

    if (!s->lock_ms)
        return 0;
    if (op->now < s->lock_done_ms)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "the lock process can take up to %s and during this time unlocking "
                           "locked environments isn't allowed; it completes at %s",
                           tk_dur(cfg->lock_duration_ms, dur, sizeof dur),
                           tk_time(s->lock_done_ms, ts, sizeof ts));
    if (op->now < s->lock_ms + cfg->unlock_wait_ms)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "you must wait at least %s after you lock active environments before "
                           "you can unlock them; unlocking is allowed from %s",
                           tk_dur(cfg->unlock_wait_ms, dur, sizeof dur),
                           tk_time(s->lock_ms + cfg->unlock_wait_ms, ts, sizeof ts));
    return 0;
}

/* tenantkey_unlock_key - upload the key that locked the tenant */
int tenantkey_unlock_key(tenantkey_svc *self, const char *principal, const char *tenant,
                         const uint8_t *data, size_t len, const char *password,
                         tenantkey_format format, tenantkey_key_info *out, cmk_err *err)
{
    char fp[TENANTKEY_FP_MAX], ts[TK_TS];
    EVP_PKEY *pk = NULL;
    tk_key k;
    tk_tenant t;
    tk_scope s;
    size_t n = 0;
    tk_op op;
    int rc;

    tk_op_begin(&op, self, principal, "tenantkey.unlock_key", tenant, err);
    if ((rc = tk_tenant_open(&op, tenant, &t)) < 0 ||
        (rc = key_of_file(&op, tenant, data, len, password, format, &pk, fp)) < 0)
        goto done;
    rc = find_key(&op, tenant, TENANTKEY_KEY_LOCKED, fp, &k, &n);
    if (rc == CMK_ENOENT && n == 0)
        rc = cmk_err_set(op.err, CMK_ESTATE, "tenant '%s' has no Locked key: nothing to unlock",
                         tenant);
    else if (rc == CMK_ENOENT)
        rc = cmk_err_set(op.err, CMK_EPERM,
                         "this is not the key that locked tenant '%s': unlock with the same key "
                         "that was used to lock it (key '%s' in %s, fingerprint %.16s...)",
                         tenant, k.info.name, k.info.region, k.info.fingerprint);
    if (rc < 0 || (rc = tks_scope_get(self, tenant, k.info.region, &s, op.err)) < 0 ||
        (rc = unlock_timing(&op, &s)) < 0 || (rc = tks_begin(self, op.err)) < 0)
        goto done;
    k.info.locked_ms = 0;
    if ((rc = tks_key_set_material(self, &k, pk, op.err)) == 0)
        rc = tk_start_install(&op, &k, "unlock");
    if (rc == 0 && (rc = tks_scope_get(self, tenant, k.info.region, &s, op.err)) == 0) {
        s.lock_ms = s.lock_done_ms = 0;
        s.lock_complete = 0;
        s.lock_by[0] = '\0';
        rc = tks_scope_put(self, &s, op.err);
    }
    rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
    if (rc == 0) {
        if (out)
            *out = k.info;
        tk_detail(&op,
                  "key '%s' is the key that locked %s; it is Installing until %s, then unlock "
                  "each locked environment",
                  k.info.name, k.info.region, tk_time(k.info.active_at_ms, ts, sizeof ts));
    }
done:
    EVP_PKEY_free(pk);
    return tk_op_end(&op, rc);
}

/* tenantkey_unlock_env - unlock one environment */
int tenantkey_unlock_env(tenantkey_svc *self, const char *principal, const char *env,
                         tenantkey_env_state *out, cmk_err *err)
{
    tk_dir_env d;
    tk_env e;
    tk_key k;
    tk_tenant t;
    char ts[TK_TS];
    tk_op op;
    int rc;

    tk_op_begin(&op, self, principal, "tenantkey.unlock_env", env, err);
    if ((rc = tk_check_principal(&op)) < 0 || (rc = tk_env_lookup(&op, env, &d)) < 0 ||
        (rc = tk_tenant_open(&op, d.tenant, &t)) < 0)
        goto done;
    rc = tks_env_get(self, d.id, &e, op.err);
    if (rc == CMK_ENOENT || (rc == 0 && e.mode != TENANTKEY_ENV_LOCKED)) {
        rc = cmk_err_set(op.err, CMK_ESTATE, "environment '%s' is not locked", d.name);
        goto done;
    }
    if (rc < 0 || (rc = tks_key_by_id(self, e.key_id, &k, op.err)) < 0)
        goto done;
    if (k.info.state == TENANTKEY_KEY_LOCKED) {
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "environment '%s' stays locked until the key that locked it ('%s') is "
                         "uploaded again (unlock key) and Active",
                         d.name, k.info.name);
        goto done;
    }
    if (k.info.state != TENANTKEY_KEY_ACTIVE) {
        rc = cmk_err_set(op.err, CMK_ESTATE,
                         "key '%s' is %s until %s: you must wait until the key is in an Active "
                         "state before you can unlock locked environments",
                         k.info.name, tenantkey_key_state_name(k.info.state),
                         tk_time(k.info.active_at_ms, ts, sizeof ts));
        goto done;
    }
    if ((rc = tks_begin(self, op.err)) < 0)
        goto done;
    e.mode = TENANTKEY_ENV_SELF_MANAGED;
    e.locked_ms = e.delete_ms = 0;
    if ((rc = tks_env_put(self, &e, op.err)) == 0)
        rc = directory_env_set(self->dir, e.env, "state", "Ready", op.err);
    rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
    if (rc == 0) {
        tk_emit(self, "env.unlocked", e.tenant, e.env, e.key_name, op.now);
        tk_detail(&op, "environment '%s' unlocked; encrypted with key '%s'", d.name, k.info.name);
        if (out)
            tk_env_state_fill(self, &d, &e, &t, out);
    }
done:
    return tk_op_end(&op, rc);
}
