/*
 * gateway.c - the gateway process: sockets, the dispatch of worker requests, egress results
 * turned into replies, decision lines and metrics, and the controller link.
 *
 * Decision line (one per http.request, level info when a response arrived, warn otherwise):
 *
 *   ... env=<env> req=<reqid> event=egress.decision flow=<flow> run=<run> action=<action>
 *   infra=dedicated region=unitedstates kind=http tag=PowerPlatformPlex.WestUS
 *   src=127.40.1.7 dst=127.0.0.1:18080 method=GET url="http://127.0.0.1:18080/anything"
 *   fw_mode=kernel fw_config=legacy-only fw_rule=- fw_verdict=- verdict=refused status=-
 *   latency_ms=2 error="Http request failed as there is an error: '...'"
 */
#include "gateway.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "gw_route.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "util.h"
#include "ops.h"

/* clean - a log value without double quotes or control characters, into buf */
static const char *clean(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        buf[k++] = *s == '"' ? '\'' : (unsigned char)*s < 0x20 ? ' ' : *s;
    buf[k] = '\0';
    return k ? buf : "-";
}

/* gateway_find_config - ./configs, <exe>/../configs, the build's source tree */
int gateway_find_config(const char *rel, char *out, size_t n)
{
    char exe[PATH_MAX], cache[PATH_MAX + 32], line[PATH_MAX + 64];
    FILE *f;

    snprintf(out, n, "configs/%s", rel);
    if (access(out, R_OK) == 0 && realpath(out, exe))
        return snprintf(out, n, "%s", exe) < (int)n ? 0 : CMK_ENOENT;
    if (cmk_exe_dir(exe, sizeof exe, NULL) < 0)
        return CMK_ENOENT;
    snprintf(out, n, "%s/../configs/%s", exe, rel);
    if (access(out, R_OK) == 0)
        return 0;
    snprintf(cache, sizeof cache, "%s/CMakeCache.txt", exe);
    if ((f = fopen(cache, "r"))) {
        while (fgets(line, sizeof line, f)) {
            static const char key[] = "CMAKE_HOME_DIRECTORY:INTERNAL=";
            if (strncmp(line, key, sizeof key - 1) == 0) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(out, n, "%s/configs/%s", line + sizeof key - 1, rel);
                break;
            }
        }
        fclose(f);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return CMK_ENOENT;
}

/* url_host - "host:port" of an absolute URI into buf (for the DNS message) */
static const char *url_host(const char *uri, char *buf, size_t n)
{
    const char *p = strstr(uri, "://");
    size_t k;
    p = p ? p + 3 : uri;
    k = strcspn(p, "/?#");
    snprintf(buf, n, "%.*s", (int)(k < n ? k : n - 1), p);
    return buf;
}

/* fw_header - a response header the customer endpoint sets (X-Cmk-Firewall-*), or "-" */
static const char *fw_header(const gw_job *j, const char *name)
{
    const cJSON *h = j->resp_headers ? cJSON_GetObjectItem(j->resp_headers, name) : NULL;
    return cJSON_IsString(h) ? h->valuestring : "-";
}

/* decision - the one log line of a request */
static void decision(const gw_job *j, const char *err_msg)
{
    char url[512], e[600], st[16];
    snprintf(st, sizeof st, "%ld", j->status);
    cmk_log(j->outcome == GW_OUT_OK ? CMK_LOG_INFO : CMK_LOG_WARN, j->env, j->req->reqid,
            "egress.decision", "flow=%s run=%s action=%s infra=%s region=%s kind=%s tag=%s src=%s "
            "dst=%s method=%s url=\"%s\" fw_mode=%s fw_config=%s fw_rule=%s fw_verdict=%s "
            "verdict=%s status=%s latency_ms=%lld error=\"%s\"",
            j->flow[0] ? j->flow : "-", j->run[0] ? j->run : "-",
            j->action[0] ? j->action : "-", j->infrastructure, j->region, j->kind, j->tag,
            j->source_ip, j->dest[0] ? j->dest : "-", j->method, clean(j->uri, url, sizeof url),
            j->fw.mode, j->fw.config[0] ? j->fw.config : "-",
            fw_header(j, "X-Cmk-Firewall-Rule"), fw_header(j, "X-Cmk-Firewall-Verdict"),
            gw_outcome_name(j->outcome), j->status ? st : "-", (long long)j->latency_ms,
            err_msg ? clean(err_msg, e, sizeof e) : "");
}

/* add_where - the fields every egress reply carries */
static void add_where(cJSON *b, const gw_job *j)
{
    cJSON *fw = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "latency_ms", (double)j->latency_ms);
    cJSON_AddStringToObject(b, "source_ip", j->source_ip);
    cJSON_AddStringToObject(b, "tag", j->tag);
    cJSON_AddStringToObject(b, "destination", j->dest);
    cJSON_AddStringToObject(b, "outcome", gw_outcome_name(j->outcome));
    cJSON_AddStringToObject(fw, "mode", j->fw.mode);
    cJSON_AddStringToObject(fw, "config", j->fw.config);
    if (j->outcome == GW_OUT_OK) {
        cJSON_AddStringToObject(fw, "rule", fw_header(j, "X-Cmk-Firewall-Rule"));
        cJSON_AddStringToObject(fw, "verdict", fw_header(j, "X-Cmk-Firewall-Verdict"));
    }
    cJSON_AddItemToObject(b, "firewall", fw);
}

/* count_verdict - egress by source tag and verdict: the customer firewall's verdict
 * (X-Cmk-Firewall-Verdict) when the endpoint answered, otherwise the gateway's outcome
 * (refused, timeout, dns, ...) */
static void count_verdict(const gw_job *j)
{
    static cmk_family *f;
    const char *verdict = j->outcome == GW_OUT_OK ? fw_header(j, "X-Cmk-Firewall-Verdict")
                                                  : gw_outcome_name(j->outcome);
    if (!f)
        f = cmk_metrics_family("cmk_gateway_egress_verdicts_total",
                               "Outbound HTTP actions by source service tag and verdict (the "
                               "firewall's verdict when the endpoint answered, else the outcome).",
                               CMK_METRIC_COUNTER, "source_tag,verdict", NULL, 0);
    cmk_metric_inc(cmk_family_get2(f, j->tag[0] ? j->tag : "-", verdict));
}

/* render_gw_metrics - the gateway's own counters, appended to the common /metrics */
static char *render_gw_metrics(void *arg)
{
    return gw_metrics_render(arg);
}

/* on_egress - finished jobs: reply, log, count */
static int on_egress(cmk_loop *loop, void *sock, int fd, void *arg)
{
    gateway *self = arg;
    gw_job *j;

    while ((j = gw_egress_take(self->egress))) {
        cmk_msg *rep;
        char msg[1024], detail[300];
        gw_metrics_inflight(self->metrics, -1);
        if (j->outcome == GW_OUT_OK) {
            rep = cmk_msg_reply(j->req, CMK_MSG_REPLY);
            if (rep) {
                cJSON_AddNumberToObject(rep->body, "status", (double)j->status);
                cJSON_AddItemToObject(rep->body, "headers",
                                      j->resp_headers ? cJSON_Duplicate(j->resp_headers, 1)
                                                      : cJSON_CreateObject());
                cJSON_AddStringToObject(rep->body, "body", j->resp_body ? j->resp_body : "");
            }
            msg[0] = '\0';
        } else {
            if (j->outcome == GW_OUT_DNS)
                url_host(j->uri, detail, sizeof detail);
            else if (j->outcome == GW_OUT_POLICY)
                snprintf(detail, sizeof detail, "%s", j->dest);
            else
                snprintf(detail, sizeof detail, "%s", j->curl_error);
            gw_errmap_message(j->outcome, detail, msg, sizeof msg);
            rep = cmk_msg_error(j->req, gw_outcome_code(j->outcome), msg);
            if (rep)
                cJSON_AddStringToObject(rep->body, "detail", j->curl_error);
        }
        if (rep) {
            add_where(rep->body, j);
            cmk_msg_send(rep, self->router, NULL);
        }
        cmk_msg_destroy(&rep);
        decision(j, msg[0] ? msg : NULL);
        gw_metrics_egress(self->metrics, j->tag, gw_outcome_name(j->outcome), j->latency_ms);
        count_verdict(j);
        gw_job_destroy(&j);
    }
    return 0;
}

/* http_request - plan and submit one worker request; an error reply otherwise */
static cmk_msg *http_request(gateway *self, cmk_msg **msg_p)
{
    cmk_msg *msg = *msg_p;
    const cJSON *entry = cmk_zap_entry(self->zap, msg->user);
    const char *env = cmk_json_str(msg->body, "env", "");
    cmk_err err = CMK_ERR_INIT;
    gw_job *j = NULL;

    if (!entry || strcmp(cmk_json_str(entry, "role", ""), "worker") != 0)
        cmk_err_set(&err, CMK_EPERM, "only workers may send outbound HTTP actions");
    else if (*env && !gw_route_env_allowed(entry, env))
        cmk_err_set(&err, CMK_EPERM, "worker %s does not serve environment %s", msg->user, env);
    else if (cmk_server_config(self->srv)->gw_max_inflight > 0 &&
             gw_egress_active(self->egress) >= cmk_server_config(self->srv)->gw_max_inflight)
        cmk_err_set(&err, CMK_EBUSY,
                    "the gateway is busy: %d outbound HTTP actions are in flight "
                    "(gateway.max_inflight); the action can be retried later",
                    gw_egress_active(self->egress));
    else
        gw_route_plan(self->tags, msg->body, cmk_server_config(self->srv)->egress_timeout, &j, &err);
    if (!j) {
        cmk_log(CMK_LOG_WARN, env, msg->reqid, "egress.refused", "user=%s error=\"%s\"",
                msg->user, err.msg);
        return cmk_msg_error(msg, err.code ? err.code : CMK_EINVAL, err.msg);
    }
    j->req = msg;
    *msg_p = NULL;
    gw_metrics_inflight(self->metrics, 1);
    gw_egress_submit(self->egress, &j);
    return NULL;
}

/* on_router - requests from workers */
static int on_router(cmk_loop *loop, void *sock, int fd, void *arg)
{
    gateway *self = arg;
    for (int i = 0; i < 1024; i++) {
        cmk_msg *msg = NULL, *partial = NULL, *rep = NULL;
        cmk_err err = CMK_ERR_INIT;
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT, &err);

        if (rc == CMK_ETIMEOUT) /* nothing waiting (CMK_RECV_DONTWAIT) */
            break;
        if (rc < 0) {
            cmk_warn("router.bad_message", "error=\"%s\"", err.msg);
            if (partial && partial->routing_len)
                rep = cmk_msg_error(partial, CMK_EPROTO, err.msg);
            cmk_msg_destroy(&partial);
        } else if (strcmp(msg->type, CMK_MSG_PING) == 0) {
            rep = cmk_msg_reply(msg, CMK_MSG_REPLY);
            cJSON_AddBoolToObject(rep->body, "pong", 1);
            cJSON_AddStringToObject(rep->body, "role", "gateway");
            cJSON_AddNumberToObject(rep->body, "pid", getpid());
        } else if (strcmp(msg->type, CMK_T_HTTP_REQUEST) == 0) {
            rep = http_request(self, &msg);
        } else {
            char text[128];
            snprintf(text, sizeof text, "the gateway does not know the request '%s'", msg->type);
            cmk_log(CMK_LOG_WARN, NULL, msg->reqid, "router.unknown_type", "type=%s user=%s",
                    msg->type, msg->user);
            rep = cmk_msg_error(msg, CMK_EPROTO, text);
        }
        if (rep)
            cmk_msg_send(rep, sock, NULL);
        cmk_msg_destroy(&rep);
        cmk_msg_destroy(&msg);
    }
    return 0;
}

/* on_peer - requests the controller forwards: metrics, gateway.status */
static int on_peer(cmk_peer *peer, const cmk_msg *req, void *arg, cmk_err *err)
{
    gateway *self = arg;
    cmk_msg *rep;

    if (strcmp(req->type, "metrics") != 0 && strcmp(req->type, CMK_T_GATEWAY_STATUS) != 0)
        return cmk_err_set(err, CMK_EPROTO, "unknown request '%s' for the gateway (it answers "
                           "metrics and gateway.status)", req->type);
    if (!(rep = cmk_msg_reply(req, CMK_MSG_REPLY)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (strcmp(req->type, "metrics") == 0) {
        char *text = gw_metrics_render(self->metrics);
        cmk_msg_set_body(rep, gw_metrics_json(self->metrics));
        cJSON_AddStringToObject(rep->body, "text", text ? text : "");
        free(text);
    } else {
        gw_fwstate fw;
        cJSON *f = cJSON_AddObjectToObject(rep->body, "firewall");
        gw_nsock_refresh(self->nsock, &fw);
        cJSON_AddStringToObject(rep->body, "http", gw_http_address(self->http));
        cJSON_AddStringToObject(rep->body, "service_tags", gw_tags_origin(self->tags));
        cJSON_AddNumberToObject(rep->body, "inflight", gw_egress_active(self->egress));
        cJSON_AddStringToObject(f, "mode", fw.mode);
        cJSON_AddStringToObject(f, "config", fw.config);
        cJSON_AddStringToObject(f, "netns", fw.netns);
    }
    cmk_peer_send(peer, rep, err);
    cmk_msg_destroy(&rep);
    return 0;
}

/* load_tags - egress.service_tags, or the shipped configs/service-tags.json */
static int load_tags(gateway *self, const cmk_config *cfg, cmk_err *err)
{
    char path[PATH_MAX + 64];
    if (cfg->service_tags[0])
        snprintf(path, sizeof path, "%s", cfg->service_tags);
    else if (gateway_find_config("service-tags.json", path, sizeof path) < 0)
        return cmk_err_set(err, CMK_ENOENT, "cannot find configs/service-tags.json next to the "
                           "binaries or in the current directory; set egress.service_tags");
    if (!(self->tags = gw_tags_load(path, err)))
        return err->code;
    cmk_info("egress.tags", "service_tags=%s", path);
    return 0;
}

/* kept_address - with port 0 configured: the address chosen at an earlier start of this run dir
 * (<run>/gateway.http.kept), if it is on the configured host, so trigger URLs survive a restart */
static int kept_address(const cmk_config *cfg, const char *file, char *out, size_t cap)
{
    const char *colon = strrchr(cfg->gateway_http, ':');
    char buf[96] = "";
    FILE *f;
    if (!colon || strcmp(colon, ":0") != 0 || !(f = fopen(file, "r")))
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strncmp(buf, cfg->gateway_http, (size_t)(colon - cfg->gateway_http + 1)) != 0 || !strcmp(buf + (colon - cfg->gateway_http), ":0"))
        return 0;
    snprintf(out, cap, "%s", buf);
    return 1;
}

/* listen_http - bind the HTTP port and write <run>/gateway.http (the port chosen at the first
 * start is kept there and used again: trigger URLs callers hold stay valid across gateway
 * restarts); serving starts after the gateway has confined itself (serve_http) */
static int listen_http(gateway *self, const cmk_config *cfg, cmk_err *err)
{
    char line[80], kept[96], kept_file[4200];
    if (!(self->ingress = gw_ingress_new(cfg->run_dir, cfg->request_timeout,
                                        (int)cfg->gw_max_trigger_inflight)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    snprintf(self->http_file, sizeof self->http_file, "%s/gateway.http", cfg->run_dir);
    snprintf(kept_file, sizeof kept_file, "%s/gateway.http.kept", cfg->run_dir); /* never removed */
    if (kept_address(cfg, kept_file, kept, sizeof kept)) {
        cmk_err kerr = CMK_ERR_INIT;
        if (!(self->http = gw_http_listen(kept, self->metrics, self->ingress, &kerr)))
            cmk_warn("gateway.http_port_lost", "address=%s error=\"%s\" (trigger URLs change: a new port is picked)",
                     kept, kerr.msg);
    }
    if (!self->http && !(self->http = gw_http_listen(cfg->gateway_http, self->metrics, self->ingress, err)))
        return err->code;
    snprintf(line, sizeof line, "%s\n", gw_http_address(self->http));
    if (cmk_file_write_atomic(self->http_file, line, strlen(line), 0644, err) < 0 ||
        cmk_file_write_atomic(kept_file, line, strlen(line), 0644, err) < 0)
        return err->code;
    cmk_info("gateway.http", "address=%s", gw_http_address(self->http));
    return 0;
}

/* serve_http - start the HTTP server's threads on the bound port */
static int serve_http(gateway *self, const cmk_config *cfg, cmk_err *err)
{
    gw_http_limits lim = { (unsigned)cfg->gw_per_ip_connections, (unsigned)cfg->gw_max_connections,
                           (unsigned)((cfg->gw_connection_timeout + 999) / 1000) };
    return gw_http_serve(self->http, &lim, err);
}

/* start_router - ZAP, then the CURVE ROUTER for workers (kp: the server key, wiped here) */
static int start_router(gateway *self, const cmk_config *cfg, cmk_keypair *kp, cmk_err *err)
{
    char ep[4200];
    int zero = 0, rc = 0;

    if (rc == 0 && !(self->zap = cmk_zap_new(cmk_server_zmq(self->srv), cfg->run_dir, "worker", err)))
        rc = err->code;
    if (rc == 0)
        rc = cmk_zap_attach(self->zap, cmk_server_loop(self->srv), err);
    if (rc == 0) {
        self->router = zmq_socket(cmk_server_zmq(self->srv), ZMQ_ROUTER);
        zmq_setsockopt(self->router, ZMQ_LINGER, &zero, sizeof zero);
        rc = cmk_proto_limit_socket(self->router, cfg->msg_max_size, err);
        if (rc == 0)
            rc = cmk_curve_server(self->router, kp, err);
    }
    cmk_keypair_wipe(kp);
    if (rc < 0)
        return rc;
    cmk_config_endpoint(cfg, cfg->gateway_endpoint, ep, sizeof ep);
    if (zmq_bind(self->router, ep) != 0)
        return cmk_err_set(err, CMK_EIO, "cannot bind %s: %s%s", ep, zmq_strerror(errno),
                           errno == EACCES ? " (the confined gateway makes its socket only in a directory of "
                                             "its own, not in the run dir itself: e.g. ipc://{run}/gateway/gateway.sock)"
                                           : "");
    cmk_loop_add_socket(cmk_server_loop(self->srv), self->router, on_router, self);
    cmk_info("gateway.bound", "endpoint=%s", ep);
    return 0;
}

/* gateway_start - what the confinement would forbid first (the namespace spawner, the HTTP
 * port and its file, the server key), then the confinement (issue #20; before any thread
 * starts: Landlock holds only for the threads made after it), then the modules, HTTP, ROUTER
 * and the controller link */
int gateway_start(cmk_server *srv, gateway **out, cmk_err *err)
{
    gateway *self = calloc(1, sizeof *self);
    const cmk_config *cfg = cmk_server_config(srv);
    cmk_keypair kp;
    int rc = 0, have_kp = 0;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    if (!(self->nsock = gw_nsock_new(cfg->run_dir, err)))
        rc = err->code;
    if (rc == 0 && !(self->metrics = gw_metrics_new()))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = listen_http(self, cfg, err);
    if (rc == 0 && (rc = cmk_keypair_ensure(cfg->run_dir, "gateway-server", &kp, err)) == 0)
        have_kp = 1;
    if (rc == 0)
        rc = cmk_server_confine(srv, err);
    if (rc == 0)
        rc = cmk_metrics_add_text(render_gw_metrics, self->metrics);
    if (rc == 0)
        rc = load_tags(self, cfg, err);
    if (rc == 0 && !(self->egress = gw_egress_new(self->nsock, err)))
        rc = err->code;
    if (rc == 0)
        rc = cmk_loop_add_fd(cmk_server_loop(srv), gw_egress_fd(self->egress), on_egress, self);
    if (rc == 0)
        rc = serve_http(self, cfg, err);
    if (rc == 0) {
        rc = start_router(self, cfg, &kp, err);
        have_kp = 0;
    }
    if (have_kp)
        cmk_keypair_wipe(&kp);
    if (rc == 0 && !(self->peer = cmk_peer_new(srv, on_peer, self, err)))
        rc = err->code;
    if (rc < 0) {
        gateway_stop(&self);
        return rc;
    }
    *out = self;
    return 0;
}

/* gateway_on_signal - reap helpers on SIGCHLD */
int gateway_on_signal(gateway *self, int signo)
{
    if (signo != SIGCHLD || !self)
        return 0;
    gw_nsock_reap(self->nsock);
    return 1;
}

/* gateway_stop - close in reverse order */
void gateway_stop(gateway **self_p)
{
    gateway *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cmk_peer_destroy(&self->peer);
    gw_http_destroy(&self->http);
    if (self->http_file[0])
        unlink(self->http_file);
    if (self->egress) {
        cmk_loop_remove_fd(cmk_server_loop(self->srv), gw_egress_fd(self->egress));
        gw_egress_destroy(&self->egress);
    }
    gw_nsock_destroy(&self->nsock);
    gw_ingress_destroy(&self->ingress);
    if (self->router) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->router);
        zmq_close(self->router);
    }
    if (self->zap) {
        cmk_zap_detach(self->zap, cmk_server_loop(self->srv));
        cmk_zap_destroy(&self->zap);
    }
    gw_tags_destroy(&self->tags);
    cmk_metrics_remove_text(render_gw_metrics, self->metrics);
    gw_metrics_destroy(&self->metrics);
    free(self);
    *self_p = NULL;
}
