/*
 * fw_cli.c - cmk-firewall's tool subcommands (see fw_cli.h): argument parsing, help, and the
 * glue from files to the fw_* modules and fw_report's output. Nothing here exits the process.
 */
#include "fw_cli.h"
#include "suggest.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fw_check.h"
#include "fw_config.h"
#include "fw_engine.h"
#include "fw_lint.h"
#include "fw_nft.h"
#include "fw_report.h"
#include "fw_servicetags.h"

#define CLI_MAX_OPTS 16 /* options one command line may carry */
#define CLI_MAX_POS 4   /* positional arguments one command line may carry */
#define EXIT_BAD 2      /* bad input: arguments, files, configs */

/* A parsed command line. */
typedef struct {
    const char *key[CLI_MAX_OPTS]; /* option names ("--config") */
    const char *val[CLI_MAX_OPTS]; /* their values ("" for flags) */
    int n;                         /* options given */
    const char *pos[CLI_MAX_POS];  /* positional arguments */
    int npos;                      /* positional arguments given */
} cli_args;

/* One subcommand. */
typedef struct {
    const char *name;               /* "check" */
    const char *const *value_opts;  /* options that take a value */
    const char *const *flag_opts;   /* options that do not */
    int max_pos;                    /* positional arguments allowed */
    int (*run)(const cli_args *a, FILE *out, FILE *err); /* the command */
    const char *help;               /* --help text */
} cli_cmd;

/* get - an option's value, NULL if not given */
static const char *get(const cli_args *a, const char *key)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->key[i], key) == 0)
            return a->val[i];
    return NULL;
}

/* fail - print "cmk-firewall <cmd>: msg" and return EXIT_BAD */
static int fail(FILE *err, const char *cmd, const char *msg)
{
    fprintf(err, "cmk-firewall %s: %s\n", cmd, msg);
    return EXIT_BAD;
}

/* need - a required option, or a message naming it */
static const char *need(const cli_args *a, const char *key, const char *meta, const char *cmd,
                        FILE *err)
{
    const char *v = get(a, key);
    if (!v)
        fprintf(err, "cmk-firewall %s: missing %s %s (see cmk-firewall %s --help)\n", cmd, key,
                meta, cmd);
    return v;
}

/* parse_port_opt - --port value, default 443; 0 on a bad value */
static unsigned parse_port_opt(const cli_args *a, const char *cmd, FILE *err)
{
    const char *v = get(a, "--port");
    char *end;
    unsigned long p;
    if (!v)
        return 443;
    p = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || p < 1 || p > 65535) {
        fprintf(err, "cmk-firewall %s: --port \"%s\" is not a TCP port (1..65535)\n", cmd, v);
        return 0;
    }
    return (unsigned)p;
}

/* print_json - print and free a JSON tree; EXIT_BAD when it is NULL */
static int print_json(FILE *out, FILE *err, const char *cmd, cJSON *j)
{
    char *s = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return fail(err, cmd, "out of memory formatting JSON");
    fprintf(out, "%s\n", s);
    free(s);
    return 0;
}

/* load_tags - load --service-tags (or another option) if given; false on failure */
static bool load_tags(const cli_args *a, const char *key, const char *cmd, FILE *err,
                      fw_servicetags **st)
{
    cmk_err e = CMK_ERR_INIT;
    const char *path = get(a, key);
    *st = NULL;
    if (!path)
        return true;
    if (!(*st = fw_servicetags_load(path, &e)))
        fail(err, cmd, e.msg);
    return *st != NULL;
}

/* cmd_check - coverage of a tag by a firewall */
static int cmd_check(const cli_args *a, FILE *out, FILE *err)
{
    const char *tags_path = need(a, "--service-tags", "FILE", "check", err);
    const char *cfg_path = tags_path ? need(a, "--config", "FW", "check", err) : NULL;
    const char *tag = cfg_path ? need(a, "--tag", "TAG", "check", err) : NULL;
    fw_servicetags *tags = NULL, *built = NULL;
    fw_config *cfg = NULL;
    fw_check *chk = NULL;
    cmk_err e = CMK_ERR_INIT;
    unsigned port;
    int rc = EXIT_BAD;

    if (!tag || !(port = parse_port_opt(a, "check", err)))
        return EXIT_BAD;
    if (!load_tags(a, "--service-tags", "check", err, &tags) ||
        !load_tags(a, "--built-with", "check", err, &built))
        goto out;
    if (!(cfg = fw_config_load(cfg_path, built ? built : tags, 0, &e)) ||
        fw_check_coverage(tags, cfg, tag, get(a, "--region"), (uint16_t)port, &chk, &e) < 0) {
        fail(err, "check", e.msg);
        goto out;
    }
    if (get(a, "--json")) {
        if (print_json(out, err, "check", fw_report_check_json(chk, tags, cfg)) != 0)
            goto out;
    } else {
        fw_report_check_text(out, chk, tags, cfg, get(a, "--verbose") != NULL);
    }
    rc = fw_check_ok(chk) ? 0 : 1;
out:
    fw_check_destroy(&chk);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&built);
    fw_servicetags_destroy(&tags);
    return rc;
}

/* cmd_diff - changes between two service-tags files */
static int cmd_diff(const cli_args *a, FILE *out, FILE *err)
{
    fw_servicetags *o = NULL, *n = NULL;
    fw_stdiff *d = NULL;
    cmk_err e = CMK_ERR_INIT;
    const char *filter = get(a, "--tag");
    int rc = EXIT_BAD;

    if (a->npos != 2)
        return fail(err, "diff", "give two service-tags files: OLD NEW (see cmk-firewall diff "
                    "--help)");
    if (!(o = fw_servicetags_load(a->pos[0], &e)) || !(n = fw_servicetags_load(a->pos[1], &e)) ||
        fw_servicetags_diff(o, n, filter, &d, &e) < 0) {
        fail(err, "diff", e.msg);
        goto out;
    }
    if (get(a, "--json")) {
        if (print_json(out, err, "diff", fw_report_diff_json(d, o, n, filter)) != 0)
            goto out;
    } else {
        fw_report_diff_text(out, d, o, n, filter);
    }
    rc = fw_stdiff_count(d) ? 1 : 0;
out:
    fw_stdiff_destroy(&d);
    fw_servicetags_destroy(&o);
    fw_servicetags_destroy(&n);
    return rc;
}

/* cmd_render - the nftables ruleset of a config */
static int cmd_render(const cli_args *a, FILE *out, FILE *err)
{
    const char *cfg_path = need(a, "--config", "FW", "render", err);
    fw_servicetags *tags = NULL;
    fw_config *cfg = NULL;
    fw_nft_opts opts;
    cmk_err e = CMK_ERR_INIT;
    char *text = NULL;
    int rc = EXIT_BAD;

    if (!cfg_path || !load_tags(a, "--service-tags", "render", err, &tags))
        goto out;
    fw_nft_opts_default(&opts);
    if (get(a, "--table"))
        opts.table = get(a, "--table");
    if (get(a, "--hook"))
        opts.hook = get(a, "--hook");
    if (!(cfg = fw_config_load(cfg_path, tags, 0, &e)) || fw_nft_render(cfg, &opts, &text, &e) < 0) {
        fail(err, "render", e.msg);
        goto out;
    }
    fputs(text, out);
    if (get(a, "--validate")) {
        if (fw_nft_apply(text, true, &e) < 0) {
            fail(err, "render", e.msg);
            goto out;
        }
        fprintf(err, "cmk-firewall render: nftables accepts the ruleset (dry run, nothing "
                     "applied)\n");
    }
    rc = 0;
out:
    free(text);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&tags);
    return rc;
}

/* cmd_lint - validate a config and report likely mistakes */
static int cmd_lint(const cli_args *a, FILE *out, FILE *err)
{
    const char *cfg_path = need(a, "--config", "FW", "lint", err);
    fw_servicetags *tags = NULL;
    fw_config *cfg = NULL;
    fw_lint *l = NULL;
    cmk_err e = CMK_ERR_INIT;
    int rc = EXIT_BAD;

    if (!cfg_path || !load_tags(a, "--service-tags", "lint", err, &tags))
        goto out;
    if (!(cfg = fw_config_load(cfg_path, tags, FW_CONFIG_UNRESOLVED_OK, &e)) ||
        fw_lint_config(cfg, &l, &e) < 0) {
        if (get(a, "--json")) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddBoolToObject(j, "valid", 0);
            cJSON_AddStringToObject(j, "error", e.msg);
            print_json(out, err, "lint", j);
        }
        fail(err, "lint", e.msg);
        goto out;
    }
    if (get(a, "--json")) {
        if (print_json(out, err, "lint", fw_report_lint_json(l, cfg)) != 0)
            goto out;
    } else {
        fw_report_lint_text(out, l, cfg);
    }
    rc = get(a, "--strict") && fw_lint_warnings(l) > 0 ? 1 : 0;
out:
    fw_lint_destroy(&l);
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&tags);
    return rc;
}

/* cmd_decide - the engine's verdict for one connection */
static int cmd_decide(const cli_args *a, FILE *out, FILE *err)
{
    const char *cfg_path = need(a, "--config", "FW", "decide", err);
    const char *src = cfg_path ? need(a, "--source", "ADDR", "decide", err) : NULL;
    fw_servicetags *tags = NULL;
    fw_config *cfg = NULL;
    fw_decision d;
    cmk_err e = CMK_ERR_INIT;
    unsigned port;
    int rc = EXIT_BAD;

    if (!src || !(port = parse_port_opt(a, "decide", err)) ||
        !load_tags(a, "--service-tags", "decide", err, &tags))
        goto out;
    if (!(cfg = fw_config_load(cfg_path, tags, 0, &e)) ||
        fw_engine_decide_text(cfg, src, (uint16_t)port, &d, &e) < 0) {
        fail(err, "decide", e.msg);
        goto out;
    }
    if (get(a, "--json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "source", src);
        cJSON_AddNumberToObject(j, "port", port);
        cJSON_AddStringToObject(j, "mode", fw_mode_name(fw_config_mode(cfg)));
        cJSON_AddStringToObject(j, "verdict", fw_action_name(d.verdict));
        cJSON_AddStringToObject(j, "label", fw_decision_label(&d));
        if (d.rule_index >= 0)
            cJSON_AddNumberToObject(j, "rule", d.rule_index + 1);
        else
            cJSON_AddNullToObject(j, "rule");
        cJSON_AddStringToObject(j, "rule_name", d.rule_name);
        if (print_json(out, err, "decide", j) != 0)
            goto out;
    } else if (d.rule_index >= 0) {
        fprintf(out, "%s -> TCP %u: %s by rule %d \"%s\" (mode %s)\n", src, port,
                fw_decision_label(&d), d.rule_index + 1, d.rule_name,
                fw_mode_name(fw_config_mode(cfg)));
    } else {
        fprintf(out, "%s -> TCP %u: %s by the default (mode %s)\n", src, port,
                fw_decision_label(&d), fw_mode_name(fw_config_mode(cfg)));
    }
    rc = d.verdict == FW_ALLOW ? 0 : 1;
out:
    fw_config_destroy(&cfg);
    fw_servicetags_destroy(&tags);
    return rc;
}

/* entry_json - one service-tag entry, with prefixes when full */
static cJSON *entry_json(const fw_servicetag *t, bool full)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "region", t->region);
    cJSON_AddNumberToObject(o, "change_number", (double)t->change_number);
    cJSON_AddNumberToObject(o, "prefix_count", (double)t->n_prefixes);
    if (full)
        cJSON_AddItemToObject(o, "prefixes", fw_report_prefixes_json(t->prefixes, t->n_prefixes));
    return o;
}

/* cmd_tags - what a service-tags file holds */
static int cmd_tags(const cli_args *a, FILE *out, FILE *err)
{
    const char *tag = get(a, "--tag");
    bool json = get(a, "--json") != NULL;
    fw_servicetags *st = NULL;
    const fw_servicetag *t = NULL, **regs = NULL;
    size_t nregs = 0;
    cmk_err e = CMK_ERR_INIT;
    cJSON *j = NULL, *arr = NULL;
    char p[FW_PREFIX_STRLEN];
    int rc = EXIT_BAD;

    if (!need(a, "--service-tags", "FILE", "tags", err) ||
        !load_tags(a, "--service-tags", "tags", err, &st))
        goto out;
    if (tag && fw_servicetags_lookup(st, tag, get(a, "--region"), &t, &e) < 0) {
        fail(err, "tags", e.msg);
        goto out;
    }
    if (t && fw_servicetags_regions(st, t->name, &regs, &nregs) < 0) {
        fail(err, "tags", "out of memory");
        goto out;
    }
    if (json) {
        j = t ? entry_json(t, true) : cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", fw_servicetags_origin(st));
        cJSON_AddStringToObject(j, "cloud", fw_servicetags_cloud(st));
        cJSON_AddNumberToObject(j, "file_change_number", (double)fw_servicetags_change_number(st));
        arr = cJSON_AddArrayToObject(j, t ? "regions" : "entries");
    } else {
        fprintf(out, "%s: cloud %s, changeNumber %ld, %zu entries\n", fw_servicetags_origin(st),
                fw_servicetags_cloud(st), fw_servicetags_change_number(st),
                fw_servicetags_count(st));
    }
    if (t) {
        if (!json) {
            fprintf(out, "%s: region \"%s\", changeNumber %ld, %zu prefixes\n", t->name,
                    t->region, t->change_number, t->n_prefixes);
            for (size_t i = 0; i < t->n_prefixes; i++)
                fprintf(out, "  %s\n", fw_prefix_format(&t->prefixes[i], p, sizeof p));
            if (nregs)
                fprintf(out, "regional entries (%zu):\n", nregs);
        }
        for (size_t i = 0; i < nregs; i++) {
            if (json)
                cJSON_AddItemToArray(arr, entry_json(regs[i], false));
            else
                fprintf(out, "  %-40s %-20s %5zu prefixes\n", regs[i]->name, regs[i]->region,
                        regs[i]->n_prefixes);
        }
    } else {
        for (size_t i = 0; i < fw_servicetags_count(st); i++) {
            const fw_servicetag *x = fw_servicetags_at(st, i);
            if (json)
                cJSON_AddItemToArray(arr, entry_json(x, false));
            else if (!*x->suffix)
                fprintf(out, "  %-40s %5zu prefixes\n", x->name, x->n_prefixes);
        }
    }
    if (json && print_json(out, err, "tags", j) != 0) {
        j = NULL;
        goto out;
    }
    j = NULL;
    rc = 0;
out:
    cJSON_Delete(j);
    free(regs);
    fw_servicetags_destroy(&st);
    return rc;
}

static const char *const check_vals[] = { "--service-tags", "--config", "--tag", "--region",
                                          "--port", "--built-with", NULL };
static const char *const check_flags[] = { "--json", "--verbose", NULL };
static const char *const diff_vals[] = { "--tag", NULL };
static const char *const json_flag[] = { "--json", NULL };
static const char *const render_vals[] = { "--config", "--service-tags", "--table", "--hook", NULL };
static const char *const render_flags[] = { "--validate", NULL };
static const char *const lint_vals[] = { "--config", "--service-tags", NULL };
static const char *const lint_flags[] = { "--json", "--strict", NULL };
static const char *const decide_vals[] = { "--config", "--service-tags", "--source", "--port", NULL };
static const char *const tags_vals[] = { "--service-tags", "--tag", "--region", NULL };

static const cli_cmd commands[] = {
    { "check", check_vals, check_flags, 0, cmd_check,
      "usage: cmk-firewall check --service-tags FILE --config FW --tag TAG [--region R]\n"
      "                          [--port P] [--built-with FILE] [--verbose] [--json]\n\n"
      "Does firewall config FW let every address of service tag TAG through on TCP port P\n"
      "(default 443)? Rules are walked in order, as the firewall does: for each prefix of the\n"
      "tag it prints which addresses are refused and by which rule, flags allow rules that an\n"
      "earlier drop/reject shadows, and lists what to add to the allow list. Coverage is\n"
      "address arithmetic: two /25s cover a /24.\n\n"
      "  --region R        the tag's regional entry (TAG.R); or give TAG as \"Tag.Region\"\n"
      "  --built-with FILE resolve the config's service-tag rules against FILE (the file the\n"
      "                    firewall was built from) while checking against --service-tags\n"
      "  --verbose         list covered prefixes too\n"
      "  --json            one JSON object, every prefix with its status and gaps\n\n"
      "After customer-managed keys are applied, HTTP actions of flows leave from\n"
      "PowerPlatformPlex; a firewall allowing only LogicApps, PowerPlatformInfra and\n"
      "AzureConnectors refuses them.\n\n"
      "example:\n"
      "  cmk-firewall check --service-tags configs/service-tags.json \\\n"
      "      --config configs/firewalls/legacy-only.json --tag PowerPlatformPlex --region WestUS\n"
      "  -> NOT COVERED: 127.40.1.0/24 rejected by the default (exit 1);\n"
      "     with configs/firewalls/with-plex.json: COVERED (exit 0)\n\n"
      "exit status: 0 covered, 1 prefixes refused, 2 bad input\n" },
    { "diff", diff_vals, json_flag, 2, cmd_diff,
      "usage: cmk-firewall diff OLD NEW [--tag TAG] [--json]\n\n"
      "Which addresses did each service tag gain or lose between two service-tags files\n"
      "(Microsoft publishes a new one every week)? The comparison is by address, so a prefix\n"
      "split in two is no change. --tag keeps one entry and, for a tag name, its regional\n"
      "entries. A firewall built from OLD refuses whatever was added.\n\n"
      "example:\n"
      "  cmk-firewall diff ServiceTags_Public_20250831.json ServiceTags_Public_20251109.json \\\n"
      "      --tag PowerPlatformPlex.WestUS\n"
      "  -> PowerPlatformPlex.WestUS: changeNumber 5 -> 6, 6 prefixes added, 0 removed\n"
      "       + 48.195.24.64/26 ...\n\n"
      "exit status: 0 no change, 1 changes, 2 bad input\n" },
    { "render", render_vals, render_flags, 0, cmd_render,
      "usage: cmk-firewall render --config FW [--service-tags FILE] [--table NAME]\n"
      "                           [--hook input|output|forward] [--validate]\n\n"
      "Print the nftables ruleset that enforces FW: one table inet (default cmksim_fw) with a\n"
      "named interval set per rule and family, and a chain with the rules in order (allow ->\n"
      "accept, drop -> drop, reject -> TCP reset), then the default. Report mode logs instead\n"
      "of refusing. --service-tags is needed when the config uses service tags. --validate\n"
      "also checks the ruleset with libnftables (dry run: nothing is applied).\n\n"
      "example:\n"
      "  cmk-firewall render --config configs/firewalls/with-plex.json \\\n"
      "      --service-tags configs/service-tags.json > with-plex.nft\n"
      "  unshare -Urn nft -f with-plex.nft     # apply it in a namespace of your own\n\n"
      "exit status: 0 rendered, 2 bad input or ruleset refused\n" },
    { "lint", lint_vals, lint_flags, 0, cmd_lint,
      "usage: cmk-firewall lint --config FW [--service-tags FILE] [--strict] [--json]\n\n"
      "Validate FW (unknown keys, bad CIDRs, ports and actions are errors with their line)\n"
      "and warn about what is valid but probably wrong: CIDRs with host bits set, rules that\n"
      "never match because earlier rules take all their addresses (shadowed), allow rules an\n"
      "earlier drop/reject partly pre-empts (conflict), service tags with no addresses.\n"
      "Without --service-tags, rules from the first service-tag source on are not analysed.\n\n"
      "example:\n"
      "  cmk-firewall lint --config configs/firewalls/with-plex.json \\\n"
      "      --service-tags configs/service-tags.json\n"
      "  -> configs/firewalls/with-plex.json: valid firewall config \"with-plex\": 4 rules, ...\n\n"
      "exit status: 0 valid, 1 warnings (only with --strict), 2 invalid\n" },
    { "decide", decide_vals, json_flag, 0, cmd_decide,
      "usage: cmk-firewall decide --config FW [--service-tags FILE] --source ADDR [--port P]\n"
      "                           [--json]\n\n"
      "What does FW do with a TCP connection from ADDR to port P (default 443)? The first rule\n"
      "whose source and port match decides, else the default; in report mode the connection\n"
      "is allowed and the answer says would_deny or would_reject.\n\n"
      "example:\n"
      "  cmk-firewall decide --config configs/firewalls/legacy-only.json \\\n"
      "      --service-tags configs/service-tags.json --source 127.40.1.9\n"
      "  -> 127.40.1.9 -> TCP 443: reject by the default (mode enforce)\n\n"
      "exit status: 0 allowed, 1 dropped or rejected, 2 bad input\n" },
    { "tags", tags_vals, json_flag, 0, cmd_tags,
      "usage: cmk-firewall tags --service-tags FILE [--tag TAG [--region R]] [--json]\n\n"
      "Show a service-tags file: its global tags; with --tag, the entry's prefixes and its\n"
      "regional entries; with --region, that regional entry.\n\n"
      "example:\n"
      "  cmk-firewall tags --service-tags configs/service-tags.json --tag PowerPlatformPlex\n\n"
      "exit status: 0 shown, 2 bad input or unknown tag\n" },
};

/* find_cmd - a subcommand by name */
static const cli_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; name && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* in_list - whether s is in a NULL-terminated list */
static bool in_list(const char *const *list, const char *s, size_t len)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
            return true;
    return false;
}

/* parse_args - argv[1..] of a subcommand into a; false (message printed) on error */
static bool parse_args(const cli_cmd *c, int argc, char **argv, cli_args *a, bool *help,
                       FILE *err)
{
    bool opts_done = false;
    memset(a, 0, sizeof *a);
    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!opts_done && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
            *help = true;
            return true;
        }
        if (!opts_done && strcmp(s, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (opts_done || strncmp(s, "--", 2) != 0) {
            if (a->npos >= c->max_pos || a->npos >= CLI_MAX_POS) {
                fprintf(err, "cmk-firewall %s: unexpected argument \"%s\" (see cmk-firewall %s "
                        "--help)\n", c->name, s, c->name);
                return false;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t klen = eq ? (size_t)(eq - s) : strlen(s);
        bool takes = in_list(c->value_opts, s, klen);
        if (!takes && !in_list(c->flag_opts, s, klen)) {
            const char *names[64];
            size_t nn = 0;
            for (size_t k = 0; k < 2; k++)
                for (const char *const *l = k ? c->flag_opts : c->value_opts; l && *l && nn < 63; l++)
                    names[nn++] = *l;
            names[nn++] = "--help";
            const char *near = cmk_closest(s, klen, names, nn);
            fprintf(err, "cmk-firewall %s: unknown option %.*s%s%s%s (see cmk-firewall %s --help)\n",
                    c->name, (int)klen, s, near ? "; did you mean " : "", near ? near : "", near ? "?" : "",
                    c->name);
            return false;
        }
        const char *val = "";
        if (takes) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fprintf(err, "cmk-firewall %s: option %s needs a value\n", c->name, s);
                return false;
            }
        } else if (eq) {
            fprintf(err, "cmk-firewall %s: option %.*s takes no value\n", c->name, (int)klen, s);
            return false;
        }
        for (int k = 0; k < a->n; k++)
            if (strlen(a->key[k]) == klen && strncmp(a->key[k], s, klen) == 0) {
                fprintf(err, "cmk-firewall %s: option %.*s given twice\n", c->name, (int)klen, s);
                return false;
            }
        if (a->n >= CLI_MAX_OPTS) {
            fprintf(err, "cmk-firewall %s: too many options\n", c->name);
            return false;
        }
        /* keep the option's name without "=value": point into the command's own list */
        for (size_t k = 0; k < 2; k++) {
            const char *const *list = k ? c->flag_opts : c->value_opts;
            for (size_t m = 0; list && list[m]; m++)
                if (strlen(list[m]) == klen && strncmp(list[m], s, klen) == 0)
                    a->key[a->n] = list[m];
        }
        a->val[a->n++] = val;
    }
    return true;
}

/* fw_cli_usage - overview */
void fw_cli_usage(FILE *out)
{
    fputs("usage: cmk-firewall <command> [options]   (cmk-firewall <command> --help for more)\n\n"
          "  check   does a firewall config allow every address of a service tag?\n"
          "  diff    which addresses service tags gained or lost between two files\n"
          "  render  the nftables ruleset that enforces a firewall config\n"
          "  lint    validate a firewall config; warn about shadowed rules and host bits\n"
          "  decide  what a firewall config does with one connection\n"
          "  tags    what a service-tags file holds\n\n"
          "example: is PowerPlatformPlex (where CMK environments' HTTP actions come from) allowed?\n"
          "  cmk-firewall check --service-tags configs/service-tags.json \\\n"
          "      --config configs/firewalls/legacy-only.json --tag PowerPlatformPlex --region WestUS\n",
          out);
}

/* fw_cli_is_command - known subcommand */
bool fw_cli_is_command(const char *name)
{
    return name && (find_cmd(name) || strcmp(name, "help") == 0);
}

/* fw_cli_run - dispatch */
int fw_cli_run(int argc, char **argv, FILE *out, FILE *errout)
{
    const cli_cmd *c;
    cli_args a;
    bool help;
    int rc;

    if (argc < 1 || !argv[0] || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
        strcmp(argv[0], "help") == 0) {
        if (argc >= 2 && (c = find_cmd(argv[1]))) {
            fputs(c->help, out);
            return 0;
        }
        fw_cli_usage(out);
        return 0;
    }
    if (!(c = find_cmd(argv[0]))) {
        fprintf(errout, "cmk-firewall: unknown command \"%s\"\n\n", argv[0]);
        fw_cli_usage(errout);
        return EXIT_BAD;
    }
    if (!parse_args(c, argc, argv, &a, &help, errout))
        return EXIT_BAD;
    if (help) {
        fputs(c->help, out);
        return 0;
    }
    rc = c->run(&a, out, errout);
    fflush(out);
    return rc;
}

/* fw_cli_main - with the process's streams */
int fw_cli_main(int argc, char **argv)
{
    return fw_cli_run(argc, argv, stdout, stderr);
}
