/*
 * proto.c - codec of the cmksim wire protocol (see proto.h for the grammar).
 */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "fields.h"
#include "ops.h"
#include "util.h"

/* cmk_msg_new - a message with an empty body */
cmk_msg *cmk_msg_new(const char *type, const char *reqid)
{
    cmk_msg *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    cmk_strlcpy(self->type, type ? type : "", sizeof self->type);
    if (reqid)
        cmk_strlcpy(self->reqid, reqid, sizeof self->reqid);
    else
        cmk_random_id("r", self->reqid, sizeof self->reqid);
    self->body = cJSON_CreateObject();
    if (!self->body) {
        free(self);
        return NULL;
    }
    return self;
}

/* cmk_msg_destroy - free a message */
void cmk_msg_destroy(cmk_msg **self_p)
{
    cmk_msg *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cJSON_Delete(self->body);
    free(self->raw);
    for (int i = 0; i < self->nbins; i++) {
        OPENSSL_cleanse(self->bins[i].data, self->bins[i].len); /* bins may carry key material */
        free(self->bins[i].data);
    }
    free(self);
    *self_p = NULL;
}

/* cmk_msg_set_body - replace the body */
void cmk_msg_set_body(cmk_msg *self, cJSON *body)
{
    cJSON_Delete(self->body);
    self->body = body ? body : cJSON_CreateObject();
}

/* cmk_msg_add_bin - append a binary frame */
int cmk_msg_add_bin(cmk_msg *self, const void *data, size_t len, cmk_err *err)
{
    uint8_t *copy;
    if (self->nbins >= CMK_PROTO_MAX_BINS)
        return cmk_err_set(err, CMK_ELIMIT, "a message carries at most %d binary frames",
                           CMK_PROTO_MAX_BINS);
    copy = malloc(len ? len : 1);
    if (!copy)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (len)
        memcpy(copy, data, len);
    self->bins[self->nbins].data = copy;
    self->bins[self->nbins].len = len;
    self->nbins++;
    return 0;
}

/* cmk_msg_set_routing - set the ROUTER identity */
void cmk_msg_set_routing(cmk_msg *self, const void *id, size_t len)
{
    if (len > CMK_PROTO_MAX_ROUTING)
        len = CMK_PROTO_MAX_ROUTING;
    if (len)
        memcpy(self->routing, id, len);
    self->routing_len = len;
}

/* cmk_msg_reply - a reply addressed like req */
cmk_msg *cmk_msg_reply(const cmk_msg *req, const char *type)
{
    cmk_msg *rep = cmk_msg_new(type, req->reqid[0] ? req->reqid : "-");
    if (rep)
        cmk_msg_set_routing(rep, req->routing, req->routing_len);
    return rep;
}

/* cmk_msg_error - an error reply */
cmk_msg *cmk_msg_error(const cmk_msg *req, int code, const char *message)
{
    cmk_msg *rep = cmk_msg_reply(req, CMK_MSG_ERROR);
    if (rep) {
        cJSON_AddStringToObject(rep->body, "code", cmk_code_name(code));
        cJSON_AddStringToObject(rep->body, "message", message ? message : "");
    }
    return rep;
}

/* cmk_msg_error_of - read an error reply */
int cmk_msg_error_of(const cmk_msg *self, cmk_err *err)
{
    if (strcmp(self->type, CMK_MSG_ERROR) != 0)
        return CMK_OK;
    return cmk_err_set(err, cmk_code_from_name(cmk_json_str(self->body, "code", "EINTERNAL")), "%s",
                       cmk_json_str(self->body, "message", "(no message)"));
}

/* finite_numbers - whether every number in a JSON tree is finite (cJSON reads 1e999 as
 * infinity, which prints back as null and is undefined behaviour when cast to an integer) */
static int finite_numbers(const cJSON *j)
{
    const cJSON *it;
    if (cJSON_IsNumber(j))
        return isfinite(j->valuedouble);
    cJSON_ArrayForEach(it, j) {
        if (!finite_numbers(it))
            return 0;
    }
    return 1;
}

/* valid_type - [a-z0-9._-]{1,31} */
static int valid_type(const char *s, size_t n)
{
    if (n == 0 || n > CMK_PROTO_MAX_TYPE)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* valid_reqid - printable ASCII, 1..63 */
static int valid_reqid(const char *s, size_t n)
{
    if (n == 0 || n > CMK_PROTO_MAX_REQID)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* cmk_proto_max_body - the body limit of a message type */
size_t cmk_proto_max_body(const char *type)
{
    static const char *const control[] = { CMK_MSG_PING, CMK_MSG_HEARTBEAT, CMK_MSG_READY, CMK_MSG_DISCONNECT,
                                           CMK_MSG_SHUTDOWN };
    for (size_t i = 0; type && i < sizeof control / sizeof control[0]; i++)
        if (strcmp(type, control[i]) == 0)
            return CMK_PROTO_MAX_CONTROL_BODY;
    {
        const cmk_op *op = cmk_op_find(type);
        if (op && op->max_body + CMK_PROTO_ROUTED_SLACK < CMK_PROTO_MAX_BODY)
            return op->max_body + CMK_PROTO_ROUTED_SLACK;
    }
    return CMK_PROTO_MAX_BODY;
}

/* cmk_proto_limit_socket - ZMQ_MAXMSGSIZE */
int cmk_proto_limit_socket(void *sock, int64_t max_bytes, cmk_err *err)
{
    if (max_bytes <= 0)
        max_bytes = CMK_PROTO_MAX_BODY;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes) < 0)
        return cmk_err_set(err, CMK_EIO, "cannot limit the message size of a socket: %s", zmq_strerror(errno));
    return 0;
}

/* head_fields - split a head line "CMK/2 <type> <reqid>" (no newline) into its three fields;
 * 0 if it has not exactly three non-empty fields */
static int head_fields(const char *s, size_t n, const char *f[3], size_t len[3])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ' ') {
            if (k == 3 || i == start)
                return 0;
            f[k] = s + start;
            len[k++] = i - start;
            start = i + 1;
        }
    }
    return k == 3;
}

/* head_end - the newline that ends a frame's head line, looked for in its first
 * CMK_PROTO_MAX_HEAD bytes only; NULL if there is none */
static const char *head_end(const cmk_frame *f)
{
    size_t scan = f->len < CMK_PROTO_MAX_HEAD ? f->len : CMK_PROTO_MAX_HEAD;
    return scan ? memchr(f->data, '\n', scan) : NULL;
}

/* cmk_msg_head - the head of a message's first frame */
size_t cmk_msg_head(const char *type, const char *reqid, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s %s %s\n", CMK_PROTO_TAG, type, reqid);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* parse_body - a message's body text into msg->body: one JSON object, finite numbers, and for a
 * request type its text check (nesting, UTF-8, NUL) and no member twice */
static int parse_body(cmk_msg *msg, const char *body_text, size_t blen, cmk_err *err)
{
    /* a request's text: nesting, UTF-8 and NUL, before cJSON reads it (BAD-7) */
    int request = cmk_op_find(msg->type) != NULL, rc;
    const char *end = NULL;
    cJSON *body;
    if (request && (rc = cmk_json_text_check(body_text, blen, CMK_FIELDS_MAX_DEPTH, err)) < 0)
        return rc;
    body = cJSON_ParseWithLengthOpts(body_text, blen, &end, 0);
    while (body && end < body_text + blen && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!cJSON_IsObject(body) || end != body_text + blen) { /* one object, nothing after it */
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_EPROTO, "body of a '%s' message is not a JSON object", msg->type);
    }
    if (!finite_numbers(body)) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_EPROTO,
                           "body of a '%s' message holds a number too large for a double "
                           "(like 1e999); send numbers within +-1.7e308",
                           msg->type);
    }
    if (request && (rc = cmk_json_check_duplicates(body, err)) < 0) { /* cJSON keeps both */
        cJSON_Delete(body);
        return rc;
    }
    cmk_msg_set_body(msg, body);
    return 0;
}

/* cmk_msg_parse_raw - parse a body kept as text */
int cmk_msg_parse_raw(cmk_msg *self, cmk_err *err)
{
    int rc;
    if (!self || !self->raw)
        return 0;
    if ((rc = parse_body(self, self->raw, self->raw_len, err)) < 0)
        return rc;
    free(self->raw);
    self->raw = NULL;
    self->raw_len = 0;
    return 0;
}

/* decode - cmk_msg_decode with flags (CMK_RECV_RAW_REPLY) */
static int decode(const cmk_frame *frames, size_t n, int routed, int flags, cmk_msg **out,
                  cmk_msg **out_partial, cmk_err *err)
{
    cmk_msg *msg = cmk_msg_new("", "-");
    size_t i = 0, hlen = 0, blen;
    const char *head, *nl, *body_text, *f[3];
    size_t flen[3];
    int rc;

    *out = NULL;
    if (out_partial)
        *out_partial = NULL;
    if (!msg)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (routed) {
        if (n < 1 || frames[0].len == 0 || frames[0].len > CMK_PROTO_MAX_ROUTING) {
            rc = cmk_err_set(err, CMK_EPROTO, "message without a valid routing id");
            goto fail;
        }
        cmk_msg_set_routing(msg, frames[0].data, frames[0].len);
        i = 1;
    }
    if (n <= i) {
        rc = cmk_err_set(err, CMK_EPROTO, "message has no frames; expected one with the head "
                                          "'" CMK_PROTO_TAG " <type> <request id>', a newline and the body");
        goto fail;
    }
    head = frames[i].data;
    nl = head_end(&frames[i]);
    if (!nl || !head_fields(head, (size_t)(nl - head), f, flen)) {
        rc = cmk_err_set(err, CMK_EPROTO, "the first frame must start with '" CMK_PROTO_TAG
                                          " <type> <request id>' and a newline (at most %d bytes)",
                         CMK_PROTO_MAX_HEAD);
        goto fail;
    }
    hlen = (size_t)(nl - head) + 1;
    /* the request id first: it addresses the error reply of anything else wrong */
    if (valid_reqid(f[2], flen[2])) {
        memcpy(msg->reqid, f[2], flen[2]);
        msg->reqid[flen[2]] = '\0';
    } else {
        rc = cmk_err_set(err, CMK_EPROTO, "request id must be 1..%d printable characters",
                         CMK_PROTO_MAX_REQID);
        goto fail;
    }
    if (flen[0] != strlen(CMK_PROTO_TAG) || memcmp(f[0], CMK_PROTO_TAG, flen[0]) != 0) {
        rc = cmk_err_set(err, CMK_EPROTO, "unknown protocol tag (expected %s)", CMK_PROTO_TAG);
        goto fail;
    }
    if (!valid_type(f[1], flen[1])) {
        rc = cmk_err_set(err, CMK_EPROTO, "message type must be 1..%d characters of [a-z0-9._-]",
                         CMK_PROTO_MAX_TYPE);
        goto fail;
    }
    memcpy(msg->type, f[1], flen[1]);
    msg->type[flen[1]] = '\0';
    body_text = head + hlen;
    blen = frames[i].len - hlen;
    if (blen > cmk_proto_max_body(msg->type)) {
        rc = cmk_err_set(err, CMK_EINVAL, "the body of '%s' is %zu bytes; at most %zu are accepted",
                         msg->type, blen, cmk_proto_max_body(msg->type));
        goto fail;
    }
    if (n - i - 1 > CMK_PROTO_MAX_BINS) { /* before any body is parsed or frame copied */
        rc = cmk_err_set(err, CMK_EPROTO, "message has %zu binary frames; at most %d are allowed",
                         n - i - 1, CMK_PROTO_MAX_BINS);
        goto fail;
    }
    msg->body_len = blen;
    if (blen > 0 && (flags & CMK_RECV_RAW_REPLY) && strcmp(msg->type, CMK_MSG_REPLY) == 0) {
        if (!(msg->raw = malloc(blen + 1))) {
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(msg->raw, body_text, blen);
        msg->raw[blen] = '\0';
        msg->raw_len = blen;
    } else if (blen > 0 && (rc = parse_body(msg, body_text, blen, err)) < 0)
        goto fail;
    for (size_t b = i + 1; b < n; b++) {
        if (frames[b].len > CMK_PROTO_MAX_BIN) {
            rc = cmk_err_set(err, CMK_EPROTO, "binary frame of %zu bytes is over the limit", frames[b].len);
            goto fail;
        }
        if ((rc = cmk_msg_add_bin(msg, frames[b].data, frames[b].len, err)) < 0)
            goto fail;
    }
    *out = msg;
    return 0;
fail:
    if (out_partial)
        *out_partial = msg;
    else
        cmk_msg_destroy(&msg);
    return rc;
}

/* cmk_msg_decode - decode frames */
int cmk_msg_decode(const cmk_frame *frames, size_t n, int routed, cmk_msg **out,
                   cmk_msg **out_partial, cmk_err *err)
{
    return decode(frames, n, routed, 0, out, out_partial, err);
}

#define RECV_MAX_FRAMES (1 + 1 + CMK_PROTO_MAX_BINS)

/* cmk_msg_recv - receive and decode one multipart message */
int cmk_msg_recv(void *sock, cmk_msg **out, cmk_msg **out_partial, cmk_err *err)
{
    return cmk_msg_recv_flags(sock, out, out_partial, 0, err);
}

/* cmk_msg_recv_flags - receive and decode one multipart message, with flags */
int cmk_msg_recv_flags(void *sock, cmk_msg **out, cmk_msg **out_partial, int flags, cmk_err *err)
{
    zmq_msg_t parts[RECV_MAX_FRAMES];
    cmk_frame frames[RECV_MAX_FRAMES];
    size_t n = 0, extra = 0;
    int type = 0, more = 1, rc;
    size_t tlen = sizeof type;
    char user[64] = "";

    *out = NULL;
    if (out_partial)
        *out_partial = NULL;
    zmq_getsockopt(sock, ZMQ_TYPE, &type, &tlen);
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        /* only the first frame can be missing: a message's frames arrive together */
        if (zmq_msg_recv(&part, sock, n == 0 && (flags & CMK_RECV_DONTWAIT) ? ZMQ_DONTWAIT : 0) < 0) {
            int e = errno;
            zmq_msg_close(&part);
            for (size_t k = 0; k < n; k++)
                zmq_msg_close(&parts[k]);
            return cmk_err_set(err, e == EAGAIN ? CMK_ETIMEOUT : CMK_EIO, "receive failed: %s",
                               zmq_strerror(e));
        }
        more = zmq_msg_more(&part);
        if (n == (type == ZMQ_ROUTER ? 1u : 0u) && !user[0]) {
            const char *u = zmq_msg_gets(&part, "User-Id");
            if (u)
                cmk_strlcpy(user, u, sizeof user);
        }
        if (n < RECV_MAX_FRAMES)
            parts[n++] = part;
        else {
            zmq_msg_close(&part); /* too many frames: drain, then refuse */
            extra++;
        }
    }
    for (size_t k = 0; k < n; k++) {
        frames[k].data = zmq_msg_data(&parts[k]);
        frames[k].len = zmq_msg_size(&parts[k]);
    }
    if (extra) {
        /* too many frames: read only what addresses the error reply, never the body */
        size_t head = (type == ZMQ_ROUTER ? 1u : 0u) + 1;
        if (n >= head) { /* the head only (an empty body: never parsed) */
            const char *nl = head_end(&frames[head - 1]);
            frames[head - 1].len = nl ? (size_t)(nl - (const char *)frames[head - 1].data) + 1 : 0;
        }
        cmk_msg_decode(frames, n < head ? n : head, type == ZMQ_ROUTER, out, out_partial, NULL);
        if (*out && out_partial) /* the head decoded: it addresses the error reply */
            *out_partial = *out;
        else
            cmk_msg_destroy(out);
        *out = NULL;
        rc = cmk_err_set(err, CMK_EPROTO, "message has %zu frames; at most %d binary frames are allowed",
                         n + extra, CMK_PROTO_MAX_BINS);
    } else
        rc = decode(frames, n, type == ZMQ_ROUTER, flags, out, out_partial, err);
    if (*out)
        cmk_strlcpy((*out)->user, user, sizeof (*out)->user);
    for (size_t k = 0; k < n; k++)
        zmq_msg_close(&parts[k]);
    return rc;
}

/* send_frame - one frame with SNDMORE as needed */
static int send_frame(void *sock, const void *data, size_t len, int more, cmk_err *err)
{
    if (zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0)
        return cmk_err_set(err, errno == EAGAIN ? CMK_EBUSY : CMK_EIO, "send failed: %s",
                           zmq_strerror(errno));
    return 0;
}

/* cmk_msg_encode_body - compact JSON of the body */
char *cmk_msg_encode_body(const cmk_msg *self)
{
    return cJSON_PrintUnformatted(self->body);
}

/* cmk_msg_send_text - send a message whose body is already encoded: the head and the body in
 * one frame (CURVE seals each frame on its own: one frame per message costs a third of four) */
int cmk_msg_send_text(const cmk_msg *self, const char *body, size_t len, void *sock, cmk_err *err)
{
    char head[CMK_PROTO_MAX_HEAD + 1];
    size_t hlen = cmk_msg_head(self->type, self->reqid, head, sizeof head);
    zmq_msg_t frame;
    int rc = 0;

    if (!hlen)
        return cmk_err_set(err, CMK_EINVAL, "a '%s' message needs a type and a request id of at most %d and %d characters",
                           self->type, CMK_PROTO_MAX_TYPE, CMK_PROTO_MAX_REQID);
    if (self->routing_len)
        rc = send_frame(sock, self->routing, self->routing_len, 1, err);
    if (rc < 0)
        return rc;
    if (zmq_msg_init_size(&frame, hlen + len) != 0)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory sending a '%s' message", self->type);
    memcpy(zmq_msg_data(&frame), head, hlen);
    if (len)
        memcpy((char *)zmq_msg_data(&frame) + hlen, body, len);
    if (zmq_msg_send(&frame, sock, self->nbins > 0 ? ZMQ_SNDMORE : 0) < 0) {
        int e = errno;
        zmq_msg_close(&frame);
        return cmk_err_set(err, e == EAGAIN ? CMK_EBUSY : CMK_EIO, "send failed: %s", zmq_strerror(e));
    }
    for (int i = 0; rc == 0 && i < self->nbins; i++)
        rc = send_frame(sock, self->bins[i].data, self->bins[i].len, i + 1 < self->nbins, err);
    return rc;
}

/* cmk_msg_send - send a message */
int cmk_msg_send(const cmk_msg *self, void *sock, cmk_err *err)
{
    char *body;
    int rc;

    if (self->raw) /* passed on as it came */
        return cmk_msg_send_text(self, self->raw, self->raw_len, sock, err);
    body = cmk_msg_encode_body(self);

    if (!body)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory encoding a '%s' message", self->type);
    rc = cmk_msg_send_text(self, body, strlen(body), sock, err);
    free(body);
    return rc;
}

/* cmk_worker_name - "worker-<env>" or "worker-shared" */
char *cmk_worker_name(const char *env, char *name, size_t cap)
{
    if (env)
        snprintf(name, cap, "worker-%s", env);
    else
        snprintf(name, cap, "%s", CMK_WORKER_SHARED);
    return name;
}
