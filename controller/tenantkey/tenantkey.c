/*
 * tenantkey.c - the legacy tenant key service: creation and teardown, the operation context
 * (lock, sweep of due transitions, audit of every call, events), shared checks (principal,
 * tenant with the feature on, environment lookup, anything locked), message helpers, turning
 * the feature on, the status view, names and JSON forms, and the legacy notices.
 */
#include "tenantkey_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/util.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

/* tenantkey_config_defaults - the documented defaults */
void tenantkey_config_defaults(tenantkey_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->installing_ms = 10 * MIN_MS;
    cfg->activation_gap_ms = 24 * HOUR_MS;
    cfg->lock_guard_ms = 72 * HOUR_MS;
    cfg->lock_duration_ms = HOUR_MS;
    cfg->unlock_wait_ms = HOUR_MS;
    cfg->locked_env_delete_ms = 28 * DAY_MS;
    cfg->migration_no_return_ms = 7 * DAY_MS;
    cfg->migration_key_retention_ms = 28 * DAY_MS;
    cfg->production_cutoff_ms = INT64_C(1748736000000); /* 2025-06-01T00:00:00Z */
}

/* master_dek - the master key as a DEK whose id is derived from the key */
static cmk_dek *master_dek(const uint8_t key[TENANTKEY_MASTER_KEY_LEN], cmk_err *err)
{
    static const char label[] = "cmksim tenantkey master key id";
    uint8_t digest[32];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, label, sizeof label - 1) &&
             EVP_DigestUpdate(ctx, key, TENANTKEY_MASTER_KEY_LEN) &&
             EVP_DigestFinal_ex(ctx, digest, &dlen);

    EVP_MD_CTX_free(ctx);
    if (!ok) {
        cmk_err_set(err, CMK_ECRYPTO, "cannot derive the master key id");
        return NULL;
    }
    return cmk_dek_from_bytes(digest, key, err);
}

/* tenantkey_svc_new - the service over controller.db */
tenantkey_svc *tenantkey_svc_new(sqlite3 *db, cmk_clock *clock, audit_log *audit, directory *dir,
                                 const tenantkey_config *cfg, cmk_err *err)
{
    tenantkey_svc *self;
    int rc;

    if (!db || !clock || !dir || !cfg || !cfg->master_key) {
        cmk_err_set(err, CMK_EINVAL,
                    "tenantkey: a database, a clock, the directory and a config with the master "
                    "key are required");
        return NULL;
    }
    if (cfg->installing_ms < 0 || cfg->activation_gap_ms < 0 || cfg->lock_guard_ms < 0 ||
        cfg->lock_duration_ms < 0 || cfg->unlock_wait_ms < 0 || cfg->locked_env_delete_ms <= 0 ||
        cfg->migration_no_return_ms < 0 || cfg->migration_key_retention_ms <= 0) {
        cmk_err_set(err, CMK_EINVAL,
                    "tenantkey config: durations cannot be negative (and the deletion and "
                    "retention periods must be positive)");
        return NULL;
    }
    self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "tenantkey: out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->mu, NULL);
    self->db = db;
    self->clock = clock;
    self->audit = audit;
    self->dir = dir;
    self->cfg = *cfg;
    self->cfg.master_key = NULL;
    self->events_tail = &self->events;
    self->master = master_dek(cfg->master_key, err);
    self->sealer = self->master ? cmk_sealer_new(err) : NULL;
    if (!self->sealer) {
        tenantkey_svc_destroy(&self);
        return NULL;
    }
    pthread_mutex_lock(&self->mu);
    rc = tks_init(self, err);
    pthread_mutex_unlock(&self->mu);
    if (rc < 0)
        tenantkey_svc_destroy(&self);
    return self;
}

/* tenantkey_svc_destroy - cancel timers, wipe and free */
void tenantkey_svc_destroy(tenantkey_svc **self_p)
{
    tenantkey_svc *self;

    if (!self_p || !*self_p)
        return;
    self = *self_p;
    pthread_mutex_lock(&self->mu);
    tk_timers_cancel_all(self);
    while (self->events) {
        tk_event *e = self->events;
        self->events = e->next;
        free(e);
    }
    pthread_mutex_unlock(&self->mu);
    cmk_sealer_destroy(&self->sealer);
    cmk_dek_destroy(&self->master);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

/* tenantkey_set_event_hook - register the event hook */
void tenantkey_set_event_hook(tenantkey_svc *self, tenantkey_event_hook fn, void *arg)
{
    pthread_mutex_lock(&self->mu);
    self->hook = fn;
    self->hook_arg = arg;
    pthread_mutex_unlock(&self->mu);
}

/* ---- operation context ---- */

/* tk_op_begin - lock, apply what is due, name the audit target */
void tk_op_begin(tk_op *op, tenantkey_svc *svc, const char *principal, const char *operation,
                 const char *target, cmk_err *err)
{
    memset(op, 0, sizeof *op);
    op->svc = svc;
    op->principal = principal;
    op->operation = operation;
    op->err = err ? err : &op->own;
    cmk_err_clear(op->err);
    cmk_strlcpy(op->target, target && *target ? target : "-", sizeof op->target);
    tk_op_relock(op);
}

/* tk_op_unlock - release the lock (for slow work) */
void tk_op_unlock(tk_op *op)
{
    if (op->locked) {
        op->locked = 0;
        pthread_mutex_unlock(&op->svc->mu);
    }
}

/* tk_op_relock - take the lock and apply what became due */
void tk_op_relock(tk_op *op)
{
    if (!op->locked) {
        pthread_mutex_lock(&op->svc->mu);
        op->locked = 1;
    }
    op->now = cmk_clock_now(op->svc->clock);
    tk_sweep(op->svc, op->now);
}

/* tk_detail - the audit detail of a successful call */
void tk_detail(tk_op *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->detail, sizeof op->detail, fmt, ap);
    va_end(ap);
}

/* tk_op_end - audit the call, unlock, deliver events */
int tk_op_end(tk_op *op, int rc)
{
    if (!op->locked)
        tk_op_relock(op);
    if (op->svc->audit)
        audit_append(op->svc->audit, op->principal && *op->principal ? op->principal : "-",
                     op->operation, op->target, rc, rc < 0 ? op->err->msg : op->detail, NULL, NULL);
    tk_op_unlock(op);
    tk_deliver(op->svc);
    if (rc == 0)
        cmk_err_clear(op->err);
    return rc;
}

/* tk_audit_system - an audit entry of the service's own doing */
void tk_audit_system(tenantkey_svc *svc, const char *operation, const char *target, const char *fmt,
                     ...)
{
    char detail[CMK_ERR_MSG_MAX];
    va_list ap;

    if (!svc->audit)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    audit_append(svc->audit, AUDIT_PRINCIPAL_SYSTEM, operation, target, 0, detail, NULL, NULL);
}

/* tk_emit - queue an event (lock held) */
void tk_emit(tenantkey_svc *svc, const char *kind, const char *tenant, const char *env,
             const char *key, int64_t at_ms)
{
    tk_event *e = calloc(1, sizeof *e);
    if (!e)
        return;
    cmk_strlcpy(e->kind, kind, sizeof e->kind);
    cmk_strlcpy(e->tenant, tenant ? tenant : "", sizeof e->tenant);
    cmk_strlcpy(e->env, env ? env : "", sizeof e->env);
    cmk_strlcpy(e->key, key ? key : "", sizeof e->key);
    e->at_ms = at_ms;
    *svc->events_tail = e;
    svc->events_tail = &e->next;
}

/* tk_deliver - hand queued events to the hook (lock not held) */
void tk_deliver(tenantkey_svc *svc)
{
    tk_event *list;
    tenantkey_event_hook fn;
    void *arg;

    pthread_mutex_lock(&svc->mu);
    list = svc->events;
    svc->events = NULL;
    svc->events_tail = &svc->events;
    fn = svc->hook;
    arg = svc->hook_arg;
    pthread_mutex_unlock(&svc->mu);
    while (list) {
        tk_event *e = list;
        list = e->next;
        if (fn) {
            tenantkey_event ev = {e->kind, e->tenant, e->env[0] ? e->env : NULL,
                                  e->key[0] ? e->key : NULL, e->at_ms};
            fn(&ev, arg);
        }
        free(e);
    }
}

/* ---- messages ---- */

/* tk_time - RFC 3339 */
char *tk_time(int64_t ms, char *buf, size_t cap)
{
    return cmk_time_format(ms, buf, cap);
}

/* tk_dur - a duration as the seeds say it: "24 hours", "72 hours", "28 days", "10 minutes" */
char *tk_dur(int64_t ms, char *buf, size_t cap)
{
    if (ms > 0 && ms % DAY_MS == 0 && ms >= 7 * DAY_MS)
        snprintf(buf, cap, "%lld days", (long long)(ms / DAY_MS));
    else if (ms == HOUR_MS)
        snprintf(buf, cap, "one hour");
    else if (ms > 0 && ms % HOUR_MS == 0)
        snprintf(buf, cap, "%lld hours", (long long)(ms / HOUR_MS));
    else if (ms > 0 && ms % MIN_MS == 0)
        snprintf(buf, cap, "%lld minute%s", (long long)(ms / MIN_MS), ms == MIN_MS ? "" : "s");
    else
        cmk_duration_format(ms, buf, cap);
    return buf;
}

/* ---- shared checks ---- */

/* tk_check_principal - a call names its principal */
int tk_check_principal(tk_op *op)
{
    if (!op->principal || !*op->principal || strlen(op->principal) >= TENANTKEY_PRINCIPAL_MAX)
        return cmk_err_set(op->err, CMK_EPERM,
                           "no calling principal: an admin (Dynamics 365 admin or Power "
                           "Platform admin) must be named");
    return 0;
}

/* tk_tenant_open - tenant exists, feature on, keys not removed after migration */
int tk_tenant_open(tk_op *op, const char *tenant, tk_tenant *t)
{
    cJSON *j = NULL;
    char ts[TK_TS];
    int rc;

    if ((rc = tk_check_principal(op)) < 0)
        return rc;
    if (!tenant || !*tenant || strlen(tenant) >= TENANTKEY_ID_MAX)
        return cmk_err_set(op->err, CMK_EINVAL, "name a tenant");
    if ((rc = directory_tenant_get(op->svc->dir, tenant, &j, op->err)) < 0)
        return rc;
    cJSON_Delete(j);
    rc = tks_tenant_get(op->svc, tenant, t, op->err);
    if (rc == CMK_ENOENT)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "the self-managed database encryption key (BYOK) feature is not "
                           "turned on for tenant '%s': it must be turned on for the tenant "
                           "(enable-byok) before you can use it",
                           tenant);
    if (rc < 0)
        return rc;
    if (t->keys_removed_ms)
        return cmk_err_set(op->err, CMK_ESTATE,
                           "tenant '%s' migrated its last BYOK environment to customer-managed "
                           "keys and its BYOK keys were removed at %s; use customer-managed keys "
                           "(enterprise policies) instead",
                           tenant, tk_time(t->keys_removed_ms, ts, sizeof ts));
    return 0;
}

/* parse_rfc3339 - "2026-11-22T17:46:26.123Z" to epoch ms (-1 if unreadable) */
static int64_t parse_rfc3339(const char *s)
{
    struct tm tm;
    int ms = 0, n = 0;

    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    if (s[n] == '.')
        sscanf(s + n + 1, "%3d", &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* tk_env_lookup - an environment from the directory */
int tk_env_lookup(tk_op *op, const char *ref, tk_dir_env *out)
{
    cJSON *j = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = directory_env_get(op->svc->dir, ref, &j, op->err)) < 0)
        return rc;
    cmk_strlcpy(out->id, cmk_json_str(j, "id", ""), sizeof out->id);
    cmk_strlcpy(out->name, cmk_json_str(j, "name", ""), sizeof out->name);
    cmk_strlcpy(out->tenant, cmk_json_str(j, "tenant", ""), sizeof out->tenant);
    cmk_strlcpy(out->region, cmk_json_str(j, "region", ""), sizeof out->region);
    cmk_strlcpy(out->type, cmk_json_str(j, "type", ""), sizeof out->type);
    cmk_strlcpy(out->encryption, cmk_json_str(j, "encryption", "microsoft"),
                sizeof out->encryption);
    cmk_strlcpy(out->policy, cmk_json_str(j, "policy", ""), sizeof out->policy);
    out->created_ms = parse_rfc3339(cmk_json_str(j, "created", NULL));
    cJSON_Delete(j);
    cmk_strlcpy(op->target, out->id, sizeof op->target);
    return 0;
}

/* add_item - append ", item" to a list buffer */
static void add_item(char *buf, size_t cap, const char *item)
{
    size_t o = strlen(buf);
    if (o + 8 < cap)
        snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", item);
}

/* tk_locked_summary - what of the tenant is locked, for messages */
int tk_locked_summary(tk_op *op, const char *tenant, char *buf, size_t cap)
{
    tk_env *envs = NULL;
    tk_key *keys = NULL;
    tk_scope *scopes = NULL;
    size_t ne = 0, nk = 0, ns = 0;
    char item[TENANTKEY_NAME_MAX + 48];
    int any = 0;

    buf[0] = '\0';
    if (tks_envs_list(op->svc, tenant, NULL, TENANTKEY_ENV_LOCKED, &envs, &ne, NULL) == 0) {
        for (size_t i = 0; i < ne; i++) {
            cJSON *j = NULL;
            if (directory_env_get(op->svc->dir, envs[i].env, &j, NULL) == 0)
                snprintf(item, sizeof item, "environment '%s'", cmk_json_str(j, "name", ""));
            else
                snprintf(item, sizeof item, "environment %s", envs[i].env);
            cJSON_Delete(j);
            add_item(buf, cap, item);
        }
        any |= ne > 0;
    }
    if (tks_keys_list(op->svc, tenant, NULL, TENANTKEY_KEY_LOCKED, &keys, &nk, NULL) == 0) {
        for (size_t i = 0; i < nk; i++) {
            snprintf(item, sizeof item, "key '%s' (Locked)", keys[i].info.name);
            add_item(buf, cap, item);
        }
        any |= nk > 0;
    }
    if (tks_scopes_list(op->svc, tenant, &scopes, &ns, NULL) == 0)
        for (size_t i = 0; i < ns; i++)
            if (scopes[i].lock_ms) {
                snprintf(item, sizeof item, "region %s (lock in place)", scopes[i].region);
                add_item(buf, cap, item);
                any = 1;
            }
    free(envs);
    free(keys);
    free(scopes);
    return any;
}

/* ---- feature on ---- */

/* tenantkey_enable_byok - turn the feature on for a tenant */
int tenantkey_enable_byok(tenantkey_svc *self, const char *principal, const char *tenant,
                          cmk_err *err)
{
    tk_op op;
    tk_tenant t;
    cJSON *j = NULL;
    char ts[TK_TS];
    int rc;

    tk_op_begin(&op, self, principal, "tenantkey.enable_byok", tenant, err);
    if ((rc = tk_check_principal(&op)) < 0)
        goto done;
    if (!tenant || !*tenant || strlen(tenant) >= TENANTKEY_ID_MAX) {
        rc = cmk_err_set(op.err, CMK_EINVAL, "name a tenant");
        goto done;
    }
    if ((rc = directory_tenant_get(self->dir, tenant, &j, op.err)) < 0)
        goto done;
    cJSON_Delete(j);
    rc = tks_tenant_get(self, tenant, &t, op.err);
    if (rc == 0) {
        rc = t.keys_removed_ms
                 ? cmk_err_set(op.err, CMK_ESTATE,
                               "tenant '%s' migrated to customer-managed keys and its BYOK keys "
                               "were removed at %s; BYOK cannot be turned on again",
                               tenant, tk_time(t.keys_removed_ms, ts, sizeof ts))
                 : cmk_err_set(op.err, CMK_EEXIST,
                               "the self-managed encryption key feature is on for tenant '%s' "
                               "already (since %s)",
                               tenant, tk_time(t.enabled_ms, ts, sizeof ts));
        goto done;
    }
    if (rc != CMK_ENOENT)
        goto done;
    memset(&t, 0, sizeof t);
    cmk_strlcpy(t.tenant, tenant, sizeof t.tenant);
    t.enabled_ms = op.now;
    cmk_strlcpy(t.enabled_by, principal, sizeof t.enabled_by);
    if ((rc = tks_tenant_put(self, &t, op.err)) == 0)
        tk_detail(&op, "BYOK turned on at %s; only environments created from now on can use it",
                  tk_time(op.now, ts, sizeof ts));
done:
    return tk_op_end(&op, rc);
}

/* ---- names and JSON ---- */

/* tenantkey_key_state_name - the admin center's words */
const char *tenantkey_key_state_name(tenantkey_key_state s)
{
    switch (s) {
    case TENANTKEY_KEY_AVAILABLE: return "Available";
    case TENANTKEY_KEY_INSTALLING: return "Installing";
    case TENANTKEY_KEY_ACTIVE: return "Active";
    case TENANTKEY_KEY_LOCKED: return "Locked";
    }
    return "?";
}

/* tenantkey_env_mode_name - lowercase names for JSON */
const char *tenantkey_env_mode_name(tenantkey_env_mode m)
{
    switch (m) {
    case TENANTKEY_ENV_MICROSOFT: return "microsoft";
    case TENANTKEY_ENV_SELF_MANAGED: return "self-managed";
    case TENANTKEY_ENV_LOCKED: return "locked";
    case TENANTKEY_ENV_CUSTOMER: return "customer";
    }
    return "?";
}

/* tenantkey_format_parse - "pfx" / "byok" */
int tenantkey_format_parse(const char *s, tenantkey_format *fmt, cmk_err *err)
{
    if (s && (strcasecmp(s, "pfx") == 0 || strcasecmp(s, ".pfx") == 0)) {
        *fmt = TENANTKEY_FORMAT_PFX;
        return 0;
    }
    if (s && (strcasecmp(s, "byok") == 0 || strcasecmp(s, ".byok") == 0)) {
        *fmt = TENANTKEY_FORMAT_BYOK;
        return 0;
    }
    return cmk_err_set(err, CMK_EINVAL,
                       "unknown key file format '%s': the encryption key file format must be "
                       "PFX or BYOK",
                       s ? s : "");
}

/* add_time - a time member, or nothing when 0 */
static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char ts[TK_TS];
    if (ms)
        cJSON_AddStringToObject(o, name, tk_time(ms, ts, sizeof ts));
}

/* tenantkey_key_info_to_json - one key */
cJSON *tenantkey_key_info_to_json(const tenantkey_key_info *k)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "tenant", k->tenant);
    cJSON_AddStringToObject(o, "region", k->region);
    cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddStringToObject(o, "state", tenantkey_key_state_name(k->state));
    cJSON_AddStringToObject(o, "source", k->source);
    cJSON_AddNumberToObject(o, "bits", k->bits);
    cJSON_AddStringToObject(o, "fingerprint", k->fingerprint);
    cJSON_AddStringToObject(o, "created_by", k->created_by);
    add_time(o, "created", k->created_ms);
    add_time(o, "activated", k->activated_ms);
    add_time(o, "active_at", k->active_at_ms);
    add_time(o, "locked", k->locked_ms);
    return o;
}

/* tenantkey_key_infos_free - free a list */
void tenantkey_key_infos_free(tenantkey_key_info **arr)
{
    if (arr && *arr) {
        free(*arr);
        *arr = NULL;
    }
}

/* tenantkey_env_state_to_json - one environment's state */
cJSON *tenantkey_env_state_to_json(const tenantkey_env_state *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "env", s->env);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "tenant", s->tenant);
    cJSON_AddStringToObject(o, "region", s->region);
    cJSON_AddStringToObject(o, "type", s->type);
    cJSON_AddStringToObject(o, "encryption", tenantkey_env_mode_name(s->mode));
    cJSON_AddStringToObject(o, "managed_by", s->managed_by);
    if (s->key[0])
        cJSON_AddStringToObject(o, "key", s->key);
    if (s->key_fp[0])
        cJSON_AddStringToObject(o, "key_fingerprint", s->key_fp);
    if (s->policy[0])
        cJSON_AddStringToObject(o, "policy", s->policy);
    cJSON_AddBoolToObject(o, "byok_eligible", s->eligible);
    add_time(o, "applied", s->applied_ms);
    add_time(o, "locked", s->locked_ms);
    add_time(o, "deleted_at", s->delete_at_ms);
    add_time(o, "migrated", s->migrated_ms);
    add_time(o, "no_return_until", s->no_return_until_ms);
    add_time(o, "byok_key_retained_until", s->key_retained_until_ms);
    return o;
}

/* ---- notices ---- */

static const char *const mmk_only[] = {
    "Copilots and generative AI features in Microsoft Power Platform and Microsoft Dynamics 365",
    "Dataverse search",
    "Elastic tables",
    "Mobile Offline",
    "Activity Log (Microsoft 365 portal)",
    "Exchange (Server-side sync)",
};

/* tenantkey_mmk_only_features - seed 003's list */
const char *const *tenantkey_mmk_only_features(size_t *n)
{
    if (n)
        *n = sizeof mmk_only / sizeof mmk_only[0];
    return mmk_only;
}

/* tenantkey_deprecation_notice - the legacy notice */
const char *tenantkey_deprecation_notice(void)
{
    return "Legacy feature: support for bring-your-own-key (BYOK, \"Manage the encryption "
           "key\") ended January 6, 2026, and since June 1, 2025 it cannot be applied to "
           "production environments. Move to customer-managed keys (CMK): add the environments "
           "to an enterprise policy (see \"Migrate bring-your-own-key (BYOK) environments to "
           "customer-managed key\").";
}
