/*
 * tenantkey_test.c - the legacy tenant keys (seed 003): the feature must be turned on; generate
 * hands out a .pfx that the openssl CLI reads with the password (AES-256-CBC, SHA-256 MAC);
 * .pfx files made by the openssl CLI upload; refusals (wrong or missing password, 1024-bit,
 * EC, not a .pfx, names, duplicates); .byok uploads for the tenant region's key-exchange key
 * (vault_byok_export and an independent openssl-only producer), 3072- and 1024-bit .byok
 * refused; the first key activates at once and later ones do not; activation through
 * Installing with the 24-hour rule at one second before and after; exactly one Active key;
 * re-encryption of self-managed environments; the audit of every call; no plaintext private
 * key in controller.db; resume after a restart; the master key check; the notices.
 */
#include "tests/data/tenantkey/tenantkey_fixture.h"

#include <openssl/evp.h>

#include "controller/vault/vault.h"

/* test_feature_off - nothing works before the feature is on; enabling twice is refused */
START_TEST(test_feature_off)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t *pfx = NULL;
    size_t len = 0, n;
    char *data = slurp(path("a.pfx"), &n);

    ok(directory_tenant_create(fx.dir, "fabrikam", "Fabrikam", NULL, &err), err);
    expect(tenantkey_upload(fx.tk, ADMIN, "fabrikam", "unitedstates", "k", (uint8_t *)data, n,
                            "pass-a", TENANTKEY_FORMAT_PFX, NULL, &err),
           err, CMK_ESTATE, "is not turned on for tenant 'fabrikam'");
    expect(tenantkey_generate(fx.tk, ADMIN, "fabrikam", "unitedstates", "k", "pw", &pfx, &len, NULL,
                              &err),
           err, CMK_ESTATE, "must be turned on");
    ck_assert_ptr_null(pfx);
    expect(tenantkey_enable_byok(fx.tk, ADMIN, TENANT, &err), err, CMK_EEXIST, "already");
    expect(tenantkey_enable_byok(fx.tk, ADMIN, "nobody", &err), err, CMK_ENOENT, "no tenant");
    expect(tenantkey_enable_byok(fx.tk, NULL, "fabrikam", &err), err, CMK_EPERM, "principal");
    ok(tenantkey_enable_byok(fx.tk, ADMIN, "fabrikam", &err), err);
    ok(tenantkey_upload(fx.tk, ADMIN, "fabrikam", "unitedstates", "k", (uint8_t *)data, n, "pass-a",
                        TENANTKEY_FORMAT_PFX, NULL, &err),
       err);
    free(data);
}
END_TEST

/* modulus_fp - SHA-256 of the modulus that `openssl rsa -modulus` prints, hex */
static void modulus_fp(const char *pem_path, char fp[65])
{
    char cmd[512], line[1200], *hex;
    uint8_t bin[600], md[32];
    unsigned int mdlen = 0;
    size_t n = 0;
    FILE *p;

    snprintf(cmd, sizeof cmd, "openssl rsa -in %s -modulus -noout 2>/dev/null", pem_path);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
    pclose(p);
    hex = strchr(line, '=');
    ck_assert_ptr_nonnull(hex);
    for (hex++; hex[0] && hex[1] && hex[0] != '\n'; hex += 2) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
        bin[n++] = (uint8_t)v;
    }
    ck_assert_int_eq(EVP_Digest(bin, n, md, &mdlen, EVP_sha256(), NULL), 1);
    cmk_hex_encode(md, sizeof md, fp, 65);
}

/* test_generate_pfx_openssl_reads - the generated .pfx opens with openssl and the password */
START_TEST(test_generate_pfx_openssl_reads)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    uint8_t *pfx = NULL;
    size_t len = 0, n, dn, kn;
    char *pem, *db, *der, fp[65];

    expect(tenantkey_generate(fx.tk, ADMIN, TENANT, "unitedstates", "gen1", "", &pfx, &len, NULL,
                              &err),
           err, CMK_EINVAL, "a password is required");
    ok(tenantkey_generate(fx.tk, ADMIN, TENANT, "unitedstates", "gen1", "gen-pass-1", &pfx, &len,
                          &k, &err),
       err);
    ck_assert_int_eq(k.bits, 2048);
    ck_assert_str_eq(k.source, "generated");
    ck_assert_int_eq(k.state, TENANTKEY_KEY_INSTALLING); /* the first key: activated at once */
    spit(path("gen1.pfx"), pfx, len);
    free(pfx);
    ck_assert_int_eq(sh("openssl pkcs12 -in %s -passin pass:gen-pass-1 -nodes -out %s 2>/dev/null",
                        path("gen1.pfx"), path("gen1.pem")),
                     0);
    pem = slurp(path("gen1.pem"), &n);
    ck_assert_ptr_nonnull(strstr(pem, "PRIVATE KEY-----"));
    ck_assert_ptr_nonnull(strstr(pem, "BEGIN CERTIFICATE"));
    ck_assert_ptr_nonnull(strstr(pem, "gen1"));
    free(pem);
    ck_assert_int_eq(sh("openssl pkcs12 -info -in %s -passin pass:gen-pass-1 -noout 2>&1 | "
                        "grep -q 'MAC: sha256' && openssl pkcs12 -info -in %s -passin "
                        "pass:gen-pass-1 -noout 2>&1 | grep -q 'AES-256-CBC'",
                        path("gen1.pfx"), path("gen1.pfx")),
                     0);
    ck_assert_int_ne(sh("openssl pkcs12 -in %s -passin pass:wrong -nodes -out /dev/null "
                        "2>/dev/null",
                        path("gen1.pfx")),
                     0);
    /* the stored key is the one in the file: same modulus */
    modulus_fp(path("gen1.pem"), fp);
    ck_assert_str_eq(fp, k.fingerprint);
    /* no plaintext private key in controller.db: look for a piece of its PKCS#8 DER */
    ck_assert_int_eq(sh("openssl pkcs8 -topk8 -nocrypt -in %s -outform DER -out %s",
                        path("gen1.pem"), path("gen1.der")),
                     0);
    der = slurp(path("gen1.der"), &kn);
    db = slurp(fx.dbpath, &dn);
    ck_assert(kn > 400);
    ck_assert_ptr_null(memmem(db, dn, der + kn - 200, 32));
    ck_assert_ptr_null(memmem(db, dn, der + kn - 400, 32));
    free(der);
    free(db);
}
END_TEST

/* test_first_upload_activates - the first key activates at once, a later one does not */
START_TEST(test_first_upload_activates)
{
    tenantkey_key_info a, b;

    a = upload_ok("ka", "a.pfx", "pass-a");
    ck_assert_int_eq(a.state, TENANTKEY_KEY_INSTALLING);
    ck_assert_str_eq(a.source, "pfx");
    ck_assert_int_eq(a.active_at_ms - a.activated_ms, 10 * MINUTE);
    advance_to(a.active_at_ms - SEC);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_INSTALLING);
    ck_assert_int_eq(fx.events[0], 0);
    advance_to(a.active_at_ms + SEC);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
    ck_assert_int_eq(fx.events[0], 1);
    b = upload_ok("kb", "b.pfx", "pass-b");
    ck_assert_int_eq(b.state, TENANTKEY_KEY_AVAILABLE);
    advance(HOUR);
    ck_assert_int_eq(key_state("kb"), TENANTKEY_KEY_AVAILABLE);
    ck_assert_int_eq(count_state(TENANTKEY_KEY_ACTIVE), 1);
}
END_TEST

/* test_upload_refusals - every refusal with its reason; nothing is stored */
START_TEST(test_upload_refusals)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_format f = TENANTKEY_FORMAT_PFX;

    expect(upload("kx", "unitedstates", "a.pfx", "wrong", f, NULL, &err), err, CMK_EINVAL,
           "the password does not open this .pfx file");
    expect(upload("kx", "unitedstates", "a.pfx", NULL, f, NULL, &err), err, CMK_EINVAL,
           "must be password protected");
    expect(upload("kx", "unitedstates", "r1024.pfx", "pass-1024", f, NULL, &err), err, CMK_EINVAL,
           "is a 1024-bit RSA key; the encryption key must be a 2048-bit RSA key");
    expect(upload("kx", "unitedstates", "ec.pfx", "pass-ec", f, NULL, &err), err, CMK_EINVAL,
           "is an EC key; the encryption key must be a 2048-bit RSA key");
    expect(upload("kx", "unitedstates", "a.crt", "pass-a", f, NULL, &err), err, CMK_EINVAL,
           "not a PKCS#12 (.pfx) file");
    expect(upload("kx", "unitedstates", "a.pfx", "pass-a", (tenantkey_format)0, NULL, &err), err,
           CMK_EINVAL, "must be PFX or BYOK");
    expect(upload("kx", "mars", "a.pfx", "pass-a", f, NULL, &err), err, CMK_EINVAL,
           "unknown region 'mars'");
    expect(upload("k x", "unitedstates", "a.pfx", "pass-a", f, NULL, &err), err, CMK_EINVAL,
           "is not valid");
    ck_assert_int_eq(count_state(TENANTKEY_KEY_AVAILABLE) + count_state(TENANTKEY_KEY_INSTALLING),
                     0);
    upload_ok("ka", "a.pfx", "pass-a");
    expect(upload("ka", "unitedstates", "b.pfx", "pass-b", f, NULL, &err), err, CMK_EEXIST,
           "has a key named 'ka' already");
    expect(upload("ka2", "unitedstates", "a.pfx", "pass-a", f, NULL, &err), err, CMK_EEXIST,
           "this key is in tenant 'contoso' already, as key 'ka'");
    ck_assert_int_eq(count_state(TENANTKEY_KEY_INSTALLING), 1);
    ck_assert_int_eq(audit_count_of("tenantkey.upload", "EINVAL"), 8);
}
END_TEST

/* byok_for - export a PEM key for the tenant region's KEK with vault_byok_export */
static void byok_for(const char *region, const char *key_file, const char *out_file)
{
    cmk_err err = CMK_ERR_INIT;
    char kid[TENANTKEY_KID_MAX], *pem = NULL, *json = NULL, *key;
    size_t n;

    ok(tenantkey_kek_public_pem(fx.tk, ADMIN, TENANT, region, &pem, kid, &err), err);
    key = slurp(path(key_file), &n);
    ok(vault_byok_export(kid, pem, (uint8_t *)key, n, "test HSM", &json, &err), err);
    spit(path(out_file), json, strlen(json));
    free(json);
    free(key);
    free(pem);
}

/* test_byok_upload - .byok files for the region's key-exchange key */
START_TEST(test_byok_upload)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    char kid[TENANTKEY_KID_MAX], kid2[TENANTKEY_KID_MAX], *pem = NULL;
    const char *script;
    tenantkey_format B = TENANTKEY_FORMAT_BYOK;

    byok_for("unitedstates", "c.key", "c.byok");
    expect(upload("kc", "europe", "c.byok", NULL, B, NULL, &err), err, CMK_ESTATE,
           "has no key-exchange key in region 'europe'");
    ok(upload("kc", "unitedstates", "c.byok", NULL, B, &k, &err), err);
    ck_assert_str_eq(k.source, "byok");
    ck_assert_int_eq(k.state, TENANTKEY_KEY_INSTALLING);
    /* it is the same RSA key as the one in c.pfx */
    expect(upload("kc2", "unitedstates", "c.pfx", "pass-c", TENANTKEY_FORMAT_PFX, NULL, &err), err,
           CMK_EEXIST, "as key 'kc'");
    byok_for("unitedstates", "r3072.key", "r3072.byok");
    expect(upload("k3", "unitedstates", "r3072.byok", NULL, B, NULL, &err), err, CMK_EINVAL,
           "is a 3072-bit RSA key; the encryption key must be a 2048-bit RSA key");
    /* an independent producer (openssl CLI only) */
    ok(tenantkey_kek_public_pem(fx.tk, ADMIN, TENANT, "unitedstates", &pem, kid, &err), err);
    spit(path("kek.pub"), pem, strlen(pem));
    free(pem);
    script = getenv("CMK_SOURCE_DIR");
    ck_assert_int_eq(sh("sh %s/tests/data/vault/make_byok.sh %s '%s' %s %s",
                        script && *script ? script : CMK_SOURCE_DIR, path("kek.pub"), kid,
                        path("r1024.key"), path("r1024.byok")),
                     0);
    expect(upload("k1", "unitedstates", "r1024.byok", NULL, B, NULL, &err), err, CMK_EINVAL,
           "is a 1024-bit RSA key");
    ck_assert_int_eq(sh("sh %s/tests/data/vault/make_byok.sh %s '%s' %s %s",
                        script && *script ? script : CMK_SOURCE_DIR, path("kek.pub"), kid,
                        path("b.key"), path("b.byok")),
                     0);
    ok(upload("kb", "unitedstates", "b.byok", NULL, B, &k, &err), err);
    ck_assert_int_eq(k.state, TENANTKEY_KEY_AVAILABLE);
    /* a .byok made for another region's key-exchange key */
    byok_for("europe", "a.key", "a-eu.byok");
    expect(upload("ka", "unitedstates", "a-eu.byok", NULL, B, NULL, &err), err, CMK_EINVAL,
           "was made for key-exchange key");
    ok(upload("ka", "europe", "a-eu.byok", NULL, B, &k, &err), err);
    /* the key-exchange key stays the same */
    ok(tenantkey_kek_public_pem(fx.tk, ADMIN, TENANT, "unitedstates", &pem, kid2, &err), err);
    free(pem);
    ck_assert_str_eq(kid, kid2);
    ck_assert_ptr_nonnull(
        strstr(kid, "https://cmksim-byok.vault.azure.net/keys/contoso-unitedstates-kek/"));
}
END_TEST

/* test_activation_rules - Installing, 24 hours between activations, one Active key */
START_TEST(test_activation_rules)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = active_a(), b;
    tenantkey_env_state st;
    const char *env = new_env("Contoso Dev", "sandbox", "unitedstates");
    char ts[40], want[96];

    ok(tenantkey_apply_to_env(fx.tk, ADMIN, env, 1, &st, &err), err);
    ck_assert_str_eq(st.key, "ka");
    upload_ok("kb", "b.pfx", "pass-b");
    advance_to(a.activated_ms + 24 * HOUR - SEC);
    cmk_time_format(a.activated_ms + 24 * HOUR, ts, sizeof ts);
    snprintf(want, sizeof want, "until 24 hours after the last activation (%s)", ts);
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", NULL, &err), err, CMK_ESTATE, want);
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", NULL, &err), err, CMK_ESTATE,
           "another key cannot be activated until 24 hours after the last activation");
    advance_to(a.activated_ms + 24 * HOUR + SEC);
    ok(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", &b, &err), err);
    ck_assert_int_eq(b.state, TENANTKEY_KEY_INSTALLING);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", NULL, &err), err, CMK_ESTATE,
           "being installed already");
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "ka", NULL, &err), err, CMK_ESTATE,
           "is the active key already");
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "nope", NULL, &err), err, CMK_ENOENT,
           "has no key 'nope'");
    advance_to(b.active_at_ms - SEC);
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, env, &st, &err), err);
    ck_assert_str_eq(st.key, "ka");
    advance_to(b.active_at_ms + SEC);
    ck_assert_int_eq(key_state("kb"), TENANTKEY_KEY_ACTIVE);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_AVAILABLE);
    ck_assert_int_eq(count_state(TENANTKEY_KEY_ACTIVE), 1);
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, env, &st, &err), err);
    ck_assert_str_eq(st.key, "kb"); /* re-encrypted with the new key, no downtime */
    ck_assert_int_eq(st.mode, TENANTKEY_ENV_SELF_MANAGED);
    ck_assert_str_eq(dir_state(env), "Ready");
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "ka", NULL, &err), err, CMK_ESTATE,
           "until 24 hours after the last activation");
    ck_assert_int_eq(audit_count_of("tenantkey.key_active", "ok"), 2);
}
END_TEST

/* test_audit_every_call - allowed and refused calls are in the audit log with their result */
START_TEST(test_audit_every_call)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info *keys = NULL;
    tenantkey_env_state st;
    cJSON *status = NULL;
    size_t n;
    int64_t before = 0, after = 0, first = 0;

    ok(audit_count(fx.audit, &before, &err), err);
    expect(tenantkey_activate(fx.tk, ADMIN, TENANT, "ghost", NULL, &err), err, CMK_ENOENT, "ghost");
    ok(tenantkey_list(fx.tk, ADMIN, TENANT, &keys, &n, &err), err);
    tenantkey_key_infos_free(&keys);
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, new_env("E", "sandbox", "europe"), &st, &err), err);
    ok(tenantkey_status(fx.tk, ADMIN, TENANT, &status, &err), err);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(status, "byok_enabled")));
    cJSON_Delete(status);
    ok(audit_count(fx.audit, &after, &err), err);
    ck_assert_int_eq(after - before, 4);
    ck_assert_int_eq(audit_count_of("tenantkey.activate", "ENOENT"), 1);
    ck_assert_int_eq(audit_count_of("tenantkey.list", "ok"), 1);
    ck_assert_int_eq(audit_count_of("tenantkey.env_state", "ok"), 1);
    ck_assert_int_eq(audit_count_of("tenantkey.enable_byok", "ok"), 1);
    ck_assert_int_eq(audit_verify(fx.audit, &first, &err), 0);
}
END_TEST

/* test_notices - the Microsoft-key-only features and the legacy notice */
START_TEST(test_notices)
{
    size_t n = 0;
    const char *const *f = tenantkey_mmk_only_features(&n);
    const char *notice = tenantkey_deprecation_notice();

    ck_assert_int_eq(n, 6);
    ck_assert_str_eq(f[0], "Copilots and generative AI features in Microsoft Power Platform and "
                           "Microsoft Dynamics 365");
    ck_assert_str_eq(f[1], "Dataverse search");
    ck_assert_str_eq(f[2], "Elastic tables");
    ck_assert_str_eq(f[3], "Mobile Offline");
    ck_assert_str_eq(f[4], "Activity Log (Microsoft 365 portal)");
    ck_assert_str_eq(f[5], "Exchange (Server-side sync)");
    ck_assert_ptr_nonnull(strstr(notice, "January 6, 2026"));
    ck_assert_ptr_nonnull(strstr(notice, "June 1, 2025"));
    ck_assert_ptr_nonnull(strstr(notice, "production environments"));
}
END_TEST

/* test_resume_after_restart - transitions due while the service was down happen on resume */
START_TEST(test_resume_after_restart)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = upload_ok("ka", "a.pfx", "pass-a");
    tenantkey_config bad;
    static const uint8_t OTHER[32] = {9};

    tenantkey_svc_destroy(&fx.tk);
    ck_assert_int_eq(cmk_clock_pending(fx.clock), 0); /* its timers went with it */
    advance_to(a.active_at_ms + MINUTE);
    fx_open_svc();
    ok(tenantkey_svc_resume(fx.tk, &err), err);
    ck_assert_int_eq(fx.events[0], 1);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
    /* a pending transition gets its timer back */
    upload_ok("kb", "b.pfx", "pass-b");
    advance(24 * HOUR);
    ok(tenantkey_activate(fx.tk, ADMIN, TENANT, "kb", NULL, &err), err);
    tenantkey_svc_destroy(&fx.tk);
    fx_open_svc();
    ok(tenantkey_svc_resume(fx.tk, &err), err);
    ck_assert_int_eq(cmk_clock_pending(fx.clock), 1);
    advance(10 * MINUTE + SEC);
    ck_assert_int_eq(fx.events[0], 2);
    ck_assert_int_eq(key_state("kb"), TENANTKEY_KEY_ACTIVE);
    /* the master key check */
    bad = fx.cfg;
    bad.master_key = OTHER;
    ck_assert_ptr_null(tenantkey_svc_new(fx.db, fx.clock, fx.audit, fx.dir, &bad, &err));
    expect(err.code, err, CMK_ECRYPTO, "master key does not match");
}
END_TEST

/* test_status - the status view names the active key and the rule times */
START_TEST(test_status)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info a = active_a();
    cJSON *s = NULL, *r;
    char ts[40];

    ok(tenantkey_status(fx.tk, ADMIN, TENANT, &s, &err), err);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "regions"), 0);
    ck_assert_str_eq(cmk_json_str(r, "active_key", ""), "ka");
    ck_assert_str_eq(cmk_json_str(r, "next_activation_allowed", ""),
                     cmk_time_format(a.activated_ms + 24 * HOUR, ts, sizeof ts));
    ck_assert_str_eq(cmk_json_str(r, "lock_allowed_from", ""),
                     cmk_time_format(a.active_at_ms + 72 * HOUR, ts, sizeof ts));
    cJSON_Delete(s);
    s = tenantkey_key_info_to_json(&a);
    ck_assert_str_eq(cmk_json_str(s, "name", ""), "ka");
    ck_assert_str_eq(cmk_json_str(s, "state", ""), "Installing"); /* as returned by upload */
    ck_assert_str_eq(cmk_json_str(s, "fingerprint", ""), a.fingerprint);
    cJSON_Delete(s);
}
END_TEST

/* main - make the test keys, run the suite; non-zero on failure */
int main(void)
{
    Suite *s = suite_create("tenantkey");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_feature_off);
    tcase_add_test(tc, test_generate_pfx_openssl_reads);
    tcase_add_test(tc, test_first_upload_activates);
    tcase_add_test(tc, test_upload_refusals);
    tcase_add_test(tc, test_byok_upload);
    tcase_add_test(tc, test_activation_rules);
    tcase_add_test(tc, test_audit_every_call);
    tcase_add_test(tc, test_notices);
    tcase_add_test(tc, test_resume_after_restart);
    tcase_add_test(tc, test_status);
    suite_add_tcase(s, tc);
    return fixture_run(s, "tenantkey_test");
}
