/*
 * load_http.c - the phases of an HTTP-trigger workload of cmk-bench load ("flows.trigger":
 * "http"): C client threads, each with its own libcurl handle (keep-alive), POST the trigger
 * body to the flows' URLs on the gateway (<run>/gateway.http), as the systems that call such
 * flows do. A closed loop keeps C requests in flight; a rate spaces the sends evenly across
 * the threads. A 2xx answer with the run id (x-ms-workflow-run-id) is an acknowledged run, to
 * be verified with run.show afterwards like every other; anything else is a failure by cause
 * ("http:<status>", "curl:<error>"). The accounting goes through ld_record_run under one lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/clock.h"
#include "common/util.h"
#include "load_int.h"

/* The phase shared by the client threads. */
typedef struct {
    ld_run *r;                /* the load run */
    ld_phase *ph;             /* the phase */
    char base[128];           /* "http://127.0.0.1:PORT" */
    char *body;               /* the trigger body (JSON text) */
    int64_t deadline_ns;      /* end by time (0: by count) */
    uint64_t total;           /* end by count */
    int64_t interval_ns;      /* rate: between two sends (0: closed loop) */
    pthread_mutex_t lock;     /* the counters below and the run's accounting */
    uint64_t next;            /* requests handed out */
    int64_t next_send_ns;     /* rate: when the next send is due */
    int inflight;             /* requests being performed */
} lh_phase;

/* One answer being read. */
typedef struct {
    char run[64];   /* x-ms-workflow-run-id */
    char body[256]; /* the start of the body (for failure examples) */
    size_t blen;    /* bytes kept */
} lh_answer;

/* on_header - keep the run id header */
static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    lh_answer *a = arg;
    size_t len = size * n;
    static const char name[] = "x-ms-workflow-run-id:";

    if (len > sizeof name - 1 && strncasecmp(buf, name, sizeof name - 1) == 0) {
        const char *v = buf + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof a->run)
            vl = sizeof a->run - 1;
        memcpy(a->run, v, vl);
        a->run[vl] = '\0';
    }
    return len;
}

/* on_body - keep the start of the body */
static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
    lh_answer *a = arg;
    size_t len = size * n, room = sizeof a->body - 1 - a->blen;
    if (room > len)
        room = len;
    memcpy(a->body + a->blen, buf, room);
    a->blen += room;
    a->body[a->blen] = '\0';
    return len;
}

/* take - the next request to send (its target index), or -1 when the phase is over; with a
 * rate, *due_ns gets when to send it */
static int64_t take(lh_phase *h, int64_t *due_ns)
{
    int64_t item = -1, now = cmk_mono_ns();

    pthread_mutex_lock(&h->lock);
    if ((!h->deadline_ns || now < h->deadline_ns) && h->next < h->total) {
        item = (int64_t)(h->next++ % (uint64_t)h->r->ntargets);
        *due_ns = 0;
        if (h->interval_ns > 0) {
            if (h->next_send_ns < now)
                h->next_send_ns = now;
            *due_ns = h->next_send_ns;
            h->next_send_ns += h->interval_ns;
        }
        h->inflight++;
        h->ph->submitted++;
    }
    pthread_mutex_unlock(&h->lock);
    return item;
}

/* client - one client thread: POST, record, again */
static void *client(void *arg)
{
    lh_phase *h = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    int64_t item, due;

    if (!c) {
        pthread_mutex_lock(&h->lock);
        ld_fail(h->r, "bench-curl", "curl_easy_init failed");
        pthread_mutex_unlock(&h->lock);
        curl_slist_free_all(hdr);
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->r->wl.request_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* loopback only: never through a proxy */
    while ((item = take(h, &due)) >= 0) {
        lh_answer a;
        char url[768], cause[48];
        long status = 0;
        CURLcode cc;
        int64_t t0, now;

        memset(&a, 0, sizeof a);
        if (due > 0) {
            int64_t wait = due - cmk_mono_ns();
            if (wait > 0)
                nanosleep(&(struct timespec){(time_t)(wait / 1000000000), (long)(wait % 1000000000)}, NULL);
        }
        snprintf(url, sizeof url, "%s%s", h->base, h->r->targets[item].path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        t0 = cmk_mono_ns();
        cc = curl_easy_perform(c);
        now = cmk_mono_ns();
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        pthread_mutex_lock(&h->lock);
        if (cc != CURLE_OK) {
            snprintf(cause, sizeof cause, "curl:%d", (int)cc);
            ld_record_run(h->r, h->ph, now - t0, now, (size_t)item, NULL, NULL, cause, curl_easy_strerror(cc));
        } else if (status < 200 || status > 299 || !a.run[0]) {
            snprintf(cause, sizeof cause, a.run[0] ? "http:%ld" : "http:%ld-no-run-id", status);
            ld_record_run(h->r, h->ph, now - t0, now, (size_t)item, NULL, NULL, cause, a.body);
        } else {
            ld_record_run(h->r, h->ph, now - t0, now, (size_t)item, a.run, "Succeeded", NULL, NULL);
        }
        h->inflight--;
        pthread_mutex_unlock(&h->lock);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return NULL;
}

/* gateway_base - "http://ADDR" from <run>/gateway.http */
static int gateway_base(const char *run_dir, char *out, size_t cap, cmk_err *err)
{
    char path[4200], addr[96] = "";
    FILE *f;

    snprintf(path, sizeof path, "%s/gateway.http", run_dir);
    if (!(f = fopen(path, "r")))
        return cmk_err_set(err, CMK_EUNAVAIL, "cannot read %s: is the gateway running?", path);
    if (!fgets(addr, sizeof addr, f))
        addr[0] = '\0';
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    if (!addr[0])
        return cmk_err_set(err, CMK_EUNAVAIL, "%s is empty: the gateway has no HTTP address", path);
    snprintf(out, cap, "http://%s", addr);
    return 0;
}

/* ld_run_phase_http - run phase i with C client threads */
int ld_run_phase_http(ld_run *r, int i, cmk_err *err)
{
    ld_phase *ph = &r->phases[i];
    lh_phase h = {.r = r, .ph = ph};
    pthread_t *th;
    int n = ph->clients, started = 0, rc;

    if ((rc = gateway_base(r->run_dir, h.base, sizeof h.base, err)) < 0)
        return rc;
    h.body = r->wl.body ? cJSON_PrintUnformatted(r->wl.body) : strdup("{}");
    if (!h.body || !(th = calloc((size_t)n, sizeof *th))) {
        free(h.body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&h.lock, NULL);
    ph->start_ns = cmk_mono_ns();
    ph->end_ns = ph->start_ns;
    if (i == 0)
        r->t0_ns = ph->start_ns;
    ph->pt_first = r->npts;
    h.deadline_ns = ph->ph.duration_ms ? ph->start_ns + ph->ph.duration_ms * 1000000 : 0;
    h.total = ph->ph.requests ? ph->ph.requests : UINT64_MAX;
    h.interval_ns = ph->ph.rate > 0 ? (int64_t)(1e9 / ph->ph.rate) : 0;
    for (int k = 0; k < n; k++)
        if (pthread_create(&th[k], NULL, client, &h) == 0)
            started++;
        else
            break;
    while (1) { /* progress once a second until the clients are done */
        int inflight, over;
        int64_t now = cmk_mono_ns();
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
        pthread_mutex_lock(&h.lock);
        inflight = h.inflight;
        over = (h.deadline_ns && now >= h.deadline_ns) || h.next >= h.total;
        if (now >= r->next_sample_ns) {
            double el = (double)(now - ph->start_ns) / 1e9;
            r->next_sample_ns = now + 1000000000;
            bench_progress_line(&r->prog, "[%s] %.0fs  %.0f runs/s  p99 %.1f ms  failed %llu  in flight %d",
                                ph->ph.name, el, el > 0 ? (double)ph->acked / el : 0,
                                (double)bench_percentile(&ph->lat, 99) / 1e6,
                                (unsigned long long)ph->failed, inflight);
        }
        pthread_mutex_unlock(&h.lock);
        ld_sample_procs(r, -1);
        if (over && inflight == 0)
            break;
        if (started == 0)
            break;
    }
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&h.lock);
    free(th);
    free(h.body);
    ph->pt_end = r->npts;
    if (h.deadline_ns && ph->end_ns < h.deadline_ns)
        ph->end_ns = h.deadline_ns;
    ph->runs_s = ph->end_ns > ph->start_ns
                     ? (double)ph->acked / ((double)(ph->end_ns - ph->start_ns) / 1e9)
                     : 0;
    if (started < n)
        return cmk_err_set(err, CMK_ENOMEM, "could start only %d of %d client threads", started, n);
    return 0;
}
