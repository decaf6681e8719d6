/*
 * cli_parse.c - cmkctl's options checked against the tables of cli_spec.c: unknown options
 * (with the closest known one), missing or malformed values, positional counts; --help,
 * confirmation of what destroys, and the bash completion and man page generated from the
 * same tables.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "err.h"
#include "suggest.h"
#include "util.h"

static const cli_usage *active; /* the subcommand being run: cli_is_flag asks it */

/* cli_closest - nearest candidate (common/suggest.c) */
const char *cli_closest(const char *word, const char *const *candidates, size_t n)
{
    return n ? cmk_closest(word, strlen(word), candidates, n) : NULL;
}

/* cli_usage_of - the row of cmd/sub */
const cli_usage *cli_usage_of(const char *cmd, const char *sub)
{
    for (const cli_usage *u = cli_usages(); u->cmd; u++)
        if (strcmp(u->cmd, cmd) == 0 && ((!sub && !u->sub) || (sub && u->sub && strcmp(u->sub, sub) == 0)))
            return u;
    return NULL;
}

/* has_subs - 1 if cmd has subcommands */
static int has_subs(const char *cmd)
{
    for (const cli_usage *u = cli_usages(); u->cmd; u++)
        if (strcmp(u->cmd, cmd) == 0 && u->sub)
            return 1;
    return 0;
}

/* find_opt - an option of a table by name */
static const cli_option *find_opt(const cli_option *opts, const char *name)
{
    for (; opts && opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

/* synopsis - "cmkctl key create VAULT NAME [--kty KTY] ..." */
static void synopsis(const cli_usage *u, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "cmkctl %s%s%s%s%s", u->cmd, u->sub ? " " : "", u->sub ? u->sub : "",
                                u->args[0] ? " " : "", u->args);
    for (int pass = 0; pass < 2; pass++)
        for (const cli_option *op = u->opts; op->name && n < cap; op++) {
            int req = (op->flags & CLI_O_REQUIRED) != 0;
            if (req != (pass == 0))
                continue;
            n += (size_t)snprintf(buf + n, cap - n, " %s%s%s%s%s%s", req ? "" : "[", op->name, op->meta ? " " : "",
                                  op->meta ? op->meta : "", req ? "" : "]", op->flags & CLI_O_REPEAT ? "..." : "");
        }
}

/* print_option - one option line of --help */
static void print_option(FILE *out, const cli_option *op)
{
    char left[96];
    snprintf(left, sizeof left, "%s%s%s", op->name, op->meta ? " " : "", op->meta ? op->meta : "");
    fprintf(out, "  %-30s %s", left, op->help);
    if (op->type == CLI_T_ENUM && op->allowed && (!op->meta || !strchr(op->meta, '|')))
        fprintf(out, "; one of %s", op->allowed);
    if (op->type == CLI_T_INT && op->allowed)
        fprintf(out, "; %s", op->allowed);
    if (op->type == CLI_T_DUR)
        fprintf(out, "; a duration such as 500ms, 30s, 5m, 72h, 7d");
    if (op->def)
        fprintf(out, " (default %s)", op->def);
    if (op->flags & CLI_O_REQUIRED)
        fprintf(out, " (required)");
    if (op->flags & CLI_O_REPEAT)
        fprintf(out, " (repeatable)");
    fputc('\n', out);
}

/* cli_print_usage_help - `cmkctl CMD SUB --help` */
void cli_print_usage_help(FILE *out, const cli_usage *u)
{
    char syn[1024];
    synopsis(u, syn, sizeof syn);
    fprintf(out, "Usage: %s\n\n%s\n", syn, u->summary);
    if (u->opts->name) {
        fprintf(out, "\nOptions:\n");
        for (const cli_option *op = u->opts; op->name; op++)
            print_option(out, op);
    }
    if (u->flags & CLI_S_DESTROYS)
        fprintf(out, "\nThis destroys data: on a terminal it asks first; otherwise it needs --yes.\n");
    fprintf(out, "\nGlobal options (--run-dir DIR, --json, --timeout DUR, --as NAME, ...): `cmkctl --help`.\n");
}

/* cli_print_command_help - `cmkctl CMD --help`: every subcommand's synopsis, then the notes */
int cli_print_command_help(FILE *out, const cli_cmd *cmd)
{
    const cli_usage *own = cli_usage_of(cmd->name, NULL);
    if (own && !has_subs(cmd->name)) {
        cli_print_usage_help(out, own);
        if (cmd->notes)
            fprintf(out, "\n%s", cmd->notes);
        return 0;
    }
    fprintf(out, "Usage:\n");
    for (const cli_usage *u = cli_usages(); u->cmd; u++) {
        char syn[1024];
        if (strcmp(u->cmd, cmd->name) != 0 || !u->sub)
            continue;
        synopsis(u, syn, sizeof syn);
        fprintf(out, "  %s\n      %s\n", syn, u->summary);
    }
    if (cmd->default_sub)
        fprintf(out, "\nWith no subcommand: cmkctl %s %s.\n", cmd->name, cmd->default_sub);
    fprintf(out, "`cmkctl %s SUBCOMMAND --help` describes each option.\n", cmd->name);
    if (cmd->notes)
        fprintf(out, "\n%s", cmd->notes);
    return 0;
}

/* cli_print_help - `cmkctl --help` */
void cli_print_help(FILE *out)
{
    fprintf(out, "cmkctl %s - the admin's tool for a cmksim cluster\n\n"
                 "Usage: cmkctl [global options] COMMAND [arguments]\n\nCommands:\n", CMK_VERSION);
    for (const cli_cmd *c = cli_commands(); c->name; c++)
        fprintf(out, "  %-13s %-38s %s\n", c->name, c->args, c->summary);
    fprintf(out, "\nGlobal options (anywhere on the line):\n");
    for (const cli_option *op = cli_global_options(); op->name; op++)
        print_option(out, op);
    fprintf(out,
            "\n`cmkctl COMMAND --help` and `cmkctl COMMAND SUBCOMMAND --help` list their options.\n"
            "\nExit status:\n"
            "  0  success\n"
            "  1  refused by the cluster (no such object, exists, not allowed, wrong state, limit,\n"
            "     busy), or a check that failed (audit verify, ping, scenario, drill, policy operation)\n"
            "  2  bad input: unknown command or option, missing or malformed value, bad body\n"
            "  3  no answer: no cluster is running in the run dir, or no answer in time\n"
            "  4  a file, socket or internal error\n"
            "  5  the flow run ran and ended Failed, Cancelled or TimedOut (cmkctl flow run)\n"
            "\nExample:\n"
            "  cmkctl up --run-dir /tmp/c1 && cmkctl status --run-dir /tmp/c1 && cmkctl down --run-dir /tmp/c1\n");
}

/* check_value - a value against its option's type */
static int check_value(const char *where, const cli_option *op, const char *v)
{
    if (op->type == CLI_T_INT) {
        char *end;
        long long x, lo = LLONG_MIN, hi = LLONG_MAX;
        errno = 0;
        x = strtoll(v, &end, 10);
        if (!*v || *end || errno)
            return cli_fail(CMK_EINVAL, "%s: %s takes a whole number, not '%s'", where, op->name, v);
        if (op->allowed && sscanf(op->allowed, "%lld..%lld", &lo, &hi) == 2 && (x < lo || x > hi))
            return cli_fail(CMK_EINVAL, "%s: %s must be from %lld to %lld, not %lld", where, op->name, lo, hi, x);
    } else if (op->type == CLI_T_DUR) {
        int64_t ms;
        cmk_err err = CMK_ERR_INIT;
        if (cmk_duration_parse(v, &ms, &err) < 0)
            return cli_fail(CMK_EINVAL, "%s: %s: %s", where, op->name, err.msg);
    } else if (op->type == CLI_T_ENUM) {
        const char *p = op->allowed;
        size_t n = strlen(v);
        while (p && *p) {
            const char *bar = strchr(p, '|');
            size_t l = bar ? (size_t)(bar - p) : strlen(p);
            if (l == n && strncmp(p, v, n) == 0)
                return 0;
            p = bar ? bar + 1 : NULL;
        }
        return cli_fail(CMK_EINVAL, "%s: %s takes one of %s, not '%s'", where, op->name, op->allowed, v);
    } else if (!*v && op->type != CLI_T_STR)
        return cli_fail(CMK_EINVAL, "%s: %s needs a value (%s), not an empty word", where, op->name, op->meta);
    return 0;
}

/* unknown_option - the error for an option not in the table, with the closest known one */
static int unknown_option(const char *where, const cli_usage *u, const char *arg)
{
    const char *names[96];
    size_t n = 0;
    const char *near;
    char help[160];
    for (const cli_option *op = u ? u->opts : NULL; op && op->name && n < 80; op++)
        names[n++] = op->name;
    for (const cli_option *op = cli_global_options(); op->name && n < 96; op++)
        names[n++] = op->name;
    near = cli_closest(arg, names, n);
    snprintf(help, sizeof help, "`cmkctl %s --help` lists its options", where);
    if (near)
        return cli_fail(CMK_EINVAL, "%s: unknown option %s; did you mean %s? (%s)", where, arg, near, help);
    return cli_fail(CMK_EINVAL, "%s: unknown option %s (%s)", where, arg, help);
}

/* unknown_sub - the error for a subcommand not in the table */
static int unknown_sub(const cli_cmd *cmd, const char *sub)
{
    const char *names[64];
    size_t n = 0;
    const char *near;
    for (const cli_usage *u = cli_usages(); u->cmd && n < 64; u++)
        if (strcmp(u->cmd, cmd->name) == 0 && u->sub)
            names[n++] = u->sub;
    near = cli_closest(sub, names, n);
    if (near)
        return cli_fail(CMK_EINVAL, "unknown %s command '%s'; did you mean `cmkctl %s %s`? (`cmkctl %s --help` lists "
                                    "them)", cmd->name, sub, cmd->name, near, cmd->name);
    return cli_fail(CMK_EINVAL, "unknown %s command '%s'; `cmkctl %s --help` lists them", cmd->name, sub, cmd->name);
}

/* cli_parse_command - check the command line against the table */
int cli_parse_command(cli_opts *o, const cli_cmd *cmd, int help)
{
    const cli_usage *u;
    const char *sub = NULL;
    char where[128];
    int first = 1, npos = 0;

    active = NULL;
    if (has_subs(cmd->name)) {
        if (o->argc > 1 && strncmp(o->argv[1], "--", 2) != 0) {
            sub = o->argv[1];
            if (strcmp(sub, "help") == 0) {
                cli_print_command_help(stdout, cmd);
                return 0;
            }
        } else if (help) {
            cli_print_command_help(stdout, cmd);
            return 0;
        } else if (cmd->default_sub) {
            /* `cmkctl tenant` is `cmkctl tenant list`: the handlers read argv[1] */
            for (int i = o->argc; i > 1; i--)
                o->argv[i] = o->argv[i - 1];
            o->argv[1] = (char *)cmd->default_sub;
            o->argc++;
            sub = cmd->default_sub;
        } else {
            cli_print_command_help(stderr, cmd);
            return cli_fail(CMK_EINVAL, "cmkctl %s needs a subcommand (above)", cmd->name);
        }
        if (!(u = cli_usage_of(cmd->name, sub))) {
            int rc = unknown_sub(cmd, sub);
            if (help)
                cli_print_command_help(stdout, cmd);
            return rc;
        }
        first = 2;
    } else if (!(u = cli_usage_of(cmd->name, NULL)))
        return cli_fail(CMK_EINTERNAL, "cmkctl %s has no option table (a bug)", cmd->name);
    snprintf(where, sizeof where, "%s%s%s", cmd->name, sub ? " " : "", sub ? sub : "");
    if (help) {
        cli_print_usage_help(stdout, u);
        return 0;
    }
    for (int i = first; i < o->argc; i++) {
        const char *a = o->argv[i];
        const cli_option *op;
        int rc;
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0 || a[2] == '\0') {
            npos++;
            if (u->max_pos >= 0 && npos > u->max_pos)
                return cli_fail(CMK_EINVAL, "%s: unexpected argument '%s'%s (usage: `cmkctl %s --help`)", where, a,
                                u->max_pos == 0 ? ", it takes none" : "", where);
            continue;
        }
        if (!(op = find_opt(u->opts, a)))
            return unknown_option(where, u, a);
        if (op->type == CLI_T_FLAG)
            continue;
        if (i + 1 >= o->argc)
            return cli_fail(CMK_EINVAL, "%s: %s needs a value (%s)", where, a, op->meta);
        if (strncmp(o->argv[i + 1], "--", 2) == 0 && o->argv[i + 1][2] && op->type != CLI_T_STR)
            return cli_fail(CMK_EINVAL, "%s: %s needs a value (%s), not the option %s", where, a, op->meta,
                            o->argv[i + 1]);
        if ((rc = check_value(where, op, o->argv[i + 1])) != 0)
            return rc;
        if (!(op->flags & CLI_O_REPEAT))
            for (int j = i + 2; j < o->argc; j++)
                if (strcmp(o->argv[j], a) == 0)
                    return cli_fail(CMK_EINVAL, "%s: %s is given twice; give it once", where, a);
        i++;
    }
    if (npos < u->min_pos)
        return cli_fail(CMK_EINVAL, "cmkctl %s needs %s (usage: cmkctl %s%s%s; `cmkctl %s --help`)", where, u->args, where,
                        u->args[0] ? " " : "", u->args, where);
    for (const cli_option *op = u->opts; op->name; op++)
        if ((op->flags & CLI_O_REQUIRED) && !cli_flag(o, op->name))
            return cli_fail(CMK_EINVAL, "cmkctl %s needs %s %s (`cmkctl %s --help`)", where, op->name, op->meta ? op->meta : "", where);
    active = u;
    return -1;
}

/* cli_is_flag - options that take no value: from the active table */
int cli_is_flag(const char *arg)
{
    const cli_option *op = active ? find_opt(active->opts, arg) : NULL;
    return op ? op->type == CLI_T_FLAG : strcmp(arg, "--help") == 0 || strcmp(arg, "--yes") == 0;
}

/* cli_opt_int - a checked number */
long long cli_opt_int(const cli_opts *o, const char *name, long long def)
{
    const char *v = cli_opt(o, name);
    return v ? strtoll(v, NULL, 10) : def;
}

/* cli_confirm - ask on a terminal, else need --yes */
int cli_confirm(const cli_opts *o, const cli_usage *u)
{
    char line[64], what[512];
    size_t n = (size_t)snprintf(what, sizeof what, "cmkctl %s %s", u->cmd, u->sub ? u->sub : "");
    for (int i = 2; i < o->argc && n < sizeof what; i++)
        n += (size_t)snprintf(what + n, sizeof what - n, " %s", o->argv[i]);
    if (!(u->flags & CLI_S_DESTROYS) || cli_flag(o, "--yes") || find_opt(u->opts, "--yes") == NULL)
        return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return cli_fail(CMK_EINVAL, "`%s` destroys data (%s) and there is no terminal to ask on: run it again with "
                                    "--yes", what, u->summary);
    fprintf(stderr, "%s: %s.\nThis cannot be undone. Type yes to go on: ", what, u->summary);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin) || strcmp(line, "yes\n") != 0)
        return cli_fail(CMK_EINVAL, "not confirmed: nothing was done");
    return 0;
}

/* ---- completion and man page ---- */

/* words_of - "a|b|c" as "a b c" */
static void words_of(const char *allowed, char *buf, size_t cap)
{
    cmk_strlcpy(buf, allowed ? allowed : "", cap);
    for (char *p = buf; *p; p++)
        if (*p == '|')
            *p = ' ';
}

/* value_cases - bash `case $prev` arms completing the values of a table's options */
static void value_cases(FILE *out, const cli_option *opts, const char *indent)
{
    for (const cli_option *op = opts; op->name; op++) {
        char w[256];
        if (op->type == CLI_T_ENUM) {
            words_of(op->allowed, w, sizeof w);
            fprintf(out, "%s%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return;;\n", indent, op->name, w);
        } else if (op->type == CLI_T_FILE)
            fprintf(out, "%s%s) COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n", indent, op->name);
        else if (op->type == CLI_T_DIR)
            fprintf(out, "%s%s) COMPREPLY=($(compgen -d -- \"$cur\")); return;;\n", indent, op->name);
        else if (op->type != CLI_T_FLAG)
            fprintf(out, "%s%s) return;;\n", indent, op->name);
    }
}

/* cmd_completion - `cmkctl completion bash` */
int cmd_completion(cli_opts *o)
{
    FILE *out = stdout;
    const cli_cmd *c;
    fprintf(out, "# bash completion for cmkctl %s (generated by `cmkctl completion bash`)\n"
                 "# use: source <(cmkctl completion bash)\n"
                 "_cmkctl() {\n"
                 "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                 "    local cmd= sub= i w opts=\n"
                 "    local globals=\"",
            CMK_VERSION);
    for (const cli_option *op = cli_global_options(); op->name; op++)
        fprintf(out, "%s%s", op == cli_global_options() ? "" : " ", op->name);
    fprintf(out, "\"\n    for ((i = 1; i < COMP_CWORD; i++)); do\n        w=${COMP_WORDS[i]}\n        case $w in\n");
    fprintf(out, "        ");
    for (const cli_option *op = cli_global_options(); op->name; op++)
        if (op->type != CLI_T_FLAG)
            fprintf(out, "%s|", op->name);
    fprintf(out, "--) ((i++)); continue;;\n        -*) continue;;\n        esac\n"
                 "        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; break; fi\n    done\n"
                 "    case $prev in\n");
    value_cases(out, cli_global_options(), "    ");
    fprintf(out, "    esac\n    if [[ -z $cmd ]]; then\n        COMPREPLY=($(compgen -W \"");
    for (c = cli_commands(); c->name; c++)
        fprintf(out, "%s%s", c == cli_commands() ? "" : " ", c->name);
    fprintf(out, " $globals\" -- \"$cur\"))\n        return\n    fi\n    case \"$cmd $sub\" in\n");
    for (c = cli_commands(); c->name; c++) {
        if (has_subs(c->name)) {
            fprintf(out, "    \"%s \")\n        COMPREPLY=($(compgen -W \"", c->name);
            for (const cli_usage *u = cli_usages(); u->cmd; u++)
                if (strcmp(u->cmd, c->name) == 0 && u->sub)
                    fprintf(out, "%s ", u->sub);
            fprintf(out, "--help\" -- \"$cur\"))\n        return;;\n");
        }
        for (const cli_usage *u = cli_usages(); u->cmd; u++) {
            if (strcmp(u->cmd, c->name) != 0)
                continue;
            if (u->sub)
                fprintf(out, "    \"%s %s\")\n", u->cmd, u->sub);
            else
                fprintf(out, "    \"%s \"*)\n", u->cmd);
            fprintf(out, "        opts=\"");
            for (const cli_option *op = u->opts; op->name; op++)
                fprintf(out, "%s ", op->name);
            fprintf(out, "\"\n        case $prev in\n");
            value_cases(out, u->opts, "        ");
            fprintf(out, "        esac;;\n");
        }
    }
    fprintf(out, "    esac\n"
                 "    if [[ $cur == -* || -n $opts ]]; then\n"
                 "        COMPREPLY=($(compgen -W \"$opts $globals\" -- \"$cur\"))\n"
                 "    fi\n"
                 "    [[ ${#COMPREPLY[@]} -gt 0 ]] || COMPREPLY=($(compgen -f -- \"$cur\"))\n"
                 "}\n"
                 "complete -F _cmkctl cmkctl\n");
    return 0;
}

/* roff - text with roff's special characters escaped */
static void roff(FILE *out, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
        bol = *s == '\n';
    }
}

/* man_option - one option as .TP */
static void man_option(FILE *out, const cli_option *op)
{
    fputs(".TP\n\\fB", out);
    roff(out, op->name);
    fputs("\\fR", out);
    if (op->meta) {
        fputs(" \\fI", out);
        roff(out, op->meta);
        fputs("\\fR", out);
    }
    fputc('\n', out);
    roff(out, op->help);
    if (op->type == CLI_T_ENUM && op->allowed) {
        fputs("; one of ", out);
        roff(out, op->allowed);
    }
    if (op->type == CLI_T_INT && op->allowed) {
        fputs("; ", out);
        roff(out, op->allowed);
    }
    if (op->def) {
        fputs(" (default ", out);
        roff(out, op->def);
        fputc(')', out);
    }
    if (op->flags & CLI_O_REQUIRED)
        fputs(" (required)", out);
    if (op->flags & CLI_O_REPEAT)
        fputs(" (repeatable)", out);
    fputc('\n', out);
}

/* cmd_man - the man page cmkctl(1) */
int cmd_man(cli_opts *o)
{
    FILE *out = stdout;
    char date[16] = "2026";
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    fprintf(out, ".\\\" cmkctl(1), generated by `cmkctl man` from cli/cli_spec.c: do not edit\n"
                 ".TH CMKCTL 1 \"%s\" \"cmksim %s\" \"cmksim\"\n"
                 ".SH NAME\ncmkctl \\- the admin's tool for a cmksim cluster\n"
                 ".SH SYNOPSIS\n\\fBcmkctl\\fR [\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIarguments\\fR]\n"
                 ".SH DESCRIPTION\n"
                 "cmkctl starts, stops and drives a cmksim cluster: a simulator of the dedicated\n"
                 "customer\\-managed\\-key infrastructure of Power Platform. Every admin\\-center action and\n"
                 "PowerShell cmdlet has a command. Output is human tables by default and JSON with \\fB\\-\\-json\\fR.\n"
                 "Unknown options, missing values and malformed numbers, durations and choices are refused\n"
                 "before anything is sent.\n"
                 ".SH GLOBAL OPTIONS\n",
            date, CMK_VERSION);
    for (const cli_option *op = cli_global_options(); op->name; op++)
        man_option(out, op);
    fputs(".SH COMMANDS\n", out);
    for (const cli_cmd *c = cli_commands(); c->name; c++) {
        fputs(".SS ", out);
        roff(out, c->name);
        fputc('\n', out);
        roff(out, c->summary);
        fputc('\n', out);
        for (const cli_usage *u = cli_usages(); u->cmd; u++) {
            char syn[1024];
            if (strcmp(u->cmd, c->name) != 0)
                continue;
            synopsis(u, syn, sizeof syn);
            fputs(".PP\n\\fB", out);
            roff(out, syn);
            fputs("\\fR\n.RS\n", out);
            roff(out, u->summary);
            fputs(u->flags & CLI_S_DESTROYS ? ". Destroys data: asks on a terminal, else needs \\-\\-yes.\n" : ".\n",
                  out);
            for (const cli_option *op = u->opts; op->name; op++)
                man_option(out, op);
            fputs(".RE\n", out);
        }
        if (c->notes) {
            fputs(".PP\n.nf\n", out);
            roff(out, c->notes);
            fputs(".fi\n", out);
        }
    }
    fputs(".SH EXIT STATUS\n"
          ".TP\n0\nsuccess\n"
          ".TP\n1\nrefused by the cluster (no such object, exists, not allowed, wrong state, limit, busy), or a\n"
          "check that failed (audit verify, ping, scenario, drill, policy operation)\n"
          ".TP\n2\nbad input: unknown command or option, missing or malformed value, bad body\n"
          ".TP\n3\nno answer: no cluster is running in the run directory, or no answer in time\n"
          ".TP\n4\na file, socket or internal error\n"
          ".TP\n5\nthe flow run ran and ended Failed, Cancelled or TimedOut\n"
          ".SH ENVIRONMENT\n.TP\nCMK_RUN_DIR\nthe run directory when \\fB\\-\\-run\\-dir\\fR is not given (default ./var)\n"
          ".SH FILES\n.TP\n\\fIRUN\\fR/controller.pid, \\fIRUN\\fR/controller.lock\n"
          "the running controller; cmkctl uses them to tell a stopped cluster from a slow one\n"
          ".TP\n\\fIRUN\\fR/keys/admin.key\nthe admin's CURVE key\n"
          ".SH SEE ALSO\ncmk\\-bench(1), cmk\\-firewall(1), README.md, docs/PROTOCOL.md\n",
          out);
    return 0;
}
