/*
 * fw_netns_test.c - the project's own user+network namespace (firewall/fw_netns.h) with real
 * packets: the shipped configs rendered to nftables inside it refuse, drop and allow TCP
 * connections by source address; the kernel edge (firewall/fw_edge.h) serves the endpoints
 * inside it, counts, and swaps configs live. Also the nft counter parser.
 *
 * Hosts that allow no unprivileged user namespaces skip the namespace tests with a note,
 * unless CMK_REQUIRE_NETNS=1 is set (then they fail).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw_daemon.h"
#include "fw_edge.h"
#include "fw_netns.h"
#include "fw_nft.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"

/* new_ns - a namespace, or NULL when the host cannot make one (and that is allowed) */
static fw_netns *new_ns(void)
{
    cmk_err err = CMK_ERR_INIT;
    fw_netns *ns = fw_netns_new(&err);
    if (!ns) {
        const char *req = getenv("CMK_REQUIRE_NETNS");
        ck_assert_msg(!(req && *req == '1'), "no namespace: %s", err.msg);
        fprintf(stderr, "fw_netns_test: skipping, %s\n", err.msg);
    }
    return ns;
}

/* apply_shipped - render a shipped config and apply it inside ns */
static void apply_shipped(fw_netns *ns, const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    char path[512], *ruleset = NULL;
    fw_servicetags *tags = fw_servicetags_load(SIM_TAGS, &err);
    fw_config *cfg;

    snprintf(path, sizeof path, FIREWALLS "%s", name);
    cfg = fw_config_load(path, tags, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert_int_eq(fw_nft_render(cfg, NULL, &ruleset, &err), 0);
    ck_assert_msg(fw_netns_nft(ns, ruleset, false, NULL, &err) == 0, "%s", err.msg);
    free(ruleset);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&tags);
}

/* listener - a listening socket on 127.0.0.1:port inside ns */
static int listener(fw_netns *ns, int port)
{
    cmk_err err = CMK_ERR_INIT;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = fw_netns_socket(ns, AF_INET, SOCK_STREAM, 0, &err);
    ck_assert_msg(fd >= 0, "%s", err.msg);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    return fd;
}

/* client - a socket inside ns bound to src, connecting to 127.0.0.1:port; returns the fd and
 * the connect(2) errno in *e (EINPROGRESS when nonblocking) */
static int client(fw_netns *ns, const char *src, int port, int nonblock, int *e)
{
    cmk_err err = CMK_ERR_INIT;
    struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
    int fd = fw_netns_socket(ns, AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0, &err);
    ck_assert_msg(fd >= 0, "%s", err.msg);
    inet_pton(AF_INET, src, &from.sin_addr);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *e = connect(fd, (struct sockaddr *)&to, sizeof to) == 0 ? 0 : errno;
    return fd;
}

START_TEST(counters_are_parsed_by_rule)
{
    static const char listing[] =
        "table inet cmksim_fw {\n"
        "\tchain input {\n"
        "\t\tip saddr @r1_v4 counter packets 3 bytes 180 accept comment \"rule 1: logic-apps\"\n"
        "\t\tip6 saddr @r1_v6 counter packets 1 bytes 80 accept comment \"rule 1: logic-apps\"\n"
        "\t\tmeta l4proto tcp counter packets 2 bytes 120 reject with tcp reset comment \"default\"\n"
        "\t\tcounter packets 0 bytes 0 reject comment \"default\"\n"
        "\t}\n}\n";
    cJSON *c = fw_counters_parse(listing), *r1 = cJSON_GetArrayItem(c, 0), *d = cJSON_GetArrayItem(c, 1);
    ck_assert_int_eq(cJSON_GetArraySize(c), 2);
    ck_assert_int_eq(cJSON_GetObjectItem(r1, "rule")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(r1, "name")->valuestring, "logic-apps");
    ck_assert_int_eq(cJSON_GetObjectItem(r1, "packets")->valueint, 4);
    ck_assert_int_eq(cJSON_GetObjectItem(r1, "bytes")->valueint, 260);
    ck_assert_int_eq(cJSON_GetObjectItem(d, "rule")->valueint, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(d, "name")->valuestring, "default");
    ck_assert_int_eq(cJSON_GetObjectItem(d, "packets")->valueint, 2);
    cJSON_Delete(c);
    c = fw_counters_parse("");
    ck_assert_int_eq(cJSON_GetArraySize(c), 0);
    cJSON_Delete(c);
}
END_TEST

START_TEST(the_holder_owns_a_namespace_with_loopback_up)
{
    fw_netns *ns = new_ns();
    struct stat own, theirs;
    pid_t pid;
    int fd, e;
    if (!ns)
        return;
    pid = fw_netns_pid(ns);
    ck_assert_int_gt(pid, 0);
    ck_assert(fw_netns_alive(ns));
    ck_assert_int_eq(stat("/proc/self/ns/net", &own), 0);
    ck_assert_int_eq(stat(fw_netns_net_path(ns), &theirs), 0);
    ck_assert_uint_ne(own.st_ino, theirs.st_ino);
    ck_assert_uint_eq(theirs.st_ino, fw_netns_net_inode(ns));
    /* loopback is up inside: a listener there takes connections from any 127/8 source */
    fd = listener(ns, 18080);
    close(client(ns, "127.77.0.1", 18080, 0, &e));
    ck_assert_int_eq(e, 0);
    close(fd);
    fw_netns_destroy(&ns);
    ck_assert_ptr_null(ns);
    ck_assert_int_eq(kill(pid, 0), -1); /* the holder is gone and reaped */
    ck_assert_int_eq(errno, ESRCH);
}
END_TEST

START_TEST(legacy_only_refuses_plex_with_a_reset)
{
    fw_netns *ns = new_ns();
    int lfd, fd, e;
    if (!ns)
        return;
    apply_shipped(ns, "legacy-only.json");
    lfd = listener(ns, 18080);
    fd = client(ns, "127.40.1.9", 18080, 0, &e); /* PowerPlatformPlex.WestUS */
    ck_assert_msg(e == ECONNREFUSED, "PowerPlatformPlex got: %s", strerror(e));
    close(fd);
    fd = client(ns, "127.10.1.9", 18080, 0, &e); /* LogicApps.WestUS */
    ck_assert_msg(e == 0, "LogicApps got: %s", strerror(e));
    close(fd);
    fd = client(ns, "127.30.1.9", 18080, 0, &e); /* AzureConnectors.WestUS */
    ck_assert_int_eq(e, 0);
    close(fd);
    close(lfd);
    /* with PowerPlatformPlex.WestUS allowed, it connects */
    apply_shipped(ns, "with-plex.json");
    lfd = listener(ns, 18081);
    fd = client(ns, "127.40.1.9", 18081, 0, &e);
    ck_assert_msg(e == 0, "PowerPlatformPlex after with-plex: %s", strerror(e));
    close(fd);
    close(lfd);
    fw_netns_destroy(&ns);
}
END_TEST

START_TEST(drop_default_never_answers)
{
    fw_netns *ns = new_ns();
    struct pollfd p;
    int lfd, fd, e;
    char *out = NULL;
    cmk_err err = CMK_ERR_INIT;
    cJSON *counts, *it;
    double dropped = 0;

    if (!ns)
        return;
    apply_shipped(ns, "drop-default.json");
    lfd = listener(ns, 18080);
    fd = client(ns, "127.40.1.9", 18080, 1, &e);
    ck_assert_int_eq(e, EINPROGRESS);
    p = (struct pollfd){ fd, POLLOUT, 0 };
    ck_assert_int_eq(poll(&p, 1, 300), 0); /* no RST, no SYN-ACK: nothing at all */
    close(fd);
    ck_assert_int_eq(fw_netns_nft(ns, "list table inet cmksim_fw", false, &out, &err), 0);
    counts = fw_counters_parse(out);
    cJSON_ArrayForEach(it, counts) {
        if (cJSON_GetObjectItem(it, "rule")->valueint == 0)
            dropped = cJSON_GetObjectItem(it, "packets")->valuedouble;
    }
    ck_assert_msg(dropped >= 1, "%s", out);
    cJSON_Delete(counts);
    free(out);
    close(lfd);
    fw_netns_destroy(&ns);
}
END_TEST

START_TEST(bad_rulesets_are_refused_inside)
{
    fw_netns *ns = new_ns();
    cmk_err err = CMK_ERR_INIT;
    if (!ns)
        return;
    ck_assert_int_eq(fw_netns_nft(ns, "add table inet bad-name!", false, NULL, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "nftables"));
    fw_netns_destroy(&ns);
}
END_TEST

/* http_get - GET path over fd, everything the server sends until it closes (malloc'd) */
static char *http_get(int fd, const char *path)
{
    char req[256], *buf = calloc(1, 65536);
    size_t n = 0;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    ck_assert_int_gt(send(fd, req, strlen(req), MSG_NOSIGNAL), 0);
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no answer");
        r = recv(fd, buf + n, 65535 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return buf;
}

START_TEST(the_kernel_edge_serves_inside_and_swaps_configs)
{
    char dir[] = "/tmp/fw_netns_test.XXXXXX", state[256];
    fw_edge_opts o = { dir, "kernel", FIREWALLS "legacy-only.json", SIM_TAGS, 18080, NULL, NULL };
    cmk_err err = CMK_ERR_INIT;
    fw_edge *edge;
    cJSON *body, *reply = NULL, *st;
    char *resp;
    int fd, e;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(state, sizeof state, "%s/firewall/state.json", dir);
    edge = fw_edge_new(&o, &err);
    if (!edge) {
        const char *req = getenv("CMK_REQUIRE_NETNS");
        ck_assert_msg(!(req && *req == '1') && err.code == CMK_EPERM, "%s", err.msg);
        rmdir(dir);
        return;
    }
    ck_assert_str_eq(fw_edge_mode(edge), "kernel");
    ck_assert_int_eq(access(state, R_OK), 0);
    fd = client(fw_edge_netns(edge), "127.10.1.7", 18080, 0, &e);
    ck_assert_int_eq(e, 0);
    resp = http_get(fd, "/anything");
    ck_assert_msg(strstr(resp, "HTTP/1.1 200") && strstr(resp, "\"origin\":\"127.10.1.7\"") &&
                  strstr(resp, "X-Cmk-Firewall-Rule: 1:logic-apps"), "%s", resp);
    free(resp);
    close(fd);
    fd = client(fw_edge_netns(edge), "127.40.1.7", 18080, 0, &e);
    ck_assert_int_eq(e, ECONNREFUSED);
    close(fd);
    /* a drill flips the config live */
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "path", FIREWALLS "with-plex.json");
    ck_assert_msg(fw_daemon_request(edge, "firewall.apply", body, &reply, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cJSON_GetObjectItem(reply, "previous")->valuestring, "legacy-only");
    cJSON_Delete(reply);
    cJSON_Delete(body);
    fd = client(fw_edge_netns(edge), "127.40.1.7", 18080, 0, &e);
    ck_assert_int_eq(e, 0);
    resp = http_get(fd, "/anything");
    ck_assert_msg(strstr(resp, "X-Cmk-Firewall-Rule: 4:power-platform-plex"), "%s", resp);
    free(resp);
    close(fd);
    ck_assert_int_eq(fw_daemon_request(edge, "firewall.status", NULL, &st, &err), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(st, "mode")->valuestring, "kernel");
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(st, "counters")), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "config"), "name")->valuestring,
                     "with-plex");
    cJSON_Delete(st);
    fw_edge_destroy(&edge);
    ck_assert_int_eq(access(state, F_OK), -1); /* the gateway must not follow a dead edge */
    {
        char sub[300];
        snprintf(sub, sizeof sub, "%s/firewall", dir);
        rmdir(sub);
    }
    rmdir(dir);
}
END_TEST

/* fw_netns_suite - every test of this module */
static Suite *fw_netns_suite(void)
{
    Suite *s = suite_create("fw_netns");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, counters_are_parsed_by_rule);
    tcase_add_test(tc, the_holder_owns_a_namespace_with_loopback_up);
    tcase_add_test(tc, legacy_only_refuses_plex_with_a_reset);
    tcase_add_test(tc, drop_default_never_answers);
    tcase_add_test(tc, bad_rulesets_are_refused_inside);
    tcase_add_test(tc, the_kernel_edge_serves_inside_and_swaps_configs);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_netns_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
