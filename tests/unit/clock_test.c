/*
 * clock_test.c - real and virtual clocks, timers fired in order, durations.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static int64_t fired_at[16];
static int fired_order[16];
static int nfired;

static void record(cmk_clock *c, int64_t now, void *arg)
{
    fired_at[nfired] = now;
    fired_order[nfired] = (int)(intptr_t)arg;
    nfired++;
}

START_TEST(test_virtual_advance_fires_in_order)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_clock *c = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    int64_t t0 = cmk_clock_now(c), h = 3600000, day = 24 * h;

    nfired = 0;
    /* added out of order on purpose */
    cmk_clock_timer_add(c, t0 + 7 * day, record, (void *)7);
    cmk_clock_timer_add(c, t0 + 1 * day, record, (void *)1);
    cmk_clock_timer_add(c, t0 + 72 * h, record, (void *)3);
    cmk_clock_timer_add(c, t0 + 30 * day, record, (void *)30);
    int64_t cancel = cmk_clock_timer_add(c, t0 + 2 * day, record, (void *)2);
    ck_assert_int_eq(cmk_clock_timer_cancel(c, cancel), 0);
    ck_assert_int_eq(cmk_clock_timer_cancel(c, cancel), CMK_ENOENT);
    ck_assert_uint_eq(cmk_clock_pending(c), 4);

    ck_assert_int_eq(cmk_clock_advance(c, 7 * day, &err), 0);
    ck_assert_int_eq(nfired, 3);
    ck_assert_int_eq(fired_order[0], 1);
    ck_assert_int_eq(fired_order[1], 3);
    ck_assert_int_eq(fired_order[2], 7);
    /* each timer saw the clock at its own due time */
    ck_assert_int_eq(fired_at[0], t0 + day);
    ck_assert_int_eq(fired_at[1], t0 + 72 * h);
    ck_assert_int_eq(fired_at[2], t0 + 7 * day);
    ck_assert_int_ge(cmk_clock_now(c), t0 + 7 * day);
    ck_assert_int_ge(cmk_clock_offset(c), 7 * day);
    ck_assert_uint_eq(cmk_clock_pending(c), 1);
    /* one second before the 30-day timer: not yet; then past it: fires */
    ck_assert_int_eq(cmk_clock_advance(c, t0 + 30 * day - cmk_clock_now(c) - 1000, &err), 0);
    ck_assert_int_eq(nfired, 3);
    ck_assert_int_eq(cmk_clock_advance(c, 2000, &err), 0);
    ck_assert_int_eq(nfired, 4);
    ck_assert_int_eq(fired_order[3], 30);
    cmk_clock_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_real_clock_refuses_advance)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_clock *c = cmk_clock_new(CMK_CLOCK_REAL, 12345);
    int64_t wall = cmk_wall_ms();
    ck_assert_int_eq(cmk_clock_advance(c, 1000, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "virtual"));
    ck_assert_int_eq(cmk_clock_offset(c), 0);
    ck_assert_int_le(cmk_clock_now(c) - wall, 1000);
    nfired = 0;
    cmk_clock_timer_add(c, cmk_clock_now(c) - 1, record, (void *)1);
    cmk_clock_timer_add(c, cmk_clock_now(c) + 3600000, record, (void *)2);
    ck_assert_int_eq(cmk_clock_fire_due(c), 1);
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_gt(cmk_clock_next_due_ms(c), 3000000);
    cmk_clock_destroy(&c);
}
END_TEST

START_TEST(test_virtual_resumes_offset_and_refuses_backwards)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_clock *c = cmk_clock_new(CMK_CLOCK_VIRTUAL, 86400000);
    ck_assert_int_ge(cmk_clock_now(c) - cmk_wall_ms(), 86400000 - 1000);
    ck_assert_int_eq(cmk_clock_advance(c, -1, &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_clock_next_due_ms(c), -1);
    cmk_clock_destroy(&c);
}
END_TEST

static void reentrant(cmk_clock *c, int64_t now, void *arg)
{
    /* a timer that schedules another inside the same advance window */
    record(c, now, arg);
    if ((intptr_t)arg == 1)
        cmk_clock_timer_add(c, now + 1000, record, (void *)2);
}

START_TEST(test_timer_added_while_firing)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_clock *c = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    int64_t t0 = cmk_clock_now(c);
    nfired = 0;
    cmk_clock_timer_add(c, t0 + 1000, reentrant, (void *)1);
    ck_assert_int_eq(cmk_clock_advance(c, 5000, &err), 0);
    ck_assert_int_eq(nfired, 2);
    ck_assert_int_eq(fired_at[1], t0 + 2000);
    cmk_clock_destroy(&c);
}
END_TEST

/* take_owned - an owned timer's callback takes its arg over */
static void take_owned(cmk_clock *c, int64_t now, void *arg)
{
    nfired += *(int *)arg;
    free(arg);
}

/* an owned arg goes to the callback when the timer fires and is freed when it never does
 * (cancelled, or pending when the clock is destroyed): `make asan` reports a leak otherwise */
START_TEST(test_owned_timer_args)
{
    cmk_clock *c = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    int64_t t0 = cmk_clock_now(c), id;
    int *a = malloc(sizeof *a), *b = malloc(sizeof *b), *d = malloc(sizeof *d);
    *a = 1, *b = 10, *d = 100;
    nfired = 0;
    ck_assert_int_gt(cmk_clock_timer_add_owned(c, t0 + 1000, take_owned, a), 0);
    id = cmk_clock_timer_add_owned(c, t0 + 2000, take_owned, b);
    ck_assert_int_eq(cmk_clock_timer_cancel(c, id), 0);
    ck_assert_int_gt(cmk_clock_timer_add_owned(c, t0 + 86400000, take_owned, d), 0);
    ck_assert_int_eq(cmk_clock_advance(c, 5000, NULL), 0);
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq((int)cmk_clock_pending(c), 1);
    cmk_clock_destroy(&c);
}
END_TEST

START_TEST(test_durations)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t ms;
    char buf[64];
    struct { const char *s; int64_t ms; } ok[] = {
        { "500ms", 500 }, { "30s", 30000 }, { "5m", 300000 }, { "72h", 259200000 },
        { "7d", 604800000 }, { "1h30m", 5400000 }, { "1d12h", 129600000 }, { "2w", 1209600000 },
        { "0s", 0 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(cmk_duration_parse(ok[i].s, &ms, &err) == 0, "%s: %s", ok[i].s, err.msg);
        ck_assert_int_eq(ms, ok[i].ms);
    }
    const char *bad[] = { "", "h", "5", "5x", "-5s", "5 s", "99999999999999999999d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(cmk_duration_parse(bad[i], &ms, &err) == CMK_EINVAL, "'%s' accepted", bad[i]);
    ck_assert_str_eq(cmk_duration_format(129600000, buf, sizeof buf), "1d12h");
    ck_assert_str_eq(cmk_duration_format(0, buf, sizeof buf), "0s");
    ck_assert_str_eq(cmk_duration_format(500, buf, sizeof buf), "500ms");
    ck_assert_str_eq(cmk_duration_format(90061001, buf, sizeof buf), "1d1h1m1s1ms");
    ck_assert_str_eq(cmk_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_virtual_advance_fires_in_order);
    tcase_add_test(tc, test_real_clock_refuses_advance);
    tcase_add_test(tc, test_virtual_resumes_offset_and_refuses_backwards);
    tcase_add_test(tc, test_timer_added_while_firing);
    tcase_add_test(tc, test_owned_timer_args);
    tcase_add_test(tc, test_durations);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
