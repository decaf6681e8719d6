/*
 * fw_report.c - text and JSON renderings of check, diff and lint results (see fw_report.h).
 */
#include "fw_report.h"

#include <stdlib.h>
#include <string.h>

/* rule_label - "rule 2 \"block\"" or "the default" into buf */
static const char *rule_label(const fw_config *cfg, int rule, char *buf, size_t n)
{
    if (rule < 0)
        snprintf(buf, n, "the default");
    else
        snprintf(buf, n, "rule %d \"%s\"", rule + 1, fw_config_rule(cfg, (size_t)rule)->name);
    return buf;
}

/* action_past - "rejected", "dropped" */
static const char *action_past(fw_action a)
{
    return a == FW_REJECT ? "rejected" : a == FW_DROP ? "dropped" : "allowed";
}

/* print_header - what was checked against what */
static void print_header(FILE *out, const fw_check *chk, const fw_servicetags *tags,
                         const fw_config *cfg)
{
    const char *built = fw_config_tags_origin(cfg);
    fprintf(out, "check: %s (%zu prefix%s) from %s (cloud %s, changeNumber %ld)\n",
            fw_check_entry(chk), fw_check_count(chk), fw_check_count(chk) == 1 ? "" : "es",
            fw_servicetags_origin(tags),
            fw_servicetags_cloud(tags), fw_servicetags_change_number(tags));
    fprintf(out, "  against firewall \"%s\" (%s; mode %s, default %s), TCP port %u\n",
            fw_config_name(cfg), fw_config_origin(cfg), fw_mode_name(fw_config_mode(cfg)),
            fw_action_name(fw_config_default(cfg)), fw_check_port(chk));
    if (built && strcmp(built, fw_servicetags_origin(tags)) != 0)
        fprintf(out, "  the firewall's service-tag rules were built from %s\n", built);
}

/* fw_report_check_text - coverage for a person */
void fw_report_check_text(FILE *out, const fw_check *chk, const fw_servicetags *tags,
                          const fw_config *cfg, bool verbose)
{
    fw_check_totals t;
    const fw_prefix *refused;
    size_t n_refused;
    bool any_drop = false, any_reject = false;
    char p[FW_PREFIX_STRLEN], q[FW_PREFIX_STRLEN], who[96], allow[96];

    fw_check_get_totals(chk, &t);
    fw_check_refused(chk, &refused, &n_refused);
    print_header(out, chk, tags, cfg);
    if (fw_check_ok(chk)) {
        fprintf(out, "result: COVERED - %s %zu prefix%s of %s %s allowed\n",
                t.prefixes == 1 ? "the" : "all", t.prefixes, t.prefixes == 1 ? "" : "es",
                fw_check_entry(chk), t.prefixes == 1 ? "is" : "are");
    } else {
        fprintf(out, "result: NOT COVERED - %zu of %zu prefix(es) refused (%zu wholly, %zu partly)",
                t.missing + t.partial, t.prefixes, t.missing, t.partial);
        if (t.v4_addresses)
            fprintf(out, "; %llu of %llu IPv4 addresses refused", (unsigned long long)t.v4_refused,
                    (unsigned long long)t.v4_addresses);
        fputc('\n', out);
    }
    if (!fw_check_ok(chk) || verbose)
        fprintf(out, "\n%s:\n", verbose ? "prefixes" : "refused");
    for (size_t i = 0; i < fw_check_count(chk); i++) {
        const fw_check_item *it = fw_check_at(chk, i);
        if (it->status == FW_COV_COVERED && !verbose)
            continue;
        /* a wholly refused prefix with one cause fits on one line */
        bool one = it->n_gaps == 1 && it->status == FW_COV_MISSING;
        fprintf(out, "  %-22s %s%s", fw_prefix_format(&it->prefix, p, sizeof p),
                fw_cov_status_name(it->status), one ? "," : "\n");
        for (size_t g = 0; g < it->n_gaps; g++) {
            const fw_check_gap *gap = &it->gaps[g];
            any_drop |= gap->action == FW_DROP;
            any_reject |= gap->action == FW_REJECT;
            if (!one)
                fprintf(out, "      %-22s", fw_prefix_format(&gap->prefix, q, sizeof q));
            fprintf(out, " %s by %s", action_past(gap->action),
                    rule_label(cfg, gap->rule, who, sizeof who));
            if (gap->shadowed_allow >= 0)
                fprintf(out, ", which shadows allow %s (move it above rule %d)",
                        rule_label(cfg, gap->shadowed_allow, allow, sizeof allow), gap->rule + 1);
            fputc('\n', out);
        }
    }
    if (fw_check_ok(chk))
        return;
    fprintf(out, "\nnot let through (allow these, or service tag %s, ahead of any rule that refuses "
                 "them):\n", fw_check_entry(chk));
    for (size_t i = 0; i < n_refused; i++)
        fprintf(out, "  %s\n", fw_prefix_format(&refused[i], p, sizeof p));
    if (fw_config_mode(cfg) == FW_MODE_REPORT) {
        fprintf(out, "\nnote: the firewall is in report mode, so nothing is refused yet; these "
                     "addresses are logged as would_deny/would_reject and will be refused in "
                     "enforce mode\n");
        return;
    }
    fprintf(out, "\nHTTP actions of flows in CMK environments leave from these addresses; until "
                 "they are allowed:\n");
    if (any_reject)
        fprintf(out, "  refused ones fail with: %s\n", FW_REFUSED_ERROR);
    if (any_drop)
        fprintf(out, "  dropped ones time out (the firewall discards them silently)\n");
}

/* fw_report_prefixes_json - array of prefix strings */
cJSON *fw_report_prefixes_json(const fw_prefix *ps, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    char buf[FW_PREFIX_STRLEN];
    for (size_t i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(fw_prefix_format(&ps[i], buf, sizeof buf))))
            cJSON_Delete(a), a = NULL;
    return a;
}

/* add_rule_json - 1-based rule number and name (null / "default" for the default) */
static void add_rule_json(cJSON *o, const char *num_key, const char *name_key,
                          const fw_config *cfg, int rule)
{
    if (rule < 0) {
        cJSON_AddNullToObject(o, num_key);
        cJSON_AddStringToObject(o, name_key, "default");
    } else {
        cJSON_AddNumberToObject(o, num_key, rule + 1);
        cJSON_AddStringToObject(o, name_key, fw_config_rule(cfg, (size_t)rule)->name);
    }
}

/* config_json - the config's identity */
static cJSON *config_json(const fw_config *cfg)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", fw_config_name(cfg));
    cJSON_AddStringToObject(c, "file", fw_config_origin(cfg));
    cJSON_AddStringToObject(c, "mode", fw_mode_name(fw_config_mode(cfg)));
    cJSON_AddStringToObject(c, "default", fw_action_name(fw_config_default(cfg)));
    cJSON_AddNumberToObject(c, "rules", (double)fw_config_rule_count(cfg));
    if (fw_config_tags_origin(cfg))
        cJSON_AddStringToObject(c, "service_tags", fw_config_tags_origin(cfg));
    else
        cJSON_AddNullToObject(c, "service_tags");
    return c;
}

/* tags_json - a service-tags file's identity */
static cJSON *tags_json(const fw_servicetags *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", fw_servicetags_origin(st));
    cJSON_AddStringToObject(o, "cloud", fw_servicetags_cloud(st));
    cJSON_AddNumberToObject(o, "change_number", (double)fw_servicetags_change_number(st));
    return o;
}

/* fw_report_check_json - coverage as JSON */
cJSON *fw_report_check_json(const fw_check *chk, const fw_servicetags *tags,
                            const fw_config *cfg)
{
    cJSON *root = cJSON_CreateObject(), *items, *tot;
    fw_check_totals t;
    const fw_prefix *refused;
    size_t n_refused;
    char buf[FW_PREFIX_STRLEN];

    if (!root)
        return NULL;
    fw_check_get_totals(chk, &t);
    fw_check_refused(chk, &refused, &n_refused);
    cJSON_AddStringToObject(root, "tag", fw_check_entry(chk));
    cJSON_AddItemToObject(root, "service_tags", tags_json(tags));
    cJSON_AddItemToObject(root, "config", config_json(cfg));
    cJSON_AddNumberToObject(root, "port", fw_check_port(chk));
    cJSON_AddBoolToObject(root, "covered", fw_check_ok(chk));
    tot = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddNumberToObject(tot, "prefixes", (double)t.prefixes);
    cJSON_AddNumberToObject(tot, "covered", (double)t.covered);
    cJSON_AddNumberToObject(tot, "partial", (double)t.partial);
    cJSON_AddNumberToObject(tot, "missing", (double)t.missing);
    cJSON_AddNumberToObject(tot, "shadowed", (double)t.shadowed);
    cJSON_AddNumberToObject(tot, "ipv4_addresses", (double)t.v4_addresses);
    cJSON_AddNumberToObject(tot, "ipv4_refused", (double)t.v4_refused);
    cJSON_AddItemToObject(root, "refused", fw_report_prefixes_json(refused, n_refused));
    items = cJSON_AddArrayToObject(root, "prefixes");
    for (size_t i = 0; items && i < fw_check_count(chk); i++) {
        const fw_check_item *it = fw_check_at(chk, i);
        cJSON *o = cJSON_CreateObject(), *gaps;
        cJSON_AddItemToArray(items, o);
        cJSON_AddStringToObject(o, "prefix", fw_prefix_format(&it->prefix, buf, sizeof buf));
        cJSON_AddStringToObject(o, "status", fw_cov_status_name(it->status));
        gaps = cJSON_AddArrayToObject(o, "gaps");
        for (size_t g = 0; gaps && g < it->n_gaps; g++) {
            const fw_check_gap *gap = &it->gaps[g];
            cJSON *go = cJSON_CreateObject();
            cJSON_AddItemToArray(gaps, go);
            cJSON_AddStringToObject(go, "prefix", fw_prefix_format(&gap->prefix, buf, sizeof buf));
            cJSON_AddStringToObject(go, "action", fw_action_name(gap->action));
            add_rule_json(go, "rule", "rule_name", cfg, gap->rule);
            if (gap->shadowed_allow >= 0)
                add_rule_json(go, "shadows_rule", "shadows_rule_name", cfg, gap->shadowed_allow);
        }
    }
    return root;
}

/* fw_report_diff_text - changes for a person */
void fw_report_diff_text(FILE *out, const fw_stdiff *d, const fw_servicetags *old_st,
                         const fw_servicetags *new_st, const char *filter)
{
    char p[FW_PREFIX_STRLEN];
    size_t n = fw_stdiff_count(d);
    fprintf(out, "diff: %s (changeNumber %ld) -> %s (changeNumber %ld)%s%s: %zu %s changed\n",
            fw_servicetags_origin(old_st), fw_servicetags_change_number(old_st),
            fw_servicetags_origin(new_st), fw_servicetags_change_number(new_st),
            filter ? ", tag " : "", filter ? filter : "", n, n == 1 ? "entry" : "entries");
    for (size_t i = 0; i < n; i++) {
        const fw_tagdiff *t = fw_stdiff_at(d, i);
        fputc('\n', out);
        if (t->kind == FW_TAGDIFF_ADDED)
            fprintf(out, "%s: new entry (changeNumber %ld)\n", t->name, t->new_change);
        else if (t->kind == FW_TAGDIFF_REMOVED)
            fprintf(out, "%s: entry removed (was changeNumber %ld)\n", t->name, t->old_change);
        else
            fprintf(out, "%s: changeNumber %ld -> %ld, %zu prefixes added, %zu removed\n", t->name,
                    t->old_change, t->new_change, t->n_added, t->n_removed);
        for (size_t k = 0; k < t->n_added; k++)
            fprintf(out, "  + %s\n", fw_prefix_format(&t->added[k], p, sizeof p));
        for (size_t k = 0; k < t->n_removed; k++)
            fprintf(out, "  - %s\n", fw_prefix_format(&t->removed[k], p, sizeof p));
    }
    if (n > 0)
        fprintf(out, "\nA firewall built from %s refuses the added prefixes: rebuild it from the "
                     "newer file (and re-run `cmk-firewall check`).\n",
                fw_servicetags_origin(old_st));
}

/* fw_report_diff_json - changes as JSON */
cJSON *fw_report_diff_json(const fw_stdiff *d, const fw_servicetags *old_st,
                           const fw_servicetags *new_st, const char *filter)
{
    static const char *const kinds[] = { "changed", "added", "removed" };
    cJSON *root = cJSON_CreateObject(), *arr;
    if (!root)
        return NULL;
    cJSON_AddItemToObject(root, "old", tags_json(old_st));
    cJSON_AddItemToObject(root, "new", tags_json(new_st));
    if (filter)
        cJSON_AddStringToObject(root, "tag", filter);
    else
        cJSON_AddNullToObject(root, "tag");
    cJSON_AddNumberToObject(root, "changed", (double)fw_stdiff_count(d));
    arr = cJSON_AddArrayToObject(root, "entries");
    for (size_t i = 0; arr && i < fw_stdiff_count(d); i++) {
        const fw_tagdiff *t = fw_stdiff_at(d, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "kind", kinds[t->kind]);
        if (t->old_change >= 0)
            cJSON_AddNumberToObject(o, "old_change_number", (double)t->old_change);
        else
            cJSON_AddNullToObject(o, "old_change_number");
        if (t->new_change >= 0)
            cJSON_AddNumberToObject(o, "new_change_number", (double)t->new_change);
        else
            cJSON_AddNullToObject(o, "new_change_number");
        cJSON_AddItemToObject(o, "added", fw_report_prefixes_json(t->added, t->n_added));
        cJSON_AddItemToObject(o, "removed", fw_report_prefixes_json(t->removed, t->n_removed));
    }
    return root;
}

/* fw_report_lint_text - findings for a person */
void fw_report_lint_text(FILE *out, const fw_lint *l, const fw_config *cfg)
{
    size_t notes = fw_lint_count(l) - fw_lint_warnings(l);
    fprintf(out, "%s: valid firewall config \"%s\": %zu rules, mode %s, default %s\n",
            fw_config_origin(cfg), fw_config_name(cfg), fw_config_rule_count(cfg),
            fw_mode_name(fw_config_mode(cfg)), fw_action_name(fw_config_default(cfg)));
    for (size_t i = 0; i < fw_lint_count(l); i++) {
        const fw_lint_finding *f = fw_lint_at(l, i);
        if (f->line > 0)
            fprintf(out, "%s:%d: ", fw_config_origin(cfg), f->line);
        else
            fprintf(out, "%s: ", fw_config_origin(cfg));
        fprintf(out, "%s [%s]: %s\n", f->level == FW_LINT_WARNING ? "warning" : "note", f->code,
                f->msg);
    }
    fprintf(out, "%zu warning%s, %zu note%s\n", fw_lint_warnings(l),
            fw_lint_warnings(l) == 1 ? "" : "s", notes, notes == 1 ? "" : "s");
}

/* fw_report_lint_json - findings as JSON */
cJSON *fw_report_lint_json(const fw_lint *l, const fw_config *cfg)
{
    cJSON *root = cJSON_CreateObject(), *arr;
    if (!root)
        return NULL;
    cJSON_AddBoolToObject(root, "valid", 1);
    cJSON_AddItemToObject(root, "config", config_json(cfg));
    cJSON_AddNumberToObject(root, "warnings", (double)fw_lint_warnings(l));
    arr = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; arr && i < fw_lint_count(l); i++) {
        const fw_lint_finding *f = fw_lint_at(l, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "level", f->level == FW_LINT_WARNING ? "warning" : "note");
        cJSON_AddStringToObject(o, "code", f->code);
        if (f->rule >= 0) {
            cJSON_AddNumberToObject(o, "rule", f->rule + 1);
            cJSON_AddStringToObject(o, "rule_name", fw_config_rule(cfg, (size_t)f->rule)->name);
        } else {
            cJSON_AddNullToObject(o, "rule");
        }
        if (f->line > 0)
            cJSON_AddNumberToObject(o, "line", f->line);
        else
            cJSON_AddNullToObject(o, "line");
        cJSON_AddStringToObject(o, "message", f->msg);
    }
    return root;
}
