/*
 * fw_config.h - the customer firewall config: a JSON rule list, validated line by line.
 *
 * Format (every key other than those listed is refused, so a typo never goes unnoticed):
 *
 *   {
 *     "name": "contoso-edge",          optional; defaults to the file name
 *     "comment": "...",                optional, free text (JSON has no comments)
 *     "mode": "enforce",               optional: "enforce" (default) or "report"
 *     "default": "reject",             required: "allow", "drop" (alias "deny") or "reject"
 *     "rules": [                       required (may be empty); first match wins, in order
 *       { "name": "power-platform-plex",      optional; defaults to "rule-<n>"; unique
 *         "comment": "...",                   optional
 *         "action": "allow",                  required: "allow", "drop"/"deny" or "reject"
 *         "source": SOURCE,                   required
 *         "port": PORTS }                     optional: absent means any destination port
 *     ]
 *   }
 *
 *   SOURCE  "10.0.0.0/8" | "2603:1000::/40" | "127.40.1.7" (one address) | "any"
 *         | {"tag": "PowerPlatformPlex", "region": "WestUS"}  (region optional; the tag may
 *           also be the regional name "PowerPlatformPlex.WestUS")
 *         | [ any mix of the above strings and tag objects, at least one ]
 *   PORTS   443 | "443" | "8000-8100" | [80, 443, "8000-8100"]   (1..65535)
 *
 * A rule matches a connection when its source holds the connection's source address and its
 * ports hold the destination port. Service-tag sources are resolved against a loaded
 * service-tags file. A broken config is refused with "<file>:<line>: <what> <why>". CIDRs with
 * host bits set ("10.0.0.1/8") are accepted as their network ("10.0.0.0/8") with a warning.
 */
#ifndef CMK_FW_CONFIG_H
#define CMK_FW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "fw_cidr.h"
#include "fw_servicetags.h"

/* What a rule (or the default) does with a connection. */
typedef enum {
    FW_ALLOW = 0,  /* let it through */
    FW_DROP = 1,   /* discard silently: the client times out */
    FW_REJECT = 2, /* refuse with a TCP reset: the client sees "connection refused" */
} fw_action;

/* Whether verdicts are enforced or only reported. */
typedef enum {
    FW_MODE_ENFORCE = 0, /* verdicts apply */
    FW_MODE_REPORT = 1,  /* everything is allowed; denials are reported as would_deny/would_reject */
} fw_mode;

/* An inclusive range of destination ports. */
typedef struct {
    uint16_t lo; /* first port */
    uint16_t hi; /* last port */
} fw_port_range;

/* One source of a rule, as written. */
typedef struct {
    const char *cidr;     /* CIDR text as written, or NULL for a tag source */
    fw_prefix prefix;     /* the parsed CIDR (normalised) when cidr is set */
    bool host_bits;       /* the CIDR text had host bits set */
    const char *tag;      /* service tag name for a tag source, else NULL */
    const char *region;   /* region of a tag source, or NULL */
    const char *resolved; /* entry the tag resolved to ("PowerPlatformPlex.WestUS"), or NULL */
    size_t n_prefixes;    /* prefixes the entry holds (tag sources) */
    int line;             /* line of this source in the config text */
} fw_source;

/* One rule. Owned by its config. */
typedef struct {
    const char *name;           /* rule name, unique within the config */
    const char *comment;        /* comment or NULL */
    fw_action action;           /* what a match does */
    int line;                   /* line where the rule's object starts */
    bool any_source;            /* source "any": every address matches */
    const fw_source *sources;   /* the sources as written */
    size_t n_sources;           /* count of sources */
    const fw_cidrset *set;      /* every address of every (resolved) source; never NULL */
    bool resolved;              /* every tag source was resolved against service tags */
    bool any_port;              /* no "port": every destination port matches */
    const fw_port_range *ports; /* merged, ascending port ranges when !any_port */
    size_t n_ports;             /* count of port ranges */
} fw_rule;

/* A remark about a config that is valid but probably not what was meant. */
typedef struct {
    int line;         /* line in the config text (0 if none) */
    int rule;         /* 0-based rule index, or -1 for the config as a whole */
    const char *code; /* short stable name: "host-bits", "empty-tag" */
    const char *msg;  /* the remark */
} fw_config_warning;

/* Flags for fw_config_load / fw_config_parse. */
enum {
    FW_CONFIG_UNRESOLVED_OK = 1, /* without service tags, keep tag sources unresolved (lint) */
};

typedef struct fw_config fw_config;

/* fw_config_load - read and validate a config file; tags (may be NULL) resolves tag sources */
fw_config *fw_config_load(const char *path, const fw_servicetags *tags, unsigned flags,
                          cmk_err *err);

/* fw_config_parse - validate config text; origin names it in messages */
fw_config *fw_config_parse(const char *text, size_t len, const char *origin,
                           const fw_servicetags *tags, unsigned flags, cmk_err *err);

/* fw_config_destroy - free a config (NULL is fine) and null the caller's pointer */
void fw_config_destroy(fw_config **self_p);

/* fw_config_name - the config's name */
const char *fw_config_name(const fw_config *cfg);

/* fw_config_origin - the path or origin name it was loaded from */
const char *fw_config_origin(const fw_config *cfg);

/* fw_config_mode - enforce or report */
fw_mode fw_config_mode(const fw_config *cfg);

/* fw_config_default - the action when no rule matches */
fw_action fw_config_default(const fw_config *cfg);

/* fw_config_rule_count - how many rules */
size_t fw_config_rule_count(const fw_config *cfg);

/* fw_config_rule - rule i (0-based) or NULL */
const fw_rule *fw_config_rule(const fw_config *cfg, size_t i);

/* fw_config_resolved - whether every tag source of every rule was resolved */
bool fw_config_resolved(const fw_config *cfg);

/* fw_config_tags_origin - the service-tags file tag sources were resolved against, or NULL */
const char *fw_config_tags_origin(const fw_config *cfg);

/* fw_config_warning_count - how many warnings loading produced (host bits, empty tags) */
size_t fw_config_warning_count(const fw_config *cfg);

/* fw_config_warning_at - warning i or NULL */
const fw_config_warning *fw_config_warning_at(const fw_config *cfg, size_t i);

/* fw_rule_matches_port - whether the rule applies to destination port */
bool fw_rule_matches_port(const fw_rule *r, uint16_t port);

/* fw_rule_matches - whether the rule applies to a connection from src to port */
bool fw_rule_matches(const fw_rule *r, const fw_addr *src, uint16_t port);

/* fw_action_name - "allow", "drop", "reject" */
const char *fw_action_name(fw_action a);

/* fw_action_parse - "allow", "drop" or "deny", "reject" to an action; CMK_EINVAL otherwise */
int fw_action_parse(const char *s, fw_action *out);

/* fw_mode_name - "enforce" or "report" */
const char *fw_mode_name(fw_mode m);

/* fw_port_parse - "443" or "8000-8100" to a range; CMK_EINVAL with a reason otherwise */
int fw_port_parse(const char *s, fw_port_range *out, cmk_err *err);

#endif
