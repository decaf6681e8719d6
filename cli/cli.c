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

static int json_errors; /* --json: errors as a JSON object */

/* cli_set_json_errors - errors as JSON from now on */
void cli_set_json_errors(int on) { json_errors = on; }

/* cli_fail - error to stderr: "cmkctl: message", or {"error": {"code", "message"}} under --json */
int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    char msg[2048];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!code)
        code = CMK_EINTERNAL;
    if (json_errors) {
        cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
        char *text;
        cJSON_AddStringToObject(e, "code", cmk_code_name(code));
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddNumberToObject(e, "exit", cmk_code_exit(code));
        text = cJSON_PrintUnformatted(j);
        fprintf(stderr, "%s\n", text ? text : "{\"error\": {}}");
        free(text);
        cJSON_Delete(j);
    } else
        fprintf(stderr, "cmkctl: %s\n", msg);
    return cmk_code_exit(code);
}

/* cli_call - one request */
int cli_call(cli_opts *o, const char *type, const cJSON *body, cmk_msg **reply)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_client *c;
    int rc;

    if (reply)
        *reply = NULL;
    if (cli_cluster_stopped(o->run_dir))
        return cli_fail(CMK_EUNAVAIL, "no cluster is running in %s (start one with: cmkctl up --run-dir %s)",
                        o->run_dir, o->run_dir);
    c = cmk_client_new(o->run_dir, o->key_path, &err);
    if (!c)
        return cli_fail(err.code, "%s", err.msg);
    rc = cmk_client_call(c, type, body, o->timeout_ms, reply, &err);
    cmk_client_destroy(&c);
    if (rc == CMK_ETIMEOUT && !cli_cluster_stopped(o->run_dir)) {
        char dur[32];
        cmk_duration_format(o->timeout_ms, dur, sizeof dur);
        return cli_fail(rc, "no answer from the controller in %s within %s: it is running (it holds "
                            "controller.lock) but is busy or stopped, or does not know this client's key (%s); wait "
                            "with a longer --timeout, or see %s/logs/controller.log", o->run_dir, dur,
                        o->key_path ? o->key_path : "keys/admin.key", o->run_dir);
    }
    if (rc < 0)
        return cli_fail(rc, "%s", err.msg);
    return 0;
}

/* cli_print_written - a file was written */
void cli_print_written(const cli_opts *o, const char *path, const char *text)
{
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "written", path);
        cli_print_json(j);
        cJSON_Delete(j);
    } else
        puts(text);
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

/* find_global - a global option by name */
static const cli_option *find_global(const char *name)
{
    for (const cli_option *op = cli_global_options(); op->name; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}

/* closest_command - the command nearest to a mistyped one */
static const char *closest_command(const char *word)
{
    const char *names[64];
    size_t n = 0;
    for (const cli_cmd *c = cli_commands(); c->name && n < 64; c++)
        names[n++] = c->name;
    return cli_closest(word, names, n);
}

/* cli_main - take the global options out (anywhere on the line), check the rest against the
 * command's table, then run the command */
int cli_main(int argc, char **argv)
{
    cli_opts o = { .timeout_ms = 15000 };
    static char as_path[4200];
    const char *as = NULL;
    char **rest = calloc((size_t)argc + 2, sizeof *rest);
    char **split = calloc((size_t)argc * 2 + 2, sizeof *split); /* --name=value as two words */
    const cli_cmd *cmd;
    cmk_err err = CMK_ERR_INIT;
    int n = 0, nsplit = 0, status = -1, help = 0;

    if (!rest || !split) {
        free(rest);
        free(split);
        return cli_fail(CMK_ENOMEM, "out of memory");
    }
    for (int i = 1; i < argc; i++) {
        const char *eq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
        if (eq && eq > argv[i] + 2 && !strchr(argv[i], ' ')) {
            split[nsplit++] = strndup(argv[i], (size_t)(eq - argv[i]));
            split[nsplit++] = strdup(eq + 1);
        } else
            split[nsplit++] = strdup(argv[i]);
        if (!split[nsplit - 1]) {
            status = cli_fail(CMK_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (int i = 0; i < nsplit; i++)
        if (strcmp(split[i], "--json") == 0)
            cli_set_json_errors(1);
    o.run_dir = getenv("CMK_RUN_DIR");
    o.sets = cJSON_CreateArray();
    for (int i = 0; i < nsplit; i++) {
        const char *a = split[i];
        const cli_option *g = strncmp(a, "--", 2) == 0 ? find_global(a) : NULL;
        const char *v;
        if (strcmp(a, "-h") == 0)
            g = find_global("--help");
        if (g && strcmp(g->name, "--version") == 0 && n > 0)
            g = NULL; /* after a command, --version is that command's (key show --version V) */
        if (!g) {
            rest[n++] = split[i];
            continue;
        }
        if (strcmp(g->name, "--help") == 0) {
            help = 1;
            continue;
        }
        if (strcmp(g->name, "--version") == 0) {
            printf(o.json ? "{\"version\": \"%s\"}\n" : "cmkctl %s\n", CMK_VERSION);
            status = 0;
            goto out;
        }
        if (strcmp(g->name, "--json") == 0) {
            o.json = 1;
            continue;
        }
        if (i + 1 >= nsplit || (strncmp(split[i + 1], "--", 2) == 0 && split[i + 1][2])) {
            status = cli_fail(CMK_EINVAL, "%s needs a value (%s)%s%s", a, g->meta,
                              i + 1 < nsplit ? ", not the option " : "", i + 1 < nsplit ? split[i + 1] : "");
            goto out;
        }
        v = split[++i];
        if (!*v) {
            status = cli_fail(CMK_EINVAL, "%s needs a value (%s), not an empty word", a, g->meta);
            goto out;
        }
        if (strcmp(a, "--run-dir") == 0)
            o.run_dir = v;
        else if (strcmp(a, "--curve-key") == 0)
            o.key_path = v;
        else if (strcmp(a, "--as") == 0)
            as = v;
        else if (strcmp(a, "--timeout") == 0 && cmk_duration_parse(v, &o.timeout_ms, &err) < 0) {
            status = cli_fail(err.code, "--timeout: %s", err.msg);
            goto out;
        }
    }
    if (!o.run_dir || !*o.run_dir)
        o.run_dir = "./var";
    if (n == 0) {
        cli_print_help(help ? stdout : stderr);
        status = help ? 0 : CLI_EXIT_USAGE;
        goto out;
    }
    for (cmd = cli_commands(); cmd->name && strcmp(cmd->name, rest[0]) != 0; cmd++)
        ;
    if (!cmd->name) {
        const char *near = closest_command(rest[0]);
        if (near)
            status = cli_fail(CMK_EINVAL, "unknown command '%s'; did you mean `cmkctl %s`? (`cmkctl --help` lists "
                                          "the commands)", rest[0], near);
        else
            status = cli_fail(CMK_EINVAL, "unknown command '%s'; `cmkctl --help` lists the commands", rest[0]);
        goto out;
    }
    o.argc = n;
    o.argv = rest;
    if ((status = cli_parse_command(&o, cmd, help)) >= 0)
        goto out;
    if (as) {
        if (o.key_path || strchr(as, '/')) {
            status = cli_fail(CMK_EINVAL, o.key_path ? "give --as NAME or --curve-key FILE, not both"
                                                     : "--as takes an identity name (see `cmkctl identity list`)");
            goto out;
        }
        snprintf(as_path, sizeof as_path, "%s/keys/%s.key", o.run_dir, as);
        if (access(as_path, R_OK) != 0) {
            status = cli_fail(CMK_ENOENT, "no identity '%s' in %s (%s cannot be read); `cmkctl identity list` "
                                          "shows them, `cmkctl identity add` makes one", as, o.run_dir, as_path);
            goto out;
        }
        o.key_path = as_path;
    }
    /* up's --config and --set */
    o.config_path = cli_opt(&o, "--config");
    for (int i = 1; i + 1 < o.argc; i++)
        if (strcmp(o.argv[i], "--set") == 0)
            cJSON_AddItemToArray(o.sets, cJSON_CreateString(o.argv[++i]));
    {
        const cli_usage *u = cli_usage_of(cmd->name, cli_usage_of(cmd->name, NULL) ? NULL : o.argv[1]);
        if (u && (status = cli_confirm(&o, u)) != 0)
            goto out;
    }
    status = cmd->fn(&o);
out:
    for (int i = 0; i < nsplit; i++)
        free(split[i]);
    free(split);
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
