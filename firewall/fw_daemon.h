/*
 * fw_daemon.h - the customer firewall as a supervised process of the cluster (`cmk-firewall
 * serve`): it runs the customer edge (fw_edge: kernel or user-space enforcement and the
 * simulated endpoints), registers with the controller and answers on its peer channel:
 *
 *   firewall.status  {}                                  -> fw_edge_status
 *   firewall.apply   {config: "<JSON text>" | {...}, name?}  -> {applied, config, previous, ...}
 *                    {path: "/abs/fw.json"}              (name: origin in messages, a file name)
 *   firewall.fault   {kind: latency|reset|timeout|none, ms?, duration?}
 *                                                        -> {kind, ms, duration_ms, enforced_by}
 *                    (enforced_by "kernel": reset/timeout in nftables in kernel mode, so
 *                    pooled connections meet them too; else "endpoints")
 *
 * SIGHUP re-applies the config file in force (edit it, then `kill -HUP`). In kernel mode the
 * nftables counters are read every second (from a thread of the edge) and increases are logged
 * (event=fw.kernel_count).
 * If the namespace holder dies, the daemon stops so that the supervisor restarts it.
 */
#ifndef CMK_FW_DAEMON_H
#define CMK_FW_DAEMON_H

#include <cjson/cJSON.h>

#include "err.h"
#include "fw_edge.h"
#include "peer.h"
#include "server.h"

/* The firewall daemon. */
typedef struct {
    cmk_server *srv;       /* the daemon skeleton */
    cmk_peer *peer;        /* link to the controller */
    fw_edge *edge;         /* the customer edge */
} fw_daemon;

int fw_daemon_start(cmk_server *srv, fw_daemon **out, cmk_err *err);
void fw_daemon_stop(fw_daemon **self_p);

/* fw_daemon_request - answer one peer request (firewall.status, .apply, .fault) with a reply
 * body in *reply; CMK_EPROTO for other types. Usable without a peer (tests). */
int fw_daemon_request(fw_edge *edge, const char *type, const cJSON *body, cJSON **reply,
                      cmk_err *err);

/* fw_daemon_main - run `cmk-firewall serve [options]` */
int fw_daemon_main(int argc, char **argv);

#endif
