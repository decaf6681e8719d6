/*
 * err.h - error values that carry a message a person can act on.
 *
 * Modules return 0 on success or a negative cmk_code on failure, and fill a cmk_err with the
 * code and a sentence that says what went wrong and what to do. Only main() decides to exit.
 *
 *   cmk_err err = CMK_ERR_INIT;
 *   if (vault_key_get(v, name, &key, &err) < 0)
 *       fprintf(stderr, "cmkctl: %s\n", err.msg);
 */
#ifndef CMK_ERR_H
#define CMK_ERR_H

#include <stddef.h>

/* Error codes. Stable: they travel on the wire as names (cmk_code_name). */
typedef enum {
    CMK_OK = 0,
    CMK_EINVAL = -1,     /* bad input: argument, JSON, definition, config */
    CMK_ENOENT = -2,     /* no such object */
    CMK_EEXIST = -3,     /* object exists already */
    CMK_EPERM = -4,      /* caller lacks a permission or identity */
    CMK_ESTATE = -5,     /* operation not allowed in the object's current state */
    CMK_EIO = -6,        /* file, database or socket failure */
    CMK_ECRYPTO = -7,    /* cryptographic failure: bad tag, wrong key, bad key material */
    CMK_ETIMEOUT = -8,   /* no answer in time */
    CMK_EBUSY = -9,      /* throttled or saturated; retry later */
    CMK_ENOMEM = -10,    /* out of memory */
    CMK_EPROTO = -11,    /* malformed or unknown protocol message */
    CMK_ELIMIT = -12,    /* a documented limit was reached */
    CMK_EUNAVAIL = -13,  /* the serving process is down or locked */
    CMK_EINTERNAL = -14, /* a bug: an impossible state */
} cmk_code;

#define CMK_ERR_MSG_MAX 512

/* An error: code plus a message for a person. */
typedef struct {
    int code;                  /* 0 or a negative cmk_code */
    char msg[CMK_ERR_MSG_MAX]; /* what went wrong and what to do */
} cmk_err;

#define CMK_ERR_INIT { 0, { 0 } }

/* cmk_err_set - fill err (may be NULL) and return code, for `return cmk_err_set(...)` */
int cmk_err_set(cmk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cmk_err_prefix - prepend context ("loading config: ") to an error's message; returns code */
int cmk_err_prefix(cmk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cmk_err_clear - reset err to success */
void cmk_err_clear(cmk_err *err);

/* cmk_code_name - the wire name of a code ("EINVAL"); "EUNKNOWN" for others */
const char *cmk_code_name(int code);

/* cmk_code_from_name - inverse of cmk_code_name; CMK_EINTERNAL for an unknown name */
int cmk_code_from_name(const char *name);

/* cmk_code_exit - the process exit status a CLI uses for a code (0 for CMK_OK) */
int cmk_code_exit(int code);

#endif
