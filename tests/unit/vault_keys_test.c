/*
 * vault_keys_test.c - keys in the simulated Key Vault: create (2048/3072/4096, 1024 refused),
 * import (PEM, traditional PEM, DER, encrypted PKCS#8, PKCS#12; non-RSA and small keys
 * refused), get (n/e as openssl sees them), list, versions, rotate, enable/disable key and
 * version, tags and key_ops, wrap/unwrap with RSA-OAEP and RSA-OAEP-256 interoperating with
 * `openssl pkeyutl` both ways, key ids. Time-driven behaviour is in vault_lifecycle_test.c.
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

/* spit - write a file */
static void spit(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

START_TEST(test_create_sizes)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki;
    vault_key_params p;

    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "gen2048", NULL, &ki, &err), 0);
    ck_assert_int_eq(ki.bits, 2048);
    ck_assert_int_eq(ki.kty, VAULT_KTY_RSA);
    ck_assert_uint_eq(ki.key_ops, VAULT_KEYOPS_DEFAULT);
    ck_assert_str_eq(ki.e, "AQAB");
    ck_assert_int_eq(strlen(ki.version), 32);
    vault_key_info_clear(&ki);
    memset(&p, 0, sizeof p);
    p.bits = 3072;
    p.kty = VAULT_KTY_RSA_HSM;
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "gen3072", &p, &ki, &err), 0);
    ck_assert_int_eq(ki.bits, 3072);
    ck_assert_int_eq(ki.kty, VAULT_KTY_RSA_HSM);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("gen3072", NULL, &err), 0);
    p.bits = 4096;
    p.kty = VAULT_KTY_RSA;
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "gen4096", &p, &ki, &err), 0);
    ck_assert_int_eq(ki.bits, 4096);
    ck_assert_int_eq(strlen(ki.n), 683); /* 512 bytes in base64url */
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("gen4096", NULL, &err), 0);
    p.bits = 1024;
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "gen1024", &p, &ki, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024"));
    ck_assert_ptr_nonnull(strstr(err.msg, "2048, 3072 or 4096"));
    p.bits = 2048;
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "bad_name!", &p, &ki, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, "no-such-kv", "k", &p, &ki, &err), CMK_ENOENT);
    ck_assert_int_eq(audit_n(OWNER, "key.create", "EINVAL"), 2);
}
END_TEST
START_TEST(test_create_again_adds_version)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info a, b;

    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &a, &err), 0);
    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "cmk", NULL, &b, &err), 0);
    ck_assert_str_ne(a.version, b.version);
    ck_assert_int_eq(b.current, 1);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 2);
    ck_assert_int_eq(hooked.n, 1);
    ck_assert_str_eq(hooked.reason, "create");
    ck_assert_str_eq(hooked.old_version, a.version);
    ck_assert_str_eq(hooked.new_version, b.version);
    vault_key_info_clear(&a);
    vault_key_info_clear(&b);
}
END_TEST
START_TEST(test_import_forms)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki;
    char *data;
    size_t len;

    ck_assert_int_eq(
        sh("openssl rsa -in %s -traditional -out %s 2>/dev/null", g_pem, path("trad.pem")), 0);
    ck_assert_int_eq(sh("openssl pkey -in %s -outform DER -out %s", g_pem, path("k.der")), 0);
    ck_assert_int_eq(sh("openssl pkcs8 -topk8 -v2 aes-256-cbc -in %s -out %s -passout pass:s3cret",
                        g_pem, path("enc.pem")),
                     0);
    ck_assert_int_eq(
        sh("openssl pkcs12 -export -nocerts -inkey %s -out %s -passout pass:pfxpw 2>/dev/null",
           g_pem, path("k.pfx")),
        0);

    data = slurp(path("trad.pem"), &len);
    ck_assert(strstr(data, "BEGIN RSA PRIVATE KEY") != NULL);
    ck_assert_msg(vault_key_import(fx.svc, OWNER, VAULT, "trad", (uint8_t *)data, len, NULL, NULL,
                                   &ki, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(ki.bits, 2048);
    vault_key_info_clear(&ki);
    free(data);

    data = slurp(path("k.der"), &len);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "der", (uint8_t *)data, len, NULL, NULL, NULL, &err),
        0);
    free(data);

    data = slurp(path("enc.pem"), &len);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "enc", (uint8_t *)data, len, NULL, NULL, NULL, &err),
        CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "password"));
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "enc", (uint8_t *)data, len, "wrong",
                                      NULL, NULL, &err),
                     CMK_ECRYPTO);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "enc", (uint8_t *)data, len, "s3cret",
                                      NULL, NULL, &err),
                     0);
    free(data);

    data = slurp(path("k.pfx"), &len);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "pfx", (uint8_t *)data, len, "nope",
                                      NULL, NULL, &err),
                     CMK_EINVAL);
    ck_assert_msg(vault_key_import(fx.svc, OWNER, VAULT, "pfx", (uint8_t *)data, len, "pfxpw", NULL,
                                   NULL, &err) == 0,
                  "%s", err.msg);
    free(data);

    /* all of them are the same key: same modulus */
    {
        vault_key_info a, b;
        ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &a, &err), 0);
        ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "pfx", NULL, &b, &err), 0);
        ck_assert_str_eq(a.n, b.n);
        vault_key_info_clear(&a);
        vault_key_info_clear(&b);
    }
    ck_assert_int_eq(use_key("enc", NULL, &err), 0);
}
END_TEST
START_TEST(test_import_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    char *data;
    size_t len;

    ck_assert_int_eq(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out %s "
                        "2>/dev/null",
                        path("k1024.pem")),
                     0);
    data = slurp(path("k1024.pem"), &len);
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "small", (uint8_t *)data, len, NULL,
                                      NULL, NULL, &err),
                     CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024 bits is not supported"));
    free(data);

    ck_assert_int_eq(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s",
                        path("ec.pem")),
                     0);
    data = slurp(path("ec.pem"), &len);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "ec", (uint8_t *)data, len, NULL, NULL, NULL, &err),
        CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "RSA keys only"));
    free(data);

    ck_assert_int_eq(sh("openssl pkey -in %s -pubout -out %s", g_pem, path("pub.pem")), 0);
    data = slurp(path("pub.pem"), &len);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "pub", (uint8_t *)data, len, NULL, NULL, NULL, &err),
        CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "public key"));
    free(data);

    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "junk", (const uint8_t *)"junk", 4,
                                      NULL, NULL, NULL, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(
        vault_key_import(fx.svc, OWNER, VAULT, "none", NULL, 0, NULL, NULL, NULL, &err),
        CMK_EINVAL);
    ck_assert_int_eq(nversions(VAULT, "cmk"), 1);
    ck_assert_int_eq(audit_n(OWNER, "key.import", "EINVAL"), 5);
}
END_TEST

/* b64url_hex - base64url to uppercase hex */
static void b64url_hex(const char *in, char *hex, size_t cap)
{
    char tmp[1024];
    unsigned char bin[800];
    size_t n = strlen(in), o = 0;
    int len;

    for (size_t i = 0; i < n; i++)
        tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (n % 4)
        tmp[n++] = '=';
    tmp[n] = '\0';
    len = EVP_DecodeBlock(bin, (unsigned char *)tmp, (int)n);
    ck_assert_int_gt(len, 0);
    len -= (tmp[n - 1] == '=') + (tmp[n - 2] == '=');
    for (int i = 0; i < len && o + 3 < cap; i++)
        o += (size_t)snprintf(hex + o, cap - o, "%02X", bin[i]);
}

START_TEST(test_get_matches_openssl)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info ki;
    char hex[1200], want[1300], *data, *pem = NULL, kid[400];
    size_t len;
    cJSON *j;

    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), 0);
    ck_assert_int_eq(
        sh("openssl rsa -in %s -noout -modulus > %s 2>/dev/null", g_pem, path("mod.txt")), 0);
    data = slurp(path("mod.txt"), &len);
    b64url_hex(ki.n, hex, sizeof hex);
    snprintf(want, sizeof want, "Modulus=%s\n", hex);
    ck_assert_str_eq(data, want);
    free(data);
    ck_assert_str_eq(ki.e, "AQAB");
    snprintf(kid, sizeof kid, "https://contoso-kv.vault.azure.net/keys/cmk/%s", ki.version);
    ck_assert_str_eq(ki.kid, kid);
    ck_assert_int_eq(ki.key_enabled, 1);
    ck_assert_int_eq(ki.version_enabled, 1);
    ck_assert_int_eq(ki.current, 1);
    ck_assert_str_eq(ki.recovery_level, "Recoverable+Purgeable");
    j = vault_key_info_to_json(&ki);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "key"), "kty")->valuestring, "RSA");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "key"), "n")->valuestring, ki.n);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "attributes"), "enabled")));
    ck_assert_int_eq(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "key"), "key_ops")), 4);
    cJSON_Delete(j);
    /* a named version gives the same; an unknown one is ENOENT */
    {
        vault_key_info k2;
        ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", ki.version, &k2, &err), 0);
        ck_assert_str_eq(k2.n, ki.n);
        vault_key_info_clear(&k2);
        ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", "0123", &k2, &err), CMK_ENOENT);
    }
    vault_key_info_clear(&ki);
    /* the public PEM is openssl's public key */
    ck_assert_int_eq(vault_key_public_pem(fx.svc, OWNER, VAULT, "cmk", NULL, &pem, &err), 0);
    ck_assert_int_eq(sh("openssl pkey -in %s -pubout -out %s", g_pem, path("pub.pem")), 0);
    data = slurp(path("pub.pem"), &len);
    ck_assert_str_eq(pem, data);
    free(data);
    free(pem);
}
END_TEST
START_TEST(test_list)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info *l = NULL;
    size_t n = 0;

    ck_assert_int_eq(vault_key_create(fx.svc, OWNER, VAULT, "another", NULL, NULL, &err), 0);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ACTIVE, &l, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(l[0].name, "another");
    ck_assert_str_eq(l[1].name, "cmk");
    vault_key_infos_free(&l, n);
    ck_assert_int_eq(vault_key_delete(fx.svc, OWNER, VAULT, "another", &err), 0);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ACTIVE, &l, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    vault_key_infos_free(&l, n);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_DELETED, &l, &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(l[0].name, "another");
    ck_assert_int_gt(l[0].deleted_ms, 0);
    ck_assert_int_eq(l[0].scheduled_purge_ms - l[0].deleted_ms, 90 * DAY);
    vault_key_infos_free(&l, n);
    ck_assert_int_eq(vault_key_list(fx.svc, OWNER, VAULT, VAULT_LIST_ALL, &l, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    vault_key_infos_free(&l, n);
}
END_TEST
START_TEST(test_wrap_unwrap)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t dek[32], *w = NULL, *p = NULL, big[300];
    size_t wl = 0, pl = 0;
    char kid[VAULT_KID_MAX];
    vault_alg alg;

    memset(dek, 0xa5, sizeof dek);
    for (int a = VAULT_ALG_RSA_OAEP; a <= VAULT_ALG_RSA_OAEP_256; a++) {
        ck_assert_int_eq(wrap("cmk", NULL, (vault_alg)a, dek, 32, &w, &wl, kid, &err), 0);
        ck_assert_int_eq(wl, 256);
        ck_assert_ptr_nonnull(strstr(kid, "/keys/cmk/"));
        ck_assert_int_eq(unwrap("cmk", NULL, (vault_alg)a, w, wl, &p, &pl, &err), 0);
        ck_assert_int_eq(pl, 32);
        ck_assert_mem_eq(p, dek, 32);
        vault_secret_free(&p, pl);
        /* the other algorithm does not open it */
        ck_assert_int_eq(unwrap("cmk", NULL, a == 1 ? VAULT_ALG_RSA_OAEP_256 : VAULT_ALG_RSA_OAEP,
                                w, wl, &p, &pl, &err),
                         CMK_ECRYPTO);
        ck_assert_ptr_null(p);
        free(w);
        w = NULL;
    }
    memset(big, 1, sizeof big);
    ck_assert_int_eq(wrap("cmk", NULL, VAULT_ALG_RSA_OAEP, big, sizeof big, &w, &wl, NULL, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(wrap("cmk", NULL, VAULT_ALG_RSA_OAEP, dek, 0, &w, &wl, NULL, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(wrap("cmk", NULL, (vault_alg)7, dek, 32, &w, &wl, NULL, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_alg_parse("RSA-OAEP-256", &alg, &err), 0);
    ck_assert_int_eq(alg, VAULT_ALG_RSA_OAEP_256);
    ck_assert_int_eq(vault_alg_parse("RSA1_5", &alg, &err), CMK_EINVAL);
    /* encrypt/decrypt are the same operation under their own permission */
    ck_assert_int_eq(vault_key_encrypt(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, dek,
                                       32, &w, &wl, NULL, &err),
                     0);
    ck_assert_int_eq(vault_key_decrypt(fx.svc, OWNER, VAULT, "cmk", NULL, VAULT_ALG_RSA_OAEP, w, wl,
                                       &p, &pl, NULL, &err),
                     0);
    ck_assert_mem_eq(p, dek, 32);
    vault_secret_free(&p, pl);
    free(w);
    ck_assert_int_eq(audit_n(OWNER, "key.unwrap", "ok"), 2);
    ck_assert_int_eq(audit_n(OWNER, "key.unwrap", "ECRYPTO"), 2);
}
END_TEST
START_TEST(test_openssl_interop)
{
    cmk_err err = CMK_ERR_INIT;
    char *pem = NULL, *ct, *dek;
    uint8_t *p = NULL, *w = NULL;
    size_t ctl, dl, pl = 0, wl = 0;

    ck_assert_int_eq(vault_key_public_pem(fx.svc, OWNER, VAULT, "cmk", NULL, &pem, &err), 0);
    spit(path("vpub.pem"), pem, strlen(pem));
    free(pem);
    ck_assert_int_eq(sh("openssl rand -out %s 32", path("dek.bin")), 0);
    dek = slurp(path("dek.bin"), &dl);
    ck_assert_int_eq(dl, 32);

    /* openssl wraps with OAEP (SHA-1), the vault unwraps */
    ck_assert_int_eq(sh("openssl pkeyutl -encrypt -pubin -inkey %s -pkeyopt rsa_padding_mode:oaep "
                        "-in %s -out %s",
                        path("vpub.pem"), path("dek.bin"), path("w1.bin")),
                     0);
    ct = slurp(path("w1.bin"), &ctl);
    ck_assert_msg(unwrap("cmk", NULL, VAULT_ALG_RSA_OAEP, (uint8_t *)ct, ctl, &p, &pl, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(pl, 32);
    ck_assert_mem_eq(p, dek, 32);
    vault_secret_free(&p, pl);
    free(ct);

    /* ... and with OAEP-256 */
    ck_assert_int_eq(sh("openssl pkeyutl -encrypt -pubin -inkey %s -pkeyopt rsa_padding_mode:oaep "
                        "-pkeyopt rsa_oaep_md:sha256 -in %s -out %s",
                        path("vpub.pem"), path("dek.bin"), path("w2.bin")),
                     0);
    ct = slurp(path("w2.bin"), &ctl);
    ck_assert_msg(unwrap("cmk", NULL, VAULT_ALG_RSA_OAEP_256, (uint8_t *)ct, ctl, &p, &pl, &err) ==
                      0,
                  "%s", err.msg);
    ck_assert_mem_eq(p, dek, 32);
    vault_secret_free(&p, pl);
    free(ct);

    /* the vault wraps with OAEP-256, openssl unwraps with the imported key's PEM */
    ck_assert_int_eq(
        wrap("cmk", NULL, VAULT_ALG_RSA_OAEP_256, (uint8_t *)dek, 32, &w, &wl, NULL, &err), 0);
    spit(path("w3.bin"), w, wl);
    free(w);
    ck_assert_int_eq(sh("openssl pkeyutl -decrypt -inkey %s -pkeyopt rsa_padding_mode:oaep "
                        "-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in %s -out %s",
                        g_pem, path("w3.bin"), path("d3.bin")),
                     0);
    ct = slurp(path("d3.bin"), &ctl);
    ck_assert_int_eq(ctl, 32);
    ck_assert_mem_eq(ct, dek, 32);
    free(ct);
    free(dek);
}
END_TEST
START_TEST(test_rotate_versions)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_info v1, v2, *l = NULL;
    uint8_t dek[32], *w = NULL, *p = NULL;
    size_t wl = 0, pl = 0, n = 0;
    char kid[VAULT_KID_MAX], kv[VAULT_NAME_MAX], kn[VAULT_KEY_NAME_MAX], kver[VAULT_VERSION_MAX];

    memset(dek, 9, sizeof dek);
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &v1, &err), 0);
    ck_assert_int_eq(wrap("cmk", NULL, VAULT_ALG_RSA_OAEP, dek, 32, &w, &wl, kid, &err), 0);
    ck_assert_int_eq(vault_key_rotate(fx.svc, OWNER, VAULT, "cmk", &v2, &err), 0);
    ck_assert_str_ne(v1.version, v2.version);
    ck_assert_str_ne(v1.n, v2.n);
    ck_assert_int_eq(v2.bits, 2048);
    ck_assert_int_eq(hooked.n, 1);
    ck_assert_str_eq(hooked.reason, "rotate");
    ck_assert_str_eq(hooked.old_version, v1.version);
    ck_assert_str_eq(hooked.new_version, v2.version);
    ck_assert_int_eq(vault_key_list_versions(fx.svc, OWNER, VAULT, "cmk", &l, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(l[0].version, v1.version);
    ck_assert_int_eq(l[0].current, 0);
    ck_assert_int_eq(l[1].current, 1);
    vault_key_infos_free(&l, n);
    /* the old ciphertext unwraps with the version from its kid, not with the current one */
    ck_assert_int_eq(vault_kid_parse(kid, kv, kn, kver, &err), 0);
    ck_assert_str_eq(kver, v1.version);
    ck_assert_int_eq(unwrap("cmk", NULL, VAULT_ALG_RSA_OAEP, w, wl, &p, &pl, &err), CMK_ECRYPTO);
    ck_assert_int_eq(unwrap(kn, kver, VAULT_ALG_RSA_OAEP, w, wl, &p, &pl, &err), 0);
    ck_assert_mem_eq(p, dek, 32);
    vault_secret_free(&p, pl);
    free(w);
    ck_assert_int_eq(wrap("cmk", NULL, VAULT_ALG_RSA_OAEP, dek, 32, &w, &wl, kid, &err), 0);
    ck_assert_ptr_nonnull(strstr(kid, v2.version));
    free(w);
    vault_key_info_clear(&v1);
    vault_key_info_clear(&v2);
    ck_assert_int_eq(audit_n(OWNER, "key.rotate", "ok"), 1);
}
END_TEST
START_TEST(test_enable_disable)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_update u;
    vault_key_info v1, v2, ki;

    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &v1, &err), 0);
    ck_assert_int_eq(vault_key_rotate(fx.svc, OWNER, VAULT, "cmk", &v2, &err), 0);
    memset(&u, 0, sizeof u);
    u.enabled = VAULT_OFF;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", NULL, &u, &ki, &err), 0);
    ck_assert_int_eq(ki.key_enabled, 0);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("cmk", NULL, &err), CMK_ESTATE);
    ck_assert_str_eq(err.msg, "key 'cmk' in vault 'contoso-kv' is disabled; enable it with: "
                              "cmkctl key enable contoso-kv cmk");
    ck_assert_int_eq(use_key("cmk", v1.version, &err), CMK_ESTATE);
    /* get still works on a disabled key */
    ck_assert_int_eq(vault_key_get(fx.svc, OWNER, VAULT, "cmk", NULL, &ki, &err), 0);
    vault_key_info_clear(&ki);
    u.enabled = VAULT_ON;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", NULL, &u, NULL, &err), 0);
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
    /* disable only the old version */
    u.enabled = VAULT_OFF;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", v1.version, &u, &ki, &err),
                     0);
    ck_assert_int_eq(ki.version_enabled, 0);
    ck_assert_int_eq(ki.key_enabled, 1);
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("cmk", v1.version, &err), CMK_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is disabled"));
    ck_assert_ptr_nonnull(strstr(err.msg, v1.version));
    ck_assert_ptr_nonnull(strstr(err.msg, "--version"));
    ck_assert_int_eq(use_key("cmk", NULL, &err), 0);
    ck_assert_int_eq(use_key("cmk", v2.version, &err), 0);
    /* disable the current version */
    ck_assert_int_eq(
        vault_key_update_attrs(fx.svc, OWNER, VAULT, "cmk", v2.version, &u, NULL, &err), 0);
    ck_assert_int_eq(use_key("cmk", NULL, &err), CMK_ESTATE);
    ck_assert_int_eq(audit_n(OWNER, "key.wrap", "ESTATE"), 4);
    vault_key_info_clear(&v1);
    vault_key_info_clear(&v2);
}
END_TEST
START_TEST(test_tags_and_key_ops)
{
    cmk_err err = CMK_ERR_INIT;
    vault_key_params p;
    vault_key_update u;
    vault_key_info ki;
    cJSON *tags = cJSON_CreateObject(), *many = cJSON_CreateObject();
    char k[16];

    cJSON_AddStringToObject(tags, "env", "prod");
    memset(&p, 0, sizeof p);
    p.tags = tags;
    p.key_ops = VAULT_KEYOP_WRAP_KEY;
    ck_assert_int_eq(vault_key_import(fx.svc, OWNER, VAULT, "wraponly", (uint8_t *)g_pem_data,
                                      g_pem_len, NULL, &p, &ki, &err),
                     0);
    ck_assert_str_eq(cJSON_GetObjectItem(ki.tags, "env")->valuestring, "prod");
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("wraponly", NULL, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not allow operation 'unwrapKey'"));
    memset(&u, 0, sizeof u);
    u.key_ops = VAULT_KEYOP_WRAP_KEY | VAULT_KEYOP_UNWRAP_KEY;
    cJSON_ReplaceItemInObject(tags, "env", cJSON_CreateString("test"));
    u.tags = tags;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "wraponly", NULL, &u, &ki, &err),
                     0);
    ck_assert_str_eq(cJSON_GetObjectItem(ki.tags, "env")->valuestring, "test");
    vault_key_info_clear(&ki);
    ck_assert_int_eq(use_key("wraponly", NULL, &err), 0);
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof k, "t%d", i);
        cJSON_AddStringToObject(many, k, "v");
    }
    u.key_ops = 0;
    u.tags = many;
    ck_assert_int_eq(vault_key_update_attrs(fx.svc, OWNER, VAULT, "wraponly", NULL, &u, NULL, &err),
                     CMK_ELIMIT);
    cJSON_Delete(tags);
    cJSON_Delete(many);
}
END_TEST
START_TEST(test_kid_parse)
{
    cmk_err err = CMK_ERR_INIT;
    char v[VAULT_NAME_MAX], n[VAULT_KEY_NAME_MAX], ver[VAULT_VERSION_MAX];

    ck_assert_int_eq(
        vault_kid_parse("https://contoso-kv.vault.azure.net/keys/cmk/abc123", v, n, ver, &err), 0);
    ck_assert_str_eq(v, "contoso-kv");
    ck_assert_str_eq(n, "cmk");
    ck_assert_str_eq(ver, "abc123");
    ck_assert_int_eq(
        vault_kid_parse("https://contoso-kv.vault.azure.net/keys/cmk", v, n, ver, &err), 0);
    ck_assert_str_eq(ver, "");
    ck_assert_int_eq(vault_kid_parse("contoso-kv/cmk/abc", v, n, ver, &err), 0);
    ck_assert_str_eq(v, "contoso-kv");
    ck_assert_str_eq(ver, "abc");
    ck_assert_int_eq(
        vault_kid_parse("https://contoso-kv.vault.azure.net/secrets/x", v, n, ver, &err),
        CMK_EINVAL);
    ck_assert_int_eq(vault_kid_parse("nokid", v, n, ver, &err), CMK_EINVAL);
    ck_assert_int_eq(vault_kid_parse("", v, n, ver, &err), CMK_EINVAL);
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
    Suite *s = suite_create("vault_keys");
    TCase *tc = tcase_create("keys");
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
    tcase_add_test(tc, test_create_sizes);
    tcase_add_test(tc, test_create_again_adds_version);
    tcase_add_test(tc, test_import_forms);
    tcase_add_test(tc, test_import_refusals);
    tcase_add_test(tc, test_get_matches_openssl);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_wrap_unwrap);
    tcase_add_test(tc, test_openssl_interop);
    tcase_add_test(tc, test_rotate_versions);
    tcase_add_test(tc, test_enable_disable);
    tcase_add_test(tc, test_tags_and_key_ops);
    tcase_add_test(tc, test_kid_parse);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_pem_data);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
