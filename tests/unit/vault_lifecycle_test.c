/*
 * vault_lifecycle_test.c - what happens to vault keys over time: activation and expiry dates,
 * soft delete, recover, purge (refused under purge protection, automatic after the retention
 * on the virtual clock), keys in a vault without soft delete, backup and restore (same tenant
 * only), rotation policies fired by cmk_clock_advance (after creation or before expiry;
 * validation; resumed after a restart), and ISO 8601 durations.
 */
#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "common/util.h"
#include "controller/vault/vault.h"

#include "vault_keys_fixture.h"

START_TEST(test_expiry_and_activation)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_update u;
    vault_key_params p;
    vault_key_info ki;
    int64_t now = cmk_clock_now(fx.clock);

    memset(&u, 0, sizeof u);
    u.set_exp = 1;
    u.exp_ms = now + DAY;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", NULL, &u, &ki, &err), 0);
    ck_assert_int_eq(ki.exp_ms, now + DAY);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 2 * DAY, &err), 0);
    ck_assert_int_eq(use_key("cmk", NULL, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "expired at"));
    ck_assert_ptr_nonnull(strstr(err.msg, "--expires"));
    /* extend the expiry: usable again */
    u.exp_ms = now + 30 * DAY;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", NULL, &u, NULL, &err), 0);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);

    /* a key that becomes active in a day */
    now = cmk_clock_now(fx.clock);
    memset(&p, 0, sizeof p);
    p.nbf_ms = now + DAY;
    p.exp_ms = now + 10 * DAY;
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "later", (uint8_t *)g_pem_data,
                                      g_pem_len, NULL, &p, &ki, &err),
                     0);
    ck_assert_int_eq(ki.nbf_ms, now + DAY);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("later", NULL, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "not active yet"));
    ck_assert_int_eq(cmk_clock_advance(fx.clock, DAY, &err), 0);
    ck_assert_int_eq(use_key("later", NULL, &err), 0);
    /* nonsense dates refused */
    p.exp_ms = p.nbf_ms - 1;
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "bad", (uint8_t *)g_pem_data, g_pem_len,
                                      NULL, &p, NULL, &err),
                     CMK_EINVAL);
}
END_TEST

START_TEST(test_delete_recover_purge)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki;

    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is deleted"));
    ck_assert_ptr_nonnull(strstr(err.msg, "cmkctl key recover contoso-kv cmk"));
    ck_assert_int_eq(use_key("cmk", NULL, &err), CMK_ESTATE);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), CMK_ESTATE);
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "cmk", NULL, NULL, &err), CMK_ESTATE);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, VAULT, "cmk", &err), CMK_ESTATE);
    ck_assert_int_eq(vault_key_purge(fx.svc, OWNER, VAULT, "cmk", &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "not deleted"));
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_purge(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), CMK_ENOENT);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "cmk", (uint8_t *)g_pem_data, g_pem_len,
                                      NULL, NULL, NULL, &err),
                     0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 1);
    ck_assert_int_eq(audit_n(OWNER, "key.purge", "ok"), 1);
}
END_TEST
START_TEST(test_purge_protection_and_auto_purge)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope", .retention_days = 7, .purge_protection = VAULT_ON};
    vault_key_info ki;

    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "pp-kv", &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, "pp-kv", "k", (uint8_t *)g_pem_data, g_pem_len,
                                      NULL, NULL, &ki, &err),
                     0);
    ck_assert_str_eq(ki.recovery_level, "CustomizedRecoverable");
    vault_key_info_clear(&ki);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, "pp-kv", "k", &err), 0);
    ck_assert_int_eq(vault_key_purge(fx.svc, OWNER, "pp-kv", "k", &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "purge protection"));
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 6 * DAY, &err), 0);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, "pp-kv", "k", &err), 0);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, "pp-kv", "k", &err), 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 6 * DAY, &err), 0);
    ck_assert_int_eq(audit_n("system", "key.purge", "ok"), 0);
    /* the retention ends on day 7 after the second delete: the timer purges it */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, DAY + 1, &err), 0);
    ck_assert_int_eq(audit_n("system", "key.purge", "ok"), 1);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, "pp-kv", "k", &err), CMK_ENOENT);
    /* in the default vault (90 days, no purge protection) nothing goes before 90 days */
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 89 * DAY, &err), 0);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, VAULT, "cmk", &err), 0);
}
END_TEST
START_TEST(test_key_in_vault_without_soft_delete)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope", .soft_delete = VAULT_OFF};

    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "nosd-kv", &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, "nosd-kv", "k", (uint8_t *)g_pem_data,
                                      g_pem_len, NULL, NULL, NULL, &err),
                     0);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, "nosd-kv", "k", &err), 0);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, "nosd-kv", "k", &err), CMK_ENOENT);
}
END_TEST
START_TEST(test_backup_restore)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};
    uint8_t *blob = NULL, dek[32], *w = NULL, *pl = NULL;
    size_t blen = 0, wl = 0, pll = 0;
    vault_key_info ki, v1;
    char kid[VAULT_KID_MAX];

    memset(dek, 0x11, sizeof dek);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &v1, &err), 0);
    ck_assert_int_eq(wrap("cmk", NULL, VAULT_ALG_RSA_OAEP, dek, 32, &w, &wl, kid, &err), 0);
    ck_assert_int_eq(vault_key_rotate(fx.svc, OWNER, VAULT, "cmk", NULL, &err), 0);
    ck_assert_int_eq(vault_key_backup(fx.svc, OWNER, VAULT, "cmk", &blob, &blen, &err), 0);
    ck_assert_int_gt(blen, 2000);
    /* the backup holds no plaintext key material */
    {
        char *der;
        size_t dl;
        ck_assert_int_eq(sh("openssl pkey -in %s -outform DER -out %s", g_pem, path("b.der")), 0);
        der = slurp(path("b.der"), &dl);
        ck_assert_ptr_null(memmem(blob, blen, der + dl / 2, 32));
        free(der);
    }
    /* the name is taken: refused */
    ck_assert_int_eq(vault_key_restore(fx.svc, OWNER, VAULT, blob, blen, &ki, &err), CMK_EEXIST);
    /* another vault of the same tenant: fine, same versions */
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "second-kv", &p, NULL, &err), 0);
    ck_assert_msg(vault_key_restore(fx.svc, OWNER, "second-kv", blob, blen, &ki, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(ki.name, "cmk");
    vault_key_info_clear(&ki);
    ck_assert_int_eq(nversions("second-kv", "cmk"), 2);
    ck_assert_int_eq(vault_key_unwrap(fx.svc, OWNER, "second-kv", "cmk", v1.version,
                                      VAULT_ALG_RSA_OAEP, w, wl, &pl, &pll, NULL, &err),
                     0);
    ck_assert_mem_eq(pl, dek, 32);
    vault_secret_free(&pl, pll);
    /* the same vault after delete + purge */
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_restore(fx.svc, OWNER, VAULT, blob, blen, &ki, &err), CMK_EEXIST);
    ck_assert_ptr_nonnull(strstr(err.msg, "deleted"));
    ck_assert_int_eq(vault_key_purge(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_restore(fx.svc, OWNER, VAULT, blob, blen, &ki, &err), 0);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(unwrap("cmk", v1.version, VAULT_ALG_RSA_OAEP, w, wl, &pl, &pll, &err), 0);
    vault_secret_free(&pl, pll);
    /* a vault of another tenant: refused */
    ck_assert_int_eq(vault_create(fx.svc, "zed", "tenant-b", "fabrikam-kv", &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_restore(fx.svc, "zed", "fabrikam-kv", blob, blen, &ki, &err),
                     CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "another tenant"));
    ck_assert_int_eq(audit_n("zed", "key.restore", "EPERM"), 1);
    /* a damaged backup */
    blob[blen - 5] ^= 1;
    ck_assert_int_eq(vault_key_restore(fx.svc, OWNER, "second-kv", blob, blen, &ki, &err),
                     CMK_ECRYPTO);
    ck_assert_int_eq(vault_key_restore(fx.svc, OWNER, "second-kv", blob, 10, &ki, &err),
                     CMK_EINVAL);
    free(blob);
    free(w);
    vault_key_info_clear(&v1);
}
END_TEST
START_TEST(test_rotation_policy_fires)
{
    cmk_err err = CMK_ERR_INIT;
    vault_rotation_policy pol, got;
    int64_t next = 0, t0;

    memset(&pol, 0, sizeof pol);
    ck_assert_int_eq(vault_iso_duration_parse("P90D", &pol.rotate_after_create_ms, &err), 0);
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), 0);
    ck_assert_int_eq(vault_key_policy_get(fx.svc, OWNER, VAULT, "cmk", &got, &next, &err), 0);
    ck_assert_int_eq(got.rotate_after_create_ms, 90 * DAY);
    t0 = cmk_clock_now(fx.clock);
    ck_assert_int_gt(next, t0 + 89 * DAY);
    ck_assert_int_le(next, t0 + 90 * DAY);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 89 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 1);
    ck_assert_int_eq(hooked.n, 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 2 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 2);
    ck_assert_int_eq(hooked.n, 1);
    ck_assert_str_eq(hooked.reason, "policy");
    ck_assert_str_eq(hooked.key, "cmk");
    ck_assert_int_eq(hooked.at, next); /* rotated at its due time on the clock */
    ck_assert_int_eq(audit_n("system", "key.rotate", "ok"), 1);
    /* the next one is 90 days after the new version; a long advance fires it in order */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 200 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 4);
    ck_assert_int_eq(hooked.n, 3);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
    /* removing the policy stops it */
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", NULL, &err), 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 200 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 4);
}
END_TEST
START_TEST(test_rotation_before_expiry)
{
    cmk_err err = CMK_ERR_INIT;
    vault_rotation_policy pol;
    vault_key_update u;
    vault_key_info ki;
    int64_t now = cmk_clock_now(fx.clock);

    memset(&u, 0, sizeof u);
    u.set_exp = 1;
    u.exp_ms = now + 60 * DAY;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", NULL, &u, NULL, &err), 0);
    memset(&pol, 0, sizeof pol);
    pol.rotate_before_expiry_ms = 30 * DAY;
    pol.expiry_ms = 60 * DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), 0);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 29 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 1);
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 2 * DAY, &err), 0);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 2);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), 0);
    ck_assert_int_eq(ki.exp_ms - ki.created_ms, 60 * DAY); /* the policy's expiry */
    vault_key_info_clear(&ki);
}
END_TEST
START_TEST(test_policy_validation)
{
    cmk_err err = CMK_ERR_INIT;
    vault_rotation_policy pol;

    memset(&pol, 0, sizeof pol);
    pol.rotate_after_create_ms = 90 * DAY;
    pol.rotate_before_expiry_ms = 30 * DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), CMK_EINVAL);
    pol.rotate_before_expiry_ms = 0;
    pol.rotate_after_create_ms = DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "P7D"));
    pol.rotate_after_create_ms = 90 * DAY;
    pol.expiry_ms = 10 * DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), CMK_EINVAL);
    pol.expiry_ms = 60 * DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "expire"));
    memset(&pol, 0, sizeof pol);
    pol.expiry_ms = 60 * DAY;
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "nokey", NULL, &err), CMK_ENOENT);
    ck_assert_int_eq(audit_n(OWNER, "key.policy_set", "EINVAL"), 5);
}
END_TEST
START_TEST(test_policy_resumes_after_restart)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};
    vault_rotation_policy pol = {.rotate_after_create_ms = 30 * DAY};
    const char *dbpath = path("resume.db");

    svc_close();
    unlink(dbpath);
    svc_open(dbpath);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "cmk", (uint8_t *)g_pem_data, g_pem_len,
                                      NULL, NULL, NULL, &err),
                     0);
    ck_assert_int_eq(vault_key_policy_set(fx.svc, OWNER, VAULT, "cmk", &pol, &err), 0);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_eq(vault_key_recover(fx.svc, OWNER, VAULT, "cmk", &err), 0);
    ck_assert_int_gt(cmk_clock_pending(fx.clock), 0);
    svc_close();
    /* destroy cancels the service's timers */
    ck_assert_int_eq(cmk_clock_pending(fx.clock), 0);
    /* 31 days pass while the controller is down */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 31 * DAY, &err), 0);
    svc_open(dbpath);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 1);
    ck_assert_int_eq(vault_svc_resume_timers(fx.svc, &err), 0);
    ck_assert_int_eq(cmk_clock_pending(fx.clock), 1);
    ck_assert_int_eq(cmk_clock_fire_due(fx.clock), 1);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 2);
    ck_assert_int_eq(hooked.n, 1);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
}
END_TEST
START_TEST(test_iso_durations)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t ms = 0;
    char buf[32];

    ck_assert_int_eq(vault_iso_duration_parse("P90D", &ms, &err), 0);
    ck_assert_int_eq(ms, 90 * DAY);
    ck_assert_int_eq(vault_iso_duration_parse("P1Y", &ms, &err), 0);
    ck_assert_int_eq(ms, 365 * DAY);
    ck_assert_int_eq(vault_iso_duration_parse("P2M", &ms, &err), 0);
    ck_assert_int_eq(ms, 60 * DAY);
    ck_assert_int_eq(vault_iso_duration_parse("P1W", &ms, &err), 0);
    ck_assert_int_eq(ms, 7 * DAY);
    ck_assert_int_eq(vault_iso_duration_parse("PT12H", &ms, &err), 0);
    ck_assert_int_eq(ms, 12 * 3600000);
    ck_assert_int_eq(vault_iso_duration_parse("P1DT6H30M15S", &ms, &err), 0);
    ck_assert_int_eq(ms, DAY + 6 * 3600000 + 30 * 60000 + 15000);
    ck_assert_int_eq(vault_iso_duration_parse("90d", &ms, &err), 0);
    ck_assert_int_eq(ms, 90 * DAY);
    ck_assert_int_eq(vault_iso_duration_parse("P", &ms, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_iso_duration_parse("P1H", &ms, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_iso_duration_parse("PXD", &ms, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_iso_duration_parse("", &ms, &err), CMK_EINVAL);
    ck_assert_str_eq(vault_iso_duration_format(90 * DAY, buf, sizeof buf), "P90D");
    ck_assert_str_eq(vault_iso_duration_format(DAY + 3600000, buf, sizeof buf), "P1DT1H");
    ck_assert_str_eq(vault_iso_duration_format(0, buf, sizeof buf), "PT0S");
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

int main(void)
{
    Suite *s = suite_create("vault_lifecycle");
    TCase *tc = tcase_create("lifecycle");
    SRunner *sr;
    cmk_err err = CMK_ERR_INIT;
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/vault_keys_test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    snprintf(g_pem, sizeof g_pem, "%s/k2048.pem", g_dir);
    if (sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null",
           g_pem) != 0 ||
        cmk_file_read(g_pem, &g_pem_data, &g_pem_len, &err) < 0) {
        fprintf(stderr, "vault_keys_test: cannot make a test key with openssl\n");
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        return 2;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_expiry_and_activation);
    tcase_add_test(tc, test_delete_recover_purge);
    tcase_add_test(tc, test_purge_protection_and_auto_purge);
    tcase_add_test(tc, test_key_in_vault_without_soft_delete);
    tcase_add_test(tc, test_backup_restore);
    tcase_add_test(tc, test_rotation_policy_fires);
    tcase_add_test(tc, test_rotation_before_expiry);
    tcase_add_test(tc, test_policy_validation);
    tcase_add_test(tc, test_policy_resumes_after_restart);
    tcase_add_test(tc, test_iso_durations);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_pem_data);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
