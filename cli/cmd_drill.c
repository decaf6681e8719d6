/*
 * cmd_drill.c - `cmkctl drill run FILE [--report-dir DIR]`: a firewall misconfiguration drill
 * against a fresh cluster. A drill file (configs/drills/) names the cluster settings (the
 * customer firewall to start with), the firewall configs before and after the fix, and steps
 * like a scenario's, each in a phase (setup, break, fix, verify) with its expected outcome:
 *
 *   { "name": "...", "title": "...", "description": "...",
 *     "cluster": { "set": ["firewall.config=configs/firewalls/legacy-only.json"] },
 *     "firewall": { "service_tags": "configs/service-tags.json", "tag": "PowerPlatformPlex",
 *                   "region": "WestUS", "before": "...legacy-only.json", "after": "...with-plex.json" },
 *     "fix": "what a person changes",
 *     "why": "optional: the cause in words, when it is not the firewall's coverage (a fault)",
 *     "steps": [ { "name": "...", "phase": "break", "cmd": [...], "expect": {...} }, ... ] }
 *
 * It prints a progress line per step and writes a report, Markdown and JSON: what broke (the
 * errors the flows got), which rule or missing prefix caused it (a CIDR coverage check of the
 * firewall against the service tag), which flows and runs, the fix, and the outcome after it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "metrics_http.h"
#include "plot.h"
#include "util.h"

/* coverage - `cmk-firewall check ... --json` on a config; NULL if it cannot run */
static cJSON *coverage(const cJSON *fw, const char *config)
{
    char exe[PATH_MAX], cmd[PATH_MAX * 3], buf[4096];
    cmk_err err = CMK_ERR_INIT;
    FILE *p;
    char *text = NULL;
    size_t len = 0;
    cJSON *j;

    if (!config || cmk_exe_dir(exe, sizeof exe, &err) < 0)
        return NULL;
    snprintf(cmd, sizeof cmd, "'%s/cmk-firewall' check --service-tags '%s' --config '%s' --tag '%s' %s%s%s --json 2>/dev/null",
             exe, cmk_json_str(fw, "service_tags", "configs/service-tags.json"), config,
             cmk_json_str(fw, "tag", "PowerPlatformPlex"), cmk_json_str(fw, "region", NULL) ? "--region '" : "",
             cmk_json_str(fw, "region", ""), cmk_json_str(fw, "region", NULL) ? "'" : "");
    if (!(p = popen(cmd, "r")))
        return NULL;
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) {
        char *nt = realloc(text, len + n + 1);
        if (!nt)
            break;
        text = nt;
        memcpy(text + len, buf, n);
        len += n;
        text[len] = '\0';
    }
    pclose(p);
    j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* harvest - run ids and flow errors from a step's output */
static void harvest(const char *out, cJSON *runs, cJSON *errors)
{
    const char *p = out;
    while (p && (p = strstr(p, "run run-")) != NULL) {
        char id[64];
        if (sscanf(p + 4, "%63s", id) == 1)
            cJSON_AddItemToArray(runs, cJSON_CreateString(id));
        p += 8;
    }
    for (p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t lead = strspn(p, " \t");
        int json = lead < n && strchr("\"{}[", p[lead]); /* a command's JSON answer, not an error */
        if (!json && (memmem(p, n, "failed", 6) || memmem(p, n, "Failed", 6) || memmem(p, n, "timeout", 7) ||
                      memmem(p, n, "refused", 7)) && n < 600) {
            char *line = strndup(p, n);
            while (*line == ' ') memmove(line, line + 1, strlen(line));
            cJSON_AddItemToArray(errors, cJSON_CreateString(line));
            free(line);
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* expect_text - a step's expected outcome in words: exit 0; output has "x"; lacks "y" */
static void expect_text(const cJSON *expect, char *buf, size_t cap)
{
    const cJSON *it;
    size_t n = (size_t)snprintf(buf, cap, "exit %d", (int)cmk_json_num(expect, "exit", 0));
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(expect, "stdout_contains"))
        if (cJSON_IsString(it) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "; output has \"%s\"", it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(expect, "stderr_contains"))
        if (cJSON_IsString(it) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "; errors have \"%s\"", it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(expect, "stdout_lacks"))
        if (cJSON_IsString(it) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "; output lacks \"%s\"", it->valuestring);
}

/* observed_text - what a step did: its exit status, the first flow error it printed and the
 * flows' HTTP actions the gateway performed during it, by verdict (before: the counts after
 * the step before, may be NULL) */
static void observed_text(const cJSON *s, const cJSON *before, char *buf, size_t cap)
{
    const cJSON *errors = cJSON_GetObjectItem(s, "errors"), *v;
    size_t n = (size_t)snprintf(buf, cap, "exit %d%s%s%s", (int)cmk_json_num(s, "exit", 0),
                                errors && errors->child ? "; \"" : "",
                                errors && errors->child ? errors->child->valuestring : "",
                                errors && errors->child ? "\"" : "");
    int first = 1;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(s, "egress")) {
        double d = v->valuedouble - cmk_json_num(before, v->string, 0);
        if (d > 0 && n < cap) {
            n += (size_t)snprintf(buf + n, cap - n, "%s%s %.0f", first ? "; HTTP actions: " : ", ", v->string, d);
            first = 0;
        }
    }
}

/* put_cell - text for a Markdown table cell ('|' escaped, newlines as spaces) */
static void put_cell(FILE *f, const char *s)
{
    for (; s && *s; s++)
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s == '\n' ? ' ' : *s, f);
}

/* egress_now - the gateway's outbound HTTP actions so far by verdict (its /metrics), or NULL */
static cJSON *egress_now(const char *run_dir)
{
    char addr[64], *text = NULL;
    cmk_err err = CMK_ERR_INIT;
    cJSON *by;

    if (cmk_metrics_endpoint_read(run_dir, "gateway", addr, sizeof addr) < 0 ||
        cmk_metrics_scrape(addr, 2000, &text, &err) < 0)
        return NULL;
    by = cmk_metrics_sum_by(text, "cmk_gateway_egress_verdicts_total", "verdict");
    free(text);
    return by;
}

/* write_timeline - NAME.png: the phases as shaded bands, every step as a vertical line (red when
 * its outcome was unexpected), and the flows' outbound HTTP actions by verdict (allowed,
 * refused, timed out...) as the gateway counted them; 0 or < 0 (no gnuplot: CMK_ENOENT) */
static int write_timeline(const char *path, const cJSON *rep, cmk_err *err)
{
    const cJSON *steps = cJSON_GetObjectItem(rep, "steps"), *st, *v;
    char title[512], machine[200], sub[600], verdicts[16][48];
    int nv = 0, series[16], i = 0, rc;
    double end = 0;
    cmk_plot *p;

    snprintf(title, sizeof title, "drill: %s", cmk_json_str(rep, "title", ""));
    if (!(p = cmk_plot_new(title, "seconds since the drill began",
                           "outbound HTTP actions so far (gateway /metrics)", NULL)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    snprintf(sub, sizeof sub, "%s, on %s\n%s; firewall enforced in %s mode; steps are dashed lines "
             "(red: unexpected outcome)", cmk_json_str(rep, "drill", ""),
             cmk_plot_machine(machine, sizeof machine), cmk_json_str(rep, "result", ""),
             cmk_json_str(rep, "enforcement", "?"));
    cmk_plot_subtitle(p, sub);
    {
        const char *cur = NULL;
        double x0 = 0;
        cJSON_ArrayForEach(st, steps) {
            const char *ph = cmk_json_str(st, "phase", "");
            double t = cmk_json_num(st, "t_s", 0);
            if (st == steps->child && t > 0)
                cmk_plot_band(p, 0, t, "cluster start");
            if (cur && strcmp(cur, ph) != 0) {
                cmk_plot_band(p, x0, t, cur);
                cur = NULL;
            }
            if (!cur) {
                cur = ph;
                x0 = t;
            }
            end = t + cmk_json_num(st, "took_s", 0);
        }
        if (cur)
            cmk_plot_band(p, x0, end, cur);
    }
    cJSON_ArrayForEach(st, steps) {
        char label[80];
        i++;
        if (strcmp(cmk_json_str(st, "phase", ""), "setup") == 0)
            snprintf(label, sizeof label, "%d", i);
        else
            snprintf(label, sizeof label, "%d %.44s%s", i, cmk_json_str(st, "name", ""),
                     strlen(cmk_json_str(st, "name", "")) > 44 ? "..." : "");
        cmk_plot_event(p, cmk_json_num(st, "t_s", 0), label, !cJSON_IsTrue(cJSON_GetObjectItem(st, "ok")));
    }
    /* one series per verdict, "allow" first (blue), the failures after (reds) */
    for (int pass = 0; pass < 2; pass++)
        cJSON_ArrayForEach(st, steps) {
            cJSON_ArrayForEach(v, cJSON_GetObjectItem(st, "egress")) {
                int k = 0, is_allow = strcmp(v->string, "allow") == 0;
                if (pass == 0 && !is_allow)
                    continue;
                while (k < nv && strcmp(verdicts[k], v->string))
                    k++;
                if (k == nv && nv < 16) {
                    char t[96];
                    snprintf(verdicts[nv], sizeof verdicts[0], "%s", v->string);
                    snprintf(t, sizeof t, "HTTP actions: %s", v->string);
                    series[nv++] = cmk_plot_series(p, t, CMK_PLOT_Y1, CMK_PLOT_STEPS);
                }
            }
        }
    cJSON_ArrayForEach(st, steps) {
        const cJSON *eg = cJSON_GetObjectItem(st, "egress");
        double x = cmk_json_num(st, "t_s", 0) + cmk_json_num(st, "took_s", 0);
        if (!eg)
            continue;
        if (st == steps->child) /* the totals start at 0 when the drill begins */
            for (int k = 0; k < nv; k++)
                cmk_plot_point(p, series[k], 0, 0);
        for (int k = 0; k < nv; k++)
            cmk_plot_point(p, series[k], x, cmk_json_num(eg, verdicts[k], 0));
    }
    rc = cmk_plot_png(p, path, err);
    cmk_plot_destroy(&p);
    return rc;
}

/* write_markdown - the human report */
static void write_markdown(const char *path, const cJSON *rep)
{
    FILE *f = fopen(path, "w");
    const cJSON *it, *e;
    if (!f)
        return;
    fprintf(f, "# Drill: %s\n\n%s\n\n", cmk_json_str(rep, "title", ""), cmk_json_str(rep, "description", ""));
    fprintf(f, "- result: **%s**\n- firewall enforcement: %s\n- run at: %s\n\n", cmk_json_str(rep, "result", ""),
            cmk_json_str(rep, "enforcement", "?"), cmk_json_str(rep, "started", ""));
    if (*cmk_json_str(rep, "timeline_png", ""))
        fprintf(f, "![timeline of the drill](%s)\n\n", cmk_json_str(rep, "timeline_png", ""));
    fprintf(f, "## What broke\n\n");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep, "steps")) {
        if (strcmp(cmk_json_str(it, "phase", ""), "break") != 0)
            continue;
        fprintf(f, "- %s (`%s`)\n", cmk_json_str(it, "name", ""), cmk_json_str(it, "command", ""));
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(it, "errors"))
            fprintf(f, "  - `%s`\n", e->valuestring);
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(it, "runs"))
            fprintf(f, "  - run `%s`\n", e->valuestring);
    }
    fprintf(f, "\n## Why\n\n");
    {
        const cJSON *b = cJSON_GetObjectItem(rep, "coverage_before"), *a = cJSON_GetObjectItem(rep, "coverage_after");
        if (*cmk_json_str(rep, "why", ""))
            fprintf(f, "%s\n\n", cmk_json_str(rep, "why", ""));
        if (b) {
            int covered = cJSON_IsTrue(cJSON_GetObjectItem(b, "covered"));
            fprintf(f, "The firewall `%s` %s `%s`", cmk_json_str(cJSON_GetObjectItem(b, "config"), "name", "?"),
                    covered ? "covers" : "does not cover", cmk_json_str(b, "tag", ""));
            if (covered)
                fprintf(f, ": the cause is not its rules (see the errors above)");
            else {
                fprintf(f, ": ");
                fprintf(f, "these prefixes are refused:");
                cJSON_ArrayForEach(e, cJSON_GetObjectItem(b, "refused")) fprintf(f, " `%s`", e->valuestring);
            }
            fprintf(f, "\n\n");
        }
        if (a)
            fprintf(f, "After the fix (`%s`): %s.\n\n", cmk_json_str(cJSON_GetObjectItem(a, "config"), "name", "?"),
                    cJSON_IsTrue(cJSON_GetObjectItem(a, "covered")) ? "every prefix is allowed" : "prefixes still refused");
    }
    fprintf(f, "## The fix\n\n%s\n\n## Steps\n\n| # | phase | step | expected | observed | outcome |\n"
               "|---|---|---|---|---|---|\n", cmk_json_str(rep, "fix", ""));
    {
        int i = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep, "steps")) {
            fprintf(f, "| %d | %s | ", ++i, cmk_json_str(it, "phase", ""));
            put_cell(f, cmk_json_str(it, "name", ""));
            fputs(" | ", f);
            put_cell(f, cmk_json_str(it, "expected", ""));
            fputs(" | ", f);
            put_cell(f, cmk_json_str(it, "observed", ""));
            fputs(" | ", f);
            put_cell(f, cJSON_IsTrue(cJSON_GetObjectItem(it, "ok")) ? "as expected" : cmk_json_str(it, "why", "unexpected"));
            fputs(" |\n", f);
        }
    }
    fprintf(f, "\n## Outcome after the fix\n\n%s\n", cmk_json_str(rep, "outcome", ""));
    fclose(f);
}

/* cmd_drill - drill run FILE */
int cmd_drill(cli_opts *o)
{
    const char *path = o->argc >= 3 && strcmp(o->argv[1], "run") == 0 ? o->argv[2] : NULL;
    const char *report_dir = cli_opt(o, "--report-dir") ? cli_opt(o, "--report-dir") : ".";
    char run_dir[64] = "", rpath[PATH_MAX], ts[40];
    cmk_err err = CMK_ERR_INIT;
    cJSON *d, *rep, *steps, *up, *it, *fw;
    const cJSON *step;
    cli_opts sub = *o;
    int total, i = 0, failed = 0, verify_ok = 1;
    int64_t t0 = cmk_mono_ms();
    FILE *out = o->json ? fopen("/dev/null", "w") : stdout; /* --json: the report at the end instead */

    if (!out)
        return cli_fail(CMK_EIO, "cannot open /dev/null");
    if (!path)
        return cli_fail(CMK_EINVAL, "usage: cmkctl drill run FILE [--report-dir DIR]   (configs/drills/ holds drills)");
    if (cmk_json_load_file(path, &d, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    if (!cJSON_IsArray(cJSON_GetObjectItem(d, "steps"))) {
        cJSON_Delete(d);
        return cli_fail(CMK_EINVAL, "%s: a drill needs a \"steps\" array", path);
    }
    /* a fresh cluster of its own */
    snprintf(run_dir, sizeof run_dir, "/tmp/cmkdrill.XXXXXX");
    if (!mkdtemp(run_dir)) {
        cJSON_Delete(d);
        return cli_fail(CMK_EIO, "cannot make a run directory for the drill");
    }
    sub.run_dir = run_dir;
    fw = cJSON_GetObjectItem(d, "firewall");
    rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "drill", cmk_json_str(d, "name", path));
    cJSON_AddStringToObject(rep, "title", cmk_json_str(d, "title", ""));
    cJSON_AddStringToObject(rep, "description", cmk_json_str(d, "description", ""));
    cJSON_AddStringToObject(rep, "started", cmk_time_format(cmk_wall_ms(), ts, sizeof ts));
    cJSON_AddStringToObject(rep, "fix", cmk_json_str(d, "fix", ""));
    if (cmk_json_str(d, "why", NULL))
        cJSON_AddStringToObject(rep, "why", cmk_json_str(d, "why", ""));
    steps = cJSON_AddArrayToObject(rep, "steps");
    fprintf(out, "drill %s: %s\n", cmk_json_str(d, "name", path), cmk_json_str(d, "title", ""));

    up = cJSON_CreateArray();
    cJSON_AddItemToArray(up, cJSON_CreateString("up"));
    cJSON_AddItemToArray(up, cJSON_CreateString("--set"));
    cJSON_AddItemToArray(up, cJSON_CreateString("clock.mode=virtual"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(d, "cluster"), "set")) {
        cJSON_AddItemToArray(up, cJSON_CreateString("--set"));
        cJSON_AddItemToArray(up, cJSON_CreateString(it->valuestring));
    }
    {
        step_result r;
        if (cli_run_self(&sub, up, &r) < 0 || r.status != 0) {
            fprintf(out, "cluster did not start:\n");
            cli_print_indented(out, r.err);
            failed = 1;
        } else
            fprintf(out, "[setup] fresh cluster in %s ... ok\n", run_dir);
        free(r.out);
        free(r.err);
    }
    cJSON_Delete(up);
    if (!failed) {
        /* which enforcement the firewall uses (kernel in a namespace, or user space) */
        cJSON *st = cJSON_CreateArray();
        step_result r;
        cJSON_AddItemToArray(st, cJSON_CreateString("firewall"));
        cJSON_AddItemToArray(st, cJSON_CreateString("status"));
        cJSON_AddItemToArray(st, cJSON_CreateString("--json"));
        if (cli_run_self(&sub, st, &r) == 0) {
            cJSON *j = cJSON_Parse(r.out);
            cJSON_AddStringToObject(rep, "enforcement", cmk_json_str(j, "mode", "unknown"));
            fprintf(out, "[setup] customer firewall enforced in %s mode\n", cmk_json_str(j, "mode", "unknown"));
            cJSON_Delete(j);
        }
        free(r.out);
        free(r.err);
        cJSON_Delete(st);
    }
    total = cJSON_GetArraySize(cJSON_GetObjectItem(d, "steps"));
    cJSON_ArrayForEach(step, cJSON_GetObjectItem(d, "steps")) {
        const cJSON *cmd = cJSON_GetObjectItem(step, "cmd");
        const char *phase = cmk_json_str(step, "phase", "setup");
        cJSON *s = cJSON_CreateObject();
        step_result r = { 0 };
        char text[512] = "", why[512] = "";
        int ok;
        int64_t t_step = cmk_mono_ms();
        cJSON *eg;
        if (failed)
            break;
        i++;
        if (cJSON_IsObject(cJSON_GetObjectItem(step, "write"))) {
            ok = cli_write_step(&sub, cJSON_GetObjectItem(step, "write"), why, sizeof why);
            snprintf(text, sizeof text, "write %s", cmk_json_str(cJSON_GetObjectItem(step, "write"), "path", ""));
        } else {
            cli_cmd_text(cmd, text, sizeof text);
            ok = cJSON_IsArray(cmd) && cli_run_self(&sub, cmd, &r) == 0 &&
                 cli_check_expect(cJSON_GetObjectItem(step, "expect"), &r, why, sizeof why);
        }
        fprintf(out, "[%d/%d %s] %s: %s ... %s\n", i, total, phase, cmk_json_str(step, "name", ""), text, ok ? "ok" : "UNEXPECTED");
        if (cmk_json_bool(step, "show", 0) || !ok)
            cli_print_indented(out, r.out);
        if (!ok) {
            fprintf(out, "    why: %s\n", why);
            cli_print_indented(out, r.err);
        }
        fflush(out);
        cJSON_AddStringToObject(s, "name", cmk_json_str(step, "name", ""));
        cJSON_AddStringToObject(s, "phase", phase);
        cJSON_AddStringToObject(s, "command", text);
        cJSON_AddNumberToObject(s, "exit", r.status);
        cJSON_AddBoolToObject(s, "ok", ok);
        if (!ok)
            cJSON_AddStringToObject(s, "why", why);
        harvest(r.out ? r.out : "", cJSON_AddArrayToObject(s, "runs"), cJSON_AddArrayToObject(s, "errors"));

        cJSON_AddNumberToObject(s, "t_s", (double)(t_step - t0) / 1000.0);
        cJSON_AddNumberToObject(s, "took_s", (double)(cmk_mono_ms() - t_step) / 1000.0);
        if ((eg = egress_now(run_dir))) /* the gateway's counts by verdict after the step */
            cJSON_AddItemToObject(s, "egress", eg);
        {
            char ex[512] = "", ob[1024];
            const cJSON *last = cJSON_GetArraySize(steps) > 0
                                    ? cJSON_GetObjectItem(cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1), "egress")
                                    : NULL;
            if (cJSON_IsObject(cJSON_GetObjectItem(step, "expect")))
                expect_text(cJSON_GetObjectItem(step, "expect"), ex, sizeof ex);
            observed_text(s, last, ob, sizeof ob);
            cJSON_AddStringToObject(s, "expected", ex);
            cJSON_AddStringToObject(s, "observed", ob);
        }
        cJSON_AddItemToArray(steps, s);
        if (!ok) {
            failed = 1;
            if (strcmp(phase, "verify") == 0)
                verify_ok = 0;
        }
        free(r.out);
        free(r.err);
    }
    {
        cJSON *down = cJSON_CreateArray();
        step_result r;
        cJSON_AddItemToArray(down, cJSON_CreateString("down"));
        cli_run_self(&sub, down, &r);
        free(r.out);
        free(r.err);
        cJSON_Delete(down);
    }
    if (fw) {
        cJSON *b = coverage(fw, cmk_json_str(fw, "before", NULL)), *a = coverage(fw, cmk_json_str(fw, "after", NULL));
        if (b)
            cJSON_AddItemToObject(rep, "coverage_before", b);
        if (a)
            cJSON_AddItemToObject(rep, "coverage_after", a);
    }
    cJSON_AddStringToObject(rep, "result", failed ? "unexpected outcome" : "every outcome as expected");
    cJSON_AddStringToObject(rep, "outcome", failed ? (verify_ok ? "the drill stopped before the fix was verified"
                                                                : "the fix did not restore the flows")
                                                   : "after the fix the flows' HTTP actions get through again");
    cmk_mkdirs(report_dir, 0755, NULL);
    snprintf(rpath, sizeof rpath, "%s/%s.png", report_dir, cmk_json_str(d, "name", "drill"));
    {
        cmk_err perr = CMK_ERR_INIT;
        char base[300];
        snprintf(base, sizeof base, "%s.png", cmk_json_str(d, "name", "drill"));
        if (write_timeline(rpath, rep, &perr) == 0)
            cJSON_AddStringToObject(rep, "timeline_png", base);
        else
            printf("no timeline picture: %s\n", perr.msg);
    }
    snprintf(rpath, sizeof rpath, "%s/%s.json", report_dir, cmk_json_str(d, "name", "drill"));
    {
        char *text = cJSON_Print(rep);
        cmk_file_write_atomic(rpath, text, strlen(text), 0644, &err);
        free(text);
    }
    snprintf(rpath, sizeof rpath, "%s/%s.md", report_dir, cmk_json_str(d, "name", "drill"));
    write_markdown(rpath, rep);
    fprintf(out, "drill %s: %s; report: %s/%s.{md,json}\n", cmk_json_str(d, "name", path),
           failed ? "UNEXPECTED OUTCOME" : "every outcome as expected", report_dir, cmk_json_str(d, "name", "drill"));
    if (*cmk_json_str(rep, "timeline_png", ""))
        printf("timeline: %s/%s\n", report_dir, cmk_json_str(rep, "timeline_png", ""));
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", run_dir);
        if (system(cmd) != 0) {
            /* the run dir of a drill is disposable */
        }
    }
    if (o->json) {
        snprintf(rpath, sizeof rpath, "%s/%s.md", report_dir, cmk_json_str(d, "name", "drill"));
        cJSON_AddStringToObject(rep, "report", rpath);
        cJSON_AddBoolToObject(rep, "ok", !failed);
        cli_print_json(rep);
        fclose(out);
    }
    cJSON_Delete(rep);
    cJSON_Delete(d);
    return failed ? 1 : 0;
}
