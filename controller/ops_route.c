/*
 * ops_route.c - requests that belong to an environment's worker (flows, runs, connections)
 * are routed to the worker that serves the environment: the shared worker while the
 * environment is on the Microsoft-managed key and shared infrastructure, its dedicated worker
 * (worker-<env>) once it is on dedicated infrastructure. If that worker is down, the request
 * waits for its restart up to request.timeout and then fails with a clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "util.h"

/* A routed request in flight. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply; /* addressed to the client */
} route_job;

/* ctl_worker_of - the worker name serving an environment row */
void ctl_worker_of(const cJSON *env, char *name, size_t cap)
{
    if (strcmp(cmk_json_str(env, "infrastructure", "shared"), "dedicated") == 0)
        snprintf(name, cap, "worker-%s", cmk_json_str(env, "id", ""));
    else
        snprintf(name, cap, "worker-shared");
}

/* route_done - the worker answered (or did not) */
static void route_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    route_job *j = arg;
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0) {
        cmk_msg_set_body(j->reply, cJSON_Duplicate(reply->body, 1));
        for (int i = 0; i < reply->nbins; i++)
            cmk_msg_add_bin(j->reply, reply->bins[i].data, reply->bins[i].len, NULL);
        broker_reply(j->ctl->broker, j->reply);
    } else {
        cmk_msg *e = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_EINTERNAL,
                                   err && err->msg[0] ? err->msg : "the worker did not answer");
        cmk_msg_destroy(&j->reply);
        broker_reply(j->ctl->broker, e);
    }
    free(j);
}

/* ctl_route_to_worker - forward req to the worker of body.env, adding who asked */
int ctl_route_to_worker(ctl *self, const cmk_msg *req, cmk_err *err)
{
    cJSON *env, *body;
    char worker[96];
    route_job *j;
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);

    if (rc < 0)
        return rc;
    if (strcmp(cmk_json_str(env, "state", "Ready"), "Ready") != 0 && strncmp(req->type, "run.", 4) != 0 &&
        strcmp(req->type, "flow.list") != 0) {
        rc = cmk_err_set(err, CMK_EUNAVAIL, "environment %s is %s: %s", cmk_json_str(env, "id", ""),
                         cmk_json_str(env, "state", ""),
                         strcmp(cmk_json_str(env, "state", ""), "Locked") == 0
                             ? "Environment disabled; restore access to its key and re-enable it"
                             : "wait until the operation on it completes");
        cJSON_Delete(env);
        return rc;
    }
    ctl_worker_of(env, worker, sizeof worker);
    body = cJSON_Duplicate(req->body, 1);
    cJSON_ReplaceItemInObject(body, "env", cJSON_CreateString(cmk_json_str(env, "id", "")));
    cJSON_AddStringToObject(body, "region", cmk_json_str(env, "region", ""));
    cJSON_AddStringToObject(body, "infrastructure", cmk_json_str(env, "infrastructure", "shared"));
    cJSON_AddStringToObject(body, "encryption", cmk_json_str(env, "encryption", "microsoft"));
    cJSON_AddStringToObject(body, "requested_by", req->user);
    cJSON_Delete(env);
    j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    rc = broker_forward(self->broker, worker, req->type, body, self->cfg->request_timeout, route_done, j, err);
    cJSON_Delete(body);
    if (rc < 0) {
        cmk_msg_destroy(&j->reply);
        free(j);
    }
    return rc;
}

/* op_route - the front operation for every routed type */
int op_route(void *ctx, const cmk_msg *req, cmk_err *err)
{
    return ctl_route_to_worker(ctx, req, err);
}
