/*
 * envops.c - the core of environment backup, restore, copy and reset (see envops.h): the
 * service and its tables, an environment's current encryption state, an operation's life
 * (recorded in env_ops, audited, resumed after a restart), and the conversations with the
 * workers that carry the data (flow.dump, flow.put into a staging area).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "envops_int.h"
#include "log.h"
#include "migration.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

/* ---- the service -------------------------------------------------------------------------- */

/* envops_svc_new - the env_backups and env_ops tables */
envops_svc *envops_svc_new(const envops_deps *deps, cmk_err *err)
{
    envops_svc *self;
    envops_deps *c;
    if (!deps || !deps->db || !deps->cfg || !deps->loop || !deps->migration || !deps->recurrence) {
        cmk_err_set(err, CMK_EINVAL, "envops needs the controller's database, config, loop, migration and recurrence");
        return NULL;
    }
    if (!(self = calloc(1, sizeof *self))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->c = *deps;
    c = &self->c;
    if (store_exec(c->db,
                   "CREATE TABLE IF NOT EXISTS env_backups (id TEXT PRIMARY KEY, env TEXT NOT NULL, tenant TEXT NOT NULL,"
                   "  label TEXT, created INTEGER NOT NULL, state TEXT NOT NULL, dek_id TEXT NOT NULL,"
                   "  wrap_kind TEXT NOT NULL, wrap_vault TEXT, wrap_key TEXT, wrap_version TEXT, wrap_principal TEXT,"
                   "  wrapped BLOB NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, flows INTEGER NOT NULL);"
                   "CREATE INDEX IF NOT EXISTS env_backups_env ON env_backups(env, created);"
                   "CREATE TABLE IF NOT EXISTS env_ops (id TEXT PRIMARY KEY, kind TEXT NOT NULL, principal TEXT NOT NULL,"
                   "  backup TEXT, source TEXT, target TEXT, status TEXT NOT NULL, started INTEGER NOT NULL,"
                   "  ended INTEGER NOT NULL DEFAULT 0, message TEXT);",
                   err) < 0) {
        free(self);
        return NULL;
    }
    /* the phase of a restore, copy or reset: prepare (staging; a failure changes nothing) or
     * commit (swapping in; finished even after a restart). Added to older files. */
    if (sqlite3_exec(c->db, "ALTER TABLE env_ops ADD COLUMN phase TEXT NOT NULL DEFAULT 'prepare'", NULL, NULL, NULL) !=
            SQLITE_OK &&
        !strstr(sqlite3_errmsg(c->db), "duplicate column")) {
        store_err(c->db, err, "adding env_ops.phase");
        free(self);
        return NULL;
    }
    return self;
}

/* envops_svc_destroy - free */
void envops_svc_destroy(envops_svc **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

/* ---- states ------------------------------------------------------------------------------- */

/* eo_env_view - the environment's row (with the policy view) and its encryption state */
int eo_env_view(envops_svc *self, const char *principal, const char *ref, tenantkey_env_state *state,
                    cJSON **row_out, cmk_err *err)
{
    envops_deps *c = &self->c;
    cJSON *row = NULL;
    int rc = policy_env_status(c->policies, ref, &row, err);
    if (rc < 0)
        return rc;
    rc = tenantkey_env_byok_state(c->tenantkeys, principal, cmk_json_str(row, "id", ""), state, err);
    if (rc < 0) {
        cJSON_Delete(row);
        return rc;
    }
    envops_state_overlay(state, row, cmk_clock_now(c->clock));
    if (row_out)
        *row_out = row;
    else
        cJSON_Delete(row);
    return 0;
}

/* envops_env_state - the state only */
int envops_env_state(envops_svc *self, const char *principal, const char *env, tenantkey_env_state *out,
                     cmk_err *err)
{
    return eo_env_view(self, principal, env, out, NULL, err);
}

/* eo_running_on - 1 if a backup, restore, copy or reset of env is under way */
static int eo_running_on(envops_svc *self, const char *env)
{
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(self->c.db, "SELECT COUNT(*) FROM env_ops WHERE status = 'Running' AND (source = ?1 OR "
                                        "target = ?1)", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n > 0;
}

/* eo_busy - an environment being added to or removed from a policy, whose flows move, or under
 * another of these operations */
int eo_busy(envops_svc *self, const cJSON *row, cmk_err *err)
{
    const char *id = cmk_json_str(row, "id", "");
    if (eo_running_on(self, id))
        return cmk_err_set(err, CMK_EBUSY, "environment %s has a backup, restore, copy or reset under way; try again when "
                                           "it ends", id);
    if (strcmp(cmk_json_str(row, "state", ""), "Disabled") == 0 || migration_is_running(self->c.migration, id))
        return cmk_err_set(err, CMK_ESTATE,
                           "environment %s is being changed (a policy operation or a flow migration is running); try "
                           "again when `cmkctl env cmk-status %s` shows it Ready",
                           id, id);
    return 0;
}

/* eo_is_dedicated - on its own worker */
int eo_is_dedicated(const cJSON *row)
{
    return strcmp(cmk_json_str(row, "infrastructure", "shared"), "dedicated") == 0;
}

/* ---- ending ------------------------------------------------------------------------------- */

/* audit_target - what an entry names: the environment overwritten or backed up */
static const char *audit_target(const eo_job *j)
{
    return j->target[0] ? j->target : j->source;
}

/* eo_refuse - audit a refusal made before anything started; returns rc */
int eo_refuse(envops_svc *self, const char *principal, const char *op, const char *target, int rc, cmk_err *err)
{
    audit_append(self->c.audit, principal, op, target, rc, err ? err->msg : NULL, NULL, NULL);
    cmk_log(CMK_LOG_INFO, target, NULL, "envops.refused", "op=%s error=\"%s\"", op, err ? err->msg : "");
    return rc;
}

/* eo_finish - audit, tell the caller, free */
void eo_finish(eo_job *j, int rc, const cJSON *result, const char *detail)
{
    envops_deps *c = &j->svc->c;
    cmk_err e = CMK_ERR_INIT;
    char note[CMK_ERR_MSG_MAX + 64];
    if (rc < 0)
        cmk_err_set(&e, rc, "%s", detail ? detail : "failed");
    if (j->resumed && detail) {
        snprintf(note, sizeof note, "%s (finished after a controller restart)", detail);
        detail = note;
    }
    audit_append(c->audit, j->principal, j->op, audit_target(j), rc, detail, NULL, NULL);
    if (j->id[0]) {
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(c->clock));
        store_exec_text(c->db, "UPDATE env_ops SET status = ?2, ended = CAST(?3 AS INTEGER), message = ?4 WHERE id = ?1",
                        j->id, rc < 0 ? "Failed" : "Succeeded", now, detail, NULL);
    }
    cmk_log(rc < 0 ? CMK_LOG_WARN : CMK_LOG_INFO, audit_target(j), NULL, "envops.done", "op=%s rc=%d detail=\"%s\"", j->op,
            rc, detail ? detail : "");
    if (j->done)
        j->done(j->arg, rc, result, &e);
    cJSON_Delete(j->flows);
    free(j);
}

/* eo_fail - finish with the fan-out's (or a step's) error, prefixed */
void eo_fail(eo_job *j, int rc, const char *what, const char *why)
{
    char msg[sizeof ((cmk_err *)0)->msg];
    snprintf(msg, sizeof msg, "%s%s", what, why ? why : "");
    eo_finish(j, rc < 0 ? rc : CMK_EIO, NULL, msg);
}

/* eo_job_new - an operation */
eo_job *eo_job_new(envops_svc *self, const char *op, const char *principal, envops_done_fn done, void *arg)
{
    eo_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->svc = self;
    cmk_strlcpy(j->op, op, sizeof j->op);
    cmk_strlcpy(j->principal, principal ? principal : "", sizeof j->principal);
    j->done = done;
    j->arg = arg;
    j->flows = cJSON_CreateArray();
    return j;
}

/* eo_job_start - record the operation (env_ops) so that a restarted controller resumes it */
int eo_job_start(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    sqlite3_stmt *st;
    cmk_random_id("eop", j->id, sizeof j->id);
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO env_ops(id, kind, principal, backup, source, target, status, started) "
                           "VALUES(?, ?, ?, ?, ?, ?, 'Running', ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        cmk_log(CMK_LOG_WARN, audit_target(j), NULL, "envops.not_recorded", "op=%s", j->op);
        j->id[0] = '\0';
        return CMK_EIO;
    }
    sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->principal, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->backup, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, j->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, j->target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, cmk_clock_now(c->clock));
    if (sqlite3_step(st) != SQLITE_DONE)
        j->id[0] = '\0';
    sqlite3_finalize(st);
    cmk_log(CMK_LOG_INFO, audit_target(j), NULL, "envops.start", "op=%s id=%s source=%s backup=%s", j->op, j->id,
            j->source, j->backup);
    return j->id[0] ? 0 : CMK_EIO;
}

/* ---- fan-outs: dump and clear ------------------------------------------------------------- */

/* eo_leg_done - one answer of a fan-out in; the last one moves on */
void eo_leg_done(eo_job *j)
{
    if (--j->outstanding > 0)
        return;
    if (j->failed && j->fail_then)
        j->fail_then(j);
    else if (j->failed)
        eo_fail(j, j->ferr.code, "a worker did not do its part: ", j->ferr.msg);
    else
        j->then(j);
}

/* eo_leg_failed - record a fan-out failure */
int eo_leg_failed(eo_leg *l, const cmk_msg *reply, const cmk_err *err)
{
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0)
        return 0;
    if (!l->j->failed) {
        l->j->failed = 1;
        cmk_err_set(&l->j->ferr, err && err->code ? err->code : CMK_EUNAVAIL, "%s (%s partition of %s)",
                    err && err->msg[0] ? err->msg : "no answer", l->home, l->env);
    }
    return 1;
}

/* eo_send_leg - one forward of a fan-out to the worker of env's home partition */
void eo_send_leg(eo_job *j, const char *env, const char *home, const char *type, cJSON *body, broker_reply_fn cb)
{
    envops_deps *c = &j->svc->c;
    char worker[96];
    cmk_err err = CMK_ERR_INIT;
    eo_leg *l = calloc(1, sizeof *l);

    j->outstanding++;
    if (!l) {
        j->failed = 1;
        cmk_err_set(&j->ferr, CMK_ENOMEM, "out of memory");
        cJSON_Delete(body);
        eo_leg_done(j);
        return;
    }
    l->j = j;
    cmk_strlcpy(l->home, home, sizeof l->home);
    cmk_strlcpy(l->env, env, sizeof l->env);
    if (strcmp(home, "dedicated") == 0)
        cmk_worker_name(env, worker, sizeof worker);
    else
        cmk_worker_name(NULL, worker, sizeof worker);
    cJSON_AddStringToObject(body, "env", env);
    cJSON_AddStringToObject(body, "infrastructure", home);
    if (broker_forward(c->broker, worker, type, body, c->cfg->request_timeout, cb, l, &err) < 0)
        cb(l, NULL, &err);
    cJSON_Delete(body);
}

/* on_dump - a worker's flows of the environment, each kept with its home */
static void on_dump(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    eo_leg *l = arg;
    eo_job *j = l->j;
    const cJSON *it;
    if (!eo_leg_failed(l, reply, err)) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(reply->body, "items")) {
            static const char *const keep[] = { "id", "name", "kind", "enabled", "in_solution", "created_ms",
                                                "trigger_token", "definition" };
            cJSON *f = cJSON_CreateObject();
            for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
                const cJSON *v = cJSON_GetObjectItem(it, keep[i]);
                if (v)
                    cJSON_AddItemToObject(f, keep[i], cJSON_Duplicate(v, 1));
            }
            cJSON_AddStringToObject(f, "home", l->home);
            cJSON_AddItemToArray(j->flows, f);
        }
    }
    free(l);
    eo_leg_done(j);
}

/* eo_gather - every flow of env from the worker(s) holding them, then `then` */
void eo_gather(eo_job *j, const char *env, int dedicated, eo_step_fn then)
{
    j->then = then;
    j->failed = 0;
    j->outstanding = 1; /* held until every eo_leg is sent */
    if (dedicated)
        eo_send_leg(j, env, "dedicated", "flow.dump", cJSON_CreateObject(), on_dump);
    eo_send_leg(j, env, "shared", "flow.dump", cJSON_CreateObject(), on_dump);
    eo_leg_done(j);
}

/* ---- putting flows back ------------------------------------------------------------------- */

void eo_put_next(eo_job *j);

/* on_put - one flow staged: the next (scheduled and placed once swapped in: eo_commit) */
static void on_put(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    eo_leg *l = arg;
    eo_job *j = l->j;
    cJSON *f = cJSON_GetArrayItem(j->flows, j->put_index);
    char msg[400];

    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        snprintf(msg, sizeof msg, "flow %d of %d (%.40s) was not staged in the %s partition: ", j->put_index + 1,
                 cJSON_GetArraySize(j->flows), cmk_json_str(f, "id", "?"), l->home);
        free(l);
        eo_abort(j, err && err->code ? err->code : CMK_EUNAVAIL, msg, err && err->msg[0] ? err->msg : "no answer");
        return;
    }
    free(l);
    j->put_index++;
    eo_put_next(j);
}

/* eo_put_next - the next flow into the target's staging area (a new id into another
 * environment), or `then` */
void eo_put_next(eo_job *j)
{
    cJSON *f = cJSON_GetArrayItem(j->flows, j->put_index), *copy, *body;
    const char *home;
    eo_leg *l;

    if (!f) {
        j->then(j);
        return;
    }
    if (eo_gate(j, "put", eo_put_next))
        return;
    /* a flow kept on the Microsoft-managed key (the shared side of a split environment) stays
     * there; everything else goes where the target's flows live */
    if (!j->tgt_dedicated)
        home = "shared";
    else if (j->src_dedicated && strcmp(cmk_json_str(f, "home", "shared"), "shared") == 0)
        home = "shared";
    else
        home = "dedicated";
    copy = cJSON_Duplicate(f, 1);
    cJSON_DeleteItemFromObject(copy, "home");
    if (j->new_ids) {
        char id[64];
        cmk_random_id("flow", id, sizeof id);
        id[17] = '\0';
        cJSON_ReplaceItemInObject(copy, "id", cJSON_CreateString(id));
        cJSON_DeleteItemFromObject(copy, "trigger_token"); /* a new flow gets its own trigger URL */
    }
    body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "flow", copy);
    l = calloc(1, sizeof *l);
    if (!l) {
        cJSON_Delete(body);
        eo_abort(j, CMK_ENOMEM, "out of memory", NULL);
        return;
    }
    cJSON_AddStringToObject(body, "stage", j->id);
    l->j = j;
    cmk_strlcpy(l->home, home, sizeof l->home);
    cmk_strlcpy(l->env, j->target, sizeof l->env);
    {
        envops_deps *c = &j->svc->c;
        char worker[96];
        cmk_err err = CMK_ERR_INIT;
        if (strcmp(home, "dedicated") == 0)
            cmk_worker_name(j->target, worker, sizeof worker);
        else
            cmk_worker_name(NULL, worker, sizeof worker);
        cJSON_AddStringToObject(body, "env", j->target);
        cJSON_AddStringToObject(body, "infrastructure", home);
        if (broker_forward(c->broker, worker, "flow.put", body, c->cfg->request_timeout, on_put, l, &err) < 0)
            on_put(l, NULL, &err);
    }
    cJSON_Delete(body);
}

/* ---- after a restart ---------------------------------------------------------------------- */

/* envops_resume - operations a controller crash interrupted: a restore, copy or reset that had
 * reached its commit finishes swapping in (eo_roll_forward); one still staging starts again
 * (its new staging area replaces the old one, the target untouched meanwhile); a backup is
 * marked Failed */
void envops_resume(envops_svc *self)
{
    envops_deps *c = &self->c;
    sqlite3_stmt *st;
    cJSON *running = cJSON_CreateArray(), *it;
    char now[32];

    if (sqlite3_prepare_v2(c->db, "SELECT id, kind, principal, backup, source, target, phase FROM env_ops WHERE status = 'Running'",
                           -1, &st, NULL) == SQLITE_OK) {
        static const char *const names[] = { "id", "kind", "principal", "backup", "source", "target", "phase" };
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            for (int i = 0; i < 7; i++)
                cJSON_AddStringToObject(o, names[i], sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
            cJSON_AddItemToArray(running, o);
        }
        sqlite3_finalize(st);
    }
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(c->clock));
    cJSON_ArrayForEach(it, running) {
        const char *kind = cmk_json_str(it, "kind", ""), *who = cmk_json_str(it, "principal", "");
        cmk_err err = CMK_ERR_INIT;
        int rc;
        if (strcmp(cmk_json_str(it, "phase", ""), "commit") == 0 && strcmp(kind, "env.backup") != 0) {
            /* past the point of no return: finish swapping in, under the same row */
            eo_roll_forward(self, it);
            continue;
        }
        /* no longer under way: the operation started again below has its own row */
        store_exec_text(c->db, "UPDATE env_ops SET status = 'Resumed', ended = CAST(?2 AS INTEGER) WHERE id = ?1",
                        cmk_json_str(it, "id", ""), now, NULL, NULL, NULL);
        if (strcmp(kind, "env.restore") == 0)
            rc = envops_restore(self, who, cmk_json_str(it, "backup", ""), cmk_json_str(it, "target", ""), NULL, NULL, &err);
        else if (strcmp(kind, "env.copy") == 0)
            rc = envops_copy(self, who, cmk_json_str(it, "source", ""), cmk_json_str(it, "target", ""), NULL, NULL, &err);
        else if (strcmp(kind, "env.reset") == 0)
            rc = envops_reset(self, who, cmk_json_str(it, "target", ""), NULL, NULL, &err);
        else
            rc = cmk_err_set(&err, CMK_EIO, "the controller stopped during the backup; take it again");
        cmk_log(rc < 0 ? CMK_LOG_WARN : CMK_LOG_INFO, cmk_json_str(it, "target", ""), NULL, "envops.resume",
                "op=%s id=%s rc=%d error=\"%s\"", kind, cmk_json_str(it, "id", ""), rc, rc < 0 ? err.msg : "");
        store_exec_text(c->db, "UPDATE env_ops SET status = ?2, message = ?3 WHERE id = ?1", cmk_json_str(it, "id", ""),
                        rc < 0 ? "Failed" : "Resumed",
                        rc < 0 ? err.msg : "interrupted by a controller restart; started again", NULL, NULL);
    }
    cJSON_Delete(running);
}
