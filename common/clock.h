/*
 * clock.h - the controller's clock: real or virtual, with timers that fire in order.
 *
 * Every rule with a duration (24 h, 72 h, 7 d, 28 d, ...) reads this clock, never the wall
 * clock directly. In virtual mode the clock runs with wall time plus an offset that
 * cmk_clock_advance() grows, so `cmkctl clock advance 72h` makes every rule due in seconds.
 * Timers are kept in a heap and fired in order of their due time, so advancing by 7 days
 * fires the day-1 timer before the day-7 one, each seeing the clock at its own due time.
 */
#ifndef CMK_CLOCK_H
#define CMK_CLOCK_H

#include <stdint.h>
#include <stddef.h>

#include "err.h"

typedef enum { CMK_CLOCK_REAL = 0, CMK_CLOCK_VIRTUAL = 1 } cmk_clock_mode;

typedef struct cmk_clock cmk_clock;

/* cmk_clock_cb - a timer fired at its due time (now_ms is the clock while firing) */
typedef void (*cmk_clock_cb)(cmk_clock *clock, int64_t now_ms, void *arg);

/* cmk_clock_new - a clock; offset_ms is the virtual offset to resume with (0 for a new one) */
cmk_clock *cmk_clock_new(cmk_clock_mode mode, int64_t offset_ms);
void cmk_clock_destroy(cmk_clock **self_p);

cmk_clock_mode cmk_clock_get_mode(const cmk_clock *self);

/* cmk_clock_now - milliseconds since the Unix epoch on this clock */
int64_t cmk_clock_now(const cmk_clock *self);

/* cmk_clock_offset - the virtual offset in ms (0 in real mode); persist it to resume */
int64_t cmk_clock_offset(const cmk_clock *self);

/* The most one advance may move the clock (100 years), and the latest time the clock may show
 * (the end of year 9999): time arithmetic never wraps. */
#define CMK_CLOCK_MAX_ADVANCE_MS (100LL * 36525LL * 86400000LL / 100LL)
#define CMK_CLOCK_MAX_MS 253402300799999LL

/* cmk_clock_advance - move a virtual clock forward by delta_ms, firing due timers in order.
 * Refused in real mode, for a negative delta, for more than CMK_CLOCK_MAX_ADVANCE_MS and past
 * CMK_CLOCK_MAX_MS. */
int cmk_clock_advance(cmk_clock *self, int64_t delta_ms, cmk_err *err);

/* cmk_clock_horizon - while an advance fires its timers: the time it is moving to (a timer
 * callback sees how far behind it is); otherwise the clock's time */
int64_t cmk_clock_horizon(const cmk_clock *self);

/* cmk_time_add - a + b saturated to [INT64_MIN, INT64_MAX] (time arithmetic never wraps) */
int64_t cmk_time_add(int64_t a, int64_t b);

/* cmk_clock_timer_add - call cb at clock time at_ms; returns a timer id (> 0) or < 0 */
int64_t cmk_clock_timer_add(cmk_clock *self, int64_t at_ms, cmk_clock_cb cb, void *arg);

/* cmk_clock_timer_add_owned - the same for an arg from malloc that the timer owns: when it fires
 * the callback takes arg over (and frees it); a timer cancelled, a clock destroyed, or an add that
 * fails frees it */
int64_t cmk_clock_timer_add_owned(cmk_clock *self, int64_t at_ms, cmk_clock_cb cb, void *arg);

/* cmk_clock_timer_cancel - cancel a pending timer; 0 if it was pending, CMK_ENOENT if not */
int cmk_clock_timer_cancel(cmk_clock *self, int64_t id);

/* cmk_clock_fire_due - fire every timer due now, in order; returns how many fired */
int cmk_clock_fire_due(cmk_clock *self);

/* cmk_clock_next_due_ms - ms until the next timer is due (0 if overdue, -1 if none) */
int64_t cmk_clock_next_due_ms(const cmk_clock *self);

/* cmk_clock_pending - number of pending timers */
size_t cmk_clock_pending(const cmk_clock *self);

/* cmk_duration_parse - "500ms", "30s", "5m", "72h", "7d", "1h30m", "1d12h" to ms */
int cmk_duration_parse(const char *s, int64_t *ms, cmk_err *err);

/* cmk_duration_format - ms to the shortest such string ("1d12h", "0s") */
char *cmk_duration_format(int64_t ms, char *buf, size_t cap);

/* cmk_time_format - epoch ms to RFC 3339 UTC ("2026-11-22T17:46:26.123Z") */
char *cmk_time_format(int64_t ms, char *buf, size_t cap);

/* cmk_wall_ms / cmk_mono_ms - wall and monotonic time in ms (not for rules: use the clock) */
int64_t cmk_wall_ms(void);
int64_t cmk_mono_ms(void);

/* cmk_mono_ns - monotonic time in ns (for measuring: benchmarks, latencies) */
int64_t cmk_mono_ns(void);

#endif
