/*
 * fw_nft_test.c - nftables rendering and libnftables application (firewall/fw_nft.h).
 *
 * Every shipped config is rendered and validated by libnftables (dry run). Then, in a child
 * that creates its own user and network namespace (no root needed), rulesets are applied for
 * real, listed back, and exercised with loopback TCP connections: allowed sources connect,
 * rejected ones get ECONNREFUSED, dropped ones get no answer. Without namespaces that test is
 * skipped with a printed reason.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fw_nft.h"

#define SIM_TAGS CMK_SOURCE_DIR "/configs/service-tags.json"
#define FIREWALLS CMK_SOURCE_DIR "/configs/firewalls/"

static const char *const shipped[] = { "legacy-only.json", "with-plex.json", "drop-default.json",
                                       "wrong-region.json", "report-mode.json", NULL };

static fw_servicetags *tags; /* the simulation's service tags */

/* setup - load the simulation's service tags */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    tags = fw_servicetags_load(SIM_TAGS, &err);
    ck_assert_msg(tags != NULL, "%s", err.msg);
}

/* teardown - free them */
static void teardown(void)
{
    fw_servicetags_destroy(&tags);
}

/* render_file - render a shipped config, or fail */
static char *render_file(const char *name)
{
    char path[512], *text;
    cmk_err err = CMK_ERR_INIT;
    snprintf(path, sizeof path, FIREWALLS "%s", name);
    fw_config *cfg = fw_config_load(path, tags, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert_msg(fw_nft_render(cfg, NULL, &text, &err) == 0, "%s", err.msg);
    fw_config_destroy(&cfg);
    return text;
}

/* write_file - write text to a /proc file; -1 on failure */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A body run inside the namespace: 0 pass, 1 fail; msg says why. */
typedef int (*ns_body)(void *arg, char *msg, size_t n);

/* in_namespace - run body in a child inside a new user+network namespace. Returns 0 pass,
 * 1 fail, 2 namespaces unavailable; msg receives the child's explanation. */
static int in_namespace(ns_body body, void *arg, char *msg, size_t n)
{
    int fds[2];
    uid_t uid = getuid();
    gid_t gid = getgid();
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char out[1024] = "", map[64];
        int code = 2;
        close(fds[0]);
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
            snprintf(out, sizeof out, "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s", strerror(errno));
        } else if (write_file("/proc/self/setgroups", "deny") < 0) {
            snprintf(out, sizeof out, "writing /proc/self/setgroups: %s", strerror(errno));
        } else if (snprintf(map, sizeof map, "0 %u 1", (unsigned)uid),
                   write_file("/proc/self/uid_map", map) < 0) {
            snprintf(out, sizeof out, "writing uid_map: %s", strerror(errno));
        } else if (snprintf(map, sizeof map, "0 %u 1", (unsigned)gid),
                   write_file("/proc/self/gid_map", map) < 0) {
            snprintf(out, sizeof out, "writing gid_map: %s", strerror(errno));
        } else {
            code = body(arg, out, sizeof out);
        }
        if (write(fds[1], out, strlen(out)) < 0)
            code = 1;
        _exit(code);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fds[0], msg + got, n - 1 - got)) > 0)
        got += (size_t)r;
    msg[got] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "namespace child died (signal %d)", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* validate_body - dry-run a ruleset inside the namespace */
static int validate_body(void *arg, char *msg, size_t n)
{
    cmk_err err = CMK_ERR_INIT;
    if (fw_nft_apply(arg, true, &err) < 0) {
        snprintf(msg, n, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* validate - dry-run through libnftables; without CAP_NET_ADMIN, inside a namespace */
static void validate(const char *name, const char *text)
{
    cmk_err err = CMK_ERR_INIT;
    char msg[1024];
    int rc = fw_nft_apply(text, true, &err);
    if (rc == CMK_EPERM) {
        rc = in_namespace(validate_body, (void *)text, msg, sizeof msg);
        if (rc == 2) {
            printf("SKIP validating %s: no CAP_NET_ADMIN and %s\n", name, msg);
            return;
        }
        ck_assert_msg(rc == 0, "%s: %s", name, msg);
        return;
    }
    ck_assert_msg(rc == 0, "%s: %s\n%s", name, err.msg, text);
}

START_TEST(shipped_configs_render_and_validate)
{
    for (size_t i = 0; shipped[i]; i++) {
        char *text = render_file(shipped[i]);
        ck_assert_ptr_nonnull(strstr(text, "table inet cmksim_fw {"));
        ck_assert_ptr_nonnull(strstr(text, "flags interval"));
        ck_assert_ptr_nonnull(strstr(text, "ct state established,related accept"));
        ck_assert_ptr_nonnull(strstr(text, "ip saddr @r1_v4 counter accept comment \"rule 1: logic-apps\""));
        ck_assert_ptr_nonnull(strstr(text, "127.10.1.0/24"));
        validate(shipped[i], text);
        free(text);
    }
}
END_TEST

START_TEST(defaults_and_report_mode_render_as_documented)
{
    char *text = render_file("legacy-only.json");
    ck_assert_ptr_nonnull(strstr(text, "policy drop;"));
    ck_assert_ptr_nonnull(strstr(text, "meta l4proto tcp counter reject with tcp reset comment \"default\""));
    ck_assert_ptr_null(strstr(text, "127.40.1.0/24"));
    free(text);
    text = render_file("with-plex.json");
    ck_assert_ptr_nonnull(strstr(text, "set r4_v4"));
    ck_assert_ptr_nonnull(strstr(text, "127.40.1.0/24"));
    free(text);
    text = render_file("drop-default.json");
    ck_assert_ptr_nonnull(strstr(text, "counter drop comment \"default\""));
    ck_assert_ptr_null(strstr(text, "reject"));
    free(text);
    text = render_file("report-mode.json");
    ck_assert_ptr_nonnull(strstr(text, "policy accept;"));
    ck_assert_ptr_nonnull(strstr(text, "log prefix \"cmksim_fw would_reject rule=default \" accept"));
    ck_assert_ptr_null(strstr(text, " drop"));
    ck_assert_ptr_null(strstr(text, "reject with"));
    free(text);
}
END_TEST

START_TEST(ports_ipv6_any_and_reject_render_and_validate)
{
    const char *src =
        "{\"name\": \"mixed\", \"default\": \"allow\", \"rules\": [\n"
        "  {\"name\": \"r-web\", \"action\": \"reject\", \"source\": [\"10.0.0.0/8\", \"2603:1000::/40\"], \"port\": [80, \"8000-8100\"]},\n"
        "  {\"name\": \"r-any\", \"action\": \"reject\", \"source\": \"192.168.0.0/16\"},\n"
        "  {\"name\": \"d-v6\", \"action\": \"drop\", \"source\": \"2001:db8::/32\", \"port\": 443},\n"
        "  {\"name\": \"everyone-ssh\", \"action\": \"allow\", \"source\": \"any\", \"port\": 22}\n"
        "]}";
    cmk_err err = CMK_ERR_INIT;
    fw_config *cfg = fw_config_parse(src, strlen(src), "mixed.json", NULL, 0, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    fw_nft_opts opts;
    fw_nft_opts_default(&opts);
    opts.table = "cmksim_test";
    char *text;
    ck_assert_msg(fw_nft_render(cfg, &opts, &text, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(text, "table inet cmksim_test {"));
    ck_assert_ptr_nonnull(strstr(text, "set r1_v6"));
    ck_assert_ptr_nonnull(strstr(text, "type ipv6_addr"));
    ck_assert_ptr_nonnull(strstr(text, "ip saddr @r1_v4 tcp dport { 80, 8000-8100 } counter reject with tcp reset"));
    ck_assert_ptr_nonnull(strstr(text, "ip6 saddr @r1_v6 tcp dport { 80, 8000-8100 } counter reject with tcp reset"));
    ck_assert_ptr_nonnull(strstr(text, "ip saddr @r2_v4 meta l4proto tcp counter reject with tcp reset"));
    ck_assert_ptr_nonnull(strstr(text, "ip saddr @r2_v4 counter reject comment"));
    ck_assert_ptr_nonnull(strstr(text, "ip6 saddr @r3_v6 tcp dport 443 counter drop"));
    ck_assert_ptr_null(strstr(text, "r3_v4"));
    ck_assert_ptr_nonnull(strstr(text, "tcp dport 22 counter accept comment \"rule 4: everyone-ssh\""));
    ck_assert_ptr_nonnull(strstr(text, "policy accept;"));
    validate("mixed", text);
    free(text);
    /* bad options and unresolved configs are refused */
    opts.table = "bad name;";
    ck_assert_int_eq(fw_nft_render(cfg, &opts, &text, &err), CMK_EINVAL);
    fw_config_destroy(&cfg);
    src = "{\"default\": \"reject\", \"rules\": [{\"action\": \"allow\", \"source\": {\"tag\": \"LogicApps\"}}]}";
    cfg = fw_config_parse(src, strlen(src), "t.json", NULL, FW_CONFIG_UNRESOLVED_OK, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(fw_nft_render(cfg, NULL, &text, &err), CMK_ESTATE);
    fw_config_destroy(&cfg);
}
END_TEST

START_TEST(nftables_errors_reach_the_caller)
{
    cmk_err err = CMK_ERR_INIT;
    int rc = fw_nft_apply("table inet cmksim_bad {\n\tchain input {\n\t\tip saddr 10.0.0.0/33 accept\n\t}\n}\n", true, &err);
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(err.msg, "nftables"), "%s", err.msg);
    ck_assert_msg(rc == CMK_EPERM || strstr(err.msg, "refused the ruleset"), "%s", err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
}
END_TEST

/* lo_up - bring the namespace's loopback interface up */
static int lo_up(char *msg, size_t n)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
        snprintf(msg, n, "bringing lo up: %s", strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return 0;
}

/* Outcomes of one TCP connection attempt. */
enum { CONN_OK = 0, CONN_REFUSED = 1, CONN_NO_ANSWER = 2, CONN_OTHER = 3 };

/* try_connect - connect from src to 127.0.0.1:port; wait_ms bounds waiting for an answer */
static int try_connect(const char *src, uint16_t port, int wait_ms)
{
    struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), rc = CONN_OTHER, soerr = 0;
    socklen_t len = sizeof soerr;
    inet_pton(AF_INET, src, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(port);
    if (s < 0 || bind(s, (struct sockaddr *)&from, sizeof from) < 0)
        goto out;
    if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) {
        rc = CONN_OK;
        goto out;
    }
    if (errno == ECONNREFUSED) {
        rc = CONN_REFUSED;
        goto out;
    }
    if (errno != EINPROGRESS)
        goto out;
    struct pollfd pfd = { s, POLLOUT, 0 };
    int pr = poll(&pfd, 1, wait_ms);
    if (pr == 0) {
        rc = CONN_NO_ANSWER;
        goto out;
    }
    getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len);
    rc = soerr == 0 ? CONN_OK : soerr == ECONNREFUSED ? CONN_REFUSED : CONN_OTHER;
out:
    if (s >= 0)
        close(s);
    return rc;
}

/* The rulesets applied by apply_body, rendered in the parent. */
typedef struct {
    const char *with_plex;   /* with-plex.json */
    const char *legacy_only; /* legacy-only.json */
    const char *drop;        /* drop-default.json */
    const char *report;      /* report-mode.json */
} rulesets;

/* expect - one connection outcome or a failure message */
static int expect(const char *what, const char *src, uint16_t port, int want, int wait_ms,
                  char *msg, size_t n)
{
    static const char *const names[] = { "connected", "refused", "no answer", "other error" };
    int got = try_connect(src, port, wait_ms);
    if (got == want)
        return 0;
    snprintf(msg, n, "%s: from %s expected %s, got %s", what, src, names[want], names[got]);
    return -1;
}

/* apply_body - apply rulesets for real, list them back, and send loopback traffic */
static int apply_body(void *arg, char *msg, size_t n)
{
    const rulesets *rs = arg;
    cmk_err err = CMK_ERR_INIT;
    char *listing = NULL;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t alen = sizeof addr;
    int ls;

    if (lo_up(msg, n) < 0)
        return 1;
    if (fw_nft_apply(rs->with_plex, false, &err) < 0) {
        snprintf(msg, n, "apply with-plex: %s", err.msg);
        return 1;
    }
    if (fw_nft_list_table("cmksim_fw", &listing, &err) < 0) {
        snprintf(msg, n, "list: %s", err.msg);
        return 1;
    }
    if (!strstr(listing, "127.40.1.0/24") || !strstr(listing, "reject with tcp reset") ||
        !strstr(listing, "policy drop")) {
        snprintf(msg, n, "listing lacks the rules:\n%s", listing);
        free(listing);
        return 1;
    }
    free(listing);

    ls = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) < 0) {
        snprintf(msg, n, "listening on loopback: %s", strerror(errno));
        return 1;
    }
    uint16_t port = ntohs(addr.sin_port);
    if (expect("with-plex, PowerPlatformPlex.WestUS", "127.40.1.5", port, CONN_OK, 5000, msg, n) ||
        expect("with-plex, LogicApps.WestUS", "127.10.1.5", port, CONN_OK, 5000, msg, n) ||
        expect("with-plex, PowerPlatformPlex.EastUS", "127.40.2.5", port, CONN_REFUSED, 5000, msg, n))
        return 1;
    /* replacing the table with legacy-only: CMK egress is refused */
    if (fw_nft_apply(rs->legacy_only, false, &err) < 0) {
        snprintf(msg, n, "apply legacy-only: %s", err.msg);
        return 1;
    }
    if (expect("legacy-only, PowerPlatformPlex.WestUS", "127.40.1.6", port, CONN_REFUSED, 5000, msg, n) ||
        expect("legacy-only, AzureConnectors.WestUS", "127.30.1.6", port, CONN_OK, 5000, msg, n))
        return 1;
    /* default drop: no answer at all (the client would time out) */
    if (fw_nft_apply(rs->drop, false, &err) < 0) {
        snprintf(msg, n, "apply drop-default: %s", err.msg);
        return 1;
    }
    if (expect("drop-default, PowerPlatformPlex.WestUS", "127.40.1.7", port, CONN_NO_ANSWER, 300, msg, n))
        return 1;
    /* report mode: everything connects */
    if (fw_nft_apply(rs->report, false, &err) < 0) {
        snprintf(msg, n, "apply report-mode: %s", err.msg);
        return 1;
    }
    if (expect("report-mode, PowerPlatformPlex.WestUS", "127.40.1.8", port, CONN_OK, 5000, msg, n))
        return 1;
    close(ls);
    return 0;
}

START_TEST(faults_render_as_their_own_table)
{
    cmk_err err = CMK_ERR_INIT;
    char *t = NULL;
    ck_assert_int_eq(fw_nft_render_fault("reset", 18080, &t, &err), 0);
    ck_assert_msg(strstr(t, "table inet cmksim_fault {") && strstr(t, "hook input priority -10;") &&
                  strstr(t, "tcp dport 18080 tcp flags & (syn | rst) == 0 counter reject with tcp reset"), "%s", t);
    free(t);
    ck_assert_int_eq(fw_nft_render_fault("timeout", 18080, &t, &err), 0);
    ck_assert_msg(strstr(t, "tcp dport 18080 counter drop comment \"fault timeout\""), "%s", t);
    free(t);
    ck_assert_int_eq(fw_nft_render_fault("none", 18080, &t, &err), 0);
    ck_assert_str_eq(t, "add table inet cmksim_fault\ndelete table inet cmksim_fault\n");
    free(t);
    ck_assert_int_eq(fw_nft_render_fault("latency", 18080, &t, &err), CMK_EINVAL);
    ck_assert_int_eq(fw_nft_render_fault("reset", 0, &t, &err), CMK_EINVAL);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(rulesets_apply_in_a_private_namespace_and_enforce)
{
    rulesets rs = { render_file("with-plex.json"), render_file("legacy-only.json"),
                    render_file("drop-default.json"), render_file("report-mode.json") };
    char msg[2048];
    int rc = in_namespace(apply_body, &rs, msg, sizeof msg);
    free((char *)rs.with_plex);
    free((char *)rs.legacy_only);
    free((char *)rs.drop);
    free((char *)rs.report);
    if (rc == 2) {
        printf("SKIP rulesets_apply_in_a_private_namespace_and_enforce: user+network namespaces "
               "unavailable: %s\n", msg);
        return;
    }
    ck_assert_msg(rc == 0, "%s", msg);
}
END_TEST

/* fw_nft_suite - every test of this module */
static Suite *fw_nft_suite(void)
{
    Suite *s = suite_create("fw_nft");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shipped_configs_render_and_validate);
    tcase_add_test(tc, defaults_and_report_mode_render_as_documented);
    tcase_add_test(tc, ports_ipv6_any_and_reject_render_and_validate);
    tcase_add_test(tc, nftables_errors_reach_the_caller);
    tcase_add_test(tc, faults_render_as_their_own_table);
    tcase_add_test(tc, rulesets_apply_in_a_private_namespace_and_enforce);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(fw_nft_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
