/*
 * cluster_metrics.c - the gauges of the cluster's state and the file_sd targets (see
 * cluster_metrics.h).
 */
#include "cluster_metrics.h"

#include "ctl_metrics.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "util.h"

/* set_counts - family's series from {label: count} (zeroed first; consumes counts); map, if
 * given, turns a label into another (lock reason to cause) */
static void set_counts(cmk_family *f, cJSON *counts, const char *(*map)(const char *))
{
    cJSON *it;
    if (!f || !counts) {
        cJSON_Delete(counts);
        return;
    }
    cmk_family_zero(f);
    cJSON_ArrayForEach(it, counts) {
        cmk_metric_add(cmk_family_get1(f, map ? map(it->string) : it->string), (int64_t)it->valuedouble);
    }
    cJSON_Delete(counts);
}

/* cluster_metrics_collect - every second on the loop: environments by state, locks by cause,
 * peers, children and their restarts; and the file_sd targets of the processes running now */
void cluster_metrics_collect(void *arg)
{
    cluster_metrics *self = arg;
    static cmk_family *envs, *locked, *peers, *children, *restarts;
    cJSON *list, *it, *procs;
    cmk_err err = CMK_ERR_INIT;

    if (!envs) {
        envs = cmk_metrics_family("cmk_controller_environments", "Environments by state.",
                                  CMK_METRIC_GAUGE, "state", NULL, 0);
        locked = cmk_metrics_family("cmk_controller_environments_locked",
                                    "Environments locked now, by cause.", CMK_METRIC_GAUGE,
                                    "cause", NULL, 0);
        peers = cmk_metrics_family("cmk_controller_peers", "Registered peers (workers, gateway, "
                                   "firewall) by role.", CMK_METRIC_GAUGE, "role", NULL, 0);
        children = cmk_metrics_family("cmk_controller_children",
                                      "Supervised processes by state.", CMK_METRIC_GAUGE,
                                      "state", NULL, 0);
        restarts = cmk_metrics_family("cmk_controller_child_restarts_total",
                                      "Restarts of a supervised process.", CMK_METRIC_COUNTER,
                                      "process", NULL, 0);
        cmk_family_get1(envs, "Ready");
        cmk_family_get1(envs, "Locked");
    }
    if (self->dir)
        set_counts(envs, directory_env_states(self->dir), NULL);
    if (self->policies)
        set_counts(locked, policy_locks_by_reason(self->policies), ctl_metrics_lock_cause);
    if (self->broker && (list = broker_peers_json(self->broker))) {
        cmk_family_zero(peers);
        cJSON_ArrayForEach(it, list) {
            cmk_metric_inc(cmk_family_get1(peers, cmk_json_str(it, "role", "-")));
        }
        cJSON_Delete(list);
    }
    if (!self->sup || !(list = supervisor_status(self->sup)))
        return;
    procs = cJSON_CreateArray();
    it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "name", "controller");
    cJSON_AddStringToObject(it, "role", "controller");
    cJSON_AddItemToArray(procs, it);
    cmk_family_zero(children);
    cJSON_ArrayForEach(it, list) {
        cJSON *p = cJSON_CreateObject();
        cmk_metric_inc(cmk_family_get1(children, cmk_json_str(it, "state", "-")));
        cmk_metric_set(cmk_family_get1(restarts, cmk_json_str(it, "name", "-")),
                       (int64_t)cmk_json_num(it, "restarts", 0));
        cJSON_AddStringToObject(p, "name", cmk_json_str(it, "name", ""));
        cJSON_AddStringToObject(p, "role", cmk_json_str(it, "role", ""));
        cJSON_AddItemToArray(procs, p);
    }
    cJSON_Delete(list);
    if (self->cfg && self->cfg->metrics_enabled &&
        cmk_metrics_write_targets(self->cfg->run_dir, procs, &err) < 0)
        cmk_warn("metrics.targets_failed", "error=\"%s\"", err.msg);
    cJSON_Delete(procs);
}
