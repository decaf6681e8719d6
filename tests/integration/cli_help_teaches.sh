#!/usr/bin/env bash
# Rule CLI-1: `--help` teaches. `cmkctl --help` lists every command; `cmkctl CMD --help` answers
# for every command (exit 0, a usage line), and a command with its own usage text (env, vault,
# key, flow, policy, tenant-key) shows that text, also after a subcommand - it never runs it.
. "$(dirname "$0")/lib.sh"

top=$(cmkctl --help)
cmds=$(sed -n "/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p" <<<"$top" | sort -u)
[ "$(wc -l <<<"$cmds")" -ge 20 ] || fail "cmkctl --help lists too few commands: $top"
for c in $cmds; do
    out=$(cmkctl "$c" --help) || fail "cmkctl $c --help failed"
    grep -q "^Usage" <<<"$out" || fail "cmkctl $c --help has no usage: $out"
done
ok "cmkctl --help and every command's --help answer with a usage"

declare -A sample=([env]="cmkctl env create --tenant" [vault]="cmkctl vault create VAULT"
                   [key]="cmkctl key create VAULT NAME" [flow]="cmkctl flow create --env ENV"
                   [policy]="cmkctl policy create NAME" [tenant-key]="cmkctl tenant-key generate")
for c in "${!sample[@]}"; do
    grep -qF -- "${sample[$c]}" <<<"$(cmkctl "$c" --help)" || fail "cmkctl $c --help is not its own usage"
    grep -qF -- "${sample[$c]}" <<<"$(cmkctl "$c" create --help 2>&1)" || fail "cmkctl $c create --help ran something"
done
[ ! -e "$RUN/controller.db" ] || fail "a --help touched the run dir"
ok "commands with their own usage show it, before or after a subcommand"
