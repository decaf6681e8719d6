/*
 * ops_directory.c - front operations on tenants and environments.
 * Bodies and replies are documented in docs/PROTOCOL.md.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "op_fields.h"
#include "log.h"
#include "migration.h"
#include "util.h"

/* What a customer-managed key covers (seed 004, "Migrate bring-your-own-key (BYOK) environments
 * to customer-managed key": "the audit log is automatically moved to Azure CosmosDB and the
 * upload files and images are moved to file storage and are encrypted automatically with the
 * customer-managed key"; "If you have enabled audit and search ... and created a data lake, all
 * these storages will be automatically created and encrypted with the customer-managed
 * encryption key"; it opens "elastic table services, Dataverse search, and long-term
 * retention"), and seed 000 (flows: "your workflows and all associated at-rest data are stored
 * and executed on a dedicated infrastructure"; OAuth connections). */
static const char *const cmk_covers[] = {
    "Environment database (Dataverse)",
    "Audit log (Azure Cosmos DB) and audit retention",
    "Uploaded files and images (file storage)",
    "Dataverse search",
    "Elastic tables",
    "Data lake",
    "Long-term retention",
    "Power Automate cloud and desktop flows, their definitions and run history with inputs and outputs (dedicated "
    "infrastructure)",
    "OAuth (Microsoft Entra) connections",
};

/* features_json - a JSON array of strings */
static cJSON *features_json(const char *const *f, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(f[i]));
    return arr;
}

/* cmk_on_microsoft_key - what stays on the Microsoft-managed key in an environment under a
 * customer-managed key: non-OAuth connections (seed 000: "CMKs aren't leveraged to encrypt
 * non-OAuth connections. These non-Microsoft Entra based connections continue to be encrypted at
 * rest using MMKs.") and the flows the migration held back (seed 000's categories), if any */
static cJSON *cmk_on_microsoft_key(ctl *self, const char *env)
{
    cJSON *arr = cJSON_CreateArray();
    int held = migration_held_count(self->migration, env);
    cJSON_AddItemToArray(arr, cJSON_CreateString("Non-OAuth (non-Microsoft Entra) connections"));
    if (held > 0) {
        char line[200];
        snprintf(line, sizeof line,
                 "Power Automate flows that can't be migrated automatically: %d (`cmkctl flows mmk --env %s "
                 "--cannot-migrate`)", held, env);
        cJSON_AddItemToArray(arr, cJSON_CreateString(line));
    }
    return arr;
}

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
    if (strcmp(cmk_json_str(out, "encryption", ""), "customer") == 0) {
        /* seeds 000 and 004: what the customer's key covers, and what it does not */
        cJSON_AddItemToObject(out, "features_on_customer_key",
                              features_json(cmk_covers, sizeof cmk_covers / sizeof cmk_covers[0]));
        cJSON_AddItemToObject(out, "features_on_microsoft_key", cmk_on_microsoft_key(self, cmk_json_str(out, "id", "")));
    } else {
        /* seed 003: an environment on Azure SQL storage only (Microsoft-managed or self-managed
         * BYOK key): these "continue to use the Microsoft-managed encryption key" */
        cJSON_AddItemToObject(out, "features_on_microsoft_key", ctl_mmk_only_features());
    }
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
