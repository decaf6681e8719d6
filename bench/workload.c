/*
 * workload.c - parsing workload files of cmk-bench load (format in workload.h).
 */
#include "workload.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/util.h"

/* str_field - copy an optional string member into dst (default def) */
static int str_field(const cJSON *obj, const char *name, const char *def, char *dst, size_t cap,
                     const char *where, cmk_err *err)
{
    const cJSON *v = cJSON_GetObjectItem(obj, name);

    if (v && !cJSON_IsString(v))
        return cmk_err_set(err, CMK_EINVAL, "workload %s%s must be a string", where, name);
    if (cmk_strlcpy(dst, v ? v->valuestring : def, cap) >= cap)
        return cmk_err_set(err, CMK_EINVAL, "workload %s%s is too long (at most %zu characters)",
                           where, name, cap - 1);
    return 0;
}

/* int_field - an optional integer member in [min, max] */
static int int_field(const cJSON *obj, const char *name, int def, int min, int max, int *out,
                     const char *where, cmk_err *err)
{
    const cJSON *v = cJSON_GetObjectItem(obj, name);

    if (!v) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
        v->valuedouble < min || v->valuedouble > max)
        return cmk_err_set(err, CMK_EINVAL, "workload %s%s must be a whole number from %d to %d",
                           where, name, min, max);
    *out = (int)v->valuedouble;
    return 0;
}

/* dur_field - an optional duration member ("10s") */
static int dur_field(const cJSON *obj, const char *name, int64_t def, int64_t *out,
                     const char *where, cmk_err *err)
{
    const cJSON *v = cJSON_GetObjectItem(obj, name);

    *out = def;
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || cmk_duration_parse(v->valuestring, out, err) < 0 || *out <= 0)
        return cmk_err_set(err, CMK_EINVAL, "workload %s%s must be a duration such as \"10s\"",
                           where, name);
    return 0;
}

/* parse_phase - one phase object */
static int parse_phase(const cJSON *p, int i, bench_phase *ph, cmk_err *err)
{
    char where[32];
    const cJSON *req = cJSON_GetObjectItem(p, "requests"), *rate = cJSON_GetObjectItem(p, "rate");
    const cJSON *v;
    int rc;

    snprintf(where, sizeof where, "phases[%d].", i);
    memset(ph, 0, sizeof *ph);
    if (!cJSON_IsObject(p))
        return cmk_err_set(err, CMK_EINVAL, "workload phases[%d] must be an object", i);
    snprintf(ph->name, sizeof ph->name, "phase-%d", i + 1);
    if ((rc = str_field(p, "name", ph->name, ph->name, sizeof ph->name, where, err)) < 0 ||
        (rc = dur_field(p, "duration", 0, &ph->duration_ms, where, err)) < 0 ||
        (rc = int_field(p, "clients", 0, 0, 100000, &ph->clients, where, err)) < 0)
        return rc;
    if (req) {
        if (!cJSON_IsNumber(req) || req->valuedouble < 1 || req->valuedouble > 1e12)
            return cmk_err_set(err, CMK_EINVAL, "workload %srequests must be a number >= 1", where);
        ph->requests = (uint64_t)req->valuedouble;
    }
    if ((v = cJSON_GetObjectItem(p, "until_runs"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e12)
            return cmk_err_set(err, CMK_EINVAL, "workload %suntil_runs must be a number >= 1", where);
        ph->until_runs = (uint64_t)v->valuedouble;
    }
    if ((ph->duration_ms != 0) + (ph->requests != 0) + (ph->until_runs != 0) != 1)
        return cmk_err_set(err, CMK_EINVAL,
                           "workload %s needs one of \"duration\" (\"10s\"), \"requests\" (a "
                           "count) or \"until_runs\" (the runs the environments hold at its end), not both or all three",
                           ph->name);
    if (cJSON_IsNumber(rate) && rate->valuedouble > 0) {
        ph->rate = rate->valuedouble;
    } else if (cJSON_IsString(rate)) {
        char *end;
        double pct = strtod(rate->valuestring, &end);
        if (end == rate->valuestring || strcmp(end, "%") != 0 || pct <= 0 || pct > 1000)
            return cmk_err_set(err, CMK_EINVAL,
                               "workload %srate \"%s\": use runs/s (5000) or a share of the first "
                               "closed-loop phase (\"50%%\")",
                               where, rate->valuestring);
        ph->rate_share = pct / 100.0;
    } else if (rate && !cJSON_IsNull(rate)) {
        return cmk_err_set(err, CMK_EINVAL, "workload %srate must be a number > 0 or \"N%%\"", where);
    }
    return 0;
}

/* parse_phases - the phase list, or one phase from top-level duration/requests/rate */
static int parse_phases(const cJSON *doc, bench_workload *w, cmk_err *err)
{
    const cJSON *ph = cJSON_GetObjectItem(doc, "phases"), *it;
    int rc, seen_closed = 0;

    if (!ph) {
        if ((rc = parse_phase(doc, 0, &w->phases[0], err)) < 0)
            return cmk_err_prefix(err, "(no \"phases\": the top level is one phase) ");
        if (w->phases[0].rate_share > 0)
            return cmk_err_set(err, CMK_EINVAL, "workload rate as a share (\"50%%\") needs a "
                                                "closed-loop phase before it: use \"phases\"");
        w->nphases = 1;
        return 0;
    }
    if (!cJSON_IsArray(ph) || cJSON_GetArraySize(ph) < 1 ||
        cJSON_GetArraySize(ph) > BENCH_WL_MAX_PHASES)
        return cmk_err_set(err, CMK_EINVAL, "workload phases must be a list of 1 to %d phases",
                           BENCH_WL_MAX_PHASES);
    cJSON_ArrayForEach(it, ph)
    {
        bench_phase *p = &w->phases[w->nphases];
        if ((rc = parse_phase(it, w->nphases, p, err)) < 0)
            return rc;
        if (p->rate_share > 0 && !seen_closed)
            return cmk_err_set(err, CMK_EINVAL,
                               "workload phase %s has a rate share but no closed-loop phase runs "
                               "before it to take it from",
                               p->name);
        if (p->rate == 0 && p->rate_share == 0)
            seen_closed = 1;
        w->nphases++;
    }
    return 0;
}

/* resolve - path relative to base_dir unless absolute */
static int resolve(const char *path, const char *base_dir, char *out, size_t cap, cmk_err *err)
{
    int n = path[0] == '/' || !base_dir || !*base_dir ? snprintf(out, cap, "%s", path)
                                                       : snprintf(out, cap, "%s/%s", base_dir, path);
    if (n < 0 || (size_t)n >= cap)
        return cmk_err_set(err, CMK_EINVAL, "workload flows.definition path is too long");
    return 0;
}

static const char *const event_names[] = {
    [BENCH_EV_ROTATE_KEY] = "rotate-key", [BENCH_EV_DISABLE_KEY] = "disable-key",
    [BENCH_EV_ENABLE_KEY] = "enable-key", [BENCH_EV_REENABLE] = "reenable",
    [BENCH_EV_APPLY_CMK] = "apply-cmk",   [BENCH_EV_FIREWALL] = "firewall",
    [BENCH_EV_KILL_WORKER] = "kill-worker",
};

/* bench_event_kind_name - the name of an event kind in workload files */
const char *bench_event_kind_name(bench_event_kind k)
{
    return k >= BENCH_EV_ROTATE_KEY && k <= BENCH_EV_KILL_WORKER ? event_names[k] : "?";
}

/* parse_event - one event object */
static int parse_event(const cJSON *e, int i, const char *base_dir, bench_workload *w,
                       bench_event *ev, cmk_err *err)
{
    char where[32], what[32], config[4096];
    const cJSON *at = cJSON_GetObjectItem(e, "at");
    int rc;

    snprintf(where, sizeof where, "events[%d].", i);
    memset(ev, 0, sizeof *ev);
    if (!cJSON_IsObject(e))
        return cmk_err_set(err, CMK_EINVAL, "workload events[%d] must be an object", i);
    if (!cJSON_IsString(at) || cmk_duration_parse(at->valuestring, &ev->at_ms, NULL) < 0 ||
        ev->at_ms < 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "workload %sat must be a time from the start of the first phase, "
                           "such as \"5s\"",
                           where);
    if ((rc = str_field(e, "do", "", what, sizeof what, where, err)) < 0 ||
        (rc = int_field(e, "env", -1, -1, w->env_count - 1, &ev->env, where, err)) < 0 ||
        (rc = str_field(e, "config", "", config, sizeof config, where, err)) < 0)
        return rc;
    for (int k = BENCH_EV_ROTATE_KEY; k <= BENCH_EV_KILL_WORKER; k++)
        if (strcmp(what, event_names[k]) == 0)
            ev->kind = (bench_event_kind)k;
    if (!ev->kind)
        return cmk_err_set(err, CMK_EINVAL,
                           "workload %sdo \"%s\": use rotate-key, disable-key, enable-key, "
                           "reenable, apply-cmk, firewall or kill-worker",
                           where, what);
    if (ev->kind == BENCH_EV_APPLY_CMK && (ev->env < w->dedicated))
        return cmk_err_set(err, CMK_EINVAL,
                           "workload %senv must name a shared environment for apply-cmk: an "
                           "index from %d to %d (the first %d are dedicated already)",
                           where, w->dedicated, w->env_count - 1, w->dedicated);
    if (ev->kind == BENCH_EV_FIREWALL) {
        if (!config[0])
            return cmk_err_set(err, CMK_EINVAL,
                               "workload %sconfig must name a firewall config file, e.g. "
                               "\"../firewalls/with-plex.json\"",
                               where);
        if ((rc = resolve(config, base_dir, ev->config_path, sizeof ev->config_path, err)) < 0)
            return cmk_err_prefix(err, "%s: ", where);
    }
    return 0;
}

/* cmp_event - by time */
static int cmp_event(const void *a, const void *b)
{
    const bench_event *x = a, *y = b;
    return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* parse_events - the "events" list, sorted by time (stable for equal times) */
static int parse_events(const cJSON *doc, const char *base_dir, bench_workload *w, cmk_err *err)
{
    const cJSON *list = cJSON_GetObjectItem(doc, "events"), *it;
    int rc;

    if (!list)
        return 0;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > BENCH_WL_MAX_EVENTS)
        return cmk_err_set(err, CMK_EINVAL, "workload events must be a list of at most %d events",
                           BENCH_WL_MAX_EVENTS);
    cJSON_ArrayForEach(it, list)
    {
        bench_event ev;
        int64_t every = 0, total = 0;
        int i = w->nevents;
        if ((rc = parse_event(it, i, base_dir, w, &ev, err)) < 0 ||
            (rc = dur_field(it, "every", 0, &every, "events[].", err)) < 0)
            return rc;
        for (int k = 0; k < w->nphases; k++)
            total += w->phases[k].duration_ms;
        if (every > 0 && total == 0)
            return cmk_err_set(err, CMK_EINVAL,
                               "workload events[].every needs phases with durations (not request "
                               "counts) to know when to stop");
        for (int64_t at = ev.at_ms; at == ev.at_ms || (every > 0 && at < total); at += every) {
            if (w->nevents == BENCH_WL_MAX_EVENTS)
                return cmk_err_set(err, CMK_EINVAL,
                                   "workload events: more than %d events (\"every\" included)",
                                   BENCH_WL_MAX_EVENTS);
            w->events[w->nevents] = ev;
            w->events[w->nevents++].at_ms = at;
            if (every <= 0)
                break;
        }
    }
    /* insertion sort keeps equal times in file order */
    for (int i = 1; i < w->nevents; i++)
        for (int j = i; j > 0 && cmp_event(&w->events[j - 1], &w->events[j]) > 0; j--) {
            bench_event t = w->events[j];
            w->events[j] = w->events[j - 1];
            w->events[j - 1] = t;
        }
    return 0;
}

/* parse_cluster - "cluster": {"name": "value"} settings for cmkctl up --set */
static int parse_cluster(const cJSON *doc, bench_workload *w, cmk_err *err)
{
    const cJSON *c = cJSON_GetObjectItem(doc, "cluster"), *it;

    if (!c)
        return 0;
    if (!cJSON_IsObject(c))
        return cmk_err_set(err, CMK_EINVAL, "workload cluster must be an object of settings, "
                                            "e.g. {\"policy.reenable_time\": \"2s\"}");
    cJSON_ArrayForEach(it, c)
    {
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it))
            return cmk_err_set(err, CMK_EINVAL, "workload cluster.%s must be a string, number or "
                                                "boolean", it->string);
    }
    if (!(w->cluster_set = cJSON_Duplicate(c, 1)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    return 0;
}

/* parse_soak - "soak": {max_rss_growth_kib, max_fd_growth} */
static int parse_soak(const cJSON *doc, bench_workload *w, cmk_err *err)
{
    const cJSON *s = cJSON_GetObjectItem(doc, "soak");
    int rss, fds, rc;

    w->soak_rss_kib = w->soak_fds = -1;
    if (!s)
        return 0;
    if (!cJSON_IsObject(s))
        return cmk_err_set(err, CMK_EINVAL, "workload soak must be an object {max_rss_growth_kib, "
                                            "max_fd_growth}");
    if (w->nphases < 2)
        return cmk_err_set(err, CMK_EINVAL, "workload soak needs two phases or more: growth is "
                                            "measured from the end of the first (warm) phase");
    if ((rc = int_field(s, "max_rss_growth_kib", -1, -1, 1 << 30, &rss, "soak.", err)) < 0 ||
        (rc = int_field(s, "max_fd_growth", -1, -1, 1 << 20, &fds, "soak.", err)) < 0)
        return rc;
    w->soak_rss_kib = rss;
    w->soak_fds = fds;
    return 0;
}

/* parse_thresholds - "thresholds": {runs_s, p99_ms, failed_pct}, each optional */
static int parse_thresholds(const cJSON *doc, bench_workload *w, cmk_err *err)
{
    static const char *const names[] = { "runs_s", "p99_ms", "failed_pct" };
    double *dst[] = { &w->min_runs_s, &w->max_p99_ms, &w->max_failed_pct };
    const cJSON *t = cJSON_GetObjectItem(doc, "thresholds"), *it;

    w->min_runs_s = w->max_p99_ms = w->max_failed_pct = -1;
    if (!t)
        return 0;
    if (!cJSON_IsObject(t))
        return cmk_err_set(err, CMK_EINVAL, "workload thresholds must be an object {runs_s, p99_ms, failed_pct}");
    cJSON_ArrayForEach(it, t) {
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(it->string, names[i]) == 0)
                k = i;
        if (k < 0)
            return cmk_err_set(err, CMK_EINVAL, "workload thresholds.%s: unknown threshold (runs_s, p99_ms or "
                                                "failed_pct)", it->string);
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) || it->valuedouble > 1e9 ||
            (k == 2 && it->valuedouble > 100))
            return cmk_err_set(err, CMK_EINVAL, "workload thresholds.%s must be a number from 0 to %s", it->string,
                               k == 2 ? "100" : "1e9");
        *dst[k] = it->valuedouble;
    }
    return 0;
}

/* parse_compare - "compare": {phase, with, p99_ratio_max}: two phases of the workload */
static int parse_compare(const cJSON *doc, bench_workload *w, cmk_err *err)
{
    const cJSON *c = cJSON_GetObjectItem(doc, "compare"), *v;
    int rc, found = 0;

    if (!c)
        return 0;
    if (!cJSON_IsObject(c))
        return cmk_err_set(err, CMK_EINVAL, "workload compare must be an object {phase, with, p99_ratio_max}");
    if ((rc = str_field(c, "phase", "", w->cmp_phase, sizeof w->cmp_phase, "compare.", err)) < 0 ||
        (rc = str_field(c, "with", "", w->cmp_with, sizeof w->cmp_with, "compare.", err)) < 0)
        return rc;
    for (int i = 0; i < w->nphases; i++)
        found |= (strcmp(w->phases[i].name, w->cmp_phase) == 0 ? 1 : 0) |
                 (strcmp(w->phases[i].name, w->cmp_with) == 0 ? 2 : 0);
    if (found != 3 || strcmp(w->cmp_phase, w->cmp_with) == 0)
        return cmk_err_set(err, CMK_EINVAL, "workload compare.phase \"%s\" and compare.with \"%s\" must name "
                                            "two different phases of the workload", w->cmp_phase, w->cmp_with);
    v = cJSON_GetObjectItem(c, "p99_ratio_max");
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 1e6)
        return cmk_err_set(err, CMK_EINVAL, "workload compare.p99_ratio_max must be a number > 0 (1.5: the "
                                            "phase's p99 at most 1.5 times the other's)");
    w->cmp_p99_ratio_max = v->valuedouble;
    return 0;
}

/* bench_workload_scale - --scale and --fill */
int bench_workload_scale(bench_workload *w, double f, uint64_t fill, cmk_err *err)
{
    int fills = 0;

    if (!(f > 0) || f > 1e6)
        return cmk_err_set(err, CMK_EINVAL, "--scale must be a number > 0 (0.01: a hundredth of the workload)");
    for (int i = 0; i < w->nphases; i++) {
        bench_phase *p = &w->phases[i];
        if (p->duration_ms)
            p->duration_ms = (int64_t)((double)p->duration_ms * f) > 100 ? (int64_t)((double)p->duration_ms * f) : 100;
        if (p->requests)
            p->requests = (uint64_t)((double)p->requests * f) > 1 ? (uint64_t)((double)p->requests * f) : 1;
        if (p->until_runs) {
            p->until_runs = (uint64_t)((double)p->until_runs * f) > 1 ? (uint64_t)((double)p->until_runs * f) : 1;
            if (fill)
                p->until_runs = fill;
            fills++;
        }
    }
    if (fill && !fills)
        return cmk_err_set(err, CMK_EINVAL, "--fill: workload %s has no phase with \"until_runs\" to set", w->name);
    return 0;
}

/* bench_workload_needs_cmk - dedicated environments or key/CMK events */
int bench_workload_needs_cmk(const bench_workload *w)
{
    if (w->dedicated > 0)
        return 1;
    for (int i = 0; i < w->nevents; i++)
        if (w->events[i].kind != BENCH_EV_FIREWALL && w->events[i].kind != BENCH_EV_KILL_WORKER)
            return 1;
    return 0;
}

/* bench_workload_parse - a workload from JSON */
int bench_workload_parse(const cJSON *doc, const char *base_dir, bench_workload *w, cmk_err *err)
{
    const cJSON *envs = cJSON_GetObjectItem(doc, "environments");
    const cJSON *flows = cJSON_GetObjectItem(doc, "flows"), *cmk = cJSON_GetObjectItem(doc, "cmk"), *v;
    char infra[16], defpath[4096];
    int rc;

    memset(w, 0, sizeof *w);
    if (!cJSON_IsObject(doc))
        return cmk_err_set(err, CMK_EINVAL, "a workload is a JSON object");
    if (!cJSON_IsObject(envs) || !cJSON_IsObject(flows))
        return cmk_err_set(err, CMK_EINVAL,
                           "a workload needs \"environments\" and \"flows\" objects (see "
                           "configs/workloads/compose-shared.json)");
    if ((rc = str_field(doc, "name", "workload", w->name, sizeof w->name, "", err)) < 0 ||
        (rc = str_field(doc, "description", "", w->description, sizeof w->description, "", err)) < 0 ||
        (rc = str_field(doc, "tenant", "bench", w->tenant, sizeof w->tenant, "", err)) < 0 ||
        (rc = str_field(envs, "region", "unitedstates", w->region, sizeof w->region, "environments.", err)) < 0 ||
        (rc = str_field(envs, "type", "production", w->env_type, sizeof w->env_type, "environments.", err)) < 0 ||
        (rc = str_field(envs, "name_prefix", "load", w->name_prefix, sizeof w->name_prefix, "environments.", err)) < 0 ||
        (rc = str_field(envs, "infrastructure", "shared", infra, sizeof infra, "environments.", err)) < 0 ||
        (rc = int_field(envs, "count", 1, 1, 1000, &w->env_count, "environments.", err)) < 0 ||
        (rc = int_field(flows, "per_environment", 1, 1, 1000, &w->flows_per_env, "flows.", err)) < 0 ||
        (rc = str_field(flows, "definition", "", defpath, sizeof defpath, "flows.", err)) < 0 ||
        (rc = int_field(doc, "clients", 16, 1, 100000, &w->clients, "", err)) < 0 ||
        (rc = int_field(doc, "connections", 1, 1, 64, &w->connections, "", err)) < 0 ||
        (rc = dur_field(doc, "request_timeout", 10000, &w->request_timeout_ms, "", err)) < 0)
        return rc;
    if (strcmp(infra, "shared") != 0 && strcmp(infra, "dedicated") != 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "workload environments.infrastructure \"%s\": use \"shared\" or "
                           "\"dedicated\" (or \"dedicated\": N for the first N of them)",
                           infra);
    if ((rc = int_field(envs, "dedicated", strcmp(infra, "dedicated") == 0 ? w->env_count : 0, 0,
                        w->env_count, &w->dedicated, "environments.", err)) < 0)
        return rc;
    if (cmk && !cJSON_IsObject(cmk))
        return cmk_err_set(err, CMK_EINVAL, "workload cmk must be an object {vault, key, policy}");
    {
        char dv[64], dp[64];
        snprintf(dv, sizeof dv, "%.40s-bench-kv", w->tenant);
        snprintf(dp, sizeof dp, "%.40s-bench-cmk", w->tenant);
        if ((rc = str_field(cmk, "vault", dv, w->cmk_vault, sizeof w->cmk_vault, "cmk.", err)) < 0 ||
            (rc = str_field(cmk, "key", "bench-cmk", w->cmk_key, sizeof w->cmk_key, "cmk.", err)) < 0 ||
            (rc = str_field(cmk, "policy", dp, w->cmk_policy, sizeof w->cmk_policy, "cmk.", err)) < 0)
            return rc;
    }
    {
        char trig[16];
        if ((rc = str_field(flows, "trigger", "run", trig, sizeof trig, "flows.", err)) < 0)
            return rc;
        if (strcmp(trig, "run") != 0 && strcmp(trig, "http") != 0)
            return cmk_err_set(err, CMK_EINVAL,
                               "workload flows.trigger \"%s\": use \"run\" (flow.run through the "
                               "controller) or \"http\" (POST to the flow's URL on the gateway)",
                               trig);
        w->http_trigger = strcmp(trig, "http") == 0;
    }
    if (!defpath[0])
        return cmk_err_set(err, CMK_EINVAL, "workload flows.definition must name a flow file, "
                                            "e.g. \"../flows/manual-compose.json\"");
    if ((rc = resolve(defpath, base_dir, w->definition_path, sizeof w->definition_path, err)) < 0 ||
        (rc = parse_phases(doc, w, err)) < 0)
        goto fail;
    v = cJSON_GetObjectItem(doc, "verify");
    if (!v || (cJSON_IsString(v) && strcmp(v->valuestring, "all") == 0))
        w->verify = -1;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0)
        w->verify = 0;
    else if (cJSON_IsNumber(v) && v->valuedouble >= 1)
        w->verify = (int64_t)v->valuedouble;
    else {
        rc = cmk_err_set(err, CMK_EINVAL, "workload verify must be \"all\", \"none\" or a number >= 1");
        goto fail;
    }
    if ((rc = parse_events(doc, base_dir, w, err)) < 0 || (rc = parse_cluster(doc, w, err)) < 0 ||
        (rc = parse_soak(doc, w, err)) < 0 || (rc = parse_thresholds(doc, w, err)) < 0 ||
        (rc = parse_compare(doc, w, err)) < 0)
        goto fail;
    v = cJSON_GetObjectItem(flows, "body");
    if (v && !(w->body = cJSON_Duplicate(v, 1))) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = cmk_json_load_file(w->definition_path, &w->definition, err)) < 0) {
        cmk_err_prefix(err, "workload flows.definition: ");
        goto fail;
    }
    {
        char child[4096];
        if ((rc = str_field(flows, "child", "", child, sizeof child, "flows.", err)) < 0)
            goto fail;
        if (child[0] && ((rc = resolve(child, base_dir, w->child_path, sizeof w->child_path, err)) < 0 ||
                         (rc = cmk_json_load_file(w->child_path, &w->child, err)) < 0)) {
            cmk_err_prefix(err, "workload flows.child: ");
            goto fail;
        }
    }
    return 0;
fail:
    bench_workload_free(w);
    return rc;
}

/* bench_workload_load - parse a file */
int bench_workload_load(const char *path, bench_workload *out, cmk_err *err)
{
    cJSON *doc = NULL;
    char dir[PATH_MAX], *slash;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = cmk_json_load_file(path, &doc, err)) < 0)
        return cmk_err_prefix(err, "workload %s: ", path);
    cmk_strlcpy(dir, path, sizeof dir);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    rc = bench_workload_parse(doc, dir, out, err);
    cJSON_Delete(doc);
    if (rc < 0)
        cmk_err_prefix(err, "workload %s: ", path);
    return rc;
}

/* bench_workload_free - release the owned JSON */
void bench_workload_free(bench_workload *w)
{
    cJSON_Delete(w->definition);
    cJSON_Delete(w->body);
    cJSON_Delete(w->cluster_set);
    cJSON_Delete(w->child);
    w->child = NULL;
    w->definition = NULL;
    w->body = NULL;
    w->cluster_set = NULL;
}

/* bench_workload_json - the workload as it runs */
cJSON *bench_workload_json(const bench_workload *w)
{
    cJSON *o = cJSON_CreateObject(), *ph = NULL;

    cJSON_AddStringToObject(o, "name", w->name);
    cJSON_AddStringToObject(o, "description", w->description);
    cJSON_AddStringToObject(o, "tenant", w->tenant);
    cJSON_AddNumberToObject(o, "environments", w->env_count);
    cJSON_AddNumberToObject(o, "dedicated", w->dedicated);
    cJSON_AddStringToObject(o, "infrastructure", w->dedicated == 0 ? "shared"
                                                 : w->dedicated == w->env_count ? "dedicated"
                                                                                : "mixed");
    if (bench_workload_needs_cmk(w)) {
        cJSON *c = cJSON_AddObjectToObject(o, "cmk");
        cJSON_AddStringToObject(c, "vault", w->cmk_vault);
        cJSON_AddStringToObject(c, "key", w->cmk_key);
        cJSON_AddStringToObject(c, "policy", w->cmk_policy);
    }
    cJSON_AddStringToObject(o, "region", w->region);
    cJSON_AddNumberToObject(o, "flows_per_environment", w->flows_per_env);
    cJSON_AddStringToObject(o, "definition", w->definition_path);
    cJSON_AddStringToObject(o, "trigger", w->http_trigger ? "http" : "run");
    if (w->child)
        cJSON_AddStringToObject(o, "child", w->child_path);
    cJSON_AddNumberToObject(o, "clients", w->clients);
    cJSON_AddNumberToObject(o, "connections", w->connections);
    cJSON_AddNumberToObject(o, "request_timeout_ms", (double)w->request_timeout_ms);
    ph = cJSON_AddArrayToObject(o, "phases");
    for (int i = 0; i < w->nphases; i++) {
        const bench_phase *p = &w->phases[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", p->name);
        if (p->duration_ms)
            cJSON_AddNumberToObject(j, "duration_ms", (double)p->duration_ms);
        else if (p->until_runs)
            cJSON_AddNumberToObject(j, "until_runs", (double)p->until_runs);
        else
            cJSON_AddNumberToObject(j, "requests", (double)p->requests);
        if (p->rate > 0)
            cJSON_AddNumberToObject(j, "rate", p->rate);
        if (p->rate_share > 0)
            cJSON_AddNumberToObject(j, "rate_share", p->rate_share);
        cJSON_AddNumberToObject(j, "clients", p->clients ? p->clients : w->clients);
        cJSON_AddItemToArray(ph, j);
    }
    if (w->cmp_phase[0]) {
        cJSON *c = cJSON_AddObjectToObject(o, "compare");
        cJSON_AddStringToObject(c, "phase", w->cmp_phase);
        cJSON_AddStringToObject(c, "with", w->cmp_with);
        cJSON_AddNumberToObject(c, "p99_ratio_max", w->cmp_p99_ratio_max);
    }
    if (w->verify < 0)
        cJSON_AddStringToObject(o, "verify", "all");
    else
        cJSON_AddNumberToObject(o, "verify", (double)w->verify);
    ph = cJSON_AddArrayToObject(o, "events");
    for (int i = 0; i < w->nevents; i++) {
        const bench_event *e = &w->events[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "at_ms", (double)e->at_ms);
        cJSON_AddStringToObject(j, "do", bench_event_kind_name(e->kind));
        if (e->env >= 0)
            cJSON_AddNumberToObject(j, "env", e->env);
        if (e->config_path[0])
            cJSON_AddStringToObject(j, "config", e->config_path);
        cJSON_AddItemToArray(ph, j);
    }
    return o;
}
