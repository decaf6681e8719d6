/*
 * envops_keys.c - a backup's data key is wrapped like the environment's data is wrapped at the
 * time of the backup: by the enterprise policy's customer key in the vault (the policy
 * identity's wrapKey, RSA-OAEP-256, the version used kept for unwrapping after a rotation),
 * else by the Microsoft-managed key the keyring keeps in <run>/keys (RFC 5649).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "envops_int.h"
#include "log.h"
#include "migration.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

/* ---- keys --------------------------------------------------------------------------------- */

/* load_mmk - the Microsoft-managed key the keyring keeps in <run>/keys (wipe it after use) */
static int load_mmk(envops_deps *c, uint8_t mmk[ENVOPS_KEK_LEN], cmk_err *err)
{
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    int rc;
    snprintf(path, sizeof path, "%s/keys/microsoft-managed.key", c->cfg->run_dir);
    if ((rc = cmk_file_read(path, &text, &len, err)) < 0)
        return rc;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    rc = cmk_hex_decode(text, mmk, ENVOPS_KEK_LEN, err);
    cmk_wipe_str(text, len);
    return rc;
}

/* eo_wrap_key - wrap a backup's data key like the environment's data is wrapped now */
int eo_wrap_key(envops_deps *c, const tenantkey_env_state *s, const uint8_t *key, eo_wrap *w, cmk_err *err)
{
    memset(w, 0, sizeof *w);
    if (s->mode == TENANTKEY_ENV_CUSTOMER && s->policy[0]) {
        cJSON *p = NULL;
        char kid[VAULT_KID_MAX], v[VAULT_NAME_MAX], n[VAULT_KEY_NAME_MAX];
        int rc = policy_get(c->policies, s->policy, &p, err);
        if (rc < 0)
            return rc;
        cmk_strlcpy(w->kind, "vault", sizeof w->kind);
        cmk_strlcpy(w->vault, cmk_json_str(p, "vault", ""), sizeof w->vault);
        cmk_strlcpy(w->key, cmk_json_str(p, "key", ""), sizeof w->key);
        cmk_strlcpy(w->principal, cmk_json_str(p, "identity", ""), sizeof w->principal);
        rc = vault_key_wrap(c->vault, w->principal, w->vault, w->key,
                            cmk_json_str(p, "version", NULL) && *cmk_json_str(p, "version", "") ? cmk_json_str(p, "version", "")
                                                                                               : NULL,
                            VAULT_ALG_RSA_OAEP_256, key, CMK_DEK_KEY_LEN, &w->wrapped, &w->wrapped_len, kid, err);
        cJSON_Delete(p);
        if (rc == 0)
            rc = vault_kid_parse(kid, v, n, w->version, err);
        if (rc < 0)
            return cmk_err_prefix(err, "the backup's data key could not be wrapped by the customer-managed key of policy "
                                       "%s: ", s->policy);
        return 0;
    } else {
        uint8_t mmk[ENVOPS_KEK_LEN];
        int rc = load_mmk(c, mmk, err);
        cmk_strlcpy(w->kind, "mmk", sizeof w->kind);
        if (rc == 0 && !(w->wrapped = malloc(ENVOPS_WRAP_MAX)))
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        if (rc == 0)
            rc = envops_keywrap(mmk, 1, key, CMK_DEK_KEY_LEN, w->wrapped, &w->wrapped_len, err);
        OPENSSL_cleanse(mmk, sizeof mmk);
        return rc;
    }
}

/* eo_unwrap_key - the backup's data key back (key gets 32 bytes; wipe it) */
int eo_unwrap_key(envops_deps *c, const eo_wrap *w, uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err)
{
    if (strcmp(w->kind, "vault") == 0) {
        uint8_t *plain = NULL;
        size_t plen = 0;
        int rc = vault_key_unwrap(c->vault, w->principal, w->vault, w->key, w->version[0] ? w->version : NULL,
                                  VAULT_ALG_RSA_OAEP_256, w->wrapped, w->wrapped_len, &plain, &plen, NULL, err);
        if (rc == 0 && plen != CMK_DEK_KEY_LEN)
            rc = cmk_err_set(err, CMK_ECRYPTO, "the unwrapped key has %zu bytes, not %d", plen, CMK_DEK_KEY_LEN);
        if (rc == 0)
            memcpy(key, plain, CMK_DEK_KEY_LEN);
        vault_secret_free(&plain, plen);
        if (rc < 0)
            return cmk_err_prefix(err, "the backup's data key can't be unwrapped: the customer-managed key %s/%s must be "
                                       "reachable through %s: ",
                                  w->vault, w->key, w->principal);
        return 0;
    } else {
        uint8_t mmk[ENVOPS_KEK_LEN], out[ENVOPS_WRAP_MAX];
        size_t n = 0;
        int rc = load_mmk(c, mmk, err);
        if (rc == 0)
            rc = envops_keywrap(mmk, 0, w->wrapped, w->wrapped_len, out, &n, err);
        OPENSSL_cleanse(mmk, sizeof mmk);
        if (rc == 0 && n != CMK_DEK_KEY_LEN)
            rc = cmk_err_set(err, CMK_ECRYPTO, "the unwrapped key has %zu bytes, not %d", n, CMK_DEK_KEY_LEN);
        if (rc == 0)
            memcpy(key, out, CMK_DEK_KEY_LEN);
        OPENSSL_cleanse(out, sizeof out);
        return rc;
    }
}

