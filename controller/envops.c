/*
 * envops.c - backup, restore, copy and reset of an environment's database under
 * customer-managed keys (see envops.h): the current encryption state, the rules (in
 * tenantkey_rules.c), the backup files and the env_backups table, and the conversations with
 * the workers (flow.dump, env.clear, flow.put) that carry the data.
 */
#include "envops.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "log.h"
#include "migration.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

struct envops_svc {
    ctl *c; /* the controller: db, directory, vault, policies, tenant keys, broker, audit */
};

typedef struct job job;
typedef void (*step_fn)(job *j);

/* An operation in flight (one per request). */
struct job {
    envops_svc *svc;                 /* the service */
    char op[16];                     /* audit operation: env.backup, env.restore, ... */
    char id[64];                     /* its row in env_ops */
    char principal[256];             /* who asked */
    char source[64];                 /* environment read from (backup, copy), or backed up */
    char target[64];                 /* environment overwritten (restore, copy, reset) */
    char backup[64];                 /* backup id (backup, restore) */
    char label[128];                 /* backup label */
    tenantkey_env_state state;       /* backup: the state recorded; others: the target's */
    int src_dedicated;               /* the source is on dedicated infrastructure */
    int tgt_dedicated;               /* the target is */
    int tgt_linked;                  /* reset: the target is in a policy */
    int new_ids;                     /* flows put into another environment get new ids */
    int connections;                 /* reset: clear connections too */
    cJSON *flows;                    /* the flows carried: [{id, name, ..., home, definition}] */
    int outstanding;                 /* forwards of the current fan-out not answered yet */
    int failed;                      /* a forward of the fan-out failed */
    cmk_err ferr;                    /* its error */
    step_fn then;                    /* what runs when the fan-out is complete */
    int put_index;                   /* next flow to put */
    int flows_deleted, runs_deleted; /* what env.clear reported */
    envops_done_fn done;             /* the caller's completion */
    void *arg;                       /* its argument */
};

/* One forward of a fan-out. */
typedef struct {
    job *j;        /* the operation */
    char home[12]; /* "shared" or "dedicated": the partition asked */
    char env[64];  /* the environment asked about */
} leg;

/* ---- the service -------------------------------------------------------------------------- */

/* envops_svc_new - the env_backups table */
envops_svc *envops_svc_new(void *ctl_p, cmk_err *err)
{
    ctl *c = ctl_p;
    envops_svc *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->c = c;
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

/* env_view - the environment's row (with the policy view) and its encryption state */
static int env_view(envops_svc *self, const char *principal, const char *ref, tenantkey_env_state *state,
                    cJSON **row_out, cmk_err *err)
{
    ctl *c = self->c;
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
    return env_view(self, principal, env, out, NULL, err);
}

/* running_on - 1 if a backup, restore, copy or reset of env is under way */
static int running_on(envops_svc *self, const char *env)
{
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_prepare_v2(self->c->db, "SELECT COUNT(*) FROM env_ops WHERE status = 'Running' AND (source = ?1 OR "
                                        "target = ?1)", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n > 0;
}

/* busy - an environment being added to or removed from a policy, whose flows move, or under
 * another of these operations */
static int busy(envops_svc *self, const cJSON *row, cmk_err *err)
{
    const char *id = cmk_json_str(row, "id", "");
    if (running_on(self, id))
        return cmk_err_set(err, CMK_EBUSY, "environment %s has a backup, restore, copy or reset under way; try again when "
                                           "it ends", id);
    if (strcmp(cmk_json_str(row, "state", ""), "Disabled") == 0 || migration_running(self->c, id))
        return cmk_err_set(err, CMK_ESTATE,
                           "environment %s is being changed (a policy operation or a flow migration is running); try "
                           "again when `cmkctl env cmk-status %s` shows it Ready",
                           id, id);
    return 0;
}

/* is_dedicated - on its own worker */
static int is_dedicated(const cJSON *row)
{
    return strcmp(cmk_json_str(row, "infrastructure", "shared"), "dedicated") == 0;
}

/* ---- ending ------------------------------------------------------------------------------- */

/* audit_target - what an entry names: the environment overwritten or backed up */
static const char *audit_target(const job *j)
{
    return j->target[0] ? j->target : j->source;
}

/* refuse - audit a refusal made before anything started; returns rc */
static int refuse(envops_svc *self, const char *principal, const char *op, const char *target, int rc, cmk_err *err)
{
    audit_append(self->c->audit, principal, op, target, rc, err ? err->msg : NULL, NULL, NULL);
    cmk_log(CMK_LOG_INFO, target, NULL, "envops.refused", "op=%s error=\"%s\"", op, err ? err->msg : "");
    return rc;
}

/* finish - audit, tell the caller, free */
static void finish(job *j, int rc, const cJSON *result, const char *detail)
{
    ctl *c = j->svc->c;
    cmk_err e = CMK_ERR_INIT;
    if (rc < 0)
        cmk_err_set(&e, rc, "%s", detail ? detail : "failed");
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

/* fail_with - finish with the fan-out's (or a step's) error, prefixed */
static void fail_with(job *j, int rc, const char *what, const char *why)
{
    char msg[sizeof ((cmk_err *)0)->msg];
    snprintf(msg, sizeof msg, "%s%s", what, why ? why : "");
    finish(j, rc < 0 ? rc : CMK_EIO, NULL, msg);
}

/* job_new - an operation */
static job *job_new(envops_svc *self, const char *op, const char *principal, envops_done_fn done, void *arg)
{
    job *j = calloc(1, sizeof *j);
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

/* job_start - record the operation (env_ops) so that a restarted controller resumes it */
static void job_start(job *j)
{
    ctl *c = j->svc->c;
    sqlite3_stmt *st;
    cmk_random_id("eop", j->id, sizeof j->id);
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO env_ops(id, kind, principal, backup, source, target, status, started) "
                           "VALUES(?, ?, ?, ?, ?, ?, 'Running', ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        cmk_log(CMK_LOG_WARN, audit_target(j), NULL, "envops.not_recorded", "op=%s", j->op);
        j->id[0] = '\0';
        return;
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
}

/* ---- fan-outs: dump and clear ------------------------------------------------------------- */

/* leg_done - one answer of a fan-out in; the last one moves on */
static void leg_done(job *j)
{
    if (--j->outstanding > 0)
        return;
    if (j->failed)
        fail_with(j, j->ferr.code, "a worker did not do its part: ", j->ferr.msg);
    else
        j->then(j);
}

/* leg_failed - record a fan-out failure */
static int leg_failed(leg *l, const cmk_msg *reply, const cmk_err *err)
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

/* send_leg - one forward of a fan-out to the worker of env's home partition */
static void send_leg(job *j, const char *env, const char *home, const char *type, cJSON *body, broker_reply_fn cb)
{
    ctl *c = j->svc->c;
    char worker[96];
    cmk_err err = CMK_ERR_INIT;
    leg *l = calloc(1, sizeof *l);

    j->outstanding++;
    if (!l) {
        j->failed = 1;
        cmk_err_set(&j->ferr, CMK_ENOMEM, "out of memory");
        cJSON_Delete(body);
        leg_done(j);
        return;
    }
    l->j = j;
    cmk_strlcpy(l->home, home, sizeof l->home);
    cmk_strlcpy(l->env, env, sizeof l->env);
    if (strcmp(home, "dedicated") == 0)
        snprintf(worker, sizeof worker, "worker-%s", env);
    else
        snprintf(worker, sizeof worker, "worker-shared");
    cJSON_AddStringToObject(body, "env", env);
    cJSON_AddStringToObject(body, "infrastructure", home);
    if (broker_forward(c->broker, worker, type, body, c->cfg->request_timeout, cb, l, &err) < 0)
        cb(l, NULL, &err);
    cJSON_Delete(body);
}

/* on_dump - a worker's flows of the environment, each kept with its home */
static void on_dump(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    leg *l = arg;
    job *j = l->j;
    const cJSON *it;
    if (!leg_failed(l, reply, err)) {
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
    leg_done(j);
}

/* gather - every flow of env from the worker(s) holding them, then `then` */
static void gather(job *j, const char *env, int dedicated, step_fn then)
{
    j->then = then;
    j->outstanding = 1; /* held until every leg is sent */
    if (dedicated)
        send_leg(j, env, "dedicated", "flow.dump", cJSON_CreateObject(), on_dump);
    send_leg(j, env, "shared", "flow.dump", cJSON_CreateObject(), on_dump);
    leg_done(j);
}

/* on_cleared - a worker deleted the environment's flows and runs: unschedule them */
static void on_cleared(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    leg *l = arg;
    job *j = l->j;
    const cJSON *it;
    if (!leg_failed(l, reply, err)) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(reply->body, "flows")) {
            if (cJSON_IsString(it))
                recurrence_set(j->svc->c, l->env, it->valuestring, 0, 0);
        }
        j->flows_deleted += (int)cmk_json_num(reply->body, "flows_deleted", 0);
        j->runs_deleted += (int)cmk_json_num(reply->body, "runs_deleted", 0);
    }
    free(l);
    leg_done(j);
}

/* clear - delete every flow and run of env in the worker(s) holding them, then `then` */
static void clear(job *j, const char *env, int dedicated, step_fn then)
{
    ctl *c = j->svc->c;
    store_exec_text(c->db, "DELETE FROM flow_homes WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    store_exec_text(c->db, "DELETE FROM migration_held WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    j->then = then;
    j->outstanding = 1;
    for (int i = 0; i < 2; i++) {
        cJSON *b;
        if (i == 0 && !dedicated)
            continue;
        b = cJSON_CreateObject();
        cJSON_AddBoolToObject(b, "connections", j->connections);
        send_leg(j, env, i == 0 ? "dedicated" : "shared", "env.clear", b, on_cleared);
    }
    leg_done(j);
}

/* ---- putting flows back ------------------------------------------------------------------- */

static void put_next(job *j);

/* on_put - one flow stored: schedule it if it recurs, remember where it lives, next */
static void on_put(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    leg *l = arg;
    job *j = l->j;
    ctl *c = j->svc->c;
    cJSON *f = cJSON_GetArrayItem(j->flows, j->put_index);
    const char *id = reply ? cmk_json_str(reply->body, "id", "") : "";
    char msg[160];
    int64_t period;

    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        snprintf(msg, sizeof msg, "stopped after %d of %d flows were written into %s (run it again): ", j->put_index,
                 cJSON_GetArraySize(j->flows), j->target);
        fail_with(j, err && err->code ? err->code : CMK_EUNAVAIL, msg, err && err->msg[0] ? err->msg : "no answer");
        free(l);
        return;
    }
    period = recurrence_period(cJSON_GetObjectItem(f, "definition"));
    if (period > 0)
        recurrence_set(c, j->target, id, period, cmk_json_bool(f, "enabled", 1));
    if (strcmp(l->home, "shared") == 0 && j->tgt_dedicated)
        store_exec_text(c->db, "INSERT OR REPLACE INTO flow_homes(env, flow, home) VALUES(?1, ?2, 'shared')", j->target,
                        id, NULL, NULL, NULL);
    free(l);
    j->put_index++;
    put_next(j);
}

/* put_next - the next flow into the target (a new id into another environment), or `then` */
static void put_next(job *j)
{
    cJSON *f = cJSON_GetArrayItem(j->flows, j->put_index), *copy, *body;
    const char *home;
    leg *l;

    if (!f) {
        j->then(j);
        return;
    }
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
        fail_with(j, CMK_ENOMEM, "out of memory", NULL);
        return;
    }
    l->j = j;
    cmk_strlcpy(l->home, home, sizeof l->home);
    cmk_strlcpy(l->env, j->target, sizeof l->env);
    {
        ctl *c = j->svc->c;
        char worker[96];
        cmk_err err = CMK_ERR_INIT;
        if (strcmp(home, "dedicated") == 0)
            snprintf(worker, sizeof worker, "worker-%s", j->target);
        else
            snprintf(worker, sizeof worker, "worker-shared");
        cJSON_AddStringToObject(body, "env", j->target);
        cJSON_AddStringToObject(body, "infrastructure", home);
        if (broker_forward(c->broker, worker, "flow.put", body, c->cfg->request_timeout, on_put, l, &err) < 0)
            on_put(l, NULL, &err);
    }
    cJSON_Delete(body);
}

/* ---- keys --------------------------------------------------------------------------------- */

/* load_mmk - the Microsoft-managed key the keyring keeps in <run>/keys (wipe it after use) */
static int load_mmk(ctl *c, uint8_t mmk[ENVOPS_KEK_LEN], cmk_err *err)
{
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    int rc;
    snprintf(path, sizeof path, "%s/keys/microsoft-managed.key", c->cfg->run_dir);
    if ((rc = cmk_file_read(path, &text, &len, err)) < 0)
        return rc;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    rc = cmk_hex_decode(text, mmk, ENVOPS_KEK_LEN, err);
    cmk_wipe_str(text, len);
    return rc;
}

/* A wrapped backup key and what wrapped it. */
typedef struct {
    char kind[8];                       /* "mmk" or "vault" */
    char vault[VAULT_NAME_MAX];         /* vault */
    char key[VAULT_KEY_NAME_MAX];       /* key name */
    char version[VAULT_VERSION_MAX];    /* the version that wrapped it */
    char principal[256];                /* the policy's identity */
    uint8_t *wrapped;                   /* the wrap (malloc'd) */
    size_t wrapped_len;                 /* its length */
} bwrap;

/* wrap_key - wrap a backup's data key like the environment's data is wrapped now */
static int wrap_key(ctl *c, const tenantkey_env_state *s, const uint8_t *key, bwrap *w, cmk_err *err)
{
    memset(w, 0, sizeof *w);
    if (s->mode == TENANTKEY_ENV_CUSTOMER && s->policy[0]) {
        cJSON *p = NULL;
        char kid[VAULT_KID_MAX], v[VAULT_NAME_MAX], n[VAULT_KEY_NAME_MAX];
        int rc = policy_get(c->policies, s->policy, &p, err);
        if (rc < 0)
            return rc;
        cmk_strlcpy(w->kind, "vault", sizeof w->kind);
        cmk_strlcpy(w->vault, cmk_json_str(p, "vault", ""), sizeof w->vault);
        cmk_strlcpy(w->key, cmk_json_str(p, "key", ""), sizeof w->key);
        cmk_strlcpy(w->principal, cmk_json_str(p, "identity", ""), sizeof w->principal);
        rc = vault_key_wrap(c->vault, w->principal, w->vault, w->key,
                            cmk_json_str(p, "version", NULL) && *cmk_json_str(p, "version", "") ? cmk_json_str(p, "version", "")
                                                                                               : NULL,
                            VAULT_ALG_RSA_OAEP_256, key, CMK_DEK_KEY_LEN, &w->wrapped, &w->wrapped_len, kid, err);
        cJSON_Delete(p);
        if (rc == 0)
            rc = vault_kid_parse(kid, v, n, w->version, err);
        if (rc < 0)
            return cmk_err_prefix(err, "the backup's data key could not be wrapped by the customer-managed key of policy "
                                       "%s: ", s->policy);
        return 0;
    } else {
        uint8_t mmk[ENVOPS_KEK_LEN];
        int rc = load_mmk(c, mmk, err);
        cmk_strlcpy(w->kind, "mmk", sizeof w->kind);
        if (rc == 0 && !(w->wrapped = malloc(ENVOPS_WRAP_MAX)))
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        if (rc == 0)
            rc = envops_keywrap(mmk, 1, key, CMK_DEK_KEY_LEN, w->wrapped, &w->wrapped_len, err);
        OPENSSL_cleanse(mmk, sizeof mmk);
        return rc;
    }
}

/* unwrap_key - the backup's data key back (key gets 32 bytes; wipe it) */
static int unwrap_key(ctl *c, const bwrap *w, uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err)
{
    if (strcmp(w->kind, "vault") == 0) {
        uint8_t *plain = NULL;
        size_t plen = 0;
        int rc = vault_key_unwrap(c->vault, w->principal, w->vault, w->key, w->version[0] ? w->version : NULL,
                                  VAULT_ALG_RSA_OAEP_256, w->wrapped, w->wrapped_len, &plain, &plen, NULL, err);
        if (rc == 0 && plen != CMK_DEK_KEY_LEN)
            rc = cmk_err_set(err, CMK_ECRYPTO, "the unwrapped key has %zu bytes, not %d", plen, CMK_DEK_KEY_LEN);
        if (rc == 0)
            memcpy(key, plain, CMK_DEK_KEY_LEN);
        vault_secret_free(&plain, plen);
        if (rc < 0)
            return cmk_err_prefix(err, "the backup's data key can't be unwrapped: the customer-managed key %s/%s must be "
                                       "reachable through %s: ",
                                  w->vault, w->key, w->principal);
        return 0;
    } else {
        uint8_t mmk[ENVOPS_KEK_LEN], out[ENVOPS_WRAP_MAX];
        size_t n = 0;
        int rc = load_mmk(c, mmk, err);
        if (rc == 0)
            rc = envops_keywrap(mmk, 0, w->wrapped, w->wrapped_len, out, &n, err);
        OPENSSL_cleanse(mmk, sizeof mmk);
        if (rc == 0 && n != CMK_DEK_KEY_LEN)
            rc = cmk_err_set(err, CMK_ECRYPTO, "the unwrapped key has %zu bytes, not %d", n, CMK_DEK_KEY_LEN);
        if (rc == 0)
            memcpy(key, out, CMK_DEK_KEY_LEN);
        OPENSSL_cleanse(out, sizeof out);
        return rc;
    }
}

/* ---- backup ------------------------------------------------------------------------------- */

/* backup_write - seal what was gathered, wrap its key, write the file, record the row */
static void backup_write(job *j)
{
    ctl *c = j->svc->c;
    int64_t now = cmk_clock_now(c->clock);
    cJSON *payload = cJSON_CreateObject(), *result, *state;
    char *text, dir[PATH_MAX], path[PATH_MAX], hex[33], *state_text, ts[40], detail[400];
    uint8_t *file = NULL;
    size_t flen = 0;
    cmk_dek *dek = NULL;
    bwrap w;
    cmk_err err = CMK_ERR_INIT;
    sqlite3_stmt *st;
    int rc, n = cJSON_GetArraySize(j->flows);

    memset(&w, 0, sizeof w);
    cJSON_AddNumberToObject(payload, "format", 1);
    cJSON_AddStringToObject(payload, "backup", j->backup);
    cJSON_AddStringToObject(payload, "env", j->source);
    cJSON_AddNumberToObject(payload, "created_ms", (double)now);
    cJSON_AddItemToObject(payload, "flows", j->flows);
    j->flows = NULL;
    text = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!text) {
        fail_with(j, CMK_ENOMEM, "out of memory", NULL);
        return;
    }
    rc = (dek = cmk_dek_generate(&err)) ? 0 : err.code;
    if (rc == 0)
        rc = envops_file_seal(dek, j->source, j->backup, text, strlen(text), &file, &flen, &err);
    cmk_wipe_str(text, strlen(text));
    if (rc == 0)
        rc = wrap_key(c, &j->state, cmk_dek_key(dek), &w, &err);
    if (dek)
        cmk_dek_id_hex(dek, hex, sizeof hex);
    cmk_dek_destroy(&dek);
    snprintf(dir, sizeof dir, "%s/backups/%s", c->cfg->run_dir, j->source);
    snprintf(path, sizeof path, "%s/%s.bak", dir, j->backup);
    if (rc == 0)
        rc = cmk_mkdirs(dir, 0700, &err);
    if (rc == 0)
        rc = cmk_file_write_atomic(path, file, flen, 0600, &err);
    free(file);
    if (rc < 0) {
        free(w.wrapped);
        fail_with(j, rc, "the backup was not written: ", err.msg);
        return;
    }
    state = envops_state_to_json(&j->state);
    state_text = cJSON_PrintUnformatted(state);
    cJSON_Delete(state);
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO env_backups(id, env, tenant, label, created, state, dek_id, wrap_kind, wrap_vault, "
                           "wrap_key, wrap_version, wrap_principal, wrapped, path, size, flows) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        rc = store_err(c->db, &err, "recording the backup");
    else {
        const char *txt[] = { j->backup, j->source, j->state.tenant, j->label, NULL, state_text, hex, w.kind,
                              w.vault, w.key, w.version, w.principal };
        for (int i = 0; i < 12; i++)
            if (i != 4)
                sqlite3_bind_text(st, i + 1, txt[i], -1, SQLITE_STATIC);
        if (!j->label[0])
            sqlite3_bind_null(st, 4);
        if (strcmp(w.kind, "vault") != 0)
            for (int i = 9; i <= 12; i++)
                sqlite3_bind_null(st, i);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_blob(st, 13, w.wrapped, (int)w.wrapped_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 15, (int64_t)flen);
        sqlite3_bind_int(st, 16, n);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(c->db, &err, "recording the backup");
        sqlite3_finalize(st);
    }
    free(state_text);
    free(w.wrapped);
    if (rc < 0) {
        unlink(path);
        fail_with(j, rc, "the backup was not recorded: ", err.msg);
        return;
    }
    result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "id", j->backup);
    cJSON_AddStringToObject(result, "env", j->source);
    if (j->label[0])
        cJSON_AddStringToObject(result, "label", j->label);
    cJSON_AddStringToObject(result, "created", cmk_time_format(now, ts, sizeof ts));
    cJSON_AddStringToObject(result, "encryption_at_backup", tenantkey_env_mode_name(j->state.mode));
    if (j->state.policy[0])
        cJSON_AddStringToObject(result, "policy_at_backup", j->state.policy);
    cJSON_AddNumberToObject(result, "flows", n);
    cJSON_AddNumberToObject(result, "size", (double)flen);
    cJSON_AddStringToObject(result, "path", path);
    if (strcmp(w.kind, "vault") == 0)
        snprintf(detail, sizeof detail, "backup %s: %d flows sealed, data key wrapped by %s/%s/%s (policy %s)", j->backup,
                 n, w.vault, w.key, w.version, j->state.policy);
    else
        snprintf(detail, sizeof detail, "backup %s: %d flows sealed, data key wrapped by the Microsoft-managed key",
                 j->backup, n);
    cJSON_AddStringToObject(result, "wrapped_by", strcmp(w.kind, "vault") == 0 ? "customer-managed key"
                                                                               : "Microsoft-managed key");
    finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* envops_backup - refuse a locked or busy environment, else gather and write */
int envops_backup(envops_svc *self, const char *principal, const char *env, const char *label,
                  envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state s;
    cJSON *row = NULL;
    job *j;
    int rc = env_view(self, principal, env, &s, &row, err);
    if (rc < 0)
        return refuse(self, principal, "env.backup", env, rc, err);
    if (s.mode == TENANTKEY_ENV_LOCKED)
        rc = cmk_err_set(err, CMK_ESTATE,
                         "'%s' is locked: its key is unreachable, so it can't be backed up; bring the key back and "
                         "re-enable the environment first",
                         s.name);
    else if (label && strlen(label) >= sizeof j->label)
        rc = cmk_err_set(err, CMK_EINVAL, "a backup label has at most %zu characters", sizeof j->label - 1);
    else
        rc = busy(self, row, err);
    if (rc < 0) {
        cJSON_Delete(row);
        return refuse(self, principal, "env.backup", s.env, rc, err);
    }
    if (!(j = job_new(self, "env.backup", principal, done, arg))) {
        cJSON_Delete(row);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->source, s.env, sizeof j->source);
    cmk_strlcpy(j->label, label ? label : "", sizeof j->label);
    cmk_random_id("bak", j->backup, sizeof j->backup);
    j->state = s;
    j->src_dedicated = is_dedicated(row);
    cJSON_Delete(row);
    job_start(j);
    gather(j, j->source, j->src_dedicated, backup_write);
    return 0;
}

/* ---- restore and copy --------------------------------------------------------------------- */

/* put_done - every flow is in the target */
static void put_done(job *j)
{
    cJSON *result = cJSON_CreateObject();
    char detail[400];
    int n = cJSON_GetArraySize(j->flows);
    if (strcmp(j->op, "env.restore") == 0) {
        cJSON_AddStringToObject(result, "backup", j->backup);
        snprintf(detail, sizeof detail, "backup %s of %s restored into %s: %d flows (%d flows and %d runs replaced)%s",
                 j->backup, j->source, j->target, n, j->flows_deleted, j->runs_deleted,
                 j->new_ids ? ", with new flow ids" : "");
    } else
        snprintf(detail, sizeof detail, "%s copied over %s: %d flows with new ids (%d flows and %d runs replaced)",
                 j->source, j->target, n, j->flows_deleted, j->runs_deleted);
    cJSON_AddStringToObject(result, "source", j->source);
    cJSON_AddStringToObject(result, "env", j->target);
    cJSON_AddNumberToObject(result, "flows", n);
    cJSON_AddNumberToObject(result, "flows_replaced", j->flows_deleted);
    cJSON_AddNumberToObject(result, "runs_deleted", j->runs_deleted);
    cJSON_AddBoolToObject(result, "new_ids", j->new_ids);
    finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* start_put - the target is clear: put the flows */
static void start_put(job *j)
{
    j->then = put_done;
    j->put_index = 0;
    put_next(j);
}

/* clear_target - the flows are in hand: clear the target */
static void clear_target(job *j)
{
    clear(j, j->target, j->tgt_dedicated, start_put);
}

/* load_backup - a row of env_backups: its state, wrap and path */
static int load_backup(envops_svc *self, const char *id, char env[64], tenantkey_env_state *at, bwrap *w,
                       char path[PATH_MAX], char dek_hex[33], cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    memset(w, 0, sizeof *w);
    if (sqlite3_prepare_v2(self->c->db,
                           "SELECT env, state, wrap_kind, wrap_vault, wrap_key, wrap_version, wrap_principal, wrapped, "
                           "path, dek_id FROM env_backups WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return store_err(self->c->db, err, "reading a backup");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ENOENT, "no backup '%s'; `cmkctl env backups ENV` lists them", id);
    }
#define COL(i) (sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
    cmk_strlcpy(env, COL(0), 64);
    {
        cJSON *sj = cJSON_Parse(COL(1));
        rc = envops_state_from_json(sj, at, err);
        cJSON_Delete(sj);
    }
    cmk_strlcpy(w->kind, COL(2), sizeof w->kind);
    cmk_strlcpy(w->vault, COL(3), sizeof w->vault);
    cmk_strlcpy(w->key, COL(4), sizeof w->key);
    cmk_strlcpy(w->version, COL(5), sizeof w->version);
    cmk_strlcpy(w->principal, COL(6), sizeof w->principal);
    w->wrapped_len = (size_t)sqlite3_column_bytes(st, 7);
    if (rc == 0 && (w->wrapped = malloc(w->wrapped_len ? w->wrapped_len : 1)))
        memcpy(w->wrapped, sqlite3_column_blob(st, 7), w->wrapped_len);
    else if (rc == 0)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cmk_strlcpy(path, COL(8), PATH_MAX);
    cmk_strlcpy(dek_hex, COL(9), 33);
#undef COL
    sqlite3_finalize(st);
    return rc;
}

/* open_backup - unwrap the data key, read and open the file: its flows */
static int open_backup(envops_svc *self, const char *id, const char *env, const bwrap *w, const char *path,
                       const char *dek_hex, cJSON **flows, cmk_err *err)
{
    uint8_t key[CMK_DEK_KEY_LEN], dek_id[CMK_DEK_ID_LEN], file_id[CMK_DEK_ID_LEN];
    char *data = NULL, *plain = NULL;
    size_t len = 0, plen = 0;
    cmk_dek *dek = NULL;
    cJSON *payload;
    int rc = unwrap_key(self->c, w, key, err);

    if (rc == 0)
        rc = cmk_hex_decode(dek_hex, dek_id, sizeof dek_id, err);
    if (rc == 0 && !(dek = cmk_dek_from_bytes(dek_id, key, err)))
        rc = err->code;
    OPENSSL_cleanse(key, sizeof key);
    if (rc == 0 && (rc = cmk_file_read(path, &data, &len, err)) < 0)
        cmk_err_prefix(err, "the backup file is gone or unreadable: ");
    if (rc == 0 && (rc = envops_file_dek_id((const uint8_t *)data, len, file_id, err)) == 0 &&
        memcmp(file_id, dek_id, sizeof dek_id) != 0)
        rc = cmk_err_set(err, CMK_ECRYPTO, "backup file %s was sealed under another data key than backup %s's", path, id);
    if (rc == 0)
        rc = envops_file_open(dek, env, id, (const uint8_t *)data, len, &plain, &plen, err);
    free(data);
    cmk_dek_destroy(&dek);
    if (rc < 0)
        return rc;
    payload = cJSON_Parse(plain);
    cmk_wipe_str(plain, plen);
    if (!payload || !cJSON_IsArray(cJSON_GetObjectItem(payload, "flows")) ||
        strcmp(cmk_json_str(payload, "env", ""), env) != 0 || strcmp(cmk_json_str(payload, "backup", ""), id) != 0) {
        cJSON_Delete(payload);
        return cmk_err_set(err, CMK_EINVAL, "backup %s opened but its content is not a backup of %s", id, env);
    }
    *flows = cJSON_DetachItemFromObject(payload, "flows");
    cJSON_Delete(payload);
    return 0;
}

/* envops_restore - the rule, the key, the file; then clear and put */
int envops_restore(envops_svc *self, const char *principal, const char *backup, const char *env,
                   envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state at, src_now, tgt;
    char src[64] = "", path[PATH_MAX], dek_hex[33];
    cJSON *row = NULL, *flows = NULL;
    cmk_err ignore = CMK_ERR_INIT;
    bwrap w;
    job *j;
    int has_src, rc;

    memset(&tgt, 0, sizeof tgt);
    memset(&w, 0, sizeof w);
    if (!backup || !*backup)
        return refuse(self, principal, "env.restore", env ? env : "", cmk_err_set(err, CMK_EINVAL, "name the backup"), err);
    if ((rc = load_backup(self, backup, src, &at, &w, path, dek_hex, err)) < 0) {
        free(w.wrapped);
        return refuse(self, principal, "env.restore", env && *env ? env : backup, rc, err);
    }
    has_src = env_view(self, principal, src, &src_now, NULL, &ignore) == 0;
    if (!env || !*env)
        env = src;
    if ((rc = env_view(self, principal, env, &tgt, &row, err)) < 0) {
        if (rc == CMK_ENOENT && strcmp(env, src) == 0)
            cmk_err_set(err, CMK_ENOENT, "environment %s, which backup %s was taken from, no longer exists; restore it "
                                         "into another environment encrypted with the same key (--to ENV)", src, backup);
    } else if ((rc = tenantkey_restore_allowed(&at, has_src ? &src_now : NULL, &tgt, cmk_clock_now(self->c->clock),
                                               err)) == 0 &&
               (rc = busy(self, row, err)) == 0)
        rc = open_backup(self, backup, src, &w, path, dek_hex, &flows, err);
    free(w.wrapped);
    if (rc < 0) {
        cJSON_Delete(row);
        return refuse(self, principal, "env.restore", tgt.env[0] ? tgt.env : env, rc, err);
    }
    if (!(j = job_new(self, "env.restore", principal, done, arg))) {
        cJSON_Delete(row);
        cJSON_Delete(flows);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cJSON_Delete(j->flows);
    j->flows = flows;
    cmk_strlcpy(j->source, src, sizeof j->source);
    cmk_strlcpy(j->target, tgt.env, sizeof j->target);
    cmk_strlcpy(j->backup, backup, sizeof j->backup);
    j->state = tgt;
    j->tgt_dedicated = is_dedicated(row);
    j->src_dedicated = at.mode == TENANTKEY_ENV_CUSTOMER; /* split then: the flows carry their home */
    j->new_ids = strcmp(j->source, j->target) != 0;
    cJSON_Delete(row);
    job_start(j);
    clear_target(j);
    return 0;
}

/* envops_copy - the rule, then dump, clear, put with new ids */
int envops_copy(envops_svc *self, const char *principal, const char *source, const char *target,
                envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state s, t;
    cJSON *srow = NULL, *trow = NULL;
    job *j;
    int rc;

    memset(&t, 0, sizeof t);
    if ((rc = env_view(self, principal, source ? source : "", &s, &srow, err)) < 0)
        return refuse(self, principal, "env.copy", target ? target : "", rc, err);
    if ((rc = env_view(self, principal, target ? target : "", &t, &trow, err)) == 0 &&
        (rc = tenantkey_copy_allowed(&s, &t, err)) == 0 && (rc = busy(self, srow, err)) == 0)
        rc = busy(self, trow, err);
    if (rc < 0) {
        cJSON_Delete(srow);
        cJSON_Delete(trow);
        return refuse(self, principal, "env.copy", t.env[0] ? t.env : (target ? target : ""), rc, err);
    }
    if (!(j = job_new(self, "env.copy", principal, done, arg))) {
        cJSON_Delete(srow);
        cJSON_Delete(trow);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->source, s.env, sizeof j->source);
    cmk_strlcpy(j->target, t.env, sizeof j->target);
    j->state = t;
    j->src_dedicated = is_dedicated(srow);
    j->tgt_dedicated = is_dedicated(trow);
    j->new_ids = 1;
    cJSON_Delete(srow);
    cJSON_Delete(trow);
    job_start(j);
    gather(j, j->source, j->src_dedicated, clear_target);
    return 0;
}

/* ---- reset -------------------------------------------------------------------------------- */

/* delete_backups - every backup of env: files and rows; the number deleted */
static int delete_backups(ctl *c, const char *env)
{
    sqlite3_stmt *st;
    char dir[PATH_MAX];
    int n = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT path FROM env_backups WHERE env = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(st, 0);
            if (p && unlink(p) < 0 && errno != ENOENT)
                cmk_log(CMK_LOG_WARN, env, NULL, "envops.backup_unlink_failed", "path=%s error=\"%s\"", p, strerror(errno));
            n++;
        }
        sqlite3_finalize(st);
    }
    store_exec_text(c->db, "DELETE FROM env_backups WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    snprintf(dir, sizeof dir, "%s/backups/%s", c->cfg->run_dir, env);
    rmdir(dir);
    return n;
}

/* reset_finish - the data is gone: backups, the policy, the BYOK view */
static void reset_finish(job *j)
{
    ctl *c = j->svc->c;
    cJSON *result = cJSON_CreateObject(), *op = NULL;
    tenantkey_env_state after;
    cmk_err err = CMK_ERR_INIT;
    char detail[600];
    int nb = delete_backups(c, j->target), rc = 0;

    cJSON_AddStringToObject(result, "env", j->target);
    cJSON_AddNumberToObject(result, "flows_deleted", j->flows_deleted);
    cJSON_AddNumberToObject(result, "runs_deleted", j->runs_deleted);
    cJSON_AddNumberToObject(result, "backups_deleted", nb);
    if (j->tgt_linked) {
        /* back to the Microsoft-managed key: the normal unlink operation (nothing left to move) */
        rc = policy_unlink(c->policies, j->principal, j->target, &op, &err);
        if (rc == 0 && op) {
            cJSON_AddStringToObject(result, "operation", cmk_json_str(op, "id", ""));
            cJSON_AddStringToObject(result, "operation_status", cmk_json_str(op, "status", ""));
        }
        cJSON_Delete(op);
    }
    if (rc == 0 && tenantkey_env_reset(c->tenantkeys, j->principal, j->target, &after, &err) < 0)
        rc = err.code;
    if (rc < 0) {
        snprintf(detail, sizeof detail, "%d flows, %d runs and %d backups of %s were deleted, but returning to the "
                 "Microsoft-managed key failed: %s", j->flows_deleted, j->runs_deleted, nb, j->target, err.msg);
        finish(j, rc, NULL, detail);
        cJSON_Delete(result);
        return;
    }
    cJSON_AddStringToObject(result, "encryption", "microsoft");
    snprintf(detail, sizeof detail, "%s reset: %d flows, %d runs and %d backups deleted; encryption reverts to the "
             "Microsoft-managed key%s", j->target, j->flows_deleted, j->runs_deleted, nb,
             j->tgt_linked ? " (removed from its enterprise policy)" : "");
    finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* envops_reset - sandbox only, not locked; clear, then reset_finish */
int envops_reset(envops_svc *self, const char *principal, const char *env, envops_done_fn done, void *arg,
                 cmk_err *err)
{
    tenantkey_env_state s;
    cJSON *row = NULL;
    job *j;
    int rc = env_view(self, principal, env ? env : "", &s, &row, err);
    if (rc < 0)
        return refuse(self, principal, "env.reset", env ? env : "", rc, err);
    if ((rc = envops_reset_check(&s, err)) == 0 && (rc = busy(self, row, err)) == 0 &&
        cJSON_IsString(cJSON_GetObjectItem(row, "policy")))
        /* a BYOK environment migrated to CMK may not return to the Microsoft key yet */
        rc = tenantkey_cmk_return_check(self->c->tenantkeys, principal, s.env, err);
    if (rc < 0) {
        cJSON_Delete(row);
        return refuse(self, principal, "env.reset", s.env, rc, err);
    }
    if (!(j = job_new(self, "env.reset", principal, done, arg))) {
        cJSON_Delete(row);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->target, s.env, sizeof j->target);
    j->state = s;
    j->tgt_dedicated = is_dedicated(row);
    j->tgt_linked = cJSON_IsString(cJSON_GetObjectItem(row, "policy"));
    j->connections = 1;
    cJSON_Delete(row);
    job_start(j);
    clear(j, j->target, j->tgt_dedicated, reset_finish);
    return 0;
}

/* ---- listing ------------------------------------------------------------------------------ */

/* envops_list - the backups of env, oldest first */
int envops_list(envops_svc *self, const char *env, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *row = NULL, *items;
    int rc = directory_env_get(self->c->dir, env ? env : "", &row, err);
    const char *id;
    if (rc < 0)
        return rc;
    id = cmk_json_str(row, "id", "");
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "env", id);
    items = cJSON_AddArrayToObject(*out, "items");
    if (sqlite3_prepare_v2(self->c->db,
                           "SELECT id, label, created, state, wrap_kind, wrap_vault, wrap_key, wrap_version, size, flows "
                           "FROM env_backups WHERE env = ? ORDER BY created, id",
                           -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(row);
        cJSON_Delete(*out);
        *out = NULL;
        return store_err(self->c->db, err, "listing backups");
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject(), *sj = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        char ts[40], by[400];
        cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "env", id);
        cJSON_AddStringToObject(o, "label", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
        cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 2), ts, sizeof ts));
        cJSON_AddStringToObject(o, "encryption_at_backup", cmk_json_str(sj, "encryption", "?"));
        cJSON_AddStringToObject(o, "policy_at_backup", cmk_json_str(sj, "policy", ""));
        if (strcmp((const char *)sqlite3_column_text(st, 4), "vault") == 0)
            snprintf(by, sizeof by, "%s/%s/%s", sqlite3_column_text(st, 5), sqlite3_column_text(st, 6),
                     sqlite3_column_text(st, 7));
        else
            snprintf(by, sizeof by, "Microsoft-managed key");
        cJSON_AddStringToObject(o, "wrapped_by", by);
        cJSON_AddNumberToObject(o, "flows", sqlite3_column_int(st, 9));
        cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 8));
        cJSON_AddItemToObject(o, "state_at_backup", sj ? sj : cJSON_CreateNull());
        cJSON_AddItemToArray(items, o);
    }
    sqlite3_finalize(st);
    cJSON_Delete(row);
    return 0;
}

/* ---- after a restart ---------------------------------------------------------------------- */

/* envops_resume - operations a controller crash interrupted: restore, copy and reset start again
 * (each clears the target first, so running one again is safe); a backup is marked Failed */
void envops_resume(envops_svc *self)
{
    ctl *c = self->c;
    sqlite3_stmt *st;
    cJSON *running = cJSON_CreateArray(), *it;
    char now[32];

    if (sqlite3_prepare_v2(c->db, "SELECT id, kind, principal, backup, source, target FROM env_ops WHERE status = 'Running'",
                           -1, &st, NULL) == SQLITE_OK) {
        static const char *const names[] = { "id", "kind", "principal", "backup", "source", "target" };
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            for (int i = 0; i < 6; i++)
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
