/*
 * cmd_envops.c - cmkctl env backup|backups|restore|copy|reset: environment database
 * operations under customer-managed keys (controller/envops/envops.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"


static void show_object(const cJSON *r) { cli_print_object(r); }

/* show_backups - a table of backups */
static void show_backups(const cJSON *r)
{
    static const char *const f[] = { "id", "label", "created", "encryption_at_backup", "policy_at_backup",
                                     "wrapped_by", "flows", NULL };
    static const char *const h[] = { "ID", "LABEL", "CREATED", "ENCRYPTION AT BACKUP", "POLICY AT BACKUP",
                                     "KEY WRAPPED BY", "FLOWS" };
    static const char *const of[] = { "id", "kind", "status", "started", "message", NULL };
    static const char *const oh[] = { "OPERATION", "KIND", "STATUS", "STARTED", "MESSAGE" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(r, "operations")) > 0) {
        printf("\nLatest operations (newest first):\n");
        cli_print_items(cJSON_GetObjectItem(r, "operations"), of, oh);
    }
}

/* cmd_envops - env backup|backups|restore|copy|reset */
int cmd_envops(cli_opts *o)
{
    const char *sub = o->argv[1], *a = cli_positional(o, 2, 0), *b = cli_positional(o, 2, 1);
    cJSON *body;

    body = cJSON_CreateObject();
    if (strcmp(sub, "backup") == 0 && a) {
        cJSON_AddStringToObject(body, "env", a);
        if (cli_opt(o, "--label"))
            cJSON_AddStringToObject(body, "label", cli_opt(o, "--label"));
        return cli_request(o, CMK_T_ENV_BACKUP, body, show_object);
    }
    if (strcmp(sub, "backups") == 0 && a) {
        cJSON_AddStringToObject(body, "env", a);
        return cli_request(o, CMK_T_ENV_BACKUPS, body, show_backups);
    }
    if (strcmp(sub, "restore") == 0 && a) {
        cJSON_AddStringToObject(body, "backup", a);
        if (cli_opt(o, "--to"))
            cJSON_AddStringToObject(body, "env", cli_opt(o, "--to"));
        return cli_request(o, CMK_T_ENV_RESTORE, body, show_object);
    }
    if (strcmp(sub, "copy") == 0 && a && b) {
        cJSON_AddStringToObject(body, "source", a);
        cJSON_AddStringToObject(body, "target", b);
        return cli_request(o, CMK_T_ENV_COPY, body, show_object);
    }
    if (strcmp(sub, "reset") == 0 && a) {
        cJSON_AddStringToObject(body, "env", a);
        return cli_request(o, CMK_T_ENV_RESET, body, show_object);
    }
    cJSON_Delete(body);
    return cli_fail(CMK_EINVAL, "env %s: missing arguments; see `cmkctl env %s --help`", sub, sub);
}
