/*
 * supervisor.h - the controller's process manager: spawns children (shared worker, dedicated
 * workers, gateway, firewall, console), restarts a child that dies with capped exponential backoff
 * (supervisor.restart_min doubling up to supervisor.restart_max), kills a child whose
 * heartbeats stopped, and stops them all on shutdown (SIGTERM, then SIGKILL after
 * supervisor.stop_timeout). Kept small and apart from the domain on purpose.
 *
 * Children get PR_SET_PDEATHSIG, so none outlives a controller that is killed outright.
 * Each child's stdout and stderr go to <run>/logs/<name>.log.
 */
#ifndef CMK_SUPERVISOR_H
#define CMK_SUPERVISOR_H

#include <cjson/cJSON.h>

#include "err.h"
#include "server.h"

typedef struct supervisor supervisor;

/* supervisor_done_fn - every child has exited after supervisor_stop_all */
typedef void (*supervisor_done_fn)(void *arg);

supervisor *supervisor_new(cmk_server *srv, cmk_err *err);
void supervisor_destroy(supervisor **self_p);

/* supervisor_add - start a child running `program` (cmk-worker, ...) with args (NULL-ended;
 * --run-dir, --config and --name are added); it is restarted whenever it dies */
int supervisor_add(supervisor *self, const char *name, const char *role, const char *program,
                   const char *const *args, cmk_err *err);

/* supervisor_remove - stop a child for good (SIGTERM) and forget it */
int supervisor_remove(supervisor *self, const char *name, cmk_err *err);

/* supervisor_on_sigchld - reap exited children and schedule their restarts */
void supervisor_on_sigchld(supervisor *self);

/* supervisor_peer_up / supervisor_peer_down - the broker saw the child register or go silent;
 * a child that went silent while its process still runs is killed (and so restarted) */
void supervisor_peer_up(supervisor *self, const char *name, int pid);
void supervisor_peer_down(supervisor *self, const char *name, int pid);

/* supervisor_stop_all - stop every child; done is called once all have exited */
void supervisor_stop_all(supervisor *self, supervisor_done_fn done, void *arg);

/* supervisor_status - [{name, role, pid, state, started_ms, restarts}] */
cJSON *supervisor_status(const supervisor *self);

/* supervisor_pid - pid of a child, 0 if not running */
int supervisor_pid(const supervisor *self, const char *name);

/* supervisor_child_pid - pid of the child called name: > 0 running, 0 supervised but not
 * running (died, reaped, restart pending), -1 not a supervised name (the broker tells a
 * supervisor restart from a second process with a copied key by it) */
int supervisor_child_pid(const supervisor *self, const char *name);

#endif
