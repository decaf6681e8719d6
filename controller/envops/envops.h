/*
 * envops.h - environment database operations under customer-managed keys (seed 003,
 * "Environment database operations"; issue 5): backup, restore, copy and reset.
 *
 * - Backup (env.backup): the environment's flows, with their definitions, gathered from the
 *   worker(s) holding them (flow.dump), sealed with AES-256-GCM under a fresh 32-byte data key
 *   into <run>/backups/<env>/<id>.bak (0600, temp + fsync + rename). That data key is wrapped
 *   exactly like the environment's data is wrapped at that moment: by the policy's customer
 *   key through the vault (the policy identity's wrapKey) when the environment is
 *   customer-managed, else by the Microsoft-managed key. A locked environment is refused.
 *   Table env_backups in controller.db keeps the row: id, env, tenant, label, created clock
 *   time, the encryption state at backup (JSON), the wrap and what wrapped it, path, size,
 *   flow count.
 * - Restore (env.restore): tenantkey_restore_allowed() decides (same environment or another
 *   under the same customer-managed key; the encryption state at backup must match the
 *   target's now; never into a locked environment); then the data key is unwrapped (fails if
 *   the customer key is unreachable), the file opened, and every backed-up flow replaces the
 *   target's flows and runs (below). Into another environment the flows get new ids (flow ids
 *   are global), names and definitions are kept.
 * - Copy (env.copy): tenantkey_copy_allowed(), then dump the source and replace the target's
 *   flows with them, with new ids.
 * - Reset (env.reset): sandbox environments only; refused while locked
 *   (tenantkey_reset_outcome()); the flows, runs and connections are deleted in every worker
 *   holding them, the backups (rows and files) deleted, the environment removed from its
 *   policy (policy_unlink) and its BYOK view reset (tenantkey_env_reset): afterwards it is on
 *   the Microsoft-managed key.
 *
 * All at once (ENVOP-8, envops_stage.c): restore, copy and reset never write into the target's
 * flows directly. Each begins a staging area in every partition of the target (worker op
 * env.stage), puts the flows there (flow.put with `stage`), records the phase `commit` in
 * env_ops once every flow is staged, and only then has each partition swap its area in (one
 * transaction: flows and runs - and a reset's connections - deleted, the staged flows moved
 * in), retrying until every partition did it. A failure before the commit discards the areas:
 * the target keeps its flows, runs, connections, backups, encryption and data keys, and the
 * error says so, why, and what to do. envops.step_gate holds each step (tests, rehearsals).
 *
 * An environment's current encryption state is its BYOK view (tenantkey_env_byok_state)
 * overlaid with the enterprise-policy view (policy_env_status): an environment of a policy is
 * customer-managed with that policy's key; a policy-locked one is locked.
 *
 * Every operation, allowed or refused, is audited (env.backup, env.restore, env.copy,
 * env.reset). An operation under way is recorded in table env_ops (with its phase); a
 * controller restarted mid-operation starts a restore, copy or reset still staging again (its
 * new staging area replaces the old one) and finishes one past its commit (envops_resume).
 * Operations that talk to workers finish asynchronously: `done` is called once, on the loop
 * thread, with the result or the error.
 */
#ifndef CMK_ENVOPS_H
#define CMK_ENVOPS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "audit.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "directory.h"
#include "envelope.h"
#include "err.h"
#include "loop.h"
#include "migration.h"
#include "policy.h"
#include "recurrence.h"
#include "tenantkey.h"
#include "vault.h"

#define ENVOPS_MAGIC "CMKBAK1\n" /* first bytes of a backup file */
#define ENVOPS_MAGIC_LEN 8
#define ENVOPS_KEK_LEN 32            /* the Microsoft-managed key */
#define ENVOPS_WRAP_MAX (CMK_DEK_KEY_LEN + 16) /* an RFC 5649 wrap of a data key */

/* ---- pure parts (envops_file.c) ----------------------------------------------------------- */

/* envops_file_seal - a backup file: magic, then plain sealed under dek at place
 * (env, "env_backups", id, "flows"); *out malloc'd */
int envops_file_seal(cmk_dek *dek, const char *env, const char *id, const char *plain, size_t len,
                     uint8_t **out, size_t *out_len, cmk_err *err);

/* envops_file_open - the inverse: *plain malloc'd and NUL-terminated (wipe it with
 * cmk_wipe_str); CMK_EINVAL for a file that is not a backup, CMK_ECRYPTO for a changed file,
 * another key, or a backup of another environment or id */
int envops_file_open(const cmk_dek *dek, const char *env, const char *id, const uint8_t *data,
                     size_t len, char **plain, size_t *plain_len, cmk_err *err);

/* envops_file_dek_id - the id of the data key a backup file was sealed under */
int envops_file_dek_id(const uint8_t *data, size_t len, uint8_t id[CMK_DEK_ID_LEN], cmk_err *err);

/* envops_keywrap - AES-256 key wrap with padding (RFC 5649) under kek: enc 1 wraps, 0
 * unwraps; out needs ENVOPS_WRAP_MAX bytes. CMK_ECRYPTO if an unwrap does not verify. */
int envops_keywrap(const uint8_t kek[ENVOPS_KEK_LEN], int enc, const uint8_t *in, size_t in_len,
                   uint8_t out[ENVOPS_WRAP_MAX], size_t *out_len, cmk_err *err);

/* envops_state_to_json / envops_state_from_json - an encryption state kept with a backup
 * (every field, times in clock ms) */
cJSON *envops_state_to_json(const tenantkey_env_state *s);
int envops_state_from_json(const cJSON *j, tenantkey_env_state *out, cmk_err *err);

/* envops_state_overlay - the enterprise-policy view (policy_env_status's object: policy,
 * state, locked_at) over a BYOK state: linked -> customer-managed with that policy; locked
 * by the policy (or state Locked) -> locked */
void envops_state_overlay(tenantkey_env_state *s, const cJSON *cmk_status, int64_t now_ms);

/* envops_reset_check - a reset is a sandbox operation: CMK_ESTATE for any other type, then
 * tenantkey_reset_outcome()'s decision (refused while locked) */
int envops_reset_check(const tenantkey_env_state *s, cmk_err *err);

/* ---- the service (envops.c) --------------------------------------------------------------- */

typedef struct envops_svc envops_svc;

/* envops_done_fn - an operation ended: rc 0 and result (borrowed), or rc < 0 and err */
typedef void (*envops_done_fn)(void *arg, int rc, const cJSON *result, const cmk_err *err);

/* What envops works with (owned by the controller, all made before envops_svc_new). */
typedef struct {
    sqlite3 *db;               /* controller.db: env_backups, env_ops */
    const cmk_config *cfg;     /* run dir, request.timeout, envops.step_gate */
    cmk_loop *loop;            /* timers of the gate and the retries */
    cmk_clock *clock;          /* times of backups and operations */
    directory *dir;            /* environments */
    audit_log *audit;          /* every operation, allowed or refused */
    broker *broker;            /* forwards to the workers */
    vault_svc *vault;          /* wrapping a backup's data key under the customer key */
    policy_svc *policies;      /* the policy view, a policy's key, leaving a policy (reset) */
    tenantkey_svc *tenantkeys; /* the BYOK view and the envops rules */
    migration_svc *migration;  /* where a flow lives (flows swapped in, or held on the shared side) */
    recurrence_svc *recurrence; /* the schedules of the flows swapped out and in */
} envops_deps;

/* envops_svc_new - tables env_backups and env_ops in controller.db; deps copied */
envops_svc *envops_svc_new(const envops_deps *deps, cmk_err *err);

/* envops_svc_destroy - free; accepts NULL, nulls the pointer */
void envops_svc_destroy(envops_svc **self_p);

/* envops_env_state - env's current encryption state (BYOK view + policy view) */
int envops_env_state(envops_svc *self, const char *principal, const char *env,
                     tenantkey_env_state *out, cmk_err *err);

/* envops_backup - back env up ({id, env, label, created, state_at_backup, flows, size, wrap}) */
int envops_backup(envops_svc *self, const char *principal, const char *env, const char *label,
                  envops_done_fn done, void *arg, cmk_err *err);

/* envops_restore - restore backup into env (NULL: the environment it was taken from) */
int envops_restore(envops_svc *self, const char *principal, const char *backup, const char *env,
                   envops_done_fn done, void *arg, cmk_err *err);

/* envops_copy - copy source's flows over target's */
int envops_copy(envops_svc *self, const char *principal, const char *source, const char *target,
                envops_done_fn done, void *arg, cmk_err *err);

/* envops_reset - reset a sandbox environment */
int envops_reset(envops_svc *self, const char *principal, const char *env, envops_done_fn done,
                 void *arg, cmk_err *err);

/* envops_resume - after a start: restore, copy and reset operations a controller crash
 * interrupted (env_ops rows still Running) start again, or are finished if past their commit;
 * an interrupted backup is Failed */
void envops_resume(envops_svc *self);

/* envops_list - {env, items: [{id, env, label, created, encryption_at_backup, ...}], operations:
 * [{id, kind, status, phase, started, ended?, message, source?, target?, backup?}] (the latest 10,
 * newest first: what each did, or why it failed and what to do)} */
int envops_list(envops_svc *self, const char *env, cJSON **out, cmk_err *err);

#endif
