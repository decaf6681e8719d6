/*
 * fuzz_byok.c - fuzz target for .byok files, both readers: the tenant keys' tkc_byok_kid and
 * tkc_byok_open (controller/tenantkey/tenantkey_crypto.c), and the vault's vault_key_import_byok
 * (controller/vault/vault_byok.c): JSON, schema, header, the key-exchange key's id, RSA-OAEP of the
 * transfer key, AES key wrap with padding, PKCS#8 of the target key.
 *
 * Input: a .byok document. The key-exchange key is tests/fuzz/keys/kek.pem with id KEK_KID
 * (tests/fuzz/make-corpus.sh makes the corpus for it); the vault reader gets it imported as
 * KEK "fuzz-westus-kek" of an in-memory vault "cmksim-byok" (throttling off). Contract: the
 * kid is read or refused with a message; opening gives a key or fails with a code and a
 * message and no key; an opened key passes or fails the key checks with a message and
 * survives PKCS#8 unchanged; a refused vault import adds no key version.
 */
#include "fuzz_keyfile.h"

#include <openssl/pem.h>
#include <sqlite3.h>

#include "controller/vault/vault.h"

#define KEK_KID "https://cmksim-byok.vault.azure.net/keys/fuzz-westus-kek/0123456789abcdef0123456789abcdef"

static EVP_PKEY *kek;      /* tests/fuzz/keys/kek.pem, loaded once */
static sqlite3 *db;        /* the vault's in-memory database */
static cmk_clock *clk;     /* its (virtual) clock */
static vault_svc *vault;   /* vault "cmksim-byok" holding the KEK */
static const uint8_t MASTER[VAULT_MASTER_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };

/* open_vault - the vault reader's world, once */
static void open_vault(void)
{
    cmk_err err = CMK_ERR_INIT;
    vault_config cfg;
    vault_props props = { .region = "westus" };
    vault_key_params p;
    size_t len;
    char *pem = fuzz_read_file("tests/fuzz/keys/kek.pem", &len);

    vault_config_defaults(&cfg);
    cfg.throttle_enabled = 0;
    FUZZ_REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK, "sqlite");
    clk = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    vault = vault_svc_new(db, clk, NULL, MASTER, &cfg, &err);
    FUZZ_REQUIRE(vault != NULL, "vault_svc_new: %s", err.msg);
    FUZZ_REQUIRE(vault_create(vault, "fuzz", "tenant-fuzz", "cmksim-byok", &props, NULL, &err) == 0,
                 "vault_create: %s", err.msg);
    memset(&p, 0, sizeof p);
    p.kty = VAULT_KTY_RSA_HSM;
    p.key_ops = VAULT_KEYOP_IMPORT;
    FUZZ_REQUIRE(vault_key_import(vault, "fuzz", "cmksim-byok", "fuzz-westus-kek", (uint8_t *)pem,
                                  len, NULL, &p, NULL, &err) == 0,
                 "importing the KEK: %s", err.msg);
    free(pem);
}

/* target_versions - how many versions key "target" has (0 if none) */
static size_t target_versions(void)
{
    vault_key_info *v = NULL;
    size_t n = 0;
    cmk_err err = CMK_ERR_INIT;
    if (vault_key_list_versions(vault, "fuzz", "cmksim-byok", "target", &v, &n, &err) < 0)
        return 0;
    vault_key_infos_free(&v, n);
    return n;
}

/* load_kek - the key-exchange key */
static void load_kek(void)
{
    size_t len;
    char *pem = fuzz_read_file("tests/fuzz/keys/kek.pem", &len);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);

    kek = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    FUZZ_REQUIRE(kek != NULL, "tests/fuzz/keys/kek.pem is not a private key");
    BIO_free(bio);
    free(pem);
}

/* LLVMFuzzerTestOneInput - read the kid, open the file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmk_err err = CMK_ERR_INIT, kerr = CMK_ERR_INIT;
    char kid[TENANTKEY_KID_MAX];
    EVP_PKEY *pk = NULL;
    int rc, krc;

    if (!kek) {
        load_kek();
        open_vault();
    }
    krc = tkc_byok_kid(data, size, kid, &kerr);
    fuzz_check_rc(krc, &kerr, "tkc_byok_kid");
    FUZZ_REQUIRE(krc < 0 || kid[0], "a read kid is empty");
    rc = tkc_byok_open(data, size, KEK_KID, kek, &pk, &err);
    fuzz_check_rc(rc, &err, "tkc_byok_open");
    if (rc == 0) {
        FUZZ_REQUIRE(krc == 0, "opened a .byok whose kid does not read: %s", kerr.msg);
        fuzz_check_private_key(pk);
    } else {
        FUZZ_REQUIRE(pk == NULL, "a refused .byok gave a key");
        FUZZ_REQUIRE(rc == CMK_EINVAL || rc == CMK_ECRYPTO || rc == CMK_ENOMEM,
                     "a bad .byok gave %s", cmk_code_name(rc));
    }
    EVP_PKEY_free(pk);
    {
        cmk_err verr = CMK_ERR_INIT;
        size_t before = target_versions();
        int vrc = vault_key_import_byok(vault, "fuzz", "cmksim-byok", "target", (const char *)data,
                                        size, NULL, NULL, &verr);
        fuzz_check_rc(vrc, &verr, "vault_key_import_byok");
        FUZZ_REQUIRE(target_versions() == before + (vrc == 0), "a %s import left %zu versions of %zu",
                     vrc == 0 ? "good" : "refused", target_versions(), before);
    }
    return 0;
}
