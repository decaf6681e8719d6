/*
 * report.h - how cmk-bench shows what it measured: a progress line (rewritten in place on a
 * terminal, plain lines otherwise), the results document as JSON (--json), the same as
 * Markdown tables (--md, and the summary on stdout), and PNG plots through gnuplot when it is
 * installed (--png; skipped with a message otherwise).
 */
#ifndef CMK_BENCH_REPORT_H
#define CMK_BENCH_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* A progress line on stderr. */
typedef struct {
    int tty;      /* stderr is a terminal: rewrite one line in place */
    int last_len; /* length of the line on screen */
} bench_progress;

/* bench_progress_init - look at stderr */
void bench_progress_init(bench_progress *p);

/* bench_progress_line - show one line: in place on a terminal, else as a plain line */
void bench_progress_line(bench_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* bench_progress_done - end the in-place line (a newline on a terminal) */
void bench_progress_done(bench_progress *p);

/* bench_report_json - write the document to path (pretty JSON, atomically) */
int bench_report_json(const cJSON *res, const char *path, cmk_err *err);

/* bench_report_md - the document of `write` or `load` (by its "kind") as Markdown */
void bench_report_md(const cJSON *res, FILE *out);

/* bench_report_md_file - the same into a file */
int bench_report_md_file(const cJSON *res, const char *path, cmk_err *err);

/* bench_report_png - plot the document into a PNG with gnuplot; CMK_ENOENT with a message
 * when gnuplot is not installed */
int bench_report_png(const cJSON *res, const char *path, cmk_err *err);

/* bench_command_line - argv joined with spaces (shell-quoted where needed), for the report */
char *bench_command_line(int argc, char **argv);

#endif
