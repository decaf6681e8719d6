/*
 * load_events.c - the timed events of a cmk-bench load workload (bench/workload.h): a thread
 * with its own connection to the controller sleeps until each event's time and carries it out
 * while the runs go on: key rotation, disabling and enabling the key (lock and "Re-enable
 * environment"), putting a shared environment under the customer-managed key, swapping the
 * customer firewall's config, and SIGKILL of a worker. What each did, when, and how long it
 * took goes into r->events for the report. Events whose time comes after the phases ended are
 * reported as not reached.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/util.h"
#include "load_int.h"
#include "ops.h"

/* ev_call - one request on the events connection (body owned) */
static int ev_call(ld_run *r, const char *type, cJSON *body, cmk_msg **rep, cmk_err *err)
{
    int rc = cmk_client_call(r->ev_conn, type, body, r->wl.request_timeout_ms, rep, err);
    cJSON_Delete(body);
    if (rc < 0)
        cmk_err_prefix(err, "%s: ", type);
    return rc;
}

/* key_body - {vault, name} of the bench's key */
static cJSON *key_body(ld_run *r)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "vault", r->wl.cmk_vault);
    cJSON_AddStringToObject(b, "name", r->wl.cmk_key);
    return b;
}

/* env_row - env.show of environment index i */
static int env_row(ld_run *r, int i, cmk_msg **rep, cmk_err *err)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", r->envs[i].id);
    return ev_call(r, CMK_T_ENV_SHOW, b, rep, err);
}

/* do_reenable - env.reenable of every environment that is locked now */
static int do_reenable(ld_run *r, char *msg, size_t cap, cmk_err *err)
{
    int n = 0, rc = 0;

    for (int i = 0; i < r->nenvs && rc == 0; i++) {
        cmk_msg *rep = NULL;
        int locked;
        if ((rc = env_row(r, i, &rep, err)) < 0)
            break;
        locked = strcmp(cmk_json_str(rep->body, "state", ""), "Locked") == 0;
        cmk_msg_destroy(&rep);
        if (locked) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "env", r->envs[i].id);
            if ((rc = ev_call(r, CMK_T_ENV_REENABLE, b, NULL, err)) == 0)
                n++;
        }
    }
    if (rc == 0)
        snprintf(msg, cap, "re-enable started for %d locked environment%s", n, n == 1 ? "" : "s");
    return rc;
}

/* do_kill - SIGKILL the worker serving environment index i (-1: the shared worker) */
static int do_kill(ld_run *r, int i, char *msg, size_t cap, cmk_err *err)
{
    char name[96] = CMK_WORKER_SHARED;
    cmk_msg *rep = NULL;
    const cJSON *p;
    int pid = 0, rc;

    if (i >= 0) {
        if ((rc = env_row(r, i, &rep, err)) < 0)
            return rc;
        if (strcmp(cmk_json_str(rep->body, "infrastructure", "shared"), "dedicated") == 0)
            cmk_worker_name(r->envs[i].id, name, sizeof name);
        cmk_msg_destroy(&rep);
    }
    if ((rc = ev_call(r, "status", NULL, &rep, err)) < 0)
        return rc;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(rep->body, "processes"))
    {
        if (strcmp(cmk_json_str(p, "name", ""), name) == 0)
            pid = (int)cmk_json_num(p, "pid", 0);
    }
    cmk_msg_destroy(&rep);
    if (pid <= 0)
        return cmk_err_set(err, CMK_ENOENT, "%s is not running (no pid in `cmkctl status`)", name);
    if (kill(pid, SIGKILL) < 0)
        return cmk_err_set(err, CMK_EIO, "kill -9 %d (%s): %s", pid, name, strerror(errno));
    snprintf(msg, cap, "SIGKILL to %s (pid %d)", name, pid);
    return 0;
}

/* do_firewall - firewall.apply of a config file */
static int do_firewall(ld_run *r, const bench_event *e, char *msg, size_t cap, cmk_err *err)
{
    cJSON *doc = NULL, *b;
    char *text;
    int rc;

    if ((rc = cmk_json_load_file(e->config_path, &doc, err)) < 0)
        return cmk_err_prefix(err, "firewall config: ");
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "config", text);
    cJSON_AddStringToObject(b, "name", e->config_path);
    free(text);
    if ((rc = ev_call(r, CMK_T_FIREWALL_APPLY, b, NULL, err)) == 0)
        snprintf(msg, cap, "firewall config %s applied", e->config_path);
    return rc;
}

/* run_event - carry out one event; fills res->message */
static int run_event(ld_run *r, const bench_event *e, ld_event_result *res, cmk_err *err)
{
    char *msg = res->message;
    size_t cap = sizeof res->message;
    cJSON *b;
    cmk_msg *rep = NULL;
    int rc;

    switch (e->kind) {
    case BENCH_EV_ROTATE_KEY:
        if ((rc = ev_call(r, CMK_T_KEY_ROTATE, key_body(r), &rep, err)) == 0)
            snprintf(msg, cap, "key %s/%s rotated to version %s", r->wl.cmk_vault, r->wl.cmk_key,
                     cmk_json_str(rep->body, "version", "?"));
        cmk_msg_destroy(&rep);
        return rc;
    case BENCH_EV_DISABLE_KEY:
    case BENCH_EV_ENABLE_KEY:
        b = key_body(r);
        cJSON_AddBoolToObject(b, "enabled", e->kind == BENCH_EV_ENABLE_KEY);
        if ((rc = ev_call(r, CMK_T_KEY_UPDATE, b, NULL, err)) == 0)
            snprintf(msg, cap, "key %s/%s %s", r->wl.cmk_vault, r->wl.cmk_key,
                     e->kind == BENCH_EV_ENABLE_KEY ? "enabled" : "disabled");
        return rc;
    case BENCH_EV_REENABLE:
        return do_reenable(r, msg, cap, err);
    case BENCH_EV_APPLY_CMK:
        if ((rc = ld_cmk_link(r, r->ev_conn, r->envs[e->env].id, err)) == 0)
            snprintf(msg, cap, "environment %s added to policy %s", r->envs[e->env].id,
                     r->wl.cmk_policy);
        return rc;
    case BENCH_EV_FIREWALL:
        return do_firewall(r, e, msg, cap, err);
    case BENCH_EV_KILL_WORKER:
        return do_kill(r, e->env, msg, cap, err);
    }
    return cmk_err_set(err, CMK_EINVAL, "unknown event kind %d", (int)e->kind);
}

/* events_main - sleep until each event is due (or the phases end), carry it out */
static void *events_main(void *arg)
{
    ld_run *r = arg;

    for (int i = 0; i < r->wl.nevents; i++) {
        const bench_event *e = &r->wl.events[i];
        ld_event_result *res = &r->events[i];
        cmk_err err = CMK_ERR_INIT;
        int64_t due = r->ev_t0_ns + e->at_ms * 1000000, start;

        while (!atomic_load(&r->ev_stop) && cmk_mono_ns() < due) {
            int64_t left = due - cmk_mono_ns();
            if (left > 50000000)
                left = 50000000;
            if (left > 0)
                nanosleep(&(struct timespec){0, (long)left}, NULL);
        }
        if (atomic_load(&r->ev_stop))
            break;
        start = cmk_mono_ns();
        res->started_ms = (start - r->ev_t0_ns) / 1000000;
        res->ok = run_event(r, e, res, &err) == 0;
        res->took_ms = (cmk_mono_ns() - start) / 1000000;
        res->done = 1;
        if (!res->ok)
            snprintf(res->message, sizeof res->message, "%s", err.msg);
        fprintf(stderr, "\nevent %s at %.1f s: %s (%s, %lld ms)\n", bench_event_kind_name(e->kind),
                (double)res->started_ms / 1000.0, res->message, res->ok ? "ok" : "FAILED",
                (long long)res->took_ms);
    }
    return NULL;
}

/* ld_events_start - connect and start the thread */
int ld_events_start(ld_run *r, cmk_err *err)
{
    if (r->wl.nevents == 0)
        return 0;
    if (!r->ev_conn && !(r->ev_conn = cmk_client_new(r->run_dir, r->key_path, err)))
        return err->code ? err->code : CMK_EUNAVAIL;
    atomic_store(&r->ev_stop, 0);
    r->ev_t0_ns = cmk_mono_ns();
    if (pthread_create(&r->ev_thread, NULL, events_main, r) != 0)
        return cmk_err_set(err, CMK_ENOMEM, "cannot start the events thread");
    r->ev_started = 1;
    return 0;
}

/* ld_events_stop - stop and join; the connection is closed here */
void ld_events_stop(ld_run *r)
{
    if (r->ev_started) {
        atomic_store(&r->ev_stop, 1);
        pthread_join(r->ev_thread, NULL);
        r->ev_started = 0;
    }
    cmk_client_destroy(&r->ev_conn);
}
