/*
 * bench_parse_test.c - what cmk-bench reads: option tables, sizes and counts (bench/args.c),
 * the machine-readable output of `openssl speed` (bench/sealbench.c), and /proc/<pid>/stat,
 * /proc/<pid>/status and /proc/cpuinfo text (bench/sysinfo.c). All on canned text.
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "bench/args.h"
#include "bench/sealbench.h"
#include "bench/sysinfo.h"

START_TEST(test_sizes)
{
    size_t v, list[8], n;
    cmk_err err = CMK_ERR_INIT;
    const char *good[] = {"256", "1k", "1K", "1KiB", "4kb", "64K", "1m", "300b"};
    size_t want[] = {256, 1024, 1024, 1024, 4096, 65536, 1048576, 300};
    const char *bad[] = {"", "0", "k", "-1", "1x", "1kix", "2g", "99999999999", "1.5k", "1 k"};

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(bench_parse_size(good[i], &v, &err) == 0, "%s: %s", good[i], err.msg);
        ck_assert_uint_eq(v, want[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(bench_parse_size(bad[i], &v, &err) == CMK_EINVAL, "'%s' accepted", bad[i]);
    ck_assert_int_eq(bench_parse_sizes("256,1024, 4k,64KiB", list, 8, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(list[3], 65536);
    ck_assert_int_eq(bench_parse_sizes("1,2,3", list, 2, &n, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_parse_sizes(",", list, 8, &n, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_parse_sizes("1k,zz", list, 8, &n, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "zz"));
}
END_TEST

START_TEST(test_counts_and_ints)
{
    uint64_t c;
    long l;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(bench_parse_count("20000", &c, &err), 0);
    ck_assert_uint_eq(c, 20000);
    ck_assert_int_eq(bench_parse_count("20k", &c, &err), 0);
    ck_assert_uint_eq(c, 20000);
    ck_assert_int_eq(bench_parse_count("2M", &c, &err), 0);
    ck_assert_uint_eq(c, 2000000);
    ck_assert_int_eq(bench_parse_count("0", &c, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_parse_count("5q", &c, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_parse_int("64", "--writers", 1, 100, &l, &err), 0);
    ck_assert_int_eq(l, 64);
    ck_assert_int_eq(bench_parse_int("101", "--writers", 1, 100, &l, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "--writers"));
}
END_TEST

START_TEST(test_option_table)
{
    const char *sizes = NULL, *json = NULL;
    int flag = 0, help = 0;
    bench_optdef defs[] = {{"--sizes", &sizes, NULL}, {"--json", &json, NULL},
                           {"--no-durable", NULL, &flag}, {"--help", NULL, &help},
                           {NULL, NULL, NULL}};
    char *ok[] = {"--sizes", "1k,4k", "--no-durable", "--json=out.json"};
    char *unknown[] = {"--size", "1k"}, *missing[] = {"--json"}, *stray[] = {"write"};
    char *flagval[] = {"--no-durable=1"};
    cmk_err err = CMK_ERR_INIT;

    ck_assert_int_eq(bench_args_parse(4, ok, defs, "cmk-bench write", &err), 0);
    ck_assert_str_eq(sizes, "1k,4k");
    ck_assert_str_eq(json, "out.json");
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(help, 0);
    ck_assert_int_eq(bench_args_parse(2, unknown, defs, "cmk-bench write", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "cmk-bench write --help"));
    ck_assert_int_eq(bench_args_parse(1, missing, defs, "cmk-bench write", &err), CMK_EINVAL);
    ck_assert_int_eq(bench_args_parse(1, stray, defs, "cmk-bench write", &err), CMK_EINVAL);
    ck_assert_int_eq(bench_args_parse(1, flagval, defs, "cmk-bench write", &err), CMK_EINVAL);
}
END_TEST

START_TEST(test_openssl_speed_parse)
{
    const char *one = "+DT:AES-256-GCM:1:1024\n+R:472833:AES-256-GCM:0.430000\n+H:1024\n"
                      "+F:25:AES-256-GCM:1126002306.98\nCPUINFO: OPENSSL_ia32cap=0x0\n";
    const char *many = "+H:16:64:256:1024:8192:16384\n"
                       "+F:25:AES-256-GCM:1000.5:2000:3000:4000:5000:6000\n";
    bench_ossl_point p[8];
    size_t n;
    cmk_err err = CMK_ERR_INIT;

    ck_assert_int_eq(bench_openssl_speed_parse(one, p, 8, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(p[0].size, 1024);
    ck_assert_double_eq_tol(p[0].bytes_s, 1126002306.98, 0.01);
    ck_assert_int_eq(bench_openssl_speed_parse(many, p, 8, &n, &err), 0);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(p[5].size, 16384);
    ck_assert_double_eq(p[0].bytes_s, 1000.5);
    ck_assert_int_eq(bench_openssl_speed_parse(many, p, 3, &n, &err), 0); /* capped */
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(bench_openssl_speed_parse("type 1024 bytes\naes 1205358.59k\n", p, 8, &n, &err),
                     CMK_EINVAL); /* the human table: -mr was not used */
}
END_TEST

START_TEST(test_proc_stat_and_status)
{
    /* a command name with a space and a parenthesis: fields count from the last ')' */
    const char *stat = "4242 (cmk worker) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 "
                       "731 52 0 0 20 0 3 0 12345 100000 3500 18446744073709551615\n";
    const char *status = "Name:\tcmk-worker\nState:\tS (sleeping)\nVmHWM:\t   20480 kB\n"
                         "VmRSS:\t   14336 kB\nThreads:\t3\n";
    bench_proc p;
    cmk_err err = CMK_ERR_INIT;

    memset(&p, 0, sizeof p);
    ck_assert_int_eq(bench_proc_parse_stat(stat, &p, &err), 0);
    ck_assert_str_eq(p.comm, "cmk worker) x");
    ck_assert_int_eq(p.state, 'S');
    ck_assert_int_eq(p.utime, 731);
    ck_assert_int_eq(p.stime, 52);
    ck_assert_int_eq(bench_proc_parse_status(status, &p, &err), 0);
    ck_assert_int_eq(p.rss_kb, 14336);
    ck_assert_int_eq(p.hwm_kb, 20480);
    ck_assert_int_eq(p.threads, 3);
    ck_assert_int_eq(bench_proc_parse_stat("4242 no parens S 1 2", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_proc_parse_stat("1 (x) S 1 2", &p, &err), CMK_EINVAL);
    ck_assert_int_eq(bench_proc_parse_status("Name:\tx\n", &p, &err), CMK_EINVAL);
    /* smaps_rollup: PSS and private pages (what a process costs beyond shared libraries) */
    bench_proc_parse_rollup("559168d03000-7ffce7ac9000 ---p 00000000 00:00 0  [rollup]\n"
                            "Rss:               10460 kB\nPss:                3151 kB\n"
                            "Pss_Dirty:          1320 kB\nShared_Clean:       8920 kB\n"
                            "Private_Clean:       220 kB\nPrivate_Dirty:      1320 kB\n",
                            &p);
    ck_assert_int_eq(p.pss_kb, 3151);
    ck_assert_int_eq(p.private_kb, 1540);
    bench_proc_parse_rollup("nothing here\n", &p);
    ck_assert_int_eq(p.pss_kb, -1);
    ck_assert_int_eq(p.private_kb, -1);
}
END_TEST

START_TEST(test_proc_read_self)
{
    bench_proc p;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(bench_proc_read(getpid(), &p, &err) == 0, "%s", err.msg);
    ck_assert_int_gt(p.rss_kb, 0);
    ck_assert_int_ge(p.threads, 1);
    ck_assert_int_gt(bench_clk_tck(), 0);
}
END_TEST

START_TEST(test_cpuinfo_model)
{
    char m[64];
    bench_cpuinfo_model("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13  \n"
                        "model name\t: second\n",
                        m, sizeof m);
    ck_assert_str_eq(m, "AMD EPYC 7B13");
    bench_cpuinfo_model("processor\t: 0\n", m, sizeof m);
    ck_assert_str_eq(m, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench_parse");
    TCase *tc = tcase_create("parse");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_counts_and_ints);
    tcase_add_test(tc, test_option_table);
    tcase_add_test(tc, test_openssl_speed_parse);
    tcase_add_test(tc, test_proc_stat_and_status);
    tcase_add_test(tc, test_proc_read_self);
    tcase_add_test(tc, test_cpuinfo_model);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
