/*
 * gw_probe.c - `cmk-gateway probe`: one http.request to the gateway with a worker's key.
 */
#include "gw_probe.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "config.h"
#include "keys.h"
#include "proto.h"
#include "util.h"
#include "ops.h"

static const char usage_text[] =
    "cmk-gateway probe - send one outbound HTTP action to the gateway as a worker, print the reply\n\n"
    "Usage: cmk-gateway probe --url URL [options]\n\n"
    "  --run-dir DIR            the cluster (default $CMK_RUN_DIR or ./var)\n"
    "  --name NAME              act as this worker: keys/NAME.key (default worker-shared)\n"
    "  --key FILE               or use this key file (a worker's)\n"
    "  --infrastructure INFRA   shared (legacy ranges) or dedicated (PowerPlatformPlex); default shared\n"
    "  --region REGION          Power Platform region (unitedstates, europe, ...) or an Azure one;\n"
    "                           default unitedstates\n"
    "  --kind KIND              http (default) or connector (shared: AzureConnectors)\n"
    "  --env ID --flow ID --run ID --action NAME\n"
    "                           what the decision line names (defaults: env-probe, probe, run-probe, HTTP)\n"
    "  --method METHOD          default GET\n"
    "  --header 'Name: value'   request header (repeatable)\n"
    "  --data TEXT              request body\n"
    "  --timeout-ms N           the action's timeout (default: egress.timeout)\n"
    "  --wait-ms N              how long to wait for the gateway (default: timeout + 5 s, or 40 s)\n"
    "  --help                   this text\n\n"
    "The reply ({status, headers, body, latency_ms, source_ip, tag, destination, firewall}) or\n"
    "the error ({\"error\": {code, message, outcome, ...}}) is printed as JSON. Exit status 0 for\n"
    "any HTTP response; 1 refused, 2 bad input, 3 unavailable or timeout, 4 I/O.\n\n"
    "Example - what a CMK environment's HTTP action meets at the customer firewall:\n"
    "  cmk-gateway probe --run-dir /tmp/c1 --infrastructure dedicated --region unitedstates \\\n"
    "      --url http://127.0.0.1:18080/anything\n";

/* Options of a probe. */
typedef struct {
    const char *run_dir, *name, *key, *url, *data;       /* where and what */
    const char *infra, *region, *kind, *method;          /* how it is routed */
    const char *env, *flow, *run, *action;               /* what it belongs to */
    long timeout_ms, wait_ms;                            /* -1: default */
    cJSON *headers;                                      /* --header values */
} probe_opts;

/* parse - options into o; 0, 1 for --help, 2 for bad usage */
static int parse(int argc, char **argv, probe_opts *o)
{
    static const struct option opts[] = {
        { "run-dir", 1, 0, 'r' }, { "name", 1, 0, 'n' },    { "key", 1, 0, 'k' },
        { "url", 1, 0, 'u' },     { "data", 1, 0, 'd' },    { "infrastructure", 1, 0, 'i' },
        { "region", 1, 0, 'g' },  { "kind", 1, 0, 'K' },    { "method", 1, 0, 'm' },
        { "env", 1, 0, 'e' },     { "flow", 1, 0, 'f' },    { "run", 1, 0, 'R' },
        { "action", 1, 0, 'a' },  { "header", 1, 0, 'H' },  { "timeout-ms", 1, 0, 't' },
        { "wait-ms", 1, 0, 'w' }, { "help", 0, 0, 'h' },    { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->run_dir = optarg; break;
        case 'n': o->name = optarg; break;
        case 'k': o->key = optarg; break;
        case 'u': o->url = optarg; break;
        case 'd': o->data = optarg; break;
        case 'i': o->infra = optarg; break;
        case 'g': o->region = optarg; break;
        case 'K': o->kind = optarg; break;
        case 'm': o->method = optarg; break;
        case 'e': o->env = optarg; break;
        case 'f': o->flow = optarg; break;
        case 'R': o->run = optarg; break;
        case 'a': o->action = optarg; break;
        case 't': o->timeout_ms = strtol(optarg, NULL, 10); break;
        case 'w': o->wait_ms = strtol(optarg, NULL, 10); break;
        case 'H': {
            char *colon = strchr(optarg, ':'), name[256];
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof name) {
                fprintf(stderr, "cmk-gateway probe: --header takes 'Name: value', not '%s'\n", optarg);
                return 2;
            }
            snprintf(name, sizeof name, "%.*s", (int)(colon - optarg), optarg);
            for (colon++; *colon == ' '; colon++)
                ;
            cJSON_AddStringToObject(o->headers, name, colon);
            break;
        }
        case 'h': return 1;
        default: return 2;
        }
    }
    if (optind < argc || !o->url) {
        fprintf(stderr, "cmk-gateway probe: %s; see cmk-gateway probe --help\n",
                optind < argc ? "unexpected argument" : "--url is required");
        return 2;
    }
    return 0;
}

/* request_body - the http.request body of the options */
static cJSON *request_body(const probe_opts *o)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", o->env);
    cJSON_AddStringToObject(b, "flow", o->flow);
    cJSON_AddStringToObject(b, "run", o->run);
    cJSON_AddStringToObject(b, "action", o->action);
    cJSON_AddStringToObject(b, "infrastructure", o->infra);
    cJSON_AddStringToObject(b, "region", o->region);
    cJSON_AddStringToObject(b, "kind", o->kind);
    cJSON_AddStringToObject(b, "method", o->method);
    cJSON_AddStringToObject(b, "uri", o->url);
    cJSON_AddItemToObject(b, "headers", cJSON_Duplicate(o->headers, 1));
    if (o->data)
        cJSON_AddStringToObject(b, "body", o->data);
    if (o->timeout_ms > 0)
        cJSON_AddNumberToObject(b, "timeout_ms", (double)o->timeout_ms);
    return b;
}

/* exchange - connect, send, wait; *reply on success */
static int exchange(const probe_opts *o, cmk_msg **reply, cmk_err *err)
{
    cmk_config *cfg = cmk_config_new(o->run_dir, err);
    char path[PATH_MAX], pub[CMK_Z85_KEY_LEN + 1], ep[4200];
    cmk_keypair kp;
    void *ctx = NULL, *sock = NULL;
    cmk_msg *req = NULL, *partial = NULL;
    int rc = cfg ? 0 : err->code, zero = 0;
    long wait;

    if (rc == 0) {
        snprintf(path, sizeof path, "%s/config.json", cfg->run_dir);
        if (cmk_config_load_file(cfg, path, err) < 0)
            rc = cmk_err_set(err, CMK_EUNAVAIL, "no cluster at %s (start one with cmkctl up "
                             "--run-dir %s)", cfg->run_dir, cfg->run_dir);
    }
    if (rc == 0)
        rc = cmk_public_load(cfg->run_dir, "gateway-server", pub, err);
    if (rc == 0) {
        if (o->key)
            snprintf(path, sizeof path, "%s", o->key);
        else
            snprintf(path, sizeof path, "%s/keys/%s.key", cfg->run_dir, o->name);
        rc = cmk_keypair_load(path, &kp, err);
    }
    if (rc == 0) {
        ctx = zmq_ctx_new();
        sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
        if (!sock)
            rc = cmk_err_set(err, CMK_EIO, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        else {
            zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
            rc = cmk_proto_limit_socket(sock, cfg->msg_max_size, err);
            if (rc == 0)
                rc = cmk_curve_client(sock, &kp, pub, err);
        }
        cmk_keypair_wipe(&kp);
    }
    if (rc == 0) {
        cmk_config_endpoint(cfg, cfg->gateway_endpoint, ep, sizeof ep);
        if (zmq_connect(sock, ep) != 0)
            rc = cmk_err_set(err, CMK_EIO, "cannot connect to %s: %s", ep, zmq_strerror(errno));
    }
    if (rc == 0 && !(req = cmk_msg_new(CMK_T_HTTP_REQUEST, NULL)))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (rc == 0) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        cmk_msg_set_body(req, request_body(o));
        wait = o->wait_ms > 0 ? o->wait_ms
                              : o->timeout_ms > 0 ? o->timeout_ms + 5000 : cfg->egress_timeout + 10000;
        /* a refused CURVE handshake drops the pipe and a DEALER with no pipe blocks in
         * send: bound the send by the same wait, and report both alike */
        zmq_setsockopt(sock, ZMQ_SNDTIMEO, &(int){ (int)wait }, sizeof(int));
        rc = cmk_msg_send(req, sock, err);
        if (rc == CMK_EBUSY || (rc == 0 && zmq_poll(&item, 1, wait) != 1))
            rc = cmk_err_set(err, CMK_ETIMEOUT, "no answer from the gateway at %s within %ld ms; "
                             "is the cluster up, and is %s a worker key?", ep, wait,
                             o->key ? o->key : o->name);
        if (rc == 0)
            rc = cmk_msg_recv(sock, reply, &partial, err);
    }
    cmk_msg_destroy(&partial);
    cmk_msg_destroy(&req);
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    cmk_config_destroy(&cfg);
    return rc;
}

/* gw_probe_main - parse, exchange, print */
int gw_probe_main(int argc, char **argv)
{
    probe_opts o = { .name = CMK_WORKER_SHARED, .infra = "shared", .region = "unitedstates",
                     .kind = "http", .method = "GET", .env = "env-probe", .flow = "probe",
                     .run = "run-probe", .action = "HTTP", .timeout_ms = -1, .wait_ms = -1 };
    cmk_err err = CMK_ERR_INIT;
    cmk_msg *reply = NULL;
    int rc;
    char *text;

    o.run_dir = getenv("CMK_RUN_DIR");
    o.headers = cJSON_CreateObject();
    rc = parse(argc, argv, &o);
    if (rc == 1)
        fputs(usage_text, stdout);
    if (rc != 0) {
        cJSON_Delete(o.headers);
        return rc == 1 ? 0 : 2;
    }
    rc = exchange(&o, &reply, &err);
    cJSON_Delete(o.headers);
    if (rc < 0) {
        fprintf(stderr, "cmk-gateway probe: %s\n", err.msg);
        return cmk_code_exit(rc);
    }
    if (strcmp(reply->type, CMK_MSG_ERROR) == 0) {
        cJSON *wrap = cJSON_CreateObject();
        rc = cmk_msg_error_of(reply, &err);
        cJSON_AddItemToObject(wrap, "error", cJSON_Duplicate(reply->body, 1));
        text = cJSON_Print(wrap);
        cJSON_Delete(wrap);
    } else
        text = cJSON_Print(reply->body);
    printf("%s\n", text ? text : "{}");
    free(text);
    cmk_msg_destroy(&reply);
    return rc < 0 ? cmk_code_exit(rc) : 0;
}
