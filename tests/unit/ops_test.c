/*
 * ops_test.c - the one operation table (common/ops.h) is complete and everything reads it
 * (rule CORE-1): every type once, with a well-formed name, a class fit for its door and limits;
 * every front and back row bound to a real controller handler and every routed row to op_route;
 * every type routed to a worker answered by the worker, and the worker answers nothing else;
 * the lookup finds every row; and docs/PROTOCOL.md shows the table as `cmkctl protocol
 * --markdown` prints it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ops.h"
#include "proto.h"
#include "worker.h"
#include "doc_block.h"

int op_not_dispatched(void *ctx, const cmk_msg *req, cmk_err *err);
int op_route(void *ctx, const cmk_msg *req, cmk_err *err);

/* valid_type - 1..31 characters of [a-z0-9._-] (proto.h) */
static int valid_type(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > CMK_PROTO_MAX_TYPE)
        return 0;
    return strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

START_TEST(test_rows_well_formed)
{
    const cmk_op *t = cmk_op_table();
    int front = 0;
    for (int i = 0; i < CMK_NOPS; i++) {
        ck_assert_int_eq(t[i].id, i);
        ck_assert_msg(valid_type(t[i].type), "'%s' is not a valid type name", t[i].type);
        for (int j = i + 1; j < CMK_NOPS; j++)
            ck_assert_msg(strcmp(t[i].type, t[j].type) != 0, "'%s' is declared twice", t[i].type);
        ck_assert_ptr_eq(cmk_op_find(t[i].type), &t[i]);
        ck_assert_msg(t[i].max_body > 0 && t[i].max_body <= CMK_PROTO_MAX_BODY, "%s: body limit %zu",
                      t[i].type, t[i].max_body);
        ck_assert_msg(t[i].help[0], "%s has no help line", t[i].type);
        if (t[i].scope == AUTHZ_SCOPE_TENANT)
            ck_assert_msg(t[i].fields[0].field != NULL, "'%s' is tenant-scoped but names no field",
                          t[i].type);
        if (t[i].door == AUTHZ_FRONT) {
            front++;
            ck_assert_msg(t[i].cls != AUTHZ_PEER && t[i].cls != AUTHZ_DATAKEY && t[i].cls != AUTHZ_RELAY,
                          "%s: a peer class on the front door", t[i].type);
        }
        if (t[i].door == AUTHZ_BACK)
            ck_assert_msg(t[i].cls == AUTHZ_PEER || t[i].cls == AUTHZ_DATAKEY || t[i].cls == AUTHZ_RELAY,
                          "%s: a client class on the back door", t[i].type);
        /* a request routed to a worker: the controller decides where, and under which key */
        if (t[i].route == CMK_ROUTE_WORKER || t[i].route == CMK_ROUTE_WORKER_BOTH) {
            if (t[i].door == AUTHZ_FRONT) {
                ck_assert_msg(cmk_op_owns(&t[i], "infrastructure") && cmk_op_owns(&t[i], "region") &&
                                  cmk_op_owns(&t[i], "encryption") &&
                                  cmk_op_owns(&t[i], "requested_by"),
                              "%s: routed, but the controller does not own its placement fields", t[i].type);
                ck_assert_msg(t[i].flags & (OPF_READY | OPF_ANYSTATE),
                              "%s: routed, but says nothing of the environment's state", t[i].type);
            }
        }
    }
    ck_assert_int_gt(front, 90);
    ck_assert_ptr_null(cmk_op_find("no.such-type"));
    ck_assert_ptr_null(cmk_op_find(""));
    ck_assert_ptr_null(cmk_op_find(NULL));
    ck_assert_str_eq(CMK_T_FLOW_RUN, "flow.run");
    ck_assert_int_eq(cmk_op_find(CMK_T_DEK_GET)->id, CMK_OP_DEK_GET);
}
END_TEST

START_TEST(test_owned_fields)
{
    const cmk_op *run = cmk_op_find(CMK_T_FLOW_RUN);
    ck_assert(cmk_op_owns(run, "infrastructure"));
    ck_assert(cmk_op_owns(run, "env"));
    ck_assert(cmk_op_owns(run, "requested_by"));
    ck_assert(!cmk_op_owns(run, "body"));
    ck_assert(!cmk_op_owns(run, "infra"));
    ck_assert(!cmk_op_owns(run, "infrastructures"));
    ck_assert(!cmk_op_owns(cmk_op_find(CMK_T_TENANT_LIST), "env"));
    ck_assert(!cmk_op_owns(NULL, "env"));
}
END_TEST

START_TEST(test_handlers_bound)
{
    const cmk_op *t = cmk_op_table();
    for (int i = 0; i < CMK_NOPS; i++) {
        broker_op_fn fn = ctl_handlers[i];
        ck_assert_ptr_nonnull(fn);
        if (t[i].door == AUTHZ_INTERNAL || i == CMK_OP_READY)
            ck_assert_msg(fn == op_not_dispatched, "%s is never dispatched, yet has a handler", t[i].type);
        else
            ck_assert_msg(fn != op_not_dispatched, "%s reaches the controller but has no handler", t[i].type);
        if (t[i].door == AUTHZ_FRONT &&
            (t[i].route == CMK_ROUTE_WORKER || t[i].route == CMK_ROUTE_WORKER_BOTH))
            ck_assert_msg(fn == op_route, "%s is routed to a worker but not handled by op_route", t[i].type);
        if (fn == op_route)
            ck_assert_msg(t[i].route == CMK_ROUTE_WORKER || t[i].route == CMK_ROUTE_WORKER_BOTH,
                          "%s goes through op_route but its row routes it to the %s", t[i].type,
                          cmk_op_route_name(t[i].route));
    }
}
END_TEST

START_TEST(test_worker_answers_what_is_routed_to_it)
{
    const cmk_op *t = cmk_op_table();
    for (int i = 0; i < CMK_NOPS; i++) {
        int routed = t[i].route == CMK_ROUTE_WORKER || t[i].route == CMK_ROUTE_WORKER_BOTH;
        ck_assert_msg(worker_takes(t[i].type) == routed, "%s: routed to a worker %s, the worker %s it",
                      t[i].type, routed ? "yes" : "no", worker_takes(t[i].type) ? "answers" : "does not answer");
    }
    ck_assert(!worker_takes("no.such-type"));
}
END_TEST

START_TEST(test_closest)
{
    ck_assert_str_eq(cmk_op_closest("flow.rn"), "flow.run");
    ck_assert_str_eq(cmk_op_closest("tenant.lst"), "tenant.list");
    ck_assert_ptr_null(cmk_op_closest("completely-different-thing"));
}
END_TEST

/* PROTOCOL.md holds the generated table between its markers */
START_TEST(test_protocol_doc_matches)
{
    char *text = doc_block("docs/PROTOCOL.md", "ops-table"), *md;
    md = cmk_op_markdown();
    ck_assert_msg(strcmp(text, md) == 0,
                  "docs/PROTOCOL.md's operation table differs from common/ops.h: replace it with the "
                  "output of `cmkctl protocol --markdown`");
    free(md);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_rows_well_formed);
    tcase_add_test(tc, test_owned_fields);
    tcase_add_test(tc, test_handlers_bound);
    tcase_add_test(tc, test_worker_answers_what_is_routed_to_it);
    tcase_add_test(tc, test_closest);
    tcase_add_test(tc, test_protocol_doc_matches);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
