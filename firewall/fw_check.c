/*
 * fw_check.c - service-tag coverage of a firewall config (see fw_check.h).
 *
 * The rules that apply to the port are walked once in order, as the engine would: each rule
 * "takes" the addresses of its source that no earlier rule took. What allow rules take (plus,
 * with a default of allow, whatever nobody took) is let through; everything else is refused,
 * and the refusing rule is known for every address. Each tag prefix is then cut against these
 * sets with CIDR arithmetic.
 */
#include "fw_check.h"

#include <stdlib.h>
#include <string.h>

struct fw_check {
    char *entry;            /* checked entry name */
    uint16_t port;          /* destination port */
    fw_check_item *items;   /* one per tag prefix */
    size_t n;               /* count of items */
    fw_check_totals totals; /* counts */
    fw_prefix *refused;     /* merged refused addresses */
    size_t n_refused;       /* count of refused */
};

/* Gaps of one item while they are collected. */
typedef struct {
    fw_check_gap *v; /* gaps */
    size_t n;        /* in use */
    size_t cap;      /* allocated */
} gap_list;

/* fw_cov_status_name - status to text */
const char *fw_cov_status_name(fw_cov_status s)
{
    switch (s) {
    case FW_COV_COVERED: return "covered";
    case FW_COV_PARTIAL: return "partial";
    case FW_COV_MISSING: return "missing";
    }
    return "?";
}

/* fw_check_destroy - free a check */
void fw_check_destroy(fw_check **self_p)
{
    if (!self_p || !*self_p)
        return;
    fw_check *c = *self_p;
    for (size_t i = 0; i < c->n; i++)
        free((fw_check_gap *)c->items[i].gaps);
    free(c->items);
    free(c->entry);
    free(c->refused);
    free(c);
    *self_p = NULL;
}

/* gap_push - append one gap */
static int gap_push(gap_list *g, const fw_prefix *p, int rule, fw_action action, int shadow)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        fw_check_gap *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return CMK_ENOMEM;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n].prefix = *p;
    g->v[g->n].rule = rule;
    g->v[g->n].action = action;
    g->v[g->n].shadowed_allow = shadow;
    g->n++;
    return 0;
}

/* gap_cmp - order gaps by address */
static int gap_cmp(const void *a, const void *b)
{
    return fw_prefix_cmp(&((const fw_check_gap *)a)->prefix, &((const fw_check_gap *)b)->prefix);
}

/* Per-rule state of the walk. */
typedef struct {
    const fw_rule *rule; /* the rule, or NULL when it does not apply to the port */
    fw_cidrset *takes;   /* addresses this rule decides (no earlier rule did) */
} walk_rule;

/* add_gaps - gaps of prefix p inside the set `part` refused by rule (or default) */
static int add_gaps(gap_list *g, const fw_cidrset *part, const walk_rule *walk, size_t nrules, int rule, fw_action action)
{
    fw_prefix *ps = NULL;
    size_t n = 0;
    int rc = fw_cidrset_prefixes(part, 0, &ps, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int shadow = -1;
        /* a later allow rule listing these addresses is shadowed by `rule` */
        for (size_t k = rule < 0 ? nrules : (size_t)rule + 1; k < nrules && shadow < 0; k++) {
            const fw_rule *r = walk[k].rule;
            if (r && r->action == FW_ALLOW && (r->any_source || fw_cidrset_intersects(r->set, &ps[i])))
                shadow = (int)k;
        }
        rc = gap_push(g, &ps[i], rule, action, shadow);
    }
    free(ps);
    return rc;
}

/* check_prefix - fill one item: cut prefix p against what each rule takes */
static int check_prefix(fw_check_item *it, const fw_prefix *p, const fw_config *cfg,
                        const walk_rule *walk, size_t nrules, const fw_cidrset *allowed,
                        const fw_cidrset *untaken, fw_cidrset *refused_all)
{
    fw_cidrset *ps = fw_cidrset_new(), *part = NULL, *left = NULL;
    gap_list g = { 0 };
    int rc = CMK_ENOMEM;

    it->prefix = *p;
    if (!ps || fw_cidrset_add(ps, p) < 0 || !(left = fw_cidrset_difference(ps, allowed)))
        goto out;
    rc = 0;
    if (fw_cidrset_is_empty(left, 0)) {
        it->status = FW_COV_COVERED;
        goto out;
    }
    it->status = fw_cidrset_equal(left, ps) ? FW_COV_MISSING : FW_COV_PARTIAL;
    if ((rc = fw_cidrset_union(refused_all, left)) < 0)
        goto out;
    for (size_t k = 0; k < nrules && rc == 0; k++) {
        if (!walk[k].rule || walk[k].rule->action == FW_ALLOW)
            continue;
        rc = CMK_ENOMEM;
        if (!(part = fw_cidrset_intersection(left, walk[k].takes)))
            break;
        rc = add_gaps(&g, part, walk, nrules, (int)k, walk[k].rule->action);
        fw_cidrset_destroy(&part);
    }
    if (rc == 0 && fw_config_default(cfg) != FW_ALLOW) {
        rc = CMK_ENOMEM;
        if ((part = fw_cidrset_intersection(left, untaken)))
            rc = add_gaps(&g, part, walk, nrules, -1, fw_config_default(cfg));
        fw_cidrset_destroy(&part);
    }
    if (g.n > 1)
        qsort(g.v, g.n, sizeof *g.v, gap_cmp);
out:
    it->gaps = g.v;
    it->n_gaps = g.n;
    fw_cidrset_destroy(&ps);
    fw_cidrset_destroy(&left);
    return rc;
}

/* fw_check_coverage - the check */
int fw_check_coverage(const fw_servicetags *tags, const fw_config *cfg, const char *tag,
                      const char *region, uint16_t port, fw_check **out, cmk_err *err)
{
    const fw_servicetag *t;
    size_t nrules = fw_config_rule_count(cfg);
    walk_rule *walk = NULL;
    fw_cidrset *taken = NULL, *allowed = NULL, *untaken = NULL, *all = NULL, *refused = NULL;
    fw_check *c = NULL;
    int rc;

    *out = NULL;
    if (port == 0)
        return cmk_err_set(err, CMK_EINVAL, "port 0 is not a destination port (1..65535)");
    if (!fw_config_resolved(cfg))
        return cmk_err_set(err, CMK_ESTATE, "firewall config %s has unresolved service-tag "
                           "sources; load it with a service-tags file", fw_config_origin(cfg));
    if ((rc = fw_servicetags_lookup(tags, tag, region, &t, err)) < 0)
        return rc;
    rc = CMK_ENOMEM;
    if (!(walk = calloc(nrules + 1, sizeof *walk)) || !(taken = fw_cidrset_new()) ||
        !(allowed = fw_cidrset_new()) || !(all = fw_cidrset_new()) ||
        !(refused = fw_cidrset_new()) || fw_cidrset_add_all(all, 0) < 0)
        goto out;
    /* the walk: what each applicable rule takes */
    for (size_t k = 0; k < nrules; k++) {
        const fw_rule *r = fw_config_rule(cfg, k);
        if (!fw_rule_matches_port(r, port))
            continue;
        walk[k].rule = r;
        if (!(walk[k].takes = fw_cidrset_difference(r->any_source ? all : r->set, taken)) ||
            fw_cidrset_union(taken, walk[k].takes) < 0 ||
            (r->action == FW_ALLOW && fw_cidrset_union(allowed, walk[k].takes) < 0))
            goto out;
    }
    if (!(untaken = fw_cidrset_difference(all, taken)))
        goto out;
    if (fw_config_default(cfg) == FW_ALLOW && fw_cidrset_union(allowed, untaken) < 0)
        goto out;
    fw_cidrset_seal(allowed);

    if (!(c = calloc(1, sizeof *c)) || !(c->entry = strdup(t->name)) ||
        !(c->items = calloc(t->n_prefixes + 1, sizeof *c->items)))
        goto out;
    c->port = port;
    for (size_t i = 0; i < t->n_prefixes; i++) {
        fw_check_item *it = &c->items[i];
        c->n = i + 1;
        if (check_prefix(it, &t->prefixes[i], cfg, walk, nrules, allowed, untaken, refused) < 0)
            goto out;
        c->totals.prefixes++;
        if (it->status == FW_COV_COVERED)
            c->totals.covered++;
        else if (it->status == FW_COV_PARTIAL)
            c->totals.partial++;
        else
            c->totals.missing++;
        for (size_t g = 0; g < it->n_gaps; g++)
            if (it->gaps[g].shadowed_allow >= 0) {
                c->totals.shadowed++;
                break;
            }
    }
    {
        fw_cidrset *tagset = fw_servicetag_set(t);
        if (!tagset)
            goto out;
        c->totals.v4_addresses = fw_cidrset_v4_addresses(tagset);
        fw_cidrset_destroy(&tagset);
    }
    c->totals.v4_refused = fw_cidrset_v4_addresses(refused);
    if (fw_cidrset_prefixes(refused, 0, &c->refused, &c->n_refused) < 0)
        goto out;
    *out = c;
    c = NULL;
    rc = 0;
out:
    if (rc < 0)
        cmk_err_set(err, rc, "out of memory checking %s", t->name);
    for (size_t k = 0; walk && k < nrules; k++)
        fw_cidrset_destroy(&walk[k].takes);
    free(walk);
    fw_cidrset_destroy(&taken);
    fw_cidrset_destroy(&allowed);
    fw_cidrset_destroy(&untaken);
    fw_cidrset_destroy(&all);
    fw_cidrset_destroy(&refused);
    fw_check_destroy(&c);
    return rc;
}

/* fw_check_entry - checked entry */
const char *fw_check_entry(const fw_check *chk)
{
    return chk->entry;
}

/* fw_check_port - checked port */
uint16_t fw_check_port(const fw_check *chk)
{
    return chk->port;
}

/* fw_check_ok - fully covered */
bool fw_check_ok(const fw_check *chk)
{
    return chk->n_refused == 0;
}

/* fw_check_count - prefixes checked */
size_t fw_check_count(const fw_check *chk)
{
    return chk->n;
}

/* fw_check_at - item i */
const fw_check_item *fw_check_at(const fw_check *chk, size_t i)
{
    return i < chk->n ? &chk->items[i] : NULL;
}

/* fw_check_get_totals - counts */
void fw_check_get_totals(const fw_check *chk, fw_check_totals *out)
{
    *out = chk->totals;
}

/* fw_check_refused - merged refused addresses */
void fw_check_refused(const fw_check *chk, const fw_prefix **out, size_t *n)
{
    *out = chk->refused;
    *n = chk->n_refused;
}
