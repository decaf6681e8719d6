/*
 * tenantkey_env_test.c - environments under the legacy tenant key: only environments created
 * after the feature was turned on; apply needs an Active key and a confirmation, and is
 * refused for production environments from June 1, 2025 (one second before and after);
 * return to the Microsoft key (a production environment's name typed); restore / copy /
 * reset decisions (seed 003); migration to customer-managed keys (seed 004):
 * CustomerViaMicrosoft, no return for 7 days, the BYOK key kept 28 days, the tenant's keys
 * removed 28 days after the last BYOK environment migrated; locked environments.
 */
#include "tests/data/tenantkey/tenantkey_fixture.h"

#define US "unitedstates"

/* state_of - an environment's state */
static tenantkey_env_state state_of(const char *env)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, env, &st, &err), err);
    return st;
}

/* test_apply_only_after_enable - environments created before the feature cannot use it */
START_TEST(test_apply_only_after_enable)
{
    cmk_err err = CMK_ERR_INIT;
    char old[64];

    teardown();
    memset(&fx, 0, sizeof fx);
    tenantkey_config_defaults(&fx.cfg);
    fx_open(0);
    snprintf(old, sizeof old, "%s", new_env("Old", "sandbox", US));
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, old, 1, NULL, &err), err, CMK_ESTATE,
           "is not turned on for tenant 'contoso'");
    advance(SEC);
    ok(tenantkey_enable_byok(fx.tk, ADMIN, TENANT, &err), err);
    const char *fresh = new_env("New", "sandbox", US);
    active_a();
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, old, 1, NULL, &err), err, CMK_ESTATE,
           "before the self-managed encryption key feature was turned on for tenant 'contoso'");
    ck_assert_int_eq(state_of(old).eligible, 0);
    ck_assert_int_eq(state_of(fresh).eligible, 1);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, fresh, 1, NULL, &err), err);
}
END_TEST

/* test_apply_refusals - an Active key, confirmation, once */
START_TEST(test_apply_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    tenantkey_key_info a;
    const char *env = new_env("Contoso Dev", "sandbox", US);
    const char *eu = new_env("Contoso EU", "sandbox", "europe");

    expect(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err, CMK_ESTATE,
           "tenant 'contoso' has no active key in unitedstates");
    a = upload_ok("ka", "a.pfx", "pass-a");
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err, CMK_ESTATE,
           "key 'ka' is Installing until");
    advance_to(a.active_at_ms + SEC);
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, env, 0, NULL, &err), err, CMK_EINVAL,
           "means downtime for it: confirm");
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, &st, &err), err);
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_SELF_MANAGED);
    ck_assert_str_eq(st.managed_by, "Self-managed");
    ck_assert_str_eq(st.key, "ka");
    ck_assert_str_eq(st.key_fp, a.fingerprint);
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err, CMK_ESTATE,
           "is encrypted with the tenant key 'ka' already");
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, eu, 1, NULL, &err), err, CMK_ESTATE,
           "no active key in europe");
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, "env-nope", 1, NULL, &err), err, CMK_ENOENT,
           "no environment");
    ck_assert_int_eq(audit_count_of("tenantkey.apply", "ok"), 1);
}
END_TEST

/* test_production_cutoff - not to production environments since June 1, 2025 */
START_TEST(test_production_cutoff)
{
    cmk_err err = CMK_ERR_INIT;
    const char *p1, *p2, *sb;
    char prod2[64];

    active_a();
    p1 = new_env("Prod One", "production", US);
    snprintf(prod2, sizeof prod2, "%s", new_env("Prod Two", "production", US));
    p2 = prod2;
    sb = new_env("Sandbox", "sandbox", US);
    advance_to(CUTOFF_MS - SEC);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, p1, 1, NULL, &err), err);
    advance_to(CUTOFF_MS + SEC);
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, p2, 1, NULL, &err), err, CMK_ESTATE,
           "cannot be applied to production environments since June 1, 2025, and 'Prod Two' is "
           "a production environment");
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, sb, 1, NULL, &err), err);
}
END_TEST

/* test_return_to_microsoft - production needs the typed name */
START_TEST(test_return_to_microsoft)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    char prod[64];
    const char *sb;

    active_a();
    snprintf(prod, sizeof prod, "%s", new_env("Contoso Prod", "production", US));
    sb = new_env("Contoso Dev", "sandbox", US);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, prod, 1, NULL, &err), err);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, sb, 1, NULL, &err), err);
    ok(tenantkey_return_to_microsoft(fx.tk, ADMIN, sb, NULL, &st, &err), err);
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_MICROSOFT);
    ck_assert_str_eq(st.managed_by, "Microsoft");
    ck_assert_str_eq(st.key, "");
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, sb, NULL, NULL, &err), err, CMK_ESTATE,
           "on the Microsoft-managed key already");
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, prod, NULL, NULL, &err), err, CMK_EINVAL,
           "'Contoso Prod' is a production environment: confirm by entering the environment's "
           "name");
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, prod, "contoso prod", NULL, &err), err,
           CMK_EINVAL, "confirm by entering the environment's name");
    ok(tenantkey_return_to_microsoft(fx.tk, ADMIN, prod, "Contoso Prod", NULL, &err), err);
    ck_assert_int_eq(state_of(prod).mode, TENANTKEY_ENV_MICROSOFT);
}
END_TEST

/* test_migration_rules - seed 004 with the 7-day and 28-day periods */
START_TEST(test_migration_rules)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st, backup;
    tenantkey_key_info *keys = NULL;
    size_t n = 0;
    char e1[64], e2[64], ts[40];
    cJSON *status = NULL;
    int64_t m1, m2;

    active_a();
    snprintf(e1, sizeof e1, "%s", new_env("Contoso Dev", "sandbox", US));
    snprintf(e2, sizeof e2, "%s", new_env("Contoso Test", "sandbox", US));
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, e1, 1, NULL, &err), err);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, e2, 1, NULL, &err), err);
    backup = state_of(e1); /* a backup taken under BYOK */
    expect(tenantkey_migrated_to_cmk(fx.tk, ADMIN, e1, "", NULL, &err), err, CMK_EINVAL, "policy");
    ok(tenantkey_migrated_to_cmk(fx.tk, ADMIN, e1, "contoso-policy", &st, &err), err);
    m1 = st.migrated_ms;
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_CUSTOMER);
    ck_assert_str_eq(st.managed_by, "CustomerViaMicrosoft");
    ck_assert_str_eq(st.policy, "contoso-policy");
    ck_assert_int_eq(st.no_return_until_ms - st.migrated_ms, 7 * DAY);
    ck_assert_int_eq(st.key_retained_until_ms - st.migrated_ms, 28 * DAY);
    status = tenantkey_env_state_to_json(&st);
    ck_assert_str_eq(cmk_json_str(status, "managed_by", ""), "CustomerViaMicrosoft");
    ck_assert_str_eq(cmk_json_str(status, "key", ""), "ka");
    cJSON_Delete(status);
    expect(tenantkey_migrated_to_cmk(fx.tk, ADMIN, e1, "other", NULL, &err), err, CMK_EEXIST,
           "already");
    /* 7 days without return */
    advance_to(st.migrated_ms + 7 * DAY - SEC);
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, e1, NULL, NULL, &err), err, CMK_ESTATE,
           "cannot return to the Microsoft-managed key for 7 days after the migration");
    expect(tenantkey_cmk_return_check(fx.tk, ADMIN, e1, &err), err, CMK_ESTATE, "7 days");
    expect(tenantkey_left_cmk(fx.tk, ADMIN, e1, NULL, &err), err, CMK_ESTATE, "7 days");
    advance_to(st.migrated_ms + 7 * DAY + SEC);
    ok(tenantkey_cmk_return_check(fx.tk, ADMIN, e1, &err), err);
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, e1, NULL, NULL, &err), err, CMK_ESTATE,
           "remove it from the policy");
    /* e2 still uses BYOK: nothing is scheduled for removal yet */
    ok(tenantkey_status(fx.tk, ADMIN, TENANT, &status, &err), err);
    ck_assert_ptr_null(cJSON_GetObjectItem(status, "keys_removal_due"));
    cJSON_Delete(status);
    ok(tenantkey_migrated_to_cmk(fx.tk, ADMIN, e2, "contoso-policy", &st, &err), err);
    m2 = st.migrated_ms;
    ck_assert(m2 > 0);
    ok(tenantkey_status(fx.tk, ADMIN, TENANT, &status, &err), err);
    ck_assert_str_eq(cmk_json_str(status, "keys_removal_due", ""),
                     cmk_time_format(m2 + 28 * DAY, ts, sizeof ts));
    cJSON_Delete(status);
    /* the BYOK backup restores into the migrated environment while its key is kept */
    advance_to(m1 + 28 * DAY - SEC);
    ok(tenantkey_restore_allowed(&backup, NULL, (st = state_of(e1), &st), now(), &err), err);
    advance_to(m1 + 28 * DAY + SEC);
    expect(tenantkey_restore_allowed(&backup, NULL, &st, now(), &err), err, CMK_ESTATE,
           "kept only until");
    /* 28 days after the last BYOK environment migrated, the tenant's keys go */
    advance_to(m2 + 28 * DAY - SEC);
    ok(tenantkey_list(fx.tk, ADMIN, TENANT, &keys, &n, &err), err);
    ck_assert_int_eq(n, 1);
    tenantkey_key_infos_free(&keys);
    ck_assert_int_eq(fx.events[5], 0);
    advance_to(m2 + 28 * DAY + SEC);
    ck_assert_int_eq(fx.events[5], 1);
    expect(tenantkey_list(fx.tk, ADMIN, TENANT, &keys, &n, &err), err, CMK_ESTATE,
           "its BYOK keys were removed at");
    ck_assert_int_eq(audit_count_of("tenantkey.keys_removed", "ok"), 1);
    ok(tenantkey_left_cmk(fx.tk, ADMIN, e1, &st, &err), err);
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_MICROSOFT);
}
END_TEST

/* test_non_byok_migration - an environment never on BYOK has no 7-day rule */
START_TEST(test_non_byok_migration)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    const char *env = new_env("Plain", "sandbox", US);

    ok(tenantkey_migrated_to_cmk(fx.tk, ADMIN, env, "p1", &st, &err), err);
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_CUSTOMER);
    ck_assert_int_eq(st.no_return_until_ms, 0);
    ok(tenantkey_cmk_return_check(fx.tk, ADMIN, env, &err), err);
    active_a();
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err, CMK_ESTATE,
           "customer-managed key (policy 'p1'");
}
END_TEST

/* test_locked_environment_operations - no migration, restore, copy, reset of a locked env */
START_TEST(test_locked_environment_operations)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = active_a();
    tenantkey_env_state before, locked, other;
    char e1[64], e2[64], buf[128];
    size_t n;
    char *data;

    snprintf(e1, sizeof e1, "%s", new_env("Contoso Dev", "sandbox", US));
    snprintf(e2, sizeof e2, "%s", new_env("Contoso Test", "sandbox", US));
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, e1, 1, NULL, &err), err);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, e2, 1, NULL, &err), err);
    before = state_of(e1);
    advance_to(a.active_at_ms + 72 * HOUR + SEC);
    data = slurp(path("a.pfx"), &n);
    ok(tenantkey_lock(fx.tk, ADMIN, TENANT, (uint8_t *)data, n, "pass-a", TENANTKEY_FORMAT_PFX,
                      tenantkey_lock_confirmation_text(TENANT, US, buf, sizeof buf), &err),
       err);
    free(data);
    locked = state_of(e1);
    other = state_of(e2);
    ck_assert_int_eq(locked.mode, TENANTKEY_ENV_LOCKED);
    ck_assert_int_eq(locked.delete_at_ms - locked.locked_ms, 28 * DAY);
    expect(tenantkey_restore_allowed(&before, &locked, &locked, now(), &err), err, CMK_ESTATE,
           "locked environments can't be restored from backup");
    expect(tenantkey_copy_allowed(&other, &locked, &err), err, CMK_ESTATE, "is locked");
    expect(tenantkey_migrated_to_cmk(fx.tk, ADMIN, e1, "p", NULL, &err), err, CMK_ESTATE,
           "a locked environment cannot move to a customer-managed key");
    expect(tenantkey_env_reset(fx.tk, ADMIN, e1, NULL, &err), err, CMK_ESTATE,
           "a locked environment can't be reset");
    expect(tenantkey_apply_to_env(fx.tk, ADMIN, e1, 1, NULL, &err), err, CMK_ESTATE, "is locked");
    expect(tenantkey_return_to_microsoft(fx.tk, ADMIN, e1, NULL, NULL, &err), err, CMK_ESTATE,
           "is locked: unlock it before");
}
END_TEST

/* mk - a hand-made state */
static tenantkey_env_state mk(const char *env, tenantkey_env_mode mode, const char *fp)
{
    tenantkey_env_state s;
    memset(&s, 0, sizeof s);
    snprintf(s.env, sizeof s.env, "%s", env);
    snprintf(s.name, sizeof s.name, "%s name", env);
    s.mode = mode;
    snprintf(s.key, sizeof s.key, "%s", fp ? "key-of-" : "");
    snprintf(s.key_fp, sizeof s.key_fp, "%s", fp ? fp : "");
    return s;
}

/* test_restore_rules - seed 003's restore rules as a pure decision */
START_TEST(test_restore_rules)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state mmk_a = mk("A", TENANTKEY_ENV_MICROSOFT, NULL);
    tenantkey_env_state byok_a = mk("A", TENANTKEY_ENV_SELF_MANAGED, "k1");
    tenantkey_env_state byok_b = mk("B", TENANTKEY_ENV_SELF_MANAGED, "k1");
    tenantkey_env_state byok_c = mk("C", TENANTKEY_ENV_SELF_MANAGED, "k2");
    tenantkey_env_state mmk_d = mk("D", TENANTKEY_ENV_MICROSOFT, NULL);
    tenantkey_env_state byok_d = mk("D", TENANTKEY_ENV_SELF_MANAGED, "k1");

    /* same environment, same state */
    ok(tenantkey_restore_allowed(&byok_a, &byok_a, &byok_a, 0, &err), err);
    ok(tenantkey_restore_allowed(&mmk_a, &mmk_a, &mmk_a, 0, &err), err);
    /* a Microsoft-key backup into an environment now on the customer key */
    expect(tenantkey_restore_allowed(&mmk_a, &byok_a, &byok_a, 0, &err), err, CMK_ESTATE,
           "a past backup taken when the environment was encrypted with the Microsoft-managed "
           "key can't be restored to an environment that is currently encrypted with the "
           "customer-managed key");
    /* a customer-key backup into an environment now on the Microsoft key */
    expect(tenantkey_restore_allowed(&byok_a, &mmk_a, &mmk_a, 0, &err), err, CMK_ESTATE,
           "matches the state when the backup was taken");
    /* another environment: only under the same customer-managed key */
    ok(tenantkey_restore_allowed(&byok_a, &byok_a, &byok_b, 0, &err), err);
    expect(tenantkey_restore_allowed(&byok_a, &byok_a, &byok_c, 0, &err), err, CMK_ESTATE,
           "to another environment encrypted with the same customer-managed key");
    expect(tenantkey_restore_allowed(&byok_a, &byok_a, &mmk_d, 0, &err), err, CMK_ESTATE,
           "matches the state");
    ok(tenantkey_restore_allowed(&byok_a, NULL, &byok_d, 0, &err), err); /* source deleted */
    ok(tenantkey_restore_allowed(&mmk_a, &mmk_a, &mmk_d, 0, &err), err);
    expect(tenantkey_restore_allowed(NULL, NULL, &mmk_d, 0, &err), err, CMK_EINVAL, "restore");
}
END_TEST

/* test_copy_and_reset_rules - copy only under the same key; reset reverts */
START_TEST(test_copy_and_reset_rules)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state a = mk("A", TENANTKEY_ENV_SELF_MANAGED, "k1");
    tenantkey_env_state b = mk("B", TENANTKEY_ENV_SELF_MANAGED, "k1");
    tenantkey_env_state c = mk("C", TENANTKEY_ENV_SELF_MANAGED, "k2");
    tenantkey_env_state m = mk("M", TENANTKEY_ENV_MICROSOFT, NULL);
    tenantkey_env_state n = mk("N", TENANTKEY_ENV_MICROSOFT, NULL);
    tenantkey_env_state after;
    int del = 0;

    ok(tenantkey_copy_allowed(&a, &b, &err), err);
    expect(tenantkey_copy_allowed(&a, &c, &err), err, CMK_ESTATE,
           "the environment to overwrite is restricted to another environment encrypted with "
           "the same customer-managed key");
    expect(tenantkey_copy_allowed(&a, &m, &err), err, CMK_ESTATE, "same customer-managed key");
    expect(tenantkey_copy_allowed(&m, &a, &err), err, CMK_ESTATE, "same customer-managed key");
    ok(tenantkey_copy_allowed(&m, &n, &err), err);
    expect(tenantkey_copy_allowed(&a, &a, &err), err, CMK_EINVAL, "two different");
    ok(tenantkey_reset_outcome(&a, &after, &del, &err), err);
    ck_assert_int_eq(after.mode, TENANTKEY_ENV_MICROSOFT);
    ck_assert_str_eq(after.key, "");
    ck_assert_int_eq(del, 1);
}
END_TEST

/* test_reset_reverts - a reset puts the environment back on the Microsoft key */
START_TEST(test_reset_reverts)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    const char *env;

    active_a();
    env = new_env("Contoso Dev", "sandbox", US);
    ok(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, NULL, &err), err);
    ok(tenantkey_env_reset(fx.tk, ADMIN, env, &st, &err), err);
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_MICROSOFT);
    ck_assert_int_eq(state_of(env).mode, TENANTKEY_ENV_MICROSOFT);
    ck_assert_int_eq(audit_count_of("tenantkey.reset", "ok"), 1);
}
END_TEST

/* main - make the test keys, run the suite; non-zero on failure */
int main(void)
{
    Suite *s = suite_create("tenantkey_env");
    TCase *tc = tcase_create("env");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_apply_only_after_enable);
    tcase_add_test(tc, test_apply_refusals);
    tcase_add_test(tc, test_production_cutoff);
    tcase_add_test(tc, test_return_to_microsoft);
    tcase_add_test(tc, test_migration_rules);
    tcase_add_test(tc, test_non_byok_migration);
    tcase_add_test(tc, test_locked_environment_operations);
    tcase_add_test(tc, test_restore_rules);
    tcase_add_test(tc, test_copy_and_reset_rules);
    tcase_add_test(tc, test_reset_reverts);
    suite_add_tcase(s, tc);
    return fixture_run(s, "tenantkey_env_test");
}
