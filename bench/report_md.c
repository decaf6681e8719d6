/*
 * report_md.c - the results documents of `cmk-bench write` and `cmk-bench load` as Markdown
 * tables: what is printed on stdout, written by --md, and pasted into docs/BENCHMARKS.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "report.h"

/* num - a number with thousands separators and `dec` decimals into buf */
static const char *num(double v, int dec, char *buf, size_t cap)
{
    char raw[64], *dot, out[96];
    size_t n, o = 0, digits;
    int neg = v < 0;

    snprintf(raw, sizeof raw, "%.*f", dec, fabs(v));
    dot = strchr(raw, '.');
    digits = dot ? (size_t)(dot - raw) : strlen(raw);
    if (neg)
        out[o++] = '-';
    for (n = 0; n < digits; n++) {
        out[o++] = raw[n];
        if ((digits - n - 1) % 3 == 0 && n + 1 < digits)
            out[o++] = ',';
    }
    snprintf(out + o, sizeof out - o, "%s", dot ? dot : "");
    cmk_strlcpy(buf, out, cap);
    return buf;
}

/* sp - a spread's median with min..max */
static const char *sp(const cJSON *s, int dec, char *buf, size_t cap)
{
    char a[48], b[48], c[48];
    if (!cJSON_IsObject(s)) {
        cmk_strlcpy(buf, "-", cap);
        return buf;
    }
    snprintf(buf, cap, "%s (%s–%s)", num(cmk_json_num(s, "median", 0), dec, a, sizeof a),
             num(cmk_json_num(s, "min", 0), dec, b, sizeof b),
             num(cmk_json_num(s, "max", 0), dec, c, sizeof c));
    return buf;
}

/* machine_md - the machine line */
static void machine_md(const cJSON *res, FILE *out)
{
    const cJSON *m = cJSON_GetObjectItem(res, "machine");
    fprintf(out, "Command: `%s`\n\n", cmk_json_str(res, "command", "?"));
    fprintf(out, "Machine: %d CPU (%s), %s; %s; SQLite %s%s%s\n\n",
            (int)cmk_json_num(m, "nproc", 0), cmk_json_str(m, "cpu", "?"),
            cmk_json_str(m, "kernel", "?"), cmk_json_str(m, "openssl", "?"),
            cmk_json_str(m, "sqlite", "?"), cJSON_GetObjectItem(m, "fs") ? "; file system " : "",
            cmk_json_str(m, "fs", ""));
    if (cJSON_GetArraySize(cJSON_GetObjectItem(m, "loadavg_start")) == 3 &&
        cJSON_GetArraySize(cJSON_GetObjectItem(m, "loadavg_end")) == 3)
        fprintf(out, "Load average (1 min) at the start %.2f, at the end %.2f (the benchmark "
                     "itself accounts for 1 to 2 of it; more is other work competing for the CPUs)."
                     "\n\n",
                cJSON_GetArrayItem(cJSON_GetObjectItem(m, "loadavg_start"), 0)->valuedouble,
                cJSON_GetArrayItem(cJSON_GetObjectItem(m, "loadavg_end"), 0)->valuedouble);
}

/* targets_md - the targets table */
static void targets_md(const cJSON *targets, FILE *out)
{
    const cJSON *t;
    char a[48];

    if (!cJSON_GetArraySize(targets))
        return;
    fprintf(out, "| target | goal | measured | met |\n|---|---|---|---|\n");
    cJSON_ArrayForEach(t, targets)
    {
        const cJSON *met = cJSON_GetObjectItem(t, "met");
        const char *unit = cmk_json_str(t, "unit", "x");
        char goal[64], meas[256];
        snprintf(goal, sizeof goal, "%s %s %s", cmk_json_str(t, "cmp", "≥"),
                 num(cmk_json_num(t, "target", 0), strcmp(unit, "x") == 0 ? 2 : 0, a, sizeof a),
                 unit);
        if (cJSON_IsNumber(cJSON_GetObjectItem(t, "measured")))
            snprintf(meas, sizeof meas, "%s %s%s%s%s",
                     num(cmk_json_num(t, "measured", 0), strcmp(unit, "x") == 0 ? 3 : 1, a, sizeof a),
                     unit, cmk_json_str(t, "note", NULL) ? " — " : "", cmk_json_str(t, "note", ""), "");
        else
            snprintf(meas, sizeof meas, "not measured: %s", cmk_json_str(t, "note", ""));
        fprintf(out, "| %s | %s | %s | %s |\n", cmk_json_str(t, "what", "?"), goal, meas,
                cJSON_IsTrue(met) ? "yes" : cJSON_IsFalse(met) ? "**no**" : "-");
    }
    fputc('\n', out);
}

/* lat_cells - p50 | p99 | p99.9 of a latency object, in µs */
static void lat_cells(const cJSON *row, FILE *out)
{
    const cJSON *l = cJSON_GetObjectItem(row, "latency_us");
    char a[48], b[48], c[48];
    fprintf(out, " %s | %s | %s |", num(cmk_json_num(l, "p50", 0), 1, a, sizeof a),
            num(cmk_json_num(l, "p99", 0), 1, b, sizeof b),
            num(cmk_json_num(l, "p999", 0), 1, c, sizeof c));
}

/* sqlc_md - SQLCipher, a reported comparison: its two configurations and, per size, the
 * sealed modes' rows/s relative to each */
static void sqlc_md(const cJSON *res, const cJSON *sq, FILE *out)
{
    const cJSON *c, *row;
    char a[64], b[64];

    if (!cJSON_IsTrue(cJSON_GetObjectItem(sq, "available"))) {
        fprintf(out, "\nSQLCipher: %s\n\n", cmk_json_str(sq, "message", "not measured"));
        return;
    }
    fprintf(out, "\nSQLCipher (%s; a reported comparison, no target), same WAL, synchronous level, "
                 "table and group commit as the partition:\n\n",
            cmk_json_str(sq, "version", "libsqlcipher.so.0"));
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(sq, "configs"))
    fprintf(out, "- `%s`: %s (kdf_iter %s, cipher_page_size %s, cipher_version %s)\n",
            cmk_json_str(c, "mode", "?"), cmk_json_str(c, "what", ""),
            num(cmk_json_num(c, "kdf_iter", 0), 0, a, sizeof a),
            num(cmk_json_num(c, "cipher_page_size", 0), 0, b, sizeof b),
            cmk_json_str(c, "cipher_version", "?"));
    fprintf(out, "\n| size | mode | rows/s vs SQLCipher default | rows/s vs SQLCipher tuned |\n"
                 "|---|---|---|---|\n");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "batched"))
    {
        const cJSON *d = cJSON_GetObjectItem(row, "ratio_to_sqlcipher_default");
        const cJSON *t = cJSON_GetObjectItem(row, "ratio_to_sqlcipher_tuned");
        if (!d && !t)
            continue;
        fprintf(out, "| %s | %s | %s |", cmk_json_str(row, "size_label", "?"),
                cmk_json_str(row, "mode", "?"), sp(d, 2, a, sizeof a));
        fprintf(out, " %s |\n", sp(t, 2, b, sizeof b));
    }
    fputc('\n', out);
}

/* write_md - the write document */
static void write_md(const cJSON *res, FILE *out)
{
    const cJSON *row, *sq = cJSON_GetObjectItem(res, "sqlcipher");
    const cJSON *ossl = cJSON_GetObjectItem(res, "openssl_speed");
    char a[64], b[64], c[64];

    fprintf(out, "## cmk-bench write\n\n");
    machine_md(res, out);
    fprintf(out, "Spread: median (min–max) over %d interleaved repetitions; ratios are paired "
                 "by repetition. Latency percentiles pool every repetition.\n\n",
            (int)cmk_json_num(cJSON_GetObjectItem(res, "config"), "reps", 0));
    fprintf(out, "### Targets\n\n");
    targets_md(cJSON_GetObjectItem(res, "targets"), out);
    fprintf(out, "### Batched (group commit: %s)\n\n",
            cmk_json_str(cJSON_GetObjectItem(res, "config"), "partition", "?"));
    fprintf(out, "| size | mode | rows | rows/s | MB/s | p50 µs | p99 µs | p99.9 µs | vs plaintext |\n"
                 "|---|---|---|---|---|---|---|---|---|\n");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "batched"))
    {
        fprintf(out, "| %s | %s | %s | %s | %s |", cmk_json_str(row, "size_label", "?"),
                cmk_json_str(row, "label", "?"), num(cmk_json_num(row, "records", 0), 0, c, sizeof c),
                sp(cJSON_GetObjectItem(row, "rows_s"), 0, a, sizeof a),
                num(cmk_json_num(cJSON_GetObjectItem(row, "mb_s"), "median", 0), 1, b, sizeof b));
        lat_cells(row, out);
        fprintf(out, " %s |\n", cJSON_GetObjectItem(row, "ratio_to_plain")
                                    ? sp(cJSON_GetObjectItem(row, "ratio_to_plain"), 3, a, sizeof a)
                                    : "1 (reference)");
    }
    sqlc_md(res, sq, out);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(res, "durable"))) {
        fprintf(out, "### Durable (acknowledged after the commit; %s-byte records, %d ms per trial)\n\n",
                num(cmk_json_num(cJSON_GetObjectItem(res, "config"), "durable_size", 0), 0, c, sizeof c),
                (int)cmk_json_num(cJSON_GetObjectItem(res, "config"), "durable_ms", 0));
        fprintf(out, "| config | writers | sync | mode | acked rows/s | p50 µs | p99 µs | p99.9 µs "
                     "| vs fsync per write | vs plaintext |\n|---|---|---|---|---|---|---|---|---|---|\n");
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "durable"))
        {
            const cJSON *rf = cJSON_GetObjectItem(row, "ratio_to_fsync_per_write");
            const cJSON *rp = cJSON_GetObjectItem(row, "ratio_to_plain");
            fprintf(out, "| %s | %d | %s | %s | %s |", cmk_json_str(row, "config", "?"),
                    (int)cmk_json_num(row, "writers", 0), cmk_json_str(row, "synchronous", "?"),
                    cmk_json_str(row, "mode", "?"), sp(cJSON_GetObjectItem(row, "rows_s"), 0, a, sizeof a));
            lat_cells(row, out);
            fprintf(out, " %s |", rf ? sp(rf, 1, b, sizeof b) : "1 (reference)");
            fprintf(out, " %s |\n", rp ? sp(rp, 3, c, sizeof c) : "1 (reference)");
        }
        fputc('\n', out);
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "durable"))
        if (strcmp(cmk_json_str(row, "mode", ""), "plain") == 0)
            fprintf(out, "- `%s`: %s\n", cmk_json_str(row, "config", "?"), cmk_json_str(row, "what", ""));
        fputc('\n', out);
    }
    fprintf(out, "### Seal cost per record (cmk_seal alone, best of 5 windows) vs `openssl speed -evp aes-256-gcm`\n\n");
    if (cJSON_IsTrue(cJSON_GetObjectItem(ossl, "available")))
        fprintf(out, "Reference: `%s` (one run per size).\n\n", cmk_json_str(ossl, "command", "?"));
    else
        fprintf(out, "%s\n\n", cmk_json_str(ossl, "message", "openssl speed not run"));
    fprintf(out, "| size | cmk_seal ns/record | cmk_seal MB/s | openssl ns/record | openssl MB/s | seal / openssl "
                 "| plaintext write ns/row | ratio if sealing were the only extra cost |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "seal"))
    {
        char d[48], e[48], g[48];
        int has = cJSON_GetObjectItem(row, "openssl_mb_s") != NULL;
        fprintf(out, "| %s | %s | %s | %s | %s | %s |",
                num(cmk_json_num(row, "size", 0), 0, a, sizeof a),
                num(cmk_json_num(row, "ns_per_seal", 0), 0, b, sizeof b),
                num(cmk_json_num(row, "mb_s", 0), 0, c, sizeof c),
                has ? num(cmk_json_num(row, "openssl_ns_per_record", 0), 0, d, sizeof d) : "-",
                has ? num(cmk_json_num(row, "openssl_mb_s", 0), 0, e, sizeof e) : "-",
                has ? num(cmk_json_num(row, "seal_vs_openssl", 0), 2, g, sizeof g) : "-");
        if (cJSON_GetObjectItem(row, "ratio_bound"))
            fprintf(out, " %s | %.3f |", num(cmk_json_num(row, "plain_ns_per_row", 0), 0, a, sizeof a),
                    cmk_json_num(row, "ratio_bound", 0));
        else
            fprintf(out, " - | - |");
        fputc('\n', out);
    }
    fprintf(out, "\n### DEK unwrap (once per partition open, not per write; local, no vault round trip)\n\n"
                 "| key | algorithm | µs per unwrap |\n|---|---|---|\n");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(res, "unwrap"))
    fprintf(out, "| %s | %s | %s |\n",
            strcmp(cmk_json_str(row, "kek", ""), "mmk") == 0 ? "Microsoft-managed" : "customer-managed",
            cmk_json_str(row, "alg", "?"), num(cmk_json_num(row, "us_per_unwrap", 0), 1, a, sizeof a));
    fputc('\n', out);
}

/* load_md - the load document */
static void load_md(const cJSON *res, FILE *out)
{
    const cJSON *p, *v = cJSON_GetObjectItem(res, "verify"), *f;
    char a[64], b[64], c[64], d[64];

    fprintf(out, "## cmk-bench load\n\n");
    machine_md(res, out);
    fprintf(out, "Workload: `%s` — %s\n\n", cmk_json_str(res, "workload_file", "?"),
            cmk_json_str(cJSON_GetObjectItem(res, "workload"), "description", ""));
    fprintf(out, "### Targets\n\n");
    targets_md(cJSON_GetObjectItem(res, "targets"), out);
    fprintf(out, "### Phases\n\n| phase | clients | offered rate | runs/s | acknowledged | failed "
                 "| p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(res, "phases"))
    {
        const cJSON *l = cJSON_GetObjectItem(p, "latency_ms");
        double rate = cmk_json_num(p, "rate", 0);
        fprintf(out, "| %s | %d | %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f |\n",
                cmk_json_str(p, "name", "?"), (int)cmk_json_num(p, "clients", 0),
                rate > 0 ? num(rate, 0, a, sizeof a) : "closed loop",
                num(cmk_json_num(p, "runs_s", 0), 0, b, sizeof b),
                num(cmk_json_num(p, "acknowledged", 0), 0, c, sizeof c),
                num(cmk_json_num(p, "failed", 0), 0, d, sizeof d), cmk_json_num(l, "p50", 0),
                cmk_json_num(l, "p99", 0), cmk_json_num(l, "p999", 0), cmk_json_num(l, "max", 0));
    }
    fprintf(out, "\nCPU per acknowledged run (µs, from /proc over each phase):\n\n");
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(res, "phases"))
    {
        fprintf(out, "- %s:", cmk_json_str(p, "name", "?"));
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(p, "cpu_us_per_run"))
        if (f->valuedouble >= 0.5)
            fprintf(out, " %s %.0f;", f->string, f->valuedouble);
        fputc('\n', out);
    }
    fprintf(out, "\nFailures by cause: ");
    if (!cJSON_GetObjectItem(res, "failures") || !cJSON_GetObjectItem(res, "failures")->child)
        fprintf(out, "none");
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(res, "failures"))
    fprintf(out, "%s%s %d", f == cJSON_GetObjectItem(res, "failures")->child ? "" : ", ", f->string,
            (int)f->valuedouble);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(res, "events")) > 0) {
        fprintf(out, "\n\n### Events\n\n| at s | event | started s | took ms | result | what happened |\n"
                     "|---|---|---|---|---|---|\n");
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(res, "events"))
        fprintf(out, "| %.1f | %s | %.1f | %d | %s | %s |\n", cmk_json_num(f, "at_ms", 0) / 1000,
                cmk_json_str(f, "do", "?"), cmk_json_num(f, "started_ms", 0) / 1000,
                (int)cmk_json_num(f, "took_ms", 0), cmk_json_str(f, "result", "?"),
                cmk_json_str(f, "message", ""));
    }
    fprintf(out, "\n\n**Runs lost: %d** (run.show of %d of %d acknowledged runs afterwards: %d found, "
                 "%d not found, %d could not be checked)\n\n",
            (int)cmk_json_num(res, "runs_lost", -1), (int)cmk_json_num(v, "checked", 0),
            (int)cmk_json_num(v, "acknowledged", 0), (int)cmk_json_num(v, "found", 0),
            (int)cmk_json_num(v, "lost", 0), (int)cmk_json_num(v, "errors", 0));
    fprintf(out, "### Processes (CPU over the measured phases, memory at the end)\n\n"
                 "| process | role | pid | CPU s | CPU %% of one core | RSS MiB | peak RSS MiB | threads |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(res, "processes"))
    fprintf(out, "| %s | %s | %d | %.2f | %.0f | %.1f | %.1f | %d |\n", cmk_json_str(p, "name", "?"),
            cmk_json_str(p, "role", "?"), (int)cmk_json_num(p, "pid", 0), cmk_json_num(p, "cpu_s", 0),
            cmk_json_num(p, "cpu_pct", 0), cmk_json_num(p, "rss_kb", 0) / 1024,
            cmk_json_num(p, "rss_peak_kb", 0) / 1024, (int)cmk_json_num(p, "threads", 0));
    fprintf(out, "\n### Timeline (per second)\n\n| t (s) | phase | runs | failed | p50 ms | p99 ms | max ms "
                 "| failed by cause |\n|---|---|---|---|---|---|---|---|\n");
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(res, "timeline"))
    {
        fprintf(out, "| %.1f | %s | %d | %d | %.2f | %.2f | %.2f |", cmk_json_num(p, "t_s", 0),
                cmk_json_str(p, "phase", ""), (int)cmk_json_num(p, "runs", 0),
                (int)cmk_json_num(p, "failed", 0), cmk_json_num(p, "p50_ms", 0),
                cmk_json_num(p, "p99_ms", 0), cmk_json_num(p, "max_ms", 0));
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(p, "failed_by"))
        fprintf(out, "%s%s %d", f == cJSON_GetObjectItem(p, "failed_by")->child ? " " : ", ", f->string,
                (int)f->valuedouble);
        fprintf(out, " |\n");
    }
    fputc('\n', out);
}

/* bench_report_md - by kind */
void bench_report_md(const cJSON *res, FILE *out)
{
    if (strcmp(cmk_json_str(res, "kind", ""), "load") == 0)
        load_md(res, out);
    else
        write_md(res, out);
}
