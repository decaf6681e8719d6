/*
 * flow_homes.c - flows' homes in memory and in controller.db (see flow_homes.h).
 */
#include "flow_homes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "store.h"

static const char SHARED[] = "shared", DEDICATED[] = "dedicated";

struct flow_homes {
    sqlite3 *db;           /* controller.db (not owned) */
    pthread_mutex_t lock;  /* the maps are read from the loop and from job threads */
    cmk_hmap *homes;       /* "env/flow" -> SHARED or DEDICATED */
    cmk_hmap *running;     /* env -> the side its flows are moving to (SHARED or DEDICATED) */
};

/* home_of - the interned home string, NULL if neither */
static const char *home_of(const char *s)
{
    return !s ? NULL : strcmp(s, DEDICATED) == 0 ? DEDICATED : strcmp(s, SHARED) == 0 ? SHARED : NULL;
}

/* key_of - "env/flow" (ids hold no '/') */
static void key_of(const char *env, const char *flow, char *key, size_t cap)
{
    snprintf(key, cap, "%s/%s", env, flow);
}

/* load - every row into memory */
static int load(flow_homes *self, cmk_err *err)
{
    sqlite3_stmt *st;
    char key[256];
    if (sqlite3_prepare_v2(self->db, "SELECT env, flow, home FROM flow_homes", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "flow homes");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *home = home_of((const char *)sqlite3_column_text(st, 2));
        key_of((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), key, sizeof key);
        if (home && cmk_hmap_put(self->homes, key, (void *)home) < 0) {
            sqlite3_finalize(st);
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(self->db, "SELECT env, to_dedicated FROM migrations WHERE status = 'Running'", -1, &st,
                           NULL) != SQLITE_OK)
        return store_err(self->db, err, "running migrations");
    while (sqlite3_step(st) == SQLITE_ROW)
        cmk_hmap_put(self->running, (const char *)sqlite3_column_text(st, 0),
                     (void *)(sqlite3_column_int(st, 1) ? DEDICATED : SHARED));
    sqlite3_finalize(st);
    return 0;
}

/* flow_homes_new - tables and memory */
flow_homes *flow_homes_new(sqlite3 *db, cmk_err *err)
{
    flow_homes *self;
    if (store_exec(db,
                   "CREATE TABLE IF NOT EXISTS flow_homes (env TEXT NOT NULL, flow TEXT NOT NULL, home TEXT NOT NULL,"
                   "  PRIMARY KEY (env, flow));"
                   "CREATE TABLE IF NOT EXISTS migrations (env TEXT PRIMARY KEY, to_dedicated INTEGER NOT NULL,"
                   "  status TEXT NOT NULL, moved INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0,"
                   "  started INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0, migrated_at INTEGER NOT NULL DEFAULT 0);",
                   err) < 0)
        return NULL;
    if (!(self = calloc(1, sizeof *self))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->db = db;
    pthread_mutex_init(&self->lock, NULL);
    if (!(self->homes = cmk_hmap_new()) || !(self->running = cmk_hmap_new())) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        flow_homes_destroy(&self);
        return NULL;
    }
    if (load(self, err) < 0)
        flow_homes_destroy(&self);
    return self;
}

void flow_homes_destroy(flow_homes **self_p)
{
    flow_homes *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cmk_hmap_destroy(&self->homes);
    cmk_hmap_destroy(&self->running);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* flow_homes_set - row, then memory */
int flow_homes_set(flow_homes *self, const char *env, const char *flow, const char *home)
{
    char key[256];
    const char *h = home_of(home);
    int rc;
    if (!h)
        return CMK_EINVAL;
    rc = store_exec_text(self->db, "INSERT OR REPLACE INTO flow_homes(env, flow, home) VALUES(?1, ?2, ?3)", env, flow,
                         h, NULL, NULL);
    if (rc < 0)
        return rc;
    key_of(env, flow, key, sizeof key);
    pthread_mutex_lock(&self->lock);
    rc = cmk_hmap_put(self->homes, key, (void *)h);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

/* flow_homes_forget - one flow's entry, or every entry of env */
int flow_homes_forget(flow_homes *self, const char *env, const char *flow)
{
    char key[256];
    int rc;
    if (flow)
        rc = store_exec_text(self->db, "DELETE FROM flow_homes WHERE env = ?1 AND flow = ?2", env, flow, NULL, NULL,
                             NULL);
    else
        rc = store_exec_text(self->db, "DELETE FROM flow_homes WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    pthread_mutex_lock(&self->lock);
    if (flow) {
        key_of(env, flow, key, sizeof key);
        cmk_hmap_remove(self->homes, key);
    } else {
        /* every key "env/..." (collected first: the map must not change while iterating) */
        size_t pos = 0, n = 0, cap = 0, plen = strlen(env);
        const char *k;
        char **gone = NULL;
        while (cmk_hmap_next(self->homes, &pos, &k, NULL))
            if (strncmp(k, env, plen) == 0 && k[plen] == '/') {
                if (n == cap) {
                    char **more = realloc(gone, (cap = cap ? cap * 2 : 16) * sizeof *more);
                    if (!more)
                        break;
                    gone = more;
                }
                gone[n++] = strdup(k);
            }
        for (size_t i = 0; i < n; i++) {
            if (gone[i])
                cmk_hmap_remove(self->homes, gone[i]);
            free(gone[i]);
        }
        free(gone);
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

/* flow_homes_running - a migration started or ended (the migrations row is the caller's) */
void flow_homes_running(flow_homes *self, const char *env, int running, int to_dedicated)
{
    pthread_mutex_lock(&self->lock);
    if (running)
        cmk_hmap_put(self->running, env, (void *)(to_dedicated ? DEDICATED : SHARED));
    else
        cmk_hmap_remove(self->running, env);
    pthread_mutex_unlock(&self->lock);
}

/* flow_homes_is_running - is env migrating */
int flow_homes_is_running(flow_homes *self, const char *env)
{
    int r;
    pthread_mutex_lock(&self->lock);
    r = cmk_hmap_get(self->running, env) != NULL;
    pthread_mutex_unlock(&self->lock);
    return r;
}

/* flow_homes_where - the flow's entry; else, while migrating, the source side; else infra */
const char *flow_homes_where(flow_homes *self, const char *env, const char *flow, const char *infra)
{
    char key[256];
    const char *home, *towards;
    if (!flow)
        return home_of(infra) ? home_of(infra) : SHARED;
    key_of(env, flow, key, sizeof key);
    pthread_mutex_lock(&self->lock);
    home = cmk_hmap_get(self->homes, key);
    towards = home ? NULL : cmk_hmap_get(self->running, env);
    pthread_mutex_unlock(&self->lock);
    if (home)
        return home;
    if (towards)
        return towards == DEDICATED ? SHARED : DEDICATED;
    return home_of(infra) ? home_of(infra) : SHARED;
}
