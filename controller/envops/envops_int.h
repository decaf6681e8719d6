/*
 * envops_int.h - what envops.c (the service, states, operations in flight, the conversations
 * with workers, resuming), envops_keys.c (wrapping a backup's data key) and envops_ops.c
 * (backup, restore, copy, reset, listing) share. Not a public API.
 */
#ifndef CMK_ENVOPS_INT_H
#define CMK_ENVOPS_INT_H

#include "envops.h"

struct envops_svc {
    envops_deps c; /* what it works with: db, directory, vault, policies, tenant keys, broker, audit */
};

typedef struct eo_job eo_job;
typedef void (*eo_step_fn)(eo_job *j);

/* An operation in flight (one per request). */
struct eo_job {
    envops_svc *svc;                 /* the service */
    char op[16];                     /* audit operation: env.backup, env.restore, ... */
    char id[64];                     /* its row in env_ops */
    char principal[256];             /* who asked */
    char source[64];                 /* environment read from (backup, copy), or backed up */
    char target[64];                 /* environment overwritten (restore, copy, reset) */
    char backup[64];                 /* backup id (backup, restore) */
    char label[128];                 /* backup label */
    tenantkey_env_state state;       /* backup: the state recorded; others: the target's */
    int src_dedicated;               /* the source is on dedicated infrastructure */
    int tgt_dedicated;               /* the target is */
    int tgt_linked;                  /* reset: the target is in a policy */
    int new_ids;                     /* flows put into another environment get new ids */
    int connections;                 /* reset: clear connections too */
    cJSON *flows;                    /* the flows carried: [{id, name, ..., home, definition}] */
    int outstanding;                 /* forwards of the current fan-out not answered yet */
    int failed;                      /* a forward of the fan-out failed */
    cmk_err ferr;                    /* its error */
    eo_step_fn then;                 /* what runs when the fan-out is complete */
    int put_index;                   /* next flow to put */
    int flows_deleted, runs_deleted; /* what the swaps reported */
    int flows_in;                    /* flows the swaps moved in */
    eo_step_fn fail_then;            /* a failed fan-out goes here (NULL: eo_fail) */
    eo_step_fn after;                /* what follows the swap (restore/copy result, reset's end) */
    eo_step_fn gate_next;            /* what runs when envops.step_gate opens */
    int gated;                       /* waiting at envops.step_gate (logged once) */
    int resumed;                     /* rolled forward after a controller restart */
    cmk_err aerr;                    /* an aborted operation's error, told once the areas are discarded */
    envops_done_fn done;             /* the caller's completion */
    void *arg;                       /* its argument */
};

/* One forward of a fan-out. */
typedef struct {
    eo_job *j;     /* the operation */
    char home[12]; /* "shared" or "dedicated": the partition asked */
    char env[64];  /* the environment asked about */
    int tries;     /* a swap: times it was sent */
} eo_leg;

/* A wrapped backup key and what wrapped it. */
typedef struct {
    char kind[8];                       /* "mmk" or "vault" */
    char vault[VAULT_NAME_MAX];         /* vault */
    char key[VAULT_KEY_NAME_MAX];       /* key name */
    char version[VAULT_VERSION_MAX];    /* the version that wrapped it */
    char principal[256];                /* the policy's identity */
    uint8_t *wrapped;                   /* the wrap (malloc'd) */
    size_t wrapped_len;                 /* its length */
} eo_wrap;

/* eo_env_view - the environment's row (with the policy view) and its encryption state (row_out
 * may be NULL) */
int eo_env_view(envops_svc *self, const char *principal, const char *ref, tenantkey_env_state *state, cJSON **row_out,
                cmk_err *err);

/* eo_busy - CMK_ESTATE/CMK_EBUSY if the environment is being changed or under another operation */
int eo_busy(envops_svc *self, const cJSON *row, cmk_err *err);

/* eo_is_dedicated - 1 if the environment row is on dedicated infrastructure */
int eo_is_dedicated(const cJSON *row);

/* eo_refuse - audit a refusal made before anything started; returns rc */
int eo_refuse(envops_svc *self, const char *principal, const char *op, const char *target, int rc, cmk_err *err);

/* eo_job_new / eo_job_start / eo_finish / eo_fail - an operation's life: made, recorded in
 * env_ops (eo_job_start: 0, or < 0 if it could not be recorded: j->id stays empty), ended
 * (audited, the caller told, freed) with a result or an error */
eo_job *eo_job_new(envops_svc *self, const char *op, const char *principal, envops_done_fn done, void *arg);
int eo_job_start(eo_job *j);
void eo_finish(eo_job *j, int rc, const cJSON *result, const char *detail);
void eo_fail(eo_job *j, int rc, const char *what, const char *why);

/* eo_gather - every flow of env from the worker(s) holding them into j->flows (each with its
 * home); then `then` (or j->fail_then / eo_fail) */
void eo_gather(eo_job *j, const char *env, int dedicated, eo_step_fn then);

/* eo_put_next - put j->flows from j->put_index on into j->target's staging area, then j->then
 * (a failed put: eo_abort) */
void eo_put_next(eo_job *j);

/* eo_send_leg / eo_leg_done / eo_leg_failed - one forward of a fan-out to the worker of env's
 * home partition (body taken); an answer in (the last one moves on: j->then, or j->fail_then /
 * eo_fail if a leg failed); 1 (and the failure recorded) if reply is not a reply */
void eo_send_leg(eo_job *j, const char *env, const char *home, const char *type, cJSON *body, broker_reply_fn cb);
void eo_leg_done(eo_job *j);
int eo_leg_failed(eo_leg *l, const cmk_msg *reply, const cmk_err *err);

/* ---- replacing the target all at once (envops_stage.c) ----
 * A restore, copy or reset never writes into the target's flows directly: it begins a staging
 * area (named by the operation's id) in every partition of the target, puts the flows there,
 * and only then, once env_ops records the phase `commit`, swaps each area in (one transaction
 * per partition; retried until every partition did it, also after a controller restart). A
 * failure before the commit discards the areas: the target is as it was. */

/* eo_stage_begin - a staging area in every partition of j->target, then `then` (or eo_abort) */
void eo_stage_begin(eo_job *j, eo_step_fn then);

/* eo_commit - (envops.step_gate) record the phase `commit`, swap every area in, reschedule the
 * target's flows, then `after` */
void eo_commit(eo_job *j, eo_step_fn after);

/* eo_swap - the swaps and rescheduling alone (an operation rolled forward after a restart) */
void eo_swap(eo_job *j, eo_step_fn after);

/* eo_abort - the operation failed before its commit: discard the staging areas and finish with
 * a message that says nothing changed, why, and what to do (what: the step, why: the cause) */
void eo_abort(eo_job *j, int rc, const char *what, const char *why);

/* eo_gate - envops.step_gate: 1 (and next runs later) while <run>/envops.step does not exist;
 * each file lets one step through */
int eo_gate(eo_job *j, const char *step, eo_step_fn next);

/* eo_roll_forward - a restore, copy or reset (row of env_ops: id, kind, principal, backup,
 * source, target) a restart interrupted after its commit: swap in, then finish (envops_ops.c) */
void eo_roll_forward(envops_svc *self, const cJSON *row);

/* eo_wrap_key / eo_unwrap_key - a backup's data key under the environment's current key (the
 * policy's customer key through its identity, else the Microsoft-managed key), and back */
int eo_wrap_key(envops_deps *c, const tenantkey_env_state *s, const uint8_t *key, eo_wrap *w, cmk_err *err);
int eo_unwrap_key(envops_deps *c, const eo_wrap *w, uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err);

#endif
