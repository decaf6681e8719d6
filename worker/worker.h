/*
 * worker.h - a worker process: the shared one (--shared, every environment still on the
 * Microsoft-managed key) or a dedicated one (--env ID, one CMK environment). It registers with
 * the controller through its peer, keeps a link to the gateway for outbound HTTP actions, and
 * serves the requests the controller routes to its environments.
 */
#ifndef CMK_WORKER_H
#define CMK_WORKER_H

#include "err.h"
#include "peer.h"
#include "server.h"

/* A worker. */
typedef struct {
    cmk_server *srv;  /* the daemon skeleton */
    cmk_peer *peer;   /* link to the controller */
    void *gateway;    /* DEALER to the gateway (CURVE) */
} worker;

/* worker_start - keys, controller link, gateway link */
int worker_start(cmk_server *srv, worker **out, cmk_err *err);

/* worker_stop - close everything */
void worker_stop(worker **self_p);

#endif
