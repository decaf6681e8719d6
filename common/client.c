/*
 * client.c - DEALER client of the controller's front door.
 */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "clock.h"
#include "keys.h"
#include "util.h"

struct cmk_client {
    void *zmq;           /* own ZeroMQ context */
    void *sock;          /* DEALER to controller.front */
    cmk_config *cfg;     /* the cluster's config */
};

void *cmk_client_socket(cmk_client *self) { return self->sock; }
void *cmk_client_zmq(cmk_client *self) { return self->zmq; }
const cmk_config *cmk_client_config(cmk_client *self) { return self->cfg; }

/* cmk_client_new - connect to the cluster in run_dir */
cmk_client *cmk_client_new(const char *run_dir, const char *key_path, cmk_err *err)
{
    cmk_client *self = calloc(1, sizeof *self);
    cmk_keypair kp;
    char server_pub[CMK_Z85_KEY_LEN + 1], path[PATH_MAX], ep[4200];
    int zero = 0, rc;

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    if (!(self->cfg = cmk_config_new(run_dir, err)))
        goto fail;
    snprintf(path, sizeof path, "%s/config.json", self->cfg->run_dir);
    rc = cmk_config_load_file(self->cfg, path, err);
    if (rc == CMK_ENOENT || (rc < 0 && err && strstr(err->msg, "cannot open"))) {
        cmk_err_set(err, CMK_EUNAVAIL, "no cluster at %s; start one with: cmkctl up --run-dir %s",
                    self->cfg->run_dir, self->cfg->run_dir);
        goto fail;
    }
    if (rc < 0)
        goto fail;
    if (cmk_public_load(self->cfg->run_dir, "controller", server_pub, err) < 0)
        goto fail;
    if (key_path)
        rc = cmk_keypair_load(key_path, &kp, err);
    else {
        snprintf(path, sizeof path, "%s/keys/admin.key", self->cfg->run_dir);
        rc = cmk_keypair_load(path, &kp, err);
    }
    if (rc < 0)
        goto fail;
    self->zmq = zmq_ctx_new();
    self->sock = self->zmq ? zmq_socket(self->zmq, ZMQ_DEALER) : NULL;
    if (!self->sock) {
        cmk_keypair_wipe(&kp);
        cmk_err_set(err, CMK_EIO, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        goto fail;
    }
    zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
    /* a DEALER whose CURVE handshake was refused has no pipe and would block in send
     * forever: every send sets ZMQ_SNDTIMEO (send_within) */
    rc = cmk_proto_limit_socket(self->sock, self->cfg->msg_max_size, err);
    if (rc == 0)
        rc = cmk_curve_client(self->sock, &kp, server_pub, err);
    cmk_keypair_wipe(&kp);
    if (rc < 0)
        goto fail;
    cmk_config_endpoint(self->cfg, self->cfg->controller_front, ep, sizeof ep);
    if (zmq_connect(self->sock, ep) != 0) {
        cmk_err_set(err, CMK_EIO, "cannot connect to %s: %s", ep, zmq_strerror(errno));
        goto fail;
    }
    return self;
fail:
    cmk_client_destroy(&self);
    return NULL;
}

/* cmk_client_destroy - close */
void cmk_client_destroy(cmk_client **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->sock)
        zmq_close((*self_p)->sock);
    if ((*self_p)->zmq)
        zmq_ctx_term((*self_p)->zmq);
    cmk_config_destroy(&(*self_p)->cfg);
    free(*self_p);
    *self_p = NULL;
}

/* send_within - send a request, waiting at most timeout_ms for a connection */
static int send_within(cmk_client *self, const char *type, const cJSON *body, char *reqid,
                       size_t cap, int64_t timeout_ms, cmk_err *err)
{
    cmk_msg *msg = cmk_msg_new(type, NULL);
    int ms = timeout_ms < 0 ? 0 : timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
    int rc;
    if (!msg)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (body)
        cmk_msg_set_body(msg, cJSON_Duplicate(body, 1));
    if (reqid)
        cmk_strlcpy(reqid, msg->reqid, cap);
    zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &ms, sizeof ms);
    rc = cmk_msg_send(msg, self->sock, err);
    if (rc == CMK_EBUSY)
        rc = cmk_err_set(err, CMK_ETIMEOUT,
                         "no answer from the controller at %s within %d ms (no connection was "
                         "made); is the cluster up (cmkctl status) and is this client's key "
                         "authorized?", self->cfg->run_dir, ms);
    cmk_msg_destroy(&msg);
    return rc;
}

/* cmk_client_send - send a request */
int cmk_client_send(cmk_client *self, const char *type, const cJSON *body, char *reqid, size_t cap,
                    cmk_err *err)
{
    return send_within(self, type, body, reqid, cap, CMK_CLIENT_SEND_TIMEOUT_MS, err);
}

/* cmk_client_recv - next reply within timeout */
int cmk_client_recv(cmk_client *self, int64_t timeout_ms, cmk_msg **reply, cmk_err *err)
{
    zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll(&item, 1, (long)timeout_ms);
    cmk_msg *partial = NULL;

    if (rc < 0)
        return cmk_err_set(err, CMK_EIO, "poll failed: %s", zmq_strerror(errno));
    if (rc == 0)
        return cmk_err_set(err, CMK_ETIMEOUT,
                           "no answer from the controller at %s within %lld ms; is the cluster up "
                           "(cmkctl status) and is this client's key authorized?",
                           self->cfg->run_dir, (long long)timeout_ms);
    rc = cmk_msg_recv(self->sock, reply, &partial, err);
    cmk_msg_destroy(&partial);
    return rc;
}

/* cmk_client_call - request and wait for its reply */
int cmk_client_call(cmk_client *self, const char *type, const cJSON *body, int64_t timeout_ms,
                    cmk_msg **reply, cmk_err *err)
{
    char reqid[CMK_PROTO_MAX_REQID + 1];
    int64_t deadline = cmk_mono_ms() + timeout_ms;
    int rc = send_within(self, type, body, reqid, sizeof reqid, timeout_ms, err);

    if (reply)
        *reply = NULL;
    while (rc == 0) {
        cmk_msg *msg = NULL;
        int64_t left = deadline - cmk_mono_ms();
        if (left < 0)
            left = 0;
        if ((rc = cmk_client_recv(self, left, &msg, err)) < 0)
            break;
        if (strcmp(msg->reqid, reqid) != 0) {
            cmk_msg_destroy(&msg); /* a late reply to an earlier call */
            continue;
        }
        rc = cmk_msg_error_of(msg, err);
        if (rc == 0 && reply)
            *reply = msg;
        else
            cmk_msg_destroy(&msg);
        break;
    }
    return rc;
}
