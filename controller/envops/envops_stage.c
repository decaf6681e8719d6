/*
 * envops_stage.c - a restore, copy or reset replaces the target environment's data all at once
 * (rule ENVOP-8): a staging area in every partition of the target (the workers' env.stage), the
 * flows put there, then - only once every flow is staged and env_ops says `commit` - each area
 * swapped in by one transaction in its worker, retried until every partition did it (also by a
 * restarted controller: eo_roll_forward). A failure before the commit discards the areas: the
 * target keeps its flows, runs, connections, encryption and data keys, and the operation can be
 * run again. envops.step_gate holds each step until <run>/envops.step exists (tests, rehearsals).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envops_int.h"
#include "log.h"
#include "migration.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

#define SWAP_RETRY_MS 1000 /* a partition that did not swap in is asked again this often */

/* homes - the partitions of the target: its dedicated one (if) and the shared one */
static int homes(const eo_job *j, const char *out[2])
{
    int n = 0;
    if (j->tgt_dedicated)
        out[n++] = "dedicated";
    out[n++] = "shared";
    return n;
}

/* stage_body - an env.stage request of step */
static cJSON *stage_body(const eo_job *j, const char *step)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "stage", j->id);
    cJSON_AddStringToObject(b, "step", step);
    if (strcmp(step, "swap") == 0)
        cJSON_AddBoolToObject(b, "connections", j->connections);
    return b;
}

/* op_words - what the operation was, for a person */
static void op_words(const eo_job *j, char *buf, size_t cap)
{
    if (strcmp(j->op, "env.restore") == 0)
        snprintf(buf, cap, "Restoring backup %s into %s", j->backup, j->target);
    else if (strcmp(j->op, "env.copy") == 0)
        snprintf(buf, cap, "Copying %s over %s", j->source, j->target);
    else
        snprintf(buf, cap, "Resetting %s", j->target);
}

/* ---- the gate ----------------------------------------------------------------------------- */

/* on_gate_timer - look at the gate again */
static int on_gate_timer(cmk_loop *loop, int64_t id, void *arg)
{
    eo_job *j = arg;
    (void)loop;
    (void)id;
    j->gate_next(j);
    return 0;
}

/* eo_gate - envops.step_gate: hold until <run>/envops.step exists (consumed: one step each) */
int eo_gate(eo_job *j, const char *step, eo_step_fn next)
{
    envops_deps *c = &j->svc->c;
    char path[4200];
    if (!c->cfg->envops_step_gate || j->resumed)
        return 0;
    snprintf(path, sizeof path, "%s/envops.step", c->cfg->run_dir);
    if (unlink(path) == 0) {
        j->gated = 0;
        return 0;
    }
    if (!j->gated) {
        j->gated = 1;
        cmk_log(CMK_LOG_INFO, j->target, NULL, "envops.gated", "op=%s id=%s step=%s staged=%d waiting_for=%s", j->op,
                j->id, step, j->put_index, path);
    }
    j->gate_next = next;
    cmk_loop_add_timer(c->loop, 50, 0, on_gate_timer, j);
    return 1;
}

/* ---- staging ------------------------------------------------------------------------------ */

/* on_stage_reply - a partition began its area */
static void on_stage_reply(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    eo_leg *l = arg;
    eo_job *j = l->j;
    eo_leg_failed(l, reply, err);
    free(l);
    eo_leg_done(j);
}

/* begin_failed - a partition could not begin its area: nothing was written */
static void begin_failed(eo_job *j)
{
    eo_abort(j, j->ferr.code, "a staging area could not be made: ", j->ferr.msg);
}

/* eo_stage_begin - an area in every partition of the target */
void eo_stage_begin(eo_job *j, eo_step_fn then)
{
    const char *h[2];
    int n = homes(j, h);
    if (!j->id[0]) {
        eo_fail(j, CMK_EIO, "the operation could not be recorded in controller.db, so it was not started and "
                            "nothing changed; run it again", NULL);
        return;
    }
    j->then = then;
    j->fail_then = begin_failed;
    j->failed = 0;
    j->outstanding = 1;
    for (int i = 0; i < n; i++)
        eo_send_leg(j, j->target, h[i], "env.stage", stage_body(j, "begin"), on_stage_reply);
    eo_leg_done(j);
}

/* ---- failing before the commit ------------------------------------------------------------ */

/* aborted - the areas are discarded (or will be by the next operation): tell */
static void aborted(eo_job *j)
{
    eo_finish(j, j->aerr.code, NULL, j->aerr.msg);
}

/* on_discarded - a partition dropped its area (a worker that did not answer drops it when the
 * next operation begins one: nothing reads an area but its swap) */
static void on_discarded(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    eo_leg *l = arg;
    eo_job *j = l->j;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0)
        cmk_log(CMK_LOG_WARN, l->env, NULL, "envops.discard_failed", "id=%s home=%s error=\"%s\"", j->id, l->home,
                err && err->msg[0] ? err->msg : "no answer");
    free(l);
    eo_leg_done(j);
}

/* eo_abort - discard, then finish with what failed, that nothing changed, and what to do */
void eo_abort(eo_job *j, int rc, const char *what, const char *why)
{
    tenantkey_env_state now;
    cmk_err ignore = CMK_ERR_INIT;
    char words[200], remedy[300];
    const char *h[2];
    int n = homes(j, h);
    int locked = eo_env_view(j->svc, j->principal, j->target, &now, NULL, &ignore) == 0 &&
                 now.mode == TENANTKEY_ENV_LOCKED;

    op_words(j, words, sizeof words);
    if (locked)
        snprintf(remedy, sizeof remedy, "%s is locked (its key is unreachable): restore the key, run `cmkctl env "
                 "reenable %s`, then run it again.", j->target, j->target);
    else
        snprintf(remedy, sizeof remedy, "Run it again once %s's workers answer (`cmkctl status`).", j->target);
    /* a worker that did not answer in time is unavailable (a client reads ETIMEOUT as its own
     * wait running out) */
    if (rc == CMK_ETIMEOUT || rc >= 0)
        rc = rc == CMK_ETIMEOUT ? CMK_EUNAVAIL : CMK_EIO;
    cmk_err_set(&j->aerr, rc,
                "%s failed and changed nothing (flows, runs, connections, backups, encryption as they were). Cause: "
                "%.100s%.150s. %s", words, what ? what : "", why ? why : "", remedy);
    j->then = aborted;
    j->fail_then = aborted;
    j->failed = 0;
    j->outstanding = 1;
    if (j->id[0])
        for (int i = 0; i < n; i++)
            eo_send_leg(j, j->target, h[i], "env.stage", stage_body(j, "discard"), on_discarded);
    eo_leg_done(j);
}

/* ---- the commit: swapping in -------------------------------------------------------------- */

static void send_swap(eo_leg *l);

/* on_swap_timer - ask a partition to swap in again */
static int on_swap_timer(cmk_loop *loop, int64_t id, void *arg)
{
    (void)loop;
    (void)id;
    send_swap(arg);
    return 0;
}

/* swap_gone - the target was deleted while its swap was retried */
static void swap_gone(eo_job *j)
{
    eo_finish(j, j->ferr.code, NULL, j->ferr.msg);
}

/* on_swapped - a partition swapped its area in (or had already); one that did not answer is
 * asked again: past the commit the operation only goes forward */
static void on_swapped(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    eo_leg *l = arg;
    eo_job *j = l->j;
    envops_deps *c = &j->svc->c;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        char msg[CMK_ERR_MSG_MAX];
        cJSON *row = NULL;
        if (directory_env_get(c->dir, j->target, &row, NULL) == CMK_ENOENT) {
            /* deleted meanwhile: nothing left to swap into (its partitions go with it) */
            free(l);
            j->failed = 1;
            cmk_err_set(&j->ferr, CMK_ENOENT, "environment %s was deleted before its data was swapped in", j->target);
            j->fail_then = swap_gone;
            eo_leg_done(j);
            return;
        }
        cJSON_Delete(row);
        snprintf(msg, sizeof msg, "every flow is staged; waiting for the worker of %s's %s partition to swap them in "
                 "(%.200s); asked again every %d ms", j->target, l->home, err && err->msg[0] ? err->msg : "no answer",
                 SWAP_RETRY_MS);
        store_exec_text(c->db, "UPDATE env_ops SET message = ?2 WHERE id = ?1", j->id, msg, NULL, NULL, NULL);
        if (l->tries == 1 || l->tries % 30 == 0)
            cmk_log(CMK_LOG_WARN, j->target, NULL, "envops.swap_retry", "id=%s home=%s tries=%d error=\"%s\"", j->id,
                    l->home, l->tries, err && err->msg[0] ? err->msg : "no answer");
        cmk_loop_add_timer(c->loop, SWAP_RETRY_MS, 0, on_swap_timer, l);
        return;
    }
    j->flows_deleted += (int)cmk_json_num(reply->body, "flows_deleted", 0);
    j->runs_deleted += (int)cmk_json_num(reply->body, "runs_deleted", 0);
    j->flows_in += (int)cmk_json_num(reply->body, "flows", 0);
    free(l);
    eo_leg_done(j);
}

/* send_swap - env.stage swap to the leg's partition */
static void send_swap(eo_leg *l)
{
    eo_job *j = l->j;
    envops_deps *c = &j->svc->c;
    cJSON *body = stage_body(j, "swap");
    cmk_err err = CMK_ERR_INIT;
    char worker[96];

    l->tries++;
    cmk_worker_name(strcmp(l->home, "dedicated") == 0 ? l->env : NULL, worker, sizeof worker);
    cJSON_AddStringToObject(body, "env", l->env);
    cJSON_AddStringToObject(body, "infrastructure", l->home);
    if (broker_forward(c->broker, worker, "env.stage", body, c->cfg->request_timeout, on_swapped, l, &err) < 0)
        on_swapped(l, NULL, &err);
    cJSON_Delete(body);
}

static void adopt(eo_job *j);

/* on_adopt_timer - read the target's flows again */
static int on_adopt_timer(cmk_loop *loop, int64_t id, void *arg)
{
    (void)loop;
    (void)id;
    adopt(arg);
    return 0;
}

/* adopt_retry - the target's flows could not be read: again shortly */
static void adopt_retry(eo_job *j)
{
    cmk_log(CMK_LOG_WARN, j->target, NULL, "envops.adopt_retry", "id=%s error=\"%s\"", j->id, j->ferr.msg);
    cmk_loop_add_timer(j->svc->c.loop, SWAP_RETRY_MS, 0, on_adopt_timer, j);
}

/* adopted - the target's flows as swapped in: schedule the recurring ones, keep the flows the
 * shared partition holds of a dedicated environment routed there */
static void adopted(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    const cJSON *f;
    cJSON_ArrayForEach(f, j->flows) {
        const char *id = cmk_json_str(f, "id", "");
        int64_t period = recurrence_period(cJSON_GetObjectItem(f, "definition"));
        if (period > 0)
            recurrence_schedule(c->recurrence, j->target, id, period, cmk_json_bool(f, "enabled", 1));
        if (j->tgt_dedicated && strcmp(cmk_json_str(f, "home", "shared"), "shared") == 0)
            migration_keep_on_shared(c->migration, j->target, id);
    }
    j->after(j);
}

/* adopt - every partition swapped in: the old flows' schedules and homes go, the new ones'
 * come from what the target now holds */
static void adopt(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    cJSON *sched = recurrence_list(c->recurrence, j->target), *it;
    cJSON_ArrayForEach(it, sched) {
        recurrence_schedule(c->recurrence, j->target, cmk_json_str(it, "flow", ""), 0, 0);
    }
    cJSON_Delete(sched);
    migration_forget_flows(c->migration, j->target, NULL);
    cJSON_Delete(j->flows);
    j->flows = cJSON_CreateArray();
    if (strcmp(j->op, "env.reset") == 0) {
        j->after(j);
        return;
    }
    j->fail_then = adopt_retry;
    eo_gather(j, j->target, j->tgt_dedicated, adopted);
}

/* eo_swap - swap every partition's area in, then adopt, then `after` */
void eo_swap(eo_job *j, eo_step_fn after)
{
    const char *h[2];
    int n = homes(j, h);
    j->after = after;
    j->then = adopt;
    j->fail_then = NULL;
    j->failed = 0;
    j->outstanding = 1;
    j->flows_deleted = j->runs_deleted = j->flows_in = 0;
    for (int i = 0; i < n; i++) {
        eo_leg *l = calloc(1, sizeof *l);
        if (!l)
            continue; /* out of memory: a restart rolls it forward */
        l->j = j;
        cmk_strlcpy(l->home, h[i], sizeof l->home);
        cmk_strlcpy(l->env, j->target, sizeof l->env);
        j->outstanding++;
        send_swap(l);
    }
    eo_leg_done(j);
}

/* commit_step - (gate) record the commit durably, then swap */
static void commit_step(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    cmk_err err = CMK_ERR_INIT;
    if (eo_gate(j, "swap", commit_step))
        return;
    if (store_exec_text(c->db, "UPDATE env_ops SET phase = 'commit' WHERE id = ?1 AND status = 'Running'", j->id, NULL,
                        NULL, NULL, &err) < 0 ||
        sqlite3_changes(c->db) != 1) {
        eo_abort(j, CMK_EIO, "its commit could not be recorded in controller.db: ", err.msg[0] ? err.msg : "no row");
        return;
    }
    cmk_log(CMK_LOG_INFO, j->target, NULL, "envops.commit", "op=%s id=%s staged=%d", j->op, j->id,
            cJSON_GetArraySize(j->flows));
    eo_swap(j, j->after);
}

/* eo_commit - every flow is staged: commit */
void eo_commit(eo_job *j, eo_step_fn after)
{
    j->after = after;
    commit_step(j);
}
