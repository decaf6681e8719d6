/*
 * args.c - option tables, sizes and counts for cmk-bench (see args.h).
 */
#include "args.h"
#include "suggest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* bench_args_parse - fill the table's targets */
int bench_args_parse(int argc, char **argv, const bench_optdef *defs, const char *cmd,
                     cmk_err *err)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const bench_optdef *d = NULL;

        if (strncmp(a, "--", 2) != 0)
            return cmk_err_set(err, CMK_EINVAL, "unexpected argument '%s'; see `%s --help`", a,
                               cmd);
        for (const bench_optdef *p = defs; p->name; p++)
            if (strlen(p->name) == nl && strncmp(p->name, a, nl) == 0) {
                d = p;
                break;
            }
        if (!d) {
            const char *names[64], *near;
            size_t nn = 0;
            for (const bench_optdef *p = defs; p->name && nn < 63; p++)
                names[nn++] = p->name;
            names[nn++] = "--help";
            near = cmk_closest(a, nl, names, nn);
            return cmk_err_set(err, CMK_EINVAL, "unknown option %.*s%s%s%s; see `%s --help`", (int)nl, a,
                               near ? "; did you mean " : "", near ? near : "", near ? "?" : "", cmd);
        }
        if (d->flag) {
            if (eq)
                return cmk_err_set(err, CMK_EINVAL, "%s takes no value", d->name);
            *d->flag = 1;
            continue;
        }
        if (eq) {
            *d->value = eq + 1;
        } else if (i + 1 < argc) {
            *d->value = argv[++i];
        } else {
            return cmk_err_set(err, CMK_EINVAL, "%s needs a value; see `%s --help`", d->name, cmd);
        }
    }
    return 0;
}

/* bench_parse_size - bytes with an optional binary unit */
int bench_parse_size(const char *s, size_t *out, cmk_err *err)
{
    char *end;
    unsigned long long v;
    unsigned long long mul = 1;

    errno = 0;
    if (!s || !isdigit((unsigned char)*s))
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno)
        goto bad;
    if (*end) {
        char u = (char)tolower((unsigned char)*end);
        const char *rest = end + 1;
        if (u == 'k')
            mul = 1024;
        else if (u == 'm')
            mul = 1024 * 1024;
        else if (u == 'b' && !*rest)
            mul = 1;
        else
            goto bad;
        if (u != 'b' && *rest && strcasecmp(rest, "ib") != 0 && strcasecmp(rest, "b") != 0)
            goto bad;
    }
    if (v == 0 || v > (1ULL << 30) / mul)
        goto bad;
    *out = (size_t)(v * mul);
    return 0;
bad:
    return cmk_err_set(err, CMK_EINVAL,
                       "'%s' is not a record size: use bytes with an optional unit, from 1 to "
                       "1 GiB (256, 1k, 4KiB, 64K)",
                       s ? s : "");
}

/* bench_parse_sizes - a comma list */
int bench_parse_sizes(const char *list, size_t *out, size_t cap, size_t *n, cmk_err *err)
{
    char buf[256], *save = NULL, *tok;
    int rc;

    *n = 0;
    if (!list || strlen(list) >= sizeof buf)
        return cmk_err_set(err, CMK_EINVAL, "--sizes needs a short comma list, e.g. 256,1k,4k,64k");
    strcpy(buf, list);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        if (*n == cap)
            return cmk_err_set(err, CMK_EINVAL, "--sizes takes at most %zu sizes", cap);
        if ((rc = bench_parse_size(tok, &out[*n], err)) < 0)
            return rc;
        (*n)++;
    }
    if (!*n)
        return cmk_err_set(err, CMK_EINVAL, "--sizes needs at least one size, e.g. 1024");
    return 0;
}

/* bench_parse_count - a count with an optional decimal unit */
int bench_parse_count(const char *s, uint64_t *out, cmk_err *err)
{
    char *end;
    unsigned long long v, mul = 1;

    errno = 0;
    if (!s || !isdigit((unsigned char)*s))
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno)
        goto bad;
    if (*end == 'k' || *end == 'K')
        mul = 1000, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1000000, end++;
    if (*end || v == 0 || v > UINT64_MAX / 2 / mul)
        goto bad;
    *out = v * mul;
    return 0;
bad:
    return cmk_err_set(err, CMK_EINVAL, "'%s' is not a count: use a number >= 1 (20000, 20k, 1m)",
                       s ? s : "");
}

/* bench_parse_int - a bounded decimal integer */
int bench_parse_int(const char *s, const char *name, long min, long max, long *out, cmk_err *err)
{
    char *end;
    long v;

    errno = 0;
    v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max)
        return cmk_err_set(err, CMK_EINVAL, "%s '%s' must be a whole number from %ld to %ld", name,
                           s ? s : "", min, max);
    *out = v;
    return 0;
}

/* bench_size_label - a size for people */
const char *bench_size_label(size_t size, char *buf, size_t cap)
{
    if (size >= 1024 * 1024 && size % (1024 * 1024) == 0)
        snprintf(buf, cap, "%zu MiB", size / (1024 * 1024));
    else if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", size / 1024);
    else
        snprintf(buf, cap, "%zu B", size);
    return buf;
}
