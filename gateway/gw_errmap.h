/*
 * gw_errmap.h - what a flow sees when an outbound HTTP action fails: every failure of the
 * gateway's egress is classified into one outcome, and each outcome has one Power
 * Automate-style message, kept word for word in one table (gw_errmap.c).
 *
 * The seed's message for a firewall that refuses the connection is reproduced exactly:
 *
 *   Http request failed as there is an error: 'No connection could be made because the
 *   target machine actively refused it.'
 *
 * A silent drop becomes Logic Apps' timeout message; a reset, a DNS failure and a TLS failure
 * have their own (.NET's texts, as Power Automate shows them).
 */
#ifndef CMK_GW_ERRMAP_H
#define CMK_GW_ERRMAP_H

#include <stddef.h>

/* The outcome of one outbound HTTP action. */
typedef enum {
    GW_OUT_OK = 0,          /* an HTTP response arrived (whatever its status) */
    GW_OUT_REFUSED = 1,     /* the TCP connection was refused (RST in answer to the SYN) */
    GW_OUT_RESET = 2,       /* an established connection was reset */
    GW_OUT_TIMEOUT = 3,     /* no answer within the timeout (a silent drop) */
    GW_OUT_DNS = 4,         /* the host name did not resolve */
    GW_OUT_TLS = 5,         /* the TLS handshake or the certificate failed */
    GW_OUT_UNREACHABLE = 6, /* no route to the destination */
    GW_OUT_EMPTY = 7,       /* the connection closed without a response */
    GW_OUT_INVALID = 8,     /* the request itself is unusable (URI, method, header) */
    GW_OUT_POLICY = 9,      /* the gateway refused the destination (not loopback) */
    GW_OUT_TOOLARGE = 10,   /* the response is larger than the gateway's limit */
    GW_OUT_ERROR = 11,      /* anything else */
    GW_OUT_COUNT = 12,      /* number of outcomes */
} gw_outcome;

/* Flags that the transfer itself knows and libcurl's code does not tell. */
enum {
    GW_FAIL_POLICY = 1,   /* the open-socket hook refused the destination */
    GW_FAIL_TOOLARGE = 2, /* the write hook stopped an oversized response */
};

/* The largest response body the gateway hands back to a worker. */
#define GW_MAX_RESPONSE (8 * 1024 * 1024)

/* gw_outcome_name - stable short name for logs and metrics: "ok", "refused", "timeout" ... */
const char *gw_outcome_name(gw_outcome o);

/* gw_outcome_code - the cmk_code of the error reply for an outcome (0 for GW_OUT_OK) */
int gw_outcome_code(gw_outcome o);

/* gw_errmap_classify - the outcome of a transfer from libcurl's result code, the OS errno
 * libcurl saw (CURLINFO_OS_ERRNO) and GW_FAIL_* flags */
gw_outcome gw_errmap_classify(int curl_code, long os_errno, unsigned flags);

/* gw_outcome_cause - what a load report calls a failure of this outcome ("firewall refused",
 * "connection reset", "HTTP timeout", ...; "" for GW_OUT_OK) */
const char *gw_outcome_cause(gw_outcome o);

/* gw_errmap_outcome_of - the outcome whose message a flow's action got (the inverse of
 * gw_errmap_message, whatever its detail); GW_OUT_OK when message is none of them */
gw_outcome gw_errmap_outcome_of(const char *message);

/* gw_errmap_message - the flow-facing message of an outcome into buf; detail fills the
 * outcomes whose text names something (the host, the URI, libcurl's words). Returns buf. */
char *gw_errmap_message(gw_outcome o, const char *detail, char *buf, size_t n);

#endif
