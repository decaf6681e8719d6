/*
 * err.c - error values with messages a person can act on.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
} code_names[] = {
    { CMK_OK, "OK" },           { CMK_EINVAL, "EINVAL" },       { CMK_ENOENT, "ENOENT" },
    { CMK_EEXIST, "EEXIST" },   { CMK_EPERM, "EPERM" },         { CMK_ESTATE, "ESTATE" },
    { CMK_EIO, "EIO" },         { CMK_ECRYPTO, "ECRYPTO" },     { CMK_ETIMEOUT, "ETIMEOUT" },
    { CMK_EBUSY, "EBUSY" },     { CMK_ENOMEM, "ENOMEM" },       { CMK_EPROTO, "EPROTO" },
    { CMK_ELIMIT, "ELIMIT" },   { CMK_EUNAVAIL, "EUNAVAIL" },   { CMK_EINTERNAL, "EINTERNAL" },
};

/* cmk_err_set - fill err and return code */
int cmk_err_set(cmk_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* cmk_err_prefix - prepend context to an error's message */
int cmk_err_prefix(cmk_err *err, const char *fmt, ...)
{
    char old[CMK_ERR_MSG_MAX];
    va_list ap;
    int n;

    if (!err)
        return CMK_EINTERNAL;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg) {
        size_t rest = sizeof err->msg - (size_t)n;
        size_t len = strnlen(old, rest - 1);
        memcpy(err->msg + n, old, len);
        err->msg[n + len] = '\0';
    }
    return err->code;
}

/* cmk_err_clear - reset err to success */
void cmk_err_clear(cmk_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

/* cmk_code_name - the wire name of a code */
const char *cmk_code_name(int code)
{
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (code_names[i].code == code)
            return code_names[i].name;
    return "EUNKNOWN";
}

/* cmk_code_from_name - inverse of cmk_code_name */
int cmk_code_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof code_names / sizeof code_names[0]; i++)
        if (strcmp(code_names[i].name, name) == 0)
            return code_names[i].code;
    return CMK_EINTERNAL;
}

/* cmk_code_exit - exit status for a code: 1 for refusals and bad input, 2+ for the rest */
int cmk_code_exit(int code)
{
    switch (code) {
    case CMK_OK: return 0;
    case CMK_EINVAL: return 2;
    case CMK_ETIMEOUT: case CMK_EUNAVAIL: return 3;
    case CMK_EIO: case CMK_EINTERNAL: case CMK_ENOMEM: return 4;
    default: return 1;
    }
}
