/*
 * gw_nsock.c - the namespace socket helper of the gateway (see gw_nsock.h).
 *
 * Helper protocol over a SOCK_SEQPACKET pair: the gateway sends {domain, type, protocol};
 * the helper answers {errno} and, when errno is 0, the new socket as SCM_RIGHTS. The helper
 * exits when the pair closes, and dies with the gateway (PR_SET_PDEATHSIG).
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
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "util.h"

/* A request to the helper. */
typedef struct {
    int domain;   /* AF_INET, ... */
    int type;     /* SOCK_STREAM, ... */
    int protocol; /* usually 0 */
} sock_req;

struct gw_nsock {
    pthread_mutex_t lock;    /* guards the fields below */
    char path[4200];         /* <run>/firewall/state.json */
    struct stat seen;        /* the state file as last read (st_ino 0: none) */
    gw_fwstate state;        /* what it said, checked */
    int ctl;                 /* socket pair end to the helper, -1 if none */
    pid_t helper;            /* helper pid, 0 if none */
    unsigned long helper_ns; /* the namespace inode the helper is in */
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

/* gw_nsock_new - remember where the state file is */
gw_nsock *gw_nsock_new(const char *run_dir)
{
    gw_nsock *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->path, sizeof self->path, "%s/firewall/state.json", run_dir);
    snprintf(self->state.mode, sizeof self->state.mode, "none");
    self->ctl = -1;
    return self;
}

/* stop_helper - close the pair (the helper exits on EOF); reaping happens on SIGCHLD */
static void stop_helper(gw_nsock *self)
{
    if (self->ctl >= 0)
        close(self->ctl);
    self->ctl = -1;
    self->helper = 0;
    self->helper_ns = 0;
}

/* gw_nsock_destroy - stop the helper */
void gw_nsock_destroy(gw_nsock **self_p)
{
    gw_nsock *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->helper > 0) {
        pid_t pid = self->helper;
        stop_helper(self);
        waitpid(pid, NULL, 0);
    }
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* helper_main - the child: enter the namespaces, then serve sockets until the pair closes */
static void helper_main(int fd, const char *userns, const char *netns)
{
    sigset_t none;
    int u, n, status = 0;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "cmk-gw-nsock");
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(fd, 3) < 0)
        _exit(1);
    close_range(4, ~0U, 0);
    u = open(userns, O_RDONLY | O_CLOEXEC);
    n = open(netns, O_RDONLY | O_CLOEXEC);
    if (u < 0 || n < 0)
        status = errno;
    else if (setns(u, CLONE_NEWUSER) < 0 || setns(n, CLONE_NEWNET) < 0)
        status = errno;
    if (u >= 0)
        close(u);
    if (n >= 0)
        close(n);
    if (send(3, &status, sizeof status, MSG_NOSIGNAL) < 0 || status)
        _exit(1);
    for (;;) {
        sock_req r;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov;
        struct msghdr mh;
        ssize_t got = recv(3, &r, sizeof r, 0);
        int s, e = 0;

        if (got <= 0)
            _exit(0);
        if (got != (ssize_t)sizeof r)
            continue;
        s = socket(r.domain, r.type | SOCK_CLOEXEC, r.protocol);
        e = s < 0 ? errno : 0;
        memset(&mh, 0, sizeof mh);
        iov.iov_base = &e;
        iov.iov_len = sizeof e;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (s >= 0) {
            struct cmsghdr *c;
            memset(cbuf, 0, sizeof cbuf);
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof cbuf;
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &s, sizeof s);
        }
        if (sendmsg(3, &mh, MSG_NOSIGNAL) < 0)
            _exit(0);
        if (s >= 0)
            close(s);
    }
}

/* start_helper - fork the helper into the state's namespaces; 0 or -1 (logged) */
static int start_helper(gw_nsock *self)
{
    int sv[2], status = -1;
    struct pollfd p;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        helper_main(sv[1], self->state.userns, self->state.netns);
        _exit(0);
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        cmk_error("egress.nsock_failed", "error=\"cannot fork: %s\"", strerror(errno));
        return -1;
    }
    p.fd = sv[0];
    p.events = POLLIN;
    if (poll(&p, 1, 5000) != 1 || recv(sv[0], &status, sizeof status, 0) != sizeof status ||
        status != 0) {
        cmk_error("egress.nsock_failed",
                  "netns=%s error=\"cannot enter the firewall's namespaces: %s; outbound "
                  "connections will fail until the firewall restarts\"",
                  self->state.netns, status > 0 ? strerror(status) : "the helper did not answer");
        close(sv[0]);
        kill(pid, SIGKILL);
        return -1;
    }
    self->ctl = sv[0];
    self->helper = pid;
    self->helper_ns = self->state.netns_inode;
    cmk_info("egress.nsock_ready", "helper_pid=%d netns=%s inode=%lu", (int)pid,
             self->state.netns, self->state.netns_inode);
    return 0;
}

/* ns_alive - whether the state's holder still holds the namespace it announced */
static int ns_alive(const gw_fwstate *st)
{
    struct stat sb;
    return stat(st->netns, &sb) == 0 && (unsigned long)sb.st_ino == st->netns_inode;
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
    if (strcmp(self->state.mode, "kernel") == 0 && !ns_alive(&self->state)) {
        cmk_warn("egress.firewall", "mode=none reason=\"the firewall's namespace holder %d is "
                 "gone; waiting for the firewall to restart\"", self->state.holder_pid);
        snprintf(self->state.mode, sizeof self->state.mode, "none");
    }
    if (strcmp(self->state.mode, "kernel") != 0 || self->helper_ns != self->state.netns_inode)
        stop_helper(self);
    if (strcmp(self->state.mode, "kernel") == 0 && self->helper == 0)
        start_helper(self);
    *out = self->state;
    pthread_mutex_unlock(&self->lock);
}

/* ask_helper - one socket from the helper; -1 with errno */
static int ask_helper(gw_nsock *self, int domain, int type, int protocol)
{
    sock_req r = { domain, type, protocol };
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov;
    struct msghdr mh;
    struct cmsghdr *c;
    int e = 0, fd = -1;
    ssize_t got;

    if (send(self->ctl, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
        goto dead;
    memset(&mh, 0, sizeof mh);
    iov.iov_base = &e;
    iov.iov_len = sizeof e;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    got = recvmsg(self->ctl, &mh, MSG_CMSG_CLOEXEC);
    if (got != (ssize_t)sizeof e)
        goto dead;
    if (e) {
        errno = e;
        return -1;
    }
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (fd < 0)
        errno = EPROTO;
    return fd;
dead:
    cmk_warn("egress.nsock_lost", "helper_pid=%d", (int)self->helper);
    stop_helper(self);
    errno = EIO;
    return -1;
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

/* gw_nsock_reap - reap exited helpers */
void gw_nsock_reap(gw_nsock *self)
{
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        pthread_mutex_lock(&self->lock);
        if (pid == self->helper) {
            cmk_warn("egress.nsock_exit", "helper_pid=%d status=%d", (int)pid, status);
            stop_helper(self);
        }
        pthread_mutex_unlock(&self->lock);
    }
}
