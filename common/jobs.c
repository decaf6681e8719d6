/*
 * jobs.c - thread pool with completions delivered to the event loop through an eventfd.
 */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* One job. */
typedef struct job {
    jobs_work_fn work;
    jobs_done_fn done;
    void *arg;
    struct job *next;
} job;

struct jobs {
    cmk_loop *loop;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *queue, *queue_tail;   /* waiting to run */
    job *done, *done_tail;     /* finished, waiting for the loop */
    int pending;               /* queued + running + done-not-delivered */
    int stopping;
    int efd;                   /* eventfd: "something is done" */
};

/* worker_main - take jobs until stopping and the queue is empty */
static void *worker_main(void *arg)
{
    jobs *self = arg;
    for (;;) {
        job *j;
        uint64_t one = 1;
        pthread_mutex_lock(&self->lock);
        while (!self->queue && !self->stopping)
            pthread_cond_wait(&self->cond, &self->lock);
        j = self->queue;
        if (!j) {
            pthread_mutex_unlock(&self->lock);
            return NULL;
        }
        self->queue = j->next;
        if (!self->queue)
            self->queue_tail = NULL;
        pthread_mutex_unlock(&self->lock);

        j->work(j->arg);

        pthread_mutex_lock(&self->lock);
        j->next = NULL;
        if (self->done_tail)
            self->done_tail->next = j;
        else
            self->done = j;
        self->done_tail = j;
        pthread_mutex_unlock(&self->lock);
        if (write(self->efd, &one, sizeof one) < 0) {
            /* the counter cannot overflow in practice; the loop drains it */
        }
    }
}

/* deliver - run done callbacks on the loop thread */
static void deliver(jobs *self)
{
    job *list;
    pthread_mutex_lock(&self->lock);
    list = self->done;
    self->done = self->done_tail = NULL;
    pthread_mutex_unlock(&self->lock);
    while (list) {
        job *next = list->next;
        if (list->done)
            list->done(list->arg);
        pthread_mutex_lock(&self->lock);
        self->pending--;
        pthread_mutex_unlock(&self->lock);
        free(list);
        list = next;
    }
}

/* on_event - the eventfd fired */
static int on_event(cmk_loop *loop, void *sock, int fd, void *arg)
{
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return 0;
    deliver(arg);
    return 0;
}

jobs *jobs_new(cmk_loop *loop, int nthreads, cmk_err *err)
{
    jobs *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->loop = loop;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->threads = calloc((size_t)nthreads, sizeof *self->threads);
    if (self->efd < 0 || !self->threads) {
        cmk_err_set(err, CMK_EIO, "cannot create the job pool: %s", strerror(errno));
        jobs_destroy(&self);
        return NULL;
    }
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&self->threads[i], NULL, worker_main, self) != 0) {
            cmk_err_set(err, CMK_EIO, "cannot start a job thread");
            jobs_destroy(&self);
            return NULL;
        }
        self->nthreads++;
    }
    cmk_loop_add_fd(loop, self->efd, on_event, self);
    return self;
}

/* jobs_destroy - drain, join, deliver what finished */
void jobs_destroy(jobs **self_p)
{
    jobs *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nthreads; i++)
        pthread_join(self->threads[i], NULL);
    deliver(self);
    if (self->efd >= 0) {
        cmk_loop_remove_fd(self->loop, self->efd);
        close(self->efd);
    }
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->cond);
    free(self->threads);
    free(self);
    *self_p = NULL;
}

/* jobs_submit - queue a job */
int jobs_submit(jobs *self, jobs_work_fn work, jobs_done_fn done, void *arg, cmk_err *err)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&self->lock);
    if (self->queue_tail)
        self->queue_tail->next = j;
    else
        self->queue = j;
    self->queue_tail = j;
    self->pending++;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
    return 0;
}

int jobs_pending(jobs *self)
{
    int n;
    pthread_mutex_lock(&self->lock);
    n = self->pending;
    pthread_mutex_unlock(&self->lock);
    return n;
}
