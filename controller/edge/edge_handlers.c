/*
 * ops_edge.c - front operations answered by the edge processes: the customer firewall
 * (firewall.status, firewall.apply, firewall.fault) and the gateway's egress counters (metrics).
 * The controller forwards them on the back channel and relays the answer.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "util.h"

/* A forwarded request. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;
} edge_job;

static void edge_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    edge_job *j = arg;
    if (reply && strcmp(reply->type, CMK_MSG_REPLY) == 0) {
        cmk_msg_set_body(j->reply, cJSON_Duplicate(reply->body, 1));
        broker_reply(j->ctl->broker, j->reply);
    } else {
        cmk_msg *e = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_EUNAVAIL,
                                   err && err->msg[0] ? err->msg : "no answer");
        cmk_msg_destroy(&j->reply);
        broker_reply(j->ctl->broker, e);
    }
    free(j);
}

/* forward_to - relay req to a peer */
static int forward_to(ctl *self, const char *peer, const cmk_msg *req, cmk_err *err)
{
    edge_job *j = calloc(1, sizeof *j);
    int rc;
    if (!j)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    if ((strcmp(req->type, "firewall.apply") == 0 || strcmp(req->type, "firewall.fault") == 0) &&
        audit_append(self->audit, req->user, req->type, "firewall", 0, cmk_json_str(req->body, "name", NULL), NULL,
                     err) < 0) {
        /* fail closed: audited before it is sent, or not sent */
        cmk_msg_destroy(&j->reply);
        free(j);
        return cmk_err_prefix(err, "refused: %s could not be audited: ", req->type);
    }
    rc = broker_forward(self->broker, peer, req->type, req->body, self->cfg->request_timeout, edge_done, j, err);
    if (rc < 0) {
        cmk_msg_destroy(&j->reply);
        free(j);
    }
    return rc;
}

int op_firewall(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    if (!self->cfg->spawn_firewall)
        return cmk_err_set(err, CMK_EUNAVAIL, "this cluster runs without the firewall process (supervisor.firewall=false)");
    return forward_to(self, "firewall", req, err);
}

int op_metrics(void *ctx, const cmk_msg *req, cmk_err *err)
{
    return forward_to(ctx, "gateway", req, err);
}
