/*
 * partition-reqs-experiment.c - the SQLite-only experiment of docs/BENCHMARKS.md, "Session 7:
 * flat latency": the worker's run write path alone (partition_run_dedup + partition_run_insert
 * of a sealed 700-byte record and a trigger, two flows, five runs per millisecond, a commit every
 * 25 runs as at 5,000 runs/s with 5 ms group commits) as one partition grows. Per 100,000 runs:
 * CPU per run, wall time per run, the commits' wall time (p50, p99, max, sum: the worker's loop
 * waits that long) and the bytes the process wrote (/proc/self/io: WAL and checkpoints).
 * "open" mode times partition_open of an existing directory (the dedup window loaded again).
 * Not built by CMake; from a build tree:
 *   gcc -O2 -I. -o /tmp/exp docs/bench/partition-reqs-experiment.c build/libcmkworker.a \
 *       build/libcmk.a -lsqlite3 -lcrypto -lcjson -lzmq -lm -lpthread
 *   /tmp/exp DIR req|noreq|open [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "worker/partition_int.h"

/* now_s - monotonic seconds */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* cpu_s - this process's CPU seconds */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* wbytes - bytes this process caused to be written */
static long long wbytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char l[128];
    long long v = 0;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "write_bytes:", 12))
            v = atoll(l + 12);
    if (f)
        fclose(f);
    return v;
}

/* cmpd - qsort of doubles */
static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const long W = 100000;
    cmk_err err = CMK_ERR_INIT;
    partition *p;
    cmk_dek *d, *m;
    char rec[700];
    const char *trig = "{\"headers\":{},\"queries\":{},\"body\":{\"text\":\"load\"}}";
    double *ct, c0, t0, o0 = now_s(), oc = cpu_s();
    long long b0;
    int64_t ms = 1765000000000LL;
    unsigned seq = 0xabcdef;
    int nct = 0, noreq;
    long n;

    if (argc < 3)
        return fprintf(stderr, "usage: %s DIR req|noreq|open [RUNS]\n", argv[0]), 2;
    noreq = !strcmp(argv[2], "noreq");
    n = argc > 3 ? atol(argv[3]) : 800000;
    d = cmk_dek_generate(&err);
    m = cmk_dek_generate(&err);
    if (partition_open(argv[1], "env-exp", NULL, &p, &err) < 0)
        return fprintf(stderr, "%s\n", err.msg), 1;
    if (!strcmp(argv[2], "open")) {
        size_t held = 0;
        for (size_t i = 0; i < p->n_req_gens; i++)
            held += p->req_gens[i].n;
        printf("open: %.3f s wall, %.3f s cpu, %zu requests held in %zu slices\n", now_s() - o0,
               cpu_s() - oc, held, p->n_req_gens);
        return 0;
    }
    partition_set_keys(p, d, m);
    memset(rec, 'x', sizeof rec);
    rec[0] = '"';
    rec[sizeof rec - 2] = '"';
    rec[sizeof rec - 1] = 0;
    ct = malloc(sizeof(double) * (W / 25 + 10));
    c0 = cpu_s();
    t0 = now_s();
    b0 = wbytes();
    for (long i = 1; i <= n; i++) {
        partition_run r;
        char key[64];
        memset(&r, 0, sizeof r);
        if (i % 5 == 0)
            ms++;
        snprintf(r.id, sizeof r.id, "run-%012llx%08x", (unsigned long long)((1ULL << 48) - 1 - ms), seq--);
        snprintf(r.flow_id, sizeof r.flow_id, "flow-%ld", i % 2);
        if (!noreq)
            snprintf(r.client_req, sizeof r.client_req, "L7f3a.%ld", i);
        strcpy(r.status, "Succeeded");
        r.start_ms = ms;
        r.end_ms = ms + 1;
        if (partition_run_dedup(p, &r, NULL, key, sizeof key, &err) < 0 ||
            partition_run_insert(p, &r, key, trig, rec, NULL, NULL, NULL, &err) < 0)
            return fprintf(stderr, "%ld: %s\n", i, err.msg), 1;
        if (i % 25 == 0) {
            double a = now_s();
            partition_commit(p, &err);
            ct[nct++] = now_s() - a;
        }
        if (i % W == 0) {
            double c = cpu_s(), t = now_s(), sum = 0;
            long long b = wbytes();
            qsort(ct, nct, sizeof *ct, cmpd);
            for (int k = 0; k < nct; k++)
                sum += ct[k];
            printf("%s runs=%ld cpu_us/run=%.1f wall_us/run=%.1f commit_ms p50=%.2f p99=%.2f max=%.1f "
                   "sum_s=%.2f MB_written/100k=%.0f\n",
                   argv[2], i, (c - c0) / W * 1e6, (t - t0) / W * 1e6, ct[nct / 2] * 1e3,
                   ct[nct * 99 / 100] * 1e3, ct[nct - 1] * 1e3, sum, (b - b0) / 1e6);
            fflush(stdout);
            nct = 0;
            c0 = c;
            t0 = t;
            b0 = b;
        }
    }
    partition_close(&p);
    free(ct);
    cmk_dek_destroy(&d);
    cmk_dek_destroy(&m);
    return 0;
}
