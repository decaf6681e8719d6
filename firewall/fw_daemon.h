/*
 * fw_daemon.h - the customer firewall as a supervised process of the cluster (`cmk-firewall
 * serve`): it registers with the controller and answers ping. It is where the simulated
 * customer edge (enforcer and endpoints) runs.
 */
#ifndef CMK_FW_DAEMON_H
#define CMK_FW_DAEMON_H

#include "err.h"
#include "peer.h"
#include "server.h"

/* The firewall daemon. */
typedef struct {
    cmk_server *srv; /* the daemon skeleton */
    cmk_peer *peer;  /* link to the controller */
} fw_daemon;

int fw_daemon_start(cmk_server *srv, fw_daemon **out, cmk_err *err);
void fw_daemon_stop(fw_daemon **self_p);

/* fw_daemon_main - run `cmk-firewall serve [options]` */
int fw_daemon_main(int argc, char **argv);

#endif
