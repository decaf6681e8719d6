/*
 * ctl_metrics.c - the controller's metrics (see ctl_metrics.h). Front requests are matched to
 * their replies by routing id and request id in a small hash table owned by the loop's thread.
 */
#include "ctl_metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define N_SLOTS 1024  /* hash slots of requests in flight */
#define N_TYPES 512   /* request types remembered (the ops table has fewer) */

/* A front request waiting for its reply. */
typedef struct pending {
    uint8_t routing[CMK_PROTO_MAX_ROUTING]; /* client's routing id */
    size_t routing_len;
    char reqid[CMK_PROTO_MAX_REQID + 1];
    struct type_slot *type;   /* its type's series */
    double t0;                /* monotonic seconds at arrival */
    int64_t mono_ms;          /* the same in ms, for expiry */
    struct pending *next;
} pending;

/* The series of one request type. */
typedef struct type_slot {
    char type[CMK_PROTO_MAX_TYPE + 1]; /* "" while free */
    cmk_metric *ok;           /* requests_total{type,result="ok"} */
    cmk_metric *seconds;      /* request_duration_seconds{type} */
} type_slot;

struct ctl_metrics {
    pending *slots[N_SLOTS];  /* requests in flight by hash */
    type_slot types[N_TYPES]; /* open addressing by type hash */
    cmk_family *requests;     /* requests_total */
    cmk_family *duration;     /* request_duration_seconds */
    cmk_metric *inflight;     /* requests_inflight */
};

static const double req_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                     5,      10 };

/* The process-wide series the other modules count with. */
static struct {
    cmk_family *locks;        /* env_locks_total{cause} */
    cmk_metric *vault[2][2];  /* [class][throttled] */
    cmk_metric *audit[2];     /* [ok] */
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* g_make - the shared series */
static void g_make(void)
{
    cmk_family *v = cmk_metrics_family("cmk_controller_vault_transactions_total",
                                       "Key vault transactions charged to a vault's budget, by "
                                       "class and result (throttled: refused with 429).",
                                       CMK_METRIC_COUNTER, "class,result", NULL, 0);
    cmk_family *a = cmk_metrics_family("cmk_controller_audit_appends_total",
                                       "Entries appended to the hash-chained audit log.",
                                       CMK_METRIC_COUNTER, "result", NULL, 0);
    g.locks = cmk_metrics_family("cmk_controller_env_locks_total",
                                 "Environments locked (\"Environment disabled\"), by cause.",
                                 CMK_METRIC_COUNTER, "cause", NULL, 0);
    g.vault[0][0] = cmk_family_get2(v, "management", "ok");
    g.vault[0][1] = cmk_family_get2(v, "management", "throttled");
    g.vault[1][0] = cmk_family_get2(v, "crypto", "ok");
    g.vault[1][1] = cmk_family_get2(v, "crypto", "throttled");
    g.audit[1] = cmk_family_get1(a, "ok");
    g.audit[0] = cmk_family_get1(a, "failed");
}

/* hash - FNV-1a over bytes */
static uint32_t hash(const void *data, size_t n, uint32_t h)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ctl_metrics_new - empty */
ctl_metrics *ctl_metrics_new(void)
{
    ctl_metrics *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_once(&g_once, g_make);
    self->requests = cmk_metrics_family("cmk_controller_requests_total",
                                        "Front-door requests by type and result (ok or the "
                                        "error code).", CMK_METRIC_COUNTER, "type,result", NULL, 0);
    self->duration = cmk_metrics_family("cmk_controller_request_duration_seconds",
                                        "Front-door request latency, arrival to reply, by type.",
                                        CMK_METRIC_HISTOGRAM, "type", req_bounds,
                                        (int)(sizeof req_bounds / sizeof req_bounds[0]));
    self->inflight = cmk_metrics_gauge("cmk_controller_requests_inflight",
                                       "Front-door requests waiting for their reply.");
    return self;
}

/* ctl_metrics_destroy - free */
void ctl_metrics_destroy(ctl_metrics **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < N_SLOTS; i++)
        while ((*self_p)->slots[i]) {
            pending *p = (*self_p)->slots[i];
            (*self_p)->slots[i] = p->next;
            free(p);
        }
    free(*self_p);
    *self_p = NULL;
}

/* type_of - the series of a type (made on first use) */
static type_slot *type_of(ctl_metrics *self, const char *type)
{
    uint32_t h = hash(type, strlen(type), 2166136261u);
    for (int i = 0; i < N_TYPES; i++) {
        type_slot *t = &self->types[(h + (uint32_t)i) % N_TYPES];
        if (strcmp(t->type, type) == 0)
            return t;
        if (!t->type[0]) {
            snprintf(t->type, sizeof t->type, "%s", type);
            t->ok = cmk_family_get2(self->requests, type, "ok");
            t->seconds = cmk_family_get1(self->duration, type);
            return t;
        }
    }
    return NULL;
}

/* slot_of - hash slot of (routing, reqid) */
static uint32_t slot_of(const uint8_t *routing, size_t len, const char *reqid)
{
    return hash(reqid, strlen(reqid), hash(routing, len, 2166136261u)) % N_SLOTS;
}

/* ctl_metrics_request - remember an arrival */
void ctl_metrics_request(ctl_metrics *self, const cmk_msg *req, const char *type)
{
    pending *p;
    uint32_t s;

    if (!self || !req->routing_len || !(p = calloc(1, sizeof *p)))
        return;
    memcpy(p->routing, req->routing, req->routing_len);
    p->routing_len = req->routing_len;
    snprintf(p->reqid, sizeof p->reqid, "%s", req->reqid);
    p->type = type_of(self, type);
    p->t0 = cmk_metrics_now();
    p->mono_ms = cmk_mono_ms();
    s = slot_of(p->routing, p->routing_len, p->reqid);
    p->next = self->slots[s];
    self->slots[s] = p;
    cmk_metric_inc(self->inflight);
}

/* ctl_metrics_reply - count a reply */
void ctl_metrics_reply(ctl_metrics *self, const cmk_msg *reply)
{
    pending **pp, *p;

    if (!self || !reply->routing_len)
        return;
    pp = &self->slots[slot_of(reply->routing, reply->routing_len, reply->reqid)];
    for (; (p = *pp); pp = &p->next)
        if (p->routing_len == reply->routing_len &&
            memcmp(p->routing, reply->routing, p->routing_len) == 0 &&
            strcmp(p->reqid, reply->reqid) == 0)
            break;
    if (!p)
        return; /* a second reply, or one to a request that was never counted */
    *pp = p->next;
    cmk_metric_add(self->inflight, -1);
    if (p->type) {
        if (strcmp(reply->type, CMK_MSG_ERROR) == 0) {
            cmk_err e = CMK_ERR_INIT;
            cmk_msg_error_of(reply, &e);
            cmk_metric_inc(cmk_family_get2(self->requests, p->type->type,
                                           cmk_code_name(e.code ? e.code : CMK_EINTERNAL)));
        } else
            cmk_metric_inc(p->type->ok);
        cmk_metric_observe(p->type->seconds, cmk_metrics_now() - p->t0);
    }
    free(p);
}

/* ctl_metrics_expire - drop requests that never got a reply */
void ctl_metrics_expire(ctl_metrics *self, int64_t max_age_ms)
{
    int64_t now = cmk_mono_ms();
    if (!self)
        return;
    for (int i = 0; i < N_SLOTS; i++)
        for (pending **pp = &self->slots[i]; *pp;) {
            pending *p = *pp;
            if (now - p->mono_ms > max_age_ms) {
                *pp = p->next;
                cmk_metric_add(self->inflight, -1);
                free(p);
            } else
                pp = &p->next;
        }
}

/* ctl_metrics_lock_cause - classify a lock reason */
const char *ctl_metrics_lock_cause(const char *reason)
{
    static const struct {
        const char *word, *cause;
    } words[] = {
        { "policy was deleted", "policy_deleted" }, { "tenant key", "tenant_key_locked" },
        { "disabled", "key_disabled" },             { "expired", "key_expired" },
        { "version", "key_version_retired" },       { "deleted", "key_deleted" },
        { "purged", "key_deleted" },                { "not found", "key_deleted" },
        { "access", "access_revoked" },             { "permission", "access_revoked" },
        { "forbidden", "access_revoked" },          { "identity", "access_revoked" },
    };
    if (!reason)
        return "other";
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(reason, words[i].word))
            return words[i].cause;
    return "other";
}

/* ctl_metrics_env_locked - count a lock */
void ctl_metrics_env_locked(const char *reason)
{
    pthread_once(&g_once, g_make);
    cmk_metric_inc(cmk_family_get1(g.locks, ctl_metrics_lock_cause(reason)));
}

/* ctl_metrics_vault_tx - count a vault transaction */
void ctl_metrics_vault_tx(int cls, int throttled)
{
    pthread_once(&g_once, g_make);
    cmk_metric_inc(g.vault[cls ? 1 : 0][throttled ? 1 : 0]);
}

/* ctl_metrics_audit_append - count an append */
void ctl_metrics_audit_append(int ok)
{
    pthread_once(&g_once, g_make);
    cmk_metric_inc(g.audit[ok ? 1 : 0]);
}
