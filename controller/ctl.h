/*
 * ctl.h - the controller's state, shared by its modules: the broker (front/back sockets),
 * the supervisor (children), the ZAP handler and, in later modules, the domain stores.
 */
#ifndef CMK_CTL_H
#define CMK_CTL_H

#include <sqlite3.h>

#include "broker.h"
#include "clock.h"
#include "directory.h"
#include "server.h"
#include "supervisor.h"
#include "zap.h"

/* The controller. */
typedef struct {
    cmk_server *srv;   /* the daemon skeleton */
    cmk_config *cfg;   /* its config */
    broker *broker;    /* front door and back end */
    supervisor *sup;   /* children */
    cmk_zap *zap;      /* CURVE key check */
    sqlite3 *db;       /* controller.db */
    cmk_clock *clock;  /* the clock every timing rule reads */
    directory *dir;    /* tenants and environments */
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

/* ctl_ops - the front operations table (ctl_ops.c) */
extern const broker_op ctl_ops[];

/* ctl_reply_json - reply to req with body (takes ownership of body) */
int ctl_reply_json(ctl *self, const cmk_msg *req, cJSON *body, cmk_err *err);

/* front operations of the directory (ops_directory.c) and of the clock (ops_clock.c) */
int op_tenant_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_tenant_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_create(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_list(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_enable_managed(void *ctx, const cmk_msg *req, cmk_err *err);
int op_env_delete(void *ctx, const cmk_msg *req, cmk_err *err);
int op_clock_show(void *ctx, const cmk_msg *req, cmk_err *err);
int op_clock_advance(void *ctx, const cmk_msg *req, cmk_err *err);

#endif
