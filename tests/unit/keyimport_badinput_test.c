/*
 * keyimport_badinput_test.c - a bad key import leaves nothing behind. The vault's key.import
 * (PEM, DER, PKCS#12) and .byok import refuse garbage, truncated files, wrong passwords, keys
 * of a refused size and .byok files that are damaged or made for no KEK of the vault - each
 * with CMK_EINVAL/CMK_ECRYPTO/CMK_ENOENT and a message - and afterwards a new key name does not
 * exist and an existing key has exactly the versions it had. A .pfx whose MAC asks for 2^31
 * key-derivation iterations (found by fuzzing: it kept a thread busy for minutes) is refused
 * before any derivation, by both readers. (The tenant .pfx upload's
 * refusals and their "no key stored" check are in tenantkey_test.c, test_upload_refusals.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controller/audit/audit.h"
#include "controller/tenantkey/tenantkey_int.h"
#include "controller/vault/vault.h"

#define OWNER "alice"
#define VAULT "contoso-kv"
#define KEYS CMK_SOURCE_DIR "/tests/fuzz/corpus/pfx/"
#define BYOK CMK_SOURCE_DIR "/tests/fuzz/corpus/byok/"

static const uint8_t MASTER[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                    7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22 };

static struct {
    sqlite3 *db;       /* in-memory controller.db */
    cmk_clock *clock;  /* virtual clock */
    audit_log *audit;  /* audit log */
    vault_svc *svc;    /* the vault service */
} fx;

/* slurp - a whole file (free it) */
static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    char *buf;
    long n;
    ck_assert_msg(f != NULL, "cannot open %s", p);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* setup - a vault with one generated key "cmk" (one version) */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = { .region = "westeurope" };

    memset(&fx, 0, sizeof fx);
    ck_assert_int_eq(sqlite3_open(":memory:", &fx.db), SQLITE_OK);
    fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    fx.svc = vault_svc_new(fx.db, fx.clock, fx.audit, MASTER, NULL, &err);
    ck_assert_msg(fx.svc != NULL, "%s", err.msg);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, "tenant-a", VAULT, &p, NULL, &err), 0);
    ck_assert_msg(vault_key_create(fx.svc, OWNER, VAULT, "cmk", NULL, NULL, &err) == 0, "%s", err.msg);
}

/* teardown - close */
static void teardown(void)
{
    vault_svc_destroy(&fx.svc);
    audit_log_destroy(&fx.audit);
    sqlite3_close(fx.db);
    cmk_clock_destroy(&fx.clock);
}

/* versions - how many versions key `name` has (-1 if the key does not exist) */
static int versions(const char *name)
{
    vault_key_info *v = NULL;
    size_t n = 0;
    cmk_err err = CMK_ERR_INIT;
    if (vault_key_list_versions(fx.svc, OWNER, VAULT, name, &v, &n, &err) < 0)
        return -1;
    vault_key_infos_free(&v, n);
    return (int)n;
}

/* keys - how many keys the vault lists */
static int keys(void)
{
    vault_key_info *k = NULL;
    size_t n = 0;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(vault_key_list(fx.svc, OWNER, VAULT, 0, &k, &n, &err) == 0, "%s", err.msg);
    vault_key_infos_free(&k, n);
    return (int)n;
}

/* refused - import data as `name` must fail with a message; nothing may change */
static void refused(const char *what, const char *name, const void *data, size_t len,
                    const char *password, int byok)
{
    cmk_err err = CMK_ERR_INIT;
    int before_keys = keys(), before = versions(name), rc;

    rc = byok ? vault_key_import_byok(fx.svc, OWNER, VAULT, name, data, len, NULL, NULL, &err)
              : vault_key_import(fx.svc, OWNER, VAULT, name, data, len, password, NULL, NULL, &err);
    ck_assert_msg(rc < 0, "%s was imported", what);
    ck_assert_msg(rc == CMK_EINVAL || rc == CMK_ECRYPTO || rc == CMK_ENOENT, "%s: %s (%s)", what,
                  cmk_code_name(rc), err.msg);
    ck_assert_msg(err.msg[0], "%s: no message", what);
    ck_assert_int_eq(keys(), before_keys);
    ck_assert_int_eq(versions(name), before);
}

START_TEST(bad_key_files_leave_no_key_and_no_version)
{
    static const char *names[] = { "new-key", "cmk" }; /* a new name; an existing key */
    size_t n;
    char *pem = slurp(KEYS "target-pkcs8.pem", &n), *pfx, *small, *enc;
    size_t pfx_n, small_n, enc_n;

    pfx = slurp(KEYS "target.pfx", &pfx_n);
    small = slurp(KEYS "small-1024.pem", &small_n);
    enc = slurp(KEYS "target-encrypted.pem", &enc_n);
    for (size_t i = 0; i < 2; i++) {
        const char *name = names[i];
        refused("garbage", name, "not a key at all", 16, NULL, 0);
        refused("an empty file", name, "", 0, NULL, 0);
        refused("a truncated PEM", name, pem, n / 2, NULL, 0);
        refused("a truncated .pfx", name, pfx, pfx_n - 40, "fuzz-password", 0);
        refused("a .pfx with the wrong password", name, pfx, pfx_n, "wrong", 0);
        refused("an encrypted PEM without its password", name, enc, enc_n, NULL, 0);
        refused("a 1024-bit key", name, small, small_n, NULL, 0);
    }
    ck_assert_int_eq(versions("new-key"), -1);
    ck_assert_int_eq(versions("cmk"), 1);
    {
        /* the control: the whole .pfx with its password is imported */
        cmk_err err = CMK_ERR_INIT;
        ck_assert_msg(vault_key_import(fx.svc, OWNER, VAULT, "new-key", (uint8_t *)pfx, pfx_n,
                                       "fuzz-password", NULL, NULL, &err) == 0,
                      "%s", err.msg);
        ck_assert_int_eq(versions("new-key"), 1);
    }
    free(pem);
    free(pfx);
    free(small);
    free(enc);
}
END_TEST

START_TEST(bad_byok_files_leave_no_key_and_no_version)
{
    size_t n, d;
    char *good = slurp(BYOK "target.byok", &n), *damaged = slurp(BYOK "damaged.byok", &d);
    static const char *docs[] = {
        "not json",
        "{\"schema_version\":\"2.0\",\"header\":{\"kid\":\"x\",\"alg\":\"dir\",\"enc\":\"CKM_RSA_AES_KEY_WRAP\"},\"ciphertext\":\"AA\"}",
        "{\"schema_version\":\"1.0.0\",\"header\":{\"kid\":\"https://contoso-kv.vault.azure.net/keys/nokek\",\"alg\":\"dir\",\"enc\":\"CKM_RSA_AES_KEY_WRAP\"},\"ciphertext\":\"AA\"}",
        "{\"schema_version\":\"1.0.0\",\"header\":{\"kid\":\"https://contoso-kv.vault.azure.net/keys/cmk\",\"alg\":\"dir\",\"enc\":\"CKM_RSA_AES_KEY_WRAP\"},\"ciphertext\":\"!!!\"}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        refused(docs[i], "new-key", docs[i], strlen(docs[i]), NULL, 1);
        refused(docs[i], "cmk", docs[i], strlen(docs[i]), NULL, 1);
    }
    /* made for a KEK this vault does not have (the fuzz corpus's), whole and damaged */
    refused("a .byok for another vault's KEK", "new-key", good, n, NULL, 1);
    refused("a damaged .byok", "cmk", damaged, d, NULL, 1);
    ck_assert_int_eq(versions("new-key"), -1);
    ck_assert_int_eq(versions("cmk"), 1);
    free(good);
    free(damaged);
}
END_TEST

START_TEST(a_pfx_asking_for_billions_of_iterations_is_refused_unread)
{
    size_t n;
    char *pfx = slurp(KEYS "found-mac-iterations-2e31.pfx", &n);
    cmk_err err = CMK_ERR_INIT;
    EVP_PKEY *pk = NULL;

    /* the vault's key.import */
    refused("a .pfx asking for 2^31 iterations", "new-key", pfx, n, "fuzz-password", 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "new-key", (uint8_t *)pfx, n,
                                      "fuzz-password", NULL, NULL, &err),
                     CMK_EINVAL);
    ck_assert_msg(strstr(err.msg, "the PKCS#12 file asks for 2147483647 key-derivation iterations; "
                                  "at most 1000000 are accepted"), "%s", err.msg);
    /* the tenant keys' .pfx upload */
    ck_assert_int_eq(tkc_pfx_parse((uint8_t *)pfx, n, "fuzz-password", &pk, &err), CMK_EINVAL);
    ck_assert_ptr_null(pk);
    ck_assert_msg(strstr(err.msg, "the .pfx file asks for 2147483647 key-derivation iterations; "
                                  "at most 1000000 are accepted"), "%s", err.msg);
    free(pfx);
}
END_TEST

/* keyimport_badinput_suite - every test of this file */
static Suite *keyimport_badinput_suite(void)
{
    Suite *s = suite_create("keyimport_badinput");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_key_files_leave_no_key_and_no_version);
    tcase_add_test(tc, bad_byok_files_leave_no_key_and_no_version);
    tcase_add_test(tc, a_pfx_asking_for_billions_of_iterations_is_refused_unread);
    suite_add_tcase(s, tc);
    return s;
}

/* main - run the suite; non-zero when a test failed */
int main(void)
{
    SRunner *sr = srunner_create(keyimport_badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
