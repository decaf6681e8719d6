/*
 * fw_daemon.c - `cmk-firewall serve`: the customer edge as a supervised process (see
 * fw_daemon.h).
 */
#include "fw_daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* fw_daemon_request - the peer channel's operations */
int fw_daemon_request(fw_edge *edge, const char *type, const cJSON *body, cJSON **reply,
                      cmk_err *err)
{
    *reply = NULL;
    if (strcmp(type, "firewall.status") == 0) {
        *reply = fw_edge_status(edge);
        return 0;
    }
    if (strcmp(type, "firewall.fault") == 0)
        return fw_edge_fault(edge, body, reply, err);
    if (strcmp(type, "firewall.apply") == 0) {
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(body, "config");
        const char *path = cmk_json_str(body, "path", NULL);
        const char *origin = cmk_json_str(body, "name", "firewall.apply");
        char *text;
        int rc;
        if (path && !cfg)
            return fw_edge_apply_file(edge, path, reply, err);
        if (cJSON_IsString(cfg))
            return fw_edge_apply_text(edge, cfg->valuestring, strlen(cfg->valuestring), origin,
                                      reply, err);
        if (!cJSON_IsObject(cfg))
            return cmk_err_set(err, CMK_EINVAL, "firewall.apply needs {config: JSON text or "
                               "object} or {path: file}");
        if (!(text = cJSON_Print(cfg)))
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        rc = fw_edge_apply_text(edge, text, strlen(text), origin, reply, err);
        free(text);
        return rc;
    }
    return cmk_err_set(err, CMK_EPROTO, "unknown request '%s' for the firewall (it answers "
                       "firewall.status, firewall.apply and firewall.fault)", type);
}

/* on_peer - a request from the controller */
static int on_peer(cmk_peer *peer, const cmk_msg *req, void *arg, cmk_err *err)
{
    fw_daemon *self = arg;
    cJSON *body = NULL;
    cmk_msg *rep;
    int rc = fw_daemon_request(self->edge, req->type, req->body, &body, err);

    if (rc < 0)
        return rc;
    if (!(rep = cmk_msg_reply(req, CMK_MSG_REPLY))) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_msg_set_body(rep, body);
    cmk_peer_send(peer, rep, NULL);
    cmk_msg_destroy(&rep);
    return 0;
}

/* confine - called by fw_edge_new once the namespace is made: the capabilities its setup
 * needed go, then Landlock and seccomp (common/server.h) */
static int confine(void *arg, cmk_err *err)
{
    return cmk_server_confine(arg, err);
}

/* fw_daemon_start - the edge, then the controller link */
int fw_daemon_start(cmk_server *srv, fw_daemon **out, cmk_err *err)
{
    fw_daemon *self = calloc(1, sizeof *self);
    const cmk_config *cfg = cmk_server_config(srv);
    fw_edge_opts o = { cfg->run_dir, cfg->firewall_mode, cfg->firewall_config, cfg->service_tags,
                       (int)cfg->endpoint_port, confine, srv };
    cJSON *info;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    if (!(self->edge = fw_edge_new(&o, err)) ||
        !(self->peer = cmk_peer_new(srv, on_peer, self, err))) {
        fw_daemon_stop(&self);
        return err->code ? err->code : CMK_EINTERNAL;
    }
    info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "firewall_mode", fw_edge_mode(self->edge));
    cmk_peer_set_info(self->peer, info);
    if (fw_edge_start_counters(self->edge, 1000, err) < 0) {
        fw_daemon_stop(&self);
        return err->code;
    }
    *out = self;
    return 0;
}

/* fw_daemon_stop - leave */
void fw_daemon_stop(fw_daemon **self_p)
{
    fw_daemon *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cmk_peer_destroy(&self->peer);
    fw_edge_destroy(&self->edge);
    free(self);
    *self_p = NULL;
}

/* init - start the daemon */
static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return fw_daemon_start(srv, (fw_daemon **)state, err);
}

/* on_signal - SIGHUP reloads the config file; SIGCHLD checks the namespace holder */
static int on_signal(cmk_server *srv, void *state, int signo)
{
    fw_daemon *self = state;
    cmk_err err = CMK_ERR_INIT;

    if (!self)
        return 0;
    if (signo == SIGHUP) {
        if (fw_edge_reload(self->edge, NULL, &err) < 0)
            cmk_error("firewall.reload_failed", "error=\"%s\"", err.msg);
        return 1;
    }
    if (signo == SIGCHLD) {
        if (fw_edge_alive(self->edge, &err) < 0) {
            cmk_error("firewall.netns_lost", "error=\"%s\"", err.msg);
            cmk_server_stop(srv);
        }
        return 1;
    }
    return 0;
}

/* fini - stop the daemon */
static void fini(cmk_server *srv, void *state)
{
    fw_daemon *self = state;
    fw_daemon_stop(&self);
}

/* fw_daemon_main - the daemon skeleton with the firewall's hooks */
int fw_daemon_main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-firewall serve",
        .role = "firewall",
        .summary = "the customer's firewall and endpoints as a process of the cluster",
        .usage = "Uses firewall.config, firewall.mode (auto|kernel|userspace), "
                 "firewall.endpoint_port and\negress.service_tags. SIGHUP re-applies the config "
                 "file. State for the gateway:\n<run>/firewall/state.json.\n",
        .init = init,
        .on_signal = on_signal,
        .fini = fini,
        .confine_late = 1, /* after its namespace is made: fw_edge_opts.confine */
    };
    return cmk_server_main(argc, argv, &hooks);
}
