/*
 * fields.h - typed, checked reading of request fields (issue 17, rule BAD-7).
 *
 * Every member of a request body is read as one of a few types, each with its limits:
 *   string    a JSON string of min..max characters, valid UTF-8 (checked on the wire text), no NUL
 *   bool      true or false
 *   int       a whole number within min..max (or one of a listed set), never (int) of a double
 *             out of range
 *   enum      one word of a list ("cloud|desktop")
 *   duration  "30s", "5m", "72h", "7d" (or a whole number of milliseconds) within min..max
 *   time      a whole number of milliseconds or a date/duration string (nbf, exp)
 *   object, array, json   the shape only (the module that reads them checks the inside)
 * A member that is absent or null is "not given": the accessor leaves *out as it was and
 * returns 0. A member of the wrong type, out of range or malformed is CMK_EINVAL with a message
 * naming the field and what is allowed, e.g.
 *   field 'size': must be one of 2048, 3072, 4096 (got "big")
 *
 * The body as a whole is checked too: cmk_json_text_check reads the wire text before cJSON parses
 * it (nesting depth, valid UTF-8, no NUL byte and no \u0000, naming the field it is in);
 * cmk_json_check_duplicates walks the parsed tree (cJSON keeps duplicate members silently).
 * Each request type's fields are declared once, in common/op_fields.c.
 */
#ifndef CMK_FIELDS_H
#define CMK_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* The deepest a request body may nest objects and arrays inside each other. */
#define CMK_FIELDS_MAX_DEPTH 128

/* Field types. */
typedef enum {
    CMK_FT_END,      /* end of a field list */
    CMK_FT_STR,      /* min..max characters */
    CMK_FT_BOOL,     /* true | false */
    CMK_FT_INT,      /* min..max, or one of words ("2048|3072|4096") */
    CMK_FT_ENUM,     /* one of words ("a|b|c"); CMK_FF_ICASE: any case */
    CMK_FT_DURATION, /* min..max ms, as "5m" or a number of ms */
    CMK_FT_TIME,     /* a number of ms (0..max) or a string of at most 64 characters */
    CMK_FT_OBJECT,   /* a JSON object */
    CMK_FT_ARRAY,    /* a JSON array of at most max items */
    CMK_FT_STRLIST,  /* an array of at most min items, each a string of at most max characters */
    CMK_FT_JSON,     /* any JSON value */
} cmk_ftype;

/* Field flags. */
#define CMK_FF_ICASE 0x1 /* an enum matched in any case */

/* One field of a request. */
typedef struct {
    const char *name;  /* the body member */
    cmk_ftype type;
    int64_t min, max;  /* see cmk_ftype */
    const char *words; /* enum words or int values, '|'-separated; NULL for none */
    unsigned flags;    /* CMK_FF_* */
} cmk_field;

/* cmk_field_str - a string of at most max characters (valid UTF-8): *out points into body */
int cmk_field_str(const cJSON *body, const char *name, size_t max, const char **out, cmk_err *err);

/* cmk_field_bool - true or false */
int cmk_field_bool(const cJSON *body, const char *name, int *out, cmk_err *err);

/* cmk_field_int - a whole number from min to max */
int cmk_field_int(const cJSON *body, const char *name, int64_t min, int64_t max, int64_t *out, cmk_err *err);

/* cmk_field_enum - one of words ("a|b|c", exact case): *out points into body */
int cmk_field_enum(const cJSON *body, const char *name, const char *words, const char **out, cmk_err *err);

/* cmk_field_duration - a duration ("5m", or a whole number of ms) from min_ms to max_ms */
int cmk_field_duration(const cJSON *body, const char *name, int64_t min_ms, int64_t max_ms, int64_t *out,
                       cmk_err *err);

/* cmk_field_check - one member against its declaration (absent or null passes) */
int cmk_field_check(const cmk_field *f, const cJSON *body, cmk_err *err);

/* cmk_fields_check - every declared member of body (a list ended by CMK_FT_END) */
int cmk_fields_check(const cmk_field *spec, const cJSON *body, cmk_err *err);

/* cmk_field_describe - what a field takes, in words ("a whole number from 7 to 90") */
char *cmk_field_describe(const cmk_field *f, char *buf, size_t cap);

/* cmk_utf8_valid - 1 if s[0..n) is valid UTF-8 (no overlong forms, no surrogates, <= U+10FFFF);
 * *bad gets the offset of the first bad byte */
int cmk_utf8_valid(const char *s, size_t n, size_t *bad);

/* cmk_json_text_check - the wire text of a body before it is parsed: nesting at most max_depth,
 * valid UTF-8, no NUL byte and no \u0000 escape; the message names the field it is in */
int cmk_json_text_check(const char *text, size_t len, int max_depth, cmk_err *err);

/* cmk_json_check_duplicates - no object in the tree has two members of one name */
int cmk_json_check_duplicates(const cJSON *j, cmk_err *err);

#endif
