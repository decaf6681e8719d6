/*
 * console_test.c - Check suite for console/: the access token (made once, 0600, kept, replaced
 * when damaged, compared exactly), the listen address with a kept port, bearer headers, the
 * time parser of the runs chart, the embedded page, drill reports served by name only, and
 * the HTTP server's 401 for a request without the token (real libmicrohttpd on loopback).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console/con_assets.h"
#include "console/con_http.h"
#include "console/con_token.h"
#include "console/con_world.h"
#include "console/console.h"
#include "common/util.h"

/* tmpdir - a fresh temporary directory */
static char *tmpdir(char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/cmkcon.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(buf));
    return buf;
}

/* CONSOLE-1: the token is made once with mode 0600 and kept across restarts */
START_TEST(token_made_once_0600_and_kept)
{
    char dir[64], path[128], t1[CON_TOKEN_LEN + 1], t2[CON_TOKEN_LEN + 1];
    cmk_err err = CMK_ERR_INIT;
    struct stat sb;

    tmpdir(dir, sizeof dir);
    ck_assert_int_eq(con_token_ensure(dir, t1, sizeof t1, &err), 0);
    ck_assert_uint_eq(strlen(t1), CON_TOKEN_LEN);
    ck_assert_int_eq(stat(con_token_path(dir, path, sizeof path), &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(con_token_ensure(dir, t2, sizeof t2, &err), 0);
    ck_assert_str_eq(t1, t2);
    /* a damaged file is replaced by a new token */
    ck_assert_int_eq(cmk_file_write_atomic(path, "short\n", 6, 0600, &err), 0);
    ck_assert_int_eq(con_token_ensure(dir, t2, sizeof t2, &err), 0);
    ck_assert_uint_eq(strlen(t2), CON_TOKEN_LEN);
    ck_assert_str_ne(t1, t2);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* CONSOLE-1: only the exact token passes */
START_TEST(token_compared_exactly)
{
    char t[CON_TOKEN_LEN + 1], other[CON_TOKEN_LEN + 1];
    memset(t, 'a', CON_TOKEN_LEN);
    t[CON_TOKEN_LEN] = '\0';
    memcpy(other, t, sizeof t);
    other[CON_TOKEN_LEN - 1] = 'b';
    ck_assert(con_token_equal(t, t));
    ck_assert(!con_token_equal(t, other));
    ck_assert(!con_token_equal(t, "aaaa"));
    ck_assert(!con_token_equal(t, ""));
    ck_assert(!con_token_equal(t, NULL));
    ck_assert_str_eq(con_token_bearer("Bearer abc"), "abc");
    ck_assert_str_eq(con_token_bearer("bearer   abc"), "abc");
    ck_assert_ptr_null(con_token_bearer("Basic abc"));
    ck_assert_ptr_null(con_token_bearer(NULL));
}
END_TEST

/* the port of a previous run is kept when console.listen asks for any port on the same host */
START_TEST(listen_address_keeps_port)
{
    char out[64];
    console_listen_address("127.0.0.1:0", "127.0.0.1:41234\n", out, sizeof out);
    ck_assert_str_eq(out, "127.0.0.1:41234");
    console_listen_address("127.0.0.1:0", NULL, out, sizeof out);
    ck_assert_str_eq(out, "127.0.0.1:0");
    console_listen_address("127.0.0.1:8080", "127.0.0.1:41234\n", out, sizeof out);
    ck_assert_str_eq(out, "127.0.0.1:8080"); /* a fixed port wins */
    console_listen_address("127.0.0.2:0", "127.0.0.1:41234\n", out, sizeof out);
    ck_assert_str_eq(out, "127.0.0.2:0"); /* another host: no */
    console_listen_address("127.0.0.1:0", "127.0.0.1:junk", out, sizeof out);
    ck_assert_str_eq(out, "127.0.0.1:0");
}
END_TEST

/* the runs chart reads the workers' RFC 3339 start times */
START_TEST(parse_time)
{
    ck_assert_int_eq(con_world_parse_time("1970-01-01T00:00:01.250Z"), 1250);
    ck_assert_int_eq(con_world_parse_time("2026-12-06T18:10:08.373Z"), 1796580608373LL);
    ck_assert_int_eq(con_world_parse_time("2026-12-06T18:10:08Z"), 1796580608000LL);
    ck_assert_int_eq(con_world_parse_time("2026-12-06T18:10:08.3Z"), 1796580608300LL);
    ck_assert_int_eq(con_world_parse_time("yesterday"), -1);
    ck_assert_int_eq(con_world_parse_time(""), -1);
    ck_assert_int_eq(con_world_parse_time(NULL), -1);
}
END_TEST

/* the page is in the binary: no file lookup, no network */
START_TEST(assets_embedded)
{
    const con_asset *a = con_asset_find("index.html");
    ck_assert_ptr_nonnull(a);
    ck_assert(a->len > 100);
    ck_assert_ptr_nonnull(strstr((const char *)a->data, "/app.js"));
    ck_assert_ptr_nonnull(con_asset_find("app.js"));
    ck_assert_ptr_nonnull(con_asset_find("style.css"));
    ck_assert_ptr_null(con_asset_find("../CMakeLists.txt"));
    ck_assert_str_eq(con_asset_type("app.js"), "text/javascript; charset=utf-8");
    /* nothing from elsewhere: no http(s) URL in any asset but the SVG namespace */
    for (const con_asset *x = con_assets; x->name; x++) {
        const char *p = (const char *)x->data;
        while ((p = strstr(p, "http"))) {
            ck_assert_msg(strncmp(p, "http://www.w3.org/2000/svg", 26) == 0 ||
                              (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0),
                          "%s refers to %.40s", x->name, p);
            p += 4;
        }
    }
}
END_TEST

/* drill reports: by plain name, .md or .json, nothing outside the reports dir */
START_TEST(reports_by_name_only)
{
    char dir[64], path[128], *text = NULL;
    size_t len = 0;
    cmk_err err = CMK_ERR_INIT;
    con_world_opts o = { 0 };
    con_world *w;

    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/drill.md", dir);
    ck_assert_int_eq(cmk_file_write_atomic(path, "# drill\n", 8, 0644, &err), 0);
    o.run_dir = dir;
    o.key_path = "/nonexistent";
    o.reports_dir = dir;
    o.refresh_ms = 1000;
    w = con_world_new(&o, &err);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(con_world_report(w, "drill.md", &text, &len, &err), 0);
    ck_assert_str_eq(text, "# drill\n");
    free(text);
    ck_assert_int_eq(con_world_report(w, "../etc/passwd", &text, &len, &err), CMK_EINVAL);
    ck_assert_int_eq(con_world_report(w, ".hidden.md", &text, &len, &err), CMK_EINVAL);
    ck_assert_int_eq(con_world_report(w, "drill.txt", &text, &len, &err), CMK_EINVAL);
    ck_assert_int_eq(con_world_report(w, "missing.json", &text, &len, &err), CMK_ENOENT);
    con_world_destroy(&w);
    ck_assert_ptr_null(w);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* get - one HTTP/1.0 request to 127.0.0.1:port, the status code of the answer */
static int get(const char *addr, const char *request)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char buf[512] = { 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
    ssize_t n, got = 0;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    sa.sin_port = htons((uint16_t)atoi(strchr(addr, ':') + 1));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
    while ((n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0 && got < 12)
        got += n;
    close(fd);
    sscanf(buf, "HTTP/1.%*d %d", &code);
    return code;
}

/* CONSOLE-1: without the token every path is 401; with it the page is served */
START_TEST(http_needs_the_token)
{
    char dir[64], token[CON_TOKEN_LEN + 1], req[512];
    cmk_err err = CMK_ERR_INIT;
    con_world_opts o = { 0 };
    con_world *w;
    con_http *h;

    tmpdir(dir, sizeof dir);
    ck_assert_int_eq(con_token_ensure(dir, token, sizeof token, &err), 0);
    o.run_dir = dir;
    o.key_path = "/nonexistent";
    o.reports_dir = dir;
    o.refresh_ms = 1000;
    ck_assert_ptr_nonnull(w = con_world_new(&o, &err));
    h = con_http_new("127.0.0.1:0", token, w, &err);
    ck_assert_msg(h != NULL, "%s", err.msg);
    ck_assert_int_eq(get(con_http_address(h), "GET / HTTP/1.0\r\n\r\n"), 401);
    ck_assert_int_eq(get(con_http_address(h), "GET /api/health HTTP/1.0\r\n\r\n"), 401);
    ck_assert_int_eq(get(con_http_address(h), "GET /?token=00 HTTP/1.0\r\n\r\n"), 401);
    ck_assert_int_eq(get(con_http_address(h), "GET /app.js HTTP/1.0\r\nCookie: cmk_console=x\r\n\r\n"), 401);
    snprintf(req, sizeof req, "GET /?token=%s HTTP/1.0\r\n\r\n", token);
    ck_assert_int_eq(get(con_http_address(h), req), 303);
    snprintf(req, sizeof req, "GET / HTTP/1.0\r\nCookie: cmk_console=%s\r\n\r\n", token);
    ck_assert_int_eq(get(con_http_address(h), req), 200);
    snprintf(req, sizeof req, "GET /api/health HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n", token);
    ck_assert_int_eq(get(con_http_address(h), req), 200);
    snprintf(req, sizeof req, "DELETE /api/world HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n", token);
    ck_assert_int_eq(get(con_http_address(h), req), 405);
    con_http_destroy(&h);
    con_world_destroy(&w);
    snprintf(req, sizeof req, "%s/console.token", dir);
    unlink(req);
    rmdir(dir);
}
END_TEST

/* console_suite - every test above */
static Suite *console_suite(void)
{
    Suite *su = suite_create("console");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, token_made_once_0600_and_kept);
    tcase_add_test(tc, token_compared_exactly);
    tcase_add_test(tc, listen_address_keeps_port);
    tcase_add_test(tc, parse_time);
    tcase_add_test(tc, assets_embedded);
    tcase_add_test(tc, reports_by_name_only);
    tcase_add_test(tc, http_needs_the_token);
    suite_add_tcase(su, tc);
    return su;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(console_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
