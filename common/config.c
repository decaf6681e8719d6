/*
 * config.c - the parameter table, defaults, JSON files and --set overrides.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

typedef enum { P_STR, P_INT, P_DUR, P_BOOL } param_type;

/* One row of the parameter table. */
typedef struct {
    const char *name;   /* dotted name, e.g. "heartbeat.interval" */
    param_type type;    /* how the value is parsed and stored */
    const char *def;    /* default, as text */
    const char *doc;    /* what it is for */
    size_t offset;      /* field offset in cmk_config */
} param_def;

/* One row of the range table (config_params.h). */
typedef struct {
    const char *name;  /* the parameter */
    long long min, max; /* INT/DUR: value (DUR in ms); STR: length in bytes; BOOL: 0..1 */
    const char *unit;  /* ms, bytes, ...; "one of: a|b" for a STR with fixed values */
} param_range;

#define RANGE_ROW(name, min, max, unit) { name, (long long)(min), (long long)(max), unit },
static const param_range ranges[] = { CMK_CONFIG_RANGES(RANGE_ROW) };
#define NRANGES ((int)(sizeof ranges / sizeof ranges[0]))

#define PARAM_ROW(name, field, type, def, doc) { name, P_##type, def, doc, offsetof(cmk_config, field) },
static const param_def params[] = { CMK_CONFIG_PARAMS(PARAM_ROW) };
#define NPARAMS ((int)(sizeof params / sizeof params[0]))

int cmk_config_param_count(void) { return NPARAMS; }
const char *cmk_config_param_name(int i) { return i >= 0 && i < NPARAMS ? params[i].name : NULL; }
const char *cmk_config_param_default(int i) { return i >= 0 && i < NPARAMS ? params[i].def : NULL; }
const char *cmk_config_param_doc(int i) { return i >= 0 && i < NPARAMS ? params[i].doc : NULL; }

/* range_find - the range row of a parameter, or NULL */
static const param_range *range_find(const char *name)
{
    for (int i = 0; i < NRANGES; i++)
        if (strcmp(ranges[i].name, name) == 0)
            return &ranges[i];
    return NULL;
}

/* cmk_config_param_range - the range and unit of parameter i; CMK_ENOENT if it has none */
int cmk_config_param_range(int i, long long *min, long long *max, const char **unit)
{
    const param_range *r = i >= 0 && i < NPARAMS ? range_find(params[i].name) : NULL;
    if (!r)
        return CMK_ENOENT;
    if (min)
        *min = r->min;
    if (max)
        *max = r->max;
    if (unit)
        *unit = r->unit;
    return 0;
}

/* range_text - "10..60000 ms" (durations also in words) into buf */
static const char *range_text(const param_def *p, const param_range *r, char *buf, size_t cap)
{
    char a[64], b[64];
    if (p->type == P_DUR)
        snprintf(buf, cap, "%s..%s", cmk_duration_format(r->min, a, sizeof a), cmk_duration_format(r->max, b, sizeof b));
    else if (p->type == P_STR)
        snprintf(buf, cap, "%lld..%lld bytes of %s", r->min, r->max, r->unit);
    else
        snprintf(buf, cap, "%lld..%lld %s", r->min, r->max, r->unit);
    return buf;
}

/* check_enum - whether text is one of "one of: a|b|c" */
static int check_enum(const char *unit, const char *text)
{
    const char *list = unit + strlen("one of: ");
    size_t n = strlen(text);
    for (const char *it = list; *it;) {
        const char *bar = strchr(it, '|');
        size_t len = bar ? (size_t)(bar - it) : strlen(it);
        if (len == n && strncmp(it, text, n) == 0)
            return 1;
        it += len + (bar ? 1 : 0);
    }
    return 0;
}

/* check_range - refuse a value outside its parameter's declared range */
static int check_range(const param_def *p, const char *text, int64_t num, const char *source, cmk_err *err)
{
    const param_range *r = range_find(p->name);
    char buf[160];
    if (!r)
        return cmk_err_set(err, CMK_EINTERNAL, "parameter %s declares no range in config_params.h", p->name);
    if (p->type == P_STR) {
        size_t len = strlen(text);
        if (strncmp(r->unit, "one of: ", 8) == 0) {
            if (!check_enum(r->unit, text))
                return cmk_err_set(err, CMK_EINVAL, "%s: %s must be %s, not '%.64s'", source, p->name, r->unit, text);
            return 0;
        }
        if ((long long)len < r->min || (long long)len > r->max)
            return cmk_err_set(err, CMK_EINVAL, "%s: %s is %zu bytes long; the range is %s", source, p->name, len,
                               range_text(p, r, buf, sizeof buf));
        if (strncmp(r->unit, "host:port", 9) == 0) {
            const char *colon = strrchr(text, ':');
            char *end;
            long long port = colon ? strtoll(colon + 1, &end, 10) : -1;
            if (!colon || colon == text || !colon[1] || *end || port < 0 || port > 65535)
                return cmk_err_set(err, CMK_EINVAL, "%s: %s must be %s, not '%.64s'", source, p->name, r->unit, text);
        }
        return 0;
    }
    if (num < r->min || num > r->max) {
        char v[64];
        if (p->type == P_DUR)
            cmk_duration_format(num, v, sizeof v);
        else
            snprintf(v, sizeof v, "%lld", (long long)num);
        return cmk_err_set(err, CMK_EINVAL, "%s: %s = %s is out of range; the range is %s", source, p->name, v,
                           range_text(p, r, buf, sizeof buf));
    }
    return 0;
}

static const param_def *param_find(const char *name)
{
    for (int i = 0; i < NPARAMS; i++)
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

/* param_set_text - parse text into the field of p */
static int param_set_text(cmk_config *self, const param_def *p, const char *text, const char *source,
                          cmk_err *err)
{
    char *field = (char *)self + p->offset;
    char *end;

    switch (p->type) {
    case P_STR: {
        char *dup;
        if (check_range(p, text, 0, source, err) < 0)
            return err ? err->code : CMK_EINVAL;
        dup = strdup(text);
        if (!dup)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        free(*(char **)field);
        *(char **)field = dup;
        return 0;
    }
    case P_INT: {
        long long v;
        errno = 0;
        v = strtoll(text, &end, 10);
        if (!*text || *end || errno == ERANGE)
            return cmk_err_set(err, CMK_EINVAL, "%s: %s must be an integer, not '%s'", source,
                               p->name, text);
        if (check_range(p, text, v, source, err) < 0)
            return err ? err->code : CMK_EINVAL;
        *(int64_t *)field = v;
        return 0;
    }
    case P_DUR: {
        int64_t ms;
        if (cmk_duration_parse(text, &ms, err) < 0)
            return cmk_err_prefix(err, "%s: %s: ", source, p->name);
        if (check_range(p, text, ms, source, err) < 0)
            return err ? err->code : CMK_EINVAL;
        *(int64_t *)field = ms;
        return 0;
    }
    case P_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0 || strcmp(text, "on") == 0)
            *(int *)field = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0 || strcmp(text, "off") == 0)
            *(int *)field = 0;
        else
            return cmk_err_set(err, CMK_EINVAL, "%s: %s must be true or false, not '%s'", source,
                               p->name, text);
        return 0;
    }
    return cmk_err_set(err, CMK_EINTERNAL, "parameter %s has no type", p->name);
}

/* cmk_config_new - defaults */
cmk_config *cmk_config_new(const char *run_dir, cmk_err *err)
{
    cmk_config *self = calloc(1, sizeof *self);
    char cwd[PATH_MAX];

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < NPARAMS; i++)
        if (param_set_text(self, &params[i], params[i].def, "defaults", err) < 0) {
            cmk_config_destroy(&self);
            return NULL;
        }
    if (!run_dir || !*run_dir)
        run_dir = "./var";
    if (run_dir[0] == '/')
        cmk_strlcpy(self->run_dir, run_dir, sizeof self->run_dir);
    else if (getcwd(cwd, sizeof cwd)) {
        const char *rel = strncmp(run_dir, "./", 2) == 0 ? run_dir + 2 : run_dir;
        size_t n = cmk_strlcpy(self->run_dir, cwd, sizeof self->run_dir);
        if (n + 1 + strlen(rel) >= sizeof self->run_dir) {
            cmk_err_set(err, CMK_EINVAL, "run dir path is too long");
            cmk_config_destroy(&self);
            return NULL;
        }
        self->run_dir[n] = '/';
        cmk_strlcpy(self->run_dir + n + 1, rel, sizeof self->run_dir - n - 1);
    } else {
        cmk_err_set(err, CMK_EIO, "cannot find the current directory to place the run dir");
        cmk_config_destroy(&self);
        return NULL;
    }
    return self;
}

/* cmk_config_destroy - free strings and the config */
void cmk_config_destroy(cmk_config **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < NPARAMS; i++)
        if (params[i].type == P_STR)
            free(*(char **)((char *)*self_p + params[i].offset));
    free(*self_p);
    *self_p = NULL;
}

/* cmk_config_set - one parameter from text */
int cmk_config_set(cmk_config *self, const char *name, const char *value, cmk_err *err)
{
    const param_def *p = param_find(name);
    if (!p)
        return cmk_err_set(err, CMK_EINVAL,
                           "unknown config parameter '%s'; configs/default.json lists every one", name);
    return param_set_text(self, p, value, "--set", err);
}

/* load_object - walk nested JSON, building dotted names */
static int load_object(cmk_config *self, const cJSON *obj, const char *prefix, const char *source,
                       cmk_err *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        char name[256];
        for (const cJSON *prev = obj->child; prev && prev != it; prev = prev->next)
            if (prev->string && it->string && strcmp(prev->string, it->string) == 0)
                return cmk_err_set(err, CMK_EINVAL,
                                   "%s: '%s%s%s' appears twice; a config names each parameter once", source,
                                   prefix, *prefix ? "." : "", it->string);
        const param_def *p;
        char num[64];
        const char *text = NULL;

        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", it->string);
        if (cJSON_IsObject(it)) {
            int rc = load_object(self, it, name, source, err);
            if (rc < 0)
                return rc;
            continue;
        }
        p = param_find(name);
        if (!p)
            return cmk_err_set(err, CMK_EINVAL,
                               "%s: unknown config parameter '%s'; configs/default.json lists every one",
                               source, name);
        if (cJSON_IsString(it))
            text = it->valuestring;
        else if (cJSON_IsBool(it) && p->type == P_BOOL)
            text = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it) && p->type == P_INT) {
            if (!(it->valuedouble >= -9.2e18 && it->valuedouble <= 9.2e18))
                return cmk_err_set(err, CMK_EINVAL, "%s: %s = %g is not an integer this config can hold", source,
                                   name, it->valuedouble);
            snprintf(num, sizeof num, "%.0f", it->valuedouble);
            text = num;
        }
        if (!text)
            return cmk_err_set(err, CMK_EINVAL, "%s: %s has a value of the wrong type (%s)", source,
                               name,
                               p->type == P_BOOL ? "expected true or false"
                               : p->type == P_INT ? "expected an integer"
                               : p->type == P_DUR ? "expected a duration string like \"5s\""
                                                  : "expected a string");
        if (param_set_text(self, p, text, source, err) < 0)
            return err ? err->code : CMK_EINVAL;
    }
    return 0;
}

/* cmk_config_load_json - apply parsed JSON */
int cmk_config_load_json(cmk_config *self, const cJSON *json, const char *source, cmk_err *err)
{
    if (!cJSON_IsObject(json))
        return cmk_err_set(err, CMK_EINVAL, "%s: a config must be a JSON object", source);
    return load_object(self, json, "", source, err);
}

/* cmk_config_load_file - apply a JSON file */
int cmk_config_load_file(cmk_config *self, const char *path, cmk_err *err)
{
    cJSON *json;
    int rc = cmk_json_load_file(path, &json, err);
    if (rc < 0)
        return cmk_err_prefix(err, "config: ");
    rc = cmk_config_load_json(self, json, path, err);
    cJSON_Delete(json);
    return rc;
}

/* cmk_config_to_json - nested JSON of every value */
cJSON *cmk_config_to_json(const cmk_config *self)
{
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; root && i < NPARAMS; i++) {
        const param_def *p = &params[i];
        const char *field = (const char *)self + p->offset;
        char path[256], *dot, *seg = path, buf[64];
        cJSON *obj = root, *val = NULL;

        cmk_strlcpy(path, p->name, sizeof path);
        while ((dot = strchr(seg, '.'))) {
            cJSON *child;
            *dot = '\0';
            child = cJSON_GetObjectItemCaseSensitive(obj, seg);
            if (!child)
                child = cJSON_AddObjectToObject(obj, seg);
            obj = child;
            seg = dot + 1;
        }
        switch (p->type) {
        case P_STR: val = cJSON_CreateString(*(char *const *)field); break;
        case P_INT: val = cJSON_CreateNumber((double)*(const int64_t *)field); break;
        case P_DUR: val = cJSON_CreateString(cmk_duration_format(*(const int64_t *)field, buf, sizeof buf)); break;
        case P_BOOL: val = cJSON_CreateBool(*(const int *)field); break;
        }
        cJSON_AddItemToObject(obj, seg, val);
    }
    return root;
}

/* cmk_config_endpoint - replace {run} */
char *cmk_config_endpoint(const cmk_config *self, const char *tmpl, char *buf, size_t cap)
{
    const char *hole = strstr(tmpl, "{run}");
    if (!hole)
        cmk_strlcpy(buf, tmpl, cap);
    else
        snprintf(buf, cap, "%.*s%s%s", (int)(hole - tmpl), tmpl, self->run_dir, hole + 5);
    return buf;
}
