/*
 * authz.h - the authorization matrix: which CURVE identity may call which operation.
 *
 * Every operation the controller takes (front door: cmkctl, cmk-bench, the gateway's ingress;
 * back channel: requests from peers) has ONE row in the operation table (common/ops.h): its class (read, write,
 * keys, fault, admin, system, peer, datakey), and for a tenant-admin how the tenant it acts on is
 * found in the request body (`tenant`, or the tenant of `env`, `vault`, `policy`, ...).
 * A role is allowed a set of classes:
 *
 *   admin         every front class
 *   reader        read
 *   tenant-admin  read, write, keys - only on objects of its own tenant(s)
 *   bench         read, write, keys, fault (cmk-bench: load and its events)
 *   gateway       system (flow.invoke, the HTTP triggers it forwards), peer
 *   worker        peer, datakey (which keys: keyring_authorize)
 *   firewall      peer
 *   console       read, peer (cmk-console: the browser console reads; a peer to be supervised)
 *
 * Default deny: an operation missing from the table is refused for everyone but admin; an
 * identity with no entry in authorized.json (removed since it connected) is refused.
 * The role and tenants of an identity come from its authorized.json entry (common/keys.h),
 * looked up by the ZAP User-Id the connection was admitted with.
 */
#ifndef CMK_AUTHZ_H
#define CMK_AUTHZ_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "ops.h"

/* The operation table (common/ops.h) holds every operation's door, class, scope and tenant
 * fields; this module reads it. */
typedef cmk_op authz_op;

/* authz_resolve_fn - the tenant an object belongs to, into tenant (cap bytes); < 0 with err
 * if the object is unknown */
typedef int (*authz_resolve_fn)(void *arg, authz_ref ref, const char *value, char *tenant,
                                size_t cap, cmk_err *err);

/* authz_find - the row of an operation at a door, or NULL (default deny) */
const authz_op *authz_find(authz_door door, const char *type);

/* authz_class_parse - a class by name ("read", ...; authz_class_name in ops.h), -1 if unknown */
int authz_class_parse(const char *name);

/* authz_roles - the known roles, NULL-terminated */
const char *const *authz_roles(void);

/* authz_role_allows - 1 if role may call operations of class cls (before tenant scoping) */
int authz_role_allows(const char *role, authz_class cls);

/* authz_role_assignable - 1 for the roles `identity add` may give (reader, tenant-admin, admin) */
int authz_role_assignable(const char *role);

/* authz_check - may the identity `entry` (its authorized.json entry, NULL if it has none) call
 * `type` at `door` with `body`? 0 if so; CMK_EPERM with a message naming the identity, its
 * role, the operation and what to do otherwise. name is the identity (ZAP User-Id); resolve
 * (may be NULL: nothing resolves) finds tenants for a tenant-admin; target (cap bytes, may be
 * NULL) gets what the refusal was about, for the audit entry. */
int authz_check(const cJSON *entry, const char *name, authz_door door, const char *type,
                const cJSON *body, authz_resolve_fn resolve, void *arg, char *target, size_t cap,
                cmk_err *err);

/* authz_resolve_db - an authz_resolve_fn over controller.db (arg: the sqlite3 handle): the
 * environments, vault_vaults, policies and policy_ops tables */
int authz_resolve_db(void *arg, authz_ref ref, const char *value, char *tenant, size_t cap,
                     cmk_err *err);

#endif
