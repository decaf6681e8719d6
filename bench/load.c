/*
 * load.c - `cmk-bench load` (see load.h): options, connecting as the bench identity, the
 * workload's tenant, environments and flows, the phases, the verification and the outputs.
 */
#include "load.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "args.h"
#include "common/clock.h"
#include "common/util.h"
#include "load_int.h"
#include "ops.h"

/* Options of `cmk-bench load`. */
typedef struct {
    const char *run_dir;     /* --run-dir */
    const char *workload;    /* --workload FILE */
    const char *key;         /* --key FILE */
    const char *duration;    /* --duration: one phase of this length */
    const char *requests;    /* --requests: one phase of this many runs */
    const char *rate;        /* --rate: offered runs/s of that phase */
    const char *clients;     /* --clients: runs in flight, every phase */
    const char *connections; /* --connections: DEALER sockets */
    const char *verify;      /* --verify all|none|N */
    const char *scale;       /* --scale F: phases' durations, requests and fills times F */
    const char *fill;        /* --fill N: fill phases until the environments hold N runs */
    const char *json;        /* --json FILE */
    const char *md;          /* --md FILE */
    const char *png;         /* --png FILE */
    int up;                  /* --up: start a cluster first, stop it at the end */
    int help;                /* --help */
} ld_opts;

/* usage - --help */
static void usage(void)
{
    printf(
        "Usage: cmk-bench load --run-dir DIR [--workload FILE] [options]\n\n"
        "Drives flow runs through a running cluster as the \"bench\" identity (DIR/keys/bench.key):\n"
        "creates the workload's tenant, environments (shared, or dedicated under an enterprise\n"
        "policy it sets up) and flows, runs its phases (a closed loop of C runs in flight, or\n"
        "paced to a rate) while its timed events happen (key rotation, key disabled and enabled,\n"
        "re-enable, CMK applied, firewall swapped, a worker SIGKILLed), then checks with run.show\n"
        "that every acknowledged run is there (runs lost must be 0). Reports runs/s, latency per\n"
        "phase and per second, failures by cause, the events, and CPU and memory of every process.\n\n"
        "Options:\n"
        "  --run-dir DIR       the cluster (default $CMK_RUN_DIR or ./var)\n"
        "  --workload FILE     workload (default configs/workloads/compose-shared.json)\n"
        "  --duration DUR      instead of the workload's phases: one phase this long (10s)\n"
        "  --requests N        ... or of N runs\n"
        "  --rate R            ... offering at most R runs/s (default: closed loop)\n"
        "  --clients C         runs in flight at once, every phase\n"
        "  --connections N     DEALER sockets the clients share\n"
        "  --verify WHAT       all, none, or N: run.show of N acknowledged runs (a sample)\n"
        "  --scale F           every phase's duration (at least 0.1 s), requests and fill\n"
        "                      (\"until_runs\") times F: the same workload, smaller (0.01)\n"
        "  --fill N            fill phases run until the environments hold N runs (after\n"
        "                      --scale), e.g. flat-latency.json with --fill 3000 for a test\n"
        "  --key FILE          another client key (default DIR/keys/bench.key)\n"
        "  --up                start a cluster in DIR first (cmkctl up, with the workload's\n"
        "                      \"cluster\" settings) and stop it after\n"
        "  --json FILE, --md FILE, --png FILE   results (PNG through gnuplot, if installed)\n\n"
        "Workload files: configs/workloads/*.json (the format is in bench/workload.h).\n\n"
        "Example:\n"
        "  cmkctl up --run-dir /tmp/c1\n"
        "  cmk-bench load --run-dir /tmp/c1 --workload configs/workloads/compose-shared.json \\\n"
        "      --json load.json --md load.md\n"
        "  cmk-bench load --run-dir /tmp/c1 --workload configs/workloads/smoke.json --duration 3s\n"
        "  cmk-bench load --up --run-dir /tmp/c2 --workload configs/workloads/cmk-events.json\n"
        "  cmk-bench load --up --run-dir /tmp/c3 --workload configs/workloads/flat-latency.json \\\n"
        "      --fill 300000 --md flat.md      (the full workload fills its partition to 2,000,000)\n");
}

/* apply_overrides - the command line over the workload */
static int apply_overrides(const ld_opts *o, bench_workload *w, cmk_err *err)
{
    long v;
    uint64_t n;
    int rc;

    if (o->duration || o->requests || o->rate) {
        bench_phase p = {.clients = 0};
        snprintf(p.name, sizeof p.name, "%s", o->rate ? "paced" : "closed-loop");
        if (o->duration && (rc = cmk_duration_parse(o->duration, &p.duration_ms, err)) < 0)
            return rc;
        if (o->requests && (rc = bench_parse_count(o->requests, &p.requests, err)) < 0)
            return rc;
        if (!p.duration_ms == !p.requests)
            return cmk_err_set(err, CMK_EINVAL, "give --duration or --requests (one of them)");
        if (o->rate) {
            if ((rc = bench_parse_count(o->rate, &n, err)) < 0)
                return cmk_err_prefix(err, "--rate: ");
            p.rate = (double)n;
        }
        w->phases[0] = p;
        w->nphases = 1;
        w->cmp_phase[0] = '\0'; /* its phases are gone */
    }
    if (o->scale || o->fill) {
        double f = 1;
        uint64_t fill = 0;
        if (o->scale) {
            char *end;
            f = strtod(o->scale, &end);
            if (end == o->scale || *end)
                return cmk_err_set(err, CMK_EINVAL, "--scale must be a number > 0 (0.01: a hundredth "
                                                    "of the workload), not \"%s\"", o->scale);
        }
        if (o->fill && (rc = bench_parse_count(o->fill, &fill, err)) < 0)
            return cmk_err_prefix(err, "--fill: ");
        if ((rc = bench_workload_scale(w, f, fill, err)) < 0)
            return rc;
    }
    if (o->clients) {
        if ((rc = bench_parse_int(o->clients, "--clients", 1, 100000, &v, err)) < 0)
            return rc;
        w->clients = (int)v;
        for (int i = 0; i < w->nphases; i++)
            w->phases[i].clients = 0;
    }
    if (o->connections) {
        if ((rc = bench_parse_int(o->connections, "--connections", 1, LD_MAX_CONNS, &v, err)) < 0)
            return rc;
        w->connections = (int)v;
    }
    if (o->verify) {
        if (strcmp(o->verify, "all") == 0)
            w->verify = -1;
        else if (strcmp(o->verify, "none") == 0)
            w->verify = 0;
        else if ((rc = bench_parse_count(o->verify, &n, err)) < 0)
            return cmk_err_prefix(err, "--verify: all, none or ");
        else
            w->verify = (int64_t)n;
    }
    return 0;
}

/* cmkctl - run the cmkctl next to this executable with verb and the run dir; `sets` (may be
 * NULL) is an object of settings passed as --set name=value */
static int cmkctl(const char *run_dir, const char *verb, const cJSON *sets, cmk_err *err)
{
    char dir[PATH_MAX], exe[PATH_MAX + 16];
    char *argv[4 + 2 * 64 + 1], vals[64][256];
    const cJSON *it;
    int argc = 0, nsets = 0;
    pid_t pid;
    int st;

    if (cmk_exe_dir(dir, sizeof dir, err) < 0)
        return err->code;
    snprintf(exe, sizeof exe, "%s/cmkctl", dir);
    argv[argc++] = "cmkctl";
    argv[argc++] = (char *)verb;
    argv[argc++] = "--run-dir";
    argv[argc++] = (char *)run_dir;
    cJSON_ArrayForEach(it, sets)
    {
        if (nsets == 64)
            return cmk_err_set(err, CMK_EINVAL, "at most 64 cluster settings in a workload");
        if (cJSON_IsString(it))
            snprintf(vals[nsets], sizeof vals[nsets], "%s=%s", it->string, it->valuestring);
        else if (cJSON_IsBool(it))
            snprintf(vals[nsets], sizeof vals[nsets], "%s=%s", it->string,
                     cJSON_IsTrue(it) ? "true" : "false");
        else
            snprintf(vals[nsets], sizeof vals[nsets], "%s=%g", it->string, it->valuedouble);
        argv[argc++] = "--set";
        argv[argc++] = vals[nsets++];
    }
    argv[argc] = NULL;
    pid = fork();
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO); /* keep stdout for the results */
        execv(exe, argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return cmk_err_set(err, CMK_EUNAVAIL, "`%s %s --run-dir %s` failed", exe, verb, run_dir);
    return 0;
}

/* call - one synchronous request on the first connection (body owned) */
static int call(ld_run *r, const char *type, cJSON *body, cmk_msg **rep, cmk_err *err)
{
    int rc = cmk_client_call(r->conns[0], type, body, r->wl.request_timeout_ms, rep, err);
    cJSON_Delete(body);
    if (rc < 0)
        cmk_err_prefix(err, "%s: ", type);
    return rc;
}

/* read_status - the cluster's processes (pids, restarts) into r->procs, or their restarts */
static int read_status(ld_run *r, int at_end, cmk_err *err)
{
    cmk_msg *rep = NULL;
    const cJSON *p;
    int rc = call(r, "status", NULL, &rep, err);

    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(rep->body, "processes"))
    {
        int i;
        for (i = 0; i < r->nprocs; i++)
            if (strcmp(r->procs[i].name, cmk_json_str(p, "name", "")) == 0)
                break;
        if (i == r->nprocs) {
            if (at_end || r->nprocs == LD_MAX_PROCS - 1)
                continue;
            r->nprocs++;
            cmk_strlcpy(r->procs[i].name, cmk_json_str(p, "name", "?"), sizeof r->procs[i].name);
            cmk_strlcpy(r->procs[i].role, cmk_json_str(p, "role", "?"), sizeof r->procs[i].role);
            r->procs[i].pid = (int)cmk_json_num(p, "pid", 0);
            r->procs[i].restarts = (int)cmk_json_num(p, "restarts", 0);
        }
        r->procs[i].restarts_end = (int)cmk_json_num(p, "restarts", 0);
        if (at_end && (int)cmk_json_num(p, "pid", 0) != r->procs[i].pid)
            r->procs[i].restarts_end = r->procs[i].restarts_end > r->procs[i].restarts
                                           ? r->procs[i].restarts_end : r->procs[i].restarts + 1;
    }
    cmk_msg_destroy(&rep);
    if (!at_end) { /* and this process */
        ld_proc *me = &r->procs[r->nprocs++];
        cmk_strlcpy(me->name, "cmk-bench", sizeof me->name);
        cmk_strlcpy(me->role, "bench", sizeof me->role);
        me->pid = (int)getpid();
    }
    return 0;
}

/* name_child - every workflowReferenceName in a definition becomes id */
static void name_child(cJSON *node, const char *id)
{
    cJSON *it;

    cJSON_ArrayForEach(it, node)
    {
        if (it->string && strcmp(it->string, "workflowReferenceName") == 0 && cJSON_IsString(it))
            cJSON_SetValuestring(it, id);
        else if (cJSON_IsObject(it) || cJSON_IsArray(it))
            name_child(it, id);
    }
}

/* create_child - the workload's child flow in env, with the id "<env>-child" */
static int create_child(ld_run *r, const char *env, cmk_err *err)
{
    cJSON *b = cJSON_CreateObject();
    char id[96];

    snprintf(id, sizeof id, "%s-child", env);
    cJSON_AddStringToObject(b, "env", env);
    cJSON_AddStringToObject(b, "name", "load-child");
    cJSON_AddStringToObject(b, "id", id);
    cJSON_AddItemToObject(b, "definition", cJSON_Duplicate(r->wl.child, 1));
    cJSON_AddBoolToObject(b, "in_solution", 1);
    cJSON_AddStringToObject(b, "kind", "cloud");
    return call(r, CMK_T_FLOW_CREATE, b, NULL, err);
}

/* setup - tenant, environments, flows, one warm-up run of each flow */
static int setup(ld_run *r, cmk_err *err)
{
    bench_workload *w = &r->wl;
    cmk_msg *rep = NULL;
    char suffix[16];
    cJSON *b;
    int rc;

    cmk_random_id(NULL, suffix, sizeof suffix);
    suffix[6] = '\0';
    snprintf(r->req_prefix, sizeof r->req_prefix, "bench-%s-", suffix);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "id", w->tenant);
    cJSON_AddStringToObject(b, "name", w->tenant);
    if ((rc = call(r, CMK_T_TENANT_CREATE, b, NULL, err)) < 0 && rc != CMK_EEXIST)
        return rc;
    cmk_err_clear(err);
    if (bench_workload_needs_cmk(w)) {
        bench_progress_line(&r->prog, "setting up key vault %s, key %s and policy %s",
                            w->cmk_vault, w->cmk_key, w->cmk_policy);
        if ((rc = ld_cmk_setup(r, r->conns[0], err)) < 0)
            return rc;
    }
    r->ntargets = w->env_count * w->flows_per_env;
    r->targets = calloc((size_t)r->ntargets, sizeof *r->targets);
    r->envs = calloc((size_t)w->env_count, sizeof *r->envs);
    if (!r->targets || !r->envs)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    for (int e = 0; e < w->env_count; e++) {
        char name[96], env[64];
        bench_progress_line(&r->prog, "creating environment %d/%d and its %d flows", e + 1,
                            w->env_count, w->flows_per_env);
        snprintf(name, sizeof name, "%s-%s-%d", w->name_prefix, suffix, e + 1);
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "tenant", w->tenant);
        cJSON_AddStringToObject(b, "name", name);
        cJSON_AddStringToObject(b, "region", w->region);
        cJSON_AddStringToObject(b, "type", w->env_type);
        cJSON_AddBoolToObject(b, "managed", 1); /* so that CMK can be applied to it */
        if ((rc = call(r, CMK_T_ENV_CREATE, b, &rep, err)) < 0)
            return rc;
        cmk_strlcpy(env, cmk_json_str(rep->body, "id", ""), sizeof env);
        cmk_msg_destroy(&rep);
        cmk_strlcpy(r->envs[e].id, env, sizeof r->envs[e].id);
        r->nenvs = e + 1;
        if (e < w->dedicated) {
            bench_progress_line(&r->prog, "adding environment %d/%d to policy %s", e + 1,
                                w->env_count, w->cmk_policy);
            if ((rc = ld_cmk_link(r, r->conns[0], env, err)) < 0)
                return rc;
            r->envs[e].dedicated = 1;
        }
        if (w->child && (rc = create_child(r, env, err)) < 0)
            return rc;
        for (int f = 0; f < w->flows_per_env; f++) {
            ld_target *t = &r->targets[e * w->flows_per_env + f];
            char fname[32];
            snprintf(fname, sizeof fname, "load-%d", f + 1);
            b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "env", env);
            cJSON_AddStringToObject(b, "name", fname);
            cJSON_AddItemToObject(b, "definition", cJSON_Duplicate(w->definition, 1));
            if (w->child) { /* its "Run a Child Flow" actions call this environment's child */
                char child_id[96];
                snprintf(child_id, sizeof child_id, "%s-child", env);
                name_child(cJSON_GetObjectItem(b, "definition"), child_id);
            }
            cJSON_AddBoolToObject(b, "in_solution", w->child != NULL); /* child flows need solutions */
            cJSON_AddStringToObject(b, "kind", "cloud");
            if ((rc = call(r, CMK_T_FLOW_CREATE, b, &rep, err)) < 0)
                return rc;
            cmk_strlcpy(t->env, env, sizeof t->env);
            cmk_strlcpy(t->flow, cmk_json_str(rep->body, "id", ""), sizeof t->flow);
            cmk_msg_destroy(&rep);
            if (w->http_trigger) {
                /* the URL carries a secret signature: asked for as a maker (flow.trigger-url) */
                b = cJSON_CreateObject();
                cJSON_AddStringToObject(b, "env", env);
                cJSON_AddStringToObject(b, "flow", t->flow);
                if ((rc = call(r, CMK_T_FLOW_TRIGGER_URL, b, &rep, err)) < 0 && rc != CMK_ENOENT)
                    return rc;
                if (rc == 0)
                    cmk_strlcpy(t->path, cmk_json_str(rep->body, "trigger_path", ""), sizeof t->path);
                cmk_msg_destroy(&rep);
                cmk_err_clear(err);
            }
            if (w->http_trigger && !t->path[0]) {
                return cmk_err_set(err, CMK_EINVAL,
                                   "flows.trigger is \"http\" but %s has no trigger URL: give a "
                                   "definition with an HTTP Request trigger, e.g. "
                                   "configs/flows/http-trigger-echo.json",
                                   w->definition_path);
            }
            cmk_msg_destroy(&rep);
            b = cJSON_CreateObject(); /* warm-up: opens the partition, unwraps its DEK */
            cJSON_AddStringToObject(b, "env", t->env);
            cJSON_AddStringToObject(b, "flow", t->flow);
            if (w->body)
                cJSON_AddItemToObject(b, "body", cJSON_Duplicate(w->body, 1));
            if ((rc = call(r, CMK_T_FLOW_RUN, b, NULL, err)) < 0)
                return cmk_err_prefix(err, "warm-up run of %s in %s: ", t->flow, t->env);
        }
    }
    return 0;
}

/* run_phases - every phase, CPU sampled at each boundary */
static int run_phases(ld_run *r, cmk_err *err)
{
    double closed_rate = 0;
    int rc;

    r->nslots = r->wl.clients;
    for (int i = 0; i < r->wl.nphases; i++)
        if (r->wl.phases[i].clients > r->nslots)
            r->nslots = r->wl.phases[i].clients;
    if (!(r->slots = calloc((size_t)r->nslots, sizeof *r->slots)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    ld_sample_procs(r, 0);
    bench_loadavg(r->load_start);
    if ((rc = ld_events_start(r, err)) < 0)
        return rc;
    for (int i = 0; i < r->wl.nphases; i++) {
        ld_phase *ph = &r->phases[i];
        ph->ph = r->wl.phases[i];
        ph->clients = ph->ph.clients ? ph->ph.clients : r->wl.clients;
        ph->runs_before = (uint64_t)r->ntargets + r->ack_total; /* the warm-ups and runs so far */
        if (ph->ph.until_runs) {
            ph->ph.requests = ph->ph.until_runs > ph->runs_before ? ph->ph.until_runs - ph->runs_before : 0;
            fprintf(stderr, "phase %s: filling to %llu runs: %llu runs to go\n", ph->ph.name,
                    (unsigned long long)ph->ph.until_runs, (unsigned long long)ph->ph.requests);
            if (!ph->ph.requests) { /* full already */
                ph->start_ns = ph->end_ns = cmk_mono_ns();
                if (i == 0)
                    r->t0_ns = ph->start_ns;
                ph->pt_first = ph->pt_end = r->npts;
                ld_sample_procs(r, i + 1);
                continue;
            }
        }
        if (ph->ph.rate_share > 0)
            ph->ph.rate = closed_rate * ph->ph.rate_share > 1 ? closed_rate * ph->ph.rate_share : 1;
        r->nphases = i + 1;
        r->next_sample_ns = cmk_mono_ns() + 1000000000;
        if ((rc = r->wl.http_trigger ? ld_run_phase_http(r, i, err) : ld_run_phase(r, i, err)) < 0) {
            ld_events_stop(r);
            return rc;
        }
        ld_sample_procs(r, i + 1);
        bench_progress_done(&r->prog);
        fprintf(stderr, "phase %s: %.0f runs/s, p99 %.2f ms, %llu failed\n", ph->ph.name,
                ph->runs_s, (double)bench_percentile(&ph->lat, 99) / 1e6,
                (unsigned long long)ph->failed);
        if (ph->ph.rate == 0 && closed_rate == 0)
            closed_rate = ph->runs_s;
    }
    ld_events_stop(r);
    for (int i = 0; i < r->wl.nevents; i++)
        if (!r->events[i].done)
            fprintf(stderr, "event %s at %.1f s: not reached (the phases ended first)\n",
                    bench_event_kind_name(r->wl.events[i].kind),
                    (double)r->wl.events[i].at_ms / 1000.0);
    return 0;
}

/* outputs - stdout, --json, --md, --png */
static int outputs(const ld_opts *o, const cJSON *res, cmk_err *err)
{
    int rc = 0;

    bench_report_md(res, stdout);
    fflush(stdout);
    if (o->json && (rc = bench_report_json(res, o->json, err)) == 0)
        fprintf(stderr, "wrote %s\n", o->json);
    if (rc == 0 && o->md && (rc = bench_report_md_file(res, o->md, err)) == 0)
        fprintf(stderr, "wrote %s\n", o->md);
    if (rc == 0 && o->png) {
        cmk_err perr = CMK_ERR_INIT;
        if (bench_report_png(res, o->png, &perr) == 0)
            fprintf(stderr, "wrote %s\n", o->png);
        else
            fprintf(stderr, "cmk-bench: %s\n", perr.msg);
    }
    return rc;
}

/* check_thresholds - the workload's "thresholds" against every phase; the first not met is
 * CMK_ESTATE (exit 1), naming the phase, the measure and the bound */
static int check_thresholds(ld_run *r, cmk_err *err)
{
    const bench_workload *w = &r->wl;
    for (int i = 0; i < r->nphases; i++) {
        ld_phase *ph = &r->phases[i];
        double p99 = (double)bench_percentile(&ph->lat, 99) / 1e6;
        double total = (double)(ph->succeeded + ph->failed);
        double failed = total > 0 ? 100.0 * (double)ph->failed / total : 0;
        double want = w->min_runs_s;
        if (want >= 0 && ph->ph.rate > 0 && 0.9 * ph->ph.rate < want)
            want = 0.9 * ph->ph.rate;
        if (w->min_runs_s >= 0 && ph->runs_s < want)
            return cmk_err_set(err, CMK_ESTATE, "threshold not met: phase %s ran %.1f runs/s, under the workload's "
                                                "runs_s %.1f", ph->ph.name, ph->runs_s, want);
        if (w->max_p99_ms >= 0 && p99 > w->max_p99_ms)
            return cmk_err_set(err, CMK_ESTATE, "threshold not met: phase %s had a p99 latency of %.2f ms, over "
                                                "the workload's p99_ms %.2f", ph->ph.name, p99, w->max_p99_ms);
        if (w->max_failed_pct >= 0 && failed > w->max_failed_pct)
            return cmk_err_set(err, CMK_ESTATE, "threshold not met: phase %s failed %.2f%% of its runs, over the "
                                                "workload's failed_pct %.2f", ph->ph.name, failed, w->max_failed_pct);
    }
    return 0;
}

/* run_load - connect, set up, run, verify, report */
static int run_load(ld_run *r, const ld_opts *o, const char *command, cmk_err *err)
{
    cJSON *res;
    int rc;

    for (int c = 0; c < r->wl.connections; c++) {
        if (!(r->conns[c] = cmk_client_new(r->run_dir, r->key_path, err)))
            return err->code ? err->code : CMK_EUNAVAIL;
        r->nconns = c + 1;
    }
    /* processes after the setup: dedicated workers start when their environment is added */
    if ((rc = setup(r, err)) < 0 || (rc = read_status(r, 0, err)) < 0 ||
        (rc = run_phases(r, err)) < 0)
        return rc;
    bench_progress_line(&r->prog, "verifying acknowledged runs with run.show");
    if ((rc = ld_verify(r, err)) < 0)
        return rc;
    bench_progress_done(&r->prog);
    (void)read_status(r, 1, err);
    cmk_err_clear(err);
    res = ld_results(r, command, o->workload);
    rc = outputs(o, res, err);
    cJSON_Delete(res);
    if (rc == 0 && (r->wl.soak_rss_kib >= 0 || r->wl.soak_fds >= 0)) {
        int64_t rss, fds;
        char who_rss[64], who_fds[64];
        ld_soak(r, &rss, who_rss, &fds, who_fds, sizeof who_rss);
        if (r->wl.soak_rss_kib >= 0 && rss > r->wl.soak_rss_kib)
            rc = cmk_err_set(err, CMK_EINTERNAL,
                             "soak: %s grew by %lld KiB of resident memory, more than the "
                             "workload's %lld KiB: a leak? (see its log and `make asan`)",
                             who_rss, (long long)rss, (long long)r->wl.soak_rss_kib);
        else if (r->wl.soak_fds >= 0 && fds > r->wl.soak_fds)
            rc = cmk_err_set(err, CMK_EINTERNAL,
                             "soak: %s has %lld more open file descriptors than after the first "
                             "phase, more than the workload's %lld: a descriptor leak? (ls -l "
                             "/proc/PID/fd)",
                             who_fds, (long long)fds, (long long)r->wl.soak_fds);
    }
    if (rc == 0)
        rc = check_thresholds(r, err);
    if (rc == 0 && r->v_lost)
        rc = cmk_err_set(err, CMK_EINTERNAL,
                         "%llu acknowledged runs were not found afterwards (e.g. %s): runs lost "
                         "must be 0",
                         (unsigned long long)r->v_lost, r->lost_example);
    return rc;
}

/* bench_load_cmd - `cmk-bench load` */
int bench_load_cmd(int argc, char **argv, cmk_err *err)
{
    ld_opts o = {0};
    const bench_optdef defs[] = {
        {"--run-dir", &o.run_dir, NULL},     {"--workload", &o.workload, NULL},
        {"--key", &o.key, NULL},             {"--duration", &o.duration, NULL},
        {"--requests", &o.requests, NULL},   {"--rate", &o.rate, NULL},
        {"--clients", &o.clients, NULL},     {"--connections", &o.connections, NULL},
        {"--verify", &o.verify, NULL},       {"--json", &o.json, NULL},
        {"--scale", &o.scale, NULL},         {"--fill", &o.fill, NULL},
        {"--md", &o.md, NULL},               {"--png", &o.png, NULL},
        {"--up", NULL, &o.up},               {"--help", NULL, &o.help},
        {NULL, NULL, NULL},
    };
    ld_run *r;
    char *cmdline, *command = NULL;
    int rc, started = 0;

    if ((rc = bench_args_parse(argc, argv, defs, "cmk-bench load", err)) < 0)
        return rc;
    if (o.help) {
        usage();
        return 0;
    }
    if (!o.run_dir)
        o.run_dir = getenv("CMK_RUN_DIR") && *getenv("CMK_RUN_DIR") ? getenv("CMK_RUN_DIR") : "./var";
    if (!o.workload)
        o.workload = "configs/workloads/compose-shared.json";
    if (!(r = calloc(1, sizeof *r)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    bench_progress_init(&r->prog);
    r->run_dir = o.run_dir;
    snprintf(r->key_path, sizeof r->key_path, "%s/keys/bench.key", o.run_dir);
    if (o.key)
        cmk_strlcpy(r->key_path, o.key, sizeof r->key_path);
    if ((rc = bench_workload_load(o.workload, &r->wl, err)) < 0 ||
        (rc = apply_overrides(&o, &r->wl, err)) < 0)
        goto done;
    if (r->wl.cluster_set && !o.up)
        fprintf(stderr, "cmk-bench: the workload's \"cluster\" settings apply only when --up starts "
                        "the cluster; the running cluster keeps its own\n");
    if (o.up) {
        if ((rc = cmkctl(o.run_dir, "up", r->wl.cluster_set, err)) < 0)
            goto done;
        started = 1;
    }
    if (r->wl.http_trigger && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = cmk_err_set(err, CMK_EIO, "libcurl could not be initialized");
        goto done;
    }
    cmdline = bench_command_line(argc, argv);
    if (cmdline && (command = malloc(strlen(cmdline) + 32)))
        sprintf(command, "cmk-bench load%s%s", *cmdline ? " " : "", cmdline);
    free(cmdline);
    rc = run_load(r, &o, command ? command : "cmk-bench load", err);
done:
    bench_progress_done(&r->prog);
    for (int c = 0; c < r->nconns; c++)
        cmk_client_destroy(&r->conns[c]);
    ld_events_stop(r); /* before the cluster goes away (run_phases stopped it already) */
    if (started) {
        cmk_err derr = CMK_ERR_INIT;
        if (cmkctl(o.run_dir, "down", NULL, &derr) < 0)
            fprintf(stderr, "cmk-bench: %s\n", derr.msg);
    }
    for (int i = 0; i < BENCH_WL_MAX_PHASES; i++)
        bench_samples_free(&r->phases[i].lat);
    bench_samples_free(&r->prog_lat);
    if (r->wl.http_trigger)
        curl_global_cleanup();
    bench_workload_free(&r->wl);
    free(r->targets);
    free(r->envs);
    free(r->slots);
    free(r->acks);
    free(r->pts);
    free(command);
    free(r);
    return rc;
}
