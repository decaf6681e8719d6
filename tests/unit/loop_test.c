/*
 * loop_test.c - the event loop: timers in order, repeating timers, cancel, fds, sockets,
 * removal while dispatching, stop from a handler.
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "loop.h"

static int order[16], norder;
static int64_t repeat_id;

static int record(cmk_loop *loop, int64_t id, void *arg)
{
    order[norder++] = (int)(intptr_t)arg;
    return 0;
}

static int stopper(cmk_loop *loop, int64_t id, void *arg)
{
    return -1;
}

static int repeating(cmk_loop *loop, int64_t id, void *arg)
{
    int *n = arg;
    if (++*n == 3)
        cmk_loop_cancel_timer(loop, id);
    return 0;
}

START_TEST(test_timers)
{
    cmk_loop *loop = cmk_loop_new();
    int n = 0;
    norder = 0;
    cmk_loop_add_timer(loop, 30, 0, record, (void *)3);
    cmk_loop_add_timer(loop, 10, 0, record, (void *)1);
    cmk_loop_add_timer(loop, 20, 0, record, (void *)2);
    int64_t gone = cmk_loop_add_timer(loop, 15, 0, record, (void *)9);
    cmk_loop_cancel_timer(loop, gone);
    repeat_id = cmk_loop_add_timer(loop, 5, 1, repeating, &n);
    cmk_loop_add_timer(loop, 200, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(norder, 3);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 3);
    ck_assert_int_eq(n, 3);
    cmk_loop_destroy(&loop);
    ck_assert_ptr_null(loop);
}
END_TEST

static int fd_reads;

static int on_fd(cmk_loop *loop, void *sock, int fd, void *arg)
{
    char buf[8];
    ck_assert_ptr_null(sock);
    if (read(fd, buf, sizeof buf) > 0)
        fd_reads++;
    cmk_loop_remove_fd(loop, fd); /* removal while dispatching */
    return 0;
}

static int on_sock(cmk_loop *loop, void *sock, int fd, void *arg)
{
    char buf[8];
    ck_assert_ptr_nonnull(sock);
    zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT);
    return -1; /* stop the loop */
}

START_TEST(test_fds_and_sockets)
{
    cmk_loop *loop = cmk_loop_new();
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    int p[2];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(zmq_bind(a, "inproc://loop-test"), 0);
    ck_assert_int_eq(zmq_connect(b, "inproc://loop-test"), 0);
    cmk_loop_add_fd(loop, p[0], on_fd, NULL);
    cmk_loop_add_socket(loop, a, on_sock, NULL);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    cmk_loop_add_timer(loop, 5000, 0, stopper, NULL);
    /* first run: the fd handler runs and removes itself; then the socket stops the loop */
    zmq_send(b, "hi", 2, 0);
    cmk_loop_run(loop);
    ck_assert_int_eq(fd_reads, 1);
    ck_assert_int_eq(write(p[1], "y", 1), 1);
    zmq_send(b, "hi", 2, 0);
    cmk_loop_run(loop);
    ck_assert_int_eq(fd_reads, 1); /* removed: not called again */
    close(p[0]);
    close(p[1]);
    zmq_close(a);
    zmq_close(b);
    zmq_ctx_term(ctx);
    cmk_loop_destroy(&loop);
}
END_TEST

static int idle_calls, idle_reads_seen;

/* on_pipe - read one byte per call (so that a poll finds work each time a byte is written) */
static int on_pipe(cmk_loop *loop, void *sock, int fd, void *arg)
{
    char c;
    if (read(fd, &c, 1) == 1)
        fd_reads++;
    return 0;
}

/* on_idle_hook - remembers how many reads had happened when it ran */
static void on_idle_hook(cmk_loop *loop, void *arg)
{
    idle_calls++;
    idle_reads_seen = fd_reads;
}

START_TEST(test_idle_after_work_only)
{
    cmk_loop *loop = cmk_loop_new();
    int p[2];

    fd_reads = 0;
    ck_assert_int_eq(pipe(p), 0);
    cmk_loop_add_fd(loop, p[0], on_pipe, NULL);
    cmk_loop_set_idle(loop, on_idle_hook, NULL);
    /* no work: the timers' polls time out; the idle hook must not run */
    cmk_loop_add_timer(loop, 30, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(idle_calls, 0);
    /* work: the hook runs after the handler of the same poll */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    cmk_loop_add_timer(loop, 30, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(fd_reads, 1);
    ck_assert_int_eq(idle_calls, 1);
    ck_assert_int_eq(idle_reads_seen, 1);
    /* cleared: not called again */
    cmk_loop_set_idle(loop, NULL, NULL);
    ck_assert_int_eq(write(p[1], "y", 1), 1);
    cmk_loop_add_timer(loop, 30, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(fd_reads, 2);
    ck_assert_int_eq(idle_calls, 1);
    close(p[0]);
    close(p[1]);
    cmk_loop_destroy(&loop);
}
END_TEST

static int slow_fires;

/* slow_tick - a repeating timer that slows itself down on its first firing */
static int slow_tick(cmk_loop *loop, int64_t id, void *arg)
{
    if (++slow_fires == 1)
        cmk_loop_timer_interval(loop, id, 100000); /* next in 100 s: not within this test */
    return 0;
}

START_TEST(test_timer_interval_changed_from_its_handler)
{
    cmk_loop *loop = cmk_loop_new();
    int64_t id = cmk_loop_add_timer(loop, 1, 1, slow_tick, NULL);

    ck_assert_int_gt(id, 0);
    cmk_loop_add_timer(loop, 60, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(slow_fires, 1); /* at 1 ms it would have fired dozens of times */
    cmk_loop_timer_interval(loop, id, 1); /* and back */
    cmk_loop_add_timer(loop, 60, 0, stopper, NULL);
    cmk_loop_run(loop);
    ck_assert_int_gt(slow_fires, 3);
    cmk_loop_destroy(&loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("loop");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, test_timers);
    tcase_add_test(tc, test_fds_and_sockets);
    tcase_add_test(tc, test_idle_after_work_only);
    tcase_add_test(tc, test_timer_interval_changed_from_its_handler);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
