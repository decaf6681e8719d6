/*
 * gw_nsock.h - sockets for outbound connections, made where the customer's firewall can see
 * them.
 *
 * The firewall daemon describes itself in <run>/firewall/state.json (written by fw_edge.c):
 *
 *   {"mode": "kernel", "holder_pid": 4242, "netns": "/proc/4242/ns/net",
 *    "userns": "/proc/4242/ns/user", "netns_inode": 4026532871, "endpoint_port": 18080,
 *    "config": "legacy-only", ...}
 *
 * In kernel mode every outbound socket must be created inside that network namespace, so that
 * its packets cross the namespace's nftables rules. A thread of a multi-threaded process cannot
 * enter a user namespace (setns(2) refuses with EINVAL), and without entering the user
 * namespace it has no right to enter the network namespace (EPERM) unless it is root; so the
 * gateway forks a small single-threaded helper that enters both namespaces (the same uid owns
 * them: no root needed) and hands out sockets over a Unix socket pair (SCM_RIGHTS); a spawner
 * forked before the gateway confines itself makes the helpers (gw_nsock.c). Without a
 * state file (no firewall process) or in userspace mode, sockets are made on the host.
 *
 * Used from the egress thread; gw_nsock_reap is called by the main thread on SIGCHLD.
 */
#ifndef CMK_GW_NSOCK_H
#define CMK_GW_NSOCK_H

#include "err.h"

/* The customer firewall as the gateway sees it. */
typedef struct {
    char mode[16];             /* "kernel", "userspace" or "none" (no firewall running) */
    int holder_pid;            /* pid of the namespace holder (kernel mode) */
    char netns[64];            /* its network namespace: /proc/<pid>/ns/net */
    char userns[64];           /* its user namespace: /proc/<pid>/ns/user */
    unsigned long netns_inode; /* identity of the network namespace */
    int endpoint_port;         /* port of the simulated customer endpoints */
    char config[128];          /* name of the firewall config in force */
} gw_fwstate;

typedef struct gw_nsock gw_nsock;

/* gw_fwstate_parse - state.json text into out (pure; for tests) */
int gw_fwstate_parse(const char *text, gw_fwstate *out, cmk_err *err);

/* gw_nsock_new - follow <run_dir>/firewall/state.json; forks the spawner of namespace helpers,
 * so call it while the process is single-threaded and before it confines itself (Landlock
 * keeps a confined process out of the holder's /proc/PID/ns). NULL with err on failure. */
gw_nsock *gw_nsock_new(const char *run_dir, cmk_err *err);

/* gw_nsock_destroy - stop the helper (NULL is fine) and null the caller's pointer */
void gw_nsock_destroy(gw_nsock **self_p);

/* gw_nsock_refresh - re-read the state file if it changed, check the namespace is still
 * there, start or replace the helper; *out gets the state in force */
void gw_nsock_refresh(gw_nsock *self, gw_fwstate *out);

/* gw_nsock_socket - a new socket (close-on-exec): inside the firewall's network namespace in
 * kernel mode, on the host otherwise. -1 with errno set on failure. */
int gw_nsock_socket(gw_nsock *self, int domain, int type, int protocol);

/* gw_nsock_reap - reap the spawner if it died (call on SIGCHLD) */
void gw_nsock_reap(gw_nsock *self);

#endif
