/*
 * fuzz_wire.c - fuzz target for wire frames: cmk_msg_decode (common/proto.c).
 *
 * Input: byte 0 bit 0 says whether the first frame is a ROUTER routing id; then frames, each a
 * 2-byte big-endian length and that many bytes (a short last frame takes what is left), at
 * most 24 frames. Contract: decode succeeds, or fails with CMK_EPROTO (CMK_EINVAL for a request
 * body refused by common/fields.c or over its type's limit) and a message; a decoded
 * message encodes to frames that decode to the same message (type, request id, routing id,
 * body text, binary frames).
 */
#include "fuzz.h"

#include "common/proto.h"

#define MAX_FRAMES 24

/* frames_of - the frames of a decoded message, as cmk_msg_send would send them (buf: room for
 * the head and the body, which goes to the first frame after the routing id) */
static size_t frames_of(const cmk_msg *m, const char *body, char *buf, cmk_frame *f)
{
    size_t n = 0, h = cmk_msg_head(m->type, m->reqid, buf, CMK_PROTO_MAX_HEAD + 1);
    memcpy(buf + h, body, strlen(body));
    if (m->routing_len)
        f[n++] = (cmk_frame){ m->routing, m->routing_len };
    f[n++] = (cmk_frame){ buf, h + strlen(body) };
    for (int i = 0; i < m->nbins; i++)
        f[n++] = (cmk_frame){ m->bins[i].data, m->bins[i].len };
    return n;
}

/* check_roundtrip - decode(encode(m)) == m */
static void check_roundtrip(const cmk_msg *m, int routed)
{
    cmk_frame f[1 + 1 + CMK_PROTO_MAX_BINS];
    char *body = cmk_msg_encode_body(m), *body2, *buf;
    cmk_msg *back = NULL;
    cmk_err err = CMK_ERR_INIT;
    size_t n;
    int rc;

    FUZZ_REQUIRE(body != NULL, "a decoded body does not encode");
    buf = malloc(CMK_PROTO_MAX_HEAD + 1 + strlen(body));
    FUZZ_REQUIRE(buf != NULL, "out of memory");
    n = frames_of(m, body, buf, f);
    rc = cmk_msg_decode(f, n, routed, &back, NULL, &err);
    FUZZ_REQUIRE(rc == 0, "re-encoded message does not decode: %s", err.msg);
    FUZZ_REQUIRE(strcmp(back->type, m->type) == 0, "type changed");
    FUZZ_REQUIRE(strcmp(back->reqid, m->reqid) == 0, "request id changed");
    FUZZ_REQUIRE(back->routing_len == m->routing_len &&
                     memcmp(back->routing, m->routing, m->routing_len) == 0,
                 "routing id changed");
    /* the body is compared as text: cJSON_Compare cannot tell duplicate member names apart
     * (a raw NUL in a name truncates it, so {"a\0x":1,"a\0y":2} has "a" twice) */
    body2 = cmk_msg_encode_body(back);
    FUZZ_REQUIRE(body2 && strcmp(body, body2) == 0, "body text changed: %s vs %s", body,
                 body2 ? body2 : "(null)");
    FUZZ_REQUIRE(back->nbins == m->nbins, "binary frame count changed");
    for (int i = 0; i < m->nbins; i++)
        FUZZ_REQUIRE(back->bins[i].len == m->bins[i].len &&
                         (m->bins[i].len == 0 ||
                          memcmp(back->bins[i].data, m->bins[i].data, m->bins[i].len) == 0),
                     "binary frame %d changed", i);
    free(body);
    free(body2);
    free(buf);
    cmk_msg_destroy(&back);
}

/* LLVMFuzzerTestOneInput - split into frames, decode, check */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmk_frame f[MAX_FRAMES];
    cmk_msg *m = NULL, *partial = NULL;
    cmk_err err = CMK_ERR_INIT;
    size_t n = 0, pos = 1;
    int routed, rc;

    if (size < 1)
        return 0;
    routed = data[0] & 1;
    while (pos < size && n < MAX_FRAMES) {
        size_t len = pos + 2 <= size ? ((size_t)data[pos] << 8 | data[pos + 1]) : 0;
        pos += 2;
        if (pos > size)
            pos = size;
        if (len > size - pos)
            len = size - pos;
        f[n++] = (cmk_frame){ data + pos, len };
        pos += len;
    }
    rc = cmk_msg_decode(f, n, routed, &m, &partial, &err);
    fuzz_check_rc(rc, &err, "cmk_msg_decode");
    if (rc < 0) {
        FUZZ_REQUIRE(rc == CMK_EPROTO || rc == CMK_EINVAL || rc == CMK_ENOMEM,
                     "decode failed with %s, not EPROTO or EINVAL", cmk_code_name(rc));
        FUZZ_REQUIRE(m == NULL, "a failed decode gave a message");
        /* the partial message addresses the error reply: its request id is valid or empty */
        if (partial)
            FUZZ_REQUIRE(strlen(partial->reqid) <= CMK_PROTO_MAX_REQID, "partial reqid too long");
        cmk_msg_destroy(&partial);
        return 0;
    }
    FUZZ_REQUIRE(m != NULL && m->body != NULL && cJSON_IsObject(m->body), "no body object");
    check_roundtrip(m, routed);
    cmk_msg_destroy(&m);
    return 0;
}
