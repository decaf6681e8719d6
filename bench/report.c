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

/* write_plot_data - the data file and script of a write document's chart */
static int write_plot_data(const cJSON *res, FILE *dat, FILE *gp, const char *datpath,
                           const char *png)
{
    const char *modes[] = {"mmk", "cmk", "sqlcipher"};
    const cJSON *row, *batched = cJSON_GetObjectItem(res, "batched");
    double last = -1;

    fprintf(dat, "size mmk cmk sqlcipher\n");
    cJSON_ArrayForEach(row, batched)
    {
        double size = cmk_json_num(row, "size", 0);
        if (size == last)
            continue;
        last = size;
        fprintf(dat, "\"%s\"", cmk_json_str(row, "size_label", "?"));
        for (int m = 0; m < 3; m++) {
            const cJSON *r, *v = NULL;
            cJSON_ArrayForEach(r, batched)
            if (cmk_json_num(r, "size", 0) == size && strcmp(cmk_json_str(r, "mode", ""), modes[m]) == 0)
                v = cJSON_GetObjectItem(r, "ratio_to_plain");
            fprintf(dat, " %g", cJSON_IsObject(v) ? cmk_json_num(v, "median", 0) : 0.0);
        }
        fputc('\n', dat);
    }
    fprintf(gp,
            "set terminal png size 900,500\nset output '%s'\n"
            "set title 'cmk-bench write: batched rows/s relative to plaintext (median of reps)'\n"
            "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\nset yrange [0:1.2<*]\nset grid ytics\n"
            "set ylabel 'rows/s / plaintext rows/s'\nset key outside right\n"
            "plot '%s' using 2:xtic(1) title 'Microsoft-managed key', '' using 3 title "
            "'customer-managed key', '' using 4 title 'SQLCipher', 1 with lines lt 0 title "
            "'plaintext'\n",
            png, datpath);
    return 0;
}

/* load_plot_data - the data file and script of a load document's chart */
static int load_plot_data(const cJSON *res, FILE *dat, FILE *gp, const char *datpath,
                          const char *png)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(res, "timeline"))
    fprintf(dat, "%g %g %g %g\n", cmk_json_num(b, "t_s", 0), cmk_json_num(b, "runs", 0),
            cmk_json_num(b, "p50_ms", 0), cmk_json_num(b, "p99_ms", 0));
    fprintf(gp,
            "set terminal png size 900,500\nset output '%s'\n"
            "set title 'cmk-bench load: runs/s and latency per second'\n"
            "set xlabel 'seconds'\nset ylabel 'runs/s'\nset y2label 'latency (ms)'\n"
            "set ytics nomirror\nset y2tics\nset yrange [0:*]\nset y2range [0:*]\nset grid\nset key outside right\n"
            "plot '%s' using 1:2 with lines lw 2 title 'runs/s', '' using 1:3 axes x1y2 with "
            "lines title 'p50 ms', '' using 1:4 axes x1y2 with lines title 'p99 ms'\n",
            png, datpath);
    return 0;
}

/* bench_report_png - a chart through gnuplot */
int bench_report_png(const cJSON *res, const char *path, cmk_err *err)
{
    char dir[] = "/tmp/cmk-bench-plot-XXXXXX", dat[64], gp[64], cmd[4300];
    FILE *fd, *fg;
    int rc = 0, load = strcmp(cmk_json_str(res, "kind", ""), "load") == 0;

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
    else if (load)
        load_plot_data(res, fd, fg, dat, path);
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
