/*
 * cluster_metrics.h - the gauges of the cluster's state, read once a second by the metrics
 * collect hook (common/metrics.h): environments by state, environments locked by cause, peers
 * by role, children by state and their restarts; and the Prometheus file_sd targets
 * (<run>/metrics/targets.json) of the processes running now, rewritten when they change.
 *
 *   cmk_controller_environments{state}, cmk_controller_environments_locked{cause}
 *   cmk_controller_peers{role}, cmk_controller_children{state},
 *   cmk_controller_child_restarts_total{process}
 *
 * It reads each service through its own interface (no SQL of its own) and is given them, typed.
 */
#ifndef CMK_CLUSTER_METRICS_H
#define CMK_CLUSTER_METRICS_H

#include "broker.h"
#include "config.h"
#include "directory.h"
#include "policy.h"
#include "supervisor.h"

/* What the gauges are read from (owned by the controller; any may be NULL while starting). */
typedef struct {
    directory *dir;           /* environments by state */
    policy_svc *policies;     /* locks by reason */
    broker *broker;           /* registered peers */
    supervisor *sup;          /* children and restarts */
    const cmk_config *cfg;    /* run dir, metrics.enabled */
} cluster_metrics;

/* cluster_metrics_collect - a collect hook (arg: a cluster_metrics) */
void cluster_metrics_collect(void *arg);

#endif
