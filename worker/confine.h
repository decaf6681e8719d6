/*
 * confine.h - a dedicated worker confines itself once it has started (issue #10): from then on
 * it can open files only beneath its environment's partition directory (Landlock, where the
 * kernel has it), and a seccomp filter (libseccomp) refuses, with EPERM, the system calls a
 * worker never needs: running programs, tracing or reading other processes, mounting, loading
 * kernel code, namespaces, keyrings, rebooting. The controller's sockets are connected and the
 * keys are in memory before, so the worker needs nothing else of the file system.
 *
 * Both steps are one-way (no_new_privs; they are inherited by threads created later and by
 * children). Sanitizer builds skip Landlock (their reports and symbolizer need files outside)
 * and keep ptrace (LeakSanitizer stops the world with it at exit).
 */
#ifndef CMK_WORKER_CONFINE_H
#define CMK_WORKER_CONFINE_H

#include "err.h"

/* What confinement was applied. */
typedef struct {
    int landlock_abi;   /* Landlock ABI used (0: not applied) */
    char why_not[160];  /* when Landlock was not applied, why */
    int seccomp;        /* 1: the seccomp filter is loaded */
} confine_result;

/* confine_fs - Landlock: beneath each of rw_dirs (created if missing) everything; elsewhere
 * nothing but reading the files in ro_files. Without Landlock in the kernel, or in a sanitizer
 * build, returns 0 with res->landlock_abi = 0 and the reason. */
int confine_fs(const char *const *rw_dirs, int nrw, const char *const *ro_files, int nro,
               confine_result *res, cmk_err *err);

/* confine_syscalls - the seccomp filter (EPERM for the calls listed in confine.c) */
int confine_syscalls(confine_result *res, cmk_err *err);

#endif
