/*
 * util.c - small helpers: files, directories, ids, hex, JSON access.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* cmk_mkdirs - mkdir -p */
int cmk_mkdirs(const char *path, mode_t mode, cmk_err *err)
{
    char buf[PATH_MAX];
    size_t len = cmk_strlcpy(buf, path, sizeof buf);

    if (len == 0 || len >= sizeof buf)
        return cmk_err_set(err, CMK_EINVAL, "bad directory path '%s'", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return cmk_err_set(err, CMK_EIO, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return cmk_err_set(err, CMK_EIO, "cannot create directory %s: %s", buf, strerror(errno));
    return 0;
}

/* cmk_file_read - whole file into a NUL-terminated buffer */
int cmk_file_read(const char *path, char **out, size_t *len, cmk_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return cmk_err_set(err, errno == ENOENT ? CMK_ENOENT : CMK_EIO, "cannot open %s: %s", path,
                           strerror(errno));
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return cmk_err_set(err, CMK_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return cmk_err_set(err, CMK_EIO, "cannot read %s", path);
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

/* cmk_file_write_atomic - temp file, fsync, rename */
int cmk_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, cmk_err *err)
{
    char tmp[PATH_MAX];
    int fd;
    const char *p = data;
    size_t left = len;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return cmk_err_set(err, CMK_EINVAL, "path too long: %s", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return cmk_err_set(err, CMK_EIO, "cannot create %s: %s", tmp, strerror(errno));
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return cmk_err_set(err, CMK_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        unlink(tmp);
        return cmk_err_set(err, CMK_EIO, "cannot finish %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return cmk_err_set(err, CMK_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}

/* cmk_json_error_line - line of an error pointer */
int cmk_json_error_line(const char *text, const char *errptr)
{
    int line = 1;
    if (!text || !errptr)
        return 0;
    for (const char *p = text; *p && p < errptr; p++)
        if (*p == '\n')
            line++;
    return line;
}

/* cmk_json_load_file - parse a JSON file */
int cmk_json_load_file(const char *path, cJSON **out, cmk_err *err)
{
    char *text;
    size_t len;
    const char *end = NULL;
    int rc = cmk_file_read(path, &text, &len, err);

    if (rc < 0)
        return rc;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!*out) {
        rc = cmk_err_set(err, CMK_EINVAL, "%s:%d: not valid JSON near '%.20s'", path,
                         cmk_json_error_line(text, end ? end : cJSON_GetErrorPtr()),
                         end ? end : "");
        free(text);
        return rc;
    }
    free(text);
    return 0;
}

/* cmk_json_str - a string member or def */
const char *cmk_json_str(const cJSON *obj, const char *name, const char *def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : def;
}

/* cmk_json_num - a number member or def */
double cmk_json_num(const cJSON *obj, const char *name, double def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(it) ? it->valuedouble : def;
}

/* cmk_json_bool - a boolean member or def */
int cmk_json_bool(const cJSON *obj, const char *name, int def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

/* cmk_random_id - prefix-<16 hex> */
char *cmk_random_id(const char *prefix, char *buf, size_t cap)
{
    uint8_t r[8];
    char hex[17];
    if (RAND_bytes(r, sizeof r) != 1) {
        /* RAND_bytes only fails if the system has no entropy at all; fall back to time+pid */
        uint64_t v = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)buf;
        memcpy(r, &v, sizeof r);
    }
    cmk_hex_encode(r, sizeof r, hex, sizeof hex);
    snprintf(buf, cap, "%s%s%s", prefix ? prefix : "", prefix && *prefix ? "-" : "", hex);
    return buf;
}

/* cmk_randpool_init - empty */
void cmk_randpool_init(cmk_randpool *p)
{
    p->used = sizeof p->buf;
}

/* cmk_randpool_hex - n bytes of the pool as hex, refilled when short */
int cmk_randpool_hex(cmk_randpool *p, size_t n, char *out, size_t cap)
{
    if (n > 64 || n > sizeof p->buf)
        return -1;
    if (p->used + n > sizeof p->buf) {
        if (RAND_bytes(p->buf, sizeof p->buf) != 1)
            return -1;
        p->used = 0;
    }
    cmk_hex_encode(p->buf + p->used, n, out, cap);
    OPENSSL_cleanse(p->buf + p->used, n);
    p->used += n;
    return 0;
}

/* cmk_hex_encode - bytes to hex */
char *cmk_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n && 2 * i + 2 < cap; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    if (cap)
        out[2 * i < cap ? 2 * i : cap - 1] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* cmk_hex_decode - hex to exactly n bytes */
int cmk_hex_decode(const char *hex, uint8_t *out, size_t n, cmk_err *err)
{
    if (!hex || strlen(hex) != 2 * n)
        return cmk_err_set(err, CMK_EINVAL, "expected %zu hex characters", 2 * n);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cmk_err_set(err, CMK_EINVAL, "not a hex string at position %zu", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* cmk_exe_dir - directory of /proc/self/exe */
int cmk_exe_dir(char *buf, size_t cap, cmk_err *err)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    char *slash;
    if (n <= 0)
        return cmk_err_set(err, CMK_EIO, "cannot read /proc/self/exe: %s", strerror(errno));
    buf[n] = '\0';
    slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return 0;
}

/* cmk_strlcpy - bounded copy */
size_t cmk_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

/* cmk_pid_alive - does the process exist (and is it not a zombie we could reap) */
int cmk_pid_alive(pid_t pid)
{
    char path[64], state = 0;
    FILE *f;
    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
            state = 0;
        fclose(f);
    }
    return state != 'Z';
}

/* cmk_pidfile_read - read a pid file */
int cmk_pidfile_read(const char *path, pid_t *pid, cmk_err *err)
{
    char *text;
    long v;
    int rc = cmk_file_read(path, &text, NULL, err);
    if (rc < 0)
        return rc;
    v = strtol(text, NULL, 10);
    free(text);
    if (v <= 0)
        return cmk_err_set(err, CMK_EINVAL, "pid file %s holds no pid", path);
    *pid = (pid_t)v;
    return 0;
}

/* cmk_b64_encode - standard base64 */
char *cmk_b64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

/* cmk_b64_decode - standard or url-safe base64, padding optional */
int cmk_b64_decode(const char *in, uint8_t **out, size_t *out_len, cmk_err *err)
{
    size_t n = strlen(in), m = 0, pad;
    char *norm = malloc(n + 4);
    uint8_t *buf;
    int got;

    if (!norm)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '\n' || c == '\r' || c == ' ')
            continue;
        norm[m++] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (m % 4)
        norm[m++] = '=';
    norm[m] = '\0';
    buf = malloc(m / 4 * 3 + 1);
    if (!buf) {
        free(norm);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    got = m ? EVP_DecodeBlock(buf, (const unsigned char *)norm, (int)m) : 0;
    pad = (m >= 1 && norm[m - 1] == '=') + (m >= 2 && norm[m - 2] == '=');
    free(norm);
    if (got < 0) {
        free(buf);
        return cmk_err_set(err, CMK_EINVAL, "not valid base64");
    }
    *out = buf;
    *out_len = (size_t)got - pad;
    return 0;
}

/* cmk_wipe_str - wipe and free */
void cmk_wipe_str(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}
