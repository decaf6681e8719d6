/*
 * gw_http.c - libmicrohttpd plumbing of the gateway's HTTP server: routing, request bodies,
 * trigger calls and /metrics (see gw_http.h).
 */
#include "gw_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "tcp_listen.h"
#include "util.h"

#define MAX_TRIGGER_BODY (4 * 1024 * 1024) /* largest trigger request body accepted */

struct gw_http {
    struct MHD_Daemon *mhd; /* the server */
    int lfd;                /* listening socket (MHD closes it when it stops) */
    char address[64];       /* bound host:port */
    gw_metrics *metrics;    /* counters (borrowed) */
    gw_ingress *ingress;    /* controller calls (borrowed) */
};

/* One request being read. */
typedef struct {
    char *body;      /* request body so far */
    size_t len;      /* its length */
    int too_large;   /* the body passed MAX_TRIGGER_BODY */
} req_ctx;

/* respond - queue a response with a body and a content type */
static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type,
                               const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* respond_error - a JSON error document */
static enum MHD_Result respond_error(struct MHD_Connection *c, int status, const char *msg)
{
    char *text = gw_ingress_error_body(status, msg);
    enum MHD_Result ret = respond(c, status, "application/json; charset=utf-8", text ? text : "{}",
                                  text ? strlen(text) : 2);
    free(text);
    return ret;
}

/* add_kv - MHD iterator: one header or query argument into a JSON object */
static enum MHD_Result add_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    cJSON_AddStringToObject(cls, key, value ? value : "");
    return MHD_YES;
}

/* copy_headers - reply headers {name: value} onto the response, except framing ones */
static void copy_headers(struct MHD_Response *r, const cJSON *headers, int *has_type)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, headers) {
        if (!cJSON_IsString(h) || !strcasecmp(h->string, "Content-Length") ||
            !strcasecmp(h->string, "Transfer-Encoding") || !strcasecmp(h->string, "Connection"))
            continue;
        if (!strcasecmp(h->string, "Content-Type"))
            *has_type = 1;
        MHD_add_response_header(r, h->string, h->valuestring);
    }
}

/* trigger - a trigger-URL call: check sig, forward, translate the reply */
static enum MHD_Result trigger(gw_http *self, struct MHD_Connection *c, const char *env,
                               const char *flow, const char *method, req_ctx *rc)
{
    const char *sig = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sig");
    cJSON *body, *reply = NULL, *hdrs, *qs;
    cmk_err err = CMK_ERR_INIT;
    char creq[48], run_id[64] = "", *text = NULL;
    const cJSON *rb;
    int status, has_type = 0;
    int64_t t0 = cmk_mono_ms();
    struct MHD_Response *r;
    enum MHD_Result ret;

    cmk_random_id("ing", creq, sizeof creq);
    if (!sig || !*sig) {
        cmk_log(CMK_LOG_INFO, env, creq, "ingress.invoke", "flow=%s method=%s status=401 "
                "error=\"no sig\"", flow, method);
        gw_metrics_ingress(self->metrics, 401);
        return respond_error(c, 401, "The request must be authenticated by the trigger URL's "
                             "shared access signature: the 'sig' query parameter is missing.");
    }
    if (rc->too_large) {
        gw_metrics_ingress(self->metrics, 413);
        return respond_error(c, 413, "The request body is larger than the trigger's limit of "
                             "4194304 bytes.");
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "env", env);
    cJSON_AddStringToObject(body, "flow", flow);
    cJSON_AddStringToObject(body, "sig", sig);
    cJSON_AddStringToObject(body, "method", method);
    hdrs = cJSON_AddObjectToObject(body, "headers");
    qs = cJSON_AddObjectToObject(body, "queries");
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_kv, hdrs);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_kv, qs);
    cJSON_AddStringToObject(body, "body", rc->body ? rc->body : "");
    cJSON_AddStringToObject(body, "client_req", creq);
    if (gw_ingress_invoke(self->ingress, body, &reply, &err) < 0) {
        status = gw_ingress_status(err.code);
        cmk_log(CMK_LOG_INFO, env, creq, "ingress.invoke", "flow=%s method=%s status=%d "
                "latency_ms=%lld error=\"%s\"", flow, method, status,
                (long long)(cmk_mono_ms() - t0), err.msg);
        cJSON_Delete(body);
        gw_metrics_ingress(self->metrics, status);
        return respond_error(c, status, err.msg);
    }
    cJSON_Delete(body);
    {
        /* a run answers with its Response action (statusCode, headers, body); a flow without
         * one is accepted (202), as Logic Apps does */
        cJSON *resp = cJSON_DetachItemFromObjectCaseSensitive(reply, "response");
        cmk_strlcpy(run_id, cmk_json_str(reply, "run", ""), sizeof run_id);
        if (cJSON_IsObject(resp)) {
            cJSON_Delete(reply);
            reply = resp;
            status = (int)cmk_json_num(reply, "statusCode", 200);
        } else {
            cJSON_Delete(resp);
            status = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(reply, "status"))
                         ? (int)cmk_json_num(reply, "status", 202)
                         : 202;
            if (status == 202)
                cJSON_DeleteItemFromObjectCaseSensitive(reply, "body");
        }
    }
    if (status < 100 || status > 599)
        status = 502;
    rb = cJSON_GetObjectItemCaseSensitive(reply, "body");
    if (cJSON_IsString(rb))
        text = strdup(rb->valuestring);
    else if (rb && !cJSON_IsNull(rb))
        text = cJSON_PrintUnformatted(rb);
    r = MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    free(text);
    if (!r) {
        cJSON_Delete(reply);
        return MHD_NO;
    }
    copy_headers(r, cJSON_GetObjectItemCaseSensitive(reply, "headers"), &has_type);
    if (!has_type && rb && !cJSON_IsNull(rb))
        MHD_add_response_header(r, "Content-Type", cJSON_IsString(rb) ? "text/plain; charset=utf-8"
                                                                      : "application/json; charset=utf-8");
    MHD_add_response_header(r, "x-ms-client-tracking-id", creq);
    if (run_id[0]) /* as Logic Apps answers: the run this request started */
        MHD_add_response_header(r, "x-ms-workflow-run-id", run_id);
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    cmk_log(CMK_LOG_INFO, env, creq, "ingress.invoke", "flow=%s method=%s status=%d latency_ms=%lld",
            flow, method, status, (long long)(cmk_mono_ms() - t0));
    gw_metrics_ingress(self->metrics, status);
    cJSON_Delete(reply);
    return ret;
}

/* on_request - libmicrohttpd's access handler: collect the body, then route */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    gw_http *self = cls;
    req_ctx *rc = *con_cls;
    char env[128], flow[128];

    if (!rc) {
        if (!(rc = calloc(1, sizeof *rc)))
            return MHD_NO;
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rc->len + *upload_size > MAX_TRIGGER_BODY)
            rc->too_large = 1;
        else {
            char *p = realloc(rc->body, rc->len + *upload_size + 1);
            if (!p)
                return MHD_NO;
            memcpy(p + rc->len, upload_data, *upload_size);
            rc->len += *upload_size;
            p[rc->len] = '\0';
            rc->body = p;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        char *text = gw_metrics_render(self->metrics);
        enum MHD_Result ret;
        if (!text)
            return MHD_NO;
        ret = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
        return ret;
    }
    if (strcmp(url, "/health") == 0)
        return respond(c, 200, "application/json", "{\"ok\":true}", 11);
    if (gw_ingress_parse_path(url, env, sizeof env, flow, sizeof flow) == 0)
        return trigger(self, c, env, flow, method, rc);
    return respond_error(c, 404, "No such path on the gateway: trigger URLs look like "
                         "/workflows/<env>/<flow>/triggers/manual/paths/invoke?...&sig=...; "
                         "metrics are at /metrics.");
}

/* on_completed - free a request's context */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_ctx *rc = *con_cls;
    if (rc) {
        free(rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

/* gw_http_new - listen and start libmicrohttpd with the default limits */
gw_http *gw_http_new(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err)
{
    gw_http_limits lim = { 16, 512, 5 };
    return gw_http_new_limited(addr, metrics, ingress, &lim, err);
}

/* gw_http_listen - bind addr only (nothing served yet): a daemon binds before it confines
 * itself and starts the server's threads after (gw_http_serve) */
gw_http *gw_http_listen(const char *addr, gw_metrics *metrics, gw_ingress *ingress, cmk_err *err)
{
    gw_http *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->metrics = metrics;
    self->ingress = ingress;
    if ((self->lfd = cmk_tcp_listen(addr, "gateway.http", 128, self->address, sizeof self->address, err)) < 0) {
        free(self);
        return NULL;
    }
    return self;
}

/* gw_http_serve - start libmicrohttpd on the listening socket: a connection limit per source
 * address and in all, and a short idle timeout, so slow clients cost their sender, not other
 * callers */
int gw_http_serve(gw_http *self, const gw_http_limits *limits, cmk_err *err)
{
    self->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                 0, NULL, NULL, on_request, self, MHD_OPTION_LISTEN_SOCKET,
                                 self->lfd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, self,
                                 MHD_OPTION_CONNECTION_LIMIT, limits->max,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, limits->timeout_s ? limits->timeout_s : 1u,
                                 MHD_OPTION_END);
    if (!self->mhd)
        return cmk_err_set(err, CMK_EIO, "cannot start the HTTP server on %s", self->address);
    return 0;
}

/* gw_http_new_limited - listen and serve with explicit limits */
gw_http *gw_http_new_limited(const char *addr, gw_metrics *metrics, gw_ingress *ingress,
                             const gw_http_limits *limits, cmk_err *err)
{
    gw_http *self = gw_http_listen(addr, metrics, ingress, err);
    if (self && gw_http_serve(self, limits, err) < 0)
        gw_http_destroy(&self);
    return self;
}

/* gw_http_destroy - stop */
void gw_http_destroy(gw_http **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->mhd)
        MHD_stop_daemon((*self_p)->mhd); /* closes the listening socket too */
    else if ((*self_p)->lfd >= 0)
        close((*self_p)->lfd);
    free(*self_p);
    *self_p = NULL;
}

/* gw_http_address - bound address */
const char *gw_http_address(const gw_http *self)
{
    return self->address;
}
