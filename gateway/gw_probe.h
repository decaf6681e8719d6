/*
 * gw_probe.h - `cmk-gateway probe`: send one outbound HTTP action to a running gateway as a
 * worker would, and print the reply. A diagnostic for admins ("what does a CMK flow's HTTP
 * action see against my firewall?") and the tool integration tests drive the gateway with.
 *
 *   cmk-gateway probe --run-dir /tmp/c1 --name worker-shared --infrastructure dedicated \
 *       --region unitedstates --url http://127.0.0.1:18080/anything
 *
 * Exit status: 0 for a reply (any HTTP status), else that of the error code (1 refused,
 * 2 bad input, 3 unavailable or timeout, 4 I/O); the reply or {"error": {...}} goes to stdout
 * as JSON.
 */
#ifndef CMK_GW_PROBE_H
#define CMK_GW_PROBE_H

/* gw_probe_main - run `probe` (argv[0] is "probe"); returns the exit status */
int gw_probe_main(int argc, char **argv);

#endif
