/*
 * sealbench.h - the crypto side of cmk-bench write: the cost of cmk_seal alone per record,
 * the reference of `openssl speed -evp aes-256-gcm` on the same machine (run as a subprocess
 * and parsed), and the key-encryption keys that wrap a DEK in each mode:
 *
 *   mmk - the Microsoft-managed key: AES-256 key wrap with padding (RFC 5649), as the
 *         controller's keyring does (controller/keyring/keyring.c);
 *   cmk - a customer-managed key: RSA-OAEP with SHA-256 under an RSA key (2048 bits by
 *         default), as the simulated Key Vault does for unwrapKey.
 *
 * A worker unwraps its DEK once when it opens a partition; after that, sealing a record is the
 * same AES-256-GCM under the same kind of DEK in both modes. So the per-write cost of the two
 * modes is measured through the same path, and the difference is the one-time unwrap, which
 * bench_unwrap_cost measures locally (without the network hop to a vault).
 */
#ifndef CMK_BENCH_SEALBENCH_H
#define CMK_BENCH_SEALBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"
#include "common/err.h"

/* Key-encryption key kinds. */
typedef enum { BENCH_KEK_MMK = 0, BENCH_KEK_CMK = 1 } bench_kek_kind;

typedef struct bench_kek bench_kek; /* a KEK: an AES-256 key (mmk) or an RSA key pair (cmk) */

/* bench_kek_new - a fresh KEK of kind (rsa_bits: 2048, 3072 or 4096 for cmk); NULL on failure */
bench_kek *bench_kek_new(bench_kek_kind kind, int rsa_bits, cmk_err *err);

/* bench_kek_destroy - wipe and free; accepts NULL, nulls the pointer */
void bench_kek_destroy(bench_kek **self_p);

/* bench_kek_alg - what the KEK does, for reports ("RSA-OAEP-256, 2048-bit key") */
const char *bench_kek_alg(const bench_kek *self);

/* bench_kek_wrap - wrap 32 key bytes; *out malloc'd */
int bench_kek_wrap(bench_kek *self, const uint8_t key[CMK_DEK_KEY_LEN], uint8_t **out,
                   size_t *out_len, cmk_err *err);

/* bench_kek_unwrap - unwrap into key (wiped on failure) */
int bench_kek_unwrap(bench_kek *self, const uint8_t *wrapped, size_t len,
                     uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err);

/* bench_dek_via - a fresh DEK wrapped under kek and unwrapped again, as a worker receives it */
cmk_dek *bench_dek_via(bench_kek *kek, cmk_err *err);

/* bench_unwrap_cost - microseconds per unwrap of one wrapped DEK, over at least min_ms */
int bench_unwrap_cost(bench_kek *kek, int min_ms, double *us_per_op, cmk_err *err);

#define BENCH_SEAL_WINDOWS 5 /* seal cost: windows measured, best and median reported */

/* bench_seal_cost - nanoseconds per cmk_seal of a size-byte record (with its place bound in
 * the AAD) over BENCH_SEAL_WINDOWS windows sharing min_ms: the best window (the intrinsic cost,
 * least disturbed by other work on the machine) and the median one */
int bench_seal_cost(size_t size, int min_ms, double *best_ns, double *median_ns, cmk_err *err);

/* One result of `openssl speed`. */
typedef struct {
    size_t size;    /* block size, bytes */
    double bytes_s; /* bytes per second */
} bench_ossl_point;

/* bench_openssl_speed_parse - the output of `openssl speed -mr ...` (machine-readable +H:
 * and +F: lines) into out[0..cap); *n gets how many points */
int bench_openssl_speed_parse(const char *text, bench_ossl_point *out, size_t cap, size_t *n,
                              cmk_err *err);

/* bench_openssl_speed_run - run `openssl speed -evp aes-256-gcm -mr -seconds S -bytes N` once
 * per size; CMK_ENOENT (with a message) when no openssl binary is on PATH. cmd gets the
 * command line of the last run, for the report. */
int bench_openssl_speed_run(const size_t *sizes, size_t n, int seconds, bench_ossl_point *out,
                            size_t *nout, char *cmd, size_t cmd_cap, cmk_err *err);

/* bench_which - 1 if an executable named prog is on PATH (full path into buf if not NULL) */
int bench_which(const char *prog, char *buf, size_t cap);

#endif
