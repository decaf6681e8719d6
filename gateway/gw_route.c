/*
 * gw_route.c - checking an http.request body and planning its egress (see gw_route.h).
 */
#include "gw_route.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* str_field - an optional string member copied into out; CMK_EINVAL if not a string */
static int str_field(const cJSON *body, const char *name, char *out, size_t n, int required,
                     cmk_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    out[0] = '\0';
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return cmk_err_set(err, CMK_EINVAL, "http.request needs \"%s\"", name);
        return 0;
    }
    if (!cJSON_IsString(v))
        return cmk_err_set(err, CMK_EINVAL, "http.request: \"%s\" must be a string", name);
    if (required && !v->valuestring[0])
        return cmk_err_set(err, CMK_EINVAL, "http.request: \"%s\" must not be empty", name);
    if (strlen(v->valuestring) >= n)
        return cmk_err_set(err, CMK_EINVAL, "http.request: \"%s\" is longer than %zu characters",
                           name, n - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* token_ok - an HTTP method or header name: RFC 7230 token characters */
static int token_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/* value_ok - a header value without CR, LF or NUL */
static int value_ok(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

/* check_headers - headers must be {token: string without CR/LF}; a copy into *out */
static int check_headers(const cJSON *h, cJSON **out, cmk_err *err)
{
    const cJSON *it;
    *out = cJSON_CreateObject();
    if (!h || cJSON_IsNull(h))
        return 0;
    if (!cJSON_IsObject(h))
        return cmk_err_set(err, CMK_EINVAL, "http.request: \"headers\" must be an object of "
                           "name: value strings");
    cJSON_ArrayForEach(it, h) {
        if (!token_ok(it->string) || strlen(it->string) > 200)
            return cmk_err_set(err, CMK_EINVAL, "http.request: \"%s\" is not a valid header name",
                               it->string);
        if (!cJSON_IsString(it) || !value_ok(it->valuestring) || strlen(it->valuestring) > 8000)
            return cmk_err_set(err, CMK_EINVAL, "http.request: header \"%s\" must be a string "
                               "without line breaks (at most 8000 characters)", it->string);
        cJSON_AddStringToObject(*out, it->string, it->valuestring);
    }
    return 0;
}

/* check_uri - an absolute http(s) URI without spaces or control characters */
static int check_uri(const char *uri, cmk_err *err)
{
    if (strncasecmp(uri, "http://", 7) != 0 && strncasecmp(uri, "https://", 8) != 0)
        return cmk_err_set(err, CMK_EINVAL, "http.request: \"uri\" must be an absolute http:// "
                           "or https:// URI, not \"%.200s\"", uri);
    for (const char *p = uri; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return cmk_err_set(err, CMK_EINVAL, "http.request: \"uri\" contains a space or a "
                               "control character; encode it");
    return 0;
}

/* gw_route_plan - body to job */
int gw_route_plan(const gw_tags *tags, const cJSON *body, int64_t default_timeout_ms,
                  gw_job **out, cmk_err *err)
{
    gw_job *j = calloc(1, sizeof *j);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(body, "body");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "timeout_ms");
    char method[32], uri[8192];
    int rc;

    *out = NULL;
    if (!j)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if ((rc = str_field(body, "env", j->env, sizeof j->env, 1, err)) < 0 ||
        (rc = str_field(body, "flow", j->flow, sizeof j->flow, 0, err)) < 0 ||
        (rc = str_field(body, "run", j->run, sizeof j->run, 0, err)) < 0 ||
        (rc = str_field(body, "action", j->action, sizeof j->action, 0, err)) < 0 ||
        (rc = str_field(body, "infrastructure", j->infrastructure, sizeof j->infrastructure, 1, err)) < 0 ||
        (rc = str_field(body, "region", j->region, sizeof j->region, 1, err)) < 0 ||
        (rc = str_field(body, "kind", j->kind, sizeof j->kind, 0, err)) < 0 ||
        (rc = str_field(body, "method", method, sizeof method, 0, err)) < 0 ||
        (rc = str_field(body, "uri", uri, sizeof uri, 1, err)) < 0)
        goto fail;
    if (!j->kind[0])
        snprintf(j->kind, sizeof j->kind, "http");
    if (!method[0])
        snprintf(method, sizeof method, "GET");
    for (char *p = method; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!token_ok(method)) {
        rc = cmk_err_set(err, CMK_EINVAL, "http.request: \"%s\" is not an HTTP method", method);
        goto fail;
    }
    if ((rc = check_uri(uri, err)) < 0 ||
        (rc = check_headers(cJSON_GetObjectItemCaseSensitive(body, "headers"), &j->headers, err)) < 0)
        goto fail;
    if (b && !cJSON_IsNull(b) && !cJSON_IsString(b)) {
        rc = cmk_err_set(err, CMK_EINVAL, "http.request: \"body\" must be a string (serialize "
                         "JSON content first)");
        goto fail;
    }
    if (cJSON_IsString(b)) {
        j->body_len = strlen(b->valuestring);
        if (j->body_len > GW_MAX_REQUEST_BODY) {
            rc = cmk_err_set(err, CMK_ELIMIT, "http.request: the body is larger than %d bytes",
                             GW_MAX_REQUEST_BODY);
            goto fail;
        }
        j->body = strdup(b->valuestring);
    }
    j->timeout_ms = default_timeout_ms;
    if (t && !cJSON_IsNull(t)) {
        if (!cJSON_IsNumber(t) || t->valuedouble < 1 || t->valuedouble > GW_MAX_TIMEOUT_MS) {
            rc = cmk_err_set(err, CMK_EINVAL, "http.request: \"timeout_ms\" must be a number "
                             "from 1 to %d", GW_MAX_TIMEOUT_MS);
            goto fail;
        }
        j->timeout_ms = (int64_t)t->valuedouble;
    }
    j->method = strdup(method);
    j->uri = strdup(uri);
    if (!j->method || !j->uri || !j->headers || (cJSON_IsString(b) && !j->body)) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = gw_tags_select(tags, j->infrastructure, j->kind, j->region, j->tag, sizeof j->tag,
                             err)) < 0 ||
        (rc = gw_tags_pick(tags, j->tag, gw_source_key(j->env, j->flow, j->action), j->source_ip,
                           sizeof j->source_ip, err)) < 0)
        goto fail;
    *out = j;
    return 0;
fail:
    gw_job_destroy(&j);
    return rc;
}

/* gw_route_env_allowed - "*" or the env itself in entry.envs */
int gw_route_env_allowed(const cJSON *entry, const char *env)
{
    const cJSON *envs = cJSON_GetObjectItemCaseSensitive(entry, "envs"), *it;
    cJSON_ArrayForEach(it, envs) {
        if (cJSON_IsString(it) && (!strcmp(it->valuestring, "*") || !strcmp(it->valuestring, env)))
            return 1;
    }
    return 0;
}
