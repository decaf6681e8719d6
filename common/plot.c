/*
 * plot.c - timeline pictures through gnuplot: bands, labelled event lines, series on two axes
 * (see plot.h). The data travel inside the script as datablocks, so one file is written.
 */
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util.h"

/* A shaded band. */
typedef struct {
    double x0, x1;  /* extent */
    char *label;    /* its name */
} band;

/* A labelled vertical line. */
typedef struct {
    double x;       /* where */
    char *label;    /* what */
    int bad;        /* a failure: drawn red */
} event;

/* A series of points. */
typedef struct {
    char *title;            /* key entry */
    char color[16];         /* "#rrggbb", or "" for the next of series_colors */
    cmk_plot_axis axis;     /* y1 or y2 */
    cmk_plot_style style;   /* how drawn */
    double *x, *y;          /* points */
    size_t n, cap;
} series;

struct cmk_plot {
    char *title, *subtitle, *xlabel, *ylabel, *y2label;
    band *bands;
    size_t nbands;
    event *events;
    size_t nevents;
    series *series;
    size_t nseries;
};

/* sdup - strdup of s or "" */
static char *sdup(const char *s)
{
    return strdup(s ? s : "");
}

/* cmk_plot_new - empty */
cmk_plot *cmk_plot_new(const char *title, const char *xlabel, const char *ylabel,
                       const char *y2label)
{
    cmk_plot *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->title = sdup(title);
    self->subtitle = sdup("");
    self->xlabel = sdup(xlabel);
    self->ylabel = sdup(ylabel);
    self->y2label = y2label ? strdup(y2label) : NULL;
    if (!self->title || !self->subtitle || !self->xlabel || !self->ylabel ||
        (y2label && !self->y2label))
        cmk_plot_destroy(&self);
    return self;
}

/* cmk_plot_destroy - free */
void cmk_plot_destroy(cmk_plot **self_p)
{
    cmk_plot *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    for (size_t i = 0; i < self->nbands; i++)
        free(self->bands[i].label);
    for (size_t i = 0; i < self->nevents; i++)
        free(self->events[i].label);
    for (size_t i = 0; i < self->nseries; i++) {
        free(self->series[i].title);
        free(self->series[i].x);
        free(self->series[i].y);
    }
    free(self->bands);
    free(self->events);
    free(self->series);
    free(self->title);
    free(self->subtitle);
    free(self->xlabel);
    free(self->ylabel);
    free(self->y2label);
    free(self);
    *self_p = NULL;
}

/* cmk_plot_subtitle - second title line */
void cmk_plot_subtitle(cmk_plot *self, const char *text)
{
    char *s = sdup(text);
    if (s) {
        free(self->subtitle);
        self->subtitle = s;
    }
}

/* grow - room for one more element */
static int grow(void **arr, size_t n, size_t size)
{
    void *p;
    if (n % 16)
        return 0;
    if (!(p = realloc(*arr, (n + 16) * size)))
        return CMK_ENOMEM;
    *arr = p;
    return 0;
}

/* cmk_plot_band - a band */
int cmk_plot_band(cmk_plot *self, double x0, double x1, const char *label)
{
    if (grow((void **)&self->bands, self->nbands, sizeof *self->bands) < 0)
        return CMK_ENOMEM;
    self->bands[self->nbands] = (band){ x0, x1, sdup(label) };
    if (!self->bands[self->nbands].label)
        return CMK_ENOMEM;
    self->nbands++;
    return 0;
}

/* cmk_plot_event - an event line */
int cmk_plot_event(cmk_plot *self, double x, const char *label, int bad)
{
    if (grow((void **)&self->events, self->nevents, sizeof *self->events) < 0)
        return CMK_ENOMEM;
    self->events[self->nevents] = (event){ x, sdup(label), bad };
    if (!self->events[self->nevents].label)
        return CMK_ENOMEM;
    self->nevents++;
    return 0;
}

/* cmk_plot_series - a series */
int cmk_plot_series(cmk_plot *self, const char *title, cmk_plot_axis axis, cmk_plot_style style)
{
    if (grow((void **)&self->series, self->nseries, sizeof *self->series) < 0)
        return CMK_ENOMEM;
    self->series[self->nseries] = (series){ sdup(title), "", axis, style, NULL, NULL, 0, 0 };
    if (!self->series[self->nseries].title)
        return CMK_ENOMEM;
    return (int)self->nseries++;
}

/* cmk_plot_series_color - a series' colour */
void cmk_plot_series_color(cmk_plot *self, int s, const char *rgb)
{
    if (s >= 0 && (size_t)s < self->nseries && rgb && strlen(rgb) < sizeof self->series[s].color)
        snprintf(self->series[s].color, sizeof self->series[s].color, "%s", rgb);
}

/* cmk_plot_point - a point */
int cmk_plot_point(cmk_plot *self, int s, double x, double y)
{
    series *se;
    if (s < 0 || (size_t)s >= self->nseries)
        return CMK_EINVAL;
    se = &self->series[s];
    if (se->n == se->cap) {
        size_t ncap = se->cap ? se->cap * 2 : 64;
        double *nx = realloc(se->x, ncap * sizeof *nx), *ny;
        if (!nx)
            return CMK_ENOMEM;
        se->x = nx;
        if (!(ny = realloc(se->y, ncap * sizeof *ny)))
            return CMK_ENOMEM;
        se->y = ny;
        se->cap = ncap;
    }
    se->x[se->n] = x;
    se->y[se->n] = y;
    se->n++;
    return 0;
}

/* quoted - s as a gnuplot double-quoted string (no enhanced text) into f */
static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

/* Colours of the series, in order: runs first (blue), then reds and oranges for failures, greys
 * for latency; gnuplot's defaults would give a failure the same green as success. */
static const char *const series_colors[] = { "#1f4e9c", "#d62728", "#ff7f0e", "#8c2d04",
                                             "#e377c2", "#9467bd", "#bcbd22", "#17becf" };

/* cmk_plot_script - the gnuplot script */
char *cmk_plot_script(const cmk_plot *self, const char *png)
{
    char *text = NULL;
    size_t len = 0, drawn = 0;
    FILE *f = open_memstream(&text, &len);
    double xmax = 0;

    if (!f)
        return NULL;
    fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "  set terminal pngcairo size 1280,680 font 'sans,10'\n"
               "} else {\n  set terminal png size 1280,680\n}\n");
    fprintf(f, "set output '%s'\nset termoption noenhanced\n", png);
    fputs("set title ", f);
    {
        /* title and subtitle as one string with a newline */
        char *both = NULL;
        if (asprintf(&both, "%s%s%s", self->title, *self->subtitle ? "\n" : "", self->subtitle) < 0)
            both = NULL;
        quoted(f, both ? both : self->title);
        free(both);
    }
    fputs(" font ',12'\nset xlabel ", f);
    quoted(f, self->xlabel);
    fputs("\nset ylabel ", f);
    quoted(f, self->ylabel);
    fputs("\nset yrange [0:*]\nset grid xtics ytics lc rgb '#dddddd'\n", f);
    if (self->y2label) {
        fputs("set y2label ", f);
        quoted(f, self->y2label);
        fputs("\nset ytics nomirror\nset y2tics\nset y2range [0:*]\n", f);
    }
    fputs("set key outside bottom center horizontal maxrows 2 box lc rgb '#bbbbbb'\n"
          "set border lc rgb '#555555'\nset tmargin 5\nset bmargin 7\n", f);
    for (size_t i = 0; i < self->nseries; i++)
        for (size_t k = 0; k < self->series[i].n; k++)
            if (self->series[i].x[k] > xmax)
                xmax = self->series[i].x[k];
    for (size_t i = 0; i < self->nbands; i++) {
        const band *b = &self->bands[i];
        if (b->x1 > xmax)
            xmax = b->x1;
        fprintf(f, "set object %zu rect from %g, graph 0 to %g, graph 1 behind fc rgb '%s' "
                   "fs solid 1.0 noborder\n",
                i + 1, b->x0, b->x1, i % 2 ? "#e8eef7" : "#f4f1e6");
        fprintf(f, "set label %zu ", i + 1);
        quoted(f, b->label);
        fprintf(f, " at %g, graph 1.0 center offset 0,0.7 front tc rgb '#333333' font ',10'\n",
                (b->x0 + b->x1) / 2);
    }
    for (size_t i = 0; i < self->nevents; i++) {
        const event *e = &self->events[i];
        const char *col = e->bad ? "#c00000" : "#2b2b2b";
        if (e->x > xmax)
            xmax = e->x;
        fprintf(f, "set arrow %zu from %g, graph 0 to %g, graph 1 nohead front lc rgb '%s' "
                   "dt 2 lw 1.2\n", i + 1, e->x, e->x, col);
        fprintf(f, "set label %zu ", self->nbands + i + 1);
        quoted(f, e->label);
        /* rotated, reading upwards, its end just below the top; staggered so neighbours do
         * not print over each other */
        fprintf(f, " at %g, graph %s rotate by 90 right front offset -0.9,0 tc rgb '%s' "
                   "font ',9'\n", e->x, i % 2 ? "0.80" : "0.97", col);
    }
    if (xmax > 0)
        fprintf(f, "set xrange [0:%g]\n", xmax * 1.01);
    {
        /* headroom above the highest value; whole numbers only for small counts */
        double ymax = 0;
        int whole = 1;
        for (size_t i = 0; i < self->nseries; i++)
            for (size_t k = 0; k < self->series[i].n; k++)
                if (self->series[i].axis == CMK_PLOT_Y1) {
                    double y = self->series[i].y[k];
                    if (y > ymax)
                        ymax = y;
                    whole = whole && y == (double)(long long)y;
                }
        fputs("set offsets 0, 0, graph 0.08, 0\n", f);
        if (whole && ymax < 10)
            fputs("set ytics 1\n", f);
    }
    for (size_t i = 0; i < self->nseries; i++) {
        const series *s = &self->series[i];
        if (!s->n)
            continue;
        fprintf(f, "$S%zu << EOD\n", i);
        for (size_t k = 0; k < s->n; k++)
            fprintf(f, "%.6g %.6g\n", s->x[k], s->y[k]);
        fputs("EOD\n", f);
    }
    fputs("plot ", f);
    for (size_t i = 0; i < self->nseries; i++) {
        const series *s = &self->series[i];
        const char *with = s->style == CMK_PLOT_IMPULSES ? "impulses lw 3"
                           : s->style == CMK_PLOT_POINTS ? "points pt 7 ps 1.2"
                           : s->style == CMK_PLOT_THIN   ? "lines lw 1 dt 3"
                           : s->style == CMK_PLOT_STEPS  ? "steps lw 2"
                                                         : "lines lw 2";
        if (!s->n)
            continue;
        fprintf(f, "%s$S%zu using 1:2 axes x1%s with %s lc rgb '%s' title ", drawn++ ? ", " : "",
                i, s->axis == CMK_PLOT_Y2 ? "y2" : "y1", with,
                s->color[0] ? s->color
                            : series_colors[i % (sizeof series_colors / sizeof series_colors[0])]);
        quoted(f, s->title);
    }
    if (!drawn)
        fputs("NaN notitle", f);
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* on_path - whether program is an executable in $PATH */
static int on_path(const char *program)
{
    const char *path = getenv("PATH");
    char dir[4200];
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, program);
        if (n && access(dir, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* cmk_plot_png - run gnuplot */
int cmk_plot_png(const cmk_plot *self, const char *png, cmk_err *err)
{
    char dir[] = "/tmp/cmk-plot-XXXXXX", gp[64], cmd[160];
    char *script;
    int rc = 0;

    if (!on_path("gnuplot"))
        return cmk_err_set(err, CMK_ENOENT, "gnuplot is not installed (apt-get install "
                           "gnuplot-nox): no picture written to %s", png);
    if (strchr(png, '\'') || strchr(png, '\n'))
        return cmk_err_set(err, CMK_EINVAL, "cannot draw into a path with a quote: %s", png);
    if (!(script = cmk_plot_script(self, png)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (!mkdtemp(dir)) {
        free(script);
        return cmk_err_set(err, CMK_EIO, "cannot make a temporary directory for gnuplot");
    }
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    if (cmk_file_write_atomic(gp, script, strlen(script), 0600, err) < 0)
        rc = err->code;
    free(script);
    if (rc == 0) {
        snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", gp);
        if (system(cmd) != 0)
            rc = cmk_err_set(err, CMK_EIO, "gnuplot failed to draw %s", png);
    }
    unlink(gp);
    rmdir(dir);
    return rc;
}

/* cmk_plot_machine - a line naming this machine */
char *cmk_plot_machine(char *buf, size_t n)
{
    struct utsname u;
    char model[128] = "", line[256];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f = fopen("/proc/cpuinfo", "r");

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            if (v) {
                snprintf(model, sizeof model, "%s", v + 2);
                model[strcspn(model, "\n")] = '\0';
            }
            break;
        }
    if (f)
        fclose(f);
    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    snprintf(buf, n, "%ld CPU%s%s%s, %s %s %s", cpus, cpus == 1 ? "" : "s", model[0] ? " " : "",
             model, u.sysname, u.release, u.machine);
    return buf;
}
