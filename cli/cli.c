/*
 * cli.c - cmkctl's shared parts: options, the command table, calls, tables, errors.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "err.h"
#include "util.h"

static const cli_cmd commands[] = {
    { "up", cmd_up, "[--config FILE] [--set NAME=VALUE]...",
      "start a cluster in the background (controller, shared worker, gateway, firewall)" },
    { "down", cmd_down, "", "stop the cluster; no process is left behind" },
    { "status", cmd_status, "", "every process: pid, role, state, uptime, heartbeat age, restarts" },
    { "ping", cmd_ping, "[--target all|controller|NAME]", "ping processes through the controller" },
    { "scenario", cmd_scenario, "run FILE",
      "run a scenario: a JSON list of cmkctl steps with expected outcomes" },
    { "tenant", cmd_tenant, "create ID [--name N] | list | show ID", "tenants" },
    { "env", cmd_env, "create|list|show|enable-managed|delete ...",
      "environments (`cmkctl env --help` for details)" },
    { "clock", cmd_clock, "[show] | advance DURATION", "the controller's clock (advance: virtual mode only)" },
    { "tenant-key", cmd_tenant_key, "generate|upload|activate|list|status|kek ...",
      "legacy tenant encryption keys (BYOK, `cmkctl tenant-key --help`)" },
    { "vault", cmd_vault, "create|show|list|update|delete|recover|purge|grant|revoke|access ...",
      "the simulated Azure Key Vault (`cmkctl vault --help`)" },
    { "key", cmd_key, "create|import|import-byok|byok-export|show|list|versions|rotate|...",
      "keys in a vault (`cmkctl key --help`)" },
    { "flow", cmd_flow, "create|list|show|update|enable|disable|delete|save-as|export|import|run ...",
      "flows of an environment (`cmkctl flow --help`)" },
    { "flows", cmd_flows, "mmk --env ENV [--cannot-migrate]",
      "flows on the Microsoft-managed key (Get-AdminFlowEncryptedByMicrosoftKey)" },
    { "app", cmd_app, "register-flow --env ENV FLOW [--app NAME]", "reference a Power Apps-trigger flow from an app" },
    { "machine-group", cmd_machine_group, "create|list|reprovision --env ENV ...", "hosted RPA machine groups" },
    { "run", cmd_run, "list|show|export-csv --env ENV ...", "run history of flows" },
    { "conn", cmd_conn, "create|show --env ENV ...", "connections (OAuth and non-OAuth)" },
    { "policy", cmd_policy, "create|list|show|validate|delete|add-env|remove-env|move-env|operation ...",
      "enterprise policies of kind Encryption (`cmkctl policy --help`)" },
    { "support", cmd_support, "raise-cmk-limit|run-history|protect-flows ...",
      "support tickets: CMK limit, run history after migration, protect flows" },
    { "firewall", cmd_firewall, "status | apply CONFIG.json | fault KIND ...", "the customer firewall of the cluster" },
    { "metrics", cmd_metrics, "", "egress counters per service tag and outcome (Prometheus text)" },
    { "audit", cmd_audit, "list [filters] | verify", "the hash-chained audit log" },
    { "drill", cmd_drill, "run FILE [--report-dir DIR]",
      "a firewall misconfiguration drill on a fresh cluster, with a report (configs/drills/)" },
    { "identity", cmd_identity, "add NAME --role R [--tenant T]... | list | remove NAME | matrix",
      "client identities and what each role may call (`cmkctl identity --help`)" },
    { "call", cmd_call, "TYPE [BODY-JSON]",
      "send one raw request and print the reply (with --as/--curve-key: check what an identity may call)" },
    { "protocol", cmd_protocol, "[--markdown]",
      "every request type: who may send it, where it goes, its limits (the operation table)" },
    { "curve-keygen", cmd_curve_keygen, "FILE",
      "write a new CURVE key pair (for --curve-key: acting as an identity the cluster may not know)" },
    { NULL, NULL, NULL, NULL },
};

/* usage - the teaching --help */
static void usage(FILE *out)
{
    fprintf(out,
            "cmkctl - the admin's tool for a cmksim cluster\n\n"
            "Usage: cmkctl [global options] COMMAND [arguments]\n\n"
            "Commands:\n");
    for (const cli_cmd *c = commands; c->name; c++)
        fprintf(out, "  %-9s %-38s %s\n", c->name, c->args, c->summary);
    fprintf(out,
            "\nGlobal options (anywhere on the line):\n"
            "  --run-dir DIR    the cluster's run directory (default $CMK_RUN_DIR or ./var)\n"
            "  --json           machine-readable output\n"
            "  --timeout DUR    how long to wait for an answer (default 15s)\n"
            "  --curve-key FILE act with another CURVE key file instead of keys/admin.key\n"
            "  --as NAME        act as identity NAME: --curve-key <run dir>/keys/NAME.key\n"
            "  --help           this text\n\n"
            "Example:\n"
            "  cmkctl up --run-dir /tmp/c1 && cmkctl status --run-dir /tmp/c1 && cmkctl down --run-dir /tmp/c1\n");
}

/* cli_fail - error to stderr */
int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("cmkctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cmk_code_exit(code ? code : CMK_EINTERNAL);
}

/* cli_call - one request */
int cli_call(cli_opts *o, const char *type, const cJSON *body, cmk_msg **reply)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_client *c = cmk_client_new(o->run_dir, o->key_path, &err);
    int rc;

    if (reply)
        *reply = NULL;
    if (!c)
        return cli_fail(err.code, "%s", err.msg);
    rc = cmk_client_call(c, type, body, o->timeout_ms, reply, &err);
    cmk_client_destroy(&c);
    if (rc < 0)
        return cli_fail(rc, "%s", err.msg);
    return 0;
}

/* cli_print_json - pretty JSON */
void cli_print_json(const cJSON *json)
{
    char *text = cJSON_Print(json);
    if (text) {
        puts(text);
        free(text);
    }
}

/* cli_opt - --name VALUE among the command's arguments (the last one wins) */
const char *cli_opt(const cli_opts *o, const char *name)
{
    const char *v = NULL;
    for (int i = 1; i + 1 < o->argc; i++)
        if (strcmp(o->argv[i], name) == 0)
            v = o->argv[++i];
    return v;
}

/* cli_flag - --name among the command's arguments */
int cli_flag(const cli_opts *o, const char *name)
{
    for (int i = 1; i < o->argc; i++)
        if (strcmp(o->argv[i], name) == 0)
            return 1;
    return 0;
}

/* cli_fmt_age - human duration */
char *cli_fmt_age(int64_t ms, char *buf, size_t cap)
{
    if (ms < 0)
        snprintf(buf, cap, "-");
    else if (ms < 1000)
        snprintf(buf, cap, "%lldms", (long long)ms);
    else
        cmk_duration_format(ms - ms % 1000, buf, cap);
    return buf;
}

/* cli_main - parse global options anywhere, then run the command */
int cli_main(int argc, char **argv)
{
    cli_opts o = { .timeout_ms = 15000 };
    static char as_path[4200];
    const char *as = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    const cli_cmd *cmd;
    cmk_err err = CMK_ERR_INIT;
    int n = 0, status;

    if (!rest)
        return cli_fail(CMK_ENOMEM, "out of memory");
    o.run_dir = getenv("CMK_RUN_DIR");
    o.sets = cJSON_CreateArray();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--run-dir") == 0 && has_val)
            o.run_dir = argv[++i];
        else if (strcmp(a, "--json") == 0)
            o.json = 1;
        else if (strcmp(a, "--curve-key") == 0 && has_val)
            o.key_path = argv[++i];
        else if (strcmp(a, "--as") == 0 && has_val)
            as = argv[++i];
        else if (strcmp(a, "--config") == 0 && has_val)
            o.config_path = argv[++i];
        else if (strcmp(a, "--set") == 0 && has_val)
            cJSON_AddItemToArray(o.sets, cJSON_CreateString(argv[++i]));
        else if (strcmp(a, "--timeout") == 0 && has_val) {
            if (cmk_duration_parse(argv[++i], &o.timeout_ms, &err) < 0) {
                free(rest);
                cJSON_Delete(o.sets);
                return cli_fail(err.code, "--timeout: %s", err.msg);
            }
        } else if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) && n == 0) {
            usage(stdout);
            free(rest);
            cJSON_Delete(o.sets);
            return 0;
        } else
            rest[n++] = argv[i];
    }
    if (!o.run_dir || !*o.run_dir)
        o.run_dir = "./var";
    if (as) {
        if (o.key_path || !*as || strchr(as, '/')) {
            free(rest);
            cJSON_Delete(o.sets);
            return cli_fail(CMK_EINVAL, o.key_path ? "give --as NAME or --curve-key FILE, not both"
                                                   : "--as takes an identity name (see `cmkctl identity list`)");
        }
        snprintf(as_path, sizeof as_path, "%s/keys/%s.key", o.run_dir, as);
        if (access(as_path, R_OK) != 0) {
            free(rest);
            cJSON_Delete(o.sets);
            return cli_fail(CMK_ENOENT, "no identity '%s' in %s (%s cannot be read); `cmkctl identity list` "
                                        "shows them, `cmkctl identity add` makes one", as, o.run_dir, as_path);
        }
        o.key_path = as_path;
    }
    if (n == 0) {
        usage(stderr);
        free(rest);
        cJSON_Delete(o.sets);
        return 2;
    }
    o.argc = n;
    o.argv = rest;
    for (cmd = commands; cmd->name && strcmp(cmd->name, rest[0]) != 0; cmd++)
        ;
    if (!cmd->name)
        status = cli_fail(CMK_EINVAL, "unknown command '%s'; `cmkctl --help` lists the commands", rest[0]);
    else if (cli_flag(&o, "--help") && strstr(cmd->summary, "--help`")) {
        /* a command with its own usage text (its summary points to it): show that one */
        char *help_argv[] = { rest[0], "--help", NULL };
        o.argc = 2;
        o.argv = help_argv;
        status = cmd->fn(&o);
    } else if (cli_flag(&o, "--help")) {
        printf("Usage: cmkctl %s %s\n\n%s\n", cmd->name, cmd->args, cmd->summary);
        status = 0;
    } else
        status = cmd->fn(&o);
    free(rest);
    cJSON_Delete(o.sets);
    return status;
}

/* cell_text - a JSON value as table text */
static const char *cell_text(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "yes" : "no";
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(buf, cap, "%lld", (long long)v->valuedouble);
        else
            snprintf(buf, cap, "%g", v->valuedouble);
        return buf;
    }
    if (!v || cJSON_IsNull(v))
        return "-";
    {
        char *t = cJSON_PrintUnformatted(v);
        cmk_strlcpy(buf, t ? t : "?", cap);
        free(t);
        return buf;
    }
}

/* cli_path - a member by dotted path ("attributes.exp") */
const cJSON *cli_path(const cJSON *obj, const char *path)
{
    char buf[128], *save = NULL;
    const cJSON *cur = obj;
    cmk_strlcpy(buf, path, sizeof buf);
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItem(cur, seg);
    return cur;
}

/* cli_print_items - objects as a table */
void cli_print_items(const cJSON *items, const char *const *fields, const char *const *headers)
{
    int n = 0;
    cli_table *t;
    const cJSON *it;
    while (fields[n])
        n++;
    t = cli_table_new(n, headers);
    cJSON_ArrayForEach(it, items) {
        const char *cells[32];
        char bufs[32][128];
        for (int c = 0; c < n && c < 32; c++)
            cells[c] = cell_text(cli_path(it, fields[c]), bufs[c], sizeof bufs[c]);
        cli_table_add(t, cells);
    }
    if (cJSON_GetArraySize(items) == 0)
        printf("(none)\n");
    else
        cli_table_print(t);
    cli_table_destroy(&t);
}

/* cli_print_object - key: value lines (nested arrays of objects as indented tables) */
void cli_print_object(const cJSON *obj)
{
    const cJSON *it;
    int w = 0;
    cJSON_ArrayForEach(it, obj) {
        if ((int)strlen(it->string) > w)
            w = (int)strlen(it->string);
    }
    cJSON_ArrayForEach(it, obj) {
        char buf[512];
        if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
            char *t = cJSON_PrintUnformatted(it);
            printf("%-*s  %s\n", w + 1, it->string, t ? t : "");
            free(t);
        } else
            printf("%-*s  %s\n", w + 1, it->string, cell_text(it, buf, sizeof buf));
    }
}

/* cli_request - call and print */
int cli_request(cli_opts *o, const char *type, cJSON *body, void (*show)(const cJSON *reply))
{
    cmk_msg *rep;
    int rc = cli_call(o, type, body, &rep);
    cJSON_Delete(body);
    if (rc != 0)
        return rc;
    if (o->json || !show)
        cli_print_json(rep->body);
    else
        show(rep->body);
    cmk_msg_destroy(&rep);
    return 0;
}

/* cli_is_flag - options that take no value */
int cli_is_flag(const char *arg)
{
    static const char *const flags[] = { "--managed", "--yes", "--cannot-migrate", "--help", "--deleted",
                                         "--pem", "--purge-protection", "--no-soft-delete",
                                         "--newest-first", "--solution", "--desktop", "--non-oauth", "--no-wait", "--enable", "--disable", NULL };
    for (int i = 0; flags[i]; i++)
        if (strcmp(arg, flags[i]) == 0)
            return 1;
    return 0;
}

/* cli_positional - i-th non-option argument after `skip` command words */
const char *cli_positional(const cli_opts *o, int skip, int i)
{
    for (int a = skip; a < o->argc; a++) {
        if (strncmp(o->argv[a], "--", 2) == 0) {
            if (!cli_is_flag(o->argv[a]))
                a++; /* an option's value */
            continue;
        }
        if (i-- == 0)
            return o->argv[a];
    }
    return NULL;
}

/* ---- tables ---- */

struct cli_table {
    int ncols;
    char **cells;   /* rows x ncols, row 0 is the header */
    size_t nrows, cap;
};

cli_table *cli_table_new(int ncols, const char *const *headers)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    cli_table_add(t, headers);
    return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, cap * (size_t)t->ncols * sizeof *nc);
        if (!nc)
            return;
        t->cells = nc;
        t->cap = cap;
    }
    for (int c = 0; c < t->ncols; c++)
        t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = strdup(cells[c] ? cells[c] : "");
    t->nrows++;
}

void cli_table_print(const cli_table *t)
{
    size_t width[32] = { 0 };
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols && c < 32; c++) {
            size_t l = strlen(t->cells[r * (size_t)t->ncols + (size_t)c]);
            if (l > width[c])
                width[c] = l;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols && c < 32; c++)
            printf(c + 1 < t->ncols ? "%-*s  " : "%-*s", c + 1 < t->ncols ? (int)width[c] : 0,
                   t->cells[r * (size_t)t->ncols + (size_t)c]);
        putchar('\n');
    }
}

void cli_table_destroy(cli_table **t_p)
{
    if (!t_p || !*t_p)
        return;
    for (size_t i = 0; i < (*t_p)->nrows * (size_t)(*t_p)->ncols; i++)
        free((*t_p)->cells[i]);
    free((*t_p)->cells);
    free(*t_p);
    *t_p = NULL;
}

/* cli_read_file - a whole file */
int cli_read_file(const char *path, char **out, size_t *len)
{
    cmk_err err = CMK_ERR_INIT;
    if (cmk_file_read(path, out, len, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    return 0;
}
