/*
 * ctl_metrics.h - the controller's metrics (common/metrics.h): front requests by type and result
 * and their latency, peers and children's restarts, environments by state, locks by cause, vault
 * transactions and throttling, audit appends. Counted by the services themselves (a leaf:
 * it knows none of them); cluster_metrics.c reads the gauges of the cluster's state.
 *
 *   cmk_controller_requests_total{type="env.show",result="ok"|"<error code>"}
 *   cmk_controller_request_duration_seconds{type} (histogram)
 *   cmk_controller_requests_inflight
 *   cmk_controller_peers{role}, cmk_controller_children{state},
 *   cmk_controller_child_restarts_total{process}
 *   cmk_controller_environments{state}, cmk_controller_environments_locked{cause}
 *   cmk_controller_env_locks_total{cause}
 *   cmk_controller_vault_transactions_total{class="management"|"crypto",result="ok"|"throttled"}
 *   cmk_controller_audit_appends_total{result="ok"|"failed"}
 */
#ifndef CMK_CTL_METRICS_H
#define CMK_CTL_METRICS_H

#include "proto.h"

typedef struct ctl_metrics ctl_metrics;

/* ctl_metrics_new - request bookkeeping (NULL when out of memory: nothing is counted) */
ctl_metrics *ctl_metrics_new(void);

/* ctl_metrics_destroy - free (NULL is fine) */
void ctl_metrics_destroy(ctl_metrics **self_p);

/* ctl_metrics_request - a front request arrived (type: its operation, or "unknown") */
void ctl_metrics_request(ctl_metrics *self, const cmk_msg *req, const char *type);

/* ctl_metrics_reply - its reply (or error) is being sent: count it and its latency */
void ctl_metrics_reply(ctl_metrics *self, const cmk_msg *reply);

/* ctl_metrics_expire - forget requests older than max_age_ms that never got a reply */
void ctl_metrics_expire(ctl_metrics *self, int64_t max_age_ms);

/* ctl_metrics_lock_cause - the cause word of a lock reason: key_disabled, key_expired,
 * key_deleted, access_revoked, key_version_retired, policy_deleted, tenant_key_locked, other */
const char *ctl_metrics_lock_cause(const char *reason);

/* ctl_metrics_env_locked - one environment locked for reason */
void ctl_metrics_env_locked(const char *reason);

/* ctl_metrics_vault_tx - one vault transaction of class (0 management, 1 crypto) charged or
 * throttled */
void ctl_metrics_vault_tx(int cls, int throttled);

/* ctl_metrics_audit_append - one audit append, ok or failed */
void ctl_metrics_audit_append(int ok);

#endif
