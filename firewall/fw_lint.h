/*
 * fw_lint.h - remarks about a valid firewall config that probably does not do what was meant.
 *
 * Findings, each with a stable code, the rule and the line:
 *   host-bits   a CIDR had host bits set and was normalised ("10.0.0.1/8" -> "10.0.0.0/8")
 *   empty-tag   a service-tag source resolved to no addresses
 *   shadowed    a rule never matches: earlier rules match every source and port it lists
 *   conflict    part of a rule's sources is taken first by an earlier rule with another action
 *               (an allow listed after a drop/reject that catches some of its addresses)
 *   unresolved  (note) tag sources were not resolved, so rules using them were not analysed
 *   report-mode (note) the config only reports: nothing is refused
 *
 *   fw_lint *l;
 *   fw_lint_config(cfg, &l, &err);
 *   for (size_t i = 0; i < fw_lint_count(l); i++) puts(fw_lint_at(l, i)->msg);
 *   fw_lint_destroy(&l);
 */
#ifndef CMK_FW_LINT_H
#define CMK_FW_LINT_H

#include <stddef.h>

#include "common/err.h"
#include "fw_config.h"

/* How serious a finding is. */
typedef enum {
    FW_LINT_NOTE = 0,    /* for information */
    FW_LINT_WARNING = 1, /* probably a mistake */
} fw_lint_level;

/* One finding. */
typedef struct {
    fw_lint_level level; /* note or warning */
    const char *code;    /* stable short name (see above) */
    int rule;            /* 0-based rule index, or -1 for the whole config */
    int line;            /* line in the config, 0 if none */
    const char *msg;     /* what and why, for a person */
} fw_lint_finding;

typedef struct fw_lint fw_lint;

/* fw_lint_config - analyse cfg; findings are sorted by line */
int fw_lint_config(const fw_config *cfg, fw_lint **out, cmk_err *err);

/* fw_lint_destroy - free findings (NULL is fine) and null the caller's pointer */
void fw_lint_destroy(fw_lint **self_p);

/* fw_lint_count - how many findings */
size_t fw_lint_count(const fw_lint *l);

/* fw_lint_at - finding i, or NULL */
const fw_lint_finding *fw_lint_at(const fw_lint *l, size_t i);

/* fw_lint_warnings - how many findings are warnings */
size_t fw_lint_warnings(const fw_lint *l);

#endif
