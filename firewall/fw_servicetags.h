/*
 * fw_servicetags.h - Azure service-tag files (ServiceTags_Public / ServiceTags_Gov format).
 *
 * The format, as Microsoft publishes it weekly:
 *
 *   { "changeNumber": 376, "cloud": "Public",
 *     "values": [ { "name": "PowerPlatformPlex.WestUS", "id": "PowerPlatformPlex.WestUS",
 *                   "properties": { "changeNumber": 6, "region": "westus", "regionId": 37,
 *                                   "platform": "Azure", "systemService": "PowerPlatformPlex",
 *                                   "addressPrefixes": [ "4.150.249.24/29", "2603:1061::/56" ],
 *                                   "networkFeatures": [ "API", "NSG" ] } }, ... ] }
 *
 * A global tag ("PowerPlatformPlex") has an empty region; a regional entry is named
 * "<tag>.<Region>". networkFeatures may be null; prefixes may be IPv6. Unknown keys are
 * tolerated (the format grows); wrong types, missing names or prefixes and bad CIDRs refuse
 * the whole file with the JSON path and line of the culprit.
 *
 *   fw_servicetags *st = fw_servicetags_load("ServiceTags_Public_20251109.json", &err);
 *   const fw_servicetag *t;
 *   fw_servicetags_lookup(st, "PowerPlatformPlex", "WestUS", &t, &err);
 *   ... t->prefixes[0 .. t->n_prefixes) ...
 *   fw_servicetags_destroy(&st);
 */
#ifndef CMK_FW_SERVICETAGS_H
#define CMK_FW_SERVICETAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "fw_cidr.h"

/* One entry of values[]: a global tag or one regional part of it. Owned by its file. */
typedef struct {
    const char *name;            /* "PowerPlatformPlex.WestUS" */
    const char *id;              /* "id" (the same as name in every published file) */
    const char *tag;             /* the name before the first '.': "PowerPlatformPlex" */
    const char *suffix;          /* the name after the first '.' ("WestUS"); "" if global */
    const char *region;          /* properties.region: "westus"; "" for global tags */
    long region_id;              /* properties.regionId (0 for global tags) */
    const char *platform;        /* properties.platform: "Azure" */
    const char *system_service;  /* properties.systemService */
    long change_number;          /* properties.changeNumber */
    const fw_prefix *prefixes;   /* properties.addressPrefixes, normalised, in file order */
    size_t n_prefixes;           /* count of prefixes */
    const char *const *features; /* properties.networkFeatures; NULL when null or absent */
    size_t n_features;           /* count of features */
} fw_servicetag;

typedef struct fw_servicetags fw_servicetags;

/* fw_servicetags_load - read and parse a service-tags file; NULL with err filled on failure */
fw_servicetags *fw_servicetags_load(const char *path, cmk_err *err);

/* fw_servicetags_parse - parse service tags from text; origin names it in messages */
fw_servicetags *fw_servicetags_parse(const char *text, size_t len, const char *origin,
                                     cmk_err *err);

/* fw_servicetags_destroy - free a file (NULL is fine) and null the caller's pointer */
void fw_servicetags_destroy(fw_servicetags **self_p);

/* fw_servicetags_origin - the path or origin name the file was loaded from */
const char *fw_servicetags_origin(const fw_servicetags *st);

/* fw_servicetags_cloud - the file's "cloud" ("Public", "AzureGovernment") */
const char *fw_servicetags_cloud(const fw_servicetags *st);

/* fw_servicetags_change_number - the file's top-level "changeNumber" */
long fw_servicetags_change_number(const fw_servicetags *st);

/* fw_servicetags_count - how many entries values[] has */
size_t fw_servicetags_count(const fw_servicetags *st);

/* fw_servicetags_at - entry i in file order (NULL if out of range) */
const fw_servicetag *fw_servicetags_at(const fw_servicetags *st, size_t i);

/* fw_servicetags_find - the entry with exactly this name (case-insensitive), or NULL */
const fw_servicetag *fw_servicetags_find(const fw_servicetags *st, const char *name);

/* fw_servicetags_lookup - resolve a tag ("PowerPlatformPlex", "PowerPlatformPlex.WestUS")
 * and an optional region ("WestUS" or "westus"; NULL or "" for none) to one entry. Giving a
 * region both in the name and separately is refused. CMK_ENOENT says what regions exist. */
int fw_servicetags_lookup(const fw_servicetags *st, const char *tag, const char *region,
                          const fw_servicetag **out, cmk_err *err);

/* fw_servicetags_regions - the regional entries of tag ("<tag>.*"), sorted by name. *out is
 * malloc'd (free() it; NULL when *n is 0); the entries stay owned by st. */
int fw_servicetags_regions(const fw_servicetags *st, const char *tag,
                           const fw_servicetag ***out, size_t *n);

/* fw_servicetag_set - the entry's prefixes as a new CIDR set; NULL when out of memory */
fw_cidrset *fw_servicetag_set(const fw_servicetag *t);

/* ---- diff of two files ---- */

/* What happened to one entry between two files. */
typedef enum {
    FW_TAGDIFF_CHANGED = 0, /* in both files, with different addresses */
    FW_TAGDIFF_ADDED = 1,   /* only in the new file */
    FW_TAGDIFF_REMOVED = 2, /* only in the old file */
} fw_tagdiff_kind;

/* The address changes of one entry. Prefix lists are minimal (merged) and ascending. */
typedef struct {
    const char *name;          /* entry name (from the new file when in both) */
    fw_tagdiff_kind kind;      /* changed, added or removed */
    long old_change;           /* properties.changeNumber in the old file (-1 if absent) */
    long new_change;           /* properties.changeNumber in the new file (-1 if absent) */
    const fw_prefix *added;    /* addresses in the new file and not in the old */
    size_t n_added;            /* count of added */
    const fw_prefix *removed;  /* addresses in the old file and not in the new */
    size_t n_removed;          /* count of removed */
} fw_tagdiff;

typedef struct fw_stdiff fw_stdiff;

/* fw_servicetags_diff - CIDR-aware differences between old and new. filter (NULL for all)
 * keeps the entry of that name and, for a tag name, its regional entries. Entries whose
 * addresses did not change are left out. */
int fw_servicetags_diff(const fw_servicetags *old_st, const fw_servicetags *new_st,
                        const char *filter, fw_stdiff **out, cmk_err *err);

/* fw_stdiff_destroy - free a diff (NULL is fine) and null the caller's pointer */
void fw_stdiff_destroy(fw_stdiff **self_p);

/* fw_stdiff_count - how many entries changed */
size_t fw_stdiff_count(const fw_stdiff *d);

/* fw_stdiff_at - changed entry i, sorted by name (NULL if out of range) */
const fw_tagdiff *fw_stdiff_at(const fw_stdiff *d, size_t i);

#endif
