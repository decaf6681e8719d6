/*
 * load_json.c - the results document of cmk-bench load: phases, failures by cause, the
 * verification (runs lost), processes' CPU and memory, the per-second timeline, and the
 * issue's targets (see load_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "load_int.h"

/* lat_json - p50, p99, p99.9 and max of samples in ms */
static cJSON *lat_json(bench_samples *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "p50", (double)bench_percentile(s, 50) / 1e6);
    cJSON_AddNumberToObject(o, "p99", (double)bench_percentile(s, 99) / 1e6);
    cJSON_AddNumberToObject(o, "p999", (double)bench_percentile(s, 99.9) / 1e6);
    cJSON_AddNumberToObject(o, "max", (double)bench_percentile(s, 100) / 1e6);
    cJSON_AddNumberToObject(o, "samples", (double)s->n);
    return o;
}

/* phases_json - one object per phase, with each process's CPU share during it */
static cJSON *phases_json(ld_run *r)
{
    cJSON *arr = cJSON_CreateArray();
    double tck = (double)bench_clk_tck();

    for (int i = 0; i < r->nphases; i++) {
        ld_phase *ph = &r->phases[i];
        cJSON *o = cJSON_CreateObject(), *cpu, *per;
        double wall = (double)(ph->end_ns - ph->start_ns) / 1e9;
        cJSON_AddStringToObject(o, "name", ph->ph.name);
        cJSON_AddNumberToObject(o, "clients", ph->clients);
        cJSON_AddNumberToObject(o, "rate", ph->ph.rate);
        cJSON_AddNumberToObject(o, "seconds", wall);
        cJSON_AddNumberToObject(o, "submitted", (double)ph->submitted);
        cJSON_AddNumberToObject(o, "acknowledged", (double)ph->acked);
        cJSON_AddNumberToObject(o, "succeeded", (double)ph->succeeded);
        cJSON_AddNumberToObject(o, "failed", (double)ph->failed);
        cJSON_AddNumberToObject(o, "runs_s", ph->runs_s);
        cJSON_AddNumberToObject(o, "runs_before", (double)ph->runs_before);
        if (ph->ph.until_runs)
            cJSON_AddNumberToObject(o, "until_runs", (double)ph->ph.until_runs);
        cJSON_AddItemToObject(o, "latency_ms", lat_json(&ph->lat));
        cpu = cJSON_AddObjectToObject(o, "cpu_pct");
        per = cJSON_AddObjectToObject(o, "cpu_us_per_run");
        for (int p = 0; p < r->nprocs; p++) {
            double s = (double)(r->procs[p].ticks[i + 1] - r->procs[p].ticks[i]) / tck;
            if (!r->procs[p].readable || wall <= 0)
                continue;
            cJSON_AddNumberToObject(cpu, r->procs[p].name, s / wall * 100);
            if (ph->acked)
                cJSON_AddNumberToObject(per, r->procs[p].name, s * 1e6 / (double)ph->acked);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* procs_json - every process over all phases */
static cJSON *procs_json(ld_run *r)
{
    cJSON *arr = cJSON_CreateArray();
    double tck = (double)bench_clk_tck();
    double wall = r->nphases ? (double)(r->phases[r->nphases - 1].end_ns - r->phases[0].start_ns) / 1e9 : 0;

    for (int p = 0; p < r->nprocs; p++) {
        ld_proc *pr = &r->procs[p];
        cJSON *o = cJSON_CreateObject();
        double cpu = (double)(pr->ticks[r->nphases] - pr->ticks[0]) / tck;
        cJSON_AddStringToObject(o, "name", pr->name);
        cJSON_AddStringToObject(o, "role", pr->role);
        cJSON_AddNumberToObject(o, "pid", pr->pid);
        cJSON_AddBoolToObject(o, "readable", pr->readable);
        if (pr->readable) {
            cJSON_AddNumberToObject(o, "cpu_s", cpu);
            cJSON_AddNumberToObject(o, "cpu_pct", wall > 0 ? cpu / wall * 100 : 0);
            cJSON_AddNumberToObject(o, "rss_kb", (double)pr->rss_kb);
            cJSON_AddNumberToObject(o, "rss_peak_kb", (double)pr->rss_peak_kb);
            cJSON_AddNumberToObject(o, "threads", (double)pr->threads);
            cJSON_AddNumberToObject(o, "fds", (double)pr->fds);
            if (pr->pss_kb >= 0) {
                cJSON_AddNumberToObject(o, "pss_kb", (double)pr->pss_kb);
                cJSON_AddNumberToObject(o, "private_kb", (double)pr->private_kb);
            }
        }
        if (pr->based && pr->lasted) {
            cJSON_AddNumberToObject(o, "rss_growth_kb", (double)(pr->last_rss_kb - pr->base_rss_kb));
            cJSON_AddNumberToObject(o, "fd_growth", (double)(pr->last_fds - pr->base_fds));
        }
        cJSON_AddNumberToObject(o, "restarts_during_run", pr->restarts_end - pr->restarts);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* timeline_json - per-second buckets of each phase (a phase's last bucket also holds the
 * replies that came in after its end) */
static cJSON *timeline_json(ld_run *r)
{
    cJSON *arr = cJSON_CreateArray();

    for (int i = 0; i < r->nphases; i++) {
        ld_phase *ph = &r->phases[i];
        int64_t span = ph->ph.duration_ms ? ph->ph.duration_ms : (ph->end_ns - ph->start_ns) / 1000000 + 1;
        double t0 = (double)((ph->start_ns - r->t0_ns) / 1000000) / 1000.0;
        bench_bucket *b = NULL;
        size_t nb = 0;

        uint32_t *by = NULL; /* failures per bucket and cause: by[k * LD_MAX_FAILS + cause] */

        if (bench_bucketize(r->pts + ph->pt_first, ph->pt_end - ph->pt_first, 1000, span, &b, &nb) < 0)
            continue;
        if ((by = calloc(nb * LD_MAX_FAILS, sizeof *by)))
            for (size_t q = ph->pt_first; q < ph->pt_end; q++) {
                const bench_point *pt = &r->pts[q];
                size_t k = pt->t_ms < 0 ? 0 : (size_t)(pt->t_ms / 1000);
                if (pt->ok || pt->cause < 1 || pt->cause > LD_MAX_FAILS)
                    continue;
                by[(k < nb ? k : nb - 1) * LD_MAX_FAILS + (size_t)(pt->cause - 1)]++;
            }
        for (size_t k = 0; k < nb; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "t_s", t0 + (double)b[k].start_ms / 1000.0);
            cJSON_AddStringToObject(o, "phase", ph->ph.name);
            cJSON_AddNumberToObject(o, "runs", (double)(b[k].done - b[k].failed));
            cJSON_AddNumberToObject(o, "failed", (double)b[k].failed);
            cJSON_AddNumberToObject(o, "p50_ms", (double)b[k].p50_ns / 1e6);
            cJSON_AddNumberToObject(o, "p99_ms", (double)b[k].p99_ns / 1e6);
            cJSON_AddNumberToObject(o, "max_ms", (double)b[k].max_ns / 1e6);
            if (by && b[k].failed) {
                cJSON *fb = cJSON_AddObjectToObject(o, "failed_by");
                for (int c = 0; c < r->nfails && c < LD_MAX_FAILS; c++)
                    if (by[k * LD_MAX_FAILS + (size_t)c])
                        cJSON_AddNumberToObject(fb, r->fails[c].cause, by[k * LD_MAX_FAILS + (size_t)c]);
            }
            cJSON_AddItemToArray(arr, o);
        }
        free(by);
        free(b);
    }
    return arr;
}

/* target - one target row */
static void target(cJSON *arr, const char *id, const char *what, const char *cmp, double goal,
                   const char *unit, int measured, double value, int met, const char *note)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "id", id);
    cJSON_AddStringToObject(t, "what", what);
    cJSON_AddStringToObject(t, "cmp", cmp);
    cJSON_AddNumberToObject(t, "target", goal);
    cJSON_AddStringToObject(t, "unit", unit);
    if (measured) {
        cJSON_AddNumberToObject(t, "measured", value);
        cJSON_AddBoolToObject(t, "met", met);
    } else {
        cJSON_AddNullToObject(t, "measured");
        cJSON_AddNullToObject(t, "met");
    }
    if (note)
        cJSON_AddStringToObject(t, "note", note);
    cJSON_AddItemToArray(arr, t);
}

/* ld_soak - largest growths over the processes read at both ends */
void ld_soak(const ld_run *r, int64_t *rss_kib, char *who_rss, int64_t *fds, char *who_fds,
             size_t cap)
{
    *rss_kib = *fds = 0;
    who_rss[0] = who_fds[0] = '\0';
    for (int i = 0; i < r->nprocs; i++) {
        const ld_proc *p = &r->procs[i];
        if (!p->based || !p->lasted || strcmp(p->role, "bench") == 0)
            continue; /* cmk-bench itself grows with what it records */
        if (!who_rss[0] || p->last_rss_kb - p->base_rss_kb > *rss_kib) {
            *rss_kib = p->last_rss_kb - p->base_rss_kb;
            snprintf(who_rss, cap, "%s", p->name);
        }
        if (p->base_fds >= 0 && p->last_fds >= 0 && (!who_fds[0] || p->last_fds - p->base_fds > *fds)) {
            *fds = p->last_fds - p->base_fds;
            snprintf(who_fds, cap, "%s", p->name);
        }
    }
}

/* has_http_action - does the flow definition call HTTP (a run then goes through the gateway)? */
static int has_http_action(const cJSON *def)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, cJSON_GetObjectItem(def, "actions"))
    {
        if (strcmp(cmk_json_str(a, "type", ""), "Http") == 0)
            return 1;
    }
    return 0;
}

/* grouped - n with thousands separators ("2,000,000") */
static const char *grouped(uint64_t n, char *buf, size_t cap)
{
    char d[32];
    size_t len, o = 0;

    len = (size_t)snprintf(d, sizeof d, "%llu", (unsigned long long)n);
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = '\0';
    return buf;
}

/* find_phase - the phase of that name as it ran (NULL: it did not run) */
static ld_phase *find_phase(ld_run *r, const char *name)
{
    for (int i = 0; i < r->nphases; i++)
        if (strcmp(r->phases[i].ph.name, name) == 0)
            return &r->phases[i];
    return NULL;
}

/* compare_target - the workload's "compare": phase's p99 over with's, at most p99_ratio_max
 * ("p99 at 5,000 runs/s on a partition of 2,000,000 runs within 1.5x of a fresh partition"):
 * both p99s and p50s, the ratio and the runs the environments held at each phase's start */
static void compare_target(ld_run *r, cJSON *arr)
{
    const bench_workload *w = &r->wl;
    ld_phase *a = find_phase(r, w->cmp_phase), *b = find_phase(r, w->cmp_with);
    uint64_t size = 0;
    char what[240], note[320], g1[32], g2[32], g3[32];
    double p99a = 0, p99b = 0, p50a = 0, p50b = 0, ratio = 0;
    int measured = a && b && a->lat.n > 0 && b->lat.n > 0;
    cJSON *t;

    for (int i = 0; i < w->nphases; i++) /* the size aimed at: the largest fill */
        if (w->phases[i].until_runs > size)
            size = w->phases[i].until_runs;
    if (!size && a)
        size = a->runs_before;
    snprintf(what, sizeof what, "p99 at %s runs/s on a partition of %s runs within %gx of a fresh partition",
             grouped(a ? (uint64_t)(a->ph.rate + 0.5) : 0, g1, sizeof g1), grouped(size, g2, sizeof g2),
             w->cmp_p99_ratio_max);
    if (measured) {
        p99a = (double)bench_percentile(&a->lat, 99) / 1e6;
        p99b = (double)bench_percentile(&b->lat, 99) / 1e6;
        p50a = (double)bench_percentile(&a->lat, 50) / 1e6;
        p50b = (double)bench_percentile(&b->lat, 50) / 1e6;
        ratio = p99b > 0 ? p99a / p99b : 0;
        snprintf(note, sizeof note,
                 "%s: p99 %.2f ms, p50 %.2f ms at %.0f runs/s on %s runs; %s: p99 %.2f ms, p50 %.2f ms "
                 "at %.0f runs/s on %s runs",
                 a->ph.name, p99a, p50a, a->runs_s, grouped(a->runs_before, g1, sizeof g1), b->ph.name, p99b,
                 p50b, b->runs_s, grouped(b->runs_before, g3, sizeof g3));
    } else {
        snprintf(note, sizeof note, "phase %s or %s did not run or had no successful run", w->cmp_phase,
                 w->cmp_with);
    }
    target(arr, "flat-latency", what, "≤", w->cmp_p99_ratio_max, "x", measured && p99b > 0, ratio,
           measured && p99b > 0 && ratio <= w->cmp_p99_ratio_max, note);
    t = cJSON_GetArrayItem(arr, cJSON_GetArraySize(arr) - 1);
    cJSON_AddStringToObject(t, "phase", w->cmp_phase);
    cJSON_AddStringToObject(t, "with", w->cmp_with);
    if (measured) {
        cJSON_AddNumberToObject(t, "phase_p99_ms", p99a);
        cJSON_AddNumberToObject(t, "with_p99_ms", p99b);
        cJSON_AddNumberToObject(t, "phase_p50_ms", p50a);
        cJSON_AddNumberToObject(t, "with_p50_ms", p50b);
        cJSON_AddNumberToObject(t, "phase_runs_before", (double)a->runs_before);
        cJSON_AddNumberToObject(t, "with_runs_before", (double)b->runs_before);
    }
}

/* targets_json - runs/s (Compose-only or HTTP), p99 at half the rate, dedicated environments
 * and idle worker memory (workloads of 200 dedicated environments), runs lost */
static cJSON *targets_json(ld_run *r)
{
    cJSON *arr = cJSON_CreateArray();
    ld_phase *closed = NULL, *paced = NULL;
    char note[320];

    for (int i = 0; i < r->nphases; i++) {
        ld_phase *ph = &r->phases[i];
        if (ph->ph.rate == 0 && (!closed || ph->runs_s > closed->runs_s))
            closed = ph;
        if (ph->ph.rate > 0 && !paced)
            paced = ph;
    }
    if (closed)
        snprintf(note, sizeof note, "closed loop, %d runs in flight (phase %s)", closed->clients,
                 closed->ph.name);
    if (r->wl.http_trigger)
        target(arr, "runs-5k-http", "HTTP-trigger flow runs through the gateway's URLs, sustained",
               "≥", 5000, "runs/s", closed != NULL, closed ? closed->runs_s : 0,
               closed && closed->runs_s >= 5000, closed ? note : "no closed-loop phase in this run");
    else if (has_http_action(r->wl.definition))
        target(arr, "runs-5k-http", "HTTP-action flow runs through the gateway, sustained", "≥",
               5000, "runs/s", closed != NULL, closed ? closed->runs_s : 0,
               closed && closed->runs_s >= 5000, closed ? note : "no closed-loop phase in this run");
    else
        target(arr, "runs-10k", "Compose-only flow runs through the controller, sustained", "≥",
               10000, "runs/s", closed != NULL, closed ? closed->runs_s : 0,
               closed && closed->runs_s >= 10000, closed ? note : "no closed-loop phase in this run");
    if (paced)
        snprintf(note, sizeof note,
                 "at %.0f runs/s offered, %.0f achieved (phase %s; the target's half rate is 5,000 runs/s)",
                 paced->ph.rate, paced->runs_s, paced->ph.name);
    target(arr, "p99-half-rate", "p99 latency at half the target rate", "<", 20, "ms",
           paced != NULL && paced->lat.n > 0, paced ? (double)bench_percentile(&paced->lat, 99) / 1e6 : 0,
           paced && (double)bench_percentile(&paced->lat, 99) / 1e6 < 20,
           paced ? note : "no paced phase (rate) in this run");
    if (r->wl.dedicated >= 200) {
        int running = 0;
        int64_t max_kb = 0, max_pss = 0, max_priv = 0;
        for (int i = 0; i < r->nprocs; i++)
            if (strncmp(r->procs[i].name, "worker-env-", 11) == 0 && r->procs[i].readable &&
                r->procs[i].rss_kb > 0) {
                running++;
                if (r->procs[i].rss_kb > max_kb)
                    max_kb = r->procs[i].rss_kb;
                if (r->procs[i].pss_kb > max_pss)
                    max_pss = r->procs[i].pss_kb;
                if (r->procs[i].private_kb > max_priv)
                    max_priv = r->procs[i].private_kb;
            }
        snprintf(note, sizeof note, "dedicated workers alive at the end, of %d dedicated "
                                    "environments", r->wl.dedicated);
        target(arr, "dedicated-200", "dedicated environments running at once", "≥", 200,
               "environments", 1, running, running >= 200, note);
        snprintf(note, sizeof note, "largest VmRSS of the %d dedicated workers after the last "
                                    "phase; of it their own pages at most %.1f MiB, PSS at most %.1f MiB "
                                    "(the rest: shared library pages)",
                 running, (double)max_priv / 1024, (double)max_pss / 1024);
        target(arr, "idle-worker-rss", "resident memory of an idle dedicated worker", "<", 8,
               "MiB", running > 0, (double)max_kb / 1024, running > 0 && max_kb < 8 * 1024, note);
    }
    if (r->wl.soak_rss_kib >= 0 || r->wl.soak_fds >= 0) {
        int64_t rss, fds;
        char who_rss[64], who_fds[64];
        ld_soak(r, &rss, who_rss, &fds, who_fds, sizeof who_rss);
        if (r->wl.soak_rss_kib >= 0) {
            snprintf(note, sizeof note, "largest growth from the end of phase %s to the end of %s: %s",
                     r->phases[0].ph.name, r->phases[r->nphases - 1].ph.name, who_rss[0] ? who_rss : "none");
            target(arr, "soak-rss", "resident memory growth of any process during the soak", "≤",
                   (double)r->wl.soak_rss_kib, "KiB", who_rss[0] != 0, (double)rss,
                   rss <= r->wl.soak_rss_kib, note);
        }
        if (r->wl.soak_fds >= 0) {
            snprintf(note, sizeof note, "largest growth: %s", who_fds[0] ? who_fds : "none");
            target(arr, "soak-fds", "open file descriptor growth of any process during the soak", "≤",
                   (double)r->wl.soak_fds, "descriptors", who_fds[0] != 0, (double)fds,
                   fds <= r->wl.soak_fds, note);
        }
    }
    if (r->wl.cmp_phase[0])
        compare_target(r, arr);
    snprintf(note, sizeof note, "run.show of %llu of %llu acknowledged runs",
             (unsigned long long)r->v_checked, (unsigned long long)r->ack_total);
    target(arr, "runs-lost", "runs lost (acknowledged, not found afterwards)", "=", 0, "runs",
           r->v_checked > 0, (double)r->v_lost, r->v_lost == 0, note);
    return arr;
}

/* events_json - every timed event as it ran (or was not reached) */
static cJSON *events_json(ld_run *r)
{
    cJSON *arr = cJSON_CreateArray();

    for (int i = 0; i < r->wl.nevents; i++) {
        const ld_event_result *e = &r->events[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "do", bench_event_kind_name(r->wl.events[i].kind));
        cJSON_AddNumberToObject(o, "at_ms", (double)r->wl.events[i].at_ms);
        cJSON_AddStringToObject(o, "result", !e->done ? "not reached" : e->ok ? "ok" : "failed");
        if (e->done) {
            cJSON_AddNumberToObject(o, "started_ms", (double)e->started_ms);
            /* on the timeline's axis (seconds since the first phase began) */
            cJSON_AddNumberToObject(o, "t_s", (double)((r->ev_t0_ns - r->t0_ns) / 1000000 + e->started_ms) / 1000.0);
            cJSON_AddNumberToObject(o, "took_ms", (double)e->took_ms);
            cJSON_AddStringToObject(o, "message", e->message);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* ld_results - the whole document */
cJSON *ld_results(ld_run *r, const char *command, const char *workload_file)
{
    cJSON *res = cJSON_CreateObject(), *f, *ex, *v;
    bench_machine m;
    double best = 0;

    cJSON_AddStringToObject(res, "kind", "load");
    cJSON_AddStringToObject(res, "command", command);
    cJSON_AddStringToObject(res, "workload_file", workload_file);
    cJSON_AddStringToObject(res, "run_dir", r->run_dir);
    bench_machine_get(&m, r->run_dir);
    cJSON_AddItemToObject(res, "machine", bench_machine_json(&m));
    cJSON_AddItemToObject(cJSON_GetObjectItem(res, "machine"), "loadavg_start", cJSON_CreateDoubleArray(r->load_start, 3));
    cJSON_AddItemToObject(res, "workload", bench_workload_json(&r->wl));
    cJSON_AddItemToObject(res, "phases", phases_json(r));
    for (int i = 0; i < r->nphases; i++)
        if (r->phases[i].ph.rate == 0 && r->phases[i].runs_s > best)
            best = r->phases[i].runs_s;
    cJSON_AddNumberToObject(res, "runs_s", best);
    f = cJSON_AddObjectToObject(res, "failures");
    ex = cJSON_AddObjectToObject(res, "failure_examples");
    for (int i = 0; i < r->nfails; i++) {
        cJSON_AddNumberToObject(f, r->fails[i].cause, (double)r->fails[i].count);
        cJSON_AddStringToObject(ex, r->fails[i].cause, r->fails[i].example);
    }
    cJSON_AddNumberToObject(res, "late_replies", (double)r->late);
    cJSON_AddItemToObject(res, "events", events_json(r));
    v = cJSON_AddObjectToObject(res, "verify");
    cJSON_AddNumberToObject(v, "acknowledged", (double)r->ack_total);
    cJSON_AddNumberToObject(v, "warmup", r->ntargets); /* one run per flow before the phases */
    cJSON_AddNumberToObject(v, "checked", (double)r->v_checked);
    cJSON_AddNumberToObject(v, "found", (double)r->v_found);
    cJSON_AddNumberToObject(v, "lost", (double)r->v_lost);
    cJSON_AddNumberToObject(v, "errors", (double)r->v_errors);
    if (r->lost_example[0])
        cJSON_AddStringToObject(v, "lost_example", r->lost_example);
    cJSON_AddNumberToObject(res, "runs_lost", (double)r->v_lost);
    cJSON_AddItemToObject(res, "processes", procs_json(r));
    cJSON_AddItemToObject(res, "timeline", timeline_json(r));
    cJSON_AddItemToObject(res, "targets", targets_json(r));
    return res;
}
