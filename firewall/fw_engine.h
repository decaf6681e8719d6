/*
 * fw_engine.h - the rule engine: one verdict for one connection, used by every enforcer.
 *
 * The kernel enforcer (rules rendered by fw_nft) and the user-space enforcer both follow this
 * engine, so drills, lint and tests agree with what the kernel does. Rules are tried in order
 * and the first whose source and port match decides; when none matches, the config's default
 * decides. In report mode the connection is always allowed and the decision says what enforce
 * mode would have done ("would_deny" for drop, "would_reject" for reject).
 *
 *   fw_decision d;
 *   fw_addr src;
 *   fw_addr_parse("127.40.1.9", &src, &err);
 *   fw_engine_decide(cfg, &src, 443, &d, &err);
 *   printf("%s by %s\n", fw_decision_label(&d), d.rule_name);   // "reject by default"
 */
#ifndef CMK_FW_ENGINE_H
#define CMK_FW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "fw_cidr.h"
#include "fw_config.h"

/* The outcome for one connection. */
typedef struct {
    fw_action verdict;     /* what happens to the connection (always FW_ALLOW in report mode) */
    fw_action rule_action; /* what the deciding rule or default says (== verdict if enforcing) */
    bool report;           /* the config is in report mode */
    int rule_index;        /* 0-based index of the deciding rule, -1 for the default */
    const char *rule_name; /* the deciding rule's name, or "default"; owned by the config */
} fw_decision;

/* fw_engine_decide - decide a connection from src to destination port dport. A config with
 * unresolved service-tag sources is refused (CMK_ESTATE) and *out then holds the default. */
int fw_engine_decide(const fw_config *cfg, const fw_addr *src, uint16_t dport, fw_decision *out,
                     cmk_err *err);

/* fw_engine_decide_text - the same with the source address as text */
int fw_engine_decide_text(const fw_config *cfg, const char *src, uint16_t dport,
                          fw_decision *out, cmk_err *err);

/* fw_decision_label - "allow", "drop", "reject", or in report mode "allow", "would_deny",
 * "would_reject" */
const char *fw_decision_label(const fw_decision *d);

/* fw_decision_denies - whether enforce mode would refuse the connection (drop or reject) */
bool fw_decision_denies(const fw_decision *d);

/* fw_decision_format - "verdict=reject rule=default" (or "rule=3:allow-plex", 1-based) into
 * buf for a log line; returns buf */
char *fw_decision_format(const fw_decision *d, char *buf, size_t n);

#endif
