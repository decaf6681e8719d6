/*
 * config_test.c - the parameter table, configs/default.json checked against it, files, --set.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "util.h"

START_TEST(test_defaults)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_config *c = cmk_config_new("/tmp/x", &err);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->run_dir, "/tmp/x");
    ck_assert_str_eq(c->clock_mode, "real");
    ck_assert_int_eq(c->heartbeat_interval, 500);
    ck_assert_int_eq(c->heartbeat_liveness, 4);
    ck_assert_int_eq(c->spawn_firewall, 1);
    cmk_config_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_relative_run_dir_made_absolute)
{
    cmk_err err = CMK_ERR_INIT;
    char cwd[4096], want[4200];
    cmk_config *c = cmk_config_new("./var", &err);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/var", cwd);
    ck_assert_str_eq(c->run_dir, want);
    cmk_config_destroy(&c);
}
END_TEST

START_TEST(test_default_json_matches_table)
{
    /* configs/default.json must hold every parameter with its default, and nothing else */
    cmk_err err = CMK_ERR_INIT;
    cmk_config *a = cmk_config_new("/tmp/x", &err), *b = cmk_config_new("/tmp/x", &err);
    cJSON *file, *ja, *jb;
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/default.json", CMK_SOURCE_DIR);
    ck_assert_int_eq(cmk_json_load_file(path, &file, &err), 0);
    /* load into b (unknown names are refused, so nothing extra is there) */
    ck_assert_msg(cmk_config_load_json(b, file, path, &err) == 0, "%s", err.msg);
    ja = cmk_config_to_json(a);
    jb = cmk_config_to_json(b);
    ck_assert_msg(cJSON_Compare(ja, jb, 1), "configs/default.json differs from the defaults");
    {
        cJSON *normalized_file = NULL;
        cmk_config *c = cmk_config_new("/tmp/x", &err);
        /* a config with every value changed, then the file applied, must equal defaults */
        for (int i = 0; i < cmk_config_param_count(); i++) {
            const char *name = cmk_config_param_name(i), *def = cmk_config_param_default(i), *unit = "";
            long long lo = 0, hi = 0;
            char buf[64];
            const char *other;
            ck_assert_msg(cmk_config_param_range(i, &lo, &hi, &unit) == 0, "%s declares no range", name);
            if (strcmp(def, "true") == 0 || strcmp(def, "false") == 0)
                other = strcmp(def, "true") == 0 ? "false" : "true";
            else if (strncmp(unit, "one of: ", 8) == 0)
                other = strncmp(unit + 8, def, strlen(def)) == 0 ? strchr(unit, '|') + 1 : unit + 8,
                snprintf(buf, sizeof buf, "%.*s", (int)strcspn(other, "|"), other), other = buf;
            else if (strncmp(unit, "host:port", 9) == 0)
                other = "127.0.0.2:7";
            else if (def[0] >= '0' && def[0] <= '9' && def[strlen(def) - 1] >= 'a' && def[strlen(def) - 1] <= 'z')
                other = cmk_duration_format(strcmp(def, cmk_duration_format(lo, buf, sizeof buf)) ? lo : hi, buf,
                                            sizeof buf);
            else if (def[0] >= '0' && def[0] <= '9')
                snprintf(buf, sizeof buf, "%lld", atoll(def) == lo ? hi : lo), other = buf;
            else
                other = "changed";
            ck_assert_msg(cmk_config_set(c, name, other, &err) == 0, "%s: %s", name, err.msg);
        }
        ck_assert_int_eq(cmk_config_load_json(c, file, path, &err), 0);
        normalized_file = cmk_config_to_json(c);
        ck_assert_msg(cJSON_Compare(ja, normalized_file, 1),
                      "configs/default.json misses a parameter of config_params.h");
        cJSON_Delete(normalized_file);
        cmk_config_destroy(&c);
    }
    cJSON_Delete(file);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    cmk_config_destroy(&a);
    cmk_config_destroy(&b);
}
END_TEST

START_TEST(test_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_config *c = cmk_config_new("/tmp/x", &err);
    cJSON *j;

    ck_assert_int_eq(cmk_config_set(c, "no.such", "1", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown config parameter 'no.such'"));
    ck_assert_int_eq(cmk_config_set(c, "heartbeat.liveness", "three", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "integer"));
    ck_assert_int_eq(cmk_config_set(c, "heartbeat.interval", "5 parsecs", &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_config_set(c, "supervisor.firewall", "maybe", &err), CMK_EINVAL);
    j = cJSON_Parse("{\"heartbeat\": {\"interval\": 5}}");
    ck_assert_int_eq(cmk_config_load_json(c, j, "test.json", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "test.json: heartbeat.interval"));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"heartbeat\": {\"intervall\": \"1s\"}}");
    ck_assert_int_eq(cmk_config_load_json(c, j, "test.json", &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "heartbeat.intervall"));
    cJSON_Delete(j);
    j = cJSON_Parse("[1]");
    ck_assert_int_eq(cmk_config_load_json(c, j, "test.json", &err), CMK_EINVAL);
    cJSON_Delete(j);
    cmk_config_destroy(&c);
}
END_TEST

START_TEST(test_ranges_refused_naming_the_range)
{
    /* the reproductions of issue 15: each refused, naming the parameter and its range */
    static const struct {
        const char *name, *value, *says;
    } cases[] = {
        { "heartbeat.liveness", "0", "heartbeat.liveness = 0 is out of range; the range is 2..100 heartbeats" },
        { "heartbeat.interval", "9223372036854775807ms", "heartbeat.interval = " },
        { "heartbeat.interval", "5ms", "the range is 10ms..1m" },
        { "firewall.endpoint_port", "99999", "the range is 1..65535 TCP port" },
        { "firewall.endpoint_port", "0", "the range is 1..65535 TCP port" },
        { "gateway.http", "127.0.0.1:99999", "gateway.http must be host:port" },
        { "gateway.http", "127.0.0.1", "gateway.http must be host:port" },
        { "log.level", "loud", "log.level must be one of: debug|info|warn|error" },
        { "request.max_inflight", "99999999999999999999", "must be an integer" },
        { "message.max_size", "10", "message.max_size = 10 is out of range" },
    };
    cmk_err err = CMK_ERR_INIT;
    cmk_config *c = cmk_config_new("/tmp/x", &err);
    cJSON *j;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err = (cmk_err)CMK_ERR_INIT;
        ck_assert_int_eq(cmk_config_set(c, cases[i].name, cases[i].value, &err), CMK_EINVAL);
        ck_assert_msg(strstr(err.msg, cases[i].says), "%s=%s: '%s' lacks '%s'", cases[i].name, cases[i].value,
                      err.msg, cases[i].says);
    }
    ck_assert_int_eq(c->heartbeat_liveness, 4); /* unchanged */
    ck_assert_int_eq(cmk_config_set(c, "gateway.http", "127.0.0.1:0", &err), 0);
    ck_assert_int_eq(cmk_config_set(c, "firewall.endpoint_port", "65535", &err), 0);
    j = cJSON_Parse("{\"heartbeat\": {\"liveness\": 1e300}}");
    ck_assert_int_eq(cmk_config_load_json(c, j, "t.json", &err), CMK_EINVAL);
    cJSON_Delete(j);
    cmk_config_destroy(&c);
}
END_TEST

START_TEST(test_every_param_has_a_range_and_a_duplicate_is_an_error)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_config *c = cmk_config_new("/tmp/x", &err);
    cJSON *j;
    for (int i = 0; i < cmk_config_param_count(); i++) {
        long long lo, hi;
        const char *unit = NULL;
        ck_assert_msg(cmk_config_param_range(i, &lo, &hi, &unit) == 0, "%s declares no range",
                      cmk_config_param_name(i));
        ck_assert_msg(lo <= hi && unit && unit[0], "%s: bad range", cmk_config_param_name(i));
    }
    /* cJSON keeps both members of {"a":1,"a":2}: the config refuses it */
    j = cJSON_Parse("{\"heartbeat\": {\"liveness\": 5, \"liveness\": 6}}");
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cmk_config_load_json(c, j, "dup.json", &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "dup.json: 'heartbeat.liveness' appears twice"), "%s", err.msg);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"heartbeat\": {\"liveness\": 5}, \"heartbeat\": {\"interval\": \"1s\"}}");
    ck_assert_int_eq(cmk_config_load_json(c, j, "dup.json", &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "'heartbeat' appears twice"), "%s", err.msg);
    cJSON_Delete(j);
    cmk_config_destroy(&c);
}
END_TEST

START_TEST(test_file_and_set)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_config *c = cmk_config_new("/tmp/x", &err);
    char path[] = "/tmp/cmk-config-test-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "{\n  \"clock\": {\"mode\": \"virtual\"},\n  \"heartbeat\": {\"liveness\": 7, \"interval\": \"1s\"}\n}\n";
    const char *bad = "{\n  \"clock\": {\"mode\": \"virtual\"},\n  \"heartbeat\": {\"liveness\": 7,, }\n}\n";
    char ep[4200];

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    ck_assert_int_eq(cmk_config_load_file(c, path, &err), 0);
    ck_assert_str_eq(c->clock_mode, "virtual");
    ck_assert_int_eq(c->heartbeat_liveness, 7);
    ck_assert_int_eq(c->heartbeat_interval, 1000);
    ck_assert_int_eq(cmk_config_set(c, "heartbeat.interval", "250ms", &err), 0);
    ck_assert_int_eq(c->heartbeat_interval, 250);
    ck_assert_str_eq(cmk_config_endpoint(c, c->controller_front, ep, sizeof ep),
                     "ipc:///tmp/x/controller-front.sock");
    /* a syntax error names the line */
    cmk_file_write_atomic(path, bad, strlen(bad), 0600, &err);
    ck_assert_int_eq(cmk_config_load_file(c, path, &err), CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, ":3:") != NULL, "no line number in '%s'", err.msg);
    unlink(path);
    ck_assert_int_eq(cmk_config_load_file(c, path, &err), CMK_ENOENT);
    cmk_config_destroy(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_relative_run_dir_made_absolute);
    tcase_add_test(tc, test_default_json_matches_table);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_ranges_refused_naming_the_range);
    tcase_add_test(tc, test_every_param_has_a_range_and_a_duplicate_is_an_error);
    tcase_add_test(tc, test_file_and_set);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
