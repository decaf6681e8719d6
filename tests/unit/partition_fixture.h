/*
 * partition_fixture.h - the fixture shared by the partition suites (partition_test.c,
 * partition_sealed_test.c, partition_stage_test.c; included by each, once, after it defines
 * ENV): a temp dir per test case (root_setup/root_teardown, unchecked: removed even after a
 * failure), and per test a temp dir, two data keys and the open partition (setup/teardown,
 * checked); open_part (re)opens it, as a restarted worker would.
 */
#ifndef CMK_TEST_PARTITION_FIXTURE_H
#define CMK_TEST_PARTITION_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/partition.h"

static char rootdir[64]; /* temp dir of the whole test case, removed even after failures */
static char tmpdir[96];  /* this test's temp dir */
static cmk_dek *dek;     /* data DEK */
static cmk_dek *mmk;     /* MMK DEK */
static partition *part;  /* the open partition */

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* open_part - (re)open the partition of tmpdir with default options and give it the keys */
static void open_part(void)
{
    cmk_err err = CMK_ERR_INIT;
    int rc = partition_open(tmpdir, ENV, NULL, &part, &err);
    ck_assert_msg(rc == 0, "partition_open: %s", err.msg);
    partition_set_keys(part, dek, mmk);
}

/* root_setup - in the runner: one temp dir for the test case */
static void root_setup(void)
{
    strcpy(rootdir, "/tmp/cmk-part-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(rootdir));
}

/* root_teardown - in the runner: remove the test case's temp dir, failed tests' files too */
static void root_teardown(void)
{
    nftw(rootdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* setup - a temp dir, two DEKs, an open partition */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    snprintf(tmpdir, sizeof tmpdir, "%s/t-XXXXXX", rootdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    dek = cmk_dek_generate(&err);
    mmk = cmk_dek_generate(&err);
    ck_assert_ptr_nonnull(dek);
    ck_assert_ptr_nonnull(mmk);
    open_part();
}

/* teardown - close, free the keys, remove the temp dir */
static void teardown(void)
{
    partition_close(&part);
    cmk_dek_destroy(&dek);
    cmk_dek_destroy(&mmk);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
