/*
 * stats.c - percentiles, spreads, paired ratios, interleaving and timeline buckets of
 * cmk-bench (see stats.h).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* grow - make room for extra more samples */
static int grow(bench_samples *s, size_t extra)
{
    size_t ncap;
    int64_t *nv;

    if (s->n + extra <= s->cap)
        return 0;
    ncap = s->cap ? s->cap : 1024;
    while (ncap < s->n + extra)
        ncap *= 2;
    nv = realloc(s->v, ncap * sizeof *nv);
    if (!nv)
        return CMK_ENOMEM;
    s->v = nv;
    s->cap = ncap;
    return 0;
}

/* bench_samples_add - append one sample */
int bench_samples_add(bench_samples *s, int64_t v)
{
    if (s->n == s->cap && grow(s, 1) < 0)
        return CMK_ENOMEM;
    s->v[s->n++] = v;
    s->sorted = 0;
    return 0;
}

/* bench_samples_append - append src to dst */
int bench_samples_append(bench_samples *dst, const bench_samples *src)
{
    if (!src->n)
        return 0;
    if (grow(dst, src->n) < 0)
        return CMK_ENOMEM;
    memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
    dst->n += src->n;
    dst->sorted = 0;
    return 0;
}

/* bench_samples_reset - forget the samples */
void bench_samples_reset(bench_samples *s)
{
    s->n = 0;
    s->sorted = 0;
}

/* bench_samples_free - release the memory */
void bench_samples_free(bench_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* cmp_i64 - qsort order of int64_t */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* cmp_dbl - qsort order of double */
static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* bench_percentile_sorted - nearest rank over a sorted array */
int64_t bench_percentile_sorted(const int64_t *v, size_t n, double p)
{
    double rank;
    size_t i;

    if (!n)
        return 0;
    if (p <= 0)
        return v[0];
    if (p >= 100)
        return v[n - 1];
    rank = ceil(p / 100.0 * (double)n - 1e-9); /* 1-based; the epsilon absorbs 99.9% of 1000 */
    i = rank < 1 ? 0 : (size_t)rank - 1;
    return v[i < n ? i : n - 1];
}

/* bench_percentile - nearest-rank percentile, sorting in place */
int64_t bench_percentile(bench_samples *s, double p)
{
    if (!s->n)
        return 0;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof *s->v, cmp_i64);
        s->sorted = 1;
    }
    return bench_percentile_sorted(s->v, s->n, p);
}

/* bench_spread_of - min, median, max, mean, stddev */
void bench_spread_of(const double *v, size_t n, bench_spread *out)
{
    double *c, sum = 0, sq = 0;

    memset(out, 0, sizeof *out);
    if (!n || !(c = malloc(n * sizeof *c)))
        return;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_dbl);
    for (size_t i = 0; i < n; i++)
        sum += c[i];
    out->n = n;
    out->min = c[0];
    out->max = c[n - 1];
    out->median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    out->mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (c[i] - out->mean) * (c[i] - out->mean);
    out->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
    free(c);
}

/* bench_ratio_pair - ratios of the same repetition and their spread */
size_t bench_ratio_pair(const double *num, const double *den, size_t n, double *ratios,
                        bench_spread *out)
{
    double *r = ratios ? ratios : calloc(n ? n : 1, sizeof *r);
    size_t k = 0;

    if (!r) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (den[i] > 0)
            r[k++] = num[i] / den[i];
    bench_spread_of(r, k, out);
    if (!ratios)
        free(r);
    return k;
}

/* bench_interleave_order - rotation by repetition */
void bench_interleave_order(int m, int r, int *order)
{
    int shift = m > 0 ? (r % m + m) % m : 0;

    for (int i = 0; i < m; i++)
        order[i] = (i + shift) % m;
}

/* bench_bucketize - per-bucket counts and latency percentiles */
int bench_bucketize(const bench_point *pts, size_t n, int64_t width_ms, int64_t span_ms,
                    bench_bucket **out, size_t *nb)
{
    size_t nbk, *fill = NULL;
    int64_t **lat = NULL;
    bench_bucket *b;
    int rc = 0;

    *out = NULL;
    *nb = 0;
    if (width_ms <= 0 || span_ms < 0)
        return CMK_EINVAL;
    nbk = (size_t)((span_ms + width_ms - 1) / width_ms);
    if (!nbk)
        nbk = 1;
    b = calloc(nbk, sizeof *b);
    fill = calloc(nbk, sizeof *fill);
    lat = calloc(nbk, sizeof *lat);
    if (!b || !fill || !lat) {
        rc = CMK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nbk; i++)
        b[i].start_ms = (int64_t)i * width_ms;
    for (size_t i = 0; i < n; i++) { /* first pass: counts */
        size_t k = pts[i].t_ms < 0 ? 0 : (size_t)(pts[i].t_ms / width_ms);
        if (k >= nbk)
            k = nbk - 1;
        b[k].done++;
        if (!pts[i].ok)
            b[k].failed++;
    }
    for (size_t k = 0; k < nbk; k++)
        if (b[k].done > b[k].failed && !(lat[k] = malloc((b[k].done - b[k].failed) * sizeof **lat))) {
            rc = CMK_ENOMEM;
            goto done;
        }
    for (size_t i = 0; i < n; i++) { /* second pass: latencies of successes */
        size_t k = pts[i].t_ms < 0 ? 0 : (size_t)(pts[i].t_ms / width_ms);
        if (k >= nbk)
            k = nbk - 1;
        if (pts[i].ok)
            lat[k][fill[k]++] = pts[i].lat_ns;
    }
    for (size_t k = 0; k < nbk; k++) {
        if (!fill[k])
            continue;
        qsort(lat[k], fill[k], sizeof **lat, cmp_i64);
        b[k].p50_ns = bench_percentile_sorted(lat[k], fill[k], 50);
        b[k].p99_ns = bench_percentile_sorted(lat[k], fill[k], 99);
        b[k].max_ns = lat[k][fill[k] - 1];
    }
done:
    if (lat)
        for (size_t k = 0; k < nbk; k++)
            free(lat[k]);
    free(lat);
    free(fill);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *out = b;
    *nb = nbk;
    return 0;
}
