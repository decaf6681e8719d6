/*
 * gateway.h - the platform edge. Workers send outbound HTTP actions to its ROUTER (CURVE;
 * only worker keys are let in by its ZAP handler); it registers with the controller like any
 * supervised process.
 */
#ifndef CMK_GATEWAY_H
#define CMK_GATEWAY_H

#include "err.h"
#include "peer.h"
#include "server.h"
#include "zap.h"

/* The gateway. */
typedef struct {
    cmk_server *srv;  /* the daemon skeleton */
    cmk_peer *peer;   /* link to the controller */
    cmk_zap *zap;     /* accepts worker keys */
    void *router;     /* ROUTER for workers */
} gateway;

int gateway_start(cmk_server *srv, gateway **out, cmk_err *err);
void gateway_stop(gateway **self_p);

#endif
