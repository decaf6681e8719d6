/*
 * route.h - what route.c (the routing of environment requests to their workers) offers beyond
 * the front-door handlers (controller/handlers.h): which worker serves an environment.
 */
#ifndef CMK_ROUTE_H
#define CMK_ROUTE_H

#include <stddef.h>

#include "directory.h"

/* ctl_worker_of - the worker serving an environment (its dedicated one once dedicated) */
void ctl_worker_of(const dir_env *env, char *name, size_t cap);

#endif
