/*
 * ctl.h - the controller: the services it owns and wires together (ctl.c), its start and stop.
 * What the front-door handler files share is in handlers.h; services are given their
 * dependencies typed and do not include this header.
 */
#ifndef CMK_CTL_H
#define CMK_CTL_H

#include <sqlite3.h>

#include "audit.h"
#include "broker.h"
#include "cluster_metrics.h"
#include "clock.h"
#include "directory.h"
#include "envops.h"
#include "jobs.h"
#include "keyring.h"
#include "migration.h"
#include "policy.h"
#include "recurrence.h"
#include "tenantkey.h"
#include "vault.h"
#include "server.h"
#include "supervisor.h"
#include "ops.h"
#include "zap.h"

/* The controller. */
typedef struct ctl_s {
    cmk_server *srv;   /* the daemon skeleton */
    cmk_config *cfg;   /* its config */
    broker *broker;    /* front door and back end */
    supervisor *sup;   /* children */
    cmk_zap *zap;      /* CURVE key check */
    sqlite3 *db;       /* controller.db */
    cmk_clock *clock;  /* the clock every timing rule reads */
    directory *dir;    /* tenants and environments */
    audit_log *audit;  /* hash-chained audit log */
    vault_svc *vault;  /* the simulated Azure Key Vault */
    jobs *jobs;        /* slow work off the loop */
    keyring *keyring;  /* environments' data keys */
    policy_svc *policies; /* enterprise policies, links, health monitor */
    tenantkey_svc *tenantkeys; /* legacy BYOK tenant keys */
    envops_svc *envops; /* environment backup, restore, copy, reset */
    migration_svc *migration; /* moving flows between partitions; where each flow lives (the router reads it) */
    recurrence_svc *recurrence; /* Recurrence triggers on the clock */
    cluster_metrics gauges; /* what the metrics collect hook reads */
    int64_t clock_tick; /* loop timer that fires due clock timers */
    int lock_fd;       /* exclusive lock on <run>/controller.lock */
    int stopping;      /* shutdown in progress */
} ctl;

/* ctl_start - run dir, lock, keys, sockets, children */
int ctl_start(cmk_server *srv, ctl **out, cmk_err *err);

/* ctl_stop - release everything (children must be stopped already) */
void ctl_stop(ctl **self_p);

/* ctl_begin_shutdown - stop children, then the loop */
void ctl_begin_shutdown(ctl *self, const char *why);

/* ctl_handlers - every operation's handler, by CMK_OP_<ID> (dispatch.c; the handlers are
 * declared in handlers.h) */
extern const broker_op_fn ctl_handlers[CMK_NOPS];

/* ctl_reply_json - reply to req with body (takes ownership of body); every handler file uses it */
int ctl_reply_json(ctl *self, const cmk_msg *req, cJSON *body, cmk_err *err);

#endif
