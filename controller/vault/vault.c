/*
 * vault.c - the vault service object, the per-call operation context (lock, audit, rotation
 * hook), access checks, and the vault objects themselves: create, get, list, update, delete,
 * recover, purge (access lists are in vault_access.c).
 */
#include "vault_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/util.h"

/* ---- configuration and the service ---- */

/* vault_config_defaults - the documented defaults */
void vault_config_defaults(vault_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->default_retention_days = 90;
    cfg->throttle_enabled = 1;
    cfg->throttle_window_ms = 10000;
    cfg->limit_rsa2048 = 4000;
    cfg->limit_rsa3072 = 1000;
    cfg->limit_rsa4096 = 250;
    cfg->limit_mgmt = 2000;
    cfg->rotation_min_ms = 7 * VAULT_DAY_MS;
    cfg->expiry_min_ms = 28 * VAULT_DAY_MS;
    cfg->dns_suffix = "vault.azure.net";
}

/* master_dek - the master key as a DEK whose id is derived from the key */
static cmk_dek *master_dek(const uint8_t key[VAULT_MASTER_KEY_LEN], cmk_err *err)
{
    static const char label[] = "cmksim vault master key id";
    uint8_t digest[32], id[CMK_DEK_ID_LEN];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, label, sizeof label - 1) &&
             EVP_DigestUpdate(ctx, key, VAULT_MASTER_KEY_LEN) &&
             EVP_DigestFinal_ex(ctx, digest, &dlen);

    EVP_MD_CTX_free(ctx);
    if (!ok) {
        cmk_err_set(err, CMK_ECRYPTO, "cannot derive the master key id");
        return NULL;
    }
    memcpy(id, digest, sizeof id);
    return cmk_dek_from_bytes(id, key, err);
}

/* vault_svc_new - the service over controller.db */
vault_svc *vault_svc_new(sqlite3 *db, cmk_clock *clock, audit_log *audit,
                         const uint8_t master_key[VAULT_MASTER_KEY_LEN], const vault_config *cfg,
                         cmk_err *err)
{
    vault_svc *self;

    if (!db || !clock || !master_key) {
        cmk_err_set(err, CMK_EINVAL, "vault: a database, a clock and a master key are required");
        return NULL;
    }
    self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "vault: out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->mu, NULL);
    self->db = db;
    self->clock = clock;
    self->audit = audit;
    if (cfg)
        self->cfg = *cfg;
    else
        vault_config_defaults(&self->cfg);
    cmk_strlcpy(self->dns_buf,
                self->cfg.dns_suffix && *self->cfg.dns_suffix ? self->cfg.dns_suffix
                                                              : "vault.azure.net",
                sizeof self->dns_buf);
    self->cfg.dns_suffix = self->dns_buf;
    if (self->cfg.default_retention_days < 7 || self->cfg.default_retention_days > 90) {
        cmk_err_set(err, CMK_EINVAL,
                    "vault config: default_retention_days %d is out of range; "
                    "use 7 to 90",
                    self->cfg.default_retention_days);
        vault_svc_destroy(&self);
        return NULL;
    }
    self->master = master_dek(master_key, err);
    self->sealer = self->master ? cmk_sealer_new(err) : NULL;
    self->throttle = self->sealer ? vault_throttle_new(&self->cfg) : NULL;
    if (!self->throttle) {
        if (self->sealer)
            cmk_err_set(err, CMK_ENOMEM, "vault: out of memory");
        vault_svc_destroy(&self);
        return NULL;
    }
    pthread_mutex_lock(&self->mu);
    if (vstore_init(self, err) < 0) {
        pthread_mutex_unlock(&self->mu);
        vault_svc_destroy(&self);
        return NULL;
    }
    pthread_mutex_unlock(&self->mu);
    return self;
}

/* vault_svc_destroy - cancel timers, wipe and free */
void vault_svc_destroy(vault_svc **self_p)
{
    vault_svc *self;

    if (!self_p || !*self_p)
        return;
    self = *self_p;
    pthread_mutex_lock(&self->mu);
    vtimer_cancel_all(self);
    pthread_mutex_unlock(&self->mu);
    vault_throttle_destroy(&self->throttle);
    cmk_sealer_destroy(&self->sealer);
    cmk_dek_destroy(&self->master);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

/* vault_svc_set_rotate_hook - register the rotation hook */
void vault_svc_set_rotate_hook(vault_svc *self, vault_rotate_hook fn, void *arg)
{
    pthread_mutex_lock(&self->mu);
    self->hook = fn;
    self->hook_arg = arg;
    pthread_mutex_unlock(&self->mu);
}

/* vault_svc_purge_due - purge what is past its retention */
int vault_svc_purge_due(vault_svc *self, int *purged, cmk_err *err)
{
    int rc;
    pthread_mutex_lock(&self->mu);
    rc = vsweep_due(self, purged, err);
    pthread_mutex_unlock(&self->mu);
    return rc;
}

/* ---- operation context ---- */

/* vop_begin - start a public call */
void vop_begin(vault_op *op, vault_svc *svc, const char *principal, const char *operation,
               const char *vault, const char *key, const char *version)
{
    memset(op, 0, sizeof *op);
    op->svc = svc;
    op->principal = principal;
    op->operation = operation;
    vop_set_target(op, vault, key, version);
    vop_lock(op);
    vsweep_due(svc, NULL, NULL);
}

/* vop_set_target - the audit target "vault[/key[/version]]" */
void vop_set_target(vault_op *op, const char *vault, const char *key, const char *version)
{
    snprintf(op->target, sizeof op->target, "%s%s%s%s%s", vault ? vault : "-", key ? "/" : "",
             key ? key : "", version && *version ? "/" : "", version && *version ? version : "");
}

/* vop_lock - take the service lock */
void vop_lock(vault_op *op)
{
    if (!op->locked) {
        pthread_mutex_lock(&op->svc->mu);
        op->locked = 1;
    }
}

/* vop_unlock - release the service lock */
void vop_unlock(vault_op *op)
{
    if (op->locked) {
        op->locked = 0;
        pthread_mutex_unlock(&op->svc->mu);
    }
}

/* vop_end - unlock, audit, notify */
int vop_end(vault_op *op, int rc, cmk_err *err)
{
    vault_svc *svc = op->svc;
    vault_rotate_hook hook;
    void *hook_arg;
    cmk_err aerr = CMK_ERR_INIT;

    /* the append runs under the service lock: it shares the db connection with the vault's
     * transactions and must never land inside one of them */
    vop_lock(op);
    hook = svc->hook;
    hook_arg = svc->hook_arg;
    if (svc->audit &&
        audit_append(svc->audit, op->principal ? op->principal : "-", op->operation, op->target, rc,
                     rc < 0 ? (err ? err->msg : "") : op->detail, NULL, &aerr) < 0) {
        cmk_warn("vault.audit_failed", "op=%s target=%s error=\"%s\"", op->operation, op->target,
                 aerr.msg);
        /* fail closed: an operation that could not be audited does not succeed (its result is
         * not returned; crypto_op wipes it) */
        if (rc == 0)
            rc = cmk_err_set(err, CMK_EIO,
                             "refused: %s on %s could not be audited (%s); free space for the run dir "
                             "and retry",
                             op->operation, op->target, aerr.msg);
    }
    vop_unlock(op);
    if (rc == 0 && op->notify && hook) {
        vault_rotation_event ev = {
            op->ev_tenant, op->ev_vault, op->ev_key,    op->ev_old[0] ? op->ev_old : NULL,
            op->ev_new,    op->ev_kid,   op->ev_reason, op->ev_at};
        hook(&ev, hook_arg);
    }
    if (rc == 0 && err)
        cmk_err_clear(err);
    return rc;
}

/* ---- checks ---- */

/* vault_check_principal - 1..255 printable characters */
int vault_check_principal(const char *principal, cmk_err *err)
{
    size_t n = principal ? strlen(principal) : 0;
    if (n == 0 || n >= VAULT_PRINCIPAL_MAX)
        return cmk_err_set(err, CMK_EPERM,
                           "no calling principal given (or longer than 255 "
                           "characters); every vault call names who makes it");
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)principal[i]))
            return cmk_err_set(err, CMK_EINVAL,
                               "principal '%s' contains spaces or control "
                               "characters",
                               principal);
    return 0;
}

/* check_vault_name - Azure's rule: 3-24 of a-z A-Z 0-9 and '-', starting with a letter,
 * ending with a letter or digit, no "--" */
static int check_vault_name(const char *name, cmk_err *err)
{
    size_t n = name ? strlen(name) : 0;
    int ok =
        n >= 3 && n <= 24 && isalpha((unsigned char)name[0]) && isalnum((unsigned char)name[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok = (isalnum((unsigned char)name[i]) || name[i] == '-') &&
             !(name[i] == '-' && name[i + 1] == '-');
    if (!ok)
        return cmk_err_set(err, CMK_EINVAL,
                           "invalid vault name '%s': use 3-24 letters, digits "
                           "and dashes, starting with a letter, ending with a letter or digit, "
                           "without consecutive dashes",
                           name ? name : "");
    return 0;
}

/* vault_check_key_name - 1-127 of a-z A-Z 0-9 - */
int vault_check_key_name(const char *name, cmk_err *err)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n < VAULT_KEY_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '-';
    if (!ok)
        return cmk_err_set(err, CMK_EINVAL,
                           "invalid key name '%s': use 1-127 letters, digits "
                           "and dashes",
                           name ? name : "");
    return 0;
}

/* vault_check_tags - an object of at most 15 string values */
int vault_check_tags(const cJSON *tags, cmk_err *err)
{
    const cJSON *t;
    int n = 0;

    if (!tags)
        return 0;
    if (!cJSON_IsObject(tags))
        return cmk_err_set(err, CMK_EINVAL, "tags must be a JSON object of strings");
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsString(t) || !t->string || !*t->string)
            return cmk_err_set(err, CMK_EINVAL,
                               "tag '%s' must have a non-empty name and a "
                               "string value",
                               t->string ? t->string : "");
        if (strlen(t->string) > 512 || strlen(t->valuestring) > 256)
            return cmk_err_set(err, CMK_EINVAL,
                               "tag '%.40s': names are limited to 512 and "
                               "values to 256 characters",
                               t->string);
        n++;
    }
    if (n > VAULT_MAX_TAGS)
        return cmk_err_set(err, CMK_ELIMIT, "%d tags given; a key has at most %d", n,
                           VAULT_MAX_TAGS);
    return 0;
}

/* vault_check_perm - refuse unless principal holds perm on the vault */
int vault_check_perm(vault_svc *svc, const vrow *v, const char *principal, unsigned perm,
                     cmk_err *err)
{
    unsigned have = 0;
    int rc = vstore_access_get(svc, v->id, principal, &have, err);

    if (rc < 0)
        return rc;
    if ((have & perm) == perm)
        return 0;
    return cmk_err_set(err, CMK_EPERM,
                       "principal '%s' lacks permission '%s' on vault '%s'; grant it with: "
                       "cmkctl vault grant %s --principal %s --perms %s",
                       principal, vault_perm_name(perm), v->name, v->name, principal,
                       vault_perm_name(perm));
}

/* vault_time_str - RFC 3339 of a clock time */
void vault_time_str(int64_t ms, char *buf, size_t cap)
{
    cmk_time_format(ms, buf, cap);
}

/* vault_open_for - load and check a vault for an operation */
int vault_open_for(vault_op *op, const char *name, unsigned perm, int allow_deleted, int throttle,
                   vrow *v, cmk_err *err)
{
    char when[40];
    int rc = vault_check_principal(op->principal, err);

    if (rc < 0)
        return rc;
    if ((rc = check_vault_name(name, err)) < 0)
        return rc;
    if ((rc = vstore_vault_by_name(op->svc, name, v, err)) < 0)
        return rc;
    if ((rc = vault_check_perm(op->svc, v, op->principal, perm, err)) < 0)
        return rc;
    if (throttle >= 0 &&
        (rc = vault_throttle_take(op->svc->throttle, v->id, v->name, VAULT_TX_MGMT, 0, err)) < 0)
        return rc;
    if (v->deleted_ms && !allow_deleted) {
        vault_time_str(v->purge_ms, when, sizeof when);
        return cmk_err_set(err, CMK_ESTATE,
                           "vault '%s' is deleted (recoverable until %s); "
                           "recover it with: cmkctl vault recover %s",
                           v->name, when, v->name);
    }
    return 0;
}

/* vault_recovery_level - Azure's recoveryLevel for a vault's settings */
const char *vault_recovery_level(const vrow *v, char *buf, size_t cap)
{
    const char *lvl;
    if (!v->soft_delete)
        lvl = "Purgeable";
    else if (v->retention_days < 90)
        lvl = v->purge_protection ? "CustomizedRecoverable" : "CustomizedRecoverable+Purgeable";
    else
        lvl = v->purge_protection ? "Recoverable" : "Recoverable+Purgeable";
    cmk_strlcpy(buf, lvl, cap);
    return buf;
}

/* vault_make_kid - https://<vault>.<suffix>/keys/<key>[/<version>] */
void vault_make_kid(const vault_svc *svc, const char *vault, const char *key, const char *version,
                    char *out, size_t cap)
{
    snprintf(out, cap, "https://%s.%s/keys/%s%s%s", vault, svc->cfg.dns_suffix, key,
             version && *version ? "/" : "", version && *version ? version : "");
}

/* ---- vault objects ---- */

/* fill_vault_info - a row as vault_info */
static void fill_vault_info(const vault_svc *svc, const vrow *v, vault_info *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    cmk_strlcpy(out->tenant, v->tenant, sizeof out->tenant);
    cmk_strlcpy(out->name, v->name, sizeof out->name);
    cmk_strlcpy(out->region, v->region, sizeof out->region);
    snprintf(out->uri, sizeof out->uri, "https://%s.%s/", v->name, svc->cfg.dns_suffix);
    out->retention_days = v->retention_days;
    out->soft_delete = v->soft_delete;
    out->purge_protection = v->purge_protection;
    out->public_network_access = v->public_network;
    cmk_strlcpy(out->created_by, v->created_by, sizeof out->created_by);
    out->created_ms = v->created_ms;
    out->updated_ms = v->updated_ms;
    out->deleted_ms = v->deleted_ms;
    out->scheduled_purge_ms = v->purge_ms;
}

/* vault_info_to_json - a vault as JSON */
cJSON *vault_info_to_json(const vault_info *v)
{
    cJSON *j = cJSON_CreateObject();
    char t[40];

    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "name", v->name);
    cJSON_AddStringToObject(j, "tenant", v->tenant);
    cJSON_AddStringToObject(j, "region", v->region);
    cJSON_AddStringToObject(j, "vaultUri", v->uri);
    cJSON_AddNumberToObject(j, "softDeleteRetentionInDays", v->retention_days);
    cJSON_AddBoolToObject(j, "enableSoftDelete", v->soft_delete);
    cJSON_AddBoolToObject(j, "enablePurgeProtection", v->purge_protection);
    cJSON_AddStringToObject(j, "publicNetworkAccess",
                            v->public_network_access ? "Enabled" : "Disabled");
    cJSON_AddStringToObject(j, "createdBy", v->created_by);
    cJSON_AddStringToObject(j, "created", cmk_time_format(v->created_ms, t, sizeof t));
    cJSON_AddStringToObject(j, "updated", cmk_time_format(v->updated_ms, t, sizeof t));
    if (v->deleted_ms) {
        cJSON_AddStringToObject(j, "deletedDate", cmk_time_format(v->deleted_ms, t, sizeof t));
        cJSON_AddStringToObject(j, "scheduledPurgeDate",
                                cmk_time_format(v->scheduled_purge_ms, t, sizeof t));
    }
    return j;
}

/* vault_create - a new vault */
int vault_create(vault_svc *self, const char *principal, const char *tenant, const char *name,
                 const vault_props *props, vault_info *out, cmk_err *err)
{
    vault_op op;
    vrow v, old;
    vault_props def;
    int rc;

    vop_begin(&op, self, principal, "vault.create", name, NULL, NULL);
    if (!props) {
        memset(&def, 0, sizeof def);
        props = &def;
    }
    memset(&v, 0, sizeof v);
    if ((rc = vault_check_principal(principal, err)) < 0 || (rc = check_vault_name(name, err)) < 0)
        goto done;
    if (!tenant || !*tenant || strlen(tenant) >= VAULT_PRINCIPAL_MAX) {
        rc = cmk_err_set(err, CMK_EINVAL, "a vault needs its tenant id (1-255 characters)");
        goto done;
    }
    if (!props->region || !*props->region || strlen(props->region) >= VAULT_REGION_MAX) {
        rc = cmk_err_set(err, CMK_EINVAL, "vault '%s' needs a region (e.g. westeurope)", name);
        goto done;
    }
    v.retention_days =
        props->retention_days ? props->retention_days : self->cfg.default_retention_days;
    if (v.retention_days < 7 || v.retention_days > 90) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "soft-delete retention of %d days is out of range; "
                         "choose 7 to 90 days",
                         v.retention_days);
        goto done;
    }
    v.soft_delete = props->soft_delete != VAULT_OFF;
    v.purge_protection = props->purge_protection == VAULT_ON;
    v.public_network = props->public_network_access != VAULT_OFF;
    if (v.purge_protection && !v.soft_delete) {
        rc = cmk_err_set(err, CMK_EINVAL,
                         "purge protection needs soft delete; turn soft delete "
                         "on for vault '%s'",
                         name);
        goto done;
    }
    if (vstore_vault_by_name(self, name, &old, NULL) == 0) {
        char when[40];
        vault_time_str(old.purge_ms, when, sizeof when);
        rc = old.deleted_ms
                 ? cmk_err_set(err, CMK_EEXIST,
                               "vault name '%s' is held by a deleted vault "
                               "(recoverable until %s); recover it (cmkctl vault recover %s) or "
                               "purge it (cmkctl vault purge %s) first",
                               name, when, name, name)
                 : cmk_err_set(err, CMK_EEXIST,
                               "vault name '%s' is taken; vault names are "
                               "globally unique, pick another",
                               name);
        goto done;
    }
    cmk_strlcpy(v.tenant, tenant, sizeof v.tenant);
    cmk_strlcpy(v.name, name, sizeof v.name);
    cmk_strlcpy(v.region, props->region, sizeof v.region);
    cmk_strlcpy(v.created_by, principal, sizeof v.created_by);
    v.created_ms = v.updated_ms = cmk_clock_now(self->clock);
    if ((rc = vstore_begin(self, err)) < 0)
        goto done;
    rc = vstore_vault_insert(self, &v, err);
    if (rc == 0)
        rc = vstore_access_set(self, v.id, principal, VAULT_PERM_ALL, err);
    if (rc == 0)
        rc = vstore_commit(self, err);
    else
        vstore_rollback(self);
    if (rc == 0) {
        fill_vault_info(self, &v, out);
        snprintf(op.detail, sizeof op.detail,
                 "tenant=%s region=%s retention_days=%d "
                 "soft_delete=%d purge_protection=%d public_network_access=%d",
                 tenant, v.region, v.retention_days, v.soft_delete, v.purge_protection,
                 v.public_network);
    }
done:
    return vop_end(&op, rc, err);
}

/* vault_get - a vault's properties */
int vault_get(vault_svc *self, const char *principal, const char *name, vault_info *out,
              cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;

    vop_begin(&op, self, principal, "vault.get", name, NULL, NULL);
    rc = vault_open_for(&op, name, VAULT_PERM_GET, 1, 0, &v, err);
    if (rc == 0)
        fill_vault_info(self, &v, out);
    return vop_end(&op, rc, err);
}

/* vault_list - a tenant's vaults the principal can see */
int vault_list(vault_svc *self, const char *principal, const char *tenant, int include_deleted,
               vault_info **out, size_t *n, cmk_err *err)
{
    vault_op op;
    vrow *rows = NULL;
    size_t nrows = 0;
    int rc;

    *out = NULL;
    *n = 0;
    vop_begin(&op, self, principal, "vault.list", tenant ? tenant : "*", NULL, NULL);
    if ((rc = vault_check_principal(principal, err)) < 0)
        goto done;
    if ((rc = vstore_vaults_list(self, tenant, &rows, &nrows, err)) < 0)
        goto done;
    *out = calloc(nrows ? nrows : 1, sizeof **out);
    if (!*out) {
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nrows; i++) {
        unsigned perms = 0;
        if (rows[i].deleted_ms && !include_deleted)
            continue;
        if ((rc = vstore_access_get(self, rows[i].id, principal, &perms, err)) < 0)
            break;
        if (perms)
            fill_vault_info(self, &rows[i], &(*out)[(*n)++]);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    } else {
        snprintf(op.detail, sizeof op.detail, "count=%zu", *n);
    }
done:
    free(rows);
    return vop_end(&op, rc, err);
}

/* vault_update - change properties */
int vault_update(vault_svc *self, const char *principal, const char *name,
                 const vault_update_req *req, vault_info *out, cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;

    vop_begin(&op, self, principal, "vault.update", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_MANAGE_VAULT, 0, 0, &v, err)) < 0)
        goto done;
    if (!req)
        goto fill;
    if (req->soft_delete == VAULT_OFF && v.soft_delete) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "soft delete cannot be turned off once it is on "
                         "(vault '%s')",
                         name);
        goto done;
    }
    if (req->purge_protection == VAULT_OFF && v.purge_protection) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "purge protection cannot be turned off once it is on "
                         "(vault '%s'); deleted keys stay until their retention ends",
                         name);
        goto done;
    }
    if (req->soft_delete == VAULT_ON)
        v.soft_delete = 1;
    if (req->purge_protection == VAULT_ON) {
        if (!v.soft_delete) {
            rc = cmk_err_set(err, CMK_ESTATE,
                             "purge protection needs soft delete; turn soft "
                             "delete on for vault '%s' first",
                             name);
            goto done;
        }
        v.purge_protection = 1;
    }
    if (req->public_network_access != VAULT_DEFAULT)
        v.public_network = req->public_network_access == VAULT_ON;
    v.updated_ms = cmk_clock_now(self->clock);
    if ((rc = vstore_vault_update(self, &v, err)) < 0)
        goto done;
    snprintf(op.detail, sizeof op.detail,
             "soft_delete=%d purge_protection=%d "
             "public_network_access=%d",
             v.soft_delete, v.purge_protection, v.public_network);
fill:
    fill_vault_info(self, &v, out);
done:
    return vop_end(&op, rc, err);
}

/* vault_delete - soft delete (or purge when soft delete is off) */
int vault_delete(vault_svc *self, const char *principal, const char *name, cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;

    vop_begin(&op, self, principal, "vault.delete", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_MANAGE_VAULT, 0, 0, &v, err)) < 0)
        goto done;
    if (!v.soft_delete) {
        rc = vpurge_vault(self, v.id, NULL, NULL, err);
        snprintf(op.detail, sizeof op.detail, "purged at once (soft delete is off)");
        goto done;
    }
    v.deleted_ms = v.updated_ms = cmk_clock_now(self->clock);
    v.purge_ms = v.deleted_ms + (int64_t)v.retention_days * VAULT_DAY_MS;
    if ((rc = vstore_vault_update(self, &v, err)) < 0)
        goto done;
    vtimer_schedule_vault(self, &v);
    {
        char when[40];
        vault_time_str(v.purge_ms, when, sizeof when);
        snprintf(op.detail, sizeof op.detail, "soft-deleted; scheduled purge %s", when);
    }
done:
    return vop_end(&op, rc, err);
}

/* reschedule_vault_keys - timers of every key of a vault (after a recover) */
static void reschedule_vault_keys(vault_svc *svc, int64_t vault_id)
{
    krow *keys = NULL;
    size_t n = 0;
    if (vstore_keys_list(svc, vault_id, VAULT_LIST_ALL, &keys, &n, NULL) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        vtimer_schedule_key(svc, &keys[i]);
    krows_free(&keys, n);
}

/* vault_recover - undo a soft delete */
int vault_recover(vault_svc *self, const char *principal, const char *name, cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;

    vop_begin(&op, self, principal, "vault.recover", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_RECOVER, 1, 0, &v, err)) < 0)
        goto done;
    if (!v.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE, "vault '%s' is not deleted; nothing to recover", name);
        goto done;
    }
    v.deleted_ms = v.purge_ms = 0;
    v.updated_ms = cmk_clock_now(self->clock);
    if ((rc = vstore_vault_update(self, &v, err)) < 0)
        goto done;
    vtimer_cancel(self, VT_VAULT_PURGE, v.id);
    reschedule_vault_keys(self, v.id);
    snprintf(op.detail, sizeof op.detail, "recovered");
done:
    return vop_end(&op, rc, err);
}

/* vault_purge - purge a soft-deleted vault */
int vault_purge(vault_svc *self, const char *principal, const char *name, cmk_err *err)
{
    vault_op op;
    vrow v;
    char when[40];
    int rc;

    vop_begin(&op, self, principal, "vault.purge", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_PURGE, 1, 0, &v, err)) < 0)
        goto done;
    if (!v.deleted_ms) {
        rc = cmk_err_set(err, CMK_ESTATE,
                         "vault '%s' is not deleted; delete it first (cmkctl "
                         "vault delete %s), then purge",
                         name, name);
        goto done;
    }
    if (v.purge_protection) {
        vault_time_str(v.purge_ms, when, sizeof when);
        rc = cmk_err_set(err, CMK_ESTATE,
                         "vault '%s' has purge protection: it cannot be purged "
                         "before its retention ends; it is purged automatically at %s",
                         name, when);
        goto done;
    }
    rc = vpurge_vault(self, v.id, NULL, NULL, err);
    snprintf(op.detail, sizeof op.detail, "purged");
done:
    return vop_end(&op, rc, err);
}

/* vault_secret_free - wipe and free */
void vault_secret_free(uint8_t **p, size_t len)
{
    if (p && *p) {
        OPENSSL_cleanse(*p, len);
        free(*p);
        *p = NULL;
    }
}
