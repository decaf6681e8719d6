/*
 * cmd_key.c - cmkctl key ...: keys in a vault, and `key byok-export`, which plays the
 * customer's HSM and writes a .byok file for a vault's key-exchange key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "util.h"
#include "vault.h"
#include "ops.h"

static void show_object(const cJSON *r) { cli_print_object(r); }

static void show_keys(const cJSON *r)
{
    static const char *const f[] = { "name", "version", "key.kty", "keySize", "attributes.enabled",
                                     "attributes.nbf", "attributes.exp", "current", NULL };
    static const char *const h[] = { "NAME", "VERSION", "KTY", "SIZE", "ENABLED", "NOT BEFORE", "EXPIRES", "CURRENT" };
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* show_key - one key version, flattened (the modulus is left to --json) */
static void show_key(const cJSON *r)
{
    static const char *const f[][2] = {
        { "kid", "key.kid" }, { "vault", "vault" }, { "name", "name" }, { "version", "version" },
        { "kty", "key.kty" }, { "size", "keySize" }, { "key_ops", "key.key_ops" },
        { "enabled", "attributes.enabled" }, { "not_before", "attributes.nbf" },
        { "expires", "attributes.exp" }, { "created", "attributes.created" },
        { "recovery_level", "attributes.recoveryLevel" }, { "current", "current" }, { "tags", "tags" },
        { "public_pem", "public_pem" },
    };
    cJSON *flat = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const cJSON *v = cli_path(r, f[i][1]);
        if (v)
            cJSON_AddItemToObject(flat, f[i][0], cJSON_Duplicate(v, 1));
    }
    cli_print_object(flat);
    cJSON_Delete(flat);
}


/* add_tags - every --tag k=v into b.tags */
static int add_tags(const cli_opts *o, cJSON *b)
{
    cJSON *tags = NULL;
    for (int i = 1; i + 1 < o->argc; i++) {
        char *eq;
        if (strcmp(o->argv[i], "--tag") != 0)
            continue;
        eq = strchr(o->argv[i + 1], '=');
        if (!eq)
            return cli_fail(CMK_EINVAL, "--tag takes KEY=VALUE, not '%s'", o->argv[i + 1]);
        if (!tags)
            tags = cJSON_AddObjectToObject(b, "tags");
        *eq = '\0';
        cJSON_AddStringToObject(tags, o->argv[i + 1], eq + 1);
        *eq = '=';
        i++;
    }
    return 0;
}

/* add_opt - option value as a string member */
static void add_opt(const cli_opts *o, cJSON *b, const char *opt, const char *key)
{
    if (cli_opt(o, opt))
        cJSON_AddStringToObject(b, key, cli_opt(o, opt));
}

/* file_b64 - a file's bytes as base64 into b[key] */
static int file_b64(const char *path, cJSON *b, const char *key)
{
    char *data, *text;
    size_t len;
    int rc = cli_read_file(path, &data, &len);
    if (rc != 0)
        return rc;
    text = cmk_b64_encode((const uint8_t *)data, len);
    cmk_wipe_str(data, len);
    cJSON_AddStringToObject(b, key, text ? text : "");
    free(text);
    return 0;
}

/* password_of - --password-file contents without a trailing newline into b.password */
static int password_of(const cli_opts *o, cJSON *b)
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

/* byok_export - fetch the KEK's id and public key from the cluster, wrap TARGET locally */
static int byok_export(cli_opts *o)
{
    const char *kek = cli_opt(o, "--kek"), *target = cli_opt(o, "--target"), *out = cli_opt(o, "--out");
    char vault[VAULT_NAME_MAX], name[VAULT_KEY_NAME_MAX], version[VAULT_VERSION_MAX];
    cmk_err err = CMK_ERR_INIT;
    cJSON *b;
    cmk_msg *rep;
    char *key_data, *json = NULL;
    size_t key_len;
    int rc;

    if (!kek || !target || !out)
        return cli_fail(CMK_EINVAL, "usage: cmkctl key byok-export --kek VAULT/KEK --target TARGET.pem --out KEY.byok");
    if (vault_kid_parse(kek, vault, name, version, &err) < 0)
        return cli_fail(err.code, "--kek: %s", err.msg);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "vault", vault);
    cJSON_AddStringToObject(b, "name", name);
    if (version[0])
        cJSON_AddStringToObject(b, "version", version);
    cJSON_AddBoolToObject(b, "pem", 1);
    rc = cli_call(o, CMK_T_KEY_SHOW, b, &rep);
    cJSON_Delete(b);
    if (rc != 0)
        return rc;
    if ((rc = cli_read_file(target, &key_data, &key_len)) != 0) {
        cmk_msg_destroy(&rep);
        return rc;
    }
    rc = vault_byok_export(cJSON_GetStringValue(cli_path(rep->body, "key.kid")) ? cJSON_GetStringValue(cli_path(rep->body, "key.kid")) : "",
                           cmk_json_str(rep->body, "public_pem", ""),
                           (const uint8_t *)key_data, key_len, "cmkctl key byok-export", &json, &err);
    cmk_wipe_str(key_data, key_len);
    cmk_msg_destroy(&rep);
    if (rc < 0)
        return cli_fail(rc, "%s", err.msg);
    rc = cmk_file_write_atomic(out, json, strlen(json), 0600, &err);
    free(json);
    if (rc < 0)
        return cli_fail(rc, "%s", err.msg);
    {
        char line[4200];
        snprintf(line, sizeof line, "wrote %s for key-exchange key %s", out, kek);
        cli_print_written(o, out, line);
    }
    return 0;
}

/* wrap_cmd - wrap/unwrap with --value or --in, and --out */
static int wrap_cmd(cli_opts *o, const char *type, cJSON *b)
{
    cmk_msg *rep;
    int rc;
    if (cli_opt(o, "--in"))
        rc = file_b64(cli_opt(o, "--in"), b, "value");
    else if (cli_opt(o, "--value")) {
        cJSON_AddStringToObject(b, "value", cli_opt(o, "--value"));
        rc = 0;
    } else
        rc = cli_fail(CMK_EINVAL, "give the value with --value BASE64 or --in FILE");
    add_opt(o, b, "--alg", "alg");
    add_opt(o, b, "--version", "version");
    if (rc == 0)
        rc = cli_call(o, type, b, &rep);
    cJSON_Delete(b);
    if (rc != 0)
        return rc;
    if (cli_opt(o, "--out")) {
        uint8_t *bytes;
        size_t len;
        cmk_err err = CMK_ERR_INIT;
        rc = cmk_b64_decode(cmk_json_str(rep->body, "value", ""), &bytes, &len, &err);
        if (rc == 0) {
            rc = cmk_file_write_atomic(cli_opt(o, "--out"), bytes, len, 0600, &err);
            cmk_wipe_str((char *)bytes, len);
        }
        if (rc < 0) {
            cmk_msg_destroy(&rep);
            return cli_fail(rc, "%s", err.msg);
        }
        cJSON_DeleteItemFromObject(rep->body, "value");
        cJSON_AddStringToObject(rep->body, "written", cli_opt(o, "--out"));
    }
    if (o->json)
        cli_print_json(rep->body);
    else
        cli_print_object(rep->body);
    cmk_msg_destroy(&rep);
    return 0;
}

/* locked_envs - the environments of the policies that use vault/name which are now Locked:
 * [{id, name, policy, state}] */
static cJSON *locked_envs(cli_opts *o, const char *vault, const char *name)
{
    cmk_msg *pols = NULL, *envs = NULL;
    cJSON *q = cJSON_CreateObject(), *out = cJSON_CreateArray();
    const cJSON *p, *e;
    if (cli_call(o, CMK_T_POLICY_LIST, q, &pols) != 0 || cli_call(o, CMK_T_ENV_LIST, q, &envs) != 0) {
        cJSON_Delete(q);
        cmk_msg_destroy(&pols);
        return out;
    }
    cJSON_Delete(q);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(pols->body, "items")) {
        if (strcmp(cmk_json_str(p, "vault", ""), vault) != 0 || strcmp(cmk_json_str(p, "key", ""), name) != 0)
            continue;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(envs->body, "items")) {
            cJSON *it;
            if (strcmp(cmk_json_str(e, "policy", ""), cmk_json_str(p, "id", "")) != 0)
                continue;
            it = cJSON_CreateObject();
            cJSON_AddStringToObject(it, "id", cmk_json_str(e, "id", ""));
            cJSON_AddStringToObject(it, "name", cmk_json_str(e, "name", ""));
            cJSON_AddStringToObject(it, "policy", cmk_json_str(p, "name", ""));
            cJSON_AddStringToObject(it, "state", cmk_json_str(e, "state", ""));
            cJSON_AddItemToArray(out, it);
        }
    }
    cmk_msg_destroy(&pols);
    cmk_msg_destroy(&envs);
    return out;
}

/* disable_and_report - key disable, then what it did to the environments encrypted with it:
 * they lock at once, and the output says so and names the way back */
static int disable_and_report(cli_opts *o, cJSON *b, const char *vault, const char *name)
{
    cmk_msg *rep;
    cJSON *envs;
    const cJSON *e;
    int rc = cli_call(o, CMK_T_KEY_UPDATE, b, &rep);
    cJSON_Delete(b);
    if (rc != 0)
        return rc;
    envs = locked_envs(o, vault, name);
    if (o->json) {
        cJSON_AddItemToObject(rep->body, "environments", envs);
        cli_print_json(rep->body);
        cmk_msg_destroy(&rep);
        return 0;
    }
    show_key(rep->body);
    cJSON_ArrayForEach(e, envs) {
        printf("environment %s (%s, policy %s): %s%s\n", cmk_json_str(e, "name", ""), cmk_json_str(e, "id", ""),
               cmk_json_str(e, "policy", ""), cmk_json_str(e, "state", ""),
               strcmp(cmk_json_str(e, "state", ""), "Locked") == 0 ? " - Environment disabled: its key is unreachable" : "");
    }
    if (cJSON_GetArraySize(envs) > 0)
        printf("to bring them back: cmkctl key enable %s %s, then: cmkctl env reenable ENV\n", vault, name);
    cJSON_Delete(envs);
    cmk_msg_destroy(&rep);
    return 0;
}

/* cmd_key - key subcommands */
int cmd_key(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "--help";
    const char *vault = cli_positional(o, 2, 0), *name = cli_positional(o, 2, 1);
    cJSON *b;
    char type[40];
    int rc;

    if (strcmp(sub, "byok-export") == 0)
        return byok_export(o);
    if (!vault)
        return cli_fail(CMK_EINVAL, "cmkctl key %s needs a VAULT; see `cmkctl key --help`", sub);
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "vault", vault);
    if (strcmp(sub, "list") == 0) {
        cJSON_AddBoolToObject(b, "deleted", cli_flag(o, "--deleted"));
        return cli_request(o, CMK_T_KEY_LIST, b, show_keys);
    }
    if (strcmp(sub, "restore") == 0) {
        char *text;
        size_t len;
        if (!cli_opt(o, "--file") || (rc = cli_read_file(cli_opt(o, "--file"), &text, &len)) != 0) {
            cJSON_Delete(b);
            return cli_opt(o, "--file") ? rc : cli_fail(CMK_EINVAL, "usage: cmkctl key restore VAULT --file FILE");
        }
        cJSON_AddStringToObject(b, "backup", text);
        free(text);
        return cli_request(o, CMK_T_KEY_RESTORE, b, show_object);
    }
    if (!name) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "cmkctl key %s needs VAULT and NAME; see `cmkctl key --help`", sub);
    }
    cJSON_AddStringToObject(b, "name", name);
    if (strcmp(sub, "create") == 0 || strcmp(sub, "import") == 0 || strcmp(sub, "import-byok") == 0 ||
        strcmp(sub, "update") == 0) {
        add_opt(o, b, "--kty", "kty");
        add_opt(o, b, "--ops", "ops");
        add_opt(o, b, "--expires", "exp");
        add_opt(o, b, "--not-before", "nbf");
        add_opt(o, b, "--version", "version");
        if (cli_flag(o, "--enable") || cli_flag(o, "--disable"))
            cJSON_AddBoolToObject(b, "enabled", cli_flag(o, "--enable"));
        if (cli_opt(o, "--size"))
            cJSON_AddNumberToObject(b, "size", (double)cli_opt_int(o, "--size", 2048));
        if ((rc = add_tags(o, b)) != 0) {
            cJSON_Delete(b);
            return rc;
        }
    }
    if (strcmp(sub, "import") == 0 || strcmp(sub, "import-byok") == 0) {
        if (!cli_opt(o, "--file")) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "cmkctl key %s VAULT NAME --file FILE", sub);
        }
        if (strcmp(sub, "import") == 0)
            rc = file_b64(cli_opt(o, "--file"), b, "data");
        else {
            char *text;
            size_t len;
            rc = cli_read_file(cli_opt(o, "--file"), &text, &len);
            if (rc == 0) {
                cJSON_AddStringToObject(b, "byok", text);
                free(text);
            }
        }
        if (rc == 0)
            rc = password_of(o, b);
        if (rc != 0) {
            cJSON_Delete(b);
            return rc;
        }
        return cli_request(o, strcmp(sub, "import") == 0 ? CMK_T_KEY_IMPORT : CMK_T_KEY_IMPORT_BYOK, b, show_key);
    }
    if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
        cJSON_AddBoolToObject(b, "enabled", strcmp(sub, "enable") == 0);
        add_opt(o, b, "--version", "version");
        if (strcmp(sub, "disable") == 0)
            return disable_and_report(o, b, vault, name);
        return cli_request(o, CMK_T_KEY_UPDATE, b, show_key);
    }
    if (strcmp(sub, "show") == 0) {
        add_opt(o, b, "--version", "version");
        cJSON_AddBoolToObject(b, "pem", cli_flag(o, "--pem"));
        return cli_request(o, CMK_T_KEY_SHOW, b, show_key);
    }
    if (strcmp(sub, "versions") == 0)
        return cli_request(o, CMK_T_KEY_VERSIONS, b, show_keys);
    if (strcmp(sub, "wrap") == 0 || strcmp(sub, "unwrap") == 0) {
        snprintf(type, sizeof type, "key.%s", sub);
        return wrap_cmd(o, type, b);
    }
    if (strcmp(sub, "backup") == 0) {
        cmk_msg *rep;
        cmk_err err = CMK_ERR_INIT;
        const char *out = cli_opt(o, "--out");
        if (!out) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "usage: cmkctl key backup VAULT NAME --out FILE");
        }
        rc = cli_call(o, CMK_T_KEY_BACKUP, b, &rep);
        cJSON_Delete(b);
        if (rc != 0)
            return rc;
        rc = cmk_file_write_atomic(out, cmk_json_str(rep->body, "backup", ""), strlen(cmk_json_str(rep->body, "backup", "")),
                                   0600, &err);
        cmk_msg_destroy(&rep);
        if (rc < 0)
            return cli_fail(rc, "%s", err.msg);
        {
            char line[4400];
            snprintf(line, sizeof line, "wrote backup of %s/%s to %s", vault, name, out);
            cli_print_written(o, out, line);
        }
        return 0;
    }
    if (strcmp(sub, "policy") == 0) {
        add_opt(o, b, "--rotate-after", "rotate_after");
        add_opt(o, b, "--rotate-before-expiry", "rotate_before_expiry");
        add_opt(o, b, "--expires-after", "expires_after");
        return cli_request(o, cJSON_GetArraySize(b) > 2 ? CMK_T_KEY_POLICY_SET : CMK_T_KEY_POLICY_SHOW, b, show_object);
    }
    if (strcmp(sub, "create") == 0 || strcmp(sub, "rotate") == 0 || strcmp(sub, "update") == 0) {
        snprintf(type, sizeof type, "key.%s", sub);
        return cli_request(o, type, b, show_key);
    }
    if (strcmp(sub, "delete") == 0 || strcmp(sub, "recover") == 0 || strcmp(sub, "purge") == 0) {
        snprintf(type, sizeof type, "key.%s", sub);
        return cli_request(o, type, b, show_object);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown key command '%s'; see `cmkctl key --help`", sub);
}
