/*
 * fuzz_json_request.c - fuzz target for JSON request bodies: the body frame parsed as
 * cmk_msg_decode parses it (cJSON_ParseWithLength, must be an object), then validated by a
 * representative operation: the gateway's `http.request` (gw_route_plan, gateway/gw_route.c),
 * which every outbound HTTP action of every worker goes through.
 *
 * Input: a request body. Contract: a body that is not a JSON object is refused before any
 * operation sees it; gw_route_plan gives a job, or fails with a code and a message that names
 * http.request (or the service-tag region it could not find); a job has a method, an absolute
 * http(s) URI, a headers object, a service-tag entry, a source address and a timeout in range.
 */
#include "fuzz.h"

#include <strings.h>

#include "gateway/gw_egress.h"
#include "gateway/gw_route.h"
#include "gateway/gw_tags.h"

static gw_tags *tags; /* configs/service-tags.json, loaded once */

/* LLVMFuzzerTestOneInput - parse the body, plan the request, check the job */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *body;
    gw_job *job = NULL;
    cmk_err err = CMK_ERR_INIT;
    int rc;

    if (!tags) {
        size_t len;
        char *t = fuzz_read_file("configs/service-tags.json", &len);
        tags = gw_tags_parse(t, len, "service-tags.json", &err);
        FUZZ_REQUIRE(tags != NULL, "configs/service-tags.json: %s", err.msg);
        free(t);
        cmk_err_clear(&err);
    }
    body = cJSON_ParseWithLength((const char *)data, size);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return 0;
    }
    rc = gw_route_plan(tags, body, 30000, &job, &err);
    fuzz_check_rc(rc, &err, "gw_route_plan");
    if (rc < 0) {
        FUZZ_REQUIRE(job == NULL, "a refused request gave a job");
        FUZZ_REQUIRE(rc == CMK_EINVAL || rc == CMK_ENOENT || rc == CMK_ELIMIT || rc == CMK_ENOMEM,
                     "http.request refused with %s", cmk_code_name(rc));
    } else {
        FUZZ_REQUIRE(job && job->method && job->method[0] && job->uri && job->headers,
                     "job without method, uri or headers");
        FUZZ_REQUIRE(strncasecmp(job->uri, "http://", 7) == 0 || strncasecmp(job->uri, "https://", 8) == 0,
                     "job uri '%s' is not absolute http(s)", job->uri);
        FUZZ_REQUIRE(cJSON_IsObject(job->headers), "headers not an object");
        FUZZ_REQUIRE(job->tag[0] && job->source_ip[0], "no service tag or source address");
        FUZZ_REQUIRE(job->timeout_ms >= 1 && job->timeout_ms <= GW_MAX_TIMEOUT_MS,
                     "timeout %lld out of range", (long long)job->timeout_ms);
        FUZZ_REQUIRE(job->env[0], "job without env");
    }
    gw_job_destroy(&job);
    cJSON_Delete(body);
    return 0;
}
