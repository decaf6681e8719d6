/*
 * gw_errmap.c - the one table of egress outcomes: name, error code and the exact message a
 * flow sees (see gw_errmap.h). Change a message here and nowhere else.
 */
#include "gw_errmap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "err.h"

/* One row of the table. */
typedef struct {
    gw_outcome outcome; /* the row's outcome (== its index) */
    const char *name;   /* short name for logs and metrics */
    int code;           /* cmk_code of the error reply */
    const char *text;   /* the message; "%s" is the detail where there is one */
    const char *cause;  /* what a load report calls it */
} errmap_row;

static const errmap_row rows[GW_OUT_COUNT] = {
    { GW_OUT_OK, "ok", CMK_OK, "", "" },
    { GW_OUT_REFUSED, "refused", CMK_EUNAVAIL,
      "Http request failed as there is an error: 'No connection could be made because the "
      "target machine actively refused it.'", "firewall refused" },
    { GW_OUT_RESET, "reset", CMK_EIO,
      "Http request failed as there is an error: 'An existing connection was forcibly closed "
      "by the remote host.'", "connection reset" },
    { GW_OUT_TIMEOUT, "timeout", CMK_ETIMEOUT,
      "Http request failed: the server did not respond within the timeout limit. Please see "
      "logic app limits at https://aka.ms/logic-apps-limits-and-config#http-limits", "HTTP timeout" },
    { GW_OUT_DNS, "dns", CMK_ENOENT,
      "Http request failed as there is an error: 'No such host is known. (%s)'", "host not found" },
    { GW_OUT_TLS, "tls", CMK_ECRYPTO,
      "Http request failed as there is an error: 'The SSL connection could not be "
      "established, see inner exception.'", "TLS failed" },
    { GW_OUT_UNREACHABLE, "unreachable", CMK_EUNAVAIL,
      "Http request failed as there is an error: 'A socket operation was attempted to an "
      "unreachable network.'", "network unreachable" },
    { GW_OUT_EMPTY, "empty", CMK_EIO,
      "Http request failed as there is an error: 'The response ended prematurely.'", "empty response" },
    { GW_OUT_INVALID, "invalid", CMK_EINVAL,
      "Http request failed: the request is not valid: %s", "invalid HTTP request" },
    { GW_OUT_POLICY, "policy", CMK_EPERM,
      "Http request failed: the simulator sends outbound HTTP actions only to loopback "
      "addresses (127.0.0.0/8, ::1), and %s is not one.", "destination not allowed" },
    { GW_OUT_TOOLARGE, "too_large", CMK_ELIMIT,
      "Http request failed: the response is larger than the gateway's limit of 8388608 "
      "bytes.", "response too large" },
    { GW_OUT_ERROR, "error", CMK_EIO, "Http request failed as there is an error: '%s'", "HTTP error" },
};

/* gw_outcome_name - short name */
const char *gw_outcome_name(gw_outcome o)
{
    return (unsigned)o < GW_OUT_COUNT ? rows[o].name : "error";
}

/* gw_outcome_cause - a report's word for it */
const char *gw_outcome_cause(gw_outcome o)
{
    return (unsigned)o < GW_OUT_COUNT ? rows[o].cause : rows[GW_OUT_ERROR].cause;
}

/* matches - whether message is text with any detail in place of its "%s" */
static int matches(const char *text, const char *message)
{
    const char *pct = strstr(text, "%s");
    size_t pre, post, n = strlen(message);
    if (!pct)
        return strcmp(text, message) == 0;
    pre = (size_t)(pct - text);
    post = strlen(pct + 2);
    return n >= pre + post && strncmp(message, text, pre) == 0 && strcmp(message + n - post, pct + 2) == 0;
}

/* gw_errmap_outcome_of - the first row (the general "error" one is last) whose text fits */
gw_outcome gw_errmap_outcome_of(const char *message)
{
    if (!message || !*message)
        return GW_OUT_OK;
    for (int i = 1; i < GW_OUT_COUNT; i++)
        if (matches(rows[i].text, message))
            return (gw_outcome)i;
    return GW_OUT_OK;
}

/* gw_outcome_code - error code of an outcome */
int gw_outcome_code(gw_outcome o)
{
    return (unsigned)o < GW_OUT_COUNT ? rows[o].code : CMK_EIO;
}

/* is_tls - libcurl codes that mean the TLS layer failed */
static int is_tls(int c)
{
    switch (c) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return 1;
    default:
        return 0;
    }
}

/* gw_errmap_classify - libcurl result + errno + flags to an outcome */
gw_outcome gw_errmap_classify(int curl_code, long os_errno, unsigned flags)
{
    if (flags & GW_FAIL_POLICY)
        return GW_OUT_POLICY;
    if (flags & GW_FAIL_TOOLARGE)
        return GW_OUT_TOOLARGE;
    if (curl_code == CURLE_OK)
        return GW_OUT_OK;
    if (curl_code == CURLE_OPERATION_TIMEDOUT)
        return GW_OUT_TIMEOUT;
    if (curl_code == CURLE_COULDNT_RESOLVE_HOST || curl_code == CURLE_COULDNT_RESOLVE_PROXY)
        return GW_OUT_DNS;
    if (is_tls(curl_code))
        return GW_OUT_TLS;
    if (curl_code == CURLE_GOT_NOTHING)
        return GW_OUT_EMPTY;
    if (curl_code == CURLE_URL_MALFORMAT || curl_code == CURLE_UNSUPPORTED_PROTOCOL)
        return GW_OUT_INVALID;
    if (curl_code == CURLE_FILESIZE_EXCEEDED)
        return GW_OUT_TOOLARGE;
    switch (os_errno) {
    case ECONNREFUSED:
        return GW_OUT_REFUSED;
    case ECONNRESET:
    case EPIPE:
        return GW_OUT_RESET;
    case ETIMEDOUT:
        return GW_OUT_TIMEOUT;
    case ENETUNREACH:
    case EHOSTUNREACH:
        return GW_OUT_UNREACHABLE;
    default:
        break;
    }
    if (curl_code == CURLE_RECV_ERROR || curl_code == CURLE_SEND_ERROR)
        return GW_OUT_RESET;
    return GW_OUT_ERROR;
}

/* gw_errmap_message - format the outcome's message */
char *gw_errmap_message(gw_outcome o, const char *detail, char *buf, size_t n)
{
    const char *text = (unsigned)o < GW_OUT_COUNT ? rows[o].text : rows[GW_OUT_ERROR].text;
    const char *pct = strstr(text, "%s");

    if (!pct)
        snprintf(buf, n, "%s", text);
    else
        snprintf(buf, n, "%.*s%s%s", (int)(pct - text), text, detail && *detail ? detail : "unknown",
                 pct + 2);
    return buf;
}
