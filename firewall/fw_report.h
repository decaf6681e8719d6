/*
 * fw_report.h - results of check, diff and lint as text for people or JSON for scripts.
 *
 * The cmk-firewall subcommands print through these, and so can any other tool (cmkctl, drill
 * runners) that wants the same words. Text goes to a FILE; JSON comes back as a cJSON tree the
 * caller prints and frees (NULL when out of memory). Rule numbers are 1-based everywhere here,
 * as in the config's own order; the default is rule null / "default".
 */
#ifndef CMK_FW_REPORT_H
#define CMK_FW_REPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "fw_check.h"
#include "fw_config.h"
#include "fw_lint.h"
#include "fw_servicetags.h"

/* The seed's exact error for an HTTP action refused by the customer firewall. */
#define FW_REFUSED_ERROR                                                                       \
    "Http request failed as there is an error: 'No connection could be made because the "     \
    "target machine actively refused it.'"

/* fw_report_check_text - a coverage check for a person: verdict, gaps, what to allow */
void fw_report_check_text(FILE *out, const fw_check *chk, const fw_servicetags *tags,
                          const fw_config *cfg, bool verbose);

/* fw_report_check_json - a coverage check as JSON (every prefix, covered ones too) */
cJSON *fw_report_check_json(const fw_check *chk, const fw_servicetags *tags,
                            const fw_config *cfg);

/* fw_report_diff_text - service-tag changes for a person */
void fw_report_diff_text(FILE *out, const fw_stdiff *d, const fw_servicetags *old_st,
                         const fw_servicetags *new_st, const char *filter);

/* fw_report_diff_json - service-tag changes as JSON */
cJSON *fw_report_diff_json(const fw_stdiff *d, const fw_servicetags *old_st,
                           const fw_servicetags *new_st, const char *filter);

/* fw_report_lint_text - lint findings for a person ("file:line: warning [code]: ...") */
void fw_report_lint_text(FILE *out, const fw_lint *l, const fw_config *cfg);

/* fw_report_lint_json - lint findings as JSON */
cJSON *fw_report_lint_json(const fw_lint *l, const fw_config *cfg);

/* fw_report_prefixes_json - a JSON array of prefix strings */
cJSON *fw_report_prefixes_json(const fw_prefix *ps, size_t n);

#endif
