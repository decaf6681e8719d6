/*
 * fw_check.h - does a firewall config let a service tag's addresses through?
 *
 * After customer-managed keys are applied, a flow's HTTP actions come from PowerPlatformPlex;
 * a firewall that allows only LogicApps, PowerPlatformInfra and AzureConnectors refuses them.
 * This check walks the config's rules in order, exactly as the engine does, and reports for
 * every prefix of the tag which addresses would be refused on a destination port, by which
 * rule (or the default), and whether the refusing rule shadows a later allow rule that lists
 * them (a "deny before allow" ordering mistake). Coverage is address arithmetic: a /24 allowed
 * as two /25s is covered; a /23 allowed as one /24 is partial and its other /24 is reported.
 *
 * The config may have been resolved against another (older) service-tags file than tags: that
 * is how a firewall built from last month's file is checked against this week's.
 *
 *   fw_check *chk;
 *   if (fw_check_coverage(tags, cfg, "PowerPlatformPlex", "WestUS", 443, &chk, &err) == 0)
 *       printf("%s\n", fw_check_ok(chk) ? "covered" : "prefixes missing");
 *   fw_check_destroy(&chk);
 */
#ifndef CMK_FW_CHECK_H
#define CMK_FW_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "fw_cidr.h"
#include "fw_config.h"
#include "fw_servicetags.h"

/* How much of one tag prefix gets through. */
typedef enum {
    FW_COV_COVERED = 0, /* every address is allowed */
    FW_COV_PARTIAL = 1, /* some addresses are allowed, some refused */
    FW_COV_MISSING = 2, /* every address is refused */
} fw_cov_status;

/* A sub-range of a tag prefix that the firewall refuses. */
typedef struct {
    fw_prefix prefix;   /* the refused addresses */
    int rule;           /* 0-based index of the refusing rule, -1 for the default */
    fw_action action;   /* FW_DROP or FW_REJECT */
    int shadowed_allow; /* 0-based index of a later allow rule that lists these addresses but
                           never sees them (shadowed by rule), or -1 */
} fw_check_gap;

/* One prefix of the tag and what happens to it. */
typedef struct {
    fw_prefix prefix;         /* the prefix, as in the service-tags file */
    fw_cov_status status;     /* covered, partial or missing */
    const fw_check_gap *gaps; /* refused sub-ranges, ascending (empty when covered) */
    size_t n_gaps;            /* count of gaps */
} fw_check_item;

/* Counts over the whole check. */
typedef struct {
    size_t prefixes;       /* prefixes of the tag */
    size_t covered;        /* fully allowed */
    size_t partial;        /* partly allowed */
    size_t missing;        /* wholly refused */
    size_t shadowed;       /* prefixes with at least one gap shadowing an allow rule */
    uint64_t v4_addresses; /* IPv4 addresses of the tag */
    uint64_t v4_refused;   /* of which refused */
} fw_check_totals;

typedef struct fw_check fw_check;

/* fw_check_coverage - check tag (+ optional region) of tags against cfg on destination port.
 * The config must be resolved (CMK_ESTATE otherwise); an unknown tag is CMK_ENOENT. */
int fw_check_coverage(const fw_servicetags *tags, const fw_config *cfg, const char *tag,
                      const char *region, uint16_t port, fw_check **out, cmk_err *err);

/* fw_check_destroy - free a check (NULL is fine) and null the caller's pointer */
void fw_check_destroy(fw_check **self_p);

/* fw_check_entry - the service-tag entry that was checked ("PowerPlatformPlex.WestUS") */
const char *fw_check_entry(const fw_check *chk);

/* fw_check_port - the destination port checked */
uint16_t fw_check_port(const fw_check *chk);

/* fw_check_ok - whether every address of the tag is allowed */
bool fw_check_ok(const fw_check *chk);

/* fw_check_count - how many prefixes were checked */
size_t fw_check_count(const fw_check *chk);

/* fw_check_at - prefix i in file order, or NULL */
const fw_check_item *fw_check_at(const fw_check *chk, size_t i);

/* fw_check_get_totals - the counts */
void fw_check_get_totals(const fw_check *chk, fw_check_totals *out);

/* fw_check_refused - every refused address as the fewest prefixes: what the allow list lacks.
 * The array stays owned by chk. */
void fw_check_refused(const fw_check *chk, const fw_prefix **out, size_t *n);

/* fw_cov_status_name - "covered", "partial", "missing" */
const char *fw_cov_status_name(fw_cov_status s);

#endif
