/*
 * con_token.h - the console's access token: 32 random bytes as 64 hex characters in
 * <run>/console.token (mode 0600), made on the console's first start and kept across restarts,
 * so the URL `cmkctl up` prints stays valid. A browser brings it once as ?token=..., then as the
 * HttpOnly SameSite=Strict cookie cmk_console; scripts send "Authorization: Bearer TOKEN".
 */
#ifndef CMK_CON_TOKEN_H
#define CMK_CON_TOKEN_H

#include <stddef.h>

#include "err.h"

#define CON_TOKEN_LEN 64 /* hex characters */

/* con_token_path - <run>/console.token into buf */
char *con_token_path(const char *run_dir, char *buf, size_t cap);

/* con_token_ensure - read the token of run_dir, or make and store one; out gets it (cap > 64) */
int con_token_ensure(const char *run_dir, char *out, size_t cap, cmk_err *err);

/* con_token_equal - 1 if given is the token (constant time in the token's length) */
int con_token_equal(const char *token, const char *given);

/* con_token_bearer - the token of an "Authorization: Bearer X" header value, or NULL */
const char *con_token_bearer(const char *header);

#endif
