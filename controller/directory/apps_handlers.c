/*
 * ops_apps.c - environment settings and the things around flows that CMK touches (seed 000):
 *   env.settings          "create new flows in Dataverse solutions" on or off
 *   app.register-flow     an app references a Power Apps-trigger flow: in a CMK environment only
 *                         solution flows can be referenced
 *   machine-group.*       hosted RPA machine groups: their VM disks stay on the Microsoft-managed
 *                         key after CMK until the group is reprovisioned
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "op_fields.h"
#include "recurrence.h"
#include "store.h"
#include "util.h"

/* op_env_settings - {env, create_flows_in_solutions?} */
int op_env_settings(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env, *out;
    int v = -1; /* -1: not given */
    int rc = cmk_op_get_bool(req->type, req->body, "create_flows_in_solutions", &v, err);
    if (rc == 0)
        rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    if (v >= 0) {
        rc = directory_env_set(self->dir, cmk_json_str(env, "id", ""), "flows_in_solutions", v ? "1" : "0", err);
        audit_append(self->audit, req->user, "env.settings", cmk_json_str(env, "id", ""), rc,
                     v ? "create_flows_in_solutions=on" : "create_flows_in_solutions=off", NULL, NULL);
    }
    if (rc == 0)
        rc = directory_env_get(self->dir, cmk_json_str(env, "id", ""), &out, err);
    cJSON_Delete(env);
    return rc < 0 ? rc : ctl_reply_json(self, req, out, err);
}

/* A registration waiting for the flow's metadata. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;
    char app[128];
    int cmk;          /* the environment is protected by a customer-managed key */
} reg_job;

static void reg_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    reg_job *j = arg;
    cmk_msg *out = NULL;
    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        out = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_ENOENT, err ? err->msg : "no such flow");
    } else {
        const char *trigger = cmk_json_str(reply->body, "trigger", "");
        int powerapps = strncmp(trigger, "powerapps", 9) == 0;
        int in_solution = cJSON_IsTrue(cJSON_GetObjectItem(reply->body, "in_solution"));
        if (!powerapps)
            out = cmk_msg_error(j->reply, CMK_EINVAL, "only flows with a Power Apps trigger can be registered with an app");
        else if (j->cmk && !in_solution)
            out = cmk_msg_error(j->reply, CMK_ESTATE,
                                "Non-solution cloud flows using the Power Apps trigger can't be referenced from an app in "
                                "a CMK-protected environment: only solution cloud flows can be referenced. Add the flow "
                                "to a Dataverse solution (cmkctl flow update --env ENV FLOW --solution), and turn on "
                                "the environment setting that creates new flows in solutions "
                                "(cmkctl env settings ENV --create-flows-in-solutions on)");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "app", j->app);
            cJSON_AddStringToObject(o, "flow", cmk_json_str(reply->body, "id", ""));
            cJSON_AddBoolToObject(o, "registered", 1);
            cmk_msg_set_body(j->reply, o);
            out = j->reply;
            j->reply = NULL;
        }
    }
    cmk_msg_destroy(&j->reply);
    broker_reply(j->ctl->broker, out);
    free(j);
}

/* op_app_register_flow - {env, flow, app} */
int op_app_register_flow(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env, *body;
    reg_job *j;
    char worker[96];
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    j = calloc(1, sizeof *j);
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    j->cmk = strcmp(cmk_json_str(env, "encryption", ""), "customer") == 0;
    cmk_strlcpy(j->app, cmk_json_str(req->body, "app", "app"), sizeof j->app);
    snprintf(worker, sizeof worker, "%s", strcmp(migration_home(self->migration, cmk_json_str(env, "id", ""),
                                                                 cmk_json_str(req->body, "flow", ""),
                                                                 cmk_json_str(env, "infrastructure", "shared")),
                                                 "dedicated") == 0 ? "" : CMK_WORKER_SHARED);
    if (!worker[0])
        cmk_worker_name(cmk_json_str(env, "id", ""), worker, sizeof worker);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "env", cmk_json_str(env, "id", ""));
    cJSON_AddStringToObject(body, "flow", cmk_json_str(req->body, "flow", ""));
    cJSON_AddStringToObject(body, "region", cmk_json_str(env, "region", ""));
    cJSON_Delete(env);
    rc = broker_forward(self->broker, worker, "flow.get", body, self->cfg->request_timeout, reg_done, j, err);
    cJSON_Delete(body);
    return rc;
}

/* group_json - a machine group row */
static cJSON *group_json(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(o, "disks_encrypted_with", strcmp((const char *)sqlite3_column_text(st, 3), "customer") == 0
                                                            ? "customer-managed key"
                                                            : "Microsoft-managed key");
    return o;
}

/* groups_table - created on first use */
static int groups_table(ctl *self, cmk_err *err)
{
    return store_exec(self->db, "CREATE TABLE IF NOT EXISTS machine_groups (id TEXT PRIMARY KEY, env TEXT NOT NULL,"
                                "  name TEXT NOT NULL, disk_key TEXT NOT NULL DEFAULT 'microsoft')", err);
}

/* op_machine_group - {action: create|list|reprovision, env, name?, group?} */
int op_machine_group(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    const char *action = cmk_json_str(req->body, "action", "list");
    cJSON *env = NULL, *out = cJSON_CreateObject(), *items;
    sqlite3_stmt *st;
    char id[64];
    int rc = groups_table(self, err);

    if (rc == 0)
        rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc == 0 && strcmp(action, "create") == 0) {
        /* a new group is provisioned under the environment's current key */
        cmk_random_id("mg", id, sizeof id);
        id[15] = '\0';
        if (sqlite3_prepare_v2(self->db, "INSERT INTO machine_groups(id, env, name, disk_key) VALUES(?, ?, ?, ?)", -1, &st,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, cmk_json_str(env, "id", ""), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, cmk_json_str(req->body, "name", id), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, cmk_json_str(env, "encryption", "microsoft"), -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "machine group insert");
            sqlite3_finalize(st);
        }
    } else if (rc == 0 && strcmp(action, "reprovision") == 0) {
        /* "Reprovision group": the VM disks are encrypted again, under the environment's key */
        if (sqlite3_prepare_v2(self->db, "UPDATE machine_groups SET disk_key = ? WHERE env = ? AND (id = ?3 OR name = ?3)",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, cmk_json_str(env, "encryption", "microsoft"), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, cmk_json_str(env, "id", ""), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, cmk_json_str(req->body, "group", ""), -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "machine group update");
            sqlite3_finalize(st);
            if (rc == 0 && sqlite3_changes(self->db) == 0)
                rc = cmk_err_set(err, CMK_ENOENT, "no machine group '%s' in environment %s",
                                 cmk_json_str(req->body, "group", ""), cmk_json_str(env, "id", ""));
        }
    } else if (rc == 0 && strcmp(action, "list") != 0)
        rc = cmk_err_set(err, CMK_EINVAL, "machine-group action must be create, list or reprovision");
    if (rc == 0) {
        audit_append(self->audit, req->user, "machine-group", cmk_json_str(env, "id", ""), 0, action, NULL, NULL);
        items = cJSON_AddArrayToObject(out, "items");
        if (sqlite3_prepare_v2(self->db, "SELECT id, env, name, disk_key FROM machine_groups WHERE env = ? ORDER BY name",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, cmk_json_str(env, "id", ""), -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW)
                cJSON_AddItemToArray(items, group_json(st));
            sqlite3_finalize(st);
        }
        cJSON_AddStringToObject(out, "note", "CMK for the hosted machine capability isn't currently available; "
                                             "reprovision existing hosted machine groups after applying CMK");
    }
    cJSON_Delete(env);
    if (rc < 0) {
        cJSON_Delete(out);
        return rc;
    }
    return ctl_reply_json(self, req, out, err);
}

/* op_flow_schedules - the recurrence schedules of an environment {env?} */
int op_flow_schedules(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *out = cJSON_CreateObject(), *env = NULL;
    const char *ref = cmk_json_str(req->body, "env", NULL);
    if (ref && directory_env_get(self->dir, ref, &env, err) < 0) {
        cJSON_Delete(out);
        return err->code;
    }
    cJSON_AddItemToObject(out, "items", recurrence_list(self->recurrence, env ? cmk_json_str(env, "id", NULL) : NULL));
    cJSON_Delete(env);
    return ctl_reply_json(self, req, out, err);
}
