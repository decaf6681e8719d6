/*
 * recurrence.c - recurrence triggers fired by the controller's clock.
 *
 * Catch-up policy (a clock jump: `cmkctl clock advance`, or a controller that was down): when
 * an occurrence fires and more than recurrence.catchup_max further occurrences of the same
 * recurrence are due up to where the clock is going (cmk_clock_horizon), the oldest ones are
 * skipped in one step and summarized in one log line (recurrence.caught_up: how many were
 * skipped, from when to when); the last catchup_max are fired, each at its own time, in time
 * order with every other timer, so every recurrence gets its share and the work of one advance
 * is bounded by catchup_max per recurrence whatever the jump.
 */
#include "recurrence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowdef.h"
#include "log.h"
#include "ops.h"
#include "route.h"
#include "store.h"
#include "util.h"

/* The service. */
struct recurrence_svc {
    recurrence_deps d; /* what it was given */
};

/* A pending timer of one schedule. */
typedef struct {
    recurrence_svc *svc;
    char env[64], flow[64];
    int64_t due;        /* the occurrence this timer fires */
} occurrence;

static void arm(recurrence_svc *self, const char *env, const char *flow, int64_t due);

/* run_done - the triggered run's answer (nobody waits for it) */
static void run_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    char *what = arg;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0)
        cmk_log(CMK_LOG_WARN, NULL, NULL, "recurrence.run_failed", "flow=%s error=\"%s\"", what, err ? err->msg : "");
    free(what);
}

/* on_due - an occurrence came due: start the run, arm the next one */
static void on_due(cmk_clock *clock, int64_t now, void *arg)
{
    occurrence *o = arg;
    recurrence_svc *self = o->svc;
    sqlite3_stmt *st;
    int64_t period = 0, next = 0;
    int enabled = 0;

    if (sqlite3_prepare_v2(self->d.db, "SELECT period_ms, next_ms, enabled FROM recurrences WHERE env = ? AND flow = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, o->env, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->flow, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            period = sqlite3_column_int64(st, 0);
            next = sqlite3_column_int64(st, 1);
            enabled = sqlite3_column_int(st, 2);
        }
        sqlite3_finalize(st);
    }
    /* a stale timer (the schedule changed since) does nothing */
    if (period > 0 && enabled && next == o->due) {
        int64_t horizon = cmk_clock_horizon(clock), cap = self->d.cfg->recurrence_catchup_max;
        int64_t behind = horizon > o->due ? (horizon - o->due) / period : 0; /* further occurrences due */
        if (behind >= cap) {
            int64_t skip = behind - cap + 1, resume = cmk_time_add(o->due, skip * period);
            char a[40], b[40], n[32];
            cmk_log(CMK_LOG_INFO, o->env, NULL, "recurrence.caught_up",
                    "flow=%s skipped=%lld from=%s to=%s fired_next=%lld policy=\"the last recurrence.catchup_max "
                    "occurrences of a clock jump run; older ones are skipped\"",
                    o->flow, (long long)skip, cmk_time_format(o->due, a, sizeof a),
                    cmk_time_format(resume - period, b, sizeof b), (long long)cap);
            snprintf(n, sizeof n, "%lld", (long long)resume);
            store_exec_text(self->d.db, "UPDATE recurrences SET next_ms = CAST(?3 AS INTEGER) WHERE env = ?1 AND flow = ?2",
                            o->env, o->flow, n, NULL, NULL);
            arm(self, o->env, o->flow, resume);
            free(o);
            return;
        }
        dir_env env;
        if (directory_env_placement(self->d.dir, o->env, &env, NULL) == 0 && strcmp(env.state, "Ready") == 0) {
            char worker[96], creq[96], text[32];
            cJSON *fields = cJSON_CreateObject(), *body;
            snprintf(creq, sizeof creq, "rec-%s-%lld", o->flow, (long long)o->due);
            cJSON_AddStringToObject(fields, "flow", o->flow);
            cJSON_AddStringToObject(fields, "client_req", creq);
            /* env, region, infrastructure, ...: set where every routed request gets them */
            body = route_owned_body(cmk_op_find(CMK_T_FLOW_RUN), fields, "system", &env,
                                    env.infrastructure, cmk_clock_now(self->d.clock));
            if (strcmp(migration_home(self->d.migration, o->env, o->flow, env.infrastructure), "dedicated") == 0)
                cmk_worker_name(o->env, worker, sizeof worker);
            else
                cmk_worker_name(NULL, worker, sizeof worker);
            {
                char *what = strdup(o->flow);
                cmk_err ferr = CMK_ERR_INIT;
                if (!what || !body)
                    cmk_err_set(&ferr, CMK_ENOMEM, "out of memory");
                if (!what || !body || broker_forward(self->d.broker, worker, CMK_T_FLOW_RUN, body, self->d.cfg->request_timeout,
                                                     run_done, what, &ferr) < 0) {
                    /* not sent (the worker is saturated, say): this occurrence is skipped, as a
                     * recurrence that cannot start is in Logic Apps; the next one is armed below */
                    free(what);
                    cmk_log(CMK_LOG_WARN, o->env, creq, "recurrence.skipped", "flow=%s due=%s error=\"%s\"", o->flow,
                            cmk_time_format(o->due, text, sizeof text) ? text : "", ferr.msg);
                } else
                    cmk_log(CMK_LOG_INFO, o->env, creq, "recurrence.fired", "flow=%s due=%s", o->flow,
                            cmk_time_format(o->due, text, sizeof text) ? text : "");
            }
            cJSON_Delete(body); /* before fields: it refers to their members */
            cJSON_Delete(fields);
        }
        next = cmk_time_add(o->due, period);
        {
            char n[32];
            snprintf(n, sizeof n, "%lld", (long long)next);
            store_exec_text(self->d.db, "UPDATE recurrences SET next_ms = CAST(?3 AS INTEGER) WHERE env = ?1 AND flow = ?2",
                            o->env, o->flow, n, NULL, NULL);
        }
        arm(self, o->env, o->flow, next);
    }
    free(o);
}

/* arm - a timer for one occurrence */
static void arm(recurrence_svc *self, const char *env, const char *flow, int64_t due)
{
    occurrence *o = calloc(1, sizeof *o);
    if (!o)
        return;
    o->svc = self;
    cmk_strlcpy(o->env, env, sizeof o->env);
    cmk_strlcpy(o->flow, flow, sizeof o->flow);
    o->due = due;
    cmk_clock_timer_add_owned(self->d.clock, due, on_due, o);
}

/* recurrence_svc_new - the table; every enabled schedule armed */
recurrence_svc *recurrence_svc_new(const recurrence_deps *deps, cmk_err *err)
{
    recurrence_svc *self = calloc(1, sizeof *self);
    sqlite3_stmt *st;
    int rc;
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->d = *deps;
    rc = store_exec(self->d.db,
                        "CREATE TABLE IF NOT EXISTS recurrences (env TEXT NOT NULL, flow TEXT NOT NULL,"
                        "  period_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
                        "  PRIMARY KEY (env, flow));",
                        err);
    if (rc < 0) {
        free(self);
        return NULL;
    }
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, flow, next_ms FROM recurrences WHERE enabled = 1", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            arm(self, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                sqlite3_column_int64(st, 2));
        sqlite3_finalize(st);
    }
    return self;
}

/* recurrence_svc_destroy - the service (pending timers are the clock's, which it frees) */
void recurrence_svc_destroy(recurrence_svc **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}


/* recurrence_period - the period of a Recurrence trigger */
int64_t recurrence_period(const cJSON *definition)
{
    char *text = definition ? cJSON_PrintUnformatted(definition) : NULL;
    flowdef *fd = NULL;
    int64_t period = 0;
    if (text && flowdef_parse(text, strlen(text), &fd, NULL) == 0 &&
        flowdef_trigger_kind(fd) == FLOWDEF_TRIGGER_RECURRENCE)
        flowdef_recurrence(fd, NULL, NULL, &period);
    flowdef_destroy(&fd);
    free(text);
    return period;
}

/* recurrence_schedule - set, change or drop a flow's schedule */
void recurrence_schedule(recurrence_svc *self, const char *env, const char *flow, int64_t period_ms, int enabled)
{
    char p[32], n[32];
    int64_t next = cmk_clock_now(self->d.clock) + period_ms;
    if (period_ms <= 0) {
        store_exec_text(self->d.db, "DELETE FROM recurrences WHERE env = ?1 AND flow = ?2", env, flow, NULL, NULL, NULL);
        return;
    }
    snprintf(p, sizeof p, "%lld", (long long)period_ms);
    snprintf(n, sizeof n, "%lld", (long long)next);
    store_exec_text(self->d.db,
                    "INSERT INTO recurrences(env, flow, period_ms, next_ms, enabled) VALUES(?1, ?2, CAST(?3 AS INTEGER), "
                    "CAST(?4 AS INTEGER), 1) ON CONFLICT(env, flow) DO UPDATE SET period_ms = excluded.period_ms, "
                    "next_ms = excluded.next_ms, enabled = 1",
                    env, flow, p, n, NULL);
    if (!enabled)
        recurrence_enable(self, env, flow, 0);
    else
        arm(self, env, flow, next);
}

/* recurrence_enable - a flow turned on or off keeps its period */
void recurrence_enable(recurrence_svc *self, const char *env, const char *flow, int enabled)
{
    sqlite3_stmt *st;
    int64_t period = 0;
    if (sqlite3_prepare_v2(self->d.db, "SELECT period_ms FROM recurrences WHERE env = ? AND flow = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, flow, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            period = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (period <= 0)
        return;
    if (enabled)
        recurrence_schedule(self, env, flow, period, 1);
    else
        store_exec_text(self->d.db, "UPDATE recurrences SET enabled = 0, next_ms = 0 WHERE env = ?1 AND flow = ?2", env, flow,
                        NULL, NULL, NULL);
}

/* recurrence_list - the schedules, as `cmkctl flow schedules` shows them */
cJSON *recurrence_list(recurrence_svc *self, const char *env)
{
    sqlite3_stmt *st;
    cJSON *arr = cJSON_CreateArray();
    if (sqlite3_prepare_v2(self->d.db, "SELECT env, flow, period_ms, next_ms, enabled FROM recurrences WHERE ?1 IS NULL OR env = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        if (env)
            sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            char ts[40], d[32];
            cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(o, "flow", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddStringToObject(o, "every", cmk_duration_format(sqlite3_column_int64(st, 2), d, sizeof d));
            if (sqlite3_column_int(st, 4))
                cJSON_AddStringToObject(o, "next", cmk_time_format(sqlite3_column_int64(st, 3), ts, sizeof ts));
            cJSON_AddBoolToObject(o, "on", sqlite3_column_int(st, 4));
            cJSON_AddItemToArray(arr, o);
        }
        sqlite3_finalize(st);
    }
    return arr;
}
