/*
 * fields.c - typed, checked request fields and the body-wide checks on the wire text and the
 * parsed tree (see fields.h).
 */
#include "fields.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"

/* the largest whole number a double carries exactly */
#define EXACT_INT 9007199254740992.0

/* member - the member name of body, or NULL when absent or null */
static const cJSON *member(const cJSON *body, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(body, name);
    return it && !cJSON_IsNull(it) ? it : NULL;
}

/* cmk_utf8_valid - strict UTF-8 (RFC 3629) */
int cmk_utf8_valid(const char *s, size_t n, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        size_t k;
        unsigned cp, lo;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f, lo = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f, lo = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07, lo = 0x10000;
        else
            goto fail;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (u[i + j] & 0xc0) != 0x80)
                goto fail;
            cp = (cp << 6) | (u[i + j] & 0x3f);
        }
        if (cp < lo || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto fail;
        i += k + 1;
    }
    return 1;
fail:
    if (bad)
        *bad = i;
    return 0;
}

/* utf8_chars - the number of characters of valid UTF-8 text */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* got_text - a short picture of a value for a message: "big", 1e+300, an object */
static const char *got_text(const cJSON *it, char *buf, size_t cap)
{
    if (cJSON_IsString(it)) {
        size_t n = strlen(it->valuestring);
        size_t bad;
        if (!cmk_utf8_valid(it->valuestring, n, &bad))
            snprintf(buf, cap, "a string that is not valid UTF-8");
        else if (n > 40)
            snprintf(buf, cap, "a string of %zu characters", utf8_chars(it->valuestring));
        else
            snprintf(buf, cap, "\"%s\"", it->valuestring);
    } else if (cJSON_IsNumber(it))
        snprintf(buf, cap, "%.17g", it->valuedouble);
    else if (cJSON_IsBool(it))
        snprintf(buf, cap, "%s", cJSON_IsTrue(it) ? "true" : "false");
    else if (cJSON_IsObject(it))
        snprintf(buf, cap, "an object");
    else if (cJSON_IsArray(it))
        snprintf(buf, cap, "an array");
    else
        snprintf(buf, cap, "null");
    return buf;
}

/* words_text - "a|b|c" as "a, b, c" */
static const char *words_text(const char *words, char *buf, size_t cap)
{
    size_t o = 0;
    for (const char *p = words; *p && o + 3 < cap; p++) {
        if (*p == '|') {
            buf[o++] = ',';
            buf[o++] = ' ';
        } else
            buf[o++] = *p;
    }
    buf[o] = '\0';
    return buf;
}

/* word_in - 1 if s is one of words */
static int word_in(const char *words, const char *s, int icase)
{
    size_t n = strlen(s);
    for (const char *p = words; p && *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && (icase ? strncasecmp(p, s, n) : strncmp(p, s, n)) == 0)
            return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

/* cmk_field_describe - the allowed values in words */
char *cmk_field_describe(const cmk_field *f, char *buf, size_t cap)
{
    char w[256];
    switch (f->type) {
    case CMK_FT_STR:
        if (f->min > 0)
            snprintf(buf, cap, "a string of %lld to %lld characters", (long long)f->min, (long long)f->max);
        else
            snprintf(buf, cap, "a string of at most %lld characters", (long long)f->max);
        break;
    case CMK_FT_BOOL:
        snprintf(buf, cap, "true or false");
        break;
    case CMK_FT_INT:
        if (f->words)
            snprintf(buf, cap, "one of %s", words_text(f->words, w, sizeof w));
        else
            snprintf(buf, cap, "a whole number from %lld to %lld", (long long)f->min, (long long)f->max);
        break;
    case CMK_FT_ENUM:
        snprintf(buf, cap, "one of %s", words_text(f->words, w, sizeof w));
        break;
    case CMK_FT_DURATION: {
        char a[32], b[32];
        snprintf(buf, cap, "a duration from %s to %s (like 30s, 5m, 72h, 7d; or milliseconds)",
                 cmk_duration_format(f->min, a, sizeof a), cmk_duration_format(f->max, b, sizeof b));
        break;
    }
    case CMK_FT_TIME:
        snprintf(buf, cap, "a time: milliseconds since 1970, a date like 2027-01-31T00:00:00Z or +90d");
        break;
    case CMK_FT_OBJECT:
        snprintf(buf, cap, "a JSON object");
        break;
    case CMK_FT_ARRAY:
        snprintf(buf, cap, "an array of at most %lld items", (long long)f->max);
        break;
    case CMK_FT_STRLIST:
        snprintf(buf, cap, "an array of at most %lld strings of at most %lld characters", (long long)f->min,
                 (long long)f->max);
        break;
    default:
        snprintf(buf, cap, "any JSON value");
        break;
    }
    return buf;
}

/* refuse - "field 'x': must be <what> (got <value>)" */
static int refuse(const cmk_field *f, const cJSON *it, cmk_err *err)
{
    char what[320], got[96];
    return cmk_err_set(err, CMK_EINVAL, "field '%s': must be %s (got %s)", f->name,
                       cmk_field_describe(f, what, sizeof what), got_text(it, got, sizeof got));
}

/* check_string - a JSON string within its limits (f->min..f->max characters) */
static int check_string(const cmk_field *f, const cJSON *it, cmk_err *err)
{
    size_t n, bad;
    if (!cJSON_IsString(it) || !it->valuestring)
        return refuse(f, it, err);
    n = strlen(it->valuestring);
    if (!cmk_utf8_valid(it->valuestring, n, &bad))
        return cmk_err_set(err, CMK_EINVAL, "field '%s': not valid UTF-8 (byte 0x%02x at offset %zu)", f->name,
                           (unsigned char)it->valuestring[bad], bad);
    n = utf8_chars(it->valuestring);
    if ((int64_t)n > f->max || (int64_t)n < f->min)
        return refuse(f, it, err);
    return 0;
}

/* whole - 1 if a number is whole and carried exactly */
static int whole(double v)
{
    return isfinite(v) && floor(v) == v && fabs(v) <= EXACT_INT;
}

/* cmk_field_check - one member against its declaration */
int cmk_field_check(const cmk_field *f, const cJSON *body, cmk_err *err)
{
    const cJSON *it = member(body, f->name), *x;
    int64_t ms;
    int rc;
    if (!it)
        return 0;
    switch (f->type) {
    case CMK_FT_STR:
        return check_string(f, it, err);
    case CMK_FT_BOOL:
        return cJSON_IsBool(it) ? 0 : refuse(f, it, err);
    case CMK_FT_INT:
        if (!cJSON_IsNumber(it) || !whole(it->valuedouble))
            return refuse(f, it, err);
        if (f->words) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)it->valuedouble);
            return word_in(f->words, num, 0) ? 0 : refuse(f, it, err);
        }
        return it->valuedouble >= (double)f->min && it->valuedouble <= (double)f->max ? 0 : refuse(f, it, err);
    case CMK_FT_ENUM:
        if (!cJSON_IsString(it) || !word_in(f->words, it->valuestring, f->flags & CMK_FF_ICASE))
            return refuse(f, it, err);
        return 0;
    case CMK_FT_DURATION:
        if (cJSON_IsNumber(it)) {
            if (!whole(it->valuedouble))
                return refuse(f, it, err);
            ms = (int64_t)it->valuedouble;
        } else if (cJSON_IsString(it)) {
            cmk_err derr = CMK_ERR_INIT;
            if ((rc = check_string(&(cmk_field){f->name, CMK_FT_STR, 1, 64, NULL, 0}, it, err)) < 0)
                return rc;
            if (cmk_duration_parse(it->valuestring, &ms, &derr) < 0)
                return cmk_err_set(err, CMK_EINVAL, "field '%s': %s", f->name, derr.msg);
        } else
            return refuse(f, it, err);
        return ms >= f->min && ms <= f->max ? 0 : refuse(f, it, err);
    case CMK_FT_TIME:
        if (cJSON_IsNumber(it))
            return whole(it->valuedouble) && it->valuedouble >= 0 ? 0 : refuse(f, it, err);
        if (cJSON_IsString(it))
            return check_string(&(cmk_field){f->name, CMK_FT_STR, 1, 64, NULL, 0}, it, err) < 0
                       ? refuse(f, it, err)
                       : 0;
        return refuse(f, it, err);
    case CMK_FT_OBJECT:
        return cJSON_IsObject(it) ? 0 : refuse(f, it, err);
    case CMK_FT_ARRAY:
        return cJSON_IsArray(it) && cJSON_GetArraySize(it) <= f->max ? 0 : refuse(f, it, err);
    case CMK_FT_STRLIST: {
        int n = 0;
        if (!cJSON_IsArray(it))
            return refuse(f, it, err);
        cJSON_ArrayForEach(x, it) {
            if (++n > f->min || !cJSON_IsString(x))
                return refuse(f, it, err);
            if ((rc = check_string(&(cmk_field){f->name, CMK_FT_STR, 0, f->max, NULL, 0}, x, err)) < 0)
                return rc;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* cmk_fields_check - every declared member */
int cmk_fields_check(const cmk_field *spec, const cJSON *body, cmk_err *err)
{
    int rc;
    for (const cmk_field *f = spec; f && f->type != CMK_FT_END; f++)
        if ((rc = cmk_field_check(f, body, err)) < 0)
            return rc;
    return 0;
}

/* cmk_field_str - a checked string */
int cmk_field_str(const cJSON *body, const char *name, size_t max, const char **out, cmk_err *err)
{
    cmk_field f = {name, CMK_FT_STR, 0, (int64_t)max, NULL, 0};
    int rc = cmk_field_check(&f, body, err);
    const cJSON *it = member(body, name);
    if (rc == 0 && it)
        *out = it->valuestring;
    return rc;
}

/* cmk_field_bool - a checked boolean */
int cmk_field_bool(const cJSON *body, const char *name, int *out, cmk_err *err)
{
    cmk_field f = {name, CMK_FT_BOOL, 0, 0, NULL, 0};
    int rc = cmk_field_check(&f, body, err);
    const cJSON *it = member(body, name);
    if (rc == 0 && it)
        *out = cJSON_IsTrue(it);
    return rc;
}

/* cmk_field_int - a checked whole number */
int cmk_field_int(const cJSON *body, const char *name, int64_t min, int64_t max, int64_t *out, cmk_err *err)
{
    cmk_field f = {name, CMK_FT_INT, min, max, NULL, 0};
    int rc = cmk_field_check(&f, body, err);
    const cJSON *it = member(body, name);
    if (rc == 0 && it)
        *out = (int64_t)it->valuedouble;
    return rc;
}

/* cmk_field_enum - a checked word */
int cmk_field_enum(const cJSON *body, const char *name, const char *words, const char **out, cmk_err *err)
{
    cmk_field f = {name, CMK_FT_ENUM, 0, 0, words, 0};
    int rc = cmk_field_check(&f, body, err);
    const cJSON *it = member(body, name);
    if (rc == 0 && it)
        *out = it->valuestring;
    return rc;
}

/* cmk_field_duration - a checked duration in ms */
int cmk_field_duration(const cJSON *body, const char *name, int64_t min_ms, int64_t max_ms, int64_t *out,
                       cmk_err *err)
{
    cmk_field f = {name, CMK_FT_DURATION, min_ms, max_ms, NULL, 0};
    int rc = cmk_field_check(&f, body, err);
    const cJSON *it = member(body, name);
    if (rc == 0 && it) {
        if (cJSON_IsNumber(it))
            *out = (int64_t)it->valuedouble;
        else
            rc = cmk_duration_parse(it->valuestring, out, err);
    }
    return rc;
}

/* ---- the wire text ---- */

#define KEY_CAP 48

/* scan - the state of cmk_json_text_check */
typedef struct {
    int depth, max_depth;
    char *is_obj;             /* per level: 1 object, 0 array */
    char (*keys)[KEY_CAP];    /* per level: the member being read */
    int expect_key;           /* in an object, before a member name */
} scan;

/* path_of - the dotted path of the member being read ("definition.actions.Send") */
static const char *path_of(const scan *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int d = 1; d <= s->depth && d <= s->max_depth; d++) {
        if (!s->is_obj[d] || !s->keys[d][0])
            continue;
        o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s%s", o ? "." : "", s->keys[d]);
        if (o >= cap)
            break;
    }
    return buf[0] ? buf : NULL;
}

/* text_refuse - a body-wide refusal naming where it is */
static int text_refuse(const scan *s, int in_key, const char *what, cmk_err *err)
{
    char path[160];
    const char *p = path_of(s, path, sizeof path);
    if (in_key)
        return cmk_err_set(err, CMK_EINVAL, "a member name%s%s%s: %s", p ? " in '" : "", p ? p : "", p ? "'" : "",
                           what);
    if (p)
        return cmk_err_set(err, CMK_EINVAL, "field '%s': %s", p, what);
    return cmk_err_set(err, CMK_EINVAL, "the body: %s", what);
}

/* seq_len - the bytes of a UTF-8 sequence from its lead byte; 0 for a byte that leads none */
static size_t seq_len(unsigned char c)
{
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/* cmk_json_text_check - depth, UTF-8 and NUL on the wire text */
int cmk_json_text_check(const char *text, size_t len, int max_depth, cmk_err *err)
{
    char is_obj[CMK_FIELDS_MAX_DEPTH + 2];
    char keys[CMK_FIELDS_MAX_DEPTH + 2][KEY_CAP];
    scan s = {0, max_depth, is_obj, keys, 0};
    size_t i = 0;

    if (max_depth > CMK_FIELDS_MAX_DEPTH)
        s.max_depth = max_depth = CMK_FIELDS_MAX_DEPTH;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\0')
            return text_refuse(&s, 0, "contains a NUL byte; send text without NUL characters", err);
        if (c == '{' || c == '[') {
            if (++s.depth > max_depth)
                return cmk_err_set(err, CMK_EINVAL,
                                   "the body nests objects and arrays more than %d levels deep; "
                                   "send a flatter body",
                                   max_depth);
            s.is_obj[s.depth] = c == '{';
            s.keys[s.depth][0] = '\0';
            s.expect_key = c == '{';
            i++;
        } else if (c == '}' || c == ']') {
            if (s.depth > 0)
                s.depth--;
            s.expect_key = 0;
            i++;
        } else if (c == ',') {
            s.expect_key = s.depth > 0 && s.is_obj[s.depth];
            i++;
        } else if (c == ':') {
            s.expect_key = 0;
            i++;
        } else if (c == '"') {
            int in_key = s.expect_key && s.depth > 0;
            size_t start = ++i, klen = 0;
            while (i < len && text[i] != '"') {
                unsigned char d = (unsigned char)text[i];
                if (d == '\0')
                    return text_refuse(&s, in_key, "contains a NUL byte; send text without NUL characters", err);
                if (d == '\\') {
                    if (i + 5 < len && text[i + 1] == 'u' && strncmp(text + i + 2, "0000", 4) == 0)
                        return text_refuse(&s, in_key, "must not contain a NUL character (\\u0000)", err);
                    i += 2;
                    continue;
                }
                if (d >= 0x80) {
                    size_t k = seq_len(d);
                    if (!k || i + k > len || !cmk_utf8_valid(text + i, k, NULL)) {
                        char what[96];
                        snprintf(what, sizeof what, "not valid UTF-8 (byte 0x%02x); send UTF-8 text", d);
                        return text_refuse(&s, in_key, what, err);
                    }
                    i += k;
                    continue;
                }
                i++;
            }
            if (i > len) /* an escape at the very end stepped past it */
                i = len;
            if (in_key) {
                klen = i - start < KEY_CAP - 1 ? i - start : KEY_CAP - 1;
                memcpy(s.keys[s.depth], text + start, klen);
                s.keys[s.depth][klen] = '\0';
                for (size_t k = 0; k < klen; k++)
                    if ((unsigned char)s.keys[s.depth][k] < 0x20 || (unsigned char)s.keys[s.depth][k] >= 0x7f ||
                        s.keys[s.depth][k] == '\\')
                        s.keys[s.depth][k] = '?';
                s.expect_key = 0;
            }
            i++; /* the closing quote */
        } else /* outside strings anything but JSON's own characters is the parser's to refuse */
            i++;
    }
    return 0;
}

/* name_cmp - qsort order of member names */
static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* dup_in - the first member name given twice in one object, or NULL */
static const char *dup_in(const cJSON *obj)
{
    const cJSON *a, *b;
    int n = cJSON_GetArraySize(obj), k = 0;
    const char **names;
    const char *found = NULL;
    if (n <= 16) {
        for (a = obj->child; a; a = a->next)
            for (b = a->next; b; b = b->next)
                if (a->string && b->string && strcmp(a->string, b->string) == 0)
                    return a->string;
        return NULL;
    }
    names = malloc(sizeof *names * (size_t)n);
    if (!names)
        return NULL;
    for (a = obj->child; a; a = a->next)
        names[k++] = a->string ? a->string : "";
    qsort(names, (size_t)k, sizeof *names, name_cmp);
    for (int i = 1; i < k && !found; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            found = names[i];
    free(names);
    return found;
}

/* dups_at - the walk of cmk_json_check_duplicates (depth is bounded by the text check) */
static int dups_at(const cJSON *j, char *path, size_t plen, size_t cap, int depth, cmk_err *err)
{
    const cJSON *it;
    int rc;
    if (depth > CMK_FIELDS_MAX_DEPTH + 1)
        return cmk_err_set(err, CMK_EINVAL, "the body nests objects and arrays more than %d levels deep",
                           CMK_FIELDS_MAX_DEPTH);
    if (cJSON_IsObject(j)) {
        const char *d = dup_in(j);
        if (d)
            return cmk_err_set(err, CMK_EINVAL, "field '%s%s%.64s' is given twice; send each member once", path,
                               plen ? "." : "", d);
    }
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return 0;
    cJSON_ArrayForEach(it, j) {
        size_t n = plen;
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            if (cJSON_IsObject(j) && it->string)
                n += (size_t)snprintf(path + plen, cap - plen, "%s%.40s", plen ? "." : "", it->string);
            if (n >= cap)
                n = cap - 1;
            if ((rc = dups_at(it, path, n, cap, depth + 1, err)) < 0)
                return rc;
            path[plen] = '\0';
        }
    }
    return 0;
}

/* cmk_json_check_duplicates - walk every object */
int cmk_json_check_duplicates(const cJSON *j, cmk_err *err)
{
    char path[256] = "";
    return dups_at(j, path, 0, sizeof path, 0, err);
}
