/*
 * con_http.h - the console's HTTP server (libmicrohttpd, its own threads) on console.listen
 * (loopback by default). Every request needs the token (con_token.h): ?token=T once (answered
 * with the HttpOnly SameSite=Strict cookie and a redirect to the same page without it), then
 * the cookie, or "Authorization: Bearer T". Anything else gets 401. GET and HEAD only.
 *
 *   GET /                     the page (console/www/index.html, embedded at build time)
 *   GET /<asset>              style.css, app.js, ... from console/www/
 *   GET /api/world            the snapshot (con_world.h), JSON
 *   GET /api/reports/<name>   one drill report, as text
 *   GET /api/health           {"ok": true}
 *
 * Responses carry a Content-Security-Policy that allows only the console's own scripts and
 * styles (nothing from elsewhere: it works offline), no-store, nosniff and DENY framing.
 */
#ifndef CMK_CON_HTTP_H
#define CMK_CON_HTTP_H

#include "con_world.h"
#include "err.h"

typedef struct con_http con_http;

/* con_http_new - listen on addr ("host:port", port 0 picks one) and serve; token and world are
 * borrowed and must outlive the server */
con_http *con_http_new(const char *addr, const char *token, con_world *world, cmk_err *err);

/* con_http_listen - listen on addr only (port 0 picks one); con_http_serve starts serving.
 * Two steps so the console can confine itself in between, before any thread starts. */
con_http *con_http_listen(const char *addr, const char *token, cmk_err *err);

/* con_http_serve - serve on the listening socket; world is borrowed */
int con_http_serve(con_http *self, con_world *world, cmk_err *err);

/* con_http_destroy - stop serving (NULL is fine) and null the caller's pointer */
void con_http_destroy(con_http **self_p);

/* con_http_address - the bound "host:port" */
const char *con_http_address(const con_http *self);

#endif
