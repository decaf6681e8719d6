/*
 * fw_httpmsg.h - just enough HTTP/1.1 for the simulated customer endpoints: parse a request
 * head, build a response, and the JSON echo the endpoints answer with. Pure functions.
 *
 *   fw_http_req r;
 *   int rc = fw_http_parse(buf, len, &r, &err);   // 1: need more bytes, 0: head complete
 *   ... body is buf[r.head_len .. r.head_len + r.content_length) ...
 *   fw_http_req_clear(&r);
 */
#ifndef CMK_FW_HTTPMSG_H
#define CMK_FW_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define FW_HTTP_MAX_HEAD (16 * 1024)   /* largest request head accepted */
#define FW_HTTP_MAX_BODY (1024 * 1024) /* largest request body accepted */
#define FW_HTTP_ECHO_MAX (64 * 1024)   /* request body bytes echoed back at most */

/* A parsed request head. */
typedef struct {
    char method[16];        /* "GET" */
    char target[2048];      /* "/anything/x?a=1" as sent */
    char path[2048];        /* "/anything/x" */
    char query[2048];       /* "a=1" (no '?'), "" if none */
    int minor;              /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    cJSON *headers;         /* {name: value}, repeated names joined with ", " */
    size_t head_len;        /* bytes of the request line, headers and blank line */
    size_t content_length;  /* Content-Length, 0 if absent */
    bool keep_alive;        /* the connection stays open after the response */
    bool expect_continue;   /* Expect: 100-continue */
    bool chunked;           /* Transfer-Encoding: chunked (not supported: 411) */
} fw_http_req;

/* fw_http_parse - parse a request head from buf; 0 when complete, 1 when more bytes are
 * needed, CMK_EINVAL (err says why) for a bad request or CMK_ELIMIT for an oversized one */
int fw_http_parse(const char *buf, size_t len, fw_http_req *out, cmk_err *err);

/* fw_http_req_clear - free what a parsed head holds (safe on a zeroed or cleared one) */
void fw_http_req_clear(fw_http_req *r);

/* fw_http_reason - "OK", "Not Found", ... ("Unknown" for others) */
const char *fw_http_reason(int status);

/* fw_http_response - status line, Content-Type/Length, Connection, extra "Name: value" lines
 * (NULL-terminated list, may be NULL), then body; malloc'd, length in *len */
char *fw_http_response(int status, const char *content_type, const char *body, size_t body_len,
                       bool keep_alive, const char *const *extra, size_t *len);

/* fw_http_echo - the JSON the endpoints answer /anything with: {method, url, path, args,
 * headers, body, body_truncated, origin, peer, endpoint, firewall}; firewall is taken over */
char *fw_http_echo(const fw_http_req *r, const char *body, size_t body_len, const char *peer_ip,
                   int peer_port, const char *endpoint, cJSON *firewall);

#endif
