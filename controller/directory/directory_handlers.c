/*
 * ops_directory.c - front operations on tenants and environments.
 * Bodies and replies are documented in docs/PROTOCOL.md.
 */
#include <string.h>

#include "ctl.h"
#include "op_fields.h"
#include "log.h"
#include "util.h"

/* wrap_list - {"items": arr} */
static cJSON *wrap_list(cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", arr);
    return o;
}

int op_tenant_create(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out;
    int rc = directory_tenant_create(self->dir, cmk_json_str(req->body, "id", NULL),
                                     cmk_json_str(req->body, "name", NULL), &out, err);
    if (rc < 0)
        return rc;
    cmk_log(CMK_LOG_INFO, NULL, req->reqid, "tenant.created", "tenant=%s by=%s",
            cmk_json_str(out, "id", ""), req->user);
    return ctl_reply_json(self, req, out, err);
}

int op_tenant_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *arr;
    int rc = directory_tenant_list(self->dir, &arr, err);
    return rc < 0 ? rc : ctl_reply_json(self, req, wrap_list(arr), err);
}

int op_tenant_show(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out, *envs;
    const char *id = cmk_json_str(req->body, "id", "");
    int rc = directory_tenant_get(self->dir, id, &out, err);
    if (rc < 0)
        return rc;
    if (directory_env_list(self->dir, id, &envs, err) == 0)
        cJSON_AddItemToObject(out, "environments", envs);
    return ctl_reply_json(self, req, out, err);
}

int op_env_create(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out;
    env_spec spec = {
        .tenant = cmk_json_str(req->body, "tenant", NULL),
        .name = cmk_json_str(req->body, "name", NULL),
        .region = cmk_json_str(req->body, "region", NULL),
        .type = cmk_json_str(req->body, "type", "production"),
    };
    int rc = cmk_op_get_bool(req->type, req->body, "managed", &spec.managed, err); /* "yes" is refused */
    if (rc == 0)
        rc = directory_env_create(self->dir, &spec, &out, err);
    if (rc < 0)
        return rc;
    cmk_log(CMK_LOG_INFO, cmk_json_str(out, "id", ""), req->reqid, "env.created",
            "tenant=%s type=%s region=%s by=%s", spec.tenant, spec.type, spec.region, req->user);
    return ctl_reply_json(self, req, out, err);
}

int op_env_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *arr;
    int rc = directory_env_list(self->dir, cmk_json_str(req->body, "tenant", NULL), &arr, err);
    return rc < 0 ? rc : ctl_reply_json(self, req, wrap_list(arr), err);
}

int op_env_show(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out;
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &out, err);
    if (rc < 0)
        return rc;
    /* seed 003: these stay on the Microsoft-managed key whatever the environment's key */
    cJSON_AddItemToObject(out, "features_on_microsoft_key", ctl_mmk_only_features());
    /* a locked environment says so: "Environment disabled", the cause, the deletion due date */
    policy_env_lock_view(self->policies, out);
    {
        /* the key that encrypts: what actually wraps the data key of the partition in use */
        char kind[16], kek[300];
        const char *purpose = strcmp(cmk_json_str(out, "infrastructure", "shared"), "dedicated") == 0 ? "cmk" : "data";
        if (keyring_kek_kind(self->keyring, cmk_json_str(out, "id", ""), purpose, kind, sizeof kind, kek, sizeof kek,
                             NULL) == 0) {
            cJSON_AddStringToObject(out, "encryption_key", kek);
            if (strcmp(kind, "tenant") == 0) /* legacy BYOK: encrypted with the tenant's key */
                cJSON_ReplaceItemInObject(out, "encryption", cJSON_CreateString("self-managed"));
        } else
            cJSON_AddStringToObject(out, "encryption_key", "microsoft-managed");
    }
    return ctl_reply_json(self, req, out, err);
}

int op_env_enable_managed(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out;
    int rc = directory_env_enable_managed(self->dir, cmk_json_str(req->body, "env", ""), &out, err);
    if (rc < 0)
        return rc;
    cmk_log(CMK_LOG_INFO, cmk_json_str(out, "id", ""), req->reqid, "env.managed", "by=%s", req->user);
    return ctl_reply_json(self, req, out, err);
}

int op_env_delete(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out;
    int rc = directory_env_delete(self->dir, cmk_json_str(req->body, "env", ""), &out, err);
    if (rc < 0)
        return rc;
    cmk_log(CMK_LOG_INFO, cmk_json_str(out, "id", ""), req->reqid, "env.deleted", "by=%s", req->user);
    cJSON_AddBoolToObject(out, "deleted", 1);
    return ctl_reply_json(self, req, out, err);
}
