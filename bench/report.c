/*
 * report.c - progress line, JSON file, command line and gnuplot charts of cmk-bench (see
 * report.h). The Markdown tables are in report_md.c.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/plot.h"
#include "common/util.h"
#include "sealbench.h"

/* bench_progress_init - a terminal or not */
void bench_progress_init(bench_progress *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->last_len = 0;
}

/* bench_progress_line - one progress line */
void bench_progress_line(bench_progress *p, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n >= (int)sizeof buf)
        n = (int)sizeof buf - 1;
    if (p->tty) {
        fprintf(stderr, "\r%s%*s", buf, p->last_len > n ? p->last_len - n : 0, "");
        p->last_len = n;
    } else {
        fprintf(stderr, "%s\n", buf);
    }
    fflush(stderr);
}

/* bench_progress_done - finish the in-place line */
void bench_progress_done(bench_progress *p)
{
    if (p->tty && p->last_len) {
        fputc('\n', stderr);
        fflush(stderr);
    }
    p->last_len = 0;
}

/* bench_report_json - pretty JSON into path */
int bench_report_json(const cJSON *res, const char *path, cmk_err *err)
{
    char *text = cJSON_Print(res);
    int rc;

    if (!text)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory printing the results");
    rc = cmk_file_write_atomic(path, text, strlen(text), 0644, err);
    free(text);
    return rc;
}

/* bench_report_md_file - Markdown into path */
int bench_report_md_file(const cJSON *res, const char *path, cmk_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;

    if (!f)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    bench_report_md(res, f);
    fclose(f);
    rc = cmk_file_write_atomic(path, buf, len, 0644, err);
    free(buf);
    return rc;
}

/* needs_quote - a word the shell would split or expand */
static int needs_quote(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("-_./=,:@%+", *s)))
            return 1;
    return 0;
}

/* bench_command_line - argv joined, quoted where needed */
char *bench_command_line(int argc, char **argv)
{
    size_t cap = 1;
    char *out, *p;

    for (int i = 0; i < argc; i++)
        cap += strlen(argv[i]) * 4 + 3;
    if (!(out = malloc(cap)))
        return NULL;
    p = out;
    for (int i = 0; i < argc; i++) {
        if (i)
            *p++ = ' ';
        if (!needs_quote(argv[i])) {
            p += sprintf(p, "%s", argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *s = argv[i]; *s; s++) {
            if (*s == '\'')
                p += sprintf(p, "'\\''");
            else
                *p++ = *s;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

/* machine_line - "2 CPU AMD EPYC, Linux 6.1 x86_64" from a document's machine */
static void machine_line(const cJSON *res, char *buf, size_t n)
{
    const cJSON *m = cJSON_GetObjectItem(res, "machine");
    snprintf(buf, n, "%g CPU%s %s, %s", cmk_json_num(m, "nproc", 0),
             cmk_json_num(m, "nproc", 0) == 1 ? "" : "s", cmk_json_str(m, "cpu", "?"),
             cmk_json_str(m, "kernel", "?"));
}

/* write_plot_data - the data file and script of a write document's chart: the title names the
 * sizes, the modes, the rows per repetition and the machine; each size's tic names the
 * plaintext rows/s every bar is relative to */
static int write_plot_data(const cJSON *res, FILE *dat, FILE *gp, const char *datpath,
                           const char *png)
{
    const char *modes[] = {"mmk", "cmk", "sqlcipher-tuned", "sqlcipher-default"};
    const char *names[] = {"Microsoft-managed key (MMK)", "customer-managed key (CMK)",
                           "SQLCipher tuned (raw key, 4 KiB pages)",
                           "SQLCipher default (PBKDF2, default pages)"};
    const cJSON *row, *batched = cJSON_GetObjectItem(res, "batched");
    const cJSON *cfg = cJSON_GetObjectItem(res, "config");
    double last = -1;
    char sizes[256] = "", machine[256], present[4] = {0, 0, 0, 0};

    fprintf(dat, "size mmk cmk sqlcipher-tuned sqlcipher-default\n");
    cJSON_ArrayForEach(row, batched)
    {
        double size = cmk_json_num(row, "size", 0), plain = 0;
        const cJSON *r;
        if (size == last)
            continue;
        last = size;
        snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%s", sizes[0] ? ", " : "",
                 cmk_json_str(row, "size_label", "?"));
        cJSON_ArrayForEach(r, batched)
        if (cmk_json_num(r, "size", 0) == size && strcmp(cmk_json_str(r, "mode", ""), "plain") == 0)
            plain = cmk_json_num(cJSON_GetObjectItem(r, "rows_s"), "median", 0);
        fprintf(dat, "\"%s\\n(plaintext %.0fk rows/s)\"", cmk_json_str(row, "size_label", "?"),
                plain / 1000.0);
        for (int m = 0; m < 4; m++) {
            const cJSON *v = NULL;
            cJSON_ArrayForEach(r, batched)
            if (cmk_json_num(r, "size", 0) == size && strcmp(cmk_json_str(r, "mode", ""), modes[m]) == 0)
                v = cJSON_GetObjectItem(r, "ratio_to_plain");
            if (cJSON_IsObject(v))
                present[m] = 1;
            fprintf(dat, " %g", cJSON_IsObject(v) ? cmk_json_num(v, "median", 0) : 0.0);
        }
        fputc('\n', dat);
    }
    machine_line(res, machine, sizeof machine);
    fprintf(gp,
            "set terminal png size 1100,560\nset output '%s'\nset termoption noenhanced\n"
            "set title \"cmk-bench write: batched encrypt-on-write, rows/s relative to plaintext "
            "(median of %g reps of %g rows)\\nsizes %s; modes %s%s%s%s%s - %s\"\n"
            "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\nset yrange [0:1.2<*]\nset grid ytics\n"
            "set ylabel 'rows/s / plaintext rows/s'\nset key outside right\n"
            "plot '%s' using 2:xtic(1) title '%s', '' using 3 title '%s', '' using 4 title "
            "'%s', '' using 5 title '%s', 1 with lines lt 0 title 'plaintext'\n",
            png, cmk_json_num(cfg, "reps", 0), cmk_json_num(cfg, "records", 0), sizes,
            present[0] ? "MMK" : "", present[0] && present[1] ? ", " : "", present[1] ? "CMK" : "",
            present[2] || present[3] ? ", SQLCipher tuned and default (a comparison)" : "",
            cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "sqlcipher"), "available"))
                ? ""
                : " (SQLCipher not installed)",
            machine, datpath, names[0], names[1], names[2], names[3]);
    return 0;
}

/* load_plot - the story of a load run: phases as shaded bands, every event as a labelled
 * vertical line (red when it failed), runs/s and failures/s of each cause, p50 and p99 */
static int load_plot(const cJSON *res, const char *png, cmk_err *err)
{
    const cJSON *tl = cJSON_GetObjectItem(res, "timeline"), *b, *e, *fail;
    const cJSON *wl = cJSON_GetObjectItem(res, "workload");
    char title[512], machine[256], sub[512], causes[32][64];
    int ncauses = 0, s_runs, s_cause[32], s_p50, s_p99, rc;
    double total_failed = 0;
    cmk_plot *p;

    machine_line(res, machine, sizeof machine);
    snprintf(title, sizeof title, "cmk-bench load: %s, on %s", cmk_json_str(wl, "name", "?"), machine);
    if (!(p = cmk_plot_new(title, "seconds since the first phase began", "runs/s, failures/s",
                           "latency of successful runs (ms)")))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_ArrayForEach(fail, cJSON_GetObjectItem(res, "failures"))
        total_failed += fail->valuedouble;
    snprintf(sub, sizeof sub, "%.0f runs/s (best closed-loop phase); %.0f runs failed (per second "
             "by cause below); %.0f runs lost; %d events (dashed lines)", cmk_json_num(res, "runs_s", 0),
             total_failed, cmk_json_num(res, "runs_lost", 0),
             cJSON_GetArraySize(cJSON_GetObjectItem(res, "events")));
    cmk_plot_subtitle(p, sub);
    /* phases: consecutive seconds of the same phase */
    {
        const char *cur = NULL;
        double x0 = 0, x1 = 0;
        cJSON_ArrayForEach(b, tl) {
            const char *ph = cmk_json_str(b, "phase", "");
            double t = cmk_json_num(b, "t_s", 0);
            if (cur && strcmp(cur, ph) != 0) {
                cmk_plot_band(p, x0, x1, cur);
                cur = NULL;
            }
            if (!cur) {
                cur = ph;
                x0 = t;
            }
            x1 = t + 1;
        }
        if (cur)
            cmk_plot_band(p, x0, x1, cur);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(res, "events")) {
        char label[160];
        const char *result = cmk_json_str(e, "result", "");
        double t = cJSON_GetObjectItem(e, "t_s") ? cmk_json_num(e, "t_s", 0)
                                                 : cmk_json_num(e, "at_ms", 0) / 1000.0;
        snprintf(label, sizeof label, "%s%s%s", cmk_json_str(e, "do", "?"),
                 strcmp(result, "ok") ? " - " : "", strcmp(result, "ok") ? result : "");
        cmk_plot_event(p, t, label, strcmp(result, "ok") != 0);
    }
    s_runs = cmk_plot_series(p, "runs/s (succeeded)", CMK_PLOT_Y1, CMK_PLOT_LINE);
    cJSON_ArrayForEach(b, tl) {
        cJSON_ArrayForEach(fail, cJSON_GetObjectItem(b, "failed_by")) {
            int k = 0;
            while (k < ncauses && strcmp(causes[k], fail->string))
                k++;
            if (k == ncauses && ncauses < 32) {
                char t[96];
                snprintf(causes[ncauses], sizeof causes[0], "%s", fail->string);
                snprintf(t, sizeof t, "failures/s: %s", fail->string);
                s_cause[ncauses++] = cmk_plot_series(p, t, CMK_PLOT_Y1, CMK_PLOT_LINE);
            }
        }
    }
    s_p50 = cmk_plot_series(p, "p50 ms (right axis)", CMK_PLOT_Y2, CMK_PLOT_THIN);
    s_p99 = cmk_plot_series(p, "p99 ms (right axis)", CMK_PLOT_Y2, CMK_PLOT_THIN);
    cmk_plot_series_color(p, s_p50, "#2ca02c");
    cmk_plot_series_color(p, s_p99, "#7f7f7f");
    cJSON_ArrayForEach(b, tl) {
        double x = cmk_json_num(b, "t_s", 0) + 0.5; /* the middle of its second */
        const cJSON *by = cJSON_GetObjectItem(b, "failed_by");
        cmk_plot_point(p, s_runs, x, cmk_json_num(b, "runs", 0));
        for (int k = 0; k < ncauses; k++)
            cmk_plot_point(p, s_cause[k], x, cmk_json_num(by, causes[k], 0));
        if (cmk_json_num(b, "runs", 0) > 0) {
            cmk_plot_point(p, s_p50, x, cmk_json_num(b, "p50_ms", 0));
            cmk_plot_point(p, s_p99, x, cmk_json_num(b, "p99_ms", 0));
        }
    }
    rc = cmk_plot_png(p, png, err);
    cmk_plot_destroy(&p);
    return rc;
}

/* bench_report_png - a chart through gnuplot */
int bench_report_png(const cJSON *res, const char *path, cmk_err *err)
{
    char dir[] = "/tmp/cmk-bench-plot-XXXXXX", dat[64], gp[64], cmd[4300];
    FILE *fd, *fg;
    int rc = 0, load = strcmp(cmk_json_str(res, "kind", ""), "load") == 0;

    if (load)
        return load_plot(res, path, err);
    if (!bench_which("gnuplot", NULL, 0))
        return cmk_err_set(err, CMK_ENOENT,
                           "gnuplot is not installed (apt-get install gnuplot-nox): no chart "
                           "written to %s",
                           path);
    if (!mkdtemp(dir))
        return cmk_err_set(err, CMK_EIO, "cannot make a temporary directory for gnuplot");
    snprintf(dat, sizeof dat, "%s/data", dir);
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    fd = fopen(dat, "w");
    fg = fopen(gp, "w");
    if (!fd || !fg)
        rc = cmk_err_set(err, CMK_EIO, "cannot write gnuplot files in %s", dir);
    else
        write_plot_data(res, fd, fg, dat, path);
    if (fd)
        fclose(fd);
    if (fg)
        fclose(fg);
    if (rc == 0) {
        snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", gp);
        if (strchr(path, '\'') || system(cmd) != 0)
            rc = cmk_err_set(err, CMK_EIO, "gnuplot failed to draw %s", path);
    }
    unlink(dat);
    unlink(gp);
    rmdir(dir);
    return rc;
}
