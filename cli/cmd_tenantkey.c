/*
 * cmd_tenantkey.c - the legacy tenant encryption keys (BYOK, seed 003): cmkctl tenant-key ...,
 * cmkctl tenant enable-byok|lock|unlock-key, cmkctl env unlock|apply-tenant-key|
 * return-to-microsoft-key|byok-state. Every command prints the deprecation notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

static void notice(void)
{
    fprintf(stderr, "note: the self-managed encryption key (BYOK) feature is legacy: its support ended on January 6, "
                    "2026, and it cannot be applied to production environments since June 1, 2025; move to "
                    "customer-managed keys (cmkctl policy ...)\n");
}

static void show_object(const cJSON *r)
{
    cJSON *copy = cJSON_Duplicate(r, 1);
    cJSON_DeleteItemFromObject(copy, "deprecation");
    cJSON_DeleteItemFromObject(copy, "pfx");
    cli_print_object(copy);
    cJSON_Delete(copy);
}

static void show_keys(const cJSON *r)
{
    static const char *const f[] = { "name", "region", "state", "source", "bits", "created", NULL };
    static const char *const h[] = { "KEY", "REGION", "STATE", "SOURCE", "BITS", "CREATED" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* password_into - --password-file's first line into b.password */
static int password_into(const cli_opts *o, cJSON *b)
{
    char *pw;
    size_t len;
    int rc;
    if (!cli_opt(o, "--password-file"))
        return 0;
    if ((rc = cli_read_file(cli_opt(o, "--password-file"), &pw, &len)) != 0)
        return rc;
    while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
        pw[--len] = '\0';
    cJSON_AddStringToObject(b, "password", pw);
    cmk_wipe_str(pw, len);
    return 0;
}

/* key_file_into - a key file's bytes (base64) and format (by its name) into b */
static int key_file_into(const char *path, cJSON *b)
{
    char *data, *text;
    size_t len;
    int rc = cli_read_file(path, &data, &len);
    if (rc != 0)
        return rc;
    text = cmk_b64_encode((const uint8_t *)data, len);
    cmk_wipe_str(data, len);
    cJSON_AddStringToObject(b, "data", text ? text : "");
    cJSON_AddStringToObject(b, "format", strstr(path, ".byok") ? "byok" : "pfx");
    free(text);
    return 0;
}


/* cmd_tenant_key - tenant-key subcommands */
int cmd_tenant_key(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "--help";
    cJSON *b;
    int rc;
    notice();
    if (!cli_opt(o, "--tenant"))
        return cli_fail(CMK_EINVAL, "cmkctl tenant-key %s needs --tenant T; see `cmkctl tenant-key --help`", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "tenant", cli_opt(o, "--tenant"));
    if (cli_opt(o, "--region"))
        cJSON_AddStringToObject(b, "region", cli_opt(o, "--region"));
    if (cli_opt(o, "--name"))
        cJSON_AddStringToObject(b, "name", cli_opt(o, "--name"));
    if ((rc = password_into(o, b)) != 0) {
        cJSON_Delete(b);
        return rc;
    }
    if (strcmp(sub, "generate") == 0) {
        cmk_msg *rep;
        uint8_t *pfx;
        size_t len;
        cmk_err err = CMK_ERR_INIT;
        if (!cli_opt(o, "--out")) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "tenant-key generate needs --out KEY.pfx (where the password-protected key goes)");
        }
        rc = cli_call(o, CMK_T_TENANTKEY_GENERATE, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        rc = cmk_b64_decode(cmk_json_str(rep->body, "pfx", ""), &pfx, &len, &err);
        if (rc == 0) {
            rc = cmk_file_write_atomic(cli_opt(o, "--out"), pfx, len, 0600, &err);
            cmk_wipe_str((char *)pfx, len);
        }
        if (rc < 0) {
            cmk_msg_destroy(&rep);
            return cli_fail(rc, "%s", err.msg);
        }
        if (o->json)
            cli_print_json(rep->body);
        else {
            show_object(rep->body);
            printf("wrote %s (keep it and its password safe: it is needed to lock and unlock)\n", cli_opt(o, "--out"));
        }
        cmk_msg_destroy(&rep);
        return 0;
    }
    if (strcmp(sub, "upload") == 0) {
        const char *file = cli_positional(o, 2, 0);
        if (!file || (rc = key_file_into(file, b)) != 0) {
            cJSON_Delete(b);
            return file ? rc : cli_fail(CMK_EINVAL, "usage: cmkctl tenant-key upload FILE --tenant T --region R --name N");
        }
        return cli_request(o, CMK_T_TENANTKEY_UPLOAD, b, show_object);
    }
    if (strcmp(sub, "activate") == 0) {
        if (cli_positional(o, 2, 0))
            cJSON_AddStringToObject(b, "name", cli_positional(o, 2, 0));
        return cli_request(o, CMK_T_TENANTKEY_ACTIVATE, b, show_object);
    }
    if (strcmp(sub, "list") == 0)
        return cli_request(o, CMK_T_TENANTKEY_LIST, b, show_keys);
    if (strcmp(sub, "status") == 0)
        return cli_request(o, CMK_T_TENANTKEY_STATUS, b, NULL);
    if (strcmp(sub, "kek") == 0) {
        cmk_msg *rep;
        cmk_err err = CMK_ERR_INIT;
        rc = cli_call(o, CMK_T_TENANTKEY_KEK, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        if (cli_opt(o, "--out")) {
            const char *pem = cmk_json_str(rep->body, "public_pem", "");
            rc = cmk_file_write_atomic(cli_opt(o, "--out"), pem, strlen(pem), 0644, &err);
        }
        if (o->json) {
            if (cli_opt(o, "--out"))
                cJSON_AddStringToObject(rep->body, "written", cli_opt(o, "--out"));
            cli_print_json(rep->body);
        } else
            printf("key-exchange key %s%s%s\n", cmk_json_str(rep->body, "kid", ""),
                   cli_opt(o, "--out") ? " written to " : "", cli_opt(o, "--out") ? cli_opt(o, "--out") : "");
        cmk_msg_destroy(&rep);
        return rc < 0 ? cli_fail(rc, "%s", err.msg) : 0;
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown tenant-key command '%s'; see `cmkctl tenant-key --help`", sub);
}

/* cmd_tenant_byok - tenant enable-byok|lock|unlock-key TENANT */
int cmd_tenant_byok(cli_opts *o)
{
    const char *sub = o->argv[1], *tenant = cli_positional(o, 2, 0);
    cJSON *b;
    int rc;
    notice();
    if (!tenant)
        return cli_fail(CMK_EINVAL, "usage: cmkctl tenant %s TENANT ...", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "tenant", tenant);
    if (strcmp(sub, "enable-byok") == 0)
        return cli_request(o, CMK_T_TENANT_ENABLE_BYOK, b, NULL);
    if (!cli_opt(o, "--key-file")) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "cmkctl tenant %s needs --key-file F (the %s key) and --password-file F", sub,
                        strcmp(sub, "lock") == 0 ? "active" : "locking");
    }
    if ((rc = key_file_into(cli_opt(o, "--key-file"), b)) != 0 || (rc = password_into(o, b)) != 0) {
        cJSON_Delete(b);
        return rc;
    }
    if (strcmp(sub, "lock") == 0) {
        if (!cli_opt(o, "--confirm")) {
            cmk_msg *rep;
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "tenant", tenant);
            cJSON_Delete(b);
            if ((rc = cli_call(o, CMK_T_TENANTKEY_STATUS, s, &rep)) == 0) {
                if (o->json) {
                    cJSON *j = cJSON_CreateObject();
                    cJSON_AddStringToObject(j, "tenant", tenant);
                    cJSON_AddBoolToObject(j, "locked", 0);
                    cJSON_AddStringToObject(j, "lock_confirmation_text", cmk_json_str(rep->body, "lock_confirmation_text", ""));
                    cli_print_json(j);
                    cJSON_Delete(j);
                } else
                    printf("Locking disables every active environment of %s, including for Microsoft.\n"
                           "To go on, run again with: --confirm \"%s\"\n",
                           tenant, cmk_json_str(rep->body, "lock_confirmation_text", ""));
                cmk_msg_destroy(&rep);
            }
            cJSON_Delete(s);
            return rc ? rc : 1;
        }
        cJSON_AddStringToObject(b, "confirmation", cli_opt(o, "--confirm"));
        return cli_request(o, CMK_T_TENANT_LOCK, b, NULL);
    }
    return cli_request(o, CMK_T_TENANT_UNLOCK_KEY, b, show_object);
}

/* cmd_env_byok - env unlock|apply-tenant-key|return-to-microsoft-key|byok-state ENV */
int cmd_env_byok(cli_opts *o)
{
    const char *sub = o->argv[1], *env = cli_positional(o, 2, 0);
    cJSON *b;
    notice();
    if (!env)
        return cli_fail(CMK_EINVAL, "usage: cmkctl env %s ENV", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "env", env);
    if (strcmp(sub, "unlock") == 0)
        cJSON_AddStringToObject(b, "op", "unlock");
    else if (strcmp(sub, "apply-tenant-key") == 0) {
        cJSON_AddStringToObject(b, "op", "apply");
        cJSON_AddBoolToObject(b, "confirm", cli_flag(o, "--yes"));
        if (!cli_flag(o, "--yes"))
            fprintf(stderr, "applying the tenant key means downtime for the environment: confirm with --yes\n");
    } else if (strcmp(sub, "return-to-microsoft-key") == 0) {
        cJSON_AddStringToObject(b, "op", "return");
        if (cli_opt(o, "--confirm-name"))
            cJSON_AddStringToObject(b, "typed_name", cli_opt(o, "--confirm-name"));
    } else
        cJSON_AddStringToObject(b, "op", "state");
    return cli_request(o, CMK_T_ENV_BYOK, b, show_object);
}
