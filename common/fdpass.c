/*
 * fdpass.c - a small message plus descriptors over a Unix socket (see fdpass.h).
 */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* cmk_send_fds - one sendmsg with an SCM_RIGHTS part when nfds > 0 */
ssize_t cmk_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * CMK_FDPASS_MAX)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = { (void *)buf, len };
    struct msghdr mh;

    if (nfds < 0 || nfds > CMK_FDPASS_MAX) {
        errno = EINVAL;
        return -1;
    }
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds > 0) {
        struct cmsghdr *c;
        memset(&cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* cmk_recv_fds - one recvmsg; descriptors beyond max are closed */
ssize_t cmk_recv_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * CMK_FDPASS_MAX)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = { buf, len };
    struct msghdr mh;
    struct cmsghdr *c;
    ssize_t got;

    *nfds = 0;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.buf;
    mh.msg_controllen = sizeof cbuf.buf;
    if ((got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0)
        return -1;
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        size_t n;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < max)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    return got;
}
