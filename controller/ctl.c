/*
 * ctl.c - controller start-up and shutdown: run dir, single-instance lock, effective config,
 * CURVE keys and the authorized list, ZAP, broker (with the authorization matrix), children.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <zmq.h>

#include "authz.h"
#include "cluster_metrics.h"
#include "handlers.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "migration.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

/* Identities the controller creates keys for at start: name, role, served environments. */
static const struct {
    const char *name;
    const char *role;
} base_identities[] = {
    { "admin", "admin" },     /* cmkctl */
    { "reader", "reader" },   /* cmkctl --as reader: read-only */
    { "bench", "bench" },     /* cmk-bench */
    { "gateway", "gateway" }, /* as a client of the controller */
    { "firewall", "firewall" },
    { CMK_WORKER_SHARED, "worker" },
    { "console", "console" }, /* cmk-console: reads for the browser, a peer */
};

/* resolve_tenant - the tenant of an object named in a request: environments from the
 * directory's placements in memory, the rest from controller.db */
static int resolve_tenant(void *arg, authz_ref ref, const char *value, char *tenant, size_t cap, cmk_err *err)
{
    ctl *self = arg;
    if (ref == AUTHZ_REF_ENV) {
        dir_env e;
        int rc = directory_env_placement(self->dir, value, &e, err);
        if (rc == 0)
            cmk_strlcpy(tenant, e.tenant, cap);
        return rc;
    }
    return authz_resolve_db(self->db, ref, value, tenant, cap, err);
}

/* on_authz - the authorization matrix (authz.c) before the broker dispatches; every refusal
 * is audited with the identity as principal and EPERM as result */
static int on_authz(void *arg, const cmk_msg *req, int back, cmk_err *err)
{
    ctl *self = arg;
    char target[128];
    const cJSON *entry = cmk_zap_entry(self->zap, req->user);
    int rc = authz_check(entry, req->user, back ? AUTHZ_BACK : AUTHZ_FRONT, req->type, req->body, resolve_tenant,
                         self, target, sizeof target, err);
    if (rc < 0) {
        cmk_log(CMK_LOG_WARN, NULL, req->reqid, "authz.refused", "identity=%s type=%s door=%s error=\"%s\"",
                req->user[0] ? req->user : "-", req->type, back ? "back" : "front", err->msg);
        audit_append(self->audit, req->user[0] ? req->user : "-", req->type, target[0] ? target : "-", rc, err->msg,
                     NULL, NULL);
    }
    return rc;
}

/* on_peer - broker saw a peer come or go */
static void on_peer(void *arg, const char *name, int up, int pid)
{
    ctl *self = arg;
    if (up)
        supervisor_peer_up(self->sup, name, pid);
    else if (!self->stopping)
        supervisor_peer_down(self->sup, name, pid);
}

/* on_child - whom the supervisor runs under a peer's name (the broker tells a restart from a
 * second process with a copied key by it) */
static int on_child(void *arg, const char *name)
{
    ctl *self = arg;
    return supervisor_child_pid(self->sup, name);
}

/* on_role - the role of an identity's key (authorized.json) */
static int on_role(void *arg, const char *identity, char *role, size_t cap)
{
    ctl *self = arg;
    const cJSON *entry = cmk_zap_entry(self->zap, identity);
    if (!entry)
        return -1;
    cmk_strlcpy(role, cmk_json_str(entry, "role", ""), cap);
    return 0;
}

/* on_clock_tick - fire clock timers that came due as time flowed */
static int on_clock_tick(cmk_loop *loop, int64_t id, void *arg)
{
    ctl *self = arg;
    cmk_clock_fire_due(self->clock);
    return 0;
}

/* master_key - <run>/keys/master.key: 32 random bytes (hex), mode 0600, made on first start;
 * it seals the vault's key material at rest */
static int master_key(ctl *self, uint8_t key[VAULT_MASTER_KEY_LEN], cmk_err *err)
{
    char path[PATH_MAX], *text = NULL, hex[2 * VAULT_MASTER_KEY_LEN + 2];
    size_t len = 0;
    int rc;

    snprintf(path, sizeof path, "%s/keys/master.key", self->cfg->run_dir);
    rc = cmk_file_read(path, &text, &len, err);
    if (rc == CMK_ENOENT) {
        if (RAND_bytes(key, VAULT_MASTER_KEY_LEN) != 1)
            return cmk_err_set(err, CMK_ECRYPTO, "no randomness for the master key");
        cmk_hex_encode(key, VAULT_MASTER_KEY_LEN, hex, sizeof hex);
        strcat(hex, "\n");
        rc = cmk_file_write_atomic(path, hex, strlen(hex), 0600, err);
        OPENSSL_cleanse(hex, sizeof hex);
        return rc;
    }
    if (rc < 0)
        return rc;
    if (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    rc = cmk_hex_decode(text, key, VAULT_MASTER_KEY_LEN, err);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc < 0 ? cmk_err_prefix(err, "%s: ", path) : 0;
}

/* open_vault - the vault service over controller.db, its timers resumed */
static int open_vault(ctl *self, cmk_err *err)
{
    uint8_t key[VAULT_MASTER_KEY_LEN];
    vault_config vcfg;
    int rc = master_key(self, key, err);
    if (rc < 0)
        return rc;
    vault_config_defaults(&vcfg);
    vcfg.throttle_enabled = self->cfg->vault_throttle;
    vcfg.throttle_window_ms = self->cfg->vault_throttle_window;
    vcfg.limit_rsa2048 = (int)self->cfg->vault_limit_rsa2048;
    vcfg.limit_rsa3072 = (int)self->cfg->vault_limit_rsa3072;
    vcfg.limit_rsa4096 = (int)self->cfg->vault_limit_rsa4096;
    vcfg.limit_mgmt = (int)self->cfg->vault_limit_mgmt;
    self->vault = vault_svc_new(self->db, self->clock, self->audit, key, &vcfg, err);
    if (self->vault) {
        /* the legacy tenant keys are sealed under the same master key */
        tenantkey_config tcfg;
        tenantkey_config_defaults(&tcfg);
        tcfg.master_key = key;
        self->tenantkeys = tenantkey_svc_new(self->db, self->clock, self->audit, self->dir, &tcfg, err);
    }
    OPENSSL_cleanse(key, sizeof key);
    if (!self->vault || !self->tenantkeys)
        return err->code;
    if ((rc = tenantkey_svc_resume(self->tenantkeys, err)) < 0)
        return rc;
    return vault_svc_resume_timers(self->vault, err);
}

/* open_domain - controller.db, the clock (resuming a virtual offset), the directory */
static int open_domain(ctl *self, cmk_err *err)
{
    cmk_clock_mode mode;
    int rc = store_open(self->cfg->run_dir, &self->db, err);
    if (rc < 0)
        return rc;
    if (strcmp(self->cfg->clock_mode, "virtual") == 0)
        mode = CMK_CLOCK_VIRTUAL;
    else if (strcmp(self->cfg->clock_mode, "real") == 0)
        mode = CMK_CLOCK_REAL;
    else
        return cmk_err_set(err, CMK_EINVAL, "clock.mode must be \"real\" or \"virtual\", not \"%s\"",
                           self->cfg->clock_mode);
    self->clock = cmk_clock_new(mode, store_meta_get_int(self->db, "clock.offset_ms", 0));
    if (!self->clock)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if (!(self->dir = directory_new(self->db, self->clock, err)))
        return err->code;
    directory_set_cmk_limit(self->dir, (int)self->cfg->cmk_env_limit);
    if (!(self->audit = audit_log_new(self->db, self->clock, err)))
        return err->code;
    {
        char keys[PATH_MAX];
        cmk_keys_dir(self->cfg->run_dir, keys, sizeof keys);
        if ((rc = audit_log_anchor(self->audit, keys, err)) < 0) /* the head outside controller.db */
            return rc;
    }
    if ((rc = open_vault(self, err)) < 0)
        return rc;
    if (!(self->keyring = keyring_new(self->db, self->clock, self->cfg->run_dir, self->vault, err)))
        return err->code;
    /* legacy BYOK: data keys wrapped by tenant keys; tenant-key events reach the keyring and workers */
    keyring_set_tenant_kek(self->keyring, tenantkey_dek_wrap, tenantkey_dek_unwrap, self->tenantkeys);
    tenantkey_set_event_hook(self->tenantkeys, ctl_tenantkey_event, self);
    if (!(self->jobs = jobs_new(cmk_server_loop(self->srv), 2, err)))
        return err->code;
    self->clock_tick = cmk_loop_add_timer(cmk_server_loop(self->srv), 1000, 1, on_clock_tick, self);
    return 0;
}

/* open_services - the services that act on environments, each given what it uses, typed:
 * migration (flows between partitions), policy (which starts migrations), recurrence (which
 * asks migration where a flow lives), envops (which reschedules and places the flows it swaps in) */
static int open_services(ctl *self, cmk_err *err)
{
    cmk_loop *loop = cmk_server_loop(self->srv);
    migration_deps mdeps = { .db = self->db, .clock = self->clock, .audit = self->audit, .broker = self->broker,
                             .loop = loop, .cfg = self->cfg };
    if (!(self->migration = migration_svc_new(&mdeps, err)))
        return err->code;
    policy_deps pdeps = { .db = self->db, .clock = self->clock, .loop = loop, .cfg = self->cfg, .dir = self->dir,
                          .audit = self->audit, .vault = self->vault, .keyring = self->keyring,
                          .tenantkeys = self->tenantkeys, .sup = self->sup, .broker = self->broker,
                          .migration = self->migration };
    if (!(self->policies = policy_svc_new(&pdeps, err)))
        return err->code;
    recurrence_deps rdeps = { .db = self->db, .clock = self->clock, .dir = self->dir, .migration = self->migration,
                              .broker = self->broker, .cfg = self->cfg };
    if (!(self->recurrence = recurrence_svc_new(&rdeps, err)))
        return err->code;
    envops_deps edeps = { .db = self->db, .cfg = self->cfg, .loop = loop, .clock = self->clock, .dir = self->dir,
                          .audit = self->audit, .broker = self->broker, .vault = self->vault,
                          .policies = self->policies, .tenantkeys = self->tenantkeys, .migration = self->migration,
                          .recurrence = self->recurrence };
    if (!(self->envops = envops_svc_new(&edeps, err)))
        return err->code;
    return 0;
}

/* take_lock - one controller per run dir */
static int take_lock(ctl *self, cmk_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/controller.lock", self->cfg->run_dir);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0)
        return cmk_err_set(err, CMK_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        pid_t pid = 0;
        char pidpath[PATH_MAX];
        snprintf(pidpath, sizeof pidpath, "%s/controller.pid", self->cfg->run_dir);
        cmk_pidfile_read(pidpath, &pid, NULL);
        return cmk_err_set(err, CMK_EEXIST,
                           "a controller already runs in %s (pid %d); stop it with: cmkctl down --run-dir %s",
                           self->cfg->run_dir, (int)pid, self->cfg->run_dir);
    }
    return 0;
}

/* write_config - the effective config, for children and clients */
static int write_config(ctl *self, cmk_err *err)
{
    char path[PATH_MAX];
    cJSON *json = cmk_config_to_json(self->cfg);
    char *text = json ? cJSON_Print(json) : NULL;
    int rc;

    snprintf(path, sizeof path, "%s/config.json", self->cfg->run_dir);
    rc = text ? cmk_file_write_atomic(path, text, strlen(text), 0600, err)
              : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    free(text);
    cJSON_Delete(json);
    return rc;
}

/* make_keys - server keys and every base identity, listed in authorized.json */
static int make_keys(ctl *self, cmk_err *err)
{
    cmk_keypair kp;
    int rc = cmk_keypair_ensure(self->cfg->run_dir, "controller", &kp, err);
    cmk_keypair_wipe(&kp);
    if (rc == 0) {
        /* the gateway's server key (workers connect to it) */
        rc = cmk_keypair_ensure(self->cfg->run_dir, "gateway-server", &kp, err);
        cmk_keypair_wipe(&kp);
    }
    for (size_t i = 0; rc == 0 && i < sizeof base_identities / sizeof base_identities[0]; i++) {
        cJSON *envs = cJSON_CreateArray();
        if (strcmp(base_identities[i].role, "worker") == 0)
            cJSON_AddItemToArray(envs, cJSON_CreateString("*"));
        rc = cmk_keypair_ensure(self->cfg->run_dir, base_identities[i].name, &kp, err);
        if (rc == 0)
            rc = cmk_authorized_add(self->cfg->run_dir, base_identities[i].name,
                                    base_identities[i].role, kp.pub, envs, err);
        cmk_keypair_wipe(&kp);
        cJSON_Delete(envs);
    }
    return rc;
}

/* write_pid - <run>/controller.pid */
static int write_pid(ctl *self, cmk_err *err)
{
    char path[PATH_MAX], text[32];
    snprintf(path, sizeof path, "%s/controller.pid", self->cfg->run_dir);
    snprintf(text, sizeof text, "%d\n", (int)getpid());
    return cmk_file_write_atomic(path, text, strlen(text), 0644, err);
}

/* start_children - shared worker, gateway, firewall, console */
static int start_children(ctl *self, cmk_err *err)
{
    static const char *const shared_args[] = { "--shared", NULL };
    int rc = supervisor_add(self->sup, CMK_WORKER_SHARED, "worker", "cmk-worker", shared_args, err);
    if (rc == 0)
        rc = supervisor_add(self->sup, "gateway", "gateway", "cmk-gateway", NULL, err);
    if (rc == 0 && self->cfg->spawn_firewall) {
        static const char *const fw_args[] = { "serve", NULL };
        /* cmk-firewall takes its subcommand first; the supervisor appends options after it,
         * which the firewall's main accepts in either order */
        rc = supervisor_add(self->sup, "firewall", "firewall", "cmk-firewall", fw_args, err);
    }
    if (rc == 0 && self->cfg->spawn_console)
        rc = supervisor_add(self->sup, "console", "console", "cmk-console", NULL, err);
    return rc;
}

/* ctl_start - everything the controller needs before its loop runs */
int ctl_start(cmk_server *srv, ctl **out, cmk_err *err)
{
    ctl *self = calloc(1, sizeof *self);
    char dir[PATH_MAX];
    int rc;

    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    self->cfg = cmk_server_config(srv);
    self->lock_fd = -1;
    snprintf(dir, sizeof dir, "%s/logs", self->cfg->run_dir);
    rc = cmk_mkdirs(self->cfg->run_dir, 0700, err);
    if (rc == 0)
        rc = cmk_mkdirs(dir, 0700, err);
    if (rc == 0)
        rc = take_lock(self, err);
    if (rc == 0)
        rc = write_config(self, err);
    if (rc == 0)
        rc = make_keys(self, err);
    if (rc == 0)
        rc = open_domain(self, err);
    if (rc == 0 && !(self->zap = cmk_zap_new(cmk_server_zmq(srv), self->cfg->run_dir, NULL, err)))
        rc = err->code;
    if (rc == 0) {
        rc = cmk_zap_attach(self->zap, cmk_server_loop(srv), err);
    }
    if (rc == 0) {
        if (!(self->broker = broker_new(srv, "controller", err)))
            rc = err->code;
    }
    if (rc == 0 && !(self->sup = supervisor_new(srv, err)))
        rc = err->code;
    if (rc == 0) {
        broker_set_authz(self->broker, on_authz, self);
        broker_set_dispatch(self->broker, ctl_handlers, self);
        broker_set_peer_hook(self->broker, on_peer, self);
        broker_set_child_hook(self->broker, on_child, self);
        broker_set_role_hook(self->broker, on_role, self);
        rc = write_pid(self, err);
    }
    if (rc == 0)
        rc = open_services(self, err);
    if (rc == 0)
        rc = start_children(self, err);
    if (rc == 0)
        rc = policy_start_dedicated_workers(self->policies, err);
    if (rc == 0) {
        self->gauges = (cluster_metrics){ .dir = self->dir, .policies = self->policies, .broker = self->broker,
                                          .sup = self->sup, .cfg = self->cfg };
        cmk_metrics_on_collect(cluster_metrics_collect, &self->gauges);
    }
    if (rc == 0) {
        /* a crash interrupted them (every step is idempotent); the operations that started them
         * complete when they end */
        migration_resume_all(self->migration, policy_migration_done, self->policies);
        policy_resume(self->policies);
        envops_resume(self->envops); /* restore, copy, reset interrupted by a crash start again */
    }
    if (rc < 0) {
        if (self->sup) {
            /* children already started die with us (PR_SET_PDEATHSIG) */
            supervisor_stop_all(self->sup, NULL, NULL);
        }
        ctl_stop(&self);
        return rc;
    }
    *out = self;
    return 0;
}

/* on_children_stopped - last step of a shutdown */
static void on_children_stopped(void *arg)
{
    ctl *self = arg;
    cmk_info("shutdown.children_stopped", "%s", "");
    cmk_server_stop(self->srv);
}

/* ctl_begin_shutdown - ask peers to leave, then signal them */
void ctl_begin_shutdown(ctl *self, const char *why)
{
    if (self->stopping)
        return;
    self->stopping = 1;
    cmk_info("shutdown.begin", "reason=\"%s\"", why);
    broker_send_all(self->broker, CMK_MSG_SHUTDOWN);
    supervisor_stop_all(self->sup, on_children_stopped, self);
}

/* ctl_stop - release everything */
void ctl_stop(ctl **self_p)
{
    ctl *self;
    char path[PATH_MAX];
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    cmk_metrics_remove_collect(cluster_metrics_collect, &self->gauges);
    jobs_destroy(&self->jobs); /* delivers finished jobs' replies: before the broker goes */
    envops_svc_destroy(&self->envops);
    policy_svc_destroy(&self->policies);
    recurrence_svc_destroy(&self->recurrence);
    migration_svc_destroy(&self->migration);
    broker_destroy(&self->broker);
    supervisor_destroy(&self->sup);
    if (self->clock_tick)
        cmk_loop_cancel_timer(cmk_server_loop(self->srv), self->clock_tick);
    keyring_destroy(&self->keyring);
    tenantkey_svc_destroy(&self->tenantkeys);
    vault_svc_destroy(&self->vault);
    audit_log_destroy(&self->audit);
    directory_destroy(&self->dir);
    cmk_clock_destroy(&self->clock);
    store_close(&self->db);
    if (self->zap) {
        cmk_zap_detach(self->zap, cmk_server_loop(self->srv));
        cmk_zap_destroy(&self->zap);
    }
    if (self->lock_fd >= 0) {
        snprintf(path, sizeof path, "%s/controller.pid", self->cfg->run_dir);
        unlink(path);
        close(self->lock_fd);
    }
    free(self);
    *self_p = NULL;
}
