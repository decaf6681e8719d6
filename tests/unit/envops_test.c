/*
 * envops_test.c - Check suite for the pure parts of environment backups (controller/envops/envops.h):
 * the sealed backup file (round trip; a flipped byte, another key, another environment or
 * backup id, a bad header are refused; no plaintext in the file), the RFC 5649 wrap of a
 * backup's data key, the encryption state kept with a backup (JSON round trip), the overlay of
 * the enterprise-policy view, the sandbox-only reset, and the worker's partition_clear (every
 * flow and run deleted in one commit) that restore, copy and reset use.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envops.h"
#include "util.h"
#include "worker/partition.h"

#define PLAIN "{\"flows\":[{\"id\":\"greet\",\"name\":\"Secret Canary Flow\",\"definition\":{\"a\":1}}]}"

/* seal_plain - a backup of PLAIN for env/id under dek */
static void seal_plain(cmk_dek *dek, const char *env, const char *id, uint8_t **out, size_t *len)
{
    cmk_err err = CMK_ERR_INIT;
    int rc = envops_file_seal(dek, env, id, PLAIN, strlen(PLAIN), out, len, &err);
    ck_assert_msg(rc == 0, "seal: %s", err.msg);
}

START_TEST(test_file_round_trip)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_dek *dek = cmk_dek_generate(&err);
    uint8_t *file = NULL, id[CMK_DEK_ID_LEN];
    size_t len = 0, plen = 0;
    char *plain = NULL;

    ck_assert_ptr_nonnull(dek);
    seal_plain(dek, "env-a", "bak-1", &file, &len);
    ck_assert_int_eq(memcmp(file, ENVOPS_MAGIC, ENVOPS_MAGIC_LEN), 0);
    ck_assert_uint_eq(len, ENVOPS_MAGIC_LEN + strlen(PLAIN) + CMK_BLOB_OVERHEAD);
    ck_assert_ptr_null(memmem(file, len, "Secret Canary Flow", strlen("Secret Canary Flow")));
    ck_assert_int_eq(envops_file_dek_id(file, len, id, &err), 0);
    ck_assert_int_eq(memcmp(id, cmk_dek_id(dek), CMK_DEK_ID_LEN), 0);
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-1", file, len, &plain, &plen, &err), 0);
    ck_assert_str_eq(plain, PLAIN);
    ck_assert_uint_eq(plen, strlen(PLAIN));
    cmk_wipe_str(plain, plen);
    free(file);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_file_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_dek *dek = cmk_dek_generate(&err), *other = cmk_dek_generate(&err);
    uint8_t *file = NULL;
    size_t len = 0;
    char *plain = NULL;

    seal_plain(dek, "env-a", "bak-1", &file, &len);
    /* every single flipped byte past the header is refused */
    for (size_t i = ENVOPS_MAGIC_LEN; i < len; i++) {
        file[i] ^= 0x01;
        ck_assert_int_lt(envops_file_open(dek, "env-a", "bak-1", file, len, &plain, NULL, &err), 0);
        ck_assert_ptr_null(plain);
        file[i] ^= 0x01;
    }
    ck_assert_int_eq(envops_file_open(other, "env-a", "bak-1", file, len, &plain, NULL, &err), CMK_ECRYPTO);
    ck_assert_int_eq(envops_file_open(dek, "env-b", "bak-1", file, len, &plain, NULL, &err), CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not open"));
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-2", file, len, &plain, NULL, &err), CMK_ECRYPTO);
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-1", file, len - 1, &plain, NULL, &err), CMK_ECRYPTO);
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-1", file, 20, &plain, NULL, &err), CMK_EINVAL);
    file[0] = 'X';
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-1", file, len, &plain, NULL, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a cmksim backup"));
    file[0] = 'C';
    ck_assert_int_eq(envops_file_open(dek, "env-a", "bak-1", file, len, &plain, NULL, &err), 0);
    cmk_wipe_str(plain, strlen(plain));
    free(file);
    cmk_dek_destroy(&dek);
    cmk_dek_destroy(&other);
}
END_TEST

START_TEST(test_keywrap)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t kek[ENVOPS_KEK_LEN], kek2[ENVOPS_KEK_LEN], key[CMK_DEK_KEY_LEN], w[ENVOPS_WRAP_MAX], u[ENVOPS_WRAP_MAX];
    size_t wl = 0, ul = 0;

    for (int i = 0; i < ENVOPS_KEK_LEN; i++) {
        kek[i] = (uint8_t)i;
        kek2[i] = (uint8_t)(i + 1);
        key[i] = (uint8_t)(0xa0 + i);
    }
    ck_assert_int_eq(envops_keywrap(kek, 1, key, sizeof key, w, &wl, &err), 0);
    ck_assert_uint_eq(wl, CMK_DEK_KEY_LEN + 8);
    ck_assert_ptr_null(memmem(w, wl, key, 8));
    ck_assert_int_eq(envops_keywrap(kek, 0, w, wl, u, &ul, &err), 0);
    ck_assert_uint_eq(ul, sizeof key);
    ck_assert_int_eq(memcmp(u, key, sizeof key), 0);
    ck_assert_int_eq(envops_keywrap(kek2, 0, w, wl, u, &ul, &err), CMK_ECRYPTO);
    w[3] ^= 0x80;
    ck_assert_int_eq(envops_keywrap(kek, 0, w, wl, u, &ul, &err), CMK_ECRYPTO);
    ck_assert_int_eq(envops_keywrap(kek, 1, key, 0, w, &wl, &err), CMK_EINVAL);
}
END_TEST

/* state - a customer-managed state with every field set */
static tenantkey_env_state state(void)
{
    tenantkey_env_state s;
    memset(&s, 0, sizeof s);
    strcpy(s.env, "env-a");
    strcpy(s.name, "SandA");
    strcpy(s.tenant, "contoso");
    strcpy(s.region, "unitedstates");
    strcpy(s.type, "sandbox");
    s.mode = TENANTKEY_ENV_CUSTOMER;
    strcpy(s.managed_by, "CustomerViaMicrosoft");
    strcpy(s.key, "k1");
    strcpy(s.key_fp, "abcd");
    strcpy(s.policy, "pol-1");
    s.eligible = 1;
    s.applied_ms = 1;
    s.locked_ms = 2;
    s.delete_at_ms = 3;
    s.migrated_ms = 4;
    s.no_return_until_ms = 5;
    s.key_retained_until_ms = 1790000000000;
    return s;
}

START_TEST(test_state_json)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state s = state(), back;
    cJSON *j = envops_state_to_json(&s), *bad;

    ck_assert_int_eq(envops_state_from_json(j, &back, &err), 0);
    ck_assert_int_eq(memcmp(&s, &back, sizeof s), 0);
    bad = cJSON_Duplicate(j, 1);
    cJSON_ReplaceItemInObject(bad, "encryption", cJSON_CreateString("quantum"));
    ck_assert_int_eq(envops_state_from_json(bad, &back, &err), CMK_EINVAL);
    ck_assert_int_eq(envops_state_from_json(NULL, &back, &err), CMK_EINVAL);
    cJSON_Delete(bad);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_overlay)
{
    tenantkey_env_state s = state();
    cJSON *st = cJSON_Parse("{\"policy\": \"pol-9\", \"state\": \"Ready\"}");

    s.mode = TENANTKEY_ENV_MICROSOFT;
    s.policy[0] = '\0';
    envops_state_overlay(&s, st, 100);
    ck_assert_int_eq(s.mode, TENANTKEY_ENV_CUSTOMER);
    ck_assert_str_eq(s.policy, "pol-9");
    cJSON_Delete(st);

    st = cJSON_Parse("{\"policy\": \"pol-9\", \"state\": \"Locked\", \"locked_at\": \"2026-01-01T00:00:00Z\"}");
    s.locked_ms = 0;
    envops_state_overlay(&s, st, 100);
    ck_assert_int_eq(s.mode, TENANTKEY_ENV_LOCKED);
    ck_assert_int_eq(s.locked_ms, 100);
    cJSON_Delete(st);

    /* no policy: the BYOK view stands */
    s = state();
    s.mode = TENANTKEY_ENV_SELF_MANAGED;
    st = cJSON_Parse("{\"policy\": null, \"state\": \"Ready\"}");
    envops_state_overlay(&s, st, 100);
    ck_assert_int_eq(s.mode, TENANTKEY_ENV_SELF_MANAGED);
    cJSON_Delete(st);
}
END_TEST

START_TEST(test_reset_check)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state s = state();

    ck_assert_int_eq(envops_reset_check(&s, &err), 0);
    strcpy(s.type, "production");
    ck_assert_int_eq(envops_reset_check(&s, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "only sandbox environments can be reset"));
    strcpy(s.type, "sandbox");
    s.mode = TENANTKEY_ENV_LOCKED;
    ck_assert_int_eq(envops_reset_check(&s, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "locked"));
}
END_TEST

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

START_TEST(test_partition_clear)
{
    cmk_err err = CMK_ERR_INIT;
    char dir[64];
    cmk_dek *dek = cmk_dek_generate(&err), *mmk = cmk_dek_generate(&err);
    partition *part = NULL;
    partition_flow f, *list = NULL;
    partition_run r, *runs = NULL;
    char hex[33];
    size_t n = 9, nf = 0, nr = 0;
    const char *def = "{\"triggers\":{}}";

    strcpy(dir, "/tmp/envops-part-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(partition_open(dir, "env-a", NULL, &part, &err), 0);
    partition_set_keys(part, dek, mmk);
    for (int i = 0; i < 3; i++) {
        memset(&f, 0, sizeof f);
        snprintf(f.id, sizeof f.id, "flow-%d", i);
        strcpy(f.name, "n");
        strcpy(f.trigger_kind, "manual");
        strcpy(f.kind, "cloud");
        ck_assert_int_eq(partition_flow_put(part, &f, def, strlen(def), NULL, NULL, &err), 0);
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "run-%d", i);
        strcpy(r.flow_id, f.id);
        strcpy(r.status, "Running");
        ck_assert_int_eq(partition_run_begin(part, &r, "{}", NULL, NULL, NULL, &err), 0);
    }
    ck_assert_int_eq(partition_conn_put(part, "c1", "conn", 1, "secret", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);

    ck_assert_int_eq(partition_clear(part, 0, &nf, &nr, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);
    ck_assert_uint_eq(nf, 3);
    ck_assert_uint_eq(nr, 3);
    ck_assert_int_eq(partition_flow_list(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(list);
    ck_assert_int_eq(partition_run_list(part, NULL, 0, 0, &runs, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(runs);
    /* connections stay unless asked for; then they go too */
    ck_assert_int_eq(partition_conn_key_id(part, "c1", hex, &err), 0);
    ck_assert_int_eq(partition_clear(part, 1, NULL, NULL, NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(part, &err), 0);
    ck_assert_int_eq(partition_conn_key_id(part, "c1", hex, &err), CMK_ENOENT);

    /* the clear survives a reopen (it was committed) */
    partition_close(&part);
    ck_assert_int_eq(partition_open(dir, "env-a", NULL, &part, &err), 0);
    ck_assert_int_eq(partition_flow_list(part, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(list);
    partition_close(&part);
    cmk_dek_destroy(&dek);
    cmk_dek_destroy(&mmk);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("envops");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_file_round_trip);
    tcase_add_test(tc, test_file_refusals);
    tcase_add_test(tc, test_keywrap);
    tcase_add_test(tc, test_state_json);
    tcase_add_test(tc, test_overlay);
    tcase_add_test(tc, test_reset_check);
    tcase_add_test(tc, test_partition_clear);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
