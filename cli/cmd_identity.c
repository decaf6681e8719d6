/*
 * cmd_identity.c - identities of cmkctl's users and keys:
 *   `cmkctl identity add NAME --role reader|tenant-admin|admin [--tenant T]...` (the controller
 *   writes <run>/keys/NAME.key and lists it in authorized.json), `identity list`,
 *   `identity remove NAME`, and `identity matrix`: the authorization matrix (controller/authz/authz.c),
 *   printed from the same table the controller enforces (docs/SECURITY.md holds a copy).
 *   With `--as NAME` any command acts as that identity.
 *   `cmkctl call TYPE [BODY-JSON | -] [--file F]`: one raw request, to check what an identity may call.
 *   `cmkctl curve-keygen FILE`: make a CURVE key pair file (FILE, mode 0600, and FILE's .pub).
 *   Such a key is unknown to a cluster until it is authorized; with `--curve-key FILE` a
 *   command acts as that identity (used to rehearse a refused client).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "authz.h"
#include "cli.h"
#include "keys.h"
#include "util.h"
#include "ops.h"


/* show_identities - the list as a table */
static void show_identities(const cJSON *r)
{
    static const char *const f[] = {"name", "role", "tenants", "envs", NULL};
    static const char *const h[] = {"NAME", "ROLE", "TENANTS", "ENVS"};
    cli_print_items(cJSON_GetObjectItem(r, "items"), f, h);
}

/* show_added - where the key is */
static void show_added(const cJSON *r)
{
    printf("identity %s (role %s) added; its key: %s\nact as it with: cmkctl --as %s ...\n",
           cmk_json_str(r, "name", ""), cmk_json_str(r, "role", ""),
           cmk_json_str(r, "key_file", ""), cmk_json_str(r, "name", ""));
}

/* show_removed - one line */
static void show_removed(const cJSON *r)
{
    printf("identity %s removed\n", cmk_json_str(r, "name", ""));
}

/* print_matrix - roles x classes, then the operations of each class (from authz.c's table) */
static int print_matrix(const cli_opts *o)
{
    const char *const *roles = authz_roles();
    cJSON *out = cJSON_CreateObject(), *jr = cJSON_AddObjectToObject(out, "roles"),
          *jc = cJSON_AddObjectToObject(out, "classes");

    for (int r = 0; roles[r]; r++) {
        cJSON *a = cJSON_AddArrayToObject(jr, roles[r]);
        for (int c = 0; c < AUTHZ_NCLASS; c++)
            if (authz_role_allows(roles[r], (authz_class)c))
                cJSON_AddItemToArray(a, cJSON_CreateString(authz_class_name((authz_class)c)));
    }
    for (int c = 0; c < AUTHZ_NCLASS; c++) {
        cJSON *a = cJSON_AddArrayToObject(jc, authz_class_name((authz_class)c));
        for (const authz_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++)
            if (op->door != AUTHZ_INTERNAL && op->cls == (authz_class)c)
                cJSON_AddItemToArray(a, cJSON_CreateString(op->type));
    }
    if (o->json) {
        cli_print_json(out);
    } else {
        printf("%-13s", "ROLE");
        for (int c = 0; c < AUTHZ_NCLASS; c++)
            printf(" %-7s", authz_class_name((authz_class)c));
        printf("\n");
        for (int r = 0; roles[r]; r++) {
            printf("%-13s", roles[r]);
            for (int c = 0; c < AUTHZ_NCLASS; c++)
                printf(" %-7s", authz_role_allows(roles[r], (authz_class)c) ? "yes" : "-");
            printf("\n");
        }
        for (int c = 0; c < AUTHZ_NCLASS; c++) {
            const cJSON *it;
            const char *sep = "";
            printf("\n%s:", authz_class_name((authz_class)c));
            cJSON_ArrayForEach(it, cJSON_GetObjectItem(jc, authz_class_name((authz_class)c)))
            {
                printf("%s %s", sep, it->valuestring);
                sep = ",";
            }
            printf("\n");
        }
    }
    cJSON_Delete(out);
    return 0;
}

/* cmd_call - `cmkctl call TYPE [BODY-JSON | -] [--file F]`: one raw request, the reply as JSON;
 * the body comes from the argument, a file, or stdin (`-`), so it is not bound by the argument
 * list's size */
int cmd_call(cli_opts *o)
{
    const char *arg = cli_positional(o, 1, 1), *file = cli_opt(o, "--file");
    char *text = NULL;
    size_t len = 0;
    cJSON *b;
    int rc;

    if (arg && file)
        return cli_fail(CMK_EINVAL, "give the body as an argument, with --file F or as - (stdin), not two of them");
    if (file && (rc = cli_read_file(file, &text, &len)) != 0)
        return rc;
    if (arg && strcmp(arg, "-") == 0) {
        cmk_err err = CMK_ERR_INIT;
        if (cmk_file_read("/dev/stdin", &text, &len, &err) < 0)
            return cli_fail(err.code, "reading the body from stdin: %s", err.msg);
    }
    if (text && strlen(text) != len) {
        free(text);
        return cli_fail(CMK_EINVAL, "the body has a NUL byte: it must be a JSON object");
    }
    {
        /* the cluster's own checks on the text (common/fields.c): depth, UTF-8, \u0000 */
        cmk_err err = CMK_ERR_INIT;
        const char *t = text ? text : arg;
        if (t && cmk_json_text_check(t, text ? len : strlen(arg), CMK_FIELDS_MAX_DEPTH, &err) < 0) {
            free(text);
            return cli_fail(err.code, "%s", err.msg);
        }
    }
    b = text ? cJSON_Parse(text) : arg ? cJSON_Parse(arg) : cJSON_CreateObject();
    free(text);
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        return cli_fail(CMK_EINVAL, "the body%s%s is not a JSON object, e.g. '{\"env\": \"ENV\"}'",
                        file ? " in " : "", file ? file : "");
    }
    o->json = 1;
    return cli_request(o, cli_positional(o, 1, 0), b, NULL);
}

/* cmd_identity - identity add | list | remove | matrix */
int cmd_identity(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "";
    cJSON *b;

    if (strcmp(sub, "matrix") == 0)
        return print_matrix(o);
    b = cJSON_CreateObject();
    if (strcmp(sub, "list") == 0)
        return cli_request(o, CMK_T_IDENTITY_LIST, b, show_identities);
    if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) {
        const char *name = cli_positional(o, 2, 0);
        if (!name) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL, "give the identity's name; see `cmkctl identity --help`");
        }
        cJSON_AddStringToObject(b, "name", name);
        if (strcmp(sub, "remove") == 0)
            return cli_request(o, CMK_T_IDENTITY_REMOVE, b, show_removed);
        if (!cli_opt(o, "--role")) {
            cJSON_Delete(b);
            return cli_fail(CMK_EINVAL,
                            "give --role reader|tenant-admin|admin; see `cmkctl identity --help`");
        }
        cJSON_AddStringToObject(b, "role", cli_opt(o, "--role"));
        {
            cJSON *t = cJSON_AddArrayToObject(b, "tenants");
            for (int i = 2; i + 1 < o->argc; i++)
                if (strcmp(o->argv[i], "--tenant") == 0)
                    cJSON_AddItemToArray(t, cJSON_CreateString(o->argv[++i]));
        }
        return cli_request(o, CMK_T_IDENTITY_ADD, b, show_added);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "unknown identity command '%s'; see `cmkctl identity --help`", sub);
}

/* cmd_curve_keygen - write a fresh key pair */
int cmd_curve_keygen(cli_opts *o)
{
    cmk_keypair kp;
    cmk_err err = CMK_ERR_INIT;

    if (o->argc < 2)
        return cli_fail(CMK_EINVAL, "usage: cmkctl curve-keygen FILE");
    if (cmk_keypair_generate_file(o->argv[1], &kp, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    cmk_keypair_wipe(&kp);
    if (o->json)
        printf("{\"file\": \"%s\", \"public\": \"%s\"}\n", o->argv[1], kp.pub);
    else
        printf("wrote %s (secret, mode 0600); public key %s\n", o->argv[1], kp.pub);
    return 0;
}
