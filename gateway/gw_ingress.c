/*
 * gw_ingress.c - trigger paths, error statuses and the front-door client pool (see
 * gw_ingress.h).
 */
#include "gw_ingress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "util.h"
#include "ops.h"

#define POOL_MAX 16 /* front-door clients at most */

struct gw_ingress {
    pthread_mutex_t lock;          /* guards the pool */
    pthread_cond_t freed;          /* a client came back */
    char run_dir[4096];            /* the cluster */
    char key_path[4200];           /* <run>/keys/gateway.key */
    int64_t timeout_ms;            /* per call */
    cmk_client *idle[POOL_MAX];    /* clients not in use */
    int n_idle;                    /* how many */
    int n_made;                    /* clients in existence */
};

/* segment - copy one path segment of [A-Za-z0-9._-] into out; returns its end or NULL */
static const char *segment(const char *p, char *out, size_t n)
{
    size_t k = 0;
    for (; *p && *p != '/'; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || k + 1 >= n)
            return NULL;
        out[k++] = c;
    }
    out[k] = '\0';
    return k && strcmp(out, ".") && strcmp(out, "..") ? p : NULL;
}

/* gw_ingress_parse_path - /workflows/<env>/<flow>/triggers/manual/paths/invoke */
int gw_ingress_parse_path(const char *path, char *env, size_t env_n, char *flow, size_t flow_n)
{
    static const char head[] = "/workflows/", tail[] = "/triggers/manual/paths/invoke";
    const char *p;

    if (!path || strncmp(path, head, sizeof head - 1) != 0)
        return CMK_ENOENT;
    p = segment(path + sizeof head - 1, env, env_n);
    if (!p || *p != '/')
        return CMK_ENOENT;
    p = segment(p + 1, flow, flow_n);
    if (!p || strcmp(p, tail) != 0)
        return CMK_ENOENT;
    return 0;
}

/* gw_ingress_status - error code to HTTP status */
int gw_ingress_status(int code)
{
    switch (code) {
    case CMK_EPERM: return 401;
    case CMK_ENOENT: return 404;
    case CMK_EUNAVAIL: return 503;
    case CMK_ETIMEOUT: return 504;
    case CMK_EBUSY: return 429;
    default: return 400;
    }
}

/* gw_ingress_error_name - status to an error code word */
const char *gw_ingress_error_name(int status)
{
    switch (status) {
    case 401: return "DirectApiAuthorizationRequired";
    case 404: return "WorkflowNotFound";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return status >= 500 ? "InternalServerError" : "BadRequest";
    }
}

/* gw_ingress_error_body - the JSON error document */
char *gw_ingress_error_body(int status, const char *message)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    char *text;
    cJSON_AddStringToObject(e, "code", gw_ingress_error_name(status));
    cJSON_AddStringToObject(e, "message", message ? message : "");
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

/* gw_ingress_new - an empty pool */
gw_ingress *gw_ingress_new(const char *run_dir, int64_t timeout_ms)
{
    gw_ingress *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->freed, NULL);
    cmk_strlcpy(self->run_dir, run_dir, sizeof self->run_dir);
    snprintf(self->key_path, sizeof self->key_path, "%s/keys/gateway.key", run_dir);
    self->timeout_ms = timeout_ms;
    return self;
}

/* gw_ingress_destroy - close the idle clients (callers must be done) */
void gw_ingress_destroy(gw_ingress **self_p)
{
    gw_ingress *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    for (int i = 0; i < self->n_idle; i++)
        cmk_client_destroy(&self->idle[i]);
    pthread_cond_destroy(&self->freed);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* borrow - an idle client, a new one, or wait for one to come back */
static cmk_client *borrow(gw_ingress *self, cmk_err *err)
{
    cmk_client *c = NULL;
    int make = 0;

    pthread_mutex_lock(&self->lock);
    while (!self->n_idle && self->n_made >= POOL_MAX)
        pthread_cond_wait(&self->freed, &self->lock);
    if (self->n_idle)
        c = self->idle[--self->n_idle];
    else {
        self->n_made++;
        make = 1;
    }
    pthread_mutex_unlock(&self->lock);
    if (make && !(c = cmk_client_new(self->run_dir, self->key_path, err))) {
        pthread_mutex_lock(&self->lock);
        self->n_made--;
        pthread_cond_signal(&self->freed);
        pthread_mutex_unlock(&self->lock);
    }
    return c;
}

/* give_back - return a client to the pool */
static void give_back(gw_ingress *self, cmk_client *c)
{
    pthread_mutex_lock(&self->lock);
    self->idle[self->n_idle++] = c;
    pthread_cond_signal(&self->freed);
    pthread_mutex_unlock(&self->lock);
}

/* gw_ingress_invoke - flow.invoke through a pooled client */
int gw_ingress_invoke(gw_ingress *self, const cJSON *body, cJSON **reply, cmk_err *err)
{
    cmk_client *c = borrow(self, err);
    cmk_msg *rep = NULL;
    int rc;

    *reply = NULL;
    if (!c) {
        char why[CMK_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "no client");
        return cmk_err_set(err, CMK_EUNAVAIL, "the gateway cannot reach the controller: %s", why);
    }
    rc = cmk_client_call(c, CMK_T_FLOW_INVOKE, body, self->timeout_ms, &rep, err);
    give_back(self, c);
    if (rc == 0 && rep) {
        *reply = rep->body;
        rep->body = NULL;
    }
    cmk_msg_destroy(&rep);
    return rc;
}
