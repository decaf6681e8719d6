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
#include <sqlite3.h>

#include "audit.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "loop.h"

typedef struct migration_svc migration_svc;

/* What the migration service is given (owned by the controller, which outlives it). */
typedef struct {
    sqlite3 *db;            /* controller.db: migrations, migration_held, migration_moved, flow_homes */
    cmk_clock *clock;       /* when a job started and ended */
    audit_log *audit;       /* one record per finished migration */
    broker *broker;         /* flow.dump, flow.put, flow.get, flow.delete, conn.* to the workers */
    cmk_loop *loop;         /* the step delay and the step gate */
    const cmk_config *cfg;  /* request.timeout, migration.step_delay, migration.step_gate, the run dir */
} migration_deps;

/* migration_done_fn - the migration of env ended (held: flows left on the MMK) */
typedef void (*migration_done_fn)(void *arg, const char *env, int rc, int moved, int held, const char *message);

/* migration_svc_new - the tables, and the flow homes loaded into memory; deps is copied */
migration_svc *migration_svc_new(const migration_deps *deps, cmk_err *err);
void migration_svc_destroy(migration_svc **self_p);

/* migration_start - move env's flows to its dedicated worker (to_dedicated) or back to the
 * shared one (all of them); done is called once at the end */
int migration_start(migration_svc *self, const char *env, int to_dedicated, migration_done_fn done, void *arg,
                    cmk_err *err);

/* migration_resume_all - restart migrations a controller crash interrupted; done (with arg) is
 * told when each ends, as the one who started it would have been */
void migration_resume_all(migration_svc *self, migration_done_fn done, void *arg);

/* migration_to_dedicated - 1 if env's last (or running) migration went to its dedicated worker */
int migration_to_dedicated(migration_svc *self, const char *env);

/* migration_is_running - 1 while env's flows are being moved */
int migration_is_running(migration_svc *self, const char *env);

/* migration_home - "shared" or "dedicated": where a flow of env lives (NULL flow: where new
 * flows go); from memory (no SQL: the router asks it for every routed request) */
const char *migration_home(migration_svc *self, const char *env, const char *flow, const char *env_infrastructure);

/* migration_forget_flows - flow of env (NULL: every flow) lives where its environment says
 * again (its flows were deleted, or moved back); it is no longer listed as held */
void migration_forget_flows(migration_svc *self, const char *env, const char *flow);

/* migration_forget_homes - every flow of env lives where its environment says again (it left
 * its policy); the flows a migration held are still listed by migration_status */
void migration_forget_homes(migration_svc *self, const char *env);

/* migration_keep_on_shared - a flow of a dedicated environment lives on the shared worker (a
 * restored or copied flow that cannot be migrated) */
int migration_keep_on_shared(migration_svc *self, const char *env, const char *flow);

/* migration_status - {running, moved, held: [{flow, name, categories, remedies}], migrated_at} */
int migration_status(migration_svc *self, const char *env, cJSON **out, cmk_err *err);

/* migration_held_count - flows of env still on the Microsoft-managed key (kept or pre-flight) */
int migration_held_count(migration_svc *self, const char *env);

/* migration_migrated_at - clock ms when env's flows last moved to CMK (0: never) */
int64_t migration_migrated_at(migration_svc *self, const char *env);

/* migration_mmk_warnings - add seed 000's warning to out["warnings"] (once) when env is on a
 * customer-managed key (encryption "customer") and keeps flows on the Microsoft-managed key */
void migration_mmk_warnings(migration_svc *self, const char *env, const char *encryption, cJSON *out);

#endif
