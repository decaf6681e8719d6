/*
 * vault_test.c - the simulated Key Vault's vault objects: create/get/list/update, retention,
 * soft delete / recover / purge (also automatic after the retention on the virtual clock),
 * purge protection, access lists and the refusal for every missing permission, the audit of
 * every call (storage and threads are in vault_store_test.c).
 */
#include <check.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/util.h"
#include "controller/vault/vault.h"

#include "vault_fixture.h"


START_TEST(test_create_get_list)
{
    cmk_err err = CMK_ERR_INIT;
    vault_info info, *list = NULL;
    size_t n = 0;
    cJSON *j;

    ck_assert_int_eq(vault_get(fx.svc, OWNER, VAULT, &info, &err), 0);
    ck_assert_str_eq(info.name, VAULT);
    ck_assert_str_eq(info.tenant, TENANT);
    ck_assert_str_eq(info.region, "westeurope");
    ck_assert_str_eq(info.uri, "https://contoso-kv.vault.azure.net/");
    ck_assert_int_eq(info.retention_days, 90);
    ck_assert_int_eq(info.soft_delete, 1);
    ck_assert_int_eq(info.purge_protection, 0);
    ck_assert_int_eq(info.public_network_access, 1);
    ck_assert_str_eq(info.created_by, OWNER);
    ck_assert_int_eq(info.deleted_ms, 0);
    j = vault_info_to_json(&info);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "publicNetworkAccess")->valuestring, "Enabled");
    cJSON_Delete(j);

    ck_assert_int_eq(vault_list(fx.svc, OWNER, TENANT, 0, &list, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(list[0].name, VAULT);
    free(list);
    /* another tenant's list does not show it; a stranger sees nothing */
    ck_assert_int_eq(vault_list(fx.svc, OWNER, "tenant-b", 0, &list, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    free(list);
    ck_assert_int_eq(vault_list(fx.svc, "mallory", TENANT, 0, &list, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    free(list);
}
END_TEST
START_TEST(test_create_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};
    vault_info info;

    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "ab", &p, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "1abc", &p, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "ab--cd", &p, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "abcd-", &p, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(
        vault_create(fx.svc, OWNER, TENANT, "a234567890123456789012345", &p, NULL, &err),
        CMK_EINVAL);
    p.retention_days = 6;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-six", &p, NULL, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "7 to 90"));
    p.retention_days = 91;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-ninety-one", &p, NULL, &err),
                     CMK_EINVAL);
    p.retention_days = 7;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-seven", &p, &info, &err), 0);
    ck_assert_int_eq(info.retention_days, 7);
    p.retention_days = 90;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-ninety", &p, NULL, &err), 0);
    p.retention_days = 0;
    p.region = NULL;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-noregion", &p, NULL, &err),
                     CMK_EINVAL);
    p.region = "westeurope";
    ck_assert_int_eq(vault_create(fx.svc, OWNER, NULL, "kv-notenant", &p, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_create(fx.svc, NULL, TENANT, "kv-nobody", &p, NULL, &err), CMK_EPERM);
    p.soft_delete = VAULT_OFF;
    p.purge_protection = VAULT_ON;
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "kv-pp", &p, NULL, &err), CMK_EINVAL);
    p.soft_delete = VAULT_DEFAULT;
    p.purge_protection = VAULT_DEFAULT;
    /* names are global: another tenant cannot take it either */
    ck_assert_int_eq(vault_create(fx.svc, "zed", "tenant-b", VAULT, &p, NULL, &err), CMK_EEXIST);
    ck_assert_int_eq(audit_n(OWNER, "vault.create", "kv-six", "EINVAL"), 1);
}
END_TEST
START_TEST(test_update)
{
    cmk_err err = CMK_ERR_INIT;
    vault_update_req u;
    vault_info info;

    memset(&u, 0, sizeof u);
    u.public_network_access = VAULT_OFF;
    ck_assert_int_eq(vault_update(fx.svc, OWNER, VAULT, &u, &info, &err), 0);
    ck_assert_int_eq(info.public_network_access, 0);
    u.public_network_access = VAULT_DEFAULT;
    u.purge_protection = VAULT_ON;
    ck_assert_int_eq(vault_update(fx.svc, OWNER, VAULT, &u, &info, &err), 0);
    ck_assert_int_eq(info.purge_protection, 1);
    ck_assert_int_eq(info.public_network_access, 0);
    u.purge_protection = VAULT_OFF;
    ck_assert_int_eq(vault_update(fx.svc, OWNER, VAULT, &u, &info, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "purge protection cannot be turned off"));
    u.purge_protection = VAULT_DEFAULT;
    u.soft_delete = VAULT_OFF;
    ck_assert_int_eq(vault_update(fx.svc, OWNER, VAULT, &u, &info, &err), CMK_ESTATE);
    u.soft_delete = VAULT_DEFAULT;
    u.public_network_access = VAULT_ON;
    ck_assert_int_eq(vault_update(fx.svc, OWNER, VAULT, &u, &info, &err), 0);
    ck_assert_int_eq(info.public_network_access, 1);
}
END_TEST
START_TEST(test_delete_recover_purge)
{
    cmk_err err = CMK_ERR_INIT;
    vault_info info;
    vault_info *list = NULL;
    vault_props p = {.region = "westeurope"};
    size_t n = 0;

    ck_assert_int_eq(vault_delete(fx.svc, OWNER, VAULT, &err), 0);
    ck_assert_int_eq(vault_get(fx.svc, OWNER, VAULT, &info, &err), 0);
    ck_assert_int_gt(info.deleted_ms, 0);
    ck_assert_int_eq(info.scheduled_purge_ms - info.deleted_ms, 90 * DAY);
    /* a deleted vault refuses key use with a clear state error */
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, NULL, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "vault 'contoso-kv' is deleted"));
    ck_assert_ptr_nonnull(strstr(err.msg, "cmkctl vault recover contoso-kv"));
    /* its name stays taken */
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), CMK_EEXIST);
    ck_assert_ptr_nonnull(strstr(err.msg, "deleted vault"));
    ck_assert_int_eq(vault_list(fx.svc, OWNER, TENANT, 0, &list, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    free(list);
    ck_assert_int_eq(vault_list(fx.svc, OWNER, TENANT, 1, &list, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    free(list);
    ck_assert_int_eq(vault_delete(fx.svc, OWNER, VAULT, &err), CMK_ESTATE);
    ck_assert_int_eq(vault_recover(fx.svc, OWNER, VAULT, &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, NULL, &err), 0);
    ck_assert_int_eq(vault_recover(fx.svc, OWNER, VAULT, &err), CMK_ESTATE);
    ck_assert_int_eq(vault_purge(fx.svc, OWNER, VAULT, &err), CMK_ESTATE); /* not deleted */
    ck_assert_int_eq(vault_delete(fx.svc, OWNER, VAULT, &err), 0);
    ck_assert_int_eq(vault_purge(fx.svc, OWNER, VAULT, &err), 0);
    ck_assert_int_eq(vault_get(fx.svc, OWNER, VAULT, &info, &err), CMK_ENOENT);
    /* the name is free again */
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, NULL, &err), CMK_ENOENT);
}
END_TEST
START_TEST(test_purge_protection_and_retention)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "northeurope", .retention_days = 7, .purge_protection = VAULT_ON};
    vault_info info;

    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "pp-kv", &p, NULL, &err), 0);
    ck_assert_int_eq(vault_delete(fx.svc, OWNER, "pp-kv", &err), 0);
    ck_assert_int_eq(vault_purge(fx.svc, OWNER, "pp-kv", &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "purge protection"));
    ck_assert_int_eq(audit_n(OWNER, "vault.purge", "pp-kv", "ESTATE"), 1);
    /* six days later it is still recoverable */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, 6 * DAY, &err), 0);
    ck_assert_int_eq(vault_get(fx.svc, OWNER, "pp-kv", &info, &err), 0);
    /* past the 7-day retention the timer purges it */
    ck_assert_int_eq(cmk_clock_advance(fx.clock, DAY + 1000, &err), 0);
    ck_assert_int_eq(audit_n("system", "vault.purge", "pp-kv", "ok"), 1);
    ck_assert_int_eq(vault_get(fx.svc, OWNER, "pp-kv", &info, &err), CMK_ENOENT);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "pp-kv", &p, NULL, &err), 0);
}
END_TEST
START_TEST(test_soft_delete_off_purges_at_once)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope", .soft_delete = VAULT_OFF};
    vault_info info;

    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "nosd-kv", &p, &info, &err), 0);
    ck_assert_int_eq(info.soft_delete, 0);
    ck_assert_int_eq(vault_delete(fx.svc, OWNER, "nosd-kv", &err), 0);
    ck_assert_int_eq(vault_get(fx.svc, OWNER, "nosd-kv", &info, &err), CMK_ENOENT);
}
END_TEST
START_TEST(test_exact_refusal_message)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t ct[256] = {1}, *out = NULL;
    size_t out_len = 0;

    ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, "pp-identity-123",
                                        VAULT_PERM_GET | VAULT_PERM_WRAP_KEY, &err),
                     0);
    ck_assert_int_eq(vault_key_unwrap(fx.svc, "pp-identity-123", VAULT, "cmk", NULL,
                                      VAULT_ALG_RSA_OAEP, ct, sizeof ct, &out, &out_len, NULL,
                                      &err),
                     CMK_EPERM);
    ck_assert_str_eq(err.msg, "principal 'pp-identity-123' lacks permission 'unwrapKey' on vault "
                              "'contoso-kv'; grant it with: cmkctl vault grant contoso-kv "
                              "--principal pp-identity-123 --perms unwrapKey");
    ck_assert_ptr_null(out);
    ck_assert_int_eq(audit_n("pp-identity-123", "key.unwrap", "contoso-kv/cmk", "EPERM"), 1);
}
END_TEST
START_TEST(test_grant_revoke_list)
{
    cmk_err err = CMK_ERR_INIT;
    vault_access_entry *acl = NULL;
    vault_key_info ki;
    size_t n = 0;
    unsigned perms = 0;

    ck_assert_int_eq(vault_key_get(fx.svc, "bob", VAULT, "cmk", NULL, &ki, &err), CMK_EPERM);
    ck_assert_int_eq(vault_perms_parse("get, unwrapKey,WRAPKEY", &perms, &err), 0);
    ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, "bob", perms, &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, "bob", VAULT, "cmk", NULL, &ki, &err), 0);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(vault_access_list(fx.svc, OWNER, VAULT, &acl, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(acl[0].principal, OWNER);
    ck_assert_uint_eq(acl[0].perms, VAULT_PERM_ALL);
    ck_assert_str_eq(acl[1].principal, "bob");
    ck_assert_uint_eq(acl[1].perms, VAULT_PERM_GET | VAULT_PERM_UNWRAP_KEY | VAULT_PERM_WRAP_KEY);
    free(acl);
    /* bob cannot grant himself more */
    ck_assert_int_eq(vault_access_grant(fx.svc, "bob", VAULT, "bob", VAULT_PERM_ALL, &err),
                     CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "'manageAccess'"));
    ck_assert_int_eq(vault_access_revoke(fx.svc, OWNER, VAULT, "bob", VAULT_PERM_GET, &err), 0);
    ck_assert_int_eq(vault_key_get(fx.svc, "bob", VAULT, "cmk", NULL, &ki, &err), CMK_EPERM);
    ck_assert_int_eq(vault_access_revoke(fx.svc, OWNER, VAULT, "bob", VAULT_PERM_ALL, &err), 0);
    ck_assert_int_eq(vault_access_list(fx.svc, OWNER, VAULT, &acl, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    free(acl);
    ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, "bob", 0, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, "bad principal", 1, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(audit_n(OWNER, "vault.grant", VAULT, "ok"), 1);
    ck_assert_int_eq(audit_n(OWNER, "vault.revoke", VAULT, "ok"), 2);
}
END_TEST

/* ---- every operation refused for its one missing permission ---- */

typedef int (*perm_op)(const char *principal, cmk_err *err);

/* op_vault_get - the operation of that name as principal p */
static int op_vault_get(const char *p, cmk_err *e)
{
    vault_info i;
    return vault_get(fx.svc, p, VAULT, &i, e);
}
/* op_vault_update - the operation of that name as principal p */
static int op_vault_update(const char *p, cmk_err *e)
{
    vault_update_req u = {.public_network_access = VAULT_OFF};
    return vault_update(fx.svc, p, VAULT, &u, NULL, e);
}
/* op_vault_delete - the operation of that name as principal p */
static int op_vault_delete(const char *p, cmk_err *e)
{
    return vault_delete(fx.svc, p, VAULT, e);
}
/* op_vault_recover - the operation of that name as principal p */
static int op_vault_recover(const char *p, cmk_err *e)
{
    return vault_recover(fx.svc, p, VAULT, e);
}
/* op_vault_purge - the operation of that name as principal p */
static int op_vault_purge(const char *p, cmk_err *e)
{
    return vault_purge(fx.svc, p, VAULT, e);
}
/* op_grant - the operation of that name as principal p */
static int op_grant(const char *p, cmk_err *e)
{
    return vault_access_grant(fx.svc, p, VAULT, "x", 1, e);
}
/* op_revoke - the operation of that name as principal p */
static int op_revoke(const char *p, cmk_err *e)
{
    return vault_access_revoke(fx.svc, p, VAULT, "x", 1, e);
}
/* op_acl - the operation of that name as principal p */
static int op_acl(const char *p, cmk_err *e)
{
    vault_access_entry *a = NULL;
    size_t n = 0;
    int rc = vault_access_list(fx.svc, p, VAULT, &a, &n, e);
    free(a);
    return rc;
}
/* op_key_get - the operation of that name as principal p */
static int op_key_get(const char *p, cmk_err *e)
{
    return vault_key_get(fx.svc, p, VAULT, "cmk", NULL, NULL, e);
}
/* op_key_pem - the operation of that name as principal p */
static int op_key_pem(const char *p, cmk_err *e)
{
    char *pem = NULL;
    int rc = vault_key_public_pem(fx.svc, p, VAULT, "cmk", NULL, &pem, e);
    free(pem);
    return rc;
}
/* op_key_list - the operation of that name as principal p */
static int op_key_list(const char *p, cmk_err *e)
{
    vault_key_info *l = NULL;
    size_t n = 0;
    int rc = vault_key_list(fx.svc, p, VAULT, VAULT_LIST_ALL, &l, &n, e);
    vault_key_infos_free(&l, n);
    return rc;
}
/* op_key_versions - the operation of that name as principal p */
static int op_key_versions(const char *p, cmk_err *e)
{
    vault_key_info *l = NULL;
    size_t n = 0;
    int rc = vault_key_list_versions(fx.svc, p, VAULT, "cmk", &l, &n, e);
    vault_key_infos_free(&l, n);
    return rc;
}
/* crypto - wrap (0), unwrap (1), encrypt (2) or decrypt (3) as principal p */
static int crypto(const char *p, cmk_err *e, int which)
{
    uint8_t in[32] = {7}, *out = NULL;
    size_t n = 0;
    int rc = which == 0 ? vault_key_wrap(fx.svc, p, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, in, 32,
                                         &out, &n, NULL, e)
             : which == 1 ? vault_key_unwrap(fx.svc, p, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, in,
                                             32, &out, &n, NULL, e)
             : which == 2 ? vault_key_encrypt(fx.svc, p, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, in,
                                              32, &out, &n, NULL, e)
                          : vault_key_decrypt(fx.svc, p, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, in,
                                              32, &out, &n, NULL, e);
    vault_secret_free(&out, n);
    return rc;
}
/* op_wrap - the operation of that name as principal p */
static int op_wrap(const char *p, cmk_err *e)
{
    return crypto(p, e, 0);
}
/* op_unwrap - the operation of that name as principal p */
static int op_unwrap(const char *p, cmk_err *e)
{
    return crypto(p, e, 1);
}
/* op_encrypt - the operation of that name as principal p */
static int op_encrypt(const char *p, cmk_err *e)
{
    return crypto(p, e, 2);
}
/* op_decrypt - the operation of that name as principal p */
static int op_decrypt(const char *p, cmk_err *e)
{
    return crypto(p, e, 3);
}
/* op_create - the operation of that name as principal p */
static int op_create(const char *p, cmk_err *e)
{
    return vault_key_create(fx.svc, p, VAULT, "new", NULL, NULL, e);
}
/* op_import - the operation of that name as principal p */
static int op_import(const char *p, cmk_err *e)
{
    return vault_key_import(fx.svc, p, VAULT, "imp", (const uint8_t *)g_pem_data, g_pem_len, NULL,
                            NULL, NULL, e);
}
/* op_import_byok - the operation of that name as principal p */
static int op_import_byok(const char *p, cmk_err *e)
{
    static const char doc[] = "{}";
    return vault_key_import_byok(fx.svc, p, VAULT, "byok", doc, sizeof doc - 1, NULL, NULL, e);
}
/* op_update - the operation of that name as principal p */
static int op_update(const char *p, cmk_err *e)
{
    vault_key_update u = {.enabled = VAULT_OFF};
    return vault_key_update_attrs(fx.svc, p, VAULT, "cmk", NULL, &u, NULL, e);
}
/* op_key_delete - the operation of that name as principal p */
static int op_key_delete(const char *p, cmk_err *e)
{
    return vault_key_delete(fx.svc, p, VAULT, "cmk", e);
}
/* op_key_recover - the operation of that name as principal p */
static int op_key_recover(const char *p, cmk_err *e)
{
    return vault_key_recover(fx.svc, p, VAULT, "cmk", e);
}
/* op_key_purge - the operation of that name as principal p */
static int op_key_purge(const char *p, cmk_err *e)
{
    return vault_key_purge(fx.svc, p, VAULT, "cmk", e);
}
/* op_backup - the operation of that name as principal p */
static int op_backup(const char *p, cmk_err *e)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = vault_key_backup(fx.svc, p, VAULT, "cmk", &b, &n, e);
    free(b);
    return rc;
}
/* op_restore - the operation of that name as principal p */
static int op_restore(const char *p, cmk_err *e)
{
    static const uint8_t junk[64] = {0};
    return vault_key_restore(fx.svc, p, VAULT, junk, sizeof junk, NULL, e);
}
/* op_rotate - the operation of that name as principal p */
static int op_rotate(const char *p, cmk_err *e)
{
    return vault_key_rotate(fx.svc, p, VAULT, "cmk", NULL, e);
}
/* op_policy_get - the operation of that name as principal p */
static int op_policy_get(const char *p, cmk_err *e)
{
    vault_rotation_policy pol;
    return vault_key_policy_get(fx.svc, p, VAULT, "cmk", &pol, NULL, e);
}
/* op_policy_set - the operation of that name as principal p */
static int op_policy_set(const char *p, cmk_err *e)
{
    vault_rotation_policy pol = {.rotate_after_create_ms = 90 * DAY};
    return vault_key_policy_set(fx.svc, p, VAULT, "cmk", &pol, e);
}

static const struct {
    const char *name; /* operation */
    perm_op fn;       /* call */
    unsigned perm;    /* the permission it needs */
} perm_cases[] = {
    {"vault.get", op_vault_get, VAULT_PERM_GET},
    {"vault.update", op_vault_update, VAULT_PERM_MANAGE_VAULT},
    {"vault.delete", op_vault_delete, VAULT_PERM_MANAGE_VAULT},
    {"vault.recover", op_vault_recover, VAULT_PERM_RECOVER},
    {"vault.purge", op_vault_purge, VAULT_PERM_PURGE},
    {"vault.grant", op_grant, VAULT_PERM_MANAGE_ACCESS},
    {"vault.revoke", op_revoke, VAULT_PERM_MANAGE_ACCESS},
    {"vault.access", op_acl, VAULT_PERM_MANAGE_ACCESS},
    {"key.get", op_key_get, VAULT_PERM_GET},
    {"key.download", op_key_pem, VAULT_PERM_GET},
    {"key.list", op_key_list, VAULT_PERM_LIST},
    {"key.versions", op_key_versions, VAULT_PERM_LIST},
    {"key.wrap", op_wrap, VAULT_PERM_WRAP_KEY},
    {"key.unwrap", op_unwrap, VAULT_PERM_UNWRAP_KEY},
    {"key.encrypt", op_encrypt, VAULT_PERM_ENCRYPT},
    {"key.decrypt", op_decrypt, VAULT_PERM_DECRYPT},
    {"key.create", op_create, VAULT_PERM_CREATE},
    {"key.import", op_import, VAULT_PERM_IMPORT},
    {"key.import_byok", op_import_byok, VAULT_PERM_IMPORT},
    {"key.update", op_update, VAULT_PERM_UPDATE},
    {"key.delete", op_key_delete, VAULT_PERM_DELETE},
    {"key.recover", op_key_recover, VAULT_PERM_RECOVER},
    {"key.purge", op_key_purge, VAULT_PERM_PURGE},
    {"key.backup", op_backup, VAULT_PERM_BACKUP},
    {"key.restore", op_restore, VAULT_PERM_RESTORE},
    {"key.rotate", op_rotate, VAULT_PERM_ROTATE},
    {"key.policy_get", op_policy_get, VAULT_PERM_GET_ROTATION_POLICY},
    {"key.policy_set", op_policy_set, VAULT_PERM_SET_ROTATION_POLICY},
};

START_TEST(test_each_missing_permission)
{
    cmk_err err = CMK_ERR_INIT;
    const char *who = "pp-identity-123";
    unsigned covered = 0;
    char want[160], grant[200];

    for (size_t i = 0; i < sizeof perm_cases / sizeof perm_cases[0]; i++) {
        const char *pname = vault_perm_name(perm_cases[i].perm);
        /* everything but the one permission the operation needs */
        ck_assert_int_eq(vault_access_revoke(fx.svc, OWNER, VAULT, who, VAULT_PERM_ALL, &err), 0);
        ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, who,
                                            VAULT_PERM_ALL & ~perm_cases[i].perm, &err),
                         0);
        cmk_err_clear(&err);
        ck_assert_msg(perm_cases[i].fn(who, &err) == CMK_EPERM, "%s without %s: got '%s'",
                      perm_cases[i].name, pname, err.msg);
        snprintf(want, sizeof want, "principal '%s' lacks permission '%s' on vault '%s'", who,
                 pname, VAULT);
        snprintf(grant, sizeof grant, "cmkctl vault grant %s --principal %s --perms %s", VAULT, who,
                 pname);
        ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, grant), "%s: '%s'",
                      perm_cases[i].name, err.msg);
        ck_assert_msg(audit_n(who, perm_cases[i].name, VAULT, "EPERM") >= 1, "%s not audited",
                      perm_cases[i].name);
        covered |= perm_cases[i].perm;
    }
    /* every permission is the one missing in at least one case */
    ck_assert_uint_eq(covered, VAULT_PERM_ALL);
    /* and a principal holding the permission gets past the check */
    ck_assert_int_eq(vault_access_grant(fx.svc, OWNER, VAULT, who, VAULT_PERM_ALL, &err), 0);
    ck_assert_int_eq(op_key_get(who, &err), 0);
    ck_assert_int_eq(op_wrap(who, &err), 0);
}
END_TEST
START_TEST(test_perm_names)
{
    cmk_err err = CMK_ERR_INIT;
    unsigned m = 0;
    char buf[512];

    ck_assert_int_eq(vault_perms_parse("all", &m, &err), 0);
    ck_assert_uint_eq(m, VAULT_PERM_ALL);
    ck_assert_int_eq(vault_perms_parse("data", &m, &err), 0);
    ck_assert_uint_eq(m, VAULT_PERM_DATA);
    ck_assert_int_eq(vault_perms_parse("get,frobnicate", &m, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "frobnicate"));
    ck_assert_ptr_nonnull(strstr(err.msg, "unwrapKey"));
    ck_assert_int_eq(vault_perms_parse("", &m, &err), CMK_EINVAL);
    ck_assert_str_eq(vault_perms_format(VAULT_PERM_GET | VAULT_PERM_UNWRAP_KEY, buf, sizeof buf),
                     "get,unwrapKey");
    ck_assert_str_eq(vault_perm_name(VAULT_PERM_SET_ROTATION_POLICY), "setRotationPolicy");
    ck_assert_int_eq(vault_keyops_parse("wrapKey unwrapKey", &m, &err), 0);
    ck_assert_uint_eq(m, VAULT_KEYOP_WRAP_KEY | VAULT_KEYOP_UNWRAP_KEY);
}
END_TEST
START_TEST(test_audit_chain_of_vault_calls)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t bad = -1;

    ck_assert_int_eq(op_key_get(OWNER, &err), 0);
    ck_assert_int_eq(op_key_get("mallory", &err), CMK_EPERM);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "nope", NULL, NULL, &err), CMK_ENOENT);
    ck_assert_int_eq(audit_n(OWNER, "vault.create", VAULT, "ok"), 1);
    ck_assert_int_eq(audit_n(OWNER, "key.import", "contoso-kv/cmk", "ok"), 1);
    ck_assert_int_eq(audit_n(OWNER, "key.get", "contoso-kv/cmk", "ok"), 1);
    ck_assert_int_eq(audit_n("mallory", "key.get", "contoso-kv/cmk", "EPERM"), 1);
    ck_assert_int_eq(audit_n(OWNER, "key.get", "contoso-kv/nope", "ENOENT"), 1);
    ck_assert_int_eq(audit_verify(fx.audit, &bad, &err), 0);
    ck_assert_int_eq(bad, 0);
}
END_TEST

/* rm_cb - remove one path (for nftw) */
static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    Suite *s = suite_create("vault");
    TCase *tc = tcase_create("vault");
    SRunner *sr;
    cmk_err err = CMK_ERR_INIT;
    char cmd[600];
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/vault_test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    snprintf(g_pem, sizeof g_pem, "%s/k2048.pem", g_dir);
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
             "-out %s 2>/dev/null",
             g_pem);
    if (system(cmd) != 0 || cmk_file_read(g_pem, &g_pem_data, &g_pem_len, &err) < 0) {
        fprintf(stderr, "vault_test: cannot make a test key with openssl: %s\n", err.msg);
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        return 2;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_get_list);
    tcase_add_test(tc, test_create_refusals);
    tcase_add_test(tc, test_update);
    tcase_add_test(tc, test_delete_recover_purge);
    tcase_add_test(tc, test_purge_protection_and_retention);
    tcase_add_test(tc, test_soft_delete_off_purges_at_once);
    tcase_add_test(tc, test_exact_refusal_message);
    tcase_add_test(tc, test_grant_revoke_list);
    tcase_add_test(tc, test_each_missing_permission);
    tcase_add_test(tc, test_perm_names);
    tcase_add_test(tc, test_audit_chain_of_vault_calls);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_pem_data);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
