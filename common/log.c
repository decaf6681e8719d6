/*
 * log.c - one line per event, key=value.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    char proc[32];  /* process name: controller, worker:shared, ... */
    FILE *out;      /* NULL: stderr */
    int min_level;  /* lines below this level are dropped */
} log_state = { "cmk", NULL, CMK_LOG_INFO };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *level_names[] = { "debug", "info", "warn", "error" };

/* cmk_log_init - name this process in every line */
void cmk_log_init(const char *proc, FILE *out, int min_level)
{
    snprintf(log_state.proc, sizeof log_state.proc, "%s", proc ? proc : "cmk");
    log_state.out = out;
    log_state.min_level = min_level;
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
    char line[2048], ts[32];
    struct timeval tv;
    struct tm tm;
    int n;
    va_list ap;
    FILE *out = log_state.out ? log_state.out : stderr;

    if (level < log_state.min_level)
        return;
    if (level < 0 || level > CMK_LOG_ERROR)
        level = CMK_LOG_ERROR;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof line, "%s.%03ldZ level=%s proc=%s pid=%d env=%s req=%s event=%s", ts,
                 (long)(tv.tv_usec / 1000), level_names[level], log_state.proc, (int)getpid(),
                 env && *env ? env : "-", req && *req ? req : "-", event);
    if (fmt && *fmt && n > 0 && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&log_lock);
    fputs(line, out);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}
