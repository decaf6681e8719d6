/*
 * ops_policy.c - front operations of enterprise policies and of the environments under them.
 */
#include "handlers.h"
#include "op_fields.h"
#include "util.h"

/* reply_or - reply with out if rc is 0 */
static int reply_or(ctl *self, const cmk_msg *req, int rc, cJSON *out, cmk_err *err)
{
    return rc < 0 ? rc : ctl_reply_json(self, req, out, err);
}

int op_policy_create(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_create(self->policies, req->user, req->body, &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_show(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_get(self->policies, cmk_json_str(req->body, "policy", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_list(self->policies, cmk_json_str(req->body, "tenant", NULL), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_validate(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_validate(self->policies, req->user, cmk_json_str(req->body, "policy", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_delete(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_delete(self->policies, req->user, cmk_json_str(req->body, "policy", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_link(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_link(self->policies, req->user, cmk_json_str(req->body, "policy", ""),
                                cmk_json_str(req->body, "env", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_unlink(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_unlink(self->policies, req->user, cmk_json_str(req->body, "env", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_operation(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_operation(self->policies, cmk_json_str(req->body, "id", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_env_reenable(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_reenable(self->policies, req->user, cmk_json_str(req->body, "env", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_env_cmk_status(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_env_status(self->policies, cmk_json_str(req->body, "env", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}

int op_support_raise_limit(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int64_t limit = 0; /* 1..10000 */
    int rc = cmk_op_get_int(req->type, req->body, "limit", &limit, err);
    if (rc == 0)
        rc = policy_raise_limit(self->policies, req->user, cmk_json_str(req->body, "tenant", ""), (int)limit, &out,
                                err);
    return reply_or(self, req, rc, out, err);
}

int op_policy_apply_rotation(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = NULL;
    int rc = policy_apply_rotation(self->policies, req->user, cmk_json_str(req->body, "policy", ""), &out, err);
    return reply_or(self, req, rc, out, err);
}
