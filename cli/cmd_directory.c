/*
 * cmd_directory.c - cmkctl tenant ... and cmkctl env ...: tenants and environments.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

static const char *const env_fields[] = { "id", "tenant", "name", "region", "type", "managed",
                                          "encryption", "infrastructure", "state", NULL };
static const char *const env_headers[] = { "ID", "TENANT", "NAME", "REGION", "TYPE", "MANAGED",
                                           "ENCRYPTION", "INFRASTRUCTURE", "STATE" };

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_tenants(const cJSON *r)
{
    static const char *const f[] = { "id", "name", "cmk_env_limit", "created", NULL };
    static const char *const h[] = { "ID", "NAME", "CMK LIMIT", "CREATED" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

static void show_tenant(const cJSON *r)
{
    const cJSON *envs = cJSON_GetObjectItem(r, "environments");
    cJSON *copy = cJSON_Duplicate(r, 1);
    cJSON_DeleteItemFromObject(copy, "environments");
    cli_print_object(copy);
    cJSON_Delete(copy);
    printf("\nenvironments:\n");
    cli_print_items(envs, env_fields, env_headers);
}

static void show_envs(const cJSON *r) { cli_print_items(cJSON_GetObjectItem(r, "items"), env_fields, env_headers); }

/* cmd_tenant - tenant create|list|show */
int cmd_tenant(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    cJSON *body;

    if (strcmp(sub, "enable-byok") == 0 || strcmp(sub, "lock") == 0 || strcmp(sub, "unlock-key") == 0)
        return cmd_tenant_byok(o);
    body = cJSON_CreateObject();
    if (strcmp(sub, "create") == 0) {
        const char *id = cli_positional(o, 2, 0);
        if (!id) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "usage: cmkctl tenant create ID [--name \"Display name\"]");
        }
        cJSON_AddStringToObject(body, "id", id);
        if (cli_opt(o, "--name"))
            cJSON_AddStringToObject(body, "name", cli_opt(o, "--name"));
        return cli_request(o, CMK_T_TENANT_CREATE, body, show_object);
    }
    if (strcmp(sub, "list") == 0)
        return cli_request(o, CMK_T_TENANT_LIST, body, show_tenants);
    if (strcmp(sub, "show") == 0) {
        const char *id = cli_positional(o, 2, 0);
        if (!id) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "usage: cmkctl tenant show ID");
        }
        cJSON_AddStringToObject(body, "id", id);
        return cli_request(o, CMK_T_TENANT_SHOW, body, show_tenant);
    }
    cJSON_Delete(body);
    return cli_fail(CMK_EINVAL, "unknown tenant command '%s'; use create, list or show", sub);
}


/* cmd_env - env create|list|show|enable-managed|delete|...; backup, restore, copy, reset in cmd_envops.c */
int cmd_env(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    cJSON *body = cJSON_CreateObject();

    if (strcmp(sub, "unlock") == 0 || strcmp(sub, "apply-tenant-key") == 0 ||
        strcmp(sub, "return-to-microsoft-key") == 0 || strcmp(sub, "byok-state") == 0) {
        cJSON_Delete(body);
        return cmd_env_byok(o);
    }
    if (strcmp(sub, "backup") == 0 || strcmp(sub, "backups") == 0 || strcmp(sub, "restore") == 0 ||
        strcmp(sub, "copy") == 0 || strcmp(sub, "reset") == 0) {
        cJSON_Delete(body);
        return cmd_envops(o);
    }
    if (strcmp(sub, "create") == 0) {
        static const char *const keys[][2] = { { "--tenant", "tenant" }, { "--name", "name" },
                                               { "--region", "region" }, { "--type", "type" } };
        for (int i = 0; i < 4; i++)
            if (cli_opt(o, keys[i][0]))
                cJSON_AddStringToObject(body, keys[i][1], cli_opt(o, keys[i][0]));
        if (!cli_opt(o, "--tenant") || !cli_opt(o, "--name") || !cli_opt(o, "--region")) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "env create needs --tenant, --name and --region; see `cmkctl env --help`");
        }
        cJSON_AddBoolToObject(body, "managed", cli_flag(o, "--managed"));
        return cli_request(o, CMK_T_ENV_CREATE, body, show_object);
    }
    if (strcmp(sub, "list") == 0) {
        if (cli_opt(o, "--tenant"))
            cJSON_AddStringToObject(body, "tenant", cli_opt(o, "--tenant"));
        return cli_request(o, CMK_T_ENV_LIST, body, show_envs);
    }
    if (strcmp(sub, "settings") == 0) {
        const char *env = cli_positional(o, 2, 0), *v = cli_opt(o, "--create-flows-in-solutions");
        if (!env || (v && strcmp(v, "on") != 0 && strcmp(v, "off") != 0)) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "usage: cmkctl env settings ENV [--create-flows-in-solutions on|off]");
        }
        cJSON_AddStringToObject(body, "env", env);
        if (v)
            cJSON_AddBoolToObject(body, "create_flows_in_solutions", strcmp(v, "on") == 0);
        return cli_request(o, CMK_T_ENV_SETTINGS, body, show_object);
    }
    if (strcmp(sub, "reenable") == 0 || strcmp(sub, "cmk-status") == 0 || strcmp(sub, "migration") == 0) {
        const char *env = cli_positional(o, 2, 0);
        if (!env) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "usage: cmkctl env %s ENV", sub);
        }
        cJSON_AddStringToObject(body, "env", env);
        return cli_request(o, strcmp(sub, "reenable") == 0 ? CMK_T_ENV_REENABLE
                              : strcmp(sub, "migration") == 0 ? CMK_T_ENV_MIGRATION : CMK_T_ENV_CMK_STATUS,
                           body, show_object);
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "enable-managed") == 0 || strcmp(sub, "delete") == 0) {
        const char *env = cli_positional(o, 2, 0);
        char type[32];
        if (!env) {
            cJSON_Delete(body);
            return cli_fail(CMK_EINVAL, "usage: cmkctl env %s ENV", sub);
        }
        cJSON_AddStringToObject(body, "env", env);
        snprintf(type, sizeof type, "env.%s", sub);
        return cli_request(o, type, body, show_object);
    }
    cJSON_Delete(body);
    return cli_fail(CMK_EINVAL, "unknown env command '%s'; see `cmkctl env --help`", sub);
}

/* cmd_clock - clock show | advance DURATION */
int cmd_clock(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "show";
    cJSON *body = cJSON_CreateObject();
    if (strcmp(sub, "show") == 0)
        return cli_request(o, CMK_T_CLOCK_SHOW, body, show_object);
    if (strcmp(sub, "advance") == 0 && o->argc > 2) {
        cJSON_AddStringToObject(body, "by", o->argv[2]);
        return cli_request(o, CMK_T_CLOCK_ADVANCE, body, show_object);
    }
    cJSON_Delete(body);
    return cli_fail(CMK_EINVAL, "usage: cmkctl clock [show] | cmkctl clock advance DURATION (e.g. 72h, 7d)");
}
