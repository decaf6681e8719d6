/*
 * cluster_handlers.c - the controller's own requests about the cluster: ping, status, shutdown.
 * Domain requests (tenants, vaults, policies, ...) are handled in their services' folders; the
 * operation table (common/ops.h) lists them all.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "handlers.h"
#include "log.h"
#include "metrics_http.h"
#include "util.h"

/* A ping fanned out to several processes. */
typedef struct {
    ctl *ctl;          /* the controller */
    cmk_msg *reply;    /* the reply being built; sent when outstanding reaches 0 */
    cJSON *results;    /* array inside reply->body */
    int outstanding;   /* forwards not yet answered */
} ping_fanout;

/* process_row - {name, role, pid, ok, ...} */
static cJSON *process_row(const char *name, const char *role, int pid, int ok, const char *error)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddNumberToObject(o, "pid", pid);
    cJSON_AddBoolToObject(o, "ok", ok);
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    return o;
}

/* ping_done - one forwarded ping answered or timed out */
static void ping_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    void **pair = arg;
    ping_fanout *pf = pair[0];
    char *name = pair[1];
    cJSON *row;

    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0)
        row = process_row(name, cmk_json_str(reply->body, "role", "?"),
                          (int)cmk_json_num(reply->body, "pid", 0), 1, NULL);
    else
        row = process_row(name, "?", 0, 0, err && err->msg[0] ? err->msg : "no answer");
    cJSON_AddItemToArray(pf->results, row);
    free(name);
    free(pair);
    if (--pf->outstanding == 0) {
        int ok = 1;
        const cJSON *it;
        cJSON_ArrayForEach(it, pf->results) {
            ok &= cJSON_IsTrue(cJSON_GetObjectItem(it, "ok"));
        }
        cJSON_AddBoolToObject(pf->reply->body, "all_ok", ok);
        broker_reply(pf->ctl->broker, pf->reply);
        free(pf);
    }
}

/* op_ping - {target: "all"|"controller"|NAME}: pong from each process, through the controller */
int op_ping(void *arg, const cmk_msg *req, cmk_err *err)
{
    ctl *self = arg;
    const char *target = cmk_json_str(req->body, "target", "all");
    ping_fanout *pf = calloc(1, sizeof *pf);
    cJSON *children, *it;
    int64_t timeout = self->cfg->heartbeat_interval * self->cfg->heartbeat_liveness;

    if (!pf)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    pf->ctl = self;
    pf->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    cJSON_AddBoolToObject(pf->reply->body, "pong", 1);
    pf->results = cJSON_AddArrayToObject(pf->reply->body, "processes");
    if (strcmp(target, "all") == 0 || strcmp(target, "controller") == 0)
        cJSON_AddItemToArray(pf->results, process_row("controller", "controller", getpid(), 1, NULL));
    children = supervisor_status(self->sup);
    pf->outstanding = 1; /* held until every forward is issued */
    cJSON_ArrayForEach(it, children) {
        const char *name = cmk_json_str(it, "name", "");
        void **pair;
        if (strcmp(target, "all") != 0 && strcmp(target, name) != 0)
            continue;
        pair = malloc(2 * sizeof *pair);
        if (!pair)
            break;
        pair[0] = pf;
        pair[1] = strdup(name);
        pf->outstanding++;
        {
            cmk_err ferr = CMK_ERR_INIT;
            if (broker_forward(self->broker, name, CMK_MSG_PING, NULL, timeout, ping_done, pair, &ferr) < 0)
                ping_done(pair, NULL, &ferr); /* not sent (busy): answered as such */
        }
    }
    cJSON_Delete(children);
    if (cJSON_GetArraySize(pf->results) == 0 && pf->outstanding == 1) {
        cmk_msg_destroy(&pf->reply);
        free(pf);
        return cmk_err_set(err, CMK_ENOENT,
                           "no process named '%s'; `cmkctl status` lists them", target);
    }
    /* release the hold: reply now if nothing was forwarded */
    if (--pf->outstanding == 0) {
        cJSON_AddBoolToObject(pf->reply->body, "all_ok", 1);
        broker_reply(self->broker, pf->reply);
        free(pf);
    }
    return 0;
}

/* add_metrics_endpoint - "metrics": "http://127.0.0.1:PORT/metrics" of a process (recorded in
 * <run>/metrics/<name>.port), or "" when it has none */
static void add_metrics_endpoint(ctl *self, cJSON *o, const char *name)
{
    char addr[64], url[96] = "";
    if (cmk_metrics_endpoint_read(self->cfg->run_dir, name, addr, sizeof addr) == 0)
        snprintf(url, sizeof url, "http://%s/metrics", addr);
    cJSON_AddStringToObject(o, "metrics", url);
}

/* op_status - every process: pid, role, state, uptime, heartbeat age, restarts */
int op_status(void *arg, const cmk_msg *req, cmk_err *err)
{
    ctl *self = arg;
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_REPLY);
    cJSON *procs, *children, *it, *me;
    int64_t now = cmk_wall_ms();

    if (!rep)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_AddStringToObject(rep->body, "run_dir", self->cfg->run_dir);
    cJSON_AddStringToObject(rep->body, "state", self->stopping ? "stopping" : "running");
    procs = cJSON_AddArrayToObject(rep->body, "processes");
    me = cJSON_CreateObject();
    cJSON_AddStringToObject(me, "name", "controller");
    cJSON_AddStringToObject(me, "role", "controller");
    cJSON_AddNumberToObject(me, "pid", getpid());
    cJSON_AddStringToObject(me, "state", self->stopping ? "stopping" : "ready");
    cJSON_AddNumberToObject(me, "uptime_ms", (double)(now - cmk_server_started_ms(self->srv)));
    cJSON_AddNumberToObject(me, "heartbeat_age_ms", 0);
    cJSON_AddNumberToObject(me, "restarts", 0);
    add_metrics_endpoint(self, me, "controller");
    cJSON_AddItemToArray(procs, me);
    children = supervisor_status(self->sup);
    cJSON_ArrayForEach(it, children) {
        cJSON *o = cJSON_CreateObject();
        const char *name = cmk_json_str(it, "name", "");
        int pid = (int)cmk_json_num(it, "pid", 0);
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "role", cmk_json_str(it, "role", ""));
        cJSON_AddNumberToObject(o, "pid", pid);
        cJSON_AddStringToObject(o, "state", cmk_json_str(it, "state", ""));
        cJSON_AddNumberToObject(o, "uptime_ms",
                                pid > 0 ? (double)(now - (int64_t)cmk_json_num(it, "started_ms", (double)now)) : 0);
        cJSON_AddNumberToObject(o, "heartbeat_age_ms", (double)broker_peer_age(self->broker, name));
        cJSON_AddNumberToObject(o, "restarts", cmk_json_num(it, "restarts", 0));
        add_metrics_endpoint(self, o, name);
        cJSON_AddItemToArray(procs, o);
    }
    cJSON_Delete(children);
    broker_reply(self->broker, rep);
    return 0;
}

/* ctl_reply_json - reply with a body */
int ctl_reply_json(ctl *self, const cmk_msg *req, cJSON *body, cmk_err *err)
{
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_REPLY);
    if (!rep) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_msg_set_body(rep, body);
    broker_reply(self->broker, rep);
    return 0;
}

/* op_shutdown - reply, then stop the whole cluster */
int op_shutdown(void *arg, const cmk_msg *req, cmk_err *err)
{
    ctl *self = arg;
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_REPLY);
    if (!rep)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_AddBoolToObject(rep->body, "stopping", 1);
    cJSON_AddNumberToObject(rep->body, "pid", getpid());
    broker_reply(self->broker, rep);
    ctl_begin_shutdown(self, "shutdown requested");
    return 0;
}
