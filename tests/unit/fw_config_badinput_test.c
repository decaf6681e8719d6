/*
 * fw_config_badinput_test.c - bad firewall configs: each is refused with CMK_EINVAL and a
 * message "<file>:<line>: ..." naming where; and a bad firewall.apply (broken text, an unknown
 * service tag, a request without a config) leaves the config in force unchanged - the edge
 * keeps enforcing the old rules - while a good apply still takes effect.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall/fw_config.h"
#include "firewall/fw_daemon.h"
#include "firewall/fw_edge.h"
#include "firewall/fw_servicetags.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"

START_TEST(broken_configs_are_refused_with_file_and_line)
{
    static const struct { const char *text, *want; } cases[] = {
        { "{\n \"default\": \"sometimes\",\n \"rules\": []\n}", "bad.json:2:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\", \"source\": \"any\", \"prot\": 443}\n ]\n}",
          "bad.json:4:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\",\n   \"source\": \"10.0.0.300/8\"}\n ]\n}",
          "bad.json:5:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\", \"source\": \"any\",\n   \"port\": 70000}\n ]\n}",
          "bad.json:5:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\", \"source\": \"any\", \"port\": \"0-80\"}\n ]\n}",
          "bad.json:4:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"name\": \"a\", \"action\": \"allow\", \"source\": \"any\"},\n  {\"name\": \"a\", \"action\": \"drop\", \"source\": \"any\"}\n ]\n}",
          "bad.json:5:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\",\n   \"source\": {\"tag\": \"NoSuchTag\"}}\n ]\n}",
          "bad.json:5:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n  {\"action\": \"allow\", \"source\": []}\n ]\n}",
          "bad.json:4:" },
        { "{\n \"default\": \"reject\",\n \"rules\": [\n", "bad.json:" },
    };
    cmk_err err = CMK_ERR_INIT;
    fw_servicetags *tags = fw_servicetags_load(SIM_TAGS, &err);

    ck_assert_msg(tags != NULL, "%s", err.msg);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmk_err e = CMK_ERR_INIT;
        fw_config *cfg = fw_config_parse(cases[i].text, strlen(cases[i].text), "bad.json", tags, 0, &e);
        ck_assert_msg(cfg == NULL, "case %zu accepted", i);
        ck_assert_int_eq(e.code, CMK_EINVAL);
        ck_assert_msg(strncmp(e.msg, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %s", i,
                      e.msg);
    }
    fw_servicetags_destroy(&tags);
}
END_TEST

/* free_port - a port nothing listens on right now */
static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), p;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    p = ntohs(sa.sin_port);
    close(fd);
    return p;
}

/* in_force - the name and rule count of the config in force (firewall.status) */
static void in_force(fw_edge *edge, char *name, size_t n, int *rules)
{
    cJSON *st = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(fw_daemon_request(edge, "firewall.status", NULL, &st, &err) == 0, "%s", err.msg);
    snprintf(name, n, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(st, "config"), "name")));
    *rules = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "rules"));
    cJSON_Delete(st);
}

/* apply - firewall.apply with body text; the code, err filled */
static int apply(fw_edge *edge, const char *body, cmk_err *err)
{
    cJSON *b = cJSON_Parse(body), *reply = NULL;
    int rc;
    ck_assert_ptr_nonnull(b);
    rc = fw_daemon_request(edge, "firewall.apply", b, &reply, err);
    cJSON_Delete(reply);
    cJSON_Delete(b);
    return rc;
}

START_TEST(a_bad_apply_leaves_the_config_in_force)
{
    cmk_err err = CMK_ERR_INIT;
    fw_edge_opts o = { NULL, "userspace", FIREWALLS "legacy-only.json", SIM_TAGS, free_port(), NULL, NULL };
    fw_edge *edge = fw_edge_new(&o, &err);
    char name[128];
    int rules0, rules;

    ck_assert_msg(edge != NULL, "%s", err.msg);
    in_force(edge, name, sizeof name, &rules0);
    ck_assert_str_eq(name, "legacy-only");
    ck_assert_int_gt(rules0, 0);

    /* broken text: refused with its line */
    ck_assert_int_eq(apply(edge, "{\"config\": \"{\\n \\\"name\\\": \\\"broken\\\",\\n \\\"default\\\": \\\"sometimes\\\", \\\"rules\\\": []}\", \"name\": \"broken.json\"}", &err),
                     CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "broken.json:3:"), "%s", err.msg);
    in_force(edge, name, sizeof name, &rules);
    ck_assert_str_eq(name, "legacy-only");
    ck_assert_int_eq(rules, rules0);

    /* valid JSON, but a service tag the tags file does not have */
    ck_assert_int_eq(apply(edge, "{\"config\": {\"name\": \"ghost\", \"default\": \"allow\", \"rules\": "
                                 "[{\"action\": \"drop\", \"source\": {\"tag\": \"NoSuchTag\"}}]}}", &err),
                     CMK_EINVAL);
    in_force(edge, name, sizeof name, &rules);
    ck_assert_str_eq(name, "legacy-only");

    /* no config at all */
    ck_assert_int_eq(apply(edge, "{\"nothing\": 1}", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "firewall.apply needs"));
    in_force(edge, name, sizeof name, &rules);
    ck_assert_str_eq(name, "legacy-only");

    /* the control: a good config does take over */
    ck_assert_msg(apply(edge, "{\"config\": {\"name\": \"good\", \"default\": \"allow\", \"rules\": []}}", &err) == 0,
                  "%s", err.msg);
    in_force(edge, name, sizeof name, &rules);
    ck_assert_str_eq(name, "good");
    ck_assert_int_eq(rules, 0);
    fw_edge_destroy(&edge);
}
END_TEST

/* fw_config_badinput_suite - every test of this file */
static Suite *fw_config_badinput_suite(void)
{
    Suite *s = suite_create("fw_config_badinput");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, broken_configs_are_refused_with_file_and_line);
    tcase_add_test(tc, a_bad_apply_leaves_the_config_in_force);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_config_badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
