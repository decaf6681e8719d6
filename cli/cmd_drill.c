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
        if ((memmem(p, n, "failed", 6) || memmem(p, n, "Failed", 6) || memmem(p, n, "timeout", 7) ||
             memmem(p, n, "refused", 7)) && n < 600) {
            char *line = strndup(p, n);
            while (*line == ' ') memmove(line, line + 1, strlen(line));
            cJSON_AddItemToArray(errors, cJSON_CreateString(line));
            free(line);
        }
        p = nl ? nl + 1 : NULL;
    }
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
        if (b) {
            fprintf(f, "The firewall `%s` does not cover `%s`: ", cmk_json_str(cJSON_GetObjectItem(b, "config"), "name", "?"),
                    cmk_json_str(b, "tag", ""));
            if (cJSON_IsTrue(cJSON_GetObjectItem(b, "covered")))
                fprintf(f, "(it does cover it: the cause is elsewhere, see the errors above)");
            else {
                fprintf(f, "these prefixes are refused:");
                cJSON_ArrayForEach(e, cJSON_GetObjectItem(b, "refused")) fprintf(f, " `%s`", e->valuestring);
            }
            fprintf(f, "\n\n");
        }
        if (a)
            fprintf(f, "After the fix (`%s`): %s.\n\n", cmk_json_str(cJSON_GetObjectItem(a, "config"), "name", "?"),
                    cJSON_IsTrue(cJSON_GetObjectItem(a, "covered")) ? "every prefix is allowed" : "prefixes still refused");
    }
    fprintf(f, "## The fix\n\n%s\n\n## Steps\n\n| # | phase | step | outcome |\n|---|---|---|---|\n",
            cmk_json_str(rep, "fix", ""));
    {
        int i = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep, "steps"))
            fprintf(f, "| %d | %s | %s | %s |\n", ++i, cmk_json_str(it, "phase", ""), cmk_json_str(it, "name", ""),
                    cJSON_IsTrue(cJSON_GetObjectItem(it, "ok")) ? "as expected" : cmk_json_str(it, "why", "unexpected"));
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
