/*
 * fw_nft.h - a firewall config as an nftables ruleset, and applying it through libnftables.
 *
 * The rendered ruleset is one `table inet <name>` (default "cmksim_fw") that replaces any
 * earlier version of itself atomically. Every rule's sources become named interval sets
 * (r<n>_v4, r<n>_v6, merged prefixes); an input chain evaluates the rules in order:
 *
 *   allow   ... counter accept
 *   drop    ... counter drop
 *   reject  ... meta l4proto tcp counter reject with tcp reset    (ECONNREFUSED for clients)
 *               ... counter reject                                  (other protocols)
 *
 * then the default (policy accept for allow; drop; or the two reject lines for reject). Rules
 * with ports match TCP destination ports. Established and related traffic is accepted first,
 * so replies to permitted connections pass. In report mode nothing is refused: rules that
 * would deny log "cmksim_fw would_deny ..." / "cmksim_fw would_reject ..." and accept.
 *
 * Applying needs CAP_NET_ADMIN in the current network namespace: root, or a user+network
 * namespace of one's own (unshare(CLONE_NEWUSER | CLONE_NEWNET)). A dry run validates the
 * ruleset the same way without changing anything.
 */
#ifndef CMK_FW_NFT_H
#define CMK_FW_NFT_H

#include <stdbool.h>

#include "common/err.h"
#include "fw_config.h"

/* Rendering options. */
typedef struct {
    const char *table; /* table name: letters, digits, '_' (default "cmksim_fw") */
    const char *hook;  /* chain hook: "input" (default), "output" or "forward" */
    int priority;      /* chain priority (default 0) */
    bool stateful;     /* accept established,related first (default true) */
    bool replace;      /* delete an existing table of the same name first (default true) */
} fw_nft_opts;

/* fw_nft_opts_default - the defaults above */
void fw_nft_opts_default(fw_nft_opts *opts);

/* fw_nft_render - the ruleset text for cfg (opts NULL for defaults); *out is malloc'd.
 * The config must be resolved (CMK_ESTATE otherwise). */
int fw_nft_render(const fw_config *cfg, const fw_nft_opts *opts, char **out, cmk_err *err);

/* fw_nft_run - run nft commands (a ruleset or e.g. "list table inet cmksim_fw"); with dry_run
 * nothing changes. output (may be NULL) receives nft's output, malloc'd. nft's error text goes
 * into err (CMK_EPERM without CAP_NET_ADMIN, CMK_EINVAL for a refused ruleset). */
int fw_nft_run(const char *commands, bool dry_run, char **output, cmk_err *err);

/* fw_nft_apply - apply a rendered ruleset, or with dry_run only validate it */
int fw_nft_apply(const char *ruleset, bool dry_run, cmk_err *err);

/* The table of an injected fault (firewall.fault reset|timeout in kernel mode). It hooks input
 * before the config's table (priority -10), so it sees every packet to the endpoints, those of
 * connections opened before the fault (a caller's pooled keep-alive connections) included:
 *
 *   reset    tcp dport P tcp flags ! syn,rst counter reject with tcp reset
 *            (the handshake completes, then the connection is reset: ECONNRESET, not refused)
 *   timeout  tcp dport P counter drop           (no answer at all, new or established)
 */
#define FW_NFT_FAULT_TABLE "cmksim_fault"

/* fw_nft_render_fault - the ruleset that puts fault kind ("reset" or "timeout") on TCP port
 * port in force, replacing any earlier one; kind "" or "none" gives the commands that remove
 * it. *out is malloc'd. CMK_EINVAL for another kind or a bad port. */
int fw_nft_render_fault(const char *kind, int port, char **out, cmk_err *err);

/* fw_nft_list_table - the ruleset of `table inet <table>` as nft lists it; *out is malloc'd */
int fw_nft_list_table(const char *table, char **out, cmk_err *err);

#endif
