/*
 * envelope_direct_test.c - Check suite for the seal/open path that sets each record's IV on
 * an already-keyed AES-256-GCM context (common/gcmctx, used by common/envelope): the direct
 * provider path is the one taken, many records in a row each open and match an independent EVP
 * encryption byte for byte, consecutive seals never repeat a nonce, a tampered record is
 * refused, a context refuses a second record without a fresh IV, and the EVP fallback does
 * the same. Every test runs on both paths (loop index 0: direct, 1: EVP).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/envelope.h"
#include "common/gcmctx.h"

#define NONCE_OFF (1 + CMK_DEK_ID_LEN) /* where the nonce sits in a blob */
#define MAXLEN 4096                    /* largest record these tests seal */

static const cmk_place HOME = {"env-1", "runs", "0001", "outputs"}; /* default place */

/* sealer_on - a sealer on path 0 (direct) or 1 (EVP) */
static cmk_sealer *sealer_on(int path)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = cmk_sealer_new(&err);
    ck_assert_msg(s != NULL, "cmk_sealer_new: %s", err.msg);
    if (path == 1)
        cmk_sealer_use_evp(s);
    ck_assert_int_eq(cmk_sealer_direct(s), path == 0);
    return s;
}

/* new_dek - a generated DEK */
static cmk_dek *new_dek(void)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_dek *d = cmk_dek_generate(&err);
    ck_assert_msg(d != NULL, "cmk_dek_generate: %s", err.msg);
    return d;
}

/* aad_of - the AAD of a blob at HOME under dek, built by hand as envelope.h documents it */
static size_t aad_of(const cmk_dek *dek, uint8_t *aad)
{
    const char *f[4] = {HOME.env, HOME.table, HOME.row, HOME.column};
    size_t n = 0;

    aad[n++] = CMK_BLOB_FORMAT_V1;
    memcpy(aad + n, cmk_dek_id(dek), CMK_DEK_ID_LEN);
    n += CMK_DEK_ID_LEN;
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(f[i]);
        aad[n++] = 0;
        aad[n++] = 0;
        aad[n++] = 0;
        aad[n++] = (uint8_t)l;
        memcpy(aad + n, f[i], l);
        n += l;
    }
    return n;
}

/* be32 - a big-endian counter */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(test_direct_is_taken)
{
    /* with Debian's OpenSSL 3 default provider the direct path must be found, not fall back */
    cmk_sealer *s = sealer_on(0);
    cmk_sealer_use_evp(s);
    ck_assert_int_eq(cmk_sealer_direct(s), 0);
    cmk_sealer_destroy(&s);
    ck_assert_int_eq(cmk_sealer_direct(NULL), 0);
    cmk_sealer_use_evp(NULL); /* NULL-safe */
}
END_TEST

START_TEST(test_many_in_a_row)
{
    /* records of many sizes sealed back to back on one context: each one has the next nonce
     * of the DEK, opens, and equals an independent EVP encryption under its own nonce */
    enum { N = 3000 };
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = sealer_on(_i), *other = sealer_on(1 - _i);
    cmk_dek *dek = new_dek();
    uint8_t *plain = malloc(MAXLEN), *blob = malloc(MAXLEN + CMK_BLOB_OVERHEAD);
    uint8_t *ct = malloc(MAXLEN), *back = malloc(MAXLEN), aad[128], tag[CMK_BLOB_TAG_LEN];
    uint8_t prev[CMK_BLOB_NONCE_LEN];
    size_t alen = aad_of(dek, aad), blen, olen;

    ck_assert(plain && blob && ct && back);
    ck_assert_int_eq(RAND_bytes(plain, MAXLEN), 1);
    for (int i = 0; i < N; i++) {
        size_t len = i % 97 == 0 ? MAXLEN : (size_t)(i * 37) % 1100; /* 0 included */
        if (cmk_seal(s, dek, &HOME, plain, len, blob, len + CMK_BLOB_OVERHEAD, &blen, &err) != 0)
            ck_abort_msg("seal %d: %s", i, err.msg);
        if (i > 0 && (memcmp(blob + NONCE_OFF, prev, 8) != 0 ||
                      be32(blob + NONCE_OFF + 8) != be32(prev + 8) + 1))
            ck_abort_msg("seal %d: nonce is not the next one of the DEK", i);
        memcpy(prev, blob + NONCE_OFF, sizeof prev);
        if (cmk_gcm256_seal_raw(cmk_dek_key(dek), blob + NONCE_OFF, aad, alen, plain, len, ct, tag,
                                &err) != 0)
            ck_abort_msg("raw seal %d: %s", i, err.msg);
        if (memcmp(ct, blob + CMK_BLOB_HEADER_LEN, len) != 0 ||
            memcmp(tag, blob + CMK_BLOB_HEADER_LEN + len, sizeof tag) != 0)
            ck_abort_msg("seal %d (%zu bytes) differs from EVP under the same nonce", i, len);
        if (cmk_open(s, dek, &HOME, blob, blen, back, MAXLEN, &olen, &err) != 0 || olen != len ||
            memcmp(back, plain, len) != 0)
            ck_abort_msg("open %d on the same sealer: %s", i, err.msg);
        if (cmk_open(other, dek, &HOME, blob, blen, back, MAXLEN, &olen, &err) != 0 ||
            memcmp(back, plain, len) != 0)
            ck_abort_msg("open %d on the other path: %s", i, err.msg);
    }
    ck_assert_uint_eq(be32(prev + 8), N - 1);
    free(plain);
    free(blob);
    free(ct);
    free(back);
    cmk_dek_destroy(&dek);
    cmk_sealer_destroy(&s);
    cmk_sealer_destroy(&other);
}
END_TEST

START_TEST(test_tamper_refused)
{
    /* every flipped bit after the DEK id is refused with the plaintext wiped, and the context
     * opens and seals the next good record afterwards */
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = sealer_on(_i);
    cmk_dek *dek = new_dek();
    uint8_t plain[300], blob[sizeof plain + CMK_BLOB_OVERHEAD], out[sizeof plain];
    size_t blen, olen;

    memset(plain, 'r', sizeof plain);
    ck_assert_int_eq(cmk_seal(s, dek, &HOME, plain, sizeof plain, blob, sizeof blob, &blen, &err),
                     0);
    for (size_t i = NONCE_OFF; i < blen; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            blob[i] ^= (uint8_t)(1u << bit);
            memset(out, 0xAA, sizeof out);
            int rc = cmk_open(s, dek, &HOME, blob, blen, out, sizeof out, &olen, &err);
            blob[i] ^= (uint8_t)(1u << bit);
            if (rc != CMK_ECRYPTO)
                ck_abort_msg("flip of bit %d at byte %zu: rc %d", bit, i, rc);
            for (size_t j = 0; j < sizeof out; j++)
                if (out[j] != 0)
                    ck_abort_msg("unauthenticated plaintext left after a flip at byte %zu", i);
            if (i % 64 == 0) { /* the context recovers: a good record opens, a new one seals */
                uint8_t b2[sizeof blob];
                size_t l2;
                ck_assert_int_eq(cmk_open(s, dek, &HOME, blob, blen, out, sizeof out, &olen, &err),
                                 0);
                ck_assert_mem_eq(out, plain, sizeof plain);
                ck_assert_int_eq(
                    cmk_seal(s, dek, &HOME, plain, sizeof plain, b2, sizeof b2, &l2, &err), 0);
                ck_assert_int_eq(cmk_open(s, dek, &HOME, b2, l2, out, sizeof out, &olen, &err), 0);
            }
        }
    /* another place, another DEK of the same id and other key bytes: refused too */
    cmk_place moved = HOME;
    moved.row = "0002";
    ck_assert_int_eq(cmk_open(s, dek, &moved, blob, blen, out, sizeof out, &olen, &err),
                     CMK_ECRYPTO);
    uint8_t key[CMK_DEK_KEY_LEN];
    memcpy(key, cmk_dek_key(dek), sizeof key);
    key[5] ^= 1;
    cmk_dek *twin = cmk_dek_from_bytes(cmk_dek_id(dek), key, &err);
    ck_assert_ptr_nonnull(twin);
    ck_assert_int_eq(cmk_open(s, twin, &HOME, blob, blen, out, sizeof out, &olen, &err),
                     CMK_ECRYPTO);
    ck_assert_int_eq(cmk_open(s, dek, &HOME, blob, blen, out, sizeof out, &olen, &err), 0);
    cmk_wipe(key, sizeof key);
    cmk_dek_destroy(&twin);
    cmk_dek_destroy(&dek);
    cmk_sealer_destroy(&s);
}
END_TEST

START_TEST(test_keys_switch)
{
    /* two DEKs alternating through one context (the key schedule changes each record), and
     * forgetting it between: every record opens on a fresh sealer */
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = sealer_on(_i), *fresh = sealer_on(0);
    cmk_dek *d[2] = {new_dek(), new_dek()};
    uint8_t blob[64 + CMK_BLOB_OVERHEAD], out[64];
    size_t blen, olen;

    for (int i = 0; i < 40; i++) {
        cmk_dek *k = d[(i / 3) % 2];
        if (i == 17)
            cmk_sealer_forget(s);
        ck_assert_int_eq(
            cmk_seal(s, k, &HOME, (const uint8_t *)"payload", 7, blob, sizeof blob, &blen, &err),
            0);
        ck_assert_msg(cmk_open(fresh, k, &HOME, blob, blen, out, sizeof out, &olen, &err) == 0,
                      "record %d: %s", i, err.msg);
        ck_assert_int_eq(
            cmk_open(s, d[0] == k ? d[1] : d[0], &HOME, blob, blen, out, sizeof out, &olen, &err),
            CMK_ECRYPTO); /* another DEK's id: refused before any cipher work */
        ck_assert_int_eq(cmk_open(s, k, &HOME, blob, blen, out, sizeof out, &olen, &err), 0);
    }
    cmk_dek_destroy(&d[0]);
    cmk_dek_destroy(&d[1]);
    cmk_sealer_destroy(&s);
    cmk_sealer_destroy(&fresh);
}
END_TEST

START_TEST(test_ctx_needs_fresh_iv)
{
    /* at the context level: no record before a key, and no second record under the same IV
     * (the implementation marks the IV used at final) */
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    cmk_gcm_impl impl;
    cmk_gcm_ctx c;
    uint8_t key[CMK_GCM_KEY_LEN], iv[CMK_GCM_IV_LEN] = {1}, in[32] = {0}, out[32], tag[16];

    ck_assert_ptr_nonnull(cipher);
    ck_assert_int_eq(cmk_gcm_impl_find(cipher, &impl), 1);
    memset(key, 0x42, sizeof key);
    cmk_gcm_ctx_init(&c, cipher, _i == 0 ? &impl : NULL, 1);
    ck_assert_int_eq(cmk_gcm_ctx_uses_provider(&c), _i == 0);
    ck_assert_int_eq(cmk_gcm_ctx_start(&c, NULL, iv), -1); /* never keyed */
    ck_assert_int_eq(cmk_gcm_ctx_pass(&c, NULL, 0, in, sizeof in, out, tag), -1);
    ck_assert_int_eq(cmk_gcm_ctx_start(&c, key, iv), 0);
    ck_assert_int_eq(cmk_gcm_ctx_pass(&c, NULL, 0, in, sizeof in, out, tag), 0);
    ck_assert_int_eq(cmk_gcm_ctx_pass(&c, NULL, 0, in, sizeof in, out, tag), -1); /* IV used */
    iv[11] = 2;
    ck_assert_int_eq(cmk_gcm_ctx_start(&c, NULL, iv), 0); /* a fresh IV: the next record */
    ck_assert_int_eq(cmk_gcm_ctx_pass(&c, NULL, 0, in, sizeof in, out, tag), 0);
    cmk_gcm_ctx_reset(&c);
    ck_assert_int_eq(cmk_gcm_ctx_start(&c, NULL, iv), -1); /* reset dropped the key */
    cmk_gcm_ctx_reset(&c);
    cmk_gcm_ctx_reset(NULL);
    EVP_CIPHER_free(cipher);
}
END_TEST

/* envelope_direct_suite - every test case, on both paths */
static Suite *envelope_direct_suite(void)
{
    Suite *su = suite_create("envelope_direct");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_direct_is_taken);
    tcase_add_loop_test(tc, test_many_in_a_row, 0, 2);
    tcase_add_loop_test(tc, test_tamper_refused, 0, 2);
    tcase_add_loop_test(tc, test_keys_switch, 0, 2);
    tcase_add_loop_test(tc, test_ctx_needs_fresh_iv, 0, 2);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(su, tc);
    return su;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(envelope_direct_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
