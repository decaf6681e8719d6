/*
 * metrics.c - the process's metrics registry (families of series with atomic values), the
 * standard process metrics from /proc/self, and the Prometheus text rendering (see metrics.h).
 */
#include "metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

/* One series: a family's values for one set of label values. */
struct cmk_metric {
    cmk_family *fam;              /* its family */
    char *values[CMK_METRICS_MAX_LABELS]; /* label values (as many as the family has names) */
    _Atomic int64_t value;        /* counter or gauge; a histogram's count */
    _Atomic int64_t sum_micro;    /* histogram: sum of observations in millionths */
    _Atomic uint64_t buckets[CMK_METRICS_MAX_BUCKETS]; /* histogram: per finite bucket (not cumulative) */
    cmk_metric *next;             /* next series of the family */
};

/* A family: one metric name, its help, type, label names and series. */
struct cmk_family {
    char name[128];               /* metric name */
    char help[256];               /* # HELP text */
    cmk_metric_type type;         /* counter, gauge, histogram */
    int n_labels;                 /* label names */
    char labels[CMK_METRICS_MAX_LABELS][64];
    int n_bounds;                 /* histogram finite buckets */
    double bounds[CMK_METRICS_MAX_BUCKETS];
    cmk_metric *series, *last;    /* series in creation order */
    cmk_family *next;             /* next family */
};

/* A registered hook (collect) or text source. */
typedef struct hook {
    void (*collect)(void *arg);   /* collect hook, or NULL */
    cmk_metrics_text_fn text;     /* text source, or NULL */
    void *arg;                    /* their argument */
    struct hook *next;
} hook;

/* The process's registry. */
static struct {
    pthread_mutex_t lock;         /* guards the lists (not the values) */
    cmk_family *families, *last;  /* families in creation order */
    hook *hooks;                  /* collect hooks and text sources */
    int stat_fd, statm_fd;        /* /proc/self/stat and statm, opened once */
    DIR *fd_dir;                  /* /proc/self/fd, opened once */
    int process_init;             /* cmk_metrics_process_init done */
    double start_time;            /* process start, seconds since the epoch */
    char name[128], role[32];     /* identity */
} reg = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, -1, -1, NULL, 0, 0, "", "" };

/* valid_name - a Prometheus metric or label name */
static int valid_name(const char *s)
{
    if (!s || !*s || isdigit((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
            return 0;
    return 1;
}

/* cmk_metrics_family - get or create */
cmk_family *cmk_metrics_family(const char *name, const char *help, cmk_metric_type type,
                               const char *labels, const double *bounds, int n_bounds)
{
    cmk_family *f;

    if (!valid_name(name) || strlen(name) >= sizeof f->name || n_bounds < 0 ||
        n_bounds > CMK_METRICS_MAX_BUCKETS || (type == CMK_METRIC_HISTOGRAM && n_bounds && !bounds))
        return NULL;
    pthread_mutex_lock(&reg.lock);
    for (f = reg.families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (!f && (f = calloc(1, sizeof *f))) {
        snprintf(f->name, sizeof f->name, "%s", name);
        snprintf(f->help, sizeof f->help, "%s", help ? help : "");
        f->type = type;
        if (labels && *labels) {
            const char *p = labels;
            while (*p && f->n_labels < CMK_METRICS_MAX_LABELS) {
                size_t n = strcspn(p, ",");
                snprintf(f->labels[f->n_labels++], sizeof f->labels[0], "%.*s", (int)n, p);
                p += n + (p[n] == ',');
            }
            for (int i = 0; i < f->n_labels; i++)
                if (!valid_name(f->labels[i]) || *p)
                    f->n_labels = -1;
        }
        if (type == CMK_METRIC_HISTOGRAM) {
            f->n_bounds = n_bounds;
            for (int i = 0; i < n_bounds; i++)
                f->bounds[i] = bounds[i];
        }
        if (f->n_labels < 0) {
            free(f);
            f = NULL;
        } else {
            if (reg.last)
                reg.last->next = f;
            else
                reg.families = f;
            reg.last = f;
        }
    }
    pthread_mutex_unlock(&reg.lock);
    return f;
}

/* series_free - free one series */
static void series_free(cmk_metric *m)
{
    for (int i = 0; i < CMK_METRICS_MAX_LABELS; i++)
        free(m->values[i]);
    free(m);
}

/* cmk_family_get - get or create a series */
cmk_metric *cmk_family_get(cmk_family *f, const char *const *values)
{
    cmk_metric *m;

    if (!f)
        return NULL;
    pthread_mutex_lock(&reg.lock);
    for (m = f->series; m; m = m->next) {
        int same = 1;
        for (int i = 0; i < f->n_labels && same; i++)
            same = strcmp(m->values[i], values[i] ? values[i] : "") == 0;
        if (same)
            break;
    }
    if (!m && (m = calloc(1, sizeof *m))) {
        int ok = 1;
        m->fam = f;
        for (int i = 0; i < f->n_labels; i++)
            ok = ok && (m->values[i] = strdup(values[i] ? values[i] : ""));
        if (!ok) {
            series_free(m);
            m = NULL;
        } else {
            if (f->last)
                f->last->next = m;
            else
                f->series = m;
            f->last = m;
        }
    }
    pthread_mutex_unlock(&reg.lock);
    return m;
}

/* cmk_family_get1 - one label value */
cmk_metric *cmk_family_get1(cmk_family *f, const char *v1)
{
    const char *v[1] = { v1 };
    return cmk_family_get(f, v);
}

/* cmk_family_get2 - two label values */
cmk_metric *cmk_family_get2(cmk_family *f, const char *v1, const char *v2)
{
    const char *v[2] = { v1, v2 };
    return cmk_family_get(f, v);
}

/* cmk_family_zero - every series to 0 */
void cmk_family_zero(cmk_family *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&reg.lock);
    for (cmk_metric *m = f->series; m; m = m->next)
        atomic_store_explicit(&m->value, 0, memory_order_relaxed);
    pthread_mutex_unlock(&reg.lock);
}

/* cmk_metrics_counter - unlabelled counter */
cmk_metric *cmk_metrics_counter(const char *name, const char *help)
{
    return cmk_family_get(cmk_metrics_family(name, help, CMK_METRIC_COUNTER, NULL, NULL, 0), NULL);
}

/* cmk_metrics_gauge - unlabelled gauge */
cmk_metric *cmk_metrics_gauge(const char *name, const char *help)
{
    return cmk_family_get(cmk_metrics_family(name, help, CMK_METRIC_GAUGE, NULL, NULL, 0), NULL);
}

/* cmk_metrics_histogram - unlabelled histogram */
cmk_metric *cmk_metrics_histogram(const char *name, const char *help, const double *bounds,
                                  int n_bounds)
{
    return cmk_family_get(
        cmk_metrics_family(name, help, CMK_METRIC_HISTOGRAM, NULL, bounds, n_bounds), NULL);
}

/* cmk_metric_inc - +1 */
void cmk_metric_inc(cmk_metric *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
}

/* cmk_metric_add - +n */
void cmk_metric_add(cmk_metric *m, int64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
}

/* cmk_metric_set - = v */
void cmk_metric_set(cmk_metric *m, int64_t v)
{
    if (m)
        atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

/* cmk_metric_value - the value now */
int64_t cmk_metric_value(const cmk_metric *m)
{
    return m ? atomic_load_explicit(&((cmk_metric *)m)->value, memory_order_relaxed) : 0;
}

/* cmk_metric_observe - count v in its bucket */
void cmk_metric_observe(cmk_metric *m, double v)
{
    const cmk_family *f;
    int b = 0;

    if (!m || (f = m->fam)->type != CMK_METRIC_HISTOGRAM)
        return;
    while (b < f->n_bounds && v > f->bounds[b])
        b++;
    if (b < f->n_bounds)
        atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_micro, (int64_t)(v * 1e6 + (v >= 0 ? 0.5 : -0.5)),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
}

/* cmk_metrics_now - monotonic seconds */
double cmk_metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* add_hook - register a collect hook or text source */
static int add_hook(void (*collect)(void *), cmk_metrics_text_fn text, void *arg)
{
    hook *h = calloc(1, sizeof *h), **pp;
    if (!h)
        return CMK_ENOMEM;
    h->collect = collect;
    h->text = text;
    h->arg = arg;
    pthread_mutex_lock(&reg.lock);
    for (pp = &reg.hooks; *pp; pp = &(*pp)->next)
        ;
    *pp = h;
    pthread_mutex_unlock(&reg.lock);
    return 0;
}

/* remove_hook - unregister */
static void remove_hook(void (*collect)(void *), cmk_metrics_text_fn text, void *arg)
{
    pthread_mutex_lock(&reg.lock);
    for (hook **pp = &reg.hooks; *pp;) {
        hook *h = *pp;
        if (h->collect == collect && h->text == text && h->arg == arg) {
            *pp = h->next;
            free(h);
        } else
            pp = &h->next;
    }
    pthread_mutex_unlock(&reg.lock);
}

/* cmk_metrics_add_text - a text source */
int cmk_metrics_add_text(cmk_metrics_text_fn fn, void *arg) { return add_hook(NULL, fn, arg); }

/* cmk_metrics_remove_text - unregister a text source */
void cmk_metrics_remove_text(cmk_metrics_text_fn fn, void *arg) { remove_hook(NULL, fn, arg); }

/* cmk_metrics_on_collect - a collect hook */
int cmk_metrics_on_collect(cmk_metrics_collect_fn fn, void *arg) { return add_hook(fn, NULL, arg); }

/* cmk_metrics_remove_collect - unregister a collect hook */
void cmk_metrics_remove_collect(cmk_metrics_collect_fn fn, void *arg) { remove_hook(fn, NULL, arg); }

/* cmk_metrics_collect - run the collect hooks. They run without the registry lock (they take
 * it to create series); the loop thread is the only one that adds or removes them. */
void cmk_metrics_collect(void)
{
    for (hook *h = reg.hooks; h; h = h->next)
        if (h->collect)
            h->collect(h->arg);
}

/* cmk_metrics_process_init - open the /proc files once */
void cmk_metrics_process_init(void)
{
    struct timespec ts;

    pthread_mutex_lock(&reg.lock);
    if (!reg.process_init) {
        reg.stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        reg.statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        reg.fd_dir = opendir("/proc/self/fd");
        clock_gettime(CLOCK_REALTIME, &ts);
        reg.start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        reg.process_init = 1;
    }
    pthread_mutex_unlock(&reg.lock);
}

/* cmk_metrics_set_identity - name and role */
void cmk_metrics_set_identity(const char *name, const char *role)
{
    pthread_mutex_lock(&reg.lock);
    snprintf(reg.name, sizeof reg.name, "%s", name ? name : "");
    snprintf(reg.role, sizeof reg.role, "%s", role ? role : "");
    pthread_mutex_unlock(&reg.lock);
}

/* cmk_metrics_write_label - escaped label value */
void cmk_metrics_write_label(FILE *f, const char *value)
{
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '"')
            fputs("\\\"", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
}

/* read_proc - the text of an open /proc file (from its start) into buf; length or -1 */
static ssize_t read_proc(int fd, char *buf, size_t n)
{
    ssize_t got;
    if (fd < 0)
        return -1;
    got = pread(fd, buf, n - 1, 0);
    if (got >= 0)
        buf[got] = '\0';
    return got;
}

/* render_process - the standard process_* metrics (under the registry lock) */
static void render_process(FILE *f)
{
    struct rusage ru;
    struct rlimit rl;
    long page = sysconf(_SC_PAGESIZE);
    char buf[1024];
    unsigned long long size = 0, resident = 0;

    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(f, "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                   "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                   "process_cpu_seconds_total %.6f\n",
                (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    if (read_proc(reg.statm_fd, buf, sizeof buf) > 0 &&
        sscanf(buf, "%llu %llu", &size, &resident) == 2)
        fprintf(f, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                   "# TYPE process_resident_memory_bytes gauge\n"
                   "process_resident_memory_bytes %llu\n"
                   "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                   "# TYPE process_virtual_memory_bytes gauge\n"
                   "process_virtual_memory_bytes %llu\n",
                resident * (unsigned long long)page, size * (unsigned long long)page);
    if (reg.fd_dir) {
        struct dirent *de;
        long n = 0;
        rewinddir(reg.fd_dir);
        while ((de = readdir(reg.fd_dir)))
            if (de->d_name[0] != '.')
                n++;
        fprintf(f, "# HELP process_open_fds Number of open file descriptors.\n"
                   "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
                n > 0 ? n - 1 : 0); /* not counting the directory's own descriptor */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fprintf(f, "# HELP process_max_fds Maximum number of open file descriptors.\n"
                   "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                (unsigned long long)rl.rlim_cur);
    if (read_proc(reg.stat_fd, buf, sizeof buf) > 0) {
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        long threads = 0;
        /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime stime cutime cstime priority nice num_threads(20) */
        if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                               "%*d %*d %ld", &threads) == 1)
            fprintf(f, "# HELP process_threads Number of OS threads in the process.\n"
                       "# TYPE process_threads gauge\nprocess_threads %ld\n", threads);
    }
    if (reg.process_init)
        fprintf(f, "# HELP process_start_time_seconds Start time of the process since unix "
                   "epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                   "process_start_time_seconds %.3f\n", reg.start_time);
}

/* render_labels - {a="x",b="y"[,le="..."]} of a series (nothing without labels) */
static void render_labels(FILE *f, const cmk_metric *m, const char *le)
{
    const cmk_family *fam = m->fam;
    if (!fam->n_labels && !le)
        return;
    fputc('{', f);
    for (int i = 0; i < fam->n_labels; i++) {
        fprintf(f, "%s%s=\"", i ? "," : "", fam->labels[i]);
        cmk_metrics_write_label(f, m->values[i]);
        fputc('"', f);
    }
    if (le)
        fprintf(f, "%sle=\"%s\"", fam->n_labels ? "," : "", le);
    fputc('}', f);
}

/* render_family - HELP, TYPE and every series (under the registry lock) */
static void render_family(FILE *f, const cmk_family *fam)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };

    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, types[fam->type]);
    for (const cmk_metric *m = fam->series; m; m = m->next) {
        int64_t v = atomic_load_explicit(&((cmk_metric *)m)->value, memory_order_relaxed);
        if (fam->type != CMK_METRIC_HISTOGRAM) {
            fputs(fam->name, f);
            render_labels(f, m, NULL);
            fprintf(f, " %lld\n", (long long)v);
            continue;
        }
        uint64_t cum = 0;
        for (int b = 0; b < fam->n_bounds; b++) {
            char le[32];
            cum += atomic_load_explicit(&((cmk_metric *)m)->buckets[b], memory_order_relaxed);
            snprintf(le, sizeof le, "%g", fam->bounds[b]);
            fprintf(f, "%s_bucket", fam->name);
            render_labels(f, m, le);
            fprintf(f, " %llu\n", (unsigned long long)cum);
        }
        /* +Inf is the count: read after the buckets, it is never below them */
        fprintf(f, "%s_bucket", fam->name);
        render_labels(f, m, "+Inf");
        fprintf(f, " %llu\n", (unsigned long long)(v > (int64_t)cum ? (uint64_t)v : cum));
        fprintf(f, "%s_sum", fam->name);
        render_labels(f, m, NULL);
        fprintf(f, " %.6f\n",
                (double)atomic_load_explicit(&((cmk_metric *)m)->sum_micro, memory_order_relaxed) / 1e6);
        fprintf(f, "%s_count", fam->name);
        render_labels(f, m, NULL);
        fprintf(f, " %llu\n", (unsigned long long)(v > (int64_t)cum ? (uint64_t)v : cum));
    }
}

/* cmk_metrics_render - the exposition */
char *cmk_metrics_render(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    pthread_mutex_lock(&reg.lock);
    render_process(f);
    if (reg.name[0]) {
        fputs("# HELP cmk_process_info The cmksim process: its instance name and role.\n"
              "# TYPE cmk_process_info gauge\ncmk_process_info{process=\"", f);
        cmk_metrics_write_label(f, reg.name);
        fputs("\",role=\"", f);
        cmk_metrics_write_label(f, reg.role);
        fputs("\"} 1\n", f);
    }
    for (const cmk_family *fam = reg.families; fam; fam = fam->next)
        render_family(f, fam);
    for (const hook *h = reg.hooks; h; h = h->next) {
        char *t;
        if (h->text && (t = h->text(h->arg))) {
            fputs(t, f);
            if (*t && t[strlen(t) - 1] != '\n')
                fputc('\n', f);
            free(t);
        }
    }
    pthread_mutex_unlock(&reg.lock);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* cmk_metrics_reset - forget everything (tests) */
void cmk_metrics_reset(void)
{
    pthread_mutex_lock(&reg.lock);
    while (reg.families) {
        cmk_family *f = reg.families;
        reg.families = f->next;
        while (f->series) {
            cmk_metric *m = f->series;
            f->series = m->next;
            series_free(m);
        }
        free(f);
    }
    reg.last = NULL;
    while (reg.hooks) {
        hook *h = reg.hooks;
        reg.hooks = h->next;
        free(h);
    }
    reg.name[0] = reg.role[0] = '\0';
    pthread_mutex_unlock(&reg.lock);
}
