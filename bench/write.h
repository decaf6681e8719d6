/*
 * write.h - `cmk-bench write`: what encrypt-on-write costs on every write.
 *
 * Writes records of each size through the worker's real storage path (partition_open +
 * partition_bench_put: the same statement cache, group commit and SQLite settings as a
 * worker) in every mode, side by side and interleaved repetition by repetition:
 *
 *   plain      opts.seal = 0, the reference
 *   mmk        sealed under a DEK wrapped by the Microsoft-managed key (AES key wrap)
 *   cmk        sealed under a DEK wrapped by a customer-managed key (RSA-OAEP-256)
 *   sqlcipher-default / sqlcipher-tuned
 *              SQLCipher's page encryption, when libsqlcipher is installed: as the library
 *              ships it (PBKDF2 passphrase, default page size) and tuned (raw key, 4 KiB
 *              pages); a reported comparison, no target
 *
 * in batched mode (group commit, writes back to back) and durable mode (C writers whose next
 * write waits for the durable callback of the previous one, against one fsync per write).
 * Also the cost of cmk_seal alone against `openssl speed -evp aes-256-gcm`, and the one-time
 * DEK unwrap of each KEK. Results: a Markdown summary on stdout, --json, --md, --png.
 */
#ifndef CMK_BENCH_WRITE_H
#define CMK_BENCH_WRITE_H

#include "common/err.h"

/* bench_write_cmd - run `cmk-bench write` with its options (argv[0] is the first option);
 * prints --help when asked. 0 or a negative cmk code with err filled. */
int bench_write_cmd(int argc, char **argv, cmk_err *err);

#endif
