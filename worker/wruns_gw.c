/*
 * wruns_gw.c - a run's HTTP actions through the gateway: each goes out as an http.request on
 * the worker's DEALER, its answer comes back asynchronously and is matched by request id (a
 * hash map; the list holds them for timeouts and for a run that ends first); an action the
 * gateway never answers times out GATEWAY_GRACE_MS after egress.timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "log.h"
#include "ops.h"
#include "util.h"
#include "worker.h"
#include "wruns_int.h"

/* An HTTP action waiting for the gateway. */
typedef struct wgw_call {
    char reqid[CMK_PROTO_MAX_REQID + 1];
    wrun *run;
    char action[128];
    int64_t deadline;            /* mono ms */
    struct wgw_call *next, *prev;
} wgw_call;

static cmk_hmap *gw_by_req;      /* request id -> wgw_call (one worker per process) */

/* gw_unlink - take a pending gateway call out of the list and the map (not freed) */
static void gw_unlink(worker *w, wgw_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->gw_calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    if (gw_by_req)
        cmk_hmap_remove(gw_by_req, c->reqid);
    c->run->gw_pending--;
}

/* wrun_send_http - an HTTP action to the gateway; 1 if it failed at once (step the run again) */
int wrun_send_http(wrun *r, const engine_work *wk)
{
    worker *w = r->w;
    wenv *e = wenv_find(w, r->env);
    cmk_msg *msg = cmk_msg_new(CMK_T_HTTP_REQUEST, NULL);
    wgw_call *c = calloc(1, sizeof *c);
    cmk_err err = CMK_ERR_INIT;
    int64_t timeout = cmk_server_config(w->srv)->egress_timeout;

    if (!msg || !c) {
        cmk_msg_destroy(&msg);
        free(c);
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, "out of memory", worker_now(w), &err);
        return 1;
    }
    cJSON_AddStringToObject(msg->body, "env", r->env);
    cJSON_AddStringToObject(msg->body, "flow", r->flow_id);
    cJSON_AddStringToObject(msg->body, "run", r->id);
    cJSON_AddStringToObject(msg->body, "action", wk->action);
    cJSON_AddStringToObject(msg->body, "infrastructure", e ? e->infrastructure : "shared");
    cJSON_AddStringToObject(msg->body, "region", e ? e->region : "");
    cJSON_AddStringToObject(msg->body, "kind", "http");
    cJSON_AddStringToObject(msg->body, "method", wk->method ? wk->method : "GET");
    cJSON_AddStringToObject(msg->body, "uri", wk->uri ? wk->uri : "");
    cJSON_AddItemToObject(msg->body, "headers", wk->headers ? cJSON_Duplicate(wk->headers, 1) : cJSON_CreateObject());
    if (wk->body) {
        char *text = cJSON_IsString(wk->body) ? strdup(wk->body->valuestring) : cJSON_PrintUnformatted(wk->body);
        cJSON_AddStringToObject(msg->body, "body", text ? text : "");
        free(text);
    }
    cJSON_AddNumberToObject(msg->body, "timeout_ms", (double)timeout);
    if (cmk_msg_send(msg, w->gateway, &err) < 0) {
        engine_complete(r->run, wk->action, ENGINE_FAILED, NULL, err.msg, worker_now(w), &err);
        cmk_msg_destroy(&msg);
        free(c);
        return 1;
    }
    cmk_strlcpy(c->reqid, msg->reqid, sizeof c->reqid);
    c->run = r;
    cmk_strlcpy(c->action, wk->action, sizeof c->action);
    c->deadline = cmk_mono_ms() + timeout + GATEWAY_GRACE_MS;
    c->next = w->gw_calls;
    if (c->next)
        c->next->prev = c;
    w->gw_calls = c;
    r->gw_pending++;
    if (!gw_by_req)
        gw_by_req = cmk_hmap_new();
    if (gw_by_req && cmk_hmap_put(gw_by_req, c->reqid, c) < 0)
        cmk_warn("gateway.map_full", "req=%s: its reply will be looked for in the list", c->reqid);
    r->outstanding++;
    cmk_msg_destroy(&msg);
    return 0;
}

/* wruns_on_gateway - a reply to an HTTP action */
void wruns_on_gateway(worker *w, const cmk_msg *msg)
{
    wgw_call *c = gw_by_req ? cmk_hmap_get(gw_by_req, msg->reqid) : NULL;
    cmk_err err = CMK_ERR_INIT;
    for (wgw_call *it = c ? NULL : w->gw_calls; it; it = it->next) /* one the map could not hold */
        if (strcmp(it->reqid, msg->reqid) == 0) {
            c = it;
            break;
        }
    if (c)
        gw_unlink(w, c);
    if (!c) {
        cmk_debug("gateway.late_reply", "req=%s", msg->reqid);
        return;
    }
    c->run->outstanding--;
    if (strcmp(msg->type, CMK_MSG_ERROR) == 0) {
        cmk_err gerr = CMK_ERR_INIT;
        cmk_msg_error_of(msg, &gerr);
        engine_complete(c->run->run, c->action, gerr.code == CMK_ETIMEOUT ? ENGINE_TIMEDOUT : ENGINE_FAILED, NULL,
                        gerr.msg, worker_now(w), &err);
    } else {
        int status = (int)cmk_json_num(msg->body, "status", 0);
        cJSON *out = cJSON_CreateObject(), *body;
        const char *text = cmk_json_str(msg->body, "body", NULL);
        char *outs, emsg[160];
        cJSON_AddNumberToObject(out, "statusCode", status);
        cJSON_AddItemToObject(out, "headers", cJSON_Duplicate(cJSON_GetObjectItem(msg->body, "headers"), 1));
        body = text ? cJSON_Parse(text) : NULL;
        cJSON_AddItemToObject(out, "body", body ? body : text ? cJSON_CreateString(text) : cJSON_CreateNull());
        outs = cJSON_PrintUnformatted(out);
        cJSON_Delete(out);
        snprintf(emsg, sizeof emsg, "the HTTP action returned status %d", status);
        engine_complete(c->run->run, c->action, status >= 200 && status < 400 ? ENGINE_SUCCEEDED : ENGINE_FAILED, outs,
                        status >= 200 && status < 400 ? NULL : emsg, worker_now(w), &err);
        free(outs);
    }
    wrun_advance(c->run);
    free(c);
}

/* wruns_gw_timeouts - calls the gateway never answered time out */
void wruns_gw_timeouts(worker *w)
{
    int64_t now = cmk_mono_ms();
    for (wgw_call *c = w->gw_calls, *next; c; c = next) {
        next = c->next;
        if (c->deadline > now)
            continue;
        gw_unlink(w, c);
        c->run->outstanding--;
        engine_complete(c->run->run, c->action, ENGINE_TIMEDOUT, NULL,
                        "the gateway did not answer within the HTTP action's timeout", worker_now(w), NULL);
        wrun_advance(c->run);
        free(c);
        next = w->gw_calls; /* advancing may have ended runs and dropped their calls: look again */
    }
}

/* wrun_gw_drop - forget the run's calls still waiting for the gateway */
void wrun_gw_drop(wrun *r)
{
    worker *w = r->w;
    for (wgw_call *c = r->gw_pending > 0 ? w->gw_calls : NULL, *next; c && r->gw_pending > 0; c = next) {
        next = c->next;
        if (c->run == r) {
            gw_unlink(w, c);
            free(c);
        }
    }
}

/* wruns_gw_forget - free the map of calls */
void wruns_gw_forget(void)
{
    cmk_hmap_destroy(&gw_by_req);
}
