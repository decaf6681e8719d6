/*
 * write_json.c - the results document of cmk-bench write: one cell's spread and latency
 * percentiles, ratios paired by repetition, and the targets against what was
 * measured (see write_int.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "write_int.h"

/* spread_json - {median, min, max, mean, stddev} */
static cJSON *spread_json(const bench_spread *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    cJSON_AddNumberToObject(o, "stddev", s->stddev);
    return o;
}

/* bw_cell_json - rows/s and MB/s spread, pooled latency percentiles, per-repetition rows/s */
cJSON *bw_cell_json(bw_cell *c)
{
    cJSON *o = cJSON_CreateObject(), *lat, *per;
    bench_spread s;

    cJSON_AddNumberToObject(o, "reps", c->reps);
    cJSON_AddNumberToObject(o, "rows_per_rep", (double)c->rows);
    bench_spread_of(c->rows_s, (size_t)c->reps, &s);
    cJSON_AddItemToObject(o, "rows_s", spread_json(&s));
    bench_spread_of(c->mb_s, (size_t)c->reps, &s);
    cJSON_AddItemToObject(o, "mb_s", spread_json(&s));
    lat = cJSON_AddObjectToObject(o, "latency_us");
    cJSON_AddNumberToObject(lat, "p50", (double)bench_percentile(&c->lat, 50) / 1e3);
    cJSON_AddNumberToObject(lat, "p99", (double)bench_percentile(&c->lat, 99) / 1e3);
    cJSON_AddNumberToObject(lat, "p999", (double)bench_percentile(&c->lat, 99.9) / 1e3);
    cJSON_AddNumberToObject(lat, "max", (double)bench_percentile(&c->lat, 100) / 1e3);
    cJSON_AddNumberToObject(lat, "samples", (double)c->lat.n);
    per = cJSON_AddArrayToObject(o, "per_rep_rows_s");
    for (int i = 0; i < c->reps; i++)
        cJSON_AddItemToArray(per, cJSON_CreateNumber(round(c->rows_s[i])));
    return o;
}

/* bw_ratio_json - per-repetition ratio num/den */
cJSON *bw_ratio_json(const bw_cell *num, const bw_cell *den)
{
    bench_spread s;
    int n = num->reps < den->reps ? num->reps : den->reps;
    cJSON *o;

    if (bench_ratio_pair(num->rows_s, den->rows_s, (size_t)n, NULL, &s) == 0)
        return cJSON_CreateNull();
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "median", s.median);
    cJSON_AddNumberToObject(o, "min", s.min);
    cJSON_AddNumberToObject(o, "max", s.max);
    cJSON_AddNumberToObject(o, "n", (double)s.n);
    return o;
}

/* find_row - the row of arr whose key equals val (string) or num (number) and whose mode is mode */
static const cJSON *find_row(const cJSON *arr, const char *key, const char *val, double num,
                             const char *mode)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const cJSON *k = cJSON_GetObjectItem(it, key);
        int match = val ? cJSON_IsString(k) && strcmp(k->valuestring, val) == 0
                        : cJSON_IsNumber(k) && k->valuedouble == num;
        if (match && strcmp(cmk_json_str(it, "mode", ""), mode) == 0)
            return it;
    }
    return NULL;
}

/* add_target - one target row: the worse of the mmk and cmk medians of ratio `field` */
static void add_target(cJSON *out, const char *id, const char *what, double target,
                       const cJSON *arr, const char *key, const char *val, double num,
                       const char *field, const char *missing)
{
    const char *modes[] = {"mmk", "cmk"};
    cJSON *t = cJSON_CreateObject();
    double worst = INFINITY, lo = INFINITY, hi = -INFINITY;
    char note[160] = "";
    size_t nl = 0;
    int found = 0;

    for (int i = 0; i < 2; i++) {
        const cJSON *row = find_row(arr, key, val, num, modes[i]);
        const cJSON *r = row ? cJSON_GetObjectItem(row, field) : NULL;
        double med;
        if (!cJSON_IsObject(r))
            continue;
        med = cmk_json_num(r, "median", 0);
        found++;
        if (med < worst) {
            worst = med;
            lo = cmk_json_num(r, "min", 0);
            hi = cmk_json_num(r, "max", 0);
        }
        nl += (size_t)snprintf(note + nl, sizeof note - nl, "%s%s %.3f (%.3f..%.3f)",
                               nl ? ", " : "", modes[i], med, cmk_json_num(r, "min", 0),
                               cmk_json_num(r, "max", 0));
        if (nl >= sizeof note)
            nl = sizeof note - 1;
    }
    cJSON_AddStringToObject(t, "id", id);
    cJSON_AddStringToObject(t, "what", what);
    cJSON_AddNumberToObject(t, "target", target);
    if (found) {
        cJSON_AddNumberToObject(t, "measured", worst);
        cJSON_AddNumberToObject(t, "min", lo);
        cJSON_AddNumberToObject(t, "max", hi);
        cJSON_AddBoolToObject(t, "met", worst >= target);
        cJSON_AddNumberToObject(t, "of_target", worst / target);
        cJSON_AddStringToObject(t, "note", note);
    } else {
        cJSON_AddNullToObject(t, "measured");
        cJSON_AddNullToObject(t, "met");
        cJSON_AddStringToObject(t, "note", missing);
    }
    cJSON_AddItemToArray(out, t);
}

/* bw_targets_json - the write targets */
cJSON *bw_targets_json(const cJSON *res, int durable_writers)
{
    static const struct {
        double size;      /* record size */
        double target;    /* ratio to plaintext */
        const char *id;   /* target id */
        const char *what; /* sentence */
    } ratios[] = {
        {256, 0.85, "batched-256", "batched encrypt-on-write at 256 B, rows/s vs plaintext"},
        {1024, 0.95, "batched-1k", "batched encrypt-on-write at 1 KiB, rows/s vs plaintext"},
        {4096, 0.97, "batched-4k", "batched encrypt-on-write at 4 KiB, rows/s vs plaintext"},
        {65536, 0.95, "batched-64k", "batched encrypt-on-write at 64 KiB, rows/s vs plaintext"},
    };
    const cJSON *batched = cJSON_GetObjectItem(res, "batched");
    const cJSON *durable = cJSON_GetObjectItem(res, "durable");
    cJSON *out = cJSON_CreateArray();
    char missing[CMK_ERR_MSG_MAX + 64];

    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++)
        add_target(out, ratios[i].id, ratios[i].what, ratios[i].target, batched, "size", NULL,
                   ratios[i].size, "ratio_to_plain", "size not measured in this run");
    /* SQLCipher (default and tuned) is a reported comparison in the batched table, no target */
    if (durable_writers == 64)
        add_target(out, "durable-64", "durable mode, 64 writers (group commit, FULL) vs one fsync per write",
                   10.0, durable, "config", "group-full", 0, "ratio_to_fsync_per_write",
                   "durable mode not measured in this run");
    else {
        snprintf(missing, sizeof missing, "measured with %d writers, not 64: rerun with --writers 64",
                 durable_writers);
        add_target(out, "durable-64", "durable mode, 64 writers (group commit, FULL) vs one fsync per write",
                   10.0, cJSON_GetObjectItem(res, "no-such-section"), "config", "group-full", 0,
                   "ratio_to_fsync_per_write", missing);
    }
    return out;
}
