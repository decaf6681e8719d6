/*
 * proto.h - the cmksim wire protocol over ZeroMQ: one codec for every message of every service.
 *
 * A message is a multipart ZeroMQ message:
 *
 *   [routing id]   only on ROUTER sockets: who sent it / whom it goes to
 *   head + body    one frame: "CMK/2 <type> <request id>\n" then the body, where
 *                    "CMK/2"     is the protocol tag and version,
 *                    type        the message type: [a-z0-9._-], 1..31 chars ("ping", "env.create"),
 *                    request id  1..63 printable ASCII characters (no space) chosen by the
 *                                requester; replies echo it,
 *                    body        a JSON object (UTF-8), at most CMK_PROTO_MAX_BODY bytes; "" means {}
 *   binary*        0..CMK_PROTO_MAX_BINS optional binary frames (blobs, key material)
 *
 * Tag, type, request id and body share one frame because CURVE seals every ZeroMQ frame on its
 * own (a MESSAGE command with its nonce and MAC): CMK/1 sent them as four frames, and four sealed
 * frames per message cost ~2.5x the CPU of one (measured for issue 18: 10-11 against 4 us per
 * 300-byte message, sender and receiver together, on a 2-core machine).
 *
 * Conversations (C: client, B: controller/broker, P: peer = worker, gateway or firewall):
 *
 *   front:  C:request  ( B:reply / B:error )         request = any operation type
 *   back:   P:ready ( P:heartbeat / B:heartbeat / B:request P:reply / B:shutdown )* P:disconnect
 *   gateway: W:request ( G:reply / G:error )
 *
 * Replies have type "reply" (body: the result) or "error" (body: {"code": "EPERM",
 * "message": "..."}). Any message that does not decode gets an "error" reply with code EPROTO
 * (when its sender can be addressed) and a log line; it never crashes the receiver.
 * docs/PROTOCOL.md describes every message type and its body.
 */
#ifndef CMK_PROTO_H
#define CMK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define CMK_PROTO_TAG "CMK/2"
#define CMK_PROTO_MAX_TYPE 31
#define CMK_PROTO_MAX_REQID 63
#define CMK_PROTO_MAX_HEAD (5 + 1 + CMK_PROTO_MAX_TYPE + 1 + CMK_PROTO_MAX_REQID + 1) /* "CMK/2 t r\n" */
#define CMK_PROTO_MAX_ROUTING 255
#define CMK_PROTO_MAX_BODY (16 * 1024 * 1024)
#define CMK_PROTO_MAX_BINS 4                 /* data keys travel as 2; more is refused */
#define CMK_PROTO_MAX_BIN (64 * 1024 * 1024)  /* the codec's cap; sockets cap lower (message.max_size) */
#define CMK_PROTO_MAX_CONTROL_BODY (64 * 1024) /* ping, heartbeat, ready, disconnect, shutdown */

/* Message types of the back channel and of every reply. Operations are declared once, in the
 * operation table (ops.h). */
#define CMK_MSG_READY "ready"         /* P->B: {role, name, pid, envs[]} */
#define CMK_MSG_HEARTBEAT "heartbeat" /* both ways, empty body */
#define CMK_MSG_DISCONNECT "disconnect" /* P->B: leaving cleanly */
#define CMK_MSG_SHUTDOWN "shutdown"   /* B->P and C->B: stop cleanly */
#define CMK_MSG_PING "ping"           /* any request; reply {pong:true, proc, pid} */
#define CMK_MSG_REPLY "reply"         /* success reply */
#define CMK_MSG_ERROR "error"         /* failure reply: {code, message} */

/* Workers' names (their CURVE identities): the shared worker, and one per CMK environment. */
#define CMK_WORKER_SHARED "worker-shared"
#define CMK_WORKER_NAME_MAX 96

/* cmk_worker_name - the name of the worker serving env on its dedicated infrastructure
 * ("worker-<env>"), or of the shared worker when env is NULL; returns name */
char *cmk_worker_name(const char *env, char *name, size_t cap);

/* One frame, as handed to the pure decoder. */
typedef struct {
    const void *data; /* frame bytes */
    size_t len;       /* frame length */
} cmk_frame;

/* One optional binary frame of a message. */
typedef struct {
    uint8_t *data; /* owned copy */
    size_t len;    /* its length */
} cmk_bin;

/* A decoded message. */
typedef struct {
    uint8_t routing[CMK_PROTO_MAX_ROUTING]; /* ROUTER identity of the peer, if any */
    size_t routing_len;                     /* 0: none */
    char type[CMK_PROTO_MAX_TYPE + 1];      /* message type */
    char reqid[CMK_PROTO_MAX_REQID + 1];    /* request id */
    char user[64];                          /* ZAP User-Id of the sender (received only) */
    cJSON *body;                            /* JSON object, owned */
    size_t body_len;                        /* bytes of the body frame (received only) */
    cmk_bin bins[CMK_PROTO_MAX_BINS];       /* binary frames */
    int nbins;                              /* how many */
    char *raw;                              /* the body's text, unparsed (CMK_RECV_RAW_REPLY), owned;
                                             * when set it is what cmk_msg_send sends as the body */
    size_t raw_len;                         /* its length */
} cmk_msg;

/* cmk_msg_new - a message with an empty body; reqid NULL draws a fresh one */
cmk_msg *cmk_msg_new(const char *type, const char *reqid);

/* cmk_msg_destroy - free; accepts NULL and nulls the caller's pointer */
void cmk_msg_destroy(cmk_msg **self_p);

/* cmk_msg_set_body - replace the body (takes ownership of body; NULL means {}) */
void cmk_msg_set_body(cmk_msg *self, cJSON *body);

/* cmk_msg_add_bin - append a binary frame (copied) */
int cmk_msg_add_bin(cmk_msg *self, const void *data, size_t len, cmk_err *err);

/* cmk_msg_set_routing - address a message on a ROUTER socket */
void cmk_msg_set_routing(cmk_msg *self, const void *id, size_t len);

/* cmk_msg_reply - a reply ("reply" or "error") to req: same routing id and request id */
cmk_msg *cmk_msg_reply(const cmk_msg *req, const char *type);

/* cmk_msg_error - an "error" reply to req with code and message */
cmk_msg *cmk_msg_error(const cmk_msg *req, int code, const char *message);

/* cmk_msg_error_of - the code and message of an "error" reply (code CMK_OK if not an error) */
int cmk_msg_error_of(const cmk_msg *self, cmk_err *err);

/* cmk_msg_decode - decode frames (pure). routed: the first frame is a routing id.
 * On failure returns CMK_EPROTO with a message, and if out_partial is not NULL fills it with
 * a message holding what could be read (routing id, request id) so that an error reply can
 * be addressed. */
int cmk_msg_decode(const cmk_frame *frames, size_t n, int routed, cmk_msg **out,
                   cmk_msg **out_partial, cmk_err *err);

/* cmk_msg_recv - receive one whole multipart message from a socket and decode it. A ROUTER
 * socket's routing id is kept. Malformed input: CMK_EPROTO, and *out_partial as above. */
int cmk_msg_recv(void *sock, cmk_msg **out, cmk_msg **out_partial, cmk_err *err);

/* cmk_msg_recv_flags - cmk_msg_recv with flags: CMK_RECV_RAW_REPLY keeps the body of a "reply"
 * as text in msg->raw (its size checked, nothing else) for a receiver that passes it on unread;
 * cmk_msg_parse_raw reads it when it must be read after all. */
#define CMK_RECV_RAW_REPLY 1
/* CMK_RECV_DONTWAIT: CMK_ETIMEOUT at once, nothing read and no partial, when no message is
 * waiting. A loop that drains a socket this way asks ZeroMQ nothing per message: ZMQ_EVENTS
 * costs a getpid and a poll system call per call (libzmq's fork check and command mailbox). */
#define CMK_RECV_DONTWAIT 2
int cmk_msg_recv_flags(void *sock, cmk_msg **out, cmk_msg **out_partial, int flags, cmk_err *err);

/* cmk_msg_parse_raw - parse msg->raw into msg->body with every check of cmk_msg_decode (nothing
 * to do without raw); CMK_EPROTO when it is not one JSON object */
int cmk_msg_parse_raw(cmk_msg *self, cmk_err *err);

/* cmk_msg_send - send a message (the routing id first, if set; raw, if set, as its body); does
 * not consume it */
int cmk_msg_send(const cmk_msg *self, void *sock, cmk_err *err);

/* cmk_msg_send_text - send self's routing id, type, request id and binary frames with body, a
 * JSON object already encoded (len bytes), instead of self->body: for a body sent more than once
 * or passed on unparsed */
int cmk_msg_send_text(const cmk_msg *self, const char *body, size_t len, void *sock, cmk_err *err);

/* cmk_msg_head - the head of a message's first frame, "CMK/2 <type> <reqid>\n", in buf (cap >
 * CMK_PROTO_MAX_HEAD is always enough); its length, 0 if it does not fit. For tools and tests
 * that build frames by hand. */
size_t cmk_msg_head(const char *type, const char *reqid, char *buf, size_t cap);

/* cmk_proto_max_body - the largest body a message of this type may carry (bytes), enforced by
 * cmk_msg_decode before the body is parsed: control messages (ping, heartbeat, ready, ...) are
 * small; a request type gets its operation's limit (ops.h) plus CMK_PROTO_ROUTED_SLACK, room for
 * the fields the controller sets when it routes it (the broker checks the exact limit at the
 * front door); replies get CMK_PROTO_MAX_BODY. */
#define CMK_PROTO_ROUTED_SLACK 1024
size_t cmk_proto_max_body(const char *type);

/* cmk_proto_limit_socket - ZMQ_MAXMSGSIZE on a socket (before bind/connect): a peer sending a
 * larger frame is disconnected by ZeroMQ before the frame is buffered */
int cmk_proto_limit_socket(void *sock, int64_t max_bytes, cmk_err *err);

/* cmk_msg_encode_body - the body as compact JSON text (caller frees) */
char *cmk_msg_encode_body(const cmk_msg *self);

#endif
