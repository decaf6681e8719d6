/*
 * fuzz_config.c - fuzz target for daemon config files: cmk_config_load_json (common/config.c)
 * after the JSON text is parsed, as cmk_config_load_file does.
 *
 * Input: a config file's text. Contract: text that is not JSON is refused by the caller
 * (nothing to check); a JSON document is applied, or refused with CMK_EINVAL and a message
 * that starts with the file's name; an applied config prints as JSON that, applied to fresh
 * defaults, gives the same config (a round trip).
 */
#include "fuzz.h"

#include "common/config.h"

/* LLVMFuzzerTestOneInput - parse, apply, print, apply again, compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *json = cJSON_ParseWithLength((const char *)data, size), *out1, *out2;
    cmk_config *cfg, *cfg2;
    cmk_err err = CMK_ERR_INIT;
    int rc;

    if (!json)
        return 0;
    cfg = cmk_config_new("/tmp/cmk-fuzz-run", &err);
    FUZZ_REQUIRE(cfg != NULL, "cmk_config_new: %s", err.msg);
    rc = cmk_config_load_json(cfg, json, "fuzz.json", &err);
    fuzz_check_rc(rc, &err, "cmk_config_load_json");
    if (rc < 0) {
        FUZZ_REQUIRE(rc == CMK_EINVAL, "a bad config gave %s, not EINVAL", cmk_code_name(rc));
        FUZZ_REQUIRE(strncmp(err.msg, "fuzz.json", 9) == 0, "the message does not name the file: %s",
                     err.msg);
    } else {
        out1 = cmk_config_to_json(cfg);
        FUZZ_REQUIRE(out1 != NULL, "config does not print");
        cfg2 = cmk_config_new("/tmp/cmk-fuzz-run", &err);
        FUZZ_REQUIRE(cfg2 != NULL, "cmk_config_new: %s", err.msg);
        rc = cmk_config_load_json(cfg2, out1, "printed", &err);
        FUZZ_REQUIRE(rc == 0, "a printed config does not load again: %s", err.msg);
        out2 = cmk_config_to_json(cfg2);
        FUZZ_REQUIRE(out2 && cJSON_Compare(out1, out2, 1), "config changed on a round trip");
        cJSON_Delete(out1);
        cJSON_Delete(out2);
        cmk_config_destroy(&cfg2);
    }
    cmk_config_destroy(&cfg);
    cJSON_Delete(json);
    return 0;
}
