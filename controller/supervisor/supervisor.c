/*
 * supervisor.c - spawn, reap, restart with backoff, stop.
 */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "util.h"

#define MAX_ARGS 32

typedef enum { CH_STARTING, CH_READY, CH_BACKOFF, CH_STOPPING, CH_STOPPED } child_state;
static const char *state_names[] = { "starting", "ready", "restarting", "stopping", "stopped" };

/* One supervised child. */
typedef struct {
    char name[64];           /* instance name, e.g. worker-shared */
    char role[16];           /* worker, gateway, firewall */
    char *argv[MAX_ARGS];    /* full argv (owned strings) */
    int argc;
    pid_t pid;               /* 0 if not running */
    child_state state;
    int64_t started_ms;      /* wall ms of the current incarnation */
    int64_t started_mono;    /* mono ms of the current incarnation */
    int restarts;            /* restarts so far */
    int failures;            /* consecutive quick deaths, for the backoff */
    int64_t restart_timer;   /* pending restart, 0 if none */
    void **restart_arg;      /* its argument (freed when the timer is cancelled) */
    int used;                /* slot in use */
    int removing;            /* forget it once it exited */
} child;

struct supervisor {
    cmk_server *srv;
    child *children;
    size_t n;
    int stopping;               /* stop_all in progress */
    supervisor_done_fn done;
    void *done_arg;
    int64_t kill_timer;         /* SIGKILL deadline timer */
};

static child *find(const supervisor *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->children[i].used && strcmp(self->children[i].name, name) == 0)
            return &self->children[i];
    return NULL;
}

/* spawn - fork and exec a child */
static int spawn(supervisor *self, child *c, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    char logpath[PATH_MAX];
    pid_t pid;
    int logfd;

    snprintf(logpath, sizeof logpath, "%s/logs/%s.log", cfg->run_dir, c->name);
    logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return cmk_err_set(err, CMK_EIO, "cannot open %s: %s", logpath, strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(logfd);
        return cmk_err_set(err, CMK_EIO, "cannot fork %s: %s", c->name, strerror(errno));
    }
    if (pid == 0) {
        sigset_t all;
        int devnull = open("/dev/null", O_RDONLY);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(1);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execvp(c->argv[0], c->argv);
        dprintf(2, "cannot exec %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    close(logfd);
    c->pid = pid;
    c->state = CH_STARTING;
    c->started_ms = cmk_wall_ms();
    c->started_mono = cmk_mono_ms();
    cmk_info("child.spawned", "name=%s role=%s pid=%d", c->name, c->role, (int)pid);
    return 0;
}

supervisor *supervisor_new(cmk_server *srv, cmk_err *err)
{
    supervisor *self = calloc(1, sizeof *self);
    if (!self)
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
    else
        self->srv = srv;
    return self;
}

static void free_child(child *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i]);
    memset(c, 0, sizeof *c);
}

void supervisor_destroy(supervisor **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < (*self_p)->n; i++)
        if ((*self_p)->children[i].used)
            free_child(&(*self_p)->children[i]);
    free((*self_p)->children);
    free(*self_p);
    *self_p = NULL;
}

/* push_arg - append a copy of s to argv */
static int push_arg(child *c, const char *s)
{
    if (c->argc >= MAX_ARGS - 1 || !(c->argv[c->argc] = strdup(s)))
        return -1;
    c->argc++;
    return 0;
}

/* supervisor_add - define and start a child */
int supervisor_add(supervisor *self, const char *name, const char *role, const char *program,
                   const char *const *args, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    char bindir[PATH_MAX], path[PATH_MAX + 64], cfgpath[PATH_MAX + 16];
    child *c = NULL;
    int bad = 0;

    if (find(self, name))
        return cmk_err_set(err, CMK_EEXIST, "a child named %s is supervised already", name);
    for (size_t i = 0; i < self->n && !c; i++)
        if (!self->children[i].used)
            c = &self->children[i];
    if (!c) {
        child *nc = realloc(self->children, (self->n + 8) * sizeof *nc);
        if (!nc)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        memset(nc + self->n, 0, 8 * sizeof *nc);
        self->children = nc;
        c = &self->children[self->n];
        self->n += 8;
    }
    c->used = 1;
    cmk_strlcpy(c->name, name, sizeof c->name);
    cmk_strlcpy(c->role, role, sizeof c->role);
    if (cfg->bin_dir[0])
        cmk_strlcpy(bindir, cfg->bin_dir, sizeof bindir);
    else if (cmk_exe_dir(bindir, sizeof bindir, err) < 0) {
        free_child(c);
        return err->code;
    }
    snprintf(path, sizeof path, "%s/%s", bindir, program);
    if (access(path, X_OK) != 0) {
        free_child(c);
        return cmk_err_set(err, CMK_ENOENT, "cannot run %s: %s (set supervisor.bin_dir?)", path,
                           strerror(errno));
    }
    /* the wrapper (e.g. valgrind ...) goes first, split on spaces */
    if (cfg->child_wrapper[0]) {
        char *w = strdup(cfg->child_wrapper), *save = NULL;
        for (char *tok = w ? strtok_r(w, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save))
            bad |= push_arg(c, tok);
        free(w);
    }
    snprintf(cfgpath, sizeof cfgpath, "%s/config.json", cfg->run_dir);
    bad |= push_arg(c, path);
    bad |= push_arg(c, "--run-dir");
    bad |= push_arg(c, cfg->run_dir);
    bad |= push_arg(c, "--config");
    bad |= push_arg(c, cfgpath);
    bad |= push_arg(c, "--name");
    bad |= push_arg(c, name);
    for (int i = 0; args && args[i]; i++)
        bad |= push_arg(c, args[i]);
    if (bad) {
        free_child(c);
        return cmk_err_set(err, CMK_ELIMIT, "too many arguments for %s", name);
    }
    return spawn(self, c, err);
}

/* on_restart - a backoff expired: start the child again */
static int on_restart(cmk_loop *loop, int64_t id, void *arg)
{
    supervisor *self = ((void **)arg)[0];
    char *name = ((void **)arg)[1];
    child *c = find(self, name);
    cmk_err err = CMK_ERR_INIT;

    if (c && c->restart_arg == (void **)arg)
        c->restart_arg = NULL;
    free(name);
    free(arg);
    if (!c || self->stopping || c->state != CH_BACKOFF)
        return 0;
    c->restart_timer = 0;
    c->restarts++;
    if (spawn(self, c, &err) < 0) {
        cmk_error("child.restart_failed", "name=%s error=\"%s\"", c->name, err.msg);
        c->state = CH_STOPPED;
    }
    return 0;
}

/* schedule_restart - after the backoff */
static void schedule_restart(supervisor *self, child *c)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    int64_t delay = cfg->restart_min;
    void **arg = malloc(2 * sizeof *arg);

    /* a child that lived long enough starts its backoff from the bottom again */
    if (cmk_mono_ms() - c->started_mono > 4 * cfg->restart_max)
        c->failures = 0;
    for (int i = 0; i < c->failures && delay < cfg->restart_max; i++)
        delay *= 2;
    if (delay > cfg->restart_max)
        delay = cfg->restart_max;
    c->failures++;
    c->state = CH_BACKOFF;
    if (!arg)
        return;
    arg[0] = self;
    arg[1] = strdup(c->name);
    c->restart_arg = arg;
    c->restart_timer = cmk_loop_add_timer(cmk_server_loop(self->srv), delay, 0, on_restart, arg);
    cmk_warn("child.restart_scheduled", "name=%s delay_ms=%lld restarts=%d", c->name,
             (long long)delay, c->restarts);
}

/* cancel_restart - a pending restart will not happen: cancel its timer, free its argument */
static void cancel_restart(supervisor *self, child *c)
{
    if (c->restart_timer)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), c->restart_timer);
    c->restart_timer = 0;
    if (c->restart_arg) {
        free(c->restart_arg[1]);
        free(c->restart_arg);
        c->restart_arg = NULL;
    }
}

/* alive - children with a process */
static int alive(const supervisor *self)
{
    int n = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->children[i].used && self->children[i].pid > 0)
            n++;
    return n;
}

/* supervisor_on_sigchld - reap */
void supervisor_on_sigchld(supervisor *self)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        child *c = NULL;
        if (pid <= 0)
            break;
        for (size_t i = 0; i < self->n && !c; i++)
            if (self->children[i].used && self->children[i].pid == pid)
                c = &self->children[i];
        if (!c)
            continue;
        c->pid = 0;
        if (WIFSIGNALED(status))
            cmk_log(self->stopping ? CMK_LOG_INFO : CMK_LOG_WARN, NULL, NULL, "child.exited",
                    "name=%s pid=%d signal=%d", c->name, (int)pid, WTERMSIG(status));
        else
            cmk_log(self->stopping || WEXITSTATUS(status) == 0 ? CMK_LOG_INFO : CMK_LOG_WARN, NULL,
                    NULL, "child.exited", "name=%s pid=%d status=%d", c->name, (int)pid,
                    WEXITSTATUS(status));
        if (c->removing) {
            free_child(c);
        } else if (self->stopping || c->state == CH_STOPPING) {
            c->state = CH_STOPPED;
        } else {
            schedule_restart(self, c);
        }
    }
    if (self->stopping && alive(self) == 0 && self->done) {
        supervisor_done_fn done = self->done;
        self->done = NULL;
        if (self->kill_timer)
            cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->kill_timer);
        self->kill_timer = 0;
        done(self->done_arg);
    }
}

/* supervisor_remove - stop and forget */
int supervisor_remove(supervisor *self, const char *name, cmk_err *err)
{
    child *c = find(self, name);
    if (!c)
        return cmk_err_set(err, CMK_ENOENT, "no supervised process named %s", name);
    cancel_restart(self, c);
    if (c->pid > 0) {
        c->removing = 1;
        c->state = CH_STOPPING;
        kill(c->pid, SIGTERM);
    } else
        free_child(c);
    return 0;
}

void supervisor_peer_up(supervisor *self, const char *name, int pid)
{
    child *c = find(self, name);
    if (c && c->pid > 0 && c->state == CH_STARTING)
        c->state = CH_READY;
}

void supervisor_peer_down(supervisor *self, const char *name, int pid)
{
    child *c = find(self, name);
    if (!c || self->stopping || c->state == CH_STOPPING || c->pid <= 0)
        return;
    /* silent but running: hung. Kill it; SIGCHLD brings the restart. */
    cmk_warn("child.hung", "name=%s pid=%d action=kill", c->name, (int)c->pid);
    kill(c->pid, SIGKILL);
}

/* on_kill_deadline - SIGKILL whoever is left */
static int on_kill_deadline(cmk_loop *loop, int64_t id, void *arg)
{
    supervisor *self = arg;
    self->kill_timer = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->children[i].used && self->children[i].pid > 0) {
            cmk_warn("child.kill", "name=%s pid=%d reason=\"did not stop in time\"",
                     self->children[i].name, (int)self->children[i].pid);
            kill(self->children[i].pid, SIGKILL);
        }
    return 0;
}

/* supervisor_stop_all - SIGTERM everyone; SIGKILL after stop_timeout */
void supervisor_stop_all(supervisor *self, supervisor_done_fn done, void *arg)
{
    self->stopping = 1;
    self->done = done;
    self->done_arg = arg;
    for (size_t i = 0; i < self->n; i++) {
        child *c = &self->children[i];
        if (!c->used)
            continue;
        cancel_restart(self, c);
        if (c->pid > 0) {
            c->state = CH_STOPPING;
            kill(c->pid, SIGTERM);
        } else
            c->state = CH_STOPPED;
    }
    self->kill_timer = cmk_loop_add_timer(cmk_server_loop(self->srv),
                                          cmk_server_config(self->srv)->stop_timeout, 0,
                                          on_kill_deadline, self);
    supervisor_on_sigchld(self); /* maybe nothing was running */
}

/* supervisor_status - the children as JSON */
cJSON *supervisor_status(const supervisor *self)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < self->n; i++) {
        const child *c = &self->children[i];
        cJSON *o;
        if (!c->used)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "role", c->role);
        cJSON_AddNumberToObject(o, "pid", c->pid);
        cJSON_AddStringToObject(o, "state", state_names[c->state]);
        cJSON_AddNumberToObject(o, "started_ms", (double)c->started_ms);
        cJSON_AddNumberToObject(o, "restarts", c->restarts);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

int supervisor_pid(const supervisor *self, const char *name)
{
    const child *c = find(self, name);
    return c ? (int)c->pid : 0;
}

/* supervisor_child_pid - pid, 0 (supervised, not running) or -1 (not supervised) */
int supervisor_child_pid(const supervisor *self, const char *name)
{
    const child *c = find(self, name);
    return c ? (int)c->pid : -1;
}
