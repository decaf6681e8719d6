/*
 * ctl.h - the controller's state, shared by its modules: the broker (front/back sockets),
 * the supervisor (children), the ZAP handler and, in later modules, the domain stores.
 */
#ifndef CMK_CTL_H
#define CMK_CTL_H

#include "broker.h"
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

#endif
