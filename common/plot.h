/*
 * plot.h - a timeline picture (PNG through gnuplot, when installed) that tells what happened:
 * phases as shaded bands, events as labelled vertical lines, and series (runs/s, failures/s of
 * each cause, latency) over time. cmk-bench load and cmkctl drill run draw their reports with it.
 *
 *   cmk_plot *p = cmk_plot_new("cmk-bench load: cmk-events - 2 CPU AMD EPYC, Linux 6.1",
 *                              "seconds", "runs/s", "latency (ms)");
 *   cmk_plot_band(p, 0, 12, "events");
 *   cmk_plot_event(p, 2.0, "rotate-key", 0);
 *   int s = cmk_plot_series(p, "runs/s", CMK_PLOT_Y1, CMK_PLOT_LINE);
 *   cmk_plot_point(p, s, 0.5, 2965);
 *   cmk_plot_png(p, "load.png", &err);
 *   cmk_plot_destroy(&p);
 */
#ifndef CMK_PLOT_H
#define CMK_PLOT_H

#include <stddef.h>

#include "err.h"

typedef struct cmk_plot cmk_plot;

/* Which y axis a series is drawn against. */
typedef enum { CMK_PLOT_Y1, CMK_PLOT_Y2 } cmk_plot_axis;

/* How a series is drawn. */
typedef enum {
    CMK_PLOT_LINE,     /* a line */
    CMK_PLOT_THIN,     /* a thin line (secondary values) */
    CMK_PLOT_IMPULSES, /* vertical bars from 0 (counts at instants) */
    CMK_PLOT_POINTS,   /* points */
    CMK_PLOT_STEPS,    /* a running total: each value holds until the next point */
} cmk_plot_style;

/* cmk_plot_new - an empty picture; y2label NULL for one axis only. NULL when out of memory. */
cmk_plot *cmk_plot_new(const char *title, const char *xlabel, const char *ylabel,
                       const char *y2label);

/* cmk_plot_destroy - free (NULL is fine) */
void cmk_plot_destroy(cmk_plot **self_p);

/* cmk_plot_subtitle - a second title line (what the numbers mean, the summary) */
void cmk_plot_subtitle(cmk_plot *self, const char *text);

/* cmk_plot_band - a shaded band [x0, x1) named label (a phase) */
int cmk_plot_band(cmk_plot *self, double x0, double x1, const char *label);

/* cmk_plot_event - a vertical line at x labelled label; bad marks it as a failure (red) */
int cmk_plot_event(cmk_plot *self, double x, const char *label, int bad);

/* cmk_plot_series - a new series; its index, or < 0 when out of memory */
int cmk_plot_series(cmk_plot *self, const char *title, cmk_plot_axis axis, cmk_plot_style style);

/* cmk_plot_series_color - draw series s in rgb ("#888888"); by default each series takes the
 * next colour of a palette that starts blue, then reds for failures */
void cmk_plot_series_color(cmk_plot *self, int s, const char *rgb);

/* cmk_plot_point - append (x, y) to series s */
int cmk_plot_point(cmk_plot *self, int s, double x, double y);

/* cmk_plot_script - the gnuplot script drawing the picture into png (malloc'd) */
char *cmk_plot_script(const cmk_plot *self, const char *png);

/* cmk_plot_png - draw into png with gnuplot; CMK_ENOENT (with how to install it) when gnuplot
 * is not installed */
int cmk_plot_png(const cmk_plot *self, const char *png, cmk_err *err);

/* cmk_plot_machine - "2 CPU AMD EPYC 7B13, Linux 6.1.0 x86_64" of this machine into buf */
char *cmk_plot_machine(char *buf, size_t n);

#endif
