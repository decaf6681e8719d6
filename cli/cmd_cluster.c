/*
 * cmd_cluster.c - cmkctl up, down, status, ping: starting, stopping and looking at a cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "config.h"
#include "metrics_http.h"
#include "util.h"

/* sleep_ms - nanosleep */
static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* run_dir_abs - the absolute run dir */
static int run_dir_abs(const cli_opts *o, char *buf, size_t cap)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_config *cfg = cmk_config_new(o->run_dir, &err);
    if (!cfg)
        return cli_fail(err.code, "%s", err.msg);
    cmk_strlcpy(buf, cfg->run_dir, cap);
    cmk_config_destroy(&cfg);
    return 0;
}

/* controller_pid - pid from <run>/controller.pid if that process lives, else 0 */
static pid_t controller_pid(const char *run_dir)
{
    char path[PATH_MAX];
    pid_t pid = 0;
    snprintf(path, sizeof path, "%s/controller.pid", run_dir);
    if (cmk_pidfile_read(path, &pid, NULL) < 0 || !cmk_pid_alive(pid))
        return 0;
    return pid;
}

/* lock_free - 1 if <run>/controller.lock is missing or nobody holds it, 0 if a controller
 * holds it (running or starting) */
static int lock_free(const char *run_dir)
{
    char path[PATH_MAX];
    int fd, held;
    snprintf(path, sizeof path, "%s/controller.lock", run_dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT;
    held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return !held;
}

/* cli_cluster_stopped - no live controller: its lock is free (a pid file alone can be stale or
 * name a reused pid; the lock dies with the process). A controller that is slow but alive
 * holds the lock, and is waited for as usual. */
int cli_cluster_stopped(const char *run_dir)
{
    return lock_free(run_dir);
}

/* socket_dead - 1 if the unix socket at path refuses connections (nobody listens) */
static int socket_dead(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, dead;
    if (strlen(path) >= sizeof sa.sun_path)
        return 0;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return 0;
    dead = connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && (errno == ECONNREFUSED || errno == ENOENT);
    close(fd);
    return dead;
}

/* clean_dir - unlink the dead sockets of dir (and of its subdirectories, one level) */
static void clean_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISSOCK(st.st_mode) && socket_dead(path))
            unlink(path);
        else if (S_ISDIR(st.st_mode) && depth > 0)
            clean_dir(path, depth - 1);
    }
    closedir(d);
}

/* cli_clean_stale - after the controller is gone: dead sockets, the free lock, a stale pid file */
void cli_clean_stale(const char *run_dir)
{
    char path[PATH_MAX];
    int fd;
    clean_dir(run_dir, 1);
    snprintf(path, sizeof path, "%s/controller.lock", run_dir);
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            unlink(path);
            flock(fd, LOCK_UN);
        }
        close(fd);
    }
    if (controller_pid(run_dir) == 0) {
        snprintf(path, sizeof path, "%s/controller.pid", run_dir);
        unlink(path);
    }
}

/* tail_log - print the last lines of a log for a failed start */
static void tail_log(const char *path, int lines)
{
    char *text;
    size_t len;
    const char *p;
    int seen = 0;
    if (cmk_file_read(path, &text, &len, NULL) < 0)
        return;
    p = text + len;
    while (p > text && seen <= lines)
        if (*--p == '\n')
            seen++;
    fprintf(stderr, "--- last lines of %s ---\n%s", path, p == text ? p : p + 1);
    free(text);
}

/* spawn_controller - fork, setsid, exec cmk-controller with output to logs/controller.log */
static pid_t spawn_controller(cli_opts *o, const char *run_dir, cmk_err *err)
{
    char bindir[PATH_MAX], exe[PATH_MAX + 32], logpath[PATH_MAX], logs[PATH_MAX];
    const char *argv[64];
    const char *wrapper = getenv("CMK_CONTROLLER_WRAPPER");
    char *wcopy = wrapper && *wrapper ? strdup(wrapper) : NULL, *save = NULL;
    const cJSON *it;
    int n = 0;
    pid_t pid;

    if (cmk_exe_dir(bindir, sizeof bindir, err) < 0)
        return -1;
    snprintf(exe, sizeof exe, "%s/cmk-controller", bindir);
    if (access(exe, X_OK) != 0) {
        cmk_err_set(err, CMK_ENOENT, "cannot run %s: %s (build with `make`)", exe, strerror(errno));
        return -1;
    }
    snprintf(logs, sizeof logs, "%s/logs", run_dir);
    if (cmk_mkdirs(logs, 0700, err) < 0)
        return -1;
    for (char *tok = wcopy ? strtok_r(wcopy, " ", &save) : NULL; tok && n < 40; tok = strtok_r(NULL, " ", &save))
        argv[n++] = tok;
    argv[n++] = exe;
    argv[n++] = "--run-dir";
    argv[n++] = run_dir;
    if (o->config_path) {
        argv[n++] = "--config";
        argv[n++] = o->config_path;
    }
    cJSON_ArrayForEach(it, o->sets) {
        if (n < 60) {
            argv[n++] = "--set";
            argv[n++] = it->valuestring;
        }
    }
    argv[n] = NULL;
    snprintf(logpath, sizeof logpath, "%s/controller.log", logs);
    pid = fork();
    if (pid < 0) {
        free(wcopy);
        cmk_err_set(err, CMK_EIO, "cannot fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600), nul = open("/dev/null", O_RDONLY);
        setsid();
        if (nul >= 0)
            dup2(nul, 0);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(wcopy);
    return pid;
}

/* all_ready - 1 if a status reply shows every process ready */
static int all_ready(const cmk_msg *rep, int *count)
{
    const cJSON *it, *procs = cJSON_GetObjectItem(rep->body, "processes");
    int n = 0;
    cJSON_ArrayForEach(it, procs) {
        if (strcmp(cmk_json_str(it, "state", ""), "ready") != 0)
            return 0;
        n++;
    }
    *count = n;
    return n > 0;
}

/* console_url - "http://127.0.0.1:PORT/?token=T" of the cluster's console into buf, or "" when
 * it runs without one (supervisor.console=false) */
static const char *console_url(const char *run_dir, char *buf, size_t cap)
{
    char path[PATH_MAX + 32], *addr = NULL, *token = NULL;
    size_t alen = 0, tlen = 0;

    buf[0] = '\0';
    snprintf(path, sizeof path, "%s/console.http", run_dir);
    if (cmk_file_read(path, &addr, &alen, NULL) == 0) {
        snprintf(path, sizeof path, "%s/console.token", run_dir);
        if (cmk_file_read(path, &token, &tlen, NULL) == 0) {
            addr[strcspn(addr, "\r\n")] = '\0';
            token[strcspn(token, "\r\n")] = '\0';
            snprintf(buf, cap, "http://%s/?token=%s", addr, token);
            cmk_wipe_str(token, tlen); /* wipes and frees */
        }
    }
    free(addr);
    return buf;
}

/* cmd_up - start a cluster and wait until every process is ready */
int cmd_up(cli_opts *o)
{
    char run_dir[PATH_MAX], logpath[PATH_MAX + 32];
    cmk_err err = CMK_ERR_INIT;
    cmk_config *cfg;
    int64_t deadline, start = cmk_mono_ms();
    pid_t pid, running;
    int rc, scrape_s = 0;
    char scrape[PATH_MAX + 32] = "";

    if ((rc = run_dir_abs(o, run_dir, sizeof run_dir)) != 0)
        return rc;
    if ((running = controller_pid(run_dir)) > 0)
        return cli_fail(CMK_EEXIST, "a cluster already runs in %s (controller pid %d); "
                                    "`cmkctl status --run-dir %s` shows it, `cmkctl down --run-dir %s` stops it",
                        run_dir, (int)running, run_dir, run_dir);
    if (cmk_mkdirs(run_dir, 0700, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    /* the start timeout comes from the config the cluster will use */
    cfg = cmk_config_new(run_dir, &err);
    if (cfg && o->config_path && cmk_config_load_file(cfg, o->config_path, &err) < 0)
        cmk_config_destroy(&cfg);
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, o->sets) {
            char name[128], *eq;
            if (!cfg)
                break;
            cmk_strlcpy(name, it->valuestring, sizeof name);
            if ((eq = strchr(name, '=')) == NULL) {
                cmk_err_set(&err, CMK_EINVAL, "--set takes NAME=VALUE, not '%s'", it->valuestring);
                cmk_config_destroy(&cfg);
                break;
            }
            *eq = '\0';
            if (cmk_config_set(cfg, name, strchr(it->valuestring, '=') + 1, &err) < 0)
                cmk_config_destroy(&cfg);
        }
    }
    if (!cfg)
        return cli_fail(err.code, "%s", err.msg);
    deadline = start + cfg->start_timeout;
    if (cfg->metrics_enabled) /* a Prometheus scrape config for this cluster (metrics_http.h) */
        scrape_s = (int)((cfg->metrics_scrape_interval + 999) / 1000);
    cmk_config_destroy(&cfg);
    snprintf(logpath, sizeof logpath, "%s/logs/controller.log", run_dir);
    /* a stale pid file from a killed cluster must not fool the readiness check */
    {
        char pidpath[PATH_MAX + 32];
        snprintf(pidpath, sizeof pidpath, "%s/controller.pid", run_dir);
        unlink(pidpath);
    }
    if ((pid = spawn_controller(o, run_dir, &err)) < 0)
        return cli_fail(err.code, "%s", err.msg);
    if (!o->json)
        fprintf(stderr, "starting cluster in %s (controller pid %d) ...\n", run_dir, (int)pid);
    while (cmk_mono_ms() < deadline) {
        int status, count = 0;
        cmk_client *c;
        cmk_msg *rep = NULL;

        if (waitpid(pid, &status, WNOHANG) == pid) {
            tail_log(logpath, 8);
            return cli_fail(CMK_EUNAVAIL, "the controller exited during start-up (status %d); see %s",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), logpath);
        }
        c = controller_pid(run_dir) == pid ? cmk_client_new(run_dir, o->key_path, &err) : NULL;
        if (c && cmk_client_call(c, "status", NULL, 500, &rep, &err) == 0 && all_ready(rep, &count)) {
            char url[512] = "";
            const cJSON *it;
            /* only a console of this cluster: a run dir may keep the files of an earlier one */
            cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep->body, "processes"))
                if (strcmp(cmk_json_str(it, "name", ""), "console") == 0)
                    console_url(run_dir, url, sizeof url);
            cmk_msg_destroy(&rep);
            cmk_client_destroy(&c);
            if (scrape_s > 0 &&
                cmk_metrics_write_scrape_config(run_dir, scrape_s, scrape, sizeof scrape, &err) < 0)
                fprintf(stderr, "cmkctl: no Prometheus scrape config: %s\n", err.msg);
            if (o->json) {
                cJSON *j = cJSON_CreateObject();
                cJSON_AddStringToObject(j, "run_dir", run_dir);
                cJSON_AddStringToObject(j, "scrape_config", scrape);
                cJSON_AddNumberToObject(j, "controller_pid", pid);
                cJSON_AddNumberToObject(j, "processes", count);
                cJSON_AddNumberToObject(j, "start_ms", (double)(cmk_mono_ms() - start));
                if (url[0])
                    cJSON_AddStringToObject(j, "console_url", url);
                cli_print_json(j);
                cJSON_Delete(j);
            } else {
                printf("cluster up in %s: %d processes ready in %.1fs (controller pid %d)\n", run_dir,
                       count, (double)(cmk_mono_ms() - start) / 1000.0, (int)pid);
                if (scrape[0])
                    printf("metrics: `cmkctl status` lists every /metrics endpoint; Prometheus "
                           "scrape config: %s\n", scrape);
                if (url[0])
                    printf("console: %s   (token also in %s/console.token)\n", url, run_dir);
            }
            OPENSSL_cleanse(url, sizeof url);
            return 0;
        }
        cmk_msg_destroy(&rep);
        cmk_client_destroy(&c);
        sleep_ms(100);
    }
    tail_log(logpath, 8);
    return cli_fail(CMK_ETIMEOUT, "the cluster in %s was not ready in time; `cmkctl status --run-dir %s` "
                                  "shows what is missing, logs are in %s/logs",
                    run_dir, run_dir, run_dir);
}

/* cmd_down - shutdown request, then wait for the controller (and so its children) to exit */
int cmd_down(cli_opts *o)
{
    char run_dir[PATH_MAX];
    pid_t pid;
    int64_t deadline;
    int rc;

    if ((rc = run_dir_abs(o, run_dir, sizeof run_dir)) != 0)
        return rc;
    pid = controller_pid(run_dir);
    if (pid == 0 || lock_free(run_dir)) {
        cli_clean_stale(run_dir);
        if (o->json)
            puts("{\"stopped\": false, \"running\": false}");
        else
            printf("no cluster is running in %s\n", run_dir);
        return 0;
    }
    {
        cmk_err err = CMK_ERR_INIT;
        cmk_client *c = cmk_client_new(run_dir, o->key_path, &err);
        if (!c || cmk_client_call(c, "shutdown", NULL, 3000, NULL, &err) < 0) {
            fprintf(stderr, "cmkctl: shutdown request failed (%s); sending SIGTERM to %d\n", err.msg,
                    (int)pid);
            kill(pid, SIGTERM);
        }
        cmk_client_destroy(&c);
    }
    deadline = cmk_mono_ms() + o->timeout_ms;
    while (cmk_pid_alive(pid) && cmk_mono_ms() < deadline)
        sleep_ms(50);
    if (cmk_pid_alive(pid)) {
        fprintf(stderr, "cmkctl: controller %d did not stop in time; killing it\n", (int)pid);
        kill(pid, SIGKILL);
        while (cmk_pid_alive(pid))
            sleep_ms(20);
    }
    /* its children go with it; what is left of them is files nobody uses */
    deadline = cmk_mono_ms() + 2000;
    while (!lock_free(run_dir) && cmk_mono_ms() < deadline)
        sleep_ms(20);
    cli_clean_stale(run_dir);
    if (o->json)
        printf("{\"stopped\": true, \"controller_pid\": %d}\n", (int)pid);
    else
        printf("cluster in %s stopped\n", run_dir);
    return 0;
}

/* cmd_status - the process table */
int cmd_status(cli_opts *o)
{
    static const char *const headers[] = { "NAME", "ROLE", "PID", "STATE", "UPTIME", "HEARTBEAT", "RESTARTS", "METRICS" };
    cmk_msg *rep;
    cli_table *t;
    const cJSON *it;
    int rc = cli_call(o, "status", NULL, &rep);

    if (rc != 0)
        return rc;
    if (o->json) {
        cli_print_json(rep->body);
        cmk_msg_destroy(&rep);
        return 0;
    }
    t = cli_table_new(8, headers);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep->body, "processes")) {
        char pid[16], up[32], hb[32], rs[16];
        const char *cells[8];
        int64_t age = (int64_t)cmk_json_num(it, "heartbeat_age_ms", -1);
        snprintf(pid, sizeof pid, "%d", (int)cmk_json_num(it, "pid", 0));
        cli_fmt_age((int64_t)cmk_json_num(it, "uptime_ms", -1), up, sizeof up);
        if (strcmp(cmk_json_str(it, "role", ""), "controller") == 0)
            snprintf(hb, sizeof hb, "-");
        else if (age < 0)
            snprintf(hb, sizeof hb, "none");
        else
            snprintf(hb, sizeof hb, "%s ago", cli_fmt_age(age, rs, sizeof rs));
        snprintf(rs, sizeof rs, "%d", (int)cmk_json_num(it, "restarts", 0));
        cells[0] = cmk_json_str(it, "name", "");
        cells[1] = cmk_json_str(it, "role", "");
        cells[2] = pid;
        cells[3] = cmk_json_str(it, "state", "");
        cells[4] = up;
        cells[5] = hb;
        cells[6] = rs;
        cells[7] = *cmk_json_str(it, "metrics", "") ? cmk_json_str(it, "metrics", "") : "-";
        cli_table_add(t, cells);
    }
    cli_table_print(t);
    cli_table_destroy(&t);
    cmk_msg_destroy(&rep);
    return 0;
}

/* cmd_ping - pong from every process through the controller */
int cmd_ping(cli_opts *o)
{
    static const char *const headers[] = { "NAME", "ROLE", "PID", "PING" };
    cJSON *body = cJSON_CreateObject();
    const char *target = cli_opt(o, "--target");
    cmk_msg *rep;
    cli_table *t;
    const cJSON *it;
    int rc, ok;

    cJSON_AddStringToObject(body, "target", target ? target : "all");
    rc = cli_call(o, "ping", body, &rep);
    cJSON_Delete(body);
    if (rc != 0)
        return rc;
    ok = cJSON_IsTrue(cJSON_GetObjectItem(rep->body, "all_ok"));
    if (o->json) {
        cli_print_json(rep->body);
        cmk_msg_destroy(&rep);
        return ok ? 0 : 1;
    }
    t = cli_table_new(4, headers);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep->body, "processes")) {
        char pid[16];
        const char *cells[4];
        snprintf(pid, sizeof pid, "%d", (int)cmk_json_num(it, "pid", 0));
        cells[0] = cmk_json_str(it, "name", "");
        cells[1] = cmk_json_str(it, "role", "");
        cells[2] = pid;
        cells[3] = cJSON_IsTrue(cJSON_GetObjectItem(it, "ok")) ? "pong" : cmk_json_str(it, "error", "no answer");
        cli_table_add(t, cells);
    }
    cli_table_print(t);
    cli_table_destroy(&t);
    cmk_msg_destroy(&rep);
    return ok ? 0 : 1;
}
