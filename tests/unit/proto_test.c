/*
 * proto_test.c - the wire codec: round trips, and every malformed frame gets an error, never a
 * crash. Also a real ROUTER/DEALER pair over inproc to check routing ids and User-Id capture.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "proto.h"

/* frames_of - encode a message into frames the way cmk_msg_send does (for the pure decoder);
 * *buf_out holds the head-and-body frame (caller frees) */
static size_t frames_of(const cmk_msg *m, cmk_frame *f, char **buf_out)
{
    size_t n = 0, h;
    char *body = cmk_msg_encode_body(m);
    *buf_out = malloc(CMK_PROTO_MAX_HEAD + 1 + strlen(body));
    h = cmk_msg_head(m->type, m->reqid, *buf_out, CMK_PROTO_MAX_HEAD + 1);
    memcpy(*buf_out + h, body, strlen(body));
    if (m->routing_len)
        f[n++] = (cmk_frame){ m->routing, m->routing_len };
    f[n++] = (cmk_frame){ *buf_out, h + strlen(body) };
    for (int i = 0; i < m->nbins; i++)
        f[n++] = (cmk_frame){ m->bins[i].data, m->bins[i].len };
    free(body);
    return n;
}

/* FRAME - a frame of a string literal */
#define FRAME(lit) ((cmk_frame){ lit, sizeof(lit) - 1 })

START_TEST(test_round_trip)
{
    cmk_msg *m = cmk_msg_new("env.create", "req-1"), *out = NULL;
    cmk_frame f[32];
    char *body;
    cmk_err err = CMK_ERR_INIT;
    uint8_t bin[300];

    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)i;
    cmk_msg_set_routing(m, "\x00\x01id", 4);
    cJSON_AddStringToObject(m->body, "name", "Contoso Prod");
    cJSON_AddNumberToObject(m->body, "n", 42);
    ck_assert_int_eq(cmk_msg_add_bin(m, bin, sizeof bin, &err), 0);
    ck_assert_int_eq(cmk_msg_add_bin(m, "", 0, &err), 0);
    size_t n = frames_of(m, f, &body);
    ck_assert_int_eq(cmk_msg_decode(f, n, 1, &out, NULL, &err), 0);
    ck_assert_str_eq(out->type, "env.create");
    ck_assert_str_eq(out->reqid, "req-1");
    ck_assert_uint_eq(out->routing_len, 4);
    ck_assert_mem_eq(out->routing, "\x00\x01id", 4);
    ck_assert_str_eq(cJSON_GetObjectItem(out->body, "name")->valuestring, "Contoso Prod");
    ck_assert_int_eq(out->nbins, 2);
    ck_assert_uint_eq(out->bins[0].len, sizeof bin);
    ck_assert_mem_eq(out->bins[0].data, bin, sizeof bin);
    ck_assert_uint_eq(out->bins[1].len, 0);
    free(body);
    cmk_msg_destroy(&m);
    cmk_msg_destroy(&out);
    ck_assert_ptr_null(out);
    cmk_msg_destroy(&out); /* NULL-safe */
}
END_TEST

/* expect_bad - decode frames, expect EPROTO with a message containing `needle` */
static void expect_bad(cmk_frame *f, size_t n, int routed, const char *needle)
{
    cmk_msg *out = (cmk_msg *)0x1, *partial = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(cmk_msg_decode(f, n, routed, &out, &partial, &err), CMK_EPROTO);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "error '%s' lacks '%s'", err.msg, needle);
    ck_assert_ptr_nonnull(partial);
    cmk_msg_destroy(&partial);
}

START_TEST(test_malformed)
{
    cmk_frame f[32];
    char big_type[200];

    /* no frame, no head line, a head without its newline or with a field too many or too few */
    expect_bad(f, 0, 0, "no frames");
    f[0] = FRAME("");
    expect_bad(f, 1, 0, "must start with 'CMK/2 <type> <request id>'");
    f[0] = FRAME("CMK/2 ping r1");
    expect_bad(f, 1, 0, "and a newline");
    f[0] = FRAME("CMK/2 ping\n{}");
    expect_bad(f, 1, 0, "must start with");
    f[0] = FRAME("CMK/2 ping r1 x\n{}");
    expect_bad(f, 1, 0, "must start with");
    f[0] = FRAME("CMK/2  ping r1\n{}");
    expect_bad(f, 1, 0, "must start with");
    f[0] = FRAME(" CMK/2 ping r1\n{}");
    expect_bad(f, 1, 0, "must start with");
    /* the head past its longest: the newline is not looked for further */
    snprintf(big_type, sizeof big_type, "CMK/2 %0100d r1\n{}", 0);
    f[0] = (cmk_frame){ big_type, strlen(big_type) };
    expect_bad(f, 1, 0, "must start with");
    /* wrong tag: the old four-frame protocol too */
    f[0] = FRAME("CMK/1 ping r1\n{}");
    expect_bad(f, 1, 0, "protocol tag");
    f[0] = FRAME("CMK/1");
    f[1] = FRAME("ping");
    f[2] = FRAME("r1");
    f[3] = FRAME("{}");
    expect_bad(f, 4, 0, "must start with");
    /* bad types */
    f[0] = FRAME("CMK/2 PING r1\n{}");
    expect_bad(f, 1, 0, "message type");
    snprintf(big_type, sizeof big_type, "CMK/2 %032d r1\n{}", 0);
    f[0] = (cmk_frame){ big_type, strlen(big_type) };
    expect_bad(f, 1, 0, "message type");
    f[0] = FRAME("CMK/2 pi\0ng r1\n{}");
    expect_bad(f, 1, 0, "message type");
    /* bad request ids */
    f[0] = FRAME("CMK/2 ping r\x01\n{}");
    expect_bad(f, 1, 0, "request id");
    snprintf(big_type, sizeof big_type, "CMK/2 ping %064d\n{}", 0);
    f[0] = (cmk_frame){ big_type, strlen(big_type) };
    expect_bad(f, 1, 0, "request id");
    /* bodies that are not JSON objects */
    f[0] = FRAME("CMK/2 ping r1\n[1,2]");
    expect_bad(f, 1, 0, "not a JSON object");
    f[0] = FRAME("CMK/2 ping r1\n{\"a\":");
    expect_bad(f, 1, 0, "not a JSON object");
    f[0] = FRAME("CMK/2 ping r1\n\xff\xfe");
    expect_bad(f, 1, 0, "not a JSON object");
    f[0] = FRAME("CMK/2 ping r1\n{}\n{}");
    expect_bad(f, 1, 0, "not a JSON object");
    /* routed without a routing frame */
    f[0] = FRAME("");
    f[1] = FRAME("CMK/2 ping r1\n{}");
    expect_bad(f, 2, 1, "routing id");
    expect_bad(f, 0, 1, "routing id");
    /* routed, with nothing after the routing id */
    f[0] = FRAME("id");
    expect_bad(f, 1, 1, "no frames");
    /* too many binary frames */
    {
        cmk_frame g[1 + CMK_PROTO_MAX_BINS + 1];
        g[0] = FRAME("CMK/2 ping r1\n{}");
        for (int i = 0; i <= CMK_PROTO_MAX_BINS; i++)
            g[1 + i] = FRAME("x");
        expect_bad(g, 1 + CMK_PROTO_MAX_BINS + 1, 0, "binary frames");
    }
    /* and the good ones: an empty body is {}, the longest type and request id */
    {
        cmk_msg *out = NULL;
        cmk_err err = CMK_ERR_INIT;
        char head[CMK_PROTO_MAX_HEAD + 1], type[CMK_PROTO_MAX_TYPE + 1], reqid[CMK_PROTO_MAX_REQID + 1];
        f[0] = FRAME("CMK/2 ping r1\n");
        ck_assert_int_eq(cmk_msg_decode(f, 1, 0, &out, NULL, &err), 0);
        ck_assert_int_eq(cJSON_GetArraySize(out->body), 0);
        cmk_msg_destroy(&out);
        memset(type, 'a', CMK_PROTO_MAX_TYPE);
        type[CMK_PROTO_MAX_TYPE] = '\0';
        memset(reqid, '~', CMK_PROTO_MAX_REQID);
        reqid[CMK_PROTO_MAX_REQID] = '\0';
        ck_assert_uint_eq(cmk_msg_head(type, reqid, head, sizeof head), CMK_PROTO_MAX_HEAD);
        f[0] = (cmk_frame){ head, CMK_PROTO_MAX_HEAD };
        ck_assert_int_eq(cmk_msg_decode(f, 1, 0, &out, NULL, &err), 0);
        ck_assert_str_eq(out->type, type);
        ck_assert_str_eq(out->reqid, reqid);
        cmk_msg_destroy(&out);
    }
}
END_TEST

START_TEST(test_partial_keeps_reqid_for_reply)
{
    cmk_frame f[2] = { { "id", 2 }, FRAME("CMK/2 BAD req-9") };
    cmk_frame g[2] = { { "id", 2 }, FRAME("CMK/2 BAD req-9\n{}") };
    cmk_frame t[2] = { { "id", 2 }, FRAME("CMK/3 ping req-8\n{}") };
    cmk_msg *out, *partial;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(cmk_msg_decode(g, 2, 1, &out, &partial, &err), CMK_EPROTO);
    ck_assert_str_eq(partial->reqid, "req-9");
    ck_assert_uint_eq(partial->routing_len, 2);
    {
        cmk_msg *rep = cmk_msg_error(partial, CMK_EPROTO, err.msg);
        ck_assert_str_eq(rep->type, "error");
        ck_assert_str_eq(rep->reqid, "req-9");
        ck_assert_str_eq(cJSON_GetObjectItem(rep->body, "code")->valuestring, "EPROTO");
        cmk_msg_destroy(&rep);
    }
    cmk_msg_destroy(&partial);
    ck_assert_int_eq(cmk_msg_decode(t, 2, 1, &out, &partial, &err), CMK_EPROTO);
    ck_assert_str_eq(partial->reqid, "req-8"); /* a wrong tag is still answered */
    cmk_msg_destroy(&partial);
    ck_assert_int_eq(cmk_msg_decode(f, 2, 1, &out, &partial, &err), CMK_EPROTO);
    cmk_msg_destroy(&partial);
}
END_TEST

START_TEST(test_fuzz_never_crashes)
{
    /* random frames: every outcome is 0, EPROTO or EINVAL */
    srand(1234);
    for (int round = 0; round < 20000; round++) {
        cmk_frame f[8];
        char bufs[8][64];
        size_t n = (size_t)(rand() % 8);
        cmk_msg *out = NULL, *partial = NULL;
        cmk_err err = CMK_ERR_INIT;
        for (size_t i = 0; i < n; i++) {
            size_t len = (size_t)(rand() % 64);
            for (size_t k = 0; k < len; k++)
                bufs[i][k] = (char)(rand() % 4 == 0 ? "CMK/2 {}pig\"\n" [rand() % 13] : rand());
            if (i <= 1 && rand() % 2) {
                static const char *const heads[] = { "CMK/2 ping r\n", "CMK/2 ping r\n{", "CMK/2 ", "CMK/2 a b" };
                const char *h = heads[rand() % 4];
                memcpy(bufs[i], h, strlen(h));
                if (len < strlen(h))
                    len = strlen(h);
            }
            f[i] = (cmk_frame){ bufs[i], len };
        }
        int rc = cmk_msg_decode(f, n, rand() % 2, &out, &partial, &err);
        /* EINVAL: a request type's body refused by its text check (common/fields.c) */
        ck_assert_msg(rc == 0 || rc == CMK_EPROTO || rc == CMK_EINVAL, "%d: %s", rc, err.msg);
        cmk_msg_destroy(&out);
        cmk_msg_destroy(&partial);
    }
}
END_TEST

START_TEST(test_socket_round_trip)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    cmk_msg *m = cmk_msg_new("ping", "abc"), *got = NULL, *rep;
    cmk_err err = CMK_ERR_INIT;

    ck_assert_int_eq(zmq_bind(router, "inproc://proto-test"), 0);
    ck_assert_int_eq(zmq_connect(dealer, "inproc://proto-test"), 0);
    ck_assert_int_eq(cmk_msg_send(m, dealer, &err), 0);
    ck_assert_int_eq(cmk_msg_recv(router, &got, NULL, &err), 0);
    ck_assert_str_eq(got->type, "ping");
    ck_assert_uint_gt(got->routing_len, 0);
    rep = cmk_msg_reply(got, "reply");
    cJSON_AddBoolToObject(rep->body, "pong", 1);
    ck_assert_int_eq(cmk_msg_send(rep, router, &err), 0);
    cmk_msg_destroy(&got);
    ck_assert_int_eq(cmk_msg_recv(dealer, &got, NULL, &err), 0);
    ck_assert_str_eq(got->type, "reply");
    ck_assert_str_eq(got->reqid, "abc");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(got->body, "pong")));
    /* a raw malformed multipart is drained and refused, and the next message still decodes */
    zmq_send(dealer, "junk", 4, ZMQ_SNDMORE);
    zmq_send(dealer, "more", 4, 0);
    cmk_msg_send(m, dealer, &err);
    {
        cmk_msg *bad = NULL, *partial = NULL;
        ck_assert_int_eq(cmk_msg_recv(router, &bad, &partial, &err), CMK_EPROTO);
        ck_assert_ptr_null(bad);
        cmk_msg_destroy(&partial);
        ck_assert_int_eq(cmk_msg_recv(router, &bad, NULL, &err), 0);
        ck_assert_str_eq(bad->type, "ping");
        cmk_msg_destroy(&bad);
    }
    cmk_msg_destroy(&got);
    cmk_msg_destroy(&rep);
    cmk_msg_destroy(&m);
    zmq_close(router);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_raw_reply_passed_through)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    cmk_msg *rep = cmk_msg_new("reply", "abc"), *got = NULL, *back = NULL;
    cmk_err err = CMK_ERR_INIT;
    static const char bad[] = "CMK/2 reply bad-1\n{\"a\":1e999}";

    ck_assert_int_eq(zmq_bind(router, "inproc://proto-raw"), 0);
    ck_assert_int_eq(zmq_connect(dealer, "inproc://proto-raw"), 0);
    /* nothing waiting: CMK_ETIMEOUT at once, nothing read */
    got = (cmk_msg *)0x1;
    ck_assert_int_eq(cmk_msg_recv_flags(router, &got, &back, CMK_RECV_DONTWAIT, &err), CMK_ETIMEOUT);
    ck_assert_ptr_null(got);
    ck_assert_ptr_null(back);
    cJSON_AddStringToObject(rep->body, "run", "08585-x");
    /* a reply's body stays text, an error is parsed, a request too */
    ck_assert_int_eq(cmk_msg_send(rep, dealer, &err), 0);
    ck_assert_int_eq(cmk_msg_recv_flags(router, &got, NULL, CMK_RECV_DONTWAIT | CMK_RECV_RAW_REPLY, &err), 0);
    ck_assert_ptr_nonnull(got->raw);
    ck_assert_str_eq(got->raw, "{\"run\":\"08585-x\"}");
    ck_assert_int_eq(cJSON_GetArraySize(got->body), 0);
    ck_assert_int_eq(cmk_msg_recv_flags(router, &back, NULL, CMK_RECV_DONTWAIT, &err), CMK_ETIMEOUT);
    /* sent on as it came: the other end reads the same body */
    ck_assert_int_eq(cmk_msg_send(got, router, &err), 0);
    ck_assert_int_eq(cmk_msg_recv(dealer, &back, NULL, &err), 0);
    ck_assert_ptr_null(back->raw);
    ck_assert_str_eq(cJSON_GetObjectItem(back->body, "run")->valuestring, "08585-x");
    cmk_msg_destroy(&back);
    /* read after all */
    ck_assert_int_eq(cmk_msg_parse_raw(got, &err), 0);
    ck_assert_ptr_null(got->raw);
    ck_assert_str_eq(cJSON_GetObjectItem(got->body, "run")->valuestring, "08585-x");
    ck_assert_int_eq(cmk_msg_parse_raw(got, &err), 0); /* nothing left to parse */
    cmk_msg_destroy(&got);
    {
        cmk_msg *e = cmk_msg_error(rep, CMK_EPERM, "no");
        ck_assert_int_eq(cmk_msg_send(e, dealer, &err), 0);
        ck_assert_int_eq(cmk_msg_recv_flags(router, &got, NULL, CMK_RECV_RAW_REPLY, &err), 0);
        ck_assert_ptr_null(got->raw);
        ck_assert_str_eq(cJSON_GetObjectItem(got->body, "code")->valuestring, "EPERM");
        cmk_msg_destroy(&got);
        cmk_msg_destroy(&e);
    }
    /* a bad body kept as text is refused when it is read, with the decoder's message */
    zmq_send(dealer, bad, sizeof bad - 1, 0);
    ck_assert_int_eq(cmk_msg_recv_flags(router, &got, NULL, CMK_RECV_RAW_REPLY, &err), 0);
    ck_assert_int_eq(cmk_msg_parse_raw(got, &err), CMK_EPROTO);
    ck_assert_msg(strstr(err.msg, "number too large"), "%s", err.msg);
    cmk_msg_destroy(&got);
    /* without the flag it is refused at once */
    zmq_send(dealer, bad, sizeof bad - 1, 0);
    ck_assert_int_eq(cmk_msg_recv(router, &got, NULL, &err), CMK_EPROTO);
    cmk_msg_destroy(&rep);
    zmq_close(router);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_error_codes)
{
    cmk_msg *req = cmk_msg_new("x", "r"), *e = cmk_msg_error(req, CMK_EPERM, "no");
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(cmk_msg_error_of(e, &err), CMK_EPERM);
    ck_assert_str_eq(err.msg, "no");
    ck_assert_int_eq(cmk_code_from_name(cmk_code_name(CMK_ELIMIT)), CMK_ELIMIT);
    ck_assert_int_eq(cmk_msg_error_of(req, &err), 0);
    cmk_msg_destroy(&req);
    cmk_msg_destroy(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("codec");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_partial_keeps_reqid_for_reply);
    tcase_add_test(tc, test_fuzz_never_crashes);
    tcase_add_test(tc, test_socket_round_trip);
    tcase_add_test(tc, test_error_codes);
    tcase_add_test(tc, test_raw_reply_passed_through);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
