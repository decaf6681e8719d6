/*
 * fuzz_servicetags.c - fuzz target for Azure service-tag files: fw_servicetags_parse
 * (firewall/fw_servicetags.c) and the gateway's reading of the same format, gw_tags_parse
 * (gateway/gw_tags.c).
 *
 * Input: a service-tag file's text. Contract: parse succeeds or fails with CMK_EINVAL and a
 * message; every entry found by index is found by name; a file differs from itself in
 * nothing.
 */
#include "fuzz.h"

#include "firewall/fw_servicetags.h"
#include "gateway/gw_tags.h"

/* LLVMFuzzerTestOneInput - parse with both readers, check */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    cmk_err err = CMK_ERR_INIT, gerr = CMK_ERR_INIT;
    fw_servicetags *st = fw_servicetags_parse(text, size, "fuzz.json", &err);
    gw_tags *gt = gw_tags_parse(text, size, "fuzz.json", &gerr);

    fuzz_check_ptr(st, &err, "fw_servicetags_parse");
    fuzz_check_ptr(gt, &gerr, "gw_tags_parse");
    if (st) {
        fw_stdiff *d = NULL;
        size_t n = fw_servicetags_count(st);
        int rc;
        for (size_t i = 0; i < n; i++) {
            const fw_servicetag *t = fw_servicetags_at(st, i);
            FUZZ_REQUIRE(t != NULL, "entry %zu missing", i);
            FUZZ_REQUIRE(fw_servicetags_find(st, t->name) != NULL, "entry %s not found by name",
                         t->name);
        }
        rc = fw_servicetags_diff(st, st, NULL, &d, &err);
        fuzz_check_rc(rc, &err, "fw_servicetags_diff");
        FUZZ_REQUIRE(rc < 0 || fw_stdiff_count(d) == 0, "a file differs from itself");
        fw_stdiff_destroy(&d);
        fw_servicetags_destroy(&st);
    }
    gw_tags_destroy(&gt);
    free(text);
    return 0;
}
