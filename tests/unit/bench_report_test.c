/*
 * bench_report_test.c - what cmk-bench concludes and prints: a cell's spread and latency
 * percentiles, ratios of two cells paired by repetition, the write targets judged
 * from a results document (bench/write_json.c), the Markdown of write and load documents and
 * the command line quoted for the report (bench/report*.c). No benchmark runs here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"
#include "bench/write_int.h"

/* cell - a cell with the given rows/s per repetition and latencies 1..n µs */
static void cell(bw_cell *c, const double *rows_s, int reps, int nlat)
{
    memset(c, 0, sizeof *c);
    c->rows_s = calloc((size_t)reps, sizeof *c->rows_s);
    c->mb_s = calloc((size_t)reps, sizeof *c->mb_s);
    for (int i = 0; i < reps; i++)
        c->rows_s[i] = rows_s[i];
    c->reps = reps;
    c->rows = 1000;
    for (int i = 1; i <= nlat; i++)
        bench_samples_add(&c->lat, (int64_t)i * 1000);
}

/* cell_free - release a test cell */
static void cell_free(bw_cell *c)
{
    free(c->rows_s);
    free(c->mb_s);
    bench_samples_free(&c->lat);
}

START_TEST(test_cell_and_paired_ratio)
{
    double plain[] = {1000, 500, 1000}, sealed[] = {900, 450, 880};
    bw_cell p, s;
    cJSON *j, *r;

    cell(&p, plain, 3, 1000);
    cell(&s, sealed, 3, 10);
    j = bw_cell_json(&p);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rows_s"), "median")->valuedouble, 1000);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rows_s"), "min")->valuedouble, 500);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "latency_us"), "p50")->valuedouble, 500);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "latency_us"), "p99")->valuedouble, 990);
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "latency_us"), "p999")->valuedouble, 999);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "per_rep_rows_s")), 3);
    cJSON_Delete(j);
    r = bw_ratio_json(&s, &p); /* 0.9, 0.9, 0.88: the slow repetition 1 does not show */
    ck_assert_double_eq_tol(cJSON_GetObjectItem(r, "median")->valuedouble, 0.9, 1e-12);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(r, "min")->valuedouble, 0.88, 1e-12);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(r, "max")->valuedouble, 0.9, 1e-12);
    cJSON_Delete(r);
    s.reps = 0;
    r = bw_ratio_json(&s, &p);
    ck_assert(cJSON_IsNull(r));
    cJSON_Delete(r);
    cell_free(&p);
    cell_free(&s);
}
END_TEST

/* row - a batched or durable row of a synthetic document */
static cJSON *row(const char *key, double size, const char *config, const char *mode,
                  const char *field, double median)
{
    cJSON *o = cJSON_CreateObject(), *r = cJSON_CreateObject();
    if (config)
        cJSON_AddStringToObject(o, key, config);
    else
        cJSON_AddNumberToObject(o, key, size);
    cJSON_AddStringToObject(o, "mode", mode);
    cJSON_AddNumberToObject(r, "median", median);
    cJSON_AddNumberToObject(r, "min", median - 0.01);
    cJSON_AddNumberToObject(r, "max", median + 0.01);
    cJSON_AddItemToObject(o, field, r);
    return o;
}

/* target_of - the target with id */
static const cJSON *target_of(const cJSON *targets, const char *id)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, targets)
    if (strcmp(cJSON_GetObjectItem(t, "id")->valuestring, id) == 0)
        return t;
    return NULL;
}

START_TEST(test_write_targets)
{
    cJSON *res = cJSON_CreateObject(), *b = cJSON_AddArrayToObject(res, "batched");
    cJSON *d = cJSON_AddArrayToObject(res, "durable"), *sq = cJSON_AddObjectToObject(res, "sqlcipher");
    cJSON *t;
    const cJSON *x;

    cJSON_AddItemToArray(b, row("size", 1024, NULL, "mmk", "ratio_to_plain", 0.93));
    cJSON_AddItemToArray(b, row("size", 1024, NULL, "cmk", "ratio_to_plain", 0.91));
    cJSON_AddItemToArray(b, row("size", 256, NULL, "mmk", "ratio_to_plain", 0.85));
    cJSON_AddItemToArray(b, row("size", 256, NULL, "cmk", "ratio_to_plain", 0.75));
    cJSON_AddItemToArray(d, row("config", 0, "group-full", "cmk", "ratio_to_fsync_per_write", 12));
    cJSON_AddBoolToObject(sq, "available", 0);
    cJSON_AddStringToObject(sq, "message", "SQLCipher not installed (apt-get install libsqlcipher-dev) — skipped");
    t = bw_targets_json(res, 64);
    x = target_of(t, "batched-1k");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(x, "met"))); /* 0.91 < 0.95 */
    ck_assert_double_eq(cJSON_GetObjectItem(x, "target")->valuedouble, 0.95);
    ck_assert_double_eq(cJSON_GetObjectItem(x, "measured")->valuedouble, 0.91); /* the worse mode */
    x = target_of(t, "batched-256");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(x, "met")));
    ck_assert_double_eq_tol(cJSON_GetObjectItem(x, "of_target")->valuedouble, 0.75 / 0.85, 1e-12);
    ck_assert_double_eq(cJSON_GetObjectItem(x, "target")->valuedouble, 0.85);
    x = target_of(t, "batched-4k");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(x, "met")));
    ck_assert_double_eq(cJSON_GetObjectItem(x, "target")->valuedouble, 0.97);
    ck_assert_double_eq(cJSON_GetObjectItem(target_of(t, "batched-64k"), "target")->valuedouble, 0.95);
    ck_assert_ptr_null(target_of(t, "vs-sqlcipher-1k")); /* SQLCipher: a comparison, no target */
    x = target_of(t, "durable-64");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(x, "met")));
    cJSON_Delete(t);
    t = bw_targets_json(res, 16); /* measured with 16 writers: the 64-writer target is not */
    x = target_of(t, "durable-64");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(x, "met")));
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(x, "note")->valuestring, "16 writers"));
    cJSON_AddItemToObject(res, "targets", t);
    cJSON_AddStringToObject(res, "kind", "write");
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bench_report_md(res, f);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(buf, "## cmk-bench write"));
        ck_assert_ptr_nonnull(strstr(buf, "| **no** |"));
        ck_assert_ptr_nonnull(strstr(buf, "SQLCipher not installed"));
        free(buf);
    }
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_sqlcipher_comparison_markdown)
{
    /* SQLCipher installed: both configurations are named with what the library reported, and
     * each sealed row is set against both, as a comparison without a target */
    const char *doc =
        "{\"kind\":\"write\",\"sqlcipher\":{\"available\":true,\"version\":\"libsqlcipher (SQLite 3.15.2)\","
        "\"configs\":[{\"mode\":\"sqlcipher-default\",\"what\":\"the library's defaults\",\"kdf_iter\":64000,"
        "\"cipher_page_size\":1024,\"cipher_version\":\"3.4.1\"},{\"mode\":\"sqlcipher-tuned\","
        "\"what\":\"raw key\",\"kdf_iter\":64000,\"cipher_page_size\":4096,\"cipher_version\":\"3.4.1\"}]},"
        "\"batched\":[{\"size\":1024,\"size_label\":\"1 KiB\",\"mode\":\"mmk\",\"label\":\"MMK\","
        "\"ratio_to_sqlcipher_default\":{\"median\":2.5,\"min\":2.4,\"max\":2.6},"
        "\"ratio_to_sqlcipher_tuned\":{\"median\":1.3,\"min\":1.25,\"max\":1.35}}]}";
    cJSON *res = cJSON_Parse(doc);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(res);
    bench_report_md(res, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "a reported comparison, no target"));
    ck_assert_ptr_nonnull(strstr(buf, "- `sqlcipher-default`: the library's defaults (kdf_iter 64,000, "
                                      "cipher_page_size 1,024, cipher_version 3.4.1)"));
    ck_assert_ptr_nonnull(strstr(buf, "cipher_page_size 4,096"));
    ck_assert_ptr_nonnull(strstr(buf, "| 1 KiB | mmk | 2.50 (2.40–2.60) | 1.30 (1.25–1.35) |"));
    free(buf);
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_load_markdown)
{
    const char *doc = "{\"kind\":\"load\",\"command\":\"cmk-bench load --run-dir /tmp/x\","
                      "\"phases\":[{\"name\":\"max\",\"clients\":64,\"rate\":0,\"runs_s\":3456.7,"
                      "\"acknowledged\":34567,\"failed\":2,\"latency_ms\":{\"p50\":1,\"p99\":2,\"p999\":3,\"max\":4}}],"
                      "\"failures\":{\"EUNAVAIL\":2},\"runs_lost\":0,"
                      "\"verify\":{\"acknowledged\":34567,\"checked\":34567,\"found\":34567,\"lost\":0,\"errors\":0},"
                      "\"processes\":[{\"name\":\"worker-shared\",\"role\":\"worker\",\"pid\":7,\"cpu_s\":1.5,"
                      "\"cpu_pct\":70,\"rss_kb\":2048,\"rss_peak_kb\":4096,\"threads\":3}],"
                      "\"timeline\":[{\"t_s\":0,\"phase\":\"max\",\"runs\":3400,\"failed\":0,\"p50_ms\":1,\"p99_ms\":2,\"max_ms\":3}],"
                      "\"targets\":[{\"id\":\"runs-lost\",\"what\":\"runs lost\",\"cmp\":\"=\",\"target\":0,"
                      "\"unit\":\"runs\",\"measured\":0,\"met\":true}]}";
    cJSON *res = cJSON_Parse(doc);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(res);
    bench_report_md(res, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "## cmk-bench load"));
    ck_assert_ptr_nonnull(strstr(buf, "| max | 64 | closed loop | 3,457 | 34,567 | 2 |"));
    ck_assert_ptr_nonnull(strstr(buf, "EUNAVAIL 2"));
    ck_assert_ptr_nonnull(strstr(buf, "**Runs lost: 0**"));
    ck_assert_ptr_nonnull(strstr(buf, "| worker-shared | worker | 7 |"));
    free(buf);
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_command_line_quoting)
{
    char *argv[] = {"--sizes", "256,1k", "--md", "my file.md", "--x", "it's"};
    char *s = bench_command_line(6, argv);
    ck_assert_str_eq(s, "--sizes 256,1k --md 'my file.md' --x 'it'\\''s'");
    free(s);
    s = bench_command_line(0, argv);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench_report");
    TCase *tc = tcase_create("report");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_cell_and_paired_ratio);
    tcase_add_test(tc, test_write_targets);
    tcase_add_test(tc, test_sqlcipher_comparison_markdown);
    tcase_add_test(tc, test_load_markdown);
    tcase_add_test(tc, test_command_line_quoting);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
