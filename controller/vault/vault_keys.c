/*
 * vault_keys.c - key lifecycle in the vault: create (RSA generation outside the lock), import
 * (PEM, DER, PKCS#12), versions, get, list, rotate (on request and by policy), attribute
 * updates, soft delete, recover, purge, and the state checks every use of a key goes through.
 */
#include "vault_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/util.h"

/* ---- key info ---- */

/* vault_key_info_clear - free the tags */
void vault_key_info_clear(vault_key_info *k)
{
    if (k && k->tags) {
        cJSON_Delete(k->tags);
        k->tags = NULL;
    }
}

/* vault_key_infos_free - clear and free an array */
void vault_key_infos_free(vault_key_info **arr, size_t n)
{
    if (arr && *arr) {
        for (size_t i = 0; i < n; i++)
            vault_key_info_clear(&(*arr)[i]);
        free(*arr);
        *arr = NULL;
    }
}

/* add_time - an RFC 3339 member, or nothing for 0 */
static void add_time(cJSON *j, const char *name, int64_t ms)
{
    char t[40];
    if (ms)
        cJSON_AddStringToObject(j, name, cmk_time_format(ms, t, sizeof t));
}

/* vault_key_info_to_json - JWK-like JSON */
cJSON *vault_key_info_to_json(const vault_key_info *k)
{
    cJSON *j = cJSON_CreateObject(), *key, *ops, *attrs;
    char buf[128];

    if (!j)
        return NULL;
    key = cJSON_AddObjectToObject(j, "key");
    cJSON_AddStringToObject(key, "kid", k->kid);
    cJSON_AddStringToObject(key, "kty", vault_kty_name(k->kty));
    ops = cJSON_AddArrayToObject(key, "key_ops");
    for (unsigned b = 1; b <= VAULT_KEYOP_IMPORT; b <<= 1)
        if (k->key_ops & b)
            cJSON_AddItemToArray(ops, cJSON_CreateString(vault_keyops_format(b, buf, sizeof buf)));
    cJSON_AddStringToObject(key, "n", k->n);
    cJSON_AddStringToObject(key, "e", k->e);
    attrs = cJSON_AddObjectToObject(j, "attributes");
    cJSON_AddBoolToObject(attrs, "enabled", k->key_enabled && k->version_enabled);
    cJSON_AddBoolToObject(attrs, "keyEnabled", k->key_enabled);
    cJSON_AddBoolToObject(attrs, "versionEnabled", k->version_enabled);
    add_time(attrs, "nbf", k->nbf_ms);
    add_time(attrs, "exp", k->exp_ms);
    add_time(attrs, "created", k->created_ms);
    add_time(attrs, "updated", k->updated_ms);
    cJSON_AddStringToObject(attrs, "recoveryLevel", k->recovery_level);
    cJSON_AddStringToObject(j, "vault", k->vault);
    cJSON_AddStringToObject(j, "name", k->name);
    cJSON_AddStringToObject(j, "version", k->version);
    cJSON_AddNumberToObject(j, "keySize", k->bits);
    cJSON_AddBoolToObject(j, "current", k->current);
    add_time(j, "deletedDate", k->deleted_ms);
    add_time(j, "scheduledPurgeDate", k->scheduled_purge_ms);
    cJSON_AddItemToObject(j, "tags", k->tags ? cJSON_Duplicate(k->tags, 1) : cJSON_CreateObject());
    return j;
}

/* vkeys_fill_info - a key version as vault_key_info */
int vkeys_fill_info(vault_svc *svc, const vrow *v, const krow *k, const verrow *ver,
                    vault_key_info *out, cmk_err *err)
{
    EVP_PKEY *pk = NULL;
    int rc;

    if (!out)
        return 0;
    memset(out, 0, sizeof *out);
    cmk_strlcpy(out->vault, v->name, sizeof out->vault);
    cmk_strlcpy(out->name, k->name, sizeof out->name);
    cmk_strlcpy(out->version, ver->version, sizeof out->version);
    vault_make_kid(svc, v->name, k->name, ver->version, out->kid, sizeof out->kid);
    out->kty = ver->kty;
    out->bits = ver->bits;
    out->key_ops = k->key_ops;
    out->key_enabled = k->enabled;
    out->version_enabled = ver->enabled;
    out->current = ver->id == k->current;
    out->nbf_ms = ver->nbf_ms;
    out->exp_ms = ver->exp_ms;
    out->created_ms = ver->created_ms;
    out->updated_ms = ver->updated_ms;
    out->deleted_ms = k->deleted_ms;
    out->scheduled_purge_ms = k->purge_ms;
    vault_recovery_level(v, out->recovery_level, sizeof out->recovery_level);
    out->tags = cJSON_Parse(k->tags ? k->tags : "{}");
    if (!out->tags)
        out->tags = cJSON_CreateObject();
    rc = vrsa_from_public_der(ver->pub, ver->pub_len, &pk, err);
    if (rc == 0)
        rc = vrsa_public_ne(pk, out->n, sizeof out->n, out->e, sizeof out->e, err);
    EVP_PKEY_free(pk);
    if (rc < 0)
        vault_key_info_clear(out);
    return rc;
}

/* deleted_msg - the refusal for a soft-deleted key */
static int deleted_msg(const vrow *v, const krow *k, cmk_err *err)
{
    char when[40];
    vault_time_str(k->purge_ms, when, sizeof when);
    return cmk_err_set(err, CMK_ESTATE,
                       "key '%s' in vault '%s' is deleted (recoverable until "
                       "%s); recover it with: cmkctl key recover %s %s",
                       k->name, v->name, when, v->name, k->name);
}

/* vkeys_usable - the key and version may be used now */
int vkeys_usable(vault_svc *svc, const vrow *v, const krow *k, const verrow *ver, cmk_err *err)
{
    int64_t now = cmk_clock_now(svc->clock);
    char t1[40], t2[40];

    if (k->deleted_ms)
        return deleted_msg(v, k, err);
    if (!k->enabled)
        return cmk_err_set(err, CMK_ESTATE,
                           "key '%s' in vault '%s' is disabled; enable it "
                           "with: cmkctl key enable %s %s",
                           k->name, v->name, v->name, k->name);
    if (!ver->enabled)
        return cmk_err_set(err, CMK_ESTATE,
                           "version %s of key '%s' in vault '%s' is disabled; "
                           "enable it with: cmkctl key enable %s %s --version %s",
                           ver->version, k->name, v->name, v->name, k->name, ver->version);
    if (ver->nbf_ms && now < ver->nbf_ms) {
        vault_time_str(ver->nbf_ms, t1, sizeof t1);
        vault_time_str(now, t2, sizeof t2);
        return cmk_err_set(err, CMK_ESTATE,
                           "key '%s' version %s in vault '%s' is not active "
                           "yet: its activation date (nbf) is %s and the clock says %s",
                           k->name, ver->version, v->name, t1, t2);
    }
    if (ver->exp_ms && now >= ver->exp_ms) {
        vault_time_str(ver->exp_ms, t1, sizeof t1);
        return cmk_err_set(err, CMK_ESTATE,
                           "key '%s' version %s in vault '%s' expired at %s; "
                           "set a later expiry with: cmkctl key update %s %s --version %s "
                           "--expires <time>, or rotate the key",
                           k->name, ver->version, v->name, t1, v->name, k->name, ver->version);
    }
    return 0;
}

/* ---- new versions ---- */

/* check_params - validate key parameters; bits 0 means "from the key" */
static int check_params(const vault_key_params *p, cmk_err *err)
{
    char known[128];
    int rc;

    if (p->kty != 0 && p->kty != VAULT_KTY_RSA && p->kty != VAULT_KTY_RSA_HSM)
        return cmk_err_set(err, CMK_EINVAL, "unknown key type %d; use RSA or RSA-HSM", p->kty);
    if (p->bits != 0 && (rc = vrsa_check_bits(p->bits, err)) < 0)
        return rc;
    if (p->key_ops & ~VAULT_KEYOPS_ALL)
        return cmk_err_set(err, CMK_EINVAL, "unknown key operations; known: %s",
                           vault_keyops_format(VAULT_KEYOPS_ALL, known, sizeof known));
    if (p->nbf_ms && p->exp_ms && p->exp_ms <= p->nbf_ms)
        return cmk_err_set(err, CMK_EINVAL,
                           "the expiry date must come after the activation "
                           "date");
    return vault_check_tags(p->tags, err);
}

/* vkeys_store_new_version - add pk as the new current version (lock held) */
int vkeys_store_new_version(vault_op *op, const vrow *v, const char *name, EVP_PKEY *pk,
                            const vault_key_params *p, const char *reason, vault_key_info *out,
                            cmk_err *err)
{
    vault_svc *svc = op->svc;
    vault_key_params def;
    krow k;
    verrow ver, old;
    uint8_t *der = NULL;
    size_t der_len = 0;
    int64_t now = cmk_clock_now(svc->clock);
    int is_new, rc;
    char *tags = NULL;

    if (!p) {
        memset(&def, 0, sizeof def);
        p = &def;
    }
    memset(&ver, 0, sizeof ver);
    memset(&old, 0, sizeof old);
    rc = vstore_key_by_name(svc, v, name, &k, err);
    if (rc < 0 && rc != CMK_ENOENT)
        return rc;
    is_new = rc == CMK_ENOENT;
    if (is_new && (strcmp(reason, "rotate") == 0 || strcmp(reason, "policy") == 0))
        return cmk_err_set(err, CMK_ENOENT,
                           "key '%s' in vault '%s' was purged while it was "
                           "being rotated",
                           name, v->name);
    if (!is_new && k.deleted_ms) {
        rc = deleted_msg(v, &k, err);
        krow_clear(&k);
        return rc;
    }
    if (!is_new && (rc = vstore_version_get(svc, v, &k, NULL, &old, err)) < 0)
        goto out;
    if ((rc = vrsa_check_key(pk, &ver.bits, err)) < 0)
        goto out;
    if (p->tags) {
        tags = cJSON_PrintUnformatted(p->tags);
        if (!tags) {
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (is_new) {
        memset(&k, 0, sizeof k);
        k.vault_id = v->id;
        cmk_strlcpy(k.name, name, sizeof k.name);
        k.key_ops = p->key_ops ? p->key_ops : VAULT_KEYOPS_DEFAULT;
        k.enabled = 1;
        k.created_ms = now;
        k.tags = tags ? tags : strdup("{}");
        tags = NULL;
        if (!k.tags) {
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
            goto out;
        }
    } else {
        if (p->key_ops)
            k.key_ops = p->key_ops;
        if (tags) {
            free(k.tags);
            k.tags = tags;
            tags = NULL;
        }
    }
    k.updated_ms = now;
    ver.kty = p->kty ? p->kty : VAULT_KTY_RSA;
    ver.enabled = p->enabled != VAULT_OFF;
    ver.nbf_ms = p->nbf_ms;
    ver.exp_ms = p->exp_ms;
    if (!ver.exp_ms && k.rot_expiry_ms)
        ver.exp_ms = now + k.rot_expiry_ms;
    ver.created_ms = ver.updated_ms = now;
    if ((rc = vrsa_random_version(ver.version, err)) < 0 ||
        (rc = vrsa_public_der(pk, ver.pub, sizeof ver.pub, &ver.pub_len, err)) < 0 ||
        (rc = vrsa_private_der(pk, &der, &der_len, err)) < 0)
        goto out;
    if ((rc = vstore_begin(svc, err)) < 0)
        goto out;
    if (is_new)
        rc = vstore_key_insert(svc, &k, err);
    if (rc == 0) {
        ver.key_id = k.id;
        rc = vstore_version_insert(svc, v->tenant, &ver, der, der_len, err);
    }
    if (rc == 0) {
        k.current = ver.id;
        rc = vstore_key_update(svc, &k, err);
    }
    if (rc == 0)
        rc = vstore_commit(svc, err);
    else
        vstore_rollback(svc);
    if (rc < 0)
        goto out;
    vtimer_schedule_key(svc, &k);
    vop_set_target(op, v->name, k.name, ver.version);
    snprintf(op->detail, sizeof op->detail, "%s version=%s kty=%s bits=%d%s%s", reason, ver.version,
             vault_kty_name(ver.kty), ver.bits,
             is_new ? "" : " previous=", is_new ? "" : old.version);
    if (!is_new) {
        op->notify = 1;
        cmk_strlcpy(op->ev_tenant, v->tenant, sizeof op->ev_tenant);
        cmk_strlcpy(op->ev_vault, v->name, sizeof op->ev_vault);
        cmk_strlcpy(op->ev_key, k.name, sizeof op->ev_key);
        cmk_strlcpy(op->ev_old, old.version, sizeof op->ev_old);
        cmk_strlcpy(op->ev_new, ver.version, sizeof op->ev_new);
        vault_make_kid(svc, v->name, k.name, ver.version, op->ev_kid, sizeof op->ev_kid);
        op->ev_reason = reason;
        op->ev_at = now;
    }
    rc = vkeys_fill_info(svc, v, &k, &ver, out, err);
out:
    if (der) {
        OPENSSL_cleanse(der, der_len);
        free(der);
    }
    free(tags);
    krow_clear(&k);
    return rc;
}

/* vkeys_prepare_new - checks shared by create and imports before the slow part (lock held) */
int vkeys_prepare_new(vault_op *op, const char *vault, const char *name, unsigned perm,
                      const vault_key_params *p, vrow *v, cmk_err *err)
{
    krow k;
    int rc;

    if ((rc = vault_open_for(op, vault, perm, 0, 0, v, err)) < 0)
        return rc;
    if ((rc = vault_check_key_name(name, err)) < 0)
        return rc;
    if (p && (rc = check_params(p, err)) < 0)
        return rc;
    rc = vstore_key_by_name(op->svc, v, name, &k, NULL);
    if (rc == 0 && k.deleted_ms) {
        rc = deleted_msg(v, &k, err);
        krow_clear(&k);
        return rc;
    }
    krow_clear(&k);
    return 0;
}

/* vkeys_reopen_vault - after the lock was released: the vault must still be there */
int vkeys_reopen_vault(vault_op *op, vrow *v, cmk_err *err)
{
    int64_t id = v->id;
    int rc = vstore_vault_by_id(op->svc, id, v, err);
    if (rc == 0 && v->deleted_ms)
        rc = cmk_err_set(err, CMK_ESTATE, "vault '%s' was deleted meanwhile", v->name);
    return rc;
}

/* vault_key_create - generate a key or a new version */
int vault_key_create(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const vault_key_params *params, vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    EVP_PKEY *pk = NULL;
    int bits, rc;

    vop_begin(&op, self, principal, "key.create", vault, name, NULL);
    if ((rc = vkeys_prepare_new(&op, vault, name, VAULT_PERM_CREATE, params, &v, err)) < 0)
        goto done;
    bits = params && params->bits ? params->bits : 2048;
    vop_unlock(&op);
    rc = vrsa_generate(bits, &pk, err); /* slow: outside the lock */
    vop_lock(&op);
    if (rc == 0)
        rc = vkeys_reopen_vault(&op, &v, err);
    if (rc == 0)
        rc = vkeys_store_new_version(&op, &v, name, pk, params, "create", out, err);
done:
    EVP_PKEY_free(pk);
    return vop_end(&op, rc, err);
}

/* vault_key_import - import a PEM, DER or PKCS#12 private key */
int vault_key_import(vault_svc *self, const char *principal, const char *vault, const char *name,
                     const uint8_t *data, size_t len, const char *password,
                     const vault_key_params *params, vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    EVP_PKEY *pk = NULL;
    int rc;

    vop_begin(&op, self, principal, "key.import", vault, name, NULL);
    if ((rc = vkeys_prepare_new(&op, vault, name, VAULT_PERM_IMPORT, params, &v, err)) < 0)
        goto done;
    vop_unlock(&op);
    rc = vrsa_parse_private(data, len, password, &pk, err); /* may be slow (PBKDF) */
    if (rc == 0 && (rc = vrsa_check_key(pk, NULL, err)) < 0)
        cmk_err_prefix(err, "cannot import: ");
    vop_lock(&op);
    if (rc == 0)
        rc = vkeys_reopen_vault(&op, &v, err);
    if (rc == 0)
        rc = vkeys_store_new_version(&op, &v, name, pk, params, "import", out, err);
done:
    EVP_PKEY_free(pk);
    return vop_end(&op, rc, err);
}

/* ---- reading ---- */

/* open_key - vault (with perm), key (not deleted unless allow_deleted) */
static int open_key(vault_op *op, const char *vault, const char *name, unsigned perm,
                    int allow_deleted, int mgmt_throttle, vrow *v, krow *k, cmk_err *err)
{
    int rc = vault_open_for(op, vault, perm, 0, mgmt_throttle ? 0 : -1, v, err);
    memset(k, 0, sizeof *k);
    if (rc < 0)
        return rc;
    if ((rc = vault_check_key_name(name, err)) < 0)
        return rc;
    if ((rc = vstore_key_by_name(op->svc, v, name, k, err)) < 0)
        return rc;
    if (k->deleted_ms && !allow_deleted)
        return deleted_msg(v, k, err);
    return 0;
}

/* vault_key_get - a key version */
int vault_key_get(vault_svc *self, const char *principal, const char *vault, const char *name,
                  const char *version, vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow ver;
    int rc;

    vop_begin(&op, self, principal, "key.get", vault, name, version);
    rc = open_key(&op, vault, name, VAULT_PERM_GET, 0, 0, &v, &k, err);
    if (rc == 0)
        rc = vstore_version_get(self, &v, &k, version, &ver, err);
    if (rc == 0)
        rc = vault_throttle_take(self->throttle, v.id, v.name, VAULT_TX_CRYPTO, ver.bits, err);
    if (rc == 0)
        rc = vkeys_fill_info(self, &v, &k, &ver, out, err);
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_list - current versions of the keys */
int vault_key_list(vault_svc *self, const char *principal, const char *vault,
                   vault_key_list_flags which, vault_key_info **out, size_t *n, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow *keys = NULL;
    size_t nk = 0;
    int rc;

    *out = NULL;
    *n = 0;
    vop_begin(&op, self, principal, "key.list", vault, NULL, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_LIST, 0, 0, &v, err)) < 0 ||
        (rc = vstore_keys_list(self, v.id, which, &keys, &nk, err)) < 0)
        goto done;
    *out = calloc(nk ? nk : 1, sizeof **out);
    if (!*out) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nk && rc == 0; i++) {
        verrow ver;
        rc = vstore_version_get(self, &v, &keys[i], NULL, &ver, err);
        if (rc == 0 && (rc = vkeys_fill_info(self, &v, &keys[i], &ver, &(*out)[*n], err)) == 0)
            (*n)++;
    }
    if (rc < 0) {
        vault_key_infos_free(out, *n);
        *n = 0;
    } else
        snprintf(op.detail, sizeof op.detail, "count=%zu", *n);
done:
    krows_free(&keys, nk);
    return vop_end(&op, rc, err);
}

/* vault_key_list_versions - every version of a key */
int vault_key_list_versions(vault_svc *self, const char *principal, const char *vault,
                            const char *name, vault_key_info **out, size_t *n, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow *vers = NULL;
    size_t nv = 0;
    int rc;

    *out = NULL;
    *n = 0;
    vop_begin(&op, self, principal, "key.versions", vault, name, NULL);
    if ((rc = open_key(&op, vault, name, VAULT_PERM_LIST, 0, 1, &v, &k, err)) < 0 ||
        (rc = vstore_versions_list(self, k.id, &vers, &nv, err)) < 0)
        goto done;
    *out = calloc(nv ? nv : 1, sizeof **out);
    if (!*out) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nv && rc == 0; i++)
        if ((rc = vkeys_fill_info(self, &v, &k, &vers[i], &(*out)[*n], err)) == 0)
            (*n)++;
    if (rc < 0) {
        vault_key_infos_free(out, *n);
        *n = 0;
    } else
        snprintf(op.detail, sizeof op.detail, "count=%zu", *n);
done:
    free(vers);
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* ---- rotation ---- */

/* rotate_new - generate (lock released meanwhile) and store a version like cur */
static int rotate_new(vault_op *op, vrow *v, krow *k, const char *reason, vault_key_info *out,
                      cmk_err *err)
{
    vault_key_params p;
    verrow cur;
    EVP_PKEY *pk = NULL;
    char name[VAULT_KEY_NAME_MAX];
    int rc = vstore_version_get(op->svc, v, k, NULL, &cur, err);

    if (rc < 0)
        return rc;
    memset(&p, 0, sizeof p);
    p.kty = cur.kty;
    p.bits = cur.bits;
    cmk_strlcpy(name, k->name, sizeof name);
    vop_unlock(op);
    rc = vrsa_generate(cur.bits, &pk, err); /* slow: outside the lock */
    vop_lock(op);
    if (rc == 0)
        rc = vkeys_reopen_vault(op, v, err);
    if (rc == 0)
        rc = vkeys_store_new_version(op, v, name, pk, &p, reason, out, err);
    EVP_PKEY_free(pk);
    return rc;
}

/* vault_key_rotate - a new version now */
int vault_key_rotate(vault_svc *self, const char *principal, const char *vault, const char *name,
                     vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    int rc;

    vop_begin(&op, self, principal, "key.rotate", vault, name, NULL);
    rc = open_key(&op, vault, name, VAULT_PERM_ROTATE, 0, 1, &v, &k, err);
    if (rc == 0)
        rc = rotate_new(&op, &v, &k, "rotate", out, err);
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vkeys_rotate_by_policy - run by a rotation timer */
void vkeys_rotate_by_policy(vault_svc *svc, int64_t key_id)
{
    vault_op op;
    vrow v;
    krow k;
    int64_t due, now;
    cmk_err err = CMK_ERR_INIT;
    int rc;

    vop_begin(&op, svc, AUDIT_PRINCIPAL_SYSTEM, "key.rotate", NULL, NULL, NULL);
    if (vstore_key_by_id(svc, key_id, &k, NULL) < 0) {
        vop_unlock(&op);
        return;
    }
    if (vstore_vault_by_id(svc, k.vault_id, &v, NULL) < 0 || v.deleted_ms || k.deleted_ms) {
        krow_clear(&k);
        vop_unlock(&op);
        return;
    }
    due = vpolicy_next_rotation(svc, &k);
    now = cmk_clock_now(svc->clock);
    if (due == 0 || due > now) {
        vtimer_schedule_key(svc, &k); /* policy changed meanwhile */
        krow_clear(&k);
        vop_unlock(&op);
        return;
    }
    vop_set_target(&op, v.name, k.name, NULL);
    rc = rotate_new(&op, &v, &k, "policy", NULL, &err);
    if (rc < 0) {
        cmk_warn("vault.rotation_failed", "vault=%s key=%s error=\"%s\"", v.name, k.name, err.msg);
        vtimer_add(svc, VT_ROTATE, k.id, now + 3600000); /* try again in an hour */
    }
    krow_clear(&k);
    vop_end(&op, rc, &err);
}

/* ---- updates, delete, recover, purge ---- */

/* vault_key_update_attrs - change key or version attributes */
int vault_key_update_attrs(vault_svc *self, const char *principal, const char *vault,
                           const char *name, const char *version, const vault_key_update *upd,
                           vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow ver;
    int64_t now = 0;
    char known[128];
    int rc;

    vop_begin(&op, self, principal, "key.update", vault, name, version);
    if ((rc = open_key(&op, vault, name, VAULT_PERM_UPDATE, 0, 1, &v, &k, err)) < 0 ||
        (rc = vstore_version_get(self, &v, &k, version, &ver, err)) < 0)
        goto done;
    now = cmk_clock_now(self->clock);
    if (upd) {
        int named = version && *version;
        if (upd->key_ops & ~VAULT_KEYOPS_ALL) {
            rc = cmk_err_set(err, CMK_EINVAL, "unknown key operations; known: %s",
                             vault_keyops_format(VAULT_KEYOPS_ALL, known, sizeof known));
            goto done;
        }
        if ((rc = vault_check_tags(upd->tags, err)) < 0)
            goto done;
        if (upd->set_nbf)
            ver.nbf_ms = upd->nbf_ms;
        if (upd->set_exp)
            ver.exp_ms = upd->exp_ms;
        if (ver.nbf_ms && ver.exp_ms && ver.exp_ms <= ver.nbf_ms) {
            rc = cmk_err_set(err, CMK_EINVAL,
                             "the expiry date must come after the activation "
                             "date");
            goto done;
        }
        if (upd->enabled != VAULT_DEFAULT) {
            if (named)
                ver.enabled = upd->enabled == VAULT_ON;
            else
                k.enabled = upd->enabled == VAULT_ON;
        }
        if (upd->key_ops)
            k.key_ops = upd->key_ops;
        if (upd->tags) {
            char *t = cJSON_PrintUnformatted(upd->tags);
            if (!t) {
                rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
                goto done;
            }
            free(k.tags);
            k.tags = t;
        }
        ver.updated_ms = k.updated_ms = now;
        if ((rc = vstore_begin(self, err)) < 0)
            goto done;
        rc = vstore_key_update(self, &k, err);
        if (rc == 0)
            rc = vstore_version_update(self, &ver, err);
        if (rc == 0)
            rc = vstore_commit(self, err);
        else
            vstore_rollback(self);
        if (rc < 0)
            goto done;
        vtimer_schedule_key(self, &k); /* expiry may move a rotation */
    }
    snprintf(op.detail, sizeof op.detail,
             "version=%s key_enabled=%d version_enabled=%d "
             "nbf=%" PRId64 " exp=%" PRId64,
             ver.version, k.enabled, ver.enabled, ver.nbf_ms, ver.exp_ms);
    rc = vkeys_fill_info(self, &v, &k, &ver, out, err);
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_delete - soft delete (or purge when the vault has no soft delete) */
int vault_key_delete(vault_svc *self, const char *principal, const char *vault, const char *name,
                     cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    char when[40];
    int rc;

    vop_begin(&op, self, principal, "key.delete", vault, name, NULL);
    if ((rc = open_key(&op, vault, name, VAULT_PERM_DELETE, 0, 1, &v, &k, err)) < 0)
        goto done;
    if (!v.soft_delete) {
        rc = vpurge_key(self, k.id, NULL, NULL, err);
        snprintf(op.detail, sizeof op.detail, "purged at once (soft delete is off)");
        goto done;
    }
    k.deleted_ms = k.updated_ms = cmk_clock_now(self->clock);
    k.purge_ms = k.deleted_ms + (int64_t)v.retention_days * VAULT_DAY_MS;
    if ((rc = vstore_key_update(self, &k, err)) < 0)
        goto done;
    vtimer_schedule_key(self, &k);
    vault_time_str(k.purge_ms, when, sizeof when);
    snprintf(op.detail, sizeof op.detail, "soft-deleted; scheduled purge %s", when);
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_recover - undo a soft delete */
int vault_key_recover(vault_svc *self, const char *principal, const char *vault, const char *name,
                      cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    int rc;

    vop_begin(&op, self, principal, "key.recover", vault, name, NULL);
    if ((rc = open_key(&op, vault, name, VAULT_PERM_RECOVER, 1, 1, &v, &k, err)) < 0)
        goto done;
    if (!k.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "key '%s' in vault '%s' is not deleted; nothing to "
                         "recover",
                         name, vault);
        goto done;
    }
    k.deleted_ms = k.purge_ms = 0;
    k.updated_ms = cmk_clock_now(self->clock);
    if ((rc = vstore_key_update(self, &k, err)) < 0)
        goto done;
    vtimer_schedule_key(self, &k);
    snprintf(op.detail, sizeof op.detail, "recovered");
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* vault_key_purge - purge a soft-deleted key */
int vault_key_purge(vault_svc *self, const char *principal, const char *vault, const char *name,
                    cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    char when[40];
    int rc;

    vop_begin(&op, self, principal, "key.purge", vault, name, NULL);
    if ((rc = open_key(&op, vault, name, VAULT_PERM_PURGE, 1, 1, &v, &k, err)) < 0)
        goto done;
    if (!k.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "key '%s' in vault '%s' is not deleted; delete it "
                         "first (cmkctl key delete %s %s), then purge",
                         name, vault, vault, name);
        goto done;
    }
    if (v.purge_protection) {
        vault_time_str(k.purge_ms, when, sizeof when);
        rc = cmk_err_set(err, CMK_ESTATE,
                         "vault '%s' has purge protection: deleted key '%s' "
                         "cannot be purged before its retention ends; it is purged "
                         "automatically at %s",
                         vault, name, when);
        goto done;
    }
    rc = vpurge_key(self, k.id, NULL, NULL, err);
    snprintf(op.detail, sizeof op.detail, "purged");
done:
    krow_clear(&k);
    return vop_end(&op, rc, err);
}
