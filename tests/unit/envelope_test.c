/*
 * envelope_test.c - Check suite for common/envelope: AES-256-GCM known answers, blob round
 * trips, tamper and relocation detection, wrong keys, nonce uniqueness (one handle, two
 * handles, several threads, across the counter wrap), the per-DEK message limit, lifecycles.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/envelope.h"

#define NONCE_OFF (1 + CMK_DEK_ID_LEN) /* where the nonce sits in a blob */

static const cmk_place HOME = {"env-1", "flows", "42", "definition"}; /* default place */

/* unhex - decode a hex string into out; returns the byte count */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* new_dek - a generated DEK, failing the test if there is none */
static cmk_dek *new_dek(void)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_dek *dek = cmk_dek_generate(&err);
    ck_assert_msg(dek != NULL, "cmk_dek_generate: %s", err.msg);
    return dek;
}

/* new_sealer - a sealer, failing the test if there is none */
static cmk_sealer *new_sealer(void)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = cmk_sealer_new(&err);
    ck_assert_msg(s != NULL, "cmk_sealer_new: %s", err.msg);
    return s;
}

/* seal_ok - seal len bytes at place into a fresh heap blob; returns it, *blen its length */
static uint8_t *seal_ok(cmk_sealer *s, cmk_dek *dek, const cmk_place *pl, const uint8_t *p,
                        size_t len, size_t *blen)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t *blob = malloc(len + CMK_BLOB_OVERHEAD);
    ck_assert_ptr_nonnull(blob);
    int rc = cmk_seal(s, dek, pl, p, len, blob, len + CMK_BLOB_OVERHEAD, blen, &err);
    ck_assert_msg(rc == 0, "cmk_seal: %s", err.msg);
    ck_assert_uint_eq(*blen, len + CMK_BLOB_OVERHEAD);
    return blob;
}

/* open_rc - try to open a blob; returns the code, err gets the message */
static int open_rc(cmk_sealer *s, const cmk_dek *dek, const cmk_place *pl, const uint8_t *blob,
                   size_t blen, cmk_err *err)
{
    uint8_t out[256];
    size_t n = 0;
    ck_assert_uint_le(blen, sizeof out + CMK_BLOB_OVERHEAD);
    return cmk_open(s, dek, pl, blob, blen, out, sizeof out, &n, err);
}

/* cmp_nonce - qsort order of 12-byte nonces */
static int cmp_nonce(const void *a, const void *b)
{
    return memcmp(a, b, CMK_BLOB_NONCE_LEN);
}

/* assert_unique - sort n nonces and fail on any repeat */
static void assert_unique(uint8_t *nonces, size_t n)
{
    qsort(nonces, n, CMK_BLOB_NONCE_LEN, cmp_nonce);
    for (size_t i = 1; i < n; i++)
        if (memcmp(nonces + (i - 1) * CMK_BLOB_NONCE_LEN, nonces + i * CMK_BLOB_NONCE_LEN,
                   CMK_BLOB_NONCE_LEN) == 0)
            ck_abort_msg("nonce repeated at sorted index %zu of %zu", i, n);
}

/* be32 - read a big-endian counter */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* McGrew-Viega GCM spec test cases 13-16 (AES-256, 96-bit IV). */
static const struct {
    int no;                                     /* test case number in the spec */
    const char *key, *iv, *aad, *pt, *ct, *tag; /* hex */
} KAT[] = {
    {13, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {14, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {15, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {16, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

START_TEST(test_kat)
{
    uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got[64], gtag[16];
    cmk_err err = CMK_ERR_INIT;
    unhex(KAT[_i].key, key);
    unhex(KAT[_i].iv, iv);
    size_t alen = unhex(KAT[_i].aad, aad), plen = unhex(KAT[_i].pt, pt);
    ck_assert_uint_eq(unhex(KAT[_i].ct, ct), plen);
    unhex(KAT[_i].tag, tag);

    ck_assert_int_eq(cmk_gcm256_seal_raw(key, iv, aad, alen, pt, plen, got, gtag, &err), 0);
    ck_assert_msg(memcmp(got, ct, plen) == 0, "case %d: ciphertext differs", KAT[_i].no);
    ck_assert_msg(memcmp(gtag, tag, 16) == 0, "case %d: tag differs", KAT[_i].no);

    ck_assert_int_eq(cmk_gcm256_open_raw(key, iv, aad, alen, ct, plen, tag, out, &err), 0);
    ck_assert_msg(memcmp(out, pt, plen) == 0, "case %d: plaintext differs", KAT[_i].no);

    tag[15] ^= 1;
    ck_assert_int_eq(cmk_gcm256_open_raw(key, iv, aad, alen, ct, plen, tag, out, &err),
                     CMK_ECRYPTO);
    ck_assert_int_eq(err.code, CMK_ECRYPTO);
}
END_TEST

START_TEST(test_roundtrip)
{
    static const size_t sizes[] = {0, 1, 255, 1024, 65536};
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;

    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t len = sizes[k], blen, olen = 99, blen2;
        uint8_t *plain = malloc(len + 1), *out = malloc(len + 1), id[CMK_DEK_ID_LEN];
        for (size_t i = 0; i < len; i++)
            plain[i] = (uint8_t)(i * 31 + 7);
        uint8_t *blob = seal_ok(s, dek, &HOME, plain, len, &blen);
        ck_assert_uint_eq(blob[0], CMK_BLOB_FORMAT_V1);
        ck_assert_mem_eq(blob + 1, cmk_dek_id(dek), CMK_DEK_ID_LEN);
        if (len >= 16)
            ck_assert_msg(memcmp(blob + CMK_BLOB_HEADER_LEN, plain, 16) != 0,
                          "ciphertext equals plaintext");
        ck_assert_int_eq(cmk_open(s, dek, &HOME, blob, blen, out, len, &olen, &err), 0);
        ck_assert_uint_eq(olen, len);
        if (len)
            ck_assert_mem_eq(out, plain, len);
        ck_assert_int_eq(cmk_blob_dek_id(blob, blen, id, &err), 0);
        ck_assert_mem_eq(id, cmk_dek_id(dek), CMK_DEK_ID_LEN);

        /* the same record sealed twice gives another nonce and another blob */
        uint8_t *blob2 = seal_ok(s, dek, &HOME, plain, len, &blen2);
        ck_assert(memcmp(blob + NONCE_OFF, blob2 + NONCE_OFF, CMK_BLOB_NONCE_LEN) != 0);
        ck_assert(memcmp(blob, blob2, blen) != 0);
        free(blob2);
        free(blob);
        free(plain);
        free(out);
    }
    ck_assert_uint_eq(cmk_dek_sealed(dek), 10);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_aad_layout)
{
    /* the blob verifies under the AAD documented in envelope.h, rebuilt here by hand */
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    const uint8_t msg[] = "flow definition";
    size_t blen, alen = 0;
    uint8_t *blob = seal_ok(s, dek, &HOME, msg, sizeof msg, &blen);
    uint8_t aad[128], out[sizeof msg];
    const char *f[4] = {HOME.env, HOME.table, HOME.row, HOME.column};

    aad[alen++] = CMK_BLOB_FORMAT_V1;
    memcpy(aad + alen, cmk_dek_id(dek), CMK_DEK_ID_LEN);
    alen += CMK_DEK_ID_LEN;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(f[i]);
        aad[alen++] = 0;
        aad[alen++] = 0;
        aad[alen++] = 0;
        aad[alen++] = (uint8_t)n;
        memcpy(aad + alen, f[i], n);
        alen += n;
    }
    ck_assert_int_eq(cmk_gcm256_open_raw(cmk_dek_key(dek), blob + NONCE_OFF, aad, alen,
                                         blob + CMK_BLOB_HEADER_LEN, sizeof msg,
                                         blob + CMK_BLOB_HEADER_LEN + sizeof msg, out, &err),
                     0);
    ck_assert_mem_eq(out, msg, sizeof msg);
    free(blob);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_tamper)
{
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t plain[64], out[64];
    size_t blen, olen;
    memset(plain, 'x', sizeof plain);
    uint8_t *blob = seal_ok(s, dek, &HOME, plain, sizeof plain, &blen);

    ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), 0);
    for (size_t i = 0; i < blen; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            blob[i] ^= (uint8_t)(1u << bit);
            memset(out, 0xAA, sizeof out);
            cmk_err_clear(&err);
            int rc = cmk_open(s, dek, &HOME, blob, blen, out, sizeof out, &olen, &err);
            blob[i] ^= (uint8_t)(1u << bit);
            if (i == 0) { /* format byte */
                ck_assert_int_eq(rc, CMK_EINVAL);
                ck_assert_ptr_nonnull(strstr(err.msg, "unknown blob format"));
            } else if (i < NONCE_OFF) { /* DEK id */
                ck_assert_int_eq(rc, CMK_ECRYPTO);
                ck_assert_ptr_nonnull(strstr(err.msg, "sealed under DEK"));
            } else { /* nonce, ciphertext, tag */
                ck_assert_msg(rc == CMK_ECRYPTO, "flip at byte %zu opened (rc %d)", i, rc);
                ck_assert_int_eq(err.code, CMK_ECRYPTO);
                ck_assert_ptr_nonnull(strstr(err.msg, "moved, tampered with, or sealed"));
                ck_assert_ptr_nonnull(strstr(err.msg, "env-1/flows/42/definition"));
                for (size_t j = 0; j < sizeof out; j++) /* no unauthenticated plaintext */
                    ck_assert_uint_eq(out[j], 0);
            }
        }
    }
    /* truncating or extending the blob fails too */
    ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen - 1, &err), CMK_ECRYPTO);
    ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), 0);
    free(blob);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_relocation)
{
    static const struct {
        cmk_place from, to; /* sealed at, opened at */
    } moves[] = {
        {{"env-1", "flows", "42", "definition"}, {"env-2", "flows", "42", "definition"}},
        {{"env-1", "flows", "42", "definition"}, {"env-1", "runs", "42", "definition"}},
        {{"env-1", "flows", "42", "definition"}, {"env-1", "flows", "43", "definition"}},
        {{"env-1", "flows", "42", "definition"}, {"env-1", "flows", "42", "inputs"}},
        {{"ab", "c", "1", "x"}, {"a", "bc", "1", "x"}},   /* env|table boundary */
        {{"e", "ab", "c", "x"}, {"e", "a", "bc", "x"}},   /* table|row boundary */
        {{"e", "t", "12", "3x"}, {"e", "t", "123", "x"}}, /* row|column boundary */
        {{"e", "t", "r", ""}, {"e", "t", "", "r"}},       /* empty fields */
        {{"", "", "", ""}, {"", "", "", " "}},
    };
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    const uint8_t msg[] = "secret";

    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        size_t blen;
        uint8_t *blob = seal_ok(s, dek, &moves[i].from, msg, sizeof msg, &blen);
        ck_assert_int_eq(open_rc(s, dek, &moves[i].from, blob, blen, &err), 0);
        ck_assert_msg(open_rc(s, dek, &moves[i].to, blob, blen, &err) == CMK_ECRYPTO,
                      "move %zu opened", i);
        ck_assert_ptr_nonnull(strstr(err.msg, "it was moved, tampered with, or sealed elsewhere"));
        free(blob);
    }
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_long_place)
{
    /* a place longer than the stack AAD buffer goes through the heap path */
    char *row = malloc(5001);
    memset(row, 'r', 5000);
    row[5000] = '\0';
    cmk_place pl = {"env-1", "runs", row, "inputs"};
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    size_t blen;
    uint8_t *blob = seal_ok(s, dek, &pl, (const uint8_t *)"abc", 3, &blen);

    ck_assert_int_eq(open_rc(s, dek, &pl, blob, blen, &err), 0);
    row[4999] = 's';
    ck_assert_int_eq(open_rc(s, dek, &pl, blob, blen, &err), CMK_ECRYPTO);
    free(blob);
    free(row);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_wrong_dek)
{
    cmk_dek *a = new_dek(), *b = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    char ha[33], hb[33];
    size_t blen;
    uint8_t *blob = seal_ok(s, a, &HOME, (const uint8_t *)"hello", 5, &blen);

    ck_assert_int_eq(open_rc(s, b, &HOME, blob, blen, &err), CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "blob does not open: it was sealed under DEK"));
    ck_assert_ptr_nonnull(strstr(err.msg, cmk_dek_id_hex(a, ha, sizeof ha)));
    ck_assert_ptr_nonnull(strstr(err.msg, cmk_dek_id_hex(b, hb, sizeof hb)));
    ck_assert(strstr(err.msg, ha) < strstr(err.msg, hb)); /* "under <blob's>, not <ours>" */

    /* same id, other key bytes: the id check passes, the tag does not */
    uint8_t key[CMK_DEK_KEY_LEN];
    memcpy(key, cmk_dek_key(a), sizeof key);
    key[0] ^= 1;
    cmk_dek *imposter = cmk_dek_from_bytes(cmk_dek_id(a), key, &err);
    cmk_wipe(key, sizeof key);
    ck_assert_ptr_nonnull(imposter);
    ck_assert_int_eq(open_rc(s, imposter, &HOME, blob, blen, &err), CMK_ECRYPTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not open under this key"));
    ck_assert_ptr_nonnull(strstr(err.msg, ha));
    ck_assert_int_eq(open_rc(s, a, &HOME, blob, blen, &err), 0);
    free(blob);
    cmk_dek_destroy(&imposter);
    cmk_dek_destroy(&a);
    cmk_dek_destroy(&b);
    cmk_sealer_destroy(&s);
}
END_TEST

START_TEST(test_short_and_format)
{
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t id[CMK_DEK_ID_LEN];
    size_t blen;
    uint8_t *blob = seal_ok(s, dek, &HOME, NULL, 0, &blen);

    ck_assert_uint_eq(blen, CMK_BLOB_OVERHEAD);
    ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), 0);
    for (size_t n = 0; n < CMK_BLOB_OVERHEAD; n++) {
        cmk_err_clear(&err);
        ck_assert_int_eq(open_rc(s, dek, &HOME, blob, n, &err), CMK_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "blob too short"));
        ck_assert_int_eq(cmk_blob_dek_id(blob, n, id, &err), CMK_EINVAL);
    }
    ck_assert_int_eq(open_rc(s, dek, &HOME, NULL, 0, &err), CMK_EINVAL);
    for (int f = 0; f < 256; f++) {
        if (f == CMK_BLOB_FORMAT_V1)
            continue;
        blob[0] = (uint8_t)f;
        ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), CMK_EINVAL);
        ck_assert_int_eq(cmk_blob_dek_id(blob, blen, id, &err), CMK_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "unknown blob format"));
    }
    free(blob);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_bad_args)
{
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t plain[16] = {0}, blob[16 + CMK_BLOB_OVERHEAD], out[16];
    size_t blen, olen;
    cmk_place holes[4] = {HOME, HOME, HOME, HOME};
    holes[0].env = NULL;
    holes[1].table = NULL;
    holes[2].row = NULL;
    holes[3].column = NULL;

    ck_assert_int_eq(cmk_seal(s, dek, &HOME, plain, 16, blob, sizeof blob - 1, &blen, &err),
                     CMK_EINVAL);
    ck_assert_int_eq(cmk_seal(s, dek, NULL, plain, 16, blob, sizeof blob, &blen, &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_seal(NULL, dek, &HOME, plain, 16, blob, sizeof blob, &blen, &err),
                     CMK_EINVAL);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cmk_seal(s, dek, &holes[i], plain, 16, blob, sizeof blob, &blen, &err),
                         CMK_EINVAL);
    ck_assert_uint_eq(cmk_dek_sealed(dek), 0); /* refused seals do not count */
    ck_assert_int_eq(cmk_seal(s, dek, &HOME, plain, 16, blob, sizeof blob, &blen, &err), 0);
    ck_assert_int_eq(cmk_open(s, dek, &HOME, blob, blen, out, 15, &olen, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "too small"));
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cmk_open(s, dek, &holes[i], blob, blen, out, 16, &olen, &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_open(s, dek, &HOME, blob, blen, out, 16, &olen, &err), 0);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_nonce_unique)
{
    enum { N_A = 1000000, N_B = 200000 };
    cmk_err err = CMK_ERR_INIT;
    cmk_dek *a = new_dek();
    cmk_dek *b = cmk_dek_from_bytes(cmk_dek_id(a), cmk_dek_key(a), &err); /* same key bytes */
    cmk_sealer *s = new_sealer();
    uint8_t *nonces = malloc((size_t)(N_A + N_B) * CMK_BLOB_NONCE_LEN);
    uint8_t blob[8 + CMK_BLOB_OVERHEAD];
    size_t blen;
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(nonces);

    for (size_t i = 0; i < N_A + N_B; i++) { /* no ck_assert in the loop: each one is a write */
        cmk_dek *d = i < N_A ? a : b;
        if (cmk_seal(s, d, &HOME, (const uint8_t *)"12345678", 8, blob, sizeof blob, &blen, &err) !=
            0)
            ck_abort_msg("seal %zu failed: %s", i, err.msg);
        memcpy(nonces + i * CMK_BLOB_NONCE_LEN, blob + NONCE_OFF, CMK_BLOB_NONCE_LEN);
    }
    /* within a handle: one prefix, counter counting up from 0 */
    ck_assert_mem_eq(nonces, nonces + (N_A - 1) * CMK_BLOB_NONCE_LEN, 8);
    ck_assert_uint_eq(be32(nonces + 8), 0);
    ck_assert_uint_eq(be32(nonces + (size_t)(N_A - 1) * CMK_BLOB_NONCE_LEN + 8), N_A - 1);
    /* two handles of the same key bytes draw different prefixes */
    ck_assert(memcmp(nonces, nonces + (size_t)N_A * CMK_BLOB_NONCE_LEN, 8) != 0);
    ck_assert_int_eq(open_rc(s, a, &HOME, blob, blen, &err), 0); /* b's blob opens under a */
    assert_unique(nonces, N_A + N_B);
    free(nonces);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&a);
    cmk_dek_destroy(&b);
}
END_TEST

START_TEST(test_counter_wrap)
{
    enum { N = 8 };
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t nonces[3 * N * CMK_BLOB_NONCE_LEN], blob[4 + CMK_BLOB_OVERHEAD];
    size_t blen;

    ck_assert_int_eq(cmk_dek_nonce_skip(dek, (UINT64_C(1) << 32) - N / 2, &err), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(
            cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
        ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), 0);
        memcpy(nonces + i * CMK_BLOB_NONCE_LEN, blob + NONCE_OFF, CMK_BLOB_NONCE_LEN);
    }
    const uint8_t *before = nonces + (N / 2 - 1) * CMK_BLOB_NONCE_LEN;
    const uint8_t *after = nonces + (N / 2) * CMK_BLOB_NONCE_LEN;
    ck_assert_uint_eq(be32(before + 8), UINT32_MAX);
    ck_assert_uint_eq(be32(after + 8), 0);
    ck_assert_msg(memcmp(before, after, 8) != 0, "no new prefix after the counter wrapped");
    ck_assert_mem_eq(nonces, before, 8);
    ck_assert_mem_eq(after, nonces + (N - 1) * CMK_BLOB_NONCE_LEN, 8);

    /* jump several epochs at once, then wrap again: every prefix is fresh */
    ck_assert_int_eq(cmk_dek_nonce_skip(dek, (UINT64_C(5) << 32) - N, &err), 0);
    for (int i = N; i < 3 * N; i++) {
        ck_assert_int_eq(
            cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
        memcpy(nonces + i * CMK_BLOB_NONCE_LEN, blob + NONCE_OFF, CMK_BLOB_NONCE_LEN);
    }
    ck_assert(memcmp(nonces + N * CMK_BLOB_NONCE_LEN, after, 8) != 0);
    assert_unique(nonces, 3 * N);

    /* the sequence never goes past 2^63, so it cannot wrap around to a used nonce */
    ck_assert_int_eq(cmk_dek_nonce_skip(dek, UINT64_C(1) << 63, &err), CMK_EINVAL);
    ck_assert_int_eq(cmk_dek_nonce_skip(NULL, 1, &err), CMK_EINVAL);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_limit)
{
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t blob[4 + CMK_BLOB_OVERHEAD];
    size_t blen;
    char hex[33];

    ck_assert_uint_eq(cmk_dek_limit(dek), CMK_DEK_DEFAULT_LIMIT);
    ck_assert_uint_eq(cmk_dek_sealed(dek), 0);
    cmk_dek_set_limit(dek, 3, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(
            cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
    ck_assert_int_eq(
        cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err),
        CMK_ELIMIT);
    ck_assert_int_eq(err.code, CMK_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "must rotate"));
    ck_assert_ptr_nonnull(strstr(err.msg, cmk_dek_id_hex(dek, hex, sizeof hex)));
    ck_assert_uint_eq(cmk_dek_sealed(dek), 3);
    ck_assert_int_eq(open_rc(s, dek, &HOME, blob, blen, &err), 0); /* opening still works */

    cmk_dek_set_limit(dek, 10, 9); /* a count restored from storage */
    ck_assert_uint_eq(cmk_dek_limit(dek), 10);
    ck_assert_int_eq(
        cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
    ck_assert_int_eq(
        cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err),
        CMK_ELIMIT);
    ck_assert_uint_eq(cmk_dek_sealed(dek), 10);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

enum { THREADS = 4, PER_THREAD = 60000 };

/* One sealing thread's work. */
typedef struct {
    cmk_dek *dek;    /* shared DEK */
    uint8_t *nonces; /* PER_THREAD nonces out */
    int failed;      /* set if a seal or open failed */
} seal_job;

/* seal_thread - seal PER_THREAD records with its own sealer, recording nonces */
static void *seal_thread(void *arg)
{
    seal_job *job = arg;
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = cmk_sealer_new(&err);
    uint8_t blob[16 + CMK_BLOB_OVERHEAD], out[16];
    size_t blen, olen;

    if (!s) {
        job->failed = 1;
        return NULL;
    }
    for (int i = 0; i < PER_THREAD && !job->failed; i++) {
        if (cmk_seal(s, job->dek, &HOME, (const uint8_t *)"0123456789abcdef", 16, blob, sizeof blob,
                     &blen, &err) != 0 ||
            cmk_open(s, job->dek, &HOME, blob, blen, out, sizeof out, &olen, &err) != 0)
            job->failed = 1;
        memcpy(job->nonces + (size_t)i * CMK_BLOB_NONCE_LEN, blob + NONCE_OFF, CMK_BLOB_NONCE_LEN);
    }
    cmk_sealer_destroy(&s);
    return NULL;
}

START_TEST(test_threads)
{
    /* start just short of a counter wrap so the threads race through the prefix change */
    cmk_dek *dek = new_dek();
    cmk_err err = CMK_ERR_INIT;
    uint8_t *nonces = malloc((size_t)THREADS * PER_THREAD * CMK_BLOB_NONCE_LEN);
    pthread_t tid[THREADS];
    seal_job jobs[THREADS];
    ck_assert_ptr_nonnull(nonces);
    ck_assert_int_eq(cmk_dek_nonce_skip(dek, (UINT64_C(1) << 32) - THREADS * PER_THREAD / 2, &err),
                     0);

    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (seal_job){dek, nonces + (size_t)t * PER_THREAD * CMK_BLOB_NONCE_LEN, 0};
        ck_assert_int_eq(pthread_create(&tid[t], NULL, seal_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < THREADS; t++)
        ck_assert_msg(!jobs[t].failed, "thread %d failed to seal or open", t);
    ck_assert_uint_eq(cmk_dek_sealed(dek), (uint64_t)THREADS * PER_THREAD);
    assert_unique(nonces, (size_t)THREADS * PER_THREAD);
    free(nonces);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_fork)
{
    /* a child inheriting a DEK handle must not repeat the parent's nonces */
    enum { N = 1000 };
    cmk_dek *dek = new_dek();
    cmk_sealer *s = new_sealer();
    cmk_err err = CMK_ERR_INIT;
    uint8_t nonces[2 * N * CMK_BLOB_NONCE_LEN], blob[4 + CMK_BLOB_OVERHEAD];
    size_t blen, got = 0;
    int fds[2], status;

    ck_assert_int_eq(
        cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* child: seal N, send the nonces, leave without running Check's code */
        close(fds[0]);
        for (int i = 0; i < N; i++) {
            if (cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen,
                         &err) != 0 ||
                write(fds[1], blob + NONCE_OFF, CMK_BLOB_NONCE_LEN) != CMK_BLOB_NONCE_LEN)
                _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(
            cmk_seal(s, dek, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
        memcpy(nonces + (size_t)i * CMK_BLOB_NONCE_LEN, blob + NONCE_OFF, CMK_BLOB_NONCE_LEN);
    }
    while (got < (size_t)N * CMK_BLOB_NONCE_LEN) {
        ssize_t r = read(fds[0], nonces + (size_t)N * CMK_BLOB_NONCE_LEN + got,
                         (size_t)N * CMK_BLOB_NONCE_LEN - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed to seal");
    ck_assert_uint_eq(got, (size_t)N * CMK_BLOB_NONCE_LEN);
    ck_assert_msg(memcmp(nonces, nonces + (size_t)N * CMK_BLOB_NONCE_LEN, 8) != 0,
                  "the child kept the parent's nonce prefix");
    assert_unique(nonces, 2 * N);
    cmk_sealer_destroy(&s);
    cmk_dek_destroy(&dek);
}
END_TEST

START_TEST(test_key_cache)
{
    /* a sealer caches key schedules; a new DEK at a reused address must not hit the cache */
    static const uint8_t id[CMK_DEK_ID_LEN] = {7};
    uint8_t k1[CMK_DEK_KEY_LEN], k2[CMK_DEK_KEY_LEN], blob[4 + CMK_BLOB_OVERHEAD];
    cmk_err err = CMK_ERR_INIT;
    cmk_sealer *s = new_sealer(), *fresh = new_sealer();
    size_t blen;
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);

    for (int round = 0; round < 4; round++) {
        cmk_dek *d = cmk_dek_from_bytes(id, round % 2 ? k2 : k1, &err);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(
            cmk_seal(s, d, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
        ck_assert_int_eq(open_rc(s, d, &HOME, blob, blen, &err), 0);
        cmk_sealer *once = new_sealer(); /* one that has never seen a DEK at this address */
        ck_assert_msg(open_rc(once, d, &HOME, blob, blen, &err) == 0,
                      "round %d: sealed under a stale key schedule: %s", round, err.msg);
        cmk_sealer_destroy(&once);
        cmk_dek_destroy(&d);
    }
    /* alternating two DEKs through one sealer, and forgetting the cache */
    cmk_dek *a = cmk_dek_from_bytes(id, k1, &err), *b = new_dek();
    for (int i = 0; i < 6; i++) {
        cmk_dek *d = i % 2 ? b : a;
        if (i == 3)
            cmk_sealer_forget(s);
        ck_assert_int_eq(
            cmk_seal(s, d, &HOME, (const uint8_t *)"data", 4, blob, sizeof blob, &blen, &err), 0);
        ck_assert_int_eq(open_rc(fresh, d, &HOME, blob, blen, &err), 0);
    }
    cmk_sealer_forget(NULL);
    cmk_dek_destroy(&a);
    cmk_dek_destroy(&b);
    cmk_sealer_destroy(&s);
    cmk_sealer_destroy(&fresh);
}
END_TEST

START_TEST(test_lifecycle)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t id[CMK_DEK_ID_LEN], key[CMK_DEK_KEY_LEN], secret[32];
    char hex[33], small[5];
    cmk_dek *dek = NULL;
    cmk_sealer *s = NULL;

    cmk_dek_destroy(NULL); /* NULL-safe */
    cmk_dek_destroy(&dek);
    cmk_sealer_destroy(NULL);
    cmk_sealer_destroy(&s);
    ck_assert_ptr_null(cmk_dek_id(NULL));
    ck_assert_ptr_null(cmk_dek_key(NULL));
    ck_assert_uint_eq(cmk_dek_sealed(NULL), 0);
    cmk_dek_set_limit(NULL, 1, 0);

    for (size_t i = 0; i < sizeof id; i++)
        id[i] = (uint8_t)(0xa0 + i);
    memset(key, 0x5c, sizeof key);
    dek = cmk_dek_from_bytes(id, key, &err);
    ck_assert_ptr_nonnull(dek);
    ck_assert_mem_eq(cmk_dek_id(dek), id, sizeof id);
    ck_assert_mem_eq(cmk_dek_key(dek), key, sizeof key);
    ck_assert_str_eq(cmk_dek_id_hex(dek, hex, sizeof hex), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    ck_assert_str_eq(cmk_dek_id_hex(dek, small, sizeof small), "a0a1");
    ck_assert_ptr_null(cmk_dek_from_bytes(NULL, key, &err));
    ck_assert_int_eq(err.code, CMK_EINVAL);
    cmk_dek_destroy(&dek);
    ck_assert_ptr_null(dek); /* destroy nulls the caller's pointer */

    cmk_dek *g1 = new_dek(), *g2 = new_dek();
    ck_assert(memcmp(cmk_dek_id(g1), cmk_dek_id(g2), CMK_DEK_ID_LEN) != 0);
    ck_assert(memcmp(cmk_dek_key(g1), cmk_dek_key(g2), CMK_DEK_KEY_LEN) != 0);
    cmk_dek_destroy(&g1);
    cmk_dek_destroy(&g2);
    ck_assert_ptr_null(g1);

    s = new_sealer();
    cmk_sealer_destroy(&s);
    ck_assert_ptr_null(s);

    memset(secret, 0xff, sizeof secret);
    cmk_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++)
        ck_assert_uint_eq(secret[i], 0);
    cmk_wipe(NULL, 10);
}
END_TEST

/* envelope_suite - every test case of the module */
static Suite *envelope_suite(void)
{
    Suite *su = suite_create("envelope");
    TCase *tc = tcase_create("core");
    TCase *slow = tcase_create("nonces");

    tcase_add_loop_test(tc, test_kat, 0, (int)(sizeof KAT / sizeof KAT[0]));
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_aad_layout);
    tcase_add_test(tc, test_tamper);
    tcase_add_test(tc, test_relocation);
    tcase_add_test(tc, test_long_place);
    tcase_add_test(tc, test_wrong_dek);
    tcase_add_test(tc, test_short_and_format);
    tcase_add_test(tc, test_bad_args);
    tcase_add_test(tc, test_counter_wrap);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_fork);
    tcase_add_test(tc, test_key_cache);
    tcase_add_test(tc, test_lifecycle);
    suite_add_tcase(su, tc);

    tcase_add_test(slow, test_nonce_unique);
    tcase_add_test(slow, test_threads);
    tcase_set_timeout(slow, 110);
    suite_add_tcase(su, slow);
    return su;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(envelope_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
