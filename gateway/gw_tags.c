/*
 * gw_tags.c - service tags as the gateway needs them: entry names and usable IPv4 source
 * ranges, the Power Platform -> Azure region table, and source-address picking.
 */
#include "gw_tags.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util.h"

/* Usable source addresses lo..hi (host order, inclusive). */
typedef struct {
    uint32_t lo; /* first usable address */
    uint32_t hi; /* last usable address */
} tag_range;

/* One entry of values[]. */
typedef struct {
    char *name;        /* "PowerPlatformPlex.WestUS" */
    char *region;      /* properties.region, "" for global entries */
    tag_range *ranges; /* usable IPv4 ranges, file order */
    size_t n_ranges;   /* count of ranges */
} tag_entry;

struct gw_tags {
    char *origin;       /* file path or origin name */
    tag_entry *entries; /* every entry */
    size_t n;           /* count of entries */
};

/* Power Platform regions and the Azure region their dedicated infrastructure runs in. */
static const struct {
    const char *pp;    /* Power Platform region */
    const char *azure; /* Azure region, as in service-tag names */
} region_table[] = {
    { "unitedstates", "WestUS" },       { "europe", "WestEurope" },
    { "asia", "EastAsia" },             { "australia", "AustraliaEast" },
    { "india", "CentralIndia" },        { "japan", "JapanEast" },
    { "canada", "CanadaCentral" },      { "unitedkingdom", "UKSouth" },
    { "southamerica", "BrazilSouth" },  { "france", "FranceCentral" },
    { "germany", "GermanyWestCentral" }, { "switzerland", "SwitzerlandNorth" },
    { "norway", "NorwayEast" },         { "korea", "KoreaCentral" },
    { "southafrica", "SouthAfricaNorth" }, { "uae", "UAENorth" },
    { "singapore", "SoutheastAsia" },   { "sweden", "SwedenCentral" },
};

/* gw_region_azure - table lookup */
const char *gw_region_azure(const char *pp_region)
{
    for (size_t i = 0; pp_region && i < sizeof region_table / sizeof region_table[0]; i++)
        if (strcasecmp(region_table[i].pp, pp_region) == 0)
            return region_table[i].azure;
    return NULL;
}

/* parse_prefix - "a.b.c.d/len" to its usable range; 1 if IPv4, 0 if IPv6 (skipped), < 0 bad */
static int parse_prefix(const char *s, tag_range *out)
{
    char buf[64];
    char *slash;
    struct in_addr a;
    long len = 32;
    uint32_t base, mask, last;

    if (strchr(s, ':'))
        return 0;
    cmk_strlcpy(buf, s, sizeof buf);
    if ((slash = strchr(buf, '/'))) {
        char *end;
        *slash = '\0';
        len = strtol(slash + 1, &end, 10);
        if (*end || len < 0 || len > 32)
            return -1;
    }
    if (inet_pton(AF_INET, buf, &a) != 1)
        return -1;
    mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    base = ntohl(a.s_addr) & mask;
    last = base | ~mask;
    if (len <= 30) {
        base++;
        last--;
    }
    out->lo = base;
    out->hi = last;
    return 1;
}

/* gw_tags_destroy - free */
void gw_tags_destroy(gw_tags **self_p)
{
    gw_tags *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free(self->entries[i].name);
        free(self->entries[i].region);
        free(self->entries[i].ranges);
    }
    free(self->entries);
    free(self->origin);
    free(self);
    *self_p = NULL;
}

/* parse_entry - one values[] item into e */
static int parse_entry(const cJSON *v, size_t idx, tag_entry *e, const char *origin, cmk_err *err)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(v, "properties");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
    const cJSON *prefixes = cJSON_GetObjectItemCaseSensitive(props, "addressPrefixes");
    const cJSON *region = cJSON_GetObjectItemCaseSensitive(props, "region");
    const cJSON *p;
    size_t k = 0;

    if (!cJSON_IsString(name) || !cJSON_IsObject(props) || !cJSON_IsArray(prefixes))
        return cmk_err_set(err, CMK_EINVAL, "%s: values[%zu] needs a name and properties."
                           "addressPrefixes (Azure ServiceTags format)", origin, idx);
    e->name = strdup(name->valuestring);
    e->region = strdup(cJSON_IsString(region) ? region->valuestring : "");
    e->ranges = calloc((size_t)cJSON_GetArraySize(prefixes) + 1, sizeof *e->ranges);
    if (!e->name || !e->region || !e->ranges)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory reading %s", origin);
    cJSON_ArrayForEach(p, prefixes) {
        int rc = cJSON_IsString(p) ? parse_prefix(p->valuestring, &e->ranges[k]) : -1;
        if (rc < 0)
            return cmk_err_set(err, CMK_EINVAL, "%s: %s has an address prefix that is not a "
                               "CIDR: %s", origin, e->name,
                               cJSON_IsString(p) ? p->valuestring : "(not a string)");
        if (rc > 0 && e->ranges[k].lo <= e->ranges[k].hi)
            k++;
    }
    e->n_ranges = k;
    return 0;
}

/* gw_tags_parse - text to tags */
gw_tags *gw_tags_parse(const char *text, size_t len, const char *origin, cmk_err *err)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(doc, "values"), *v;
    gw_tags *self = NULL;
    size_t i = 0;

    if (!doc || !cJSON_IsArray(values)) {
        cmk_err_set(err, CMK_EINVAL, "%s: not an Azure service-tag file (a JSON object with "
                    "\"values\": [...] expected)%s", origin,
                    doc ? "" : "; the JSON does not parse");
        cJSON_Delete(doc);
        return NULL;
    }
    self = calloc(1, sizeof *self);
    if (self) {
        self->origin = strdup(origin);
        self->entries = calloc((size_t)cJSON_GetArraySize(values) + 1, sizeof *self->entries);
    }
    if (!self || !self->origin || !self->entries) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory reading %s", origin);
        goto fail;
    }
    cJSON_ArrayForEach(v, values) {
        self->n = i + 1;
        if (parse_entry(v, i, &self->entries[i], origin, err) < 0)
            goto fail;
        i++;
    }
    cJSON_Delete(doc);
    return self;
fail:
    cJSON_Delete(doc);
    gw_tags_destroy(&self);
    return NULL;
}

/* gw_tags_load - read a file */
gw_tags *gw_tags_load(const char *path, cmk_err *err)
{
    char *text = NULL;
    size_t len = 0;
    gw_tags *self;

    if (cmk_file_read(path, &text, &len, err) < 0) {
        cmk_err_prefix(err, "service tags (egress.service_tags): ");
        return NULL;
    }
    self = gw_tags_parse(text, len, path, err);
    free(text);
    return self;
}

/* gw_tags_origin - origin */
const char *gw_tags_origin(const gw_tags *self)
{
    return self->origin;
}

/* find - entry by exact name (case-insensitive) */
static const tag_entry *find(const gw_tags *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcasecmp(self->entries[i].name, name) == 0)
            return &self->entries[i];
    return NULL;
}

/* find_regional - "<tag>.<azure>" by name, else a "<tag>.*" entry whose region is azure */
static const tag_entry *find_regional(const gw_tags *self, const char *tag, const char *azure)
{
    char name[160];
    size_t tl = strlen(tag);
    const tag_entry *e;

    snprintf(name, sizeof name, "%s.%s", tag, azure);
    if ((e = find(self, name)))
        return e;
    for (size_t i = 0; i < self->n; i++) {
        e = &self->entries[i];
        if (strncasecmp(e->name, tag, tl) == 0 && e->name[tl] == '.' &&
            strcasecmp(e->region, azure) == 0)
            return e;
    }
    return NULL;
}

/* list_regions - the regions of tag into buf, for an error message */
static void list_regions(const gw_tags *self, const char *tag, char *buf, size_t n)
{
    size_t tl = strlen(tag), o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < self->n && o + 2 < n; i++) {
        const char *nm = self->entries[i].name;
        if (strncasecmp(nm, tag, tl) == 0 && nm[tl] == '.') {
            int w = snprintf(buf + o, n - o, "%s%s", o ? ", " : "", nm + tl + 1);
            o = w > 0 && (size_t)w < n - o ? o + (size_t)w : n - 1;
        }
    }
}

/* gw_tags_select - infrastructure, kind and region to an entry name */
int gw_tags_select(const gw_tags *self, const char *infrastructure, const char *kind,
                   const char *region, char *out, size_t n, cmk_err *err)
{
    const char *tag, *azure;
    const tag_entry *e;
    char have[512];

    if (!kind || !*kind)
        kind = "http";
    if (strcmp(kind, "http") != 0 && strcmp(kind, "connector") != 0)
        return cmk_err_set(err, CMK_EINVAL, "kind must be \"http\" or \"connector\", not \"%s\"", kind);
    if (infrastructure && strcmp(infrastructure, "dedicated") == 0)
        tag = "PowerPlatformPlex"; /* CMK: dedicated infrastructure, every kind of action */
    else if (infrastructure && strcmp(infrastructure, "shared") == 0)
        tag = strcmp(kind, "connector") == 0 ? "AzureConnectors" : "LogicApps";
    else
        tag = NULL;
    if (!tag)
        return cmk_err_set(err, CMK_EINVAL, "infrastructure must be \"shared\" or \"dedicated\", "
                           "not \"%s\"", infrastructure ? infrastructure : "(missing)");
    if (!region || !*region)
        return cmk_err_set(err, CMK_EINVAL, "region is missing: a Power Platform region such as "
                           "\"unitedstates\" or \"europe\"");
    azure = gw_region_azure(region);
    e = find_regional(self, tag, azure ? azure : region);
    if (!e) {
        list_regions(self, tag, have, sizeof have);
        return cmk_err_set(err, CMK_ENOENT, "region \"%s\"%s%s%s has no %s range in %s; it has "
                           "%s (add the region there, see configs/README-service-tags.md)",
                           region, azure ? " (Azure " : "", azure ? azure : "", azure ? ")" : "",
                           tag, self->origin, have[0] ? have : "no regions of that tag");
    }
    snprintf(out, n, "%s", e->name);
    return 0;
}

/* gw_tags_addresses - usable address count */
uint64_t gw_tags_addresses(const gw_tags *self, const char *name)
{
    const tag_entry *e = find(self, name);
    uint64_t total = 0;
    for (size_t i = 0; e && i < e->n_ranges; i++)
        total += (uint64_t)e->ranges[i].hi - e->ranges[i].lo + 1;
    return total;
}

/* gw_tags_pick - key-th usable address */
int gw_tags_pick(const gw_tags *self, const char *name, uint64_t key, char *ip, size_t n,
                 cmk_err *err)
{
    const tag_entry *e = find(self, name);
    uint64_t total = gw_tags_addresses(self, name), k;
    struct in_addr a;

    if (!e)
        return cmk_err_set(err, CMK_ENOENT, "no service tag %s in %s", name, self->origin);
    if (total == 0)
        return cmk_err_set(err, CMK_ENOENT, "service tag %s has no IPv4 range in %s to send "
                           "from", name, self->origin);
    k = key % total;
    for (size_t i = 0; i < e->n_ranges; i++) {
        uint64_t size = (uint64_t)e->ranges[i].hi - e->ranges[i].lo + 1;
        if (k < size) {
            a.s_addr = htonl(e->ranges[i].lo + (uint32_t)k);
            if (!inet_ntop(AF_INET, &a, ip, (socklen_t)n))
                return cmk_err_set(err, CMK_EINVAL, "address buffer too small");
            return 0;
        }
        k -= size;
    }
    return cmk_err_set(err, CMK_EINTERNAL, "source pick ran past the ranges of %s", name);
}

/* gw_source_key - FNV-1a over the parts, separated */
uint64_t gw_source_key(const char *a, const char *b, const char *c)
{
    const char *parts[3] = { a, b, c };
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i] ? parts[i] : ""; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ull;
        }
        h ^= 0x1f;
        h *= 1099511628211ull;
    }
    return h;
}
