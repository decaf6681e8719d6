/*
 * cmk_raw.c - a raw wire-protocol client for integration tests: connects to the controller's
 * back (default) or front ROUTER with a given CURVE key file and runs a small script, so a test
 * can do what no well-behaved daemon does: register under any name and role, send any message
 * type, answer requests that were forwarded to someone else (forged replies).
 *
 *   cmk_raw --run-dir RUN --key FILE [--name NAME] [--front] [--endpoint EP] COMMAND...
 *
 * Commands (run in order; while waiting, a heartbeat goes out every 250 ms on the back channel
 * and every message received is printed as `recv TYPE REQID BODY`):
 *   ready ROLE PID            send `ready` {name, role, pid, envs: []}
 *   send TYPE BODY REQID      send a message (REQID "-": a fresh one); BODY is JSON
 *   sendraw TYPE FILE REQID   send a message whose body frame is FILE's bytes as they are
 *                             (invalid UTF-8, \u0000, duplicate members, deep nesting)
 *   expect TYPE MS            wait up to MS for a message of TYPE; exit 3 if none came
 *   idle MS                   only heartbeat and print for MS
 *   catch TYPE FILE MS        wait for a message of TYPE and write its request id to FILE
 *   forge FILE TYPE BODY MS   wait up to MS for FILE, then send TYPE with its request id
 * After `ready` it leaves as a daemon does: a `disconnect` goes out before it closes, so the
 * next cmk_raw under the same key is not refused as a second live connection (PEER-3).
 * Exit: 0 done, 2 usage or setup error, 3 an expectation failed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "clock.h"
#include "keys.h"
#include "proto.h"
#include "util.h"

static void *sock;
static int back = 1;
static int64_t next_hb;
static int registered; /* sent `ready` */

/* print_msg - one received message on stdout */
static void print_msg(const cmk_msg *m)
{
    char *body = cmk_msg_encode_body(m);
    printf("recv %s %s %s\n", m->type, m->reqid, body ? body : "{}");
    fflush(stdout);
    free(body);
}

/* send_msg - a message of type with body text and reqid (NULL: fresh); 0 or -1 */
static int send_msg(const char *type, const char *body, const char *reqid)
{
    cmk_msg *m = cmk_msg_new(type, reqid);
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = body ? cJSON_Parse(body) : NULL;
    int rc;

    if (!m || (body && !b)) {
        fprintf(stderr, "cmk_raw: cannot build '%s' (body must be JSON: %s)\n", type, body ? body : "");
        cmk_msg_destroy(&m);
        cJSON_Delete(b);
        return -1;
    }
    if (b)
        cmk_msg_set_body(m, b);
    rc = cmk_msg_send(m, sock, &err);
    if (rc < 0)
        fprintf(stderr, "cmk_raw: send %s: %s\n", type, err.msg);
    else if (strcmp(type, CMK_MSG_HEARTBEAT) != 0) {
        printf("sent %s %s\n", m->type, m->reqid);
        fflush(stdout);
    }
    cmk_msg_destroy(&m);
    return rc < 0 ? -1 : 0;
}

/* send_raw - a message whose body frame is a file's bytes, unparsed */
static int send_raw(const char *type, const char *file, const char *reqid)
{
    cmk_err err = CMK_ERR_INIT;
    char *body = NULL, rid[64];
    size_t len = 0;
    int rc = 0;

    if (cmk_file_read(file, &body, &len, &err) < 0) {
        fprintf(stderr, "cmk_raw: %s\n", err.msg);
        return -1;
    }
    if (reqid)
        snprintf(rid, sizeof rid, "%s", reqid);
    else
        cmk_random_id("raw", rid, sizeof rid);
    {
        /* the head and the file's bytes as they are, in one frame (no check: that is the point) */
        char *frame = malloc(CMK_PROTO_MAX_HEAD + 1 + len);
        size_t h = frame ? cmk_msg_head(type, rid, frame, CMK_PROTO_MAX_HEAD + 1) : 0;
        if (!h) {
            /* a type or request id the head cannot carry: send it anyway, spelled out */
            free(frame);
            frame = malloc(strlen(type) + strlen(rid) + 8 + len);
            h = frame ? (size_t)sprintf(frame, "%s %s %s\n", CMK_PROTO_TAG, type, rid) : 0;
        }
        if (frame && len)
            memcpy(frame + h, body, len);
        if (!frame || zmq_send(sock, frame, h + len, 0) < 0)
            rc = -1;
        free(frame);
    }
    free(body);
    if (rc < 0)
        fprintf(stderr, "cmk_raw: sendraw %s: %s\n", type, zmq_strerror(errno));
    else {
        printf("sent %s %s\n", type, rid);
        fflush(stdout);
    }
    return rc;
}

/* pump - wait up to ms for a message (heartbeating); returns it, or NULL at the deadline.
 * With want NULL, every message is printed and dropped until the deadline. */
static cmk_msg *pump(const char *want, int64_t ms)
{
    int64_t deadline = cmk_mono_ms() + ms;
    for (;;) {
        int64_t now = cmk_mono_ms(), wait;
        zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };

        if (back && now >= next_hb) {
            send_msg(CMK_MSG_HEARTBEAT, NULL, "-");
            next_hb = now + 250;
        }
        if (now >= deadline)
            return NULL;
        wait = deadline - now;
        if (back && next_hb - now < wait)
            wait = next_hb - now;
        if (zmq_poll(&it, 1, (long)wait) > 0) {
            cmk_msg *m = NULL, *partial = NULL;
            cmk_err err = CMK_ERR_INIT;
            if (cmk_msg_recv(sock, &m, &partial, &err) < 0) {
                fprintf(stderr, "cmk_raw: bad message: %s\n", err.msg);
                cmk_msg_destroy(&partial);
                continue;
            }
            if (strcmp(m->type, CMK_MSG_HEARTBEAT) != 0)
                print_msg(m);
            if (want && strcmp(m->type, want) == 0)
                return m;
            cmk_msg_destroy(&m);
        }
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: cmk_raw --run-dir RUN --key FILE [--name NAME] [--front] [--endpoint EP] COMMAND...\n"
                    "(see the comment at the top of tests/tools/cmk_raw.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *run = NULL, *keyfile = NULL, *name = NULL, *endpoint = NULL;
    char pub[CMK_Z85_KEY_LEN + 1], ep[PATH_MAX + 32], namebuf[128];
    cmk_keypair kp;
    cmk_err err = CMK_ERR_INIT;
    void *ctx;
    int i, zero = 0, rc = 0;

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--front") == 0)
            back = 0;
        else if (i + 1 >= argc)
            return usage();
        else if (strcmp(argv[i], "--run-dir") == 0)
            run = argv[++i];
        else if (strcmp(argv[i], "--key") == 0)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[++i];
        else if (strcmp(argv[i], "--endpoint") == 0)
            endpoint = argv[++i];
        else
            return usage();
    }
    if (!run || !keyfile)
        return usage();
    if (!name) { /* keys/NAME.key */
        const char *base = strrchr(keyfile, '/');
        snprintf(namebuf, sizeof namebuf, "%s", base ? base + 1 : keyfile);
        if (strstr(namebuf, ".key"))
            *strstr(namebuf, ".key") = '\0';
        name = namebuf;
    }
    if (cmk_keypair_load(keyfile, &kp, &err) < 0 || cmk_public_load(run, "controller", pub, &err) < 0) {
        fprintf(stderr, "cmk_raw: %s\n", err.msg);
        return 2;
    }
    if (endpoint)
        snprintf(ep, sizeof ep, "%s", endpoint);
    else
        snprintf(ep, sizeof ep, "ipc://%s/controller-%s.sock", run, back ? "back" : "front");
    ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (cmk_curve_client(sock, &kp, pub, &err) < 0 || zmq_connect(sock, ep) != 0) {
        fprintf(stderr, "cmk_raw: cannot connect to %s: %s\n", ep, err.msg[0] ? err.msg : zmq_strerror(errno));
        return 2;
    }
    cmk_keypair_wipe(&kp);
    next_hb = cmk_mono_ms() + 250;

    while (rc == 0 && i < argc) {
        const char *cmd = argv[i++];
        int left = argc - i;
        if (strcmp(cmd, "ready") == 0 && left >= 2) {
            char body[512];
            snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"%s\",\"pid\":%s,\"envs\":[]}", name, argv[i],
                     argv[i + 1]);
            rc = send_msg(CMK_MSG_READY, body, NULL);
            registered = rc == 0;
            i += 2;
        } else if (strcmp(cmd, "send") == 0 && left >= 3) {
            rc = send_msg(argv[i], argv[i + 1], strcmp(argv[i + 2], "-") == 0 ? NULL : argv[i + 2]);
            i += 3;
        } else if (strcmp(cmd, "sendraw") == 0 && left >= 3) {
            rc = send_raw(argv[i], argv[i + 1], strcmp(argv[i + 2], "-") == 0 ? NULL : argv[i + 2]);
            i += 3;
        } else if (strcmp(cmd, "expect") == 0 && left >= 2) {
            cmk_msg *m = pump(argv[i], atoll(argv[i + 1]));
            if (!m) {
                fprintf(stderr, "cmk_raw: no '%s' within %s ms\n", argv[i], argv[i + 1]);
                rc = 3;
            }
            cmk_msg_destroy(&m);
            i += 2;
        } else if (strcmp(cmd, "idle") == 0 && left >= 1) {
            pump(NULL, atoll(argv[i]));
            i += 1;
        } else if (strcmp(cmd, "catch") == 0 && left >= 3) {
            cmk_msg *m = pump(argv[i], atoll(argv[i + 2]));
            if (!m) {
                fprintf(stderr, "cmk_raw: no '%s' within %s ms\n", argv[i], argv[i + 2]);
                rc = 3;
            } else if (cmk_file_write_atomic(argv[i + 1], m->reqid, strlen(m->reqid), 0600, &err) < 0) {
                fprintf(stderr, "cmk_raw: %s\n", err.msg);
                rc = 2;
            }
            cmk_msg_destroy(&m);
            i += 3;
        } else if (strcmp(cmd, "forge") == 0 && left >= 4) {
            int64_t deadline = cmk_mono_ms() + atoll(argv[i + 3]);
            char *id = NULL;
            size_t len = 0;
            while (cmk_file_read(argv[i], &id, &len, &err) < 0 && cmk_mono_ms() < deadline)
                pump(NULL, 50);
            if (!id) {
                fprintf(stderr, "cmk_raw: no request id in %s\n", argv[i]);
                rc = 3;
            } else
                rc = send_msg(argv[i + 1], argv[i + 2], id);
            free(id);
            i += 4;
        } else {
            fprintf(stderr, "cmk_raw: unknown command or missing arguments: %s\n", cmd);
            rc = 2;
        }
    }
    if (registered && back) {
        int linger = 1000; /* let the goodbye leave before the socket closes */
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
        send_msg(CMK_MSG_DISCONNECT, NULL, NULL);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
