/*
 * con_http.c - the console's HTTP server: token check, static files, the JSON API.
 */
#include "con_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "con_assets.h"
#include "con_token.h"
#include "log.h"
#include "tcp_listen.h"
#include "util.h"

#define COOKIE "cmk_console"
#define SNAPSHOT_WAIT_MS 3000 /* the first snapshot may take this long; later ones are ready */

struct con_http {
    struct MHD_Daemon *mhd;
    int lfd;
    char address[80];
    const char *token;
    con_world *world;
};

/* secure_headers - what every response carries */
static void secure_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

/* respond - a response from a buffer (copied) */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                               size_t len, const char *cookie)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    secure_headers(r);
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* respond_error - {"code": ..., "message": ...} */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, int code, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    char *text;
    enum MHD_Result ret;
    cJSON_AddStringToObject(j, "code", cmk_code_name(code));
    cJSON_AddStringToObject(j, "message", msg);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ret = respond(c, status, "application/json; charset=utf-8", text ? text : "{}", text ? strlen(text) : 2, NULL);
    free(text);
    return ret;
}

/* unauthorized - 401 with a line that says what to do */
static enum MHD_Result unauthorized(struct MHD_Connection *c)
{
    static const char body[] =
        "<!doctype html><meta charset=utf-8><title>cmksim console: 401</title>"
        "<p>401: this console needs its token. Open the URL that <code>cmkctl up</code> printed "
        "(it ends with <code>?token=...</code>; the token is in <code>RUN_DIR/console.token</code>), "
        "or send <code>Authorization: Bearer TOKEN</code>.</p>\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"cmksim console\"");
    secure_headers(r);
    ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
    MHD_destroy_response(r);
    return ret;
}

/* redirect_with_cookie - the token came in the query: set the cookie, drop it from the URL */
static enum MHD_Result redirect_with_cookie(con_http *self, struct MHD_Connection *c, const char *url)
{
    char cookie[160];
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", self->token);
    MHD_add_response_header(r, "Set-Cookie", cookie);
    MHD_add_response_header(r, "Location", url[0] == '/' ? url : "/");
    secure_headers(r);
    ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
    MHD_destroy_response(r);
    return ret;
}

/* serve_world - the snapshot */
static enum MHD_Result serve_world(con_http *self, struct MHD_Connection *c)
{
    cmk_err err = CMK_ERR_INIT;
    char *text = con_world_snapshot(self->world, SNAPSHOT_WAIT_MS, &err);
    enum MHD_Result ret;
    if (!text)
        return respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err.code, err.msg);
    ret = respond(c, MHD_HTTP_OK, "application/json; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return ret;
}

/* serve_report - one drill report */
static enum MHD_Result serve_report(con_http *self, struct MHD_Connection *c, const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    char *text = NULL;
    size_t len = 0;
    enum MHD_Result ret;
    int rc = con_world_report(self->world, name, &text, &len, &err);
    size_t n = strlen(name);
    if (rc < 0)
        return respond_error(c, rc == CMK_ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST, rc, err.msg);
    ret = respond(c, MHD_HTTP_OK,
                  n > 5 && strcmp(name + n - 5, ".json") == 0 ? "application/json; charset=utf-8"
                                                              : "text/plain; charset=utf-8",
                  text, len, NULL);
    free(text);
    return ret;
}

/* on_request - authenticate, then route */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
    con_http *self = cls;
    const char *q, *cookie, *bearer;
    const con_asset *a;

    if (*upload_len) { /* GET only: drop any body */
        *upload_len = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, CMK_EINVAL,
                             "the console is read-only: GET and HEAD only");
    q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (q) {
        if (!con_token_equal(self->token, q)) {
            cmk_log(CMK_LOG_WARN, NULL, NULL, "console.refused", "url=%s reason=\"wrong token in the query\"", url);
            return unauthorized(c);
        }
        return redirect_with_cookie(self, c, url);
    }
    cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    bearer = con_token_bearer(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
    if (!con_token_equal(self->token, cookie) && !con_token_equal(self->token, bearer))
        return unauthorized(c);
    if (strcmp(url, "/api/world") == 0)
        return serve_world(self, c);
    if (strncmp(url, "/api/reports/", 13) == 0)
        return serve_report(self, c, url + 13);
    if (strcmp(url, "/api/health") == 0)
        return respond(c, MHD_HTTP_OK, "application/json; charset=utf-8", "{\"ok\":true}", 11, NULL);
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    if (url[0] == '/' && (a = con_asset_find(url + 1)))
        return respond(c, MHD_HTTP_OK, con_asset_type(a->name), a->data, a->len, NULL);
    return respond_error(c, MHD_HTTP_NOT_FOUND, CMK_ENOENT, "no such page in the console");
}

/* con_http_listen - listen only (nothing served yet) */
con_http *con_http_listen(const char *addr, const char *token, cmk_err *err)
{
    con_http *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->token = token;
    if ((self->lfd = cmk_tcp_listen(addr, "console.listen", 64, self->address, sizeof self->address, err)) < 0) {
        free(self);
        return NULL;
    }
    return self;
}

/* con_http_serve - start libmicrohttpd on the listening socket */
int con_http_serve(con_http *self, con_world *world, cmk_err *err)
{
    self->world = world;
    self->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                 on_request, self, MHD_OPTION_LISTEN_SOCKET, self->lfd,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                 MHD_OPTION_END);
    if (!self->mhd)
        return cmk_err_set(err, CMK_EIO, "cannot start the console's HTTP server on %s", self->address);
    return 0;
}

/* con_http_new - listen and serve */
con_http *con_http_new(const char *addr, const char *token, con_world *world, cmk_err *err)
{
    con_http *self = con_http_listen(addr, token, err);
    if (self && con_http_serve(self, world, err) < 0)
        con_http_destroy(&self);
    return self;
}

/* con_http_destroy - stop */
void con_http_destroy(con_http **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->mhd)
        MHD_stop_daemon((*self_p)->mhd); /* closes the listening socket too */
    else if ((*self_p)->lfd >= 0)
        close((*self_p)->lfd);
    free(*self_p);
    *self_p = NULL;
}

/* con_http_address - bound address */
const char *con_http_address(const con_http *self)
{
    return self->address;
}
