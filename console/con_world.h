/*
 * con_world.h - what the console shows, read through the front door as the `console` identity
 * (role console: read-only calls). A thread of its own polls the controller every
 * console.refresh while a browser is watching (a snapshot was asked for in the last 30 s) and
 * keeps the newest snapshot as one JSON text; the HTTP threads only copy it, so a slow or
 * restarting controller never holds a browser request for longer than a bounded wait.
 *
 * The snapshot: clock, processes, tenants, environments (with their CMK status, lock cause,
 * deletion due date and migration progress), enterprise policies and their environments, key
 * vaults with keys and versions (read every 5th poll: vault reads are audited), the newest
 * audit entries (the console's own reads left out), drill reports in console.reports, a series
 * of runs per second by final status and failures by cause, and state changes seen.
 */
#ifndef CMK_CON_WORLD_H
#define CMK_CON_WORLD_H

#include <stdint.h>

#include "err.h"

typedef struct con_world con_world;

typedef struct {
    const char *run_dir;              /* the cluster */
    const char *key_path;             /* the console's CURVE key (keys/console.key) */
    const char *reports_dir;          /* drill reports; may not exist */
    int64_t refresh_ms;               /* poll period while watched */
    int64_t locked_delete_sandbox;    /* policy.locked_delete_sandbox, ms */
    int64_t locked_delete_production; /* policy.locked_delete_production, ms */
} con_world_opts;

/* con_world_new - start the poller thread (idle until someone watches) */
con_world *con_world_new(const con_world_opts *opts, cmk_err *err);

/* con_world_destroy - stop and join the poller (NULL is fine) and null the caller's pointer */
void con_world_destroy(con_world **self_p);

/* con_world_snapshot - the newest snapshot as JSON text (malloc'd), waiting up to wait_ms for
 * a first one; NULL with err when there is none yet. Marks the world as watched. */
char *con_world_snapshot(con_world *self, int64_t wait_ms, cmk_err *err);

/* con_world_report - the text of drill report `name` (a plain file name ending .md or .json
 * in the reports dir, at most 1 MiB), malloc'd, with its length */
int con_world_report(con_world *self, const char *name, char **out, size_t *len, cmk_err *err);

/* con_world_parse_time - "2026-12-06T18:10:08.373Z" to epoch ms; -1 if it is not one */
int64_t con_world_parse_time(const char *s);

#endif
