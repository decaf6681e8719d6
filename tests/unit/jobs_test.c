/*
 * jobs_test.c - the job pool: every job's work runs off the loop thread and its done callback
 * on the loop thread, exactly once, and destroy drains what is queued.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "jobs.h"
#include "loop.h"

#define NJOBS 200

static pthread_t loop_thread;
static int worked[NJOBS], delivered[NJOBS], off_loop[NJOBS], on_loop[NJOBS];
static int ndelivered;
static cmk_loop *the_loop;

static void work(void *arg)
{
    int i = (int)(intptr_t)arg;
    worked[i]++;
    off_loop[i] = !pthread_equal(pthread_self(), loop_thread);
}

static void done(void *arg)
{
    int i = (int)(intptr_t)arg;
    delivered[i]++;
    on_loop[i] = pthread_equal(pthread_self(), loop_thread);
    if (++ndelivered == NJOBS)
        cmk_loop_stop(the_loop);
}

static int give_up(cmk_loop *loop, int64_t id, void *arg)
{
    return -1;
}

START_TEST(test_jobs_run_off_loop_and_deliver_on_loop)
{
    cmk_err err = CMK_ERR_INIT;
    jobs *j;
    the_loop = cmk_loop_new();
    loop_thread = pthread_self();
    j = jobs_new(the_loop, 3, &err);
    ck_assert_ptr_nonnull(j);
    for (int i = 0; i < NJOBS; i++)
        ck_assert_int_eq(jobs_submit(j, work, done, (void *)(intptr_t)i, &err), 0);
    cmk_loop_add_timer(the_loop, 20000, 0, give_up, NULL);
    cmk_loop_run(the_loop);
    ck_assert_int_eq(ndelivered, NJOBS);
    for (int i = 0; i < NJOBS; i++) {
        ck_assert_int_eq(worked[i], 1);
        ck_assert_int_eq(delivered[i], 1);
        ck_assert(off_loop[i]);
        ck_assert(on_loop[i]);
    }
    ck_assert_int_eq(jobs_pending(j), 0);
    /* queued jobs are finished by destroy */
    for (int i = 0; i < 10; i++)
        jobs_submit(j, work, done, (void *)(intptr_t)i, &err);
    jobs_destroy(&j);
    ck_assert_ptr_null(j);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(worked[i], 2);
    cmk_loop_destroy(&the_loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("jobs");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_jobs_run_off_loop_and_deliver_on_loop);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
