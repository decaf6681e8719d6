/*
 * keyring_test.c - DEKs wrapped by the Microsoft-managed key or a vault key: ensure, unwrap,
 * persistence, re-wrap without changing the DEK, the MMK purpose, and who may have which key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring.h"
#include "store.h"
#include "util.h"

static char dir[64];
static sqlite3 *db;
static cmk_clock *clk;

static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    char keys[128];
    strcpy(dir, "/tmp/keyring-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(keys, sizeof keys, "%s/keys", dir);
    mkdir(keys, 0700);
    ck_assert_int_eq(store_open(dir, &db, &err), 0);
    clk = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
}

static void teardown(void)
{
    char cmd[128];
    store_close(&db);
    cmk_clock_destroy(&clk);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_mmk_ensure_unwrap_persist)
{
    cmk_err err = CMK_ERR_INIT;
    keyring *kr = keyring_new(db, clk, dir, NULL, &err);
    char id1[33], id2[33], path[128];
    uint8_t id[CMK_DEK_ID_LEN], k1[CMK_DEK_KEY_LEN], k2[CMK_DEK_KEY_LEN];
    struct stat st;
    cJSON *list;

    ck_assert_msg(kr != NULL, "%s", err.msg);
    ck_assert_int_eq(keyring_ensure(kr, "env-a", "data", NULL, id1, &err), 0);
    ck_assert_int_eq(keyring_ensure(kr, "env-a", "data", NULL, id2, &err), 0);
    ck_assert_str_eq(id1, id2); /* one active DEK per purpose */
    ck_assert_int_eq(keyring_unwrap(kr, "env-a", "data", id, k1, &err), 0);
    ck_assert_int_eq(keyring_unwrap(kr, "env-b", "data", id, k2, &err), CMK_ENOENT);
    ck_assert_int_eq(keyring_ensure(kr, "env-a", "secrets", NULL, NULL, &err), CMK_EINVAL);
    snprintf(path, sizeof path, "%s/keys/microsoft-managed.key", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    keyring_destroy(&kr);
    ck_assert_ptr_null(kr);
    /* reopened: same MMK from the file, same DEK */
    kr = keyring_new(db, clk, dir, NULL, &err);
    ck_assert_int_eq(keyring_unwrap(kr, "env-a", "data", id, k2, &err), 0);
    ck_assert_mem_eq(k1, k2, sizeof k1);
    ck_assert_int_eq(keyring_list(kr, "env-a", &list, &err), 0);
    ck_assert_int_eq(cJSON_GetArraySize(list), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "kek")->valuestring, "microsoft-managed");
    cJSON_Delete(list);
    /* the database holds no plaintext DEK */
    {
        char *raw;
        size_t len;
        snprintf(path, sizeof path, "%s/controller.db", dir);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(FULL)", NULL, NULL, NULL);
        ck_assert_int_eq(cmk_file_read(path, &raw, &len, &err), 0);
        ck_assert_ptr_null(memmem(raw, len, k1, sizeof k1));
        free(raw);
    }
    keyring_destroy(&kr);
}
END_TEST

START_TEST(test_vault_kek_and_rewrap)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t mk[VAULT_MASTER_KEY_LEN] = { 1, 2, 3 };
    vault_svc *v = vault_svc_new(db, clk, NULL, mk, NULL, &err);
    keyring *kr;
    vault_props props = { .region = "unitedstates" };
    vault_key_params kp = { 0 };
    keyring_kek kek = { "vault", "kv1", "cmk", NULL, "pp-identity" };
    uint8_t id[CMK_DEK_ID_LEN], before[CMK_DEK_KEY_LEN], after[CMK_DEK_KEY_LEN], id2[CMK_DEK_ID_LEN];
    int n;
    cJSON *list;

    ck_assert_msg(v != NULL, "%s", err.msg);
    kr = keyring_new(db, clk, dir, v, &err);
    ck_assert_int_eq(vault_create(v, "admin", "contoso", "kv1", &props, NULL, &err), 0);
    ck_assert_int_eq(vault_key_create(v, "admin", "kv1", "cmk", &kp, NULL, &err), 0);
    /* the policy identity has no access yet: wrapping fails and says which permission */
    ck_assert_int_eq(keyring_ensure(kr, "env-c", "cmk", &kek, NULL, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrapKey"));
    ck_assert_int_eq(vault_access_grant(v, "admin", "kv1", "pp-identity",
                                        VAULT_PERM_GET | VAULT_PERM_WRAP_KEY | VAULT_PERM_UNWRAP_KEY, &err), 0);
    /* the dedicated partition's key is wrapped by the customer key; a rotation re-wraps it: same DEK */
    ck_assert_int_eq(keyring_ensure(kr, "env-c", "cmk", &kek, NULL, &err), 0);
    ck_assert_int_eq(keyring_unwrap(kr, "env-c", "cmk", id, before, &err), 0);
    ck_assert_int_eq(keyring_rewrap(kr, "env-c", "cmk", &kek, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(keyring_unwrap(kr, "env-c", "cmk", id2, after, &err), 0);
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert_mem_eq(id, id2, sizeof id);
    {
        /* which version wraps it: the current one, then (re-wrapped) the rotated-to one or a
         * named one; the Microsoft-managed key reads as "" */
        vault_key_info v1, v2;
        char ver[VAULT_VERSION_MAX];
        keyring_kek old = kek;
        ck_assert_int_eq(vault_key_get(v, "admin", "kv1", "cmk", NULL, &v1, &err), 0);
        ck_assert_int_eq(keyring_kek_version(kr, "env-c", "cmk", ver, sizeof ver, &err), 0);
        ck_assert_str_eq(ver, v1.version);
        ck_assert_int_eq(vault_key_rotate(v, "admin", "kv1", "cmk", &v2, &err), 0);
        ck_assert_str_ne(v1.version, v2.version);
        ck_assert_int_eq(keyring_kek_version(kr, "env-c", "cmk", ver, sizeof ver, &err), 0);
        ck_assert_str_eq(ver, v1.version); /* a rotation alone does not re-wrap */
        ck_assert_int_eq(keyring_rewrap(kr, "env-c", "cmk", &kek, &n, &err), 0);
        ck_assert_int_eq(keyring_kek_version(kr, "env-c", "cmk", ver, sizeof ver, &err), 0);
        ck_assert_str_eq(ver, v2.version);
        old.version = v1.version;
        ck_assert_int_eq(keyring_rewrap(kr, "env-c", "cmk", &old, &n, &err), 0);
        ck_assert_int_eq(keyring_kek_version(kr, "env-c", "cmk", ver, sizeof ver, &err), 0);
        ck_assert_str_eq(ver, v1.version);
        ck_assert_int_eq(keyring_unwrap(kr, "env-c", "cmk", id2, after, &err), 0);
        ck_assert_mem_eq(before, after, sizeof before);
        ck_assert_int_eq(keyring_kek_version(kr, "env-none", "cmk", ver, sizeof ver, &err), CMK_ENOENT);
        vault_key_info_clear(&v1);
        vault_key_info_clear(&v2);
    }
    ck_assert_int_eq(keyring_list(kr, "env-c", &list, &err), 0);
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "kek")->valuestring, "kv1/cmk/"));
    cJSON_Delete(list);
    /* "mmk" and "data" stay under the Microsoft-managed key even with a customer KEK given */
    ck_assert_int_eq(keyring_ensure(kr, "env-c", "mmk", &kek, NULL, &err), 0);
    ck_assert_int_eq(keyring_ensure(kr, "env-c", "data", &kek, NULL, &err), 0);
    ck_assert_int_eq(keyring_list(kr, "env-c", &list, &err), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "kek")->valuestring, "microsoft-managed");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 2), "kek")->valuestring, "microsoft-managed");
    cJSON_Delete(list);
    {
        char ver[VAULT_VERSION_MAX] = "x";
        ck_assert_int_eq(keyring_kek_version(kr, "env-c", "data", ver, sizeof ver, &err), 0);
        ck_assert_str_eq(ver, "");
    }
    /* revoking unwrapKey makes the customer-managed DEK unreachable, not the MMK ones */
    ck_assert_int_eq(vault_access_revoke(v, "admin", "kv1", "pp-identity", VAULT_PERM_UNWRAP_KEY, &err), 0);
    ck_assert_int_eq(keyring_unwrap(kr, "env-c", "cmk", id2, after, &err), CMK_EPERM);
    ck_assert_int_eq(keyring_unwrap(kr, "env-c", "data", id2, after, &err), 0);
    ck_assert_int_eq(keyring_forget_env(kr, "env-c", &err), 0);
    ck_assert_int_eq(keyring_unwrap(kr, "env-c", "mmk", id2, after, &err), CMK_ENOENT);
    keyring_destroy(&kr);
    vault_svc_destroy(&v);
}
END_TEST

START_TEST(test_authorize)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *shared = cJSON_Parse("{\"name\":\"worker-shared\",\"role\":\"worker\",\"envs\":[\"*\"]}");
    cJSON *ded = cJSON_Parse("{\"name\":\"worker-env-a\",\"role\":\"worker\",\"envs\":[\"env-a\"]}");
    cJSON *gw = cJSON_Parse("{\"name\":\"gateway\",\"role\":\"gateway\",\"envs\":[]}");

    ck_assert_int_eq(keyring_authorize(shared, "env-x", "microsoft", "data", &err), 0);
    /* flows that stay on the Microsoft-managed key after CMK: the shared worker keeps them */
    ck_assert_int_eq(keyring_authorize(shared, "env-a", "customer", "data", &err), 0);
    ck_assert_int_eq(keyring_authorize(shared, "env-a", "customer", "cmk", &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "only its dedicated worker"));
    ck_assert_int_eq(keyring_authorize(ded, "env-a", "customer", "cmk", &err), 0);
    ck_assert_int_eq(keyring_authorize(ded, "env-a", "customer", "mmk", &err), 0);
    ck_assert_int_eq(keyring_authorize(ded, "env-a", "microsoft", "cmk", &err), CMK_EPERM);
    ck_assert_int_eq(keyring_authorize(ded, "env-b", "customer", "cmk", &err), CMK_EPERM);
    ck_assert_int_eq(keyring_authorize(ded, "env-b", "customer", "data", &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not serve environment env-b"));
    ck_assert_int_eq(keyring_authorize(ded, "env-b", "microsoft", "data", &err), CMK_EPERM);
    ck_assert_int_eq(keyring_authorize(gw, "env-a", "microsoft", "data", &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "only workers"));
    ck_assert_int_eq(keyring_authorize(NULL, "env-a", "microsoft", "data", &err), CMK_EPERM);
    cJSON_Delete(shared);
    cJSON_Delete(ded);
    cJSON_Delete(gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keyring");
    TCase *tc = tcase_create("keyring");
    SRunner *sr;
    int failed;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mmk_ensure_unwrap_persist);
    tcase_add_test(tc, test_vault_kek_and_rewrap);
    tcase_add_test(tc, test_authorize);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
