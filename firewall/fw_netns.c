/*
 * fw_netns.c - the namespace holder and work inside its namespace (see fw_netns.h).
 *
 * Children forked here do only what they need before _exit: the holder only system calls;
 * the nftables child runs libnftables (glibc keeps malloc usable in a child of a threaded
 * process). Results come back over a Unix socket pair.
 */
#include "fw_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "fw_nft.h"

#define OP_TIMEOUT_MS 15000 /* longest a child inside the namespace may take */

struct fw_netns {
    pid_t pid;                /* the holder */
    int keep;                 /* write end of its pipe: closing it ends the holder */
    int exited;               /* the holder was reaped */
    char net_path[64];        /* /proc/<pid>/ns/net */
    char user_path[64];       /* /proc/<pid>/ns/user */
    unsigned long net_inode;  /* inode of the network namespace */
    int user_fd, net_fd;      /* the namespaces, opened once: children enter through them */
};

/* What the holder reports once: the failed step (0: ready) and its errno. */
typedef struct {
    int step; /* 0 ready, 1 unshare, 2 setgroups, 3 uid_map, 4 gid_map, 5 lo */
    int err;  /* errno of the failed step */
} holder_status;

static const char *const step_names[] = { "ready", "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
                                          "writing /proc/self/setgroups",
                                          "writing /proc/self/uid_map",
                                          "writing /proc/self/gid_map", "bringing up lo" };

/* write_file - write text to a /proc file; 0 or -1 with errno */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), e;
    ssize_t n;
    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* lo_up - bring the loopback interface of the current namespace up; 0 or -1 */
static int lo_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return rc;
}

/* child_prologue - die with the parent, take signals again */
static void child_prologue(pid_t parent, const char *name)
{
    sigset_t none;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    prctl(PR_SET_NAME, name);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* holder_main - the holder child: make the namespace, report, wait for EOF */
static void holder_main(pid_t parent, int ready, int keep, const char *uidmap, const char *gidmap)
{
    holder_status st = { 0, 0 };
    char c;

    child_prologue(parent, "cmk-fw-netns");
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        st = (holder_status){ 1, errno };
    else if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
        st = (holder_status){ 2, errno };
    else if (write_file("/proc/self/uid_map", uidmap) < 0)
        st = (holder_status){ 3, errno };
    else if (write_file("/proc/self/gid_map", gidmap) < 0)
        st = (holder_status){ 4, errno };
    else if (lo_up() < 0)
        st = (holder_status){ 5, errno };
    if (write(ready, &st, sizeof st) != (ssize_t)sizeof st || st.step)
        _exit(1);
    close(ready);
    for (;;) {
        ssize_t n = read(keep, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
            _exit(0);
    }
}

/* fw_netns_new - fork the holder */
fw_netns *fw_netns_new(cmk_err *err)
{
    fw_netns *self = calloc(1, sizeof *self);
    int ready[2] = { -1, -1 }, keep[2] = { -1, -1 };
    char uidmap[32], gidmap[32];
    holder_status st = { 0, 0 };
    struct stat sb;
    pid_t parent = getpid();

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->keep = self->user_fd = self->net_fd = -1;
    snprintf(uidmap, sizeof uidmap, "0 %u 1\n", (unsigned)geteuid());
    snprintf(gidmap, sizeof gidmap, "0 %u 1\n", (unsigned)getegid());
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(keep, O_CLOEXEC) < 0) {
        cmk_err_set(err, CMK_EIO, "cannot create pipes: %s", strerror(errno));
        goto fail;
    }
    self->pid = fork();
    if (self->pid == 0) {
        close(ready[0]);
        close(keep[1]);
        holder_main(parent, ready[1], keep[0], uidmap, gidmap);
        _exit(1);
    }
    close(ready[1]);
    close(keep[0]);
    ready[1] = keep[0] = -1;
    if (self->pid < 0) {
        cmk_err_set(err, CMK_EIO, "cannot fork the namespace holder: %s", strerror(errno));
        goto fail;
    }
    self->keep = keep[1];
    keep[1] = -1;
    if (read(ready[0], &st, sizeof st) != (ssize_t)sizeof st)
        st = (holder_status){ 1, EPIPE };
    if (st.step) {
        cmk_err_set(err, st.err == EPERM || st.err == EACCES || st.err == ENOSPC ? CMK_EPERM : CMK_EIO,
                    "cannot create a user+network namespace: %s failed: %s%s",
                    step_names[st.step < 6 ? st.step : 1], strerror(st.err),
                    st.step == 1 ? " (unprivileged user namespaces may be disabled: see sysctl "
                                   "user.max_user_namespaces and "
                                   "kernel.apparmor_restrict_unprivileged_userns)" : "");
        goto fail;
    }
    snprintf(self->net_path, sizeof self->net_path, "/proc/%d/ns/net", (int)self->pid);
    snprintf(self->user_path, sizeof self->user_path, "/proc/%d/ns/user", (int)self->pid);
    if (stat(self->net_path, &sb) < 0) {
        cmk_err_set(err, CMK_EIO, "cannot stat %s: %s", self->net_path, strerror(errno));
        goto fail;
    }
    self->net_inode = (unsigned long)sb.st_ino;
    /* opened now, while the process may still reach the holder's /proc entries: once it has
     * confined itself (Landlock), the holder - made before - is outside its domain */
    if ((self->user_fd = open(self->user_path, O_RDONLY | O_CLOEXEC)) < 0 ||
        (self->net_fd = open(self->net_path, O_RDONLY | O_CLOEXEC)) < 0) {
        cmk_err_set(err, CMK_EIO, "cannot open the namespaces of %d: %s", (int)self->pid,
                    strerror(errno));
        goto fail;
    }
    close(ready[0]);
    return self;
fail:
    for (int i = 0; i < 2; i++) {
        if (ready[i] >= 0)
            close(ready[i]);
        if (keep[i] >= 0)
            close(keep[i]);
    }
    fw_netns_destroy(&self);
    return NULL;
}

/* fw_netns_destroy - kill and reap the holder */
void fw_netns_destroy(fw_netns **self_p)
{
    fw_netns *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->user_fd >= 0)
        close(self->user_fd);
    if (self->net_fd >= 0)
        close(self->net_fd);
    if (self->keep >= 0)
        close(self->keep); /* the holder reads EOF and exits on its own */
    if (self->pid > 0 && !__atomic_load_n(&self->exited, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < 200 && waitpid(self->pid, NULL, WNOHANG) == 0; i++)
            usleep(10000);
        if (kill(self->pid, SIGKILL) == 0)
            waitpid(self->pid, NULL, 0);
    }
    free(self);
    *self_p = NULL;
}

/* fw_netns_pid - the holder */
pid_t fw_netns_pid(const fw_netns *self) { return self->pid; }
/* fw_netns_net_path - its network namespace */
const char *fw_netns_net_path(const fw_netns *self) { return self->net_path; }
/* fw_netns_user_path - its user namespace */
const char *fw_netns_user_path(const fw_netns *self) { return self->user_path; }
/* fw_netns_net_inode - the network namespace's identity */
unsigned long fw_netns_net_inode(const fw_netns *self) { return self->net_inode; }

/* fw_netns_alive - reap if it exited */
int fw_netns_alive(fw_netns *self)
{
    if (!__atomic_load_n(&self->exited, __ATOMIC_ACQUIRE) &&
        waitpid(self->pid, NULL, WNOHANG) == self->pid)
        __atomic_store_n(&self->exited, 1, __ATOMIC_RELEASE);
    return !__atomic_load_n(&self->exited, __ATOMIC_ACQUIRE);
}

/* enter - join the holder's user, then network namespace; 0 or errno */
static int enter(const fw_netns *self)
{
    if (setns(self->user_fd, CLONE_NEWUSER) < 0 || setns(self->net_fd, CLONE_NEWNET) < 0)
        return errno;
    return 0;
}

/* spawn - fork a child that enters the namespace and runs fn(arg, fd) with one end of a
 * socket pair; returns the parent's end (or -1 with err) and the child's pid */
static int spawn(fw_netns *self, void (*fn)(fw_netns *, int, void *), void *arg, pid_t *pid,
                 cmk_err *err)
{
    int sv[2];
    pid_t parent = getpid();

    /* (a confined firewall may not signal the holder, made before: EPERM means it lives) */
    if (__atomic_load_n(&self->exited, __ATOMIC_ACQUIRE) || (kill(self->pid, 0) < 0 && errno == ESRCH))
        return cmk_err_set(err, CMK_EUNAVAIL, "the namespace holder %d is gone", (int)self->pid);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return cmk_err_set(err, CMK_EIO, "cannot create a socket pair: %s", strerror(errno));
    *pid = fork();
    if (*pid == 0) {
        close(sv[0]);
        child_prologue(parent, "cmk-fw-nsop");
        fn(self, sv[1], arg);
        _exit(0);
    }
    close(sv[1]);
    if (*pid < 0) {
        close(sv[0]);
        return cmk_err_set(err, CMK_EIO, "cannot fork: %s", strerror(errno));
    }
    return sv[0];
}

/* finish - close the parent's end and reap the child */
static void finish(int fd, pid_t pid)
{
    close(fd);
    if (waitpid(pid, NULL, WNOHANG) != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* wait_readable - poll fd for input up to OP_TIMEOUT_MS; 1 readable, 0 timeout */
static int wait_readable(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int rc;
    do
        rc = poll(&p, 1, OP_TIMEOUT_MS);
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

/* socket_child - make the socket inside and send it back */
static void socket_child(fw_netns *self, int fd, void *arg)
{
    const int *spec = arg;
    int e = enter(self), s = -1;

    if (!e && (s = socket(spec[0], spec[1] | SOCK_CLOEXEC, spec[2])) < 0)
        e = errno;
    (void)cmk_send_fds(fd, &e, sizeof e, &s, s >= 0 ? 1 : 0);
}

/* fw_netns_socket - a socket from inside */
int fw_netns_socket(fw_netns *self, int domain, int type, int protocol, cmk_err *err)
{
    int spec[3] = { domain, type, protocol }, e = 0, s = -1, fd, n = 0;
    pid_t pid;

    if ((fd = spawn(self, socket_child, spec, &pid, err)) < 0)
        return fd;
    if (!wait_readable(fd) || cmk_recv_fds(fd, &e, sizeof e, &s, 1, &n) != (ssize_t)sizeof e) {
        finish(fd, pid);
        return cmk_err_set(err, CMK_EIO, "no socket came back from the namespace %s",
                           self->net_path);
    }
    finish(fd, pid);
    if (e || !n) {
        if (n)
            close(s);
        return cmk_err_set(err, CMK_EIO, "cannot create a socket in the namespace %s: %s",
                           self->net_path, strerror(e ? e : EPROTO));
    }
    return s;
}

/* Arguments of an nftables run inside. */
typedef struct {
    const char *commands; /* nft commands */
    bool dry_run;         /* validate only */
    bool want_output;     /* send the output back */
} nft_args;

/* Header of an nftables result: rc, then msg_len bytes of message and out_len of output. */
typedef struct {
    int32_t rc;       /* fw_nft_run's return */
    uint32_t msg_len; /* error message bytes */
    uint32_t out_len; /* output bytes */
} nft_head;

/* write_all - write n bytes */
static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0 && errno != EINTR)
            return;
        if (w > 0) {
            c += w;
            n -= (size_t)w;
        }
    }
}

/* nft_child - run nft inside and send the result */
static void nft_child(fw_netns *self, int fd, void *arg)
{
    const nft_args *a = arg;
    cmk_err err = CMK_ERR_INIT;
    char *out = NULL;
    nft_head h = { 0, 0, 0 };
    int e = enter(self);

    if (e)
        h.rc = cmk_err_set(&err, CMK_EPERM, "cannot enter the namespace: %s", strerror(e));
    else
        h.rc = fw_nft_run(a->commands, a->dry_run, a->want_output ? &out : NULL, &err);
    h.msg_len = h.rc ? (uint32_t)strlen(err.msg) : 0;
    h.out_len = out ? (uint32_t)strlen(out) : 0;
    write_all(fd, &h, sizeof h);
    write_all(fd, err.msg, h.msg_len);
    write_all(fd, out ? out : "", h.out_len);
    free(out);
}

/* read_all - everything until EOF (or the timeout) into a malloc'd buffer */
static char *read_all(int fd, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        ssize_t r;
        if (n + 4096 + 1 > cap) {
            char *p = realloc(buf, cap = (cap ? cap * 2 : 8192));
            if (!p)
                break;
            buf = p;
        }
        if (!wait_readable(fd))
            break;
        r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* fw_netns_nft - nftables inside */
int fw_netns_nft(fw_netns *self, const char *commands, bool dry_run, char **output,
                 cmk_err *err)
{
    nft_args a = { commands, dry_run, output != NULL };
    nft_head h;
    size_t len = 0;
    char *buf;
    pid_t pid;
    int fd, rc;

    if (output)
        *output = NULL;
    if ((fd = spawn(self, nft_child, &a, &pid, err)) < 0)
        return fd;
    buf = read_all(fd, &len);
    finish(fd, pid);
    if (!buf || len < sizeof h) {
        free(buf);
        return cmk_err_set(err, CMK_EIO, "nftables inside the namespace %s gave no answer",
                           self->net_path);
    }
    memcpy(&h, buf, sizeof h);
    if (sizeof h + (size_t)h.msg_len + h.out_len > len) {
        free(buf);
        return cmk_err_set(err, CMK_EIO, "nftables inside the namespace gave a short answer");
    }
    rc = h.rc;
    if (rc)
        cmk_err_set(err, rc, "%.*s", (int)h.msg_len, buf + sizeof h);
    else if (output && !(*output = strndup(buf + sizeof h + h.msg_len, h.out_len)))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    free(buf);
    return rc;
}
