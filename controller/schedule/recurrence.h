/*
 * recurrence.h - recurrence triggers on the controller's clock. The controller keeps, for every
 * flow whose trigger is a Recurrence, its period and next due time (in controller.db) and, when
 * the clock reaches it, starts a run of the flow through the normal route (a client request id
 * made of the flow and the due time, so a resent trigger never runs twice). In virtual mode
 * `cmkctl clock advance` fires every occurrence in order. Schedules follow the flows: they are
 * set when a flow is created, updated, imported, turned on or off, and dropped when it is deleted.
 */
#ifndef CMK_RECURRENCE_H
#define CMK_RECURRENCE_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "broker.h"
#include "clock.h"
#include "config.h"
#include "directory.h"
#include "err.h"
#include "migration.h"

typedef struct recurrence_svc recurrence_svc;

/* What the recurrence service is given (owned by the controller, which outlives it). */
typedef struct {
    sqlite3 *db;              /* controller.db: recurrences */
    cmk_clock *clock;         /* the timers of every schedule */
    directory *dir;           /* the environment of a due flow: Ready? where? */
    migration_svc *migration; /* which worker holds the flow */
    broker *broker;           /* flow.run to it */
    const cmk_config *cfg;    /* request.timeout, recurrence.catchup_max */
} recurrence_deps;

/* recurrence_svc_new - the table, and a timer for every schedule found in it; deps is copied */
recurrence_svc *recurrence_svc_new(const recurrence_deps *deps, cmk_err *err);
void recurrence_svc_destroy(recurrence_svc **self_p);

/* recurrence_period - a definition's recurrence period in ms (0: not a Recurrence trigger) */
int64_t recurrence_period(const cJSON *definition);

/* recurrence_schedule - flow (of env) runs every period_ms from now (enabled), or not (period 0
 * or disabled: the schedule is dropped) */
void recurrence_schedule(recurrence_svc *self, const char *env, const char *flow, int64_t period_ms, int enabled);

/* recurrence_enable - keep the period, change whether it runs */
void recurrence_enable(recurrence_svc *self, const char *env, const char *flow, int enabled);

/* recurrence_list - the schedules of env (NULL: all) */
cJSON *recurrence_list(recurrence_svc *self, const char *env);

#endif
