/*
 * confine.h - least privilege for every daemon (issue #20): the mechanism. What each process
 * may do is in confine_policy.c (one table row per role); the daemon skeleton (server.c)
 * applies it at start-up, before the daemon's init opens anything.
 *
 * Four one-way steps, each inherited by threads and children created later:
 *   1. confine_drop_user - started as root: the run directory is handed to the cluster user
 *      (cluster.user) and the process becomes that user; no capability survives (bounding set,
 *      ambient, inheritable, permitted, effective). Without root: nothing to do. If the user
 *      could not reach the run dir or the programs (a directory above them is closed to it,
 *      e.g. a clone under /root), the process keeps uid 0 without any capability, and says so
 *      - but for the firewall's namespace setup (CONFINE_NS_CAPS: the controller keeps them
 *      permitted for the firewall it starts, the firewall until its namespace is made, then
 *      confine_drop_caps).
 *   2. no_new_privs - no set-uid program or file capability can give anything back.
 *   3. Landlock (where the kernel has it): file rights beneath the paths of the policy only;
 *      from ABI 4 TCP bind/connect only to the policy's ports; from ABI 6 signals and abstract
 *      Unix sockets only within the process's own domain (its descendants).
 *   4. seccomp (libseccomp): an allowlist of the system calls the role makes; anything else
 *      fails with EPERM and is logged by the kernel (audit, dmesg). A second filter refuses
 *      signals to the parent (the controller), to process groups and to every process.
 *
 * What the kernel lacks is reported in confine_result.missing (logged once by the caller).
 * Sanitizer builds skip Landlock (reports and the symbolizer need files anywhere) and keep a
 * denylist instead of the allowlist (the sanitizer runtimes make calls no role makes); under
 * valgrind the seccomp filters are not loaded (valgrind makes the calls on the guest's behalf).
 */
#ifndef CMK_CONFINE_H
#define CMK_CONFINE_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define CONFINE_MAX_PATHS 24
#define CONFINE_MAX_PORTS 4

/* What a Landlock rule allows beneath (or on) a path. */
typedef enum {
    CONFINE_RO,    /* read files, list directories */
    CONFINE_RW,    /* everything but executing and making device nodes */
    CONFINE_RX,    /* read and execute */
    CONFINE_WFILE, /* read and write existing files (e.g. /proc/self/uid_map), create nothing */
} confine_access;

typedef struct {
    char path[4200];
    confine_access access;
} confine_path;

/* What one process keeps. */
typedef struct {
    const char *role;              /* for the log: controller, worker, gateway, firewall */
    int fs;                        /* 1: a Landlock layer over the file system */
    confine_path paths[CONFINE_MAX_PATHS];
    int npaths;
    int net;                       /* 1: TCP bind/connect only to the ports below (ABI 4) */
    int bind_ports[CONFINE_MAX_PORTS], nbind;
    int connect_ports[CONFINE_MAX_PORTS], nconnect;
    int scope;                     /* 1: signals, abstract sockets only in its domain (ABI 6) */
    const char *const *syscalls;   /* seccomp allowlist (names, NULL-terminated); NULL: none */
    int guard_signals;             /* 1: no signal to the parent, a group or everyone */
    int log_only;                  /* 1: calls outside the allowlist are logged, not refused */
} confine_policy;

/* What was applied. */
typedef struct {
    int landlock_abi;   /* the kernel's Landlock ABI (0: none) */
    int fs, net, scope; /* 1: that part of Landlock is in force */
    int seccomp;        /* filters loaded (0, 1 or 2) */
    uid_t uid;          /* uid after confine_drop_user */
    int dropped;        /* 1: confine_drop_user changed user */
    char missing[320];  /* what could not be applied and why ("" if everything) */
    char kept_root[600]; /* root kept uid 0 (without capabilities) because: "" if not */
    uint64_t kept_caps; /* capabilities still permitted (bit = CAP_*): 0 once fully dropped */
} confine_result;

/* What the firewall's namespace setup needs where uid 0 is kept (no cluster user): mapping uid
 * 0 into a new user namespace needs CAP_SETFCAP at unshare, and emptying the bounding set
 * afterwards CAP_SETPCAP. The controller keeps them permitted, never effective, so the firewall
 * it starts gets them; the firewall drops them once its namespace is made. */
#define CONFINE_NS_CAPS ((1ULL << 31 /* CAP_SETFCAP */) | (1ULL << 8 /* CAP_SETPCAP */))

/* confine_add_path - append a rule to p (ignored when the table is full) */
void confine_add_path(confine_policy *p, const char *path, confine_access access);

/* confine_drop_user - when running as root: chown run_dir (recursively, links not followed)
 * to `user` (unless it is "root" or ""), become it, and drop every capability. Without root
 * only the capability sets are cleared. When `user` could not reach run_dir or the programs,
 * res->kept_root says why and only the capabilities are dropped. A process that keeps its uid
 * keeps keep_prm (and of it keep_eff effective) among what it had: the bounding set, ambient
 * and inheritable sets lose everything else (res->kept_caps says what stayed). */
int confine_drop_user(const char *user, const char *run_dir, uint64_t keep_prm, uint64_t keep_eff,
                      confine_result *res, cmk_err *err);

/* confine_drop_caps - drop what confine_drop_user kept: no capability in any set (the
 * bounding set emptied when CAP_SETPCAP was kept) */
int confine_drop_caps(confine_result *res, cmk_err *err);

/* confine_apply - no_new_privs, Landlock, seccomp for policy p. 0, or < 0 with err when a
 * step the kernel supports failed; what the kernel lacks goes to res->missing. */
int confine_apply(const confine_policy *p, confine_result *res, cmk_err *err);

/* confine_under_valgrind - 1 when running on valgrind */
int confine_under_valgrind(void);

/* confine_sanitizer_build - 1 in an ASan/UBSan build */
int confine_sanitizer_build(void);

#endif
