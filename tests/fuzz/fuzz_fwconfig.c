/*
 * fuzz_fwconfig.c - fuzz target for customer firewall configs: fw_config_parse
 * (firewall/fw_config.c).
 *
 * Input: config text. It is parsed twice: resolved against configs/service-tags.json, and
 * unresolved (as `lint` does without tags). Contract: a parse gives a config or NULL with
 * CMK_EINVAL and a message naming the line; a config's rules have names, a source set, sane
 * port ranges and lines within the text.
 */
#include "fuzz.h"

#include "firewall/fw_config.h"
#include "firewall/fw_servicetags.h"

static fw_servicetags *tags; /* configs/service-tags.json, loaded once */

/* check_config - what every accepted config promises */
static void check_config(const fw_config *cfg, int lines)
{
    size_t n = fw_config_rule_count(cfg);
    FUZZ_REQUIRE(fw_config_name(cfg) && fw_config_name(cfg)[0], "config without a name");
    FUZZ_REQUIRE(fw_action_name(fw_config_default(cfg)) != NULL, "default action unnamed");
    for (size_t i = 0; i < n; i++) {
        const fw_rule *r = fw_config_rule(cfg, i);
        FUZZ_REQUIRE(r && r->name && r->name[0] && r->set, "rule %zu incomplete", i);
        FUZZ_REQUIRE(r->line >= 1 && r->line <= lines, "rule %s at line %d of %d", r->name,
                     r->line, lines);
        FUZZ_REQUIRE(r->any_source || r->n_sources >= 1, "rule %s has no source", r->name);
        for (size_t k = 0; !r->any_port && k < r->n_ports; k++) {
            FUZZ_REQUIRE(r->ports[k].lo >= 1 && r->ports[k].lo <= r->ports[k].hi,
                         "rule %s: port range %u-%u", r->name, r->ports[k].lo, r->ports[k].hi);
            FUZZ_REQUIRE(fw_rule_matches_port(r, r->ports[k].lo), "rule %s misses its port",
                         r->name);
        }
        for (size_t j = 0; j < i; j++)
            FUZZ_REQUIRE(strcmp(fw_config_rule(cfg, j)->name, r->name) != 0,
                         "rule name %s twice", r->name);
    }
    for (size_t w = 0; w < fw_config_warning_count(cfg); w++)
        FUZZ_REQUIRE(fw_config_warning_at(cfg, w)->msg != NULL, "warning without a message");
}

/* LLVMFuzzerTestOneInput - parse with and without tags */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    int lines = 1;

    if (!tags) {
        cmk_err terr = CMK_ERR_INIT;
        size_t len;
        char *t = fuzz_read_file("configs/service-tags.json", &len);
        tags = fw_servicetags_parse(t, len, "service-tags.json", &terr);
        FUZZ_REQUIRE(tags != NULL, "configs/service-tags.json: %s", terr.msg);
        free(t);
    }
    text = fuzz_text(data, size);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    for (int pass = 0; pass < 2; pass++) {
        cmk_err err = CMK_ERR_INIT;
        fw_config *cfg = fw_config_parse(text, size, "fuzz.json", pass ? NULL : tags,
                                         pass ? FW_CONFIG_UNRESOLVED_OK : 0, &err);
        fuzz_check_ptr(cfg, &err, "fw_config_parse");
        if (!cfg) {
            FUZZ_REQUIRE(err.code == CMK_EINVAL || err.code == CMK_ENOMEM,
                         "a bad config gave %s, not EINVAL", cmk_code_name(err.code));
            FUZZ_REQUIRE(strncmp(err.msg, "fuzz.json", 9) == 0,
                         "the message does not name the file: %s", err.msg);
            continue;
        }
        check_config(cfg, lines);
        fw_config_destroy(&cfg);
    }
    free(text);
    return 0;
}
