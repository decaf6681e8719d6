/*
 * gw_nsock.c - the namespace socket helper of the gateway (see gw_nsock.h).
 *
 * Three processes. The gateway confines itself (Landlock) once started, and a Landlock domain
 * may not reach into a process outside it (/proc/PID/ns is under ptrace rules); so before it
 * confines itself it forks a spawner, which keeps the layer the gateway was started with. For
 * each namespace the firewall announces, the spawner opens a pidfd of the namespace holder and
 * forks a helper that enters the namespaces (checking the network namespace's inode against
 * the state file) and serves sockets; the spawner hands the gateway its end of the helper's
 * pair and the pidfd (SCM_RIGHTS). The pidfd tells the gateway when the holder is gone.
 *
 * Spawner protocol (SOCK_SEQPACKET): the gateway sends a spawn_req; the spawner answers
 * {errno, helper pid} and, when errno is 0, two descriptors: the helper's pair end and the
 * holder's pidfd. Helper protocol: the gateway sends {domain, type, protocol}; the helper
 * answers {errno} and, when errno is 0, the new socket. Each exits when its pair closes and
 * dies with its parent (PR_SET_PDEATHSIG).
 */
#include "gw_nsock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fdpass.h"
#include "log.h"
#include "util.h"

/* A request to the helper. */
typedef struct {
    int domain;   /* AF_INET, ... */
    int type;     /* SOCK_STREAM, ... */
    int protocol; /* usually 0 */
} sock_req;

/* A request to the spawner: a helper for the namespaces of this holder. The spawner makes the
 * paths itself (/proc/<pid>/ns/user and net): it opens nothing else for the gateway. */
typedef struct {
    int holder_pid;            /* the namespace holder (a pidfd of it comes back) */
    unsigned long netns_inode; /* the network namespace the helper must find there */
} spawn_req;

/* The spawner's answer (descriptors ride along when err is 0). */
typedef struct {
    int err;   /* 0 or the errno of the failed step */
    int pid;   /* the helper */
} spawn_rep;

struct gw_nsock {
    pthread_mutex_t lock;    /* guards the fields below */
    int spawner;             /* socket pair end to the spawner, -1 if none */
    pid_t spawner_pid;       /* its pid, 0 if gone */
    int holder_fd;           /* pidfd of the holder the helper serves, -1 if none */
    char path[4200];         /* <run>/firewall/state.json */
    struct stat seen;        /* the state file as last read (st_ino 0: none) */
    gw_fwstate state;        /* what it said, checked */
    int ctl;                 /* socket pair end to the helper, -1 if none */
    pid_t helper;            /* helper pid, 0 if none */
    unsigned long helper_ns; /* the namespace inode the helper is in */
    int helper_holder;       /* and the pid of that namespace's holder */
};

/* gw_fwstate_parse - state.json into a struct */
int gw_fwstate_parse(const char *text, gw_fwstate *out, cmk_err *err)
{
    cJSON *j = cJSON_Parse(text);
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        snprintf(out->mode, sizeof out->mode, "none");
        return cmk_err_set(err, CMK_EINVAL, "firewall state file is not a JSON object");
    }
    snprintf(out->mode, sizeof out->mode, "%s", cmk_json_str(j, "mode", "none"));
    out->holder_pid = (int)cmk_json_num(j, "holder_pid", 0);
    snprintf(out->netns, sizeof out->netns, "%s", cmk_json_str(j, "netns", ""));
    snprintf(out->userns, sizeof out->userns, "%s", cmk_json_str(j, "userns", ""));
    out->netns_inode = (unsigned long)cmk_json_num(j, "netns_inode", 0);
    out->endpoint_port = (int)cmk_json_num(j, "endpoint_port", 0);
    snprintf(out->config, sizeof out->config, "%s", cmk_json_str(j, "config", ""));
    cJSON_Delete(j);
    if (strcmp(out->mode, "kernel") == 0 && (!out->netns[0] || !out->userns[0]))
        return cmk_err_set(err, CMK_EINVAL, "firewall state says kernel mode without namespaces");
    return 0;
}

/* helper_main - a helper: enter the namespaces (the network one must be the announced one),
 * then serve sockets until the pair closes */
static void helper_main(int fd, const spawn_req *r)
{
    sigset_t none;
    struct stat sb;
    char userns[64], netns[64];
    int u, n, status = 0;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "cmk-gw-nsock");
    signal(SIGCHLD, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(fd, 3) < 0)
        _exit(1);
    close_range(4, ~0U, 0);
    snprintf(userns, sizeof userns, "/proc/%d/ns/user", r->holder_pid);
    snprintf(netns, sizeof netns, "/proc/%d/ns/net", r->holder_pid);
    u = open(userns, O_RDONLY | O_CLOEXEC);
    n = open(netns, O_RDONLY | O_CLOEXEC);
    if (u < 0 || n < 0)
        status = errno;
    else if (fstat(n, &sb) < 0)
        status = errno;
    else if ((unsigned long)sb.st_ino != r->netns_inode)
        status = ESTALE; /* the holder's pid now names another process */
    else if (setns(u, CLONE_NEWUSER) < 0 || setns(n, CLONE_NEWNET) < 0)
        status = errno;
    if (u >= 0)
        close(u);
    if (n >= 0)
        close(n);
    if (send(3, &status, sizeof status, MSG_NOSIGNAL) < 0 || status)
        _exit(1);
    for (;;) {
        sock_req q;
        ssize_t got = recv(3, &q, sizeof q, 0);
        int s, e;

        if (got <= 0)
            _exit(0);
        if (got != (ssize_t)sizeof q)
            continue;
        s = socket(q.domain, q.type | SOCK_CLOEXEC, q.protocol);
        e = s < 0 ? errno : 0;
        if (cmk_send_fds(3, &e, sizeof e, &s, s >= 0 ? 1 : 0) < 0)
            _exit(0);
        if (s >= 0)
            close(s);
    }
}

/* spawner_main - the spawner: a helper per request, until the gateway closes the pair */
static void spawner_main(int fd)
{
    sigset_t none;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "cmk-gw-spawn");
    signal(SIGCHLD, SIG_IGN); /* helpers are reaped by the kernel */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(fd, 3) < 0)
        _exit(1);
    close_range(4, ~0U, 0);
    for (;;) {
        spawn_req r;
        spawn_rep rep = { 0, 0 };
        int sv[2] = { -1, -1 }, fds[2], pidfd = -1;
        ssize_t got = recv(3, &r, sizeof r, 0);

        if (got <= 0)
            _exit(0);
        if (got != (ssize_t)sizeof r)
            continue;
        if (r.holder_pid <= 0)
            rep.err = ESRCH;
        else if ((pidfd = (int)syscall(SYS_pidfd_open, (pid_t)r.holder_pid, 0)) < 0)
            rep.err = errno;
        else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            rep.err = errno;
        else if ((rep.pid = (int)fork()) == 0) {
            close(sv[0]);
            close(pidfd);
            helper_main(sv[1], &r);
            _exit(0);
        } else if (rep.pid < 0)
            rep.err = errno;
        fds[0] = sv[0];
        fds[1] = pidfd;
        if (cmk_send_fds(3, &rep, sizeof rep, fds, rep.err ? 0 : 2) < 0)
            _exit(0);
        for (int i = 0; i < 2; i++)
            if (sv[i] >= 0)
                close(sv[i]);
        if (pidfd >= 0)
            close(pidfd);
    }
}

/* gw_nsock_new - remember where the state file is; fork the spawner (before the gateway
 * confines itself: see the file comment) */
gw_nsock *gw_nsock_new(const char *run_dir, cmk_err *err)
{
    gw_nsock *self = calloc(1, sizeof *self);
    int sv[2];

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->path, sizeof self->path, "%s/firewall/state.json", run_dir);
    snprintf(self->state.mode, sizeof self->state.mode, "none");
    self->ctl = self->spawner = self->holder_fd = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        cmk_err_set(err, CMK_EIO, "cannot make the spawner's socket pair: %s", strerror(errno));
        gw_nsock_destroy(&self);
        return NULL;
    }
    self->spawner_pid = fork();
    if (self->spawner_pid == 0) {
        close(sv[0]);
        spawner_main(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    if (self->spawner_pid < 0) {
        close(sv[0]);
        self->spawner_pid = 0;
        cmk_err_set(err, CMK_EIO, "cannot fork the namespace spawner: %s", strerror(errno));
        gw_nsock_destroy(&self);
        return NULL;
    }
    self->spawner = sv[0];
    return self;
}

/* stop_helper - close the pair (the helper exits on EOF; the spawner's kernel reaps it) */
static void stop_helper(gw_nsock *self)
{
    if (self->ctl >= 0)
        close(self->ctl);
    if (self->holder_fd >= 0)
        close(self->holder_fd);
    self->ctl = self->holder_fd = -1;
    self->helper = 0;
    self->helper_ns = 0;
    self->helper_holder = 0;
}

/* gw_nsock_destroy - stop the helper and the spawner */
void gw_nsock_destroy(gw_nsock **self_p)
{
    gw_nsock *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    stop_helper(self);
    if (self->spawner >= 0)
        close(self->spawner); /* the spawner reads EOF and exits */
    if (self->spawner_pid > 0)
        waitpid(self->spawner_pid, NULL, 0);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* wait_in - poll one descriptor for input up to ms; 1 when readable */
static int wait_in(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1;
}

/* start_helper - a helper in the state's namespaces from the spawner; 0, or an errno (logged
 * unless the holder is gone: ESRCH, ENOENT, ESTALE - the caller says that) */
static int start_helper(gw_nsock *self)
{
    spawn_req r;
    spawn_rep rep = { EIO, 0 };
    int fds[2] = { -1, -1 }, status = -1, nfds = 0;

    if (self->spawner < 0) {
        cmk_error("egress.nsock_failed", "netns=%s error=\"the namespace spawner is gone; outbound "
                  "connections fail until the gateway restarts\"", self->state.netns);
        return EIO;
    }
    memset(&r, 0, sizeof r);
    r.holder_pid = self->state.holder_pid;
    r.netns_inode = self->state.netns_inode;
    if (send(self->spawner, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r || !wait_in(self->spawner, 5000) ||
        cmk_recv_fds(self->spawner, &rep, sizeof rep, fds, 2, &nfds) != (ssize_t)sizeof rep) {
        cmk_error("egress.nsock_failed", "netns=%s error=\"the namespace spawner did not answer\"",
                  self->state.netns);
        return EIO;
    }
    if (rep.err == 0 && nfds == 2 && wait_in(fds[0], 5000) &&
        recv(fds[0], &status, sizeof status, 0) == (ssize_t)sizeof status && status == 0) {
        self->ctl = fds[0];
        self->holder_fd = fds[1];
        self->helper = rep.pid;
        self->helper_ns = self->state.netns_inode;
        self->helper_holder = self->state.holder_pid;
        cmk_info("egress.nsock_ready", "helper_pid=%d holder_pid=%d netns=%s inode=%lu", rep.pid,
                 self->state.holder_pid, self->state.netns, self->state.netns_inode);
        return 0;
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (rep.err == 0)
        rep.err = status > 0 ? status : EIO;
    if (rep.err != ESRCH && rep.err != ENOENT && rep.err != ESTALE)
        cmk_error("egress.nsock_failed",
                  "netns=%s error=\"cannot enter the firewall's namespaces: %s; outbound "
                  "connections will fail until the firewall restarts\"",
                  self->state.netns, status == -1 && rep.err == EIO ? "the helper did not answer" : strerror(rep.err));
    return rep.err;
}

/* holder_gone - the holder the helper serves has exited (its pidfd is readable) */
static int holder_gone(const gw_nsock *self)
{
    return self->holder_fd >= 0 && wait_in(self->holder_fd, 0);
}

/* reload - read the state file into self->state (mode "none" if absent or broken) */
static void reload(gw_nsock *self, const struct stat *sb)
{
    char *text = NULL;
    size_t len = 0;
    cmk_err err = CMK_ERR_INIT;
    gw_fwstate st;

    if (cmk_file_read(self->path, &text, &len, &err) < 0 || gw_fwstate_parse(text, &st, &err) < 0) {
        memset(&st, 0, sizeof st);
        snprintf(st.mode, sizeof st.mode, "none");
        cmk_warn("egress.firewall_state", "path=%s error=\"%s\"", self->path, err.msg);
    }
    free(text);
    self->seen = *sb;
    self->state = st;
    cmk_info("egress.firewall", "mode=%s config=%s netns=%s", st.mode, st.config[0] ? st.config : "-",
             st.netns[0] ? st.netns : "-");
}

/* holder_lost - the namespace the state file names is gone: no firewall until it restarts */
static void holder_lost(gw_nsock *self, int e)
{
    cmk_warn("egress.firewall", "mode=none reason=\"the firewall's namespace holder %d is "
             "gone (%s); waiting for the firewall to restart\"", self->state.holder_pid,
             e ? strerror(e) : "it exited");
    snprintf(self->state.mode, sizeof self->state.mode, "none");
}

/* gw_nsock_refresh - follow the state file */
void gw_nsock_refresh(gw_nsock *self, gw_fwstate *out)
{
    struct stat sb;

    pthread_mutex_lock(&self->lock);
    if (stat(self->path, &sb) != 0) {
        if (self->seen.st_ino != 0 || strcmp(self->state.mode, "none") != 0)
            cmk_info("egress.firewall", "mode=none reason=\"no %s: outbound connections leave "
                     "from the host\"", self->path);
        memset(&self->seen, 0, sizeof self->seen);
        memset(&self->state, 0, sizeof self->state);
        snprintf(self->state.mode, sizeof self->state.mode, "none");
    } else if (sb.st_ino != self->seen.st_ino || sb.st_mtim.tv_sec != self->seen.st_mtim.tv_sec ||
               sb.st_mtim.tv_nsec != self->seen.st_mtim.tv_nsec || sb.st_size != self->seen.st_size) {
        reload(self, &sb);
    }
    /* (a namespace's inode number is reused once it is freed: the holder's pid tells a new
     * namespace from the old one too) */
    if (strcmp(self->state.mode, "kernel") != 0 || self->helper_ns != self->state.netns_inode ||
        self->helper_holder != self->state.holder_pid)
        stop_helper(self);
    else if (holder_gone(self)) {
        holder_lost(self, 0);
        stop_helper(self);
    }
    if (strcmp(self->state.mode, "kernel") == 0 && self->helper == 0) {
        int e = start_helper(self);
        if (e == ESRCH || e == ENOENT || e == ESTALE)
            holder_lost(self, e);
    }
    *out = self->state;
    pthread_mutex_unlock(&self->lock);
}

/* ask_helper - one socket from the helper; -1 with errno */
static int ask_helper(gw_nsock *self, int domain, int type, int protocol)
{
    sock_req r = { domain, type, protocol };
    int e = 0, fd = -1, nfds = 0;

    if (send(self->ctl, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r ||
        cmk_recv_fds(self->ctl, &e, sizeof e, &fd, 1, &nfds) != (ssize_t)sizeof e) {
        cmk_warn("egress.nsock_lost", "helper_pid=%d", (int)self->helper);
        stop_helper(self);
        errno = EIO;
        return -1;
    }
    if (e) {
        if (nfds)
            close(fd);
        errno = e;
        return -1;
    }
    if (!nfds)
        errno = EPROTO;
    return nfds ? fd : -1;
}

/* gw_nsock_socket - in the namespace or on the host */
int gw_nsock_socket(gw_nsock *self, int domain, int type, int protocol)
{
    int fd;
    pthread_mutex_lock(&self->lock);
    if (strcmp(self->state.mode, "kernel") != 0)
        fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    else if (self->ctl < 0) {
        errno = ENETUNREACH;
        fd = -1;
    } else
        fd = ask_helper(self, domain, type, protocol);
    pthread_mutex_unlock(&self->lock);
    return fd;
}

/* gw_nsock_reap - reap the spawner if it exited (helpers are the spawner's children) */
void gw_nsock_reap(gw_nsock *self)
{
    int status;
    pthread_mutex_lock(&self->lock);
    if (self->spawner_pid > 0 && waitpid(self->spawner_pid, &status, WNOHANG) == self->spawner_pid) {
        cmk_error("egress.nsock_spawner_exit", "spawner_pid=%d status=%d error=\"outbound connections "
                  "through the firewall fail until the gateway restarts\"", (int)self->spawner_pid, status);
        self->spawner_pid = 0;
        if (self->spawner >= 0)
            close(self->spawner);
        self->spawner = -1;
    }
    pthread_mutex_unlock(&self->lock);
}
