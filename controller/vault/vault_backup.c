/*
 * vault_backup.c - key backup and restore. A backup is an opaque blob holding every version
 * of a key (attributes, tags, rotation policy, private keys), sealed under the vault master
 * key and bound to the tenant, so that it restores only into a vault of the same tenant (as
 * Azure binds backups to a subscription and geography):
 *
 *   "CMKVKB1\0" (8) | tenant tag (16: SHA-256 of the tenant, truncated) | envelope blob
 *
 * The envelope blob seals a JSON payload at place {tenant, "vault_backup", "key", "payload"}.
 */
#include "vault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/util.h"

#define BACKUP_MAGIC "CMKVKB1"
#define BACKUP_MAGIC_LEN 8
#define BACKUP_TAG_LEN 16
#define BACKUP_HEAD_LEN (BACKUP_MAGIC_LEN + BACKUP_TAG_LEN)
#define BACKUP_MAX (8u << 20)

/* tenant_tag - the first 16 bytes of SHA-256("cmksim vault backup tenant" || tenant) */
static int tenant_tag(const char *tenant, uint8_t tag[BACKUP_TAG_LEN])
{
    static const char label[] = "cmksim vault backup tenant";
    uint8_t d[32];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, label, sizeof label - 1) &&
             EVP_DigestUpdate(ctx, tenant, strlen(tenant)) && EVP_DigestFinal_ex(ctx, d, &n);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return CMK_ECRYPTO;
    memcpy(tag, d, BACKUP_TAG_LEN);
    return 0;
}

/* backup_place - where a backup payload is sealed */
static void backup_place(const char *tenant, cmk_place *pl)
{
    pl->env = tenant;
    pl->table = "vault_backup";
    pl->row = "key";
    pl->column = "payload";
}

/* version_json - one version with its private key (a secret: wipe the tree) */
static int version_json(vault_svc *svc, const vrow *v, const verrow *ver, int current, cJSON *arr,
                        cmk_err *err)
{
    uint8_t *der = NULL;
    size_t len = 0;
    char *b64 = NULL;
    cJSON *o;
    int rc = vstore_version_der(svc, v->tenant, ver, &der, &len, err);

    if (rc < 0)
        return rc;
    rc = vb64url_encode(der, len, &b64);
    OPENSSL_cleanse(der, len);
    free(der);
    if (rc < 0)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    o = cJSON_CreateObject();
    if (!o) {
        OPENSSL_cleanse(b64, strlen(b64));
        free(b64);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cJSON_AddItemToArray(arr, o);
    cJSON_AddStringToObject(o, "version", ver->version);
    cJSON_AddNumberToObject(o, "kty", ver->kty);
    cJSON_AddNumberToObject(o, "bits", ver->bits);
    cJSON_AddBoolToObject(o, "enabled", ver->enabled);
    cJSON_AddNumberToObject(o, "nbf_ms", (double)ver->nbf_ms);
    cJSON_AddNumberToObject(o, "exp_ms", (double)ver->exp_ms);
    cJSON_AddNumberToObject(o, "created_ms", (double)ver->created_ms);
    cJSON_AddNumberToObject(o, "updated_ms", (double)ver->updated_ms);
    cJSON_AddBoolToObject(o, "current", current);
    cJSON_AddStringToObject(o, "der", b64);
    OPENSSL_cleanse(b64, strlen(b64));
    free(b64);
    return 0;
}

/* vault_key_backup - an opaque sealed backup of a key */
int vault_key_backup(vault_svc *self, const char *principal, const char *vault, const char *name,
                     uint8_t **blob, size_t *len, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k;
    verrow *vers = NULL;
    size_t nv = 0, plen = 0, blen = 0;
    cJSON *j = NULL, *arr;
    char *payload = NULL;
    uint8_t *out = NULL;
    cmk_place pl;
    int rc;

    *blob = NULL;
    *len = 0;
    memset(&k, 0, sizeof k);
    vop_begin(&op, self, principal, "key.backup", vault, name, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_BACKUP, 0, 0, &v, err)) < 0 ||
        (rc = vault_check_key_name(name, err)) < 0 ||
        (rc = vstore_key_by_name(self, &v, name, &k, err)) < 0)
        goto done;
    if (k.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "key '%s' in vault '%s' is deleted; recover it before "
                         "backing it up",
                         name, vault);
        goto done;
    }
    if ((rc = vstore_versions_list(self, k.id, &vers, &nv, err)) < 0)
        goto done;
    j = cJSON_CreateObject();
    arr = j ? cJSON_AddArrayToObject(j, "versions") : NULL;
    if (!arr) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    cJSON_AddNumberToObject(j, "format", 1);
    cJSON_AddStringToObject(j, "name", k.name);
    cJSON_AddNumberToObject(j, "key_ops", k.key_ops);
    cJSON_AddBoolToObject(j, "enabled", k.enabled);
    cJSON_AddItemToObject(j, "tags", cJSON_Parse(k.tags ? k.tags : "{}"));
    cJSON_AddNumberToObject(j, "created_ms", (double)k.created_ms);
    cJSON_AddNumberToObject(j, "rot_after_ms", (double)k.rot_after_ms);
    cJSON_AddNumberToObject(j, "rot_before_ms", (double)k.rot_before_ms);
    cJSON_AddNumberToObject(j, "rot_expiry_ms", (double)k.rot_expiry_ms);
    for (size_t i = 0; i < nv && rc == 0; i++)
        rc = version_json(self, &v, &vers[i], vers[i].id == k.current, arr, err);
    if (rc < 0)
        goto done;
    payload = cJSON_PrintUnformatted(j);
    if (!payload) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    plen = strlen(payload);
    out = malloc(BACKUP_HEAD_LEN + plen + CMK_BLOB_OVERHEAD);
    if (!out) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(out, BACKUP_MAGIC, BACKUP_MAGIC_LEN);
    if (tenant_tag(v.tenant, out + BACKUP_MAGIC_LEN) < 0) {
        rc = cmk_err_set(err, CMK_ECRYPTO, "SHA-256 failed");
        goto done;
    }
    backup_place(v.tenant, &pl);
    rc = cmk_seal(self->sealer, self->master, &pl, (const uint8_t *)payload, plen,
                  out + BACKUP_HEAD_LEN, plen + CMK_BLOB_OVERHEAD, &blen, err);
    if (rc < 0)
        goto done;
    *blob = out;
    *len = BACKUP_HEAD_LEN + blen;
    out = NULL;
    snprintf(op.detail, sizeof op.detail, "versions=%zu bytes=%zu", nv, *len);
done:
    if (payload) {
        OPENSSL_cleanse(payload, plen);
        free(payload);
    }
    vjson_wipe_delete(j);
    free(out);
    free(vers);
    krow_clear(&k);
    return vop_end(&op, rc, err);
}

/* num - a number member as int64 */
static int64_t num(const cJSON *o, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(n) ? (int64_t)n->valuedouble : 0;
}

/* restore_versions - insert the versions of a payload under key k (in a transaction) */
static int restore_versions(vault_svc *svc, const vrow *v, krow *k, const cJSON *arr, verrow *cur,
                            cmk_err *err)
{
    const cJSON *o;
    int rc = 0, have_cur = 0;

    cJSON_ArrayForEach(o, arr)
    {
        const char *ver_s = cmk_json_str(o, "version", NULL);
        const char *der_s = cmk_json_str(o, "der", NULL);
        uint8_t *der = NULL;
        size_t dlen = 0;
        EVP_PKEY *pk = NULL;
        verrow ver;

        memset(&ver, 0, sizeof ver);
        if (!ver_s || strlen(ver_s) >= sizeof ver.version || !der_s ||
            vb64_decode(der_s, strlen(der_s), &der, &dlen) < 0)
            return cmk_err_set(err, CMK_EINVAL, "the backup is damaged (a version is unreadable)");
        rc = vrsa_from_private_der(der, dlen, &pk, err);
        if (rc == 0)
            rc = vrsa_check_key(pk, &ver.bits, err);
        if (rc == 0)
            rc = vrsa_public_der(pk, ver.pub, sizeof ver.pub, &ver.pub_len, err);
        EVP_PKEY_free(pk);
        if (rc == 0) {
            cmk_strlcpy(ver.version, ver_s, sizeof ver.version);
            ver.key_id = k->id;
            ver.kty = num(o, "kty") == VAULT_KTY_RSA_HSM ? VAULT_KTY_RSA_HSM : VAULT_KTY_RSA;
            ver.enabled = cmk_json_bool(o, "enabled", 1);
            ver.nbf_ms = num(o, "nbf_ms");
            ver.exp_ms = num(o, "exp_ms");
            ver.created_ms = num(o, "created_ms");
            ver.updated_ms = num(o, "updated_ms");
            rc = vstore_version_insert(svc, v->tenant, &ver, der, dlen, err);
        }
        OPENSSL_cleanse(der, dlen);
        free(der);
        if (rc < 0)
            return rc;
        if (cmk_json_bool(o, "current", 0) || !have_cur) {
            *cur = ver;
            have_cur = 1;
        }
    }
    if (!have_cur)
        return cmk_err_set(err, CMK_EINVAL, "the backup is damaged (it holds no version)");
    k->current = cur->id;
    return vstore_key_update(svc, k, err);
}

/* open_backup - check the header and unseal the payload of a backup (lock held) */
static int open_backup(vault_svc *svc, const vrow *v, const uint8_t *blob, size_t len,
                       cJSON **payload, cmk_err *err)
{
    uint8_t tag[BACKUP_TAG_LEN], *plain;
    size_t plen = 0;
    cmk_place pl;
    int rc;

    *payload = NULL;
    if (!blob || len <= BACKUP_HEAD_LEN + CMK_BLOB_OVERHEAD || len > BACKUP_MAX ||
        memcmp(blob, BACKUP_MAGIC, BACKUP_MAGIC_LEN) != 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "this is not a key backup made by `cmkctl key "
                           "backup` (bad header)");
    if (tenant_tag(v->tenant, tag) < 0)
        return cmk_err_set(err, CMK_ECRYPTO, "SHA-256 failed");
    if (memcmp(tag, blob + BACKUP_MAGIC_LEN, BACKUP_TAG_LEN) != 0)
        return cmk_err_set(err, CMK_EPERM,
                           "this backup was taken from a vault of another "
                           "tenant; a key backup restores only into a vault of the tenant it "
                           "came from (vault '%s' belongs to tenant '%s')",
                           v->name, v->tenant);
    plain = malloc(len);
    if (!plain)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    backup_place(v->tenant, &pl);
    rc = cmk_open(svc->sealer, svc->master, &pl, blob + BACKUP_HEAD_LEN, len - BACKUP_HEAD_LEN,
                  plain, len, &plen, err);
    if (rc < 0) {
        free(plain);
        return cmk_err_set(err, CMK_ECRYPTO,
                           "the backup cannot be opened: it is damaged or "
                           "was made by another controller (another master key)");
    }
    *payload = cJSON_ParseWithLength((const char *)plain, plen);
    OPENSSL_cleanse(plain, plen);
    free(plain);
    if (!*payload || cJSON_GetObjectItemCaseSensitive(*payload, "format") == NULL)
        return cmk_err_set(err, CMK_EINVAL, "the backup is damaged (unreadable payload)");
    return 0;
}

/* vault_key_restore - restore a backup into a vault of the same tenant */
int vault_key_restore(vault_svc *self, const char *principal, const char *vault,
                      const uint8_t *blob, size_t len, vault_key_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    krow k, old;
    verrow cur;
    cJSON *j = NULL;
    const char *name;
    char *tags = NULL;
    int rc;

    memset(&k, 0, sizeof k);
    memset(&old, 0, sizeof old);
    vop_begin(&op, self, principal, "key.restore", vault, NULL, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_RESTORE, 0, 0, &v, err)) < 0 ||
        (rc = open_backup(self, &v, blob, len, &j, err)) < 0)
        goto done;
    name = cmk_json_str(j, "name", NULL);
    if ((rc = vault_check_key_name(name, err)) < 0)
        goto done;
    vop_set_target(&op, vault, name, NULL);
    if (vstore_key_by_name(self, &v, name, &old, NULL) == 0) {
        rc = old.deleted_ms
                 ? cmk_err_set(err, CMK_EEXIST,
                               "key '%s' exists in vault '%s' as a deleted key; "
                               "purge it (cmkctl key purge %s %s) or recover it instead of "
                               "restoring",
                               name, vault, vault, name)
                 : cmk_err_set(err, CMK_EEXIST,
                               "key '%s' already exists in vault '%s'; a "
                               "backup restores only a key name that is free",
                               name, vault);
        goto done;
    }
    tags = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "tags"));
    k.vault_id = v.id;
    cmk_strlcpy(k.name, name, sizeof k.name);
    k.key_ops = (unsigned)num(j, "key_ops") & VAULT_KEYOPS_ALL;
    if (!k.key_ops)
        k.key_ops = VAULT_KEYOPS_DEFAULT;
    k.enabled = cmk_json_bool(j, "enabled", 1);
    k.tags = tags ? tags : strdup("{}");
    tags = NULL;
    k.created_ms = num(j, "created_ms");
    k.updated_ms = cmk_clock_now(self->clock);
    k.rot_after_ms = num(j, "rot_after_ms");
    k.rot_before_ms = num(j, "rot_before_ms");
    k.rot_expiry_ms = num(j, "rot_expiry_ms");
    if (!k.tags) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vstore_begin(self, err)) < 0)
        goto done;
    rc = vstore_key_insert(self, &k, err);
    if (rc == 0)
        rc = restore_versions(self, &v, &k, cJSON_GetObjectItemCaseSensitive(j, "versions"), &cur,
                              err);
    if (rc == 0)
        rc = vstore_commit(self, err);
    else
        vstore_rollback(self);
    if (rc < 0)
        goto done;
    vtimer_schedule_key(self, &k);
    snprintf(op.detail, sizeof op.detail, "restored current version=%s", cur.version);
    rc = vkeys_fill_info(self, &v, &k, &cur, out, err);
done:
    vjson_wipe_delete(j);
    krow_clear(&k);
    krow_clear(&old);
    return vop_end(&op, rc, err);
}
