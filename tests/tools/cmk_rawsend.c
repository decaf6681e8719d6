/*
 * cmk_rawsend.c - a test tool that sends one oversized or many-framed request to the
 * controller's front door as a real CURVE client: "ping" followed by N binary frames of M bytes
 * (zero-copy, so the sender itself stays small). It prints "reply <type>" or "no reply" and
 * exits 0; the integration tests check that the cluster survives (tests/integration/liveness_*).
 *
 *   cmk-rawsend RUN_DIR KEY_FILE FRAMES FRAME_BYTES [WAIT_MS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "proto.h"
#include "util.h"

/* keep - zmq_msg free callback of the shared buffer: the buffer outlives every frame */
static void keep(void *data, void *hint)
{
    (void)data;
    (void)hint;
}

/* main - send the message, wait for an answer */
int main(int argc, char **argv)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_client *c;
    cmk_msg *reply = NULL;
    void *sock;
    long frames;
    size_t bytes;
    int64_t wait_ms;
    char *buf;
    static const char head[] = CMK_PROTO_TAG " ping rawsend-1\n{}";

    if (argc < 5) {
        fprintf(stderr, "usage: cmk-rawsend RUN_DIR KEY_FILE FRAMES FRAME_BYTES [WAIT_MS]\n");
        return 2;
    }
    frames = atol(argv[3]);
    bytes = (size_t)atoll(argv[4]);
    wait_ms = argc > 5 ? atoll(argv[5]) : 5000;
    if (!(c = cmk_client_new(argv[1], argv[2], &err))) {
        fprintf(stderr, "cmk-rawsend: %s\n", err.msg);
        return 1;
    }
    sock = cmk_client_socket(c);
    if (!(buf = calloc(1, bytes ? bytes : 1))) {
        fprintf(stderr, "cmk-rawsend: out of memory\n");
        return 1;
    }
    zmq_send(sock, head, sizeof head - 1, frames > 0 ? ZMQ_SNDMORE : 0);
    for (long i = 0; i < frames; i++) {
        zmq_msg_t m;
        zmq_msg_init_data(&m, buf, bytes, keep, NULL);
        zmq_msg_send(&m, sock, i + 1 < frames ? ZMQ_SNDMORE : 0);
    }
    if (cmk_client_recv(c, wait_ms, &reply, &err) == 0) {
        printf("reply %s %s\n", reply->type, cmk_json_str(reply->body, "message", ""));
        cmk_msg_destroy(&reply);
    } else
        printf("no reply (%s)\n", err.msg);
    fflush(stdout);
    cmk_client_destroy(&c);
    free(buf);
    return 0;
}
