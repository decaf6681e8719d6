/*
 * fuzz_keyfile.h - what the key-file targets (fuzz_pfx.c, fuzz_byok.c) share: the check that
 * an accepted private key is whole (checks, fingerprint and a PKCS#8 round trip).
 */
#ifndef CMK_FUZZ_KEYFILE_H
#define CMK_FUZZ_KEYFILE_H

#include <openssl/evp.h>

#include "controller/tenantkey/tenantkey_int.h"
#include "fuzz.h"

/* fuzz_check_private_key - pk passes or fails the key checks with a message, and survives
 * PKCS#8 DER and back unchanged */
static inline void fuzz_check_private_key(EVP_PKEY *pk)
{
    cmk_err err = CMK_ERR_INIT;
    char fp[TENANTKEY_FP_MAX];
    uint8_t *der = NULL;
    size_t len = 0;
    EVP_PKEY *back = NULL;
    int rc;

    FUZZ_REQUIRE(pk != NULL, "success without a key");
    rc = tkc_check_key(pk, &err);
    fuzz_check_rc(rc, &err, "tkc_check_key");
    if (rc < 0)
        return;
    rc = tkc_fingerprint(pk, fp, &err);
    FUZZ_REQUIRE(rc == 0 && fp[0], "a checked key has no fingerprint: %s", err.msg);
    rc = tkc_private_der(pk, &der, &len, &err);
    FUZZ_REQUIRE(rc == 0 && der && len, "a checked key has no PKCS#8 form: %s", err.msg);
    rc = tkc_from_private_der(der, len, &back, &err);
    FUZZ_REQUIRE(rc == 0 && back, "PKCS#8 of a checked key does not load: %s", err.msg);
    FUZZ_REQUIRE(EVP_PKEY_eq(pk, back) == 1, "the key changed through PKCS#8");
    EVP_PKEY_free(back);
    tkc_secret_free(&der, len);
}

#endif
