/*
 * ctl_ops.c - the controller's front operations: cluster-level requests (ping, status,
 * shutdown). Domain operations (tenants, vaults, policies, ...) live in their own modules and
 * are listed in this table.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
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
static int op_ping(void *arg, const cmk_msg *req, cmk_err *err)
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
static int op_status(void *arg, const cmk_msg *req, cmk_err *err)
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
static int op_shutdown(void *arg, const cmk_msg *req, cmk_err *err)
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

const broker_op ctl_ops[] = {
    { "ping", op_ping, "pong from every process (or one: {target})" },
    { "status", op_status, "every process with pid, role, state, uptime, heartbeat age, restarts" },
    { "shutdown", op_shutdown, "stop the whole cluster" },
    { "tenant.create", op_tenant_create, "create a tenant {id, name?}" },
    { "tenant.list", op_tenant_list, "list tenants" },
    { "tenant.show", op_tenant_show, "one tenant {id}" },
    { "env.create", op_env_create, "create an environment {tenant, name, region, type, managed?}" },
    { "env.list", op_env_list, "list environments {tenant?}" },
    { "env.show", op_env_show, "one environment {env}" },
    { "env.enable-managed", op_env_enable_managed, "make an environment a managed environment {env}" },
    { "env.delete", op_env_delete, "delete an environment {env}" },
    { "clock.show", op_clock_show, "the controller's clock" },
    { "clock.advance", op_clock_advance, "move a virtual clock forward {by}" },
    { "flow.create", op_route, "create a flow {env, name, definition, in_solution?, kind?}" },
    { "flow.get", op_route, "a flow with its definition {env, flow}" },
    { "flow.list", op_route, "flows of an environment {env}" },
    { "flow.update", op_route, "replace a flow's definition or name {env, flow, ...}" },
    { "flow.delete", op_route, "delete a flow {env, flow}" },
    { "flow.enable", op_route, "turn a flow on {env, flow}" },
    { "flow.disable", op_route, "turn a flow off {env, flow}" },
    { "flow.save-as", op_route, "copy a flow with a new id (and trigger URL) {env, flow, name}" },
    { "flow.export", op_route, "a flow as a package {env, flow}" },
    { "flow.import", op_route, "import a package {env, package}" },
    { "flow.run", op_route, "trigger a flow {env, flow, body?, client_req?}" },
    { "flow.invoke", op_route, "HTTP trigger from the gateway {env, flow, sig, ...}" },
    { "flow.schedules", op_flow_schedules, "recurrence schedules on the controller's clock {env?}" },
    { "run.list", op_route, "runs of a flow, newest first {env, flow}" },
    { "run.show", op_route, "one run in full {env, run}" },
    { "run.export-csv", op_route, "the All runs CSV of a flow (at most 100) {env, flow}" },
    { "conn.create", op_route, "a connection {env, name, oauth, secret}" },
    { "conn.show", op_route, "a connection without its secret {env, conn}" },
    { "policy.create", op_policy_create, "an Encryption enterprise policy {tenant, name, vault, key, version?, region}" },
    { "policy.show", op_policy_show, "a policy and its environments {policy}" },
    { "policy.list", op_policy_list, "policies {tenant?}" },
    { "policy.validate", op_policy_validate, "check a policy's vault and key again {policy}" },
    { "policy.delete", op_policy_delete, "delete a policy (its environments lock) {policy}" },
    { "policy.link", op_policy_link, "add an environment to a policy (an operation) {policy, env}" },
    { "policy.unlink", op_policy_unlink, "remove an environment from its policy (an operation) {env}" },
    { "policy.operation", op_policy_operation, "an operation's status {id}" },
    { "policy.apply-rotation", op_policy_apply_rotation, "apply a policy's pending key rotations now {policy}" },
    { "env.reenable", op_env_reenable, "Re-enable environment after a lock (an operation) {env}" },
    { "env.cmk-status", op_env_cmk_status, "an environment's policy, encryption status and lock {env}" },
    { "support.raise-cmk-limit", op_support_raise_limit, "the support ticket raising a tenant's CMK limit {tenant, limit}" },
    { "firewall.status", op_firewall, "the customer firewall: mode, config, rules, counters" },
    { "firewall.apply", op_firewall, "swap the customer firewall's config {config: JSON text or path}" },
    { "firewall.fault", op_firewall, "inject a fault at the customer edge {kind, ms, duration}" },
    { "metrics", op_metrics, "egress counters per tag and outcome (Prometheus text)" },
    { "tenant.enable-byok", op_tenant_enable_byok, "turn on the legacy self-managed key (BYOK) feature {tenant}" },
    { "tenantkey.generate", op_tenantkey_generate, "a new RSA-2048 key as a .pfx {tenant, region, name, password}" },
    { "tenantkey.upload", op_tenantkey_upload, "upload a .pfx or .byok {tenant, region, name, data, password?, format}" },
    { "tenantkey.activate", op_tenantkey_activate, "activate an Available key {tenant, name}" },
    { "tenantkey.list", op_tenantkey_list, "the tenant's keys {tenant}" },
    { "tenantkey.kek", op_tenantkey_kek, "the key-exchange key for .byok files {tenant, region}" },
    { "tenantkey.status", op_tenantkey_status, "the BYOK state of a tenant {tenant, region?}" },
    { "tenant.lock", op_tenant_lock, "lock the tenant's environments {tenant, data, password, format, confirmation}" },
    { "tenant.unlock-key", op_tenant_unlock_key, "upload the key that locked the tenant {tenant, data, password, format}" },
    { "env.byok", op_env_byok, "BYOK environment operation {env, op: state|apply|return|unlock|reset, ...}" },
    { "env.backup", op_env_backup, "back an environment up, sealed under its current key {env, label?}" },
    { "env.backups", op_env_backups, "an environment's backups with their encryption state at backup {env}" },
    { "env.restore", op_env_restore, "restore a backup over an environment (default: its own) {backup, env?}" },
    { "env.copy", op_env_copy, "copy an environment's flows over another's (same key only) {source, target}" },
    { "env.reset", op_env_reset, "reset a sandbox: data and backups deleted, back to the Microsoft-managed key {env}" },
    { "env.settings", op_env_settings, "environment settings {env, create_flows_in_solutions?}" },
    { "app.register-flow", op_app_register_flow, "an app references a Power Apps-trigger flow {env, flow, app}" },
    { "machine-group", op_machine_group, "hosted RPA machine groups {action: create|list|reprovision, env, name?, group?}" },
    { "flows.mmk", op_flows_mmk, "Get-AdminFlowEncryptedByMicrosoftKey {env, cannot_migrate?}" },
    { "env.migration", op_env_migration, "an environment's flow migration and the flows it kept on the MMK {env}" },
    { "support.run-history", op_support_run_history, "summary of old and new runs, 30 days after migration {env}" },
    { "support.protect-flows", op_support_protect_flows, "move the flows that can now be migrated {env}" },
    { "dek.list", op_dek_list, "data keys of an environment (ids, KEKs) {env?}" },
    { "audit.list", op_audit_list, "audit entries {principal?, operation?, target?, result?, limit?}" },
    { "audit.verify", op_audit_verify, "check the audit log's hash chain" },
    { "identity.add", op_identity_add, "a client identity: key file and role {name, role, tenants?}" },
    { "identity.list", op_identity_list, "the authorized identities with role and tenants" },
    { "identity.remove", op_identity_remove, "take an added identity out {name}" },
    { "vault.create", op_vault_create, "create a vault {tenant, vault, region, retention_days?, purge_protection?}" },
    { "vault.show", op_vault_show, "a vault's properties {vault}" },
    { "vault.list", op_vault_list, "vaults {tenant?, deleted?}" },
    { "vault.update", op_vault_update, "change a vault {vault, soft_delete?, purge_protection?, public_network_access?}" },
    { "vault.delete", op_vault_delete, "delete a vault (soft) {vault}" },
    { "vault.recover", op_vault_recover, "recover a deleted vault {vault}" },
    { "vault.purge", op_vault_purge, "purge a deleted vault {vault}" },
    { "vault.grant", op_vault_grant, "grant permissions {vault, principal, perms}" },
    { "vault.revoke", op_vault_revoke, "revoke permissions {vault, principal, perms}" },
    { "vault.access", op_vault_access, "the access list {vault}" },
    { "key.create", op_key_create, "create a key or version {vault, name, kty?, size?, ops?, nbf?, exp?, tags?}" },
    { "key.import", op_key_import, "import a private key {vault, name, data (base64 PEM/DER/PKCS#12), password?}" },
    { "key.import-byok", op_key_import_byok, "import a .byok file {vault, name, byok}" },
    { "key.show", op_key_show, "a key's public part {vault, name, version?, pem?}" },
    { "key.list", op_key_list, "keys {vault, deleted?}" },
    { "key.versions", op_key_versions, "versions of a key {vault, name}" },
    { "key.rotate", op_key_rotate, "a new version {vault, name}" },
    { "key.update", op_key_update, "enable/disable, nbf, exp, tags {vault, name, version?}" },
    { "key.delete", op_key_delete, "delete (soft) {vault, name}" },
    { "key.recover", op_key_recover, "recover a deleted key {vault, name}" },
    { "key.purge", op_key_purge, "purge a deleted key {vault, name}" },
    { "key.backup", op_key_backup, "backup blob {vault, name}" },
    { "key.restore", op_key_restore, "restore a backup {vault, backup}" },
    { "key.wrap", op_key_wrap, "wrapKey {vault, name, version?, alg?, value}" },
    { "key.unwrap", op_key_unwrap, "unwrapKey {vault, name, version?, alg?, value}" },
    { "key.policy-set", op_key_policy_set, "rotation policy {vault, name, rotate_after|rotate_before_expiry, expires_after?}" },
    { "key.policy-show", op_key_policy_show, "rotation policy {vault, name}" },
    { NULL, NULL, NULL },
};
