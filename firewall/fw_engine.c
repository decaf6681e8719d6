/*
 * fw_engine.c - first-match rule evaluation over a firewall config (see fw_engine.h).
 */
#include "fw_engine.h"

#include <stdio.h>

/* fw_engine_decide - first matching rule, else the default */
int fw_engine_decide(const fw_config *cfg, const fw_addr *src, uint16_t dport, fw_decision *out,
                     cmk_err *err)
{
    size_t n = fw_config_rule_count(cfg);

    out->report = fw_config_mode(cfg) == FW_MODE_REPORT;
    out->rule_index = -1;
    out->rule_name = "default";
    out->rule_action = fw_config_default(cfg);
    out->verdict = out->report ? FW_ALLOW : out->rule_action;
    if (!fw_config_resolved(cfg))
        return cmk_err_set(err, CMK_ESTATE,
                           "firewall config %s has service-tag sources that were never resolved; "
                           "load it with a service-tags file", fw_config_origin(cfg));
    for (size_t i = 0; i < n; i++) {
        const fw_rule *r = fw_config_rule(cfg, i);
        if (!fw_rule_matches(r, src, dport))
            continue;
        out->rule_index = (int)i;
        out->rule_name = r->name;
        out->rule_action = r->action;
        out->verdict = out->report ? FW_ALLOW : r->action;
        break;
    }
    return 0;
}

/* fw_engine_decide_text - parse the address, then decide */
int fw_engine_decide_text(const fw_config *cfg, const char *src, uint16_t dport,
                          fw_decision *out, cmk_err *err)
{
    fw_addr a;
    int rc = fw_addr_parse(src, &a, err);
    if (rc < 0)
        return rc;
    return fw_engine_decide(cfg, &a, dport, out, err);
}

/* fw_decision_label - verdict word for logs and output */
const char *fw_decision_label(const fw_decision *d)
{
    if (d->report) {
        switch (d->rule_action) {
        case FW_DROP: return "would_deny";
        case FW_REJECT: return "would_reject";
        case FW_ALLOW: return "allow";
        }
    }
    return fw_action_name(d->verdict);
}

/* fw_decision_denies - drop or reject under enforcement */
bool fw_decision_denies(const fw_decision *d)
{
    return d->rule_action != FW_ALLOW;
}

/* fw_decision_format - key=value text for a log line */
char *fw_decision_format(const fw_decision *d, char *buf, size_t n)
{
    if (d->rule_index < 0)
        snprintf(buf, n, "verdict=%s rule=default", fw_decision_label(d));
    else
        snprintf(buf, n, "verdict=%s rule=%d:%s", fw_decision_label(d), d->rule_index + 1,
                 d->rule_name);
    return buf;
}
