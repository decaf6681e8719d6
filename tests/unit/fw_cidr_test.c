/*
 * fw_cidr_test.c - addresses, prefixes and CIDR-set arithmetic (firewall/fw_cidr.h).
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fw_cidr.h"

/* fmt - a prefix as text in a static buffer */
static const char *fmt(const fw_prefix *p)
{
    static char buf[4][FW_PREFIX_STRLEN];
    static int at;
    at = (at + 1) % 4;
    return fw_prefix_format(p, buf[at], sizeof buf[at]);
}

/* pfx - parse or fail the test */
static fw_prefix pfx(const char *s)
{
    fw_prefix p;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(fw_prefix_parse(s, &p, NULL, &err) == 0, "%s: %s", s, err.msg);
    return p;
}

/* set_of - a set from NULL-terminated CIDR strings */
static fw_cidrset *set_of(const char *first, ...)
{
    fw_cidrset *s = fw_cidrset_new();
    const char *c = first;
    va_list ap;
    va_start(ap, first);
    while (c) {
        cmk_err err = CMK_ERR_INIT;
        ck_assert_msg(fw_cidrset_add_str(s, c, &err) == 0, "%s", err.msg);
        c = va_arg(ap, const char *);
    }
    va_end(ap);
    return s;
}

/* joined - the set's minimal prefixes as "a b c" */
static const char *joined(const fw_cidrset *s)
{
    static char buf[4096];
    fw_prefix *ps;
    size_t n;
    buf[0] = '\0';
    ck_assert_int_eq(fw_cidrset_prefixes(s, 0, &ps, &n), 0);
    for (size_t i = 0; i < n; i++) {
        strcat(buf, i ? " " : "");
        strcat(buf, fmt(&ps[i]));
    }
    free(ps);
    return buf;
}

START_TEST(parse_ipv4_and_ipv6)
{
    fw_prefix p;
    bool host = true;
    ck_assert_int_eq(fw_prefix_parse("10.0.0.0/8", &p, &host, NULL), 0);
    ck_assert_int_eq(p.family, FW_V4);
    ck_assert_int_eq(p.len, 8);
    ck_assert(!host);
    ck_assert_str_eq(fmt(&p), "10.0.0.0/8");
    ck_assert_int_eq(fw_prefix_parse("2603:1000::/40", &p, &host, NULL), 0);
    ck_assert_int_eq(p.family, FW_V6);
    ck_assert_int_eq(p.len, 40);
    ck_assert_str_eq(fmt(&p), "2603:1000::/40");
    /* bare addresses are host prefixes */
    ck_assert_str_eq(fmt(&(fw_prefix){ 0 }), "0.0.0.0/0");
    p = pfx("127.40.1.7");
    ck_assert_str_eq(fmt(&p), "127.40.1.7/32");
    p = pfx("2603:1061:2004:7100::1");
    ck_assert_str_eq(fmt(&p), "2603:1061:2004:7100::1/128");
    p = pfx("0.0.0.0/0");
    ck_assert_int_eq(p.len, 0);
    p = pfx("::/0");
    ck_assert_int_eq(p.family, FW_V6);
    ck_assert_int_eq(p.len, 0);
}
END_TEST

START_TEST(host_bits_are_normalised_and_reported)
{
    fw_prefix p;
    bool host = false;
    ck_assert_int_eq(fw_prefix_parse("10.1.2.3/8", &p, &host, NULL), 0);
    ck_assert(host);
    ck_assert_str_eq(fmt(&p), "10.0.0.0/8");
    ck_assert_int_eq(fw_prefix_parse("2603:1061:2004:7100::ff/56", &p, &host, NULL), 0);
    ck_assert(host);
    ck_assert_str_eq(fmt(&p), "2603:1061:2004:7100::/56");
    ck_assert_int_eq(fw_prefix_parse("10.1.2.3/32", &p, &host, NULL), 0);
    ck_assert(!host);
}
END_TEST

START_TEST(bad_prefixes_are_refused_with_a_reason)
{
    static const char *const bad[] = { "", "10.0.0.300/8", "10.0.0.0/33", "10.0.0.0/-1",
                                       "10.0.0.0/08", "10.0.0/24", "::/129", "abc", "10.0.0.0/",
                                       "/8", "10.0.0.0/8x", " 10.0.0.0/8", "1.2.3.4/8/9",
                                       "2603:::1/64", NULL };
    for (size_t i = 0; bad[i]; i++) {
        fw_prefix p;
        cmk_err err = CMK_ERR_INIT;
        ck_assert_msg(fw_prefix_parse(bad[i], &p, NULL, &err) == CMK_EINVAL, "accepted %s", bad[i]);
        ck_assert_int_eq(err.code, CMK_EINVAL);
        ck_assert_msg(strstr(err.msg, "CIDR") || strstr(err.msg, "prefix length"), "%s", err.msg);
    }
}
END_TEST

START_TEST(addresses_and_containment)
{
    fw_addr a;
    char buf[FW_ADDR_STRLEN];
    fw_prefix p = pfx("127.40.1.0/24"), p6 = pfx("2603:1061:2004:7100::/56");
    ck_assert_int_eq(fw_addr_parse("127.40.1.255", &a, NULL), 0);
    ck_assert(fw_prefix_contains(&p, &a));
    ck_assert_int_eq(fw_addr_parse("127.40.2.0", &a, NULL), 0);
    ck_assert(!fw_prefix_contains(&p, &a));
    ck_assert(!fw_prefix_contains(&p6, &a)); /* other family */
    ck_assert_int_eq(fw_addr_parse("2603:1061:2004:71ff:ffff::1", &a, NULL), 0);
    ck_assert(fw_prefix_contains(&p6, &a));
    ck_assert_int_eq(fw_addr_parse("2603:1061:2004:7200::", &a, NULL), 0);
    ck_assert(!fw_prefix_contains(&p6, &a));
    /* a v4-mapped IPv6 address (dual-stack accept) is the IPv4 address */
    ck_assert_int_eq(fw_addr_parse("::ffff:127.40.1.9", &a, NULL), 0);
    ck_assert_int_eq(a.family, FW_V4);
    ck_assert_str_eq(fw_addr_format(&a, buf, sizeof buf), "127.40.1.9");
    ck_assert(fw_prefix_contains(&p, &a));
    ck_assert_int_eq(fw_addr_parse("10.0.0.0/8", &a, NULL), CMK_EINVAL);
    ck_assert(fw_prefix_contains_prefix(&p, &(fw_prefix){ p.bits + 128, FW_V4, 25 }));
    ck_assert(!fw_prefix_contains_prefix(&(fw_prefix){ p.bits + 128, FW_V4, 25 }, &p));
    ck_assert_uint_eq(fw_prefix_addresses(&p), 256);
}
END_TEST

START_TEST(adjacent_halves_merge_into_the_whole)
{
    fw_cidrset *halves = set_of("127.40.1.128/25", "127.40.1.0/25", NULL);
    fw_cidrset *whole = set_of("127.40.1.0/24", NULL);
    ck_assert(fw_cidrset_equal(halves, whole));
    ck_assert_str_eq(joined(halves), "127.40.1.0/24");
    ck_assert(fw_cidrset_covers(halves, &(fw_prefix){ pfx("127.40.1.0/24").bits, FW_V4, 24 }));
    fw_cidrset_destroy(&halves);
    fw_cidrset_destroy(&whole);
    ck_assert_ptr_null(halves);
}
END_TEST

START_TEST(covers_needs_every_address)
{
    fw_cidrset *s = set_of("10.0.0.0/24", "10.0.2.0/24", NULL);
    fw_prefix p23 = pfx("10.0.0.0/23"), p22 = pfx("10.0.0.0/22"), p25 = pfx("10.0.2.128/25");
    ck_assert(!fw_cidrset_covers(s, &p23));
    ck_assert(fw_cidrset_intersects(s, &p23));
    ck_assert(!fw_cidrset_covers(s, &p22));
    ck_assert(fw_cidrset_covers(s, &p25));
    fw_prefix gap = pfx("10.0.1.0/24");
    ck_assert(!fw_cidrset_intersects(s, &gap));
    fw_prefix v6 = pfx("::/0");
    ck_assert(!fw_cidrset_intersects(s, &v6));
    fw_cidrset_destroy(&s);
}
END_TEST

START_TEST(difference_is_a_minimal_prefix_list)
{
    fw_cidrset *a = set_of("10.0.0.0/8", NULL), *b = set_of("10.1.0.0/16", NULL);
    fw_cidrset *d = fw_cidrset_difference(a, b);
    ck_assert_str_eq(joined(d), "10.0.0.0/16 10.2.0.0/15 10.4.0.0/14 10.8.0.0/13 10.16.0.0/12 "
                                "10.32.0.0/11 10.64.0.0/10 10.128.0.0/9");
    fw_cidrset *back = fw_cidrset_clone(d);
    ck_assert_int_eq(fw_cidrset_union(back, b), 0);
    ck_assert(fw_cidrset_equal(back, a));
    fw_cidrset *none = fw_cidrset_difference(b, a);
    ck_assert(fw_cidrset_is_empty(none, 0));
    fw_cidrset_destroy(&a);
    fw_cidrset_destroy(&b);
    fw_cidrset_destroy(&d);
    fw_cidrset_destroy(&back);
    fw_cidrset_destroy(&none);
}
END_TEST

START_TEST(ipv6_arithmetic_at_the_edges)
{
    fw_cidrset *all = fw_cidrset_new(), *one = set_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    ck_assert_int_eq(fw_cidrset_add_all(all, FW_V6), 0);
    ck_assert_str_eq(joined(all), "::/0");
    fw_cidrset *d = fw_cidrset_difference(all, one);
    ck_assert_int_eq(strlen(joined(d)) > 0, 1);
    ck_assert(!fw_cidrset_contains(d, &(fw_addr){ ~(fw_u128)0, FW_V6 }));
    ck_assert(fw_cidrset_contains(d, &(fw_addr){ ~(fw_u128)0 - 1, FW_V6 }));
    /* 128 prefixes: ::/1, 8000::/2, ..., ffff:...:fffe/128 */
    fw_prefix *ps;
    size_t n;
    ck_assert_int_eq(fw_cidrset_prefixes(d, FW_V6, &ps, &n), 0);
    ck_assert_uint_eq(n, 128);
    ck_assert_str_eq(fmt(&ps[0]), "::/1");
    ck_assert_str_eq(fmt(&ps[127]), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
    free(ps);
    ck_assert_int_eq(fw_cidrset_union(d, one), 0);
    ck_assert(fw_cidrset_equal(d, all));
    /* both families together */
    fw_cidrset *mix = set_of("2603:1061:2004:7100::/56", "127.40.1.0/24", "2603:1061:2004:7000::/56", NULL);
    ck_assert_str_eq(joined(mix), "127.40.1.0/24 2603:1061:2004:7000::/55"); /* sibling /56s */
    ck_assert(fw_cidrset_is_empty(mix, 0) == false);
    ck_assert_uint_eq(fw_cidrset_v4_addresses(mix), 256);
    fw_prefix p55 = pfx("2603:1061:2004:7000::/55");
    ck_assert(fw_cidrset_covers(mix, &p55));
    fw_cidrset_destroy(&all);
    fw_cidrset_destroy(&one);
    fw_cidrset_destroy(&d);
    fw_cidrset_destroy(&mix);
}
END_TEST

START_TEST(intersection_and_whole_ipv4_space)
{
    fw_cidrset *a = set_of("10.0.0.0/23", "192.168.0.0/16", NULL), *b = set_of("10.0.1.0/24", "192.168.255.0/25", "8.8.8.8", NULL);
    fw_cidrset *i = fw_cidrset_intersection(a, b);
    ck_assert_str_eq(joined(i), "10.0.1.0/24 192.168.255.0/25");
    fw_cidrset *all = fw_cidrset_new();
    ck_assert_int_eq(fw_cidrset_add_all(all, 0), 0);
    ck_assert_str_eq(joined(all), "0.0.0.0/0 ::/0");
    ck_assert_uint_eq(fw_cidrset_v4_addresses(all), 4294967296ull);
    fw_cidrset_destroy(&a);
    fw_cidrset_destroy(&b);
    fw_cidrset_destroy(&i);
    fw_cidrset_destroy(&all);
}
END_TEST

/* A random model check: random prefixes inside 10.0.0.0/24 against a 256-bit bitmap. */
START_TEST(random_sets_agree_with_a_bitmap)
{
    srand(4242); /* fixed seed: the same cases every run */
    for (int round = 0; round < 300; round++) {
        bool ma[256] = { false }, mb[256] = { false };
        fw_cidrset *a = fw_cidrset_new(), *b = fw_cidrset_new();
        for (int side = 0; side < 2; side++) {
            int count = rand() % 6;
            for (int k = 0; k < count; k++) {
                unsigned len = 24 + (unsigned)(rand() % 9);
                unsigned host = 32 - len, start = ((unsigned)rand() % 256) & ~((1u << host) - 1);
                fw_prefix p = { ((fw_u128)0x0a000000u) + start, FW_V4, (uint8_t)len };
                ck_assert_int_eq(fw_cidrset_add(side ? b : a, &p), 0);
                for (unsigned x = start; x < start + (1u << host); x++)
                    (side ? mb : ma)[x] = true;
            }
        }
        fw_cidrset *d = fw_cidrset_difference(a, b), *in = fw_cidrset_intersection(a, b);
        fw_cidrset *u = fw_cidrset_clone(a);
        ck_assert_int_eq(fw_cidrset_union(u, b), 0);
        for (unsigned x = 0; x < 256; x++) {
            fw_addr ad = { (fw_u128)0x0a000000u + x, FW_V4 };
            ck_assert_int_eq(fw_cidrset_contains(a, &ad), ma[x]);
            ck_assert_int_eq(fw_cidrset_contains(d, &ad), ma[x] && !mb[x]);
            ck_assert_int_eq(fw_cidrset_contains(in, &ad), ma[x] && mb[x]);
            ck_assert_int_eq(fw_cidrset_contains(u, &ad), ma[x] || mb[x]);
        }
        /* the prefix list rebuilds the same set, with no two prefixes mergeable */
        fw_prefix *ps;
        size_t n;
        ck_assert_int_eq(fw_cidrset_prefixes(d, 0, &ps, &n), 0);
        fw_cidrset *re = fw_cidrset_new();
        for (size_t k = 0; k < n; k++) {
            ck_assert_int_eq(fw_cidrset_add(re, &ps[k]), 0);
            if (k > 0 && ps[k].len == ps[k - 1].len) {
                fw_u128 size = (fw_u128)1 << (32 - ps[k].len);
                bool siblings = ps[k - 1].bits + size == ps[k].bits && (ps[k - 1].bits & (2 * size - 1)) == 0;
                ck_assert_msg(!siblings, "%s and %s should be one prefix", fmt(&ps[k - 1]), fmt(&ps[k]));
            }
        }
        ck_assert(fw_cidrset_equal(re, d));
        unsigned in_union = 0;
        for (unsigned x = 0; x < 256; x++)
            in_union += ma[x] || mb[x];
        ck_assert_uint_eq(fw_cidrset_v4_addresses(u), in_union);
        free(ps);
        fw_cidrset_destroy(&a);
        fw_cidrset_destroy(&b);
        fw_cidrset_destroy(&d);
        fw_cidrset_destroy(&in);
        fw_cidrset_destroy(&u);
        fw_cidrset_destroy(&re);
    }
}
END_TEST

/* fw_cidr_suite - every test of this module */
static Suite *fw_cidr_suite(void)
{
    Suite *s = suite_create("fw_cidr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_ipv4_and_ipv6);
    tcase_add_test(tc, host_bits_are_normalised_and_reported);
    tcase_add_test(tc, bad_prefixes_are_refused_with_a_reason);
    tcase_add_test(tc, addresses_and_containment);
    tcase_add_test(tc, adjacent_halves_merge_into_the_whole);
    tcase_add_test(tc, covers_needs_every_address);
    tcase_add_test(tc, difference_is_a_minimal_prefix_list);
    tcase_add_test(tc, ipv6_arithmetic_at_the_edges);
    tcase_add_test(tc, intersection_and_whole_ipv4_space);
    tcase_add_test(tc, random_sets_agree_with_a_bitmap);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_cidr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
