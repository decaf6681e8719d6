/*
 * envops_file.c - the pure parts of environment backups: the sealed backup file format, the
 * RFC 5649 wrap of a backup's data key under the Microsoft-managed key, the encryption state
 * kept with a backup (JSON both ways), the overlay of the enterprise-policy view on an
 * environment's BYOK state, and the sandbox-only rule of reset.
 *
 * Backup file, version 1:
 *   [0..7]   "CMKBAK1\n"
 *   [8..]    one envelope blob (common/envelope.h: format byte, DEK id, nonce, ciphertext,
 *            tag) sealed at place (env, "env_backups", backup id, "flows"): a file copied to
 *            another environment or renamed to another backup id fails to open.
 */
#include "envops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"

/* place_of - where a backup's blob is bound */
static cmk_place place_of(const char *env, const char *id)
{
    cmk_place p = { env, "env_backups", id, "flows" };
    return p;
}

/* envops_file_seal - magic + sealed blob */
int envops_file_seal(cmk_dek *dek, const char *env, const char *id, const char *plain, size_t len,
                     uint8_t **out, size_t *out_len, cmk_err *err)
{
    cmk_place place = place_of(env, id);
    cmk_sealer *s;
    size_t cap = ENVOPS_MAGIC_LEN + len + CMK_BLOB_OVERHEAD, blen = 0;
    uint8_t *buf;
    int rc;

    if (!dek || !env || !*env || !id || !*id || !plain || !out || !out_len)
        return cmk_err_set(err, CMK_EINVAL, "sealing a backup needs a data key, an environment, an id and the content");
    if (!(buf = malloc(cap)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory sealing a backup of %zu bytes", len);
    if (!(s = cmk_sealer_new(err))) {
        free(buf);
        return err ? err->code : CMK_ENOMEM;
    }
    memcpy(buf, ENVOPS_MAGIC, ENVOPS_MAGIC_LEN);
    rc = cmk_seal(s, dek, &place, (const uint8_t *)plain, len, buf + ENVOPS_MAGIC_LEN, cap - ENVOPS_MAGIC_LEN, &blen,
                  err);
    cmk_sealer_destroy(&s);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = ENVOPS_MAGIC_LEN + blen;
    return 0;
}

/* check_magic - is this a backup file at all? */
static int check_magic(const uint8_t *data, size_t len, cmk_err *err)
{
    if (!data || len < ENVOPS_MAGIC_LEN + CMK_BLOB_OVERHEAD || memcmp(data, ENVOPS_MAGIC, ENVOPS_MAGIC_LEN) != 0)
        return cmk_err_set(err, CMK_EINVAL, "not a cmksim backup file (bad header or too short)");
    return 0;
}

/* envops_file_open - check the magic, open the blob at its place */
int envops_file_open(const cmk_dek *dek, const char *env, const char *id, const uint8_t *data,
                     size_t len, char **plain, size_t *plain_len, cmk_err *err)
{
    cmk_place place = place_of(env, id);
    cmk_sealer *s;
    size_t cap, n = 0;
    char *buf;
    int rc;

    if (!dek || !env || !id || !plain)
        return cmk_err_set(err, CMK_EINVAL, "opening a backup needs a data key, an environment and an id");
    if ((rc = check_magic(data, len, err)) < 0)
        return rc;
    cap = len - ENVOPS_MAGIC_LEN - CMK_BLOB_OVERHEAD + 1;
    if (!(buf = malloc(cap)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory opening a backup");
    if (!(s = cmk_sealer_new(err))) {
        free(buf);
        return err ? err->code : CMK_ENOMEM;
    }
    rc = cmk_open(s, dek, &place, data + ENVOPS_MAGIC_LEN, len - ENVOPS_MAGIC_LEN, (uint8_t *)buf, cap, &n, err);
    cmk_sealer_destroy(&s);
    if (rc < 0) {
        cmk_wipe_str(buf, cap);
        return cmk_err_prefix(err, "backup %s of %s does not open (changed, or not sealed for it): ", id, env);
    }
    buf[n] = '\0';
    *plain = buf;
    if (plain_len)
        *plain_len = n;
    return 0;
}

/* envops_file_dek_id - the data key id in the blob header */
int envops_file_dek_id(const uint8_t *data, size_t len, uint8_t id[CMK_DEK_ID_LEN], cmk_err *err)
{
    int rc = check_magic(data, len, err);
    return rc < 0 ? rc : cmk_blob_dek_id(data + ENVOPS_MAGIC_LEN, len - ENVOPS_MAGIC_LEN, id, err);
}

/* envops_keywrap - RFC 5649 under a 32-byte key-encryption key */
int envops_keywrap(const uint8_t kek[ENVOPS_KEK_LEN], int enc, const uint8_t *in, size_t in_len,
                   uint8_t out[ENVOPS_WRAP_MAX], size_t *out_len, cmk_err *err)
{
    EVP_CIPHER_CTX *ctx;
    int n = 0, f = 0, ok;

    if (!kek || !in || !out || !out_len || in_len == 0 || in_len > (enc ? CMK_DEK_KEY_LEN : ENVOPS_WRAP_MAX))
        return cmk_err_set(err, CMK_EINVAL, "key wrap: give a key-encryption key and at most %d bytes",
                           enc ? CMK_DEK_KEY_LEN : ENVOPS_WRAP_MAX);
    if (!(ctx = EVP_CIPHER_CTX_new()))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, kek, NULL, enc) == 1 &&
         EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1 && EVP_CipherFinal_ex(ctx, out + n, &f) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        cmk_wipe(out, ENVOPS_WRAP_MAX);
        return cmk_err_set(err, CMK_ECRYPTO, "%s the backup's data key under the Microsoft-managed key failed%s",
                           enc ? "wrapping" : "unwrapping",
                           enc ? "" : ": the wrapped key is damaged or was wrapped by another key");
    }
    *out_len = (size_t)(n + f);
    return 0;
}

/* envops_state_to_json - every field of the state */
cJSON *envops_state_to_json(const tenantkey_env_state *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !s)
        return o;
    cJSON_AddStringToObject(o, "env", s->env);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "tenant", s->tenant);
    cJSON_AddStringToObject(o, "region", s->region);
    cJSON_AddStringToObject(o, "type", s->type);
    cJSON_AddStringToObject(o, "encryption", tenantkey_env_mode_name(s->mode));
    cJSON_AddStringToObject(o, "managed_by", s->managed_by);
    cJSON_AddStringToObject(o, "key", s->key);
    cJSON_AddStringToObject(o, "key_fingerprint", s->key_fp);
    cJSON_AddStringToObject(o, "policy", s->policy);
    cJSON_AddBoolToObject(o, "byok_eligible", s->eligible);
    cJSON_AddNumberToObject(o, "applied_ms", (double)s->applied_ms);
    cJSON_AddNumberToObject(o, "locked_ms", (double)s->locked_ms);
    cJSON_AddNumberToObject(o, "delete_at_ms", (double)s->delete_at_ms);
    cJSON_AddNumberToObject(o, "migrated_ms", (double)s->migrated_ms);
    cJSON_AddNumberToObject(o, "no_return_until_ms", (double)s->no_return_until_ms);
    cJSON_AddNumberToObject(o, "key_retained_until_ms", (double)s->key_retained_until_ms);
    return o;
}

/* envops_state_from_json - the inverse; the mode must be known */
int envops_state_from_json(const cJSON *j, tenantkey_env_state *out, cmk_err *err)
{
    static const tenantkey_env_mode modes[] = { TENANTKEY_ENV_MICROSOFT, TENANTKEY_ENV_SELF_MANAGED,
                                                TENANTKEY_ENV_LOCKED, TENANTKEY_ENV_CUSTOMER };
    const char *enc = cmk_json_str(j, "encryption", "");
    int found = 0;

    if (!cJSON_IsObject(j) || !out)
        return cmk_err_set(err, CMK_EINVAL, "the encryption state kept with the backup is missing");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(enc, tenantkey_env_mode_name(modes[i])) == 0) {
            out->mode = modes[i];
            found = 1;
        }
    if (!found)
        return cmk_err_set(err, CMK_EINVAL, "the encryption state kept with the backup has an unknown encryption '%s'",
                           enc);
    cmk_strlcpy(out->env, cmk_json_str(j, "env", ""), sizeof out->env);
    cmk_strlcpy(out->name, cmk_json_str(j, "name", ""), sizeof out->name);
    cmk_strlcpy(out->tenant, cmk_json_str(j, "tenant", ""), sizeof out->tenant);
    cmk_strlcpy(out->region, cmk_json_str(j, "region", ""), sizeof out->region);
    cmk_strlcpy(out->type, cmk_json_str(j, "type", ""), sizeof out->type);
    cmk_strlcpy(out->managed_by, cmk_json_str(j, "managed_by", ""), sizeof out->managed_by);
    cmk_strlcpy(out->key, cmk_json_str(j, "key", ""), sizeof out->key);
    cmk_strlcpy(out->key_fp, cmk_json_str(j, "key_fingerprint", ""), sizeof out->key_fp);
    cmk_strlcpy(out->policy, cmk_json_str(j, "policy", ""), sizeof out->policy);
    out->eligible = cmk_json_bool(j, "byok_eligible", 0);
    out->applied_ms = (int64_t)cmk_json_num(j, "applied_ms", 0);
    out->locked_ms = (int64_t)cmk_json_num(j, "locked_ms", 0);
    out->delete_at_ms = (int64_t)cmk_json_num(j, "delete_at_ms", 0);
    out->migrated_ms = (int64_t)cmk_json_num(j, "migrated_ms", 0);
    out->no_return_until_ms = (int64_t)cmk_json_num(j, "no_return_until_ms", 0);
    out->key_retained_until_ms = (int64_t)cmk_json_num(j, "key_retained_until_ms", 0);
    return 0;
}

/* envops_state_overlay - the policy's view wins: linked means its key, locked means locked */
void envops_state_overlay(tenantkey_env_state *s, const cJSON *st, int64_t now_ms)
{
    const cJSON *policy = cJSON_GetObjectItem(st, "policy");
    int locked = strcmp(cmk_json_str(st, "state", ""), "Locked") == 0 || cJSON_GetObjectItem(st, "locked_at");

    if (!s || !st)
        return;
    if (cJSON_IsString(policy) && policy->valuestring[0] && s->mode != TENANTKEY_ENV_LOCKED) {
        s->mode = TENANTKEY_ENV_CUSTOMER;
        cmk_strlcpy(s->policy, policy->valuestring, sizeof s->policy);
        cmk_strlcpy(s->managed_by, "CustomerViaMicrosoft", sizeof s->managed_by);
    }
    if (locked) {
        s->mode = TENANTKEY_ENV_LOCKED;
        if (!s->locked_ms)
            s->locked_ms = now_ms;
    }
}

/* envops_reset_check - sandbox only, then the reset rule */
int envops_reset_check(const tenantkey_env_state *s, cmk_err *err)
{
    tenantkey_env_state after;
    int del = 0;

    if (!s)
        return cmk_err_set(err, CMK_EINVAL, "reset: give the environment's state");
    if (strcmp(s->type, "sandbox") != 0)
        return cmk_err_set(err, CMK_ESTATE,
                           "'%s' is a %s environment: only sandbox environments can be reset "
                           "(sandbox-environments.md#reset-a-sandbox-environment); nothing was deleted",
                           s->name, s->type[0] ? s->type : "production");
    return tenantkey_reset_outcome(s, &after, &del, err);
}
