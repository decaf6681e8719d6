/*
 * bench_stats_test.c - cmk-bench's arithmetic (bench/stats.c): nearest-rank percentiles, the
 * spread over repetitions, ratios paired by repetition, the interleaving order of modes, and
 * the per-second buckets of a load run. No test reads a clock.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "bench/stats.h"

START_TEST(test_percentile_nearest_rank)
{
    bench_samples s = {0};
    /* 1..100 added in reverse: percentiles sort in place */
    for (int i = 100; i >= 1; i--)
        ck_assert_int_eq(bench_samples_add(&s, i), 0);
    ck_assert_int_eq(bench_percentile(&s, 50), 50);
    ck_assert_int_eq(bench_percentile(&s, 99), 99);
    ck_assert_int_eq(bench_percentile(&s, 99.9), 100);
    ck_assert_int_eq(bench_percentile(&s, 0), 1);
    ck_assert_int_eq(bench_percentile(&s, 100), 100);
    ck_assert_int_eq(bench_percentile(&s, 1), 1);
    ck_assert_int_eq(bench_percentile(&s, 1.5), 2);
    bench_samples_free(&s);
    ck_assert_int_eq(bench_percentile(&s, 50), 0); /* empty */
}
END_TEST

START_TEST(test_percentile_edges)
{
    int64_t one[] = {7}, thousand[1000];
    for (int i = 0; i < 1000; i++)
        thousand[i] = i + 1;
    ck_assert_int_eq(bench_percentile_sorted(one, 1, 50), 7);
    ck_assert_int_eq(bench_percentile_sorted(one, 1, 99.9), 7);
    /* 99.9% of 1000 is rank 999 exactly, not 1000 (floating point must not round up) */
    ck_assert_int_eq(bench_percentile_sorted(thousand, 1000, 99.9), 999);
    ck_assert_int_eq(bench_percentile_sorted(thousand, 1000, 99), 990);
    ck_assert_int_eq(bench_percentile_sorted(thousand, 1000, 50), 500);
}
END_TEST

START_TEST(test_samples_append_and_reset)
{
    bench_samples a = {0}, b = {0};
    for (int i = 0; i < 3000; i++) /* past the first growth */
        bench_samples_add(&a, i);
    bench_samples_add(&b, -5);
    ck_assert_int_eq(bench_samples_append(&b, &a), 0);
    ck_assert_uint_eq(b.n, 3001);
    ck_assert_int_eq(bench_percentile(&b, 0), -5);
    ck_assert_int_eq(bench_percentile(&b, 100), 2999);
    bench_samples_add(&b, 10000); /* an add after sorting: sorted again */
    ck_assert_int_eq(bench_percentile(&b, 100), 10000);
    bench_samples_reset(&b);
    ck_assert_uint_eq(b.n, 0);
    bench_samples_free(&a);
    bench_samples_free(&b);
}
END_TEST

START_TEST(test_spread)
{
    double v[] = {4, 1, 3, 2};
    bench_spread s;
    bench_spread_of(v, 4, &s);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_double_eq(s.min, 1);
    ck_assert_double_eq(s.max, 4);
    ck_assert_double_eq(s.median, 2.5);
    ck_assert_double_eq(s.mean, 2.5);
    ck_assert_double_eq_tol(s.stddev, sqrt(5.0 / 3.0), 1e-12);
    bench_spread_of(v, 3, &s); /* 4, 1, 3: odd count */
    ck_assert_double_eq(s.median, 3);
    bench_spread_of(v, 1, &s);
    ck_assert_double_eq(s.stddev, 0);
    bench_spread_of(v, 0, &s);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_ratio_paired_by_repetition)
{
    /* a slow moment in repetition 1 halves both modes: paired ratios stay 0.9, while the ratio
     * of the medians would not */
    double plain[] = {100, 50, 100, 100};
    double sealed[] = {90, 45, 90, 90};
    double ratios[4];
    bench_spread s;
    size_t n = bench_ratio_pair(sealed, plain, 4, ratios, &s);
    ck_assert_uint_eq(n, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(ratios[i], 0.9, 1e-12);
    ck_assert_double_eq_tol(s.min, 0.9, 1e-12);
    ck_assert_double_eq_tol(s.max, 0.9, 1e-12);
}
END_TEST

START_TEST(test_ratio_skips_missing_reference)
{
    double den[] = {0, 200, 100};
    double num[] = {10, 100, 100};
    bench_spread s;
    ck_assert_uint_eq(bench_ratio_pair(num, den, 3, NULL, &s), 2);
    ck_assert_double_eq_tol(s.min, 0.5, 1e-12);
    ck_assert_double_eq_tol(s.max, 1.0, 1e-12);
    ck_assert_double_eq_tol(s.median, 0.75, 1e-12);
    ck_assert_uint_eq(bench_ratio_pair(num, den, 1, NULL, &s), 0);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_interleave_order_rotates)
{
    int order[4], first[4] = {0}, last[4] = {0};
    for (int r = 0; r < 8; r++) {
        int seen[4] = {0};
        bench_interleave_order(4, r, order);
        for (int i = 0; i < 4; i++)
            seen[order[i]]++;
        for (int m = 0; m < 4; m++)
            ck_assert_int_eq(seen[m], 1); /* a permutation */
        first[order[0]]++;
        last[order[3]]++;
    }
    for (int m = 0; m < 4; m++) { /* each mode first and last equally often */
        ck_assert_int_eq(first[m], 2);
        ck_assert_int_eq(last[m], 2);
    }
    bench_interleave_order(4, 0, order);
    ck_assert_int_eq(order[0], 0);
    bench_interleave_order(4, 1, order);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[3], 0);
}
END_TEST

START_TEST(test_bucketize)
{
#define PT(t, l, o, c) {.t_ms = (t), .lat_ns = (l), .ok = (o), .cause = (c)}
    bench_point p[] = {
        PT(0, 1000, 1, 0),    PT(999, 3000, 1, 0), PT(500, 2000, 1, 0),
        PT(1000, 9000, 0, 1),                                         /* failed: no latency */
        PT(1500, 5000, 1, 0), PT(2999, 7, 1, 0),   PT(5000, 8, 1, 0), /* past the span: last */
    };
#undef PT
    bench_bucket *b;
    size_t nb;
    ck_assert_int_eq(bench_bucketize(p, 7, 1000, 3000, &b, &nb), 0);
    ck_assert_uint_eq(nb, 3);
    ck_assert_uint_eq(b[0].done, 3);
    ck_assert_int_eq(b[0].p50_ns, 2000);
    ck_assert_int_eq(b[0].p99_ns, 3000);
    ck_assert_int_eq(b[0].max_ns, 3000);
    ck_assert_uint_eq(b[1].done, 2);
    ck_assert_uint_eq(b[1].failed, 1);
    ck_assert_int_eq(b[1].p50_ns, 5000);
    ck_assert_int_eq(b[2].start_ms, 2000);
    ck_assert_uint_eq(b[2].done, 2);
    ck_assert_int_eq(b[2].max_ns, 8);
    free(b);
    ck_assert_int_eq(bench_bucketize(p, 0, 1000, 0, &b, &nb), 0); /* nothing: one empty bucket */
    ck_assert_uint_eq(nb, 1);
    ck_assert_uint_eq(b[0].done, 0);
    free(b);
    ck_assert_int_lt(bench_bucketize(p, 1, 0, 100, &b, &nb), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench_stats");
    TCase *tc = tcase_create("stats");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_percentile_nearest_rank);
    tcase_add_test(tc, test_percentile_edges);
    tcase_add_test(tc, test_samples_append_and_reset);
    tcase_add_test(tc, test_spread);
    tcase_add_test(tc, test_ratio_paired_by_repetition);
    tcase_add_test(tc, test_ratio_skips_missing_reference);
    tcase_add_test(tc, test_interleave_order_rotates);
    tcase_add_test(tc, test_bucketize);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
