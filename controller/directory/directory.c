/*
 * directory.c - tenants and environments in controller.db.
 */
#include "directory.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "store.h"
#include "util.h"

struct directory {
    sqlite3 *db;           /* controller.db (not owned) */
    cmk_clock *clock;      /* for creation times (not owned) */
    int cmk_limit;         /* CMK environment limit of new tenants */
    pthread_mutex_t lock;  /* placements are read from the loop and written from job threads */
    cmk_hmap *placements;  /* ref (id or name) -> dir_env*, filled on first lookup */
    uint64_t generation;   /* bumped whenever placements are forgotten */
};

/* forget_placements - every cached placement (after any write, or a rollback) */
static void forget_placements(void *arg)
{
    directory *self = arg;
    size_t pos = 0;
    void *v;
    pthread_mutex_lock(&self->lock);
    while (self->placements && cmk_hmap_next(self->placements, &pos, NULL, &v))
        free(v);
    cmk_hmap_destroy(&self->placements);
    self->placements = cmk_hmap_new();
    self->generation++;
    pthread_mutex_unlock(&self->lock);
}

void directory_set_cmk_limit(directory *self, int limit) { self->cmk_limit = limit; }

static const char *const regions[] = {
    "unitedstates", "europe", "unitedkingdom", "asia", "australia", "india", "japan", "canada",
    "southamerica", "france", "germany", "switzerland", "norway", "korea", "southafrica", "uae",
    NULL,
};
static const char *const types[] = { "production", "sandbox", "developer", "trial", "teams", NULL };

static int in_list(const char *const *list, const char *s)
{
    for (int i = 0; s && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

int directory_valid_region(const char *region) { return in_list(regions, region); }
int directory_valid_type(const char *type) { return in_list(types, type); }

const char *directory_regions(void)
{
    return "unitedstates, europe, unitedkingdom, asia, australia, india, japan, canada, southamerica, "
           "france, germany, switzerland, norway, korea, southafrica, uae";
}

/* directory_new - create tables */
directory *directory_new(sqlite3 *db, cmk_clock *clock, cmk_err *err)
{
    directory *self;
    if (store_exec(db,
                   "CREATE TABLE IF NOT EXISTS tenants ("
                   "  id TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL,"
                   "  cmk_env_limit INTEGER NOT NULL DEFAULT 25);"
                   "CREATE TABLE IF NOT EXISTS environments ("
                   "  id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),"
                   "  name TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL,"
                   "  managed INTEGER NOT NULL DEFAULT 0,"
                   "  encryption TEXT NOT NULL DEFAULT 'microsoft',"
                   "  infrastructure TEXT NOT NULL DEFAULT 'shared',"
                   "  state TEXT NOT NULL DEFAULT 'Ready', policy TEXT, created INTEGER NOT NULL,"
                   "  UNIQUE(tenant, name));",
                   err) < 0)
        return NULL;
    /* the environment setting "create new flows in Dataverse solutions" (added later: migrate) */
    sqlite3_exec(db, "ALTER TABLE environments ADD COLUMN flows_in_solutions INTEGER NOT NULL DEFAULT 0", NULL, NULL, NULL);
    self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->db = db;
    self->clock = clock;
    self->cmk_limit = 25;
    pthread_mutex_init(&self->lock, NULL);
    if (!(self->placements = cmk_hmap_new()) || store_on_rollback(db, forget_placements, self) < 0) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        cmk_hmap_destroy(&self->placements);
        free(self);
        return NULL;
    }
    return self;
}

void directory_destroy(directory **self_p)
{
    directory *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    store_off_rollback(self->db, forget_placements, self);
    forget_placements(self);
    cmk_hmap_destroy(&self->placements);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* directory_env_placement - from memory, or read once */
int directory_env_placement(directory *self, const char *ref, dir_env *out, cmk_err *err)
{
    dir_env *e;
    cJSON *row;
    uint64_t gen;
    int rc;

    pthread_mutex_lock(&self->lock);
    e = ref && self->placements ? cmk_hmap_get(self->placements, ref) : NULL;
    if (e)
        *out = *e;
    gen = self->generation;
    pthread_mutex_unlock(&self->lock);
    if (e)
        return 0;
    if ((rc = directory_env_get(self, ref, &row, err)) < 0)
        return rc;
    memset(out, 0, sizeof *out);
    cmk_strlcpy(out->id, cmk_json_str(row, "id", ""), sizeof out->id);
    cmk_strlcpy(out->tenant, cmk_json_str(row, "tenant", ""), sizeof out->tenant);
    cmk_strlcpy(out->region, cmk_json_str(row, "region", ""), sizeof out->region);
    cmk_strlcpy(out->encryption, cmk_json_str(row, "encryption", "microsoft"), sizeof out->encryption);
    cmk_strlcpy(out->infrastructure, cmk_json_str(row, "infrastructure", "shared"), sizeof out->infrastructure);
    cmk_strlcpy(out->state, cmk_json_str(row, "state", "Ready"), sizeof out->state);
    out->in_solutions = cJSON_IsTrue(cJSON_GetObjectItem(row, "create_flows_in_solutions"));
    cJSON_Delete(row);
    pthread_mutex_lock(&self->lock);
    /* a write since the read: what was read may be old, so it is not kept */
    if (gen == self->generation && self->placements && !cmk_hmap_get(self->placements, ref) &&
        (e = malloc(sizeof *e))) {
        *e = *out;
        if (cmk_hmap_put(self->placements, ref, e) < 0)
            free(e);
    }
    pthread_mutex_unlock(&self->lock);
    return 0;
}

/* valid_tenant_id - [a-z0-9-], 2..40, starting with a letter or digit */
static int valid_tenant_id(const char *id)
{
    size_t n = strlen(id);
    if (n < 2 || n > 40 || id[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)id[i]) || isdigit((unsigned char)id[i]) || id[i] == '-'))
            return 0;
    return 1;
}

/* tenant_row - a tenant row to JSON */
static cJSON *tenant_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 2), ts, sizeof ts));
    cJSON_AddNumberToObject(o, "cmk_env_limit", sqlite3_column_int(st, 3));
    return o;
}

/* directory_tenant_create - a new tenant */
int directory_tenant_create(directory *self, const char *id, const char *name, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (!id || !valid_tenant_id(id))
        return cmk_err_set(err, CMK_EINVAL,
                           "tenant id '%s' is not valid: use 2-40 lowercase letters, digits and dashes (e.g. contoso)",
                           id ? id : "");
    if (sqlite3_prepare_v2(self->db, "INSERT INTO tenants(id, name, created, cmk_env_limit) VALUES(?, ?, ?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return store_err(self->db, err, "tenant insert");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name && *name ? name : id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, cmk_clock_now(self->clock));
    sqlite3_bind_int(st, 4, self->cmk_limit);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return cmk_err_set(err, CMK_EEXIST, "tenant '%s' exists already", id);
    if (rc != SQLITE_DONE)
        return store_err(self->db, err, "tenant insert");
    return out ? directory_tenant_get(self, id, out, err) : 0;
}

/* directory_tenant_get - one tenant */
int directory_tenant_get(directory *self, const char *id, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(self->db, "SELECT id, name, created, cmk_env_limit FROM tenants WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "tenant lookup");
    sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = tenant_row(st);
        rc = 0;
    } else
        rc = cmk_err_set(err, CMK_ENOENT, "no tenant '%s'; `cmkctl tenant list` shows them", id ? id : "");
    sqlite3_finalize(st);
    return rc;
}

/* directory_tenant_list - every tenant */
int directory_tenant_list(directory *self, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT id, name, created, cmk_env_limit FROM tenants ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "tenant list");
    *out = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(*out, tenant_row(st));
    sqlite3_finalize(st);
    return 0;
}

#define ENV_COLS "id, tenant, name, region, type, managed, encryption, infrastructure, state, policy, created, " \
                 "flows_in_solutions"

/* env_row - an environment row to JSON */
static cJSON *env_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    static const char *const names[] = { "id", "tenant", "name", "region", "type" };
    for (int i = 0; i < 5; i++)
        cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
    cJSON_AddBoolToObject(o, "managed", sqlite3_column_int(st, 5));
    cJSON_AddStringToObject(o, "encryption", (const char *)sqlite3_column_text(st, 6));
    cJSON_AddStringToObject(o, "infrastructure", (const char *)sqlite3_column_text(st, 7));
    cJSON_AddStringToObject(o, "state", (const char *)sqlite3_column_text(st, 8));
    if (sqlite3_column_type(st, 9) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "policy");
    else
        cJSON_AddStringToObject(o, "policy", (const char *)sqlite3_column_text(st, 9));
    cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 10), ts, sizeof ts));
    cJSON_AddBoolToObject(o, "create_flows_in_solutions", sqlite3_column_int(st, 11));
    return o;
}

/* directory_env_create - a new environment on the Microsoft-managed key, shared infrastructure */
int directory_env_create(directory *self, const env_spec *spec, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *tenant = NULL;
    char id[64];
    int rc;

    if (!spec->name || !*spec->name || strlen(spec->name) > 100)
        return cmk_err_set(err, CMK_EINVAL, "an environment needs a name of 1-100 characters (--name)");
    if (!directory_valid_region(spec->region))
        return cmk_err_set(err, CMK_EINVAL, "unknown region '%s'; use one of: %s",
                           spec->region ? spec->region : "", directory_regions());
    if (!directory_valid_type(spec->type))
        return cmk_err_set(err, CMK_EINVAL,
                           "unknown environment type '%s'; use production, sandbox, developer, trial or teams",
                           spec->type ? spec->type : "");
    if ((rc = directory_tenant_get(self, spec->tenant, &tenant, err)) < 0)
        return rc;
    cJSON_Delete(tenant);
    cmk_random_id("env", id, sizeof id);
    id[16] = '\0'; /* env- and 12 hex digits */
    if (sqlite3_prepare_v2(self->db,
                           "INSERT INTO environments(id, tenant, name, region, type, managed, created) "
                           "VALUES(?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "environment insert");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spec->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, spec->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, spec->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, spec->type, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, spec->managed ? 1 : 0);
    sqlite3_bind_int64(st, 7, cmk_clock_now(self->clock));
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    forget_placements(self); /* a name that named one environment may now name two */
    if (rc == SQLITE_CONSTRAINT)
        return cmk_err_set(err, CMK_EEXIST, "tenant '%s' has an environment named '%s' already",
                           spec->tenant, spec->name);
    if (rc != SQLITE_DONE)
        return store_err(self->db, err, "environment insert");
    return out ? directory_env_get(self, id, out, err) : 0;
}

/* directory_env_get - by id, or by a name unique across tenants */
int directory_env_get(directory *self, const char *ref, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc, n = 0;

    if (!ref || !*ref)
        return cmk_err_set(err, CMK_EINVAL, "name an environment by id or name");
    /* by id first (the primary key: what routed requests carry), then by name */
    if (!(st = store_stmt(self->db, "SELECT " ENV_COLS " FROM environments WHERE id = ?1")))
        return store_err(self->db, err, "environment lookup");
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = env_row(st);
        store_stmt_done(st);
        return 0;
    }
    store_stmt_done(st);
    if (sqlite3_prepare_v2(self->db, "SELECT " ENV_COLS " FROM environments WHERE id = ?1 OR name = ?1 "
                                     "ORDER BY id = ?1 DESC", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "environment lookup");
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    *out = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int by_id = strcmp((const char *)sqlite3_column_text(st, 0), ref) == 0;
        n++;
        if (by_id || n == 1) {
            cJSON_Delete(*out);
            *out = env_row(st);
            if (by_id) {
                n = 1;
                break;
            }
        }
    }
    sqlite3_finalize(st);
    if (n == 0)
        return cmk_err_set(err, CMK_ENOENT, "no environment '%s'; `cmkctl env list` shows them", ref);
    if (n > 1) {
        cJSON_Delete(*out);
        *out = NULL;
        return cmk_err_set(err, CMK_EINVAL, "%d environments are named '%s'; use the environment id", n, ref);
    }
    return 0;
}

/* directory_env_list - every environment, or those of a tenant */
int directory_env_list(directory *self, const char *tenant, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT " ENV_COLS " FROM environments WHERE ?1 IS NULL OR tenant = ?1 "
                                     "ORDER BY tenant, created, id", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "environment list");
    if (tenant)
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    *out = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(*out, env_row(st));
    sqlite3_finalize(st);
    return 0;
}

/* directory_env_set - one field */
int directory_env_set(directory *self, const char *id, const char *field, const char *value, cmk_err *err)
{
    static const char *const fields[] = { "encryption", "infrastructure", "state", "policy", "managed",
                                          "flows_in_solutions", NULL };
    char sql[128];
    sqlite3_stmt *st;
    int rc;

    if (!in_list(fields, field))
        return cmk_err_set(err, CMK_EINTERNAL, "environment field '%s' cannot be set", field);
    snprintf(sql, sizeof sql, "UPDATE environments SET %s = ? WHERE id = ?", field);
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "environment update");
    if (value)
        sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    forget_placements(self);
    if (rc != SQLITE_DONE)
        return store_err(self->db, err, "environment update");
    if (sqlite3_changes(self->db) == 0)
        return cmk_err_set(err, CMK_ENOENT, "no environment '%s'", id);
    return 0;
}

/* directory_env_enable_managed - make it a managed environment */
int directory_env_enable_managed(directory *self, const char *ref, cJSON **out, cmk_err *err)
{
    cJSON *env;
    int rc = directory_env_get(self, ref, &env, err);
    if (rc < 0)
        return rc;
    rc = directory_env_set(self, cmk_json_str(env, "id", ""), "managed", "1", err);
    if (rc == 0 && out)
        rc = directory_env_get(self, cmk_json_str(env, "id", ""), out, err);
    cJSON_Delete(env);
    return rc;
}

/* directory_env_delete - remove an environment (the caller stops its worker first) */
int directory_env_delete(directory *self, const char *ref, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *env;
    int rc = directory_env_get(self, ref, &env, err);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(self->db, "DELETE FROM environments WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(env);
        return store_err(self->db, err, "environment delete");
    }
    sqlite3_bind_text(st, 1, cmk_json_str(env, "id", ""), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "environment delete");
    sqlite3_finalize(st);
    forget_placements(self);
    if (rc == 0 && out)
        *out = env;
    else
        cJSON_Delete(env);
    return rc;
}

/* directory_env_states - {state: count} of the environments */
cJSON *directory_env_states(directory *self)
{
    return store_count_by(self->db, "SELECT state, count(*) FROM environments GROUP BY state");
}
