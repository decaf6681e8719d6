/*
 * con_token.c - the console's access token: made once per run dir, stored 0600, compared in
 * constant time.
 */
#include "con_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util.h"

/* con_token_path - the token file of a run dir */
char *con_token_path(const char *run_dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/console.token", run_dir);
    return buf;
}

/* valid - 64 lowercase hex characters */
static int valid(const char *s, size_t len)
{
    if (len != CON_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return 0;
    return 1;
}

/* con_token_ensure - load the stored token or make a new one */
int con_token_ensure(const char *run_dir, char *out, size_t cap, cmk_err *err)
{
    char path[4096], *text = NULL;
    uint8_t raw[CON_TOKEN_LEN / 2];
    size_t len = 0;
    int rc;

    if (cap <= CON_TOKEN_LEN)
        return cmk_err_set(err, CMK_EINVAL, "con_token_ensure needs room for %d characters", CON_TOKEN_LEN);
    con_token_path(run_dir, path, sizeof path);
    rc = cmk_file_read(path, &text, &len, err);
    if (rc == 0) {
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (valid(text, len)) {
            memcpy(out, text, CON_TOKEN_LEN + 1);
            OPENSSL_cleanse(text, len);
            free(text);
            return 0;
        }
        OPENSSL_cleanse(text, len);
        free(text);
        /* not a token (truncated, edited): replace it */
    } else if (rc != CMK_ENOENT)
        return rc;
    cmk_err_clear(err);
    if (RAND_bytes(raw, sizeof raw) != 1)
        return cmk_err_set(err, CMK_ECRYPTO, "no randomness for the console token");
    cmk_hex_encode(raw, sizeof raw, out, cap);
    OPENSSL_cleanse(raw, sizeof raw);
    {
        char line[CON_TOKEN_LEN + 2];
        snprintf(line, sizeof line, "%s\n", out);
        rc = cmk_file_write_atomic(path, line, strlen(line), 0600, err);
        OPENSSL_cleanse(line, sizeof line);
    }
    if (rc < 0)
        OPENSSL_cleanse(out, cap);
    return rc < 0 ? cmk_err_prefix(err, "console token %s: ", path) : 0;
}

/* con_token_equal - same length and same bytes, compared without early exit */
int con_token_equal(const char *token, const char *given)
{
    if (!token || !given || strlen(given) != CON_TOKEN_LEN || strlen(token) != CON_TOKEN_LEN)
        return 0;
    return CRYPTO_memcmp(token, given, CON_TOKEN_LEN) == 0;
}

/* con_token_bearer - "Bearer X" -> X */
const char *con_token_bearer(const char *header)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    header += 7;
    while (*header == ' ')
        header++;
    return header;
}
