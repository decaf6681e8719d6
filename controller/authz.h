/*
 * authz.h - the authorization matrix: which CURVE identity may call which operation.
 *
 * Every operation the controller takes (front door: cmkctl, cmk-bench, the gateway's ingress;
 * back channel: requests from peers) has ONE row in authz.c's table: its class (read, write,
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

/* Operation classes: the columns of the matrix. */
typedef enum {
    AUTHZ_READ,    /* shows, lists, status, verify: changes nothing */
    AUTHZ_WRITE,   /* tenants, environments, flows, runs, connections, settings */
    AUTHZ_KEYS,    /* vaults, keys, enterprise policies, tenant keys: key material and its use */
    AUTHZ_FAULT,   /* fault injection at the edge (bench events, drills) */
    AUTHZ_ADMIN,   /* the cluster itself: shutdown, clock, firewall config, support, identities */
    AUTHZ_SYSTEM,  /* front calls only peers make (the gateway's flow.invoke) */
    AUTHZ_PEER,    /* back channel: register as a peer (ready), then heartbeats and replies */
    AUTHZ_DATAKEY, /* back channel: a worker's data keys */
    AUTHZ_NCLASS
} authz_class;

/* Which door an operation comes through. */
typedef enum {
    AUTHZ_FRONT, /* the front ROUTER: clients */
    AUTHZ_BACK,  /* the back ROUTER: registered peers */
} authz_door;

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

/* One row of the matrix. */
typedef struct {
    const char *type;                     /* message type, e.g. "key.unwrap" */
    authz_door door;                      /* front or back */
    authz_class cls;                      /* its class */
    authz_scope scope;                    /* how a tenant-admin is scoped */
    authz_field fields[AUTHZ_MAX_FIELDS]; /* for AUTHZ_SCOPE_TENANT: every present one is checked */
} authz_op;

/* authz_resolve_fn - the tenant an object belongs to, into tenant (cap bytes); < 0 with err
 * if the object is unknown */
typedef int (*authz_resolve_fn)(void *arg, authz_ref ref, const char *value, char *tenant,
                                size_t cap, cmk_err *err);

/* authz_table - the whole matrix, terminated by a row with type NULL */
const authz_op *authz_table(void);

/* authz_find - the row of an operation at a door, or NULL (default deny) */
const authz_op *authz_find(authz_door door, const char *type);

/* authz_class_name - "read", "write", ...; authz_class_parse - inverse, -1 if unknown */
const char *authz_class_name(authz_class cls);
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
