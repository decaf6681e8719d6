/*
 * loop.c - zmq_poll over sockets and fds, with a small list of monotonic timers.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "clock.h"
#include "log.h"

/* One watched socket or fd. */
typedef struct {
    void *sock;        /* ZeroMQ socket, or NULL for an fd */
    int fd;            /* fd when sock is NULL */
    cmk_loop_io_fn fn; /* handler */
    void *arg;         /* its argument */
    int dead;          /* removed while the loop was dispatching */
} loop_reader;

/* One timer. */
typedef struct {
    int64_t id;           /* > 0 */
    int64_t due;          /* monotonic ms */
    int64_t interval;     /* ms */
    int repeat;           /* fire again after interval */
    cmk_loop_timer_fn fn; /* handler */
    void *arg;            /* its argument */
} loop_timer;

struct cmk_loop {
    loop_reader *readers;
    size_t nreaders, capreaders;
    loop_timer *timers;
    size_t ntimers, captimers;
    int64_t next_timer_id;
    int64_t max_wait;
    int stopped;
    cmk_loop_idle_fn idle;  /* after the handlers of a poll that found work */
    void *idle_arg;         /* its argument */
};

/* cmk_loop_set_idle - the hook run when a poll's work is done */
void cmk_loop_set_idle(cmk_loop *self, cmk_loop_idle_fn fn, void *arg)
{
    self->idle = fn;
    self->idle_arg = arg;
}

/* cmk_loop_new - an empty loop */
cmk_loop *cmk_loop_new(void)
{
    cmk_loop *self = calloc(1, sizeof *self);
    if (self) {
        self->next_timer_id = 1;
        self->max_wait = -1;
    }
    return self;
}

/* cmk_loop_destroy - free the loop (not the sockets) */
void cmk_loop_destroy(cmk_loop **self_p)
{
    if (self_p && *self_p) {
        free((*self_p)->readers);
        free((*self_p)->timers);
        free(*self_p);
        *self_p = NULL;
    }
}

static int add_reader(cmk_loop *self, void *sock, int fd, cmk_loop_io_fn fn, void *arg)
{
    if (self->nreaders == self->capreaders) {
        size_t cap = self->capreaders ? self->capreaders * 2 : 8;
        loop_reader *r = realloc(self->readers, cap * sizeof *r);
        if (!r)
            return -1;
        self->readers = r;
        self->capreaders = cap;
    }
    self->readers[self->nreaders++] = (loop_reader){ sock, fd, fn, arg, 0 };
    return 0;
}

int cmk_loop_add_socket(cmk_loop *self, void *sock, cmk_loop_io_fn fn, void *arg)
{
    return add_reader(self, sock, -1, fn, arg);
}

int cmk_loop_add_fd(cmk_loop *self, int fd, cmk_loop_io_fn fn, void *arg)
{
    return add_reader(self, NULL, fd, fn, arg);
}

/* cmk_loop_remove_socket - mark dead; compacted after dispatch */
void cmk_loop_remove_socket(cmk_loop *self, void *sock)
{
    for (size_t i = 0; i < self->nreaders; i++)
        if (self->readers[i].sock == sock)
            self->readers[i].dead = 1;
}

void cmk_loop_remove_fd(cmk_loop *self, int fd)
{
    for (size_t i = 0; i < self->nreaders; i++)
        if (!self->readers[i].sock && self->readers[i].fd == fd)
            self->readers[i].dead = 1;
}

/* cmk_loop_add_timer - schedule a timer */
int64_t cmk_loop_add_timer(cmk_loop *self, int64_t delay_ms, int repeat, cmk_loop_timer_fn fn,
                           void *arg)
{
    if (self->ntimers == self->captimers) {
        size_t cap = self->captimers ? self->captimers * 2 : 8;
        loop_timer *t = realloc(self->timers, cap * sizeof *t);
        if (!t)
            return -1;
        self->timers = t;
        self->captimers = cap;
    }
    if (delay_ms < 0)
        delay_ms = 0;
    self->timers[self->ntimers++] =
        (loop_timer){ self->next_timer_id, cmk_mono_ms() + delay_ms, delay_ms, repeat, fn, arg };
    return self->next_timer_id++;
}

/* cmk_loop_cancel_timer - drop a timer */
void cmk_loop_cancel_timer(cmk_loop *self, int64_t id)
{
    for (size_t i = 0; i < self->ntimers; i++)
        if (self->timers[i].id == id) {
            self->timers[i] = self->timers[--self->ntimers];
            return;
        }
}

/* cmk_loop_timer_interval - a new interval, counted from now */
void cmk_loop_timer_interval(cmk_loop *self, int64_t id, int64_t interval_ms)
{
    for (size_t i = 0; i < self->ntimers; i++)
        if (self->timers[i].id == id) {
            self->timers[i].interval = interval_ms;
            self->timers[i].due = cmk_mono_ms() + interval_ms;
            return;
        }
}

void cmk_loop_set_max_wait(cmk_loop *self, int64_t ms) { self->max_wait = ms; }
void cmk_loop_stop(cmk_loop *self) { self->stopped = 1; }

/* compact - drop readers removed during dispatch */
static void compact(cmk_loop *self)
{
    size_t j = 0;
    for (size_t i = 0; i < self->nreaders; i++)
        if (!self->readers[i].dead)
            self->readers[j++] = self->readers[i];
    self->nreaders = j;
}

/* run_timers - fire due timers; -1 if one asked to stop */
static int run_timers(cmk_loop *self)
{
    int64_t now = cmk_mono_ms();
    for (size_t i = 0; i < self->ntimers;) {
        loop_timer t = self->timers[i];
        if (t.due > now) {
            i++;
            continue;
        }
        if (t.repeat) {
            self->timers[i].due = now + (t.interval > 0 ? t.interval : 1);
            i++;
        } else
            self->timers[i] = self->timers[--self->ntimers];
        if (t.fn(self, t.id, t.arg) < 0)
            return -1;
        /* the handler may have changed the array; restart the scan from the top */
        i = 0;
        now = cmk_mono_ms();
    }
    return 0;
}

/* cmk_loop_run - poll and dispatch until stopped */
int cmk_loop_run(cmk_loop *self)
{
    zmq_pollitem_t *items = NULL;
    size_t capitems = 0;

    self->stopped = 0;
    cmk_log_defer(1); /* this thread's info lines go out in one write before each wait */
    while (!self->stopped) {
        int64_t wait = -1, now = cmk_mono_ms();
        size_t n;
        int rc;

        compact(self);
        n = self->nreaders;
        if (n > capitems) {
            zmq_pollitem_t *it = realloc(items, n * sizeof *it);
            if (!it)
                break;
            items = it;
            capitems = n;
        }
        for (size_t i = 0; i < n; i++)
            items[i] = (zmq_pollitem_t){ self->readers[i].sock, self->readers[i].fd, ZMQ_POLLIN, 0 };
        for (size_t i = 0; i < self->ntimers; i++) {
            int64_t d = self->timers[i].due - now;
            if (d < 0)
                d = 0;
            if (wait < 0 || d < wait)
                wait = d;
        }
        if (self->max_wait >= 0 && (wait < 0 || wait > self->max_wait))
            wait = self->max_wait;
        cmk_log_flush();
        rc = zmq_poll(items, (int)n, (long)wait);
        if (rc < 0 && errno != EINTR)
            break;
        for (size_t i = 0; rc > 0 && i < n && !self->stopped; i++) {
            loop_reader r;
            if (!(items[i].revents & ZMQ_POLLIN) || i >= self->nreaders || self->readers[i].dead)
                continue;
            r = self->readers[i];
            if (r.fn(self, r.sock, r.fd, r.arg) < 0)
                self->stopped = 1;
        }
        if (rc > 0 && self->idle && !self->stopped)
            self->idle(self, self->idle_arg);
        if (!self->stopped && run_timers(self) < 0)
            self->stopped = 1;
    }
    free(items);
    cmk_log_defer(0);
    return 0;
}
