/*
 * gw_errmap_test.c - the egress error table (gateway/gw_errmap.h): the seed's exact refusal
 * message, the timeout message of a silent drop, and how libcurl results are classified.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "err.h"
#include "gw_errmap.h"

/* The seed's words, character for character. */
#define SEED_REFUSED                                                                           \
    "Http request failed as there is an error: 'No connection could be made because the "     \
    "target machine actively refused it.'"

START_TEST(refused_is_the_seed_message_exactly)
{
    char buf[1024];
    gw_outcome o = gw_errmap_classify(CURLE_COULDNT_CONNECT, ECONNREFUSED, 0);
    ck_assert_int_eq(o, GW_OUT_REFUSED);
    ck_assert_str_eq(gw_errmap_message(o, "ignored", buf, sizeof buf), SEED_REFUSED);
    ck_assert_str_eq(gw_outcome_name(o), "refused");
    ck_assert_int_eq(gw_outcome_code(o), CMK_EUNAVAIL);
}
END_TEST

START_TEST(silent_drop_is_a_timeout)
{
    char buf[1024];
    /* a SYN that is dropped: libcurl gives up connecting; a request never answered: the same */
    ck_assert_int_eq(gw_errmap_classify(CURLE_OPERATION_TIMEDOUT, 0, 0), GW_OUT_TIMEOUT);
    ck_assert_int_eq(gw_errmap_classify(CURLE_OPERATION_TIMEDOUT, ETIMEDOUT, 0), GW_OUT_TIMEOUT);
    ck_assert_int_eq(gw_errmap_classify(CURLE_COULDNT_CONNECT, ETIMEDOUT, 0), GW_OUT_TIMEOUT);
    ck_assert_str_eq(gw_errmap_message(GW_OUT_TIMEOUT, NULL, buf, sizeof buf),
                     "Http request failed: the server did not respond within the timeout limit. "
                     "Please see logic app limits at "
                     "https://aka.ms/logic-apps-limits-and-config#http-limits");
    ck_assert_int_eq(gw_outcome_code(GW_OUT_TIMEOUT), CMK_ETIMEOUT);
}
END_TEST

START_TEST(reset_dns_tls_and_others_have_their_own)
{
    char buf[1024];
    ck_assert_int_eq(gw_errmap_classify(CURLE_RECV_ERROR, ECONNRESET, 0), GW_OUT_RESET);
    ck_assert_int_eq(gw_errmap_classify(CURLE_SEND_ERROR, EPIPE, 0), GW_OUT_RESET);
    ck_assert_int_eq(gw_errmap_classify(CURLE_RECV_ERROR, 0, 0), GW_OUT_RESET);
    ck_assert_str_eq(gw_errmap_message(GW_OUT_RESET, NULL, buf, sizeof buf),
                     "Http request failed as there is an error: 'An existing connection was "
                     "forcibly closed by the remote host.'");
    ck_assert_int_eq(gw_errmap_classify(CURLE_COULDNT_RESOLVE_HOST, 0, 0), GW_OUT_DNS);
    ck_assert_str_eq(gw_errmap_message(GW_OUT_DNS, "nowhere.invalid:443", buf, sizeof buf),
                     "Http request failed as there is an error: 'No such host is known. "
                     "(nowhere.invalid:443)'");
    ck_assert_int_eq(gw_errmap_classify(CURLE_SSL_CONNECT_ERROR, 0, 0), GW_OUT_TLS);
    ck_assert_int_eq(gw_errmap_classify(CURLE_PEER_FAILED_VERIFICATION, 0, 0), GW_OUT_TLS);
    ck_assert_ptr_nonnull(strstr(gw_errmap_message(GW_OUT_TLS, NULL, buf, sizeof buf),
                                 "The SSL connection could not be established"));
    ck_assert_int_eq(gw_errmap_classify(CURLE_COULDNT_CONNECT, ENETUNREACH, 0), GW_OUT_UNREACHABLE);
    ck_assert_int_eq(gw_errmap_classify(CURLE_GOT_NOTHING, 0, 0), GW_OUT_EMPTY);
    ck_assert_int_eq(gw_errmap_classify(CURLE_URL_MALFORMAT, 0, 0), GW_OUT_INVALID);
    ck_assert_int_eq(gw_errmap_classify(CURLE_UNSUPPORTED_PROTOCOL, 0, 0), GW_OUT_INVALID);
    ck_assert_int_eq(gw_errmap_classify(CURLE_OK, 0, 0), GW_OUT_OK);
    ck_assert_int_eq(gw_outcome_code(GW_OUT_OK), 0);
    ck_assert_int_eq(gw_errmap_classify(CURLE_INTERFACE_FAILED, EADDRNOTAVAIL, 0), GW_OUT_ERROR);
    ck_assert_str_eq(gw_errmap_message(GW_OUT_ERROR, "Couldn't bind", buf, sizeof buf),
                     "Http request failed as there is an error: 'Couldn't bind'");
}
END_TEST

START_TEST(flags_from_the_transfer_win)
{
    char buf[1024];
    /* the open-socket hook refused a non-loopback destination: libcurl says "couldn't connect" */
    ck_assert_int_eq(gw_errmap_classify(CURLE_COULDNT_CONNECT, 0, GW_FAIL_POLICY), GW_OUT_POLICY);
    ck_assert_int_eq(gw_errmap_classify(CURLE_WRITE_ERROR, 0, GW_FAIL_TOOLARGE), GW_OUT_TOOLARGE);
    ck_assert_ptr_nonnull(strstr(gw_errmap_message(GW_OUT_POLICY, "10.0.0.1:80", buf, sizeof buf),
                                 "10.0.0.1:80 is not one"));
    ck_assert_int_eq(gw_outcome_code(GW_OUT_POLICY), CMK_EPERM);
}
END_TEST

START_TEST(every_outcome_has_a_name_and_a_message)
{
    char buf[1024];
    for (int o = 1; o < GW_OUT_COUNT; o++) {
        ck_assert_str_ne(gw_outcome_name((gw_outcome)o), "");
        ck_assert_ptr_nonnull(strstr(gw_errmap_message((gw_outcome)o, "x", buf, sizeof buf),
                                     "Http request failed"));
        ck_assert_int_lt(gw_outcome_code((gw_outcome)o), 0);
    }
    /* a small buffer truncates, never overflows */
    ck_assert_uint_eq(strlen(gw_errmap_message(GW_OUT_REFUSED, NULL, buf, 10)), 9);
}
END_TEST

START_TEST(messages_map_back_to_their_outcome_and_cause)
{
    char buf[1024];
    for (int o = 1; o < GW_OUT_COUNT; o++) {
        gw_errmap_message((gw_outcome)o, "127.0.0.1:9", buf, sizeof buf);
        ck_assert_msg(gw_errmap_outcome_of(buf) == (gw_outcome)o, "%s", buf);
        ck_assert_str_ne(gw_outcome_cause((gw_outcome)o), "");
    }
    ck_assert_str_eq(gw_outcome_cause(GW_OUT_REFUSED), "firewall refused");
    ck_assert_str_eq(gw_outcome_cause(GW_OUT_RESET), "connection reset");
    ck_assert_str_eq(gw_outcome_cause(GW_OUT_TIMEOUT), "HTTP timeout");
    ck_assert_int_eq(gw_errmap_outcome_of("Http request failed as there is an error: 'boom'"), GW_OUT_ERROR);
    ck_assert_int_eq(gw_errmap_outcome_of("the child flow failed"), GW_OUT_OK);
    ck_assert_int_eq(gw_errmap_outcome_of(""), GW_OUT_OK);
    ck_assert_int_eq(gw_errmap_outcome_of(NULL), GW_OUT_OK);
}
END_TEST

/* gw_errmap_suite - every test of this module */
static Suite *gw_errmap_suite(void)
{
    Suite *s = suite_create("gw_errmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, refused_is_the_seed_message_exactly);
    tcase_add_test(tc, silent_drop_is_a_timeout);
    tcase_add_test(tc, reset_dns_tls_and_others_have_their_own);
    tcase_add_test(tc, flags_from_the_transfer_win);
    tcase_add_test(tc, every_outcome_has_a_name_and_a_message);
    tcase_add_test(tc, messages_map_back_to_their_outcome_and_cause);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(gw_errmap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
