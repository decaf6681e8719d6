/*
 * policy_rotation.c - key rotation under enterprise policies: a new version of a policy's key
 * is recorded as a pending rotation per linked environment (table policy_rotations) and applied
 * policy.rotation_apply (24 h) later by re-wrapping the environment's "cmk" data key to the new
 * version. The data key itself does not change, so workers keep their cached copy: no downtime.
 * The health monitor asks this module whether the version that still wraps a data key is usable
 * (if not, the environment locks) and whether the previous version was disabled earlier than
 * policy.old_version_grace (28 days) after the rotation (the policy's health is then Warning).
 * Rules ROT-1..ROT-5 in docs/RULES.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "store.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)

/* One row of policy_rotations. */
typedef struct {
    char env[64];                           /* the environment */
    char policy[64];                        /* its policy when the key rotated */
    char old_version[VAULT_VERSION_MAX];    /* the version that wrapped the data key before */
    char new_version[VAULT_VERSION_MAX];    /* the version it is (to be) re-wrapped to */
    char status[16];                        /* "pending" or "applied" */
    int64_t rotated_at;                     /* clock time of the rotation */
    int64_t due_at;                         /* when it is applied: rotated_at + policy.rotation_apply */
    int64_t applied_at;                     /* when it was applied (0: not yet) */
    int64_t old_disabled_at;                /* first seen the previous version unusable (0: not seen) */
    char warning[512];                      /* the early-disable warning ("" if none) */
    char last_error[512];                   /* why the last apply failed ("" if it did not) */
} rot_row;

/* An apply timer's argument (owned by the timer). */
typedef struct {
    policy_svc *self; /* the policy service */
    char env[64];     /* the environment whose rotation is due */
} rot_timer;

/* A version checked during one health check. */
typedef struct {
    char version[VAULT_VERSION_MAX]; /* the key version */
    int rc;                          /* 0 usable, < 0 not (CMK_EBUSY counts as usable) */
    char msg[512];                   /* why not */
} ver_check;

/* col_text - a text column or "" */
static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* num - an int64 as text, for pol_exec's text parameters */
static const char *num(int64_t v, char buf[32])
{
    snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}

/* rot_load - the rotation row of env; 1 if there is one */
static int rot_load(policy_svc *self, const char *env, rot_row *r)
{
    sqlite3_stmt *st;
    int found = 0;
    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(self->d.db,
                           "SELECT env, policy, old_version, new_version, status, rotated_at, due_at, applied_at, "
                           "old_disabled_at, warning, last_error FROM policy_rotations WHERE env = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cmk_strlcpy(r->env, col_text(st, 0), sizeof r->env);
        cmk_strlcpy(r->policy, col_text(st, 1), sizeof r->policy);
        cmk_strlcpy(r->old_version, col_text(st, 2), sizeof r->old_version);
        cmk_strlcpy(r->new_version, col_text(st, 3), sizeof r->new_version);
        cmk_strlcpy(r->status, col_text(st, 4), sizeof r->status);
        r->rotated_at = sqlite3_column_int64(st, 5);
        r->due_at = sqlite3_column_int64(st, 6);
        r->applied_at = sqlite3_column_int64(st, 7);
        r->old_disabled_at = sqlite3_column_int64(st, 8);
        cmk_strlcpy(r->warning, col_text(st, 9), sizeof r->warning);
        cmk_strlcpy(r->last_error, col_text(st, 10), sizeof r->last_error);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

/* rot_envs - the first column of a query with one text parameter, as a JSON array of strings */
static cJSON *rot_envs(policy_svc *self, const char *sql, const char *param, int64_t now)
{
    sqlite3_stmt *st;
    cJSON *out = cJSON_CreateArray();
    if (sqlite3_prepare_v2(self->d.db, sql, -1, &st, NULL) != SQLITE_OK)
        return out;
    sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, now);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(out, cJSON_CreateString(col_text(st, 0)));
    sqlite3_finalize(st);
    return out;
}

/* days_text - a duration as "28 days" (or its short form when not whole days) */
static const char *days_text(int64_t ms, char *buf, size_t cap)
{
    if (ms >= DAY_MS && ms % DAY_MS == 0)
        snprintf(buf, cap, "%lld days", (long long)(ms / DAY_MS));
    else
        cmk_duration_format(ms, buf, cap);
    return buf;
}

/* rot_apply - apply env's pending rotation (when due, or now if force): re-wrap its "cmk" data
 * key to the new version, once its start is on record (rotation.apply, audit_must). 1 applied, 0 nothing
 * to do, < 0 failed (err says why: also when the start could not be audited). quiet: a
 * failure is logged but not audited (the health monitor's retries). */
static int rot_apply(policy_svc *self, const char *env, const char *principal, int force, int quiet, cmk_err *err)
{
    rot_row r;
    sqlite3_stmt *st;
    keyring_kek kek;
    cJSON *p;
    char now_s[32], detail[600];
    int64_t now = cmk_clock_now(self->d.clock);
    int linked = 0, n = 0, rc;

    if (!rot_load(self, env, &r) || strcmp(r.status, "pending") != 0 || (!force && r.due_at > now))
        return 0;
    /* still under the policy whose key rotated? (unlinked or moved since: nothing to apply) */
    if (sqlite3_prepare_v2(self->d.db, "SELECT 1 FROM policy_links WHERE env = ? AND policy = ? AND status = 'Linked'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r.policy, -1, SQLITE_STATIC);
        linked = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (!linked) {
        pol_exec(self, "DELETE FROM policy_rotations WHERE env = ?1", env, NULL, NULL, NULL, NULL);
        return 0;
    }
    if (!(p = pol_row(self, r.policy)))
        return cmk_err_set(err, CMK_ENOENT, "the enterprise policy %s is gone", r.policy);
    pol_kek(p, &kek);
    kek.version = r.new_version;
    snprintf(detail, sizeof detail, "%s/%s version %s -> %s", kek.vault, kek.key, r.old_version, r.new_version);
    {
        /* fail closed (AUD-4): the data key is not re-wrapped unless this start is on record
         * (rotation.apply; the outcome is rotation.applied); it stays pending and is tried again */
        char started[640];
        snprintf(started, sizeof started, "started: %s", detail);
        rc = audit_must(self->d.audit, principal, "rotation.apply", env, 0, started, err);
    }
    if (rc == 0)
        rc = keyring_rewrap(self->d.keyring, env, "cmk", &kek, &n, err);
    cJSON_Delete(p);
    if (rc < 0) {
        pol_exec(self, "UPDATE policy_rotations SET last_error = ?2 WHERE env = ?1", env, err ? err->msg : "failed",
                 NULL, NULL, NULL);
        if (!quiet)
            audit_append(self->d.audit, principal, "rotation.applied", env, rc, err ? err->msg : NULL, NULL, NULL);
        cmk_log(CMK_LOG_WARN, env, NULL, "rotation.failed", "%s error=\"%s\"", detail, err ? err->msg : "");
        return rc;
    }
    pol_exec(self, "UPDATE policy_rotations SET status = 'applied', applied_at = CAST(?2 AS INTEGER), last_error = NULL "
                   "WHERE env = ?1", env, num(now, now_s), NULL, NULL, NULL);
    audit_append(self->d.audit, principal, "rotation.applied", env, 0, detail, NULL, NULL);
    cmk_log(CMK_LOG_INFO, env, NULL, "rotation.applied", "%s by=%s", detail, principal);
    return 1;
}

/* on_rotation_due - the apply timer of a pending rotation */
static void on_rotation_due(cmk_clock *clock, int64_t now, void *arg)
{
    rot_timer *t = arg;
    cmk_err err = CMK_ERR_INIT;
    (void)clock;
    (void)now;
    rot_apply(t->self, t->env, "system", 0, 0, &err);
    free(t);
}

/* rot_schedule - the apply timer of env's pending rotation at due_at */
static void rot_schedule(policy_svc *self, const char *env, int64_t due_at)
{
    rot_timer *t = calloc(1, sizeof *t);
    if (!t)
        return;
    t->self = self;
    cmk_strlcpy(t->env, env, sizeof t->env);
    cmk_clock_timer_add_owned(self->d.clock, due_at, on_rotation_due, t);
}

/* pol_on_rotation - a key got a new version: a pending rotation for every environment whose
 * data key its previous version wraps (policies without a pinned version) */
void pol_on_rotation(const vault_rotation_event *ev, void *arg)
{
    policy_svc *self = arg;
    sqlite3_stmt *st;
    cJSON *rows = cJSON_CreateArray(), *it;
    int64_t at = ev->at_ms ? ev->at_ms : cmk_clock_now(self->d.clock);

    if (!ev->new_version || sqlite3_prepare_v2(self->d.db,
                                               "SELECT l.env, p.id FROM policy_links l JOIN policies p ON p.id = l.policy "
                                               "WHERE l.status = 'Linked' AND p.vault = ? AND p.key = ? AND "
                                               "(p.version IS NULL OR p.version = '')", -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(rows);
        return;
    }
    sqlite3_bind_text(st, 1, ev->vault, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, ev->key, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(col_text(st, 0)));
        cJSON_AddItemToArray(pair, cJSON_CreateString(col_text(st, 1)));
        cJSON_AddItemToArray(rows, pair);
    }
    sqlite3_finalize(st);
    cJSON_ArrayForEach(it, rows) {
        const char *env = cJSON_GetArrayItem(it, 0)->valuestring, *policy = cJSON_GetArrayItem(it, 1)->valuestring;
        char ver[VAULT_VERSION_MAX], a[32], b[32], ts[40], detail[600];
        rot_row r;
        int64_t due;
        if (keyring_kek_version(self->d.keyring, env, "cmk", ver, sizeof ver, NULL) < 0 || !ver[0] ||
            strcmp(ver, ev->new_version) == 0)
            continue;
        if (rot_load(self, env, &r) && strcmp(r.status, "pending") == 0) {
            /* rotated again before the last one was applied: the data key goes to the newest version,
             * still within 24 hours of the first rotation */
            due = r.due_at;
            pol_exec(self, "UPDATE policy_rotations SET new_version = ?2, policy = ?3 WHERE env = ?1", env,
                     ev->new_version, policy, NULL, NULL);
        } else {
            due = at + self->d.cfg->rotation_apply;
            pol_exec(self, "INSERT OR REPLACE INTO policy_rotations(env, policy, vault, key, old_version, new_version, "
                           "status, rotated_at, due_at) VALUES(?1, ?2, ?3, ?4, '', '', 'pending', 0, 0)",
                     env, policy, ev->vault, ev->key, NULL);
            pol_exec(self, "UPDATE policy_rotations SET old_version = ?2, new_version = ?3, rotated_at = CAST(?4 AS "
                           "INTEGER) WHERE env = ?1", env, ver, ev->new_version, num(at, a), NULL);
            pol_exec(self, "UPDATE policy_rotations SET due_at = CAST(?2 AS INTEGER) WHERE env = ?1", env, num(due, b),
                     NULL, NULL, NULL);
        }
        snprintf(detail, sizeof detail, "%s/%s version %s -> %s, applied at %s", ev->vault, ev->key, ver,
                 ev->new_version, cmk_time_format(due, ts, sizeof ts));
        audit_append(self->d.audit, "system", "rotation.pending", env, 0, detail, NULL, NULL);
        cmk_log(CMK_LOG_INFO, env, NULL, "rotation.pending", "%s reason=%s", detail, ev->reason ? ev->reason : "");
        rot_schedule(self, env, due);
    }
    cJSON_Delete(rows);
}

/* pol_rotation_init - the policy_rotations table */
int pol_rotation_init(policy_svc *self, cmk_err *err)
{
    return store_exec(self->d.db,
                      "CREATE TABLE IF NOT EXISTS policy_rotations (env TEXT PRIMARY KEY, policy TEXT NOT NULL,"
                      "  vault TEXT NOT NULL, key TEXT NOT NULL, old_version TEXT NOT NULL, new_version TEXT NOT NULL,"
                      "  status TEXT NOT NULL, rotated_at INTEGER NOT NULL, due_at INTEGER NOT NULL,"
                      "  applied_at INTEGER NOT NULL DEFAULT 0, old_disabled_at INTEGER NOT NULL DEFAULT 0,"
                      "  warning TEXT, last_error TEXT);",
                      err);
}

/* pol_rotation_resume - after a restart: pending rotations get their timer back, or are applied
 * at once if already due */
void pol_rotation_resume(policy_svc *self)
{
    sqlite3_stmt *st;
    cJSON *rows = cJSON_CreateArray(), *it;
    int64_t now = cmk_clock_now(self->d.clock);
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, due_at FROM policy_rotations WHERE status = 'pending'", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "env", col_text(st, 0));
            cJSON_AddNumberToObject(o, "due", (double)sqlite3_column_int64(st, 1));
            cJSON_AddItemToArray(rows, o);
        }
        sqlite3_finalize(st);
    }
    cJSON_ArrayForEach(it, rows) {
        const char *env = cmk_json_str(it, "env", "");
        int64_t due = (int64_t)cmk_json_num(it, "due", 0);
        cmk_err err = CMK_ERR_INIT;
        if (due <= now)
            rot_apply(self, env, "system", 0, 0, &err);
        else
            rot_schedule(self, env, due);
    }
    cJSON_Delete(rows);
}

/* check_cached - pol_check_version once per version within one health check */
static const ver_check *check_cached(policy_svc *self, const cJSON *p, const char *version, ver_check *cache, int *n,
                                     int cap)
{
    cmk_err err = CMK_ERR_INIT;
    ver_check *c;
    for (int i = 0; i < *n; i++)
        if (strcmp(cache[i].version, version) == 0)
            return &cache[i];
    c = *n < cap ? &cache[(*n)++] : &cache[cap - 1];
    cmk_strlcpy(c->version, version, sizeof c->version);
    c->rc = pol_check_version(self, p, version, &err);
    if (c->rc == CMK_EBUSY || audit_is_refusal(&err))
        c->rc = 0; /* throttled, or refused for want of an audit record: not a verdict */
    cmk_strlcpy(c->msg, err.msg, sizeof c->msg);
    return c;
}

/* pol_rotation_check - the rotation rules of one policy whose current key is usable: overdue
 * rotations applied, environments whose data key a no longer usable version wraps locked, the
 * previous version disabled early warned about. 0 healthy, 1 unhealthy, 2 warning (reason) */
int pol_rotation_check(policy_svc *self, const cJSON *p, char *reason, size_t cap)
{
    const char *pid = cmk_json_str(p, "id", "");
    int64_t now = cmk_clock_now(self->d.clock), grace = self->d.cfg->old_version_grace;
    ver_check cache[16];
    int ncache = 0, result = 0;
    cJSON *envs, *it;
    sqlite3_stmt *st;

    reason[0] = '\0';
    /* 1. rotations past due that could not be applied (the key was unreachable): try again */
    envs = rot_envs(self, "SELECT env FROM policy_rotations WHERE policy = ?1 AND status = 'pending' AND due_at <= ?2",
                    pid, now);
    cJSON_ArrayForEach(it, envs) {
        cmk_err err = CMK_ERR_INIT;
        rot_apply(self, it->valuestring, "system", 0, 1, &err);
    }
    cJSON_Delete(envs);

    /* 2. the version that wraps each linked environment's data key must be usable */
    envs = rot_envs(self, "SELECT env FROM policy_links WHERE policy = ?1 AND status = 'Linked'", pid, 0);
    cJSON_ArrayForEach(it, envs) {
        char ver[VAULT_VERSION_MAX], msg[1200];
        const ver_check *c;
        rot_row r;
        if (keyring_kek_version(self->d.keyring, it->valuestring, "cmk", ver, sizeof ver, NULL) < 0 || !ver[0])
            continue;
        c = check_cached(self, p, ver, cache, &ncache, 16);
        if (c->rc == 0)
            continue;
        if (rot_load(self, it->valuestring, &r) && strcmp(r.status, "pending") == 0)
            snprintf(msg, sizeof msg, "the key version in use (%s) cannot be used: %s; the rotation to version %s was "
                                      "not applied yet", ver, c->msg, r.new_version);
        else
            snprintf(msg, sizeof msg, "the key version in use (%s) cannot be used: %s", ver, c->msg);
        if (result != 1)
            cmk_strlcpy(reason, msg, cap);
        result = 1;
        pol_lock_env(self, it->valuestring, msg); /* no-op when it is locked already */
    }
    cJSON_Delete(envs);

    /* 3. the previous version disabled earlier than policy.old_version_grace after the rotation */
    if (sqlite3_prepare_v2(self->d.db, "SELECT env FROM policy_rotations WHERE policy = ?1 AND status = 'applied' AND "
                                          "(rotated_at + ?2 > ?3 OR warning IS NOT NULL)", -1, &st, NULL) != SQLITE_OK)
        return result;
    sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, grace);
    sqlite3_bind_int64(st, 3, now);
    envs = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(envs, cJSON_CreateString(col_text(st, 0)));
    sqlite3_finalize(st);
    cJSON_ArrayForEach(it, envs) {
        rot_row r;
        const ver_check *c;
        char warn[512], g[32], until[40], dis[32];
        if (!rot_load(self, it->valuestring, &r))
            continue;
        if (r.rotated_at + grace <= now) {
            /* the grace period is over: nothing to warn about any more */
            pol_exec(self, "UPDATE policy_rotations SET warning = NULL WHERE env = ?1", r.env, NULL, NULL, NULL, NULL);
            continue;
        }
        c = check_cached(self, p, r.old_version, cache, &ncache, 16);
        if (c->rc == 0) {
            if (r.old_disabled_at || r.warning[0])
                pol_exec(self, "UPDATE policy_rotations SET old_disabled_at = 0, warning = NULL WHERE env = ?1", r.env,
                         NULL, NULL, NULL, NULL);
            continue;
        }
        if (!r.old_disabled_at) {
            r.old_disabled_at = now;
            pol_exec(self, "UPDATE policy_rotations SET old_disabled_at = CAST(?2 AS INTEGER) WHERE env = ?1", r.env,
                     num(now, dis), NULL, NULL, NULL);
        }
        snprintf(warn, sizeof warn, "the previous key version %s was disabled %lld days after the rotation to version "
                                    "%s, earlier than %s after it; keep it enabled until %s",
                 r.old_version, (long long)((r.old_disabled_at - r.rotated_at) / DAY_MS), r.new_version,
                 days_text(grace, g, sizeof g), cmk_time_format(r.rotated_at + grace, until, sizeof until));
        if (strcmp(warn, r.warning) != 0)
            pol_exec(self, "UPDATE policy_rotations SET warning = ?2 WHERE env = ?1", r.env, warn, NULL, NULL, NULL);
        if (result == 0) {
            cmk_strlcpy(reason, warn, cap);
            result = 2;
        }
    }
    cJSON_Delete(envs);
    return result;
}

/* pol_rotation_env_ok - can the version that wraps env's data key be used (re-enable)? An
 * overdue rotation is applied first. 0, or the reason in err */
int pol_rotation_env_ok(policy_svc *self, const cJSON *p, const char *env, cmk_err *err)
{
    char ver[VAULT_VERSION_MAX];
    cmk_err aerr = CMK_ERR_INIT;
    int rc;
    rot_apply(self, env, "system", 0, 1, &aerr);
    if (keyring_kek_version(self->d.keyring, env, "cmk", ver, sizeof ver, NULL) < 0 || !ver[0])
        return 0;
    if ((rc = pol_check_version(self, p, ver, err)) < 0 && rc != CMK_EBUSY)
        return cmk_err_prefix(err, "the key version %s that wraps the environment's data key: ", ver);
    return 0;
}

/* pol_rotation_status - the rotation fields of an environment's CMK status */
void pol_rotation_status(policy_svc *self, const char *env, cJSON *row)
{
    char ver[VAULT_VERSION_MAX], ts[40];
    rot_row r;
    if (keyring_kek_version(self->d.keyring, env, "cmk", ver, sizeof ver, NULL) == 0 && ver[0])
        cJSON_AddStringToObject(row, "key_version", ver);
    if (!rot_load(self, env, &r))
        return;
    {
        cJSON *o = cJSON_AddObjectToObject(row, "rotation");
        cJSON_AddStringToObject(o, "status", r.status);
        cJSON_AddStringToObject(o, "from_version", r.old_version);
        cJSON_AddStringToObject(o, "to_version", r.new_version);
        cJSON_AddStringToObject(o, "rotated_at", cmk_time_format(r.rotated_at, ts, sizeof ts));
        if (strcmp(r.status, "pending") == 0) {
            cJSON_AddStringToObject(o, "rotation_due", cmk_time_format(r.due_at, ts, sizeof ts));
            cJSON_AddStringToObject(row, "rotation_due", ts);
        } else
            cJSON_AddStringToObject(o, "applied_at", cmk_time_format(r.applied_at, ts, sizeof ts));
        if (r.last_error[0])
            cJSON_AddStringToObject(o, "last_error", r.last_error);
    }
    if (r.warning[0]) {
        cJSON *w = cJSON_GetObjectItem(row, "warnings");
        if (!w)
            w = cJSON_AddArrayToObject(row, "warnings");
        cJSON_AddItemToArray(w, cJSON_CreateString(r.warning));
        cJSON_AddStringToObject(row, "rotation_warning", r.warning);
    }
}

/* policy_apply_rotation - apply a policy's pending rotations now (the admin's shortcut) */
int policy_apply_rotation(policy_svc *self, const char *principal, const char *ref, cJSON **out, cmk_err *err)
{
    cJSON *p = pol_row(self, ref), *envs, *it, *applied, *failed;
    cmk_err first = CMK_ERR_INIT;
    char detail[128];
    int na = 0, nf = 0, rc;
    if (!p)
        return cmk_err_set(err, CMK_ENOENT, "no enterprise policy '%s'; `cmkctl policy list` shows them", ref ? ref : "");
    envs = rot_envs(self, "SELECT env FROM policy_rotations WHERE policy = ?1 AND status = 'pending'",
                    cmk_json_str(p, "id", ""), 0);
    /* fail closed (AUD-4): recorded before any data key is re-wrapped, refused when it cannot be */
    snprintf(detail, sizeof detail, "started: %d pending", cJSON_GetArraySize(envs));
    if ((rc = audit_must(self->d.audit, principal, "policy.apply-rotation", cmk_json_str(p, "id", ""), 0, detail,
                         err)) < 0) {
        cJSON_Delete(envs);
        cJSON_Delete(p);
        return rc;
    }
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "policy", cmk_json_str(p, "id", ""));
    applied = cJSON_AddArrayToObject(*out, "applied");
    failed = cJSON_AddArrayToObject(*out, "failed");
    cJSON_ArrayForEach(it, envs) {
        cmk_err e = CMK_ERR_INIT;
        rc = rot_apply(self, it->valuestring, principal, 1, 0, &e);
        if (rc > 0) {
            cJSON_AddItemToArray(applied, cJSON_CreateString(it->valuestring));
            na++;
        } else if (rc < 0) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "env", it->valuestring);
            cJSON_AddStringToObject(f, "error", e.msg);
            cJSON_AddItemToArray(failed, f);
            if (!nf++)
                cmk_err_set(&first, rc, "the rotation of environment %s could not be applied: %s", it->valuestring, e.msg);
        }
    }
    snprintf(detail, sizeof detail, "%d applied, %d failed", na, nf);
    audit_append(self->d.audit, principal, "policy.apply-rotation", cmk_json_str(p, "id", ""), nf ? first.code : 0,
                 detail, NULL, NULL);
    cJSON_Delete(envs);
    cJSON_Delete(p);
    policy_health_check(self, "apply-rotation");
    if (nf && !na) {
        cJSON_Delete(*out);
        *out = NULL;
        return cmk_err_set(err, first.code, "%s", first.msg);
    }
    return 0;
}
