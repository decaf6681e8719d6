/*
 * cli.h - what every cmkctl command shares: global options, calling the controller, printing
 * tables or JSON, and the command table.
 */
#ifndef CMK_CLI_H
#define CMK_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "proto.h"

#ifndef CMK_VERSION
#define CMK_VERSION "0.1.0" /* set by CMakeLists.txt from project(VERSION) */
#endif

/* Global options and the command's own arguments. */
typedef struct {
    const char *run_dir;     /* --run-dir (or $CMK_RUN_DIR, or ./var) */
    int json;                /* --json: machine-readable output */
    int64_t timeout_ms;      /* --timeout */
    const char *key_path;    /* --curve-key FILE or --as NAME: act as another identity */
    const char *config_path; /* --config FILE (up) */
    cJSON *sets;             /* --set NAME=VALUE (up), array of strings */
    int argc;                /* command words and options: argv[0] is the command */
    char **argv;
} cli_opts;

/* cli_cmd_fn - run a command; returns the process exit status */
typedef int (*cli_cmd_fn)(cli_opts *o);

/* One command. */
typedef struct {
    const char *name;        /* "up", "status", "scenario" */
    cli_cmd_fn fn;           /* what runs it */
    const char *args;        /* its arguments, for --help */
    const char *summary;     /* one line for --help */
    const char *default_sub; /* the subcommand run when none is given, or NULL */
    const char *notes;       /* more text for `cmkctl CMD --help` (rules, examples), or NULL */
} cli_cmd;

/* What an option's value is: checked strictly before a command runs. */
typedef enum {
    CLI_T_FLAG = 0, /* no value */
    CLI_T_STR,      /* any text */
    CLI_T_INT,      /* a whole number; `allowed` may give "MIN..MAX" */
    CLI_T_DUR,      /* a duration: 500ms, 15s, 5m, 72h, 7d */
    CLI_T_ENUM,     /* one of `allowed`, "a|b|c" */
    CLI_T_FILE,     /* a file name (completion offers files) */
    CLI_T_DIR,      /* a directory name */
} cli_type;

#define CLI_O_REQUIRED 1u /* the command needs it */
#define CLI_O_REPEAT 2u   /* may be given more than once */

/* One option of a command: one row of its table. */
typedef struct {
    const char *name;    /* "--size" */
    const char *meta;    /* "BITS" (NULL for a flag) */
    cli_type type;       /* what the value is */
    const char *allowed; /* CLI_T_ENUM: "2048|3072|4096"; CLI_T_INT: "7..90"; else NULL */
    const char *def;     /* the default, for --help, or NULL */
    const char *help;    /* one line */
    unsigned flags;      /* CLI_O_* */
} cli_option;

#define CLI_S_DESTROYS 1u /* asks on a terminal, else needs --yes */

/* One subcommand (or a command without subcommands, sub NULL) and its option table. */
typedef struct {
    const char *cmd;         /* "key" */
    const char *sub;         /* "create", or NULL */
    const char *args;        /* positional arguments for the synopsis: "VAULT NAME" */
    int min_pos, max_pos;    /* how many positional arguments (max -1: any number) */
    unsigned flags;          /* CLI_S_* */
    const char *summary;     /* one line */
    const cli_option *opts;  /* its options, ended by {NULL} */
} cli_usage;

/* the tables (cli_spec.c) */
const cli_cmd *cli_commands(void);
const cli_usage *cli_usages(void);
const cli_option *cli_global_options(void);

/* Exit statuses a script can use (also `cmkctl --help` and the README). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_REFUSED 1 /* the cluster refused, or a check failed (audit verify, scenario) */
#define CLI_EXIT_USAGE 2   /* bad input: unknown command or option, missing or malformed value */
#define CLI_EXIT_NOANSWER 3 /* no cluster running, or no answer in time */
#define CLI_EXIT_IO 4      /* a file, socket or internal error */
#define CLI_EXIT_RUN_FAILED 5 /* the flow run ran and ended Failed, Cancelled or TimedOut */

/* cli_call - one request to the controller; on failure prints the error and returns its exit
 * status (> 0); 0 and *reply on success (reply may be NULL if not wanted) */
int cli_call(cli_opts *o, const char *type, const cJSON *body, cmk_msg **reply);

/* cli_print_written - "wrote PATH ..." (text) or {"written": PATH} (--json) after writing a file */
void cli_print_written(const cli_opts *o, const char *path, const char *text);

/* cli_print_json - pretty JSON on stdout */
void cli_print_json(const cJSON *json);

/* cli_fail - print "cmkctl: <message>" to stderr and return the exit status of code */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_opt - the value of a command option (--name VALUE) in o->argv, or NULL */
const char *cli_opt(const cli_opts *o, const char *name);

/* cli_flag - 1 if a flag (--name) is in o->argv */
int cli_flag(const cli_opts *o, const char *name);

/* A text table: header, rows of strings, printed with aligned columns. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(int ncols, const char *const *headers);
void cli_table_add(cli_table *t, const char *const *cells);
void cli_table_print(const cli_table *t);
void cli_table_destroy(cli_table **t_p);

/* cli_fmt_age - ms to "1h2m", "350ms", "-" for negative */
char *cli_fmt_age(int64_t ms, char *buf, size_t cap);

/* cli_print_items - an array of objects as a table of the given fields (NULL-terminated) */
void cli_print_items(const cJSON *items, const char *const *fields, const char *const *headers);

/* cli_path - a member of obj by dotted path ("attributes.exp"), or NULL */
const cJSON *cli_path(const cJSON *obj, const char *path);

/* cli_print_object - one object as "key: value" lines */
void cli_print_object(const cJSON *obj);

/* cli_request - call `type` with body (owned, freed here) and print the reply: JSON with
 * --json, else `show(reply body)`; returns the exit status */
int cli_request(cli_opts *o, const char *type, cJSON *body, void (*show)(const cJSON *reply));

/* cli_positional - the i-th argument after the command words that is not an option */
const char *cli_positional(const cli_opts *o, int skip, int i);

/* A captured run of a cmkctl command (scenarios and drills). */
typedef struct {
    int status;   /* exit status */
    char *out;    /* stdout (malloc'd) */
    char *err;    /* stderr (malloc'd) */
} step_result;

/* cli_run_self - run this cmkctl with cmd (a JSON array of words) and --run-dir, capturing output */
int cli_run_self(const cli_opts *o, const cJSON *cmd, step_result *r);

/* cli_check_expect - does r meet {exit, stdout_contains, stderr_contains}; why not into why */
int cli_check_expect(const cJSON *expect, const step_result *r, char *why, size_t cap);

/* cli_write_step - {path, content} written (mode 0600), {run} replaced */
int cli_write_step(const cli_opts *o, const cJSON *w, char *why, size_t cap);

/* cli_subst_run - {run} in an argument replaced by the run dir */
const char *cli_subst_run(const cli_opts *o, const char *arg);

/* cli_cmd_text - "cmkctl word word" for display; cli_print_indented - output indented */
void cli_cmd_text(const cJSON *cmd, char *buf, size_t cap);
void cli_print_indented(FILE *f, const char *text);

/* commands (cmd_*.c) */
int cmd_tenant(cli_opts *o);
int cmd_env(cli_opts *o);
int cmd_clock(cli_opts *o);
int cmd_vault(cli_opts *o);
int cmd_key(cli_opts *o);
int cmd_audit(cli_opts *o);
int cmd_flow(cli_opts *o);
int cmd_flows(cli_opts *o);
int cmd_app(cli_opts *o);
int cmd_firewall(cli_opts *o);
int cmd_metrics(cli_opts *o);
int cmd_drill(cli_opts *o);
int cmd_tenant_key(cli_opts *o);
int cmd_tenant_byok(cli_opts *o);
int cmd_env_byok(cli_opts *o);
int cmd_envops(cli_opts *o);
int cmd_machine_group(cli_opts *o);
int cmd_run(cli_opts *o);
int cmd_conn(cli_opts *o);
int cmd_policy(cli_opts *o);
int cmd_support(cli_opts *o);

/* cli_parse_command - check o->argv (command words and options, global options already taken
 * out) against the command's table: unknown options, missing or malformed values, positional
 * counts; handles --help. Returns -1 to go on and run the command, else an exit status. */
int cli_parse_command(cli_opts *o, const cli_cmd *cmd, int help);

/* cli_usage_of - the table row of cmd and sub (sub NULL: the command's own), or NULL */
const cli_usage *cli_usage_of(const char *cmd, const char *sub);

/* cli_closest - the candidate nearest to word by edit distance, or NULL if none is close */
const char *cli_closest(const char *word, const char *const *candidates, size_t n);

/* cli_print_help / cli_print_command_help - generated from the tables */
void cli_print_help(FILE *out);
int cli_print_command_help(FILE *out, const cli_cmd *cmd);
void cli_print_usage_help(FILE *out, const cli_usage *u);

/* cli_confirm - for a command that destroys: 0 to go on (--yes, or "yes" typed on a terminal),
 * else an exit status after saying why */
int cli_confirm(const cli_opts *o, const cli_usage *u);

/* cli_set_json_errors - errors as {"error": {"code", "message"}} (under --json) */
void cli_set_json_errors(int on);

/* cli_opt_int - an option's value as a number (checked already by the table), or def */
long long cli_opt_int(const cli_opts *o, const char *name, long long def);

/* cli_cluster_stopped - 1 if no controller runs in run_dir (no live pid, lock free): says
 * so at once instead of waiting for an answer */
int cli_cluster_stopped(const char *run_dir);

/* cli_clean_stale - after the controller has gone: remove sockets nobody listens on and the
 * free lock file of run_dir */
void cli_clean_stale(const char *run_dir);

int cmd_completion(cli_opts *o);
int cmd_man(cli_opts *o);

/* cli_is_flag - 1 for options that take no value (--managed, --deleted, ...) */
int cli_is_flag(const char *arg);

/* cli_read_file - a whole file (for --file, --password-file); prints the error itself */
int cli_read_file(const char *path, char **out, size_t *len);
int cmd_up(cli_opts *o);
int cmd_down(cli_opts *o);
int cmd_status(cli_opts *o);
int cmd_ping(cli_opts *o);
int cmd_scenario(cli_opts *o);
int cmd_curve_keygen(cli_opts *o);
int cmd_identity(cli_opts *o);
int cmd_call(cli_opts *o);
int cmd_protocol(cli_opts *o);

/* cli_main - parse global options and run a command */
int cli_main(int argc, char **argv);

#endif
