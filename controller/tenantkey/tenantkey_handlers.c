/*
 * ops_tenantkey.c - front operations of the legacy tenant encryption keys (BYOK, seed 003):
 * enable, generate (PKCS#12), upload (.pfx or .byok), activate, list, the key-exchange key,
 * lock and unlock, and the environment operations. RSA and PKCS#12 work runs in the job pool.
 * Support for this feature ended on January 6, 2026; every reply carries the notice.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "envelope.h"
#include "tenantkey.h"
#include "util.h"

/* notice - the deprecation notice on every reply */
static void notice(cJSON *out)
{
    cJSON_AddStringToObject(out, "deprecation", tenantkey_deprecation_notice());
}

/* key_out - a key info as JSON with the notice */
static cJSON *key_out(const tenantkey_key_info *k)
{
    cJSON *o = tenantkey_key_info_to_json(k);
    notice(o);
    return o;
}

/* env_out - an environment's BYOK state as JSON with the notice */
static cJSON *env_out(const tenantkey_env_state *s)
{
    cJSON *o = tenantkey_env_state_to_json(s);
    notice(o);
    return o;
}

/* key_bytes - body.data (base64) and its format (by body.format) */
static int key_bytes(const cJSON *b, uint8_t **data, size_t *len, tenantkey_format *fmt, cmk_err *err)
{
    const char *text = ctl_need(b, "data", err);
    int rc;
    if (!text)
        return CMK_EINVAL;
    if ((rc = tenantkey_format_parse(cmk_json_str(b, "format", "pfx"), fmt, err)) < 0)
        return rc;
    return cmk_b64_decode(text, data, len, err);
}

static int do_enable(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    int rc = tenantkey_enable_byok(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), err);
    if (rc < 0)
        return rc;
    return tenantkey_status(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), out, err);
}

static int do_generate(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_key_info k;
    uint8_t *pfx = NULL;
    size_t len = 0;
    char *text;
    int rc = tenantkey_generate(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), cmk_json_str(b, "region", ""),
                                cmk_json_str(b, "name", ""), cmk_json_str(b, "password", NULL), &pfx, &len, &k, err);
    if (rc < 0)
        return rc;
    *out = key_out(&k);
    text = cmk_b64_encode(pfx, len);
    cJSON_AddStringToObject(*out, "pfx", text ? text : "");
    free(text);
    cmk_wipe(pfx, len);
    free(pfx);
    return 0;
}

static int do_upload(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_key_info k;
    tenantkey_format fmt;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = key_bytes(b, &data, &len, &fmt, err);
    if (rc == 0)
        rc = tenantkey_upload(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), cmk_json_str(b, "region", ""),
                              cmk_json_str(b, "name", ""), data, len, cmk_json_str(b, "password", NULL), fmt, &k, err);
    if (data) {
        cmk_wipe(data, len);
        free(data);
    }
    if (rc < 0)
        return rc;
    *out = key_out(&k);
    return 0;
}

static int do_activate(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_key_info k;
    int rc = tenantkey_activate(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), cmk_json_str(b, "name", ""), &k, err);
    if (rc < 0)
        return rc;
    *out = key_out(&k);
    return 0;
}

static int do_list(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_key_info *list = NULL;
    size_t n = 0;
    cJSON *items;
    int rc = tenantkey_list(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), &list, &n, err);
    if (rc < 0)
        return rc;
    *out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(*out, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, tenantkey_key_info_to_json(&list[i]));
    tenantkey_key_infos_free(&list);
    notice(*out);
    return 0;
}

static int do_kek(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    char *pem = NULL, kid[TENANTKEY_KID_MAX];
    int rc = tenantkey_kek_public_pem(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), cmk_json_str(b, "region", ""), &pem,
                                      kid, err);
    if (rc < 0)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "kid", kid);
    cJSON_AddStringToObject(*out, "public_pem", pem);
    free(pem);
    return 0;
}

static int do_status(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    int rc = tenantkey_status(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), out, err);
    if (rc == 0) {
        char text[256];
        tenantkey_lock_confirmation_text(cmk_json_str(b, "tenant", ""), cmk_json_str(b, "region", "unitedstates"), text,
                                         sizeof text);
        cJSON_AddStringToObject(*out, "lock_confirmation_text", text);
        notice(*out);
    }
    return rc;
}

static int do_lock(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_format fmt;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = key_bytes(b, &data, &len, &fmt, err);
    if (rc == 0)
        rc = tenantkey_lock(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), data, len, cmk_json_str(b, "password", NULL),
                            fmt, cmk_json_str(b, "confirmation", ""), err);
    if (data) {
        cmk_wipe(data, len);
        free(data);
    }
    if (rc < 0)
        return rc;
    return tenantkey_status(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), out, err);
}

static int do_unlock_key(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_key_info k;
    tenantkey_format fmt;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = key_bytes(b, &data, &len, &fmt, err);
    if (rc == 0)
        rc = tenantkey_unlock_key(c->tenantkeys, who, cmk_json_str(b, "tenant", ""), data, len,
                                  cmk_json_str(b, "password", NULL), fmt, &k, err);
    if (data) {
        cmk_wipe(data, len);
        free(data);
    }
    if (rc < 0)
        return rc;
    *out = key_out(&k);
    return 0;
}

/* env_ref - the environment id of body.env (by id or name) */
static int env_ref(ctl *c, const cJSON *b, char id[64], cmk_err *err)
{
    cJSON *env;
    int rc = directory_env_get(c->dir, cmk_json_str(b, "env", ""), &env, err);
    if (rc == 0)
        cmk_strlcpy(id, cmk_json_str(env, "id", ""), 64);
    cJSON_Delete(env);
    return rc;
}

static int do_env_op(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    tenantkey_env_state s;
    char id[64];
    const char *op = cmk_json_str(b, "op", "");
    int rc = env_ref(c, b, id, err);
    if (rc < 0)
        return rc;
    if (strcmp(op, "unlock") == 0)
        rc = tenantkey_unlock_env(c->tenantkeys, who, id, &s, err);
    else if (strcmp(op, "apply") == 0)
        rc = tenantkey_apply_to_env(c->tenantkeys, who, id, cmk_json_bool(b, "confirm", 0), &s, err);
    else if (strcmp(op, "return") == 0)
        rc = tenantkey_return_to_microsoft(c->tenantkeys, who, id, cmk_json_str(b, "typed_name", NULL), &s, err);
    else if (strcmp(op, "reset") == 0)
        rc = tenantkey_env_reset(c->tenantkeys, who, id, &s, err);
    else
        rc = tenantkey_env_byok_state(c->tenantkeys, who, id, &s, err);
    if (rc < 0)
        return rc;
    *out = env_out(&s);
    return 0;
}

#define TK_OP(name, fn)                                                                            \
    int name(void *ctx, const cmk_msg *req, cmk_err *err) { return ctl_vault_submit(ctx, req, fn, err); }

TK_OP(op_tenant_enable_byok, do_enable)
TK_OP(op_tenantkey_generate, do_generate)
TK_OP(op_tenantkey_upload, do_upload)
TK_OP(op_tenantkey_activate, do_activate)
TK_OP(op_tenantkey_list, do_list)
TK_OP(op_tenantkey_kek, do_kek)
TK_OP(op_tenantkey_status, do_status)
TK_OP(op_tenant_lock, do_lock)
TK_OP(op_tenant_unlock_key, do_unlock_key)
TK_OP(op_env_byok, do_env_op)

/* ctl_mmk_only_features - the features that stay on the Microsoft-managed key (seed 003) */
cJSON *ctl_mmk_only_features(void)
{
    size_t n = 0;
    const char *const *f = tenantkey_mmk_only_features(&n);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(f[i]));
    return arr;
}
