/*
 * worker.c - a worker process: controller link, gateway link, request dispatch, ticks.
 */
#include "worker.h"

#include "op_fields.h"
#include "ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "proto.h"
#include "ops.h"
#include "util.h"
#include "wmetrics.h"

#define TICK_MS 2        /* group commits and deadlines are checked this often while pending */
#define TICK_IDLE_MS 250 /* and this often when nothing is (an idle worker barely wakes up) */

/* worker_now - the time flows and runs are stamped with: the controller's clock */
int64_t worker_now(const worker *w)
{
    return cmk_wall_ms() + w->clock_offset;
}

/* learn_clock - keep the controller's clock from a routed request's clock_ms (a virtual clock
 * moves by `clock advance`; the next request carries it) */
static void learn_clock(worker *w, const cJSON *body)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "clock_ms");
    if (cJSON_IsNumber(c) && c->valuedouble > 0)
        w->clock_offset = (int64_t)c->valuedouble - cmk_wall_ms();
}

/* worker_reply - send a reply to the controller */
void worker_reply(worker *w, cmk_msg *reply)
{
    cmk_err err = CMK_ERR_INIT;
    if (cmk_peer_send(w->peer, reply, &err) < 0)
        cmk_log(CMK_LOG_WARN, NULL, reply->reqid, "reply.failed", "error=\"%s\"", err.msg);
    cmk_msg_destroy(&reply);
}

/* worker_fail - an error reply */
void worker_fail(worker *w, cmk_msg *reply, int code, const char *message)
{
    cmk_msg *e = cmk_msg_error(reply, code, message);
    cmk_msg_destroy(&reply);
    if (e)
        worker_reply(w, e);
}

/* worker_takes - 1 if a worker answers requests of this type (tests/unit/ops_test.c) */
int worker_takes(const char *type)
{
    return wops_find(type) != NULL || strcmp(type, CMK_T_ENV_RELEASE) == 0;
}

/* on_request - a request the controller routed here */
static int on_request(cmk_peer *peer, const cmk_msg *req, void *arg, cmk_err *err)
{
    worker *w = arg;
    wop_fn fn = wops_find(req->type);
    int rc = cmk_op_fields_check(cmk_op_find(req->type), req->body, err); /* common/op_fields.c */
    if (rc < 0)
        return rc;
    learn_clock(w, req->body);
    if (strcmp(req->type, CMK_T_ENV_RELEASE) == 0) {
        /* the controller moves the environment away or locks it: wipe its keys now */
        cmk_msg *rep;
        rc = wenv_release(w, cmk_json_str(req->body, "env", ""), cmk_json_str(req->body, "reason", "released"));
        if (rc < 0)
            return cmk_err_set(err, rc, "environment %s is being opened; try again", cmk_json_str(req->body, "env", ""));
        rep = cmk_msg_reply(req, CMK_MSG_REPLY);
        cJSON_AddBoolToObject(rep->body, "released", 1);
        worker_reply(w, rep);
        return 0;
    }
    if (!fn)
        return cmk_err_set(err, CMK_EPROTO, "a worker does not know the request '%s'", req->type);
    return wenv_dispatch(w, req, fn, err);
}

/* on_gateway - replies from the gateway (HTTP action results) */
static int on_gateway(cmk_loop *loop, void *sock, int fd, void *arg)
{
    worker *w = arg;
    int64_t t0 = cmk_mono_ms();
    for (int i = 0; i < 256 && cmk_mono_ms() - t0 < 50; i++) { /* the loop's timers run between batches */
        cmk_msg *msg = NULL, *partial = NULL;
        cmk_err err = CMK_ERR_INIT;
        int rc = cmk_msg_recv_flags(sock, &msg, &partial, CMK_RECV_DONTWAIT, &err);

        if (rc == CMK_ETIMEOUT) /* nothing waiting (CMK_RECV_DONTWAIT) */
            break;
        if (rc < 0) {
            cmk_warn("gateway.bad_message", "error=\"%s\"", err.msg);
            cmk_msg_destroy(&partial);
            continue;
        }
        wruns_on_gateway(w, msg);
        cmk_msg_destroy(&msg);
    }
    return 0;
}

/* on_prefetched - a dedicated worker's keys at start: cached, or why not */
static void on_prefetched(void *arg, const char *env, cmk_dek *data, cmk_dek *mmk, const cmk_err *err)
{
    (void)arg;
    if (err)
        cmk_log(CMK_LOG_WARN, env, NULL, "dek.prefetch_failed", "error=\"%s\"", err->msg);
    else
        cmk_log(CMK_LOG_INFO, env, NULL, "dek.prefetched", "%s", "");
}

/* pending_work - writes not committed yet or HTTP actions waiting for the gateway */
static int pending_work(worker *w)
{
    if (w->gw_calls)
        return 1;
    for (wenv *e = w->envs; e; e = e->next)
        if (e->part && partition_pending(e->part) > 0)
            return 1;
    return 0;
}

/* set_tick - the tick's interval, changed only when it differs */
static void set_tick(worker *w, int64_t ms)
{
    if (w->tick_timer && w->tick_ms != ms) {
        w->tick_ms = ms;
        cmk_loop_timer_interval(cmk_server_loop(w->srv), w->tick_timer, ms);
    }
}

/* on_tick - group commits and HTTP deadlines; slows down when nothing is pending */
static int on_tick(cmk_loop *loop, int64_t id, void *arg)
{
    worker *w = arg;
    wenv_tick(w);
    wruns_tick(w);
    if (!pending_work(w))
        set_tick(w, TICK_IDLE_MS);
    return 0;
}

/* on_idle - nothing more is queued: make the writes of this round durable now (one commit
 * for however many requests came in together: a group commit without waiting for the timer) */
static void on_idle(cmk_loop *loop, void *arg)
{
    worker *w = arg;
    (void)loop;
    for (wenv *e = w->envs; e && cmk_server_config(w->srv)->commit_when_idle; e = e->next)
        if (e->part && partition_pending(e->part) > 0) {
            cmk_err err = CMK_ERR_INIT;
            if (partition_commit(e->part, &err) < 0)
                cmk_log(CMK_LOG_ERROR, e->id, NULL, "partition.commit_failed", "error=\"%s\"", err.msg);
        }
    if (pending_work(w)) /* the timer's checks are due again soon */
        set_tick(w, TICK_MS);
}

/* connect_gateway - DEALER to the gateway with our worker key */
static int connect_gateway(worker *self, cmk_err *err)
{
    const cmk_config *cfg = cmk_server_config(self->srv);
    cmk_keypair kp;
    char gw_pub[CMK_Z85_KEY_LEN + 1], ep[4200];
    int zero = 0, hwm = 100000, rc;

    if ((rc = cmk_public_load(cfg->run_dir, "gateway-server", gw_pub, err)) < 0)
        return rc;
    if ((rc = cmk_keypair_ensure(cfg->run_dir, cmk_server_name(self->srv), &kp, err)) < 0)
        return rc;
    self->gateway = zmq_socket(cmk_server_zmq(self->srv), ZMQ_DEALER);
    if (!self->gateway) {
        cmk_keypair_wipe(&kp);
        return cmk_err_set(err, CMK_EIO, "cannot create a socket: %s", zmq_strerror(errno));
    }
    zmq_setsockopt(self->gateway, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(self->gateway, ZMQ_SNDHWM, &hwm, sizeof hwm);
    rc = cmk_proto_limit_socket(self->gateway, cmk_server_config(self->srv)->msg_max_size, err);
    if (rc == 0)
        rc = cmk_curve_client(self->gateway, &kp, gw_pub, err);
    cmk_keypair_wipe(&kp);
    if (rc < 0)
        return rc;
    cmk_config_endpoint(cfg, cfg->gateway_endpoint, ep, sizeof ep);
    if (zmq_connect(self->gateway, ep) != 0)
        return cmk_err_set(err, CMK_EIO, "cannot connect to the gateway at %s: %s", ep, zmq_strerror(errno));
    cmk_loop_add_socket(cmk_server_loop(self->srv), self->gateway, on_gateway, self);
    return 0;
}

/* collect_metrics - every second on the loop: environments open and their partitions' size */
static void collect_metrics(void *arg)
{
    worker *self = arg;
    const wmetrics *m = wmetrics_get();
    int64_t n = 0;

    for (wenv *e = self->envs; e; e = e->next) {
        struct stat st;
        char wal[4200];
        int64_t bytes = 0;
        if (!e->part)
            continue;
        n++;
        if (stat(partition_path(e->part), &st) == 0)
            bytes += (int64_t)st.st_size;
        snprintf(wal, sizeof wal, "%s-wal", partition_path(e->part));
        if (stat(wal, &st) == 0)
            bytes += (int64_t)st.st_size;
        cmk_metric_set(cmk_family_get2(m->partition_bytes, e->id, e->infrastructure), bytes);
    }
    cmk_metric_set(m->environments, n);
}

/* worker_start - links */
int worker_start(cmk_server *srv, worker **out, cmk_err *err)
{
    worker *self = calloc(1, sizeof *self);
    int rc;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    partition_heap_limit();
    if (!cmk_server_shared(srv) && cJSON_GetArraySize(cmk_server_envs(srv)) == 0) {
        free(self);
        return cmk_err_set(err, CMK_EINVAL, "a worker serves --shared or at least one --env ID");
    }
    rc = connect_gateway(self, err);
    if (rc == 0 && !(self->peer = cmk_peer_new(srv, on_request, self, err)))
        rc = err->code;
    if (rc == 0 && !(self->keys = wkeys_new(self->peer, cmk_server_config(srv)->request_timeout,
                                            cmk_server_shared(srv) ? "data" : "cmk")))
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (rc < 0) {
        worker_stop(&self);
        return rc;
    }
    self->tick_timer = cmk_loop_add_timer(cmk_server_loop(srv), TICK_MS, 1, on_tick, self);
    self->tick_ms = TICK_MS;
    cmk_loop_set_idle(cmk_server_loop(srv), on_idle, self);
    if (!cmk_server_shared(srv)) {
        /* a dedicated worker unwraps its environment's keys once, at start */
        const cJSON *it;
        cJSON_ArrayForEach(it, cmk_server_envs(srv)) {
            cmk_err perr = CMK_ERR_INIT;
            if (cJSON_IsString(it))
                wkeys_get(self->keys, it->valuestring, on_prefetched, self, &perr);
        }
    }
    wmetrics_get();
    cmk_metrics_on_collect(collect_metrics, self);
    *out = self;
    return 0;
}

/* worker_stop - close links, commit partitions, wipe keys */
void worker_stop(worker **self_p)
{
    worker *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cmk_metrics_remove_collect(collect_metrics, self);
    if (self->tick_timer)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->tick_timer);
    cmk_loop_set_idle(cmk_server_loop(self->srv), NULL, NULL);
    if (self->peer)
        wruns_destroy_all(self);
    if (self->keys)
        wenv_close_all(self);
    wkeys_destroy(&self->keys);
    cmk_peer_destroy(&self->peer);
    if (self->gateway) {
        cmk_loop_remove_socket(cmk_server_loop(self->srv), self->gateway);
        zmq_close(self->gateway);
    }
    free(self);
    *self_p = NULL;
}
