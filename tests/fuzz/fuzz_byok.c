/*
 * fuzz_byok.c - fuzz target for .byok files: tkc_byok_kid and tkc_byok_open
 * (controller/tenantkey_crypto.c): JSON, schema, header, the key-exchange key's id, RSA-OAEP
 * of the transfer key, AES key wrap with padding, PKCS#8 of the target key.
 *
 * Input: a .byok document. The key-exchange key is tests/fuzz/keys/kek.pem with id KEK_KID
 * (tests/fuzz/make-corpus.sh makes the corpus for it). Contract: the kid is read or refused
 * with a message; opening gives a key or fails with a code and a message and no key; an
 * opened key passes or fails the key checks with a message and survives PKCS#8 unchanged.
 */
#include "fuzz_keyfile.h"

#include <openssl/pem.h>

#define KEK_KID "https://cmksim-byok.vault.azure.net/keys/fuzz-westus-kek/0123456789abcdef0123456789abcdef"

static EVP_PKEY *kek; /* tests/fuzz/keys/kek.pem, loaded once */

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

    if (!kek)
        load_kek();
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
    return 0;
}
