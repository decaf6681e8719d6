/*
 * flowclass.c - classify the flows that can't be migrated automatically to a customer-managed
 * key (see flowclass.h). A flow's own categories come from its definition; "parents" follow by a
 * breadth-first search from those flows up the child-flow edges, so every parent gets the
 * shortest chain down to a flow that can't be migrated on its own, and cycles end the search.
 */
#include "flowclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* The seed's table, in its order: key, category, approach, further explanation. */
static const struct {
    flowclass_category cat; /* bit */
    const char *key;        /* stable id */
    const char *name;       /* "Category" column */
    const char *remedy;     /* "Approach to protect with CMK" column, as plain text */
    const char *note;       /* the rest of the approach cell, or "" */
} fc_table[] = {
    { FLOWCLASS_POWERAPPS_V1, "powerapps-v1-not-in-solution",
      "Power App v1 trigger flows that aren't in a solution",
      "Option 1 (Recommended): Update the flow to use V2 trigger before applying CMK. Option 2: Post CMK "
      "application, use Save as to create a copy of the flow. Update calling Power Apps to use the new copy of "
      "the flow.",
      "" },
    { FLOWCLASS_HTTP_TEAMS, "http-or-teams-trigger", "HTTP trigger flows and Teams trigger flows",
      "Post enterprise policy application, use Save as to create a copy of the flow. Update calling system to use "
      "the URL of the new flow.",
      "This category of flows isn't automatically protected, as a new flow URL is created in the CMK protected "
      "infrastructure. Customers might be leveraging the URL in their invoking systems." },
    { FLOWCLASS_PARENT, "parent-of-unmigratable-flow", "Parents of flows that can't be automatically migrated",
      "If a flow can't be migrated, then dependent flows are also not migrated to ensure there\xe2\x80\x99s no "
      "business disruption.",
      "" },
    { FLOWCLASS_LIST_FLOWS_V1, "list-flows-as-admin-v1", "Flows using the List flows as Admin (v1) connector action",
      "Flows referencing this legacy action should either be deleted or updated to use the List Flows as Admin "
      "(V2) action.",
      "" },
};
#define FC_NCAT (sizeof fc_table / sizeof fc_table[0])

/* One entry and what it owns. */
typedef struct {
    flowclass_entry pub;       /* what callers see */
    char *id;                  /* owned copy of the id */
    char *name;                /* owned copy of the display name */
    flowclass_reason *reasons; /* owned reasons (each owns its chain array) */
} fc_item;

struct flowclass_result {
    fc_item *items;      /* one per flow, input order */
    size_t n;            /* entries */
    size_t unmigratable; /* entries with migratable == false */
};

/* An id and where it is, for sorted lookups. */
typedef struct {
    const char *id; /* flow id */
    size_t idx;     /* its index in the input */
} fc_key;

/* fc_cmp - order keys by id */
static int fc_cmp(const void *a, const void *b)
{
    return strcmp(((const fc_key *)a)->id, ((const fc_key *)b)->id);
}

/* fc_lookup - index of a flow id in the input, or -1 */
static long fc_lookup(const fc_key *keys, size_t n, const char *id)
{
    fc_key k = { id, 0 };
    const fc_key *hit = n ? bsearch(&k, keys, n, sizeof k, fc_cmp) : NULL;
    return hit ? (long)hit->idx : -1;
}

/* fc_own - the categories a flow is in by its own definition */
static unsigned fc_own(const flowclass_flow *f)
{
    flowdef_trigger k = flowdef_trigger_kind(f->def);
    unsigned c = 0;
    if (k == FLOWDEF_TRIGGER_POWERAPPS_V1 && !f->in_solution)
        c |= FLOWCLASS_POWERAPPS_V1;
    if (k == FLOWDEF_TRIGGER_HTTP || k == FLOWDEF_TRIGGER_TEAMS)
        c |= FLOWCLASS_HTTP_TEAMS;
    if (flowdef_uses_list_flows(f->def, 1))
        c |= FLOWCLASS_LIST_FLOWS_V1;
    return c;
}

/* Working memory of one classification. */
typedef struct {
    fc_key *keys;    /* ids sorted */
    size_t *cstart;  /* children of flow i: child[cstart[i] .. cstart[i+1]) */
    long *child;     /* child indices (-1: not in the set, or the flow itself) */
    size_t *pstart;  /* parents of flow j: parent[pstart[j] .. pstart[j+1]) */
    size_t *parent;  /* parent indices */
    unsigned *own;   /* own categories */
    long *dist;      /* hops down to a flow unmigratable on its own; -1: migratable */
    size_t *next;    /* the child one hop closer to that flow */
    size_t *queue;   /* BFS queue */
} fc_work;

/* fc_work_free - release working memory */
static void fc_work_free(fc_work *w)
{
    free(w->keys);
    free(w->cstart);
    free(w->child);
    free(w->pstart);
    free(w->parent);
    free(w->own);
    free(w->dist);
    free(w->next);
    free(w->queue);
}

/* fc_graph - ids, child edges, parent edges and the search down to unmigratable flows */
static int fc_graph(const flowclass_flow *flows, size_t n, fc_work *w, cmk_err *err)
{
    size_t edges = 0, head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        edges += flowdef_child_count(flows[i].def);
    w->keys = malloc((n + 1) * sizeof *w->keys);
    w->cstart = calloc(n + 1, sizeof *w->cstart);
    w->child = malloc((edges + 1) * sizeof *w->child);
    w->pstart = calloc(n + 2, sizeof *w->pstart);
    w->parent = malloc((edges + 1) * sizeof *w->parent);
    w->own = malloc((n + 1) * sizeof *w->own);
    w->dist = malloc((n + 1) * sizeof *w->dist);
    w->next = malloc((n + 1) * sizeof *w->next);
    w->queue = malloc((n + 1) * sizeof *w->queue);
    if (!w->keys || !w->cstart || !w->child || !w->pstart || !w->parent || !w->own || !w->dist || !w->next || !w->queue)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while classifying flows");
    for (size_t i = 0; i < n; i++)
        w->keys[i] = (fc_key){ flows[i].id, i };
    qsort(w->keys, n, sizeof *w->keys, fc_cmp);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(w->keys[i - 1].id, w->keys[i].id))
            return cmk_err_set(err, CMK_EINVAL, "flow id '%s' is given twice (flows %zu and %zu); flow ids are "
                               "unique in an environment", w->keys[i].id, w->keys[i - 1].idx, w->keys[i].idx);
    for (size_t i = 0, e = 0; i < n; i++) { /* child edges; parents counted per child */
        w->cstart[i] = e;
        for (size_t k = 0; k < flowdef_child_count(flows[i].def); k++, e++) {
            w->child[e] = fc_lookup(w->keys, n, flowdef_child_at(flows[i].def, k));
            if (w->child[e] == (long)i)
                w->child[e] = -1; /* a flow calling itself isn't its own parent */
            if (w->child[e] >= 0)
                w->pstart[w->child[e] + 2]++;
        }
        w->cstart[i + 1] = e;
    }
    for (size_t j = 0; j < n; j++) /* parent edges, grouped by child */
        w->pstart[j + 2] += w->pstart[j + 1];
    for (size_t i = 0; i < n; i++)
        for (size_t e = w->cstart[i]; e < w->cstart[i + 1]; e++)
            if (w->child[e] >= 0)
                w->parent[w->pstart[w->child[e] + 1]++] = i;
    for (size_t i = 0; i < n; i++) { /* breadth first, up from the flows unmigratable on their own */
        w->own[i] = fc_own(&flows[i]);
        w->dist[i] = w->own[i] ? 0 : -1;
        if (w->own[i])
            w->queue[tail++] = i;
    }
    while (head < tail) {
        size_t j = w->queue[head++];
        for (size_t p = w->pstart[j]; p < w->pstart[j + 1]; p++) {
            size_t i = w->parent[p];
            if (w->dist[i] < 0) {
                w->dist[i] = w->dist[j] + 1;
                w->next[i] = j;
                w->queue[tail++] = i;
            }
        }
    }
    return 0;
}

/* fc_entry - the verdict on flow i */
static int fc_entry(const fc_work *w, fc_item *items, size_t i, cmk_err *err)
{
    fc_item *it = &items[i];
    size_t nc = w->cstart[i + 1] - w->cstart[i];
    it->pub.categories = w->own[i];
    if (nc && !(it->reasons = calloc(nc, sizeof *it->reasons)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory while classifying flows");
    for (size_t e = w->cstart[i]; e < w->cstart[i + 1]; e++) {
        long j = w->child[e];
        if (j < 0 || w->dist[j] < 0)
            continue;
        flowclass_reason *r = &it->reasons[it->pub.n_reasons++];
        size_t len = (size_t)w->dist[j] + 1, at = (size_t)j;
        if (!(r->chain = malloc(len * sizeof *r->chain)))
            return cmk_err_set(err, CMK_ENOMEM, "out of memory while classifying flows");
        for (size_t k = 0; k < len; k++) {
            r->chain[k] = items[at].id;
            if (k + 1 < len)
                at = w->next[at];
        }
        r->chain_len = len;
        r->child = r->chain[0];
        r->root_categories = w->own[at];
        it->pub.categories |= FLOWCLASS_PARENT;
    }
    it->pub.reasons = it->reasons;
    it->pub.migratable = it->pub.categories == 0;
    return 0;
}

/* flowclass_classify - classify a set of flows */
int flowclass_classify(const flowclass_flow *flows, size_t n, flowclass_result **out, cmk_err *err)
{
    fc_work w = { 0 };
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!flows[i].id || !flows[i].id[0] || !flows[i].def)
            return cmk_err_set(err, CMK_EINVAL, "flow %zu has no %s; every flow needs an id and a parsed definition",
                               i, flows[i].def ? "id" : "definition");
    flowclass_result *r = calloc(1, sizeof *r);
    int rc = r && (r->items = calloc(n + 1, sizeof *r->items)) ? 0
             : cmk_err_set(err, CMK_ENOMEM, "out of memory while classifying flows");
    if (rc == 0)
        r->n = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        fc_item *it = &r->items[i];
        it->id = strdup(flows[i].id);
        it->name = strdup(flows[i].display_name ? flows[i].display_name : "");
        it->pub.id = it->id;
        it->pub.display_name = it->name;
        if (!it->id || !it->name)
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory while classifying flows");
    }
    if (rc == 0)
        rc = fc_graph(flows, n, &w, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = fc_entry(&w, r->items, i, err)) == 0)
            r->unmigratable += !r->items[i].pub.migratable;
    fc_work_free(&w);
    if (rc < 0)
        flowclass_result_destroy(&r);
    *out = r;
    return rc;
}

/* flowclass_result_destroy - free a result */
void flowclass_result_destroy(flowclass_result **self_p)
{
    if (!self_p || !*self_p)
        return;
    flowclass_result *r = *self_p;
    for (size_t i = 0; r->items && i < r->n; i++) {
        for (size_t k = 0; k < r->items[i].pub.n_reasons; k++)
            free(r->items[i].reasons[k].chain);
        free(r->items[i].reasons);
        free(r->items[i].id);
        free(r->items[i].name);
    }
    free(r->items);
    free(r);
    *self_p = NULL;
}

/* flowclass_result_count - number of entries */
size_t flowclass_result_count(const flowclass_result *self)
{
    return self->n;
}

/* flowclass_result_at - the i-th entry (input order), or NULL */
const flowclass_entry *flowclass_result_at(const flowclass_result *self, size_t i)
{
    return i < self->n ? &self->items[i].pub : NULL;
}

/* flowclass_result_find - the entry of a flow id, or NULL */
const flowclass_entry *flowclass_result_find(const flowclass_result *self, const char *id)
{
    for (size_t i = 0; id && i < self->n; i++)
        if (!strcmp(self->items[i].id, id))
            return &self->items[i].pub;
    return NULL;
}

/* flowclass_result_unmigratable - flows that stay on the Microsoft-managed key */
size_t flowclass_result_unmigratable(const flowclass_result *self)
{
    return self->unmigratable;
}

/* flowclass_result_to_json - the result as compact JSON */
int flowclass_result_to_json(const flowclass_result *self, char **out, cmk_err *err)
{
    cJSON *root = cJSON_CreateObject(), *flows;
    *out = NULL;
    cJSON_AddNumberToObject(root, "total", (double)self->n);
    cJSON_AddNumberToObject(root, "migratable", (double)(self->n - self->unmigratable));
    cJSON_AddNumberToObject(root, "notMigratable", (double)self->unmigratable);
    flows = cJSON_AddArrayToObject(root, "flows");
    for (size_t i = 0; flows && i < self->n; i++) {
        const flowclass_entry *e = &self->items[i].pub;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToArray(flows, f);
        cJSON_AddStringToObject(f, "id", e->id);
        cJSON_AddStringToObject(f, "displayName", e->display_name);
        cJSON_AddBoolToObject(f, "migratable", e->migratable);
        cJSON *cats = cJSON_AddArrayToObject(f, "categories"), *reasons = cJSON_AddArrayToObject(f, "reasons");
        for (size_t c = 0; cats && c < FC_NCAT; c++) {
            if (!(e->categories & fc_table[c].cat))
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToArray(cats, o);
            cJSON_AddStringToObject(o, "key", fc_table[c].key);
            cJSON_AddStringToObject(o, "category", fc_table[c].name);
            cJSON_AddStringToObject(o, "approach", fc_table[c].remedy);
            if (fc_table[c].note[0])
                cJSON_AddStringToObject(o, "note", fc_table[c].note);
        }
        for (size_t k = 0; reasons && k < e->n_reasons; k++) {
            const flowclass_reason *r = &e->reasons[k];
            cJSON *o = cJSON_CreateObject(), *chain, *keys;
            cJSON_AddItemToArray(reasons, o);
            cJSON_AddStringToObject(o, "child", r->child);
            chain = cJSON_AddArrayToObject(o, "chain");
            for (size_t c = 0; chain && c < r->chain_len; c++)
                cJSON_AddItemToArray(chain, cJSON_CreateString(r->chain[c]));
            keys = cJSON_AddArrayToObject(o, "rootCategories");
            for (size_t c = 0; keys && c < FC_NCAT; c++)
                if (r->root_categories & fc_table[c].cat)
                    cJSON_AddItemToArray(keys, cJSON_CreateString(fc_table[c].key));
        }
    }
    *out = flows ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return *out ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory while printing a classification");
}

/* fc_field - one column (0 key, 1 name, 2 remedy, 3 note) of a category's row, or NULL */
static const char *fc_field(flowclass_category c, int field)
{
    for (size_t i = 0; i < FC_NCAT; i++)
        if (fc_table[i].cat == c)
            return field == 0 ? fc_table[i].key : field == 1 ? fc_table[i].name
                   : field == 2 ? fc_table[i].remedy : fc_table[i].note;
    return NULL;
}

/* flowclass_category_key - stable id of a category */
const char *flowclass_category_key(flowclass_category c)
{
    return fc_field(c, 0);
}

/* flowclass_category_name - the seed's category text */
const char *flowclass_category_name(flowclass_category c)
{
    return fc_field(c, 1);
}

/* flowclass_category_remedy - the seed's approach text */
const char *flowclass_category_remedy(flowclass_category c)
{
    return fc_field(c, 2);
}

/* flowclass_category_note - the seed's further explanation, or "" */
const char *flowclass_category_note(flowclass_category c)
{
    const char *s = fc_field(c, 3);
    return s ? s : "";
}
