/*
 * flowclass_test.c - which flows can't be migrated to CMK automatically (seed 000): each
 * category, the seed's exact texts, parents at any depth (and only parents), cycles, flows in a
 * solution, several categories at once, and the samples in configs/flows.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowclass.h"

#define MAX_FLOWS 16

static flowclass_flow g_flows[MAX_FLOWS]; /* the set being built */
static flowdef *g_defs[MAX_FLOWS];        /* their definitions */
static size_t g_n;                        /* flows in the set */
static flowclass_result *g_res;           /* the last classification */

/* reset - an empty set */
static void reset(void)
{
    for (size_t i = 0; i < g_n; i++)
        flowdef_destroy(&g_defs[i]);
    flowclass_result_destroy(&g_res);
    g_n = 0;
}

/* add - a flow with the given trigger, List flows version (0: none) and child flows */
static void add(const char *id, const char *trigger, int list_version, bool in_solution, const char *children)
{
    char json[4096], acts[3000] = "";
    size_t n = 0;
    char kids[256];
    snprintf(kids, sizeof kids, "%s", children ? children : "");
    for (char *save = NULL, *c = strtok_r(kids, ",", &save); c; c = strtok_r(NULL, ",", &save))
        n += (size_t)snprintf(acts + n, sizeof acts - n,
                              "\"Call_%s\":{\"type\":\"Workflow\",\"inputs\":{\"host\":{\"workflowReferenceName\":"
                              "\"%s\"},\"body\":{}}},", c, c);
    if (list_version)
        n += (size_t)snprintf(acts + n, sizeof acts - n,
                              "\"Branch\":{\"type\":\"If\",\"expression\":true,\"actions\":{\"List\":{\"type\":"
                              "\"OpenApiConnection\",\"inputs\":{\"host\":{\"apiId\":\"/providers/Microsoft.PowerApps/"
                              "apis/shared_flowmanagement\",\"operationId\":\"%s\"}}}}},",
                              list_version == 1 ? "ListFlowsInEnvironment" : "ListFlowsInEnvironment_V2");
    snprintf(acts + n, sizeof acts - n, "\"Done\":{\"type\":\"Compose\",\"inputs\":\"ok\"}");
    if (!strcmp(trigger, "Recurrence"))
        snprintf(json, sizeof json, "{\"triggers\":{\"Recurrence\":{\"type\":\"Recurrence\",\"recurrence\":"
                 "{\"frequency\":\"Hour\",\"interval\":1}}},\"actions\":{%s}}", acts);
    else
        snprintf(json, sizeof json, "{\"triggers\":{\"manual\":{\"type\":\"Request\",\"kind\":\"%s\"}},"
                 "\"actions\":{%s}}", trigger, acts);
    cmk_err e = CMK_ERR_INIT;
    ck_assert_msg(flowdef_parse(json, strlen(json), &g_defs[g_n], &e) == 0, "%s: %s", id, e.msg);
    g_flows[g_n] = (flowclass_flow){ .id = id, .display_name = id, .def = g_defs[g_n], .in_solution = in_solution };
    g_n++;
}

/* classify - classify the set; fails the test on error */
static void classify(void)
{
    cmk_err e = CMK_ERR_INIT;
    flowclass_result_destroy(&g_res);
    ck_assert_msg(flowclass_classify(g_flows, g_n, &g_res, &e) == 0, "%s", e.msg);
}

/* verdict - the entry of a flow */
static const flowclass_entry *verdict(const char *id)
{
    const flowclass_entry *e = flowclass_result_find(g_res, id);
    ck_assert_msg(e != NULL, "no entry for %s", id);
    return e;
}

/* expect_cats - a flow's categories (0: migratable) */
static void expect_cats(const char *id, unsigned cats)
{
    const flowclass_entry *e = verdict(id);
    ck_assert_msg(e->categories == cats, "%s: categories %#x, expected %#x", id, e->categories, cats);
    ck_assert_int_eq(e->migratable, cats == 0);
}

/* expect_chain - reason k of a flow has this chain ("a>b>c") and root categories */
static void expect_chain(const char *id, size_t k, const char *chain, unsigned root)
{
    const flowclass_entry *e = verdict(id);
    char got[256] = "";
    ck_assert_msg(k < e->n_reasons, "%s has %zu reasons", id, e->n_reasons);
    const flowclass_reason *r = &e->reasons[k];
    for (size_t i = 0; i < r->chain_len; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? ">" : "", r->chain[i]);
    ck_assert_str_eq(got, chain);
    ck_assert_str_eq(r->child, r->chain[0]);
    ck_assert_uint_eq(r->root_categories, root);
}

START_TEST(test_seed_texts_exact)
{
    ck_assert_str_eq(flowclass_category_name(FLOWCLASS_POWERAPPS_V1), "Power App v1 trigger flows that aren't in a solution");
    ck_assert_str_eq(flowclass_category_remedy(FLOWCLASS_POWERAPPS_V1),
                     "Option 1 (Recommended): Update the flow to use V2 trigger before applying CMK. Option 2: "
                     "Post CMK application, use Save as to create a copy of the flow. Update calling Power Apps to "
                     "use the new copy of the flow.");
    ck_assert_str_eq(flowclass_category_name(FLOWCLASS_HTTP_TEAMS), "HTTP trigger flows and Teams trigger flows");
    ck_assert_str_eq(flowclass_category_remedy(FLOWCLASS_HTTP_TEAMS),
                     "Post enterprise policy application, use Save as to create a copy of the flow. Update calling "
                     "system to use the URL of the new flow.");
    ck_assert_str_eq(flowclass_category_note(FLOWCLASS_HTTP_TEAMS),
                     "This category of flows isn't automatically protected, as a new flow URL is created in the CMK "
                     "protected infrastructure. Customers might be leveraging the URL in their invoking systems.");
    ck_assert_str_eq(flowclass_category_name(FLOWCLASS_PARENT), "Parents of flows that can't be automatically migrated");
    /* the seed writes a typographic apostrophe (U+2019) here */
    ck_assert_str_eq(flowclass_category_remedy(FLOWCLASS_PARENT),
                     "If a flow can't be migrated, then dependent flows are also not migrated to ensure there\xe2\x80\x99s "
                     "no business disruption.");
    ck_assert_str_eq(flowclass_category_name(FLOWCLASS_LIST_FLOWS_V1),
                     "Flows using the List flows as Admin (v1) connector action");
    ck_assert_str_eq(flowclass_category_remedy(FLOWCLASS_LIST_FLOWS_V1),
                     "Flows referencing this legacy action should either be deleted or updated to use the List Flows "
                     "as Admin (V2) action.");
    ck_assert_str_eq(flowclass_category_key(FLOWCLASS_PARENT), "parent-of-unmigratable-flow");
    ck_assert_str_eq(flowclass_category_note(FLOWCLASS_PARENT), "");
    ck_assert_ptr_null(flowclass_category_name((flowclass_category)64));
}
END_TEST

START_TEST(test_own_categories)
{
    add("pa-v1", "PowerApp", 0, false, NULL);
    add("pa-v1-sol", "PowerApp", 0, true, NULL);
    add("pa-v2", "PowerAppV2", 0, false, NULL);
    add("http", "Http", 0, false, NULL);
    add("http-sol", "Http", 0, true, NULL);
    add("teams", "Teams", 0, false, NULL);
    add("manual", "Button", 0, false, NULL);
    add("recur", "Recurrence", 0, false, NULL);
    add("list-v1", "Recurrence", 1, false, NULL);
    add("list-v2", "Recurrence", 2, false, NULL);
    classify();
    expect_cats("pa-v1", FLOWCLASS_POWERAPPS_V1);
    expect_cats("pa-v1-sol", 0); /* in a solution: migrated */
    expect_cats("pa-v2", 0);
    expect_cats("http", FLOWCLASS_HTTP_TEAMS);
    expect_cats("http-sol", FLOWCLASS_HTTP_TEAMS); /* a solution doesn't keep the URL */
    expect_cats("teams", FLOWCLASS_HTTP_TEAMS);
    expect_cats("manual", 0);
    expect_cats("recur", 0);
    expect_cats("list-v1", FLOWCLASS_LIST_FLOWS_V1); /* found inside a Condition branch */
    expect_cats("list-v2", 0);
    ck_assert_uint_eq(flowclass_result_count(g_res), 10);
    ck_assert_uint_eq(flowclass_result_unmigratable(g_res), 5);
    ck_assert_str_eq(flowclass_result_at(g_res, 0)->id, "pa-v1"); /* input order */
    ck_assert_uint_eq(verdict("http")->n_reasons, 0);
    reset();
}
END_TEST

START_TEST(test_three_levels_only_parents)
{
    add("great", "Button", 0, false, "grandparent");
    add("grandparent", "Button", 0, false, "parent");
    add("parent", "Recurrence", 0, false, "child");
    add("child", "Http", 0, false, "grandchild");
    add("grandchild", "Button", 0, false, NULL);
    add("bystander", "Button", 0, false, "grandchild");
    classify();
    expect_cats("child", FLOWCLASS_HTTP_TEAMS);
    expect_cats("parent", FLOWCLASS_PARENT);
    expect_cats("grandparent", FLOWCLASS_PARENT);
    expect_cats("grandchild", 0); /* called by an unmigratable flow: still migrated */
    expect_cats("bystander", 0);
    ck_assert_uint_eq(verdict("parent")->n_reasons, 1);
    expect_chain("parent", 0, "child", FLOWCLASS_HTTP_TEAMS);
    ck_assert_uint_eq(verdict("grandparent")->n_reasons, 1);
    expect_chain("grandparent", 0, "parent>child", FLOWCLASS_HTTP_TEAMS);
    expect_cats("great", FLOWCLASS_PARENT); /* any depth */
    expect_chain("great", 0, "grandparent>parent>child", FLOWCLASS_HTTP_TEAMS);
    reset();
}
END_TEST

START_TEST(test_cycles)
{
    /* a cycle of migratable flows stays migratable */
    add("a", "Button", 0, false, "b");
    add("b", "Button", 0, false, "a");
    add("self", "Button", 0, false, "self");
    add("self-http", "Http", 0, false, "self-http");
    classify();
    expect_cats("a", 0);
    expect_cats("b", 0);
    expect_cats("self", 0);
    expect_cats("self-http", FLOWCLASS_HTTP_TEAMS); /* not its own parent */
    reset();

    /* a cycle that reaches an unmigratable flow: everyone in it is a parent */
    add("a", "Button", 0, false, "b");
    add("b", "Button", 0, false, "a,c");
    add("c", "Teams", 0, false, "a");
    classify();
    expect_cats("c", FLOWCLASS_HTTP_TEAMS | FLOWCLASS_PARENT); /* c calls a, which can't be migrated */
    expect_cats("b", FLOWCLASS_PARENT);
    expect_cats("a", FLOWCLASS_PARENT);
    expect_chain("a", 0, "b>c", FLOWCLASS_HTTP_TEAMS);
    ck_assert_uint_eq(verdict("b")->n_reasons, 2);
    expect_chain("b", 0, "a>b>c", FLOWCLASS_HTTP_TEAMS);
    expect_chain("b", 1, "c", FLOWCLASS_HTTP_TEAMS);
    expect_chain("c", 0, "a>b>c", FLOWCLASS_HTTP_TEAMS);
    reset();
}
END_TEST

START_TEST(test_shortest_chain_and_many_categories)
{
    add("p", "Button", 0, false, "x,y,unknown-flow");
    add("x", "Button", 0, false, "c");
    add("y", "Button", 0, false, "d");
    add("d", "Button", 0, false, "c");
    add("c", "PowerApp", 0, false, NULL);
    add("all", "Http", 1, false, "c");
    classify();
    expect_cats("p", FLOWCLASS_PARENT);
    ck_assert_uint_eq(verdict("p")->n_reasons, 2); /* the unknown child is ignored */
    expect_chain("p", 0, "x>c", FLOWCLASS_POWERAPPS_V1);
    expect_chain("p", 1, "y>d>c", FLOWCLASS_POWERAPPS_V1);
    expect_cats("all", FLOWCLASS_HTTP_TEAMS | FLOWCLASS_LIST_FLOWS_V1 | FLOWCLASS_PARENT);
    expect_chain("all", 0, "c", FLOWCLASS_POWERAPPS_V1);
    reset();

    /* the same child in a solution: nobody is held back */
    add("p", "Button", 0, false, "c");
    add("c", "PowerApp", 0, true, NULL);
    classify();
    expect_cats("p", 0);
    expect_cats("c", 0);
    reset();
}
END_TEST

START_TEST(test_refusals_and_empty)
{
    cmk_err e = CMK_ERR_INIT;
    add("same", "Button", 0, false, NULL);
    add("same", "Http", 0, false, NULL);
    ck_assert_int_eq(flowclass_classify(g_flows, g_n, &g_res, &e), CMK_EINVAL);
    ck_assert_ptr_null(g_res);
    ck_assert_str_eq(e.msg, "flow id 'same' is given twice (flows 0 and 1); flow ids are unique in an environment");
    g_flows[1].def = NULL;
    g_flows[1].id = "other";
    ck_assert_int_eq(flowclass_classify(g_flows, g_n, &g_res, &e), CMK_EINVAL);
    ck_assert_str_eq(e.msg, "flow 1 has no definition; every flow needs an id and a parsed definition");
    reset();
    classify(); /* an empty environment */
    ck_assert_uint_eq(flowclass_result_count(g_res), 0);
    ck_assert_ptr_null(flowclass_result_at(g_res, 0));
    reset();
}
END_TEST

START_TEST(test_to_json)
{
    add("parent", "Button", 0, false, "child");
    add("child", "Http", 0, false, NULL);
    classify();
    char *text = NULL;
    cmk_err e = CMK_ERR_INIT;
    ck_assert_int_eq(flowclass_result_to_json(g_res, &text, &e), 0);
    cJSON *j = cJSON_Parse(text);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "total")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "notMigratable")->valueint, 2);
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "flows"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(p, "id")->valuestring, "parent");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(p, "migratable")));
    cJSON *cat = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "categories"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(cat, "category")->valuestring, flowclass_category_name(FLOWCLASS_PARENT));
    ck_assert_str_eq(cJSON_GetObjectItem(cat, "approach")->valuestring, flowclass_category_remedy(FLOWCLASS_PARENT));
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "reasons"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(r, "child")->valuestring, "child");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "rootCategories"), 0)->valuestring, "http-or-teams-trigger");
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "flows"), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "categories"), 0), "note")->valuestring,
                     flowclass_category_note(FLOWCLASS_HTTP_TEAMS));
    cJSON_Delete(j);
    free(text);
    reset();
}
END_TEST

START_TEST(test_samples)
{
    static const struct {
        const char *file; /* sample, id = file name without .json */
        unsigned cats;    /* expected categories (not in a solution) */
    } want[] = {
        { "manual-compose", 0 },         { "recurrence-compose", 0 },
        { "http-trigger-echo", FLOWCLASS_HTTP_TEAMS }, { "powerapps-v1", FLOWCLASS_POWERAPPS_V1 },
        { "powerapps-v2", 0 },           { "teams-trigger", FLOWCLASS_HTTP_TEAMS },
        { "http-action", 0 },            { "child-parent", 0 },
        { "child-child", 0 },            { "list-flows-admin-v1", FLOWCLASS_LIST_FLOWS_V1 },
        { "list-flows-admin-v2", 0 },    { "condition-terminate", 0 },
    };
    size_t n = sizeof want / sizeof want[0];
    for (size_t i = 0; i < n; i++) {
        char path[512], *buf;
        snprintf(path, sizeof path, "%s/configs/flows/%s.json", CMK_SOURCE_DIR, want[i].file);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)len);
        ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        cmk_err e = CMK_ERR_INIT;
        ck_assert_msg(flowdef_parse(buf, (size_t)len, &g_defs[g_n], &e) == 0, "%s: %s", path, e.msg);
        free(buf);
        g_flows[g_n] = (flowclass_flow){ .id = want[i].file, .display_name = want[i].file, .def = g_defs[g_n] };
        g_n++;
    }
    classify();
    for (size_t i = 0; i < n; i++)
        expect_cats(want[i].file, want[i].cats);
    reset();
}
END_TEST

/* flowclass_suite - every case above */
static Suite *flowclass_suite(void)
{
    Suite *s = suite_create("flowclass");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_seed_texts_exact);
    tcase_add_test(tc, test_own_categories);
    tcase_add_test(tc, test_three_levels_only_parents);
    tcase_add_test(tc, test_cycles);
    tcase_add_test(tc, test_shortest_chain_and_many_categories);
    tcase_add_test(tc, test_refusals_and_empty);
    tcase_add_test(tc, test_to_json);
    tcase_add_test(tc, test_samples);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on failure */
int main(void)
{
    SRunner *sr = srunner_create(flowclass_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
