/*
 * migration.h - applying CMK to Power Automate (seed 000): when an environment is added to a
 * policy, its flows move from the shared infrastructure (Microsoft-managed key) to its
 * dedicated worker (customer key), re-sealed on the way under the dedicated partition's key:
 * read from the shared worker, written to the dedicated one, verified, and only then removed
 * from the shared side. Flows that cannot be migrated (flowclass.c) stay where they are, with
 * the seed's remedy. The job is persisted per flow and resumes after a crash of any process;
 * creation and updates of flows are refused while it runs; runs keep being accepted. Where each
 * flow lives is kept in flow_homes (flow_homes.h): in memory for the router, in controller.db
 * for restarts. Only this service writes flow_homes, migrations and migration_held.
 */
#ifndef CMK_MIGRATION_H
#define CMK_MIGRATION_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* migration_done_fn - the migration of env ended (held: flows left on the MMK) */
typedef void (*migration_done_fn)(void *arg, const char *env, int rc, int moved, int held, const char *message);

/* migration_init - tables */
int migration_init(void *ctl, cmk_err *err);

/* migration_start - move env's flows to its dedicated worker (to_dedicated) or back to the
 * shared one (all of them); done is called once at the end */
int migration_start(void *ctl, const char *env, int to_dedicated, migration_done_fn done, void *arg, cmk_err *err);

/* migration_resume_all - restart migrations a controller crash interrupted */
void migration_resume_all(void *ctl);

/* migration_running - 1 while env's flows are being moved */
int migration_running(void *ctl, const char *env);

/* migration_home - "shared" or "dedicated": where a flow of env lives (NULL flow: where new
 * flows go) */
const char *migration_home(void *ctl, const char *env, const char *flow, const char *env_infrastructure);

/* migration_forget - flow of env (NULL: every flow) lives where its environment says again (its
 * flows were deleted, or moved back); it is no longer listed as held */
void migration_forget(void *ctl, const char *env, const char *flow);

/* migration_keep_shared - a flow of a dedicated environment lives on the shared worker (a
 * restored or copied flow that cannot be migrated) */
int migration_keep_shared(void *ctl, const char *env, const char *flow);

/* migration_status - {running, moved, held: [{flow, name, categories, remedies}], migrated_at} */
int migration_status(void *ctl, const char *env, cJSON **out, cmk_err *err);

/* migration_mmk_flows - flows of env still on the Microsoft-managed key (kept or pre-flight) */
int migration_held_count(void *ctl, const char *env);

/* migration_migrated_at - clock ms when env's flows last moved to CMK (0: never) */
int64_t migration_migrated_at(void *ctl, const char *env);

#endif
