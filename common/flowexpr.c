/*
 * flowexpr.c - parser and evaluator of flow-definition expressions (see flowexpr.h).
 *
 * A string value is parsed into pieces (literal text and expression trees); evaluation walks the
 * trees with a context supplied by the caller. Errors quote the expression and a 1-based column.
 */
#include "flowexpr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FX_MAX_DEPTH 64 /* nesting of calls and brackets in one expression */
#define FX_SHOW 120     /* characters of an expression quoted in an error */
#define FX_PATH_MAX 512 /* longest JSON path kept while checking */

enum { N_LIT, N_CALL, N_INDEX };

/* Functions, in the order of fx_fns. */
enum {
    F_TBODY, F_TOUT, F_BODY, F_OUTPUTS, F_PARAMS, F_VARS, F_CONCAT, F_STRING, F_INT, F_FLOAT,
    F_JSON, F_ADD, F_SUB, F_MUL, F_DIV, F_MOD, F_UTCNOW, F_COALESCE, F_IF, F_EMPTY,
    F_LENGTH, F_LOWER, F_UPPER, F_NOT, F_AND, F_OR, F_EQUALS, F_GT, F_GE, F_LT, F_LE, F_CONTAINS, F_STARTS, F_ENDS,
};

static const struct {
    const char *name; /* as written */
    int min, max;     /* arity; max -1: any number */
} fx_fns[] = {
    { "triggerBody", 0, 0 }, { "triggerOutputs", 0, 0 }, { "body", 1, 1 }, { "outputs", 1, 1 },
    { "parameters", 1, 1 }, { "variables", 1, 1 }, { "concat", 1, -1 }, { "string", 1, 1 },
    { "int", 1, 1 }, { "float", 1, 1 }, { "json", 1, 1 }, { "add", 2, 2 },
    { "sub", 2, 2 }, { "mul", 2, 2 }, { "div", 2, 2 }, { "mod", 2, 2 }, { "utcNow", 0, 1 },
    { "coalesce", 1, -1 }, { "if", 3, 3 }, { "empty", 1, 1 }, { "length", 1, 1 },
    { "toLower", 1, 1 }, { "toUpper", 1, 1 }, { "not", 1, 1 }, { "and", 1, -1 }, { "or", 1, -1 },
    { "equals", 2, 2 }, { "greater", 2, 2 }, { "greaterOrEquals", 2, 2 }, { "less", 2, 2 },
    { "lessOrEquals", 2, 2 }, { "contains", 2, 2 }, { "startsWith", 2, 2 }, { "endsWith", 2, 2 },
};
#define FX_NFNS ((int)(sizeof fx_fns / sizeof fx_fns[0]))

typedef struct fx_node fx_node;
struct fx_node {
    int kind;       /* N_LIT, N_CALL or N_INDEX */
    size_t pos;     /* offset in the source text, for errors */
    cJSON *lit;     /* N_LIT: the value */
    int fn;         /* N_CALL: F_* */
    fx_node **args; /* N_CALL: arguments; N_INDEX: [0] the object, [1] the key */
    size_t nargs;   /* number of args */
    bool safe;      /* N_INDEX: written with '?': a missing property yields null */
};

struct flowexpr {
    char *text;    /* the source string, for messages */
    fx_node *root; /* a literal, an expression, or concat() of interpolated pieces */
};

typedef struct {
    const char *s; /* the whole source text */
    size_t i;      /* cursor */
    int depth;     /* current nesting */
    cmk_err *err;  /* where a parse error goes */
} fx_parser;

typedef struct {
    const flowexpr_ctx *ctx; /* what the expression sees */
    const char *text;        /* source, for messages */
    cmk_err *err;            /* where an evaluation error goes */
    size_t *spent;           /* bytes produced so far, against ctx->budget */
} fx_eval;

/* fx_vmsg - "expression '<text>' at column N: <msg>" into err */
static int fx_vmsg(cmk_err *err, const char *text, size_t pos, const char *fmt, va_list ap)
{
    char msg[CMK_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int len = (int)strlen(text);
    return cmk_err_set(err, CMK_EINVAL, "expression '%.*s%s' at column %zu: %s",
                       len > FX_SHOW ? FX_SHOW : len, text, len > FX_SHOW ? "..." : "", pos + 1, msg);
}

/* fx_perr - a parse error at a position */
static int fx_perr(fx_parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fx_vmsg(p->err, p->s, pos, fmt, ap);
    va_end(ap);
    return rc;
}

/* fx_fail - an evaluation error at a node */
static int fx_fail(const fx_eval *ev, const fx_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fx_vmsg(ev->err, ev->text, n->pos, fmt, ap);
    va_end(ap);
    return rc;
}

/* flowexpr_json_size - about how many bytes a JSON value holds */
size_t flowexpr_json_size(const cJSON *v)
{
    size_t n = 0;
    const cJSON *it;
    if (!v)
        return 0;
    n = 8 + (v->string ? strlen(v->string) : 0);
    if (cJSON_IsString(v) && v->valuestring)
        n += strlen(v->valuestring);
    else if (cJSON_IsRaw(v) && v->valuestring)
        n += strlen(v->valuestring);
    cJSON_ArrayForEach(it, v) n += flowexpr_json_size(it);
    return n;
}

/* fx_charge - count bytes an evaluation produces; CMK_ELIMIT past the budget */
static int fx_charge(const fx_eval *ev, const fx_node *n, size_t bytes)
{
    size_t budget = ev->ctx->budget;
    if (!budget)
        return 0;
    if (bytes > budget || *ev->spent > budget - bytes) {
        int len = (int)strlen(ev->text);
        return cmk_err_set(ev->err, CMK_ELIMIT,
                           "expression '%.*s%s' at column %zu would produce %zu bytes more, past the %zu bytes the "
                           "run has left", len > FX_SHOW ? FX_SHOW : len, ev->text, len > FX_SHOW ? "..." : "",
                           n ? n->pos + 1 : 1, bytes, budget - (*ev->spent < budget ? *ev->spent : budget));
    }
    *ev->spent += bytes;
    return 0;
}

/* fx_oom - the out-of-memory error */
static int fx_oom(cmk_err *err)
{
    return cmk_err_set(err, CMK_ENOMEM, "out of memory while handling an expression");
}

/* fx_node_free - free a tree */
static void fx_node_free(fx_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nargs; i++)
        fx_node_free(n->args[i]);
    free(n->args);
    cJSON_Delete(n->lit);
    free(n);
}

/* fx_dup - a copy of v, or JSON null for NULL */
static cJSON *fx_dup(const cJSON *v)
{
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* fx_type - the JSON type of v in words */
static const char *fx_type(const cJSON *v)
{
    return !v || cJSON_IsNull(v) ? "null" : cJSON_IsBool(v) ? "a boolean" : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsString(v) ? "a string" : cJSON_IsArray(v) ? "an array" : "an object";
}

/* flowexpr_to_text - a value as interpolation shows it */
char *flowexpr_to_text(const cJSON *v)
{
    char buf[64];
    if (!v || cJSON_IsNull(v))
        return strdup("");
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "True" : "False");
    if (!cJSON_IsNumber(v))
        return cJSON_PrintUnformatted(v);
    double d = v->valuedouble;
    snprintf(buf, sizeof buf, d == floor(d) && fabs(d) < 1e15 ? "%.0f" : "%.15g", d);
    return strdup(buf);
}

/* fx_has - contains (op 'c'), startsWith ('s'), endsWith ('e'); -1 if not applicable */
static int fx_has(const cJSON *hay, const cJSON *needle, char op)
{
    if (cJSON_IsString(hay) && cJSON_IsString(needle)) {
        size_t hl = strlen(hay->valuestring), nl = strlen(needle->valuestring);
        if (op == 'c')
            return strstr(hay->valuestring, needle->valuestring) != NULL;
        return nl <= hl && !memcmp(hay->valuestring + (op == 's' ? 0 : hl - nl), needle->valuestring, nl);
    }
    const cJSON *it;
    if (op == 'c' && cJSON_IsArray(hay)) {
        cJSON_ArrayForEach(it, hay) if (cJSON_Compare(it, needle, 1)) return 1;
        return 0;
    }
    if (op == 'c' && cJSON_IsObject(hay) && cJSON_IsString(needle))
        return cJSON_GetObjectItemCaseSensitive(hay, needle->valuestring) != NULL;
    return -1;
}

/* fx_utc_now - the context's time in a .NET-style format (yyyy MM dd HH mm ss f..fffffff) */
static cJSON *fx_utc_now(int64_t ms, const char *fmt)
{
    char buf[128];
    size_t len = 0, run;
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int vals[] = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   (int)(ms - (int64_t)secs * 1000) * 10000 };
    fmt = !strcmp(fmt, "o") ? "yyyy-MM-ddTHH:mm:ss.fffffffZ" : !strcmp(fmt, "s") ? "yyyy-MM-ddTHH:mm:ss" : fmt;
    for (; *fmt && len + 16 < sizeof buf; fmt += run) {
        const char *tok = "yMdHmsf", *hit = strchr(tok, *fmt);
        for (run = 1; fmt[run] == fmt[0]; run++)
            ;
        if (hit && run == (*fmt == 'y' ? 4u : *fmt == 'f' ? 7u : 2u))
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%0*d", (int)run, vals[hit - tok]);
        else if (hit && *fmt == 'f' && run < 7) /* fewer decimals */
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%0*d", (int)run, vals[6] / (int)pow(10, 7 - (double)run));
        else
            for (size_t k = 0; k < run && len + 1 < sizeof buf; k++)
                buf[len++] = *fmt;
    }
    buf[len] = '\0';
    return cJSON_CreateString(buf);
}

/* fx_call - apply function n->fn to its evaluated arguments */
static int fx_call(const fx_eval *ev, const fx_node *n, cJSON **argv, cJSON **out)
{
    const flowexpr_ctx *ctx = ev->ctx;
    const cJSON *a = n->nargs ? argv[0] : NULL, *b = n->nargs > 1 ? argv[1] : NULL, *v = NULL;
    const char *name = fx_fns[n->fn].name, *what;
    double x, y;
    int c = 0;
    char *t = NULL, *end;
    size_t len = 0;

    switch (n->fn) {
    case F_TBODY:
        *out = fx_dup(ctx->trigger_outputs ? cJSON_GetObjectItemCaseSensitive(ctx->trigger_outputs, "body") : NULL);
        break;
    case F_TOUT:
        *out = ctx->trigger_outputs ? cJSON_Duplicate(ctx->trigger_outputs, 1) : cJSON_CreateObject();
        break;
    case F_BODY:
    case F_OUTPUTS: {
        const cJSON *o = NULL, *bd = NULL;
        cmk_err e = CMK_ERR_INIT;
        if (!cJSON_IsString(a))
            return fx_fail(ev, n, "an action name must be a string, got %s", fx_type(a));
        if (!ctx->lookup)
            return fx_fail(ev, n, "action '%s' has not run", a->valuestring);
        if (ctx->lookup(ctx->lookup_arg, a->valuestring, &o, &bd, &e) < 0)
            return fx_fail(ev, n, "%s", e.msg);
        *out = fx_dup(n->fn == F_BODY ? bd : o);
        break;
    }
    case F_PARAMS:
    case F_VARS:
        what = n->fn == F_PARAMS ? "parameter" : "variable";
        if (!cJSON_IsString(a))
            return fx_fail(ev, n, "a %s name must be a string, got %s", what, fx_type(a));
        v = n->fn == F_PARAMS ? ctx->parameters : ctx->variables;
        if (!(v = v ? cJSON_GetObjectItemCaseSensitive(v, a->valuestring) : NULL))
            return fx_fail(ev, n, "%s '%s' is not defined", what, a->valuestring);
        *out = cJSON_Duplicate(v, 1);
        break;
    case F_CONCAT: {
        /* the size is checked before the string is built: concat(x, x) of a large x fails at once */
        size_t total = 0;
        for (size_t i = 0; i < n->nargs; i++)
            total += cJSON_IsString(argv[i]) ? strlen(argv[i]->valuestring) : flowexpr_json_size(argv[i]);
        int crc = fx_charge(ev, n, total);
        if (crc < 0)
            return crc;
        *ev->spent -= ev->ctx->budget ? total : 0; /* the result is counted once, below */
        t = strdup("");
        for (size_t i = 0; t && i < n->nargs; i++) {
            char *piece = flowexpr_to_text(argv[i]), *nt = piece ? realloc(t, len + strlen(piece) + 1) : NULL;
            if (nt)
                len += strlen(strcpy(nt + len, piece));
            else
                free(t);
            t = nt;
            free(piece);
        }
    }
        /* fall through */
    case F_STRING:
        if (n->fn == F_STRING)
            t = flowexpr_to_text(a);
        *out = t ? cJSON_CreateString(t) : NULL;
        free(t);
        break;
    case F_INT:
    case F_FLOAT:
        if (cJSON_IsNumber(a) && (n->fn == F_FLOAT || a->valuedouble == floor(a->valuedouble))) {
            x = a->valuedouble;
        } else if (cJSON_IsString(a) && a->valuestring[0] && !isspace((unsigned char)a->valuestring[0])) {
            x = n->fn == F_INT ? (double)strtoll(a->valuestring, &end, 10) : strtod(a->valuestring, &end);
            if (*end || !isfinite(x))
                return fx_fail(ev, n, "%s() cannot convert the string '%s' to a%s", name, a->valuestring,
                               n->fn == F_INT ? "n integer" : " number");
        } else {
            return fx_fail(ev, n, "%s() cannot convert %s to a%s", name, fx_type(a), n->fn == F_INT ? "n integer" : " number");
        }
        *out = cJSON_CreateNumber(x);
        break;
    case F_JSON:
        if (!cJSON_IsString(a))
            return fx_fail(ev, n, "json() takes a string, got %s", fx_type(a));
        if (!(*out = cJSON_Parse(a->valuestring)))
            return fx_fail(ev, n, "json() was given text that is not valid JSON");
        break;
    case F_ADD: case F_SUB: case F_MUL: case F_DIV: case F_MOD:
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
            return fx_fail(ev, n, "%s() takes two numbers, got %s and %s", name, fx_type(a), fx_type(b));
        x = a->valuedouble, y = b->valuedouble;
        if ((n->fn == F_DIV || n->fn == F_MOD) && y == 0)
            return fx_fail(ev, n, "%s() by zero", name);
        x = n->fn == F_ADD ? x + y : n->fn == F_SUB ? x - y : n->fn == F_MUL ? x * y
            : n->fn == F_MOD ? fmod(x, y) : (x == floor(x) && y == floor(y)) ? trunc(x / y) : x / y;
        *out = cJSON_CreateNumber(x);
        break;
    case F_NOT: case F_AND: case F_OR:
    case F_IF:
        for (size_t i = 0; i < (n->fn == F_IF ? 1 : n->nargs); i++)
            if (!cJSON_IsBool(argv[i]))
                return fx_fail(ev, n, "%s() takes boolean%s, got %s", name, n->fn == F_AND || n->fn == F_OR ? "s" : "",
                               fx_type(argv[i]));
            else
                c += cJSON_IsTrue(argv[i]);
        if (n->fn == F_IF)
            *out = cJSON_Duplicate(argv[c ? 1 : 2], 1);
        else
            *out = cJSON_CreateBool(n->fn == F_NOT ? !c : n->fn == F_AND ? c == (int)n->nargs : c > 0);
        break;
    case F_UTCNOW:
        if (a && !cJSON_IsString(a))
            return fx_fail(ev, n, "utcNow() takes a format string, got %s", fx_type(a));
        *out = fx_utc_now(ctx->now_ms, a ? a->valuestring : "o");
        break;
    case F_COALESCE:
        for (size_t i = 0; i < n->nargs && !v; i++)
            v = cJSON_IsNull(argv[i]) ? NULL : argv[i];
        *out = fx_dup(v);
        break;
    case F_EMPTY: case F_LENGTH:
        if (cJSON_IsString(a))
            for (const unsigned char *p = (const unsigned char *)a->valuestring; *p; p++)
                len += (*p & 0xC0) != 0x80; /* characters, not bytes */
        else if (cJSON_IsArray(a) || cJSON_IsObject(a))
            len = (size_t)cJSON_GetArraySize(a);
        else if (!(cJSON_IsNull(a) && n->fn == F_EMPTY))
            return fx_fail(ev, n, "%s() takes a string, array or object, got %s", name, fx_type(a));
        *out = n->fn == F_EMPTY ? cJSON_CreateBool(len == 0) : cJSON_CreateNumber((double)len);
        break;
    case F_LOWER: case F_UPPER:
        if (!cJSON_IsString(a))
            return fx_fail(ev, n, "%s() takes a string, got %s", name, fx_type(a));
        if ((t = strdup(a->valuestring)))
            for (char *p = t; *p; p++)
                *p = (char)(n->fn == F_UPPER ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
        *out = t ? cJSON_CreateString(t) : NULL;
        free(t);
        break;
    case F_EQUALS:
        *out = cJSON_CreateBool(cJSON_Compare(a, b, 1));
        break;
    case F_GT: case F_GE: case F_LT: case F_LE:
        if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
            c = (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
        else if (cJSON_IsString(a) && cJSON_IsString(b))
            c = strcmp(a->valuestring, b->valuestring);
        else
            return fx_fail(ev, n, "%s() cannot compare %s with %s (two numbers or two strings expected)", name,
                           fx_type(a), fx_type(b));
        *out = cJSON_CreateBool(n->fn == F_GT ? c > 0 : n->fn == F_GE ? c >= 0 : n->fn == F_LT ? c < 0 : c <= 0);
        break;
    default: /* F_CONTAINS, F_STARTS, F_ENDS */
        c = fx_has(a, b, n->fn == F_CONTAINS ? 'c' : n->fn == F_STARTS ? 's' : 'e');
        if (c < 0)
            return fx_fail(ev, n, "%s() cannot look for %s in %s", name, fx_type(b), fx_type(a));
        *out = cJSON_CreateBool(c);
        break;
    }
    return *out ? 0 : fx_oom(ev->err);
}

/* ---- parser ---- */

/* fx_ws - skip white space */
static void fx_ws(fx_parser *p)
{
    while (isspace((unsigned char)p->s[p->i]))
        p->i++;
}

/* fx_new - a node; takes lit (deleted if allocation fails) */
static fx_node *fx_new(int kind, size_t pos, cJSON *lit)
{
    fx_node *n = (lit || kind != N_LIT) ? calloc(1, sizeof *n) : NULL;
    if (n)
        *n = (fx_node){ .kind = kind, .pos = pos, .lit = lit };
    else
        cJSON_Delete(lit);
    return n;
}

/* fx_add_arg - append a child to a node; a NULL child means allocation failed */
static int fx_add_arg(fx_node *n, fx_node *a)
{
    fx_node **na = a ? realloc(n->args, (n->nargs + 1) * sizeof *na) : NULL;
    if (!na) {
        fx_node_free(a);
        return CMK_ENOMEM;
    }
    n->args = na;
    n->args[n->nargs++] = a;
    return 0;
}

static int fx_parse_expr(fx_parser *p, fx_node **out);

/* fx_parse_string - a 'quoted' literal ('' is one quote) */
static int fx_parse_string(fx_parser *p, fx_node **out)
{
    size_t start = p->i++, len = 0;
    char *buf = malloc(strlen(p->s + p->i) + 1);
    while (buf) {
        char c = p->s[p->i];
        if (c == '\0') {
            free(buf);
            return fx_perr(p, start, "unterminated string literal (close it with ')");
        }
        p->i++;
        if (c == '\'' && p->s[p->i] != '\'')
            break;
        p->i += (c == '\'');
        buf[len++] = c;
    }
    if (buf)
        buf[len] = '\0';
    *out = buf ? fx_new(N_LIT, start, cJSON_CreateString(buf)) : NULL;
    free(buf);
    return *out ? 0 : fx_oom(p->err);
}

/* fx_parse_call - name(args), the cursor on '(' */
static int fx_parse_call(fx_parser *p, const char *name, size_t pos, fx_node **out)
{
    int f, rc = 0;
    for (f = 0; f < FX_NFNS && strcmp(fx_fns[f].name, name); f++)
        ;
    if (f == FX_NFNS)
        return fx_perr(p, pos, "unknown function '%s'", name);
    fx_node *n = fx_new(N_CALL, pos, NULL);
    if (!n)
        return fx_oom(p->err);
    n->fn = f;
    p->i++;
    fx_ws(p);
    if (p->s[p->i] == ')')
        p->i++;
    else
        for (;;) {
            fx_node *a = NULL;
            if ((rc = fx_parse_expr(p, &a)) < 0 || (rc = fx_add_arg(n, a)) < 0)
                break;
            fx_ws(p);
            if (p->s[p->i] != ',' && p->s[p->i] != ')') {
                rc = fx_perr(p, p->i, "expected ',' or ')' in the arguments of %s()", name);
                break;
            }
            if (p->s[p->i++] == ')')
                break;
        }
    int min = fx_fns[f].min, max = fx_fns[f].max, want = max < 0 ? min : max;
    if (rc == 0 && ((int)n->nargs < min || (max >= 0 && (int)n->nargs > max)))
        rc = fx_perr(p, pos, "%s() takes %s%d argument%s, got %zu", name,
                     min == max ? "" : max < 0 ? "at least " : "up to ", want, want == 1 ? "" : "s", n->nargs);
    if (rc == CMK_ENOMEM)
        fx_oom(p->err);
    if (rc < 0)
        fx_node_free(n);
    else
        *out = n;
    return rc;
}

/* fx_parse_primary - a literal or a function call */
static int fx_parse_primary(fx_parser *p, fx_node **out)
{
    fx_ws(p);
    size_t pos = p->i, k = 0;
    const char *s = p->s + pos;
    char name[64];
    if (*s == '\'')
        return fx_parse_string(p, out);
    if (isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))) {
        for (k = 1; isdigit((unsigned char)s[k]); k++)
            ;
        if (s[k] == '.' && isdigit((unsigned char)s[k + 1]))
            for (k++; isdigit((unsigned char)s[k]); k++)
                ;
        p->i += k;
        *out = fx_new(N_LIT, pos, cJSON_CreateNumber(strtod(s, NULL)));
        return *out ? 0 : fx_oom(p->err);
    }
    if (!*s)
        return fx_perr(p, pos, "expected a value, a 'string' or a function call, found the end");
    if (!isalpha((unsigned char)*s) && *s != '_')
        return fx_perr(p, pos, "expected a value, a 'string' or a function call, found '%c'", *s);
    while ((isalnum((unsigned char)s[k]) || s[k] == '_') && k + 1 < sizeof name)
        name[k] = s[k], k++;
    name[k] = '\0';
    p->i += k;
    fx_ws(p);
    if (p->s[p->i] == '(')
        return fx_parse_call(p, name, pos, out);
    if (strcmp(name, "true") && strcmp(name, "false") && strcmp(name, "null"))
        return fx_perr(p, pos, "unknown name '%s' (a function call needs parentheses, text needs quotes)", name);
    *out = fx_new(N_LIT, pos, name[0] == 'n' ? cJSON_CreateNull() : cJSON_CreateBool(name[0] == 't'));
    return *out ? 0 : fx_oom(p->err);
}

/* fx_parse_expr - a primary followed by any [..] / .name / ?[..] / ?.name */
static int fx_parse_expr(fx_parser *p, fx_node **out)
{
    if (++p->depth > FX_MAX_DEPTH)
        return fx_perr(p, p->i, "expression nested more than %d levels deep", FX_MAX_DEPTH);
    fx_node *n = NULL, *idx, *key;
    int rc = fx_parse_primary(p, &n);
    while (rc == 0) {
        fx_ws(p);
        size_t pos = p->i, k;
        bool safe = p->s[p->i] == '?';
        char c = p->s[p->i + safe];
        if (c != '[' && c != '.') {
            if (safe)
                rc = fx_perr(p, pos, "expected '[' or '.' after '?'");
            break;
        }
        p->i += 1 + safe;
        if (!(idx = fx_new(N_INDEX, pos, NULL)) || fx_add_arg(idx, n) < 0) {
            if (!idx)
                fx_node_free(n);
            n = idx;
            rc = fx_oom(p->err);
            break;
        }
        n = idx;
        idx->safe = safe;
        key = NULL;
        if (c == '[') {
            if ((rc = fx_parse_expr(p, &key)) < 0)
                break;
            fx_ws(p);
            if (p->s[p->i] != ']') {
                fx_node_free(key);
                rc = fx_perr(p, p->i, "expected ']'");
                break;
            }
            p->i++;
        } else {
            for (k = p->i; isalnum((unsigned char)p->s[k]) || p->s[k] == '_'; k++)
                ;
            if (k == p->i) {
                rc = fx_perr(p, p->i, "expected a property name after '.'");
                break;
            }
            char *nm = strndup(p->s + p->i, k - p->i);
            key = nm ? fx_new(N_LIT, p->i, cJSON_CreateString(nm)) : NULL;
            free(nm);
            p->i = k;
        }
        if (fx_add_arg(n, key) < 0)
            rc = fx_oom(p->err);
    }
    p->depth--;
    if (rc < 0)
        fx_node_free(n);
    else
        *out = n;
    return rc;
}

/* fx_parse_text - one string value to a tree: a literal, "@expr", or concat() of its pieces */
static int fx_parse_text(const char *text, fx_node **out, cmk_err *err)
{
    fx_parser p = { .s = text, .i = 0, .depth = 0, .err = err };
    fx_node *cat = NULL, *n = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    *out = NULL;
    if (text[0] == '@' && text[1] != '{' && text[1] != '@') { /* the whole value is one expression */
        p.i = 1;
        if ((rc = fx_parse_expr(&p, &n)) == 0 && (fx_ws(&p), text[p.i])) {
            fx_node_free(n);
            return fx_perr(&p, p.i, "unexpected '%c' after the end of the expression", text[p.i]);
        }
        return *out = n, rc;
    }
    if (!(buf = malloc(strlen(text) + 1)) || !(cat = fx_new(N_CALL, 0, NULL))) {
        free(buf);
        return fx_oom(err);
    }
    cat->fn = F_CONCAT;
    p.i = (text[0] == '@' && text[1] == '@' && text[2] != '{'); /* a leading "@@" stands for "@" */
    while (rc == 0 && text[p.i]) {
        if (!strncmp(text + p.i, "@@{", 3) || strncmp(text + p.i, "@{", 2)) {
            p.i += !strncmp(text + p.i, "@@{", 3);
            buf[len++] = text[p.i++];
            continue;
        }
        size_t open = p.i;
        buf[len] = '\0';
        if (len && fx_add_arg(cat, fx_new(N_LIT, open, cJSON_CreateString(buf))) < 0)
            rc = fx_oom(err);
        len = 0;
        p.i += 2;
        if (rc < 0 || (rc = fx_parse_expr(&p, &n)) < 0)
            break;
        fx_ws(&p);
        if (text[p.i] != '}') {
            fx_node_free(n);
            rc = fx_perr(&p, p.i, "expected '}' to close the '@{' at column %zu", open + 1);
        } else if (p.i++, fx_add_arg(cat, n) < 0)
            rc = fx_oom(err);
    }
    buf[len] = '\0';
    if (rc == 0 && (len || !cat->nargs) && fx_add_arg(cat, fx_new(N_LIT, 0, cJSON_CreateString(buf))) < 0)
        rc = fx_oom(err);
    free(buf);
    if (rc == 0 && !strstr(text, "@{")) { /* plain text: one literal */
        n = cat->args[0];
        cat->nargs = 0;
        fx_node_free(cat);
        cat = n;
    }
    if (rc < 0)
        fx_node_free(cat);
    else
        *out = cat;
    return rc;
}

/* fx_wrap - a flowexpr around a tree (takes root; text copied) */
static int fx_wrap(const char *text, fx_node *root, flowexpr **out, cmk_err *err)
{
    flowexpr *x = calloc(1, sizeof *x);
    if (!x || !(x->text = strdup(text))) {
        free(x);
        fx_node_free(root);
        return fx_oom(err);
    }
    x->root = root;
    *out = x;
    return 0;
}

/* flowexpr_parse - parse one string value */
int flowexpr_parse(const char *text, flowexpr **out, cmk_err *err)
{
    fx_node *root = NULL;
    *out = NULL;
    if (!text)
        return cmk_err_set(err, CMK_EINVAL, "no expression text");
    int rc = fx_parse_text(text, &root, err);
    return rc < 0 ? rc : fx_wrap(text, root, out, err);
}

/* flowexpr_destroy - free an expression */
void flowexpr_destroy(flowexpr **self_p)
{
    if (!self_p || !*self_p)
        return;
    fx_node_free((*self_p)->root);
    free((*self_p)->text);
    free(*self_p);
    *self_p = NULL;
}

/* ---- evaluation ---- */

/* fx_select - obj[key] for an N_INDEX node */
static int fx_select(const fx_eval *ev, const fx_node *n, const cJSON *obj, const cJSON *key, cJSON **out)
{
    const cJSON *v = NULL, *it;
    char *k = flowexpr_to_text(key), names[200] = "";
    size_t nl = 0;
    int rc = 0, size = cJSON_GetArraySize(obj);
    if (cJSON_IsObject(obj) && cJSON_IsString(key)) {
        v = cJSON_GetObjectItem(obj, key->valuestring); /* property names ignore case */
        if (!v && !n->safe) {
            cJSON_ArrayForEach(it, obj) if (nl + strlen(it->string) + 3 < sizeof names)
                nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", nl ? ", " : "", it->string);
            rc = fx_fail(ev, n, "property '%s' doesn't exist, available properties are '%s' (write ?['%s'] "
                         "to get null instead)", k ? k : "", names, k ? k : "");
        }
    } else if (cJSON_IsArray(obj) && cJSON_IsNumber(key) && key->valuedouble == floor(key->valuedouble)) {
        if (key->valuedouble >= 0 && key->valuedouble < size)
            v = cJSON_GetArrayItem(obj, (int)key->valuedouble);
        else if (!n->safe)
            rc = fx_fail(ev, n, "index %s is out of range (the array has %d items)", k ? k : "", size);
    } else if (!(cJSON_IsNull(obj) && n->safe)) {
        rc = fx_fail(ev, n, "cannot select [%s] from %s", k ? k : "", fx_type(obj));
    }
    free(k);
    if (rc == 0 && !(*out = fx_dup(v)))
        rc = fx_oom(ev->err);
    return rc;
}

/* fx_eval_node - evaluate one tree */
static int fx_eval_node(const fx_eval *ev, const fx_node *n, cJSON **out)
{
    int rc = 0;
    *out = NULL;
    if (n->kind == N_LIT)
        return (*out = cJSON_Duplicate(n->lit, 1)) ? fx_charge(ev, n, flowexpr_json_size(n->lit)) : fx_oom(ev->err);
    cJSON *argv[n->nargs + 1];
    size_t got = 0;
    for (; got < n->nargs && rc == 0; got++)
        rc = fx_eval_node(ev, n->args[got], &argv[got]);
    if (rc == 0)
        rc = n->kind == N_CALL ? fx_call(ev, n, argv, out) : fx_select(ev, n, argv[0], argv[1], out);
    if (rc == 0)
        rc = fx_charge(ev, n, flowexpr_json_size(*out));
    for (size_t i = 0; i < got; i++)
        cJSON_Delete(argv[i]);
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* flowexpr_eval - evaluate to a new JSON value */
int flowexpr_eval(const flowexpr *self, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err)
{
    static const flowexpr_ctx none = { 0 };
    size_t local = 0;
    fx_eval ev = { .ctx = ctx ? ctx : &none, .text = self->text, .err = err,
                   .spent = ctx && ctx->spent ? ctx->spent : &local };
    int rc = fx_eval_node(&ev, self->root, out);
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* flowexpr_eval_string - parse and evaluate one string value */
int flowexpr_eval_string(const char *text, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err)
{
    flowexpr *x = NULL;
    int rc = flowexpr_parse(text, &x, err);
    *out = NULL;
    if (rc == 0)
        rc = flowexpr_eval(x, ctx, out, err);
    flowexpr_destroy(&x);
    return rc;
}

/* flowexpr_eval_json - copy a JSON value, evaluating every string in it */
int flowexpr_eval_json(const cJSON *in, const flowexpr_ctx *ctx, cJSON **out, cmk_err *err)
{
    const cJSON *it;
    *out = NULL;
    if (!in)
        return cmk_err_set(err, CMK_EINVAL, "no value to evaluate");
    if (cJSON_IsString(in))
        return flowexpr_eval_string(in->valuestring, ctx, out, err);
    if (!cJSON_IsArray(in) && !cJSON_IsObject(in))
        return (*out = cJSON_Duplicate(in, 0)) ? 0 : fx_oom(err);
    cJSON *res = cJSON_IsArray(in) ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!res)
        return fx_oom(err);
    cJSON_ArrayForEach(it, in)
    {
        cJSON *v = NULL;
        int rc = flowexpr_eval_json(it, ctx, &v, err);
        if (rc < 0) {
            cJSON_Delete(res);
            return rc;
        }
        if (cJSON_IsArray(res))
            cJSON_AddItemToArray(res, v);
        else
            cJSON_AddItemToObject(res, it->string, v);
    }
    *out = res;
    return 0;
}

/* fx_refs - report literal action references (body('A'), outputs('A')) in a tree */
static int fx_refs(const fx_node *n, flowexpr_ref_fn ref, void *arg, cmk_err *err)
{
    int rc = 0;
    if (n->kind == N_CALL && (n->fn == F_BODY || n->fn == F_OUTPUTS) && n->args[0]->kind == N_LIT &&
        cJSON_IsString(n->args[0]->lit))
        rc = ref(arg, fx_fns[n->fn].name, n->args[0]->lit->valuestring, err);
    for (size_t i = 0; rc == 0 && i < n->nargs; i++)
        rc = fx_refs(n->args[i], ref, arg, err);
    return rc;
}

/* flowexpr_refs - tell ref of every literal action reference in an expression */
int flowexpr_refs(const flowexpr *self, flowexpr_ref_fn ref, void *ref_arg, cmk_err *err)
{
    return fx_refs(self->root, ref, ref_arg, err);
}

/* flowexpr_check_json - parse every string in a JSON value and report its references */
int flowexpr_check_json(const cJSON *in, const char *path, flowexpr_ref_fn ref, void *ref_arg,
                        cmk_err *err)
{
    char sub[FX_PATH_MAX];
    int rc = 0, i = 0;
    const cJSON *it;
    if (cJSON_IsString(in)) {
        fx_node *root = NULL;
        if ((rc = fx_parse_text(in->valuestring, &root, err)) == 0 && ref)
            rc = fx_refs(root, ref, ref_arg, err);
        fx_node_free(root);
        if (rc < 0 && err)
            cmk_err_prefix(err, "%s: ", path);
        return rc;
    }
    if (cJSON_IsArray(in) || cJSON_IsObject(in))
        cJSON_ArrayForEach(it, in)
        {
            if (cJSON_IsArray(in))
                snprintf(sub, sizeof sub, "%.*s[%d]", FX_PATH_MAX - 16, path, i++);
            else
                snprintf(sub, sizeof sub, "%.*s.%s", FX_PATH_MAX / 2, path, it->string);
            if ((rc = flowexpr_check_json(it, sub, ref, ref_arg, err)) < 0)
                return rc;
        }
    return 0;
}
