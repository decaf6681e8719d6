/*
 * ops.h - the one operation table: every message type of cmksim, declared once.
 *
 * Each row of CMK_OPS says, for one request type:
 *   ID, "type"  the enum suffix (CMK_OP_<ID>) and the wire name (CMK_T_<ID>, a constant)
 *   handler     the controller's handler (controller/dispatch.c binds it): op_route for types
 *               that go to an environment's worker; op_not_dispatched for `ready` (the broker
 *               registers peers itself) and for internal types
 *   door        FRONT (clients -> controller), BACK (peers -> controller) or INTERNAL (only the
 *               controller, or a worker, sends it to a peer; never accepted at either door)
 *   class       the authorization class (controller/authz/: which roles may call it)
 *   scope       how a tenant-admin is scoped: NONE, TENANT (by the fields), GLOBAL
 *   route       CTL (the controller answers), WORKER (the environment's worker), WORKER_BOTH
 *               (both workers of a CMK environment, merged), GATEWAY, FIREWALL
 *   flags       OPF_READY (the environment must be Ready), OPF_ANYSTATE (any state),
 *               OPF_MIGBLOCK (refused while the environment's flows migrate)
 *   max body    the largest JSON body accepted (bytes); requests carry no binary frames
 *   owned       body fields the controller decides: overwritten before forwarding, never
 *               taken from the client
 *   help        one line for `cmkctl protocol`, docs/PROTOCOL.md and errors
 *   fields...   for a tenant-admin: the body fields naming the tenant's object, and what each
 *               names (F_TENANT, F_ENV, F_VAULT, F_POLICY, F_POLICY_OP, F_BACKUP)
 *
 * Dispatch and size limits (controller/broker/), the authorization matrix
 * (controller/authz/), routing (controller/broker/route.c), the worker's and gateway's tables,
 * cmkctl's request names and docs/PROTOCOL.md's table all read this one declaration;
 * tests/unit/ops_test.c proves them complete. Protocol-level messages (ready's heartbeats,
 * reply, error, disconnect, shutdown) are in proto.h.
 */
#ifndef CMK_OPS_H
#define CMK_OPS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Which door an operation comes through. */
typedef enum {
    AUTHZ_FRONT,    /* the front ROUTER: clients */
    AUTHZ_BACK,     /* the back ROUTER: registered peers */
    AUTHZ_INTERNAL, /* sent only by the controller (or a worker) to a peer */
} authz_door;

/* Operation classes: the columns of the authorization matrix. */
typedef enum {
    AUTHZ_READ,    /* shows, lists, status, verify: changes nothing */
    AUTHZ_WRITE,   /* tenants, environments, flows, runs, connections, settings */
    AUTHZ_KEYS,    /* vaults, keys, enterprise policies, tenant keys: key material and its use */
    AUTHZ_FAULT,   /* fault injection at the edge (bench events, drills) */
    AUTHZ_ADMIN,   /* the cluster itself: shutdown, clock, firewall config, support, identities */
    AUTHZ_SYSTEM,  /* front calls only peers make (the gateway's flow.invoke) */
    AUTHZ_PEER,    /* back channel: register as a peer (ready), then heartbeats and replies */
    AUTHZ_DATAKEY, /* back channel: a worker's data keys */
    AUTHZ_RELAY,   /* back channel: a worker's call relayed to the other worker of its environment */
    AUTHZ_NCLASS
} authz_class;

/* How the tenant of a request is found, for a tenant-admin. */
typedef enum {
    AUTHZ_SCOPE_NONE,   /* touches no tenant's data (ping, status, clock.show) */
    AUTHZ_SCOPE_TENANT, /* acts on one tenant's objects: resolved from the body */
    AUTHZ_SCOPE_GLOBAL, /* cluster-wide data across tenants (audit log, tenant list, firewall) */
} authz_scope;

/* What a body field names. */
typedef enum {
    AUTHZ_REF_NONE,      /* end of the field list */
    AUTHZ_REF_TENANT,    /* a tenant id */
    AUTHZ_REF_ENV,       /* an environment id or name */
    AUTHZ_REF_VAULT,     /* a vault name */
    AUTHZ_REF_POLICY,    /* an enterprise policy id or name */
    AUTHZ_REF_POLICY_OP, /* a policy operation id (its environment's tenant) */
    AUTHZ_REF_BACKUP,    /* an environment backup id (its environment's tenant) */
} authz_ref;

/* A body field that names the tenant's object. */
typedef struct {
    const char *field; /* body member, e.g. "env" */
    authz_ref ref;     /* what it names */
} authz_field;

#define AUTHZ_MAX_FIELDS 3

/* Where a request is answered. */
typedef enum {
    CMK_ROUTE_CTL,         /* the controller */
    CMK_ROUTE_WORKER,      /* the worker that holds the environment (or the flow) */
    CMK_ROUTE_WORKER_BOTH, /* a CMK environment's dedicated and shared worker, answers merged */
    CMK_ROUTE_GATEWAY,     /* the gateway */
    CMK_ROUTE_FIREWALL,    /* the customer firewall */
} cmk_route;

/* Flags of an operation. */
#define OPF_READY 0x1    /* the environment must be Ready (not Locked, not in an operation) */
#define OPF_ANYSTATE 0x2 /* answered in any environment state (reads of history) */
#define OPF_MIGBLOCK 0x4 /* refused while the environment's flows migrate */

/* Body size limits. */
#define CMK_OP_KIB16 (16 * 1024)
#define CMK_OP_KIB64 (64 * 1024)
#define CMK_OP_MIB (1024 * 1024)
#define CMK_OP_MAX (16 * 1024 * 1024) /* CMK_PROTO_MAX_BODY */

/* Fields the controller owns in a request routed to a worker. */
#define CMK_OWN_NONE ""
#define CMK_OWN_ROUTED "env region infrastructure encryption requested_by clock_ms"

/* One row, as the table's users see it. */
typedef struct {
    int id;                               /* CMK_OP_<ID> */
    const char *type;                     /* wire name, e.g. "key.unwrap" */
    authz_door door;                      /* front, back or internal */
    authz_class cls;                      /* authorization class */
    authz_scope scope;                    /* how a tenant-admin is scoped */
    cmk_route route;                      /* where it is answered */
    unsigned flags;                       /* OPF_* */
    size_t max_body;                      /* largest JSON body, bytes */
    const char *owned;                    /* controller-owned fields, space-separated */
    const char *help;                     /* one line */
    authz_field fields[AUTHZ_MAX_FIELDS]; /* for AUTHZ_SCOPE_TENANT: every present one is checked */
} cmk_op;

/* clang-format off */
#define CMK_OPS(X) \
    X(PING, "ping", op_ping, FRONT, READ, NONE, CTL, 0, KIB64, OWN_NONE, "pong from every process (or one: {target})", F_NONE) \
    X(STATUS, "status", op_status, FRONT, READ, NONE, CTL, 0, KIB64, OWN_NONE, "every process with pid, role, state, uptime, heartbeat age, restarts", F_NONE) \
    X(SHUTDOWN, "shutdown", op_shutdown, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "stop the whole cluster", F_NONE) \
    X(TENANT_CREATE, "tenant.create", op_tenant_create, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "create a tenant {id, name?}", F_TENANT("id")) \
    X(TENANT_LIST, "tenant.list", op_tenant_list, FRONT, READ, GLOBAL, CTL, 0, KIB64, OWN_NONE, "list tenants", F_NONE) \
    X(TENANT_SHOW, "tenant.show", op_tenant_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "one tenant {id}", F_TENANT("id")) \
    X(ENV_CREATE, "env.create", op_env_create, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "create an environment {tenant, name, region, type, managed?}", F_TENANT("tenant")) \
    X(ENV_LIST, "env.list", op_env_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "list environments {tenant?}", F_TENANT("tenant")) \
    X(ENV_SHOW, "env.show", op_env_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "one environment {env}", F_ENV("env")) \
    X(ENV_ENABLE_MANAGED, "env.enable-managed", op_env_enable_managed, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "make an environment a managed environment {env}", F_ENV("env")) \
    X(ENV_DELETE, "env.delete", op_env_delete, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "delete an environment {env}", F_ENV("env")) \
    X(CLOCK_SHOW, "clock.show", op_clock_show, FRONT, READ, NONE, CTL, 0, KIB64, OWN_NONE, "the controller's clock", F_NONE) \
    X(CLOCK_ADVANCE, "clock.advance", op_clock_advance, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "move a virtual clock forward {by}", F_NONE) \
    X(FLOW_CREATE, "flow.create", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, MIB, OWN_ROUTED, "create a flow {env, name, definition, in_solution?, kind?}", F_ENV("env")) \
    X(FLOW_GET, "flow.get", op_route, FRONT, READ, TENANT, WORKER, OPF_READY, KIB64, OWN_ROUTED, "a flow with its definition {env, flow}", F_ENV("env")) \
    X(FLOW_LIST, "flow.list", op_route, FRONT, READ, TENANT, WORKER_BOTH, OPF_ANYSTATE, KIB64, OWN_ROUTED, "flows of an environment {env}", F_ENV("env")) \
    X(FLOW_UPDATE, "flow.update", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, MIB, OWN_ROUTED, "replace a flow's definition or name {env, flow, ...}", F_ENV("env")) \
    X(FLOW_DELETE, "flow.delete", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, KIB64, OWN_ROUTED, "delete a flow {env, flow}", F_ENV("env")) \
    X(FLOW_ENABLE, "flow.enable", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, KIB64, OWN_ROUTED, "turn a flow on {env, flow}", F_ENV("env")) \
    X(FLOW_DISABLE, "flow.disable", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, KIB64, OWN_ROUTED, "turn a flow off {env, flow}", F_ENV("env")) \
    X(FLOW_SAVE_AS, "flow.save-as", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, KIB64, OWN_ROUTED, "copy a flow with a new id (and trigger URL) {env, flow, name}", F_ENV("env")) \
    X(FLOW_EXPORT, "flow.export", op_route, FRONT, READ, TENANT, WORKER, OPF_READY, KIB64, OWN_ROUTED, "a flow as a package {env, flow}", F_ENV("env")) \
    X(FLOW_IMPORT, "flow.import", op_route, FRONT, WRITE, TENANT, WORKER, OPF_MIGBLOCK|OPF_READY, MIB, OWN_ROUTED, "import a package {env, package}", F_ENV("env")) \
    X(FLOW_RUN, "flow.run", op_route, FRONT, WRITE, TENANT, WORKER, OPF_READY, MIB, OWN_ROUTED, "trigger a flow {env, flow, body?, client_req?}", F_ENV("env")) \
    X(FLOW_INVOKE, "flow.invoke", op_route, FRONT, SYSTEM, TENANT, WORKER, OPF_READY, MIB, OWN_ROUTED, "HTTP trigger from the gateway {env, flow, sig, ...}", F_ENV("env")) \
    X(FLOW_TRIGGER_URL, "flow.trigger-url", op_route, FRONT, WRITE, TENANT, WORKER, OPF_READY, KIB64, OWN_ROUTED, "an HTTP-trigger flow's URL with its signature (writers only) {env, flow}", F_ENV("env")) \
    X(FLOW_SCHEDULES, "flow.schedules", op_flow_schedules, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "recurrence schedules on the controller's clock {env?}", F_ENV("env")) \
    X(RUN_LIST, "run.list", op_route, FRONT, READ, TENANT, WORKER, OPF_ANYSTATE, KIB64, OWN_ROUTED, "runs of a flow, newest first {env, flow}", F_ENV("env")) \
    X(RUN_SHOW, "run.show", op_route, FRONT, READ, TENANT, WORKER_BOTH, OPF_ANYSTATE, KIB64, OWN_ROUTED, "one run in full {env, run}", F_ENV("env")) \
    X(RUN_EXPORT_CSV, "run.export-csv", op_route, FRONT, READ, TENANT, WORKER_BOTH, OPF_ANYSTATE, KIB64, OWN_ROUTED, "the All runs CSV of a flow (at most 100) {env, flow}", F_ENV("env")) \
    X(CONN_CREATE, "conn.create", op_route, FRONT, WRITE, TENANT, WORKER, OPF_READY, KIB64, OWN_ROUTED, "a connection {env, name, oauth, secret}", F_ENV("env")) \
    X(CONN_SHOW, "conn.show", op_route, FRONT, READ, TENANT, WORKER, OPF_READY, KIB64, OWN_ROUTED, "a connection without its secret {env, conn}", F_ENV("env")) \
    X(POLICY_CREATE, "policy.create", op_policy_create, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "an Encryption enterprise policy {tenant, name, vault, key, version?, region}", F_TENANT("tenant")) \
    X(POLICY_SHOW, "policy.show", op_policy_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "a policy and its environments {policy}", F_POLICY("policy")) \
    X(POLICY_LIST, "policy.list", op_policy_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "policies {tenant?}", F_TENANT("tenant")) \
    X(POLICY_VALIDATE, "policy.validate", op_policy_validate, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "check a policy's vault and key again {policy}", F_POLICY("policy")) \
    X(POLICY_DELETE, "policy.delete", op_policy_delete, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "delete a policy (its environments lock) {policy}", F_POLICY("policy")) \
    X(POLICY_LINK, "policy.link", op_policy_link, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "add an environment to a policy (an operation) {policy, env}", F_POLICY("policy"), F_ENV("env")) \
    X(POLICY_UNLINK, "policy.unlink", op_policy_unlink, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "remove an environment from its policy (an operation) {env}", F_ENV("env")) \
    X(POLICY_OPERATION, "policy.operation", op_policy_operation, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "an operation's status {id}", F_POLICY_OP("id")) \
    X(POLICY_APPLY_ROTATION, "policy.apply-rotation", op_policy_apply_rotation, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "apply a policy's pending key rotations now {policy}", F_POLICY("policy")) \
    X(ENV_REENABLE, "env.reenable", op_env_reenable, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "Re-enable environment after a lock (an operation) {env}", F_ENV("env")) \
    X(ENV_CMK_STATUS, "env.cmk-status", op_env_cmk_status, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "an environment's policy, encryption status and lock {env}", F_ENV("env")) \
    X(SUPPORT_RAISE_CMK_LIMIT, "support.raise-cmk-limit", op_support_raise_limit, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "the support ticket raising a tenant's CMK limit {tenant, limit}", F_NONE) \
    X(FIREWALL_STATUS, "firewall.status", op_firewall, FRONT, READ, GLOBAL, FIREWALL, 0, KIB64, OWN_NONE, "the customer firewall: mode, config, rules, counters", F_NONE) \
    X(FIREWALL_APPLY, "firewall.apply", op_firewall, FRONT, FAULT, GLOBAL, FIREWALL, 0, MIB, OWN_NONE, "swap the customer firewall's config {config: JSON text or path}", F_NONE) \
    X(FIREWALL_FAULT, "firewall.fault", op_firewall, FRONT, FAULT, GLOBAL, FIREWALL, 0, KIB64, OWN_NONE, "inject a fault at the customer edge {kind, ms, duration}", F_NONE) \
    X(METRICS, "metrics", op_metrics, FRONT, READ, GLOBAL, GATEWAY, 0, KIB64, OWN_NONE, "egress counters per tag and outcome (Prometheus text)", F_NONE) \
    X(TENANT_ENABLE_BYOK, "tenant.enable-byok", op_tenant_enable_byok, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "turn on the legacy self-managed key (BYOK) feature {tenant}", F_TENANT("tenant")) \
    X(TENANTKEY_GENERATE, "tenantkey.generate", op_tenantkey_generate, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "a new RSA-2048 key as a .pfx {tenant, region, name, password}", F_TENANT("tenant")) \
    X(TENANTKEY_UPLOAD, "tenantkey.upload", op_tenantkey_upload, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "upload a .pfx or .byok {tenant, region, name, data, password?, format}", F_TENANT("tenant")) \
    X(TENANTKEY_ACTIVATE, "tenantkey.activate", op_tenantkey_activate, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "activate an Available key {tenant, name}", F_TENANT("tenant")) \
    X(TENANTKEY_LIST, "tenantkey.list", op_tenantkey_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "the tenant's keys {tenant}", F_TENANT("tenant")) \
    X(TENANTKEY_KEK, "tenantkey.kek", op_tenantkey_kek, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "the key-exchange key for .byok files {tenant, region}", F_TENANT("tenant")) \
    X(TENANTKEY_STATUS, "tenantkey.status", op_tenantkey_status, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "the BYOK state of a tenant {tenant, region?}", F_TENANT("tenant")) \
    X(TENANT_LOCK, "tenant.lock", op_tenant_lock, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "lock the tenant's environments {tenant, data, password, format, confirmation}", F_TENANT("tenant")) \
    X(TENANT_UNLOCK_KEY, "tenant.unlock-key", op_tenant_unlock_key, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "upload the key that locked the tenant {tenant, data, password, format}", F_TENANT("tenant")) \
    X(ENV_BYOK, "env.byok", op_env_byok, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "BYOK environment operation {env, op: state|apply|return|unlock|reset, ...}", F_ENV("env")) \
    X(ENV_BACKUP, "env.backup", op_env_backup, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "back an environment up, sealed under its current key {env, label?}", F_ENV("env")) \
    X(ENV_BACKUPS, "env.backups", op_env_backups, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "an environment's backups with their encryption state at backup {env}", F_ENV("env")) \
    X(ENV_RESTORE, "env.restore", op_env_restore, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "restore a backup over an environment (default: its own) {backup, env?}", F_BACKUP("backup"), F_ENV("target"), F_ENV("env")) \
    X(ENV_COPY, "env.copy", op_env_copy, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "copy an environment's flows over another's (same key only) {source, target}", F_ENV("source"), F_ENV("target")) \
    X(ENV_RESET, "env.reset", op_env_reset, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "reset a sandbox: data and backups deleted, back to the Microsoft-managed key {env}", F_ENV("env")) \
    X(ENV_SETTINGS, "env.settings", op_env_settings, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "environment settings {env, create_flows_in_solutions?}", F_ENV("env")) \
    X(APP_REGISTER_FLOW, "app.register-flow", op_app_register_flow, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "an app references a Power Apps-trigger flow {env, flow, app}", F_ENV("env")) \
    X(MACHINE_GROUP, "machine-group", op_machine_group, FRONT, WRITE, TENANT, CTL, 0, KIB64, OWN_NONE, "hosted RPA machine groups {action: create|list|reprovision, env, name?, group?}", F_ENV("env")) \
    X(FLOWS_MMK, "flows.mmk", op_flows_mmk, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "Get-AdminFlowEncryptedByMicrosoftKey {env, cannot_migrate?}", F_ENV("env")) \
    X(ENV_MIGRATION, "env.migration", op_env_migration, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "an environment's flow migration and the flows it kept on the MMK {env}", F_ENV("env")) \
    X(SUPPORT_RUN_HISTORY, "support.run-history", op_support_run_history, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "summary of old and new runs, 30 days after migration {env}", F_ENV("env")) \
    X(SUPPORT_PROTECT_FLOWS, "support.protect-flows", op_support_protect_flows, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "move the flows that can now be migrated {env}", F_NONE) \
    X(DEK_LIST, "dek.list", op_dek_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "data keys of an environment (ids, KEKs) {env?}", F_ENV("env")) \
    X(AUDIT_LIST, "audit.list", op_audit_list, FRONT, READ, GLOBAL, CTL, 0, KIB64, OWN_NONE, "audit entries {principal?, operation?, target?, result?, limit?}", F_NONE) \
    X(AUDIT_VERIFY, "audit.verify", op_audit_verify, FRONT, READ, GLOBAL, CTL, 0, KIB64, OWN_NONE, "check the audit log's hash chain", F_NONE) \
    X(IDENTITY_ADD, "identity.add", op_identity_add, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "a client identity: key file and role {name, role, tenants?}", F_NONE) \
    X(IDENTITY_LIST, "identity.list", op_identity_list, FRONT, READ, GLOBAL, CTL, 0, KIB64, OWN_NONE, "the authorized identities with role and tenants", F_NONE) \
    X(IDENTITY_REMOVE, "identity.remove", op_identity_remove, FRONT, ADMIN, GLOBAL, CTL, 0, KIB64, OWN_NONE, "take an added identity out {name}", F_NONE) \
    X(VAULT_CREATE, "vault.create", op_vault_create, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "create a vault {tenant, vault, region, retention_days?, purge_protection?}", F_TENANT("tenant")) \
    X(VAULT_SHOW, "vault.show", op_vault_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "a vault's properties {vault}", F_VAULT("vault")) \
    X(VAULT_LIST, "vault.list", op_vault_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "vaults {tenant?, deleted?}", F_TENANT("tenant")) \
    X(VAULT_UPDATE, "vault.update", op_vault_update, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "change a vault {vault, soft_delete?, purge_protection?, public_network_access?}", F_VAULT("vault")) \
    X(VAULT_DELETE, "vault.delete", op_vault_delete, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "delete a vault (soft) {vault}", F_VAULT("vault")) \
    X(VAULT_RECOVER, "vault.recover", op_vault_recover, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "recover a deleted vault {vault}", F_VAULT("vault")) \
    X(VAULT_PURGE, "vault.purge", op_vault_purge, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "purge a deleted vault {vault}", F_VAULT("vault")) \
    X(VAULT_GRANT, "vault.grant", op_vault_grant, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "grant permissions {vault, principal, perms}", F_VAULT("vault")) \
    X(VAULT_REVOKE, "vault.revoke", op_vault_revoke, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "revoke permissions {vault, principal, perms}", F_VAULT("vault")) \
    X(VAULT_NETWORK_RULE, "vault.network-rule", op_vault_network_rule, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "the vault firewall {vault, action: list|add|remove, ip?|vnet?}", F_VAULT("vault")) \
    X(VAULT_ACCESS, "vault.access", op_vault_access, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "the access list {vault}", F_VAULT("vault")) \
    X(KEY_CREATE, "key.create", op_key_create, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "create a key or version {vault, name, kty?, size?, ops?, nbf?, exp?, tags?}", F_VAULT("vault")) \
    X(KEY_IMPORT, "key.import", op_key_import, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "import a private key {vault, name, data (base64 PEM/DER/PKCS#12), password?}", F_VAULT("vault")) \
    X(KEY_IMPORT_BYOK, "key.import-byok", op_key_import_byok, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "import a .byok file {vault, name, byok}", F_VAULT("vault")) \
    X(KEY_SHOW, "key.show", op_key_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "a key's public part {vault, name, version?, pem?}", F_VAULT("vault")) \
    X(KEY_LIST, "key.list", op_key_list, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "keys {vault, deleted?}", F_VAULT("vault")) \
    X(KEY_VERSIONS, "key.versions", op_key_versions, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "versions of a key {vault, name}", F_VAULT("vault")) \
    X(KEY_ROTATE, "key.rotate", op_key_rotate, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "a new version {vault, name}", F_VAULT("vault")) \
    X(KEY_UPDATE, "key.update", op_key_update, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "enable/disable, nbf, exp, tags {vault, name, version?}", F_VAULT("vault")) \
    X(KEY_DELETE, "key.delete", op_key_delete, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "delete (soft) {vault, name}", F_VAULT("vault")) \
    X(KEY_RECOVER, "key.recover", op_key_recover, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "recover a deleted key {vault, name}", F_VAULT("vault")) \
    X(KEY_PURGE, "key.purge", op_key_purge, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "purge a deleted key {vault, name}", F_VAULT("vault")) \
    X(KEY_BACKUP, "key.backup", op_key_backup, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "backup blob {vault, name}", F_VAULT("vault")) \
    X(KEY_RESTORE, "key.restore", op_key_restore, FRONT, KEYS, TENANT, CTL, 0, MIB, OWN_NONE, "restore a backup {vault, backup}", F_VAULT("vault")) \
    X(KEY_WRAP, "key.wrap", op_key_wrap, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "wrapKey {vault, name, version?, alg?, value}", F_VAULT("vault")) \
    X(KEY_UNWRAP, "key.unwrap", op_key_unwrap, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "unwrapKey {vault, name, version?, alg?, value}", F_VAULT("vault")) \
    X(KEY_POLICY_SET, "key.policy-set", op_key_policy_set, FRONT, KEYS, TENANT, CTL, 0, KIB64, OWN_NONE, "rotation policy {vault, name, rotate_after|rotate_before_expiry, expires_after?}", F_VAULT("vault")) \
    X(KEY_POLICY_SHOW, "key.policy-show", op_key_policy_show, FRONT, READ, TENANT, CTL, 0, KIB64, OWN_NONE, "rotation policy {vault, name}", F_VAULT("vault")) \
    X(READY, "ready", op_not_dispatched, BACK, PEER, NONE, CTL, 0, KIB64, OWN_NONE, "a peer registers: {role, name, pid, envs[]} (its name must be its CURVE identity)", F_NONE) \
    X(DEK_GET, "dek.get", op_dek_get, BACK, DATAKEY, NONE, CTL, 0, KIB64, OWN_NONE, "a worker's data key {env, purpose}; the reply carries two binary frames (id, key)", F_NONE) \
    X(FLOW_CHILD_RUN, "flow.child-run", op_flow_child_run, BACK, RELAY, NONE, CTL, 0, MIB, OWN_ROUTED, "a worker's child-flow call of a flow that lives on the other worker of the environment (a flow held on the Microsoft-managed key calling a migrated child); run there as flow.run {env, flow, caller, body?}", F_NONE) \
    X(CONN_USE, "conn.use", op_conn_use, BACK, RELAY, NONE, CTL, 0, KIB64, OWN_ROUTED, "a worker's use of a connection that moved to the environment's dedicated partition (by a flow held on the Microsoft-managed key); opened there as conn.show {env, conn, caller}", F_NONE) \
    X(FLOW_DUMP, "flow.dump", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: every flow of an environment with its data, for a migration or a backup {env}", F_NONE) \
    X(FLOW_PUT, "flow.put", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, MAX, OWN_NONE, "controller to worker: store a flow moved from another partition {env, flow}", F_NONE) \
    X(ENV_STAGE, "env.stage", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: a restore, copy or reset replaces the flows all at once: begin a staging area, swap it in (one transaction) or discard it {env, stage, step}", F_NONE) \
    X(ENV_RELEASE, "env.release", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: forget an environment's data key and partition handle {env}", F_NONE) \
    X(RUN_SUMMARY, "run.summary", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: runs before and after a migration {env}", F_NONE) \
    X(CONN_DUMP, "conn.dump", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: every connection of an environment, for a migration {env}", F_NONE) \
    X(CONN_PUT, "conn.put", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, MAX, OWN_NONE, "controller to worker: store a connection moved from another partition {env, conn}", F_NONE) \
    X(CONN_DELETE, "conn.delete", op_not_dispatched, INTERNAL, PEER, NONE, WORKER, 0, KIB64, OWN_NONE, "controller to worker: delete a connection once it moved {env, conn}", F_NONE) \
    X(GATEWAY_STATUS, "gateway.status", op_not_dispatched, INTERNAL, PEER, NONE, GATEWAY, 0, KIB64, OWN_NONE, "controller to gateway: listeners, in-flight calls", F_NONE) \
    X(HTTP_REQUEST, "http.request", op_not_dispatched, INTERNAL, PEER, NONE, GATEWAY, 0, MIB, OWN_NONE, "worker to gateway: an HTTP action {env, flow, run, method, uri, headers, body, infrastructure, region}", F_NONE)
/* clang-format on */

/* CMK_OP_<ID>: the row's index in cmk_op_table() */
#define CMK_OP_ENUM_(id, ...) CMK_OP_##id,
enum { CMK_OPS(CMK_OP_ENUM_) CMK_NOPS };

/* CMK_T_<ID>: the wire name, as a constant (use these, never the string) */
#define CMK_OP_NAME_(id, ...) extern const char CMK_T_##id[];
CMK_OPS(CMK_OP_NAME_)

/* cmk_op_table - every row, CMK_NOPS of them, in CMK_OP_<ID> order */
const cmk_op *cmk_op_table(void);

/* cmk_op_find - the row of a type, or NULL; a hash lookup, safe from any thread */
const cmk_op *cmk_op_find(const char *type);

/* cmk_op_owns - 1 if field is one the controller decides for op */
int cmk_op_owns(const cmk_op *op, const char *field);

/* cmk_op_door_name, cmk_op_route_name, authz_class_name - names for docs and messages */
const char *cmk_op_door_name(authz_door door);
const char *cmk_op_route_name(cmk_route route);
const char *authz_class_name(authz_class cls);

/* cmk_op_closest - the known type closest to an unknown one (edit distance), or NULL */
const char *cmk_op_closest(const char *type);

/* cmk_op_markdown - the table as docs/PROTOCOL.md shows it (caller frees) */
char *cmk_op_markdown(void);

/* cmk_op_json - the table as JSON (`cmkctl protocol --json`) */
cJSON *cmk_op_json(void);

#endif
