/*
 * policy_link.c - operations on environments under enterprise policies: link (add to a
 * policy), unlink (back to the Microsoft-managed key), re-enable after a lock, the lock itself,
 * the deletion of a locked environment not re-enabled in time, and the health monitor.
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_metrics.h"
#include "keys.h"
#include "migration.h"
#include "log.h"
#include "policy_int.h"
#include "store.h"
#include "util.h"

/* An operation in flight (link or unlink). */
typedef struct {
    policy_svc *self;
    char op[64], env[64], policy[64], principal[64], worker[96];
} op_ctx;

static void link_undo(policy_svc *self, const char *env);
static void link_failed(policy_svc *self, const char *op, const char *env, int moved, const char *why);
static void op_principal(policy_svc *self, const char *id, char *out, size_t cap);

/* pol_op_new - a Running operation row */
int pol_op_new(policy_svc *self, const char *kind, const char *env, const char *policy, const char *principal,
               char id[64], cmk_err *err)
{
    char now[32];
    cmk_random_id("op", id, 64);
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(self->d.clock));
    if (pol_exec(self, "INSERT INTO policy_ops(id, kind, env, policy, status, started) VALUES(?1, ?2, ?3, ?4, 'Running', 0)",
                 id, kind, env, policy, err) < 0)
        return err ? err->code : CMK_EIO;
    return pol_exec(self, "UPDATE policy_ops SET principal = ?2, started = CAST(?3 AS INTEGER) WHERE id = ?1", id,
                    principal, now, NULL, err);
}

/* pol_op_end - Succeeded or Failed */
void pol_op_end(policy_svc *self, const char *id, const char *status, const char *message)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(self->d.clock));
    pol_exec(self, "UPDATE policy_ops SET status = ?2, message = ?3, ended = CAST(?4 AS INTEGER) WHERE id = ?1", id, status,
             message, now, NULL);
    cmk_log(strcmp(status, "Succeeded") == 0 ? CMK_LOG_INFO : CMK_LOG_WARN, NULL, id, "policy.operation",
            "status=%s message=\"%s\"", status, message ? message : "");
}

/* policy_op_new - an operation row for other modules (support tickets) */
int policy_op_new(policy_svc *self, const char *kind, const char *env, const char *policy, const char *principal,
                  char id[64], cmk_err *err)
{
    return pol_op_new(self, kind, env, policy, principal, id, err);
}

/* policy_operation - one operation */
int policy_operation(policy_svc *self, const char *id, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc = CMK_ENOENT;
    if (sqlite3_prepare_v2(self->d.db, "SELECT id, kind, env, policy, status, message, started, ended FROM policy_ops "
                                          "WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->d.db, err, "operation lookup");
    sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        char ts[40];
        static const char *const names[] = { "id", "kind", "env", "policy", "status", "message" };
        *out = cJSON_CreateObject();
        for (int i = 0; i < 6; i++)
            if (sqlite3_column_type(st, i) != SQLITE_NULL)
                cJSON_AddStringToObject(*out, names[i], (const char *)sqlite3_column_text(st, i));
        cJSON_AddStringToObject(*out, "started", cmk_time_format(sqlite3_column_int64(st, 6), ts, sizeof ts));
        if (sqlite3_column_int64(st, 7))
            cJSON_AddStringToObject(*out, "ended", cmk_time_format(sqlite3_column_int64(st, 7), ts, sizeof ts));
        rc = 0;
    } else
        cmk_err_set(err, CMK_ENOENT, "no operation '%s'", id ? id : "");
    sqlite3_finalize(st);
    return rc;
}

/* pol_dedicated_worker - key, authorization and process of worker-<env> */
int pol_dedicated_worker(policy_svc *self, const char *env, cmk_err *err)
{
    char name[96];
    cmk_keypair kp;
    cJSON *envs = cJSON_CreateArray();
    const char *args[] = { "--env", env, NULL };
    int rc;
    cmk_worker_name(env, name, sizeof name);
    cJSON_AddItemToArray(envs, cJSON_CreateString(env));
    rc = cmk_keypair_ensure(self->d.cfg->run_dir, name, &kp, err);
    if (rc == 0)
        rc = cmk_authorized_add(self->d.cfg->run_dir, name, "worker", kp.pub, envs, err);
    cmk_keypair_wipe(&kp);
    cJSON_Delete(envs);
    if (rc == 0 && supervisor_pid(self->d.sup, name) == 0) {
        rc = supervisor_add(self->d.sup, name, "worker", "cmk-worker", args, err);
        if (rc == CMK_EEXIST)
            rc = 0;
    }
    return rc;
}

/* policy_start_dedicated_workers - at start, every dedicated environment's worker */
int policy_start_dedicated_workers(policy_svc *self, cmk_err *err)
{
    cJSON *envs, *it;
    int rc = directory_env_list(self->d.dir, NULL, &envs, err);
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(it, envs) {
        if (strcmp(cmk_json_str(it, "infrastructure", ""), "dedicated") == 0 &&
            (rc = pol_dedicated_worker(self, cmk_json_str(it, "id", ""), err)) < 0)
            break;
    }
    cJSON_Delete(envs);
    return rc < 0 ? rc : 0;
}

/* cmk_count - CMK environments of a tenant (linked or being linked) */
static int cmk_count(policy_svc *self, const char *tenant)
{
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(self->d.db,
                           "SELECT COUNT(*) FROM policy_links l JOIN environments e ON e.id = l.env WHERE e.tenant = ? AND "
                           "l.status IN ('Linking', 'Linked')", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}

/* running_op - the Running link/unlink operation of env */
static int running_op(policy_svc *self, const char *env, char id[64], char kind[16])
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(self->d.db, "SELECT id, kind FROM policy_ops WHERE env = ? AND status = 'Running' AND "
                                          "kind IN ('link', 'unlink', 'protect') ORDER BY started DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cmk_strlcpy(id, (const char *)sqlite3_column_text(st, 0), 64);
        cmk_strlcpy(kind, (const char *)sqlite3_column_text(st, 1), 16);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

/* policy_migration_done - the flows moved: complete the operation that started it */
void policy_migration_done(void *arg, const char *env, int rc, int moved, int held, const char *message)
{
    policy_svc *self = arg;
    char op[64], kind[16], msg[600];
    if (!running_op(self, env, op, kind))
        return;
    if (strcmp(kind, "link") == 0 && !migration_to_dedicated(self->d.migration, env)) {
        /* the end of moving a failed add's flows back (link_failed) */
        char why[600] = "";
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(self->d.db, "SELECT message FROM policy_ops WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                cmk_strlcpy(why, (const char *)sqlite3_column_text(st, 0), sizeof why);
            sqlite3_finalize(st);
        }
        if (rc < 0) {
            snprintf(msg, sizeof msg, "adding the environment failed (%s) and moving its flows back failed too (%s); "
                                      "they are served where they are: run `cmkctl policy add-env` again",
                     why, message ? message : "");
            directory_env_set(self->d.dir, env, "infrastructure", "dedicated", NULL);
            pol_op_end(self, op, "Failed", msg);
            return;
        }
        link_undo(self, env);
        snprintf(msg, sizeof msg, "the environment stays on the Microsoft-managed key: %s; the %d flows already moved "
                                  "went back; your data continues to be encrypted with the Microsoft-managed key; run "
                                  "`cmkctl policy add-env` again", why, moved);
        pol_op_end(self, op, "Failed", msg);
        audit_append(self->d.audit, "system", "policy.link", env, CMK_EIO, msg, NULL, NULL);
        return;
    }
    if (strcmp(kind, "unlink") == 0) {
        char worker[96], who[64];
        op_principal(self, op, who, sizeof who);
        if (rc < 0) {
            /* still under the policy: flows moved back are served on the shared side (flow_homes) */
            snprintf(msg, sizeof msg, "moving the flows back failed: %s; the environment stays under its policy; "
                                      "run `cmkctl policy remove-env %s` again", message ? message : "", env);
            pol_exec(self, "UPDATE policy_links SET status = 'Linked' WHERE env = ?1", env, NULL, NULL, NULL, NULL);
            directory_env_set(self->d.dir, env, "state", "Ready", NULL);
            pol_op_end(self, op, "Failed", msg);
            audit_append(self->d.audit, who, "policy.unlink", env, rc, msg, NULL, NULL);
            return;
        }
        cmk_worker_name(env, worker, sizeof worker);
        supervisor_remove(self->d.sup, worker, NULL);
        directory_env_set(self->d.dir, env, "encryption", "microsoft", NULL);
        directory_env_set(self->d.dir, env, "infrastructure", "shared", NULL);
        directory_env_set(self->d.dir, env, "policy", NULL, NULL);
        directory_env_set(self->d.dir, env, "state", "Ready", NULL);
        migration_forget_homes(self->d.migration, env);
        pol_exec(self, "DELETE FROM policy_rotations WHERE env = ?1", env, NULL, NULL, NULL, NULL);
        {
            char now[32];
            snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(self->d.clock));
            pol_exec(self, "UPDATE policy_links SET status = 'Unlinked', encryption_status = 'NotEncrypted', "
                           "unlinked_at = CAST(?2 AS INTEGER) WHERE env = ?1",
                     env, now, NULL, NULL, NULL);
        }
        {
            /* a BYOK environment that went to CMK is no longer managed by CustomerViaMicrosoft */
            tenantkey_env_state ts;
            if (tenantkey_env_byok_state(self->d.tenantkeys, who, env, &ts, NULL) == 0 && ts.mode == TENANTKEY_ENV_CUSTOMER)
                tenantkey_left_cmk(self->d.tenantkeys, who, env, NULL, NULL);
        }
        snprintf(msg, sizeof msg, "back on the Microsoft-managed key (%d flows moved back); keep the key and its access "
                                  "for 30 days", moved);
        pol_op_end(self, op, "Succeeded", msg);
        audit_append(self->d.audit, who, "policy.unlink", env, 0, msg, NULL, NULL);
        return;
    }
    if (rc < 0 && strcmp(kind, "link") == 0) {
        link_failed(self, op, env, moved, message ? message : "moving the flows failed");
        return;
    }
    if (rc < 0) {
        /* protect-flows: the flows that did move are safe on the dedicated side; the rest can be moved again */
        snprintf(msg, sizeof msg, "moving the flows failed: %s; run `cmkctl support protect-flows --env %s` again",
                 message ? message : "", env);
        pol_exec(self, "UPDATE policy_links SET encryption_status = 'Failed' WHERE env = ?1", env, NULL, NULL, NULL, NULL);
        pol_op_end(self, op, "Failed", msg);
        return;
    }
    if (strcmp(kind, "link") == 0) {
        /* a BYOK environment moves with no downtime; it is then managed by CustomerViaMicrosoft */
        tenantkey_env_state ts;
        char who[64], policy[64] = "";
        cJSON *row = NULL;
        op_principal(self, op, who, sizeof who);
        if (directory_env_get(self->d.dir, env, &row, NULL) == 0)
            cmk_strlcpy(policy, cmk_json_str(row, "policy", ""), sizeof policy);
        cJSON_Delete(row);
        if (tenantkey_env_byok_state(self->d.tenantkeys, who, env, &ts, NULL) == 0 && ts.mode == TENANTKEY_ENV_SELF_MANAGED)
            tenantkey_migrated_to_cmk(self->d.tenantkeys, who, env, policy, &ts, NULL);
    }
    pol_exec(self, "UPDATE policy_links SET encryption_status = ?2 WHERE env = ?1", env, held ? "Warning" : "Encrypted",
             NULL, NULL, NULL);
    snprintf(msg, sizeof msg, "environment encrypted with the customer-managed key: %d flows moved to dedicated "
                              "infrastructure, %d kept on the Microsoft-managed key", moved, held);
    pol_op_end(self, op, "Succeeded", msg);
}

/* link_undo - a failed add: the environment back on the Microsoft-managed key and the shared
 * infrastructure, as if the add had never started ("if it fails, your data continues to be
 * encrypted with Microsoft managed key. You can re-run the Add environments operation again.") */
static void link_undo(policy_svc *self, const char *env)
{
    char worker[96];
    cmk_worker_name(env, worker, sizeof worker);
    supervisor_remove(self->d.sup, worker, NULL);
    directory_env_set(self->d.dir, env, "encryption", "microsoft", NULL);
    directory_env_set(self->d.dir, env, "infrastructure", "shared", NULL);
    directory_env_set(self->d.dir, env, "policy", NULL, NULL);
    directory_env_set(self->d.dir, env, "state", "Ready", NULL);
    pol_exec(self, "DELETE FROM policy_links WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    pol_exec(self, "DELETE FROM policy_rotations WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    migration_forget_flows(self->d.migration, env, NULL); /* the migration service's tables */
}

/* op_principal - who started operation id */
static void op_principal(policy_svc *self, const char *id, char *out, size_t cap)
{
    sqlite3_stmt *st;
    cmk_strlcpy(out, "system", cap);
    if (sqlite3_prepare_v2(self->d.db, "SELECT principal FROM policy_ops WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            cmk_strlcpy(out, (const char *)sqlite3_column_text(st, 0), cap);
        sqlite3_finalize(st);
    }
}

/* link_failed - the flows did not all move: the ones that did go back to the shared side
 * (a migration back, whose end comes to policy_migration_done again), then link_undo */
static void link_failed(policy_svc *self, const char *op, const char *env, int moved, const char *why)
{
    char msg[900];
    cmk_err merr = CMK_ERR_INIT;
    cJSON *row = NULL;
    char policy[128] = "";
    if (directory_env_get(self->d.dir, env, &row, NULL) == 0)
        cmk_strlcpy(policy, cmk_json_str(row, "policy", ""), sizeof policy);
    cJSON_Delete(row);
    if (moved > 0) {
        /* routed meanwhile: moved flows by flow_homes (dedicated), the rest on the shared side */
        directory_env_set(self->d.dir, env, "infrastructure", "shared", NULL);
        pol_exec(self, "UPDATE policy_ops SET message = ?2 WHERE id = ?1", op, why, NULL, NULL, NULL);
        if (migration_start(self->d.migration, env, 0, policy_migration_done, self, &merr) == 0)
            return;
        snprintf(msg, sizeof msg, "adding the environment failed (%s) and moving its %d flows back failed too (%s); "
                                  "they are served where they are: run `cmkctl policy add-env %s %s` again",
                 why, moved, merr.msg, policy, env);
        directory_env_set(self->d.dir, env, "infrastructure", "dedicated", NULL);
        pol_op_end(self, op, "Failed", msg);
        return;
    }
    link_undo(self, env);
    snprintf(msg, sizeof msg, "the environment stays on the Microsoft-managed key: %s; your data continues to be "
                              "encrypted with the Microsoft-managed key; run `cmkctl policy add-env %s %s` again",
             why, policy, env);
    pol_op_end(self, op, "Failed", msg);
    audit_append(self->d.audit, "system", "policy.link", env, CMK_EIO, msg, NULL, NULL);
}

/* link_key - the dedicated partition's key under the customer key, the environment moved */
static int link_key(policy_svc *self, const char *env, const char *policy, const char *principal, cmk_err *err)
{
    cJSON *p = pol_row(self, policy);
    keyring_kek kek;
    int n, rc = p ? 0 : cmk_err_set(err, CMK_ENOENT, "the policy is gone");
    char now[32];

    if (rc == 0) {
        pol_kek(p, &kek);
        rc = keyring_ensure(self->d.keyring, env, "cmk", &kek, NULL, err);
        /* a key from an earlier link goes under this policy's key */
        if (rc == 0)
            rc = keyring_rewrap(self->d.keyring, env, "cmk", &kek, &n, err);
    }
    cJSON_Delete(p);
    if (rc < 0)
        return rc;
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(self->d.clock));
    directory_env_set(self->d.dir, env, "encryption", "customer", NULL);
    directory_env_set(self->d.dir, env, "infrastructure", "dedicated", NULL);
    directory_env_set(self->d.dir, env, "policy", policy, NULL);
    pol_exec(self, "UPDATE policy_links SET status = 'Linked', encryption_status = 'Warning', "
                   "linked_at = CAST(?2 AS INTEGER) WHERE env = ?1", env, now, NULL, NULL, NULL);
    if ((rc = pol_dedicated_worker(self, env, err)) < 0) {
        link_undo(self, env);
        return rc;
    }
    directory_env_set(self->d.dir, env, "state", "Ready", NULL);
    audit_append(self->d.audit, principal, "policy.link", env, 0, policy, NULL, NULL);
    return 0;
}

/* policy_link - add an environment to a policy */
int policy_link(policy_svc *self, const char *principal, const char *policy, const char *env_ref, cJSON **out, cmk_err *err)
{
    cJSON *p = pol_row(self, policy), *env = NULL, *tenant = NULL;
    op_ctx *o;
    int rc = 0, limit;

    if (!p)
        return cmk_err_set(err, CMK_ENOENT, "no enterprise policy '%s'; `cmkctl policy list` shows them", policy ? policy : "");
    if ((rc = directory_env_get(self->d.dir, env_ref, &env, err)) < 0)
        goto out;
    if (strcmp(cmk_json_str(p, "state", ""), "Enabled") != 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "policy %s is %s: %s", cmk_json_str(p, "name", ""), cmk_json_str(p, "state", ""),
                         cmk_json_str(p, "health_reason", "validate it first with `cmkctl policy validate`"));
        goto out;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItem(env, "managed"))) {
        rc = cmk_err_set(err, CMK_ESTATE, "only managed environments can be added to an enterprise policy; make it one with: "
                                          "cmkctl env enable-managed %s", cmk_json_str(env, "id", ""));
        goto out;
    }
    if (strcmp(cmk_json_str(env, "type", ""), "trial") == 0 || strcmp(cmk_json_str(env, "type", ""), "teams") == 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "%s environments cannot be protected by a customer-managed key",
                         cmk_json_str(env, "type", ""));
        goto out;
    }
    if (strcmp(cmk_json_str(env, "region", ""), cmk_json_str(p, "region", "")) != 0) {
        rc = cmk_err_set(err, CMK_EINVAL, "the environment is in region %s and the policy in %s: they must be in the same region",
                         cmk_json_str(env, "region", ""), cmk_json_str(p, "region", ""));
        goto out;
    }
    if (strcmp(cmk_json_str(env, "tenant", ""), cmk_json_str(p, "tenant", "")) != 0) {
        rc = cmk_err_set(err, CMK_EPERM, "the environment belongs to another tenant than the policy");
        goto out;
    }
    if (cJSON_IsString(cJSON_GetObjectItem(env, "policy")) || strcmp(cmk_json_str(env, "state", ""), "Ready") != 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "the environment is %s%s%s; remove it from its policy first (a move is two operations, "
                                          "each with an outage)", cmk_json_str(env, "state", ""),
                         cJSON_IsString(cJSON_GetObjectItem(env, "policy")) ? " and in policy " : "",
                         cmk_json_str(env, "policy", ""));
        goto out;
    }
    if ((rc = directory_tenant_get(self->d.dir, cmk_json_str(env, "tenant", ""), &tenant, err)) < 0)
        goto out;
    limit = (int)cmk_json_num(tenant, "cmk_env_limit", (double)self->d.cfg->cmk_env_limit);
    if (cmk_count(self, cmk_json_str(env, "tenant", "")) >= limit) {
        rc = cmk_err_set(err, CMK_ELIMIT, "tenant %s has %d environments protected by customer-managed keys, its limit; "
                                          "to protect more, create a support ticket: cmkctl support raise-cmk-limit --tenant %s --to N",
                         cmk_json_str(env, "tenant", ""), limit, cmk_json_str(env, "tenant", ""));
        goto out;
    }
    {
        /* fail closed (AUD-4): recorded before anything changes, refused when it cannot be */
        char detail[160];
        snprintf(detail, sizeof detail, "started: adding it to policy %s", cmk_json_str(p, "id", ""));
        if ((rc = audit_must(self->d.audit, principal, "policy.link", cmk_json_str(env, "id", ""), 0, detail, err)) < 0)
            goto out;
    }
    o = calloc(1, sizeof *o);
    if (!o) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    o->self = self;
    cmk_strlcpy(o->env, cmk_json_str(env, "id", ""), sizeof o->env);
    cmk_strlcpy(o->policy, cmk_json_str(p, "id", ""), sizeof o->policy);
    cmk_strlcpy(o->principal, principal, sizeof o->principal);
    if ((rc = pol_op_new(self, "link", o->env, o->policy, principal, o->op, err)) < 0 ||
        (rc = pol_exec(self, "INSERT OR REPLACE INTO policy_links(env, policy, status) VALUES(?1, ?2, 'Linking')", o->env,
                       o->policy, NULL, NULL, err)) < 0) {
        free(o);
        goto out;
    }
    /* the environment is disabled while it is added */
    directory_env_set(self->d.dir, o->env, "state", "Disabled", NULL);
    policy_operation(self, o->op, out, err);
    {
        cmk_err kerr = CMK_ERR_INIT;
        if (link_key(self, o->env, o->policy, principal, &kerr) < 0) {
            /* a failed add leaves the environment on the Microsoft-managed key; it can be run again */
            char msg[600];
            snprintf(msg, sizeof msg, "the environment stays on the Microsoft-managed key: %s; run `cmkctl policy "
                                      "add-env %s %s` again once that is fixed", kerr.msg, cmk_json_str(p, "name", ""),
                     o->env);
            link_undo(self, o->env);
            pol_op_end(self, o->op, "Failed", msg);
            audit_append(self->d.audit, principal, "policy.link", o->env, kerr.code, msg, NULL, NULL);
        } else if (migration_start(self->d.migration, o->env, 1, policy_migration_done, self, &kerr) < 0)
            link_failed(self, o->op, o->env, 0, kerr.msg);
    }
    free(o);
    rc = 0;
out:
    cJSON_Delete(p);
    cJSON_Delete(env);
    cJSON_Delete(tenant);
    return rc;
}

/* policy_unlink - remove an environment from its policy */
int policy_unlink(policy_svc *self, const char *principal, const char *env_ref, cJSON **out, cmk_err *err)
{
    cJSON *env;
    op_ctx *o;
    int rc = directory_env_get(self->d.dir, env_ref, &env, err);
    if (rc < 0)
        return rc;
    if (!cJSON_IsString(cJSON_GetObjectItem(env, "policy")) || strcmp(cmk_json_str(env, "state", ""), "Ready") != 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "environment %s is not a Ready environment of a policy (state %s)",
                         cmk_json_str(env, "id", ""), cmk_json_str(env, "state", ""));
        cJSON_Delete(env);
        return rc;
    }
    /* an environment migrated from BYOK cannot return to the Microsoft-managed key for 7 days */
    if ((rc = tenantkey_cmk_return_check(self->d.tenantkeys, principal, cmk_json_str(env, "id", ""), err)) < 0) {
        cJSON_Delete(env);
        return rc;
    }
    {
        /* fail closed (AUD-4): recorded before anything changes, refused when it cannot be */
        char detail[160];
        snprintf(detail, sizeof detail, "started: removing it from policy %s", cmk_json_str(env, "policy", ""));
        if ((rc = audit_must(self->d.audit, principal, "policy.unlink", cmk_json_str(env, "id", ""), 0, detail,
                             err)) < 0) {
            cJSON_Delete(env);
            return rc;
        }
    }
    o = calloc(1, sizeof *o);
    if (!o) {
        cJSON_Delete(env);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    o->self = self;
    cmk_strlcpy(o->env, cmk_json_str(env, "id", ""), sizeof o->env);
    cmk_strlcpy(o->policy, cmk_json_str(env, "policy", ""), sizeof o->policy);
    cmk_strlcpy(o->principal, principal, sizeof o->principal);
    cmk_worker_name(o->env, o->worker, sizeof o->worker);
    cJSON_Delete(env);
    if ((rc = pol_op_new(self, "unlink", o->env, o->policy, principal, o->op, err)) < 0) {
        free(o);
        return rc;
    }
    pol_exec(self, "UPDATE policy_links SET status = 'Unlinking' WHERE env = ?1", o->env, NULL, NULL, NULL, NULL);
    directory_env_set(self->d.dir, o->env, "state", "Disabled", NULL);
    policy_operation(self, o->op, out, err);
    rc = migration_start(self->d.migration, o->env, 0, policy_migration_done, self, err);
    free(o);
    return rc;
}

/* forward_done - a fire-and-forget forward's reply */
static void forward_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    (void)arg;
    (void)reply;
    (void)err;
}

/* pol_lock_env - lock: "Environment disabled"; the worker wipes its keys; deletion scheduled */
void pol_lock_env(policy_svc *self, const char *env_id, const char *reason)
{
    cJSON *env;
    char worker[96], now[32];
    int64_t t = cmk_clock_now(self->d.clock);
    if (directory_env_get(self->d.dir, env_id, &env, NULL) < 0)
        return;
    if (strcmp(cmk_json_str(env, "state", ""), "Locked") != 0) {
        cJSON *b = cJSON_CreateObject();
        snprintf(now, sizeof now, "%lld", (long long)t);
        directory_env_set(self->d.dir, env_id, "state", "Locked", NULL);
        pol_exec(self, "UPDATE policy_links SET locked_at = CAST(?2 AS INTEGER), lock_reason = ?3 WHERE env = ?1", env_id,
                 now, reason, NULL, NULL);
        cmk_worker_name(strcmp(cmk_json_str(env, "infrastructure", ""), "dedicated") == 0 ? env_id : NULL, worker,
                        sizeof worker);
        cJSON_AddStringToObject(b, "env", env_id);
        cJSON_AddStringToObject(b, "reason", "Environment disabled");
        broker_forward(self->d.broker, worker, "env.release", b, 5000, forward_done, NULL, NULL);
        cJSON_Delete(b);
        audit_append(self->d.audit, "system", "env.lock", env_id, 0, reason, NULL, NULL);
        ctl_metrics_env_locked(reason);
        cmk_log(CMK_LOG_WARN, env_id, NULL, "env.locked", "reason=\"%s\"", reason);
        pol_schedule_deletion(self, env_id, cmk_json_str(env, "type", "production"), t);
    }
    cJSON_Delete(env);
}

/* rm_entry - nftw callback removing a partition tree */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* A deletion timer's argument. */
typedef struct {
    policy_svc *self;
    char env[64];
    int64_t locked_at;  /* the lock it belongs to */
} deletion;

/* on_deletion_due - still locked since then: delete the environment */
static void on_deletion_due(cmk_clock *clock, int64_t now, void *arg)
{
    deletion *d = arg;
    policy_svc *self = d->self;
    sqlite3_stmt *st;
    int64_t locked_at = 0;
    if (sqlite3_prepare_v2(self->d.db, "SELECT locked_at FROM policy_links WHERE env = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, d->env, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            locked_at = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (locked_at && locked_at == d->locked_at) {
        char worker[96], dir[PATH_MAX];
        cmk_worker_name(d->env, worker, sizeof worker);
        supervisor_remove(self->d.sup, worker, NULL);
        keyring_forget_env(self->d.keyring, d->env, NULL);
        directory_env_delete(self->d.dir, d->env, NULL, NULL);
        pol_exec(self, "DELETE FROM policy_links WHERE env = ?1", d->env, NULL, NULL, NULL, NULL);
        pol_exec(self, "DELETE FROM policy_rotations WHERE env = ?1", d->env, NULL, NULL, NULL, NULL);
        snprintf(dir, sizeof dir, "%s/partitions/%s", self->d.cfg->run_dir, d->env);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        audit_append(self->d.audit, "system", "env.delete", d->env, 0, "locked and not re-enabled in time", NULL, NULL);
        cmk_log(CMK_LOG_WARN, d->env, NULL, "env.deleted", "reason=\"locked and not re-enabled in time\"");
    }
    free(d);
}

/* pol_schedule_deletion - 7 days for sandboxes, 30 for production (and others) */
void pol_schedule_deletion(policy_svc *self, const char *env, const char *type, int64_t locked_at)
{
    deletion *d = calloc(1, sizeof *d);
    int64_t after = strcmp(type, "sandbox") == 0 ? self->d.cfg->locked_delete_sandbox
                                                 : self->d.cfg->locked_delete_production;
    if (!d)
        return;
    d->self = self;
    cmk_strlcpy(d->env, env, sizeof d->env);
    d->locked_at = locked_at;
    cmk_clock_timer_add_owned(self->d.clock, locked_at + after, on_deletion_due, d);
}

/* A re-enable in flight. */
typedef struct {
    policy_svc *self;
    char op[64], env[64];
} reenable_ctx;

/* on_reenabled - the re-enable completes */
static void on_reenabled(cmk_clock *clock, int64_t now, void *arg)
{
    reenable_ctx *r = arg;
    r->self->checking++; /* no lock from a stale check while we flip the state */
    pol_exec(r->self, "UPDATE policy_links SET locked_at = 0, lock_reason = NULL WHERE env = ?1", r->env, NULL, NULL, NULL,
             NULL);
    directory_env_set(r->self->d.dir, r->env, "state", "Ready", NULL);
    pol_op_end(r->self, r->op, "Succeeded", "environment re-enabled");
    audit_append(r->self->d.audit, "system", "env.reenabled", r->env, 0, NULL, NULL, NULL);
    r->self->checking--;
    free(r);
}

/* policy_resume - after a controller restart: the deletion timers of locked environments, the
 * re-enables in flight and the pending key rotations, from controller.db */
void policy_resume(policy_svc *self)
{
    sqlite3_stmt *st;
    pol_rotation_resume(self);
    if (sqlite3_prepare_v2(self->d.db, "SELECT l.env, e.type, l.locked_at FROM policy_links l JOIN environments e "
                                          "ON e.id = l.env WHERE l.locked_at > 0", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            pol_schedule_deletion(self, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                                  sqlite3_column_int64(st, 2));
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(self->d.db, "SELECT id, env, started FROM policy_ops WHERE kind = 'reenable' AND "
                                          "status = 'Running'", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            reenable_ctx *r = calloc(1, sizeof *r);
            if (!r)
                break;
            r->self = self;
            cmk_strlcpy(r->op, (const char *)sqlite3_column_text(st, 0), sizeof r->op);
            cmk_strlcpy(r->env, (const char *)sqlite3_column_text(st, 1), sizeof r->env);
            cmk_clock_timer_add_owned(self->d.clock, sqlite3_column_int64(st, 2) + self->d.cfg->reenable_time,
                                on_reenabled, r);
        }
        sqlite3_finalize(st);
    }
}

/* policy_reenable - "Re-enable environment" once access to the key is back */
int policy_reenable(policy_svc *self, const char *principal, const char *env_ref, cJSON **out, cmk_err *err)
{
    cJSON *env, *p = NULL;
    reenable_ctx *r;
    cmk_err kerr = CMK_ERR_INIT;
    int rc = directory_env_get(self->d.dir, env_ref, &env, err);
    if (rc < 0)
        return rc;
    if (strcmp(cmk_json_str(env, "state", ""), "Locked") != 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "environment %s is not locked", cmk_json_str(env, "id", ""));
        goto out;
    }
    p = pol_row(self, cmk_json_str(env, "policy", ""));
    if (!p || strcmp(cmk_json_str(p, "state", ""), "Enabled") != 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "the environment's enterprise policy is gone or disabled; it cannot be re-enabled");
        goto out;
    }
    if (pol_check_key(self, p, &kerr) < 0 || pol_rotation_env_ok(self, p, cmk_json_str(env, "id", ""), &kerr) < 0) {
        rc = cmk_err_set(err, CMK_ESTATE, "access to the key is not back yet: %s", kerr.msg);
        goto out;
    }
    /* fail closed (AUD-4): recorded before anything changes, refused when it cannot be */
    {
        char detail[96], d[32];
        snprintf(detail, sizeof detail, "started: Ready again in %s",
                 cmk_duration_format(self->d.cfg->reenable_time, d, sizeof d));
        if ((rc = audit_must(self->d.audit, principal, "env.reenable", cmk_json_str(env, "id", ""), 0, detail, err)) < 0)
            goto out;
    }
    pol_exec(self, "UPDATE policies SET health = 'Healthy', health_reason = NULL WHERE id = ?1", cmk_json_str(p, "id", ""),
             NULL, NULL, NULL, NULL);
    r = calloc(1, sizeof *r);
    if (!r) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    r->self = self;
    cmk_strlcpy(r->env, cmk_json_str(env, "id", ""), sizeof r->env);
    if ((rc = pol_op_new(self, "reenable", r->env, cmk_json_str(p, "id", ""), principal, r->op, err)) < 0) {
        free(r);
        goto out;
    }
    policy_operation(self, r->op, out, err);
    cmk_clock_timer_add_owned(self->d.clock, cmk_clock_now(self->d.clock) + self->d.cfg->reenable_time, on_reenabled, r);
out:
    cJSON_Delete(env);
    cJSON_Delete(p);
    return rc;
}

/* policy_health_check - every policy with linked environments, from its identity's view */
void policy_health_check(policy_svc *self, const char *why)
{
    sqlite3_stmt *st;
    cJSON *ids = cJSON_CreateArray(), *it;
    if (self->checking)
        return;
    self->checking = 1;
    if (sqlite3_prepare_v2(self->d.db, "SELECT id FROM policies WHERE state = 'Enabled'", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            cJSON_AddItemToArray(ids, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
    }
    cJSON_ArrayForEach(it, ids) {
        cJSON *p = pol_row(self, it->valuestring);
        cmk_err err = CMK_ERR_INIT;
        if (!p)
            continue;
        if (pol_check_key(self, p, &err) == 0) {
            /* the key is usable; the rotation rules may still lock an environment or warn */
            char reason[1200];
            int st_rot = pol_rotation_check(self, p, reason, sizeof reason);
            const char *health = st_rot == 1 ? "Unhealthy" : st_rot == 2 ? "Warning" : "Healthy";
            if (strcmp(cmk_json_str(p, "health", ""), health) != 0 ||
                strcmp(cmk_json_str(p, "health_reason", ""), reason) != 0)
                pol_exec(self, "UPDATE policies SET health = ?2, health_reason = NULLIF(?3, '') WHERE id = ?1",
                         it->valuestring, health, reason, NULL, NULL);
        } else if (audit_is_refusal(&err)) {
            /* the vault refused the identity's reads because the audit log cannot be written:
             * that says nothing about the key, so no verdict (no lock) until the log is back */
            cmk_warn("policy.health_no_verdict", "policy=%s reason=\"%s\"", it->valuestring, err.msg);
        } else if (err.code != CMK_EBUSY) {
            sqlite3_stmt *ls;
            pol_exec(self, "UPDATE policies SET health = 'Unhealthy', health_reason = ?2 WHERE id = ?1", it->valuestring,
                     err.msg, NULL, NULL, NULL);
            if (sqlite3_prepare_v2(self->d.db, "SELECT env FROM policy_links WHERE policy = ? AND status = 'Linked' "
                                                  "AND locked_at = 0", -1, &ls, NULL) == SQLITE_OK) {
                sqlite3_bind_text(ls, 1, it->valuestring, -1, SQLITE_STATIC);
                while (sqlite3_step(ls) == SQLITE_ROW)
                    pol_lock_env(self, (const char *)sqlite3_column_text(ls, 0), err.msg);
                sqlite3_finalize(ls);
            }
        }
        cJSON_Delete(p);
    }
    cJSON_Delete(ids);
    cmk_debug("policy.health_checked", "why=%s", why);
    self->checking = 0;
}
