/*
 * ops_identity.c - front operations on client identities: `identity.add` makes a CURVE key pair
 * <run>/keys/NAME.key (mode 0600) and lists it in keys/public/authorized.json with a role (reader,
 * tenant-admin, admin) and, for a tenant-admin, its tenants; `identity.list` shows the list;
 * `identity.remove` takes an added identity out again. The running controller needs no restart:
 * the ZAP handler and the authorization check re-read authorized.json when it changes.
 * Who may call these is the authorization matrix's business (controller/authz/authz.c): admin only,
 * identity.list also for readers. Every change is audited.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "handlers.h"
#include "keys.h"
#include "util.h"

/* names that belong to the cluster's own key files */
static const char *const reserved[] = {
    "admin",    "reader",     "bench",  "gateway",           "gateway-server",
    "firewall", "controller", "master", "microsoft-managed", "authorized",
    NULL};

/* valid_name - 1..48 of [a-z0-9._-], starting with a letter or digit, not reserved */
static int valid_name(const char *name, cmk_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 48 || !isalnum((unsigned char)name[0]))
        return cmk_err_set(err, CMK_EINVAL,
                           "identity name '%s': 1 to 48 characters of a-z 0-9 . _ -, "
                           "starting with a letter or digit",
                           name);
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              strchr("._-", name[i])))
            return cmk_err_set(err, CMK_EINVAL,
                               "identity name '%s': only a-z 0-9 . _ - are allowed", name);
    for (int i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], name) == 0)
            return cmk_err_set(err, CMK_EINVAL,
                               "identity name '%s' belongs to the cluster itself; choose another",
                               name);
    if (strncmp(name, "worker-", 7) == 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "identity names worker-* belong to workers; choose another");
    return 0;
}

/* check_tenants - tenants is an array of existing tenant ids, non-empty for a tenant-admin only */
static int check_tenants(ctl *self, const char *role, const cJSON *tenants, cmk_err *err)
{
    const cJSON *it;
    int n = cJSON_GetArraySize(tenants);

    if (strcmp(role, "tenant-admin") == 0 && n == 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "a tenant-admin needs at least one tenant: add --tenant T");
    if (strcmp(role, "tenant-admin") != 0 && n > 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "--tenant applies to a tenant-admin only; role %s acts on every tenant",
                           role);
    cJSON_ArrayForEach(it, tenants)
    {
        cJSON *row = NULL;
        int rc;
        if (!cJSON_IsString(it))
            return cmk_err_set(err, CMK_EINVAL, "tenants must be a list of tenant ids");
        if ((rc = directory_tenant_get(self->dir, it->valuestring, &row, err)) < 0)
            return rc;
        cJSON_Delete(row);
    }
    return 0;
}

/* drop_key_files - keys/NAME.key and keys/NAME.pub, gone */
static void drop_key_files(ctl *self, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/keys/%s.key", self->cfg->run_dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/keys/%s.pub", self->cfg->run_dir, name);
    unlink(path);
}

/* op_identity_add - {name, role, tenants?}: a key file and an authorized.json entry */
int op_identity_add(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    const char *name = cmk_json_str(req->body, "name", ""),
               *role = cmk_json_str(req->body, "role", "");
    const cJSON *tenants = cJSON_GetObjectItem(req->body, "tenants");
    cJSON *none = cJSON_CreateArray(), *out;
    char path[PATH_MAX];
    cmk_keypair kp;
    int rc;

    if (!none)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (!tenants)
        tenants = none;
    if ((rc = valid_name(name, err)) < 0)
        goto fail;
    if (!authz_role_assignable(role)) {
        rc = cmk_err_set(err, CMK_EINVAL, "role '%s': give reader, tenant-admin or admin", role);
        goto fail;
    }
    if ((rc = check_tenants(self, role, tenants, err)) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/keys/%s.key", self->cfg->run_dir, name);
    if (access(path, F_OK) == 0) {
        rc = cmk_err_set(err, CMK_EEXIST,
                         "identity '%s' exists already (%s); remove it first with "
                         "`cmkctl identity remove %s`",
                         name, path, name);
        goto fail;
    }
    if ((rc = cmk_keypair_generate_file(path, &kp, err)) < 0)
        goto fail;
    cmk_keypair_wipe(&kp);
    rc = cmk_authorized_set(self->cfg->run_dir, name, role, kp.pub, NULL, tenants, err);
    if (rc < 0) {
        audit_append(self->audit, req->user, "identity.add", name, rc, err->msg, NULL, NULL);
        drop_key_files(self, name);
        goto fail;
    }
    if ((rc = audit_must(self->audit, req->user, "identity.add", name, 0, role, err)) < 0) {
        /* fail closed: an identity nobody can trace back is not added */
        cmk_authorized_remove(self->cfg->run_dir, name, NULL);
        drop_key_files(self, name);
        goto fail;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "name", name);
    cJSON_AddStringToObject(out, "role", role);
    cJSON_AddItemToObject(out, "tenants", cJSON_Duplicate(tenants, 1));
    cJSON_AddStringToObject(out, "key_file", path);
    cJSON_AddStringToObject(out, "public", kp.pub);
    cJSON_Delete(none);
    return ctl_reply_json(self, req, out, err);
fail:
    cJSON_Delete(none);
    return rc;
}

/* op_identity_list - the authorized identities: name, role, tenants, environments, public key */
int op_identity_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *all, *items, *it, *out;
    int rc = cmk_authorized_load(self->cfg->run_dir, &all, err);

    if (rc < 0)
        return rc;
    out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(out, "items");
    cJSON_ArrayForEach(it, all)
    {
        cJSON *o = cJSON_CreateObject(), *t = cJSON_GetObjectItem(it, "tenants"),
              *e = cJSON_GetObjectItem(it, "envs");
        char tenants[256] = "", envs[256] = "";
        const cJSON *x;
        cJSON_ArrayForEach(x, t)
        {
            size_t n = strlen(tenants);
            if (cJSON_IsString(x))
                snprintf(tenants + n, sizeof tenants - n, "%s%s", n ? "," : "", x->valuestring);
        }
        cJSON_ArrayForEach(x, e)
        {
            size_t n = strlen(envs);
            if (cJSON_IsString(x))
                snprintf(envs + n, sizeof envs - n, "%s%s", n ? "," : "", x->valuestring);
        }
        cJSON_AddStringToObject(o, "name", cmk_json_str(it, "name", ""));
        cJSON_AddStringToObject(o, "role", cmk_json_str(it, "role", ""));
        cJSON_AddStringToObject(o, "tenants", tenants);
        cJSON_AddStringToObject(o, "envs", envs);
        cJSON_AddStringToObject(o, "public", cmk_json_str(it, "key", ""));
        cJSON_AddItemToArray(items, o);
    }
    cJSON_Delete(all);
    return ctl_reply_json(self, req, out, err);
}

/* op_identity_remove - {name}: an identity added with identity.add, out of authorized.json */
int op_identity_remove(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    const char *name = cmk_json_str(req->body, "name", "");
    const cJSON *entry;
    int rc;

    if ((rc = valid_name(name, err)) < 0)
        return rc;
    entry = cmk_zap_entry(self->zap, name);
    if (!entry)
        return cmk_err_set(err, CMK_ENOENT, "no identity '%s'; `cmkctl identity list` shows them",
                           name);
    if (!authz_role_assignable(cmk_json_str(entry, "role", "")))
        return cmk_err_set(err, CMK_EINVAL,
                           "identity '%s' (role %s) belongs to the cluster; only identities made "
                           "with `cmkctl identity add` can be removed",
                           name, cmk_json_str(entry, "role", ""));
    /* fail closed: the removal is recorded first, and not made when it cannot be (a failure
     * to remove is recorded after it) */
    if ((rc = audit_must(self->audit, req->user, "identity.remove", name, 0, NULL, err)) < 0)
        return rc;
    if ((rc = cmk_authorized_remove(self->cfg->run_dir, name, err)) < 0) {
        audit_append(self->audit, req->user, "identity.remove", name, rc, err->msg, NULL, NULL);
        return rc;
    }
    drop_key_files(self, name);
    {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "name", name);
        cJSON_AddBoolToObject(out, "removed", 1);
        return ctl_reply_json(self, req, out, err);
    }
}
