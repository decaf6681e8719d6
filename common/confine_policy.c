/*
 * confine_policy.c - what every process of the cluster keeps (issue #20): one row per role of
 * the confinement the daemon skeleton applies before the daemon's init - or, for the firewall
 * and the console (confine_late), the daemon itself once it has made what the confinement
 * would forbid (the namespace; the token, address file and port) and before it starts threads
 * (docs/SECURITY.md, "Least privilege", has the same table in prose).
 *
 * The seccomp lists were found by running the integration tests with confine.mode=log (calls
 * outside the list are then only logged: `dmesg | grep type=1326`) and reading what each
 * daemon made; they are a little wider than what was seen where a library makes a call on a
 * rare path (errors, SQLite temporary files, log rotation).
 *
 * Landlock domains nest: children inherit the controller's layer and add their own. Landlock
 * also forbids reaching into a process of another domain (ptrace rules, which cover
 * /proc/PID/ns), so the gateway forks the spawner of its namespace helpers before it confines
 * itself (gateway/gw_nsock.c): the spawner keeps the controller's layer and can open the
 * firewall's namespaces; the gateway itself gets a layer of its own.
 */
#include "confine_policy.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Every daemon: memory, threads (ZeroMQ, libcurl, libmicrohttpd), files (SQLite), sockets,
 * the event loop, time, and signals (the guard filter keeps them off the parent). */
#define SYSCALLS_BASE                                                                             \
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "open",      \
        "openat", "openat2", "close", "close_range", "fstat", "stat", "lstat", "newfstatat",       \
        "statx", "statfs", "fstatfs", "lseek", "mmap", "munmap", "mprotect", "mremap", "madvise",  \
        "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",               \
        "rt_sigpending", "rt_sigsuspend", "sigaltstack", "futex", "futex_waitv",                  \
        "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "clone", "clone3",      \
        "exit", "exit_group", "getpid", "gettid", "getppid", "getpgrp", "getpgid", "getsid",       \
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",         \
        "capget", "getrandom", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",   \
        "gettimeofday", "time", "times", "getrusage", "getitimer", "setitimer", "alarm", "poll",  \
        "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",              \
        "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create",     \
        "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4", "socket", "socketpair",    \
        "connect", "bind", "listen", "accept", "accept4", "getsockname", "getpeername",           \
        "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",       \
        "recvmmsg", "shutdown", "fcntl", "ioctl", "dup", "dup2", "dup3", "pipe", "pipe2",         \
        "fsync", "fdatasync", "sync_file_range", "ftruncate", "truncate", "fallocate",           \
        "fadvise64", "flock", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link",     \
        "linkat", "mkdir", "mkdirat", "rmdir", "getdents", "getdents64", "access", "faccessat",   \
        "faccessat2", "readlink", "readlinkat", "getcwd", "chdir", "fchdir", "chmod", "fchmod",    \
        "fchmodat", "fchown", "utimensat", "umask", "uname", "sched_yield", "sched_getaffinity",  \
        "sched_setaffinity", "sched_getparam", "sched_getscheduler", "sched_get_priority_min",    \
        "sched_get_priority_max", "getpriority", "setpriority", "prlimit64", "getrlimit",         \
        "sysinfo", "prctl", "arch_prctl", "membarrier", "restart_syscall", "kill", "tkill",       \
        "tgkill", "wait4", "waitid", "memfd_create", "mlock", "munlock", "getcpu",                \
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "sched_setscheduler",           \
        /* confining itself (a child of the controller does it under the controller's filter) */ \
        "capset", "seccomp", "landlock_create_ruleset", "landlock_add_rule",                      \
        "landlock_restrict_self"

/* the shared and the dedicated workers: nothing more */
static const char *const worker_calls[] = { SYSCALLS_BASE, NULL };

/* the gateway: nothing more (its namespace spawner, forked before, enters namespaces) */
static const char *const gateway_calls[] = { SYSCALLS_BASE, NULL };

/* the firewall, confined once its namespace is made: its helpers enter it (setns) and run
 * nftables over netlink; making a namespace (unshare, uid maps) is no longer possible */
static const char *const firewall_calls[] = { SYSCALLS_BASE, "setns", NULL };

/* the console: a loopback HTTP server and a client of the controller */
static const char *const console_calls[] = { SYSCALLS_BASE, NULL };

/* the controller: fork and exec of its children; children inherit this filter under their
 * own, so it also holds every call of theirs */
static const char *const controller_calls[] = { SYSCALLS_BASE, "execve", "setns", "unshare",
                                                "setgroups", "setresuid", "setresgid",
                                                "setsid", "pidfd_open", NULL };

/* interp_cb - dl_iterate_phdr: the main program's PT_INTERP */
static int interp_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_INTERP) {
            cmk_strlcpy(arg, (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr), PATH_MAX);
            return 1;
        }
    return 1; /* the first object is the main program: stop there */
}

/* elf_interp - the dynamic loader the children's programs run through (execute right) */
static void elf_interp(confine_policy *p)
{
    char interp[PATH_MAX] = "";
    dl_iterate_phdr(interp_cb, interp);
    confine_add_path(p, interp, CONFINE_RX);
}

/* configs_dirs - the shipped configs/ wherever the daemons look for it (gateway.c, fw_edge.c) */
static void configs_dirs(confine_policy *p)
{
    char exe[PATH_MAX], path[PATH_MAX + 64], line[PATH_MAX + 64], real[PATH_MAX];
    FILE *f;

    if (realpath("configs", real))
        confine_add_path(p, real, CONFINE_RO);
    if (cmk_exe_dir(exe, sizeof exe, NULL) < 0)
        return;
    snprintf(path, sizeof path, "%s/../configs", exe);
    if (realpath(path, real))
        confine_add_path(p, real, CONFINE_RO);
    snprintf(path, sizeof path, "%s/CMakeCache.txt", exe);
    if ((f = fopen(path, "r"))) {
        static const char key[] = "CMAKE_HOME_DIRECTORY:INTERNAL=";
        while (fgets(line, sizeof line, f))
            if (strncmp(line, key, sizeof key - 1) == 0) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(path, sizeof path, "%s/configs", line + sizeof key - 1);
                if (realpath(path, real))
                    confine_add_path(p, real, CONFINE_RO);
                break;
            }
        fclose(f);
    }
}

/* file_dir - the directory of a configured file, read-only */
static void file_dir(confine_policy *p, const char *file)
{
    char real[PATH_MAX], *slash;
    if (!file || !file[0] || !realpath(file, real))
        return;
    if ((slash = strrchr(real, '/')) && slash != real)
        *slash = '\0';
    confine_add_path(p, real, CONFINE_RO);
}

/* system_ro - libraries, system configuration, /proc and /sys for reading, the devices */
static void system_ro(confine_policy *p)
{
    static const char *const ro[] = { "/usr", "/etc", "/lib", "/lib64", "/proc", "/sys",
                                      "/dev/urandom", "/dev/random" };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        confine_add_path(p, ro[i], CONFINE_RO);
    confine_add_path(p, "/dev/null", CONFINE_WFILE);
}

/* own_keys - its own secret key and the public keys it needs, nothing else of keys/ */
static void own_keys(confine_policy *p, const cmk_config *cfg, const char *name)
{
    const char *pub[] = { "controller", "gateway-server" };
    char path[4200];
    snprintf(path, sizeof path, "%s/keys/%s.key", cfg->run_dir, name);
    confine_add_path(p, path, CONFINE_RO);
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        snprintf(path, sizeof path, "%s/keys/%s.pub", cfg->run_dir, pub[i]);
        confine_add_path(p, path, CONFINE_RO);
    }
}

/* own_tmp - <run>/tmp/<name>: TMPDIR and SQLITE_TMPDIR point there */
static void own_tmp(confine_policy *p, const cmk_config *cfg, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tmp/%s", cfg->run_dir, name);
    confine_add_path(p, path, CONFINE_RW);
    setenv("TMPDIR", path, 1);
    setenv("SQLITE_TMPDIR", path, 1);
}

/* own_logs - <run>/logs: its log is rotated by renaming it NAME.1 and starting a new one
 * (common/log.c), which needs the directory (the logs hold no secret) */
static void own_logs(confine_policy *p, const cmk_config *cfg)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/logs", cfg->run_dir);
    confine_add_path(p, path, CONFINE_RW);
}

/* ipc_dir - where an endpoint of the config is ipc://PATH, the directory of PATH (made if
 * missing) with the rights to make and replace the socket there - unless it is the run dir
 * itself, which would open the whole cluster: then nothing (binding there is refused) */
static void ipc_dir(confine_policy *p, const cmk_config *cfg, const char *endpoint)
{
    char path[4200], real[PATH_MAX], run[PATH_MAX], *slash;

    if (!endpoint || strncmp(endpoint, "ipc://", 6) != 0)
        return;
    cmk_config_endpoint(cfg, endpoint + 6, path, sizeof path);
    if (!(slash = strrchr(path, '/')) || slash == path)
        return;
    *slash = '\0';
    (void)mkdir(path, 0700);
    if (!realpath(path, real) || !realpath(cfg->run_dir, run) || strcmp(real, run) == 0)
        return;
    confine_add_path(p, real, CONFINE_RW);
}

/* tcp_connect - where an endpoint of the config is tcp://HOST:PORT, allow connecting to PORT
 * (ipc:// endpoints are Unix sockets: no TCP needed) */
static void tcp_connect(confine_policy *p, const char *endpoint)
{
    const char *colon;
    long port;
    char *end;

    if (!endpoint || strncmp(endpoint, "tcp://", 6) != 0 || !(colon = strrchr(endpoint, ':')))
        return;
    port = strtol(colon + 1, &end, 10);
    if (port > 0 && port <= 65535 && !*end && p->nconnect < CONFINE_MAX_PORTS)
        p->connect_ports[p->nconnect++] = (int)port;
}

/* controller - all of the run dir; reads anywhere (configs, imports); runs its children */
static void controller(confine_policy *p, const cmk_config *cfg, const char *bin_dir)
{
    static const char *const children[] = { "cmk-worker", "cmk-gateway", "cmk-firewall",
                                            "cmk-console" };
    char path[4200];

    p->syscalls = controller_calls;
    p->fs = 1;
    p->scope = 1; /* signals only to its descendants */
    confine_add_path(p, "/", CONFINE_RO);
    confine_add_path(p, cfg->run_dir, CONFINE_RW);
    confine_add_path(p, "/dev/null", CONFINE_WFILE);
    confine_add_path(p, "/proc", CONFINE_WFILE); /* the firewall's namespace holder (uid_map) */
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", bin_dir, children[i]);
        confine_add_path(p, path, CONFINE_RX);
    }
    elf_interp(p);
    if (cfg->child_wrapper[0]) { /* e.g. valgrind: its tools under /usr, its FIFOs in /tmp */
        confine_add_path(p, "/usr", CONFINE_RX);
        confine_add_path(p, "/tmp", CONFINE_RW);
    }
    /* no TCP rules: the gateway, which inherits this layer, connects wherever flows go */
}

/* worker - its partitions only: every environment's (shared) or its own (dedicated) */
static void worker(confine_policy *p, const cmk_config *cfg, const char *name, int shared,
                   const cJSON *envs)
{
    const cJSON *it;
    char path[4200];

    p->syscalls = worker_calls;
    p->fs = cfg->worker_confine;
    p->net = 1; /* TCP only to its controller and gateway endpoints (none with ipc://) */
    tcp_connect(p, cfg->controller_back);
    tcp_connect(p, cfg->gateway_endpoint);
    p->scope = 1;
    system_ro(p);
    own_keys(p, cfg, name);
    own_tmp(p, cfg, name);
    own_logs(p, cfg);
    if (shared) {
        snprintf(path, sizeof path, "%s/partitions", cfg->run_dir);
        confine_add_path(p, path, CONFINE_RW);
    } else
        cJSON_ArrayForEach(it, envs) {
            if (!cJSON_IsString(it))
                continue;
            snprintf(path, sizeof path, "%s/partitions/%s", cfg->run_dir, it->valuestring);
            confine_add_path(p, path, CONFINE_RW);
        }
}

/* firewall - its state directory, its configs; binds only the endpoints' port */
static void firewall(confine_policy *p, const cmk_config *cfg, const char *name)
{
    char path[4200];

    p->syscalls = firewall_calls;
    p->fs = 1;
    p->net = 1; /* its endpoints' socket is bound before: no TCP bind or connect after */
    p->scope = 1;
    system_ro(p);
    tcp_connect(p, cfg->controller_back);
    own_keys(p, cfg, name);
    own_tmp(p, cfg, name);
    own_logs(p, cfg);
    snprintf(path, sizeof path, "%s/firewall", cfg->run_dir);
    confine_add_path(p, path, CONFINE_RW);
    configs_dirs(p);
    file_dir(p, cfg->firewall_config);
    file_dir(p, cfg->service_tags);
}

/* console - reads its reports, nothing else of the run dir; its port is bound before */
static void console(confine_policy *p, const cmk_config *cfg, const char *name)
{
    char reports[4200];

    p->syscalls = console_calls;
    p->fs = 1;
    p->net = 1; /* no TCP bind or connect: its listening socket is made before */
    p->scope = 1;
    system_ro(p);
    tcp_connect(p, cfg->controller_front);
    tcp_connect(p, cfg->controller_back);
    own_keys(p, cfg, name);
    own_tmp(p, cfg, name);
    own_logs(p, cfg);
    snprintf(reports, sizeof reports, "%s/config.json", cfg->run_dir); /* its client reads it */
    confine_add_path(p, reports, CONFINE_RO);
    cmk_config_endpoint(cfg, cfg->console_reports, reports, sizeof reports);
    (void)mkdir(reports, 0700); /* a rule needs the directory: drills write there later */
    confine_add_path(p, reports, CONFINE_RO);
}

/* gateway - its keys, its temporary directory, the firewall's state (read), the service tags;
 * no TCP rules: connecting wherever flows go is its job, and its ports are bound before */
static void gateway(confine_policy *p, const cmk_config *cfg, const char *name)
{
    char path[4200];

    p->syscalls = gateway_calls;
    p->fs = 1;
    p->scope = 1; /* signals only inside its domain (its spawner, made before, is outside) */
    system_ro(p);
    own_keys(p, cfg, name);
    own_tmp(p, cfg, name);
    own_logs(p, cfg);
    snprintf(path, sizeof path, "%s/keys/gateway-server.key", cfg->run_dir); /* workers' side */
    confine_add_path(p, path, CONFINE_RO);
    snprintf(path, sizeof path, "%s/keys/public", cfg->run_dir); /* its ZAP handler's list */
    (void)mkdir(path, 0700);
    confine_add_path(p, path, CONFINE_RO);
    snprintf(path, sizeof path, "%s/config.json", cfg->run_dir); /* its trigger client */
    confine_add_path(p, path, CONFINE_RO);
    snprintf(path, sizeof path, "%s/firewall", cfg->run_dir); /* state.json */
    (void)mkdir(path, 0700);
    confine_add_path(p, path, CONFINE_RO);
    configs_dirs(p);
    file_dir(p, cfg->service_tags);
    ipc_dir(p, cfg, cfg->gateway_endpoint); /* where it binds its ROUTER */
}

/* confine_policy_for - the row of `role` */
int confine_policy_for(const cmk_config *cfg, const char *role, const char *name, int shared,
                       const cJSON *envs, confine_policy *p, cmk_err *err)
{
    char bin_dir[4200];

    memset(p, 0, sizeof *p);
    p->role = role;
    p->guard_signals = 1;
    p->log_only = strcmp(cfg->confine_mode, "log") == 0;
    if (strcmp(role, "controller") == 0) {
        if (cfg->bin_dir[0])
            cmk_strlcpy(bin_dir, cfg->bin_dir, sizeof bin_dir);
        else if (cmk_exe_dir(bin_dir, sizeof bin_dir, err) < 0)
            return err->code;
        controller(p, cfg, bin_dir);
    } else if (strcmp(role, "worker") == 0)
        worker(p, cfg, name, shared, envs);
    else if (strcmp(role, "firewall") == 0)
        firewall(p, cfg, name);
    else if (strcmp(role, "gateway") == 0)
        gateway(p, cfg, name);
    else if (strcmp(role, "console") == 0)
        console(p, cfg, name);
    else
        return cmk_err_set(err, CMK_EINVAL, "no confinement policy for role '%s'", role);
    return 0;
}

/* outcome - "allowed" or the errno's name of a refused attempt */
static const char *outcome(int rc)
{
    if (rc == 0)
        return "allowed";
    switch (errno) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ECONNREFUSED: return "ECONNREFUSED"; /* reached the port: nothing stopped it */
    case ENOENT: return "ENOENT";
    default: return "error";
    }
}

/* try_open - open(path, flags): 0 when it opened (closed and, when created, removed again) */
static int try_open(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    if (flags & O_CREAT)
        unlink(path);
    return 0;
}

/* try_connect - a TCP connection to 127.0.0.1:port (the discard port: nobody's business) */
static int try_connect(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, saved;
    if (fd < 0)
        return -1;
    rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* try_mknod - a character device node for /dev/kmsg in a directory it may write */
static int try_mknod(const char *dir)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/probe-kmsg-%d", dir, (int)getpid());
    if (mknod(path, S_IFCHR | 0600, makedev(1, 11)) < 0)
        return -1;
    unlink(path);
    return 0;
}

/* try_exec - run /bin/true from a forked child (which has the same confinement), so that
 * this process stays itself even where exec is allowed: 0 when it ran, else -1 with errno */
static int try_exec(void)
{
    int status = 0;
    pid_t pid = fork();

    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(errno > 0 && errno < 126 ? errno : 125);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    errno = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    return -1;
}

/* confine_probe - from inside its confinement, try what the process must not be able to do */
void confine_probe(const cmk_config *cfg, const char *role, const char *name, char *out, size_t n)
{
    char secret[4300], other[4300], mine[4300], outside[4300];
    const char *r_secret, *r_other, *r_write, *r_kill, *r_conn, *r_mknod, *r_trace, *r_exec;
    pid_t parent = getppid();

    /* the vault's database (the controller's own), another environment's partition, its own
     * temporary directory (where mknod is tried), a file beside the run dir */
    snprintf(secret, sizeof secret, "%s/controller.db", cfg->run_dir);
    snprintf(other, sizeof other, "%s/partitions/probe-other-env", cfg->run_dir);
    snprintf(mine, sizeof mine, "%s/tmp/%s", cfg->run_dir, name);
    snprintf(outside, sizeof outside, "%s.probe-%d", cfg->run_dir, (int)getpid());
    mkdir(mine, 0700);
    r_secret = outcome(try_open(secret, O_RDONLY));
    r_other = outcome(try_open(other, O_RDONLY | O_DIRECTORY));
    r_write = outcome(try_open(outside, O_WRONLY | O_CREAT | O_EXCL));
    r_kill = outcome(kill(strcmp(role, "controller") == 0 ? 1 : parent, 0));
    r_conn = outcome(try_connect(9));
    r_mknod = outcome(try_mknod(mine));
    r_trace = outcome((int)ptrace(PTRACE_ATTACH, parent, NULL, NULL));
    if (strcmp(r_trace, "allowed") == 0)
        ptrace(PTRACE_DETACH, parent, NULL, NULL);
    r_exec = outcome(try_exec());
    snprintf(out, n, "read_vault_db=%s open_other_partition=%s write_outside_run_dir=%s "
             "kill_parent=%s connect_tcp=%s mknod=%s ptrace_parent=%s execve=%s",
             r_secret, r_other, r_write, r_kill, r_conn, r_mknod, r_trace, r_exec);
}
