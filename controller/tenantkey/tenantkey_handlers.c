/*
 * ops_tenantkey.c - front operations of the legacy tenant encryption keys (BYOK, seed 003):
 * enable, generate (PKCS#12), upload (.pfx or .byok), activate, list, the key-exchange key,
 * lock and unlock, and the environment operations. RSA and PKCS#12 work runs in the job pool.
 * Support for this feature ended on January 6, 2026; every reply carries the notice.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "envelope.h"
#include "log.h"
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
        /* a lock locks the region of the Active key: the text names that region (the one asked
         * for, else the region of the tenant's Active key, else its first region); each region
         * with an Active key carries its own */
        char text[256];
        const char *region = cmk_json_str(b, "region", NULL);
        cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(*out, "regions")) {
            if (!cJSON_GetObjectItem(it, "active_key"))
                continue;
            tenantkey_lock_confirmation_text(cmk_json_str(b, "tenant", ""), cmk_json_str(it, "region", ""), text,
                                             sizeof text);
            cJSON_AddStringToObject(it, "lock_confirmation_text", text);
            if (!region)
                region = cmk_json_str(it, "region", NULL);
        }
        if (!region)
            region = cmk_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(*out, "regions"), 0), "region", NULL);
        if (region) {
            tenantkey_lock_confirmation_text(cmk_json_str(b, "tenant", ""), region, text, sizeof text);
            cJSON_AddStringToObject(*out, "lock_confirmation_text", text);
        }
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

/* release_done - a fire-and-forget env.release's reply */
static void release_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    (void)arg;
    (void)reply;
    (void)err;
}

/* byok_rewrap - the environment's data key under the key its BYOK state names: the tenant key
 * while self-managed or locked, the Microsoft-managed key otherwise */
static void byok_rewrap(ctl *c, const char *env)
{
    tenantkey_env_state ts;
    keyring_kek kek = { .kind = "tenant" };
    cmk_err err = CMK_ERR_INIT;
    char kind[16] = "", desc[300] = "";
    int n = 0, rc;
    if (tenantkey_env_byok_state(c->tenantkeys, "system", env, &ts, &err) < 0)
        return;
    if (ts.mode == TENANTKEY_ENV_SELF_MANAGED) {
        kek.vault = ts.tenant;
        kek.key = ts.key;
        kek.version = ts.key_fp;
        if ((rc = keyring_ensure(c->keyring, env, "data", NULL, NULL, &err)) == 0)
            rc = keyring_rewrap(c->keyring, env, "data", &kek, &n, &err);
    } else if (ts.mode != TENANTKEY_ENV_LOCKED && keyring_kek_kind(c->keyring, env, "data", kind, sizeof kind, desc,
                                                                   sizeof desc, NULL) == 0 &&
               strcmp(kind, "tenant") == 0)
        rc = keyring_rewrap(c->keyring, env, "data", NULL, &n, &err);
    else
        return;
    audit_append(c->audit, "system", "dek.rewrap", env, rc, rc < 0 ? err.msg
                                                                  : ts.mode == TENANTKEY_ENV_SELF_MANAGED ? "under the tenant key"
                                                                                                          : "under the Microsoft-managed key",
                 NULL, NULL);
    cmk_log(rc < 0 ? CMK_LOG_WARN : CMK_LOG_INFO, env, NULL, "dek.rewrapped", "kek=%s rc=%d error=\"%s\"",
            ts.mode == TENANTKEY_ENV_SELF_MANAGED ? "tenant" : "mmk", rc, rc < 0 ? err.msg : "");
}

/* ctl_tenantkey_event - the tenant key service's events, made real in the keyring and workers */
void ctl_tenantkey_event(const tenantkey_event *ev, void *arg)
{
    ctl *c = arg;
    if (!ev->env)
        return;
    if (strcmp(ev->kind, "env.encryption") == 0)
        byok_rewrap(c, ev->env);
    else if (strcmp(ev->kind, "env.locked") == 0) {
        /* exactly like a CMK lock (pol_lock_env): dek.get is refused (the environment is Locked)
         * and the worker serving it wipes its keys */
        dir_env where;
        cJSON *b;
        char worker[CMK_WORKER_NAME_MAX];
        if (directory_env_placement(c->dir, ev->env, &where, NULL) < 0)
            return;
        ctl_worker_of(&where, worker, sizeof worker);
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "env", ev->env);
        cJSON_AddStringToObject(b, "reason", "Environment disabled");
        broker_forward(c->broker, worker, CMK_T_ENV_RELEASE, b, 5000, release_done, NULL, NULL);
        cJSON_Delete(b);
    } else if (strcmp(ev->kind, "env.deleted") == 0)
        keyring_forget_env(c->keyring, ev->env, NULL);
}
