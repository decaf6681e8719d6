/*
 * plot_test.c - timeline pictures: the gnuplot script has the bands, labelled event lines (red
 * for failures), every series with its points and axis, escaped titles; with gnuplot installed
 * a PNG is drawn (otherwise the error says how to install it). Also the Prometheus text helpers
 * the drill reads the gateway's counters with (cmk_metrics_sum_by).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_http.h"
#include "plot.h"
#include "util.h"

START_TEST(test_script_has_the_story)
{
    cmk_plot *p = cmk_plot_new("cmk-bench load: \"events\"", "seconds", "runs/s", "ms");
    ck_assert_ptr_nonnull(p);
    cmk_plot_subtitle(p, "2 CPUs\nsecond line");
    ck_assert_int_eq(cmk_plot_band(p, 0, 5, "warm-up"), 0);
    ck_assert_int_eq(cmk_plot_band(p, 5, 12, "events"), 0);
    ck_assert_int_eq(cmk_plot_event(p, 4.5, "disable-key", 0), 0);
    ck_assert_int_eq(cmk_plot_event(p, 7, "kill-worker - failed", 1), 0);
    int runs = cmk_plot_series(p, "runs/s", CMK_PLOT_Y1, CMK_PLOT_LINE);
    int fails = cmk_plot_series(p, "failures/s: EUNAVAIL", CMK_PLOT_Y1, CMK_PLOT_LINE);
    int lat = cmk_plot_series(p, "p99 ms", CMK_PLOT_Y2, CMK_PLOT_THIN);
    int empty = cmk_plot_series(p, "never drawn", CMK_PLOT_Y1, CMK_PLOT_LINE);
    ck_assert_int_ge(empty, 0);
    cmk_plot_series_color(p, lat, "#7f7f7f");
    for (int t = 0; t < 12; t++) {
        cmk_plot_point(p, runs, t + 0.5, t >= 5 && t < 7 ? 100 : 3000);
        cmk_plot_point(p, fails, t + 0.5, t >= 5 && t < 7 ? 2900 : 0);
        cmk_plot_point(p, lat, t + 0.5, 4);
    }
    ck_assert_int_eq(cmk_plot_point(p, 99, 1, 1), CMK_EINVAL);

    char *s = cmk_plot_script(p, "/tmp/x.png");
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(strstr(s, "set output '/tmp/x.png'"));
    ck_assert_ptr_nonnull(strstr(s, "set title \"cmk-bench load: \\\"events\\\"\\n2 CPUs\\nsecond line\""));
    ck_assert_ptr_nonnull(strstr(s, "set object 1 rect from 0, graph 0 to 5, graph 1"));
    ck_assert_ptr_nonnull(strstr(s, "set object 2 rect from 5, graph 0 to 12, graph 1"));
    ck_assert_ptr_nonnull(strstr(s, "\"warm-up\" at 2.5, graph 1.0"));
    ck_assert_ptr_nonnull(strstr(s, "set arrow 1 from 4.5, graph 0 to 4.5, graph 1 nohead front lc rgb '#2b2b2b'"));
    ck_assert_ptr_nonnull(strstr(s, "set arrow 2 from 7, graph 0 to 7, graph 1 nohead front lc rgb '#c00000'"));
    ck_assert_ptr_nonnull(strstr(s, "\"kill-worker - failed\" at 7, graph"));
    ck_assert_ptr_nonnull(strstr(s, "$S1 << EOD\n0.5 0\n"));
    ck_assert_ptr_nonnull(strstr(s, "5.5 2900\n"));
    ck_assert_ptr_nonnull(strstr(s, "$S2 using 1:2 axes x1y2 with lines lw 1 dt 3 lc rgb '#7f7f7f' title \"p99 ms\""));
    ck_assert_ptr_null(strstr(s, "never drawn")); /* a series without points is left out */
    ck_assert_ptr_nonnull(strstr(s, "set y2label \"ms\""));
    free(s);

    char dir[] = "/tmp/cmk-plot-test-XXXXXX", png[128];
    cmk_err err = CMK_ERR_INIT;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(png, sizeof png, "%s/t.png", dir);
    int rc = cmk_plot_png(p, png, &err);
    if (rc == CMK_ENOENT) {
        ck_assert_ptr_nonnull(strstr(err.msg, "apt-get install gnuplot"));
    } else {
        char *data = NULL;
        size_t len = 0;
        ck_assert_msg(rc == 0, "%s", err.msg);
        ck_assert_int_eq(cmk_file_read(png, &data, &len, &err), 0);
        ck_assert_uint_gt(len, 1000);
        ck_assert_int_eq(memcmp(data, "\x89PNG", 4), 0);
        free(data);
        unlink(png);
    }
    rmdir(dir);
    ck_assert_int_eq(cmk_plot_png(p, "/tmp/it's.png", &err) < 0, 1);
    cmk_plot_destroy(&p);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_sum_by_label)
{
    const char *text =
        "# TYPE cmk_gateway_egress_verdicts_total counter\n"
        "cmk_gateway_egress_verdicts_total{source_tag=\"LogicApps.WestUS\",verdict=\"allow\"} 3\n"
        "cmk_gateway_egress_verdicts_total{source_tag=\"PowerPlatformPlex.WestUS\",verdict=\"refused\"} 2\n"
        "cmk_gateway_egress_verdicts_total{source_tag=\"PowerPlatformPlex.WestUS\",verdict=\"allow\"} 4\n"
        "cmk_gateway_egress_verdicts_total_other{verdict=\"allow\"} 100\n"
        "cmk_x{verdict=\"allow\"} 100\n";
    cJSON *by = cmk_metrics_sum_by(text, "cmk_gateway_egress_verdicts_total", "verdict");
    ck_assert_int_eq(cJSON_GetArraySize(by), 2);
    ck_assert_int_eq((int)cmk_json_num(by, "allow", 0), 7);
    ck_assert_int_eq((int)cmk_json_num(by, "refused", 0), 2);
    cJSON_Delete(by);
    by = cmk_metrics_sum_by(text, "cmk_gateway_egress_verdicts_total", "source_tag");
    ck_assert_int_eq((int)cmk_json_num(by, "PowerPlatformPlex.WestUS", 0), 6);
    cJSON_Delete(by);
    /* "tag" must not match inside "source_tag" */
    by = cmk_metrics_sum_by(text, "cmk_gateway_egress_verdicts_total", "tag");
    ck_assert_int_eq(cJSON_GetArraySize(by), 0);
    cJSON_Delete(by);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_script_has_the_story);
    tcase_add_test(tc, test_sum_by_label);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
