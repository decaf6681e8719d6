/*
 * fw_nft.c - render a firewall config to nftables and apply it with libnftables.
 */
#include "fw_nft.h"

#include <ctype.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFT_NAME_MAX 32 /* longest table name accepted */

/* fw_nft_opts_default - defaults */
void fw_nft_opts_default(fw_nft_opts *opts)
{
    opts->table = "cmksim_fw";
    opts->hook = "input";
    opts->priority = 0;
    opts->stateful = true;
    opts->replace = true;
}

/* valid_name - a table name nft accepts unquoted */
static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > NFT_NAME_MAX || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* put_clean - write s with control characters replaced, for comment lines */
static void put_clean(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* render_set - one named interval set of a rule's sources of one family: 1 if rendered, 0 if
 * the rule has no address of that family, CMK_ENOMEM */
static int render_set(FILE *f, const fw_rule *r, size_t k, int family)
{
    fw_prefix *ps = NULL;
    size_t n = 0;
    char buf[FW_PREFIX_STRLEN];
    if (r->any_source)
        return 0;
    if (fw_cidrset_prefixes(r->set, family, &ps, &n) < 0)
        return CMK_ENOMEM;
    if (n == 0)
        return 0;
    fprintf(f, "\tset r%zu_%s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = {", k + 1,
            family == FW_V4 ? "v4" : "v6", family == FW_V4 ? "ipv4_addr" : "ipv6_addr");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s%s", i ? "," : "", i % 4 ? " " : "\n\t\t\t",
                fw_prefix_format(&ps[i], buf, sizeof buf));
    fprintf(f, "\n\t\t}\n\t}\n\n");
    free(ps);
    return 1;
}

/* render_ports - "tcp dport 443" / "tcp dport { 80, 8000-8100 }", malloc'd; "" for any port */
static char *render_ports(const fw_rule *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    if (!r || r->any_port)
        return strdup("");
    if (!(f = open_memstream(&text, &len)))
        return NULL;
    fputs("tcp dport ", f);
    if (r->n_ports > 1)
        fputs("{ ", f);
    for (size_t i = 0; i < r->n_ports; i++) {
        fprintf(f, "%s%u", i ? ", " : "", r->ports[i].lo);
        if (r->ports[i].hi != r->ports[i].lo)
            fprintf(f, "-%u", r->ports[i].hi);
    }
    if (r->n_ports > 1)
        fputs(" }", f);
    fclose(f);
    return text;
}

/* put_line - one rule line: the match words (either may be "") then the statement */
static void put_line(FILE *f, const char *saddr, const char *ports, const char *stmt,
                     const char *comment)
{
    fprintf(f, "\t\t%s%s%s%s%s comment \"%s\"\n", saddr, *saddr ? " " : "", ports,
            *ports ? " " : "", stmt, comment);
}

/* render_verdict - the line(s) for one action; saddr ("ip saddr @r1_v4" or "") and the
 * rule's ports (r NULL for the default) select the packets. CMK_ENOMEM if out of memory. */
static int render_verdict(FILE *f, const char *saddr, const fw_rule *r, fw_action action,
                           bool report, const char *who, const char *comment)
{
    char stmt[128];
    char *owned = render_ports(r);
    const char *ports = owned;
    if (!owned)
        return CMK_ENOMEM;
    if (report && action != FW_ALLOW) {
        snprintf(stmt, sizeof stmt, "counter log prefix \"cmksim_fw %s %s \" accept",
                 action == FW_DROP ? "would_deny" : "would_reject", who);
        put_line(f, saddr, ports, stmt, comment);
    } else if (action == FW_REJECT && !*ports) {
        /* TCP gets a reset (connection refused); anything else an ICMP error */
        put_line(f, saddr, "meta l4proto tcp", "counter reject with tcp reset", comment);
        put_line(f, saddr, "", "counter reject", comment);
    } else {
        put_line(f, saddr, ports,
                 action == FW_ALLOW  ? "counter accept"
                 : action == FW_DROP ? "counter drop"
                                     : "counter reject with tcp reset",
                 comment);
    }
    free(owned);
    return 0;
}

/* fw_nft_render - the ruleset text */
int fw_nft_render(const fw_config *cfg, const fw_nft_opts *opts, char **out, cmk_err *err)
{
    fw_nft_opts def;
    size_t nr = fw_config_rule_count(cfg), len = 0;
    bool report = fw_config_mode(cfg) == FW_MODE_REPORT;
    fw_action dflt = fw_config_default(cfg);
    bool *has4, *has6, oom = false;
    char *text = NULL;
    FILE *f;

    *out = NULL;
    if (!opts) {
        fw_nft_opts_default(&def);
        opts = &def;
    }
    if (!valid_name(opts->table))
        return cmk_err_set(err, CMK_EINVAL, "table name \"%s\" is not usable: 1-%d letters, "
                           "digits or '_', starting with a letter", opts->table ? opts->table : "",
                           NFT_NAME_MAX);
    if (!opts->hook || (strcmp(opts->hook, "input") && strcmp(opts->hook, "output") &&
                        strcmp(opts->hook, "forward")))
        return cmk_err_set(err, CMK_EINVAL, "chain hook must be input, output or forward");
    if (!fw_config_resolved(cfg))
        return cmk_err_set(err, CMK_ESTATE, "firewall config %s has unresolved service-tag "
                           "sources; load it with a service-tags file before rendering",
                           fw_config_origin(cfg));
    has4 = calloc(nr + 1, sizeof *has4);
    has6 = calloc(nr + 1, sizeof *has6);
    f = has4 && has6 ? open_memstream(&text, &len) : NULL;
    if (!f) {
        free(has4);
        free(has6);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory rendering %s", fw_config_origin(cfg));
    }

    fputs("# cmksim customer firewall \"", f);
    put_clean(f, fw_config_name(cfg));
    fputs("\" from ", f);
    put_clean(f, fw_config_origin(cfg));
    fprintf(f, "\n# mode %s, default %s, %zu rules", fw_mode_name(fw_config_mode(cfg)),
            fw_action_name(dflt), nr);
    if (fw_config_tags_origin(cfg)) {
        fputs("; service tags from ", f);
        put_clean(f, fw_config_tags_origin(cfg));
    }
    fputs("\n\n", f);
    if (opts->replace)
        fprintf(f, "add table inet %s\ndelete table inet %s\n\n", opts->table, opts->table);
    fprintf(f, "table inet %s {\n", opts->table);
    for (size_t k = 0; k < nr; k++) {
        const fw_rule *r = fw_config_rule(cfg, k);
        int r4 = render_set(f, r, k, FW_V4), r6 = render_set(f, r, k, FW_V6);
        oom |= r4 < 0 || r6 < 0;
        has4[k] = r4 > 0;
        has6[k] = r6 > 0;
    }
    fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority %d; policy %s;\n", opts->hook,
            opts->hook, opts->priority, report || dflt == FW_ALLOW ? "accept" : "drop");
    if (opts->stateful)
        fputs("\t\tct state established,related accept\n", f);
    for (size_t k = 0; k < nr; k++) {
        const fw_rule *r = fw_config_rule(cfg, k);
        char comment[96], who[32], match[40];
        snprintf(comment, sizeof comment, "rule %zu: %s", k + 1, r->name);
        snprintf(who, sizeof who, "rule=%zu", k + 1);
        if (r->any_source) {
            oom |= render_verdict(f, "", r, r->action, report, who, comment) < 0;
            continue;
        }
        if (!has4[k] && !has6[k])
            fprintf(f, "\t\t# rule %zu \"%s\" matches no address\n", k + 1, r->name);
        if (has4[k]) {
            snprintf(match, sizeof match, "ip saddr @r%zu_v4", k + 1);
            oom |= render_verdict(f, match, r, r->action, report, who, comment) < 0;
        }
        if (has6[k]) {
            snprintf(match, sizeof match, "ip6 saddr @r%zu_v6", k + 1);
            oom |= render_verdict(f, match, r, r->action, report, who, comment) < 0;
        }
    }
    if (dflt != FW_ALLOW)
        oom |= render_verdict(f, "", NULL, dflt, report, "rule=default", "default") < 0;
    fputs("\t}\n}\n", f);
    free(has4);
    free(has6);
    if (fclose(f) != 0 || !text || oom) {
        free(text);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory rendering %s", fw_config_origin(cfg));
    }
    *out = text;
    return 0;
}

/* fw_nft_render_fault - the fault table's ruleset, or the commands that remove it */
int fw_nft_render_fault(const char *kind, int port, char **out, cmk_err *err)
{
    const char *stmt;
    char buf[512];
    *out = NULL;
    if (port < 1 || port > 65535)
        return cmk_err_set(err, CMK_EINVAL, "fault port must be 1..65535");
    if (!kind || !*kind || !strcmp(kind, "none"))
        stmt = NULL;
    else if (!strcmp(kind, "reset"))
        stmt = "tcp flags & (syn | rst) == 0 counter reject with tcp reset";
    else if (!strcmp(kind, "timeout"))
        stmt = "counter drop";
    else
        return cmk_err_set(err, CMK_EINVAL, "a kernel fault is reset or timeout, not \"%s\"", kind);
    if (!stmt)
        snprintf(buf, sizeof buf, "add table inet %s\ndelete table inet %s\n", FW_NFT_FAULT_TABLE,
                 FW_NFT_FAULT_TABLE);
    else
        snprintf(buf, sizeof buf,
                 "add table inet %s\ndelete table inet %s\n\n"
                 "table inet %s {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n"
                 "\t\ttcp dport %d %s comment \"fault %s\"\n\t}\n}\n",
                 FW_NFT_FAULT_TABLE, FW_NFT_FAULT_TABLE, FW_NFT_FAULT_TABLE, port, stmt, kind);
    if (!(*out = strdup(buf)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    return 0;
}

/* flatten - nft's multi-line error text as one line: "a | b | c" */
static void flatten(const char *in, char *out, size_t n)
{
    size_t o = 0;
    bool sep = false;
    for (; in && *in && o + 4 < n; in++) {
        if (*in == '\n') {
            sep = o > 0;
            continue;
        }
        if (sep) {
            memcpy(out + o, " | ", 3);
            o += 3;
            sep = false;
        }
        out[o++] = *in == '\t' ? ' ' : *in;
    }
    out[o] = '\0';
}

/* fw_nft_run - run commands through libnftables */
int fw_nft_run(const char *commands, bool dry_run, char **output, cmk_err *err)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    char why[CMK_ERR_MSG_MAX - 96];
    int rc;

    if (output)
        *output = NULL;
    if (!ctx)
        return cmk_err_set(err, CMK_ENOMEM, "cannot create an nftables context");
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        nft_ctx_free(ctx);
        return cmk_err_set(err, CMK_ENOMEM, "cannot buffer nftables output");
    }
    nft_ctx_set_dry_run(ctx, dry_run);
    rc = nft_run_cmd_from_buffer(ctx, commands);
    if (rc != 0) {
        const char *e = nft_ctx_get_error_buffer(ctx);
        flatten(e, why, sizeof why);
        if (strstr(why, "Operation not permitted"))
            rc = cmk_err_set(err, CMK_EPERM,
                             "nftables: %s (changing firewall rules needs CAP_NET_ADMIN: run as "
                             "root or inside a user+network namespace of your own)", why);
        else
            rc = cmk_err_set(err, CMK_EINVAL, "nftables refused the %s: %s",
                             dry_run ? "ruleset (dry run)" : "ruleset", why[0] ? why : "no reason given");
    } else if (output) {
        const char *o = nft_ctx_get_output_buffer(ctx);
        if (!(*output = strdup(o ? o : "")))
            rc = cmk_err_set(err, CMK_ENOMEM, "out of memory copying nftables output");
    }
    nft_ctx_free(ctx);
    return rc;
}

/* fw_nft_apply - apply or validate a ruleset */
int fw_nft_apply(const char *ruleset, bool dry_run, cmk_err *err)
{
    return fw_nft_run(ruleset, dry_run, NULL, err);
}

/* fw_nft_list_table - list one table */
int fw_nft_list_table(const char *table, char **out, cmk_err *err)
{
    char cmd[64];
    *out = NULL;
    if (!valid_name(table))
        return cmk_err_set(err, CMK_EINVAL, "table name \"%s\" is not usable", table ? table : "");
    snprintf(cmd, sizeof cmd, "list table inet %s", table);
    return fw_nft_run(cmd, false, out, err);
}
