/*
 * envops_ops.c - the operations of envops.h: backup (gather, seal, wrap, write, record),
 * restore (rule, unwrap, open, clear the target, put the flows back), copy (rule, gather,
 * clear, put with new ids), reset (sandbox rule, clear, delete backups, leave the policy, reset
 * the BYOK view) and the list of an environment's backups.
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

/* ---- backup ------------------------------------------------------------------------------- */

/* backup_write - seal what was gathered, wrap its key, write the file, record the row */
static void backup_write(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    int64_t now = cmk_clock_now(c->clock);
    cJSON *payload = cJSON_CreateObject(), *result, *state;
    char *text, dir[PATH_MAX], path[PATH_MAX], hex[33], *state_text, ts[40], detail[400];
    uint8_t *file = NULL;
    size_t flen = 0;
    cmk_dek *dek = NULL;
    eo_wrap w;
    cmk_err err = CMK_ERR_INIT;
    sqlite3_stmt *st;
    int rc, n = cJSON_GetArraySize(j->flows);

    memset(&w, 0, sizeof w);
    cJSON_AddNumberToObject(payload, "format", 1);
    cJSON_AddStringToObject(payload, "backup", j->backup);
    cJSON_AddStringToObject(payload, "env", j->source);
    cJSON_AddNumberToObject(payload, "created_ms", (double)now);
    cJSON_AddItemToObject(payload, "flows", j->flows);
    j->flows = NULL;
    text = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!text) {
        eo_fail(j, CMK_ENOMEM, "out of memory", NULL);
        return;
    }
    rc = (dek = cmk_dek_generate(&err)) ? 0 : err.code;
    if (rc == 0)
        rc = envops_file_seal(dek, j->source, j->backup, text, strlen(text), &file, &flen, &err);
    cmk_wipe_str(text, strlen(text));
    if (rc == 0)
        rc = eo_wrap_key(c, &j->state, cmk_dek_key(dek), &w, &err);
    if (dek)
        cmk_dek_id_hex(dek, hex, sizeof hex);
    cmk_dek_destroy(&dek);
    snprintf(dir, sizeof dir, "%s/backups/%s", c->cfg->run_dir, j->source);
    snprintf(path, sizeof path, "%s/%s.bak", dir, j->backup);
    if (rc == 0)
        rc = cmk_mkdirs(dir, 0700, &err);
    if (rc == 0)
        rc = cmk_file_write_atomic(path, file, flen, 0600, &err);
    free(file);
    if (rc < 0) {
        free(w.wrapped);
        eo_fail(j, rc, "the backup was not written: ", err.msg);
        return;
    }
    state = envops_state_to_json(&j->state);
    state_text = cJSON_PrintUnformatted(state);
    cJSON_Delete(state);
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO env_backups(id, env, tenant, label, created, state, dek_id, wrap_kind, wrap_vault, "
                           "wrap_key, wrap_version, wrap_principal, wrapped, path, size, flows) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        rc = store_err(c->db, &err, "recording the backup");
    else {
        const char *txt[] = { j->backup, j->source, j->state.tenant, j->label, NULL, state_text, hex, w.kind,
                              w.vault, w.key, w.version, w.principal };
        for (int i = 0; i < 12; i++)
            if (i != 4)
                sqlite3_bind_text(st, i + 1, txt[i], -1, SQLITE_STATIC);
        if (!j->label[0])
            sqlite3_bind_null(st, 4);
        if (strcmp(w.kind, "vault") != 0)
            for (int i = 9; i <= 12; i++)
                sqlite3_bind_null(st, i);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_blob(st, 13, w.wrapped, (int)w.wrapped_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 15, (int64_t)flen);
        sqlite3_bind_int(st, 16, n);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(c->db, &err, "recording the backup");
        sqlite3_finalize(st);
    }
    free(state_text);
    free(w.wrapped);
    if (rc < 0) {
        unlink(path);
        eo_fail(j, rc, "the backup was not recorded: ", err.msg);
        return;
    }
    result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "id", j->backup);
    cJSON_AddStringToObject(result, "env", j->source);
    if (j->label[0])
        cJSON_AddStringToObject(result, "label", j->label);
    cJSON_AddStringToObject(result, "created", cmk_time_format(now, ts, sizeof ts));
    cJSON_AddStringToObject(result, "encryption_at_backup", tenantkey_env_mode_name(j->state.mode));
    if (j->state.policy[0])
        cJSON_AddStringToObject(result, "policy_at_backup", j->state.policy);
    cJSON_AddNumberToObject(result, "flows", n);
    cJSON_AddNumberToObject(result, "size", (double)flen);
    cJSON_AddStringToObject(result, "path", path);
    if (strcmp(w.kind, "vault") == 0)
        snprintf(detail, sizeof detail, "backup %s: %d flows sealed, data key wrapped by %s/%s/%s (policy %s)", j->backup,
                 n, w.vault, w.key, w.version, j->state.policy);
    else
        snprintf(detail, sizeof detail, "backup %s: %d flows sealed, data key wrapped by the Microsoft-managed key",
                 j->backup, n);
    cJSON_AddStringToObject(result, "wrapped_by", strcmp(w.kind, "vault") == 0 ? "customer-managed key"
                                                                               : "Microsoft-managed key");
    eo_finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* envops_backup - refuse a locked or busy environment, else gather and write */
int envops_backup(envops_svc *self, const char *principal, const char *env, const char *label,
                  envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state s;
    cJSON *row = NULL;
    eo_job *j;
    int rc = eo_env_view(self, principal, env, &s, &row, err);
    if (rc < 0)
        return eo_refuse(self, principal, "env.backup", env, rc, err);
    if (s.mode == TENANTKEY_ENV_LOCKED)
        rc = cmk_err_set(err, CMK_ESTATE,
                         "'%s' is locked: its key is unreachable, so it can't be backed up; bring the key back and "
                         "re-enable the environment first",
                         s.name);
    else if (label && strlen(label) >= sizeof j->label)
        rc = cmk_err_set(err, CMK_EINVAL, "a backup label has at most %zu characters", sizeof j->label - 1);
    else
        rc = eo_busy(self, row, err);
    if (rc < 0) {
        cJSON_Delete(row);
        return eo_refuse(self, principal, "env.backup", s.env, rc, err);
    }
    if (!(j = eo_job_new(self, "env.backup", principal, done, arg))) {
        cJSON_Delete(row);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->source, s.env, sizeof j->source);
    cmk_strlcpy(j->label, label ? label : "", sizeof j->label);
    cmk_random_id("bak", j->backup, sizeof j->backup);
    j->state = s;
    j->src_dedicated = eo_is_dedicated(row);
    cJSON_Delete(row);
    eo_job_start(j);
    eo_gather(j, j->source, j->src_dedicated, backup_write);
    return 0;
}

/* ---- restore and copy --------------------------------------------------------------------- */

/* put_done - every flow is in the target */
static void put_done(eo_job *j)
{
    cJSON *result = cJSON_CreateObject();
    char detail[400];
    int n = j->flows_in;
    if (strcmp(j->op, "env.restore") == 0) {
        cJSON_AddStringToObject(result, "backup", j->backup);
        snprintf(detail, sizeof detail, "backup %s of %s restored into %s: %d flows (%d flows and %d runs replaced)%s",
                 j->backup, j->source, j->target, n, j->flows_deleted, j->runs_deleted,
                 j->new_ids ? ", with new flow ids" : "");
    } else
        snprintf(detail, sizeof detail, "%s copied over %s: %d flows with new ids (%d flows and %d runs replaced)",
                 j->source, j->target, n, j->flows_deleted, j->runs_deleted);
    cJSON_AddStringToObject(result, "source", j->source);
    cJSON_AddStringToObject(result, "env", j->target);
    cJSON_AddNumberToObject(result, "flows", n);
    cJSON_AddNumberToObject(result, "flows_replaced", j->flows_deleted);
    cJSON_AddNumberToObject(result, "runs_deleted", j->runs_deleted);
    cJSON_AddBoolToObject(result, "new_ids", j->new_ids);
    eo_finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* staged - every flow is in the target's staging areas: commit (swap them in) */
static void staged(eo_job *j)
{
    eo_commit(j, put_done);
}

/* start_put - the staging areas are made: put the flows there */
static void start_put(eo_job *j)
{
    j->then = staged;
    j->put_index = 0;
    eo_put_next(j);
}

/* stage_target - the flows are in hand: a staging area in every partition of the target (the
 * target itself is untouched until the commit) */
static void stage_target(eo_job *j)
{
    eo_stage_begin(j, start_put);
}

/* load_backup - a row of env_backups: its state, wrap and path */
static int load_backup(envops_svc *self, const char *id, char env[64], tenantkey_env_state *at, eo_wrap *w,
                       char path[PATH_MAX], char dek_hex[33], cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    memset(w, 0, sizeof *w);
    if (sqlite3_prepare_v2(self->c.db,
                           "SELECT env, state, wrap_kind, wrap_vault, wrap_key, wrap_version, wrap_principal, wrapped, "
                           "path, dek_id FROM env_backups WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return store_err(self->c.db, err, "reading a backup");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ENOENT, "no backup '%s'; `cmkctl env backups ENV` lists them", id);
    }
#define COL(i) (sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
    cmk_strlcpy(env, COL(0), 64);
    {
        cJSON *sj = cJSON_Parse(COL(1));
        rc = envops_state_from_json(sj, at, err);
        cJSON_Delete(sj);
    }
    cmk_strlcpy(w->kind, COL(2), sizeof w->kind);
    cmk_strlcpy(w->vault, COL(3), sizeof w->vault);
    cmk_strlcpy(w->key, COL(4), sizeof w->key);
    cmk_strlcpy(w->version, COL(5), sizeof w->version);
    cmk_strlcpy(w->principal, COL(6), sizeof w->principal);
    w->wrapped_len = (size_t)sqlite3_column_bytes(st, 7);
    if (rc == 0 && (w->wrapped = malloc(w->wrapped_len ? w->wrapped_len : 1)))
        memcpy(w->wrapped, sqlite3_column_blob(st, 7), w->wrapped_len);
    else if (rc == 0)
        rc = cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cmk_strlcpy(path, COL(8), PATH_MAX);
    cmk_strlcpy(dek_hex, COL(9), 33);
#undef COL
    sqlite3_finalize(st);
    return rc;
}

/* open_backup - unwrap the data key, read and open the file: its flows */
static int open_backup(envops_svc *self, const char *id, const char *env, const eo_wrap *w, const char *path,
                       const char *dek_hex, cJSON **flows, cmk_err *err)
{
    uint8_t key[CMK_DEK_KEY_LEN], dek_id[CMK_DEK_ID_LEN], file_id[CMK_DEK_ID_LEN];
    char *data = NULL, *plain = NULL;
    size_t len = 0, plen = 0;
    cmk_dek *dek = NULL;
    cJSON *payload;
    int rc = eo_unwrap_key(&self->c, w, key, err);

    if (rc == 0)
        rc = cmk_hex_decode(dek_hex, dek_id, sizeof dek_id, err);
    if (rc == 0 && !(dek = cmk_dek_from_bytes(dek_id, key, err)))
        rc = err->code;
    OPENSSL_cleanse(key, sizeof key);
    if (rc == 0 && (rc = cmk_file_read(path, &data, &len, err)) < 0)
        cmk_err_prefix(err, "the backup file is gone or unreadable: ");
    if (rc == 0 && (rc = envops_file_dek_id((const uint8_t *)data, len, file_id, err)) == 0 &&
        memcmp(file_id, dek_id, sizeof dek_id) != 0)
        rc = cmk_err_set(err, CMK_ECRYPTO, "backup file %s was sealed under another data key than backup %s's", path, id);
    if (rc == 0)
        rc = envops_file_open(dek, env, id, (const uint8_t *)data, len, &plain, &plen, err);
    free(data);
    cmk_dek_destroy(&dek);
    if (rc < 0)
        return rc;
    payload = cJSON_Parse(plain);
    cmk_wipe_str(plain, plen);
    if (!payload || !cJSON_IsArray(cJSON_GetObjectItem(payload, "flows")) ||
        strcmp(cmk_json_str(payload, "env", ""), env) != 0 || strcmp(cmk_json_str(payload, "backup", ""), id) != 0) {
        cJSON_Delete(payload);
        return cmk_err_set(err, CMK_EINVAL, "backup %s opened but its content is not a backup of %s", id, env);
    }
    *flows = cJSON_DetachItemFromObject(payload, "flows");
    cJSON_Delete(payload);
    return 0;
}

/* envops_restore - the rule, the key, the file; then clear and put */
int envops_restore(envops_svc *self, const char *principal, const char *backup, const char *env,
                   envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state at, src_now, tgt;
    char src[64] = "", path[PATH_MAX], dek_hex[33];
    cJSON *row = NULL, *flows = NULL;
    cmk_err ignore = CMK_ERR_INIT;
    eo_wrap w;
    eo_job *j;
    int has_src, rc;

    memset(&tgt, 0, sizeof tgt);
    memset(&w, 0, sizeof w);
    if (!backup || !*backup)
        return eo_refuse(self, principal, "env.restore", env ? env : "", cmk_err_set(err, CMK_EINVAL, "name the backup"), err);
    if ((rc = load_backup(self, backup, src, &at, &w, path, dek_hex, err)) < 0) {
        free(w.wrapped);
        return eo_refuse(self, principal, "env.restore", env && *env ? env : backup, rc, err);
    }
    has_src = eo_env_view(self, principal, src, &src_now, NULL, &ignore) == 0;
    if (!env || !*env)
        env = src;
    if ((rc = eo_env_view(self, principal, env, &tgt, &row, err)) < 0) {
        if (rc == CMK_ENOENT && strcmp(env, src) == 0)
            cmk_err_set(err, CMK_ENOENT, "environment %s, which backup %s was taken from, no longer exists; restore it "
                                         "into another environment encrypted with the same key (--to ENV)", src, backup);
    } else if ((rc = tenantkey_restore_allowed(&at, has_src ? &src_now : NULL, &tgt, cmk_clock_now(self->c.clock),
                                               err)) == 0 &&
               (rc = eo_busy(self, row, err)) == 0)
        rc = open_backup(self, backup, src, &w, path, dek_hex, &flows, err);
    free(w.wrapped);
    if (rc < 0) {
        cJSON_Delete(row);
        return eo_refuse(self, principal, "env.restore", tgt.env[0] ? tgt.env : env, rc, err);
    }
    if (!(j = eo_job_new(self, "env.restore", principal, done, arg))) {
        cJSON_Delete(row);
        cJSON_Delete(flows);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cJSON_Delete(j->flows);
    j->flows = flows;
    cmk_strlcpy(j->source, src, sizeof j->source);
    cmk_strlcpy(j->target, tgt.env, sizeof j->target);
    cmk_strlcpy(j->backup, backup, sizeof j->backup);
    j->state = tgt;
    j->tgt_dedicated = eo_is_dedicated(row);
    j->src_dedicated = at.mode == TENANTKEY_ENV_CUSTOMER; /* split then: the flows carry their home */
    j->new_ids = strcmp(j->source, j->target) != 0;
    cJSON_Delete(row);
    eo_job_start(j);
    stage_target(j);
    return 0;
}

/* envops_copy - the rule, then dump, clear, put with new ids */
int envops_copy(envops_svc *self, const char *principal, const char *source, const char *target,
                envops_done_fn done, void *arg, cmk_err *err)
{
    tenantkey_env_state s, t;
    cJSON *srow = NULL, *trow = NULL;
    eo_job *j;
    int rc;

    memset(&t, 0, sizeof t);
    if ((rc = eo_env_view(self, principal, source ? source : "", &s, &srow, err)) < 0)
        return eo_refuse(self, principal, "env.copy", target ? target : "", rc, err);
    if ((rc = eo_env_view(self, principal, target ? target : "", &t, &trow, err)) == 0 &&
        (rc = tenantkey_copy_allowed(&s, &t, err)) == 0 && (rc = eo_busy(self, srow, err)) == 0)
        rc = eo_busy(self, trow, err);
    if (rc < 0) {
        cJSON_Delete(srow);
        cJSON_Delete(trow);
        return eo_refuse(self, principal, "env.copy", t.env[0] ? t.env : (target ? target : ""), rc, err);
    }
    if (!(j = eo_job_new(self, "env.copy", principal, done, arg))) {
        cJSON_Delete(srow);
        cJSON_Delete(trow);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->source, s.env, sizeof j->source);
    cmk_strlcpy(j->target, t.env, sizeof j->target);
    j->state = t;
    j->src_dedicated = eo_is_dedicated(srow);
    j->tgt_dedicated = eo_is_dedicated(trow);
    j->new_ids = 1;
    cJSON_Delete(srow);
    cJSON_Delete(trow);
    eo_job_start(j);
    eo_gather(j, j->source, j->src_dedicated, stage_target);
    return 0;
}

/* ---- reset -------------------------------------------------------------------------------- */

/* delete_backups - every backup of env: files and rows; the number deleted */
static int delete_backups(envops_deps *c, const char *env)
{
    sqlite3_stmt *st;
    char dir[PATH_MAX];
    int n = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT path FROM env_backups WHERE env = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(st, 0);
            if (p && unlink(p) < 0 && errno != ENOENT)
                cmk_log(CMK_LOG_WARN, env, NULL, "envops.backup_unlink_failed", "path=%s error=\"%s\"", p, strerror(errno));
            n++;
        }
        sqlite3_finalize(st);
    }
    store_exec_text(c->db, "DELETE FROM env_backups WHERE env = ?1", env, NULL, NULL, NULL, NULL);
    snprintf(dir, sizeof dir, "%s/backups/%s", c->cfg->run_dir, env);
    rmdir(dir);
    return n;
}

/* reset_finish - the data is gone: backups, the policy, the BYOK view (each step skipped when a
 * run interrupted by a restart did it already) */
static void reset_finish(eo_job *j)
{
    envops_deps *c = &j->svc->c;
    cJSON *result = cJSON_CreateObject(), *op = NULL, *row = NULL;
    tenantkey_env_state after;
    cmk_err err = CMK_ERR_INIT;
    char detail[600];
    int nb = delete_backups(c, j->target), rc = 0;

    if (j->tgt_linked && directory_env_get(c->dir, j->target, &row, NULL) == 0 &&
        (!cJSON_IsString(cJSON_GetObjectItem(row, "policy")) || strcmp(cmk_json_str(row, "state", ""), "Ready") != 0))
        j->tgt_linked = 0; /* left its policy already (or is leaving it) */
    cJSON_Delete(row);

    cJSON_AddStringToObject(result, "env", j->target);
    cJSON_AddNumberToObject(result, "flows_deleted", j->flows_deleted);
    cJSON_AddNumberToObject(result, "runs_deleted", j->runs_deleted);
    cJSON_AddNumberToObject(result, "backups_deleted", nb);
    if (j->tgt_linked) {
        /* back to the Microsoft-managed key: the normal unlink operation (nothing left to move) */
        rc = policy_unlink(c->policies, j->principal, j->target, &op, &err);
        if (rc == 0 && op) {
            cJSON_AddStringToObject(result, "operation", cmk_json_str(op, "id", ""));
            cJSON_AddStringToObject(result, "operation_status", cmk_json_str(op, "status", ""));
        }
        cJSON_Delete(op);
    }
    if (rc == 0 && tenantkey_env_reset(c->tenantkeys, j->principal, j->target, &after, &err) < 0)
        rc = err.code;
    if (rc < 0) {
        snprintf(detail, sizeof detail, "%d flows, %d runs and %d backups of %s were deleted, but returning to the "
                 "Microsoft-managed key failed: %s", j->flows_deleted, j->runs_deleted, nb, j->target, err.msg);
        eo_finish(j, rc, NULL, detail);
        cJSON_Delete(result);
        return;
    }
    cJSON_AddStringToObject(result, "encryption", "microsoft");
    snprintf(detail, sizeof detail, "%s reset: %d flows, %d runs and %d backups deleted; encryption reverts to the "
             "Microsoft-managed key%s", j->target, j->flows_deleted, j->runs_deleted, nb,
             j->tgt_linked ? " (removed from its enterprise policy)" : "");
    eo_finish(j, 0, result, detail);
    cJSON_Delete(result);
}

/* reset_commit - every partition of the target can take part: commit (delete), then finish */
static void reset_commit(eo_job *j)
{
    eo_commit(j, reset_finish);
}

/* envops_reset - sandbox only, not locked; stage nothing, commit, then reset_finish */
int envops_reset(envops_svc *self, const char *principal, const char *env, envops_done_fn done, void *arg,
                 cmk_err *err)
{
    tenantkey_env_state s;
    cJSON *row = NULL;
    eo_job *j;
    int rc = eo_env_view(self, principal, env ? env : "", &s, &row, err);
    if (rc < 0)
        return eo_refuse(self, principal, "env.reset", env ? env : "", rc, err);
    if ((rc = envops_reset_check(&s, err)) == 0 && (rc = eo_busy(self, row, err)) == 0 &&
        cJSON_IsString(cJSON_GetObjectItem(row, "policy")))
        /* a BYOK environment migrated to CMK may not return to the Microsoft key yet */
        rc = tenantkey_cmk_return_check(self->c.tenantkeys, principal, s.env, err);
    if (rc < 0) {
        cJSON_Delete(row);
        return eo_refuse(self, principal, "env.reset", s.env, rc, err);
    }
    if (!(j = eo_job_new(self, "env.reset", principal, done, arg))) {
        cJSON_Delete(row);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    cmk_strlcpy(j->target, s.env, sizeof j->target);
    j->state = s;
    j->tgt_dedicated = eo_is_dedicated(row);
    j->tgt_linked = cJSON_IsString(cJSON_GetObjectItem(row, "policy"));
    j->connections = 1;
    cJSON_Delete(row);
    eo_job_start(j);
    /* an empty staging area in every partition first: a worker that can't take part fails the
     * reset before anything is deleted; once committed it is finished, also after a restart */
    eo_stage_begin(j, reset_commit);
    return 0;
}

/* ---- after a restart ---------------------------------------------------------------------- */

/* eo_roll_forward - an operation past its commit when the controller stopped: swap in, finish */
void eo_roll_forward(envops_svc *self, const cJSON *op)
{
    const char *kind = cmk_json_str(op, "kind", "");
    eo_job *j = eo_job_new(self, kind, cmk_json_str(op, "principal", ""), NULL, NULL);
    cJSON *row = NULL;
    cmk_err err = CMK_ERR_INIT;
    int rc;

    if (!j)
        return;
    cmk_strlcpy(j->id, cmk_json_str(op, "id", ""), sizeof j->id);
    cmk_strlcpy(j->backup, cmk_json_str(op, "backup", ""), sizeof j->backup);
    cmk_strlcpy(j->source, cmk_json_str(op, "source", ""), sizeof j->source);
    cmk_strlcpy(j->target, cmk_json_str(op, "target", ""), sizeof j->target);
    j->resumed = 1;
    rc = eo_env_view(self, j->principal, j->target, &j->state, &row, &err);
    cmk_log(rc < 0 ? CMK_LOG_WARN : CMK_LOG_INFO, j->target, NULL, "envops.roll_forward", "op=%s id=%s rc=%d error=\"%s\"",
            kind, j->id, rc, rc < 0 ? err.msg : "");
    if (rc < 0) {
        cmk_err_prefix(&err, "interrupted by a controller restart after its commit, and could not be finished: ");
        eo_finish(j, rc, NULL, err.msg);
        return;
    }
    j->tgt_dedicated = eo_is_dedicated(row);
    j->tgt_linked = cJSON_IsString(cJSON_GetObjectItem(row, "policy"));
    cJSON_Delete(row);
    if (strcmp(kind, "env.reset") == 0) {
        j->connections = 1;
        eo_swap(j, reset_finish);
    } else {
        j->new_ids = strcmp(kind, "env.copy") == 0 || strcmp(j->source, j->target) != 0;
        eo_swap(j, put_done);
    }
}

/* ---- listing ------------------------------------------------------------------------------ */

/* list_operations - the environment's latest backups, restores, copies and resets, newest
 * first: what each did, or why it failed and what to do (ENVOP-8) */
static void list_operations(envops_svc *self, const char *env, cJSON *ops)
{
    sqlite3_stmt *st;
    if (!ops || sqlite3_prepare_v2(self->c.db,
                                   "SELECT id, kind, status, phase, started, ended, message, source, target, backup "
                                   "FROM env_ops WHERE target = ?1 OR source = ?1 ORDER BY started DESC, rowid DESC "
                                   "LIMIT 10",
                                   -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, env, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        static const char *const names[] = { "id", "kind", "status", "phase" };
        cJSON *o = cJSON_CreateObject();
        char ts[40];
        for (int i = 0; i < 4; i++)
            cJSON_AddStringToObject(o, names[i], sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
        cJSON_AddStringToObject(o, "started", cmk_time_format(sqlite3_column_int64(st, 4), ts, sizeof ts));
        if (sqlite3_column_int64(st, 5))
            cJSON_AddStringToObject(o, "ended", cmk_time_format(sqlite3_column_int64(st, 5), ts, sizeof ts));
        cJSON_AddStringToObject(o, "message", sqlite3_column_text(st, 6) ? (const char *)sqlite3_column_text(st, 6) : "");
        for (int i = 7; i < 10; i++)
            if (sqlite3_column_text(st, i) && *sqlite3_column_text(st, i))
                cJSON_AddStringToObject(o, i == 7 ? "source" : i == 8 ? "target" : "backup",
                                        (const char *)sqlite3_column_text(st, i));
        cJSON_AddItemToArray(ops, o);
    }
    sqlite3_finalize(st);
}

/* envops_list - the backups of env, oldest first, and its latest operations */
int envops_list(envops_svc *self, const char *env, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    cJSON *row = NULL, *items;
    int rc = directory_env_get(self->c.dir, env ? env : "", &row, err);
    const char *id;
    if (rc < 0)
        return rc;
    id = cmk_json_str(row, "id", "");
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "env", id);
    items = cJSON_AddArrayToObject(*out, "items");
    if (sqlite3_prepare_v2(self->c.db,
                           "SELECT id, label, created, state, wrap_kind, wrap_vault, wrap_key, wrap_version, size, flows "
                           "FROM env_backups WHERE env = ? ORDER BY created, id",
                           -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(row);
        cJSON_Delete(*out);
        *out = NULL;
        return store_err(self->c.db, err, "listing backups");
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject(), *sj = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        char ts[40], by[400];
        cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "env", id);
        cJSON_AddStringToObject(o, "label", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
        cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 2), ts, sizeof ts));
        cJSON_AddStringToObject(o, "encryption_at_backup", cmk_json_str(sj, "encryption", "?"));
        cJSON_AddStringToObject(o, "policy_at_backup", cmk_json_str(sj, "policy", ""));
        if (strcmp((const char *)sqlite3_column_text(st, 4), "vault") == 0)
            snprintf(by, sizeof by, "%s/%s/%s", sqlite3_column_text(st, 5), sqlite3_column_text(st, 6),
                     sqlite3_column_text(st, 7));
        else
            snprintf(by, sizeof by, "Microsoft-managed key");
        cJSON_AddStringToObject(o, "wrapped_by", by);
        cJSON_AddNumberToObject(o, "flows", sqlite3_column_int(st, 9));
        cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 8));
        cJSON_AddItemToObject(o, "state_at_backup", sj ? sj : cJSON_CreateNull());
        cJSON_AddItemToArray(items, o);
    }
    sqlite3_finalize(st);
    list_operations(self, id, cJSON_AddArrayToObject(*out, "operations"));
    cJSON_Delete(row);
    return 0;
}

