/*
 * jobs.h - slow work off the broker's loop: a small pool of threads runs jobs (RSA key
 * generation, PKCS#12, re-encryption) and hands each result back to the loop thread, where
 * its `done` callback runs (and may reply to the client). Routing never waits for a job.
 */
#ifndef CMK_JOBS_H
#define CMK_JOBS_H

#include "err.h"
#include "loop.h"

typedef struct jobs jobs;

/* jobs_work_fn - runs on a pool thread; must not touch loop-thread state */
typedef void (*jobs_work_fn)(void *arg);

/* jobs_done_fn - runs on the loop thread after work */
typedef void (*jobs_done_fn)(void *arg);

/* jobs_new - nthreads worker threads; completions arrive through an eventfd in loop */
jobs *jobs_new(cmk_loop *loop, int nthreads, cmk_err *err);

/* jobs_destroy - finish queued jobs, join the threads; accepts NULL, nulls the pointer */
void jobs_destroy(jobs **self_p);

/* jobs_submit - queue work(arg) then done(arg) */
int jobs_submit(jobs *self, jobs_work_fn work, jobs_done_fn done, void *arg, cmk_err *err);

/* jobs_pending - jobs queued or running */
int jobs_pending(jobs *self);

#endif
