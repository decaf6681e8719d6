/*
 * ops_envops.c - the front-door operations of environment backup, restore, copy and reset
 * (controller/envops/envops.h):
 *   env.backup   {env, label?}            back an environment up, sealed under its key
 *   env.backups  {env}                    its backups with their encryption state at backup
 *   env.restore  {backup, env?}           restore a backup (into its own environment by default)
 *   env.copy     {source, target}         copy an environment's flows over another's
 *   env.reset    {env}                    reset a sandbox environment
 * The handlers only read the body and answer; envops.c decides and does the work.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "envops.h"
#include "util.h"

/* A client waiting for an operation that talks to workers. */
typedef struct {
    ctl *ctl;       /* the controller */
    cmk_msg *reply; /* addressed to the client */
} pending;

/* op_done - the operation ended: answer the client */
static void op_done(void *arg, int rc, const cJSON *result, const cmk_err *err)
{
    pending *p = arg;
    if (rc == 0) {
        cmk_msg_set_body(p->reply, cJSON_Duplicate(result, 1));
        broker_reply(p->ctl->broker, p->reply);
    } else {
        cmk_msg *e = cmk_msg_error(p->reply, rc, err && err->msg[0] ? err->msg : "the operation failed");
        cmk_msg_destroy(&p->reply);
        broker_reply(p->ctl->broker, e);
    }
    free(p);
}

/* pending_new - the reply kept until op_done */
static pending *pending_new(ctl *c, const cmk_msg *req, cmk_err *err)
{
    pending *p = calloc(1, sizeof *p);
    if (!p || !(p->reply = cmk_msg_reply(req, CMK_MSG_REPLY))) {
        free(p);
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    p->ctl = c;
    return p;
}

/* started - the operation did not start: drop the pending reply (the broker sends the error) */
static int started(pending *p, int rc)
{
    if (rc < 0) {
        cmk_msg_destroy(&p->reply);
        free(p);
    }
    return rc;
}

/* op_env_backup - {env, label?} */
int op_env_backup(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *c = ctx;
    pending *p = pending_new(c, req, err);
    if (!p)
        return CMK_ENOMEM;
    return started(p, envops_backup(c->envops, req->user, cmk_json_str(req->body, "env", ""),
                                    cmk_json_str(req->body, "label", NULL), op_done, p, err));
}

/* op_env_restore - {backup, env?} */
int op_env_restore(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *c = ctx;
    pending *p = pending_new(c, req, err);
    if (!p)
        return CMK_ENOMEM;
    return started(p, envops_restore(c->envops, req->user, cmk_json_str(req->body, "backup", ""),
                                     cmk_json_str(req->body, "env", NULL), op_done, p, err));
}

/* op_env_copy - {source, target} */
int op_env_copy(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *c = ctx;
    pending *p = pending_new(c, req, err);
    if (!p)
        return CMK_ENOMEM;
    return started(p, envops_copy(c->envops, req->user, cmk_json_str(req->body, "source", ""),
                                  cmk_json_str(req->body, "target", ""), op_done, p, err));
}

/* op_env_reset - {env} */
int op_env_reset(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *c = ctx;
    pending *p = pending_new(c, req, err);
    if (!p)
        return CMK_ENOMEM;
    return started(p, envops_reset(c->envops, req->user, cmk_json_str(req->body, "env", ""), op_done, p, err));
}

/* op_env_backups - {env} */
int op_env_backups(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *c = ctx;
    cJSON *out = NULL;
    int rc = envops_list(c->envops, cmk_json_str(req->body, "env", ""), &out, err);
    return rc < 0 ? rc : ctl_reply_json(c, req, out, err);
}
