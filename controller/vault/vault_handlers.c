/*
 * ops_vault.c - front operations of the simulated Azure Key Vault: vaults and their access
 * lists. Every vault call runs in the job pool (RSA work never blocks routing) and is audited
 * by the vault itself. The calling principal is the client's CURVE identity (ZAP User-Id).
 * Key operations are in ops_key.c.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "op_fields.h"
#include "log.h"
#include "util.h"
#include "vault.h"

/* A vault operation in flight. */
typedef struct {
    ctl *ctl;                /* the controller */
    cmk_msg *reply;          /* addressed reply, filled by done */
    char principal[64];      /* the caller */
    char op[CMK_PROTO_MAX_TYPE + 1];
    cJSON *body;             /* request body (owned copy) */
    ctl_vault_fn fn;         /* the operation */
    cJSON *out;              /* its result */
    cmk_err err;             /* its error */
    int rc;                  /* its status */
} vault_job;

static void vault_job_work(void *arg)
{
    vault_job *j = arg;
    j->rc = j->fn(j->ctl, j->principal, j->body, &j->out, &j->err);
}

static void vault_job_done(void *arg)
{
    vault_job *j = arg;
    const char *target = cmk_json_str(j->body, "vault", cmk_json_str(j->body, "name", "-"));
    if (j->rc < 0) {
        cmk_msg *e = cmk_msg_error(j->reply, j->rc, j->err.msg);
        cmk_log(CMK_LOG_WARN, NULL, j->reply->reqid, "vault.refused", "op=%s target=%s by=%s code=%s error=\"%s\"",
                j->op, target, j->principal, cmk_code_name(j->rc), j->err.msg);
        cmk_msg_destroy(&j->reply);
        broker_reply(j->ctl->broker, e);
        cJSON_Delete(j->out);
    } else {
        cmk_log(CMK_LOG_INFO, NULL, j->reply->reqid, "vault.op", "op=%s target=%s by=%s", j->op,
                target, j->principal);
        cmk_msg_set_body(j->reply, j->out ? j->out : cJSON_CreateObject());
        broker_reply(j->ctl->broker, j->reply);
        /* a change to a vault or key may cut a policy off from its key: check at once */
        if (!strstr(j->op, "show") && !strstr(j->op, "list") && !strstr(j->op, "access") && !strstr(j->op, "versions"))
            policy_health_check(j->ctl->policies, j->op);
    }
    cJSON_Delete(j->body);
    free(j);
}

/* ctl_vault_submit - run fn(body) in the pool and reply with its result */
int ctl_vault_submit(ctl *self, const cmk_msg *req, ctl_vault_fn fn, cmk_err *err)
{
    vault_job *j = calloc(1, sizeof *j);
    if (!j)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    j->ctl = self;
    j->fn = fn;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    j->body = cJSON_Duplicate(req->body, 1);
    cmk_strlcpy(j->principal, req->user[0] ? req->user : "anonymous", sizeof j->principal);
    cmk_strlcpy(j->op, req->type, sizeof j->op);
    if (!j->reply || !j->body || jobs_submit(self->jobs, vault_job_work, vault_job_done, j, err) < 0) {
        cmk_msg_destroy(&j->reply);
        cJSON_Delete(j->body);
        free(j);
        return err && err->code ? err->code : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    return 0;
}

/* flag_of - a JSON boolean member as a vault_flag (absent: default) */
vault_flag ctl_flag_of(const cJSON *body, const char *name)
{
    const cJSON *it = cJSON_GetObjectItem(body, name);
    if (!cJSON_IsBool(it))
        return VAULT_DEFAULT;
    return cJSON_IsTrue(it) ? VAULT_ON : VAULT_OFF;
}

/* need - a required string member */
const char *ctl_need(const cJSON *body, const char *name, cmk_err *err)
{
    const char *v = cmk_json_str(body, name, NULL);
    if (!v || !*v)
        cmk_err_set(err, CMK_EINVAL, "missing '%s'", name);
    return v && *v ? v : NULL;
}

static int do_vault_create(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_props props = { 0 };
    vault_info info;
    const char *tenant = ctl_need(b, "tenant", err), *name = ctl_need(b, "vault", err);
    cJSON *t;
    int64_t days = 0;
    int rc;

    if (!tenant || !name)
        return CMK_EINVAL;
    if ((rc = cmk_op_get_int(CMK_T_VAULT_CREATE, b, "retention_days", &days, err)) < 0) /* 7..90 */
        return rc;
    if ((rc = directory_tenant_get(c->dir, tenant, &t, err)) < 0)
        return rc;
    cJSON_Delete(t);
    props.region = cmk_json_str(b, "region", NULL);
    props.retention_days = (int)days;
    props.soft_delete = ctl_flag_of(b, "soft_delete");
    props.purge_protection = ctl_flag_of(b, "purge_protection");
    props.public_network_access = ctl_flag_of(b, "public_network_access");
    if ((rc = vault_create(c->vault, who, tenant, name, &props, &info, err)) < 0)
        return rc;
    *out = vault_info_to_json(&info);
    return 0;
}

static int do_vault_show(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_info info;
    const char *name = ctl_need(b, "vault", err);
    int rc;
    if (!name)
        return CMK_EINVAL;
    if ((rc = vault_get(c->vault, who, name, &info, err)) < 0)
        return rc;
    *out = vault_info_to_json(&info);
    return 0;
}

static int do_vault_list(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_info *list;
    size_t n;
    int deleted = cmk_json_bool(b, "deleted", 0);
    int rc = vault_list(c->vault, who, cmk_json_str(b, "tenant", NULL), deleted, &list, &n, err);
    cJSON *items;
    if (rc < 0)
        return rc;
    *out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(*out, "items");
    /* `vault list --deleted` is Azure's `az keyvault list-deleted`: the deleted vaults only */
    for (size_t i = 0; i < n; i++)
        if (!deleted || list[i].deleted_ms)
            cJSON_AddItemToArray(items, vault_info_to_json(&list[i]));
    free(list);
    return 0;
}

static int do_vault_update(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_update_req req = { 0 };
    vault_info info;
    const char *name = ctl_need(b, "vault", err);
    int rc;
    if (!name)
        return CMK_EINVAL;
    req.soft_delete = ctl_flag_of(b, "soft_delete");
    req.purge_protection = ctl_flag_of(b, "purge_protection");
    req.public_network_access = ctl_flag_of(b, "public_network_access");
    if ((rc = vault_update(c->vault, who, name, &req, &info, err)) < 0)
        return rc;
    *out = vault_info_to_json(&info);
    if (cmk_json_str(b, "default_action", NULL) || cmk_json_str(b, "bypass", NULL)) {
        /* the firewall's default action and trusted-services exception */
        vault_network_req nr = { .default_action = cmk_json_str(b, "default_action", NULL),
                                 .bypass = cmk_json_str(b, "bypass", NULL) };
        cJSON *acl = NULL;
        if ((rc = vault_network_change(c->vault, who, name, &nr, &acl, err)) < 0) {
            cJSON_Delete(*out);
            *out = NULL;
            return rc;
        }
        cJSON_AddItemToObject(*out, "networkAcls", acl);
    }
    return 0;
}

/* do_vault_network_rule - {vault, action: list|add|remove, ip? | vnet?} */
static int do_vault_network_rule(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *name = ctl_need(b, "vault", err), *action = cmk_json_str(b, "action", "list");
    vault_network_req nr = { 0 };
    if (!name)
        return CMK_EINVAL;
    if (strcmp(action, "list") == 0)
        return vault_network_show(c->vault, who, name, out, err);
    if (strcmp(action, "add") != 0 && strcmp(action, "remove") != 0)
        return cmk_err_set(err, CMK_EINVAL, "a network rule is added, removed or listed, not '%s'", action);
    nr.ip = cmk_json_str(b, "ip", NULL);
    nr.vnet = cmk_json_str(b, "vnet", NULL);
    nr.remove = strcmp(action, "remove") == 0;
    if (!nr.ip == !nr.vnet)
        return cmk_err_set(err, CMK_EINVAL, "name one rule: an IP address or range (ip) or a subnet id (vnet)");
    return vault_network_change(c->vault, who, name, &nr, out, err);
}

/* simple_vault - delete, recover, purge */
static int simple_vault(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err,
                        int (*fn)(vault_svc *, const char *, const char *, cmk_err *), const char *done)
{
    const char *name = ctl_need(b, "vault", err);
    int rc;
    if (!name)
        return CMK_EINVAL;
    if ((rc = fn(c->vault, who, name, err)) < 0)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "vault", name);
    cJSON_AddBoolToObject(*out, done, 1);
    return 0;
}

static int do_vault_delete(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_vault(c, w, b, o, e, vault_delete, "deleted"); }
static int do_vault_recover(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_vault(c, w, b, o, e, vault_recover, "recovered"); }
static int do_vault_purge(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_vault(c, w, b, o, e, vault_purge, "purged"); }

/* access_change - grant or revoke */
static int access_change(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err, int grant)
{
    const char *name = ctl_need(b, "vault", err), *principal = ctl_need(b, "principal", err);
    const char *perms_text = ctl_need(b, "perms", err);
    unsigned perms;
    char buf[512];
    int rc;
    if (!name || !principal || !perms_text)
        return CMK_EINVAL;
    if ((rc = vault_perms_parse(perms_text, &perms, err)) < 0)
        return rc;
    rc = grant ? vault_access_grant(c->vault, who, name, principal, perms, err)
               : vault_access_revoke(c->vault, who, name, principal, perms, err);
    if (rc < 0)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "vault", name);
    cJSON_AddStringToObject(*out, "principal", principal);
    cJSON_AddStringToObject(*out, grant ? "granted" : "revoked", vault_perms_format(perms, buf, sizeof buf));
    return 0;
}

static int do_vault_grant(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return access_change(c, w, b, o, e, 1); }
static int do_vault_revoke(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return access_change(c, w, b, o, e, 0); }

static int do_vault_access(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_access_entry *list;
    size_t n;
    const char *name = ctl_need(b, "vault", err);
    cJSON *items;
    int rc;
    if (!name)
        return CMK_EINVAL;
    if ((rc = vault_access_list(c->vault, who, name, &list, &n, err)) < 0)
        return rc;
    *out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(*out, "items");
    for (size_t i = 0; i < n; i++) {
        char buf[512];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "principal", list[i].principal);
        cJSON_AddStringToObject(o, "perms", vault_perms_format(list[i].perms, buf, sizeof buf));
        cJSON_AddItemToArray(items, o);
    }
    free(list);
    return 0;
}

#define VAULT_OP(name, fn)                                                                         \
    int name(void *ctx, const cmk_msg *req, cmk_err *err) { return ctl_vault_submit(ctx, req, fn, err); }

VAULT_OP(op_vault_create, do_vault_create)
VAULT_OP(op_vault_show, do_vault_show)
VAULT_OP(op_vault_list, do_vault_list)
VAULT_OP(op_vault_update, do_vault_update)
VAULT_OP(op_vault_delete, do_vault_delete)
VAULT_OP(op_vault_recover, do_vault_recover)
VAULT_OP(op_vault_purge, do_vault_purge)
VAULT_OP(op_vault_grant, do_vault_grant)
VAULT_OP(op_vault_revoke, do_vault_revoke)
VAULT_OP(op_vault_access, do_vault_access)
VAULT_OP(op_vault_network_rule, do_vault_network_rule)
