/*
 * ctl.h - the controller's state, shared by its modules: the broker (front/back sockets),
 * the supervisor (children), the ZAP handler and, in later modules, the domain stores.
 */
#ifndef CMK_CTL_H
#define CMK_CTL_H

#include <sqlite3.h>

#include "audit.h"
#include "broker.h"
#include "cluster_metrics.h"
#include "clock.h"
#include "directory.h"
#include "envops.h"
#include "flow_homes.h"
#include "jobs.h"
#include "keyring.h"
#include "migration.h"
#include "policy.h"
#include "tenantkey.h"
#include "vault.h"
#include "server.h"
#include "supervisor.h"
#include "ops.h"
#include "zap.h"

/* The controller. */
typedef struct {
    cmk_server *srv;   /* the daemon skeleton */
    cmk_config *cfg;   /* its config */
    broker *broker;    /* front door and back end */
    supervisor *sup;   /* children */
    cmk_zap *zap;      /* CURVE key check */
    sqlite3 *db;       /* controller.db */
    cmk_clock *clock;  /* the clock every timing rule reads */
    directory *dir;    /* tenants and environments */
    audit_log *audit;  /* hash-chained audit log */
    vault_svc *vault;  /* the simulated Azure Key Vault */
    jobs *jobs;        /* slow work off the loop */
    keyring *keyring;  /* environments' data keys */
    policy_svc *policies; /* enterprise policies, links, health monitor */
    tenantkey_svc *tenantkeys; /* legacy BYOK tenant keys */
    envops_svc *envops; /* environment backup, restore, copy, reset */
    flow_homes *homes;  /* where flows live while and after they migrate (the router reads it) */
    cluster_metrics gauges; /* what the metrics collect hook reads */
    int64_t clock_tick; /* loop timer that fires due clock timers */
    int lock_fd;       /* exclusive lock on <run>/controller.lock */
    int stopping;      /* shutdown in progress */
} ctl;

/* ctl_start - run dir, lock, keys, sockets, children */
int ctl_start(cmk_server *srv, ctl **out, cmk_err *err);

/* ctl_stop - release everything (children must be stopped already) */
void ctl_stop(ctl **self_p);

/* ctl_begin_shutdown - stop children, then the loop */
void ctl_begin_shutdown(ctl *self, const char *why);

/* ctl_handlers - every operation's handler, by CMK_OP_<ID> (dispatch.c) */
extern const broker_op_fn ctl_handlers[CMK_NOPS];

/* routing to an environment's worker (ops_route.c) */
void ctl_worker_of(const dir_env *env, char *name, size_t cap);
int ctl_route_to_worker(ctl *self, const cmk_msg *req, cmk_err *err);
int ctl_route_both(ctl *self, const cmk_msg *req, const dir_env *env, cmk_err *err);
int op_route(void *ctx, const cmk_msg *req, cmk_err *err);

/* ctl_migration_done - a migration ended (policy_link.c: completes the link or unlink) */
void ctl_migration_done(void *arg, const char *env, int rc, int moved, int held, const char *message);

/* migration operations (ops_migration.c) */
int op_flows_mmk(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_migration(void *ctx, const cmk_msg *req, cmk_err *err);
int op_support_run_history(void *ctx, const cmk_msg *req, cmk_err *err);
int op_support_protect_flows(void *ctx, const cmk_msg *req, cmk_err *err);
void ctl_mmk_warnings(ctl *self, const char *env, const char *encryption, cJSON *out);
int pol_op_new_public(ctl *self, const char *kind, const char *env, const char *policy, const char *principal,
                      char id[64], cmk_err *err);

/* the edge: firewall and gateway (ops_edge.c) */
int op_firewall(void *ctx, const cmk_msg *req, cmk_err *err);
int op_metrics(void *ctx, const cmk_msg *req, cmk_err *err);

/* legacy tenant keys (ops_tenantkey.c) */
int op_tenant_enable_byok(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_generate(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_upload(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_activate(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_kek(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenantkey_status(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_lock(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_unlock_key(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_byok(void *ctx, const cmk_msg *req, cmk_err *err);
/* ctl_tenantkey_event - the legacy BYOK events made real (controller/tenantkey/tenantkey_handlers.c):
 * applying a tenant key re-wraps the environment's data key under it, leaving re-wraps it under
 * the Microsoft-managed key, a lock makes the worker wipe its keys, a deletion drops them */
void ctl_tenantkey_event(const tenantkey_event *ev, void *arg);
cJSON *ctl_mmk_only_features(void);

/* environment backup, restore, copy, reset (ops_envops.c) */
int op_env_backup(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_backups(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_restore(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_copy(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_reset(void *ctx, const cmk_msg *req, cmk_err *err);

/* settings, app registration, machine groups (ops_apps.c) */
int op_env_settings(void *ctx, const cmk_msg *req, cmk_err *err);
int op_app_register_flow(void *ctx, const cmk_msg *req, cmk_err *err);
int op_machine_group(void *ctx, const cmk_msg *req, cmk_err *err);
int op_flow_schedules(void *ctx, const cmk_msg *req, cmk_err *err);

/* enterprise policies (ops_policy.c) */
int op_policy_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_validate(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_delete(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_link(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_unlink(void *ctx, const cmk_msg *req, cmk_err *err);
int op_policy_operation(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_reenable(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_cmk_status(void *ctx, const cmk_msg *req, cmk_err *err);
int op_support_raise_limit(void *ctx, const cmk_msg *req, cmk_err *err);

/* client identities (ops_identity.c) */
int op_identity_add(void *ctx, const cmk_msg *req, cmk_err *err);
int op_identity_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_identity_remove(void *ctx, const cmk_msg *req, cmk_err *err);

/* ctl_reply_json - reply to req with body (takes ownership of body) */
int ctl_reply_json(ctl *self, const cmk_msg *req, cJSON *body, cmk_err *err);

/* front operations of the directory (ops_directory.c) and of the clock (ops_clock.c) */
int op_tenant_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_enable_managed(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_delete(void *ctx, const cmk_msg *req, cmk_err *err);
int op_clock_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_audit_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_audit_verify(void *ctx, const cmk_msg *req, cmk_err *err);

/* vault operations (ops_vault.c, ops_key.c): fn runs in the job pool as `principal` */
typedef int (*ctl_vault_fn)(ctl *self, const char *principal, const cJSON *body, cJSON **out, cmk_err *err);
int ctl_vault_submit(ctl *self, const cmk_msg *req, ctl_vault_fn fn, cmk_err *err);
vault_flag ctl_flag_of(const cJSON *body, const char *name);
const char *ctl_need(const cJSON *body, const char *name, cmk_err *err);
int ctl_key_policy_json(ctl *c, const char *who, const char *v, const char *n, cJSON **out, cmk_err *err);
int op_vault_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_update(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_delete(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_recover(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_purge(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_grant(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_revoke(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_access(void *ctx, const cmk_msg *req, cmk_err *err);
int op_vault_network_rule(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_import(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_import_byok(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_versions(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_rotate(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_update(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_delete(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_recover(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_purge(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_backup(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_restore(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_wrap(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_unwrap(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_policy_set(void *ctx, const cmk_msg *req, cmk_err *err);
int op_key_policy_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_clock_advance(void *ctx, const cmk_msg *req, cmk_err *err);

#endif
