/*
 * vault_byok_test.c - .byok import as Azure specifies it: a KEK (key_ops import) in the vault,
 * vault_byok_export() as the customer's HSM, and a .byok made by an independent producer that
 * only uses the openssl CLI (tests/data/vault/make_byok.sh). Refusals: unknown KEK, KEK of
 * another vault, a key that is no KEK, wrong enc / alg / schema, damaged or truncated
 * ciphertext, a too small target key, a disabled KEK.
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

static char g_dir[256];     /* temp dir for the run */
static char g_target[300];  /* target key (2048-bit PEM) made by openssl */
static char g_kek_pem[300]; /* KEK private key (PEM) made by openssl, imported as KEK */
static char g_script[512];  /* the independent producer */
static const uint8_t MASTER[32] = {0xc0, 0xff, 0xee, 1,  2,  3,  4,  5,  6,  7,  8,
                                   9,    10,   11,   12, 13, 14, 15, 16, 17, 18, 19,
                                   20,   21,   22,   23, 24, 25, 26, 27, 28, 29};

static struct {
    sqlite3 *db;
    cmk_clock *clock;
    audit_log *audit;
    vault_svc *svc;
    char kek_kid[VAULT_KID_MAX]; /* the KEK's key id (with version) */
    char kek_pub[320];           /* path of the KEK public PEM */
} fx;

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

/* slurp - read a whole file */
static char *slurp(const char *p, size_t *len)
{
    char *data = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(cmk_file_read(p, &data, len, &err) == 0, "%s", err.msg);
    return data;
}

/* spit - write a file */
static void spit(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* import_kek - import a PEM key as a KEK (RSA-HSM, key_ops import); fills kid and pub file */
static void import_kek(const char *vault, const char *name, char *kid, const char *pub_path)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_params p;
    vault_key_info ki;
    size_t len;
    char *pem = slurp(g_kek_pem, &len), *pub = NULL;

    memset(&p, 0, sizeof p);
    p.kty = VAULT_KTY_RSA_HSM;
    p.key_ops = VAULT_KEYOP_IMPORT;
    ck_assert_msg(
        vault_key_import(fx.svc, OWNER, vault, name, (uint8_t *)pem, len, NULL, &p, &ki, &err) == 0,
        "%s", err.msg);
    snprintf(kid, VAULT_KID_MAX, "%s", ki.kid);
    vault_key_info_clear(&ki);
    free(pem);
    ck_assert_int_eq(vault_key_public_pem(fx.svc, OWNER, vault, name, NULL, &pub, &err), 0);
    spit(pub_path, pub, strlen(pub));
    free(pub);
}

/* setup - vault with KEK "kek" and an ordinary key "cmk" */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};
    size_t len;
    char *pem;

    memset(&fx, 0, sizeof fx);
    ck_assert_int_eq(sqlite3_open(":memory:", &fx.db), SQLITE_OK);
    fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    fx.svc = vault_svc_new(fx.db, fx.clock, fx.audit, MASTER, NULL, &err);
    ck_assert_msg(fx.svc != NULL, "%s", err.msg);
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, VAULT, &p, NULL, &err), 0);
    snprintf(fx.kek_pub, sizeof fx.kek_pub, "%s", path("kek_pub.pem"));
    import_kek(VAULT, "kek", fx.kek_kid, fx.kek_pub);
    pem = slurp(g_target, &len);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "cmk", (uint8_t *)pem, len, NULL, NULL, NULL, &err),
        0);
    free(pem);
}

/* teardown - close */
static void teardown(void)
{
    vault_svc_destroy(&fx.svc);
    audit_log_destroy(&fx.audit);
    sqlite3_close(fx.db);
    cmk_clock_destroy(&fx.clock);
}

/* export_for - vault_byok_export of the target key for a KEK */
static char *export_for(const char *kid, const char *pub_path)
{
    cmk_err err = CMK_ERR_INIT;
    size_t len, tlen;
    char *pub = slurp(pub_path, &len), *target = slurp(g_target, &tlen), *json = NULL;

    ck_assert_msg(vault_byok_export(kid, pub, (uint8_t *)target, tlen, "test HSM", &json, &err) ==
                      0,
                  "%s", err.msg);
    free(pub);
    free(target);
    return json;
}

/* import_doc - import a .byok document as key `name` */
static int import_doc(const char *name, const char *json, vault_key_info *out, cmk_err *err)
{
    return vault_key_import_byok(fx.svc, OWNER, VAULT, name, json, strlen(json), NULL, out, err);
}

/* check_same_as_target - the vault key is the target: openssl decrypts what the vault wraps */
static void check_same_as_target(const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t dek[32], *w = NULL;
    size_t wl = 0, dl;
    char *d;

    memset(dek, 0x77, sizeof dek);
    ck_assert_int_eq(vault_key_wrap(fx.svc, OWNER, VAULT, name, NULL, VAULT_ALG_RSA_OAEP, dek, 32,
                                    &w, &wl, NULL, &err),
                     0);
    spit(path("byok_w.bin"), w, wl);
    free(w);
    ck_assert_int_eq(sh("openssl pkeyutl -decrypt -inkey %s -pkeyopt rsa_padding_mode:oaep "
                        "-in %s -out %s",
                        g_target, path("byok_w.bin"), path("byok_d.bin")),
                     0);
    d = slurp(path("byok_d.bin"), &dl);
    ck_assert_int_eq(dl, 32);
    ck_assert_mem_eq(d, dek, 32);
    free(d);
}

START_TEST(test_export_import_roundtrip)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki, plain;
    char *json = export_for(fx.kek_kid, fx.kek_pub);
    cJSON *j = cJSON_Parse(json), *h = cJSON_GetObjectItem(j, "header");

    ck_assert_str_eq(cJSON_GetObjectItem(j, "schema_version")->valuestring, "1.0.0");
    ck_assert_str_eq(cJSON_GetObjectItem(h, "kid")->valuestring, fx.kek_kid);
    ck_assert_str_eq(cJSON_GetObjectItem(h, "alg")->valuestring, "dir");
    ck_assert_str_eq(cJSON_GetObjectItem(h, "enc")->valuestring, "CKM_RSA_AES_KEY_WRAP");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "generator")->valuestring, "test HSM");
    /* base64url, no padding: 256 bytes of RSA-OAEP + the wrapped PKCS#8 */
    ck_assert_ptr_null(strpbrk(cJSON_GetObjectItem(j, "ciphertext")->valuestring, "+/="));
    ck_assert_int_gt(strlen(cJSON_GetObjectItem(j, "ciphertext")->valuestring), 1900);
    cJSON_Delete(j);

    ck_assert_msg(import_doc("byok-key", json, &ki, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ki.kty, VAULT_KTY_RSA_HSM);
    ck_assert_int_eq(ki.bits, 2048);
    ck_assert_uint_eq(ki.key_ops, VAULT_KEYOPS_DEFAULT);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &plain, &err), 0);
    ck_assert_str_eq(ki.n, plain.n);
    vault_key_info_clear(&ki);
    vault_key_info_clear(&plain);
    check_same_as_target("byok-key");
    /* importing again under the same name adds a version */
    ck_assert_int_eq(import_doc("byok-key", json, NULL, &err), 0);
    {
        vault_key_info *l = NULL;
        size_t n = 0;
        ck_assert_int_eq(vault_key_list_versions(fx.svc, OWNER, VAULT, "byok-key", &l, &n, &err),
                         0);
        ck_assert_int_eq(n, 2);
        vault_key_infos_free(&l, n);
    }
    free(json);
}
END_TEST

START_TEST(test_independent_openssl_producer)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki;
    char *json;
    size_t len;
    uint8_t *p = NULL;
    size_t pl = 0, wl, dl;
    char *w, *dek;

    ck_assert_int_eq(
        sh("sh %s %s '%s' %s %s", g_script, fx.kek_pub, fx.kek_kid, g_target, path("ext.byok")), 0);
    json = slurp(path("ext.byok"), &len);
    ck_assert_msg(vault_key_import_byok(fx.svc, OWNER, VAULT, "from-openssl", json, len, NULL, &ki,
                                        &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(ki.bits, 2048);
    vault_key_info_clear(&ki);
    free(json);
    /* openssl wraps a DEK with the target's public key; the vault unwraps it */
    ck_assert_int_eq(sh("openssl pkey -in %s -pubout -out %s", g_target, path("t_pub.pem")), 0);
    ck_assert_int_eq(sh("openssl rand -out %s 32", path("dek.bin")), 0);
    ck_assert_int_eq(sh("openssl pkeyutl -encrypt -pubin -inkey %s -pkeyopt rsa_padding_mode:oaep "
                        "-pkeyopt rsa_oaep_md:sha256 -in %s -out %s",
                        path("t_pub.pem"), path("dek.bin"), path("dek.w")),
                     0);
    w = slurp(path("dek.w"), &wl);
    dek = slurp(path("dek.bin"), &dl);
    ck_assert_int_eq(vault_key_unwrap(fx.svc, OWNER, VAULT, "from-openssl", NULL,
                                      VAULT_ALG_RSA_OAEP_256, (uint8_t *)w, wl, &p, &pl, NULL,
                                      &err),
                     0);
    ck_assert_int_eq(pl, 32);
    ck_assert_mem_eq(p, dek, 32);
    vault_secret_free(&p, pl);
    free(w);
    free(dek);
    ck_assert_int_eq(audit_verify(fx.audit, NULL, &err), 0);
}
END_TEST

START_TEST(test_generated_kek)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_params p;
    vault_key_info ki;
    char *pub = NULL, *json, kid[VAULT_KID_MAX];
    uint8_t dek[32] = {1}, *w = NULL;
    size_t wl = 0;

    memset(&p, 0, sizeof p);
    p.kty = VAULT_KTY_RSA_HSM;
    p.bits = 2048;
    p.key_ops = VAULT_KEYOP_IMPORT;
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "kek2", &p, &ki, &err), 0);
    snprintf(kid, sizeof kid, "%s", ki.kid);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(vault_key_public_pem(fx.svc, OWNER, VAULT, "kek2", NULL, &pub, &err), 0);
    spit(path("kek2.pem"), pub, strlen(pub));
    free(pub);
    /* a KEK is for imports only */
    ck_assert_int_eq(vault_key_wrap(fx.svc, OWNER, VAULT, "kek2", NULL, VAULT_ALG_RSA_OAEP, dek, 32,
                                    &w, &wl, NULL, &err),
                     CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not allow operation 'wrapKey'"));
    json = export_for(kid, path("kek2.pem"));
    ck_assert_int_eq(import_doc("via-kek2", json, NULL, &err), 0);
    free(json);
    check_same_as_target("via-kek2");
}
END_TEST

/* doc_with - the exported document with one header/top-level field changed */
static char *doc_with(const char *field, const char *value)
{
    char *json = export_for(fx.kek_kid, fx.kek_pub), *out;
    cJSON *j = cJSON_Parse(json), *h = cJSON_GetObjectItem(j, "header");
    cJSON *where = cJSON_GetObjectItem(h, field) ? h : j;

    cJSON_ReplaceItemInObject(where, field, cJSON_CreateString(value));
    out = cJSON_Print(j);
    cJSON_Delete(j);
    free(json);
    return out;
}

/* expect_refused - import_doc fails with code and a message containing want */
static void expect_refused(const char *json, int code, const char *want)
{
    cmk_err err = CMK_ERR_INIT;
    ck_assert_int_eq(import_doc("refused", json, NULL, &err), code);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
}

START_TEST(test_header_refusals)
{
    char *doc;

    doc = doc_with("enc", "CKM_AES_KEY_WRAP");
    expect_refused(doc, CMK_EINVAL, "enc 'CKM_AES_KEY_WRAP'");
    free(doc);
    doc = doc_with("alg", "RSA-OAEP");
    expect_refused(doc, CMK_EINVAL, "alg 'RSA-OAEP'");
    free(doc);
    doc = doc_with("schema_version", "2.0.0");
    expect_refused(doc, CMK_EINVAL, "schema_version '2.0.0'");
    free(doc);
    doc = doc_with("kid", "https://contoso-kv.vault.azure.net/keys/nokek/0123");
    expect_refused(doc, CMK_EINVAL, "unknown KEK");
    free(doc);
    doc = doc_with("kid", "https://contoso-kv.vault.azure.net/keys/kek/0123");
    expect_refused(doc, CMK_EINVAL, "has no version '0123'");
    free(doc);
    doc = doc_with("kid", "not a kid");
    expect_refused(doc, CMK_EINVAL, "kid");
    free(doc);
    doc = doc_with("ciphertext", "!!!not base64!!!");
    expect_refused(doc, CMK_EINVAL, "not base64url");
    free(doc);
    doc = doc_with("ciphertext", "AAAA");
    expect_refused(doc, CMK_EINVAL, "too short");
    free(doc);
    expect_refused("this is not json", CMK_EINVAL, "not JSON");
    expect_refused("{\"schema_version\":\"1.0.0\"}", CMK_EINVAL, "header");
    /* the script's wrong-enc mode too */
    ck_assert_int_eq(sh("sh %s %s '%s' %s %s CKM_RSA_PKCS_OAEP", g_script, fx.kek_pub, fx.kek_kid,
                        g_target, path("badenc.byok")),
                     0);
    {
        size_t len;
        char *json = slurp(path("badenc.byok"), &len);
        expect_refused(json, CMK_EINVAL, "CKM_RSA_AES_KEY_WRAP");
        free(json);
    }
}
END_TEST

/* flip_ct - the exported document with one ciphertext byte flipped at byte offset `at` */
static char *flip_ct(size_t at)
{
    char *json = export_for(fx.kek_kid, fx.kek_pub), *out;
    cJSON *j = cJSON_Parse(json);
    char *ct = cJSON_GetObjectItem(j, "ciphertext")->valuestring;
    size_t i = at * 4 / 3; /* the base64 character carrying that byte */

    ct[i] = ct[i] == 'A' ? 'B' : 'A';
    out = cJSON_Print(j);
    cJSON_Delete(j);
    free(json);
    return out;
}

START_TEST(test_damaged_ciphertext)
{
    char *doc;

    doc = flip_ct(100); /* inside the RSA-OAEP part */
    expect_refused(doc, CMK_ECRYPTO, "was not made for KEK");
    free(doc);
    doc = flip_ct(700); /* inside the wrapped key */
    expect_refused(doc, CMK_ECRYPTO, "integrity check");
    free(doc);
}
END_TEST

START_TEST(test_wrong_vault_and_not_a_kek)
{
    cmk_err err = CMK_ERR_INIT;
    vault_props p = {.region = "westeurope"};
    char kid[VAULT_KID_MAX], *json, *pub = NULL;
    vault_key_info ki;

    /* a .byok made for the KEK of another vault */
    ck_assert_int_eq(vault_create(fx.svc, OWNER, TENANT, "second-kv", &p, NULL, &err), 0);
    import_kek("second-kv", "kek", kid, path("kek_second.pem"));
    json = export_for(kid, path("kek_second.pem"));
    expect_refused(json, CMK_EINVAL, "of vault 'second-kv'");
    free(json);
    /* a .byok made for an ordinary key (not key_ops import) */
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), 0);
    snprintf(kid, sizeof kid, "%s", ki.kid);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(vault_key_public_pem(fx.svc, OWNER, VAULT, "cmk", NULL, &pub, &err), 0);
    spit(path("cmk_pub.pem"), pub, strlen(pub));
    free(pub);
    json = export_for(kid, path("cmk_pub.pem"));
    expect_refused(json, CMK_EINVAL, "not a key-exchange key");
    free(json);
    /* a .byok for our KEK but another KEK key pair (same kid, other public key) */
    ck_assert_int_eq(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s "
                        "2>/dev/null && openssl pkey -in %s -pubout -out %s",
                        path("o.pem"), path("o.pem"), path("o_pub.pem")),
                     0);
    json = export_for(fx.kek_kid, path("o_pub.pem"));
    expect_refused(json, CMK_ECRYPTO, "was not made for KEK");
    free(json);
}
END_TEST

START_TEST(test_kek_state_and_small_target)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_update u;
    char *json;
    size_t len;

    json = export_for(fx.kek_kid, fx.kek_pub);
    memset(&u, 0, sizeof u);
    u.enabled = VAULT_OFF;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "kek", NULL, &u, NULL, &err), 0);
    expect_refused(json, CMK_ESTATE, "disabled");
    u.enabled = VAULT_ON;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "kek", NULL, &u, NULL, &err), 0);
    ck_assert_int_eq(import_doc("ok-now", json, NULL, &err), 0);
    free(json);
    /* a 1024-bit target key (the export side refuses; the script does not) */
    ck_assert_int_eq(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out %s "
                        "2>/dev/null",
                        path("t1024.pem")),
                     0);
    ck_assert_int_eq(sh("sh %s %s '%s' %s %s", g_script, fx.kek_pub, fx.kek_kid, path("t1024.pem"),
                        path("small.byok")),
                     0);
    json = slurp(path("small.byok"), &len);
    expect_refused(json, CMK_EINVAL, "1024 bits is not supported");
    free(json);
    {
        char *pub = slurp(fx.kek_pub, &len), *t = NULL, *out = NULL;
        size_t tl;
        t = slurp(path("t1024.pem"), &tl);
        ck_assert_int_eq(vault_byok_export(fx.kek_kid, pub, (uint8_t *)t, tl, NULL, &out, &err),
                         CMK_EINVAL);
        ck_assert_int_eq(vault_byok_export("bad kid", pub, (uint8_t *)t, tl, NULL, &out, &err),
                         CMK_EINVAL);
        ck_assert_int_eq(
            vault_byok_export(fx.kek_kid, "not pem", (uint8_t *)t, tl, NULL, &out, &err),
            CMK_EINVAL);
        ck_assert_ptr_null(out);
        free(pub);
        free(t);
    }
}
END_TEST

/* count_cb - count audit entries */
static int count_cb(const audit_entry *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

START_TEST(test_refusals_are_audited)
{
    cmk_err err = CMK_ERR_INIT;
    audit_filter f;
    int n = 0;
    char *json = export_for(fx.kek_kid, fx.kek_pub);

    expect_refused("nope", CMK_EINVAL, "JSON");
    ck_assert_int_eq(import_doc("audited", json, NULL, &err), 0);
    free(json);
    memset(&f, 0, sizeof f);
    f.principal = OWNER;
    f.operation = "key.import_byok";
    f.result = "EINVAL";
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    f.result = "ok";
    f.target = "contoso-kv/audited";
    n = 0;
    ck_assert_int_eq(audit_list(fx.audit, &f, count_cb, &n, &err), 0);
    ck_assert_int_eq(n, 1);
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
    Suite *s = suite_create("vault_byok");
    TCase *tc = tcase_create("byok");
    SRunner *sr;
    const char *src = getenv("CMK_SOURCE_DIR");
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/vault_byok_test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    snprintf(g_script, sizeof g_script, "%s/tests/data/vault/make_byok.sh",
             src && *src ? src : CMK_SOURCE_DIR);
    snprintf(g_target, sizeof g_target, "%s/target.pem", g_dir);
    snprintf(g_kek_pem, sizeof g_kek_pem, "%s/kek.pem", g_dir);
    if (sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null",
           g_target) != 0 ||
        sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null",
           g_kek_pem) != 0 ||
        access(g_script, R_OK) != 0) {
        fprintf(stderr, "vault_byok_test: cannot make test keys or find %s\n", g_script);
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        return 2;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_export_import_roundtrip);
    tcase_add_test(tc, test_independent_openssl_producer);
    tcase_add_test(tc, test_generated_kek);
    tcase_add_test(tc, test_header_refusals);
    tcase_add_test(tc, test_damaged_ciphertext);
    tcase_add_test(tc, test_wrong_vault_and_not_a_kek);
    tcase_add_test(tc, test_kek_state_and_small_target);
    tcase_add_test(tc, test_refusals_are_audited);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
