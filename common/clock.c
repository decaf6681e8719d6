/*
 * clock.c - real or virtual clock with an ordered timer heap.
 */
#include "clock.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One pending timer. */
typedef struct {
    int64_t at;     /* due time, clock ms */
    int64_t id;     /* timer id, also the tie-breaker: earlier ids fire first */
    cmk_clock_cb cb;
    void *arg;
    int owned;      /* arg is heap memory freed if the timer never fires */
} clock_timer;

struct cmk_clock {
    cmk_clock_mode mode;
    int64_t offset;      /* virtual offset added to wall time */
    int64_t firing_at;   /* while firing in cmk_clock_advance: the clock is pinned here */
    int pinned;          /* 1 while firing during an advance */
    int64_t horizon;     /* the target of the advance in progress; 0 if none */
    clock_timer *heap;   /* min-heap on (at, id) */
    size_t n, cap;
    int64_t next_id;
    pthread_mutex_t lock; /* guards the heap and the offset; never held while a timer runs */
};

/* cmk_wall_ms - wall clock ms since the epoch */
int64_t cmk_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cmk_mono_ms - monotonic ms */
int64_t cmk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cmk_mono_ns - monotonic ns */
int64_t cmk_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* cmk_clock_new - a clock */
cmk_clock *cmk_clock_new(cmk_clock_mode mode, int64_t offset_ms)
{
    cmk_clock *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->mode = mode;
    self->offset = mode == CMK_CLOCK_VIRTUAL ? offset_ms : 0;
    self->next_id = 1;
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

/* cmk_clock_destroy - free the clock and its pending timers */
void cmk_clock_destroy(cmk_clock **self_p)
{
    if (self_p && *self_p) {
        for (size_t i = 0; i < (*self_p)->n; i++)
            if ((*self_p)->heap[i].owned)
                free((*self_p)->heap[i].arg);
        pthread_mutex_destroy(&(*self_p)->lock);
        free((*self_p)->heap);
        free(*self_p);
        *self_p = NULL;
    }
}

#define LOCK(c) pthread_mutex_lock(&((cmk_clock *)(c))->lock)
#define UNLOCK(c) pthread_mutex_unlock(&((cmk_clock *)(c))->lock)

cmk_clock_mode cmk_clock_get_mode(const cmk_clock *self) { return self->mode; }

int64_t cmk_clock_offset(const cmk_clock *self)
{
    int64_t v;
    LOCK(self);
    v = self->offset;
    UNLOCK(self);
    return v;
}

size_t cmk_clock_pending(const cmk_clock *self)
{
    size_t n;
    LOCK(self);
    n = self->n;
    UNLOCK(self);
    return n;
}

/* now_locked - the clock's time; the lock is held */
static int64_t now_locked(const cmk_clock *self)
{
    if (self->pinned)
        return self->firing_at;
    return cmk_wall_ms() + self->offset;
}

/* cmk_time_add - saturating addition */
int64_t cmk_time_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* cmk_clock_horizon - the target of the advance in progress, or now */
int64_t cmk_clock_horizon(const cmk_clock *self)
{
    int64_t v;
    LOCK(self);
    v = self->horizon ? self->horizon : now_locked(self);
    UNLOCK(self);
    return v;
}

/* cmk_clock_now - ms since the epoch on this clock */
int64_t cmk_clock_now(const cmk_clock *self)
{
    int64_t v;
    LOCK(self);
    v = now_locked(self);
    UNLOCK(self);
    return v;
}

static int timer_less(const clock_timer *a, const clock_timer *b)
{
    return a->at < b->at || (a->at == b->at && a->id < b->id);
}

static void heap_swap(clock_timer *h, size_t i, size_t j)
{
    clock_timer t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_up(clock_timer *h, size_t i)
{
    while (i > 0 && timer_less(&h[i], &h[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(clock_timer *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && timer_less(&h[l], &h[m]))
            m = l;
        if (r < n && timer_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

/* heap_remove_at - remove entry i and restore the heap */
static void heap_remove_at(cmk_clock *self, size_t i)
{
    self->heap[i] = self->heap[--self->n];
    if (i < self->n) {
        heap_down(self->heap, self->n, i);
        heap_up(self->heap, i);
    }
}

/* timer_add - schedule cb at at_ms */
static int64_t timer_add(cmk_clock *self, int64_t at_ms, cmk_clock_cb cb, void *arg, int owned)
{
    int64_t id;
    if (!cb)
        return CMK_EINVAL;
    LOCK(self);
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        clock_timer *h = realloc(self->heap, cap * sizeof *h);
        if (!h) {
            UNLOCK(self);
            if (owned)
                free(arg);
            return CMK_ENOMEM;
        }
        self->heap = h;
        self->cap = cap;
    }
    id = self->next_id++;
    self->heap[self->n] = (clock_timer){ at_ms, id, cb, arg, owned };
    heap_up(self->heap, self->n++);
    UNLOCK(self);
    return id;
}

/* cmk_clock_timer_add - schedule cb at at_ms */
int64_t cmk_clock_timer_add(cmk_clock *self, int64_t at_ms, cmk_clock_cb cb, void *arg)
{
    return timer_add(self, at_ms, cb, arg, 0);
}

/* cmk_clock_timer_add_owned - schedule cb at at_ms; the timer owns arg until it fires */
int64_t cmk_clock_timer_add_owned(cmk_clock *self, int64_t at_ms, cmk_clock_cb cb, void *arg)
{
    return timer_add(self, at_ms, cb, arg, 1);
}

/* cmk_clock_timer_cancel - cancel a pending timer */
int cmk_clock_timer_cancel(cmk_clock *self, int64_t id)
{
    LOCK(self);
    for (size_t i = 0; i < self->n; i++)
        if (self->heap[i].id == id) {
            void *arg = self->heap[i].owned ? self->heap[i].arg : NULL;
            heap_remove_at(self, i);
            UNLOCK(self);
            free(arg);
            return 0;
        }
    UNLOCK(self);
    return CMK_ENOENT;
}

/* fire_until - fire timers due at or before `until` in order; pin the clock if asked.
 * Called and returns with the lock held; releases it around each callback. */
static int fire_until(cmk_clock *self, int64_t until, int pin)
{
    int fired = 0;
    while (self->n > 0 && self->heap[0].at <= until) {
        clock_timer t = self->heap[0];
        int64_t now;
        heap_remove_at(self, 0);
        if (pin) {
            self->pinned = 1;
            self->firing_at = t.at;
        }
        now = pin ? t.at : now_locked(self);
        UNLOCK(self);
        t.cb(self, now, t.arg);
        LOCK(self);
        self->pinned = 0;
        fired++;
    }
    return fired;
}

/* cmk_clock_fire_due - fire every timer due now */
int cmk_clock_fire_due(cmk_clock *self)
{
    int n;
    LOCK(self);
    n = fire_until(self, now_locked(self), 0);
    UNLOCK(self);
    return n;
}

/* cmk_clock_advance - move a virtual clock forward, firing timers in order on the way */
int cmk_clock_advance(cmk_clock *self, int64_t delta_ms, cmk_err *err)
{
    int64_t target;

    if (self->mode != CMK_CLOCK_VIRTUAL)
        return cmk_err_set(err, CMK_ESTATE,
                           "the clock is real; only a virtual clock can be advanced "
                           "(set clock.mode to \"virtual\" in the config)");
    if (delta_ms < 0)
        return cmk_err_set(err, CMK_EINVAL, "the clock only moves forward; give a positive duration");
    if (delta_ms > CMK_CLOCK_MAX_ADVANCE_MS)
        return cmk_err_set(err, CMK_ELIMIT,
                           "an advance of %lld ms is more than the 100 years one advance may move the clock; "
                           "advance in steps of at most 100y (36525d)", (long long)delta_ms);
    LOCK(self);
    if (self->horizon) {
        UNLOCK(self);
        return cmk_err_set(err, CMK_EBUSY, "the clock is being advanced already; try again when it is done");
    }
    target = cmk_time_add(now_locked(self), delta_ms);
    if (target > CMK_CLOCK_MAX_MS) {
        char ts[40];
        UNLOCK(self);
        return cmk_err_set(err, CMK_ELIMIT, "advancing by %lld ms would take the clock past %s, the latest time "
                           "it can show", (long long)delta_ms, cmk_time_format(CMK_CLOCK_MAX_MS, ts, sizeof ts));
    }
    self->horizon = target;
    /* Fire in order; each timer sees the clock at its own due time. */
    while (self->n > 0 && self->heap[0].at <= target) {
        int64_t at = self->heap[0].at;
        int64_t now = now_locked(self);
        if (at > now)
            self->offset += at - now;
        fire_until(self, self->heap[0].at, 1);
    }
    self->offset += target - now_locked(self);
    self->horizon = 0;
    UNLOCK(self);
    return 0;
}

/* cmk_clock_next_due_ms - ms until the next timer */
int64_t cmk_clock_next_due_ms(const cmk_clock *self)
{
    int64_t d;
    LOCK(self);
    if (self->n == 0) {
        UNLOCK(self);
        return -1;
    }
    d = self->heap[0].at - now_locked(self);
    UNLOCK(self);
    return d < 0 ? 0 : d;
}

static const struct {
    const char *unit;
    int64_t ms;
} duration_units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
                       { "d", 86400000 }, { "w", 604800000 } };

/* cmk_duration_parse - "1d12h", "500ms", ... to ms */
int cmk_duration_parse(const char *s, int64_t *ms, cmk_err *err)
{
    const char *p = s;
    int64_t total = 0;

    if (!s || !*s)
        return cmk_err_set(err, CMK_EINVAL, "empty duration; write e.g. 30s, 5m, 72h or 7d");
    while (*p) {
        char *end;
        long long v;
        size_t best = 0;
        int64_t unit = 0;

        if (!isdigit((unsigned char)*p))
            return cmk_err_set(err, CMK_EINVAL,
                               "bad duration '%s': expected a number at '%s' (e.g. 30s, 5m, 72h, 7d)", s, p);
        v = strtoll(p, &end, 10);
        p = end;
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
            size_t l = strlen(duration_units[i].unit);
            if (strncmp(p, duration_units[i].unit, l) == 0 && l > best) {
                best = l;
                unit = duration_units[i].ms;
            }
        }
        if (!best)
            return cmk_err_set(err, CMK_EINVAL,
                               "bad duration '%s': unit missing or unknown at '%s' (use ms, s, m, h, d, w)",
                               s, p);
        if (v > INT64_MAX / unit || total > INT64_MAX - v * unit)
            return cmk_err_set(err, CMK_EINVAL, "duration '%s' is too long", s);
        total += v * unit;
        p += best;
    }
    *ms = total;
    return 0;
}

/* cmk_duration_format - ms to "1d12h" */
char *cmk_duration_format(int64_t ms, char *buf, size_t cap)
{
    size_t n = 0;
    int neg = ms < 0;

    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (neg) {
        ms = -ms;
        n += snprintf(buf, cap, "-");
    }
    if (ms == 0) {
        snprintf(buf + n, cap - n, "0s");
        return buf;
    }
    for (int i = (int)(sizeof duration_units / sizeof duration_units[0]) - 2; i >= 0 && n < cap; i--) {
        int64_t u = duration_units[i].ms;  /* weeks are not used when formatting */
        if (ms >= u) {
            n += snprintf(buf + n, cap - n, "%" PRId64 "%s", ms / u, duration_units[i].unit);
            ms %= u;
        }
    }
    return buf;
}

/* cmk_time_format - epoch ms to RFC 3339 */
char *cmk_time_format(int64_t ms, char *buf, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[32];

    gmtime_r(&secs, &tm);
    strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03dZ", tmp, (int)(ms % 1000));
    return buf;
}
