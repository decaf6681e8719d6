/*
 * vault_throttle_test.c - Azure-like service limits of the simulated Key Vault: defaults,
 * cryptographic transactions weighted by key size, management transactions, HTTP 429-style
 * refusals with "retry after N seconds", a sliding window on an injected monotonic clock that
 * the virtual controller clock does not touch, per-vault budgets, and turning it off.
 */
#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/util.h"
#include "controller/vault/vault.h"

#define OWNER "alice"
#define TENANT "tenant-a"
#define VAULT "contoso-kv"

static char g_dir[256];
static char *g_k2048, *g_k3072; /* PEM texts made by openssl */
static size_t g_k2048_len, g_k3072_len;
static const uint8_t MASTER[32] = {42};

static struct {
    sqlite3 *db;
    cmk_clock *clock;
    audit_log *audit;
    vault_svc *svc;
    int64_t mono; /* the injected monotonic time, ms */
} fx;

/* fake_mono - the test's monotonic clock */
static int64_t fake_mono(void *arg)
{
    return *(int64_t *)arg;
}

/* fx_open - service with cfg (mono injected), vault contoso-kv, 2048-bit key "k2048" */
static void fx_open(vault_config *cfg)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};

    fx.mono = 1000000;
    cfg->mono_now = fake_mono;
    cfg->mono_arg = &fx.mono;
    ck_assert_int_eq(sqlite3_open(":memory:", &fx.db), SQLITE_OK);
    fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    fx.svc = vault_svc_new(fx.db, fx.clock, fx.audit, MASTER, cfg, &err);
    ck_assert_msg(fx.svc != NULL, "%s", err.msg);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "k2048", (uint8_t *)g_k2048,
                                      g_k2048_len, NULL, NULL, NULL, &err),
                     0);
    fx.mono += 10000; /* a fresh window for the test */
}

/* teardown - close */
static void teardown(void)
{
    vault_svc_destroy(&fx.svc);
    audit_log_destroy(&fx.audit);
    if (fx.db)
        sqlite3_close(fx.db);
    cmk_clock_destroy(&fx.clock);
    memset(&fx, 0, sizeof fx);
}

/* wrap1 - one wrapKey transaction on a key of a vault */
static int wrap1(const char *vault, const char *key, cmk_err *err)
{
    uint8_t dek[32] = {1}, *w = NULL;
    size_t wl = 0;
    int rc = vault_key_wrap(fx.svc, OWNER, vault, key, NULL, VAULT_ALG_RSA_OAEP, dek, 32, &w, &wl,
                            NULL, err);
    free(w);
    return rc;
}

/* retry_after - the N of "retry after N seconds" in a message, -1 if absent */
static int retry_after(const char *msg)
{
    const char *p = strstr(msg, "retry after ");
    int n = -1;
    if (p && sscanf(p, "retry after %d seconds", &n) == 1)
        return n;
    return -1;
}

/* count_cb - count audit entries */
static int count_cb(const audit_entry *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

START_TEST(test_defaults)
{
    vault_config c;
    vault_config_defaults(&c);
    ck_assert_int_eq(c.throttle_enabled, 1);
    ck_assert_int_eq(c.throttle_window_ms, 10000);
    ck_assert_int_eq(c.limit_rsa2048, 4000);
    ck_assert_int_eq(c.limit_rsa3072, 1000);
    ck_assert_int_eq(c.limit_rsa4096, 250);
    ck_assert_int_eq(c.limit_mgmt, 2000);
    ck_assert_int_eq(c.default_retention_days, 90);
    ck_assert_str_eq(c.dns_suffix, "vault.azure.net");
    ck_assert_ptr_null(c.mono_now);
}
END_TEST

START_TEST(test_default_limit_2048)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;
    int i;

    vault_config_defaults(&c);
    fx_open(&c);
    /* 4000 cryptographic transactions on a 2048-bit key in 10 s, then 429; gets count too */
    for (i = 0; i < 3999; i++)
        ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "k2048", NULL, NULL, &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "429"));
}
END_TEST

START_TEST(test_crypto_limit_and_retry_after)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;
    audit_filter f;
    int n = 0;

    vault_config_defaults(&c);
    c.limit_rsa2048 = 5;
    fx_open(&c);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "429 Too Many Requests"));
    ck_assert_ptr_nonnull(strstr(err.msg, "vault 'contoso-kv' is throttled"));
    ck_assert_int_eq(retry_after(err.msg), 10);
    /* 3.5 s later: still throttled, 7 s to go (rounded up) */
    fx.mono += 3500;
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_int_eq(retry_after(err.msg), 7);
    /* advancing the virtual controller clock a day does not refill the budget */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 86400000, &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    /* when the window has passed, it works again */
    fx.mono += 6500;
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    /* the refusals are in the audit log */
    memset(&f, 0, sizeof f);
    f.operation = "key.wrap";
    f.result = "EBUSY";
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &n, &err), 0);
    ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(test_sliding_window)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;
    audit_filter f;
    int n = 0;

    vault_config_defaults(&c);
    c.limit_rsa2048 = 5;
    fx_open(&c);
    for (int i = 0; i < 3; i++) /* three at t */
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    fx.mono += 5000;
    for (int i = 0; i < 2; i++) /* two at t + 5 s */
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    fx.mono += 1000;
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_int_eq(retry_after(err.msg), 4); /* the first three leave at t + 10 s */
    fx.mono += 4000;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_int_eq(retry_after(err.msg), 5); /* the two of t + 5 s leave at t + 15 s */
    memset(&f, 0, sizeof f);
    f.principal = OWNER;
    f.operation = "key.wrap";
    f.result = "EBUSY";
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &n, &err), 0);
    ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(test_weighted_by_key_size)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;

    vault_config_defaults(&c);
    c.limit_rsa2048 = 8;
    c.limit_rsa3072 = 2; /* one 3072-bit transaction weighs as much as four 2048-bit ones */
    fx_open(&c);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "k3072", (uint8_t *)g_k3072,
                                      g_k3072_len, NULL, NULL, NULL, &err),
                     0);
    ck_assert_int_eq(wrap1(VAULT, "k3072", &err), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    ck_assert_int_eq(wrap1(VAULT, "k3072", &err), CMK_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "3072 bits"));
    fx.mono += 10000;
    ck_assert_int_eq(wrap1(VAULT, "k3072", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k3072", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
}
END_TEST

START_TEST(test_management_limit_and_per_vault)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;
    vault_props p = {.region = "westeurope"};
    vault_key_info *l = NULL;
    size_t n = 0;

    vault_config_defaults(&c);
    c.limit_mgmt = 3;
    c.limit_rsa2048 = 2;
    fx_open(&c);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "other-kv", &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, "other-kv", "k2048", (uint8_t *)g_k2048,
                                      g_k2048_len, NULL, NULL, NULL, &err),
                     0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ALL, &l, &n, &err), 0);
        vault_key_infos_free(&l, n);
    }
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ALL, &l, &n, &err), CMK_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "management transactions"));
    ck_assert_int_gt(retry_after(err.msg), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "more", (uint8_t *)g_k2048, g_k2048_len,
                                      NULL, NULL, NULL, &err),
                     CMK_EBUSY);
    /* management and cryptographic budgets are separate */
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
    ck_assert_int_eq(wrap1(VAULT, "k2048", &err), CMK_EBUSY);
    /* another vault has its own budgets (its import used one management transaction) */
    ck_assert_int_eq(wrap1("other-kv", "k2048", &err), 0);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, "other-kv", VAULT_LIST_ALL, &l, &n, &err), 0);
    vault_key_infos_free(&l, n);
}
END_TEST

START_TEST(test_throttling_off)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;

    vault_config_defaults(&c);
    c.limit_rsa2048 = 2;
    c.throttle_enabled = 0;
    fx_open(&c);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
}
END_TEST

START_TEST(test_zero_limit_is_unlimited)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config c;

    vault_config_defaults(&c);
    c.limit_rsa2048 = 0;
    c.limit_mgmt = 1;
    fx_open(&c);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(wrap1(VAULT, "k2048", &err), 0);
}
END_TEST

/* rm_cb - remove one path (for nftw) */
static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* make_key - an RSA key PEM via openssl */
static int make_key(int bits, char **pem, size_t *len)
{
    char cmd[512], p[300];
    cmk_err err = CMK_ERR_INIT;
    snprintf(p, sizeof p, "%s/k%d.pem", g_dir, bits);
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:%d -out %s "
             "2>/dev/null",
             bits, p);
    return system(cmd) == 0 && cmk_file_read(p, pem, len, &err) == 0 ? 0 : -1;
}

int main(void)
{
    Suite *s = suite_create("vault_throttle");
    TCase *tc = tcase_create("throttle");
    SRunner *sr;
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/vault_throttle_test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    if (make_key(2048, &g_k2048, &g_k2048_len) < 0 || make_key(3072, &g_k3072, &g_k3072_len) < 0) {
        fprintf(stderr, "vault_throttle_test: cannot make test keys with openssl\n");
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        return 2;
    }
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_default_limit_2048);
    tcase_add_test(tc, test_crypto_limit_and_retry_after);
    tcase_add_test(tc, test_sliding_window);
    tcase_add_test(tc, test_weighted_by_key_size);
    tcase_add_test(tc, test_management_limit_and_per_vault);
    tcase_add_test(tc, test_throttling_off);
    tcase_add_test(tc, test_zero_limit_is_unlimited);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_k2048);
    free(g_k3072);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
