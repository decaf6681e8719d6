/*
 * cmd_flow.c - cmkctl flow ..., cmkctl run ..., cmkctl conn ...: flows of an environment, their
 * runs and run history, and connections. Every command names its environment with --env.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_flows(const cJSON *r)
{
    static const char *const f[] = { "id", "name", "trigger", "kind", "state", "in_solution", "protected_by", NULL };
    static const char *const h[] = { "FLOW", "NAME", "TRIGGER", "KIND", "STATE", "IN SOLUTION", "PROTECTED BY" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
    if (cmk_json_str(r, "cmk_flows_unavailable", NULL))
        printf("%s\n", cmk_json_str(r, "cmk_flows_unavailable", ""));
}

static void show_schedules(const cJSON *r)
{
    static const char *const f[] = { "flow", "every", "next", "on", NULL };
    static const char *const h[] = { "FLOW", "EVERY", "NEXT RUN", "ON" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* show_mmk - the table of Get-AdminFlowEncryptedByMicrosoftKey */
static void show_mmk(const cJSON *r)
{
    static const char *const f[] = { "DisplayName", "FlowName", "EnvironmentName", NULL };
    static const char *const h[] = { "DisplayName", "FlowName", "EnvironmentName" };
    const cJSON *it;
    int remedies = 0;
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r, "items")) {
        if (!cmk_json_str(it, "category", NULL))
            continue;
        if (!remedies++)
            printf("\nWhy these flows stay on the Microsoft-managed key, and how to protect them with CMK:\n");
        printf("  %s: %s\n    %s\n", cmk_json_str(it, "FlowName", ""), cmk_json_str(it, "category", ""),
               cmk_json_str(it, "remedy", ""));
    }
}

/* cmd_flows - `cmkctl flows mmk --env ENV [--cannot-migrate]`, the counterpart of
 * Get-AdminFlowEncryptedByMicrosoftKey -EnvironmentName <id> [-ListCannotMigrateToCustomerManagedKey] */
int cmd_flows(cli_opts *o)
{
    cJSON *b;
    if (o->argc < 2 || strcmp(o->argv[1], "mmk") != 0 || !cli_opt(o, "--env"))
        return cli_fail(CMK_EINVAL, "usage: cmkctl flows mmk --env ENV [--cannot-migrate]   (flows protected by the "
                                    "Microsoft-managed key; with --cannot-migrate, those that cannot move to CMK)");
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", cli_opt(o, "--env"));
    cJSON_AddBoolToObject(b, "cannot_migrate", cli_flag(o, "--cannot-migrate"));
    return cli_request(o, CMK_T_FLOWS_MMK, b, show_mmk);
}

static void show_runs(const cJSON *r)
{
    static const char *const f[] = { "run", "start", "duration_ms", "status", NULL };
    static const char *const h[] = { "RUN", "START", "DURATION MS", "STATUS" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* show_run_result - a finished run */
static void show_run_result(const cJSON *r)
{
    const cJSON *resp = cJSON_GetObjectItem(r, "response");
    printf("run %s of flow %s: %s in %d ms\n", cmk_json_str(r, "run", ""), cmk_json_str(r, "flow", ""),
           cmk_json_str(r, "status", ""), (int)cmk_json_num(r, "duration_ms", 0));
    if (cmk_json_str(r, "action_error", NULL))
        printf("  %s: %s\n", cmk_json_str(r, "failed_action", "action"), cmk_json_str(r, "action_error", ""));
    if (resp) {
        char *body = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "body"));
        printf("  response %d: %s\n", (int)cmk_json_num(resp, "statusCode", 0), body ? body : "");
        free(body);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(r, "duplicate")))
        printf("  (already submitted with this client request id: not run again)\n");
}


/* run_and_report - flow.run, the result printed; a run that ended other than Succeeded exits
 * CLI_EXIT_RUN_FAILED so a script can tell it from a refused request */
static int run_and_report(cli_opts *o, cJSON *b)
{
    cmk_msg *rep;
    const char *status;
    int rc = cli_call(o, CMK_T_FLOW_RUN, b, &rep);
    cJSON_Delete(b);
    if (rc != 0)
        return rc;
    if (o->json)
        cli_print_json(rep->body);
    else
        show_run_result(rep->body);
    status = cmk_json_str(rep->body, "status", "");
    rc = strcmp(status, "Failed") == 0 || strcmp(status, "Cancelled") == 0 || strcmp(status, "TimedOut") == 0
             ? CLI_EXIT_RUN_FAILED : 0;
    cmk_msg_destroy(&rep);
    return rc;
}

/* show_trigger_url - the URL's path and query (append it to the gateway's http://HOST:PORT) */
static void show_trigger_url(const cJSON *r)
{
    printf("%s\n", cmk_json_str(r, "trigger_path", ""));
}

/* load_json_file - a file's JSON into b[key] */
static int load_json_file(const char *path, cJSON *b, const char *key)
{
    cmk_err err = CMK_ERR_INIT;
    cJSON *j;
    if (cmk_json_load_file(path, &j, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    cJSON_AddItemToObject(b, key, j);
    return 0;
}

/* cmd_flow - flow subcommands */
int cmd_flow(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "--help", *env = cli_opt(o, "--env");
    const char *flow = cli_positional(o, 2, 0);
    cJSON *b;
    char type[40];
    int rc;

    if (!env)
        return cli_fail(CMK_EINVAL, "cmkctl flow %s needs --env ENV; see `cmkctl flow --help`", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", env);
    if (strcmp(sub, "list") == 0)
        return cli_request(o, CMK_T_FLOW_LIST, b, show_flows);
    if (strcmp(sub, "schedules") == 0)
        return cli_request(o, CMK_T_FLOW_SCHEDULES, b, show_schedules);
    if (strcmp(sub, "create") == 0 || strcmp(sub, "import") == 0) {
        if (!cli_opt(o, "--file")) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "cmkctl flow %s --env ENV --file FILE", sub);
        }
        if ((rc = load_json_file(cli_opt(o, "--file"), b, strcmp(sub, "create") == 0 ? "definition" : "package")) != 0) {
            cJSON_Delete(b);
            return rc;
        }
        if (cli_opt(o, "--name"))
            cJSON_AddStringToObject(b, "name", cli_opt(o, "--name"));
        else if (strcmp(sub, "create") == 0) {
            /* the file's name without .json */
            const char *base = strrchr(cli_opt(o, "--file"), '/');
            char name[256];
            cmk_strlcpy(name, base ? base + 1 : cli_opt(o, "--file"), sizeof name);
            if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".json") == 0)
                name[strlen(name) - 5] = '\0';
            cJSON_AddStringToObject(b, "name", name);
        }
        if (cli_opt(o, "--id"))
            cJSON_AddStringToObject(b, "id", cli_opt(o, "--id"));
        if (cli_flag(o, "--solution"))
            cJSON_AddBoolToObject(b, "in_solution", 1);
        cJSON_AddStringToObject(b, "kind", cli_flag(o, "--desktop") ? "desktop" : "cloud");
        return cli_request(o, strcmp(sub, "create") == 0 ? CMK_T_FLOW_CREATE : CMK_T_FLOW_IMPORT, b, show_object);
    }
    if (!flow) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "cmkctl flow %s needs a FLOW id; see `cmkctl flow --help`", sub);
    }
    cJSON_AddStringToObject(b, "flow", flow);
    if (strcmp(sub, "show") == 0)
        return cli_request(o, CMK_T_FLOW_GET, b, show_object);
    if (strcmp(sub, "trigger-url") == 0)
        return cli_request(o, CMK_T_FLOW_TRIGGER_URL, b, show_trigger_url);
    if (strcmp(sub, "update") == 0) {
        if (cli_opt(o, "--file") && (rc = load_json_file(cli_opt(o, "--file"), b, "definition")) != 0) {
            cJSON_Delete(b);
            return rc;
        }
        if (cli_opt(o, "--name"))
            cJSON_AddStringToObject(b, "name", cli_opt(o, "--name"));
        if (cli_flag(o, "--solution"))
            cJSON_AddBoolToObject(b, "in_solution", 1);
        return cli_request(o, CMK_T_FLOW_UPDATE, b, show_object);
    }
    if (strcmp(sub, "save-as") == 0) {
        cJSON_AddStringToObject(b, "name", cli_opt(o, "--name") ? cli_opt(o, "--name") : "Copy");
        return cli_request(o, CMK_T_FLOW_SAVE_AS, b, show_object);
    }
    if (strcmp(sub, "run") == 0) {
        if (cli_opt(o, "--body")) {
            cJSON *body = cJSON_Parse(cli_opt(o, "--body"));
            if (!body) {
                cJSON_Delete(b);
                return cli_fail(CMK_EINVAL, "--body is not JSON: '%s' (a JSON value such as '{\"text\": \"x\"}'); "
                                            "nothing was run", cli_opt(o, "--body"));
            }
            cJSON_AddItemToObject(b, "body", body);
        }
        if (cli_opt(o, "--client-req"))
            cJSON_AddStringToObject(b, "client_req", cli_opt(o, "--client-req"));
        return run_and_report(o, b);
    }
    if (strcmp(sub, "export") == 0) {
        cmk_msg *rep;
        char *text;
        cmk_err err = CMK_ERR_INIT;
        if ((rc = cli_call(o, CMK_T_FLOW_EXPORT, b, &rep)) != 0) {
            cJSON_Delete(b);
            return rc;
        }
        cJSON_Delete(b);
        text = cJSON_Print(rep->body);
        if (cli_opt(o, "--out")) {
            rc = cmk_file_write_atomic(cli_opt(o, "--out"), text, strlen(text), 0600, &err);
            if (rc == 0) {
                char line[4200];
                snprintf(line, sizeof line, "wrote %s", cli_opt(o, "--out"));
                cli_print_written(o, cli_opt(o, "--out"), line);
            }
        } else
            puts(text);
        free(text);
        cmk_msg_destroy(&rep);
        return rc < 0 ? cli_fail(rc, "%s", err.msg) : 0;
    }
    if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0 || strcmp(sub, "delete") == 0) {
        snprintf(type, sizeof type, "flow.%s", sub);
        return cli_request(o, type, b, show_object);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown flow command '%s'; see `cmkctl flow --help`", sub);
}

/* cmd_run - run list|show|export-csv */
int cmd_run(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "--help", *env = cli_opt(o, "--env");
    cJSON *b;
    if (!env)
        return cli_fail(CMK_EINVAL, "cmkctl run %s needs --env ENV", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", env);
    if (cli_opt(o, "--flow"))
        cJSON_AddStringToObject(b, "flow", cli_opt(o, "--flow"));
    if (strcmp(sub, "list") == 0)
        return cli_request(o, CMK_T_RUN_LIST, b, show_runs);
    if (strcmp(sub, "show") == 0) {
        const char *run = cli_positional(o, 2, 0);
        if (!run) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "usage: cmkctl run show --env ENV RUN");
        }
        cJSON_AddStringToObject(b, "run", run);
        return cli_request(o, CMK_T_RUN_SHOW, b, NULL);
    }
    if (strcmp(sub, "export-csv") == 0) {
        cmk_msg *rep;
        cmk_err err = CMK_ERR_INIT;
        int rc = cli_call(o, CMK_T_RUN_EXPORT_CSV, b, &rep);
        const char *csv;
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        csv = cmk_json_str(rep->body, "csv", "");
        if (cli_opt(o, "--out")) {
            rc = cmk_file_write_atomic(cli_opt(o, "--out"), csv, strlen(csv), 0600, &err);
            if (rc == 0) {
                char line[4200];
                snprintf(line, sizeof line, "wrote %s", cli_opt(o, "--out"));
                cli_print_written(o, cli_opt(o, "--out"), line);
            }
        } else if (o->json)
            cli_print_json(rep->body);
        else
            fputs(csv, stdout);
        cmk_msg_destroy(&rep);
        return rc < 0 ? cli_fail(rc, "%s", err.msg) : 0;
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown run command '%s'; use list, show or export-csv", sub);
}

/* cmd_conn - conn create|show */
int cmd_conn(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "--help", *env = cli_opt(o, "--env");
    cJSON *b;
    if (!env)
        return cli_fail(CMK_EINVAL, "usage: cmkctl conn create --env ENV --name NAME --secret-file F [--non-oauth] | "
                                    "cmkctl conn show --env ENV CONN");
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", env);
    if (strcmp(sub, "create") == 0) {
        char *secret;
        size_t len;
        int rc;
        if (!cli_opt(o, "--secret-file") || (rc = cli_read_file(cli_opt(o, "--secret-file"), &secret, &len)) != 0) {
            cJSON_Delete(b);
            return cli_opt(o, "--secret-file") ? 2 : cli_fail(CMK_EINVAL, "conn create needs --secret-file F");
        }
        cJSON_AddStringToObject(b, "name", cli_opt(o, "--name") ? cli_opt(o, "--name") : "connection");
        cJSON_AddBoolToObject(b, "oauth", !cli_flag(o, "--non-oauth"));
        cJSON_AddStringToObject(b, "secret", secret);
        cmk_wipe_str(secret, len);
        return cli_request(o, CMK_T_CONN_CREATE, b, show_object);
    }
    if (strcmp(sub, "show") == 0 && cli_positional(o, 2, 0)) {
        cJSON_AddStringToObject(b, "conn", cli_positional(o, 2, 0));
        return cli_request(o, CMK_T_CONN_SHOW, b, show_object);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown conn command '%s'; use create or show", sub);
}
