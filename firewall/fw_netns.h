/*
 * fw_netns.h - a user+network namespace that the project owns, held open by a child process,
 * and work done inside it. No root needed.
 *
 * The holder is a forked child that unshare(CLONE_NEWUSER | CLONE_NEWNET)s, maps its uid and
 * gid to 0 inside (after denying setgroups), brings up `lo` and then only waits: the namespace
 * lives as long as it does. It dies with its parent (PR_SET_PDEATHSIG) or when
 * fw_netns_destroy closes its pipe.
 *
 * Work inside the namespace runs in short-lived forked children that setns() into the
 * holder's user namespace and then its network namespace. (A thread of a multi-threaded
 * process cannot join a user namespace - setns(2) refuses with EINVAL - and without it has no
 * right to join the network namespace unless it is root; a fresh child is single-threaded.)
 * A socket made there stays in the namespace wherever its descriptor goes, so
 * fw_netns_socket hands it back over SCM_RIGHTS and the caller binds, listens and serves it
 * from its own threads.
 *
 * fw_netns_socket and fw_netns_nft may be called from any thread; fw_netns_alive and
 * fw_netns_destroy belong to the thread that created the namespace.
 *
 *   fw_netns *ns = fw_netns_new(&err);                 // NULL: no namespaces on this host
 *   fw_netns_nft(ns, ruleset, false, NULL, &err);      // nftables inside the namespace
 *   int fd = fw_netns_socket(ns, AF_INET, SOCK_STREAM, 0, &err);
 *   fw_netns_destroy(&ns);
 */
#ifndef CMK_FW_NETNS_H
#define CMK_FW_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

typedef struct fw_netns fw_netns;

/* fw_netns_new - fork the holder and wait until the namespace is ready. NULL with err (code
 * CMK_EPERM when the host allows no unprivileged user namespaces) naming the failed step. */
fw_netns *fw_netns_new(cmk_err *err);

/* fw_netns_destroy - end the holder and reap it (NULL is fine); null the caller's pointer */
void fw_netns_destroy(fw_netns **self_p);

/* fw_netns_pid - the holder's pid */
pid_t fw_netns_pid(const fw_netns *self);

/* fw_netns_net_path - "/proc/<pid>/ns/net" */
const char *fw_netns_net_path(const fw_netns *self);

/* fw_netns_user_path - "/proc/<pid>/ns/user" */
const char *fw_netns_user_path(const fw_netns *self);

/* fw_netns_net_inode - the network namespace's inode (its identity) */
unsigned long fw_netns_net_inode(const fw_netns *self);

/* fw_netns_alive - reap the holder if it exited (call on SIGCHLD); 1 while it lives */
int fw_netns_alive(fw_netns *self);

/* fw_netns_socket - a socket (close-on-exec) created inside the namespace; < 0 on failure */
int fw_netns_socket(fw_netns *self, int domain, int type, int protocol, cmk_err *err);

/* fw_netns_nft - fw_nft_run inside the namespace: commands, dry run, output (malloc'd, may
 * be NULL), with nft's error in err */
int fw_netns_nft(fw_netns *self, const char *commands, bool dry_run, char **output,
                 cmk_err *err);

#endif
