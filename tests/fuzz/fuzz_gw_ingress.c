/*
 * fuzz_gw_ingress.c - fuzz target for HTTP request paths at the gateway: gw_ingress_parse_path
 * (gateway/gw_ingress.c), which decides whether a URL is a trigger URL and names its
 * environment and flow, and gw_ingress_error_body, which answers a refused request.
 *
 * Input: a URL path. Contract: CMK_ENOENT, or success with non-empty env and flow segments of
 * [A-Za-z0-9._-] that rebuild exactly the path given; small output buffers never overflow;
 * every error body is a JSON object {"error": {"code", "message"}} holding the message.
 */
#include "fuzz.h"

#include "gateway/gw_ingress.h"

static const char tail[] = "/triggers/manual/paths/invoke";

/* check_segment - a path segment the parser accepted */
static void check_segment(const char *s)
{
    FUZZ_REQUIRE(s[0] && strcmp(s, ".") && strcmp(s, ".."), "empty or dot segment '%s'", s);
    for (const char *p = s; *p; p++)
        FUZZ_REQUIRE((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                         (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-',
                     "segment '%s' has a bad character", s);
}

/* LLVMFuzzerTestOneInput - parse with roomy and tight buffers; answer it */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_text(data, size);
    char env[128], flow[128], small_env[4], small_flow[4], *back, *body;
    int rc = gw_ingress_parse_path(path, env, sizeof env, flow, sizeof flow);
    cJSON *j;

    FUZZ_REQUIRE(rc == 0 || rc == CMK_ENOENT, "gw_ingress_parse_path returned %d", rc);
    if (rc == 0) {
        size_t n = strlen(env) + strlen(flow) + sizeof tail + 16;
        check_segment(env);
        check_segment(flow);
        back = malloc(n);
        FUZZ_REQUIRE(back != NULL, "out of memory");
        snprintf(back, n, "/workflows/%s/%s%s", env, flow, tail);
        FUZZ_REQUIRE(strcmp(back, path) == 0, "'%s' parsed as '%s'", path, back);
        free(back);
    }
    rc = gw_ingress_parse_path(path, small_env, sizeof small_env, small_flow, sizeof small_flow);
    FUZZ_REQUIRE(rc == 0 || rc == CMK_ENOENT, "gw_ingress_parse_path (small) returned %d", rc);
    if (rc == 0)
        FUZZ_REQUIRE(strlen(small_env) < sizeof small_env && strlen(small_flow) < sizeof small_flow,
                     "segment overflowed");
    /* the answer to a refused path carries the text as its message, whatever it holds */
    body = gw_ingress_error_body(404, path);
    FUZZ_REQUIRE(body != NULL, "no error body");
    j = cJSON_Parse(body);
    FUZZ_REQUIRE(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "error")) &&
                     cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(j, "error"), "message")),
                 "error body is not {\"error\": {..., \"message\"}}: %s", body);
    cJSON_Delete(j);
    free(body);
    free(path);
    return 0;
}
