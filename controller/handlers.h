/*
 * handlers.h - what the controller's front-door handler files share (dispatch.c, route.c,
 * cluster_handlers.c and every handler file of a service): every handler, declared from the
 * operation table itself (common/ops.h CMK_OPS, so a row cannot name a missing function and a
 * definition cannot drift from its declaration), the routing of a request to an environment's
 * workers (controller/broker/route.c), and the helpers the vault's, tenant keys' and
 * migration's handlers share. Services (policy.c, migration.c, recurrence.c, ...) do not
 * include it: they are given their dependencies typed.
 */
#ifndef CMK_HANDLERS_H
#define CMK_HANDLERS_H

#include <cjson/cJSON.h>

#include "ctl.h"
#include "ops.h"
#include "route.h"

/* every handler of the operation table (bound by dispatch.c into ctl_handlers) */
#define CTL_HANDLER_DECL_(id, type, handler, ...) int handler(void *ctx, const cmk_msg *req, cmk_err *err);
CMK_OPS(CTL_HANDLER_DECL_)

/* routing to an environment's worker (controller/broker/route.c) */
int ctl_route_to_worker(ctl *self, const cmk_msg *req, cmk_err *err);
int ctl_route_both(ctl *self, const cmk_msg *req, const dir_env *env, cmk_err *err);

/* ctl_tenantkey_event - the legacy BYOK events made real (controller/tenantkey/tenantkey_handlers.c):
 * applying a tenant key re-wraps the environment's data key under it, leaving re-wraps it under
 * the Microsoft-managed key, a lock makes the worker wipe its keys, a deletion drops them */
void ctl_tenantkey_event(const tenantkey_event *ev, void *arg);

/* ctl_mmk_only_features - the features that stay on the Microsoft-managed key (seed 003) */
cJSON *ctl_mmk_only_features(void);

/* vault operations (controller/vault/vault_handlers.c, key_handlers.c): fn runs in the job pool
 * as `principal` */
typedef int (*ctl_vault_fn)(ctl *self, const char *principal, const cJSON *body, cJSON **out, cmk_err *err);
int ctl_vault_submit(ctl *self, const cmk_msg *req, ctl_vault_fn fn, cmk_err *err);
vault_flag ctl_flag_of(const cJSON *body, const char *name);
const char *ctl_need(const cJSON *body, const char *name, cmk_err *err);
int ctl_key_policy_json(ctl *c, const char *who, const char *v, const char *n, cJSON **out, cmk_err *err);

#endif
