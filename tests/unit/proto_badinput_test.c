/*
 * proto_badinput_test.c - bad wire frames found by fuzzing (tests/fuzz/fuzz_wire.c): a body
 * with a number JSON cannot carry back (1e999, read as infinity) is refused with EPROTO like
 * any malformed message, wherever the number sits, and the partial message still carries the
 * request id so the sender gets its error reply. The other malformed shapes are in proto_test.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"

/* decode_body - decode a one-frame key.create with this body; returns the code, fills err and *partial */
static int decode_body(const char *body, cmk_msg **partial, cmk_err *err)
{
    char buf[512];
    size_t h = cmk_msg_head("key.create", "req-7", buf, sizeof buf);
    cmk_frame f[1];
    cmk_msg *m = NULL;
    int rc;
    ck_assert_uint_lt(h + strlen(body), sizeof buf);
    memcpy(buf + h, body, strlen(body));
    f[0] = (cmk_frame){ buf, h + strlen(body) };
    rc = cmk_msg_decode(f, 1, 0, &m, partial, err);
    cmk_msg_destroy(&m);
    return rc;
}

START_TEST(a_number_out_of_double_range_is_refused_with_eproto)
{
    static const char *bodies[] = {
        "{\"size\":1e999}",
        "{\"size\":-1e999}",
        "{\"a\":[1,2,{\"b\":1E400}]}",
        "{\"deep\":{\"deeper\":{\"n\":123456789e999}}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cmk_err err = CMK_ERR_INIT;
        cmk_msg *partial = NULL;
        ck_assert_int_eq(decode_body(bodies[i], &partial, &err), CMK_EPROTO);
        ck_assert_int_eq(err.code, CMK_EPROTO);
        ck_assert_msg(strstr(err.msg, "body of a 'key.create' message holds a number too large"),
                      "%s: %s", bodies[i], err.msg);
        ck_assert_ptr_nonnull(partial);
        ck_assert_str_eq(partial->reqid, "req-7");
        cmk_msg_destroy(&partial);
    }
}
END_TEST

START_TEST(large_but_finite_numbers_still_decode_and_round_trip)
{
    cmk_err err = CMK_ERR_INIT;
    static const char frame[] = "CMK/2 ping r\n{\"n\":1.7e308,\"m\":-4e-320}";
    cmk_frame f[1] = { { frame, sizeof frame - 1 } };
    cmk_msg *m = NULL;
    char *text;

    ck_assert_msg(cmk_msg_decode(f, 1, 0, &m, NULL, &err) == 0, "%s", err.msg);
    text = cmk_msg_encode_body(m);
    ck_assert_ptr_null(strstr(text, "null"));
    free(text);
    cmk_msg_destroy(&m);
}
END_TEST

/* proto_badinput_suite - every test of this file */
static Suite *proto_badinput_suite(void)
{
    Suite *s = suite_create("proto_badinput");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_number_out_of_double_range_is_refused_with_eproto);
    tcase_add_test(tc, large_but_finite_numbers_still_decode_and_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(proto_badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
