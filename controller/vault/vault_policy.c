/*
 * vault_policy.c - time-driven vault behaviour on the controller's cmk_clock: key rotation
 * policies (rotate some time after creation or before expiry, carried out by clock timers),
 * ISO 8601 durations as Azure writes them (P90D), purge after the soft-delete retention (by
 * timers and by a sweep before every operation), and rescheduling from storage on start.
 */
#include "vault_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* ---- timers ---- */

/* timer_fire - a service timer is due (runs in cmk_clock_advance / cmk_clock_fire_due) */
static void timer_fire(cmk_clock *clock, int64_t now_ms, void *arg)
{
    vault_timer *t = arg, **pp;
    vault_svc *svc = t->svc;
    vault_timer_kind kind;
    int64_t row;

    (void)clock;
    (void)now_ms;
    pthread_mutex_lock(&svc->mu);
    for (pp = &svc->timers; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    kind = t->kind;
    row = t->row;
    free(t);
    if (kind != VT_ROTATE)
        vsweep_due(svc, NULL, NULL);
    pthread_mutex_unlock(&svc->mu);
    if (kind == VT_ROTATE)
        vkeys_rotate_by_policy(svc, row);
}

/* vtimer_add - schedule one timer */
void vtimer_add(vault_svc *svc, vault_timer_kind kind, int64_t row, int64_t at_ms)
{
    vault_timer *t = calloc(1, sizeof *t);
    if (!t) {
        cmk_error("vault.timer_failed", "kind=%d row=%" PRId64 " error=\"out of memory\"",
                  (int)kind, row);
        return;
    }
    t->svc = svc;
    t->kind = kind;
    t->row = row;
    t->at_ms = at_ms;
    t->clock_id = cmk_clock_timer_add(svc->clock, at_ms, timer_fire, t);
    if (t->clock_id <= 0) {
        cmk_error("vault.timer_failed", "kind=%d row=%" PRId64, (int)kind, row);
        free(t);
        return;
    }
    t->next = svc->timers;
    svc->timers = t;
}

/* vtimer_cancel - cancel the timers of one kind and row */
void vtimer_cancel(vault_svc *svc, vault_timer_kind kind, int64_t row)
{
    vault_timer **pp = &svc->timers;
    while (*pp) {
        vault_timer *t = *pp;
        if (t->kind == kind && t->row == row) {
            cmk_clock_timer_cancel(svc->clock, t->clock_id);
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

/* vtimer_cancel_all - cancel every timer of the service */
void vtimer_cancel_all(vault_svc *svc)
{
    while (svc->timers) {
        vault_timer *t = svc->timers;
        cmk_clock_timer_cancel(svc->clock, t->clock_id);
        svc->timers = t->next;
        free(t);
    }
}

/* vpolicy_next_rotation - due time of a key's next rotation (0: none) */
int64_t vpolicy_next_rotation(vault_svc *svc, const krow *k)
{
    vrow v;
    verrow cur;
    int64_t due = 0;

    if (!k->rot_after_ms && !k->rot_before_ms)
        return 0;
    if (vstore_vault_by_id(svc, k->vault_id, &v, NULL) < 0 ||
        vstore_version_get(svc, &v, k, NULL, &cur, NULL) < 0)
        return 0;
    if (k->rot_after_ms)
        due = cur.created_ms + k->rot_after_ms;
    else if (cur.exp_ms)
        due = cur.exp_ms - k->rot_before_ms;
    /* a policy that would rotate a version the moment it is made would never stop */
    return due > cur.created_ms ? due : 0;
}

/* vtimer_schedule_key - the rotation or purge timer of a key */
void vtimer_schedule_key(vault_svc *svc, const krow *k)
{
    int64_t due, now;
    vrow v;

    vtimer_cancel(svc, VT_ROTATE, k->id);
    vtimer_cancel(svc, VT_KEY_PURGE, k->id);
    if (k->deleted_ms) {
        vtimer_add(svc, VT_KEY_PURGE, k->id, k->purge_ms);
        return;
    }
    if (vstore_vault_by_id(svc, k->vault_id, &v, NULL) < 0 || v.deleted_ms)
        return;
    due = vpolicy_next_rotation(svc, k);
    if (!due)
        return;
    now = cmk_clock_now(svc->clock);
    vtimer_add(svc, VT_ROTATE, k->id, due > now ? due : now);
}

/* vtimer_schedule_vault - the purge timer of a deleted vault */
void vtimer_schedule_vault(vault_svc *svc, const vrow *v)
{
    vtimer_cancel(svc, VT_VAULT_PURGE, v->id);
    if (v->deleted_ms)
        vtimer_add(svc, VT_VAULT_PURGE, v->id, v->purge_ms);
}

/* ---- purge ---- */

/* vpurge_key - purge a key for good */
int vpurge_key(vault_svc *svc, int64_t key_id, const char *principal, const char *why, cmk_err *err)
{
    krow k;
    vrow v;
    char target[VAULT_NAME_MAX + VAULT_KEY_NAME_MAX + 2];
    int rc = vstore_key_by_id(svc, key_id, &k, err);

    if (rc < 0)
        return rc;
    if (vstore_vault_by_id(svc, k.vault_id, &v, NULL) < 0)
        cmk_strlcpy(v.name, "-", sizeof v.name);
    snprintf(target, sizeof target, "%s/%s", v.name, k.name);
    krow_clear(&k);
    if ((rc = vstore_begin(svc, err)) < 0)
        return rc;
    rc = vstore_key_purge(svc, key_id, err);
    if (rc == 0)
        rc = vstore_commit(svc, err);
    else
        vstore_rollback(svc);
    if (rc < 0)
        return rc;
    vtimer_cancel(svc, VT_ROTATE, key_id);
    vtimer_cancel(svc, VT_KEY_PURGE, key_id);
    cmk_info("vault.key_purged", "key=%s why=\"%s\"", target, why ? why : "on request");
    if (principal && svc->audit)
        audit_append(svc->audit, principal, "key.purge", target, 0, why, NULL, NULL);
    return 0;
}

/* vpurge_vault - purge a vault and its keys for good */
int vpurge_vault(vault_svc *svc, int64_t vault_id, const char *principal, const char *why,
                 cmk_err *err)
{
    vrow v;
    krow *keys = NULL;
    size_t nk = 0;
    int rc = vstore_vault_by_id(svc, vault_id, &v, err);

    if (rc < 0)
        return rc;
    if ((rc = vstore_keys_list(svc, vault_id, VAULT_LIST_ALL, &keys, &nk, err)) < 0)
        return rc;
    if ((rc = vstore_begin(svc, err)) < 0)
        goto out;
    rc = vstore_vault_purge(svc, vault_id, err);
    if (rc == 0)
        rc = vstore_commit(svc, err);
    else
        vstore_rollback(svc);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < nk; i++) {
        vtimer_cancel(svc, VT_ROTATE, keys[i].id);
        vtimer_cancel(svc, VT_KEY_PURGE, keys[i].id);
    }
    vtimer_cancel(svc, VT_VAULT_PURGE, vault_id);
    vault_throttle_forget(svc->throttle, vault_id);
    cmk_info("vault.vault_purged", "vault=%s keys=%zu why=\"%s\"", v.name, nk,
             why ? why : "on request");
    if (principal && svc->audit)
        audit_append(svc->audit, principal, "vault.purge", v.name, 0, why, NULL, NULL);
out:
    krows_free(&keys, nk);
    return rc;
}

/* vsweep_due - purge every deleted vault and key past its retention */
int vsweep_due(vault_svc *svc, int *purged, cmk_err *err)
{
    int64_t *ids = NULL, now;
    size_t n = 0;
    int count = 0, rc;

    if (purged)
        *purged = 0;
    if (svc->in_sweep)
        return 0;
    svc->in_sweep = 1;
    now = cmk_clock_now(svc->clock);
    rc = vstore_vaults_due(svc, now, &ids, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = vpurge_vault(svc, ids[i], AUDIT_PRINCIPAL_SYSTEM, "soft-delete retention ended",
                               err)) == 0)
            count++;
    free(ids);
    ids = NULL;
    if (rc == 0)
        rc = vstore_keys_due(svc, now, &ids, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = vpurge_key(svc, ids[i], AUDIT_PRINCIPAL_SYSTEM, "soft-delete retention ended",
                             err)) == 0)
            count++;
    free(ids);
    svc->in_sweep = 0;
    if (purged)
        *purged = count;
    return rc;
}

/* vault_svc_resume_timers - reschedule everything found in storage */
int vault_svc_resume_timers(vault_svc *self, cmk_err *err)
{
    vrow *vaults = NULL;
    int64_t *ids = NULL;
    size_t nv = 0, nk = 0;
    int rc;

    pthread_mutex_lock(&self->mu);
    rc = vsweep_due(self, NULL, err);
    if (rc == 0)
        rc = vstore_vaults_list(self, NULL, &vaults, &nv, err);
    for (size_t i = 0; rc == 0 && i < nv; i++)
        vtimer_schedule_vault(self, &vaults[i]);
    if (rc == 0)
        rc = vstore_keys_with_timers(self, &ids, &nk, err);
    for (size_t i = 0; rc == 0 && i < nk; i++) {
        krow k;
        if (vstore_key_by_id(self, ids[i], &k, NULL) == 0) {
            vtimer_schedule_key(self, &k);
            krow_clear(&k);
        }
    }
    pthread_mutex_unlock(&self->mu);
    free(vaults);
    free(ids);
    return rc;
}

/* ---- ISO 8601 durations ---- */

/* vault_iso_duration_parse - "P90D", "PT12H", "P1Y2M3W4DT5H6M7S"; or cmk durations */
int vault_iso_duration_parse(const char *s, int64_t *ms, cmk_err *err)
{
    static const int64_t date_units[] = {365 * VAULT_DAY_MS, 30 * VAULT_DAY_MS, 7 * VAULT_DAY_MS,
                                         VAULT_DAY_MS};
    static const int64_t time_units[] = {3600000, 60000, 1000};
    const char *p;
    int64_t total = 0;
    int in_time = 0, any = 0;

    if (!s || !*s)
        return cmk_err_set(err, CMK_EINVAL, "empty duration; write e.g. P90D or 90d");
    if (s[0] != 'P' && s[0] != 'p')
        return cmk_duration_parse(s, ms, err);
    for (p = s + 1; *p;) {
        char *end;
        long long v;
        int64_t unit = 0;
        char u;

        if (*p == 'T' || *p == 't') {
            if (in_time)
                goto bad;
            in_time = 1;
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            goto bad;
        v = strtoll(p, &end, 10);
        u = (char)toupper((unsigned char)*end);
        if (!in_time) {
            const char *units = "YMWD";
            const char *at = strchr(units, u);
            if (!u || !at)
                goto bad;
            unit = date_units[at - units];
        } else {
            const char *units = "HMS";
            const char *at = strchr(units, u);
            if (!u || !at)
                goto bad;
            unit = time_units[at - units];
        }
        if (v < 0 || v > INT64_MAX / unit || total > INT64_MAX - v * unit)
            goto bad;
        total += v * unit;
        any = 1;
        p = end + 1;
    }
    if (!any)
        goto bad;
    *ms = total;
    return 0;
bad:
    return cmk_err_set(err, CMK_EINVAL,
                       "bad ISO 8601 duration '%s'; write e.g. P90D, P1Y, "
                       "P30D, PT12H or P1DT6H",
                       s);
}

/* vault_iso_duration_format - ms as an ISO 8601 duration */
char *vault_iso_duration_format(int64_t ms, char *buf, size_t cap)
{
    int64_t d = ms / VAULT_DAY_MS, rest = ms % VAULT_DAY_MS;
    int64_t h = rest / 3600000, m = rest % 3600000 / 60000, sec = rest % 60000 / 1000;
    size_t o;

    if (cap == 0)
        return buf;
    o = (size_t)snprintf(buf, cap, "P");
    if (d && o < cap)
        o += (size_t)snprintf(buf + o, cap - o, "%" PRId64 "D", d);
    if ((h || m || sec || !d) && o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, "T");
        if (h && o < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%" PRId64 "H", h);
        if (m && o < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%" PRId64 "M", m);
        if ((sec || (!d && !h && !m)) && o < cap)
            snprintf(buf + o, cap - o, "%" PRId64 "S", sec);
    }
    return buf;
}

/* ---- policies ---- */

/* check_policy - Azure's rules, with the configured minimums */
static int check_policy(const vault_config *cfg, const vault_rotation_policy *p, cmk_err *err)
{
    char a[48], b[48];

    if (p->rotate_after_create_ms < 0 || p->rotate_before_expiry_ms < 0 || p->expiry_ms < 0)
        return cmk_err_set(err, CMK_EINVAL, "rotation policy durations cannot be negative");
    if (p->rotate_after_create_ms && p->rotate_before_expiry_ms)
        return cmk_err_set(err, CMK_EINVAL,
                           "a rotation policy rotates either some time after "
                           "creation or some time before expiry, not both");
    if (!p->rotate_after_create_ms && !p->rotate_before_expiry_ms)
        return cmk_err_set(err, CMK_EINVAL,
                           "a rotation policy needs a time after creation "
                           "(e.g. P90D) or a time before expiry");
    if ((p->rotate_after_create_ms && p->rotate_after_create_ms < cfg->rotation_min_ms) ||
        (p->rotate_before_expiry_ms && p->rotate_before_expiry_ms < cfg->rotation_min_ms))
        return cmk_err_set(err, CMK_EINVAL, "rotation time must be at least %s",
                           vault_iso_duration_format(cfg->rotation_min_ms, a, sizeof a));
    if (p->expiry_ms && p->expiry_ms < cfg->expiry_min_ms)
        return cmk_err_set(err, CMK_EINVAL, "expiry time of new versions must be at least %s",
                           vault_iso_duration_format(cfg->expiry_min_ms, a, sizeof a));
    if (p->expiry_ms && p->rotate_after_create_ms && p->rotate_after_create_ms >= p->expiry_ms)
        return cmk_err_set(err, CMK_EINVAL,
                           "the key would expire (after %s) before it rotates "
                           "(after %s); rotate sooner or expire later",
                           vault_iso_duration_format(p->expiry_ms, a, sizeof a),
                           vault_iso_duration_format(p->rotate_after_create_ms, b, sizeof b));
    if (p->expiry_ms && p->rotate_before_expiry_ms &&
        p->rotate_before_expiry_ms > p->expiry_ms - cfg->rotation_min_ms)
        return cmk_err_set(err, CMK_EINVAL,
                           "rotating %s before an expiry of %s leaves less than "
                           "the minimum lifetime; shorten the time before expiry",
                           vault_iso_duration_format(p->rotate_before_expiry_ms, a, sizeof a),
                           vault_iso_duration_format(p->expiry_ms, b, sizeof b));
    return 0;
}

/* vault_key_policy_set - set or remove a rotation policy */
int vault_key_policy_set(vault_svc *self, const char *principal, const char *vault,
                         const char *name, const vault_rotation_policy *policy, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    vault_rotation_policy none;
    char a[48], b[48], c[48];
    int rc;

    memset(&none, 0, sizeof none);
    memset(&k, 0, sizeof k);
    if (!policy)
        policy = &none;
    vop_begin(&op, self, principal, "key.policy_set", vault, name, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_SET_ROTATION_POLICY, 0, 0, &v, err)) < 0 ||
        (rc = vault_check_key_name(name, err)) < 0 ||
        (rc = vstore_key_by_name(self, &v, name, &k, err)) < 0)
        goto done;
    if (k.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE, "key '%s' in vault '%s' is deleted; recover it first",
                         name, vault);
        goto done;
    }
    if ((policy->rotate_after_create_ms || policy->rotate_before_expiry_ms || policy->expiry_ms) &&
        (rc = check_policy(&self->cfg, policy, err)) < 0)
        goto done;
    k.rot_after_ms = policy->rotate_after_create_ms;
    k.rot_before_ms = policy->rotate_before_expiry_ms;
    k.rot_expiry_ms = policy->expiry_ms;
    k.updated_ms = cmk_clock_now(self->clock);
    if ((rc = vstore_key_update(self, &k, err)) < 0)
        goto done;
    vtimer_schedule_key(self, &k);
    snprintf(op.detail, sizeof op.detail,
             "rotate_after_create=%s rotate_before_expiry=%s "
             "expiry=%s",
             k.rot_after_ms ? vault_iso_duration_format(k.rot_after_ms, a, sizeof a) : "-",
             k.rot_before_ms ? vault_iso_duration_format(k.rot_before_ms, b, sizeof b) : "-",
             k.rot_expiry_ms ? vault_iso_duration_format(k.rot_expiry_ms, c, sizeof c) : "-");
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_policy_get - a key's rotation policy and next rotation */
int vault_key_policy_get(vault_svc *self, const char *principal, const char *vault,
                         const char *name, vault_rotation_policy *policy, int64_t *next_ms,
                         cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    int rc;

    memset(policy, 0, sizeof *policy);
    memset(&k, 0, sizeof k);
    if (next_ms)
        *next_ms = 0;
    vop_begin(&op, self, principal, "key.policy_get", vault, name, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_GET_ROTATION_POLICY, 0, 0, &v, err)) < 0 ||
        (rc = vault_check_key_name(name, err)) < 0 ||
        (rc = vstore_key_by_name(self, &v, name, &k, err)) < 0)
        goto done;
    policy->rotate_after_create_ms = k.rot_after_ms;
    policy->rotate_before_expiry_ms = k.rot_before_ms;
    policy->expiry_ms = k.rot_expiry_ms;
    if (next_ms && !k.deleted_ms)
        *next_ms = vpolicy_next_rotation(self, &k);
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}
