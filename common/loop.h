/*
 * loop.h - the event loop: ZeroMQ sockets, file descriptors and monotonic timers.
 *
 * It knows nothing of the domain (Redis's ae in spirit). Handlers return 0 to go on, or -1 to
 * stop the loop. Handlers may add and remove sockets, fds and timers while the loop runs.
 */
#ifndef CMK_LOOP_H
#define CMK_LOOP_H

#include <stdint.h>

typedef struct cmk_loop cmk_loop;

/* cmk_loop_io_fn - a socket (sock != NULL) or fd became readable */
typedef int (*cmk_loop_io_fn)(cmk_loop *loop, void *sock, int fd, void *arg);

/* cmk_loop_timer_fn - a timer expired */
typedef int (*cmk_loop_timer_fn)(cmk_loop *loop, int64_t id, void *arg);

cmk_loop *cmk_loop_new(void);
void cmk_loop_destroy(cmk_loop **self_p);

/* cmk_loop_add_socket / cmk_loop_add_fd - watch for input; 0 or < 0 */
int cmk_loop_add_socket(cmk_loop *self, void *sock, cmk_loop_io_fn fn, void *arg);
int cmk_loop_add_fd(cmk_loop *self, int fd, cmk_loop_io_fn fn, void *arg);

/* cmk_loop_remove_socket / cmk_loop_remove_fd - stop watching */
void cmk_loop_remove_socket(cmk_loop *self, void *sock);
void cmk_loop_remove_fd(cmk_loop *self, int fd);

/* cmk_loop_add_timer - call fn after delay_ms, and then every delay_ms if repeat; id > 0 */
int64_t cmk_loop_add_timer(cmk_loop *self, int64_t delay_ms, int repeat, cmk_loop_timer_fn fn,
                           void *arg);

/* cmk_loop_cancel_timer - cancel a timer (no-op if it already fired or does not exist) */
void cmk_loop_cancel_timer(cmk_loop *self, int64_t id);

/* cmk_loop_timer_interval - change a repeating timer's interval; it is next due interval_ms
 * from now (also from inside its own handler) */
void cmk_loop_timer_interval(cmk_loop *self, int64_t id, int64_t interval_ms);

/* cmk_loop_idle_fn - called once after the handlers of every poll that found work, before
 * the loop waits again: "nothing more is queued right now" */
typedef void (*cmk_loop_idle_fn)(cmk_loop *loop, void *arg);

/* cmk_loop_set_idle - set (or clear, fn NULL) the idle hook */
void cmk_loop_set_idle(cmk_loop *self, cmk_loop_idle_fn fn, void *arg);

/* cmk_loop_set_max_wait - cap on how long one poll waits (for external clocks); -1 none */
void cmk_loop_set_max_wait(cmk_loop *self, int64_t ms);

/* cmk_loop_run - run until a handler returns -1 or cmk_loop_stop; returns 0 */
int cmk_loop_run(cmk_loop *self);

/* cmk_loop_stop - make cmk_loop_run return after the current handler */
void cmk_loop_stop(cmk_loop *self);

#endif
