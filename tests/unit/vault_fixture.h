/*
 * vault_fixture.h - the fixture shared by vault_test.c and vault_store_test.c (included by each,
 * once): the test key's files, the master key, one vault service over one database (fx_open,
 * fx_close), the Check setup/teardown (a vault with the imported key "cmk") and audit counts.
 */
#ifndef CMK_TEST_VAULT_FIXTURE_H
#define CMK_TEST_VAULT_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "common/util.h"
#include "controller/vault/vault.h"

#define DAY INT64_C(86400000)
#define OWNER "alice"
#define TENANT "tenant-a"
#define VAULT "contoso-kv"

static char g_dir[256];  /* temp dir for the whole run */
static char g_pem[300];  /* a 2048-bit key made by openssl genpkey */
static char *g_pem_data; /* its PEM text */
static size_t g_pem_len; /* its length */
static const uint8_t MASTER[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* fixture: one service over one database */
static struct {
    sqlite3 *db;
    cmk_clock *clock;
    audit_log *audit;
    vault_svc *svc;
} fx;

/* fx_open - open db at path (":memory:" or a file) and the service over it */
static void fx_open(const char *path, const uint8_t *master, int64_t clock_offset)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config cfg;

    ck_assert_int_eq(sqlite3_open(path, &fx.db), SQLITE_OK);
    if (!fx.clock)
        fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, clock_offset);
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    ck_assert_msg(fx.audit != NULL, "%s", err.msg);
    vault_config_defaults(&cfg);
    fx.svc = vault_svc_new(fx.db, fx.clock, fx.audit, master, &cfg, &err);
    ck_assert_msg(fx.svc != NULL, "%s", err.msg);
}

/* fx_close - close the service and the db (the clock stays) */
static void fx_close(void)
{
    vault_svc_destroy(&fx.svc);
    ck_assert_ptr_null(fx.svc);
    audit_log_destroy(&fx.audit);
    sqlite3_close(fx.db);
    fx.db = NULL;
}

/* setup - a vault with one imported key "cmk" */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props props = {.region = "westeurope"};

    memset(&fx, 0, sizeof fx);
    fx_open(":memory:", MASTER, 0);
    ck_assert_msg(vault_create(fx.svc, OWNER, TENANT, VAULT, &props, NULL, &err) == 0, "%s",
                  err.msg);
    ck_assert_msg(vault_key_import(fx.svc, OWNER, VAULT, "cmk", (const uint8_t *)g_pem_data,
                                   g_pem_len, NULL, NULL, NULL, &err) == 0,
                  "%s", err.msg);
}

/* teardown - close everything */
static void teardown(void)
{
    if (fx.svc)
        fx_close();
    cmk_clock_destroy(&fx.clock);
}

/* acount - what count_cb collects */
typedef struct {
    int n;                 /* entries seen */
    char last_detail[512]; /* detail of the last one */
} acount;

/* count_cb - count audit entries */
static int count_cb(const audit_entry *e, void *arg)
{
    acount *c = arg;
    c->n++;
    snprintf(c->last_detail, sizeof c->last_detail, "%s", e->detail);
    return 0;
}

/* audit_n - entries matching principal / operation / target prefix / result */
static int audit_n(const char *principal, const char *op, const char *target, const char *result)
{
    audit_filter f;
    acount c;
    cmk_err err = CMK_ERR_INIT;

    memset(&f, 0, sizeof f);
    memset(&c, 0, sizeof c);
    f.principal = principal;
    f.operation = op;
    f.target = target;
    f.result = result;
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &c, &err), 0);
    return c.n;
}

#endif
