/*
 * directory.h - tenants and their environments, persisted in controller.db.
 *
 * An environment has a name, a region (a Power Platform region such as "unitedstates" or
 * "europe"), a type (production, sandbox, developer, trial, teams), the managed-environment
 * flag, its encryption (microsoft: the Microsoft-managed key; customer: a customer-managed key
 * through an enterprise policy), its infrastructure (shared or dedicated workers) and its state
 * (Ready, Disabled, Locked). Later modules (policies, workers, migration) change these through
 * directory_env_set().
 *
 * Objects come back as cJSON objects with the same field names the CLI shows with --json:
 *   tenant: {id, name, created, cmk_env_limit}
 *   environment: {id, tenant, name, region, type, managed, encryption, infrastructure, state,
 *                 policy, created}
 */
#ifndef CMK_DIRECTORY_H
#define CMK_DIRECTORY_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "clock.h"
#include "err.h"

typedef struct directory directory;

/* What to create an environment with. */
typedef struct {
    const char *tenant;  /* tenant id */
    const char *name;    /* display name, unique within the tenant */
    const char *region;  /* Power Platform region */
    const char *type;    /* production, sandbox, developer, trial, teams */
    int managed;         /* managed environment */
} env_spec;

directory *directory_new(sqlite3 *db, cmk_clock *clock, cmk_err *err);
void directory_destroy(directory **self_p);

/* directory_set_cmk_limit - the CMK environment limit new tenants get (policy.cmk_env_limit) */
void directory_set_cmk_limit(directory *self, int limit);

/* tenants */
int directory_tenant_create(directory *self, const char *id, const char *name, cJSON **out, cmk_err *err);
int directory_tenant_get(directory *self, const char *id, cJSON **out, cmk_err *err);
int directory_tenant_list(directory *self, cJSON **out, cmk_err *err);

/* environments; `ref` is an environment id, or a name unique across tenants */
int directory_env_create(directory *self, const env_spec *spec, cJSON **out, cmk_err *err);
int directory_env_get(directory *self, const char *ref, cJSON **out, cmk_err *err);
int directory_env_list(directory *self, const char *tenant, cJSON **out, cmk_err *err);
int directory_env_enable_managed(directory *self, const char *ref, cJSON **out, cmk_err *err);
int directory_env_delete(directory *self, const char *ref, cJSON **out, cmk_err *err);

/* An environment as the router needs it: copied out of memory, no JSON, no SQL. */
typedef struct {
    char id[64];             /* environment id */
    char tenant[64];         /* its tenant */
    char region[32];         /* Power Platform region */
    char encryption[16];     /* microsoft, customer */
    char infrastructure[16]; /* shared, dedicated */
    char state[16];          /* Ready, Locked, ... */
    int in_solutions;        /* new flows are created in solutions */
} dir_env;

/* directory_env_states - {state: count} of the environments (NULL on a database error) */
cJSON *directory_env_states(directory *self);

/* directory_env_placement - the environment `ref` (id or unique name) from memory; the first
 * lookup of a ref reads controller.db, and every write to an environment (or a rollback on
 * the connection) makes the next lookups read it again */
int directory_env_placement(directory *self, const char *ref, dir_env *out, cmk_err *err);

/* directory_env_set - set one field (encryption, infrastructure, state, policy) of an
 * environment; value NULL clears policy */
int directory_env_set(directory *self, const char *id, const char *field, const char *value, cmk_err *err);

/* directory_valid_region / directory_valid_type - input checks (1 if valid) */
int directory_valid_region(const char *region);
int directory_valid_type(const char *type);

/* directory_regions - the known regions, comma-separated (for messages) */
const char *directory_regions(void);

#endif
