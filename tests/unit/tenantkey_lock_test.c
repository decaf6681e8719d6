/*
 * tenantkey_lock_test.c - locking and unlocking under the legacy tenant key (seed 003): the
 * 72-hour guard after a key change or activation, the active key with its password and the
 * confirmation text, locking every environment on the active key, Active and Available keys
 * deleted, no generate/upload/activation while anything is locked, unlocking refused during
 * the lock process and for an hour after the lock, unlocking only with the same key (a .pfx or
 * .byok of it), Installing then Active, each environment unlocked on its own, locked
 * environments deleted after 28 days (also across a restart) - each time at one second
 * before and after.
 */
#include "tests/data/tenantkey/tenantkey_fixture.h"

#include "controller/vault/vault.h"

#define US "unitedstates"

/* confirm_text - the text to type for the region */
static const char *confirm_text(const char *region)
{
    static char buf[128];
    return tenantkey_lock_confirmation_text(TENANT, region, buf, sizeof buf);
}

/* lock_with - lock with a fixture key file (.pfx) */
static int lock_with(const char *file, const char *password, const char *confirmation, cmk_err *err)
{
    size_t n;
    char *data = slurp(path(file), &n);
    int rc = tenantkey_lock(fx.tk, ADMIN, TENANT, (uint8_t *)data, n, password,
                            TENANTKEY_FORMAT_PFX, confirmation, err);
    free(data);
    return rc;
}

/* unlock_with - upload a fixture key file to unlock */
static int unlock_with(const char *file, const char *password, tenantkey_format fmt,
                       tenantkey_key_info *out, cmk_err *err)
{
    size_t n;
    char *data = slurp(path(file), &n);
    int rc =
        tenantkey_unlock_key(fx.tk, ADMIN, TENANT, (uint8_t *)data, n, password, fmt, out, err);
    free(data);
    return rc;
}

/* apply - put an environment on the tenant key */
static void apply(const char *env)
{
    cmk_err err = CMK_ERR_INIT;
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err);
}

/* locked_setup - ka Active, two environments on it, locked once the guard is over; *lock_ms
 * gets the lock time */
static void locked_setup(char env1[64], char env2[64], int64_t *lock_ms)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = active_a();
    tenantkey_env_state st;

    snprintf(env1, 64, "%s", new_env("Contoso Dev", "sandbox", US));
    snprintf(env2, 64, "%s", new_env("Contoso Test", "sandbox", US));
    apply(env1);
    apply(env2);
    advance_to(a.active_at_ms + 72 * HOUR + SEC);
    ok(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err);
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, env1, &st, &err), err);
    *lock_ms = st.locked_ms;
    ck_assert(*lock_ms > 0);
}

/* test_lock_guard_and_effects - 72 hours after a change; what the lock does */
START_TEST(test_lock_guard_and_effects)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = active_a(), b;
    const char *e1 = new_env("Contoso Dev", "sandbox", US);
    const char *e2 = new_env("Contoso Test", "sandbox", US);
    const char *e3 = new_env("Contoso Other", "sandbox", US);
    char ts[40], want[160];

    apply(e1);
    apply(e2);
    /* the key became Active at a.active_at_ms */
    advance_to(a.active_at_ms + 72 * HOUR - SEC);
    cmk_time_format(a.active_at_ms + 72 * HOUR, ts, sizeof ts);
    snprintf(want, sizeof want, "(key 'ka' became Active at ");
    expect(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err, CMK_ESTATE,
           "you can't lock environments for 72 hours after an encryption key change or "
           "activation");
    ck_assert_ptr_nonnull(strstr(err.msg, want));
    ck_assert_ptr_nonnull(strstr(err.msg, ts));
    /* a new key is a key change too: the guard starts again */
    advance_to(a.active_at_ms + 72 * HOUR + SEC);
    b = upload_ok("kb", "b.pfx", "pass-b");
    advance_to(b.created_ms + 72 * HOUR - SEC);
    expect(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err, CMK_ESTATE,
           "(key 'kb' was uploaded at ");
    advance_to(b.created_ms + 72 * HOUR + SEC);
    expect(lock_with("a.pfx", "pass-a", "lock", &err), err, CMK_EINVAL,
           "enter exactly: lock all environments of contoso in unitedstates");
    ok(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err);
    /* every environment on the active key is locked, the others are not */
    ck_assert_int_eq(env_mode(e1), TENANTKEY_ENV_LOCKED);
    ck_assert_int_eq(env_mode(e2), TENANTKEY_ENV_LOCKED);
    ck_assert_str_eq(dir_state(e1), "Locked");
    ck_assert_str_eq(dir_state(e2), "Locked");
    ck_assert_int_eq(env_mode(e3), TENANTKEY_ENV_MICROSOFT);
    ck_assert_str_eq(dir_state(e3), "Ready");
    ck_assert_int_eq(fx.events[1], 2);
    /* the Active key is Locked, the Available one deleted */
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_LOCKED);
    ck_assert_int_eq(key_state("kb"), 0);
    ck_assert_int_eq(count_state(TENANTKEY_KEY_ACTIVE) + count_state(TENANTKEY_KEY_AVAILABLE), 0);
    ck_assert_int_eq(audit_count_of("tenantkey.lock", "ok"), 1);
    ck_assert_int_eq(audit_count_of("tenantkey.lock", "ESTATE"), 2);
}
END_TEST

/* test_lock_refusals - the active key, its password */
START_TEST(test_lock_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a;

    expect(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err, CMK_ESTATE,
           "a lock needs the tenant's Active key, and tenant 'contoso' has no Active key");
    a = active_a();
    advance_to(a.active_at_ms + 72 * HOUR + SEC);
    expect(lock_with("b.pfx", "pass-b", confirm_text(US), &err), err, CMK_EPERM,
           "the uploaded key is not the Active key of tenant 'contoso' (key 'ka'");
    expect(lock_with("a.pfx", "wrong", confirm_text(US), &err), err, CMK_EINVAL,
           "the password does not open this .pfx file");
    expect(lock_with("a.pfx", NULL, confirm_text(US), &err), err, CMK_EINVAL,
           "must be password protected");
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
}
END_TEST

/* test_unlock_flow - timing, same key, Installing then Active, one environment at a time */
START_TEST(test_unlock_flow)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    char e1[64], e2[64];
    uint8_t *pfx = NULL;
    size_t len = 0;
    int64_t lock;

    locked_setup(e1, e2, &lock);
    expect(tenantkey_unlock_env(fx.tk, ADMIN, e1, NULL, &err), err, CMK_ESTATE,
           "stays locked until the key that locked it ('ka') is uploaded again");
    advance_to(lock + HOUR - SEC);
    expect(unlock_with("a.pfx", "pass-a", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_ESTATE,
           "the lock process can take up to one hour and during this time unlocking locked "
           "environments isn't allowed");
    expect(upload("kb", US, "b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_ESTATE,
           "you can't generate a new or upload an existing key until all locked environments "
           "are unlocked");
    expect(tenantkey_generate(fx.tk, ADMIN, TENANT, US, "kg", "pw", &pfx, &len, NULL, &err), err,
           CMK_ESTATE, "until all locked environments are unlocked (locked: environment 'Contoso");
    advance_to(lock + HOUR + SEC);
    expect(unlock_with("b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_EPERM,
           "this is not the key that locked tenant 'contoso'");
    expect(unlock_with("a.pfx", "nope", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_EINVAL,
           "the password does not open this .pfx file");
    ok(unlock_with("a.pfx", "pass-a", TENANTKEY_FORMAT_PFX, &k, &err), err);
    ck_assert_int_eq(k.state, TENANTKEY_KEY_INSTALLING);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_INSTALLING);
    advance_to(k.active_at_ms - SEC);
    expect(tenantkey_unlock_env(fx.tk, ADMIN, e1, NULL, &err), err, CMK_ESTATE,
           "you must wait until the key is in an Active state before you can unlock locked "
           "environments");
    advance_to(k.active_at_ms + SEC);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
    /* environments are not unlocked by themselves */
    ck_assert_int_eq(env_mode(e1), TENANTKEY_ENV_LOCKED);
    ok(tenantkey_unlock_env(fx.tk, ADMIN, e1, NULL, &err), err);
    ck_assert_int_eq(env_mode(e1), TENANTKEY_ENV_SELF_MANAGED);
    ck_assert_str_eq(dir_state(e1), "Ready");
    ck_assert_int_eq(env_mode(e2), TENANTKEY_ENV_LOCKED);
    expect(upload("kb", US, "b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_ESTATE,
           "until all locked environments are unlocked");
    ok(tenantkey_unlock_env(fx.tk, ADMIN, e2, NULL, &err), err);
    expect(tenantkey_unlock_env(fx.tk, ADMIN, e2, NULL, &err), err, CMK_ESTATE, "is not locked");
    ok(upload("kb", US, "b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, NULL, &err), err);
    ck_assert_int_eq(fx.events[2], 2);
}
END_TEST

/* test_lock_process_and_wait - separate durations: lock process 30 min, unlock wait 1 h */
START_TEST(test_lock_process_and_wait)
{
    cmk_err err = CMK_ERR_INIT;
    char e1[64], e2[64], ts[40];
    int64_t lock;

    teardown();
    memset(&fx, 0, sizeof fx);
    tenantkey_config_defaults(&fx.cfg);
    fx.cfg.lock_duration_ms = 30 * MINUTE;
    fx_open(1);
    locked_setup(e1, e2, &lock);
    advance_to(lock + 30 * MINUTE - SEC);
    expect(unlock_with("a.pfx", "pass-a", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_ESTATE,
           "the lock process can take up to 30 minutes");
    ck_assert_int_eq(audit_count_of("tenantkey.lock_completed", "ok"), 0);
    advance_to(lock + 30 * MINUTE + SEC);
    ck_assert_int_eq(audit_count_of("tenantkey.lock_completed", "ok"), 1);
    advance_to(lock + HOUR - SEC);
    cmk_time_format(lock + HOUR, ts, sizeof ts);
    expect(unlock_with("a.pfx", "pass-a", TENANTKEY_FORMAT_PFX, NULL, &err), err, CMK_ESTATE,
           "you must wait at least one hour after you lock active environments before you can "
           "unlock them; unlocking is allowed from");
    ck_assert_ptr_nonnull(strstr(err.msg, ts));
    advance_to(lock + HOUR + SEC);
    ok(unlock_with("a.pfx", "pass-a", TENANTKEY_FORMAT_PFX, NULL, &err), err);
}
END_TEST

/* test_locked_envs_deleted_after_28_days - and the Locked key with them */
START_TEST(test_locked_envs_deleted_after_28_days)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    char e1[64], e2[64];
    cJSON *j = NULL;
    int64_t lock;

    locked_setup(e1, e2, &lock);
    advance_to(lock + 28 * DAY - SEC);
    ck_assert_str_eq(dir_state(e1), "Locked");
    ck_assert_str_eq(dir_state(e2), "Locked");
    advance_to(lock + 28 * DAY + SEC);
    expect(directory_env_get(fx.dir, e1, &j, &err), err, CMK_ENOENT, "no environment");
    expect(directory_env_get(fx.dir, e2, &j, &err), err, CMK_ENOENT, "no environment");
    ck_assert_int_eq(audit_count_of("tenantkey.env_deleted", "ok"), 2);
    ck_assert_int_eq(fx.events[3], 2);
    ck_assert_int_eq(key_state("ka"), 0); /* nothing is left to unlock */
    ok(upload("kb", US, "b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, &k, &err), err);
    ck_assert_int_eq(k.state, TENANTKEY_KEY_INSTALLING); /* the region's first key again */
}
END_TEST

/* test_deletion_after_restart - the 28 days run while the controller is down */
START_TEST(test_deletion_after_restart)
{
    cmk_err err = CMK_ERR_INIT;
    char e1[64], e2[64];
    int64_t lock;

    locked_setup(e1, e2, &lock);
    tenantkey_svc_destroy(&fx.tk);
    advance_to(lock + 28 * DAY + HOUR);
    ck_assert_str_eq(dir_state(e1), "Locked");
    fx_open_svc();
    ok(tenantkey_svc_resume(fx.tk, &err), err);
    ck_assert_str_eq(dir_state(e1), "");
    ck_assert_str_eq(dir_state(e2), "");
}
END_TEST

/* test_no_activation_while_locked - another region's key cannot be activated either */
START_TEST(test_no_activation_while_locked)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info eu;
    char e1[64], e2[64];
    int64_t lock;

    ok(upload("ke", "europe", "c.pfx", "pass-c", TENANTKEY_FORMAT_PFX, &eu, &err), err);
    ok(upload("kb", "europe", "b.pfx", "pass-b", TENANTKEY_FORMAT_PFX, NULL, &err), err);
    locked_setup(e1, e2, &lock);
    ck_assert_int_eq(key_state("ke"), TENANTKEY_KEY_ACTIVE);
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", NULL, &err), err, CMK_ESTATE,
           "the active key can't be updated when there are locked environments");
}
END_TEST

/* test_lock_while_installing - no lock while a key is being activated */
START_TEST(test_lock_while_installing)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info b;

    teardown();
    memset(&fx, 0, sizeof fx);
    tenantkey_config_defaults(&fx.cfg);
    fx.cfg.lock_guard_ms = 0;
    fx.cfg.activation_gap_ms = 0;
    fx_open(1);
    active_a();
    upload_ok("kb", "b.pfx", "pass-b");
    ok(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", &b, &err), err);
    expect(lock_with("a.pfx", "pass-a", confirm_text(US), &err), err, CMK_ESTATE,
           "key 'kb' is being activated in unitedstates until");
    advance_to(b.active_at_ms + SEC);
    ok(lock_with("b.pfx", "pass-b", confirm_text(US), &err), err);
    ck_assert_int_eq(key_state("kb"), TENANTKEY_KEY_LOCKED);
    ck_assert_int_eq(key_state("ka"), 0);
}
END_TEST

/* test_byok_key_locks_and_unlocks - the same key as .byok and .pfx */
START_TEST(test_byok_key_locks_and_unlocks)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    char kid[TENANTKEY_KID_MAX], *pem = NULL, *json = NULL, *key;
    size_t n;

    ok(tenantkey_kek_public_pem(fx.tk, ADMIN, TENANT, US, &pem, kid, &err), err);
    key = slurp(path("c.key"), &n);
    ok(vault_byok_export(kid, pem, (uint8_t *)key, n, NULL, &json, &err), err);
    spit(path("c-lock.byok"), json, strlen(json));
    free(json);
    free(key);
    free(pem);
    ok(upload("kc", US, "c-lock.byok", NULL, TENANTKEY_FORMAT_BYOK, &k, &err), err);
    advance_to(k.active_at_ms + 72 * HOUR + SEC);
    ok(lock_with("c.pfx", "pass-c", confirm_text(US), &err), err); /* same modulus */
    advance(HOUR + SEC);
    ok(unlock_with("c-lock.byok", NULL, TENANTKEY_FORMAT_BYOK, &k, &err), err);
    advance_to(k.active_at_ms + SEC);
    ck_assert_int_eq(key_state("kc"), TENANTKEY_KEY_ACTIVE);
}
END_TEST

/* main - make the test keys, run the suite; non-zero on failure */
int main(void)
{
    Suite *s = suite_create("tenantkey_lock");
    TCase *tc = tcase_create("lock");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lock_guard_and_effects);
    tcase_add_test(tc, test_lock_refusals);
    tcase_add_test(tc, test_unlock_flow);
    tcase_add_test(tc, test_lock_process_and_wait);
    tcase_add_test(tc, test_locked_envs_deleted_after_28_days);
    tcase_add_test(tc, test_deletion_after_restart);
    tcase_add_test(tc, test_no_activation_while_locked);
    tcase_add_test(tc, test_lock_while_installing);
    tcase_add_test(tc, test_byok_key_locks_and_unlocks);
    suite_add_tcase(s, tc);
    return fixture_run(s, "tenantkey_lock_test");
}
