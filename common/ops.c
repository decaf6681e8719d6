/*
 * ops.c - the operation table's rows, wire-name constants and lookups (see ops.h).
 */
#include "ops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the wire names */
#define CMK_OP_DEFINE_NAME_(id, type, ...) const char CMK_T_##id[] = type;
CMK_OPS(CMK_OP_DEFINE_NAME_)

/* body fields naming a tenant's object */
#define F_NONE                                                                                     \
    {                                                                                              \
        NULL, AUTHZ_REF_NONE                                                                       \
    }
#define F_TENANT(f) {f, AUTHZ_REF_TENANT}
#define F_ENV(f) {f, AUTHZ_REF_ENV}
#define F_VAULT(f) {f, AUTHZ_REF_VAULT}
#define F_POLICY(f) {f, AUTHZ_REF_POLICY}
#define F_POLICY_OP(f) {f, AUTHZ_REF_POLICY_OP}
#define F_BACKUP(f) {f, AUTHZ_REF_BACKUP}

/* one row */
#define CMK_OP_ROW_(id, type, handler, door, cls, scope, route, flags, size, owned, help, ...)     \
    {CMK_OP_##id,       type,           AUTHZ_##door, AUTHZ_##cls,  AUTHZ_SCOPE_##scope,           \
     CMK_ROUTE_##route, (flags),        CMK_OP_##size, CMK_##owned, help,                          \
     {__VA_ARGS__}},

static const cmk_op table[CMK_NOPS] = {CMK_OPS(CMK_OP_ROW_)};

/* The lookup: open addressing over the type names, built once. */
#define SLOTS 512 /* a power of two, more than twice CMK_NOPS */
static short slots[SLOTS];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

/* name_hash - FNV-1a of a type name */
static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* build_slots - the hash table (slot value: index + 1, 0 for empty) */
static void build_slots(void)
{
    for (int i = 0; i < CMK_NOPS; i++) {
        unsigned h = name_hash(table[i].type) & (SLOTS - 1);
        while (slots[h])
            h = (h + 1) & (SLOTS - 1);
        slots[h] = (short)(i + 1);
    }
}

/* cmk_op_table - the rows */
const cmk_op *cmk_op_table(void)
{
    return table;
}

/* cmk_op_find - the row of a type */
const cmk_op *cmk_op_find(const char *type)
{
    unsigned h;
    if (!type)
        return NULL;
    pthread_once(&slots_once, build_slots);
    for (h = name_hash(type) & (SLOTS - 1); slots[h]; h = (h + 1) & (SLOTS - 1))
        if (strcmp(table[slots[h] - 1].type, type) == 0)
            return &table[slots[h] - 1];
    return NULL;
}

/* cmk_op_owns - is field one the controller decides */
int cmk_op_owns(const cmk_op *op, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = op ? op->owned : ""; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, field, n) == 0)
            return 1;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* cmk_op_door_name - "front", "back", "internal" */
const char *cmk_op_door_name(authz_door door)
{
    static const char *const names[] = {"front", "back", "internal"};
    return (unsigned)door < 3 ? names[door] : "?";
}

/* cmk_op_route_name - "controller", "worker", ... */
const char *cmk_op_route_name(cmk_route route)
{
    static const char *const names[] = {"controller", "worker", "worker (both sides)", "gateway",
                                        "firewall"};
    return (unsigned)route < 5 ? names[route] : "?";
}

/* authz_class_name - the class's name */
const char *authz_class_name(authz_class cls)
{
    static const char *const names[AUTHZ_NCLASS] = {
        [AUTHZ_READ] = "read",   [AUTHZ_WRITE] = "write",   [AUTHZ_KEYS] = "keys",
        [AUTHZ_FAULT] = "fault", [AUTHZ_ADMIN] = "admin",   [AUTHZ_SYSTEM] = "system",
        [AUTHZ_PEER] = "peer",   [AUTHZ_DATAKEY] = "datakey", [AUTHZ_RELAY] = "relay",
    };
    return (unsigned)cls < AUTHZ_NCLASS ? names[cls] : "?";
}

/* edit_distance - Levenshtein distance of two short strings (capped at 64 characters) */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), prev[65], cur[65];
    if (la > 64 || lb > 64)
        return 99;
    for (int j = 0; j <= lb; j++)
        prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

/* cmk_op_closest - the nearest front type within a third of its length */
const char *cmk_op_closest(const char *type)
{
    const char *best = NULL;
    int bd = 99;
    for (int i = 0; type && i < CMK_NOPS; i++) {
        int d;
        if (table[i].door != AUTHZ_FRONT)
            continue;
        d = edit_distance(type, table[i].type);
        if (d < bd) {
            bd = d;
            best = table[i].type;
        }
    }
    return best && bd <= (int)strlen(type) / 3 + 1 ? best : NULL;
}

/* flags_text - "ready, migration-blocked" */
static void flags_text(unsigned flags, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (flags & OPF_READY)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%sReady", buf[0] ? ", " : "");
    if (flags & OPF_ANYSTATE)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%sany state", buf[0] ? ", " : "");
    if (flags & OPF_MIGBLOCK)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%sblocked while migrating",
                 buf[0] ? ", " : "");
}

/* size_text - "64 KiB", "1 MiB" */
static void size_text(size_t n, char *buf, size_t cap)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(buf, cap, "%zu MiB", n / (1024 * 1024));
    else
        snprintf(buf, cap, "%zu KiB", n / 1024);
}

/* cmk_op_markdown - one table row per operation */
char *cmk_op_markdown(void)
{
    size_t cap = 64 * 1024, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len += (size_t)snprintf(out, cap,
                            "| type | door | class | scope | route | environment | body limit | "
                            "controller-owned fields | what it does |\n"
                            "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < CMK_NOPS; i++) {
        const cmk_op *op = &table[i];
        static const char *const scopes[] = {"-", "tenant", "all tenants"};
        char fl[96], sz[32], help[512], line[1024];
        size_t h = 0;
        int n;
        for (const char *c = op->help; *c && h + 3 < sizeof help; c++) {
            if (*c == '|')
                help[h++] = '\\';
            help[h++] = *c;
        }
        help[h] = '\0';
        flags_text(op->flags, fl, sizeof fl);
        size_text(op->max_body, sz, sizeof sz);
        n = snprintf(line, sizeof line, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                     op->type, cmk_op_door_name(op->door), authz_class_name(op->cls),
                     scopes[op->scope], cmk_op_route_name(op->route), fl[0] ? fl : "-", sz,
                     op->owned[0] ? op->owned : "-", help);
        if (n < 0)
            continue;
        while (len + (size_t)n + 1 > cap) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return out;
}

/* cmk_op_json - [{type, door, class, scope, route, flags[], max_body, owned[], help}] */
cJSON *cmk_op_json(void)
{
    cJSON *arr = cJSON_CreateArray();
    static const char *const scopes[] = {"none", "tenant", "global"};
    for (int i = 0; arr && i < CMK_NOPS; i++) {
        const cmk_op *op = &table[i];
        cJSON *o = cJSON_CreateObject(), *fl, *own;
        char buf[256], *save = NULL;
        cJSON_AddStringToObject(o, "type", op->type);
        cJSON_AddStringToObject(o, "door", cmk_op_door_name(op->door));
        cJSON_AddStringToObject(o, "class", authz_class_name(op->cls));
        cJSON_AddStringToObject(o, "scope", scopes[op->scope]);
        cJSON_AddStringToObject(o, "route", cmk_op_route_name(op->route));
        fl = cJSON_AddArrayToObject(o, "environment");
        if (op->flags & OPF_READY)
            cJSON_AddItemToArray(fl, cJSON_CreateString("Ready"));
        if (op->flags & OPF_ANYSTATE)
            cJSON_AddItemToArray(fl, cJSON_CreateString("any state"));
        if (op->flags & OPF_MIGBLOCK)
            cJSON_AddItemToArray(fl, cJSON_CreateString("blocked while migrating"));
        cJSON_AddNumberToObject(o, "max_body", (double)op->max_body);
        own = cJSON_AddArrayToObject(o, "owned");
        snprintf(buf, sizeof buf, "%s", op->owned);
        for (char *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
            cJSON_AddItemToArray(own, cJSON_CreateString(s));
        cJSON_AddStringToObject(o, "help", op->help);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
