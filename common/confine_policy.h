/*
 * confine_policy.h - the confinement of each role of the cluster (issue #20): a table in
 * confine_policy.c, applied by the daemon skeleton (server.c) through confine.h.
 */
#ifndef CMK_CONFINE_POLICY_H
#define CMK_CONFINE_POLICY_H

#include <cjson/cJSON.h>

#include "config.h"
#include "confine.h"

/* confine_policy_for - fill p for a role (controller, worker, gateway, firewall) of instance
 * `name`; a worker with `shared` or its --env list `envs`. Sets TMPDIR/SQLITE_TMPDIR to the
 * process's own temporary directory where the policy confines files. */
int confine_policy_for(const cmk_config *cfg, const char *role, const char *name, int shared,
                       const cJSON *envs, confine_policy *p, cmk_err *err);

/* confine_probe - from inside the confinement, try what the process must not do (read the
 * vault's database, open another partition, write outside the run dir, signal or trace its
 * parent, TCP to the discard port, mknod, execve) and describe the outcomes in out
 * ("name=allowed|EACCES|EPERM|ECONNREFUSED ..."); for the tests (confine.probe) */
void confine_probe(const cmk_config *cfg, const char *role, const char *name, char *out, size_t n);

#endif
