/*
 * util.h - small helpers shared by every process: files, directories, ids, hex, JSON access.
 */
#ifndef CMK_UTIL_H
#define CMK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "err.h"

/* cmk_mkdirs - mkdir -p with mode for every created directory */
int cmk_mkdirs(const char *path, mode_t mode, cmk_err *err);

/* cmk_file_read - read a whole file into a NUL-terminated malloc'd buffer */
int cmk_file_read(const char *path, char **out, size_t *len, cmk_err *err);

/* cmk_file_write_atomic - write data to path via a temp file + fsync + rename, with mode */
int cmk_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, cmk_err *err);

/* cmk_json_load_file - parse a JSON file; a syntax error names the line */
int cmk_json_load_file(const char *path, cJSON **out, cmk_err *err);

/* cmk_json_error_line - 1-based line of a cJSON error pointer within text */
int cmk_json_error_line(const char *text, const char *errptr);

/* cmk_json_str - a string member or def */
const char *cmk_json_str(const cJSON *obj, const char *name, const char *def);

/* cmk_json_num - a number member or def */
double cmk_json_num(const cJSON *obj, const char *name, double def);

/* cmk_json_bool - a boolean member or def */
int cmk_json_bool(const cJSON *obj, const char *name, int def);

/* cmk_random_id - prefix + 16 random hex chars ("env-3f9a..."), into buf */
char *cmk_random_id(const char *prefix, char *buf, size_t cap);

/* A pool of random bytes for ids drawn on a hot path: one RAND_bytes per 4 KiB instead of one
 * per id (each call costs OpenSSL's fork check, a getpid, and its DRBG locks). Bytes given out
 * are wiped from the pool. One owner thread; zero-initialised (or cmk_randpool_init) is empty. */
typedef struct {
    uint8_t buf[4096];
    size_t used; /* bytes of buf given out (sizeof buf: empty) */
} cmk_randpool;

/* cmk_randpool_init - an empty pool: the first draw fills it */
void cmk_randpool_init(cmk_randpool *p);

/* cmk_randpool_hex - n random bytes (n <= 64) as lowercase hex in out (cap >= 2n+1); -1 when
 * OpenSSL has no randomness (out untouched) */
int cmk_randpool_hex(cmk_randpool *p, size_t n, char *out, size_t cap);

/* cmk_hex_encode - bytes to lowercase hex (cap >= 2n+1) */
char *cmk_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* cmk_hex_decode - hex to bytes; CMK_EINVAL on bad hex or wrong length */
int cmk_hex_decode(const char *hex, uint8_t *out, size_t n, cmk_err *err);

/* cmk_b64_encode - standard base64 of n bytes (malloc'd, NUL-terminated) */
char *cmk_b64_encode(const uint8_t *in, size_t n);

/* cmk_b64_decode - standard or url-safe base64 (padding optional) to bytes (malloc'd) */
int cmk_b64_decode(const char *in, uint8_t **out, size_t *out_len, cmk_err *err);

/* cmk_wipe_str - wipe and free a buffer that held a secret (key file, password) */
void cmk_wipe_str(char *p, size_t n);

/* cmk_exe_dir - directory of the running executable into buf */
int cmk_exe_dir(char *buf, size_t cap, cmk_err *err);

/* cmk_strlcpy - copy with truncation, always NUL-terminated; returns strlen(src) */
size_t cmk_strlcpy(char *dst, const char *src, size_t cap);

/* cmk_pid_alive - 1 if a process with this pid exists */
int cmk_pid_alive(pid_t pid);

/* cmk_pidfile_read - read a pid file; 0 and *pid on success */
int cmk_pidfile_read(const char *path, pid_t *pid, cmk_err *err);

#endif
