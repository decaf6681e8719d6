/*
 * fuzz_pfx.c - fuzz target for uploaded private-key files: the tenant's .pfx upload
 * (tkc_pfx_parse, controller/tenantkey/tenantkey_crypto.c) and the vault's key.import (vrsa_parse_private,
 * controller/vault/vault_rsa.c: PEM, DER or PKCS#12).
 *
 * Input: a file's bytes; the password is "fuzz-password" (the corpus is made with it by
 * tests/fuzz/make-corpus.sh). Contract: each reader gives a key or fails with a code and a
 * message; an accepted key passes or fails the key checks with a message and survives PKCS#8
 * unchanged; with a wrong password no reader accepts a MAC-protected .pfx.
 */
#include "fuzz_keyfile.h"

#include "controller/vault/vault_int.h"

#define PASSWORD "fuzz-password"

/* LLVMFuzzerTestOneInput - read the file as .pfx and as a key.import body */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmk_err err = CMK_ERR_INIT, verr = CMK_ERR_INIT;
    EVP_PKEY *pk = NULL, *vk = NULL;
    int rc, vrc, bits = 0;

    rc = tkc_pfx_parse(data, size, PASSWORD, &pk, &err);
    fuzz_check_rc(rc, &err, "tkc_pfx_parse");
    if (rc == 0)
        fuzz_check_private_key(pk);
    else
        FUZZ_REQUIRE(pk == NULL, "a refused .pfx gave a key");
    vrc = vrsa_parse_private(data, size, PASSWORD, &vk, &verr);
    fuzz_check_rc(vrc, &verr, "vrsa_parse_private");
    if (vrc == 0) {
        cmk_err cerr = CMK_ERR_INIT;
        int crc = vrsa_check_key(vk, &bits, &cerr);
        fuzz_check_rc(crc, &cerr, "vrsa_check_key");
        FUZZ_REQUIRE(crc < 0 || bits >= 2048, "an accepted key has %d bits", bits);
    } else {
        FUZZ_REQUIRE(vk == NULL, "a refused import gave a key");
    }
    /* a wrong password opens nothing that the right one did not */
    if (rc == 0) {
        EVP_PKEY *wk = NULL;
        cmk_err werr = CMK_ERR_INIT;
        int wrc = tkc_pfx_parse(data, size, "not-the-password", &wk, &werr);
        fuzz_check_rc(wrc, &werr, "tkc_pfx_parse (wrong password)");
        FUZZ_REQUIRE(wrc < 0 || EVP_PKEY_eq(pk, wk) == 1, "another password gave another key");
        EVP_PKEY_free(wk);
    }
    EVP_PKEY_free(pk);
    EVP_PKEY_free(vk);
    return 0;
}
