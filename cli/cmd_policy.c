/*
 * cmd_policy.c - cmkctl policy ... (with env-status and apply-rotation), cmkctl env
 * reenable|cmk-status, cmkctl support ...:
 * enterprise policies of kind Encryption and the environments under them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "client.h"
#include "util.h"
#include "ops.h"

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_policies(const cJSON *r)
{
    static const char *const f[] = { "name", "id", "tenant", "region", "vault", "key", "state", "health", NULL };
    static const char *const h[] = { "NAME", "ID", "TENANT", "REGION", "VAULT", "KEY", "STATE", "HEALTH" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}


/* wait_op - poll an operation until it ends (--no-wait: its status now); prints it and returns
 * its exit status (1 when it failed) */
static int wait_op(cli_opts *o, const char *id)
{
    int once = cli_flag(o, "--no-wait");
    for (int i = 0; i < 600; i++) {
        cJSON *b = cJSON_CreateObject();
        cmk_msg *rep;
        int rc;
        cJSON_AddStringToObject(b, "id", id);
        rc = cli_call(o, CMK_T_POLICY_OPERATION, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        if (once || strcmp(cmk_json_str(rep->body, "status", ""), "Running") != 0) {
            int ok = strcmp(cmk_json_str(rep->body, "status", ""), "Failed") != 0;
            if (o->json)
                cli_print_json(rep->body);
            else
                printf("operation %s (%s %s): %s - %s\n", id, cmk_json_str(rep->body, "kind", ""),
                       cmk_json_str(rep->body, "env", ""), cmk_json_str(rep->body, "status", ""),
                       cmk_json_str(rep->body, "message", ""));
            cmk_msg_destroy(&rep);
            return ok ? 0 : 1;
        }
        cmk_msg_destroy(&rep);
        nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
    }
    return cli_fail(CMK_ETIMEOUT, "operation %s is still running; poll it with: cmkctl policy operation %s", id, id);
}

/* start_op - start an operation and wait for it unless --no-wait */
static int start_op(cli_opts *o, const char *type, cJSON *b)
{
    cmk_msg *rep;
    char id[64];
    int rc = cli_call(o, type, b, &rep);
    cJSON_Delete(b);
    if (rc != 0)
        return rc;
    cmk_strlcpy(id, cmk_json_str(rep->body, "id", ""), sizeof id);
    if (cli_flag(o, "--no-wait")) {
        if (o->json)
            cli_print_json(rep->body);
        else
            printf("operation %s started (%s); poll it with: cmkctl policy operation %s\n", id,
                   cmk_json_str(rep->body, "status", ""), id);
        cmk_msg_destroy(&rep);
        return 0;
    }
    cmk_msg_destroy(&rep);
    return wait_op(o, id);
}

/* cmd_policy - policy subcommands */
int cmd_policy(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    const char *a = cli_positional(o, 2, 0), *b2 = cli_positional(o, 2, 1);
    cJSON *b = cJSON_CreateObject();

    if (strcmp(sub, "list") == 0) {
        if (cli_opt(o, "--tenant"))
            cJSON_AddStringToObject(b, "tenant", cli_opt(o, "--tenant"));
        return cli_request(o, CMK_T_POLICY_LIST, b, show_policies);
    }
    if (!a) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "cmkctl policy %s needs an argument; see `cmkctl policy --help`", sub);
    }
    if (strcmp(sub, "create") == 0) {
        static const char *const keys[][2] = { { "--tenant", "tenant" }, { "--vault", "vault" }, { "--key", "key" },
                                               { "--version", "version" }, { "--region", "region" } };
        cJSON_AddStringToObject(b, "name", a);
        for (int i = 0; i < 5; i++)
            if (cli_opt(o, keys[i][0]))
                cJSON_AddStringToObject(b, keys[i][1], cli_opt(o, keys[i][0]));
        return cli_request(o, CMK_T_POLICY_CREATE, b, show_object);
    }
    if (strcmp(sub, "validate") == 0) {
        /* the view either way; the exit status says whether the policy is valid */
        cmk_msg *rep;
        int rc;
        cJSON_AddStringToObject(b, "policy", a);
        rc = cli_call(o, CMK_T_POLICY_VALIDATE, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        if (o->json)
            cli_print_json(rep->body);
        else
            show_object(rep->body);
        if (!cJSON_IsFalse(cJSON_GetObjectItem(rep->body, "valid"))) {
            cmk_msg_destroy(&rep);
            return 0;
        }
        rc = cli_fail(CMK_ESTATE, "policy %s is not valid: %s", a, cmk_json_str(rep->body, "validation_error", ""));
        cmk_msg_destroy(&rep);
        return rc;
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "delete") == 0) {
        char type[32];
        cJSON_AddStringToObject(b, "policy", a);
        snprintf(type, sizeof type, "policy.%s", sub);
        return cli_request(o, type, b, show_object);
    }
    if (strcmp(sub, "env-status") == 0) {
        cJSON_AddStringToObject(b, "env", a);
        return cli_request(o, CMK_T_ENV_CMK_STATUS, b, show_object);
    }
    if (strcmp(sub, "apply-rotation") == 0) {
        cJSON_AddStringToObject(b, "policy", a);
        return cli_request(o, CMK_T_POLICY_APPLY_ROTATION, b, show_object);
    }
    if (strcmp(sub, "grant-identity") == 0) {
        /* the key vault access the policy's identity needs: get, wrapKey, unwrapKey */
        cmk_msg *rep;
        cJSON *g;
        int rc;
        cJSON_AddStringToObject(b, "policy", a);
        rc = cli_call(o, CMK_T_POLICY_SHOW, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "vault", cmk_json_str(rep->body, "vault", ""));
        cJSON_AddStringToObject(g, "principal", cmk_json_str(rep->body, "identity", ""));
        cJSON_AddStringToObject(g, "perms", "get,wrapKey,unwrapKey");
        cmk_msg_destroy(&rep);
        return cli_request(o, CMK_T_VAULT_GRANT, g, show_object);
    }
    if (strcmp(sub, "operation") == 0) {
        cJSON_Delete(b);
        return wait_op(o, a);
    }
    if (strcmp(sub, "add-env") == 0) {
        if (!b2) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "usage: cmkctl policy add-env POLICY ENV");
        }
        cJSON_AddStringToObject(b, "policy", a);
        cJSON_AddStringToObject(b, "env", b2);
        return start_op(o, CMK_T_POLICY_LINK, b);
    }
    if (strcmp(sub, "remove-env") == 0) {
        cJSON_AddStringToObject(b, "env", a);
        return start_op(o, CMK_T_POLICY_UNLINK, b);
    }
    if (strcmp(sub, "move-env") == 0) {
        const char *to = cli_opt(o, "--to");
        cJSON *link;
        int rc;
        if (!to) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "usage: cmkctl policy move-env ENV --to POLICY");
        }
        fprintf(stderr, "moving an environment to another policy is two operations (remove, then add), "
                        "each with an outage of the environment\n");
        cJSON_AddStringToObject(b, "env", a);
        if ((rc = start_op(o, CMK_T_POLICY_UNLINK, b)) != 0)
            return rc;
        link = cJSON_CreateObject();
        cJSON_AddStringToObject(link, "policy", to);
        cJSON_AddStringToObject(link, "env", a);
        return start_op(o, CMK_T_POLICY_LINK, link);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown policy command '%s'; see `cmkctl policy --help`", sub);
}

static void show_summary(const cJSON *r)
{
    static const char *const f[] = { "run", "flow", "start", "duration_ms", "status", "infrastructure", NULL };
    static const char *const h[] = { "RUN", "FLOW", "START", "DURATION MS", "STATUS", "RECORDED ON" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* cmd_support - support tickets */
int cmd_support(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "";
    if ((strcmp(sub, "run-history") == 0 || strcmp(sub, "protect-flows") == 0) && cli_opt(o, "--env")) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "env", cli_opt(o, "--env"));
        if (strcmp(sub, "run-history") == 0)
            return cli_request(o, CMK_T_SUPPORT_RUN_HISTORY, b, show_summary);
        return start_op(o, CMK_T_SUPPORT_PROTECT_FLOWS, b);
    }
    if (strcmp(sub, "raise-cmk-limit") == 0 && cli_opt(o, "--tenant") && cli_opt(o, "--to")) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "tenant", cli_opt(o, "--tenant"));
        cJSON_AddNumberToObject(b, "limit", (double)cli_opt_int(o, "--to", 0));
        return cli_request(o, CMK_T_SUPPORT_RAISE_CMK_LIMIT, b, show_object);
    }
    return cli_fail(CMK_EINVAL, "usage: cmkctl support raise-cmk-limit --tenant T --to N | run-history --env ENV | "
                                "protect-flows --env ENV");
}
