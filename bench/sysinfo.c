/*
 * sysinfo.c - machine description and /proc parsing for cmk-bench (see sysinfo.h).
 */
#include "sysinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "common/util.h"

/* bench_cpuinfo_model - first "model name" line */
void bench_cpuinfo_model(const char *text, char *buf, size_t cap)
{
    const char *p = text;

    buf[0] = '\0';
    while (p && *p) {
        if (strncmp(p, "model name", 10) == 0) {
            const char *c = strchr(p, ':'), *e;
            if (!c)
                return;
            c++;
            while (*c == ' ' || *c == '\t')
                c++;
            e = strchr(c, '\n');
            if (!e)
                e = c + strlen(c);
            while (e > c && isspace((unsigned char)e[-1]))
                e--;
            snprintf(buf, cap, "%.*s", (int)(e - c), c);
            return;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
}

/* bench_loadavg - /proc/loadavg */
void bench_loadavg(double out[3])
{
    FILE *f = fopen("/proc/loadavg", "r");

    out[0] = out[1] = out[2] = -1;
    if (!f)
        return;
    if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3)
        out[0] = out[1] = out[2] = -1;
    fclose(f);
}

/* fs_name - a name for a statfs magic */
static const char *fs_name(long type)
{
    switch (type) {
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case XFS_SUPER_MAGIC: return "xfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    default: return "other";
    }
}

/* bench_machine_get - describe this machine */
void bench_machine_get(bench_machine *m, const char *dir)
{
    struct utsname u;
    struct statfs sf;
    char *text = NULL;
    size_t len;

    memset(m, 0, sizeof *m);
    m->nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cmk_file_read("/proc/cpuinfo", &text, &len, NULL) == 0)
        bench_cpuinfo_model(text, m->cpu, sizeof m->cpu);
    free(text);
    if (!m->cpu[0])
        cmk_strlcpy(m->cpu, "unknown", sizeof m->cpu);
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    cmk_strlcpy(m->openssl, OpenSSL_version(OPENSSL_VERSION), sizeof m->openssl);
    cmk_strlcpy(m->sqlite, sqlite3_libversion(), sizeof m->sqlite);
    if (dir && statfs(dir, &sf) == 0)
        cmk_strlcpy(m->fs_type, fs_name((long)sf.f_type), sizeof m->fs_type);
    bench_loadavg(m->load);
}

/* bench_machine_json - m as JSON */
cJSON *bench_machine_json(const bench_machine *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "nproc", m->nproc);
    cJSON_AddStringToObject(o, "cpu", m->cpu);
    cJSON_AddStringToObject(o, "kernel", m->kernel);
    cJSON_AddStringToObject(o, "openssl", m->openssl);
    cJSON_AddStringToObject(o, "sqlite", m->sqlite);
    if (m->fs_type[0])
        cJSON_AddStringToObject(o, "fs", m->fs_type);
    if (m->load[0] >= 0)
        cJSON_AddItemToObject(o, "loadavg_end", cJSON_CreateDoubleArray(m->load, 3));
    return o;
}

/* bench_proc_parse_stat - comm, state, utime (14), stime (15) */
int bench_proc_parse_stat(const char *text, bench_proc *out, cmk_err *err)
{
    const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
    long long v[13];
    char state;

    if (!open || !close || close < open)
        return cmk_err_set(err, CMK_EINVAL, "not a /proc/<pid>/stat line: no (comm)");
    snprintf(out->comm, sizeof out->comm, "%.*s", (int)(close - open - 1), open + 1);
    p = close + 1;
    /* after comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) */
    if (sscanf(p, " %c %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &state,
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
               &v[11]) != 13)
        return cmk_err_set(err, CMK_EINVAL, "not a /proc/<pid>/stat line: too few fields");
    out->state = state;
    out->utime = v[10];
    out->stime = v[11];
    return 0;
}

/* status_kb - the value of a "Name:   123 kB" line, or -1 */
static int64_t status_num(const char *text, const char *name)
{
    size_t nl = strlen(name);
    const char *p = text;

    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':')
            return strtoll(p + nl + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

/* bench_proc_parse_status - VmRSS, VmHWM, Threads */
int bench_proc_parse_status(const char *text, bench_proc *out, cmk_err *err)
{
    out->rss_kb = status_num(text, "VmRSS");
    out->hwm_kb = status_num(text, "VmHWM");
    out->threads = status_num(text, "Threads");
    if (out->rss_kb < 0 && out->threads < 0)
        return cmk_err_set(err, CMK_EINVAL, "not a /proc/<pid>/status text: no VmRSS or Threads");
    return 0;
}

/* bench_proc_parse_rollup - Pss, Private_Clean + Private_Dirty */
void bench_proc_parse_rollup(const char *text, bench_proc *out)
{
    int64_t pc = status_num(text, "Private_Clean"), pd = status_num(text, "Private_Dirty");
    out->pss_kb = status_num(text, "Pss");
    out->private_kb = pc >= 0 && pd >= 0 ? pc + pd : -1;
}

/* read_small - a /proc file into buf */
static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return errno == ENOENT || errno == ESRCH ? CMK_ENOENT : CMK_EIO;
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

/* count_fds - entries of /proc/<pid>/fd, -1 if it cannot be read */
static int64_t count_fds(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *de;
    int64_t n = 0;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    if (!(d = opendir(path)))
        return -1;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* bench_proc_read - stat and status of a live process */
int bench_proc_read(pid_t pid, bench_proc *out, cmk_err *err)
{
    char path[64], buf[4096];
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((rc = read_small(path, buf, sizeof buf)) < 0)
        return cmk_err_set(err, rc, "cannot read %s: is process %d on this machine and alive?",
                           path, (int)pid);
    if ((rc = bench_proc_parse_stat(buf, out, err)) < 0)
        return rc;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((rc = read_small(path, buf, sizeof buf)) < 0)
        return cmk_err_set(err, rc, "cannot read %s", path);
    if ((rc = bench_proc_parse_status(buf, out, err)) < 0)
        return rc;
    out->fds = count_fds(pid);
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    if (read_small(path, buf, sizeof buf) == 0)
        bench_proc_parse_rollup(buf, out);
    else
        out->pss_kb = out->private_kb = -1;
    return 0;
}

/* bench_clk_tck - ticks per second */
long bench_clk_tck(void)
{
    long t = sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100;
}
