/*
 * ops_key.c - front operations on vault keys: create, import (PEM/DER/PKCS#12 and .byok),
 * show, list, versions, rotate, update, delete, recover, purge, backup, restore, wrap, unwrap,
 * rotation policies. Binary values travel as base64 in the JSON bodies.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "op_fields.h"
#include "envelope.h"
#include "util.h"
#include "vault.h"

/* time_of - "+90d" (from the clock's now), RFC 3339 ("2027-01-01T00:00:00Z") or epoch ms */
static int time_of(ctl *c, const cJSON *b, const char *name, int64_t *ms, int *set, cmk_err *err)
{
    const cJSON *it = cJSON_GetObjectItem(b, name);
    *set = 0;
    if (!it || cJSON_IsNull(it))
        return 0;
    *set = 1;
    if (cJSON_IsNumber(it)) {
        *ms = (int64_t)it->valuedouble;
        return 0;
    }
    if (cJSON_IsString(it) && it->valuestring[0] == '+') {
        int64_t d;
        if (cmk_duration_parse(it->valuestring + 1, &d, err) < 0)
            return cmk_err_prefix(err, "%s: ", name);
        *ms = cmk_clock_now(c->clock) + d;
        return 0;
    }
    if (cJSON_IsString(it)) {
        struct tm tm = { 0 };
        const char *end = strptime(it->valuestring, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
            end = strptime(it->valuestring, "%Y-%m-%d", &tm);
        if (end && (*end == '\0' || *end == 'Z')) {
            *ms = (int64_t)timegm(&tm) * 1000;
            return 0;
        }
    }
    return cmk_err_set(err, CMK_EINVAL, "%s: give a date like 2027-01-31T00:00:00Z or a duration from now like +90d", name);
}

/* key_params - kty, size, ops, enabled, nbf, exp, tags from a body */
static int key_params(ctl *c, const cJSON *b, vault_key_params *p, cmk_err *err)
{
    int set, rc;
    int64_t bits = 0;
    memset(p, 0, sizeof *p);
    if (cmk_json_str(b, "kty", NULL) && (rc = vault_kty_parse(cmk_json_str(b, "kty", ""), &p->kty, err)) < 0)
        return rc;
    if ((rc = cmk_op_get_int(CMK_T_KEY_CREATE, b, "size", &bits, err)) < 0) /* 2048, 3072 or 4096 */
        return rc;
    p->bits = (int)bits;
    if (cmk_json_str(b, "ops", NULL) && (rc = vault_keyops_parse(cmk_json_str(b, "ops", ""), &p->key_ops, err)) < 0)
        return rc;
    p->enabled = ctl_flag_of(b, "enabled");
    if ((rc = time_of(c, b, "nbf", &p->nbf_ms, &set, err)) < 0 || (rc = time_of(c, b, "exp", &p->exp_ms, &set, err)) < 0)
        return rc;
    p->tags = cJSON_GetObjectItem(b, "tags");
    return 0;
}

/* key_out - info to JSON and clear it */
static int key_out(vault_key_info *k, cJSON **out)
{
    *out = vault_key_info_to_json(k);
    vault_key_info_clear(k);
    return 0;
}

static int do_key_create(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_params p;
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((rc = key_params(c, b, &p, err)) < 0 || (rc = vault_key_create(c->vault, who, v, n, &p, &k, err)) < 0)
        return rc;
    return key_out(&k, out);
}

static int do_key_import(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_params p;
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err), *data = ctl_need(b, "data", err);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;
    if (!v || !n || !data)
        return CMK_EINVAL;
    if ((rc = key_params(c, b, &p, err)) < 0 || (rc = cmk_b64_decode(data, &bytes, &len, err)) < 0)
        return rc;
    rc = vault_key_import(c->vault, who, v, n, bytes, len, cmk_json_str(b, "password", NULL), &p, &k, err);
    cmk_wipe(bytes, len);
    free(bytes);
    return rc < 0 ? rc : key_out(&k, out);
}

static int do_key_import_byok(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_params p;
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err), *byok = ctl_need(b, "byok", err);
    int rc;
    if (!v || !n || !byok)
        return CMK_EINVAL;
    if ((rc = key_params(c, b, &p, err)) < 0 ||
        (rc = vault_key_import_byok(c->vault, who, v, n, byok, strlen(byok), &p, &k, err)) < 0)
        return rc;
    return key_out(&k, out);
}

static int do_key_show(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((rc = vault_key_get(c->vault, who, v, n, cmk_json_str(b, "version", NULL), &k, err)) < 0)
        return rc;
    key_out(&k, out);
    if (cmk_json_bool(b, "pem", 0)) {
        char *pem = NULL;
        if (vault_key_public_pem(c->vault, who, v, n, cmk_json_str(b, "version", NULL), &pem, err) == 0) {
            cJSON_AddStringToObject(*out, "public_pem", pem);
            free(pem);
        }
    }
    return 0;
}

/* key_list_out - an array of infos as {items: [...]} */
static void key_list_out(vault_key_info *list, size_t n, cJSON **out)
{
    cJSON *items;
    *out = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(*out, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, vault_key_info_to_json(&list[i]));
    vault_key_infos_free(&list, n);
}

static int do_key_list(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_info *list;
    size_t n;
    const char *v = ctl_need(b, "vault", err);
    int rc;
    if (!v)
        return CMK_EINVAL;
    if ((rc = vault_key_list(c->vault, who, v, cmk_json_bool(b, "deleted", 0) ? VAULT_LIST_DELETED : VAULT_LIST_ACTIVE,
                             &list, &n, err)) < 0)
        return rc;
    key_list_out(list, n, out);
    return 0;
}

static int do_key_versions(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_info *list;
    size_t n;
    const char *v = ctl_need(b, "vault", err), *name = ctl_need(b, "name", err);
    int rc;
    if (!v || !name)
        return CMK_EINVAL;
    if ((rc = vault_key_list_versions(c->vault, who, v, name, &list, &n, err)) < 0)
        return rc;
    key_list_out(list, n, out);
    return 0;
}

static int do_key_rotate(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((rc = vault_key_rotate(c->vault, who, v, n, &k, err)) < 0)
        return rc;
    return key_out(&k, out);
}

static int do_key_update(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    vault_key_update u = { 0 };
    vault_key_info k;
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    u.enabled = ctl_flag_of(b, "enabled");
    if ((rc = time_of(c, b, "nbf", &u.nbf_ms, &u.set_nbf, err)) < 0 || (rc = time_of(c, b, "exp", &u.exp_ms, &u.set_exp, err)) < 0)
        return rc;
    if (cmk_json_str(b, "ops", NULL) && (rc = vault_keyops_parse(cmk_json_str(b, "ops", ""), &u.key_ops, err)) < 0)
        return rc;
    u.tags = cJSON_GetObjectItem(b, "tags");
    if ((rc = vault_key_update_attrs(c->vault, who, v, n, cmk_json_str(b, "version", NULL), &u, &k, err)) < 0)
        return rc;
    return key_out(&k, out);
}

/* simple_key - delete, recover, purge */
static int simple_key(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err,
                      int (*fn)(vault_svc *, const char *, const char *, const char *, cmk_err *), const char *done)
{
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((rc = fn(c->vault, who, v, n, err)) < 0)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "vault", v);
    cJSON_AddStringToObject(*out, "name", n);
    cJSON_AddBoolToObject(*out, done, 1);
    return 0;
}

static int do_key_delete(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_key(c, w, b, o, e, vault_key_delete, "deleted"); }
static int do_key_recover(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_key(c, w, b, o, e, vault_key_recover, "recovered"); }
static int do_key_purge(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return simple_key(c, w, b, o, e, vault_key_purge, "purged"); }

static int do_key_backup(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    uint8_t *blob;
    size_t len;
    char *text;
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((rc = vault_key_backup(c->vault, who, v, n, &blob, &len, err)) < 0)
        return rc;
    text = cmk_b64_encode(blob, len);
    free(blob);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "vault", v);
    cJSON_AddStringToObject(*out, "name", n);
    cJSON_AddStringToObject(*out, "backup", text ? text : "");
    free(text);
    return 0;
}

static int do_key_restore(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *v = ctl_need(b, "vault", err), *data = ctl_need(b, "backup", err);
    vault_key_info k;
    uint8_t *blob;
    size_t len;
    int rc;
    if (!v || !data)
        return CMK_EINVAL;
    if ((rc = cmk_b64_decode(data, &blob, &len, err)) < 0)
        return rc;
    rc = vault_key_restore(c->vault, who, v, blob, len, &k, err);
    free(blob);
    return rc < 0 ? rc : key_out(&k, out);
}

/* wrap_common - wrap or unwrap {vault, name, version?, alg?, value} */
static int wrap_common(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err, int wrap)
{
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err), *value = ctl_need(b, "value", err);
    vault_alg alg = VAULT_ALG_RSA_OAEP_256;
    uint8_t *in, *res = NULL;
    size_t in_len, res_len = 0;
    char kid[VAULT_KID_MAX] = "", *text;
    int rc;

    if (!v || !n || !value)
        return CMK_EINVAL;
    if (cmk_json_str(b, "alg", NULL) && (rc = vault_alg_parse(cmk_json_str(b, "alg", ""), &alg, err)) < 0)
        return rc;
    if ((rc = cmk_b64_decode(value, &in, &in_len, err)) < 0)
        return rc;
    rc = wrap ? vault_key_wrap(c->vault, who, v, n, cmk_json_str(b, "version", NULL), alg, in, in_len, &res, &res_len, kid, err)
              : vault_key_unwrap(c->vault, who, v, n, cmk_json_str(b, "version", NULL), alg, in, in_len, &res, &res_len, kid, err);
    cmk_wipe(in, in_len);
    free(in);
    if (rc < 0)
        return rc;
    text = cmk_b64_encode(res, res_len);
    if (wrap)
        free(res);
    else
        vault_secret_free(&res, res_len);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "kid", kid);
    cJSON_AddStringToObject(*out, "alg", vault_alg_name(alg));
    cJSON_AddStringToObject(*out, "value", text ? text : "");
    if (text) {
        cmk_wipe(text, strlen(text));
        free(text);
    }
    return 0;
}

static int do_key_wrap(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return wrap_common(c, w, b, o, e, 1); }
static int do_key_unwrap(ctl *c, const char *w, const cJSON *b, cJSON **o, cmk_err *e) { return wrap_common(c, w, b, o, e, 0); }

static int do_key_policy_set(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    vault_rotation_policy p = { 0 };
    const char *after = cmk_json_str(b, "rotate_after", NULL), *before = cmk_json_str(b, "rotate_before_expiry", NULL);
    const char *expiry = cmk_json_str(b, "expires_after", NULL);
    int rc;
    if (!v || !n)
        return CMK_EINVAL;
    if ((after && (rc = vault_iso_duration_parse(after, &p.rotate_after_create_ms, err)) < 0) ||
        (before && (rc = vault_iso_duration_parse(before, &p.rotate_before_expiry_ms, err)) < 0) ||
        (expiry && (rc = vault_iso_duration_parse(expiry, &p.expiry_ms, err)) < 0))
        return rc;
    if ((rc = vault_key_policy_set(c->vault, who, v, n, &p, err)) < 0)
        return rc;
    return ctl_key_policy_json(c, who, v, n, out, err);
}

/* ctl_key_policy_json - a key's rotation policy as JSON */
int ctl_key_policy_json(ctl *c, const char *who, const char *v, const char *n, cJSON **out, cmk_err *err)
{
    vault_rotation_policy p;
    int64_t next = 0;
    char buf[64];
    int rc = vault_key_policy_get(c->vault, who, v, n, &p, &next, err);
    if (rc < 0)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "vault", v);
    cJSON_AddStringToObject(*out, "name", n);
    if (p.rotate_after_create_ms)
        cJSON_AddStringToObject(*out, "rotate_after", vault_iso_duration_format(p.rotate_after_create_ms, buf, sizeof buf));
    if (p.rotate_before_expiry_ms)
        cJSON_AddStringToObject(*out, "rotate_before_expiry", vault_iso_duration_format(p.rotate_before_expiry_ms, buf, sizeof buf));
    if (p.expiry_ms)
        cJSON_AddStringToObject(*out, "expires_after", vault_iso_duration_format(p.expiry_ms, buf, sizeof buf));
    if (next)
        cJSON_AddStringToObject(*out, "next_rotation", cmk_time_format(next, buf, sizeof buf));
    else
        cJSON_AddNullToObject(*out, "next_rotation");
    return 0;
}

static int do_key_policy_show(ctl *c, const char *who, const cJSON *b, cJSON **out, cmk_err *err)
{
    const char *v = ctl_need(b, "vault", err), *n = ctl_need(b, "name", err);
    if (!v || !n)
        return CMK_EINVAL;
    return ctl_key_policy_json(c, who, v, n, out, err);
}

#define KEY_OP(name, fn)                                                                           \
    int name(void *ctx, const cmk_msg *req, cmk_err *err) { return ctl_vault_submit(ctx, req, fn, err); }

KEY_OP(op_key_create, do_key_create)
KEY_OP(op_key_import, do_key_import)
KEY_OP(op_key_import_byok, do_key_import_byok)
KEY_OP(op_key_show, do_key_show)
KEY_OP(op_key_list, do_key_list)
KEY_OP(op_key_versions, do_key_versions)
KEY_OP(op_key_rotate, do_key_rotate)
KEY_OP(op_key_update, do_key_update)
KEY_OP(op_key_delete, do_key_delete)
KEY_OP(op_key_recover, do_key_recover)
KEY_OP(op_key_purge, do_key_purge)
KEY_OP(op_key_backup, do_key_backup)
KEY_OP(op_key_restore, do_key_restore)
KEY_OP(op_key_wrap, do_key_wrap)
KEY_OP(op_key_unwrap, do_key_unwrap)
KEY_OP(op_key_policy_set, do_key_policy_set)
KEY_OP(op_key_policy_show, do_key_policy_show)
