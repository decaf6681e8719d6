/*
 * cmd_scenario.c - `cmkctl scenario run FILE`: a scenario is a JSON list of steps, each a
 * cmkctl command and its expected outcome, run against the cluster of --run-dir:
 *
 *   { "name": "default", "description": "...",
 *     "steps": [ { "name": "start", "cmd": ["up"], "expect": { "exit": 0 } },
 *                { "name": "ping", "cmd": ["ping"], "show": true,
 *                  "expect": { "exit": 0, "stdout_contains": ["worker-shared"] } } ],
 *     "finally": [ ["down"] ] }
 *
 * expect: exit (default 0), stdout_contains, stderr_contains, stdout_lacks (lists of strings). "show" prints
 * the step's output. "finally" commands run at the end whatever happened (cleanup).
 * In arguments, {run} stands for the run directory. A step may write a file instead of running
 * a command: { "name": "...", "write": { "path": "{run}/pw", "content": "..." } } (mode 0600).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "util.h"


/* append - grow a buffer with data */
static void append(char **buf, size_t *len, const char *data, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return;
    memcpy(nb + *len, data, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
}

/* subst_run - {run} in an argument replaced by the run dir (kept in a small static pool) */
const char *cli_subst_run(const cli_opts *o, const char *arg)
{
    static char pool[32][1024];
    static int next;
    const char *hole = strstr(arg, "{run}");
    char *out;
    if (!hole)
        return arg;
    out = pool[next++ % 32];
    snprintf(out, sizeof pool[0], "%.*s%s%s", (int)(hole - arg), arg, o->run_dir, hole + 5);
    return out;
}

/* write_step - a step that writes a file */
int cli_write_step(const cli_opts *o, const cJSON *w, char *why, size_t cap)
{
    cmk_err err = CMK_ERR_INIT;
    const char *path = cli_subst_run(o, cmk_json_str(w, "path", "")), *content = cmk_json_str(w, "content", "");
    char dir[1024], *slash;
    cmk_strlcpy(dir, path, sizeof dir);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        cmk_mkdirs(dir, 0700, NULL);
    }
    if (cmk_file_write_atomic(path, content, strlen(content), 0600, &err) < 0) {
        snprintf(why, cap, "%s", err.msg);
        return 0;
    }
    return 1;
}

/* run_self - run cmkctl (this executable) with args + --run-dir, capturing output */
int cli_run_self(const cli_opts *o, const cJSON *cmd, step_result *r)
{
    char exe[PATH_MAX];
    const char *argv[64];
    int outp[2], errp[2], n = 0;
    size_t olen = 0, elen = 0;
    const cJSON *it;
    pid_t pid;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);

    memset(r, 0, sizeof *r);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    argv[n++] = exe;
    cJSON_ArrayForEach(it, cmd) {
        if (cJSON_IsString(it) && n < 58)
            argv[n++] = cli_subst_run(o, it->valuestring);
    }
    argv[n++] = "--run-dir";
    argv[n++] = o->run_dir;
    if (o->key_path) {
        argv[n++] = "--curve-key";
        argv[n++] = o->key_path;
    }
    argv[n] = NULL;
    if (pipe(outp) < 0 || pipe(errp) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        close(outp[0]);
        close(errp[0]);
        close(outp[1]);
        close(errp[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    for (int open_fds = 2; open_fds > 0;) {
        struct pollfd p[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
        char buf[4096];
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            ssize_t got;
            if (!(p[i].revents & (POLLIN | POLLHUP)) || p[i].fd < 0)
                continue;
            got = read(p[i].fd, buf, sizeof buf);
            if (got > 0)
                append(i == 0 ? &r->out : &r->err, i == 0 ? &olen : &elen, buf, (size_t)got);
            else {
                close(i == 0 ? outp[0] : errp[0]);
                if (i == 0)
                    outp[0] = -1;
                else
                    errp[0] = -1;
                open_fds--;
            }
        }
        if (outp[0] < 0 && errp[0] < 0)
            break;
    }
    waitpid(pid, &r->status, 0);
    r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
    return 0;
}

/* print_indented - output of a step, indented */
void cli_print_indented(FILE *f, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "    %.*s\n", (int)n, p);
        p = nl ? nl + 1 : NULL;
    }
}

/* check_expect - does the result meet the expectations; why not into why */
int cli_check_expect(const cJSON *expect, const step_result *r, char *why, size_t cap)
{
    int want = (int)cmk_json_num(expect, "exit", 0);
    const char *streams[2] = { "stdout_contains", "stderr_contains" };
    if (r->status != want) {
        snprintf(why, cap, "exit status %d, expected %d", r->status, want);
        return 0;
    }
    for (int s = 0; s < 2; s++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(expect, streams[s])) {
            if (cJSON_IsString(it) && !strstr(s == 0 ? r->out : r->err, it->valuestring)) {
                snprintf(why, cap, "%s does not contain \"%s\"", s == 0 ? "stdout" : "stderr",
                         it->valuestring);
                return 0;
            }
        }
    }
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(expect, "stdout_lacks")) {
            if (cJSON_IsString(it) && strstr(r->out, it->valuestring)) {
                snprintf(why, cap, "stdout contains \"%s\"", it->valuestring);
                return 0;
            }
        }
    }
    return 1;
}

/* cmd_text - "cmkctl up --x" for display */
void cli_cmd_text(const cJSON *cmd, char *buf, size_t cap)
{
    const cJSON *it;
    size_t n = (size_t)snprintf(buf, cap, "cmkctl");
    cJSON_ArrayForEach(it, cmd) {
        if (cJSON_IsString(it) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, " %s", it->valuestring);
    }
}

/* cmd_scenario - run FILE */
int cmd_scenario(cli_opts *o)
{
    const char *path = o->argc >= 3 && strcmp(o->argv[1], "run") == 0 ? o->argv[2] : NULL;
    cmk_err err = CMK_ERR_INIT;
    cJSON *sc;
    const cJSON *steps, *step, *it;
    int total, i = 0, failed = 0;
    int64_t t0 = cmk_mono_ms();
    FILE *out = stdout;
    cJSON *res = NULL, *jsteps = NULL;

    if (!path)
        return cli_fail(CMK_EINVAL, "usage: cmkctl scenario run FILE (e.g. configs/scenarios/default.json)");
    if (cmk_json_load_file(path, &sc, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    steps = cJSON_GetObjectItem(sc, "steps");
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        cJSON_Delete(sc);
        return cli_fail(CMK_EINVAL, "%s: a scenario needs a non-empty \"steps\" array", path);
    }
    total = cJSON_GetArraySize(steps);
    if (o->json) { /* one JSON document at the end instead of the progress lines */
        out = fopen("/dev/null", "w");
        res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "scenario", cmk_json_str(sc, "name", path));
        cJSON_AddStringToObject(res, "file", path);
        jsteps = cJSON_AddArrayToObject(res, "steps");
        if (!out) {
            cJSON_Delete(res);
            cJSON_Delete(sc);
            return cli_fail(CMK_EIO, "cannot open /dev/null");
        }
    }
    fprintf(out, "scenario %s: %s\n", cmk_json_str(sc, "name", path), cmk_json_str(sc, "description", ""));
    fflush(out);
    cJSON_ArrayForEach(step, steps) {
        const cJSON *cmd = cJSON_GetObjectItem(step, "cmd");
        step_result r;
        char text[512], why[512] = "";
        int64_t s0 = cmk_mono_ms();
        int ok;

        i++;
        if (cJSON_IsObject(cJSON_GetObjectItem(step, "write"))) {
            ok = cli_write_step(o, cJSON_GetObjectItem(step, "write"), why, sizeof why);
            if (jsteps) {
                cJSON *js = cJSON_CreateObject();
                cJSON_AddStringToObject(js, "name", cmk_json_str(step, "name", ""));
                cJSON_AddStringToObject(js, "write", cmk_json_str(cJSON_GetObjectItem(step, "write"), "path", ""));
                cJSON_AddBoolToObject(js, "ok", ok);
                if (!ok)
                    cJSON_AddStringToObject(js, "why", why);
                cJSON_AddItemToArray(jsteps, js);
            }
            fprintf(out, "[%d/%d] %s: write %s ... %s\n", i, total, cmk_json_str(step, "name", ""),
                   cmk_json_str(cJSON_GetObjectItem(step, "write"), "path", ""), ok ? "ok" : "FAILED");
            if (!ok) {
                fprintf(out, "    why: %s\n", why);
                failed = 1;
                break;
            }
            continue;
        }
        cli_cmd_text(cmd, text, sizeof text);
        fprintf(out, "[%d/%d] %s: %s ... ", i, total, cmk_json_str(step, "name", ""), text);
        fflush(out);
        if (!cJSON_IsArray(cmd) || cli_run_self(o, cmd, &r) < 0) {
            fprintf(out, "FAILED (bad step: \"cmd\" must be an array of strings)\n");
            failed = 1;
            break;
        }
        ok = cli_check_expect(cJSON_GetObjectItem(step, "expect"), &r, why, sizeof why);
        if (jsteps) {
            cJSON *js = cJSON_CreateObject();
            cJSON_AddStringToObject(js, "name", cmk_json_str(step, "name", ""));
            cJSON_AddItemToObject(js, "cmd", cJSON_Duplicate(cmd, 1));
            cJSON_AddBoolToObject(js, "ok", ok);
            cJSON_AddNumberToObject(js, "exit", r.status);
            cJSON_AddNumberToObject(js, "seconds", (double)(cmk_mono_ms() - s0) / 1000.0);
            if (!ok) {
                cJSON_AddStringToObject(js, "why", why);
                cJSON_AddStringToObject(js, "stdout", r.out ? r.out : "");
                cJSON_AddStringToObject(js, "stderr", r.err ? r.err : "");
            }
            cJSON_AddItemToArray(jsteps, js);
        }
        fprintf(out, "%s (%.1fs)\n", ok ? "ok" : "FAILED", (double)(cmk_mono_ms() - s0) / 1000.0);
        if (!ok || cmk_json_bool(step, "show", 0))
            cli_print_indented(out, r.out);
        if (!ok) {
            fprintf(out, "    why: %s\n", why);
            cli_print_indented(out, r.err);
        }
        fflush(out);
        free(r.out);
        free(r.err);
        if (!ok) {
            failed = 1;
            break;
        }
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sc, "finally")) {
        step_result r;
        if (cJSON_IsArray(it) && cli_run_self(o, it, &r) == 0) {
            free(r.out);
            free(r.err);
        }
    }
    if (failed)
        fprintf(out, "scenario %s FAILED at step %d of %d\n", cmk_json_str(sc, "name", path), i, total);
    else
        fprintf(out, "scenario %s: all %d steps ok in %.1fs\n", cmk_json_str(sc, "name", path), total,
               (double)(cmk_mono_ms() - t0) / 1000.0);
    if (res) {
        cJSON_AddBoolToObject(res, "ok", !failed);
        cJSON_AddNumberToObject(res, "total", total);
        if (failed)
            cJSON_AddNumberToObject(res, "failed_step", i);
        cJSON_AddNumberToObject(res, "seconds", (double)(cmk_mono_ms() - t0) / 1000.0);
        cli_print_json(res);
        cJSON_Delete(res);
        fclose(out);
    }
    cJSON_Delete(sc);
    return failed ? 1 : 0;
}
