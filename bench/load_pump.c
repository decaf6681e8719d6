/*
 * load_pump.c - the loop of cmk-bench load: it keeps up to `clients` requests in flight over
 * the DEALER sockets (request ids it chooses, "L<slot>.<seq>", so a reply finds its slot
 * without a lookup), paces them when a phase has a rate, times out those not answered in
 * request_timeout, and records every completion. Used for the flow runs of each phase and
 * then for the run.show requests that verify no acknowledged run was lost.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/util.h"
#include "gw_errmap.h"
#include "load_int.h"
#include "ops.h"

/* What the pump is doing. */
typedef struct {
    int verify;           /* 0: flow.run of a phase; 1: run.show of acknowledged runs */
    ld_phase *phase;      /* the phase (runs) */
    int clients;          /* requests in flight at most */
    double rate;          /* offered requests/s (0: as fast as replies come) */
    int64_t deadline_ns;  /* stop sending then (0: none) */
    uint64_t total;       /* or after this many (UINT64_MAX: none) */
    const size_t *items;  /* verify: indices into r->acks to check */
    uint64_t sent;        /* sent so far */
    int inflight;         /* in flight now */
    size_t *retry;        /* verify: indices that could not be checked */
    size_t nretry;        /* how many */
} ld_job;

/* ld_fail - count one failure */
int ld_fail(ld_run *r, const char *cause, const char *message)
{
    int i;
    for (i = 0; i < r->nfails; i++)
        if (strcmp(r->fails[i].cause, cause) == 0)
            break;
    if (i == r->nfails) {
        if (r->nfails == LD_MAX_FAILS)
            i = LD_MAX_FAILS - 1, cause = "other"; /* the last slot collects the rest */
        else
            r->nfails++;
        if (!r->fails[i].count) {
            cmk_strlcpy(r->fails[i].cause, cause, sizeof r->fails[i].cause);
            cmk_strlcpy(r->fails[i].example, message ? message : "", sizeof r->fails[i].example);
        }
    }
    r->fails[i].count++;
    return i;
}

/* ld_sample_procs - /proc of every process */
void ld_sample_procs(ld_run *r, int at_boundary)
{
    for (int i = 0; i < r->nprocs; i++) {
        ld_proc *p = &r->procs[i];
        bench_proc bp;
        if (bench_proc_read(p->pid, &bp, NULL) < 0) {
            p->readable = 0;
            continue;
        }
        p->readable = 1;
        p->rss_kb = bp.rss_kb;
        p->threads = bp.threads;
        p->fds = bp.fds;
        p->pss_kb = bp.pss_kb;
        p->private_kb = bp.private_kb;
        if (at_boundary == 1) { /* the soak base: warm, after the first phase */
            p->base_rss_kb = bp.rss_kb;
            p->base_fds = bp.fds;
            p->based = 1;
        }
        if (at_boundary > 1 && at_boundary == r->wl.nphases) {
            p->last_rss_kb = bp.rss_kb;
            p->last_fds = bp.fds;
            p->lasted = 1;
        }
        if (bp.rss_kb > p->rss_peak_kb)
            p->rss_peak_kb = bp.rss_kb;
        if (at_boundary >= 0 && at_boundary <= BENCH_WL_MAX_PHASES)
            p->ticks[at_boundary] = bp.utime + bp.stime;
    }
}

/* add_point - one completed run request, for the timeline (t_ms from its phase's start) */
static void add_point(ld_run *r, int64_t t_ms, int64_t lat, int ok, int cause)
{
    if (r->npts == r->cap_pts) {
        size_t ncap = r->cap_pts ? r->cap_pts * 2 : 65536;
        bench_point *n = realloc(r->pts, ncap * sizeof *n);
        if (!n)
            return; /* the timeline loses points; the totals do not */
        r->pts = n;
        r->cap_pts = ncap;
    }
    r->pts[r->npts].t_ms = t_ms > INT32_MAX ? INT32_MAX : (int32_t)t_ms;
    r->pts[r->npts].lat_ns = lat;
    r->pts[r->npts].ok = (int16_t)ok;
    r->pts[r->npts].cause = (int16_t)cause;
    r->npts++;
}

/* thin_acks - keep every other remembered run (an even sample still) and double the stride */
static void thin_acks(ld_run *r)
{
    size_t k;
    for (k = 0; 2 * k < r->nacks; k++)
        r->acks[k] = r->acks[2 * k];
    r->nacks = k;
    r->ack_stride *= 2;
}

/* add_ack - remember an acknowledged run for verification: all of them, or with "verify": N
 * an even sample of at most max(4 N, 65536) (memory bounded however long the load) */
static void add_ack(ld_run *r, const char *run, size_t target)
{
    uint64_t idx = r->ack_total++;

    if (!r->ack_stride)
        r->ack_stride = 1;
    if (idx % r->ack_stride)
        return;
    if (r->nacks == r->cap_acks && r->wl.verify > 0 &&
        r->nacks >= (size_t)(4 * r->wl.verify > 65536 ? 4 * r->wl.verify : 65536)) {
        thin_acks(r);
        if (idx % r->ack_stride)
            return;
    }
    if (r->nacks == r->cap_acks) {
        size_t ncap = r->cap_acks ? r->cap_acks * 2 : 65536;
        ld_ack *n = realloc(r->acks, ncap * sizeof *n);
        if (!n) {
            ld_fail(r, "bench-oom", "out of memory remembering acknowledged runs");
            return;
        }
        r->acks = n;
        r->cap_acks = ncap;
    }
    cmk_strlcpy(r->acks[r->nacks].run, run, sizeof r->acks[r->nacks].run);
    r->acks[r->nacks].target = (int)target;
    r->nacks++;
}

/* send_one - the next request of the job into slot s */
static int send_one(ld_run *r, ld_job *j, int s, cmk_err *err)
{
    ld_slot *sl = &r->slots[s];
    cJSON *body = cJSON_CreateObject();
    cmk_msg *msg;
    char creq[80];
    int rc;

    sl->item = j->verify ? j->items[j->sent] : (size_t)(r->seq % (uint64_t)r->ntargets);
    snprintf(sl->reqid, sizeof sl->reqid, "L%d.%llu", s, (unsigned long long)++r->seq);
    if (j->verify) {
        cJSON_AddStringToObject(body, "env", r->targets[r->acks[sl->item].target].env);
        cJSON_AddStringToObject(body, "run", r->acks[sl->item].run);
    } else {
        cJSON_AddStringToObject(body, "env", r->targets[sl->item].env);
        cJSON_AddStringToObject(body, "flow", r->targets[sl->item].flow);
        if (r->wl.body)
            cJSON_AddItemToObject(body, "body", cJSON_Duplicate(r->wl.body, 1));
        snprintf(creq, sizeof creq, "%s%llu", r->req_prefix, (unsigned long long)r->seq);
        cJSON_AddStringToObject(body, "client_req", creq);
    }
    if (!(msg = cmk_msg_new(j->verify ? CMK_T_RUN_SHOW : CMK_T_FLOW_RUN, sl->reqid))) {
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_msg_set_body(msg, body);
    sl->sent_ns = cmk_mono_ns();
    rc = cmk_msg_send(msg, cmk_client_socket(r->conns[s % r->nconns]), err);
    cmk_msg_destroy(&msg);
    j->sent++;
    if (rc < 0) {
        ld_fail(r, "send", err->msg);
        cmk_err_clear(err);
        if (j->phase)
            j->phase->failed++;
        return 0;
    }
    sl->busy = 1;
    j->inflight++;
    if (j->phase)
        j->phase->submitted++;
    return 0;
}

/* ld_record_run - account one run request of a phase: run (NULL: not acknowledged, with
 * cause and message) and its status */
void ld_record_run(ld_run *r, ld_phase *ph, int64_t lat, int64_t now, size_t item, const char *run,
                   const char *status, const char *cause, const char *message)
{
    int ok = 0, why = 0;

    if (!run) {
        why = 1 + ld_fail(r, cause, message);
    } else {
        /* an HTTP action the gateway could not perform (refused by the firewall, reset, timed
         * out, ...) is a failure by its cause, even when the flow's own error handling
         * (runAfter Failed) let the run end Succeeded */
        gw_outcome out = gw_errmap_outcome_of(message);
        ph->acked++;
        add_ack(r, run, item);
        ok = strcmp(status, "Succeeded") == 0 && out == GW_OUT_OK;
        if (ok) {
            ph->succeeded++;
            bench_samples_add(&ph->lat, lat);
        } else if (out != GW_OUT_OK) {
            why = 1 + ld_fail(r, gw_outcome_cause(out), message);
        } else {
            char c[48];
            snprintf(c, sizeof c, "status:%s", status);
            why = 1 + ld_fail(r, c, message && *message ? message : status);
        }
    }
    if (!ok)
        ph->failed++;
    add_point(r, (now - ph->start_ns) / 1000000, lat, ok, why);
    ph->end_ns = now;
}

/* complete_run - a flow.run reply (NULL: timed out) */
static void complete_run(ld_run *r, ld_job *j, ld_slot *sl, const cmk_msg *m, int64_t now)
{
    int64_t lat = now - sl->sent_ns;
    const char *run;

    if (!m)
        ld_record_run(r, j->phase, lat, now, sl->item, NULL, NULL, "timeout",
                      "no reply within request_timeout");
    else if (strcmp(m->type, CMK_MSG_REPLY) != 0)
        ld_record_run(r, j->phase, lat, now, sl->item, NULL, NULL,
                      cmk_json_str(m->body, "code", "error"), cmk_json_str(m->body, "message", ""));
    else if (!(run = cmk_json_str(m->body, "run", NULL)))
        ld_record_run(r, j->phase, lat, now, sl->item, NULL, NULL, "no-run-id",
                      "a flow.run reply without a run id");
    else
        ld_record_run(r, j->phase, lat, now, sl->item, run, cmk_json_str(m->body, "status", "?"),
                      NULL, cmk_json_str(m->body, "action_error", NULL));
}

/* complete_verify - a run.show reply (NULL: timed out) */
static void complete_verify(ld_run *r, ld_job *j, ld_slot *sl, const cmk_msg *m)
{
    if (m && strcmp(m->type, CMK_MSG_REPLY) == 0) {
        r->v_found++;
    } else if (m && strcmp(cmk_json_str(m->body, "code", ""), "ENOENT") == 0) {
        r->v_lost++;
        if (!r->lost_example[0])
            snprintf(r->lost_example, sizeof r->lost_example, "%s: %s", r->acks[sl->item].run,
                     cmk_json_str(m->body, "message", ""));
    } else if (j->retry) {
        j->retry[j->nretry++] = sl->item;
    }
}

/* on_reply - match a reply to its slot */
static void on_reply(ld_run *r, ld_job *j, cmk_msg *m, int64_t now)
{
    char *end;
    long s = m->reqid[0] == 'L' ? strtol(m->reqid + 1, &end, 10) : -1;
    ld_slot *sl;

    if (s < 0 || s >= r->nslots || !r->slots[s].busy || strcmp(r->slots[s].reqid, m->reqid) != 0) {
        r->late++; /* answered after it timed out, or not ours */
        return;
    }
    sl = &r->slots[s];
    sl->busy = 0;
    j->inflight--;
    if (j->verify)
        complete_verify(r, j, sl, m);
    else
        complete_run(r, j, sl, m, now);
}

/* drain - every message waiting on every socket */
static void drain(ld_run *r, ld_job *j)
{
    for (int c = 0; c < r->nconns; c++) {
        void *sock = cmk_client_socket(r->conns[c]);
        for (;;) {
            int ev = 0;
            size_t sz = sizeof ev;
            cmk_msg *m = NULL, *partial = NULL;
            if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &sz) != 0 || !(ev & ZMQ_POLLIN))
                break;
            if (cmk_msg_recv(sock, &m, &partial, NULL) == 0)
                on_reply(r, j, m, cmk_mono_ns());
            else
                ld_fail(r, "bad-reply", "a reply that does not decode");
            cmk_msg_destroy(&m);
            cmk_msg_destroy(&partial);
        }
    }
}

/* expire - slots older than the request timeout fail */
static void expire(ld_run *r, ld_job *j, int64_t now)
{
    int64_t limit = r->wl.request_timeout_ms * 1000000;
    for (int s = 0; s < r->nslots; s++) {
        ld_slot *sl = &r->slots[s];
        if (!sl->busy || now - sl->sent_ns < limit)
            continue;
        sl->busy = 0;
        j->inflight--;
        if (j->verify)
            complete_verify(r, j, sl, NULL);
        else
            complete_run(r, j, sl, NULL, now);
    }
}

/* progress - once a second an RSS sample; a progress line every second on a terminal, every
 * 5 s otherwise (a fill of millions of runs logs a line per 5 s): runs so far, runs/s over the
 * phase and since the last line, and the p99 of the runs since the last line (not of the whole
 * phase: sorting millions of samples every second would cost the machine being measured) */
static void progress(ld_run *r, ld_job *j, int64_t now)
{
    if (now < r->next_sample_ns)
        return;
    r->next_sample_ns = now + 1000000000;
    ld_sample_procs(r, -1);
    if (now < r->next_line_ns)
        return;
    r->next_line_ns = now + (r->prog.tty ? 1000000000 : 5000000000);
    if (j->verify) {
        bench_progress_line(&r->prog, "verifying: %llu checked, %llu found, %llu lost",
                            (unsigned long long)r->v_checked, (unsigned long long)r->v_found,
                            (unsigned long long)r->v_lost);
    } else {
        ld_phase *ph = j->phase;
        double el = (double)(now - ph->start_ns) / 1e9;
        double win = (double)(now - r->prog_ns) / 1e9;
        size_t from = r->prog_pt < ph->pt_first ? ph->pt_first : r->prog_pt;
        bench_samples_reset(&r->prog_lat);
        for (size_t k = from; k < r->npts; k++)
            if (r->pts[k].ok)
                bench_samples_add(&r->prog_lat, r->pts[k].lat_ns);
        char of[40] = "";
        if (ph->ph.requests)
            snprintf(of, sizeof of, " of %llu", (unsigned long long)ph->ph.requests);
        bench_progress_line(&r->prog,
                            "[%s] %.0fs  %llu runs%s  %.0f runs/s (%.0f lately)  p99 %.1f ms lately  "
                            "failed %llu  in flight %d",
                            ph->ph.name, el, (unsigned long long)ph->acked, of,
                            el > 0 ? (double)ph->acked / el : 0,
                            r->prog_ns && win > 0 ? (double)(r->npts - from) / win : 0,
                            (double)bench_percentile(&r->prog_lat, 99) / 1e6,
                            (unsigned long long)ph->failed, j->inflight);
        r->prog_pt = r->npts;
    }
    r->prog_ns = now;
}

/* pump - run a job to its end */
static int pump(ld_run *r, ld_job *j, cmk_err *err)
{
    zmq_pollitem_t items[LD_MAX_CONNS];
    int64_t interval = j->rate > 0 ? (int64_t)(1e9 / j->rate) : 0, next_send = cmk_mono_ns();
    int64_t next_expire = 0;
    int free_top = 0, *freelist = malloc((size_t)r->nslots * sizeof *freelist), rc = 0;

    if (!freelist)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    for (int c = 0; c < r->nconns; c++)
        items[c] = (zmq_pollitem_t){cmk_client_socket(r->conns[c]), 0, ZMQ_POLLIN, 0};
    for (;;) {
        int64_t now = cmk_mono_ns(), wait_ms = 50;
        int stop = (j->deadline_ns && now >= j->deadline_ns) || j->sent >= j->total;

        if (stop && j->inflight == 0)
            break;
        free_top = 0; /* free slots among the first `clients` */
        for (int s = j->clients - 1; s >= 0; s--)
            if (!r->slots[s].busy)
                freelist[free_top++] = s;
        while (!stop && free_top > 0 && (!interval || next_send <= now)) {
            if ((rc = send_one(r, j, freelist[--free_top], err)) < 0)
                goto done;
            if (interval) {
                next_send += interval;
                if (next_send < now - 10000000) /* at the client limit: no burst to catch up */
                    next_send = now - 10000000;
            }
            stop = j->sent >= j->total;
        }
        if (interval && !stop && free_top > 0)
            wait_ms = (next_send - now + 999999) / 1000000;
        if (zmq_poll(items, r->nconns, (long)(wait_ms < 0 ? 0 : wait_ms)) > 0)
            drain(r, j);
        now = cmk_mono_ns();
        if (now >= next_expire) {
            expire(r, j, now);
            next_expire = now + 100000000;
        }
        progress(r, j, now);
    }
done:
    free(freelist);
    return rc;
}

/* ld_run_phase - run one phase */
int ld_run_phase(ld_run *r, int i, cmk_err *err)
{
    ld_phase *ph = &r->phases[i];
    ld_job j = {0};
    int rc;

    j.phase = ph;
    j.clients = ph->clients;
    j.rate = ph->ph.rate;
    j.total = ph->ph.requests ? ph->ph.requests : UINT64_MAX;
    ph->start_ns = cmk_mono_ns();
    ph->end_ns = ph->start_ns;
    j.deadline_ns = ph->ph.duration_ms ? ph->start_ns + ph->ph.duration_ms * 1000000 : 0;
    if (i == 0)
        r->t0_ns = ph->start_ns;
    ph->pt_first = r->npts;
    r->prog_pt = r->npts; /* the progress line's window starts with the phase */
    r->prog_ns = ph->start_ns;
    r->next_line_ns = ph->start_ns + 1000000000;
    rc = pump(r, &j, err);
    ph->pt_end = r->npts;
    if (ph->end_ns < (j.deadline_ns ? j.deadline_ns : ph->start_ns))
        ph->end_ns = j.deadline_ns; /* nothing came in late: the phase lasted its duration */
    ph->runs_s = ph->end_ns > ph->start_ns ? (double)ph->acked / ((double)(ph->end_ns - ph->start_ns) / 1e9) : 0;
    return rc;
}

/* ld_verify - run.show of all or a sample of the acknowledged runs */
int ld_verify(ld_run *r, cmk_err *err)
{
    size_t n = r->wl.verify < 0 || (uint64_t)r->wl.verify >= r->nacks ? r->nacks : (size_t)r->wl.verify;
    size_t *items = malloc((n ? n : 1) * sizeof *items), *retry = malloc((n ? n : 1) * sizeof *retry);
    ld_job j = {0};
    int rc = 0;

    if (!items || !retry) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < n; k++) /* an even sample over the whole run: early and late runs */
        items[k] = n == r->nacks ? k : (size_t)((double)k * (double)r->nacks / (double)n);
    j.verify = 1;
    j.clients = r->nslots;
    j.total = n;
    j.items = items;
    j.retry = retry;
    r->v_checked = n;
    if (n && (rc = pump(r, &j, err)) < 0)
        goto done;
    for (size_t k = 0; k < j.nretry; k++) { /* one by one, with the full timeout */
        cmk_msg *rep = NULL;
        cmk_err e = CMK_ERR_INIT;
        cJSON *b = cJSON_CreateObject();
        const ld_ack *a = &r->acks[retry[k]];
        cJSON_AddStringToObject(b, "env", r->targets[a->target].env);
        cJSON_AddStringToObject(b, "run", a->run);
        rc = cmk_client_call(r->conns[0], CMK_T_RUN_SHOW, b, r->wl.request_timeout_ms, &rep, &e);
        cJSON_Delete(b);
        cmk_msg_destroy(&rep);
        if (rc == 0)
            r->v_found++;
        else if (rc == CMK_ENOENT) {
            r->v_lost++;
            if (!r->lost_example[0])
                snprintf(r->lost_example, sizeof r->lost_example, "%s: %s", a->run, e.msg);
        } else
            r->v_errors++;
        rc = 0;
    }
done:
    free(items);
    free(retry);
    return rc;
}
