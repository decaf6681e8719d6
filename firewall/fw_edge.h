/*
 * fw_edge.h - the customer's edge: a firewall config enforced by the kernel (nftables in a
 * user+network namespace of its own, fw_netns) or in user space (fw_endpoints), with the
 * simulated customer endpoints behind it. The firewall daemon runs one; tests run it alone.
 *
 * Mode "kernel" needs a namespace; "auto" tries kernel and falls back to "userspace" with
 * the reason logged (event=firewall.fallback) and kept in the status. The edge describes
 * itself for the gateway in <run>/firewall/state.json (directory 0700):
 *
 *   {"mode": "kernel", "pid": <daemon>, "holder_pid": 4242, "netns": "/proc/4242/ns/net",
 *    "userns": "/proc/4242/ns/user", "netns_inode": 4026532871, "endpoint": "127.0.0.1:18080",
 *    "endpoint_port": 18080, "config": "legacy-only", "config_origin": "...",
 *    "service_tags": "...", "reason": "...", "updated_ms": ...}
 *
 * Kernel counters: every rendered rule counts packets; fw_edge_poll_counters reads them
 * (nft list inside the namespace) and logs what changed (event=fw.kernel_count), since
 * refused and dropped connections never reach a user-space program.
 */
#ifndef CMK_FW_EDGE_H
#define CMK_FW_EDGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "fw_endpoints.h"
#include "fw_netns.h"

/* How to set an edge up. */
typedef struct {
    const char *run_dir;     /* where firewall/state.json goes; NULL: no state file */
    const char *mode;        /* "auto", "kernel" or "userspace" */
    const char *config_path; /* firewall config; NULL/"": configs/firewalls/allow-all.json */
    const char *tags_path;   /* service tags; NULL/"": configs/service-tags.json if found */
    int port;                /* endpoint port on 127.0.0.1 */
    /* called once the namespace (kernel mode) and the listening socket are made, before any
     * thread starts: the daemon confines itself there (issue #20); NULL: nothing */
    int (*confine)(void *arg, cmk_err *err);
    void *confine_arg;
} fw_edge_opts;

typedef struct fw_edge fw_edge;

/* fw_edge_new - choose the mode, load and apply the config, start the endpoints */
fw_edge *fw_edge_new(const fw_edge_opts *opts, cmk_err *err);

/* fw_edge_destroy - stop the endpoints, end the namespace, remove the state file */
void fw_edge_destroy(fw_edge **self_p);

/* fw_edge_mode - "kernel" or "userspace" */
const char *fw_edge_mode(const fw_edge *self);

/* fw_edge_netns - the namespace (kernel mode) or NULL */
fw_netns *fw_edge_netns(fw_edge *self);

/* fw_edge_apply_text - validate a config (JSON text) and put it in force atomically; the old
 * one stays if anything fails. *summary (may be NULL) gets {applied, config, previous, mode,
 * rules, default, enforce}. */
int fw_edge_apply_text(fw_edge *self, const char *text, size_t len, const char *origin,
                       cJSON **summary, cmk_err *err);

/* fw_edge_apply_file - the same from a file */
int fw_edge_apply_file(fw_edge *self, const char *path, cJSON **summary, cmk_err *err);

/* fw_edge_reload - apply again the config file the edge was started with (or the last one
 * applied by path), e.g. after it was edited; configs applied as text do not change it */
int fw_edge_reload(fw_edge *self, cJSON **summary, cmk_err *err);

/* fw_edge_status - {mode, reason, config {name, origin, mode, default}, rules [...],
 * counters [...] (kernel), endpoints {...}, netns {...}, kernel_fault {kind, remaining_ms}
 * (kernel)} */
cJSON *fw_edge_status(fw_edge *self);

/* fw_edge_fault - body {kind: latency|reset|timeout|none, ms?, duration?} ("10s" or ms).
 * Reset and timeout are enforced in the kernel's path in kernel mode (an nftables table of
 * their own in the namespace, fw_nft_render_fault: connections opened before the fault meet
 * it too; the counter thread removes it when its duration is over) and per request by the
 * endpoints; latency by the endpoints. Reply {kind, ms, duration_ms, enforced_by}. */
int fw_edge_fault(fw_edge *self, const cJSON *body, cJSON **reply, cmk_err *err);

/* fw_edge_poll_counters - read kernel counters and log increases (kernel mode; else no-op) */
void fw_edge_poll_counters(fw_edge *self);

/* fw_edge_start_counters - poll the kernel counters every interval_ms from a thread of their
 * own (reading them forks a child into the namespace: the caller's loop must not wait on it);
 * no-op outside kernel mode */
int fw_edge_start_counters(fw_edge *self, int64_t interval_ms, cmk_err *err);

/* fw_edge_alive - reap a dead namespace holder; 0 while the edge can work */
int fw_edge_alive(fw_edge *self, cmk_err *err);

/* fw_counters_parse - an nft listing's counters by comment: [{rule (1-based, 0 for the
 * default), name, packets, bytes}], lines of one rule summed */
cJSON *fw_counters_parse(const char *listing);

/* fw_edge_find_config - a file shipped in configs/ (rel: "service-tags.json") under
 * ./configs, <exe>/../configs or the build's source tree (CMakeCache.txt) */
int fw_edge_find_config(const char *rel, char *out, size_t n);

#endif
