/*
 * cmd_apps.c - cmkctl env settings, cmkctl app register-flow, cmkctl machine-group: the things
 * around flows that customer-managed keys touch.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_groups(const cJSON *r)
{
    static const char *const f[] = { "id", "name", "disks_encrypted_with", NULL };
    static const char *const h[] = { "GROUP", "NAME", "VM DISKS ENCRYPTED WITH" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
    printf("\n%s\n", cmk_json_str(r, "note", ""));
}

/* cmd_app - app register-flow --env ENV FLOW [--app NAME] */
int cmd_app(cli_opts *o)
{
    const char *flow = cli_positional(o, 2, 0);
    cJSON *b;
    if (o->argc < 2 || strcmp(o->argv[1], "register-flow") != 0 || !cli_opt(o, "--env") || !flow)
        return cli_fail(CMK_EINVAL, "usage: cmkctl app register-flow --env ENV FLOW [--app NAME]   (reference a Power "
                                    "Apps-trigger flow from an app)");
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", cli_opt(o, "--env"));
    cJSON_AddStringToObject(b, "flow", flow);
    cJSON_AddStringToObject(b, "app", cli_opt(o, "--app") ? cli_opt(o, "--app") : "Canvas app");
    return cli_request(o, CMK_T_APP_REGISTER_FLOW, b, show_object);
}

/* cmd_machine_group - machine-group create|list|reprovision --env ENV ... */
int cmd_machine_group(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    cJSON *b;
    if (!cli_opt(o, "--env"))
        return cli_fail(CMK_EINVAL, "usage: cmkctl machine-group create --env ENV --name NAME | list --env ENV | "
                                    "reprovision --env ENV GROUP");
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", cli_opt(o, "--env"));
    cJSON_AddStringToObject(b, "action", sub);
    if (cli_opt(o, "--name"))
        cJSON_AddStringToObject(b, "name", cli_opt(o, "--name"));
    if (cli_positional(o, 2, 0))
        cJSON_AddStringToObject(b, "group", cli_positional(o, 2, 0));
    return cli_request(o, CMK_T_MACHINE_GROUP, b, show_groups);
}
