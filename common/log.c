/*
 * log.c - one line per event, key=value.
 */
#include "log.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    char proc[32];  /* process name: controller, worker:shared, ... */
    FILE *out;      /* NULL: stderr */
    int min_level;  /* lines below this level are dropped */
} log_state = { "cmk", NULL, CMK_LOG_INFO };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static pid_t log_pid;                     /* this process's pid, asked once (0: not yet) */
static pthread_once_t log_pid_once = PTHREAD_ONCE_INIT;

/* Lines written by a loop thread between two polls wait here and go out in one write when the
 * loop is about to wait (cmk_log_flush), so a busy worker does not pay a system call per line
 * (issue #18); warnings, errors, other threads' lines and a line 100 ms after the oldest one
 * waiting flush at once. */
#define LOG_BUF_SIZE 32768
#define LOG_BUF_MAX_AGE_US 100000
static char log_buf[LOG_BUF_SIZE];
static size_t log_len;                 /* bytes waiting in log_buf (log_lock) */
static long long log_buf_since_us;     /* when the oldest waiting line was made */
static __thread int log_deferring;     /* this thread is a loop's: its info lines may wait */

/* flush_locked - write the waiting lines (lock held) */
static void flush_locked(FILE *out)
{
    if (log_len) {
        fwrite(log_buf, 1, log_len, out);
        fflush(out);
        log_len = 0;
    }
}

/* cmk_log_flush - write the lines waiting */
void cmk_log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    flush_locked(log_state.out ? log_state.out : stderr);
    pthread_mutex_unlock(&log_lock);
}

/* cmk_log_defer - this thread's info lines may wait for the next cmk_log_flush (on) or not */
void cmk_log_defer(int on)
{
    log_deferring = on;
    if (!on)
        cmk_log_flush();
}

/* log_pid_reset - a forked child asks again; the lines waiting are its parent's to write */
static void log_pid_reset(void)
{
    log_pid = 0;
    log_len = 0;
    pthread_mutex_unlock(&log_lock); /* held by this thread since log_fork_prepare */
}

/* log_fork_prepare - hold the lock across fork, so the child gets a consistent one */
static void log_fork_prepare(void)
{
    pthread_mutex_lock(&log_lock);
}

/* log_fork_parent - release it again in the parent */
static void log_fork_parent(void)
{
    pthread_mutex_unlock(&log_lock);
}

/* log_pid_init - register the fork handlers and the flush at exit */
static void log_pid_init(void)
{
    pthread_atfork(log_fork_prepare, log_fork_parent, log_pid_reset);
    atexit(cmk_log_flush);
}

/* my_pid - getpid() without a system call per log line */
static int my_pid(void)
{
    pthread_once(&log_pid_once, log_pid_init);
    if (!log_pid)
        log_pid = getpid();
    return (int)log_pid;
}

#define LOG_RATE_SLOTS 64          /* distinct warning events tracked at once */
#define LOG_RATE_WINDOW_S 60       /* the window warn_burst counts over */
#define LOG_ROTATE_CHECK 65536     /* bytes written between two size checks */

/* One rate-limited event. */
typedef struct {
    char event[48];    /* the event name */
    time_t window;     /* start of its current window */
    int count;         /* lines in this window */
    long suppressed;   /* lines not written in this window */
} log_rate;

static struct {
    long long max_size;             /* rotate past this (0: never) */
    int burst;                      /* warnings a window per event (0: no limit) */
    long long since_check;          /* bytes since the last size check */
    log_rate slots[LOG_RATE_SLOTS]; /* per event */
} log_limits;

/* cmk_log_limits - rotation and rate limit */
void cmk_log_limits(long long max_size, int warn_burst)
{
    pthread_mutex_lock(&log_lock);
    log_limits.max_size = max_size;
    log_limits.burst = warn_burst;
    pthread_mutex_unlock(&log_lock);
}

/* rotate_locked - stderr's file past max_size: rename it NAME.1 and start a new one (lock held) */
static void rotate_locked(FILE *out)
{
    struct stat st;
    char link[64], path[PATH_MAX], old[PATH_MAX + 3];
    ssize_t n;
    int fd, ofd = fileno(out);
    if (fstat(ofd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < log_limits.max_size)
        return;
    snprintf(link, sizeof link, "/proc/self/fd/%d", ofd);
    if ((n = readlink(link, path, sizeof path - 1)) <= 0)
        return;
    path[n] = '\0';
    snprintf(old, sizeof old, "%s.1", path);
    if (rename(path, old) < 0)
        return;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
        return;
    fflush(out);
    dup2(fd, ofd);
    if (ofd == 2)
        dup2(fd, 1); /* stdout went to the same file */
    close(fd);
}

/* rate_locked - whether a warning line may be written now; emits the summary of the last window
 * (lock held). Returns 0 to drop the line. */
static int rate_locked(FILE *out, const char *event, time_t now, const char *head)
{
    log_rate *slot = NULL, *oldest = &log_limits.slots[0];
    for (int i = 0; i < LOG_RATE_SLOTS && !slot; i++) {
        log_rate *s = &log_limits.slots[i];
        if (strncmp(s->event, event, sizeof s->event - 1) == 0 && s->event[0])
            slot = s;
        else if (s->window < oldest->window)
            oldest = s;
    }
    if (!slot) {
        slot = oldest;
        if (slot->suppressed)
            fprintf(out, "%s event=log.suppressed of=%s count=%ld window_s=%d\n", head, slot->event, slot->suppressed,
                    LOG_RATE_WINDOW_S);
        memset(slot, 0, sizeof *slot);
        snprintf(slot->event, sizeof slot->event, "%s", event);
        slot->window = now;
    }
    if (now - slot->window >= LOG_RATE_WINDOW_S) {
        if (slot->suppressed)
            fprintf(out, "%s event=log.suppressed of=%s count=%ld window_s=%d\n", head, slot->event, slot->suppressed,
                    LOG_RATE_WINDOW_S);
        slot->window = now;
        slot->count = 0;
        slot->suppressed = 0;
    }
    if (++slot->count <= log_limits.burst)
        return 1;
    slot->suppressed++;
    return 0;
}
static const char *level_names[] = { "debug", "info", "warn", "error" };

/* cmk_log_init - name this process in every line */
void cmk_log_init(const char *proc, FILE *out, int min_level)
{
    pthread_mutex_lock(&log_lock);
    flush_locked(log_state.out ? log_state.out : stderr); /* lines waiting go where they were meant to */
    snprintf(log_state.proc, sizeof log_state.proc, "%s", proc ? proc : "cmk");
    log_state.out = out;
    log_state.min_level = min_level;
    pthread_mutex_unlock(&log_lock);
}

/* cmk_log_level_parse - level name to level */
int cmk_log_level_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* cmk_log - one event line */
void cmk_log(int level, const char *env, const char *req, const char *event, const char *fmt, ...)
{
    static __thread time_t ts_sec = -1; /* the second ts_text shows */
    static __thread char ts_text[32];
    char line[2048];
    struct timeval tv;
    int n;
    long long now_us;
    va_list ap;
    FILE *out = log_state.out ? log_state.out : stderr;

    if (level < log_state.min_level)
        return;
    if (level < 0 || level > CMK_LOG_ERROR)
        level = CMK_LOG_ERROR;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != ts_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        strftime(ts_text, sizeof ts_text, "%Y-%m-%dT%H:%M:%S", &tm);
        ts_sec = tv.tv_sec;
    }
    n = snprintf(line, sizeof line, "%s.%03ldZ level=%s proc=%s pid=%d env=%s req=%s event=%s", ts_text,
                 (long)(tv.tv_usec / 1000), level_names[level], log_state.proc, my_pid(),
                 env && *env ? env : "-", req && *req ? req : "-", event);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    if (fmt && *fmt && (size_t)n < sizeof line - 2) {
        int m;
        line[n++] = ' ';
        va_start(ap, fmt);
        m = vsnprintf(line + n, sizeof line - 1 - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += (size_t)m < sizeof line - 1 - (size_t)n ? m : (int)(sizeof line - 2 - (size_t)n);
    }
    line[n++] = '\n';
    now_us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    pthread_mutex_lock(&log_lock);
    if (level >= CMK_LOG_WARN && log_limits.burst > 0) {
        char head[160];
        snprintf(head, sizeof head, "%s.%03ldZ level=info proc=%s pid=%d env=- req=-", ts_text,
                 (long)(tv.tv_usec / 1000), log_state.proc, my_pid());
        flush_locked(out); /* a summary line it writes comes after the lines before it */
        if (!rate_locked(out, event, tv.tv_sec, head)) {
            pthread_mutex_unlock(&log_lock);
            return;
        }
    }
    if (log_len + (size_t)n > sizeof log_buf)
        flush_locked(out);
    if (!log_len)
        log_buf_since_us = now_us;
    memcpy(log_buf + log_len, line, (size_t)n);
    log_len += (size_t)n;
    if (!log_deferring || level >= CMK_LOG_WARN || now_us - log_buf_since_us >= LOG_BUF_MAX_AGE_US)
        flush_locked(out);
    log_limits.since_check += n;
    if (log_limits.max_size > 0 && log_limits.since_check >= (log_limits.max_size < LOG_ROTATE_CHECK * 4 ? 1 : LOG_ROTATE_CHECK)) {
        log_limits.since_check = 0;
        flush_locked(out);
        rotate_locked(out);
    }
    pthread_mutex_unlock(&log_lock);
}
