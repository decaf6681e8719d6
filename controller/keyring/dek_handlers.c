/*
 * ops_dek.c - data keys for workers, on the back channel: `dek.get` {env, purpose} answers an
 * authorized worker with the environment's DEK (binary frames: 16-byte id, 32-byte key) over
 * CURVE. Who may have which key is keyring_authorize()'s rule; every grant and refusal is
 * audited, and a grant whose audit record cannot be written is refused (fail closed). Unwrapping may go to the vault (RSA), so it runs in the job pool.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "envelope.h"
#include "log.h"
#include "util.h"

/* A DEK request in flight. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;                 /* addressed to the peer */
    char env[64], purpose[16], who[64];
    uint8_t id[CMK_DEK_ID_LEN];
    uint8_t key[CMK_DEK_KEY_LEN];   /* wiped in done */
    cmk_err err;
    int rc;
} dek_job;

static void dek_work(void *arg)
{
    dek_job *j = arg;
    j->rc = keyring_unwrap(j->ctl->keyring, j->env, j->purpose, j->id, j->key, &j->err);
}

static void dek_done(void *arg)
{
    dek_job *j = arg;
    cmk_err aerr = CMK_ERR_INIT;
    /* fail closed: a key whose grant cannot be audited is not handed out */
    if (audit_append(j->ctl->audit, j->who, "dek.get", j->env, j->rc, j->rc < 0 ? j->err.msg : j->purpose, NULL,
                     &aerr) < 0 && j->rc == 0) {
        j->rc = CMK_EIO;
        cmk_err_set(&j->err, CMK_EIO,
                    "refused: the data key was not handed out because its audit record could not be written (%s); "
                    "free space for the run dir and retry",
                    aerr.msg);
    }
    if (j->rc == 0 && cmk_msg_add_bin(j->reply, j->id, sizeof j->id, &j->err) == 0 &&
        cmk_msg_add_bin(j->reply, j->key, sizeof j->key, &j->err) == 0) {
        cmk_log(CMK_LOG_INFO, j->env, j->reply->reqid, "dek.granted", "to=%s purpose=%s", j->who, j->purpose);
        broker_reply_back(j->ctl->broker, j->reply);
    } else {
        cmk_log(CMK_LOG_WARN, j->env, j->reply->reqid, "dek.failed", "to=%s error=\"%s\"", j->who, j->err.msg);
        broker_reply_back(j->ctl->broker, cmk_msg_error(j->reply, j->rc < 0 ? j->rc : CMK_EINTERNAL, j->err.msg));
        cmk_msg_destroy(&j->reply);
    }
    cmk_wipe(j->key, sizeof j->key);
    free(j);
}

/* op_dek_get - {env, purpose: data|mmk} from a worker */
int op_dek_get(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    const char *env = cmk_json_str(req->body, "env", ""), *purpose = cmk_json_str(req->body, "purpose", "data");
    const cJSON *entry = cmk_zap_entry(self->zap, req->user);
    cJSON *row = NULL;
    dek_job *j;
    int rc;

    if ((rc = directory_env_get(self->dir, env, &row, err)) < 0)
        return rc;
    if (strcmp(cmk_json_str(row, "state", "Ready"), "Locked") == 0) {
        rc = cmk_err_set(err, CMK_EUNAVAIL, "Environment disabled: %s is locked because its key is not reachable",
                         cmk_json_str(row, "id", env));
        audit_append(self->audit, req->user, "dek.get", env, rc, err->msg, NULL, NULL);
        cJSON_Delete(row);
        return rc;
    }
    rc = keyring_authorize(entry, cmk_json_str(row, "id", env), cmk_json_str(row, "encryption", "microsoft"), purpose, err);
    /* MMK-wrapped keys are made on demand; the customer-managed one only by adding the
     * environment to a policy */
    if (rc == 0 && strcmp(purpose, "cmk") != 0)
        rc = keyring_ensure(self->keyring, cmk_json_str(row, "id", env), purpose, NULL, NULL, err);
    if (rc < 0) {
        audit_append(self->audit, req->user, "dek.get", env, rc, err->msg, NULL, NULL);
        cJSON_Delete(row);
        return rc;
    }
    j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(row);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    cmk_strlcpy(j->env, cmk_json_str(row, "id", env), sizeof j->env);
    cmk_strlcpy(j->purpose, purpose, sizeof j->purpose);
    cmk_strlcpy(j->who, req->user, sizeof j->who);
    cJSON_AddStringToObject(j->reply->body, "env", j->env);
    cJSON_AddStringToObject(j->reply->body, "purpose", j->purpose);
    cJSON_Delete(row);
    if (jobs_submit(self->jobs, dek_work, dek_done, j, err) < 0) {
        cmk_msg_destroy(&j->reply);
        free(j);
        return err->code;
    }
    return 0;
}

/* op_dek_list - the data keys of an environment (ids and KEKs only, never key bytes) */
int op_dek_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *items, *out;
    int rc = keyring_list(self->keyring, cmk_json_str(req->body, "env", NULL), &items, err);
    if (rc < 0)
        return rc;
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "items", items);
    return ctl_reply_json(self, req, out, err);
}
