/*
 * fdpass.h - a small message plus descriptors over a Unix socket (SCM_RIGHTS): how the
 * gateway's and the firewall's namespace helpers hand out sockets made inside a namespace.
 */
#ifndef CMK_FDPASS_H
#define CMK_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define CMK_FDPASS_MAX 4 /* descriptors in one message */

/* cmk_send_fds - send len bytes of buf with nfds (<= CMK_FDPASS_MAX) descriptors (MSG_NOSIGNAL);
 * bytes sent, or -1 with errno */
ssize_t cmk_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

/* cmk_recv_fds - receive up to len bytes into buf and up to max descriptors (close-on-exec)
 * into fds; *nfds says how many came (extra ones are closed). Bytes received, or -1 with errno. */
ssize_t cmk_recv_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds);

#endif
