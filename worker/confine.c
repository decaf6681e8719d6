/*
 * confine.c - Landlock and seccomp for dedicated workers (see confine.h).
 */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define CONFINE_SANITIZER 1
#else
#define CONFINE_SANITIZER 0
#endif

/* Rights Landlock ABI 1 knows, and REFER from ABI 2 on. */
#define FS_ABI1                                                                                  \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |  \
     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |    \
     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
     LANDLOCK_ACCESS_FS_MAKE_SYM)
#ifdef LANDLOCK_ACCESS_FS_REFER
#define FS_REFER LANDLOCK_ACCESS_FS_REFER
#else
#define FS_REFER (1ULL << 13)
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE /* ABI 3: truncate(2) by path, O_TRUNC */
#define FS_TRUNCATE LANDLOCK_ACCESS_FS_TRUNCATE
#else
#define FS_TRUNCATE (1ULL << 14)
#endif

/* mkdirs - mkdir -p */
static void mkdirs(const char *path)
{
    char buf[4096];
    cmk_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
    mkdir(buf, 0700);
}

/* add_rule - allow `access` beneath path */
static int add_rule(int ruleset, const char *path, uint64_t access, cmk_err *err)
{
    struct landlock_path_beneath_attr pb = {.allowed_access = access};
    int rc;

    pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0)
        return cmk_err_set(err, CMK_EIO, "confine: cannot open %s: %s", path, strerror(errno));
    rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    close(pb.parent_fd);
    if (rc < 0)
        return cmk_err_set(err, CMK_EIO, "confine: landlock_add_rule %s: %s", path, strerror(errno));
    return 0;
}

/* confine_fs - the Landlock ruleset */
int confine_fs(const char *const *rw_dirs, int nrw, const char *const *ro_files, int nro,
               confine_result *res, cmk_err *err)
{
    struct landlock_ruleset_attr attr = {0};
    uint64_t all;
    int abi, ruleset, rc = 0;

    res->landlock_abi = 0;
    if (CONFINE_SANITIZER) {
        snprintf(res->why_not, sizeof res->why_not,
                 "a sanitizer build (its reports and symbolizer need files outside)");
        return 0;
    }
    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        snprintf(res->why_not, sizeof res->why_not, "the kernel has no Landlock (%s)",
                 strerror(errno));
        return 0;
    }
    all = FS_ABI1 | (abi >= 2 ? FS_REFER : 0) | (abi >= 3 ? FS_TRUNCATE : 0);
    attr.handled_access_fs = all;
    if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)) < 0)
        return cmk_err_set(err, CMK_EIO, "confine: landlock_create_ruleset: %s", strerror(errno));
    for (int i = 0; i < nrw && rc == 0; i++) {
        mkdirs(rw_dirs[i]);
        rc = add_rule(ruleset, rw_dirs[i], all & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE, err);
    }
    for (int i = 0; i < nro && rc == 0; i++)
        if (access(ro_files[i], R_OK) == 0)
            rc = add_rule(ruleset, ro_files[i], LANDLOCK_ACCESS_FS_READ_FILE, err);
    if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        rc = cmk_err_set(err, CMK_EIO, "confine: no_new_privs: %s", strerror(errno));
    if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
        rc = cmk_err_set(err, CMK_EIO, "confine: landlock_restrict_self: %s", strerror(errno));
    close(ruleset);
    if (rc == 0)
        res->landlock_abi = abi;
    return rc;
}

/* The system calls a worker never makes once started: refused with EPERM. */
static const int denied[] = {
    SCMP_SYS(execve),          SCMP_SYS(execveat),        SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(mount),
    SCMP_SYS(umount2),         SCMP_SYS(pivot_root),      SCMP_SYS(chroot),
    SCMP_SYS(setns),           SCMP_SYS(unshare),         SCMP_SYS(kexec_load),
    SCMP_SYS(init_module),     SCMP_SYS(finit_module),    SCMP_SYS(delete_module),
    SCMP_SYS(reboot),          SCMP_SYS(swapon),          SCMP_SYS(swapoff),
    SCMP_SYS(bpf),             SCMP_SYS(perf_event_open), SCMP_SYS(keyctl),
    SCMP_SYS(add_key),         SCMP_SYS(request_key),     SCMP_SYS(acct),
    SCMP_SYS(settimeofday),    SCMP_SYS(clock_settime),   SCMP_SYS(personality),
};

/* confine_syscalls - load the filter */
int confine_syscalls(confine_result *res, cmk_err *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int rc = 0;

    res->seccomp = 0;
    if (!ctx)
        return cmk_err_set(err, CMK_ENOMEM, "confine: seccomp_init failed");
    for (size_t i = 0; i < sizeof denied / sizeof denied[0] && rc == 0; i++)
        if (CONFINE_SANITIZER && (denied[i] == SCMP_SYS(ptrace) || denied[i] == SCMP_SYS(process_vm_readv)))
            continue; /* LeakSanitizer stops the world with ptrace at exit */
        else if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) < 0)
            rc = cmk_err_set(err, CMK_EIO, "confine: seccomp rule %d refused", denied[i]);
    if (rc == 0 && seccomp_load(ctx) < 0)
        rc = cmk_err_set(err, CMK_EIO, "confine: seccomp_load: %s", strerror(errno));
    seccomp_release(ctx);
    if (rc == 0)
        res->seccomp = 1;
    return rc;
}
