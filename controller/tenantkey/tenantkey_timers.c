/*
 * tenantkey_timers.c - time-driven behaviour of the legacy tenant keys on the controller's
 * cmk_clock: Installing -> Active (with the re-encryption of the region's self-managed
 * environments and the previous Active key going Available), the completion of a lock, the
 * deletion of environments locked for 28 days, and the removal of a tenant's keys 28 days
 * after its last BYOK environment migrated. Every transition is stored with its due time;
 * tk_sweep() applies whatever is due (run by the clock timers, before every operation, and
 * by tenantkey_svc_resume() after a start), so timers only decide when it happens.
 */
#include "tenantkey_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* timer_fire - a service timer is due (inside cmk_clock_advance or cmk_clock_fire_due) */
static void timer_fire(cmk_clock *clock, int64_t now_ms, void *arg)
{
    tk_timer *t = arg, **pp;
    tenantkey_svc *svc = t->svc;

    (void)clock;
    pthread_mutex_lock(&svc->mu);
    for (pp = &svc->timers; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    free(t);
    tk_sweep(svc, now_ms);
    pthread_mutex_unlock(&svc->mu);
    tk_deliver(svc);
}

/* tk_schedule - one timer per due time (lock held) */
void tk_schedule(tenantkey_svc *svc, int64_t at_ms)
{
    tk_timer *t;

    for (t = svc->timers; t; t = t->next)
        if (t->at_ms == at_ms)
            return;
    t = calloc(1, sizeof *t);
    if (!t) {
        cmk_error("tenantkey.timer_failed", "at_ms=%" PRId64 " error=\"out of memory\"", at_ms);
        return;
    }
    t->svc = svc;
    t->at_ms = at_ms;
    t->clock_id = cmk_clock_timer_add(svc->clock, at_ms, timer_fire, t);
    if (t->clock_id <= 0) {
        cmk_error("tenantkey.timer_failed", "at_ms=%" PRId64, at_ms);
        free(t);
        return;
    }
    t->next = svc->timers;
    svc->timers = t;
}

/* tk_timers_cancel_all - cancel every timer of the service (lock held) */
void tk_timers_cancel_all(tenantkey_svc *svc)
{
    while (svc->timers) {
        tk_timer *t = svc->timers;
        cmk_clock_timer_cancel(svc->clock, t->clock_id);
        svc->timers = t->next;
        free(t);
    }
}

/* sweep_failed - a transition could not be stored: log it (retried on the next sweep) */
static void sweep_failed(const char *what, const cmk_err *err)
{
    cmk_error("tenantkey.sweep_failed", "what=%s error=\"%s\"", what, err->msg);
}

/* rekey_envs - every self-managed environment of the key's region now uses key k */
static int rekey_envs(tenantkey_svc *svc, const tk_key *k, int *count, cmk_err *err)
{
    tk_env *envs = NULL;
    size_t n = 0;
    int rc = tks_envs_list(svc, k->info.tenant, k->info.region, TENANTKEY_ENV_SELF_MANAGED, &envs,
                           &n, err);

    *count = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (envs[i].key_id == k->id)
            continue;
        envs[i].key_id = k->id;
        cmk_strlcpy(envs[i].key_name, k->info.name, sizeof envs[i].key_name);
        cmk_strlcpy(envs[i].key_fp, k->info.fingerprint, sizeof envs[i].key_fp);
        if ((rc = tks_env_put(svc, &envs[i], err)) == 0) {
            tk_emit(svc, "env.encryption", envs[i].tenant, envs[i].env, k->info.name,
                    k->info.active_at_ms);
            (*count)++;
        }
    }
    free(envs);
    return rc;
}

/* complete_install - an Installing key becomes Active */
static int complete_install(tenantkey_svc *svc, tk_key *k, cmk_err *err)
{
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 2], prev[TENANTKEY_NAME_MAX] = "";
    int unlock = strcmp(k->purpose, "unlock") == 0, count = 0, rc;
    tk_key *act = NULL;
    size_t n = 0;
    tk_scope s;

    if ((rc = tks_begin(svc, err)) < 0)
        return rc;
    if (!unlock)
        rc =
            tks_keys_list(svc, k->info.tenant, k->info.region, TENANTKEY_KEY_ACTIVE, &act, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        act[i].info.state = TENANTKEY_KEY_AVAILABLE;
        cmk_strlcpy(prev, act[i].info.name, sizeof prev);
        rc = tks_key_update(svc, &act[i], err);
    }
    free(act);
    k->info.state = TENANTKEY_KEY_ACTIVE;
    k->purpose[0] = '\0';
    if (rc == 0)
        rc = tks_key_update(svc, k, err);
    if (rc == 0 && !unlock)
        rc = rekey_envs(svc, k, &count, err);
    if (rc == 0 && (rc = tks_scope_get(svc, k->info.tenant, k->info.region, &s, err)) == 0) {
        s.last_change_ms = k->info.active_at_ms;
        snprintf(s.last_change_what, sizeof s.last_change_what, "key '%s' became Active",
                 k->info.name);
        rc = tks_scope_put(svc, &s, err);
    }
    rc = rc == 0 ? tks_commit(svc, err) : (tks_rollback(svc), rc);
    if (rc < 0)
        return rc;
    tk_emit(svc, "key.active", k->info.tenant, NULL, k->info.name, k->info.active_at_ms);
    snprintf(target, sizeof target, "%s/%s", k->info.tenant, k->info.name);
    if (unlock)
        tk_audit_system(svc, "tenantkey.key_active", target,
                        "key '%s' is Active again after the unlock; unlock each locked "
                        "environment now",
                        k->info.name);
    else
        tk_audit_system(svc, "tenantkey.key_active", target,
                        "key '%s' is the Active key of %s; %d self-managed environments "
                        "encrypted with it (no downtime)%s%s%s",
                        k->info.name, k->info.region, count, prev[0] ? "; key '" : "", prev,
                        prev[0] ? "' is Available" : "");
    return 0;
}

/* complete_locks - record the end of lock processes */
static void complete_locks(tenantkey_svc *svc, int64_t now)
{
    char(*tenants)[TENANTKEY_ID_MAX] = NULL, (*regions)[TENANTKEY_REGION_MAX] = NULL;
    char target[TENANTKEY_ID_MAX + TENANTKEY_REGION_MAX + 2];
    cmk_err err = CMK_ERR_INIT;
    size_t n = 0;
    tk_scope s;

    if (tks_scopes_lock_due(svc, now, &tenants, &regions, &n, &err) < 0)
        sweep_failed("lock completion", &err);
    for (size_t i = 0; i < n; i++) {
        if (tks_scope_get(svc, tenants[i], regions[i], &s, &err) < 0)
            continue;
        s.lock_complete = 1;
        if (tks_scope_put(svc, &s, &err) < 0) {
            sweep_failed("lock completion", &err);
            continue;
        }
        snprintf(target, sizeof target, "%s/%s", tenants[i], regions[i]);
        tk_audit_system(svc, "tenantkey.lock_completed", target,
                        "the lock of %s is complete; unlocking is possible with the key that "
                        "locked it",
                        regions[i]);
    }
    free(tenants);
    free(regions);
}

/* drop_locked_key - when no locked environment is left, the Locked key has nothing to unlock */
static void drop_locked_key(tenantkey_svc *svc, const tk_env *gone, cmk_err *err)
{
    tk_env *envs = NULL;
    size_t n = 0, left = 0;
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 2];
    tk_key k;
    tk_scope s;

    if (tks_envs_list(svc, gone->tenant, gone->region, TENANTKEY_ENV_LOCKED, &envs, &n, err) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        left += envs[i].key_id == gone->key_id;
    free(envs);
    if (left || tks_key_by_id(svc, gone->key_id, &k, NULL) < 0 ||
        k.info.state != TENANTKEY_KEY_LOCKED)
        return;
    if (tks_key_delete(svc, k.id, err) < 0 ||
        tks_scope_get(svc, k.info.tenant, k.info.region, &s, err) < 0)
        return;
    s.lock_ms = s.lock_done_ms = 0;
    s.lock_complete = 0;
    s.lock_by[0] = '\0';
    if (tks_scope_put(svc, &s, err) < 0)
        return;
    snprintf(target, sizeof target, "%s/%s", k.info.tenant, k.info.name);
    tk_audit_system(svc, "tenantkey.key_deleted", target,
                    "no environment locked by key '%s' is left; the Locked key is deleted",
                    k.info.name);
}

/* delete_locked_envs - environments locked too long are deleted */
static void delete_locked_envs(tenantkey_svc *svc, int64_t now)
{
    cmk_err err = CMK_ERR_INIT;
    char dur[32], name[TENANTKEY_ENV_NAME_MAX], ts[TK_TS];
    tk_env *envs = NULL;
    size_t n = 0;

    if (tks_envs_delete_due(svc, now, &envs, &n, &err) < 0)
        sweep_failed("deleting locked environments", &err);
    for (size_t i = 0; i < n; i++) {
        cJSON *j = NULL;
        int rc = directory_env_delete(svc->dir, envs[i].env, &j, &err);
        cmk_strlcpy(name, rc == 0 ? cmk_json_str(j, "name", envs[i].env) : envs[i].env,
                    sizeof name);
        cJSON_Delete(j);
        if (rc < 0 && rc != CMK_ENOENT) {
            sweep_failed("deleting a locked environment", &err);
            continue;
        }
        if (tks_env_delete(svc, envs[i].env, &err) < 0) {
            sweep_failed("deleting a locked environment", &err);
            continue;
        }
        tk_emit(svc, "env.deleted", envs[i].tenant, envs[i].env, envs[i].key_name, now);
        tk_audit_system(svc, "tenantkey.env_deleted", envs[i].env,
                        "environment '%s' was locked at %s and not unlocked within %s: it is "
                        "deleted",
                        name, tk_time(envs[i].locked_ms, ts, sizeof ts),
                        tk_dur(svc->cfg.locked_env_delete_ms, dur, sizeof dur));
        drop_locked_key(svc, &envs[i], &err);
    }
    free(envs);
}

/* remove_keys - a tenant's keys go 28 days after its last BYOK environment migrated */
static void remove_keys(tenantkey_svc *svc, int64_t now)
{
    cmk_err err = CMK_ERR_INIT;
    tk_tenant *ts = NULL;
    size_t n = 0;

    if (tks_tenants_due(svc, now, &ts, &n, &err) < 0)
        sweep_failed("removing keys", &err);
    for (size_t i = 0; i < n; i++) {
        tk_env *envs = NULL;
        tk_key *keys = NULL;
        size_t ne = 0, nk = 0, byok = 0;
        int rc = tks_envs_list(svc, ts[i].tenant, NULL, -1, &envs, &ne, &err);
        for (size_t j = 0; rc == 0 && j < ne; j++)
            byok +=
                envs[j].mode == TENANTKEY_ENV_SELF_MANAGED || envs[j].mode == TENANTKEY_ENV_LOCKED;
        free(envs);
        if (rc == 0 && (rc = tks_begin(svc, &err)) == 0) {
            if (byok) { /* the tenant uses BYOK again: keep its keys */
                ts[i].keys_remove_ms = 0;
            } else {
                rc = tks_keys_list(svc, ts[i].tenant, NULL, 0, &keys, &nk, &err);
                for (size_t j = 0; rc == 0 && j < nk; j++)
                    rc = tks_key_delete(svc, keys[j].id, &err);
                free(keys);
                if (rc == 0)
                    rc = tks_keks_forget(svc, ts[i].tenant, &err);
                ts[i].keys_removed_ms = now;
            }
            if (rc == 0)
                rc = tks_tenant_put(svc, &ts[i], &err);
            rc = rc == 0 ? tks_commit(svc, &err) : (tks_rollback(svc), rc);
        }
        if (rc < 0) {
            sweep_failed("removing keys", &err);
            continue;
        }
        if (byok) {
            tk_audit_system(svc, "tenantkey.keys_kept", ts[i].tenant,
                            "%zu environments use BYOK again; the tenant's keys are kept", byok);
            continue;
        }
        tk_emit(svc, "keys.removed", ts[i].tenant, NULL, NULL, now);
        tk_audit_system(svc, "tenantkey.keys_removed", ts[i].tenant,
                        "the last BYOK environment migrated to a customer-managed key; the "
                        "tenant's %zu BYOK keys and key-exchange keys are removed",
                        nk);
    }
    free(ts);
}

/* tk_sweep - apply everything due at now, in the order of the rules */
void tk_sweep(tenantkey_svc *svc, int64_t now)
{
    cmk_err err = CMK_ERR_INIT;
    tk_key *keys = NULL;
    size_t n = 0;

    if (tks_keys_installing_due(svc, now, &keys, &n, &err) < 0)
        sweep_failed("activating keys", &err);
    for (size_t i = 0; i < n; i++)
        if (complete_install(svc, &keys[i], &err) < 0)
            sweep_failed("activating a key", &err);
    free(keys);
    complete_locks(svc, now);
    delete_locked_envs(svc, now);
    remove_keys(svc, now);
}

/* tenantkey_svc_resume - apply what is due and schedule timers for the rest */
int tenantkey_svc_resume(tenantkey_svc *self, cmk_err *err)
{
    int64_t *due = NULL, now;
    size_t n = 0;
    int rc;

    pthread_mutex_lock(&self->mu);
    now = cmk_clock_now(self->clock);
    tk_sweep(self, now);
    rc = tks_due_times(self, &due, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        tk_schedule(self, due[i] > now ? due[i] : now);
    pthread_mutex_unlock(&self->mu);
    free(due);
    tk_deliver(self);
    return rc;
}
