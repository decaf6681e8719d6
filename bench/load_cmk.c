/*
 * load_cmk.c - the customer-managed key side of a cmk-bench load workload: a key vault with
 * purge protection, an RSA key, an Encryption enterprise policy whose identity is granted get,
 * wrapKey and unwrapKey, and adding environments to that policy (an operation polled until it
 * ends). Names come from the workload's "cmk" object; what exists already is reused, so a
 * workload can run twice against one cluster.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "load_int.h"
#include "ops.h"

#define LD_OP_WAIT_MS 120000     /* an add-to-policy operation must end within this */
#define LD_CMK_DEFAULT_LIMIT 25  /* CMK environments per tenant without a support ticket */

/* call_ok - one request; CMK_EEXIST counts as done when exist_ok (body owned) */
static int call_ok(ld_run *r, cmk_client *c, const char *type, cJSON *body, int exist_ok,
                   cmk_msg **rep, cmk_err *err)
{
    int rc = cmk_client_call(c, type, body, r->wl.request_timeout_ms, rep, err);

    cJSON_Delete(body);
    if (rc == CMK_EEXIST && exist_ok) {
        cmk_err_clear(err);
        return 0;
    }
    if (rc < 0)
        cmk_err_prefix(err, "%s: ", type);
    return rc;
}

/* raise_limit - more CMK environments than the default limit of 25: the support ticket */
static int raise_limit(ld_run *r, cmk_client *c, cmk_err *err)
{
    int need = r->wl.dedicated, rc;
    char admin_key[4200];
    cmk_client *admin;
    cJSON *b;

    for (int i = 0; i < r->wl.nevents; i++)
        need += r->wl.events[i].kind == BENCH_EV_APPLY_CMK;
    if (need <= LD_CMK_DEFAULT_LIMIT)
        return 0;
    bench_progress_line(&r->prog, "raising tenant %s's CMK environment limit to %d (support ticket)",
                        r->wl.tenant, need + LD_CMK_DEFAULT_LIMIT);
    /* a support ticket is an admin operation (docs/SECURITY.md): the bench's own identity may
     * not file it, so it uses the cluster owner's admin key for this one call */
    snprintf(admin_key, sizeof admin_key, "%s/keys/admin.key", r->run_dir);
    if (!(admin = cmk_client_new(r->run_dir, admin_key, err)))
        return cmk_err_prefix(err, "the workload needs %d CMK environments, more than %d: raising "
                                   "the limit needs the admin key %s: ",
                              need, LD_CMK_DEFAULT_LIMIT, admin_key);
    (void)c;
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "tenant", r->wl.tenant);
    cJSON_AddNumberToObject(b, "limit", need + LD_CMK_DEFAULT_LIMIT); /* room for a second run */
    rc = call_ok(r, admin, CMK_T_SUPPORT_RAISE_CMK_LIMIT, b, 0, NULL, err);
    cmk_client_destroy(&admin);
    return rc;
}

/* ld_cmk_setup - vault, key, policy, grant, validate, and the limit if needed */
int ld_cmk_setup(ld_run *r, cmk_client *c, cmk_err *err)
{
    const bench_workload *w = &r->wl;
    cmk_msg *rep = NULL;
    cJSON *b;
    int rc;

    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "tenant", w->tenant);
    cJSON_AddStringToObject(b, "vault", w->cmk_vault);
    cJSON_AddStringToObject(b, "region", w->region);
    cJSON_AddBoolToObject(b, "purge_protection", 1);
    if ((rc = call_ok(r, c, CMK_T_VAULT_CREATE, b, 1, NULL, err)) < 0)
        return rc;
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "vault", w->cmk_vault);
    cJSON_AddStringToObject(b, "name", w->cmk_key);
    if ((rc = call_ok(r, c, CMK_T_KEY_SHOW, b, 0, NULL, err)) == CMK_ENOENT) {
        cmk_err_clear(err);
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "vault", w->cmk_vault);
        cJSON_AddStringToObject(b, "name", w->cmk_key);
        rc = call_ok(r, c, CMK_T_KEY_CREATE, b, 0, NULL, err);
    }
    if (rc < 0)
        return rc;
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "policy", w->cmk_policy);
    if ((rc = call_ok(r, c, CMK_T_POLICY_SHOW, b, 0, &rep, err)) == CMK_ENOENT) {
        cmk_err_clear(err);
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "tenant", w->tenant);
        cJSON_AddStringToObject(b, "name", w->cmk_policy);
        cJSON_AddStringToObject(b, "vault", w->cmk_vault);
        cJSON_AddStringToObject(b, "key", w->cmk_key);
        cJSON_AddStringToObject(b, "region", w->region);
        rc = call_ok(r, c, CMK_T_POLICY_CREATE, b, 0, &rep, err);
    }
    if (rc < 0)
        return rc;
    cmk_strlcpy(r->identity, cmk_json_str(rep->body, "identity", ""), sizeof r->identity);
    cmk_msg_destroy(&rep);
    if (!r->identity[0])
        return cmk_err_set(err, CMK_EPROTO, "policy %s has no identity in its answer", w->cmk_policy);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "vault", w->cmk_vault);
    cJSON_AddStringToObject(b, "principal", r->identity);
    cJSON_AddStringToObject(b, "perms", "get,wrapKey,unwrapKey");
    if ((rc = call_ok(r, c, CMK_T_VAULT_GRANT, b, 1, NULL, err)) < 0)
        return rc;
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "policy", w->cmk_policy);
    if ((rc = call_ok(r, c, CMK_T_POLICY_VALIDATE, b, 0, NULL, err)) < 0)
        return rc;
    return raise_limit(r, c, err);
}

/* ld_cmk_link - policy.link, then policy.operation every 100 ms until it ends */
int ld_cmk_link(ld_run *r, cmk_client *c, const char *env, cmk_err *err)
{
    cmk_msg *rep = NULL;
    char id[96];
    cJSON *b = cJSON_CreateObject();
    int rc;

    cJSON_AddStringToObject(b, "policy", r->wl.cmk_policy);
    cJSON_AddStringToObject(b, "env", env);
    if ((rc = call_ok(r, c, CMK_T_POLICY_LINK, b, 0, &rep, err)) < 0)
        return rc;
    cmk_strlcpy(id, cmk_json_str(rep->body, "id", ""), sizeof id);
    cmk_msg_destroy(&rep);
    for (int waited = 0; waited < LD_OP_WAIT_MS; waited += 100) {
        const char *status;
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "id", id);
        if ((rc = call_ok(r, c, CMK_T_POLICY_OPERATION, b, 0, &rep, err)) < 0)
            return rc;
        status = cmk_json_str(rep->body, "status", "");
        if (strcmp(status, "Running") != 0) {
            rc = strcmp(status, "Succeeded") == 0
                     ? 0
                     : cmk_err_set(err, CMK_ESTATE, "adding %s to policy %s: %s - %s", env,
                                   r->wl.cmk_policy, status, cmk_json_str(rep->body, "message", ""));
            cmk_msg_destroy(&rep);
            return rc;
        }
        cmk_msg_destroy(&rep);
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
    }
    return cmk_err_set(err, CMK_ETIMEOUT,
                       "adding %s to policy %s did not end within %d s; see `cmkctl policy "
                       "operation %s`",
                       env, r->wl.cmk_policy, LD_OP_WAIT_MS / 1000, id);
}
