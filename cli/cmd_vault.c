/*
 * cmd_vault.c - cmkctl vault ... and cmkctl audit ...: vaults, their access lists, and the
 * audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_vaults(const cJSON *r)
{
    static const char *const f[] = { "name", "tenant", "region", "enableSoftDelete", "enablePurgeProtection",
                                     "softDeleteRetentionInDays", "publicNetworkAccess", "deletedDate", NULL };
    static const char *const h[] = { "NAME", "TENANT", "REGION", "SOFT DELETE", "PURGE PROTECTION",
                                     "RETENTION DAYS", "PUBLIC ACCESS", "DELETED" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

static void show_access(const cJSON *r)
{
    static const char *const f[] = { "principal", "perms", NULL };
    static const char *const h[] = { "PRINCIPAL", "PERMISSIONS" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}


/* cmd_vault - vault subcommands */
int cmd_vault(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    const char *name = cli_positional(o, 2, 0);
    cJSON *b = cJSON_CreateObject();
    char type[40];

    if (strcmp(sub, "list") == 0) {
        if (cli_opt(o, "--tenant"))
            cJSON_AddStringToObject(b, "tenant", cli_opt(o, "--tenant"));
        cJSON_AddBoolToObject(b, "deleted", cli_flag(o, "--deleted"));
        return cli_request(o, CMK_T_VAULT_LIST, b, show_vaults);
    }
    if (strcmp(sub, "network-rule") == 0) {
        const char *action = cli_positional(o, 2, 0), *vault = cli_positional(o, 2, 1);
        if (!action || !vault || (strcmp(action, "list") != 0 && !cli_opt(o, "--ip") && !cli_opt(o, "--vnet"))) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "usage: cmkctl vault network-rule add|remove VAULT --ip ADDRESS[/BITS] | "
                                        "--vnet SUBNET-ID, or: cmkctl vault network-rule list VAULT");
        }
        cJSON_AddStringToObject(b, "vault", vault);
        cJSON_AddStringToObject(b, "action", action);
        if (cli_opt(o, "--ip"))
            cJSON_AddStringToObject(b, "ip", cli_opt(o, "--ip"));
        if (cli_opt(o, "--vnet"))
            cJSON_AddStringToObject(b, "vnet", cli_opt(o, "--vnet"));
        return cli_request(o, CMK_T_VAULT_NETWORK_RULE, b, show_object);
    }
    if (!name) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "cmkctl vault %s needs a VAULT name; see `cmkctl vault --help`", sub);
    }
    cJSON_AddStringToObject(b, "vault", name);
    if (strcmp(sub, "create") == 0 || strcmp(sub, "update") == 0) {
        const char *pna = cli_opt(o, "--public-network-access");
        if (cli_opt(o, "--tenant"))
            cJSON_AddStringToObject(b, "tenant", cli_opt(o, "--tenant"));
        if (cli_opt(o, "--region"))
            cJSON_AddStringToObject(b, "region", cli_opt(o, "--region"));
        if (cli_opt(o, "--retention-days"))
            cJSON_AddNumberToObject(b, "retention_days", (double)cli_opt_int(o, "--retention-days", 90));
        if (cli_flag(o, "--purge-protection"))
            cJSON_AddBoolToObject(b, "purge_protection", 1);
        if (cli_flag(o, "--no-soft-delete"))
            cJSON_AddBoolToObject(b, "soft_delete", 0);
        if (pna && strcmp(pna, "on") != 0 && strcmp(pna, "off") != 0) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "--public-network-access takes on or off");
        }
        if (pna)
            cJSON_AddBoolToObject(b, "public_network_access", strcmp(pna, "on") == 0);
        if (cli_opt(o, "--default-action"))
            cJSON_AddStringToObject(b, "default_action", cli_opt(o, "--default-action"));
        if (cli_opt(o, "--bypass"))
            cJSON_AddStringToObject(b, "bypass", cli_opt(o, "--bypass"));
    } else if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
        const char *perms = cli_opt(o, "--perms");
        if (!cli_opt(o, "--principal") || !perms) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "cmkctl vault %s VAULT --principal P --perms LIST", sub);
        }
        cJSON_AddStringToObject(b, "principal", cli_opt(o, "--principal"));
        cJSON_AddStringToObject(b, "perms", perms);
    } else if (strcmp(sub, "access") == 0) {
        return cli_request(o, CMK_T_VAULT_ACCESS, b, show_access);
    } else if (strcmp(sub, "show") != 0 && strcmp(sub, "delete") != 0 && strcmp(sub, "recover") != 0 &&
               strcmp(sub, "purge") != 0) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "unknown vault command '%s'; see `cmkctl vault --help`", sub);
    }
    snprintf(type, sizeof type, "vault.%s", sub);
    return cli_request(o, type, b, show_object);
}

static void show_audit(const cJSON *r)
{
    static const char *const f[] = { "seq", "time", "principal", "operation", "target", "result", "detail", NULL };
    static const char *const h[] = { "SEQ", "TIME", "PRINCIPAL", "OPERATION", "TARGET", "RESULT", "DETAIL" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

static void show_verify(const cJSON *r)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(r, "intact")))
        printf("audit log intact: %d entries, hash chain verified\n", (int)cmk_json_num(r, "entries", 0));
    else
        printf("audit log TAMPERED at entry %d: %s\n", (int)cmk_json_num(r, "first_bad_seq", 0),
               cmk_json_str(r, "problem", ""));
}

/* cmd_audit - audit list | verify */
int cmd_audit(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "list";
    cJSON *b = cJSON_CreateObject();
    if (strcmp(sub, "verify") == 0) {
        cmk_msg *rep;
        int rc = cli_call(o, CMK_T_AUDIT_VERIFY, b, &rep), intact;
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        intact = cJSON_IsTrue(cJSON_GetObjectItem(rep->body, "intact"));
        if (o->json)
            cli_print_json(rep->body);
        else
            show_verify(rep->body);
        cmk_msg_destroy(&rep);
        return intact ? 0 : 1;
    }
    if (strcmp(sub, "list") == 0) {
        static const char *const keys[][2] = { { "--principal", "principal" }, { "--operation", "operation" },
                                               { "--target", "target" }, { "--result", "result" } };
        for (int i = 0; i < 4; i++)
            if (cli_opt(o, keys[i][0]))
                cJSON_AddStringToObject(b, keys[i][1], cli_opt(o, keys[i][0]));
        if (cli_opt(o, "--limit"))
            cJSON_AddNumberToObject(b, "limit", (double)cli_opt_int(o, "--limit", 0));
        cJSON_AddBoolToObject(b, "newest_first", cli_flag(o, "--newest-first"));
        return cli_request(o, CMK_T_AUDIT_LIST, b, show_audit);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "usage: cmkctl audit list [--principal P] [--operation OP] [--target T] "
                                "[--result ok|error|CODE] [--limit N] [--newest-first] | cmkctl audit verify");
}
