/*
 * con_world.c - the console's view of the cluster: a poller thread that reads the front door
 * as the `console` identity and keeps the newest snapshot (JSON text) for the HTTP threads.
 */
#include "con_world.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "util.h"
#include "ops.h"

#define CALL_MS 1500          /* one front-door call at most */
#define WATCH_MS 30000        /* polling goes on this long after the last snapshot asked for */
#define SERIES_N 180          /* seconds of the runs chart */
#define RECOUNT_S 10          /* runs of the last seconds are counted again every poll */
#define MAX_ENVS 64           /* environments read in detail (run lists, CMK status) */
#define MAX_VAULTS 16         /* vaults, and keys per vault, read with their versions */
#define MAX_CAUSES 8          /* failure causes in the chart */
#define VAULT_EVERY 5         /* vaults and keys are read every 5th poll */
#define AUDIT_SHOWN 25        /* audit entries shown */
#define REPORT_MAX (1 << 20)  /* largest report served */
#define EVENTS_N 24           /* state changes remembered */

/* one second of the chart */
typedef struct {
    int64_t sec;             /* epoch second this slot holds, 0 if empty */
    int runs, ok, failed;    /* runs started in that second, by final status (so far) */
    int cause[MAX_CAUSES];   /* failures by cause (cause 0: failed runs) */
} bucket;

struct con_world {
    con_world_opts o;
    char run_dir[4096], key_path[4096], reports[4096];
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* wakes the poller (watched, stop) and waiters (new snapshot) */
    int stop;
    int64_t watched_until;   /* mono ms */
    char *snapshot;          /* newest JSON text */
    int64_t snapshot_mono;   /* when it was made (mono ms) */
    long generation;         /* snapshots made */
    /* poller-thread only */
    cmk_client *client;
    int failures;            /* calls failed in a row */
    long polls;
    int fresh;               /* watching (again): count the runs of the whole chart */
    cJSON *vaults;           /* cached vault/key view */
    bucket series[SERIES_N];
    char causes[MAX_CAUSES][48];
    int ncauses;
    cJSON *egress_prev;      /* {outcome: total} of the previous poll */
    cJSON *states_prev;      /* {env id: state} */
    cJSON *events;           /* [{time, text}] newest last */
};

/* con_world_parse_time - RFC 3339 UTC with optional milliseconds */
int64_t con_world_parse_time(const char *s)
{
    struct tm tm;
    const char *end;
    int64_t ms = 0;

    if (!s || !*s)
        return -1;
    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*end - '0');
        for (; digits > 0 && digits < 3; digits++)
            ms *= 10;
    }
    if (*end != 'Z' && *end != '\0')
        return -1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* call - one front-door call; the reply body (owned by the caller) or NULL with err */
static cJSON *call(con_world *self, const char *type, cJSON *body, cmk_err *err)
{
    cmk_msg *rep = NULL;
    cJSON *out = NULL;
    int rc;

    if (!self->client && !(self->client = cmk_client_new(self->run_dir, self->key_path, err))) {
        cJSON_Delete(body);
        return NULL;
    }
    rc = cmk_client_call(self->client, type, body, CALL_MS, &rep, err);
    cJSON_Delete(body);
    if (rc == 0 && rep) {
        out = rep->body;
        rep->body = NULL;
        self->failures = 0;
    } else if (rc == CMK_ETIMEOUT || rc == CMK_EIO) {
        /* a lost reply may arrive late and be taken for the next one's: start afresh */
        if (++self->failures >= 2)
            cmk_client_destroy(&self->client);
    }
    cmk_msg_destroy(&rep);
    return out;
}

/* call1 - a call with one string field in its body */
static cJSON *call1(con_world *self, const char *type, const char *field, const char *value, cmk_err *err)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, field, value);
    return call(self, type, b, err);
}

/* note_error - an error of one read, shown by the page (at most 8) */
static void note_error(cJSON *errors, const char *what, const cmk_err *err)
{
    char line[CMK_ERR_MSG_MAX + 128];
    if (cJSON_GetArraySize(errors) >= 8)
        return;
    snprintf(line, sizeof line, "%s: %s", what, err->msg[0] ? err->msg : "no answer");
    cJSON_AddItemToArray(errors, cJSON_CreateString(line));
}

/* items - the "items" array of a list reply (detached), or an empty array */
static cJSON *items(cJSON *reply)
{
    cJSON *it = reply ? cJSON_DetachItemFromObject(reply, "items") : NULL;
    cJSON_Delete(reply);
    return cJSON_IsArray(it) ? it : (cJSON_Delete(it), cJSON_CreateArray());
}

/* cause_index - the slot of a failure cause, made on first sight; -1 when full */
static int cause_index(con_world *self, const char *name)
{
    for (int i = 0; i < self->ncauses; i++)
        if (strcmp(self->causes[i], name) == 0)
            return i;
    if (self->ncauses >= MAX_CAUSES)
        return -1;
    cmk_strlcpy(self->causes[self->ncauses], name, sizeof self->causes[0]);
    return self->ncauses++;
}

/* slot - the chart's bucket of an epoch second (cleared when it held an older second) */
static bucket *slot(con_world *self, int64_t sec)
{
    bucket *b = &self->series[sec % SERIES_N];
    if (b->sec != sec) {
        memset(b, 0, sizeof *b);
        b->sec = sec;
    }
    return b;
}

/* event - remember a state change seen (newest last, EVENTS_N at most) */
static void event(con_world *self, int64_t now_ms, const char *text)
{
    char ts[40];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "time", cmk_time_format(now_ms, ts, sizeof ts));
    cJSON_AddNumberToObject(e, "time_ms", (double)now_ms);
    cJSON_AddStringToObject(e, "text", text);
    cJSON_AddItemToArray(self->events, e);
    while (cJSON_GetArraySize(self->events) > EVENTS_N)
        cJSON_DeleteItemFromArray(self->events, 0);
}

/* count_runs - runs started in the last RECOUNT_S seconds of every environment (the whole
 * chart when the console starts watching), counted again into the chart: their status may
 * have changed since the last poll */
static void count_runs(con_world *self, const cJSON *envs, int64_t now_ms, cJSON *errors)
{
    int span = self->fresh ? SERIES_N - 1 : RECOUNT_S;
    int64_t first = now_ms / 1000 - span, last = now_ms / 1000;
    int runs[SERIES_N] = { 0 }, ok[SERIES_N] = { 0 }, failed[SERIES_N] = { 0 };
    int n = 0, answered = 0, c0 = cause_index(self, "failed runs");
    const cJSON *env;

    cJSON_ArrayForEach(env, envs) {
        cmk_err err = CMK_ERR_INIT;
        cJSON *b, *list;
        const cJSON *r;
        if (n++ >= MAX_ENVS)
            break;
        /* a locked or disabled environment runs nothing; asking its worker would only make it
         * ask for keys it may not have (audited refusals every second) */
        if (strcmp(cmk_json_str(env, "state", ""), "Ready") != 0)
            continue;
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "env", cmk_json_str(env, "id", ""));
        cJSON_AddNumberToObject(b, "since_ms", (double)(first * 1000));
        cJSON_AddNumberToObject(b, "limit", 20000);
        list = call(self, CMK_T_RUN_LIST, b, &err);
        if (!list) {
            note_error(errors, CMK_T_RUN_LIST, &err);
            continue;
        }
        answered++;
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(list, "items")) {
            int64_t t = con_world_parse_time(cmk_json_str(r, "start", ""));
            const char *st = cmk_json_str(r, "status", "");
            int i;
            if (t < 0 || t / 1000 < first || t / 1000 > last)
                continue;
            i = (int)(t / 1000 - first);
            runs[i]++;
            if (strcmp(st, "Succeeded") == 0)
                ok[i]++;
            else if (strcmp(st, "Failed") == 0)
                failed[i]++;
        }
        cJSON_Delete(list);
    }
    if (!answered)
        return; /* nothing answered: keep what was counted before */
    self->fresh = 0;
    /* a second's counts only grow (runs are not unmade, final states stay), so an environment
     * left out this time (locked since) keeps what it had counted */
    for (int i = 0; i <= span; i++) {
        bucket *s = slot(self, first + i);
        s->runs = runs[i] > s->runs ? runs[i] : s->runs;
        s->ok = ok[i] > s->ok ? ok[i] : s->ok;
        s->failed = failed[i] > s->failed ? failed[i] : s->failed;
        if (c0 >= 0)
            s->cause[c0] = s->failed;
    }
}

/* count_egress - the gateway's outbound HTTP actions that did not succeed since the last poll,
 * by outcome, into the current second */
static void count_egress(con_world *self, int64_t now_ms, cJSON *errors)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *m = call(self, "metrics", NULL, &err), *totals = cJSON_CreateObject(), *t;
    const cJSON *e;

    if (!m) {
        note_error(errors, "gateway metrics", &err);
        cJSON_Delete(totals);
        return;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(m, "egress")) {
        const char *outcome = cmk_json_str(e, "outcome", "?");
        double n = cmk_json_num(e, "count", 0);
        cJSON *have = cJSON_GetObjectItem(totals, outcome);
        if (have)
            cJSON_SetNumberValue(have, have->valuedouble + n);
        else
            cJSON_AddNumberToObject(totals, outcome, n);
    }
    cJSON_Delete(m);
    cJSON_ArrayForEach(t, totals) {
        const cJSON *prev = self->egress_prev ? cJSON_GetObjectItem(self->egress_prev, t->string) : NULL;
        double delta = t->valuedouble - (prev ? prev->valuedouble : 0);
        char name[48];
        int ci;
        if (!self->egress_prev || strcmp(t->string, "ok") == 0)
            continue; /* the first poll only sets the baseline */
        if (delta < 0)
            delta = t->valuedouble; /* the gateway restarted: its counters began again */
        if (delta <= 0)
            continue;
        snprintf(name, sizeof name, "HTTP actions %s", t->string);
        if ((ci = cause_index(self, name)) >= 0)
            slot(self, now_ms / 1000)->cause[ci] += (int)delta;
    }
    cJSON_Delete(self->egress_prev);
    self->egress_prev = totals;
}

/* series_json - {step_ms, end, runs, ok, failed, causes: [{name, values}]} oldest first */
static cJSON *series_json(con_world *self, int64_t now_ms)
{
    cJSON *o = cJSON_CreateObject(), *runs, *ok, *failed, *causes;
    int64_t last = now_ms / 1000 - 1; /* the current second is not over */

    cJSON_AddNumberToObject(o, "step_ms", 1000);
    cJSON_AddNumberToObject(o, "end_ms", (double)(last * 1000));
    runs = cJSON_AddArrayToObject(o, "runs");
    ok = cJSON_AddArrayToObject(o, "succeeded");
    failed = cJSON_AddArrayToObject(o, "failed");
    causes = cJSON_AddArrayToObject(o, "causes");
    for (int64_t s = last - SERIES_N + 1; s <= last; s++) {
        const bucket *b = &self->series[s % SERIES_N];
        int have = b->sec == s;
        cJSON_AddItemToArray(runs, cJSON_CreateNumber(have ? b->runs : 0));
        cJSON_AddItemToArray(ok, cJSON_CreateNumber(have ? b->ok : 0));
        cJSON_AddItemToArray(failed, cJSON_CreateNumber(have ? b->failed : 0));
    }
    for (int i = 0; i < self->ncauses; i++) {
        cJSON *c = cJSON_CreateObject(), *v = cJSON_CreateArray();
        cJSON_AddStringToObject(c, "name", self->causes[i]);
        for (int64_t s = last - SERIES_N + 1; s <= last; s++) {
            const bucket *b = &self->series[s % SERIES_N];
            cJSON_AddItemToArray(v, cJSON_CreateNumber(b->sec == s ? b->cause[i] : 0));
        }
        cJSON_AddItemToObject(c, "values", v);
        cJSON_AddItemToArray(causes, c);
    }
    return o;
}

/* read_envs - every environment with its CMK status, lock, deletion due date and migration */
static cJSON *read_envs(con_world *self, int64_t now_ms, cJSON *errors)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *list = call(self, CMK_T_ENV_LIST, cJSON_CreateObject(), &err), *envs, *env, *states;
    int n = 0;

    if (!list) {
        note_error(errors, CMK_T_ENV_LIST, &err);
        return NULL;
    }
    envs = items(list);
    states = cJSON_CreateObject();
    cJSON_ArrayForEach(env, envs) {
        const char *id = cmk_json_str(env, "id", "");
        cJSON *st, *it;
        if (n++ >= MAX_ENVS)
            break;
        cmk_err_clear(&err);
        if ((st = call1(self, CMK_T_ENV_CMK_STATUS, "env", id, &err))) {
            /* the CMK status is a superset of the list entry: take its extra fields */
            cJSON_ArrayForEach(it, st)
                if (!cJSON_GetObjectItem(env, it->string))
                    cJSON_AddItemToObject(env, it->string, cJSON_Duplicate(it, 1));
            cJSON_ReplaceItemInObject(env, "state", cJSON_Duplicate(cJSON_GetObjectItem(st, "state"), 1));
            cJSON_Delete(st);
        } else
            note_error(errors, CMK_T_ENV_CMK_STATUS, &err);
        if (strcmp(cmk_json_str(env, "state", ""), "Locked") == 0) {
            int64_t at = con_world_parse_time(cmk_json_str(env, "locked_at", ""));
            int sandbox = strcmp(cmk_json_str(env, "type", ""), "sandbox") == 0;
            if (at > 0) {
                char ts[40];
                int64_t due = at + (sandbox ? self->o.locked_delete_sandbox : self->o.locked_delete_production);
                cJSON_AddStringToObject(env, "deletion_due", cmk_time_format(due, ts, sizeof ts));
                cJSON_AddNumberToObject(env, "deletion_due_ms", (double)due);
            }
        }
        if (cJSON_IsString(cJSON_GetObjectItem(env, "policy")) || strcmp(cmk_json_str(env, "state", ""), "Ready") != 0) {
            cJSON *m = call1(self, CMK_T_ENV_MIGRATION, "env", id, &err);
            if (m)
                cJSON_AddItemToObject(env, "migration", m);
        }
        {
            const char *was = cmk_json_str(self->states_prev, id, NULL), *now = cmk_json_str(env, "state", "?");
            if (self->states_prev && (!was || strcmp(was, now) != 0)) {
                char text[256];
                snprintf(text, sizeof text, was ? "%s: %s" : "%s: new, %s", cmk_json_str(env, "name", id), now);
                event(self, now_ms, text);
            }
            cJSON_AddStringToObject(states, id, now);
        }
    }
    cJSON_Delete(self->states_prev);
    self->states_prev = states;
    return envs;
}

/* read_policies - every enterprise policy with its environments */
static cJSON *read_policies(con_world *self, cJSON *errors)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *list = call(self, CMK_T_POLICY_LIST, cJSON_CreateObject(), &err), *pols, *p;

    if (!list) {
        note_error(errors, CMK_T_POLICY_LIST, &err);
        return cJSON_CreateArray();
    }
    pols = items(list);
    cJSON_ArrayForEach(p, pols) {
        cJSON *full = call1(self, CMK_T_POLICY_SHOW, "policy", cmk_json_str(p, "id", ""), &err);
        cJSON *envs = full ? cJSON_DetachItemFromObject(full, "environments") : NULL;
        cJSON_AddItemToObject(p, "environments", envs ? envs : cJSON_CreateArray());
        cJSON_Delete(full);
    }
    return pols;
}

/* read_vaults - vaults, their keys and every key's versions */
static cJSON *read_vaults(con_world *self, cJSON *errors)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *list = call(self, CMK_T_VAULT_LIST, cJSON_CreateObject(), &err), *vaults, *v;
    int nv = 0;

    if (!list) {
        note_error(errors, CMK_T_VAULT_LIST, &err);
        return NULL;
    }
    vaults = items(list);
    cJSON_ArrayForEach(v, vaults) {
        cJSON *keys, *k;
        int nk = 0;
        if (nv++ >= MAX_VAULTS)
            break;
        keys = items(call1(self, CMK_T_KEY_LIST, "vault", cmk_json_str(v, "name", ""), &err));
        cJSON_ArrayForEach(k, keys) {
            cJSON *b, *vers, *ver;
            cJSON_DeleteItemFromObject(cJSON_GetObjectItem(k, "key"), "n"); /* not shown */
            if (nk++ >= MAX_VAULTS)
                continue;
            b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "vault", cmk_json_str(v, "name", ""));
            cJSON_AddStringToObject(b, "name", cmk_json_str(k, "name", ""));
            vers = items(call(self, CMK_T_KEY_VERSIONS, b, &err));
            cJSON_ArrayForEach(ver, vers) {
                cJSON *key = cJSON_GetObjectItem(ver, "key");
                cJSON_DeleteItemFromObject(key, "n");
            }
            cJSON_AddItemToObject(k, "versions", vers);
        }
        cJSON_AddItemToObject(v, "keys", keys);
    }
    return vaults;
}

/* read_audit - the newest entries, the console's own reads left out */
static cJSON *read_audit(con_world *self, cJSON *errors, int *hidden)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *b = cJSON_CreateObject(), *all, *out = cJSON_CreateArray(), *e;

    cJSON_AddNumberToObject(b, "limit", 200);
    cJSON_AddBoolToObject(b, "newest_first", 1);
    if (!(all = call(self, CMK_T_AUDIT_LIST, b, &err))) {
        note_error(errors, CMK_T_AUDIT_LIST, &err);
        return out;
    }
    all = items(all);
    *hidden = 0;
    cJSON_ArrayForEach(e, all) {
        if (strcmp(cmk_json_str(e, "principal", ""), "console") == 0)
            (*hidden)++;
        else if (cJSON_GetArraySize(out) < AUDIT_SHOWN)
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(all);
    return out;
}

/* by_mtime - newest first */
static int by_mtime(const void *a, const void *b)
{
    double x = cmk_json_num(*(cJSON *const *)a, "mtime_ms", 0), y = cmk_json_num(*(cJSON *const *)b, "mtime_ms", 0);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* report_name_ok - a plain file name ending .md or .json */
static int report_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 4 || n > 200 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(name[i] == '.' || name[i] == '-' || name[i] == '_' || (name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')))
            return 0;
    return (n > 3 && strcmp(name + n - 3, ".md") == 0) || (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

/* read_reports - drill reports in the reports dir, newest first (50 at most) */
static cJSON *read_reports(con_world *self)
{
    cJSON *out = cJSON_CreateArray(), *arr[256];
    DIR *d = opendir(self->reports);
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return out;
    while ((de = readdir(d)) && n < 256) {
        char path[4400], ts[40];
        struct stat sb;
        cJSON *r;
        if (!report_name_ok(de->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", self->reports, de->d_name);
        if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
            continue;
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "name", de->d_name);
        cJSON_AddNumberToObject(r, "size", (double)sb.st_size);
        cJSON_AddNumberToObject(r, "mtime_ms", (double)sb.st_mtime * 1000.0);
        cJSON_AddStringToObject(r, "modified", cmk_time_format((int64_t)sb.st_mtime * 1000, ts, sizeof ts));
        arr[n++] = r;
    }
    closedir(d);
    qsort(arr, n, sizeof arr[0], by_mtime);
    for (size_t i = 0; i < n; i++) {
        if (i < 50)
            cJSON_AddItemToArray(out, arr[i]);
        else
            cJSON_Delete(arr[i]);
    }
    return out;
}

/* poll_once - read everything and make the next snapshot */
static cJSON *poll_once(con_world *self)
{
    cJSON *snap = cJSON_CreateObject(), *errors = cJSON_CreateArray(), *r, *envs, *console;
    cmk_err err = CMK_ERR_INIT;
    int64_t now = cmk_wall_ms();
    int hidden = 0;
    char ts[40];

    cJSON_AddStringToObject(snap, "generated", cmk_time_format(now, ts, sizeof ts));
    cJSON_AddNumberToObject(snap, "generated_ms", (double)now);
    console = cJSON_AddObjectToObject(snap, "console");
    cJSON_AddStringToObject(console, "identity", "console");
    cJSON_AddStringToObject(console, "access", "read-only");
    cJSON_AddNumberToObject(console, "refresh_ms", (double)self->o.refresh_ms);
    cJSON_AddStringToObject(console, "reports_dir", self->reports);
    if ((r = call(self, CMK_T_CLOCK_SHOW, NULL, &err)))
        cJSON_AddItemToObject(snap, "clock", r);
    else
        note_error(errors, "controller", &err);
    if (!r) { /* the controller does not answer: say so, keep the rest of the page */
        cJSON_AddItemToObject(snap, "errors", errors);
        cJSON_AddItemToObject(snap, "series", series_json(self, now));
        cJSON_AddItemToObject(snap, "events", cJSON_Duplicate(self->events, 1));
        return snap;
    }
    if ((r = call(self, "status", NULL, &err)))
        cJSON_AddItemToObject(snap, "processes", cJSON_DetachItemFromObject(r, "processes"));
    cJSON_Delete(r);
    r = call(self, CMK_T_TENANT_LIST, cJSON_CreateObject(), &err);
    cJSON_AddItemToObject(snap, "tenants", items(r));
    envs = read_envs(self, now, errors);
    cJSON_AddItemToObject(snap, "environments", envs ? envs : cJSON_CreateArray());
    cJSON_AddItemToObject(snap, "policies", read_policies(self, errors));
    if (!self->vaults || self->polls % VAULT_EVERY == 0) {
        cJSON *v = read_vaults(self, errors);
        if (v) {
            cJSON_Delete(self->vaults);
            self->vaults = v;
        }
    }
    cJSON_AddItemToObject(snap, "vaults", self->vaults ? cJSON_Duplicate(self->vaults, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(snap, "audit", read_audit(self, errors, &hidden));
    cJSON_AddNumberToObject(snap, "audit_console_reads_hidden", hidden);
    if (envs)
        count_runs(self, envs, now, errors);
    count_egress(self, now, errors);
    cJSON_AddItemToObject(snap, "series", series_json(self, now));
    cJSON_AddItemToObject(snap, "events", cJSON_Duplicate(self->events, 1));
    cJSON_AddItemToObject(snap, "reports", read_reports(self));
    cJSON_AddItemToObject(snap, "errors", errors);
    self->polls++;
    return snap;
}

/* run - the poller thread: poll while watched, sleep otherwise */
static void *run(void *arg)
{
    con_world *self = arg;

    pthread_mutex_lock(&self->mu);
    while (!self->stop) {
        if (cmk_mono_ms() >= self->watched_until) {
            self->fresh = 1;
            pthread_cond_wait(&self->cv, &self->mu);
            continue;
        }
        pthread_mutex_unlock(&self->mu);
        {
            int64_t start = cmk_mono_ms(), wait;
            cJSON *snap = poll_once(self);
            char *text;
            cJSON_AddNumberToObject(snap, "poll_ms", (double)(cmk_mono_ms() - start));
            text = cJSON_PrintUnformatted(snap);
            cJSON_Delete(snap);
            pthread_mutex_lock(&self->mu);
            if (text) {
                free(self->snapshot);
                self->snapshot = text;
                self->snapshot_mono = cmk_mono_ms();
                self->generation++;
                pthread_cond_broadcast(&self->cv);
            }
            wait = start + self->o.refresh_ms - cmk_mono_ms();
            if (wait > 0 && !self->stop) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                while (!self->stop && pthread_cond_timedwait(&self->cv, &self->mu, &ts) != ETIMEDOUT) {
                    struct timespec now;
                    clock_gettime(CLOCK_MONOTONIC, &now);
                    if (now.tv_sec > ts.tv_sec || (now.tv_sec == ts.tv_sec && now.tv_nsec >= ts.tv_nsec))
                        break;
                }
            }
        }
    }
    pthread_mutex_unlock(&self->mu);
    cmk_client_destroy(&self->client);
    return NULL;
}

/* con_world_new - copy the options, start the thread */
con_world *con_world_new(const con_world_opts *opts, cmk_err *err)
{
    con_world *self = calloc(1, sizeof *self);
    pthread_condattr_t ca;

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->o = *opts;
    cmk_strlcpy(self->run_dir, opts->run_dir, sizeof self->run_dir);
    cmk_strlcpy(self->key_path, opts->key_path, sizeof self->key_path);
    cmk_strlcpy(self->reports, opts->reports_dir ? opts->reports_dir : "", sizeof self->reports);
    if (self->o.refresh_ms < 200)
        self->o.refresh_ms = 200;
    self->events = cJSON_CreateArray();
    pthread_mutex_init(&self->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&self->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        cmk_err_set(err, CMK_ENOMEM, "cannot start the console's poller thread");
        con_world_destroy(&self);
        return NULL;
    }
    self->started = 1;
    return self;
}

/* con_world_destroy - stop the poller, free */
void con_world_destroy(con_world **self_p)
{
    con_world *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stop = 1;
        pthread_cond_broadcast(&self->cv);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->thread, NULL);
    }
    cmk_client_destroy(&self->client);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self->snapshot);
    cJSON_Delete(self->vaults);
    cJSON_Delete(self->egress_prev);
    cJSON_Delete(self->states_prev);
    cJSON_Delete(self->events);
    free(self);
    *self_p = NULL;
}

/* con_world_snapshot - copy of the newest snapshot; wakes the poller. A snapshot from before
 * the poller last slept is old: the next one is waited for (up to wait_ms) */
char *con_world_snapshot(con_world *self, int64_t wait_ms, cmk_err *err)
{
    char *out = NULL;
    int64_t deadline = cmk_mono_ms() + wait_ms;
    long gen;

    pthread_mutex_lock(&self->mu);
    if (cmk_mono_ms() >= self->watched_until)
        pthread_cond_broadcast(&self->cv); /* it slept: wake it */
    self->watched_until = cmk_mono_ms() + WATCH_MS;
    gen = self->generation;
    while (!self->stop && (!self->snapshot ||
                           (self->generation == gen && cmk_mono_ms() - self->snapshot_mono > 2 * self->o.refresh_ms + 1000))) {
        struct timespec ts;
        int64_t left = deadline - cmk_mono_ms();
        if (left <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&self->cv, &self->mu, &ts);
    }
    if (self->snapshot && !(out = strdup(self->snapshot)))
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
    else if (!self->snapshot)
        cmk_err_set(err, CMK_ETIMEOUT, "the console has not read the cluster yet; the page retries");
    pthread_mutex_unlock(&self->mu);
    return out;
}

/* con_world_report - a report file's text */
int con_world_report(con_world *self, const char *name, char **out, size_t *len, cmk_err *err)
{
    char path[4400];
    struct stat sb;

    if (!report_name_ok(name))
        return cmk_err_set(err, CMK_EINVAL, "a report is named like drill.md or drill.json");
    snprintf(path, sizeof path, "%s/%s", self->reports, name);
    if (stat(path, &sb) < 0)
        return cmk_err_set(err, CMK_ENOENT, "no report '%s' in %s", name, self->reports);
    if (!S_ISREG(sb.st_mode) || sb.st_size > REPORT_MAX)
        return cmk_err_set(err, CMK_EINVAL, "report '%s' is not a regular file of at most 1 MiB", name);
    return cmk_file_read(path, out, len, err);
}
