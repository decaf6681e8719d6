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

#include "err.h"

/* recurrence_init - the table, and a timer for every schedule found in it */
int recurrence_init(void *ctl, cmk_err *err);

/* recurrence_period - a definition's recurrence period in ms (0: not a Recurrence trigger) */
int64_t recurrence_period(const cJSON *definition);

/* recurrence_set - flow (of env) runs every period_ms from now (enabled), or not (period 0 or
 * disabled: the schedule is dropped) */
void recurrence_set(void *ctl, const char *env, const char *flow, int64_t period_ms, int enabled);

/* recurrence_enable - keep the period, change whether it runs */
void recurrence_enable(void *ctl, const char *env, const char *flow, int enabled);

/* recurrence_list - the schedules of env (NULL: all) */
cJSON *recurrence_list(void *ctl, const char *env);

#endif
