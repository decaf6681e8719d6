/*
 * log.h - one line per event, key=value, with process, environment and request id.
 *
 *   2026-11-22T17:46:26.123Z level=info proc=controller pid=412 env=- req=- event=peer.ready role=worker
 *
 * Daemons write to stderr, which their supervisor points at <run-dir>/logs/<name>.log.
 *
 * Bounded (cmk_log_limits): the same warning or error event is written at most warn_burst times
 * a minute; the rest are counted and reported in one line (event=log.suppressed of=EVENT
 * count=N) when the event comes again after its minute (or its slot is reused). A log file past max_size bytes is renamed to NAME.1 (one
 * generation kept, the older one dropped) and a new one is started.
 */
#ifndef CMK_LOG_H
#define CMK_LOG_H

#include <stdio.h>

enum { CMK_LOG_DEBUG = 0, CMK_LOG_INFO = 1, CMK_LOG_WARN = 2, CMK_LOG_ERROR = 3 };

/* cmk_log_init - name this process in every line; out NULL means stderr */
void cmk_log_init(const char *proc, FILE *out, int min_level);

/* cmk_log_limits - rotate stderr's file past max_size bytes (0: never) and rate-limit repeated
 * warnings to warn_burst a minute (0: no limit) */
void cmk_log_limits(long long max_size, int warn_burst);

/* cmk_log_defer - on: this thread's info lines may wait (at most 100 ms, and never past a
 * warning) for the next cmk_log_flush, so they go out in one write; the event loop sets it for
 * its thread and flushes before each wait (loop.c). off: flush and write each line at once. */
void cmk_log_defer(int on);

/* cmk_log_flush - write every line waiting (also at exit) */
void cmk_log_flush(void);

/* cmk_log_level_parse - "debug|info|warn|error" to a level; -1 if unknown */
int cmk_log_level_parse(const char *s);

/* cmk_log - one event line. env and req may be NULL ("-"). fmt adds key=value pairs. */
void cmk_log(int level, const char *env, const char *req, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define cmk_info(event, ...) cmk_log(CMK_LOG_INFO, NULL, NULL, event, __VA_ARGS__)
#define cmk_warn(event, ...) cmk_log(CMK_LOG_WARN, NULL, NULL, event, __VA_ARGS__)
#define cmk_error(event, ...) cmk_log(CMK_LOG_ERROR, NULL, NULL, event, __VA_ARGS__)
#define cmk_debug(event, ...) cmk_log(CMK_LOG_DEBUG, NULL, NULL, event, __VA_ARGS__)

#endif
