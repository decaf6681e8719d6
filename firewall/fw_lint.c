/*
 * fw_lint.c - shadowed and conflicting rules, host bits, empty tags (see fw_lint.h).
 *
 * Ports are cut into elementary segments at every rule's range boundaries, so within one
 * segment each rule either applies to every port or to none. A rule is shadowed when, in
 * every segment it applies to, the earlier rules applying there hold all its addresses.
 */
#include "fw_lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fw_lint {
    fw_lint_finding *v; /* findings */
    size_t n;           /* in use */
    size_t cap;         /* allocated */
    size_t warnings;    /* how many are warnings */
};

/* fw_lint_destroy - free */
void fw_lint_destroy(fw_lint **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < (*self_p)->n; i++)
        free((char *)(*self_p)->v[i].msg);
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

/* fw_lint_count - findings */
size_t fw_lint_count(const fw_lint *l)
{
    return l->n;
}

/* fw_lint_at - finding i */
const fw_lint_finding *fw_lint_at(const fw_lint *l, size_t i)
{
    return i < l->n ? &l->v[i] : NULL;
}

/* fw_lint_warnings - warning count */
size_t fw_lint_warnings(const fw_lint *l)
{
    return l->warnings;
}

/* add - append a finding */
static int add(fw_lint *l, fw_lint_level level, const char *code, int rule, int line,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add(fw_lint *l, fw_lint_level level, const char *code, int rule, int line,
               const char *fmt, ...)
{
    va_list ap;
    char *msg;
    int n;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        fw_lint_finding *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CMK_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    va_start(ap, fmt);
    n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CMK_ENOMEM;
    l->v[l->n++] = (fw_lint_finding){ level, code, rule, line, msg };
    if (level == FW_LINT_WARNING)
        l->warnings++;
    return 0;
}

/* finding_cmp - by line, then rule */
static int finding_cmp(const void *a, const void *b)
{
    const fw_lint_finding *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* u32_cmp - order port numbers for qsort */
static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* segments - sorted unique segment starts in 1..65535; returns count or -1 */
static long segments(const fw_config *cfg, uint32_t **out)
{
    size_t cap = 1, n = 0, nr = fw_config_rule_count(cfg);
    for (size_t i = 0; i < nr; i++)
        cap += 2 * fw_config_rule(cfg, i)->n_ports;
    uint32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    v[n++] = 1;
    for (size_t i = 0; i < nr; i++) {
        const fw_rule *r = fw_config_rule(cfg, i);
        for (size_t k = 0; k < r->n_ports; k++) {
            v[n++] = r->ports[k].lo;
            if (r->ports[k].hi < 65535)
                v[n++] = (uint32_t)r->ports[k].hi + 1;
        }
    }
    qsort(v, n, sizeof *v, u32_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v[i] != v[u - 1])
            v[u++] = v[i];
    *out = v;
    return (long)u;
}

/* source_of - a rule's addresses (the whole space for "any") */
static const fw_cidrset *source_of(const fw_rule *r, const fw_cidrset *all)
{
    return r->any_source ? all : r->set;
}

/* analyse_rule - shadowed / conflict findings for rule k */
static int analyse_rule(fw_lint *l, const fw_config *cfg, size_t k, const uint32_t *seg,
                        long nseg, const fw_cidrset *all)
{
    const fw_rule *r = fw_config_rule(cfg, k);
    const fw_cidrset *src = source_of(r, all);
    bool applies = false, shadowed = true, same_action = true;
    int conflict_with = -1;
    char example[FW_PREFIX_STRLEN] = "";
    int rc = 0;

    for (long s = 0; s < nseg && rc == 0; s++) {
        uint16_t port = (uint16_t)seg[s];
        fw_cidrset *earlier = fw_cidrset_new(), *rest = NULL;
        if (!earlier)
            return CMK_ENOMEM;
        if (!fw_rule_matches_port(r, port)) {
            fw_cidrset_destroy(&earlier);
            continue;
        }
        applies = true;
        for (size_t j = 0; j < k && rc == 0; j++) {
            const fw_rule *e = fw_config_rule(cfg, j);
            if (!fw_rule_matches_port(e, port))
                continue;
            fw_cidrset *before = fw_cidrset_clone(earlier);
            fw_cidrset *mine = before ? fw_cidrset_difference(source_of(e, all), before) : NULL;
            fw_cidrset *hit = mine ? fw_cidrset_intersection(mine, src) : NULL;
            if (!hit || fw_cidrset_union(earlier, source_of(e, all)) < 0)
                rc = CMK_ENOMEM;
            if (hit && !fw_cidrset_is_empty(hit, 0)) {
                if (e->action != r->action) {
                    same_action = false;
                    if (conflict_with < 0) {
                        fw_prefix *ps = NULL;
                        size_t np = 0;
                        conflict_with = (int)j;
                        if (fw_cidrset_prefixes(hit, 0, &ps, &np) == 0 && np > 0)
                            fw_prefix_format(&ps[0], example, sizeof example);
                        free(ps);
                    }
                }
            }
            fw_cidrset_destroy(&before);
            fw_cidrset_destroy(&mine);
            fw_cidrset_destroy(&hit);
        }
        if (rc == 0 && !(rest = fw_cidrset_difference(src, earlier)))
            rc = CMK_ENOMEM;
        if (rest && !fw_cidrset_is_empty(rest, 0))
            shadowed = false;
        fw_cidrset_destroy(&rest);
        fw_cidrset_destroy(&earlier);
    }
    if (rc < 0 || !applies)
        return rc;
    if (shadowed)
        return add(l, FW_LINT_WARNING, "shadowed", (int)k, r->line,
                   "rule %zu \"%s\" (%s) never matches: earlier rules match every source and "
                   "port it lists%s; remove it or move it up", k + 1, r->name,
                   fw_action_name(r->action),
                   same_action ? " with the same action, so it is redundant"
                               : ", some with another action");
    if (conflict_with >= 0) {
        const fw_rule *e = fw_config_rule(cfg, (size_t)conflict_with);
        return add(l, r->action == FW_ALLOW ? FW_LINT_WARNING : FW_LINT_NOTE, "conflict", (int)k,
                   r->line,
                   "rule %zu \"%s\" (%s) is partly shadowed: rule %d \"%s\" (%s, line %d) takes "
                   "some of its addresses first (e.g. %s); move rule %zu above it if those "
                   "should be %s", k + 1, r->name, fw_action_name(r->action), conflict_with + 1,
                   e->name, fw_action_name(e->action), e->line, example, k + 1,
                   r->action == FW_ALLOW ? "allowed" : "refused");
    }
    return 0;
}

/* fw_lint_config - run every check */
int fw_lint_config(const fw_config *cfg, fw_lint **out, cmk_err *err)
{
    fw_lint *l = calloc(1, sizeof *l);
    fw_cidrset *all = fw_cidrset_new();
    uint32_t *seg = NULL;
    long nseg = -1;
    size_t nr = fw_config_rule_count(cfg);
    int rc = CMK_ENOMEM;

    *out = NULL;
    if (!l || !all || fw_cidrset_add_all(all, 0) < 0 || (nseg = segments(cfg, &seg)) < 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < fw_config_warning_count(cfg) && rc == 0; i++) {
        const fw_config_warning *w = fw_config_warning_at(cfg, i);
        rc = add(l, FW_LINT_WARNING, w->code, w->rule, w->line, "%s", w->msg);
    }
    if (rc == 0 && fw_config_mode(cfg) == FW_MODE_REPORT)
        rc = add(l, FW_LINT_NOTE, "report-mode", -1, 0,
                 "mode is \"report\": nothing is refused; drop and reject decisions are only "
                 "reported as would_deny / would_reject");
    if (rc == 0 && !fw_config_resolved(cfg))
        rc = add(l, FW_LINT_NOTE, "unresolved", -1, 0,
                 "service-tag sources were not resolved (no service-tags file given), so rules "
                 "from the first one using a tag on were not checked for shadowing");
    for (size_t k = 0; k < nr && rc == 0; k++) {
        const fw_rule *r = fw_config_rule(cfg, k);
        if (!r->resolved)
            break; /* its addresses, and so what it shadows, are unknown */
        if (!r->any_source && fw_cidrset_is_empty(r->set, 0))
            continue;
        rc = analyse_rule(l, cfg, k, seg, nseg, all);
    }
    if (rc == 0 && l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, finding_cmp);
out:
    free(seg);
    fw_cidrset_destroy(&all);
    if (rc < 0) {
        fw_lint_destroy(&l);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory linting %s", fw_config_origin(cfg));
    }
    *out = l;
    return 0;
}
