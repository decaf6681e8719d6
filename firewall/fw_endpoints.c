/*
 * fw_endpoints.c - the endpoint thread: accept, decide, serve, reset or hold (see
 * fw_endpoints.h). The thread owns the connections; the mutex guards what other threads
 * touch: the config, the fault, the counters and the stop and close-idle requests.
 */
#include "fw_endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "fw_engine.h"
#include "fw_httpmsg.h"

#define MAX_CONNS 1024            /* connections at once; more are reset */
#define IDLE_MS (30 * 1000)       /* an idle keep-alive connection is closed after this */
#define HOLD_MS (10 * 60 * 1000)  /* a dropped connection is held at most this long */
#define MAX_DELAY_MS 60000        /* longest /delay/<ms> */

/* What a connection is doing. */
typedef enum {
    C_READ = 0,  /* reading a request */
    C_WAIT = 1,  /* a response is ready, held back until deadline (latency, /delay) */
    C_WRITE = 2, /* writing a response */
    C_HOLD = 3,  /* dropped: never answered */
    C_DEAD = 4,  /* closed, to be freed */
} conn_state;

/* One accepted connection. */
typedef struct conn {
    int fd;                  /* the socket */
    conn_state state;        /* what it is doing */
    char ip[FW_ADDR_STRLEN]; /* caller's address */
    int port;                /* caller's port */
    char verdict[16];        /* the engine's label for it: allow, would_reject, ... */
    char rule[96];           /* "1:logic-apps" or "default" */
    char *in;                /* bytes read, not yet consumed */
    size_t in_len, in_cap;   /* length and capacity of in */
    char *out;               /* response being written */
    size_t out_len, out_off; /* its length and what was written */
    int close_after;         /* close once the response is written */
    int sent_continue;       /* 100 Continue sent for the current request */
    int64_t deadline;        /* mono ms: respond (WAIT), give up (HOLD), idle close (READ) */
    unsigned gen;            /* config generation it was admitted under */
    unsigned served;         /* responses queued on it */
    struct conn *next;       /* list link */
} conn;

/* How many connections one rule decided one way. */
typedef struct {
    int rule;         /* 0-based rule index, -1 for the default */
    char name[64];    /* rule name */
    char verdict[16]; /* fw_decision_label */
    uint64_t count;   /* connections */
} dec_count;

struct fw_endpoints {
    int lfd;                  /* listening socket */
    int wake;                 /* eventfd: look at the flags */
    fw_enforcer enforcer;     /* kernel or userspace */
    char endpoint[64];        /* "127.0.0.1:18080" */
    pthread_t thread;         /* the serving thread */
    int started;              /* thread running */
    conn *conns;              /* connections (thread only) */
    pthread_mutex_t lock;     /* guards everything below */
    const fw_config *cfg;     /* rules (borrowed), NULL: allow all */
    char cfg_name[128];       /* its name */
    int stop;                 /* end the thread */
    unsigned gen;             /* config generation: idle connections of older ones close */
    char fault[16];           /* "", "latency", "reset", "timeout" */
    int64_t fault_ms;         /* latency per response */
    int64_t fault_until;      /* mono ms the fault ends, 0: never */
    uint64_t connections;     /* accepted so far */
    uint64_t requests;        /* answered so far */
    int open, held;           /* open connections, of which held */
    dec_count *dec;           /* decision counts */
    size_t n_dec;             /* count */
};

/* fw_enforcer_name - name */
const char *fw_enforcer_name(fw_enforcer e)
{
    return e == FW_ENFORCER_KERNEL ? "kernel" : "userspace";
}

/* rst_close - close with a TCP reset */
static void rst_close(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* kill_conn - close a connection (reset or orderly) and mark it dead */
static void kill_conn(conn *c, int reset)
{
    if (c->fd >= 0) {
        if (reset)
            rst_close(c->fd);
        else
            close(c->fd);
    }
    c->fd = -1;
    c->state = C_DEAD;
}

/* count_decision - one more connection for (rule, verdict); under the lock */
static void count_decision(fw_endpoints *self, const fw_decision *d)
{
    const char *label = fw_decision_label(d);
    for (size_t i = 0; i < self->n_dec; i++)
        if (self->dec[i].rule == d->rule_index && !strcmp(self->dec[i].verdict, label)) {
            self->dec[i].count++;
            return;
        }
    if (self->n_dec % 16 == 0) {
        dec_count *p = realloc(self->dec, (self->n_dec + 16) * sizeof *p);
        if (!p)
            return;
        self->dec = p;
    }
    self->dec[self->n_dec] = (dec_count){ d->rule_index, "", "", 1 };
    snprintf(self->dec[self->n_dec].name, sizeof self->dec[0].name, "%s", d->rule_name);
    snprintf(self->dec[self->n_dec].verdict, sizeof self->dec[0].verdict, "%s", label);
    self->n_dec++;
}

/* count_metric - cmk_firewall_decisions_total{verdict, rule}: connections the endpoints
 * decided (in kernel mode, those the kernel let through) */
static void count_metric(const char *verdict, const char *rule)
{
    static cmk_family *f;
    if (!f)
        f = cmk_metrics_family("cmk_firewall_decisions_total",
                               "Connections to the customer endpoints decided by the firewall's "
                               "rule engine, by verdict and deciding rule (N:name or default).",
                               CMK_METRIC_COUNTER, "verdict,rule", NULL, 0);
    cmk_metric_inc(cmk_family_get2(f, verdict, rule));
}

/* fault_now - the active fault into kind (may become ""); under the lock */
static void fault_now(fw_endpoints *self, char kind[16], int64_t *ms)
{
    if (self->fault[0] && self->fault_until && cmk_mono_ms() >= self->fault_until) {
        cmk_info("fw.fault_over", "kind=%s", self->fault);
        self->fault[0] = '\0';
    }
    memcpy(kind, self->fault, 16);
    *ms = self->fault_ms;
}

/* admit - decide a new connection: serve (0), reset (1) or hold (2) */
static int admit(fw_endpoints *self, conn *c, uint16_t dport)
{
    fw_decision d = { FW_ALLOW, FW_ALLOW, false, -1, "default" };
    cmk_err err = CMK_ERR_INIT;
    char fault[16], cfgname[128];
    int64_t fault_ms;
    fw_addr src;
    int act = 0, mismatch = 0;

    pthread_mutex_lock(&self->lock);
    self->connections++;
    if (self->cfg && (fw_addr_parse(c->ip, &src, &err) < 0 ||
                      fw_engine_decide(self->cfg, &src, dport, &d, &err) < 0))
        cmk_warn("fw.decide_failed", "src=%s error=\"%s\"", c->ip, err.msg);
    snprintf(c->verdict, sizeof c->verdict, "%s", fw_decision_label(&d));
    if (d.rule_index < 0)
        snprintf(c->rule, sizeof c->rule, "default");
    else
        snprintf(c->rule, sizeof c->rule, "%d:%s", d.rule_index + 1, d.rule_name);
    count_decision(self, &d);
    count_metric(c->verdict, c->rule);
    fault_now(self, fault, &fault_ms);
    snprintf(cfgname, sizeof cfgname, "%s", self->cfg_name);
    c->gen = self->gen;
    pthread_mutex_unlock(&self->lock);

    if (self->enforcer == FW_ENFORCER_USERSPACE && d.verdict != FW_ALLOW)
        act = d.verdict == FW_REJECT ? 1 : 2;
    else {
        mismatch = self->enforcer == FW_ENFORCER_KERNEL && d.verdict != FW_ALLOW;
        if (!strcmp(fault, "reset"))
            act = 1;
        else if (!strcmp(fault, "timeout"))
            act = 2;
    }
    cmk_log(mismatch ? CMK_LOG_WARN : CMK_LOG_INFO, NULL, NULL, mismatch ? "fw.mismatch" : "fw.decision",
            "enforcer=%s src=%s sport=%d dport=%u verdict=%s rule=%s config=%s action=%s%s%s",
            fw_enforcer_name(self->enforcer), c->ip, c->port, dport, c->verdict, c->rule, cfgname,
            act == 1 ? "reset" : act == 2 ? "hold" : "serve", fault[0] ? " fault=" : "", fault);
    return act;
}

/* on_accept - take every pending connection */
static void on_accept(fw_endpoints *self, int *n_open)
{
    for (;;) {
        struct sockaddr_storage peer, local;
        socklen_t pl = sizeof peer, ll = sizeof local;
        int fd = accept4(self->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        fw_addr a;
        conn *c;
        uint16_t dport = 0;
        int act;

        if (fd < 0)
            return;
        if (*n_open >= MAX_CONNS || !(c = calloc(1, sizeof *c))) {
            cmk_warn("fw.too_many_connections", "limit=%d", MAX_CONNS);
            rst_close(fd);
            continue;
        }
        c->fd = fd;
        if (fw_addr_from_sockaddr((struct sockaddr *)&peer, &a, NULL) == 0)
            fw_addr_format(&a, c->ip, sizeof c->ip);
        c->port = peer.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&peer)->sin_port)
                                            : ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
        if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
            dport = local.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&local)->sin_port)
                                               : ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
        act = admit(self, c, dport);
        if (act == 1) {
            rst_close(fd);
            free(c);
            continue;
        }
        c->state = act == 2 ? C_HOLD : C_READ;
        c->deadline = cmk_mono_ms() + (act == 2 ? HOLD_MS : IDLE_MS);
        c->next = self->conns;
        self->conns = c;
        (*n_open)++;
    }
}

/* route - the response to one request (malloc'd) and how long to hold it back */
static char *route(fw_endpoints *self, conn *c, const fw_http_req *r, const char *body,
                   size_t blen, size_t *len, int64_t *delay)
{
    char vh[64], rh[160], ch[160], *doc = NULL, *resp;
    const char *extra[] = { vh, rh, ch, NULL };
    int status = 200;
    long n = 0;
    cJSON *fw = cJSON_CreateObject();

    pthread_mutex_lock(&self->lock);
    snprintf(ch, sizeof ch, "X-Cmk-Firewall-Config: %s", self->cfg_name);
    cJSON_AddStringToObject(fw, "config", self->cfg_name);
    pthread_mutex_unlock(&self->lock);
    snprintf(vh, sizeof vh, "X-Cmk-Firewall-Verdict: %s", c->verdict);
    snprintf(rh, sizeof rh, "X-Cmk-Firewall-Rule: %s", c->rule);
    cJSON_AddStringToObject(fw, "enforcer", fw_enforcer_name(self->enforcer));
    cJSON_AddStringToObject(fw, "verdict", c->verdict);
    cJSON_AddStringToObject(fw, "rule", c->rule);
    *delay = 0;
    if (!strcmp(r->path, "/anything") || !strncmp(r->path, "/anything/", 10))
        doc = fw_http_echo(r, body, blen, c->ip, c->port, self->endpoint, fw), fw = NULL;
    else if (sscanf(r->path, "/delay/%ld", &n) == 1 && n >= 0) {
        *delay = n > MAX_DELAY_MS ? MAX_DELAY_MS : n;
        doc = fw_http_echo(r, body, blen, c->ip, c->port, self->endpoint, fw), fw = NULL;
    } else if (sscanf(r->path, "/status/%ld", &n) == 1 && n >= 200 && n <= 599) {
        char tmp[32];
        status = (int)n;
        snprintf(tmp, sizeof tmp, n == 204 ? "" : "{\"status\":%ld}", n);
        doc = strdup(tmp);
    } else if (!strcmp(r->path, "/health"))
        doc = strdup("{\"ok\":true}");
    else {
        status = 404;
        doc = strdup("{\"error\":\"no such endpoint; try /anything, /status/<code>, "
                     "/delay/<ms> or /health\"}");
    }
    cJSON_Delete(fw);
    resp = fw_http_response(status, "application/json", doc ? doc : "", doc ? strlen(doc) : 0,
                            r->keep_alive, extra, len);
    if (resp && !strcmp(r->method, "HEAD") && doc)
        *len -= strlen(doc);
    free(doc);
    return resp;
}

/* queue_out - set a response to write (now or after delay) */
static void queue_out(conn *c, char *resp, size_t len, int close_after, int64_t delay)
{
    free(c->out);
    c->out = resp;
    c->out_len = resp ? len : 0;
    c->out_off = 0;
    c->close_after = close_after || !resp;
    c->state = delay > 0 ? C_WAIT : C_WRITE;
    c->deadline = cmk_mono_ms() + delay;
}

/* process - answer a complete request in c->in, if there is one */
static void process(fw_endpoints *self, conn *c)
{
    fw_http_req r;
    cmk_err err = CMK_ERR_INIT;
    char fault[16];
    int64_t fault_ms = 0, delay = 0;
    size_t len = 0, total;
    int rc = fw_http_parse(c->in, c->in_len, &r, &err);
    char *resp;

    if (rc == 1)
        return;
    if (rc < 0 || r.chunked) {
        int st = rc == CMK_ELIMIT ? 413 : r.chunked ? 411 : 400;
        const char *doc = st == 411 ? "{\"error\":\"send a Content-Length\"}" : "{\"error\":\"bad request\"}";
        fw_http_req_clear(&r);
        queue_out(c, fw_http_response(st, "application/json", doc, strlen(doc), false, NULL, &len),
                  len, 1, 0);
        return;
    }
    total = r.head_len + r.content_length;
    if (c->in_len < total) {
        if (r.expect_continue && !c->sent_continue) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            c->sent_continue = send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) > 0;
        }
        fw_http_req_clear(&r);
        return;
    }
    pthread_mutex_lock(&self->lock);
    self->requests++;
    fault_now(self, fault, &fault_ms);
    pthread_mutex_unlock(&self->lock);
    if (!strcmp(fault, "reset") || !strcmp(fault, "timeout")) {
        /* a connection admitted before the fault (a caller's pooled keep-alive one) meets it
         * on its next request: reset, or held unanswered */
        cmk_info("fw.fault_hit", "src=%s sport=%d kind=%s served_before=%u", c->ip, c->port, fault,
                 c->served);
        fw_http_req_clear(&r);
        if (!strcmp(fault, "reset")) {
            kill_conn(c, 1);
            return;
        }
        c->in_len = 0;
        c->state = C_HOLD;
        c->deadline = cmk_mono_ms() + HOLD_MS;
        return;
    }
    resp = route(self, c, &r, c->in + r.head_len, r.content_length, &len, &delay);
    if (!strcmp(fault, "latency"))
        delay += fault_ms;
    memmove(c->in, c->in + total, c->in_len - total);
    c->in_len -= total;
    c->served++;
    queue_out(c, resp, len, !r.keep_alive, delay);
    fw_http_req_clear(&r);
}

/* do_read - bytes from the caller */
static void do_read(fw_endpoints *self, conn *c)
{
    size_t limit = FW_HTTP_MAX_HEAD + FW_HTTP_MAX_BODY + 1;
    int eof = 0;
    for (;;) {
        ssize_t n;
        if (c->in_len == c->in_cap) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
            char *p;
            if (cap > limit)
                cap = limit;
            if (cap <= c->in_cap || !(p = realloc(c->in, cap))) {
                kill_conn(c, 1);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            kill_conn(c, 1);
            return;
        }
        eof = 1;
        break;
    }
    c->deadline = cmk_mono_ms() + IDLE_MS;
    process(self, c);
    if (eof) {
        if (c->state == C_WRITE || c->state == C_WAIT)
            c->close_after = 1; /* the caller half-closed: answer, then close */
        else
            kill_conn(c, 0);
    }
}

/* do_write - write what is pending; back to reading (or closed) when done */
static void do_write(fw_endpoints *self, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            kill_conn(c, 0);
            return;
        }
        c->out_off += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->close_after) {
        kill_conn(c, 0);
        return;
    }
    c->state = C_READ;
    c->sent_continue = 0;
    c->deadline = cmk_mono_ms() + IDLE_MS;
    if (c->in_len)
        process(self, c);
}

/* events_of - what to poll a connection for */
static short events_of(const conn *c)
{
    switch (c->state) {
    case C_READ: return POLLIN | POLLRDHUP;
    case C_WRITE: return POLLOUT;
    default: return POLLRDHUP;
    }
}

/* stale_idle - a keep-alive connection admitted under an older config, waiting with nothing
 * to read: closing it makes the caller's next request meet the new rules (a caller reusing a
 * connection retries on a fresh one) */
static int stale_idle(const conn *c, unsigned gen)
{
    char b;
    return c->gen != gen && c->served && !c->in_len &&
           recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* sweep - free dead connections, apply deadlines, close idle connections admitted under an
 * older config; returns the poll timeout */
static int sweep(fw_endpoints *self, unsigned gen, int *n_open, int *n_held)
{
    int64_t now = cmk_mono_ms(), wait = 1000;
    *n_open = *n_held = 0;
    for (conn **pp = &self->conns; *pp;) {
        conn *c = *pp;
        if (c->state == C_WAIT && now >= c->deadline)
            c->state = C_WRITE;
        else if (c->state == C_HOLD && now >= c->deadline)
            kill_conn(c, 0);
        else if (c->state == C_READ && (now >= c->deadline || stale_idle(c, gen)))
            kill_conn(c, 0);
        if (c->state == C_DEAD) {
            *pp = c->next;
            free(c->in);
            free(c->out);
            free(c);
            continue;
        }
        if (c->state != C_WRITE && c->deadline - now < wait)
            wait = c->deadline - now;
        (*n_open)++;
        *n_held += c->state == C_HOLD;
        pp = &c->next;
    }
    return wait < 0 ? 0 : (int)wait;
}

/* run - the serving thread */
static void *run(void *arg)
{
    fw_endpoints *self = arg;
    struct pollfd *pfd = calloc(MAX_CONNS + 2, sizeof *pfd);
    conn **who = calloc(MAX_CONNS + 2, sizeof *who);
    int n_open = 0, n_held = 0;

    while (pfd && who) {
        int stop, timeout, n = 2;
        unsigned gen;
        pthread_mutex_lock(&self->lock);
        stop = self->stop;
        gen = self->gen;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            break;
        timeout = sweep(self, gen, &n_open, &n_held);
        pthread_mutex_lock(&self->lock);
        self->open = n_open;
        self->held = n_held;
        pthread_mutex_unlock(&self->lock);
        pfd[0] = (struct pollfd){ self->wake, POLLIN, 0 };
        pfd[1] = (struct pollfd){ self->lfd, POLLIN, 0 };
        for (conn *c = self->conns; c && n < MAX_CONNS + 2; c = c->next, n++) {
            pfd[n] = (struct pollfd){ c->fd, events_of(c), 0 };
            who[n] = c;
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(self->wake, &v, sizeof v) < 0 && errno != EAGAIN)
                break;
        }
        for (int i = 2; i < n; i++) {
            conn *c = who[i];
            short re = pfd[i].revents;
            if (!re || c->state == C_DEAD)
                continue;
            if (c->state == C_READ && (re & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
                do_read(self, c);
            else if (c->state == C_WRITE && (re & (POLLOUT | POLLHUP | POLLERR)))
                do_write(self, c);
            else if (re & (POLLRDHUP | POLLHUP | POLLERR))
                kill_conn(c, 0);
        }
        for (conn *c = self->conns; c; c = c->next)
            if (c->state == C_WRITE && c->out_off == 0)
                do_write(self, c);
        if (pfd[1].revents & POLLIN)
            on_accept(self, &n_open);
    }
    while (self->conns) {
        conn *c = self->conns;
        self->conns = c->next;
        kill_conn(c, 0);
        free(c->in);
        free(c->out);
        free(c);
    }
    free(pfd);
    free(who);
    return NULL;
}

/* fw_endpoints_new - take the socket, start the thread */
fw_endpoints *fw_endpoints_new(int listen_fd, fw_enforcer enforcer, const char *endpoint,
                               cmk_err *err)
{
    fw_endpoints *self = calloc(1, sizeof *self);
    if (!self) {
        close(listen_fd);
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->lfd = listen_fd;
    self->enforcer = enforcer;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    snprintf(self->cfg_name, sizeof self->cfg_name, "-");
    pthread_mutex_init(&self->lock, NULL);
    self->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->wake < 0 || pthread_create(&self->thread, NULL, run, self) != 0) {
        cmk_err_set(err, CMK_EIO, "cannot start the endpoint thread: %s", strerror(errno));
        fw_endpoints_destroy(&self);
        return NULL;
    }
    self->started = 1;
    return self;
}

/* poke - wake the thread */
static void poke(fw_endpoints *self)
{
    uint64_t one = 1;
    if (write(self->wake, &one, sizeof one) < 0 && errno != EAGAIN)
        cmk_warn("fw.wake_failed", "error=\"%s\"", strerror(errno));
}

/* fw_endpoints_destroy - stop */
void fw_endpoints_destroy(fw_endpoints **self_p)
{
    fw_endpoints *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->lock);
        self->stop = 1;
        pthread_mutex_unlock(&self->lock);
        poke(self);
        pthread_join(self->thread, NULL);
    }
    if (self->lfd >= 0)
        close(self->lfd);
    if (self->wake >= 0)
        close(self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self->dec);
    free(self);
    *self_p = NULL;
}

/* fw_endpoints_set_config - swap the rules */
void fw_endpoints_set_config(fw_endpoints *self, const fw_config *cfg)
{
    pthread_mutex_lock(&self->lock);
    self->cfg = cfg;
    snprintf(self->cfg_name, sizeof self->cfg_name, "%s", cfg ? fw_config_name(cfg) : "-");
    self->n_dec = 0;
    self->gen++;
    pthread_mutex_unlock(&self->lock);
    poke(self);
}

/* fw_endpoints_fault - set or clear a fault */
int fw_endpoints_fault(fw_endpoints *self, const char *kind, int64_t ms, int64_t duration_ms,
                       cmk_err *err)
{
    if (!kind || (strcmp(kind, "latency") && strcmp(kind, "reset") && strcmp(kind, "timeout") &&
                  strcmp(kind, "none")))
        return cmk_err_set(err, CMK_EINVAL, "fault kind must be latency, reset, timeout or none");
    if (!strcmp(kind, "latency") && (ms <= 0 || ms > MAX_DELAY_MS))
        return cmk_err_set(err, CMK_EINVAL, "a latency fault needs ms from 1 to %d", MAX_DELAY_MS);
    pthread_mutex_lock(&self->lock);
    snprintf(self->fault, sizeof self->fault, "%s", strcmp(kind, "none") ? kind : "");
    self->fault_ms = ms;
    self->fault_until = duration_ms > 0 ? cmk_mono_ms() + duration_ms : 0;
    pthread_mutex_unlock(&self->lock);
    cmk_info("fw.fault", "kind=%s ms=%lld duration_ms=%lld", kind, (long long)ms,
             (long long)duration_ms);
    return 0;
}

/* fw_endpoints_stats - counters as JSON */
cJSON *fw_endpoints_stats(fw_endpoints *self)
{
    cJSON *j = cJSON_CreateObject(), *d, *f;
    char kind[16];
    int64_t ms;

    cJSON_AddStringToObject(j, "endpoint", self->endpoint);
    cJSON_AddStringToObject(j, "enforcer", fw_enforcer_name(self->enforcer));
    pthread_mutex_lock(&self->lock);
    fault_now(self, kind, &ms);
    cJSON_AddNumberToObject(j, "connections", (double)self->connections);
    cJSON_AddNumberToObject(j, "requests", (double)self->requests);
    cJSON_AddNumberToObject(j, "open", self->open);
    cJSON_AddNumberToObject(j, "held", self->held);
    f = cJSON_AddObjectToObject(j, "fault");
    cJSON_AddStringToObject(f, "kind", kind[0] ? kind : "none");
    if (kind[0]) {
        cJSON_AddNumberToObject(f, "ms", (double)ms);
        cJSON_AddNumberToObject(f, "remaining_ms", self->fault_until
                                    ? (double)(self->fault_until - cmk_mono_ms()) : -1);
    }
    d = cJSON_AddArrayToObject(j, "decisions");
    for (size_t i = 0; i < self->n_dec; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rule", self->dec[i].rule + 1);
        cJSON_AddStringToObject(o, "name", self->dec[i].name);
        cJSON_AddStringToObject(o, "verdict", self->dec[i].verdict);
        cJSON_AddNumberToObject(o, "count", (double)self->dec[i].count);
        cJSON_AddItemToArray(d, o);
    }
    pthread_mutex_unlock(&self->lock);
    return j;
}
