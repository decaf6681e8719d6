/*
 * fw_config.c - load and validate a customer firewall config (format in fw_config.h).
 *
 * Validation is strict and every refusal names the file, the line and the rule: syntax errors
 * take their line from cJSON's error position, semantic errors from fw_jsonpos, which finds
 * the offending value ("rules[2].source[1]") in the raw text.
 */
#include "fw_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fw_jsonpos.h"

#define CFG_MAX_FILE (4u * 1024u * 1024u) /* refuse configs larger than this */
#define CFG_NAME_MAX 64                   /* longest config or rule name */

struct fw_config {
    char *origin;                  /* path or origin name */
    char *name;                    /* "name", or the file name */
    char *comment;                 /* "comment" or NULL */
    char *tags_origin;             /* service-tags file used to resolve tags, or NULL */
    fw_mode mode;                  /* enforce or report */
    fw_action def;                 /* "default" */
    fw_rule *rules;                /* rules in order */
    size_t n_rules;                /* count of rules */
    bool resolved;                 /* every tag source resolved */
    fw_config_warning *warnings;   /* remarks made while loading */
    size_t n_warnings;             /* count of warnings */
    size_t cap_warnings;           /* allocated warnings */
};

/* State while parsing one config. */
typedef struct {
    const char *text;           /* raw config text */
    size_t len;                 /* its length */
    const char *origin;         /* name for messages */
    cmk_err *err;               /* where refusals go */
    fw_config *cfg;             /* config being built */
    const fw_servicetags *tags; /* service tags to resolve against, or NULL */
    unsigned flags;             /* FW_CONFIG_* */
    char label[CFG_NAME_MAX + 32]; /* "rule 3 \"name\": " for messages, or "" */
} cf_ctx;

static const char *const top_keys[] = { "name", "comment", "mode", "default", "rules", NULL };
static const char *const rule_keys[] = { "name", "comment", "action", "source", "port", NULL };
static const char *const tag_keys[] = { "tag", "region", NULL };

/* fw_action_name - action to text */
const char *fw_action_name(fw_action a)
{
    switch (a) {
    case FW_ALLOW: return "allow";
    case FW_DROP: return "drop";
    case FW_REJECT: return "reject";
    }
    return "?";
}

/* fw_action_parse - text to action */
int fw_action_parse(const char *s, fw_action *out)
{
    if (!s)
        return CMK_EINVAL;
    if (strcmp(s, "allow") == 0)
        *out = FW_ALLOW;
    else if (strcmp(s, "drop") == 0 || strcmp(s, "deny") == 0)
        *out = FW_DROP;
    else if (strcmp(s, "reject") == 0)
        *out = FW_REJECT;
    else
        return CMK_EINVAL;
    return 0;
}

/* fw_mode_name - mode to text */
const char *fw_mode_name(fw_mode m)
{
    return m == FW_MODE_REPORT ? "report" : "enforce";
}

/* fw_port_parse - "443" or "8000-8100" */
int fw_port_parse(const char *s, fw_port_range *out, cmk_err *err)
{
    unsigned long lo, hi;
    char *e;
    if (!s || *s < '0' || *s > '9')
        goto bad;
    errno = 0;
    lo = strtoul(s, &e, 10);
    hi = lo;
    if (*e == '-') {
        if (e[1] < '0' || e[1] > '9')
            goto bad;
        hi = strtoul(e + 1, &e, 10);
    }
    if (errno || *e != '\0')
        goto bad;
    if (lo < 1 || hi > 65535 || lo > hi)
        return cmk_err_set(err, CMK_EINVAL,
                           "port \"%s\" is out of range (ports are 1..65535, low-high ascending)", s);
    out->lo = (uint16_t)lo;
    out->hi = (uint16_t)hi;
    return 0;
bad:
    return cmk_err_set(err, CMK_EINVAL,
                       "port \"%s\" is not a port or range (expected e.g. 443 or \"8000-8100\")",
                       s ? s : "");
}

/* free_rule - release what one rule owns */
static void free_rule(fw_rule *r)
{
    for (size_t i = 0; i < r->n_sources; i++) {
        fw_source *s = (fw_source *)&r->sources[i];
        free((char *)s->cidr);
        free((char *)s->tag);
        free((char *)s->region);
        free((char *)s->resolved);
    }
    free((fw_source *)r->sources);
    free((char *)r->name);
    free((char *)r->comment);
    free((fw_port_range *)r->ports);
    fw_cidrset *set = (fw_cidrset *)r->set;
    fw_cidrset_destroy(&set);
}

/* fw_config_destroy - free a config */
void fw_config_destroy(fw_config **self_p)
{
    if (!self_p || !*self_p)
        return;
    fw_config *cfg = *self_p;
    for (size_t i = 0; i < cfg->n_rules; i++)
        free_rule(&cfg->rules[i]);
    for (size_t i = 0; i < cfg->n_warnings; i++)
        free((char *)cfg->warnings[i].msg);
    free(cfg->warnings);
    free(cfg->rules);
    free(cfg->origin);
    free(cfg->name);
    free(cfg->comment);
    free(cfg->tags_origin);
    free(cfg);
    *self_p = NULL;
}

/* refuse - "<origin>:<line>: <label><why>" for the value at path; returns CMK_EINVAL */
static int refuse(cf_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(cf_ctx *c, const char *path, const char *fmt, ...)
{
    char why[CMK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return cmk_err_set(c->err, CMK_EINVAL, "%s:%d: %s%s", c->origin,
                       fw_jsonpos_line(c->text, c->len, path), c->label, why);
}

/* warn - record a remark for the value at path */
static int warn(cf_ctx *c, const char *path, int rule, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int warn(cf_ctx *c, const char *path, int rule, const char *code, const char *fmt, ...)
{
    char why[CMK_ERR_MSG_MAX], *msg;
    fw_config *cfg = c->cfg;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (cfg->n_warnings == cfg->cap_warnings) {
        size_t cap = cfg->cap_warnings ? cfg->cap_warnings * 2 : 8;
        fw_config_warning *w = realloc(cfg->warnings, cap * sizeof *w);
        if (!w)
            return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
        cfg->warnings = w;
        cfg->cap_warnings = cap;
    }
    if (asprintf(&msg, "%s%s", c->label, why) < 0)
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    cfg->warnings[cfg->n_warnings].line = fw_jsonpos_line(c->text, c->len, path);
    cfg->warnings[cfg->n_warnings].rule = rule;
    cfg->warnings[cfg->n_warnings].code = code;
    cfg->warnings[cfg->n_warnings].msg = msg;
    cfg->n_warnings++;
    return 0;
}

/* type_name - a JSON value's type for messages */
static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* check_keys - refuse unknown and duplicate keys of obj (at path) */
static int check_keys(cf_ctx *c, const cJSON *obj, const char *path, const char *const *known,
                      const char *what)
{
    char sub[128], list[128];
    size_t used = 0;
    list[0] = '\0';
    for (size_t k = 0; known[k]; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", known[k]);
    for (const cJSON *a = obj->child; a; a = a->next) {
        bool ok = false;
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", a->string);
        for (size_t k = 0; known[k] && !ok; k++)
            ok = strcmp(a->string, known[k]) == 0;
        if (!ok)
            return refuse(c, sub, "unknown key \"%s\" in %s (known keys: %s)", a->string, what,
                          list);
        for (const cJSON *b = obj->child; b != a; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return refuse(c, sub, "key \"%s\" appears twice in %s", a->string, what);
    }
    return 0;
}

/* get_text - optional string member (a name is checked harder): NULL if absent */
static int get_text(cf_ctx *c, const cJSON *obj, const char *path, const char *key, bool is_name,
                    char **out)
{
    char sub[128];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    if (!cJSON_IsString(v))
        return refuse(c, sub, "\"%s\" must be a string, not %s", key, type_name(v));
    if (is_name) {
        size_t n = strlen(v->valuestring);
        if (n == 0 || n > CFG_NAME_MAX)
            return refuse(c, sub, "\"name\" must have 1 to %d characters", CFG_NAME_MAX);
        for (const char *p = v->valuestring; *p; p++)
            if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
                return refuse(c, sub, "\"name\" \"%s\" may hold printable ASCII only, without "
                              "quotes or backslashes", v->valuestring);
    }
    if (!(*out = strdup(v->valuestring)))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    return 0;
}

/* parse_tag_source - {"tag": ..., "region": ...}: resolve into set */
static int parse_tag_source(cf_ctx *c, const cJSON *v, const char *path, int rule, fw_source *s,
                            fw_cidrset *set, bool *resolved)
{
    char sub[128];
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(v, "tag");
    const cJSON *region = cJSON_GetObjectItemCaseSensitive(v, "region");
    const fw_servicetag *t;
    cmk_err lerr = CMK_ERR_INIT;
    int rc;

    if ((rc = check_keys(c, v, path, tag_keys, "a service-tag source")) < 0)
        return rc;
    snprintf(sub, sizeof sub, "%s.tag", path);
    if (!cJSON_IsString(tag) || !*tag->valuestring)
        return refuse(c, tag ? sub : path, "a service-tag source needs \"tag\": a tag name such "
                      "as \"PowerPlatformPlex\"");
    snprintf(sub, sizeof sub, "%s.region", path);
    if (region && (!cJSON_IsString(region) || !*region->valuestring))
        return refuse(c, sub, "\"region\" must be a region name such as \"WestUS\"");
    if (!(s->tag = strdup(tag->valuestring)) ||
        (region && !(s->region = strdup(region->valuestring))))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    if (!c->tags) {
        if (c->flags & FW_CONFIG_UNRESOLVED_OK) {
            *resolved = false;
            return 0;
        }
        return refuse(c, path, "source uses service tag \"%s\" but no service-tags file was "
                      "loaded to resolve it (give --service-tags FILE)", s->tag);
    }
    if (fw_servicetags_lookup(c->tags, s->tag, s->region, &t, &lerr) < 0)
        return refuse(c, path, "%s", lerr.msg);
    if (!(s->resolved = strdup(t->name)))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    s->n_prefixes = t->n_prefixes;
    for (size_t i = 0; i < t->n_prefixes; i++)
        if (fw_cidrset_add(set, &t->prefixes[i]) < 0)
            return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    if (t->n_prefixes == 0)
        return warn(c, path, rule, "empty-tag", "service tag %s holds no addresses in %s, so this source "
                    "matches nothing", t->name, fw_servicetags_origin(c->tags));
    return 0;
}

/* parse_source_item - one string or tag object of a rule's source */
static int parse_source_item(cf_ctx *c, const cJSON *v, const char *path, int rule, fw_rule *r,
                             fw_source *s, fw_cidrset *set)
{
    cmk_err perr = CMK_ERR_INIT;
    char buf[FW_PREFIX_STRLEN];

    s->line = fw_jsonpos_line(c->text, c->len, path);
    if (cJSON_IsObject(v))
        return parse_tag_source(c, v, path, rule, s, set, &r->resolved);
    if (!cJSON_IsString(v))
        return refuse(c, path, "a source must be a CIDR string, \"any\", a {\"tag\": ...} "
                      "object or an array of these, not %s", type_name(v));
    if (!(s->cidr = strdup(v->valuestring)))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    if (strcmp(v->valuestring, "any") == 0) {
        r->any_source = true;
        return 0;
    }
    if (fw_prefix_parse(v->valuestring, &s->prefix, &s->host_bits, &perr) < 0)
        return refuse(c, path, "source %s", perr.msg);
    if (fw_cidrset_add(set, &s->prefix) < 0)
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    if (s->host_bits)
        return warn(c, path, rule, "host-bits", "source \"%s\" has host bits set; it is treated as %s", s->cidr,
                    fw_prefix_format(&s->prefix, buf, sizeof buf));
    return 0;
}

/* parse_sources - "source": one item or an array of items */
static int parse_sources(cf_ctx *c, const cJSON *jr, const char *rpath, int rule, fw_rule *r)
{
    char path[128];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jr, "source");
    fw_cidrset *set = fw_cidrset_new();
    fw_source *srcs;
    size_t n;
    int rc = 0;

    if (!set)
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    r->set = set;
    r->resolved = true;
    snprintf(path, sizeof path, "%s.source", rpath);
    if (!v)
        return refuse(c, rpath, "rule has no \"source\" (a CIDR, \"any\", a {\"tag\": ...} object "
                      "or an array of these)");
    n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
    if (n == 0)
        return refuse(c, path, "\"source\" is an empty list; name at least one source");
    if (!(srcs = calloc(n, sizeof *srcs)))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    r->sources = srcs;
    r->n_sources = n;
    if (!cJSON_IsArray(v))
        return parse_source_item(c, v, path, rule, r, srcs, set);
    size_t i = 0;
    for (const cJSON *it = v->child; it && rc == 0; it = it->next, i++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        rc = parse_source_item(c, it, sub, rule, r, &srcs[i], set);
    }
    return rc;
}

/* port_cmp - order port ranges */
static int port_cmp(const void *a, const void *b)
{
    const fw_port_range *x = a, *y = b;
    return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi > y->hi) - (x->hi < y->hi);
}

/* parse_port_item - a number or a "443"/"8000-8100" string */
static int parse_port_item(cf_ctx *c, const cJSON *v, const char *path, fw_port_range *out)
{
    cmk_err perr = CMK_ERR_INIT;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != floor(d) || d < 1 || d > 65535)
            return refuse(c, path, "port %g is not a port number (1..65535)", d);
        out->lo = out->hi = (uint16_t)d;
        return 0;
    }
    if (!cJSON_IsString(v))
        return refuse(c, path, "\"port\" must be a number, a \"low-high\" string or an array of "
                      "these, not %s", type_name(v));
    if (fw_port_parse(v->valuestring, out, &perr) < 0)
        return refuse(c, path, "%s", perr.msg);
    return 0;
}

/* parse_ports - optional "port" */
static int parse_ports(cf_ctx *c, const cJSON *jr, const char *rpath, fw_rule *r)
{
    char path[128];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jr, "port");
    fw_port_range *ports;
    size_t n, i = 0, out = 0;
    int rc = 0;

    if (!v) {
        r->any_port = true;
        return 0;
    }
    snprintf(path, sizeof path, "%s.port", rpath);
    n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
    if (n == 0)
        return refuse(c, path, "\"port\" is an empty list; leave \"port\" out to match any port");
    if (!(ports = calloc(n, sizeof *ports)))
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    r->ports = ports;
    if (!cJSON_IsArray(v)) {
        rc = parse_port_item(c, v, path, ports);
    } else {
        for (const cJSON *it = v->child; it && rc == 0; it = it->next, i++) {
            char sub[160];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            rc = parse_port_item(c, it, sub, &ports[i]);
        }
    }
    if (rc < 0)
        return rc;
    qsort(ports, n, sizeof *ports, port_cmp);
    for (i = 0; i < n; i++) {
        if (out > 0 && ports[i].lo <= ports[out - 1].hi + 1) {
            if (ports[i].hi > ports[out - 1].hi)
                ports[out - 1].hi = ports[i].hi;
        } else {
            ports[out++] = ports[i];
        }
    }
    r->n_ports = out;
    return 0;
}

/* parse_rule - rules[i] */
static int parse_rule(cf_ctx *c, const cJSON *jr, size_t i, fw_rule *r)
{
    char path[64], sub[80], *action = NULL;
    int rc;

    snprintf(path, sizeof path, "rules[%zu]", i);
    snprintf(c->label, sizeof c->label, "rule %zu: ", i + 1);
    r->line = fw_jsonpos_line(c->text, c->len, path);
    if (!cJSON_IsObject(jr))
        return refuse(c, path, "each rule must be an object with action and source, not %s",
                      type_name(jr));
    if ((rc = get_text(c, jr, path, "name", true, (char **)&r->name)) < 0)
        return rc;
    if (r->name)
        snprintf(c->label, sizeof c->label, "rule %zu \"%s\": ", i + 1, r->name);
    else if (asprintf((char **)&r->name, "rule-%zu", i + 1) < 0)
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
    if ((rc = check_keys(c, jr, path, rule_keys, "a rule")) < 0 ||
        (rc = get_text(c, jr, path, "comment", false, (char **)&r->comment)) < 0 ||
        (rc = get_text(c, jr, path, "action", false, &action)) < 0)
        return rc;
    snprintf(sub, sizeof sub, "%s.action", path);
    if (!action)
        rc = refuse(c, path, "rule has no \"action\" (\"allow\", \"drop\" or \"reject\")");
    else if (fw_action_parse(action, &r->action) < 0)
        rc = refuse(c, sub, "action \"%s\" is not one of \"allow\", \"drop\" (or \"deny\"), "
                    "\"reject\"", action);
    free(action);
    if (rc < 0 || (rc = parse_sources(c, jr, path, (int)i, r)) < 0 ||
        (rc = parse_ports(c, jr, path, r)) < 0)
        return rc;
    for (size_t k = 0; k < i; k++)
        if (strcmp(c->cfg->rules[k].name, r->name) == 0)
            return refuse(c, path, "rule name \"%s\" is already used by rule %zu (line %d); rule "
                          "names must be unique", r->name, k + 1, c->cfg->rules[k].line);
    fw_cidrset_seal((fw_cidrset *)r->set);
    return 0;
}

/* parse_top - the top-level object */
static int parse_top(cf_ctx *c, const cJSON *root)
{
    fw_config *cfg = c->cfg;
    const cJSON *rules, *jr;
    char *mode = NULL, *def = NULL;
    int rc;
    size_t i = 0;

    if (!cJSON_IsObject(root))
        return refuse(c, "", "a firewall config is a JSON object with \"default\" and \"rules\", "
                      "not %s", type_name(root));
    if ((rc = check_keys(c, root, "", top_keys, "the firewall config")) < 0 ||
        (rc = get_text(c, root, "", "name", true, &cfg->name)) < 0 ||
        (rc = get_text(c, root, "", "comment", false, &cfg->comment)) < 0 ||
        (rc = get_text(c, root, "", "mode", false, &mode)) < 0 ||
        (rc = get_text(c, root, "", "default", false, &def)) < 0)
        goto out;
    if (mode && strcmp(mode, "enforce") == 0)
        cfg->mode = FW_MODE_ENFORCE;
    else if (mode && strcmp(mode, "report") == 0)
        cfg->mode = FW_MODE_REPORT;
    else if (mode) {
        rc = refuse(c, "mode", "\"mode\" must be \"enforce\" or \"report\", not \"%s\"", mode);
        goto out;
    }
    if (!def) {
        rc = refuse(c, "", "the config has no \"default\" action (\"allow\", \"drop\" or "
                    "\"reject\") for connections no rule matches");
        goto out;
    }
    if (fw_action_parse(def, &cfg->def) < 0) {
        rc = refuse(c, "default", "\"default\" must be \"allow\", \"drop\" (or \"deny\") or "
                    "\"reject\", not \"%s\"", def);
        goto out;
    }
    rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if (!rules) {
        rc = refuse(c, "", "the config has no \"rules\" list (use [] for none)");
        goto out;
    }
    if (!cJSON_IsArray(rules)) {
        rc = refuse(c, "rules", "\"rules\" must be a list of rules, not %s", type_name(rules));
        goto out;
    }
    cfg->rules = calloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof *cfg->rules);
    if (!cfg->rules) {
        rc = cmk_err_set(c->err, CMK_ENOMEM, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(jr, rules) {
        cfg->n_rules = i + 1;
        if ((rc = parse_rule(c, jr, i, &cfg->rules[i])) < 0)
            goto out;
        if (!cfg->rules[i].resolved)
            cfg->resolved = false;
        i++;
    }
    c->label[0] = '\0';
out:
    free(mode);
    free(def);
    return rc;
}

/* base_name - file name without directories and ".json" */
static char *base_name(const char *origin)
{
    const char *b = strrchr(origin, '/');
    b = b ? b + 1 : origin;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".json") == 0)
        n -= 5;
    return strndup(b, n);
}

/* fw_config_parse - validate text */
fw_config *fw_config_parse(const char *text, size_t len, const char *origin,
                           const fw_servicetags *tags, unsigned flags, cmk_err *err)
{
    cf_ctx c = { .text = text, .len = len, .origin = origin ? origin : "config", .err = err,
                 .tags = tags, .flags = flags };
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    fw_config *cfg = NULL;
    int line, col;

    if (root && end) {
        const char *p = end;
        while (p < text + len && strchr(" \t\r\n", *p))
            p++;
        if (p < text + len && *p != '\0') {
            cJSON_Delete(root);
            root = NULL;
            end = p;
        }
    }
    if (!root) {
        fw_jsonpos_line_col(text, len, end ? (size_t)(end - text) : 0, &line, &col);
        cmk_err_set(err, CMK_EINVAL,
                    "%s:%d:%d: not valid JSON near here (check for a missing comma or quote, a "
                    "trailing comma or a comment; JSON allows none of these)", c.origin, line, col);
        return NULL;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->origin = strdup(c.origin)) ||
        (tags && !(cfg->tags_origin = strdup(fw_servicetags_origin(tags))))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory loading %s", c.origin);
        goto fail;
    }
    cfg->resolved = true;
    cfg->def = FW_REJECT;
    c.cfg = cfg;
    if (parse_top(&c, root) < 0)
        goto fail;
    if (!cfg->name && !(cfg->name = base_name(c.origin))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory loading %s", c.origin);
        goto fail;
    }
    cJSON_Delete(root);
    return cfg;
fail:
    cJSON_Delete(root);
    fw_config_destroy(&cfg);
    return NULL;
}

/* fw_config_load - read a file and validate it */
fw_config *fw_config_load(const char *path, const fw_servicetags *tags, unsigned flags,
                          cmk_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len;
    fw_config *cfg;

    if (!f) {
        cmk_err_set(err, errno == ENOENT ? CMK_ENOENT : CMK_EIO,
                    "cannot open firewall config %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(CFG_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        cmk_err_set(err, CMK_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    len = fread(buf, 1, CFG_MAX_FILE + 1, f);
    if (ferror(f) || len > CFG_MAX_FILE) {
        cmk_err_set(err, ferror(f) ? CMK_EIO : CMK_ELIMIT, "cannot read firewall config %s: %s",
                    path, ferror(f) ? strerror(errno) : "larger than 4 MB");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    cfg = fw_config_parse(buf, len, path, tags, flags, err);
    free(buf);
    return cfg;
}

/* fw_config_name - name */
const char *fw_config_name(const fw_config *cfg)
{
    return cfg->name;
}

/* fw_config_origin - origin */
const char *fw_config_origin(const fw_config *cfg)
{
    return cfg->origin;
}

/* fw_config_mode - mode */
fw_mode fw_config_mode(const fw_config *cfg)
{
    return cfg->mode;
}

/* fw_config_default - default action */
fw_action fw_config_default(const fw_config *cfg)
{
    return cfg->def;
}

/* fw_config_rule_count - rule count */
size_t fw_config_rule_count(const fw_config *cfg)
{
    return cfg->n_rules;
}

/* fw_config_rule - rule i */
const fw_rule *fw_config_rule(const fw_config *cfg, size_t i)
{
    return i < cfg->n_rules ? &cfg->rules[i] : NULL;
}

/* fw_config_resolved - all tags resolved */
bool fw_config_resolved(const fw_config *cfg)
{
    return cfg->resolved;
}

/* fw_config_tags_origin - service-tags file used */
const char *fw_config_tags_origin(const fw_config *cfg)
{
    return cfg->tags_origin;
}

/* fw_config_warning_count - warnings */
size_t fw_config_warning_count(const fw_config *cfg)
{
    return cfg->n_warnings;
}

/* fw_config_warning_at - warning i */
const fw_config_warning *fw_config_warning_at(const fw_config *cfg, size_t i)
{
    return i < cfg->n_warnings ? &cfg->warnings[i] : NULL;
}

/* fw_rule_matches_port - port in the rule's ranges (binary search) */
bool fw_rule_matches_port(const fw_rule *r, uint16_t port)
{
    size_t lo = 0, hi = r->n_ports;
    if (r->any_port)
        return true;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ports[mid].hi < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_ports && r->ports[lo].lo <= port;
}

/* fw_rule_matches - source and port */
bool fw_rule_matches(const fw_rule *r, const fw_addr *src, uint16_t port)
{
    return fw_rule_matches_port(r, port) && (r->any_source || fw_cidrset_contains(r->set, src));
}
