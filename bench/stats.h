/*
 * stats.h - the arithmetic of cmk-bench: latency samples and their percentiles, the spread of
 * a value over repetitions, ratios paired by repetition, the interleaving order of modes, and
 * per-second buckets of a load run. Pure functions: no clock, no I/O (unit-tested in
 * tests/unit/bench_stats_test.c).
 *
 * Percentiles use the nearest-rank definition: the p-th percentile of n sorted samples is the
 * sample at 1-based rank ceil(p/100 * n) (rank 1 for p = 0), so it is always a measured value.
 */
#ifndef CMK_BENCH_STATS_H
#define CMK_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* A growable array of samples (latencies in ns). */
typedef struct {
    int64_t *v;   /* the samples */
    size_t n;     /* how many */
    size_t cap;   /* slots allocated */
    int sorted;   /* v is sorted ascending (set by bench_percentile, cleared by adds) */
} bench_samples;

/* bench_samples_add - append one sample; 0 or CMK_ENOMEM */
int bench_samples_add(bench_samples *s, int64_t v);

/* bench_samples_append - append every sample of src to dst; 0 or CMK_ENOMEM */
int bench_samples_append(bench_samples *dst, const bench_samples *src);

/* bench_samples_reset - forget the samples, keep the memory */
void bench_samples_reset(bench_samples *s);

/* bench_samples_free - release the memory; the struct is empty afterwards */
void bench_samples_free(bench_samples *s);

/* bench_percentile - nearest-rank percentile p (0..100) of s, sorting s in place; 0 if empty */
int64_t bench_percentile(bench_samples *s, double p);

/* bench_percentile_sorted - the same over an already sorted array */
int64_t bench_percentile_sorted(const int64_t *v, size_t n, double p);

/* The spread of one value over repetitions. */
typedef struct {
    size_t n;      /* values counted */
    double min;    /* smallest */
    double median; /* middle value (mean of the two middle ones for even n) */
    double max;    /* largest */
    double mean;   /* arithmetic mean */
    double stddev; /* sample standard deviation (0 for n < 2) */
} bench_spread;

/* bench_spread_of - the spread of v[0..n); all zero for n == 0 */
void bench_spread_of(const double *v, size_t n, bench_spread *out);

/* bench_ratio_pair - ratios num[i] / den[i] of the same repetition i, written to ratios
 * (may be NULL), and their spread; pairs with den[i] <= 0 are skipped. Returns the number of
 * ratios. Pairing by repetition cancels what a slow moment did to every mode of that
 * repetition, which a ratio of medians would not. */
size_t bench_ratio_pair(const double *num, const double *den, size_t n, double *ratios,
                        bench_spread *out);

/* bench_interleave_order - the order in which m modes run in repetition r: mode 0 first in
 * repetition 0, then rotated by one each repetition, so every mode is first (and last)
 * equally often. order gets m entries. */
void bench_interleave_order(int m, int r, int *order);

/* One completed request of a load run. */
typedef struct {
    int64_t lat_ns; /* latency, send to reply */
    int32_t t_ms;   /* completion time, ms since the run started (24 days at most) */
    int16_t ok;     /* 1 succeeded, 0 failed */
    int16_t cause;  /* a failure's cause: 1 + its index in the run's failures (0: none known) */
} bench_point;      /* 16 bytes: a load of 2 million runs keeps 32 MB of them */

/* One bucket of a load run's timeline. */
typedef struct {
    int64_t start_ms; /* bucket start, ms since the run started */
    size_t done;      /* requests completed in it */
    size_t failed;    /* of which failed */
    int64_t p50_ns;   /* median latency of its successful requests (0 if none) */
    int64_t p99_ns;   /* their 99th percentile */
    int64_t max_ns;   /* their largest latency */
} bench_bucket;

/* bench_bucketize - points into buckets of width_ms covering [0, span_ms) (a point at or past
 * span_ms goes to the last bucket); *out is malloc'd with ceil(span/width) entries (at least
 * one). 0 or CMK_EINVAL / CMK_ENOMEM. */
int bench_bucketize(const bench_point *pts, size_t n, int64_t width_ms, int64_t span_ms,
                    bench_bucket **out, size_t *nb);

#endif
