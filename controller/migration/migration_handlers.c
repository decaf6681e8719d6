/*
 * migration_handlers.c - the operations around applying CMK to Power Automate (seed 000):
 *   flows.mmk            Get-AdminFlowEncryptedByMicrosoftKey [-ListCannotMigrateToCustomerManagedKey]
 *   env.migration        the migration's status and the flows it kept on the Microsoft-managed key
 *   support.run-history  the support ticket: summary of old and new runs, for 30 days after migration
 *   support.protect-flows the support ticket: move the flows that can now be migrated
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "op_fields.h"
#include "flowclass.h"
#include "flowdef.h"
#include "migration.h"
#include "util.h"

#define RUN_HISTORY_DAYS 30

/* A request answered from the shared worker's flows. */
typedef struct {
    ctl *ctl;
    cmk_msg *reply;
    char env[64];
    int cannot_migrate;    /* only the flows that can't be migrated */
} mmk_job;

/* mmk_done - classify the shared worker's flows if asked, answer with the seed's columns */
static void mmk_done(void *arg, const cmk_msg *reply, const cmk_err *err)
{
    mmk_job *j = arg;
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items"), *it;
    const cJSON *flows = reply ? cJSON_GetObjectItem(reply->body, "items") : NULL;
    int n = cJSON_GetArraySize(flows), i = 0;
    flowclass_flow *in = calloc((size_t)(n ? n : 1), sizeof *in);
    flowdef **defs = calloc((size_t)(n ? n : 1), sizeof *defs);
    flowclass_result *res = NULL;

    if (!reply || strcmp(reply->type, CMK_MSG_REPLY) != 0) {
        cmk_msg *e = cmk_msg_error(j->reply, err && err->code ? err->code : CMK_EUNAVAIL,
                                   err ? err->msg : "the shared worker did not answer");
        cmk_msg_destroy(&j->reply);
        broker_reply(j->ctl->broker, e);
        cJSON_Delete(out);
        free(in);
        free(defs);
        free(j);
        return;
    }
    cJSON_ArrayForEach(it, flows) {
        char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(it, "definition"));
        flowdef_parse(text ? text : "{}", text ? strlen(text) : 2, &defs[i], NULL);
        free(text);
        in[i].id = cmk_json_str(it, "id", "");
        in[i].display_name = cmk_json_str(it, "name", "");
        in[i].def = defs[i];
        in[i].in_solution = cJSON_IsTrue(cJSON_GetObjectItem(it, "in_solution"));
        i++;
    }
    flowclass_classify(in, (size_t)n, &res, NULL);
    for (i = 0; i < n; i++) {
        const flowclass_entry *e = res ? flowclass_result_find(res, in[i].id) : NULL;
        cJSON *row;
        if (j->cannot_migrate && (!e || e->migratable))
            continue;
        row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "DisplayName", in[i].display_name);
        cJSON_AddStringToObject(row, "FlowName", in[i].id);
        cJSON_AddStringToObject(row, "EnvironmentName", j->env);
        if (e && !e->migratable) {
            char cats[512] = "", rems[2048] = "";
            for (unsigned bit = 1; bit <= FLOWCLASS_LIST_FLOWS_V1; bit <<= 1)
                if (e->categories & bit) {
                    snprintf(cats + strlen(cats), sizeof cats - strlen(cats), "%s%s", cats[0] ? "; " : "",
                             flowclass_category_name((flowclass_category)bit));
                    snprintf(rems + strlen(rems), sizeof rems - strlen(rems), "%s%s", rems[0] ? " | " : "",
                             flowclass_category_remedy((flowclass_category)bit));
                }
            cJSON_AddStringToObject(row, "category", cats);
            cJSON_AddStringToObject(row, "remedy", rems);
        }
        cJSON_AddItemToArray(items, row);
    }
    flowclass_result_destroy(&res);
    for (i = 0; i < n; i++)
        flowdef_destroy(&defs[i]);
    free(in);
    free(defs);
    cmk_msg_set_body(j->reply, out);
    broker_reply(j->ctl->broker, j->reply);
    free(j);
}

/* op_flows_mmk - the flows of env protected by the Microsoft-managed key (those on the shared
 * infrastructure); before CMK, a pre-flight check; after, the progress */
int op_flows_mmk(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env, *body;
    mmk_job *j;
    int cannot_migrate = 0;
    int rc = cmk_op_get_bool(req->type, req->body, "cannot_migrate", &cannot_migrate, err);
    if (rc == 0)
        rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    j = calloc(1, sizeof *j);
    j->ctl = self;
    j->reply = cmk_msg_reply(req, CMK_MSG_REPLY);
    j->cannot_migrate = cannot_migrate;
    cmk_strlcpy(j->env, cmk_json_str(env, "id", ""), sizeof j->env);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "env", j->env);
    cJSON_AddStringToObject(body, "region", cmk_json_str(env, "region", ""));
    cJSON_AddStringToObject(body, "infrastructure", "shared");
    cJSON_Delete(env);
    rc = broker_forward(self->broker, CMK_WORKER_SHARED, CMK_T_FLOW_DUMP, body, self->cfg->request_timeout, mmk_done, j, err);
    cJSON_Delete(body);
    return rc;
}

/* op_env_migration - the migration's state and the flows it kept back */
int op_env_migration(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env, *out;
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    migration_status(self->migration, cmk_json_str(env, "id", ""), &out, err);
    migration_mmk_warnings(self->migration, cmk_json_str(env, "id", ""), cmk_json_str(env, "encryption", ""), out);
    cJSON_Delete(env);
    return ctl_reply_json(self, req, out, err);
}

/* op_support_run_history - summary (run id, start, duration, status) of old and new runs, for
 * 30 days after migration */
int op_support_run_history(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env;
    int64_t at;
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    at = migration_migrated_at(self->migration, cmk_json_str(env, "id", ""));
    if (!at)
        rc = cmk_err_set(err, CMK_ESTATE, "environment %s has not been migrated to a customer-managed key; its run history "
                                          "is on the flow details page", cmk_json_str(env, "id", ""));
    else if (cmk_clock_now(self->clock) > at + (int64_t)RUN_HISTORY_DAYS * 86400000)
        rc = cmk_err_set(err, CMK_ESTATE, "run history can be requested by a support ticket up to 30 days after migration; "
                                          "environment %s migrated more than 30 days ago", cmk_json_str(env, "id", ""));
    if (rc == 0) {
        /* both sides' run lists: the summary has no inputs or outputs */
        cmk_msg fake;
        dir_env where;
        memcpy(&fake, req, sizeof fake);
        cmk_strlcpy(fake.type, CMK_T_RUN_SUMMARY, sizeof fake.type);
        if ((rc = directory_env_placement(self->dir, cmk_json_str(env, "id", ""), &where, err)) == 0)
            rc = ctl_route_both(self, &fake, &where, err);
    }
    cJSON_Delete(env);
    return rc;
}

/* op_support_protect_flows - move the flows of a CMK environment that can now be migrated */
int op_support_protect_flows(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    cJSON *env, *out;
    char op[64];
    int rc = directory_env_get(self->dir, cmk_json_str(req->body, "env", ""), &env, err);
    if (rc < 0)
        return rc;
    if (strcmp(cmk_json_str(env, "encryption", ""), "customer") != 0 || migration_is_running(self->migration, cmk_json_str(env, "id", ""))) {
        rc = cmk_err_set(err, CMK_ESTATE, "environment %s is not protected by a customer-managed key, or its flows are "
                                          "moving already", cmk_json_str(env, "id", ""));
        cJSON_Delete(env);
        return rc;
    }
    rc = policy_op_new(self->policies, "protect", cmk_json_str(env, "id", ""), cmk_json_str(env, "policy", ""), req->user, op, err);
    if (rc == 0)
        rc = migration_start(self->migration, cmk_json_str(env, "id", ""), 1, policy_migration_done, self->policies, err);
    cJSON_Delete(env);
    if (rc < 0)
        return rc;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", op);
    cJSON_AddStringToObject(out, "status", "Running");
    return ctl_reply_json(self, req, out, err);
}
