/*
 * flow_homes.h - where each flow of an environment lives while and after its flows move between
 * the shared and the dedicated infrastructure, kept in memory for the router (no SQL on a
 * routed request's path) and in controller.db (tables flow_homes and the running rows of
 * migrations) for restarts. The migration service owns it: nobody else writes these tables.
 *
 * A flow with no entry lives where its environment's infrastructure says. A flow moved to the
 * other side, or held on the Microsoft-managed key (shared) by a migration to dedicated, has an
 * entry. While a migration of the environment runs, a flow not moved yet is on the source side.
 */
#ifndef CMK_FLOW_HOMES_H
#define CMK_FLOW_HOMES_H

#include <sqlite3.h>

#include "err.h"

typedef struct flow_homes flow_homes;

/* flow_homes_new - the tables, and their rows loaded into memory */
flow_homes *flow_homes_new(sqlite3 *db, cmk_err *err);
void flow_homes_destroy(flow_homes **self_p);

/* flow_homes_set - flow of env lives on home ("shared" or "dedicated") */
int flow_homes_set(flow_homes *self, const char *env, const char *flow, const char *home);

/* flow_homes_forget - flow of env lives where its environment says again; flow NULL: every flow
 * of env */
int flow_homes_forget(flow_homes *self, const char *env, const char *flow);

/* flow_homes_running - a migration of env is moving its flows (to_dedicated: towards the
 * dedicated worker), or (running 0) it ended */
void flow_homes_running(flow_homes *self, const char *env, int running, int to_dedicated);

/* flow_homes_is_running - 1 while env's flows are being moved */
int flow_homes_is_running(flow_homes *self, const char *env);

/* flow_homes_where - "shared" or "dedicated": where flow of env lives; flow NULL: where new
 * flows go; infra is the environment's infrastructure */
const char *flow_homes_where(flow_homes *self, const char *env, const char *flow, const char *infra);

#endif
