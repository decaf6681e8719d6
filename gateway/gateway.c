/*
 * gateway.c - the gateway's sockets and the dispatch of worker requests.
 */
#include "gateway.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "keys.h"
#include "log.h"
#include "proto.h"

/* on_zap - authenticate connecting workers */
static int on_zap(cmk_loop *loop, void *sock, int fd, void *arg)
{
    cmk_zap_handle(arg);
    return 0;
}

/* on_router - requests from workers */
static int on_router(cmk_loop *loop, void *sock, int fd, void *arg)
{
    for (int i = 0; i < 1024; i++) {
        cmk_msg *msg = NULL, *partial = NULL, *rep = NULL;
        cmk_err err = CMK_ERR_INIT;
        int events = 0;
        size_t elen = sizeof events;

        zmq_getsockopt(sock, ZMQ_EVENTS, &events, &elen);
        if (!(events & ZMQ_POLLIN))
            break;
        if (cmk_msg_recv(sock, &msg, &partial, &err) < 0) {
            cmk_warn("router.bad_message", "error=\"%s\"", err.msg);
            if (partial && partial->routing_len)
                rep = cmk_msg_error(partial, CMK_EPROTO, err.msg);
            cmk_msg_destroy(&partial);
        } else if (strcmp(msg->type, CMK_MSG_PING) == 0) {
            rep = cmk_msg_reply(msg, CMK_MSG_REPLY);
            cJSON_AddBoolToObject(rep->body, "pong", 1);
            cJSON_AddStringToObject(rep->body, "role", "gateway");
            cJSON_AddNumberToObject(rep->body, "pid", getpid());
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

/* gateway_start - ZAP, ROUTER, controller link */
int gateway_start(cmk_server *srv, gateway **out, cmk_err *err)
{
    gateway *self = calloc(1, sizeof *self);
    const cmk_config *cfg = cmk_server_config(srv);
    cmk_keypair kp;
    char ep[4200];
    int zero = 0, rc;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    rc = cmk_keypair_ensure(cfg->run_dir, "gateway-server", &kp, err);
    if (rc == 0 && !(self->zap = cmk_zap_new(cmk_server_zmq(srv), cfg->run_dir, "worker", err)))
        rc = err->code;
    if (rc == 0) {
        cmk_loop_add_socket(cmk_server_loop(srv), cmk_zap_socket(self->zap), on_zap, self->zap);
        self->router = zmq_socket(cmk_server_zmq(srv), ZMQ_ROUTER);
        zmq_setsockopt(self->router, ZMQ_LINGER, &zero, sizeof zero);
        rc = cmk_curve_server(self->router, &kp, err);
    }
    cmk_keypair_wipe(&kp);
    if (rc == 0) {
        cmk_config_endpoint(cfg, cfg->gateway_endpoint, ep, sizeof ep);
        if (zmq_bind(self->router, ep) != 0)
            rc = cmk_err_set(err, CMK_EIO, "cannot bind %s: %s", ep, zmq_strerror(errno));
        else {
            cmk_loop_add_socket(cmk_server_loop(srv), self->router, on_router, self);
            cmk_info("gateway.bound", "endpoint=%s", ep);
        }
    }
    if (rc == 0 && !(self->peer = cmk_peer_new(srv, NULL, self, err)))
        rc = err->code;
    if (rc < 0) {
        gateway_stop(&self);
        return rc;
    }
    *out = self;
    return 0;
}

/* gateway_stop - close */
void gateway_stop(gateway **self_p)
{
    gateway *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cmk_peer_destroy(&self->peer);
    if (self->router) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->router);
        zmq_close(self->router);
    }
    if (self->zap) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), cmk_zap_socket(self->zap));
        cmk_zap_destroy(&self->zap);
    }
    free(self);
    *self_p = NULL;
}
