/*
 * partition_stage_test.c - Check suite for worker/partition_stage.c (rule ENVOP-8): flows
 * written into a staging area leave the partition's flows and runs untouched until the swap;
 * the swap replaces them in one transaction (flows readable with the same key, sealed at their
 * place in `flows`), a second swap of the same area changes nothing, a discarded area is gone,
 * beginning an area drops any other, a swap keeps or deletes connections as asked, and the
 * staging survives closing and reopening the partition (a worker SIGKILLed mid-way).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define ENV "env-stage-1"
#define DEF "{\"triggers\":{\"manual\":{}},\"actions\":{}}"

#include "partition_fixture.h"

/* mkflow - flow metadata */
static partition_flow mkflow(const char *id, const char *name)
{
    partition_flow f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "%s", id);
    snprintf(f.name, sizeof f.name, "%s", name);
    strcpy(f.trigger_kind, "manual");
    strcpy(f.kind, "cloud");
    f.enabled = 1;
    f.created_ms = 1;
    f.updated_ms = 2;
    return f;
}

/* names - the partition's flow names, sorted by id, joined by ',' */
static const char *names(char *buf, size_t cap)
{
    partition_flow *list = NULL;
    size_t n = 0;
    cmk_err err = CMK_ERR_INIT;
    buf[0] = '\0';
    ck_assert_int_eq(partition_flow_list(part, &list, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        strncat(buf, list[i].name, cap - strlen(buf) - 2);
        if (i + 1 < n)
            strcat(buf, ",");
    }
    free(list);
    return buf;
}

/* put - a flow into `flows` */
static void put(const char *id, const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    partition_flow f = mkflow(id, name);
    ck_assert_msg(partition_flow_put(part, &f, DEF, strlen(DEF), NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(partition_commit(part, &err), 0);
}

/* stage - a flow into area s: its rc */
static int stage(const char *s, const char *id, const char *name, cmk_err *err)
{
    partition_flow f = mkflow(id, name);
    int rc = partition_flow_stage(part, s, &f, DEF, strlen(DEF), NULL, NULL, err);
    if (rc == 0)
        rc = partition_commit(part, err);
    return rc;
}

START_TEST(test_swap_replaces_all_at_once)
{
    cmk_err err = CMK_ERR_INIT;
    char buf[512], *def = NULL;
    size_t out = 9, runs = 9, in = 9;
    int found = -1;
    partition_run r;

    put("old-1", "Old One");
    put("old-2", "Old Two");
    memset(&r, 0, sizeof r);
    strcpy(r.id, "run-1");
    strcpy(r.flow_id, "old-1");
    strcpy(r.status, "Succeeded");
    ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_conn_put(part, "conn-1", "Conn", 1, "s3cret", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);

    ck_assert_int_eq(partition_stage_begin(part, "op-1", &err), 0);
    ck_assert_int_eq(stage("op-1", "new-1", "New One", &err), 0);
    ck_assert_int_eq(stage("op-1", "old-1", "Old One Restored", &err), 0);
    /* staged, not swapped: the partition is as it was */
    ck_assert_str_eq(names(buf, sizeof buf), "Old One,Old Two");
    ck_assert_int_eq(partition_run_get(part, "run-1", &r, NULL, NULL, &err), 0);
    /* closed and reopened (a worker restarted): the area is still there */
    partition_close(&part);
    open_part();
    ck_assert_int_eq(stage("op-1", "new-2", "New Two", &err), 0);
    ck_assert_str_eq(names(buf, sizeof buf), "Old One,Old Two");

    ck_assert_int_eq(partition_stage_swap(part, "op-1", 0, &found, &out, &runs, &in, &err), 0);
    ck_assert_int_eq(found, 1);
    ck_assert_uint_eq(out, 2);
    ck_assert_uint_eq(runs, 1);
    ck_assert_uint_eq(in, 3);
    ck_assert_str_eq(names(buf, sizeof buf), "New One,New Two,Old One Restored");
    ck_assert_int_eq(partition_flow_get(part, "new-2", NULL, &def, &err), 0); /* opens under the same key */
    ck_assert_str_eq(def, DEF);
    free(def);
    ck_assert_int_eq(partition_run_get(part, "run-1", &r, NULL, NULL, &err), CMK_ENOENT);
    ck_assert_int_eq(partition_conn_get(part, "conn-1", NULL, &def, &err), 0); /* connections kept */
    free(def);

    /* a second swap of the same area (a retry after a lost answer) changes nothing */
    put("later", "Later");
    ck_assert_int_eq(partition_stage_swap(part, "op-1", 0, &found, &out, &runs, &in, &err), 0);
    ck_assert_int_eq(found, 0);
    ck_assert_str_eq(names(buf, sizeof buf), "Later,New One,New Two,Old One Restored");
    /* and the area is gone: nothing more can be staged into it */
    ck_assert_int_eq(stage("op-1", "x", "X", &err), CMK_ESTATE);
}
END_TEST

START_TEST(test_discard_and_begin_drop_areas)
{
    cmk_err err = CMK_ERR_INIT;
    char buf[512];
    int found = -1;

    put("keep", "Keep");
    ck_assert_int_eq(partition_stage_begin(part, "op-a", &err), 0);
    ck_assert_int_eq(stage("op-a", "a1", "A1", &err), 0);
    ck_assert_int_eq(partition_stage_discard(part, "op-a", &err), 0);
    ck_assert_int_eq(partition_stage_swap(part, "op-a", 0, &found, NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(found, 0);
    ck_assert_str_eq(names(buf, sizeof buf), "Keep");
    ck_assert_int_eq(stage("op-a", "a2", "A2", &err), CMK_ESTATE);

    /* an area left behind (its operation failed, the discard never arrived) is dropped when
     * the next operation begins one: only the new area's flows are swapped in */
    ck_assert_int_eq(partition_stage_begin(part, "op-b", &err), 0);
    ck_assert_int_eq(stage("op-b", "b1", "B1", &err), 0);
    ck_assert_int_eq(partition_stage_begin(part, "op-c", &err), 0);
    ck_assert_int_eq(stage("op-c", "c1", "C1", &err), 0);
    ck_assert_int_eq(stage("op-b", "b2", "B2", &err), CMK_ESTATE);
    ck_assert_int_eq(partition_stage_swap(part, "op-b", 0, &found, NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(partition_conn_put(part, "conn-1", "Conn", 0, "s3cret", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_stage_swap(part, "op-c", 1, &found, NULL, NULL, NULL, &err), 0); /* a reset's */
    ck_assert_int_eq(found, 1);
    ck_assert_str_eq(names(buf, sizeof buf), "C1");
    {
        char *secret = NULL;
        ck_assert_int_eq(partition_conn_get(part, "conn-1", NULL, &secret, &err), CMK_ENOENT);
        free(secret);
    }
}
END_TEST

/* stage_suite - the suite */
static Suite *stage_suite(void)
{
    Suite *s = suite_create("partition_stage");
    TCase *tc = tcase_create("stage");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_swap_replaces_all_at_once);
    tcase_add_test(tc, test_discard_and_begin_drop_areas);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(stage_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
