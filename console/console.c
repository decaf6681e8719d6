/*
 * console.c - the cmk-console process: its token, the poller of the cluster, the HTTP server
 * and the peer link that makes it a supervised process of the cluster.
 */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "con_http.h"
#include "con_token.h"
#include "con_world.h"
#include "log.h"
#include "peer.h"
#include "util.h"

struct console {
    cmk_server *srv;
    char token[CON_TOKEN_LEN + 1];
    con_world *world;
    con_http *http;
    cmk_peer *peer;
};

/* console_listen_address - console.listen, with a kept port when it asks for any port */
void console_listen_address(const char *listen, const char *kept, char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':'), *kcolon = kept ? strrchr(kept, ':') : NULL;
    long port;
    char *end;

    snprintf(out, cap, "%s", listen);
    if (!colon || strcmp(colon, ":0") != 0 || !kcolon)
        return;
    /* the same host, and a port that is a number */
    if ((size_t)(kcolon - kept) != (size_t)(colon - listen) || strncmp(kept, listen, (size_t)(colon - listen)) != 0)
        return;
    port = strtol(kcolon + 1, &end, 10);
    if (port <= 0 || port > 65535 || (*end && *end != '\n'))
        return;
    snprintf(out, cap, "%.*s:%ld", (int)(colon - listen), listen, port);
}

/* start_http - listen (the kept port first), and write <run>/console.http; serving starts later */
static int start_http(console *self, const cmk_config *cfg, cmk_err *err)
{
    char path[4200], addr[128], line[96], *kept = NULL;
    size_t len = 0;

    snprintf(path, sizeof path, "%s/console.http", cfg->run_dir);
    if (cmk_file_read(path, &kept, &len, NULL) < 0)
        kept = NULL;
    console_listen_address(cfg->console_listen, kept, addr, sizeof addr);
    free(kept);
    if (!(self->http = con_http_listen(addr, self->token, err))) {
        if (strcmp(addr, cfg->console_listen) == 0)
            return err->code;
        /* the kept port is taken by someone else: any port then */
        cmk_log(CMK_LOG_WARN, NULL, NULL, "console.port_changed", "wanted=%s error=\"%s\"", addr, err->msg);
        cmk_err_clear(err);
        if (!(self->http = con_http_listen(cfg->console_listen, self->token, err)))
            return err->code;
    }
    snprintf(line, sizeof line, "%s\n", con_http_address(self->http));
    if (cmk_file_write_atomic(path, line, strlen(line), 0644, err) < 0)
        return err->code;
    cmk_info("console.http", "address=%s url=http://%s/", con_http_address(self->http), con_http_address(self->http));
    return 0;
}

/* console_start - everything in order; the peer last, so that ready means serving */
int console_start(cmk_server *srv, console **out, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(srv);
    console *self = calloc(1, sizeof *self);
    char key[4200], reports[4200];
    con_world_opts wo;
    int rc;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    rc = con_token_ensure(cfg->run_dir, self->token, sizeof self->token, err);
    /* the token and console.http are written, the port bound: now confined (issue #20), before
     * the poller's and the HTTP server's threads start */
    if (rc == 0)
        rc = start_http(self, cfg, err);
    if (rc == 0)
        rc = cmk_server_confine(srv, err);
    if (rc == 0) {
        snprintf(key, sizeof key, "%s/keys/%s.key", cfg->run_dir, cmk_server_name(srv));
        cmk_config_endpoint(cfg, cfg->console_reports, reports, sizeof reports);
        memset(&wo, 0, sizeof wo);
        wo.run_dir = cfg->run_dir;
        wo.key_path = key;
        wo.reports_dir = reports;
        wo.refresh_ms = cfg->console_refresh;
        wo.locked_delete_sandbox = cfg->locked_delete_sandbox;
        wo.locked_delete_production = cfg->locked_delete_production;
        if (!(self->world = con_world_new(&wo, err)))
            rc = err->code;
    }
    if (rc == 0)
        rc = con_http_serve(self->http, self->world, err);
    if (rc == 0 && !(self->peer = cmk_peer_new(srv, NULL, self, err)))
        rc = err->code;
    if (rc == 0) {
        cJSON *info = cJSON_CreateObject();
        cJSON_AddStringToObject(info, "http", con_http_address(self->http));
        cmk_peer_set_info(self->peer, info);
    }
    if (rc < 0) {
        console_stop(&self);
        return rc;
    }
    *out = self;
    return 0;
}

/* console_stop - peer, HTTP, poller; the token wiped */
void console_stop(console **self_p)
{
    console *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cmk_peer_destroy(&self->peer);
    con_http_destroy(&self->http);
    con_world_destroy(&self->world);
    OPENSSL_cleanse(self->token, sizeof self->token);
    free(self);
    *self_p = NULL;
}
