/*
 * server.c - daemon skeleton: options, config, logging, signals, ZeroMQ context, loop.
 */
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "clock.h"
#include "confine_policy.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "util.h"

struct cmk_server {
    const cmk_server_hooks *hooks; /* the daemon's hooks */
    cmk_config *cfg;               /* loaded config */
    const char *config_path;       /* --config */
    cmk_loop *loop;                /* the event loop */
    void *zmq;                     /* ZeroMQ context */
    int sigfd;                     /* signalfd */
    void *state;                   /* the daemon's state from init */
    char name[128];                /* instance name */
    cJSON *envs;                   /* --env values */
    int shared;                    /* --shared */
    int64_t started;               /* wall ms */
    cmk_metrics_http *metrics;     /* the /metrics endpoint (NULL: metrics.enabled false) */
    confine_result confined;       /* what confinement kept and applied */
    int confine_done;              /* 1: Landlock and seccomp applied (or confine.mode=off) */
};

cmk_config *cmk_server_config(cmk_server *srv) { return srv->cfg; }
cmk_loop *cmk_server_loop(cmk_server *srv) { return srv->loop; }
void *cmk_server_zmq(cmk_server *srv) { return srv->zmq; }
const char *cmk_server_name(cmk_server *srv) { return srv->name; }
const char *cmk_server_role(cmk_server *srv) { return srv->hooks->role; }
const char *cmk_server_config_path(cmk_server *srv) { return srv->config_path; }
const cJSON *cmk_server_envs(cmk_server *srv) { return srv->envs; }
int cmk_server_shared(cmk_server *srv) { return srv->shared; }
int64_t cmk_server_started_ms(cmk_server *srv) { return srv->started; }
void cmk_server_stop(cmk_server *srv) { cmk_loop_stop(srv->loop); }

/* usage - --help text */
static void usage(const cmk_server_hooks *h, FILE *out)
{
    fprintf(out,
            "%s - %s\n\n"
            "Usage: %s [options]\n\n"
            "Normally started by cmk-controller (itself started by `cmkctl up`); run by hand\n"
            "only to debug.\n\n"
            "Options:\n"
            "  --run-dir DIR      run directory: sockets, keys, logs, databases (default ./var)\n"
            "  --config FILE      JSON config over the defaults (see configs/default.json)\n"
            "  --set NAME=VALUE   set one parameter, e.g. --set heartbeat.interval=1s\n"
            "  --name NAME        instance name (keys/<NAME>.key, logs/<NAME>.log)\n"
            "  --env ID           environment served (workers; repeatable)\n"
            "  --shared           the shared worker (every environment on the Microsoft key)\n"
            "  --log-level LEVEL  debug, info, warn or error\n"
            "  --help             this text\n",
            h->program, h->summary, h->program);
    if (h->usage)
        fprintf(out, "\n%s", h->usage);
}

/* on_signal_fd - read a signal and act */
static int on_signal_fd(cmk_loop *loop, void *sock, int fd, void *arg)
{
    cmk_server *srv = arg;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (srv->hooks->on_signal && srv->hooks->on_signal(srv, srv->state, signo))
            continue;
        if (signo == SIGTERM || signo == SIGINT) {
            cmk_info("signal", "signo=%d action=stop", signo);
            cmk_loop_stop(loop);
        }
    }
    return 0;
}

/* parse_args - common options into srv; returns 0, 1 for --help, < 0 on error */
static int parse_args(cmk_server *srv, int argc, char **argv, const char **run_dir,
                      const char **log_level, cJSON *sets, cmk_err *err)
{
    static const struct option opts[] = {
        { "run-dir", required_argument, 0, 'r' }, { "config", required_argument, 0, 'c' },
        { "set", required_argument, 0, 's' },     { "name", required_argument, 0, 'n' },
        { "env", required_argument, 0, 'e' },     { "shared", no_argument, 0, 'S' },
        { "log-level", required_argument, 0, 'l' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': *run_dir = optarg; break;
        case 'c': srv->config_path = optarg; break;
        case 's': cJSON_AddItemToArray(sets, cJSON_CreateString(optarg)); break;
        case 'n': cmk_strlcpy(srv->name, optarg, sizeof srv->name); break;
        case 'e': cJSON_AddItemToArray(srv->envs, cJSON_CreateString(optarg)); break;
        case 'S': srv->shared = 1; break;
        case 'l': *log_level = optarg; break;
        case 'h': return 1;
        default:
            return cmk_err_set(err, CMK_EINVAL, "unknown option; see %s --help", srv->hooks->program);
        }
    }
    if (optind < argc)
        return cmk_err_set(err, CMK_EINVAL, "unexpected argument '%s'; see %s --help", argv[optind],
                           srv->hooks->program);
    return 0;
}

/* setup - everything before init; 0, 1 for --help, or < 0 */
static int setup(cmk_server *srv, int argc, char **argv, cmk_err *err)
{
    const char *run_dir = getenv("CMK_RUN_DIR"), *log_level = NULL;
    cJSON *sets = cJSON_CreateArray(), *it;
    sigset_t mask;
    int rc, lvl;

    srv->envs = cJSON_CreateArray();
    rc = parse_args(srv, argc, argv, &run_dir, &log_level, sets, err);
    if (rc == 0 && !(srv->cfg = cmk_config_new(run_dir, err)))
        rc = err->code;
    if (rc == 0 && srv->config_path)
        rc = cmk_config_load_file(srv->cfg, srv->config_path, err);
    cJSON_ArrayForEach(it, sets) {
        char *eq;
        if (rc != 0)
            break;
        eq = strchr(it->valuestring, '=');
        if (!eq) {
            rc = cmk_err_set(err, CMK_EINVAL, "--set takes NAME=VALUE, not '%s'", it->valuestring);
            break;
        }
        *eq = '\0';
        rc = cmk_config_set(srv->cfg, it->valuestring, eq + 1, err);
    }
    cJSON_Delete(sets);
    if (rc != 0)
        return rc;
    if (!srv->name[0])
        cmk_strlcpy(srv->name, srv->hooks->role, sizeof srv->name);
    lvl = cmk_log_level_parse(log_level ? log_level : srv->cfg->log_level);
    if (lvl < 0)
        return cmk_err_set(err, CMK_EINVAL, "log level must be debug, info, warn or error");
    cmk_log_init(srv->name, NULL, lvl);
    cmk_log_limits(srv->cfg->log_max_size, (int)srv->cfg->log_warn_burst);

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
        (srv->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        return cmk_err_set(err, CMK_EIO, "cannot set up signal handling: %s", strerror(errno));
    if (!(srv->loop = cmk_loop_new()) || !(srv->zmq = zmq_ctx_new()))
        return cmk_err_set(err, CMK_ENOMEM, "cannot create the event loop or ZeroMQ context");
    cmk_loop_add_fd(srv->loop, srv->sigfd, on_signal_fd, srv);
    srv->started = cmk_wall_ms();
    return 0;
}

/* on_collect - every second: let the modules set their gauges (on the loop's thread) */
static int on_collect(cmk_loop *loop, int64_t id, void *arg)
{
    cmk_metrics_collect();
    return 0;
}

/* metrics_bind - the metrics port, chosen (and recorded) before init confines anything; a
 * process without metrics still runs (the reason is logged) */
static void metrics_bind(cmk_server *srv)
{
    cmk_err err = CMK_ERR_INIT;

    if (!srv->cfg->metrics_enabled)
        return;
    cmk_metrics_process_init();
    cmk_metrics_set_identity(srv->name, srv->hooks->role);
    if (!(srv->metrics = cmk_metrics_http_bind(srv->cfg->run_dir, srv->name, &err)))
        cmk_warn("metrics.unavailable", "error=\"%s\"", err.msg);
}

/* metrics_start - serve /metrics (the thread is created after init: it inherits the
 * confinement of a dedicated worker) and collect every second */
static void metrics_start(cmk_server *srv)
{
    cmk_err err = CMK_ERR_INIT;

    if (!srv->metrics)
        return;
    if (cmk_metrics_http_start(srv->metrics, &err) < 0) {
        cmk_warn("metrics.unavailable", "error=\"%s\"", err.msg);
        cmk_metrics_http_destroy(&srv->metrics);
        return;
    }
    cmk_metrics_collect();
    cmk_loop_add_timer(srv->loop, 1000, 1, on_collect, srv);
    cmk_info("metrics.serving", "address=%s path=/metrics", cmk_metrics_http_address(srv->metrics));
}

/* cmk_server_metrics_address - "127.0.0.1:PORT" of this process's /metrics, or NULL */
const char *cmk_server_metrics_address(cmk_server *srv)
{
    return srv->metrics ? cmk_metrics_http_address(srv->metrics) : NULL;
}

/* confine_user - least privilege, step one, before anything is opened (common/confine.h): the
 * cluster user when started as root, no capability but what the firewall's namespace needs */
static int confine_user(cmk_server *srv, cmk_err *err)
{
    const cmk_config *cfg = srv->cfg;
    const char *role = srv->hooks->role;
    int kernel_fw = strcmp(cfg->firewall_mode, "userspace") != 0;
    uint64_t keep_prm = 0, keep_eff = 0;
    int rc;

    if (strcmp(cfg->confine_mode, "enforce") != 0 && strcmp(cfg->confine_mode, "log") != 0 &&
        strcmp(cfg->confine_mode, "off") != 0)
        return cmk_err_set(err, CMK_EINVAL, "confine.mode must be enforce, log or off, not '%s'",
                           cfg->confine_mode);
    if (strcmp(role, "controller") == 0 && cfg->spawn_firewall && kernel_fw)
        keep_prm = CONFINE_NS_CAPS; /* permitted only: for the firewall it starts */
    else if (strcmp(role, "firewall") == 0 && kernel_fw)
        keep_prm = keep_eff = CONFINE_NS_CAPS; /* until its namespace is made */
    if ((rc = confine_drop_user(cfg->cluster_user, cfg->run_dir, keep_prm, keep_eff,
                                &srv->confined, err)) < 0)
        return rc;
    if (srv->confined.kept_root[0] && strcmp(role, "controller") == 0)
        cmk_warn("confine.kept_root", "reason=\"%s\" (uid 0 without capabilities; move the tree "
                 "or the run dir where cluster.user can reach them, or set cluster.user)",
                 srv->confined.kept_root);
    return 0;
}

/* cmk_server_confine - least privilege, step two: what step one kept is dropped (not the
 * controller's), then no_new_privs, the role's Landlock layer and seccomp filters; logged once */
int cmk_server_confine(cmk_server *srv, cmk_err *err)
{
    const cmk_config *cfg = srv->cfg;
    confine_result *res = &srv->confined;
    confine_policy p;
    int rc;

    if (srv->confine_done)
        return 0;
    srv->confine_done = 1;
    if (res->kept_caps && strcmp(srv->hooks->role, "controller") != 0 &&
        (rc = confine_drop_caps(res, err)) < 0)
        return rc;
    if (strcmp(cfg->confine_mode, "off") == 0) {
        cmk_warn("confine.off", "uid=%d (confine.mode=off: no Landlock, no seccomp)", (int)res->uid);
        return 0;
    }
    if ((rc = confine_policy_for(cfg, srv->hooks->role, srv->name, srv->shared, srv->envs, &p,
                                 err)) < 0 ||
        (rc = confine_apply(&p, res, err)) < 0)
        return rc;
    if (res->missing[0])
        cmk_warn("confine.partial", "role=%s what=\"%s\"", p.role, res->missing);
    cmk_info("confine", "role=%s uid=%d dropped_root=%d kept_caps=%#llx landlock_abi=%d fs=%d "
             "net=%d scope=%d seccomp=%d mode=%s", p.role, (int)res->uid, res->dropped,
             (unsigned long long)res->kept_caps, res->landlock_abi, res->fs, res->net, res->scope,
             res->seccomp, cfg->confine_mode);
    if (cfg->confine_probe) {
        char probe[512];
        confine_probe(cfg, p.role, srv->name, probe, sizeof probe);
        cmk_info("confine.probe", "role=%s %s", p.role, probe);
    }
    return 0;
}

/* start - confinement (step two now, or by the daemon in its init: confine_late), init */
static int start(cmk_server *srv, cmk_err *err)
{
    int rc;

    if ((rc = confine_user(srv, err)) < 0)
        return rc;
    metrics_bind(srv);
    if (!srv->hooks->confine_late && (rc = cmk_server_confine(srv, err)) < 0)
        return rc;
    if ((rc = srv->hooks->init(srv, &srv->state, err)) < 0)
        return rc;
    if (!srv->confine_done) {
        if (srv->hooks->fini)
            srv->hooks->fini(srv, srv->state);
        return cmk_err_set(err, CMK_EINTERNAL, "%s did not confine itself during its start",
                           srv->hooks->program);
    }
    return 0;
}

/* cmk_server_main - run a daemon */
int cmk_server_main(int argc, char **argv, const cmk_server_hooks *hooks)
{
    cmk_server srv = { .hooks = hooks, .sigfd = -1 };
    cmk_err err = CMK_ERR_INIT;
    int rc = setup(&srv, argc, argv, &err), status = 0;

    if (rc == 1)
        usage(hooks, stdout);
    else if (rc < 0) {
        fprintf(stderr, "%s: %s\n", hooks->program, err.msg);
        status = cmk_code_exit(rc);
    } else if (start(&srv, &err) < 0) {
        cmk_error("start.failed", "error=\"%s\"", err.msg);
        fprintf(stderr, "%s: %s\n", hooks->program, err.msg);
        status = cmk_code_exit(err.code ? err.code : CMK_EINTERNAL);
    } else {
        cmk_info("start", "role=%s run_dir=%s", hooks->role, srv.cfg->run_dir);
        metrics_start(&srv);
        cmk_loop_run(srv.loop);
        cmk_metrics_http_destroy(&srv.metrics); /* before fini frees what it renders */
        if (hooks->fini)
            hooks->fini(&srv, srv.state);
        cmk_info("stop", "role=%s", hooks->role);
    }
    cmk_metrics_http_destroy(&srv.metrics);
    if (srv.sigfd >= 0)
        close(srv.sigfd);
    cmk_loop_destroy(&srv.loop);
    if (srv.zmq)
        zmq_ctx_term(srv.zmq);
    cmk_config_destroy(&srv.cfg);
    cJSON_Delete(srv.envs);
    return status;
}
