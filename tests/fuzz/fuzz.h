/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point, the contract checks and
 * small helpers.
 *
 * A target is tests/fuzz/fuzz_<surface>.c with LLVMFuzzerTestOneInput(). Built with clang and
 * -fsanitize=fuzzer it is a libFuzzer binary (make fuzz); built with any compiler and
 * fuzz_replay.c it runs over its seed corpus (ctest fuzz.replay.<surface>). Either way a broken
 * contract aborts: a parser must succeed, or fail with a negative code and a non-empty message;
 * a round-trippable format must give back what it was given.
 */
#ifndef CMK_FUZZ_H
#define CMK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* LLVMFuzzerTestOneInput - one input; returns 0 (libFuzzer's convention) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_REQUIRE - abort with a message when a parser breaks its contract */
#define FUZZ_REQUIRE(cond, ...)                                                                  \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz: contract broken at %s:%d (%s): ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* fuzz_check_rc - the error contract: rc is 0, or a negative code equal to err's with a message */
static inline void fuzz_check_rc(int rc, const cmk_err *err, const char *what)
{
    FUZZ_REQUIRE(rc <= 0, "%s returned %d", what, rc);
    if (rc < 0) {
        FUZZ_REQUIRE(err->code == rc, "%s returned %d but its error says %d", what, rc, err->code);
        FUZZ_REQUIRE(err->msg[0] != '\0', "%s failed (%s) without a message", what,
                     cmk_code_name(rc));
    }
}

/* fuzz_check_ptr - the same for constructors that return NULL on failure */
static inline void fuzz_check_ptr(const void *p, const cmk_err *err, const char *what)
{
    if (!p) {
        FUZZ_REQUIRE(err->code < 0, "%s returned NULL without an error code", what);
        FUZZ_REQUIRE(err->msg[0] != '\0', "%s returned NULL without a message", what);
    }
}

/* fuzz_text - a NUL-terminated copy of the input (free() it) */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* fuzz_read_file - a whole file of the source tree (relative to CMK_SOURCE_DIR), NUL-terminated;
 * aborts if it is missing (a target's fixed inputs must exist) */
static inline char *fuzz_read_file(const char *rel, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", CMK_SOURCE_DIR, rel);
    f = fopen(path, "rb");
    FUZZ_REQUIRE(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    FUZZ_REQUIRE(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

#endif
