/*
 * metrics.h - the process's metrics registry and its Prometheus text rendering (format 0.0.4).
 *
 * One registry per process (every daemon serves it through common/metrics_http.h). A module
 * asks once for a family (get-or-create by name) and for the series of label values it counts,
 * keeps the series pointers, and then counts with atomic operations only: no lock on the hot
 * path. Series never go away, so pointers stay valid for the life of the process.
 *
 *   static const double lat[] = { 0.001, 0.005, 0.025, 0.1, 0.5, 2.5 };
 *   cmk_family *f = cmk_metrics_family("cmk_worker_runs_total", "Runs by status.",
 *                                      CMK_METRIC_COUNTER, "status", NULL, 0);
 *   cmk_metric *ok = cmk_family_get(f, (const char *[]){ "succeeded" });
 *   cmk_metric_inc(ok);
 *   cmk_metric_observe(cmk_metrics_histogram("cmk_worker_run_duration_seconds", "...", lat, 6),
 *                      0.0042);
 *
 * Every function accepts NULL series and families (out of memory, metrics off) and does nothing
 * with them, so callers never test. Values gathered from state that only the event loop may
 * touch (environments by state, partition sizes) are set by collect hooks, which the daemon
 * skeleton runs on the loop every second (cmk_metrics_collect); the HTTP thread only reads.
 *
 * The standard process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds,
 * process_threads) are rendered from /proc/self files opened once by cmk_metrics_process_init,
 * so a confined process (Landlock) can still read them.
 */
#ifndef CMK_METRICS_H
#define CMK_METRICS_H

#include <stdint.h>
#include <stdio.h>

/* What a family measures. */
typedef enum {
    CMK_METRIC_COUNTER,   /* only goes up (or is mirrored from a source that only goes up) */
    CMK_METRIC_GAUGE,     /* a value now */
    CMK_METRIC_HISTOGRAM, /* observations in buckets, with their sum and count */
} cmk_metric_type;

typedef struct cmk_family cmk_family;
typedef struct cmk_metric cmk_metric;

#define CMK_METRICS_MAX_LABELS 4 /* label names per family */
#define CMK_METRICS_MAX_BUCKETS 20 /* finite buckets per histogram */

/* cmk_metrics_family - the family named name (created on first use; a later call with the same
 * name returns it whatever its other arguments). labels: comma-separated label names or NULL;
 * bounds: a histogram's finite upper bounds, ascending (NULL for other types). NULL when out of
 * memory or the arguments are unusable (bad name, too many labels or buckets). */
cmk_family *cmk_metrics_family(const char *name, const char *help, cmk_metric_type type,
                               const char *labels, const double *bounds, int n_bounds);

/* cmk_family_get - the series of values (one per label name of the family; created on first
 * use). Takes the registry's lock: call it once and keep the pointer on hot paths. */
cmk_metric *cmk_family_get(cmk_family *f, const char *const *values);

/* cmk_family_get1/2 - the same for one or two label values */
cmk_metric *cmk_family_get1(cmk_family *f, const char *v1);
cmk_metric *cmk_family_get2(cmk_family *f, const char *v1, const char *v2);

/* cmk_family_zero - set every series of a gauge family to 0 (before a collect hook sets the
 * values it finds, so that states no longer present read 0) */
void cmk_family_zero(cmk_family *f);

/* cmk_metrics_counter / _gauge / _histogram - the one series of an unlabelled family */
cmk_metric *cmk_metrics_counter(const char *name, const char *help);
cmk_metric *cmk_metrics_gauge(const char *name, const char *help);
cmk_metric *cmk_metrics_histogram(const char *name, const char *help, const double *bounds,
                                  int n_bounds);

/* cmk_metric_inc / _add - add 1 / n (counters, gauges) */
void cmk_metric_inc(cmk_metric *m);
void cmk_metric_add(cmk_metric *m, int64_t n);

/* cmk_metric_set - set a gauge, or a counter mirrored from elsewhere (kernel counters) */
void cmk_metric_set(cmk_metric *m, int64_t v);

/* cmk_metric_value - the value of a counter or gauge; a histogram's count */
int64_t cmk_metric_value(const cmk_metric *m);

/* cmk_metric_observe - one observation of a histogram (seconds, bytes, ...; sum kept to 1e-6) */
void cmk_metric_observe(cmk_metric *m, double v);

/* cmk_metrics_now - monotonic seconds (for timing what a histogram observes) */
double cmk_metrics_now(void);

/* cmk_metrics_text_fn - a source of ready-made exposition text (malloc'd, NULL if none) */
typedef char *(*cmk_metrics_text_fn)(void *arg);

/* cmk_metrics_add_text - append fn's text to every rendering (fn runs on the HTTP thread, so it
 * must be thread-safe); returns 0 or CMK_ENOMEM */
int cmk_metrics_add_text(cmk_metrics_text_fn fn, void *arg);

/* cmk_metrics_collect_fn - sets gauges from state owned by the event loop */
typedef void (*cmk_metrics_collect_fn)(void *arg);

/* cmk_metrics_on_collect - run fn at every cmk_metrics_collect; remove with
 * cmk_metrics_remove_collect before arg goes away. 0 or CMK_ENOMEM. */
int cmk_metrics_on_collect(cmk_metrics_collect_fn fn, void *arg);
void cmk_metrics_remove_collect(cmk_metrics_collect_fn fn, void *arg);

/* cmk_metrics_remove_text - stop appending fn's text (before arg goes away) */
void cmk_metrics_remove_text(cmk_metrics_text_fn fn, void *arg);

/* cmk_metrics_collect - run the collect hooks (the event loop's thread) */
void cmk_metrics_collect(void);

/* cmk_metrics_process_init - open /proc/self/{stat,statm,fd} for the process metrics and note
 * the start time (call before a process confines itself); idempotent */
void cmk_metrics_process_init(void);

/* cmk_metrics_set_identity - the process's instance name and role, rendered as
 * cmk_process_info{process="worker-shared",role="worker"} 1 */
void cmk_metrics_set_identity(const char *name, const char *role);

/* cmk_metrics_render - the whole exposition (process metrics, every family, text sources);
 * malloc'd, NULL when out of memory */
char *cmk_metrics_render(void);

/* cmk_metrics_write_label - value escaped as a Prometheus label value (\\, \", \n) into f */
void cmk_metrics_write_label(FILE *f, const char *value);

/* cmk_metrics_reset - forget every family, hook and text source (unit tests only: pointers
 * handed out before become invalid) */
void cmk_metrics_reset(void);

#endif
