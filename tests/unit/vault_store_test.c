/*
 * vault_store_test.c - the vault's storage and threads: persistence over a reopened
 * controller.db (keys still work), no plaintext private key in the database file (scanned for
 * the DER of a known imported key), the master key check on reopen, sealed material bound to
 * its row, and concurrent use from several threads (RSA generation beside wraps).
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


/* file_contains - 1 if the file holds needle */
static int file_contains(const char *path, const uint8_t *needle, size_t n)
{
    char *data = NULL;
    size_t len = 0;
    cmk_err err = CMK_ERR_INIT;
    int found;

    if (access(path, F_OK) != 0)
        return 0;
    ck_assert_int_eq(cmk_file_read(path, &data, &len, &err), 0);
    found = memmem(data, len, needle, n) != NULL;
    free(data);
    return found;
}

/* der_of - the key in g_pem as DER (pkcs8 or traditional) via the openssl CLI */
static void der_of(const char *form, char **der, size_t *len)
{
    char cmd[1024], path[300];
    cmk_err err = CMK_ERR_INIT;

    snprintf(path, sizeof path, "%s/key.%s.der", g_dir, form);
    snprintf(cmd, sizeof cmd, "openssl %s -in %s -outform DER -out %s 2>/dev/null",
             strcmp(form, "pkcs8") == 0 ? "pkey" : "rsa -traditional", g_pem, path);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(cmk_file_read(path, der, len, &err), 0);
    ck_assert_int_gt(*len, 1000);
}

START_TEST(test_persistence_and_no_plaintext)
{
    cmk_err err = CMK_ERR_INIT;
    char dbpath[300], side[320];
    vault_props p = {.region = "westeurope"};
    uint8_t dek[32], *wrapped = NULL, *plain = NULL;
    size_t wlen = 0, plen = 0;
    char *pk8 = NULL, *trad = NULL;
    size_t pk8_len = 0, trad_len = 0;
    vault_key_info *keys = NULL;
    size_t nk = 0;
    uint8_t other[32];

    teardown();
    memset(&fx, 0, sizeof fx);
    snprintf(dbpath, sizeof dbpath, "%s/persist.db", g_dir);
    unlink(dbpath);
    fx_open(dbpath, MASTER, 0);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "cmk", (const uint8_t *)g_pem_data,
                                      g_pem_len, NULL, NULL, NULL, &err),
                     0);
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "gen", NULL, NULL, &err), 0);
    memset(dek, 0x5a, sizeof dek);
    ck_assert_int_eq(vault_key_wrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP_256, dek,
                                    sizeof dek, &wrapped, &wlen, NULL, &err),
                     0);
    {
        uint8_t *b = NULL;
        size_t bl = 0;
        ck_assert_int_eq(vault_key_backup(fx.svc, OWNER, VAULT, "cmk", &b, &bl, &err), 0);
        free(b);
    }
    fx_close();

    /* the database holds no plaintext private key */
    der_of("pkcs8", &pk8, &pk8_len);
    der_of("traditional", &trad, &trad_len);
    snprintf(side, sizeof side, "%s-wal", dbpath);
    ck_assert(!file_contains(dbpath, (const uint8_t *)pk8, pk8_len));
    ck_assert(!file_contains(dbpath, (const uint8_t *)trad, trad_len));
    /* nor any 32-byte run from inside the private components */
    ck_assert(!file_contains(dbpath, (const uint8_t *)pk8 + pk8_len / 2, 32));
    ck_assert(!file_contains(dbpath, (const uint8_t *)pk8 + pk8_len - 64, 32));
    ck_assert(!file_contains(side, (const uint8_t *)pk8 + pk8_len / 2, 32));
    /* ... while the public modulus is there (so the scan does look at the right bytes) */
    ck_assert(file_contains(dbpath, (const uint8_t *)trad + 11, 32));

    /* reopen with another master key: refused */
    memcpy(other, MASTER, sizeof other);
    other[0] ^= 1;
    ck_assert_int_eq(sqlite3_open(dbpath, &fx.db), SQLITE_OK);
    ck_assert_ptr_null(vault_svc_new(fx.db, fx.clock, NULL, other, NULL, &err));
    ck_assert_int_eq(err.code, CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "master key"));
    sqlite3_close(fx.db);

    /* reopen with the right one: keys still work */
    fx_open(dbpath, MASTER, 0);
    ck_assert_int_eq(vault_svc_resume_timers(fx.svc, &err), 0);
    ck_assert_int_eq(vault_key_unwrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP_256,
                                      wrapped, wlen, &plain, &plen, NULL, &err),
                     0);
    ck_assert_int_eq(plen, 32);
    ck_assert_mem_eq(plain, dek, 32);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ACTIVE, &keys, &nk, &err), 0);
    ck_assert_int_eq(nk, 2);
    vault_key_infos_free(&keys, nk);
    ck_assert_ptr_null(keys);
    vault_secret_free(&plain, plen);
    ck_assert_ptr_null(plain);
    free(wrapped);
    free(pk8);
    free(trad);
}
END_TEST
START_TEST(test_tampered_material_fails)
{
    /* sealed material moved to another row does not open */
    cmk_err err = CMK_ERR_INIT;
    uint8_t in[32] = {3}, *out = NULL;
    size_t n = 0;
    char *msg = NULL;

    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "other", NULL, NULL, &err), 0);
    ck_assert_int_eq(vault_key_wrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, in,
                                    sizeof in, &out, &n, NULL, &err),
                     0);
    ck_assert_int_eq(sqlite3_exec(fx.db,
                                  "UPDATE vault_key_versions SET material = (SELECT "
                                  "material FROM vault_key_versions ORDER BY id DESC LIMIT 1) "
                                  "WHERE id = (SELECT min(id) FROM vault_key_versions)",
                                  NULL, NULL, &msg),
                     SQLITE_OK);
    {
        uint8_t *plain = NULL;
        size_t pl = 0;
        ck_assert_int_eq(vault_key_unwrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP,
                                          out, n, &plain, &pl, NULL, &err),
                         CMK_ECRYPTO);
        ck_assert_ptr_null(plain);
    }
    free(out);
}
END_TEST

/* wrap_worker - wraps and unwraps in a loop (concurrency test) */
static void *wrap_worker(void *arg)
{
    long failures = 0;
    (void)arg;
    for (int i = 0; i < 40; i++) {
        cmk_err err = CMK_ERR_INIT;
        uint8_t dek[32], *w = NULL, *p = NULL;
        size_t wl = 0, pl = 0;
        memset(dek, i, sizeof dek);
        if (vault_key_wrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, dek, 32, &w, &wl,
                           NULL, &err) < 0 ||
            vault_key_unwrap(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, w, wl, &p, &pl,
                             NULL, &err) < 0 ||
            pl != 32 || memcmp(p, dek, 32) != 0)
            failures++;
        free(w);
        vault_secret_free(&p, pl);
    }
    return (void *)failures;
}

/* create_worker - creates keys (slow RSA generation) while others wrap */
static void *create_worker(void *arg)
{
    long failures = 0;
    char name[32];
    for (int i = 0; i < 2; i++) {
        cmk_err err = CMK_ERR_INIT;
        snprintf(name, sizeof name, "conc-%ld-%d", (long)(intptr_t)arg, i);
        if (vault_key_create(fx.svc, OWNER, VAULT, name, NULL, NULL, &err) < 0)
            failures++;
    }
    return (void *)failures;
}

START_TEST(test_concurrent_use)
{
    pthread_t t[5];
    void *r;
    long failures = 0;
    int64_t bad = -1;
    cmk_err err = CMK_ERR_INIT;

    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, wrap_worker, NULL);
    for (int i = 3; i < 5; i++)
        pthread_create(&t[i], NULL, create_worker, (void *)(intptr_t)i);
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], &r);
        failures += (long)r;
    }
    ck_assert_int_eq(failures, 0);
    ck_assert_int_eq(audit_verify(fx.audit, &bad, &err), 0);
    ck_assert_int_eq(audit_n(OWNER, "key.unwrap", VAULT, "ok"), 120);
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
    Suite *s = suite_create("vault_store");
    TCase *tc = tcase_create("store");
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
    tcase_add_test(tc, test_persistence_and_no_plaintext);
    tcase_add_test(tc, test_tampered_material_fails);
    tcase_add_test(tc, test_concurrent_use);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_pem_data);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
