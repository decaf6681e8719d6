/*
 * migration.c - moving flows between the shared and the dedicated infrastructure.
 */
#include "migration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "flow_homes.h"
#include "flowclass.h"
#include "flowdef.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define MMK_WARNING "Power Automate flows are still protected with the Microsoft Managed Key"

/* The service. */
struct migration_svc {
    migration_deps d;   /* what it was given */
    flow_homes *homes;  /* where each flow lives (memory and controller.db) */
};

/* A migration in flight. */
typedef struct {
    migration_svc *s;
    char env[64];
    char source[96], target[96]; /* worker names */
    int to_dedicated;
    cJSON *flows;                /* flows to move (from flow.dump), each with its definition */
    cJSON *conns;                /* ids of the connections copied to the target, removed from the
                                  * source once every flow moved */
    int next;                    /* index of the flow in flight */
    int moved, held;
    int paused;                  /* the step delay is over for the flow in flight */
    int gated;                   /* waiting at the step gate (logged once per step) */
    migration_done_fn done;
    void *arg;
} mig;

static void next_flow(mig *m);
static int64_t int_query(migration_svc *s, const char *sql, const char *a, const char *b);

/* exec - SQL with text parameters, on controller.db */
static int exec(migration_svc *s, const char *sql, const char *a, const char *b, const char *d, const char *e)
{
    return store_exec_text(s->d.db, sql, a, b, d, e, NULL);
}

/* migration_svc_new - flow_homes and migrations (flow_homes.c), migration_held, migration_moved */
migration_svc *migration_svc_new(const migration_deps *deps, cmk_err *err)
{
    migration_svc *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->d = *deps;
    if (!(self->homes = flow_homes_new(self->d.db, err)) ||
        store_exec(self->d.db,
                   "CREATE TABLE IF NOT EXISTS migration_held (env TEXT NOT NULL, flow TEXT NOT NULL, name TEXT,"
                   "  categories TEXT, remedies TEXT, PRIMARY KEY (env, flow));"
                   /* flows verified on the target by the job in flight: counted once even when
                    * a crash makes the job move a flow again */
                   "CREATE TABLE IF NOT EXISTS migration_moved (env TEXT NOT NULL, flow TEXT NOT NULL,"
                   "  PRIMARY KEY (env, flow));",
                   err) < 0) {
        migration_svc_destroy(&self);
        return NULL;
    }
    return self;
}

/* migration_svc_destroy - the flow homes' memory (jobs in flight end with the loop) */
void migration_svc_destroy(migration_svc **self_p)
{
    if (!self_p || !*self_p)
        return;
    flow_homes_destroy(&(*self_p)->homes);
    free(*self_p);
    *self_p = NULL;
}

/* count_moved - every flow the job verified on the target, before and after a controller restart */
static void count_moved(mig *m)
{
    m->moved = (int)int_query(m->s, "SELECT COUNT(*) FROM migration_moved WHERE env = ?", m->env, NULL);
}

/* finish - end the job and tell whoever started it */
static void finish(mig *m, int rc, const char *message)
{
    char now[32], moved[16], held[16];
    count_moved(m);
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(m->s->d.clock));
    snprintf(moved, sizeof moved, "%d", m->moved);
    snprintf(held, sizeof held, "%d", m->held);
    exec(m->s, "UPDATE migrations SET status = ?2, finished = CAST(?3 AS INTEGER), moved = CAST(?4 AS INTEGER) "
               "WHERE env = ?1", m->env, rc ? "Failed" : "Done", now, moved);
    flow_homes_running(m->s->homes, m->env, 0, m->to_dedicated);
    if (rc == 0 && m->to_dedicated)
        exec(m->s, "UPDATE migrations SET migrated_at = CAST(?2 AS INTEGER), held = CAST(?3 AS INTEGER) WHERE env = ?1",
             m->env, now, held, NULL);
    if (rc && m->to_dedicated && m->flows) {
        /* the flows not moved stay on the source: route them there explicitly (the environment
         * may be on its dedicated infrastructure by now) */
        for (int i = m->next; i < cJSON_GetArraySize(m->flows); i++)
            exec(m->s, "INSERT OR IGNORE INTO flow_homes(env, flow, home) VALUES(?1, ?2, 'shared')", m->env,
                 cmk_json_str(cJSON_GetArrayItem(m->flows, i), "id", ""), NULL, NULL);
    }
    cmk_log(rc ? CMK_LOG_WARN : CMK_LOG_INFO, m->env, NULL, "migration.done", "to=%s moved=%d held=%d rc=%d",
            m->to_dedicated ? "dedicated" : "shared", m->moved, m->held, rc);
    audit_append(m->s->d.audit, "system", "migration", m->env, rc, message, NULL, NULL);
    if (m->done)
        m->done(m->arg, m->env, rc, m->moved, m->held, message);
    cJSON_Delete(m->flows);
    cJSON_Delete(m->conns);
    free(m);
}

/* forward - send type/body to a worker; cb gets the reply */
static int forward(mig *m, const char *worker, const char *type, cJSON *body, broker_reply_fn cb)
{
    cmk_err err = CMK_ERR_INIT;
    int rc;
    cJSON_AddStringToObject(body, "env", m->env);
    rc = broker_forward(m->s->d.broker, worker, type, body, m->s->d.cfg->request_timeout, cb, m, &err);
    cJSON_Delete(body);
    if (rc < 0)
        finish(m, rc, err.msg);
    return rc;
}

/* current - the flow in flight */
static cJSON *current(mig *m)
{
    return cJSON_GetArrayItem(m->flows, m->next);
}

static void on_deleted(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    const char *id = cmk_json_str(current(m), "id", "");
    /* a delete sent again after a worker restart finds the flow gone already: that is done too */
    if ((!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) && !(err && err->code == CMK_ENOENT)) {
        /* still on the source: route it there again */
        flow_homes_forget(m->s->homes, m->env, id);
        exec(m->s, "DELETE FROM migration_moved WHERE env = ?1 AND flow = ?2", m->env, id, NULL, NULL);
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the source did not remove the flow");
        return;
    }
    flow_homes_set(m->s->homes, m->env, id, m->to_dedicated ? "dedicated" : "shared");
    exec(m->s, "DELETE FROM migration_held WHERE env = ?1 AND flow = ?2", m->env, id, NULL, NULL);
    m->next++;
    next_flow(m);
}

/* on_verified - the target holds the same definition: only now remove it from the source */
static void on_verified(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    cJSON *f = current(m), *body;
    char *want, *got;
    int same;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the target did not answer");
        return;
    }
    want = cJSON_PrintUnformatted(cJSON_GetObjectItem(f, "definition"));
    got = cJSON_PrintUnformatted(cJSON_GetObjectItem(reply->body, "definition"));
    same = want && got && strcmp(want, got) == 0;
    free(want);
    free(got);
    if (!same) {
        finish(m, CMK_EIO, "a migrated flow did not verify on the target; nothing was removed from the source");
        return;
    }
    /* route the flow to the target before the source deletes it: a run sent meanwhile must not
     * reach the source after the delete (requests to one worker arrive in order) */
    flow_homes_set(m->s->homes, m->env, cmk_json_str(f, "id", ""), m->to_dedicated ? "dedicated" : "shared");
    exec(m->s, "INSERT OR IGNORE INTO migration_moved(env, flow) VALUES(?1, ?2)", m->env, cmk_json_str(f, "id", ""),
         NULL, NULL);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "flow", cmk_json_str(f, "id", ""));
    forward(m, m->source, "flow.delete", body, on_deleted);
}

static void on_put(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    cJSON *body;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the target did not store the flow");
        return;
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "flow", cmk_json_str(current(m), "id", ""));
    forward(m, m->target, "flow.get", body, on_verified);
}

/* on_step_timer - the pause between two flows is over */
static int on_step_timer(cmk_loop *loop, int64_t id, void *arg)
{
    mig *m = arg;
    m->paused = 1;
    next_flow(m);
    return 0;
}

/* step_gate_open - migration.step_gate: whether <run>/migration.step exists; it is consumed
 * (removed), so each file moves one flow */
static int step_gate_open(mig *m)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/migration.step", m->s->d.cfg->run_dir);
    return unlink(path) == 0;
}

/* on_gate_timer - look at the step gate again */
static int on_gate_timer(cmk_loop *loop, int64_t id, void *arg)
{
    next_flow(arg);
    return 0;
}

/* on_conns_deleted - the source no longer holds the moved connections: the job is done */
static void on_conns_deleted(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    char msg[200];
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the source did not remove the moved connections");
        return;
    }
    count_moved(m);
    snprintf(msg, sizeof msg, "%d flows moved, %d kept on the Microsoft-managed key, %d connections moved", m->moved,
             m->held, cJSON_GetArraySize(m->conns));
    finish(m, 0, msg);
}

/* next_flow - copy the next flow to the target */
static void next_flow(mig *m)
{
    if (m->s->d.cfg->migration_step_delay > 0 && !m->paused && current(m)) {
        cmk_loop_add_timer(m->s->d.loop, m->s->d.cfg->migration_step_delay, 0, on_step_timer, m);
        return;
    }
    if (m->s->d.cfg->migration_step_gate && current(m) && !step_gate_open(m)) {
        if (!m->gated) {
            m->gated = 1;
            cmk_info("migration.gated", "env=%s moved=%d waiting_for=%s/migration.step", m->env, m->next,
                     m->s->d.cfg->run_dir);
        }
        cmk_loop_add_timer(m->s->d.loop, 50, 0, on_gate_timer, m);
        return;
    }
    m->gated = 0;
    m->paused = 0;
    cJSON *f = current(m), *body;
    if (!f && cJSON_GetArraySize(m->conns) > 0) {
        /* every flow is on the target: the connections' source copies go */
        body = cJSON_CreateObject();
        cJSON_AddItemToObject(body, "ids", cJSON_Duplicate(m->conns, 1));
        forward(m, m->source, "conn.delete", body, on_conns_deleted);
        return;
    }
    if (!f) {
        char msg[160];
        count_moved(m);
        snprintf(msg, sizeof msg, "%d flows moved, %d kept on the Microsoft-managed key", m->moved, m->held);
        finish(m, 0, msg);
        return;
    }
    body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "flow", cJSON_Duplicate(f, 1));
    forward(m, m->target, "flow.put", body, on_put);
}

/* classify - drop the flows that cannot be migrated from m->flows, recording why */
static void classify(mig *m)
{
    int n = cJSON_GetArraySize(m->flows);
    flowclass_flow *in = calloc((size_t)(n ? n : 1), sizeof *in);
    flowdef **defs = calloc((size_t)(n ? n : 1), sizeof *defs);
    char **texts = calloc((size_t)(n ? n : 1), sizeof *texts);
    flowclass_result *res = NULL;
    cJSON *keep = cJSON_CreateArray();
    cmk_err err = CMK_ERR_INIT;

    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_GetArrayItem(m->flows, i);
        texts[i] = cJSON_PrintUnformatted(cJSON_GetObjectItem(f, "definition"));
        flowdef_parse(texts[i], strlen(texts[i]), &defs[i], NULL);
        in[i].id = cmk_json_str(f, "id", "");
        in[i].display_name = cmk_json_str(f, "name", "");
        in[i].def = defs[i];
        in[i].in_solution = cJSON_IsTrue(cJSON_GetObjectItem(f, "in_solution"));
    }
    if (flowclass_classify(in, (size_t)n, &res, &err) == 0) {
        for (int i = 0; i < n; i++) {
            const flowclass_entry *e = flowclass_result_find(res, in[i].id);
            cJSON *f = cJSON_GetArrayItem(m->flows, i);
            if (e && !e->migratable) {
                char cats[512] = "", rems[2048] = "";
                for (unsigned bit = 1; bit <= FLOWCLASS_LIST_FLOWS_V1; bit <<= 1) {
                    if (!(e->categories & bit))
                        continue;
                    snprintf(cats + strlen(cats), sizeof cats - strlen(cats), "%s%s", cats[0] ? "; " : "",
                             flowclass_category_name((flowclass_category)bit));
                    snprintf(rems + strlen(rems), sizeof rems - strlen(rems), "%s%s", rems[0] ? " | " : "",
                             flowclass_category_remedy((flowclass_category)bit));
                }
                /* no display name: a customer's string stays sealed in the partition (the
                 * names come from the worker: `flows mmk`) */
                exec(m->s, "INSERT OR REPLACE INTO migration_held(env, flow, name, categories) VALUES(?1, ?2, ?3, ?4)",
                     m->env, in[i].id, "", cats);
                exec(m->s, "UPDATE migration_held SET remedies = ?3 WHERE env = ?1 AND flow = ?2", m->env, in[i].id, rems,
                     NULL);
                flow_homes_set(m->s->homes, m->env, in[i].id, "shared");
                m->held++;
            } else
                cJSON_AddItemToArray(keep, cJSON_Duplicate(f, 1));
        }
    } else {
        cmk_log(CMK_LOG_WARN, m->env, NULL, "migration.classify_failed", "error=\"%s\"", err.msg);
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(keep, cJSON_Duplicate(cJSON_GetArrayItem(m->flows, i), 1));
    }
    flowclass_result_destroy(&res);
    for (int i = 0; i < n; i++) {
        flowdef_destroy(&defs[i]);
        free(texts[i]);
    }
    free(in);
    free(defs);
    free(texts);
    cJSON_Delete(m->flows);
    m->flows = keep;
}

/* wipe_secrets - clear the connection secrets of a conn.dump list before it is freed */
static void wipe_secrets(cJSON *items)
{
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        cJSON *s = cJSON_GetObjectItem(it, "secret");
        if (cJSON_IsString(s) && s->valuestring)
            OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
    }
}

/* on_conns_put - the connections are on the target (sealed there): now the flows */
static void on_conns_put(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the target did not store the connections");
        return;
    }
    next_flow(m);
}

/* on_conns_dump - the source's connections: copy them to the target first, so that flows find
 * them on either side while they move; the source's copies go once every flow moved. After CMK,
 * OAuth connections are sealed on the dedicated side under the customer's key and non-OAuth ones
 * under the Microsoft-managed key (seed 000) */
static void on_conns_dump(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    cJSON *items, *it, *body;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the source did not list its connections");
        return;
    }
    items = cJSON_GetObjectItem(reply->body, "items");
    m->conns = cJSON_CreateArray();
    cJSON_ArrayForEach(it, items)
        cJSON_AddItemToArray(m->conns, cJSON_CreateString(cmk_json_str(it, "id", "")));
    if (cJSON_GetArraySize(m->conns) == 0) {
        next_flow(m);
        return;
    }
    body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "connections", cJSON_Duplicate(items, 1));
    cJSON_AddStringToObject(body, "env", m->env);
    {
        cmk_err ferr = CMK_ERR_INIT;
        int rc = broker_forward(m->s->d.broker, m->target, "conn.put", body, m->s->d.cfg->request_timeout, on_conns_put, m,
                                &ferr);
        wipe_secrets(cJSON_GetObjectItem(body, "connections"));
        cJSON_Delete(body);
        if (rc < 0)
            finish(m, rc, ferr.msg);
    }
}

/* on_dump - the source's flows arrived */
static void on_dump(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mig *m = arg;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        finish(m, err && err->code ? err->code : CMK_EIO, err ? err->msg : "the source did not list its flows");
        return;
    }
    m->flows = cJSON_Duplicate(cJSON_GetObjectItem(reply->body, "items"), 1);
    if (m->to_dedicated)
        classify(m);
    cmk_log(CMK_LOG_INFO, m->env, NULL, "migration.plan", "to=%s flows=%d held=%d", m->to_dedicated ? "dedicated" : "shared",
            cJSON_GetArraySize(m->flows), m->held);
    forward(m, m->source, "conn.dump", cJSON_CreateObject(), on_conns_dump);
}

/* start_job - begin moving env's flows, or resume the job a crash interrupted (keeping the
 * flows it already counted as moved) */
static int start_job(migration_svc *self, const char *env, int to_dedicated, int resume, migration_done_fn done,
                     void *arg, cmk_err *err)
{
    mig *m = calloc(1, sizeof *m);
    char now[32], dir[2];
    if (!m)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    m->s = self;
    m->to_dedicated = to_dedicated;
    m->done = done;
    m->arg = arg;
    cmk_strlcpy(m->env, env, sizeof m->env);
    cmk_worker_name(to_dedicated ? NULL : env, m->source, sizeof m->source);
    cmk_worker_name(to_dedicated ? env : NULL, m->target, sizeof m->target);
    snprintf(now, sizeof now, "%lld", (long long)cmk_clock_now(self->d.clock));
    snprintf(dir, sizeof dir, "%d", to_dedicated ? 1 : 0);
    if (exec(self, "INSERT INTO migrations(env, to_dedicated, status, started) VALUES(?1, CAST(?2 AS INTEGER), 'Running', "
                "CAST(?3 AS INTEGER)) ON CONFLICT(env) DO UPDATE SET to_dedicated = excluded.to_dedicated, "
                "status = 'Running', started = excluded.started, finished = 0, moved = 0",
             env, dir, now, NULL) < 0) {
        free(m);
        return cmk_err_set(err, CMK_EIO, "cannot record the migration of %s", env);
    }
    flow_homes_running(self->homes, env, 1, to_dedicated);
    if (!resume)
        exec(self, "DELETE FROM migration_moved WHERE env = ?1", env, NULL, NULL, NULL);
    if (to_dedicated)
        exec(self, "DELETE FROM migration_held WHERE env = ?1", env, NULL, NULL, NULL);
    cmk_log(CMK_LOG_INFO, env, NULL, "migration.start", "from=%s to=%s", m->source, m->target);
    return forward(m, m->source, "flow.dump", cJSON_CreateObject(), on_dump) < 0 ? CMK_EIO : 0;
}

/* migration_start - begin moving env's flows */
int migration_start(migration_svc *self, const char *env, int to_dedicated, migration_done_fn done, void *arg,
                    cmk_err *err)
{
    return start_job(self, env, to_dedicated, 0, done, arg, err);
}

/* migration_resume_all - Running migrations start again (every step is idempotent) */
void migration_resume_all(migration_svc *self, migration_done_fn done, void *arg)
{
    sqlite3_stmt *st;
    cJSON *running = cJSON_CreateArray(), *it;
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, to_dedicated FROM migrations WHERE status = 'Running'", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(o, "to", sqlite3_column_int(st, 1));
            cJSON_AddItemToArray(running, o);
        }
        sqlite3_finalize(st);
    }
    cJSON_ArrayForEach(it, running) {
        cmk_log(CMK_LOG_INFO, cmk_json_str(it, "env", ""), NULL, "migration.resume", "%s", "");
        start_job(self, cmk_json_str(it, "env", ""), (int)cmk_json_num(it, "to", 1), 1, done, arg, NULL);
    }
    cJSON_Delete(running);
}

/* int_query - one integer from SQL with one text parameter */
static int64_t int_query(migration_svc *s, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = store_stmt(s->d.db, sql); /* hot: asked for every routed request */
    int64_t v = 0;
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    store_stmt_done(st);
    return v;
}

/* migration_to_dedicated - the direction of env's last (or running) migration */
int migration_to_dedicated(migration_svc *self, const char *env)
{
    return int_query(self, "SELECT to_dedicated FROM migrations WHERE env = ?", env, NULL) > 0;
}

/* migration_is_running - from memory */
int migration_is_running(migration_svc *self, const char *env)
{
    return flow_homes_is_running(self->homes, env);
}

/* migration_held_count - flows of env kept on the shared side */
int migration_held_count(migration_svc *self, const char *env)
{
    return (int)int_query(self, "SELECT COUNT(*) FROM flow_homes WHERE env = ? AND home = 'shared'", env, NULL);
}

/* migration_migrated_at - when env's flows last moved to CMK */
int64_t migration_migrated_at(migration_svc *self, const char *env)
{
    return int_query(self, "SELECT migrated_at FROM migrations WHERE env = ?", env, NULL);
}

/* migration_home - where a flow lives: where it was moved or kept; while a migration runs, a
 * flow not moved yet is still on the source side (from memory: flow_homes.h) */
const char *migration_home(migration_svc *self, const char *env, const char *flow, const char *infra)
{
    return flow_homes_where(self->homes, env, flow, infra);
}

/* migration_forget_flows - flow of env (NULL: every flow) lives where its environment says
 * again, and is no longer listed as held on the Microsoft-managed key */
void migration_forget_flows(migration_svc *self, const char *env, const char *flow)
{
    flow_homes_forget(self->homes, env, flow);
    if (flow)
        exec(self, "DELETE FROM migration_held WHERE env = ?1 AND flow = ?2", env, flow, NULL, NULL);
    else
        exec(self, "DELETE FROM migration_held WHERE env = ?1", env, NULL, NULL, NULL);
}

/* migration_forget_homes - env's flows live where it says again (the held list stays) */
void migration_forget_homes(migration_svc *self, const char *env)
{
    flow_homes_forget(self->homes, env, NULL);
}

/* migration_keep_on_shared - flow of env (a dedicated environment) stays on the shared worker */
int migration_keep_on_shared(migration_svc *self, const char *env, const char *flow)
{
    return flow_homes_set(self->homes, env, flow, "shared");
}

/* migration_mmk_warnings - the warning of seed 000 when a CMK environment keeps flows on the MMK */
void migration_mmk_warnings(migration_svc *self, const char *env, const char *encryption, cJSON *out)
{
    if (strcmp(encryption, "customer") == 0 && migration_held_count(self, env) > 0) {
        cJSON *w = cJSON_GetObjectItem(out, "warnings"), *it;
        if (!w)
            w = cJSON_AddArrayToObject(out, "warnings");
        cJSON_ArrayForEach(it, w) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, MMK_WARNING) == 0)
                return;
        }
        cJSON_AddItemToArray(w, cJSON_CreateString(MMK_WARNING));
    }
}

/* migration_status - the job and the flows it kept on the Microsoft-managed key */
int migration_status(migration_svc *self, const char *env, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *held;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "env", env);
    if (sqlite3_prepare_v2(self->d.db, "SELECT status, moved, held, migrated_at FROM migrations WHERE env = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            char ts[40];
            cJSON_AddStringToObject(*out, "status", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(*out, "moved", sqlite3_column_int(st, 1));
            if (sqlite3_column_int64(st, 3))
                cJSON_AddStringToObject(*out, "migrated_at", cmk_time_format(sqlite3_column_int64(st, 3), ts, sizeof ts));
        } else
            cJSON_AddStringToObject(*out, "status", "NotStarted");
        sqlite3_finalize(st);
    }
    held = cJSON_AddArrayToObject(*out, "held");
    if (sqlite3_prepare_v2(self->d.db, "SELECT flow, name, categories, remedies FROM migration_held WHERE env = ? ORDER BY flow",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            static const char *const names[] = { "FlowName", "DisplayName", "category", "remedy" };
            for (int i = 0; i < 4; i++)
                cJSON_AddStringToObject(o, names[i], sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
            cJSON_AddStringToObject(o, "EnvironmentName", env);
            cJSON_AddItemToArray(held, o);
        }
        sqlite3_finalize(st);
    }
    (void)err;
    return 0;
}
