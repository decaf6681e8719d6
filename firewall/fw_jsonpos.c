/*
 * fw_jsonpos.c - a small position scanner over raw JSON text (see fw_jsonpos.h).
 *
 * It skips values without building them, so finding "rules[40]" in a config costs one pass
 * over the text before it. Keys are compared byte for byte with their raw (unescaped) text.
 */
#include "fw_jsonpos.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One step of a path: a key or an array index. */
typedef struct {
    const char *key; /* key text (not NUL-terminated) or NULL for an index */
    size_t key_len;  /* length of key */
    long index;      /* array index when key is NULL */
} jp_seg;

/* fw_jsonpos_line_col - line and column of an offset */
void fw_jsonpos_line_col(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    if (line)
        *line = l;
    if (col)
        *col = c;
}

/* skip_ws - past JSON whitespace */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* skip_string - past a string starting at its opening quote; NULL if unterminated */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* skip_value - past one value starting at p (no leading whitespace); NULL on bad text */
static const char *skip_value(const char *p, const char *end, int depth)
{
    if (p >= end || depth > 1000)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = skip_ws(p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                if (p >= end || *p != '"' || !(p = skip_string(p, end)))
                    return NULL;
                p = skip_ws(p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p = skip_ws(p + 1, end);
            }
            if (!(p = skip_value(p, end, depth + 1)))
                return NULL;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            return (p < end && *p == close) ? p + 1 : NULL;
        }
    }
    /* number, true, false, null */
    const char *s = p;
    while (p < end && !strchr(",}] \t\r\n", *p))
        p++;
    return p > s ? p : NULL;
}

/* parse_path - split "a.b[2]" into segments; returns count or -1 */
static int parse_path(const char *path, jp_seg *segs, int max)
{
    int n = 0;
    const char *p = path;
    while (*p) {
        if (n >= max)
            return -1;
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *e;
            segs[n].key = NULL;
            segs[n].index = strtol(p + 1, &e, 10);
            if (*e != ']')
                return -1;
            p = e + 1;
        } else {
            size_t l = strcspn(p, ".[");
            segs[n].key = p;
            segs[n].key_len = l;
            p += l;
        }
        n++;
    }
    return n;
}

/* step - from a value at p, the start of its member/element seg; NULL if absent */
static const char *step(const char *p, const char *end, const jp_seg *seg)
{
    if (seg->key ? (*p != '{') : (*p != '['))
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && (*p == '}' || *p == ']'))
        return NULL;
    for (long i = 0;; i++) {
        bool hit;
        if (p >= end)
            return NULL;
        if (seg->key) {
            const char *k = p + 1, *after;
            if (*p != '"' || !(after = skip_string(p, end)))
                return NULL;
            hit = (size_t)(after - 1 - k) == seg->key_len && memcmp(k, seg->key, seg->key_len) == 0;
            p = skip_ws(after, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_ws(p + 1, end);
        } else {
            hit = i == seg->index;
        }
        if (hit)
            return p;
        if (!(p = skip_value(p, end, 0)))
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

/* fw_jsonpos_find - offset of the value at path (or of its deepest existing parent) */
long fw_jsonpos_find(const char *text, size_t len, const char *path, int *found_depth)
{
    jp_seg segs[32];
    const char *end = text + len, *p;
    int n = parse_path(path ? path : "", segs, 32);

    if (found_depth)
        *found_depth = 0;
    if (n < 0)
        return -1;
    p = skip_ws(text, end);
    /* tolerate a UTF-8 byte order mark */
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p = skip_ws(p + 3, end);
    if (p >= end)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *q = step(p, end, &segs[i]);
        if (!q)
            break;
        p = q;
        if (found_depth)
            *found_depth = i + 1;
    }
    return (long)(p - text);
}

/* fw_jsonpos_line - line of the value at path */
int fw_jsonpos_line(const char *text, size_t len, const char *path)
{
    int line;
    long off = fw_jsonpos_find(text, len, path, NULL);
    if (off < 0)
        return 0;
    fw_jsonpos_line_col(text, len, (size_t)off, &line, NULL);
    return line;
}
