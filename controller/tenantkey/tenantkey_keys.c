/*
 * tenantkey_keys.c - the tenant's keys: generate (RSA-2048 handed out as a .pfx), upload (.pfx
 * with its password, or .byok for the tenant region's key-exchange key), the automatic
 * activation of a region's first key, activation (Installing, then Active; 24 hours between
 * activations; not while anything is locked), the key list, the key-exchange key, and the
 * tenant's status view.
 */
#include "tenantkey_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* check_name - Azure key names: 1-127 letters, digits and dashes */
static int check_name(tk_op *op, const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n >= TENANTKEY_NAME_MAX)
        return cmk_err_set(op->err, CMK_EINVAL, "a key needs a name of 1-127 characters");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-')
            return cmk_err_set(op->err, CMK_EINVAL,
                               "key name '%s' is not valid: use letters, digits and dashes", name);
    return 0;
}

/* check_region - a known Power Platform region */
static int check_region(tk_op *op, const char *region)
{
    if (!region || !directory_valid_region(region))
        return cmk_err_set(op->err, CMK_EINVAL, "unknown region '%s'; use one of: %s",
                           region ? region : "", directory_regions());
    return 0;
}

/* add_checks - what generate and upload need: tenant, region, free name, nothing locked */
static int add_checks(tk_op *op, const char *tenant, const char *region, const char *name)
{
    tk_tenant t;
    tk_key k;
    char locked[320];
    int rc;

    if ((rc = tk_tenant_open(op, tenant, &t)) < 0 || (rc = check_region(op, region)) < 0 ||
        (rc = check_name(op, name)) < 0)
        return rc;
    rc = tks_key_by_name(op->svc, tenant, name, &k, NULL);
    if (rc == 0)
        return cmk_err_set(op->err, CMK_EEXIST,
                           "tenant '%s' has a key named '%s' already (%s, region %s); choose "
                           "another name",
                           tenant, name, tenantkey_key_state_name(k.info.state), k.info.region);
    if (rc != CMK_ENOENT)
        return tks_fail(op->svc, op->err, "reading a key");
    if (tk_locked_summary(op, tenant, locked, sizeof locked))
        return cmk_err_set(op->err, CMK_ESTATE,
                           "you can't generate a new or upload an existing key until all locked "
                           "environments are unlocked (locked: %s)",
                           locked);
    return 0;
}

/* set_change - record a key change of the region (for the 72-hour lock guard):
 * "key '<name>' <what>" */
static int set_change(tk_op *op, tk_scope *s, const char *what, const char *name)
{
    s->last_change_ms = op->now;
    snprintf(s->last_change_what, sizeof s->last_change_what, "key '%s' %s", name, what);
    return tks_scope_put(op->svc, s, op->err);
}

/* tk_start_install - the key goes Installing; Active after cfg.installing_ms */
int tk_start_install(tk_op *op, tk_key *k, const char *purpose)
{
    tk_scope s;
    int rc;

    k->info.state = TENANTKEY_KEY_INSTALLING;
    cmk_strlcpy(k->purpose, purpose, sizeof k->purpose);
    k->info.activated_ms = op->now;
    k->info.active_at_ms = op->now + op->svc->cfg.installing_ms;
    if ((rc = tks_key_update(op->svc, k, op->err)) < 0 ||
        (rc = tks_scope_get(op->svc, k->info.tenant, k->info.region, &s, op->err)) < 0)
        return rc;
    s.last_activation_ms = op->now;
    cmk_strlcpy(s.last_activation_key, k->info.name, sizeof s.last_activation_key);
    rc = set_change(op, &s,
                    strcmp(purpose, "unlock") == 0 ? "was uploaded to unlock" : "was activated",
                    k->info.name);
    if (rc == 0)
        tk_schedule(op->svc, k->info.active_at_ms);
    return rc;
}

/* add_key - store a new key of the region; the region's first key is activated at once */
static int add_key(tk_op *op, const char *tenant, const char *region, const char *name,
                   EVP_PKEY *pk, const char *source, tenantkey_key_info *out)
{
    tk_key k, *all = NULL;
    tk_scope s;
    size_t n = 0;
    int first = 1, rc;

    memset(&k, 0, sizeof k);
    cmk_strlcpy(k.info.tenant, tenant, sizeof k.info.tenant);
    cmk_strlcpy(k.info.region, region, sizeof k.info.region);
    cmk_strlcpy(k.info.name, name, sizeof k.info.name);
    cmk_strlcpy(k.info.source, source, sizeof k.info.source);
    cmk_strlcpy(k.info.created_by, op->principal, sizeof k.info.created_by);
    k.info.state = TENANTKEY_KEY_AVAILABLE;
    k.info.bits = EVP_PKEY_get_bits(pk);
    k.info.created_ms = op->now;
    if ((rc = tkc_fingerprint(pk, k.info.fingerprint, op->err)) < 0 ||
        (rc = tkc_public_der(pk, k.pub, sizeof k.pub, &k.pub_len, op->err)) < 0 ||
        (rc = tks_keys_list(op->svc, tenant, NULL, 0, &all, &n, op->err)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(all[i].info.fingerprint, k.info.fingerprint) == 0)
            rc = cmk_err_set(op->err, CMK_EEXIST,
                             "this key is in tenant '%s' already, as key '%s' (%s, region %s)",
                             tenant, all[i].info.name, tenantkey_key_state_name(all[i].info.state),
                             all[i].info.region);
        if (strcmp(all[i].info.region, region) == 0)
            first = 0;
    }
    free(all);
    if (rc < 0 || (rc = tks_begin(op->svc, op->err)) < 0)
        return rc;
    if ((rc = tks_key_insert(op->svc, &k, pk, op->err)) == 0 &&
        (rc = tks_scope_get(op->svc, tenant, region, &s, op->err)) == 0)
        rc = set_change(op, &s, strcmp(source, "generated") == 0 ? "was generated" : "was uploaded",
                        name);
    if (rc == 0 && first)
        rc = tk_start_install(op, &k, "activate");
    if (rc == 0)
        rc = tks_commit(op->svc, op->err);
    else
        tks_rollback(op->svc);
    if (rc == 0) {
        if (out)
            *out = k.info;
        tk_detail(op, "key '%s' (%s, RSA %d, fingerprint %.16s...) added in %s%s", name, source,
                  k.info.bits, k.info.fingerprint, region,
                  first ? "; the first key of the region is activated at once" : "");
    }
    return rc;
}

/* tenantkey_generate - a new RSA-2048 key handed out as a .pfx */
int tenantkey_generate(tenantkey_svc *self, const char *principal, const char *tenant,
                       const char *region, const char *name, const char *password, uint8_t **pfx,
                       size_t *pfx_len, tenantkey_key_info *out, cmk_err *err)
{
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 2];
    EVP_PKEY *pk = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    tk_op op;
    int rc;

    *pfx = NULL;
    *pfx_len = 0;
    snprintf(target, sizeof target, "%s/%s", tenant ? tenant : "", name ? name : "");
    tk_op_begin(&op, self, principal, "tenantkey.generate", target, err);
    if ((rc = add_checks(&op, tenant, region, name)) < 0)
        goto done;
    if (!password || !*password) {
        rc = cmk_err_set(op.err, CMK_EINVAL,
                         "a password is required: the .pfx key file is protected by it (keep "
                         "the file and its password in a safe place)");
        goto done;
    }
    tk_op_unlock(&op); /* RSA key generation is slow */
    rc = tkc_generate(&pk, op.err);
    if (rc == 0)
        rc = tkc_pfx_make(pk, name, password, cmk_clock_now(self->clock), &buf, &len, op.err);
    tk_op_relock(&op);
    if (rc == 0 && (rc = add_checks(&op, tenant, region, name)) == 0)
        rc = add_key(&op, tenant, region, name, pk, "generated", out);
    if (rc == 0) {
        *pfx = buf;
        *pfx_len = len;
        buf = NULL;
    }
done:
    tkc_secret_free(&buf, len);
    EVP_PKEY_free(pk);
    return tk_op_end(&op, rc);
}

/* kek_for_kid - the region whose key-exchange key a .byok names */
static int kek_for_kid(tk_op *op, const char *tenant, const char *kid, char *region, size_t cap)
{
    tk_scope *s = NULL;
    size_t n = 0;
    char want[TENANTKEY_KID_MAX];
    int rc = tks_scopes_list(op->svc, tenant, &s, &n, op->err);

    region[0] = '\0';
    for (size_t i = 0; rc == 0 && i < n && !region[0]; i++) {
        size_t wl;
        tkc_kek_kid(tenant, s[i].region, "", want, sizeof want); /* ends with "/" */
        wl = strlen(want);
        if (s[i].kek_version[0] && (strncmp(kid, want, wl) == 0 ||
                                    (strlen(kid) == wl - 1 && strncmp(kid, want, wl - 1) == 0)))
            cmk_strlcpy(region, s[i].region, cap);
    }
    free(s);
    if (rc == 0 && !region[0])
        rc = cmk_err_set(op->err, CMK_EINVAL,
                         "this .byok was made for key-exchange key '%s', which is not one of "
                         "tenant '%s'; export the key again for the tenant region's key-exchange "
                         "key",
                         kid, tenant);
    return rc;
}

/* tk_parse_key - the private key inside an uploaded .pfx or .byok */
int tk_parse_key(tk_op *op, const char *tenant, const char *region, const uint8_t *data, size_t len,
                 const char *password, tenantkey_format format, EVP_PKEY **out)
{
    char kid[TENANTKEY_KID_MAX], kek_kid[TENANTKEY_KID_MAX], reg[TENANTKEY_REGION_MAX];
    EVP_PKEY *kek = NULL;
    tk_scope s;
    int rc;

    *out = NULL;
    if (format == TENANTKEY_FORMAT_PFX)
        return tkc_pfx_parse(data, len, password, out, op->err);
    if (format != TENANTKEY_FORMAT_BYOK)
        return cmk_err_set(op->err, CMK_EINVAL,
                           "the encryption key file format must be PFX or BYOK");
    if ((rc = tkc_byok_kid(data, len, kid, op->err)) < 0)
        return rc;
    if (region)
        cmk_strlcpy(reg, region, sizeof reg);
    else if ((rc = kek_for_kid(op, tenant, kid, reg, sizeof reg)) < 0)
        return rc;
    if ((rc = tks_scope_get(op->svc, tenant, reg, &s, op->err)) < 0)
        return rc;
    if (!s.kek_version[0])
        return cmk_err_set(op->err, CMK_ESTATE,
                           "tenant '%s' has no key-exchange key in region '%s' yet; ask for it "
                           "(kek), export the key from your HSM for it, then upload the .byok",
                           tenant, reg);
    tkc_kek_kid(tenant, reg, s.kek_version, kek_kid, sizeof kek_kid);
    if ((rc = tks_kek_load(op->svc, tenant, reg, &kek, op->err)) == 0)
        rc = tkc_byok_open(data, len, kek_kid, kek, out, op->err);
    EVP_PKEY_free(kek);
    return rc;
}

/* tenantkey_upload - add a key from a .pfx or .byok file */
int tenantkey_upload(tenantkey_svc *self, const char *principal, const char *tenant,
                     const char *region, const char *name, const uint8_t *data, size_t len,
                     const char *password, tenantkey_format format, tenantkey_key_info *out,
                     cmk_err *err)
{
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 2];
    EVP_PKEY *pk = NULL;
    tk_op op;
    int rc;

    snprintf(target, sizeof target, "%s/%s", tenant ? tenant : "", name ? name : "");
    tk_op_begin(&op, self, principal, "tenantkey.upload", target, err);
    if ((rc = add_checks(&op, tenant, region, name)) == 0 &&
        (rc = tk_parse_key(&op, tenant, region, data, len, password, format, &pk)) == 0 &&
        (rc = tkc_check_key(pk, op.err)) == 0)
        rc = add_key(&op, tenant, region, name, pk, format == TENANTKEY_FORMAT_PFX ? "pfx" : "byok",
                     out);
    EVP_PKEY_free(pk);
    return tk_op_end(&op, rc);
}

/* activation_checks - the rules before a key may be activated */
static int activation_checks(tk_op *op, const tk_key *k)
{
    tk_key *inst = NULL;
    tk_scope s;
    size_t n = 0;
    char locked[320], ts[TK_TS], ts2[TK_TS], dur[32];
    int rc;

    if (tk_locked_summary(op, k->info.tenant, locked, sizeof locked))
        return cmk_err_set(op->err, CMK_ESTATE,
                           "the active key can't be updated when there are locked environments: "
                           "unlock them (or delete those not needed) first (locked: %s)",
                           locked);
    if (k->info.state == TENANTKEY_KEY_ACTIVE)
        return cmk_err_set(op->err, CMK_ESTATE, "key '%s' is the active key already", k->info.name);
    if (k->info.state == TENANTKEY_KEY_INSTALLING)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "key '%s' is being installed already (Active at %s)", k->info.name,
                           tk_time(k->info.active_at_ms, ts, sizeof ts));
    if (k->info.state != TENANTKEY_KEY_AVAILABLE)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "only a key in the Available state can be "
                           "activated");
    rc = tks_keys_list(op->svc, k->info.tenant, k->info.region, TENANTKEY_KEY_INSTALLING, &inst, &n,
                       op->err);
    if (rc == 0 && n > 0)
        rc = cmk_err_set(op->err, CMK_ESTATE,
                         "key '%s' is being activated in %s until %s; wait until it is Active",
                         inst[0].info.name, k->info.region,
                         tk_time(inst[0].info.active_at_ms, ts, sizeof ts));
    free(inst);
    if (rc < 0 || (rc = tks_scope_get(op->svc, k->info.tenant, k->info.region, &s, op->err)) < 0)
        return rc;
    if (s.last_activation_ms && op->now < s.last_activation_ms + op->svc->cfg.activation_gap_ms)
        return cmk_err_set(
            op->err, CMK_ESTATE,
            "another key cannot be activated until %s after the last activation "
            "(%s); key '%s' was activated at %s",
            tk_dur(op->svc->cfg.activation_gap_ms, dur, sizeof dur),
            tk_time(s.last_activation_ms + op->svc->cfg.activation_gap_ms, ts, sizeof ts),
            s.last_activation_key, tk_time(s.last_activation_ms, ts2, sizeof ts2));
    return 0;
}

/* tenantkey_activate - start activating an Available key */
int tenantkey_activate(tenantkey_svc *self, const char *principal, const char *tenant,
                       const char *name, tenantkey_key_info *out, cmk_err *err)
{
    char target[TENANTKEY_ID_MAX + TENANTKEY_NAME_MAX + 2], ts[TK_TS];
    tk_tenant t;
    tk_key k;
    tk_op op;
    int rc;

    snprintf(target, sizeof target, "%s/%s", tenant ? tenant : "", name ? name : "");
    tk_op_begin(&op, self, principal, "tenantkey.activate", target, err);
    if ((rc = tk_tenant_open(&op, tenant, &t)) < 0 ||
        (rc = tks_key_by_name(self, tenant, name ? name : "", &k, op.err)) < 0 ||
        (rc = activation_checks(&op, &k)) < 0 || (rc = tks_begin(self, op.err)) < 0)
        goto done;
    rc = tk_start_install(&op, &k, "activate");
    rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
    if (rc == 0) {
        if (out)
            *out = k.info;
        tk_detail(&op,
                  "key '%s' is Installing; Active at %s, then every self-managed environment "
                  "of %s is encrypted with it (no downtime)",
                  name, tk_time(k.info.active_at_ms, ts, sizeof ts), k.info.region);
    }
done:
    return tk_op_end(&op, rc);
}

/* tenantkey_list - the tenant's keys */
int tenantkey_list(tenantkey_svc *self, const char *principal, const char *tenant,
                   tenantkey_key_info **out, size_t *n, cmk_err *err)
{
    tk_tenant t;
    tk_key *keys = NULL;
    tk_op op;
    int rc;

    *out = NULL;
    *n = 0;
    tk_op_begin(&op, self, principal, "tenantkey.list", tenant, err);
    if ((rc = tk_tenant_open(&op, tenant, &t)) == 0 &&
        (rc = tks_keys_list(self, tenant, NULL, 0, &keys, n, op.err)) == 0) {
        *out = calloc(*n ? *n : 1, sizeof **out);
        if (!*out) {
            *n = 0;
            rc = cmk_err_set(op.err, CMK_ENOMEM, "out of memory");
        }
        for (size_t i = 0; rc == 0 && i < *n; i++)
            (*out)[i] = keys[i].info;
        tk_detail(&op, "%zu keys", *n);
    }
    free(keys);
    return tk_op_end(&op, rc);
}

/* tenantkey_kek_public_pem - the region's key-exchange key, made on first request */
int tenantkey_kek_public_pem(tenantkey_svc *self, const char *principal, const char *tenant,
                             const char *region, char **pem, char kid[TENANTKEY_KID_MAX],
                             cmk_err *err)
{
    char target[TENANTKEY_ID_MAX + TENANTKEY_REGION_MAX + 2], version[33];
    EVP_PKEY *pk = NULL, *fresh = NULL;
    tk_tenant t;
    tk_scope s;
    tk_op op;
    int rc;

    *pem = NULL;
    kid[0] = '\0';
    snprintf(target, sizeof target, "%s/%s", tenant ? tenant : "", region ? region : "");
    tk_op_begin(&op, self, principal, "tenantkey.kek", target, err);
    if ((rc = tk_tenant_open(&op, tenant, &t)) < 0 || (rc = check_region(&op, region)) < 0 ||
        (rc = tks_scope_get(self, tenant, region, &s, op.err)) < 0)
        goto done;
    if (!s.kek_version[0]) {
        tk_op_unlock(&op);
        rc = tkc_generate(&fresh, op.err);
        tk_op_relock(&op);
        if (rc < 0 || (rc = tks_scope_get(self, tenant, region, &s, op.err)) < 0)
            goto done;
        if (!s.kek_version[0]) { /* nobody made one meanwhile */
            if ((rc = tkc_random_hex(version, 16, op.err)) < 0 ||
                (rc = tks_begin(self, op.err)) < 0)
                goto done;
            cmk_strlcpy(s.kek_version, version, sizeof s.kek_version);
            if ((rc = tks_scope_put(self, &s, op.err)) == 0)
                rc = tks_kek_store(self, tenant, region, version, fresh, op.err);
            rc = rc == 0 ? tks_commit(self, op.err) : (tks_rollback(self), rc);
            if (rc < 0)
                goto done;
        }
    }
    if ((rc = tks_kek_load(self, tenant, region, &pk, op.err)) == 0 &&
        (rc = tkc_public_pem(pk, pem, op.err)) == 0) {
        tkc_kek_kid(tenant, region, s.kek_version, kid, TENANTKEY_KID_MAX);
        tk_detail(&op, "key-exchange key %s", kid);
    }
done:
    EVP_PKEY_free(pk);
    EVP_PKEY_free(fresh);
    return tk_op_end(&op, rc);
}
