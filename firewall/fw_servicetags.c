/*
 * fw_servicetags.c - load, look up and diff Azure service-tag files (see fw_servicetags.h).
 *
 * The JSON is parsed once with cJSON and copied into compact structures: strings into an
 * arena, every prefix of the file into one array, plus an index sorted by name for lookups.
 * The cJSON tree is freed before returning, so a loaded 4 MB file costs a few MB.
 */
#include "fw_servicetags.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fw_jsonpos.h"

#define ST_MAX_FILE (64u * 1024u * 1024u) /* refuse files larger than this */
#define ARENA_BLOCK 65536u                /* bytes per arena block */

/* A block of the string arena. */
typedef struct st_block {
    struct st_block *next; /* older block */
    size_t used;           /* bytes used in data */
    size_t cap;            /* bytes in data */
    char data[];           /* the strings */
} st_block;

struct fw_servicetags {
    char *origin;            /* path or name given at load */
    const char *cloud;       /* top-level "cloud" */
    long change_number;      /* top-level "changeNumber" */
    fw_servicetag *tags;     /* entries in file order */
    size_t n;                /* count of entries */
    size_t *index;           /* entry indices sorted by name, case-insensitively */
    fw_prefix *pool;         /* every prefix of the file */
    const char **features;   /* every networkFeatures string of the file */
    st_block *arena;         /* strings */
};

struct fw_stdiff {
    fw_tagdiff *items; /* changed entries, sorted by name */
    size_t n;          /* count of items */
    size_t cap;        /* allocated items */
};

/* arena_dup - copy a string into the arena; NULL when out of memory */
static const char *arena_dup(st_block **arena, const char *s, size_t len)
{
    st_block *b = *arena;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = *arena;
        b->used = 0;
        b->cap = cap;
        *arena = b;
    }
    char *out = b->data + b->used;
    memcpy(out, s, len);
    out[len] = '\0';
    b->used += len + 1;
    return out;
}

/* arena_free - free every block */
static void arena_free(st_block *b)
{
    while (b) {
        st_block *next = b->next;
        free(b);
        b = next;
    }
}

/* fw_servicetags_destroy - free a file */
void fw_servicetags_destroy(fw_servicetags **self_p)
{
    if (!self_p || !*self_p)
        return;
    fw_servicetags *st = *self_p;
    free(st->origin);
    free(st->tags);
    free(st->index);
    free(st->pool);
    free(st->features);
    arena_free(st->arena);
    free(st);
    *self_p = NULL;
}

/* Context for refusing a file with a path and line. */
typedef struct {
    const char *text;   /* raw text */
    size_t len;         /* its length */
    const char *origin; /* file name for messages */
    cmk_err *err;       /* where the message goes */
} st_ctx;

/* refuse - fill err with "<origin>:<line>: <path>: <reason>" and return CMK_EINVAL */
static int refuse(const st_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(const st_ctx *c, const char *path, const char *fmt, ...)
{
    char why[CMK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int line = fw_jsonpos_line(c->text, c->len, path);
    return cmk_err_set(c->err, CMK_EINVAL,
                       "%s:%d: %s: %s; this is not a usable service-tags file (download it again "
                       "or fix it)", c->origin, line, path[0] ? path : "top level", why);
}

/* opt_string - a string member or "" when absent; -1 when present with another type */
static int opt_string(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = "";
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -1;
    *out = v->valuestring;
    return 0;
}

/* opt_number - a numeric member or 0 when absent; -1 when present with another type */
static int opt_number(const cJSON *obj, const char *key, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    /* a number out of a long's range (1e300) is refused like a non-number, never cast */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18))
        return -1;
    *out = (long)v->valuedouble;
    return 0;
}

/* index_cmp - order entry indices by name, case-insensitively */
static int index_cmp(const void *a, const void *b, void *arg)
{
    const fw_servicetags *st = arg;
    return strcasecmp(st->tags[*(const size_t *)a].name, st->tags[*(const size_t *)b].name);
}

/* load_entry - copy values[i] into st->tags[i]; prefixes go to *pool_at */
static int load_entry(fw_servicetags *st, const st_ctx *c, const cJSON *v, size_t i,
                      size_t *pool_at, size_t *feat_at)
{
    char path[96], sub[160];
    fw_servicetag *t = &st->tags[i];
    const cJSON *props, *prefixes, *feats, *it;
    const char *name, *id, *region, *platform, *service, *dot;
    long change, region_id;

    snprintf(path, sizeof path, "values[%zu]", i);
    if (!cJSON_IsObject(v))
        return refuse(c, path, "each entry must be an object");
    if (opt_string(v, "name", &name) < 0 || !*name)
        return refuse(c, path, "entry has no \"name\" string");
    props = cJSON_GetObjectItemCaseSensitive(v, "properties");
    snprintf(path, sizeof path, "values[%zu].properties", i);
    if (!cJSON_IsObject(props))
        return refuse(c, path, "entry \"%s\" has no \"properties\" object", name);
    if (opt_string(v, "id", &id) < 0)
        return refuse(c, path, "entry \"%s\": \"id\" must be a string", name);
    if (opt_string(props, "region", &region) < 0 || opt_string(props, "platform", &platform) < 0 ||
        opt_string(props, "systemService", &service) < 0)
        return refuse(c, path, "entry \"%s\": region, platform and systemService must be strings",
                      name);
    if (opt_number(props, "changeNumber", &change) < 0 ||
        opt_number(props, "regionId", &region_id) < 0)
        return refuse(c, path, "entry \"%s\": changeNumber and regionId must be whole numbers (within 64 bits)", name);
    prefixes = cJSON_GetObjectItemCaseSensitive(props, "addressPrefixes");
    snprintf(path, sizeof path, "values[%zu].properties.addressPrefixes", i);
    if (!cJSON_IsArray(prefixes))
        return refuse(c, path, "entry \"%s\" has no \"addressPrefixes\" array", name);

    dot = strchr(name, '.');
    t->name = arena_dup(&st->arena, name, strlen(name));
    t->id = arena_dup(&st->arena, *id ? id : name, strlen(*id ? id : name));
    t->tag = arena_dup(&st->arena, name, dot ? (size_t)(dot - name) : strlen(name));
    t->suffix = dot ? t->name + (dot - name) + 1 : "";
    t->region = arena_dup(&st->arena, region, strlen(region));
    t->platform = arena_dup(&st->arena, platform, strlen(platform));
    t->system_service = arena_dup(&st->arena, service, strlen(service));
    if (!t->name || !t->id || !t->tag || !t->region || !t->platform || !t->system_service)
        return cmk_err_set(c->err, CMK_ENOMEM, "out of memory loading %s", c->origin);
    t->change_number = change;
    t->region_id = region_id;

    t->prefixes = st->pool + *pool_at;
    size_t j = 0;
    cJSON_ArrayForEach(it, prefixes) {
        cmk_err perr = CMK_ERR_INIT;
        if (!cJSON_IsString(it)) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, j);
            return refuse(c, sub, "entry \"%s\": every address prefix must be a string", name);
        }
        if (fw_prefix_parse(it->valuestring, &st->pool[*pool_at], NULL, &perr) < 0) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, j);
            return refuse(c, sub, "entry \"%s\": %s", name, perr.msg);
        }
        (*pool_at)++;
        j++;
    }
    t->n_prefixes = j;

    feats = cJSON_GetObjectItemCaseSensitive(props, "networkFeatures");
    t->features = NULL;
    t->n_features = 0;
    if (feats && !cJSON_IsNull(feats)) {
        snprintf(path, sizeof path, "values[%zu].properties.networkFeatures", i);
        if (!cJSON_IsArray(feats))
            return refuse(c, path, "entry \"%s\": networkFeatures must be an array or null", name);
        t->features = st->features + *feat_at;
        cJSON_ArrayForEach(it, feats) {
            if (!cJSON_IsString(it))
                return refuse(c, path, "entry \"%s\": networkFeatures must hold strings", name);
            const char *f = arena_dup(&st->arena, it->valuestring, strlen(it->valuestring));
            if (!f)
                return cmk_err_set(c->err, CMK_ENOMEM, "out of memory loading %s", c->origin);
            st->features[(*feat_at)++] = f;
            t->n_features++;
        }
    }
    return 0;
}

/* fw_servicetags_parse - parse text */
fw_servicetags *fw_servicetags_parse(const char *text, size_t len, const char *origin,
                                     cmk_err *err)
{
    st_ctx c = { text, len, origin ? origin : "service tags", err };
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    fw_servicetags *st = NULL;
    const cJSON *values, *v, *cloud;
    size_t n_pre = 0, n_feat = 0, i = 0, pool_at = 0, feat_at = 0;
    long change;

    if (!root) {
        int line, col;
        fw_jsonpos_line_col(text, len, end ? (size_t)(end - text) : 0, &line, &col);
        cmk_err_set(err, CMK_EINVAL,
                    "%s:%d:%d: not valid JSON near here; a service-tags file is the JSON that "
                    "Microsoft publishes (ServiceTags_Public_*.json)", c.origin, line, col);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        refuse(&c, "", "expected an object with changeNumber, cloud and values");
        goto fail;
    }
    values = cJSON_GetObjectItemCaseSensitive(root, "values");
    if (!cJSON_IsArray(values)) {
        refuse(&c, "values", "there is no \"values\" array of service tags");
        goto fail;
    }
    cloud = cJSON_GetObjectItemCaseSensitive(root, "cloud");
    if (cloud && !cJSON_IsString(cloud)) {
        refuse(&c, "cloud", "\"cloud\" must be a string such as \"Public\"");
        goto fail;
    }
    if (opt_number(root, "changeNumber", &change) < 0) {
        refuse(&c, "changeNumber", "\"changeNumber\" must be a whole number (within 64 bits)");
        goto fail;
    }
    /* first pass: sizes, so every prefix lands in one array */
    cJSON_ArrayForEach(v, values) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(v, "properties");
        n_pre += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(props, "addressPrefixes"));
        n_feat += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(props, "networkFeatures"));
        i++;
    }
    st = calloc(1, sizeof *st);
    if (!st || !(st->origin = strdup(c.origin)) ||
        !(st->tags = calloc(i ? i : 1, sizeof *st->tags)) ||
        !(st->index = calloc(i ? i : 1, sizeof *st->index)) ||
        !(st->pool = calloc(n_pre ? n_pre : 1, sizeof *st->pool)) ||
        !(st->features = calloc(n_feat ? n_feat : 1, sizeof *st->features))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory loading %s", c.origin);
        goto fail;
    }
    st->n = i;
    st->change_number = change;
    st->cloud = arena_dup(&st->arena, cloud ? cloud->valuestring : "", cloud ? strlen(cloud->valuestring) : 0);
    if (!st->cloud) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory loading %s", c.origin);
        goto fail;
    }
    i = 0;
    cJSON_ArrayForEach(v, values) {
        if (load_entry(st, &c, v, i, &pool_at, &feat_at) < 0)
            goto fail;
        st->index[i] = i;
        i++;
    }
    qsort_r(st->index, st->n, sizeof *st->index, index_cmp, st);
    for (i = 1; i < st->n; i++) {
        const fw_servicetag *a = &st->tags[st->index[i - 1]], *b = &st->tags[st->index[i]];
        if (strcasecmp(a->name, b->name) == 0) {
            char path[64];
            snprintf(path, sizeof path, "values[%zu]", st->index[i]);
            refuse(&c, path, "service tag \"%s\" appears twice", b->name);
            goto fail;
        }
    }
    cJSON_Delete(root);
    return st;
fail:
    cJSON_Delete(root);
    fw_servicetags_destroy(&st);
    return NULL;
}

/* fw_servicetags_load - read a file and parse it */
fw_servicetags *fw_servicetags_load(const char *path, cmk_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    fw_servicetags *st;

    if (!f) {
        cmk_err_set(err, errno == ENOENT ? CMK_ENOENT : CMK_EIO,
                    "cannot open service-tags file %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 1u << 20;
            char *nb = cap > ST_MAX_FILE + 65536 ? NULL : realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                cmk_err_set(err, CMK_ELIMIT, "service-tags file %s is larger than %u MB",
                            path, ST_MAX_FILE >> 20);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cmk_err_set(err, CMK_EIO, "cannot read service-tags file %s: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    st = fw_servicetags_parse(buf, len, path, err);
    free(buf);
    return st;
}

/* fw_servicetags_origin - where it came from */
const char *fw_servicetags_origin(const fw_servicetags *st)
{
    return st->origin;
}

/* fw_servicetags_cloud - cloud name */
const char *fw_servicetags_cloud(const fw_servicetags *st)
{
    return st->cloud;
}

/* fw_servicetags_change_number - file change number */
long fw_servicetags_change_number(const fw_servicetags *st)
{
    return st->change_number;
}

/* fw_servicetags_count - entry count */
size_t fw_servicetags_count(const fw_servicetags *st)
{
    return st->n;
}

/* fw_servicetags_at - entry i */
const fw_servicetag *fw_servicetags_at(const fw_servicetags *st, size_t i)
{
    return i < st->n ? &st->tags[i] : NULL;
}

/* lower_bound - first index position whose name is >= key (case-insensitive) */
static size_t lower_bound(const fw_servicetags *st, const char *key, size_t keylen)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *nm = st->tags[st->index[mid]].name;
        int c = strncasecmp(nm, key, keylen);
        if (c == 0 && strlen(nm) < keylen)
            c = -1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* fw_servicetags_find - exact name */
const fw_servicetag *fw_servicetags_find(const fw_servicetags *st, const char *name)
{
    size_t at;
    if (!name || !*name)
        return NULL;
    at = lower_bound(st, name, strlen(name));
    if (at < st->n && strcasecmp(st->tags[st->index[at]].name, name) == 0)
        return &st->tags[st->index[at]];
    return NULL;
}

/* fw_servicetags_regions - regional entries of a tag */
int fw_servicetags_regions(const fw_servicetags *st, const char *tag,
                           const fw_servicetag ***out, size_t *n)
{
    char key[256];
    size_t at, count = 0, klen;
    *out = NULL;
    *n = 0;
    if (!tag || strchr(tag, '.') || snprintf(key, sizeof key, "%s.", tag) >= (int)sizeof key)
        return 0;
    klen = strlen(key);
    at = lower_bound(st, key, klen);
    while (at + count < st->n && strncasecmp(st->tags[st->index[at + count]].name, key, klen) == 0)
        count++;
    if (count == 0)
        return 0;
    *out = malloc(count * sizeof **out);
    if (!*out)
        return CMK_ENOMEM;
    for (size_t i = 0; i < count; i++)
        (*out)[i] = &st->tags[st->index[at + i]];
    *n = count;
    return 0;
}

/* list_regions - "AustraliaEast, BrazilSouth, ..." for a message */
static void list_regions(const fw_servicetags *st, const char *tag, char *buf, size_t size)
{
    const fw_servicetag **regs = NULL;
    size_t n = 0, used = 0;
    buf[0] = '\0';
    if (fw_servicetags_regions(st, tag, &regs, &n) < 0)
        return;
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", regs[i]->suffix);
        if (w < 0 || (size_t)w >= size - used) {
            if (size > 5)
                strcpy(buf + size - 5, "...");
            break;
        }
        used += (size_t)w;
    }
    free(regs);
}

/* fw_servicetags_lookup - tag (+ region) to an entry */
int fw_servicetags_lookup(const fw_servicetags *st, const char *tag, const char *region,
                          const fw_servicetag **out, cmk_err *err)
{
    char name[256], regions[300];
    const fw_servicetag *t;

    *out = NULL;
    if (!tag || !*tag)
        return cmk_err_set(err, CMK_EINVAL, "no service tag given (e.g. PowerPlatformPlex)");
    if (!region || !*region) {
        if ((*out = fw_servicetags_find(st, tag)))
            return 0;
        return cmk_err_set(err, CMK_ENOENT,
                           "service tag \"%s\" is not in %s (cloud %s, changeNumber %ld); check "
                           "the spelling, or use a newer service-tags file", tag, st->origin,
                           st->cloud, st->change_number);
    }
    if (strchr(tag, '.')) {
        t = fw_servicetags_find(st, tag);
        if (t && (strcasecmp(t->suffix, region) == 0 || strcasecmp(t->region, region) == 0)) {
            *out = t;
            return 0;
        }
        return cmk_err_set(err, CMK_EINVAL,
                           "\"%s\" already names a region, and region \"%s\" was given too; give "
                           "the regional name alone or the base tag with a region", tag, region);
    }
    if (snprintf(name, sizeof name, "%s.%s", tag, region) >= (int)sizeof name)
        return cmk_err_set(err, CMK_EINVAL, "service tag or region name too long");
    if ((*out = fw_servicetags_find(st, name)))
        return 0;
    /* the region field may differ from the name's suffix ("switzerlandn") */
    for (size_t i = 0; i < st->n; i++) {
        t = &st->tags[i];
        if (*t->suffix && strcasecmp(t->tag, tag) == 0 && strcasecmp(t->region, region) == 0) {
            *out = t;
            return 0;
        }
    }
    if (!fw_servicetags_find(st, tag))
        return cmk_err_set(err, CMK_ENOENT, "service tag \"%s\" is not in %s (cloud %s)", tag,
                           st->origin, st->cloud);
    list_regions(st, tag, regions, sizeof regions);
    return cmk_err_set(err, CMK_ENOENT, "service tag %s has no region \"%s\" in %s; it has: %s",
                       tag, region, st->origin, regions[0] ? regions : "(no regional entries)");
}

/* fw_servicetag_set - prefixes as a set */
fw_cidrset *fw_servicetag_set(const fw_servicetag *t)
{
    fw_cidrset *s = fw_cidrset_new();
    for (size_t i = 0; s && i < t->n_prefixes; i++)
        if (fw_cidrset_add(s, &t->prefixes[i]) < 0)
            fw_cidrset_destroy(&s);
    return s;
}

/* ---- diff ---- */

/* fw_stdiff_destroy - free a diff */
void fw_stdiff_destroy(fw_stdiff **self_p)
{
    if (!self_p || !*self_p)
        return;
    fw_stdiff *d = *self_p;
    for (size_t i = 0; i < d->n; i++) {
        free((char *)d->items[i].name);
        free((fw_prefix *)d->items[i].added);
        free((fw_prefix *)d->items[i].removed);
    }
    free(d->items);
    free(d);
    *self_p = NULL;
}

/* fw_stdiff_count - changed entries */
size_t fw_stdiff_count(const fw_stdiff *d)
{
    return d->n;
}

/* fw_stdiff_at - changed entry i */
const fw_tagdiff *fw_stdiff_at(const fw_stdiff *d, size_t i)
{
    return i < d->n ? &d->items[i] : NULL;
}

/* filter_match - the entry itself or, for a tag name, one of its regional entries */
static bool filter_match(const char *filter, const char *name)
{
    size_t fl;
    if (!filter || !*filter)
        return true;
    if (strcasecmp(filter, name) == 0)
        return true;
    fl = strlen(filter);
    return !strchr(filter, '.') && strncasecmp(name, filter, fl) == 0 && name[fl] == '.';
}

/* diff_entry - compare one entry (either side may be NULL) and record a change */
static int diff_entry(fw_stdiff *d, const fw_servicetag *o, const fw_servicetag *n)
{
    fw_cidrset *so = o ? fw_servicetag_set(o) : fw_cidrset_new();
    fw_cidrset *sn = n ? fw_servicetag_set(n) : fw_cidrset_new();
    fw_cidrset *add = NULL, *rem = NULL;
    fw_tagdiff item = { 0 };
    int rc = CMK_ENOMEM;

    if (!so || !sn || !(add = fw_cidrset_difference(sn, so)) ||
        !(rem = fw_cidrset_difference(so, sn)))
        goto out;
    rc = 0;
    if (o && n && fw_cidrset_is_empty(add, 0) && fw_cidrset_is_empty(rem, 0))
        goto out;
    rc = CMK_ENOMEM;
    item.kind = !o ? FW_TAGDIFF_ADDED : !n ? FW_TAGDIFF_REMOVED : FW_TAGDIFF_CHANGED;
    item.old_change = o ? o->change_number : -1;
    item.new_change = n ? n->change_number : -1;
    if (!(item.name = strdup(n ? n->name : o->name)))
        goto out;
    if (fw_cidrset_prefixes(add, 0, (fw_prefix **)&item.added, &item.n_added) < 0 ||
        fw_cidrset_prefixes(rem, 0, (fw_prefix **)&item.removed, &item.n_removed) < 0)
        goto fail_item;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        fw_tagdiff *items = realloc(d->items, cap * sizeof *items);
        if (!items)
            goto fail_item;
        d->items = items;
        d->cap = cap;
    }
    d->items[d->n++] = item;
    rc = 0;
    goto out;
fail_item:
    free((char *)item.name);
    free((fw_prefix *)item.added);
    free((fw_prefix *)item.removed);
out:
    fw_cidrset_destroy(&so);
    fw_cidrset_destroy(&sn);
    fw_cidrset_destroy(&add);
    fw_cidrset_destroy(&rem);
    return rc;
}

/* fw_servicetags_diff - CIDR-aware differences between two files */
int fw_servicetags_diff(const fw_servicetags *old_st, const fw_servicetags *new_st,
                        const char *filter, fw_stdiff **out, cmk_err *err)
{
    fw_stdiff *d = calloc(1, sizeof *d);
    size_t i = 0, j = 0;

    *out = NULL;
    if (!d)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory comparing service tags");
    /* merge walk over both name indices */
    while (i < old_st->n || j < new_st->n) {
        const fw_servicetag *o = i < old_st->n ? &old_st->tags[old_st->index[i]] : NULL;
        const fw_servicetag *n = j < new_st->n ? &new_st->tags[new_st->index[j]] : NULL;
        int c = !o ? 1 : !n ? -1 : strcasecmp(o->name, n->name);
        if (c < 0) {
            n = NULL;
            i++;
        } else if (c > 0) {
            o = NULL;
            j++;
        } else {
            i++;
            j++;
        }
        if (!filter_match(filter, o ? o->name : n->name))
            continue;
        if (diff_entry(d, o, n) < 0) {
            fw_stdiff_destroy(&d);
            return cmk_err_set(err, CMK_ENOMEM, "out of memory comparing service tags");
        }
    }
    if (filter && *filter && d->n == 0 && !fw_servicetags_find(old_st, filter) &&
        !fw_servicetags_find(new_st, filter)) {
        fw_stdiff_destroy(&d);
        return cmk_err_set(err, CMK_ENOENT, "service tag \"%s\" is in neither %s nor %s", filter,
                           old_st->origin, new_st->origin);
    }
    *out = d;
    return 0;
}
