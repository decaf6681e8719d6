/*
 * fw_endpoints.h - the simulated customer HTTP endpoints behind the firewall, and the
 * user-space enforcer. One thread serves a listening socket (inside the firewall's network
 * namespace in kernel mode, on the host's loopback in userspace mode):
 *
 *   ANY /anything[/...]   200 and a JSON echo: method, url, args, headers, body, origin (the
 *                         caller's address), peer, endpoint, firewall {enforcer, config,
 *                         verdict, rule}
 *   ANY /status/<code>    that status
 *   ANY /delay/<ms>       the echo after ms (at most 60000)
 *   GET /health           {"ok": true}
 *
 * Every response carries X-Cmk-Firewall-Verdict and X-Cmk-Firewall-Rule, so the gateway can
 * log which rule let the call in.
 *
 * Each accepted connection is decided by the rule engine (fw_engine) on its source address
 * and destination port, and logged (event=fw.decision, one line per connection):
 *
 *   - kernel enforcer: nftables already refused or dropped what the rules deny; what arrives
 *     is served. A connection the engine would deny under enforcement is logged as
 *     fw.mismatch (the kernel and the engine disagree) and served.
 *   - userspace enforcer: allow serves; reject closes at once with a TCP reset (SO_LINGER 0);
 *     drop accepts and never answers (held until the caller gives up, at most 10 minutes).
 *     The handshake has already completed when a user-space program sees a connection, so a
 *     reject shows up at the caller as "connection reset by peer", not "connection refused".
 *   - report mode: everything is served; would_deny / would_reject are logged and counted.
 *
 * Faults (Toxiproxy in spirit) apply to allowed connections while active: latency (each
 * response delayed by ms), reset (closed with a TCP reset), timeout (never answered).
 */
#ifndef CMK_FW_ENDPOINTS_H
#define CMK_FW_ENDPOINTS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "fw_config.h"

/* Who enforces the rules. */
typedef enum {
    FW_ENFORCER_KERNEL = 0,    /* nftables in the namespace; the endpoints only observe */
    FW_ENFORCER_USERSPACE = 1, /* the endpoints decide each connection themselves */
} fw_enforcer;

typedef struct fw_endpoints fw_endpoints;

/* fw_endpoints_new - serve listen_fd (bound, listening; taken over, closed on destroy) from
 * a new thread; endpoint names it ("127.0.0.1:18080") */
fw_endpoints *fw_endpoints_new(int listen_fd, fw_enforcer enforcer, const char *endpoint,
                               cmk_err *err);

/* fw_endpoints_destroy - stop the thread, close every connection (NULL is fine) */
void fw_endpoints_destroy(fw_endpoints **self_p);

/* fw_endpoints_set_config - decide by cfg from now on (borrowed: keep it alive until it is
 * replaced or the endpoints are destroyed). Idle keep-alive connections are closed so the
 * next request meets the new rules; decision counts start again. */
void fw_endpoints_set_config(fw_endpoints *self, const fw_config *cfg);

/* fw_endpoints_fault - inject kind "latency" (ms per response), "reset" or "timeout" for
 * duration_ms (<= 0: until cleared); kind "none" clears. CMK_EINVAL for an unknown kind. */
int fw_endpoints_fault(fw_endpoints *self, const char *kind, int64_t ms, int64_t duration_ms,
                       cmk_err *err);

/* fw_endpoints_stats - {endpoint, enforcer, connections, requests, open, held, fault,
 * decisions: [{rule, name, verdict, count}]} */
cJSON *fw_endpoints_stats(fw_endpoints *self);

/* fw_enforcer_name - "kernel" or "userspace" */
const char *fw_enforcer_name(fw_enforcer e);

#endif
