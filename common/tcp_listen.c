/*
 * tcp_listen.c - a listening TCP socket on "HOST:PORT" (see tcp_listen.h).
 */
#include "tcp_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* cmk_tcp_listen - socket, bind, listen; fills the bound address */
int cmk_tcp_listen(const char *addr, const char *param, int backlog, char *bound, size_t n, cmk_err *err)
{
    char host[64];
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof sa;
    int fd, one = 1;
    long port;
    char *end;

    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return cmk_err_set(err, CMK_EINVAL, "%s must be HOST:PORT (e.g. 127.0.0.1:0), not \"%s\"", param,
                           addr ? addr : "");
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || end == colon + 1 || *end || errno || port < 0 ||
        port > 65535)
        return cmk_err_set(err, CMK_EINVAL, "%s: \"%s\" is not an IPv4 address and port", param, addr);
    sa.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cmk_err_set(err, CMK_EIO, "cannot create a socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int e = errno;
        close(fd);
        return cmk_err_set(err, CMK_EIO, "cannot listen on %s (%s): %s", addr, param, strerror(e));
    }
    snprintf(bound, n, "%s:%u", host, ntohs(sa.sin_port));
    return fd;
}
