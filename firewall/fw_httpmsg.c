/*
 * fw_httpmsg.c - request heads, responses and the echo document (see fw_httpmsg.h).
 */
#include "fw_httpmsg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* find_crlf2 - offset just past "\r\n\r\n" in buf, or 0 */
static size_t find_crlf2(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* add_header - one header into the object, joining repeats */
static void add_header(cJSON *h, const char *name, const char *value)
{
    cJSON *old = cJSON_GetObjectItem(h, name);
    if (cJSON_IsString(old)) {
        size_t n = strlen(old->valuestring) + strlen(value) + 3;
        char *j = malloc(n);
        if (j) {
            snprintf(j, n, "%s, %s", old->valuestring, value);
            cJSON_ReplaceItemInObject(h, name, cJSON_CreateString(j));
            free(j);
        }
    } else
        cJSON_AddStringToObject(h, name, value);
}

/* parse_line - the request line "METHOD target HTTP/1.x" */
static int parse_line(const char *line, fw_http_req *r, cmk_err *err)
{
    char method[32], target[2100], version[16];
    char *q;
    if (sscanf(line, "%31s %2099s %15s", method, target, version) != 3 ||
        strlen(method) >= sizeof r->method || strlen(target) >= sizeof r->target ||
        strncmp(version, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)version[7]))
        return cmk_err_set(err, CMK_EINVAL, "bad request line");
    for (const char *p = method; *p; p++)
        if (!isupper((unsigned char)*p))
            return cmk_err_set(err, CMK_EINVAL, "bad method");
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->target, sizeof r->target, "%s", target);
    snprintf(r->path, sizeof r->path, "%s", target);
    r->query[0] = '\0';
    if ((q = strchr(r->path, '?'))) {
        snprintf(r->query, sizeof r->query, "%s", q + 1);
        *q = '\0';
    }
    r->minor = version[7] - '0';
    return 0;
}

/* fw_http_parse - the head of a request */
int fw_http_parse(const char *buf, size_t len, fw_http_req *out, cmk_err *err)
{
    size_t end = find_crlf2(buf, len < FW_HTTP_MAX_HEAD ? len : FW_HTTP_MAX_HEAD);
    char *head, *line, *save = NULL;
    const cJSON *conn;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!end)
        return len >= FW_HTTP_MAX_HEAD ? cmk_err_set(err, CMK_ELIMIT, "request head too large") : 1;
    if (!(head = strndup(buf, end)) || !(out->headers = cJSON_CreateObject())) {
        free(head);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    out->head_len = end;
    line = strtok_r(head, "\r\n", &save);
    rc = line ? parse_line(line, out, err) : cmk_err_set(err, CMK_EINVAL, "empty request");
    while (rc == 0 && (line = strtok_r(NULL, "\r\n", &save))) {
        char *colon = strchr(line, ':'), *v;
        if (!colon || colon == line) {
            rc = cmk_err_set(err, CMK_EINVAL, "bad header line");
            break;
        }
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        add_header(out->headers, line, v);
        if (!strcasecmp(line, "Content-Length")) {
            char *e;
            unsigned long long n = strtoull(v, &e, 10);
            if (*e || e == v)
                rc = cmk_err_set(err, CMK_EINVAL, "bad Content-Length");
            else if (n > FW_HTTP_MAX_BODY)
                rc = cmk_err_set(err, CMK_ELIMIT, "request body too large");
            else
                out->content_length = (size_t)n;
        } else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked"))
            out->chunked = true;
        else if (!strcasecmp(line, "Expect") && !strcasecmp(v, "100-continue"))
            out->expect_continue = true;
    }
    free(head);
    conn = cJSON_GetObjectItem(out->headers, "Connection");
    out->keep_alive = out->minor >= 1;
    if (cJSON_IsString(conn)) {
        if (strcasestr(conn->valuestring, "close"))
            out->keep_alive = false;
        else if (strcasestr(conn->valuestring, "keep-alive"))
            out->keep_alive = true;
    }
    if (rc < 0)
        fw_http_req_clear(out);
    return rc;
}

/* fw_http_req_clear - free the headers */
void fw_http_req_clear(fw_http_req *r)
{
    cJSON_Delete(r->headers);
    r->headers = NULL;
}

/* fw_http_reason - reason phrase */
const char *fw_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* fw_http_response - a whole response */
char *fw_http_response(int status, const char *content_type, const char *body, size_t body_len,
                       bool keep_alive, const char *const *extra, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f)
        return NULL;
    fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n"
               "Server: cmksim-customer-endpoint\r\n",
            status, fw_http_reason(status), content_type, body_len, keep_alive ? "keep-alive" : "close");
    for (size_t i = 0; extra && extra[i]; i++)
        fprintf(f, "%s\r\n", extra[i]);
    fputs("\r\n", f);
    if (body_len)
        fwrite(body, 1, body_len, f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    *len = n;
    return text;
}

/* hexval - one hex digit's value or -1 */
static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* unescape - percent-decoding with '+' as space, in place */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else
            *o++ = *s == '+' ? ' ' : *s;
    }
    *o = '\0';
}

/* args_json - the query string as {name: value} */
static cJSON *args_json(const char *query)
{
    cJSON *a = cJSON_CreateObject();
    char *q = strdup(query), *save = NULL;
    for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = '\0';
        unescape(kv);
        if (eq)
            unescape(eq);
        add_header(a, kv, eq ? eq : "");
    }
    free(q);
    return a;
}

/* fw_http_echo - the echo document */
char *fw_http_echo(const fw_http_req *r, const char *body, size_t body_len, const char *peer_ip,
                   int peer_port, const char *endpoint, cJSON *firewall)
{
    cJSON *j = cJSON_CreateObject();
    size_t shown = body_len > FW_HTTP_ECHO_MAX ? FW_HTTP_ECHO_MAX : body_len;
    char *b = strndup(body ? body : "", shown), peer[80], *text;

    cJSON_AddStringToObject(j, "method", r->method);
    cJSON_AddStringToObject(j, "url", r->target);
    cJSON_AddStringToObject(j, "path", r->path);
    cJSON_AddItemToObject(j, "args", args_json(r->query));
    cJSON_AddItemToObject(j, "headers", cJSON_Duplicate(r->headers, 1));
    cJSON_AddStringToObject(j, "body", b ? b : "");
    cJSON_AddBoolToObject(j, "body_truncated", shown < body_len);
    cJSON_AddStringToObject(j, "origin", peer_ip);
    snprintf(peer, sizeof peer, "%s:%d", peer_ip, peer_port);
    cJSON_AddStringToObject(j, "peer", peer);
    cJSON_AddStringToObject(j, "endpoint", endpoint);
    cJSON_AddItemToObject(j, "firewall", firewall ? firewall : cJSON_CreateObject());
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    free(b);
    return text;
}
