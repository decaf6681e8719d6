/*
 * confine.c - user and capability drop, no_new_privs, Landlock, seccomp (see confine.h).
 *
 * The Landlock definitions newer than the build host's kernel headers (network rules of ABI 4,
 * IOCTL_DEV of ABI 5, scopes of ABI 6) are spelled out here: the running kernel, not the
 * headers, decides what applies.
 */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define CONFINE_SANITIZER 1
#else
#define CONFINE_SANITIZER 0
#endif

/* Landlock, by ABI */
#define LL_FS_ABI1 ((1ULL << 13) - 1)  /* execute ... make_sym */
#define LL_FS_REFER (1ULL << 13)       /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)    /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)   /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)        /* ABI 6 */
#define LL_RULE_NET_PORT 2
/* rights a rule on a file (not a directory) may carry */
#define LL_FILE_RIGHTS                                                                             \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |  \
     LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* the ruleset attribute of ABI 6 (older kernels accept it while the newer fields are 0) */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
} __attribute__((packed));

/* confine_sanitizer_build - 1 in an ASan/UBSan build */
int confine_sanitizer_build(void) { return CONFINE_SANITIZER; }

/* confine_under_valgrind - 1 when running on valgrind */
int confine_under_valgrind(void) { return RUNNING_ON_VALGRIND ? 1 : 0; }

/* confine_add_path - append a rule */
void confine_add_path(confine_policy *p, const char *path, confine_access access)
{
    if (p->npaths >= CONFINE_MAX_PATHS || !path || !path[0])
        return;
    cmk_strlcpy(p->paths[p->npaths].path, path, sizeof p->paths[p->npaths].path);
    p->paths[p->npaths++].access = access;
}

/* missing - note what could not be applied */
static void missing(confine_result *res, const char *what)
{
    size_t n = strlen(res->missing);
    snprintf(res->missing + n, sizeof res->missing - n, "%s%s", n ? "; " : "", what);
}

/* ---- user and capabilities ---- */

static uid_t chown_uid;
static gid_t chown_gid;

/* chown_one - nftw callback: hand one entry to the cluster user */
static int chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (st->st_uid != chown_uid || st->st_gid != chown_gid)
        (void)lchown(path, chown_uid, chown_gid);
    return 0;
}

/* last_cap - the highest capability the kernel knows */
static int last_cap(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    int n = CAP_LAST_CAP;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = CAP_LAST_CAP;
        fclose(f);
    }
    return n;
}

/* cap_bit - the bit of capability c in a 64-bit mask */
static uint64_t cap_bit(int c) { return c < 64 ? 1ULL << c : 0; }

/* drop_caps - the bounding set down to keep_prm (when CAP_SETPCAP allows), ambient and
 * inheritable emptied, permitted down to keep_prm, effective down to keep_eff */
static int drop_caps(uint64_t keep_prm, uint64_t keep_eff, confine_result *res, cmk_err *err)
{
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct cur[2], data[2];
    uint64_t prm;

    memset(cur, 0, sizeof cur);
    if (syscall(SYS_capget, &hdr, cur) < 0)
        return cmk_err_set(err, CMK_EPERM, "confine: cannot read the capability sets: %s",
                           strerror(errno));
    prm = (uint64_t)cur[0].permitted | (uint64_t)cur[1].permitted << 32;
    if (cur[0].effective & (1u << CAP_SETPCAP))
        for (int c = last_cap(); c >= 0; c--)
            if (!(keep_prm & cap_bit(c)))
                (void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    keep_prm &= prm;
    keep_eff &= keep_prm;
    memset(data, 0, sizeof data);
    data[0].permitted = (uint32_t)keep_prm;
    data[1].permitted = (uint32_t)(keep_prm >> 32);
    data[0].effective = (uint32_t)keep_eff;
    data[1].effective = (uint32_t)(keep_eff >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return cmk_err_set(err, CMK_EPERM, "confine: cannot clear the capability sets: %s",
                           strerror(errno));
    res->kept_caps = keep_prm;
    return 0;
}

/* confine_drop_caps - no capability left: bounding set (with CAP_SETPCAP, raised for it),
 * ambient, inheritable, permitted, effective */
int confine_drop_caps(confine_result *res, cmk_err *err)
{
    /* raise what is permitted (CAP_SETPCAP among it) so the bounding set can be emptied */
    if (res->kept_caps && drop_caps(res->kept_caps, res->kept_caps, res, err) < 0)
        return err->code;
    return drop_caps(0, 0, res, err);
}

/* reachable - every directory above path (and path itself with `self`) lets uid/gid through */
static int reachable(const char *path, int self, uid_t uid, gid_t gid, char *blocker, size_t n)
{
    char real[4200], *p;
    struct stat st;

    if (!realpath(path, real))
        return 1; /* not there yet: created later by whoever needs it */
    for (p = real; p; p = strchr(p + 1, '/')) {
        char saved = p[1];
        p[1] = '\0'; /* "/", "/a/", "/a/b/" ... */
        if (stat(real, &st) == 0 && S_ISDIR(st.st_mode) &&
            !(st.st_uid == uid ? st.st_mode & S_IXUSR
                               : st.st_gid == gid ? st.st_mode & S_IXGRP : st.st_mode & S_IXOTH)) {
            cmk_strlcpy(blocker, real, n);
            p[1] = saved;
            return 0;
        }
        p[1] = saved;
    }
    /* the directory itself (the programs' directory; the run dir is handed over anyway) */
    if (self && stat(real, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != uid &&
        !(st.st_gid == gid ? st.st_mode & S_IXGRP : st.st_mode & S_IXOTH)) {
        cmk_strlcpy(blocker, real, n);
        return 0;
    }
    return 1;
}

/* confine_drop_user - root: become the cluster user; always: no capability but `keep` */
int confine_drop_user(const char *user, const char *run_dir, uint64_t keep_prm, uint64_t keep_eff,
                      confine_result *res, cmk_err *err)
{
    res->uid = geteuid();
    if (geteuid() == 0 && user && user[0] && strcmp(user, "root") != 0) {
        struct passwd *pw = getpwnam(user);
        if (!pw)
            return cmk_err_set(err, CMK_EINVAL, "cluster.user '%s' does not exist on this host "
                               "(create it, e.g. `useradd --system %s`, or set another)", user, user);
        if (pw->pw_uid == 0)
            return cmk_err_set(err, CMK_EINVAL, "cluster.user '%s' is root: choose an "
                               "unprivileged user", user);
        char exe[4200], blocker[4200] = "";
        if (cmk_exe_dir(exe, sizeof exe, NULL) < 0)
            exe[0] = '\0';
        if ((run_dir && run_dir[0] && !reachable(run_dir, 0, pw->pw_uid, pw->pw_gid, blocker, sizeof blocker)) ||
            (exe[0] && !reachable(exe, 1, pw->pw_uid, pw->pw_gid, blocker, sizeof blocker))) {
            /* e.g. a clone under /root: the user could not reach the programs or the run dir */
            snprintf(res->kept_root, sizeof res->kept_root, "%s cannot pass %s", user, blocker);
            return drop_caps(keep_prm, keep_eff, res, err);
        }
        chown_uid = pw->pw_uid;
        chown_gid = pw->pw_gid;
        if (run_dir && run_dir[0])
            (void)nftw(run_dir, chown_one, 16, FTW_PHYS | FTW_MOUNT);
        /* the bounding set needs CAP_SETPCAP, which the uid change takes away */
        for (int c = last_cap(); c >= 0; c--)
            (void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        if (setgroups(1, &pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
            return cmk_err_set(err, CMK_EPERM, "confine: cannot become %s: %s", user, strerror(errno));
        if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || setuid(0) == 0)
            return cmk_err_set(err, CMK_EPERM, "confine: the switch to %s did not hold", user);
        res->uid = pw->pw_uid;
        res->dropped = 1;
        return drop_caps(0, 0, res, err); /* another uid: nothing left to keep */
    }
    return drop_caps(keep_prm, keep_eff, res, err);
}

/* ---- Landlock ---- */

/* mkdirs - mkdir -p (mode 0700) */
static void mkdirs(const char *path)
{
    char buf[4200];
    cmk_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(buf, 0700);
            *p = '/';
        }
    (void)mkdir(buf, 0700);
}

/* rights - the Landlock rights of an access class, within what the ruleset handles */
static uint64_t rights(confine_access a, uint64_t handled)
{
    uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    switch (a) {
    case CONFINE_RO: return ro;
    case CONFINE_RX: return ro | LANDLOCK_ACCESS_FS_EXECUTE;
    case CONFINE_WFILE: return ro | LANDLOCK_ACCESS_FS_WRITE_FILE;
    case CONFINE_RW:
    default:
        return handled & ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                                     LANDLOCK_ACCESS_FS_MAKE_BLOCK);
    }
}

/* add_path_rule - allow `access` beneath (or on) path; a missing path is skipped */
static int add_path_rule(int ruleset, const char *path, uint64_t access, cmk_err *err)
{
    struct landlock_path_beneath_attr pb = { .allowed_access = access };
    struct stat st;
    int rc;

    pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0)
        return 0;
    if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
        pb.allowed_access &= LL_FILE_RIGHTS;
    rc = pb.allowed_access ? (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) : 0;
    close(pb.parent_fd);
    if (rc < 0)
        return cmk_err_set(err, CMK_EIO, "confine: landlock_add_rule %s: %s", path, strerror(errno));
    return 0;
}

/* add_port_rule - allow `access` on a TCP port */
static int add_port_rule(int ruleset, int port, uint64_t access, cmk_err *err)
{
    struct ll_net_port_attr np = { .allowed_access = access, .port = (uint64_t)port };
    if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) < 0)
        return cmk_err_set(err, CMK_EIO, "confine: landlock port rule %d: %s", port, strerror(errno));
    return 0;
}

/* landlock - one layer for policy p */
static int landlock(const confine_policy *p, confine_result *res, cmk_err *err)
{
    struct ll_ruleset_attr attr = { 0 };
    int abi, ruleset, rc = 0;

    if (!p->fs && !p->net && !p->scope)
        return 0;
    if (CONFINE_SANITIZER) {
        missing(res, "Landlock: skipped in a sanitizer build (its reports and symbolizer need files anywhere)");
        return 0;
    }
    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    res->landlock_abi = abi > 0 ? abi : 0;
    if (abi < 1) {
        char why[160];
        snprintf(why, sizeof why, "Landlock: the kernel has none (%s)", strerror(errno));
        missing(res, why);
        return 0;
    }
    if (p->fs)
        attr.handled_access_fs = LL_FS_ABI1 | (abi >= 2 ? LL_FS_REFER : 0) |
                                 (abi >= 3 ? LL_FS_TRUNCATE : 0) | (abi >= 5 ? LL_FS_IOCTL_DEV : 0);
    if (p->net && abi >= 4)
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    else if (p->net)
        missing(res, "Landlock TCP rules: need ABI 4 (Linux 6.7)");
    if (p->scope && abi >= 6)
        attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX;
    else if (p->scope)
        missing(res, "Landlock signal scoping: needs ABI 6 (Linux 6.12)");
    if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped)
        return 0;
    if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)) < 0)
        return cmk_err_set(err, CMK_EIO, "confine: landlock_create_ruleset: %s", strerror(errno));
    for (int i = 0; attr.handled_access_fs && i < p->npaths && rc == 0; i++) {
        if (p->paths[i].access == CONFINE_RW)
            mkdirs(p->paths[i].path);
        rc = add_path_rule(ruleset, p->paths[i].path,
                           rights(p->paths[i].access, attr.handled_access_fs), err);
    }
    for (int i = 0; attr.handled_access_net && i < p->nbind && rc == 0; i++)
        rc = add_port_rule(ruleset, p->bind_ports[i], LL_NET_BIND_TCP, err);
    for (int i = 0; attr.handled_access_net && i < p->nconnect && rc == 0; i++)
        rc = add_port_rule(ruleset, p->connect_ports[i], LL_NET_CONNECT_TCP, err);
    if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
        rc = cmk_err_set(err, CMK_EIO, "confine: landlock_restrict_self: %s", strerror(errno));
    close(ruleset);
    if (rc == 0) {
        res->fs = attr.handled_access_fs != 0;
        res->net = attr.handled_access_net != 0;
        res->scope = attr.scoped != 0;
    }
    return rc;
}

/* ---- seccomp ---- */

/* What no role may do; in sanitizer builds the only filter (ptrace stays: LeakSanitizer). */
static const char *const dangerous[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
    "pivot_root", "chroot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "bpf", "perf_event_open", "keyctl",
    "add_key", "request_key", "acct", "settimeofday", "clock_settime", "personality", "mknod",
    "mknodat", "open_by_handle_at", "userfaultfd", "fsopen", "fsmount", "move_mount",
    "open_tree", "pidfd_getfd", NULL,
};

/* load - seccomp_load with thread sync; counts the filter */
static int load(scmp_filter_ctx ctx, confine_result *res, const char *what, cmk_err *err)
{
    int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        return cmk_err_set(err, CMK_EIO, "confine: loading the %s filter: %s", what, strerror(-rc));
    res->seccomp++;
    return 0;
}

/* listed - 1 when name is in the NULL-terminated list (NULL: empty) */
static int listed(const char *const *list, const char *name)
{
    for (int i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* add_names - one rule per resolvable name, but those in `except` */
static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
                     const char *const *except, cmk_err *err)
{
    for (int i = 0; names[i]; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR || listed(except, names[i]))
            continue; /* not a call of this architecture, or one the role makes */
        if (CONFINE_SANITIZER && (strcmp(names[i], "ptrace") == 0 ||
                                  strcmp(names[i], "process_vm_readv") == 0))
            continue; /* LeakSanitizer stops the world with ptrace at exit */
        if (seccomp_rule_add(ctx, action, nr, 0) < 0)
            return cmk_err_set(err, CMK_EIO, "confine: seccomp rule for %s refused", names[i]);
    }
    return 0;
}

/* allowlist - the role's calls; everything else EPERM (or logged in log-only mode) */
static int allowlist(const confine_policy *p, confine_result *res, cmk_err *err)
{
    scmp_filter_ctx ctx;
    int rc;

    if (CONFINE_SANITIZER) {
        missing(res, "seccomp: a denylist instead of the allowlist in a sanitizer build");
        if (!(ctx = seccomp_init(SCMP_ACT_ALLOW)))
            return cmk_err_set(err, CMK_ENOMEM, "confine: seccomp_init failed");
        /* the role's own calls stay (the controller's execve, the firewall's setns) */
        rc = add_names(ctx, SCMP_ACT_ERRNO(EPERM), dangerous, p->syscalls, err);
    } else {
        if (!(ctx = seccomp_init(p->log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM))))
            return cmk_err_set(err, CMK_ENOMEM, "confine: seccomp_init failed");
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1); /* refusals reach the audit log */
        rc = add_names(ctx, SCMP_ACT_ALLOW, p->syscalls, NULL, err);
    }
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc < 0) {
        seccomp_release(ctx);
        return rc;
    }
    return load(ctx, res, "allowlist", err);
}

/* guard - signals to the parent, to a process group or to every process, and tracing the
 * parent: EPERM */
static int guard(confine_result *res, cmk_err *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    uint32_t parent = (uint32_t)getppid();
    const int pid_first[] = { SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill),
                              SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo) };
    int rc = 0;

    if (!ctx)
        return cmk_err_set(err, CMK_ENOMEM, "confine: seccomp_init failed");
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    for (size_t i = 0; i < sizeof pid_first / sizeof pid_first[0] && rc == 0; i++) {
        if (parent > 1)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), pid_first[i], 1,
                                  SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, parent));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), pid_first[i], 1,
                                  SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0x80000000u, 0x80000000u));
        if (rc == 0 && pid_first[i] == SCMP_SYS(kill))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), pid_first[i], 1,
                                  SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, 0));
    }
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pidfd_send_signal), 0);
    /* tracing or reading the parent: on no allowlist anyway, but sanitizer builds keep ptrace
     * for LeakSanitizer (it traces its own threads), so the parent is refused here too */
    if (rc == 0 && parent > 1)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 1,
                              SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, parent));
    if (rc == 0 && parent > 1)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(process_vm_readv), 1,
                              SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, parent));
    if (rc < 0) {
        seccomp_release(ctx);
        return cmk_err_set(err, CMK_EIO, "confine: signal guard rule refused: %s", strerror(-rc));
    }
    return load(ctx, res, "signal guard", err);
}

/* confine_apply - no_new_privs, Landlock, seccomp */
int confine_apply(const confine_policy *p, confine_result *res, cmk_err *err)
{
    int rc;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cmk_err_set(err, CMK_EIO, "confine: no_new_privs: %s", strerror(errno));
    if ((rc = landlock(p, res, err)) < 0)
        return rc;
    if (!p->syscalls && !p->guard_signals)
        return 0;
    if (RUNNING_ON_VALGRIND) {
        missing(res, "seccomp: not loaded under valgrind (it makes the calls for its guest)");
        return 0;
    }
    /* the guard first: the allowlist does not let seccomp(2) through */
    if (p->guard_signals && (rc = guard(res, err)) < 0)
        return rc;
    if (p->syscalls && (rc = allowlist(p, res, err)) < 0)
        return rc;
    return 0;
}
