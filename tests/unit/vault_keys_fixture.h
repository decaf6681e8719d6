/*
 * vault_keys_fixture.h - the fixture shared by vault_keys_test.c and vault_lifecycle_test.c
 * (included by each, once): the test key's files, the master key, the vault service over one
 * database (svc_open, svc_close), a rotation-hook recorder, shell and file helpers, the Check
 * setup/teardown (vault contoso-kv with the imported key "cmk"), audit counts, and wrap/unwrap
 * shorthands.
 */
#ifndef CMK_TEST_VAULT_KEYS_FIXTURE_H
#define CMK_TEST_VAULT_KEYS_FIXTURE_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/util.h"
#include "controller/vault/vault.h"

#define DAY INT64_C(86400000)
#define OWNER "alice"
#define TENANT "tenant-a"
#define VAULT "contoso-kv"

static char g_dir[256];  /* temp dir for the whole run */
static char g_pem[300];  /* 2048-bit key from openssl genpkey (PKCS#8 PEM) */
static char *g_pem_data; /* its text */
static size_t g_pem_len; /* its length */
static const uint8_t MASTER[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4,
                                   3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8};

static struct {
    sqlite3 *db;
    cmk_clock *clock;
    audit_log *audit;
    vault_svc *svc;
} fx;

/* rotation hook recorder */
static struct {
    int n;
    char reason[16];
    char old_version[40];
    char new_version[40];
    char key[64];
    int64_t at;
} hooked;

/* on_rotate - the test's rotation hook */
static void on_rotate(const vault_rotation_event *ev, void *arg)
{
    (void)arg;
    hooked.n++;
    snprintf(hooked.reason, sizeof hooked.reason, "%s", ev->reason);
    snprintf(hooked.old_version, sizeof hooked.old_version, "%s",
             ev->old_version ? ev->old_version : "");
    snprintf(hooked.new_version, sizeof hooked.new_version, "%s", ev->new_version);
    snprintf(hooked.key, sizeof hooked.key, "%s", ev->key);
    hooked.at = ev->at_ms;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* sh - run a shell command built like printf; its exit status */
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* path - a file in the temp dir */
static const char *path(const char *name)
{
    static char buf[4][320];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

/* slurp - read a file */
static char *slurp(const char *p, size_t *len)
{
    char *data = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(cmk_file_read(p, &data, len, &err) == 0, "%s", err.msg);
    return data;
}

/* svc_open - the service over db at dbpath */
static void svc_open(const char *dbpath)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(sqlite3_open(dbpath, &fx.db), SQLITE_OK);
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    fx.svc = vault_svc_new(fx.db, fx.clock, fx.audit, MASTER, NULL, &err);
    ck_assert_msg(fx.svc != NULL, "%s", err.msg);
    vault_svc_set_rotate_hook(fx.svc, on_rotate, NULL);
}

/* svc_close - close service and db */
static void svc_close(void)
{
    vault_svc_destroy(&fx.svc);
    audit_log_destroy(&fx.audit);
    sqlite3_close(fx.db);
    fx.db = NULL;
}

/* setup - vault contoso-kv (tenant-a) with the imported key "cmk" */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};

    memset(&fx, 0, sizeof fx);
    memset(&hooked, 0, sizeof hooked);
    fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    svc_open(":memory:");
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    ck_assert_msg(vault_key_import(fx.svc, OWNER, VAULT, "cmk", (const uint8_t *)g_pem_data,
                                   g_pem_len, NULL, NULL, NULL, &err) == 0,
                  "%s", err.msg);
}

/* teardown - close */
static void teardown(void)
{
    if (fx.svc)
        svc_close();
    cmk_clock_destroy(&fx.clock);
}

/* count_cb - count audit entries */
static int count_cb(const audit_entry *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}
/* audit_n - entries with principal, operation, result */
static int audit_n(const char *principal, const char *op, const char *result)
{
    audit_filter f;
    int n = 0;
    cmk_err err = CMK_ERR_INIT;
    memset(&f, 0, sizeof f);
    f.principal = principal;
    f.operation = op;
    f.result = result;
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &n, &err), 0);
    return n;
}

/* nversions - number of versions of a key */
static size_t nversions(const char *vault, const char *name)
{
    vault_key_info *l = NULL;
    size_t n = 0;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(vault_key_list_versions(fx.svc, OWNER, vault, name, &l, &n, &err) == 0, "%s",
                  err.msg);
    vault_key_infos_free(&l, n);
    return n;
}

/* wrap - wrapKey as the owner on contoso-kv */
static int wrap(const char *name, const char *version, vault_alg alg, const uint8_t *in, size_t n,
                uint8_t **out, size_t *out_len, char *kid, cmk_err *err)
{
    return vault_key_wrap(fx.svc, OWNER, VAULT, name, version, alg, in, n, out, out_len, kid, err);
}
/* unwrap - unwrapKey as the owner on contoso-kv */
static int unwrap(const char *name, const char *version, vault_alg alg, const uint8_t *in, size_t n,
                  uint8_t **out, size_t *out_len, cmk_err *err)
{
    return vault_key_unwrap(fx.svc, OWNER, VAULT, name, version, alg, in, n, out, out_len, NULL,
                            err);
}

/* use_key - wrap and unwrap 32 bytes with a key (version NULL: current); the rc of the wrap */
static int use_key(const char *name, const char *version, cmk_err *err)
{
    uint8_t dek[32], *w = NULL, *p = NULL;
    size_t wl = 0, pl = 0;
    int rc;

    memset(dek, 0x42, sizeof dek);
    rc = wrap(name, version, VAULT_ALG_RSA_OAEP_256, dek, sizeof dek, &w, &wl, NULL, err);
    if (rc == 0) {
        rc = unwrap(name, version, VAULT_ALG_RSA_OAEP_256, w, wl, &p, &pl, err);
        if (rc == 0)
            ck_assert(pl == 32 && memcmp(p, dek, 32) == 0);
    }
    free(w);
    vault_secret_free(&p, pl);
    return rc;
}

#endif
