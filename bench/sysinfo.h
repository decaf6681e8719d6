/*
 * sysinfo.h - what cmk-bench says about the machine it measured on (CPU count and model,
 * kernel, library versions) and the CPU time and memory of a process, read from
 * /proc/<pid>/stat and /proc/<pid>/status. The parsers take text so they are unit-tested
 * without a live process (tests/unit/bench_parse_test.c).
 */
#ifndef CMK_BENCH_SYSINFO_H
#define CMK_BENCH_SYSINFO_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* The machine a result was measured on. */
typedef struct {
    int nproc;         /* online CPUs */
    char cpu[160];     /* model name from /proc/cpuinfo */
    char kernel[160];  /* uname: sysname release machine */
    char openssl[80];  /* OpenSSL library version */
    char sqlite[32];   /* SQLite library version */
    char fs_type[32];  /* file system of the benchmark directory ("" if unknown) */
    double load[3];    /* load average over 1, 5, 15 minutes when described */
} bench_machine;

/* bench_machine_get - fill m; dir (may be NULL) is where the benchmark writes */
void bench_machine_get(bench_machine *m, const char *dir);

/* bench_machine_json - m as a JSON object */
cJSON *bench_machine_json(const bench_machine *m);

/* bench_loadavg - the 1, 5 and 15 minute load averages (-1 if unknown): other work on the
 * machine while it measured */
void bench_loadavg(double out[3]);

/* bench_cpuinfo_model - the first "model name" of /proc/cpuinfo text into buf ("" if none) */
void bench_cpuinfo_model(const char *text, char *buf, size_t cap);

/* CPU time and memory of one process. */
typedef struct {
    char comm[64];      /* command name (field 2 of stat, without parentheses) */
    char state;         /* R, S, D, Z, ... */
    int64_t utime;      /* user CPU, clock ticks */
    int64_t stime;      /* system CPU, clock ticks */
    int64_t rss_kb;     /* VmRSS: resident now */
    int64_t hwm_kb;     /* VmHWM: resident peak over the process's life */
    int64_t threads;    /* Threads */
    int64_t fds;        /* open file descriptors (entries of /proc/<pid>/fd; -1: unreadable) */
    int64_t pss_kb;     /* Pss of smaps_rollup: shared pages divided among their users (-1: n/a) */
    int64_t private_kb; /* Private_Clean + Private_Dirty: pages only this process has (-1: n/a) */
} bench_proc;

/* bench_proc_parse_stat - the text of /proc/<pid>/stat (the command name may hold spaces and
 * parentheses: it runs to the last ')') */
int bench_proc_parse_stat(const char *text, bench_proc *out, cmk_err *err);

/* bench_proc_parse_status - VmRSS, VmHWM and Threads from the text of /proc/<pid>/status */
int bench_proc_parse_status(const char *text, bench_proc *out, cmk_err *err);

/* bench_proc_parse_rollup - Pss and Private_* of /proc/<pid>/smaps_rollup text into out */
void bench_proc_parse_rollup(const char *text, bench_proc *out);

/* bench_proc_read - both files of a live process; CMK_ENOENT if it is gone */
int bench_proc_read(pid_t pid, bench_proc *out, cmk_err *err);

/* bench_clk_tck - clock ticks per second (sysconf) */
long bench_clk_tck(void);

#endif
