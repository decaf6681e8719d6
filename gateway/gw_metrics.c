/*
 * gw_metrics.c - counters per (tag, outcome), a latency histogram per tag, ingress statuses;
 * Prometheus text format 0.0.4.
 */
#include "gw_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 12 /* finite histogram buckets */

static const int64_t bucket_ms[N_BUCKETS] = { 5,   10,   25,   50,   100,  250,
                                              500, 1000, 2500, 5000, 10000, 30000 };

/* Requests of one tag with one outcome. */
typedef struct {
    char tag[96];     /* service-tag entry, "-" if none */
    char outcome[16]; /* gw_outcome_name */
    uint64_t count;   /* requests */
} egress_series;

/* Latency histogram of one tag. */
typedef struct {
    char tag[96];                  /* service-tag entry */
    uint64_t buckets[N_BUCKETS];   /* cumulative counts per finite bucket */
    uint64_t count;                /* observations */
    int64_t sum_ms;                /* sum of latencies */
} tag_hist;

/* Ingress answers with one status. */
typedef struct {
    int status;     /* HTTP status */
    uint64_t count; /* answers */
} ingress_series;

struct gw_metrics {
    pthread_mutex_t lock;   /* guards everything below */
    egress_series *eg;      /* egress counters */
    size_t n_eg;            /* count */
    tag_hist *hist;         /* histograms */
    size_t n_hist;          /* count */
    ingress_series *in;     /* ingress counters */
    size_t n_in;            /* count */
    int64_t inflight;       /* requests being performed */
};

/* gw_metrics_new - empty */
gw_metrics *gw_metrics_new(void)
{
    gw_metrics *self = calloc(1, sizeof *self);
    if (self)
        pthread_mutex_init(&self->lock, NULL);
    return self;
}

/* gw_metrics_destroy - free */
void gw_metrics_destroy(gw_metrics **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free((*self_p)->eg);
    free((*self_p)->hist);
    free((*self_p)->in);
    free(*self_p);
    *self_p = NULL;
}

/* grow - make room for one more element in an array */
static int grow(void **arr, size_t n, size_t size)
{
    void *p;
    if (n % 16)
        return 0;
    if (!(p = realloc(*arr, (n + 16) * size)))
        return -1;
    *arr = p;
    return 0;
}

/* label_clean - a label value without the characters Prometheus would need escaped */
static void label_clean(char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            *s = '_';
}

/* gw_metrics_egress - count one request */
void gw_metrics_egress(gw_metrics *self, const char *tag, const char *outcome, int64_t latency_ms)
{
    egress_series *s = NULL;
    tag_hist *h = NULL;
    char tbuf[96], obuf[16];

    snprintf(tbuf, sizeof tbuf, "%s", tag && *tag ? tag : "-");
    snprintf(obuf, sizeof obuf, "%s", outcome ? outcome : "error");
    label_clean(tbuf);
    label_clean(obuf);
    tag = tbuf;
    outcome = obuf;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n_eg && !s; i++)
        if (!strcmp(self->eg[i].tag, tag) && !strcmp(self->eg[i].outcome, outcome))
            s = &self->eg[i];
    if (!s && grow((void **)&self->eg, self->n_eg, sizeof *s) == 0) {
        s = &self->eg[self->n_eg++];
        memset(s, 0, sizeof *s);
        snprintf(s->tag, sizeof s->tag, "%s", tag);
        snprintf(s->outcome, sizeof s->outcome, "%s", outcome);
    }
    if (s)
        s->count++;
    for (size_t i = 0; i < self->n_hist && !h; i++)
        if (!strcmp(self->hist[i].tag, tag))
            h = &self->hist[i];
    if (!h && grow((void **)&self->hist, self->n_hist, sizeof *h) == 0) {
        h = &self->hist[self->n_hist++];
        memset(h, 0, sizeof *h);
        snprintf(h->tag, sizeof h->tag, "%s", tag);
    }
    if (h) {
        for (int b = 0; b < N_BUCKETS; b++)
            if (latency_ms <= bucket_ms[b])
                h->buckets[b]++;
        h->count++;
        h->sum_ms += latency_ms;
    }
    pthread_mutex_unlock(&self->lock);
}

/* gw_metrics_inflight - gauge */
void gw_metrics_inflight(gw_metrics *self, int delta)
{
    pthread_mutex_lock(&self->lock);
    self->inflight += delta;
    pthread_mutex_unlock(&self->lock);
}

/* gw_metrics_ingress - count one answer */
void gw_metrics_ingress(gw_metrics *self, int status)
{
    ingress_series *s = NULL;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n_in && !s; i++)
        if (self->in[i].status == status)
            s = &self->in[i];
    if (!s && grow((void **)&self->in, self->n_in, sizeof *s) == 0) {
        s = &self->in[self->n_in++];
        s->status = status;
        s->count = 0;
    }
    if (s)
        s->count++;
    pthread_mutex_unlock(&self->lock);
}

/* gw_metrics_render - Prometheus text */
char *gw_metrics_render(gw_metrics *self)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    pthread_mutex_lock(&self->lock);
    fputs("# HELP cmk_gateway_egress_requests_total Outbound HTTP actions by service tag and "
          "outcome.\n# TYPE cmk_gateway_egress_requests_total counter\n", f);
    for (size_t i = 0; i < self->n_eg; i++)
        fprintf(f, "cmk_gateway_egress_requests_total{tag=\"%s\",outcome=\"%s\"} %llu\n",
                self->eg[i].tag, self->eg[i].outcome, (unsigned long long)self->eg[i].count);
    fputs("# HELP cmk_gateway_egress_duration_seconds Latency of outbound HTTP actions.\n"
          "# TYPE cmk_gateway_egress_duration_seconds histogram\n", f);
    for (size_t i = 0; i < self->n_hist; i++) {
        const tag_hist *h = &self->hist[i];
        for (int b = 0; b < N_BUCKETS; b++)
            fprintf(f, "cmk_gateway_egress_duration_seconds_bucket{tag=\"%s\",le=\"%g\"} %llu\n",
                    h->tag, (double)bucket_ms[b] / 1000.0, (unsigned long long)h->buckets[b]);
        fprintf(f, "cmk_gateway_egress_duration_seconds_bucket{tag=\"%s\",le=\"+Inf\"} %llu\n",
                h->tag, (unsigned long long)h->count);
        fprintf(f, "cmk_gateway_egress_duration_seconds_sum{tag=\"%s\"} %.3f\n", h->tag,
                (double)h->sum_ms / 1000.0);
        fprintf(f, "cmk_gateway_egress_duration_seconds_count{tag=\"%s\"} %llu\n", h->tag,
                (unsigned long long)h->count);
    }
    fprintf(f, "# HELP cmk_gateway_egress_inflight Outbound HTTP actions being performed.\n"
               "# TYPE cmk_gateway_egress_inflight gauge\ncmk_gateway_egress_inflight %lld\n",
            (long long)self->inflight);
    fputs("# HELP cmk_gateway_ingress_requests_total Trigger-URL calls by HTTP status.\n"
          "# TYPE cmk_gateway_ingress_requests_total counter\n", f);
    for (size_t i = 0; i < self->n_in; i++)
        fprintf(f, "cmk_gateway_ingress_requests_total{status=\"%d\"} %llu\n", self->in[i].status,
                (unsigned long long)self->in[i].count);
    pthread_mutex_unlock(&self->lock);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* gw_metrics_json - the counters as JSON */
cJSON *gw_metrics_json(gw_metrics *self)
{
    cJSON *j = cJSON_CreateObject(), *eg = cJSON_AddArrayToObject(j, "egress");
    cJSON *in = cJSON_AddArrayToObject(j, "ingress");

    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n_eg; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "tag", self->eg[i].tag);
        cJSON_AddStringToObject(o, "outcome", self->eg[i].outcome);
        cJSON_AddNumberToObject(o, "count", (double)self->eg[i].count);
        cJSON_AddItemToArray(eg, o);
    }
    for (size_t i = 0; i < self->n_in; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "status", self->in[i].status);
        cJSON_AddNumberToObject(o, "count", (double)self->in[i].count);
        cJSON_AddItemToArray(in, o);
    }
    cJSON_AddNumberToObject(j, "inflight", (double)self->inflight);
    pthread_mutex_unlock(&self->lock);
    return j;
}
