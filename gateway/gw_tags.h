/*
 * gw_tags.h - where an outbound HTTP action leaves from: the service tag of the request's
 * infrastructure, kind and region, and a source address within that tag's IPv4 ranges.
 *
 *   dedicated (CMK environment)    -> PowerPlatformPlex.<Azure region>
 *   shared, kind "http"            -> LogicApps.<Azure region>
 *   shared, kind "connector"       -> AzureConnectors.<Azure region>
 *
 * A Power Platform region ("unitedstates", "europe") maps to an Azure region ("WestUS",
 * "WestEurope") through a small table (gw_region_azure); an Azure region name is accepted as
 * is. The ranges come from an Azure-format service-tag file (configs/service-tags.json maps
 * them to loopback). Only IPv4 prefixes are used for source addresses.
 *
 *   gw_tags *t = gw_tags_load("configs/service-tags.json", &err);
 *   char tag[96], ip[16];
 *   gw_tags_select(t, "dedicated", "http", "unitedstates", tag, sizeof tag, &err);
 *   gw_tags_pick(t, tag, gw_source_key("env-1", "flow-1", "HTTP"), ip, sizeof ip, &err);
 *   -> tag "PowerPlatformPlex.WestUS", ip "127.40.1.x"
 */
#ifndef CMK_GW_TAGS_H
#define CMK_GW_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct gw_tags gw_tags;

/* gw_tags_load - read a service-tag file; NULL with err filled on failure */
gw_tags *gw_tags_load(const char *path, cmk_err *err);

/* gw_tags_parse - the same from text; origin names it in messages */
gw_tags *gw_tags_parse(const char *text, size_t len, const char *origin, cmk_err *err);

/* gw_tags_destroy - free (NULL is fine) and null the caller's pointer */
void gw_tags_destroy(gw_tags **self_p);

/* gw_tags_origin - the file the tags came from */
const char *gw_tags_origin(const gw_tags *self);

/* gw_region_azure - the Azure region of a Power Platform region ("unitedstates" -> "WestUS");
 * NULL if the table does not know it */
const char *gw_region_azure(const char *pp_region);

/* gw_tags_select - the entry name requests of (infrastructure, kind, region) leave from, into
 * out: "PowerPlatformPlex.WestUS". infrastructure is "shared" or "dedicated", kind "http" or
 * "connector" (NULL: "http"). CMK_EINVAL for bad values, CMK_ENOENT for a region the file
 * does not have (the message lists what exists). */
int gw_tags_select(const gw_tags *self, const char *infrastructure, const char *kind,
                   const char *region, char *out, size_t n, cmk_err *err);

/* gw_tags_addresses - how many usable IPv4 source addresses entry `name` has (0 if none) */
uint64_t gw_tags_addresses(const gw_tags *self, const char *name);

/* gw_tags_pick - source address number (key mod the usable addresses) of entry `name`, into
 * ip (>= 16 bytes). Network and broadcast addresses of prefixes up to /30 are skipped. */
int gw_tags_pick(const gw_tags *self, const char *name, uint64_t key, char *ip, size_t n,
                 cmk_err *err);

/* gw_source_key - a stable key for source picking: FNV-1a over the parts (NULLs allowed) */
uint64_t gw_source_key(const char *a, const char *b, const char *c);

#endif
