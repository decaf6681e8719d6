#!/usr/bin/env bash
# Rule CLI-3: cmkctl's help, completion and man page come from the same option tables as its
# parsing. Every subcommand's --help lists every option it takes (audit list, run list,
# firewall fault, support run-history: no more one generic line); `cmkctl completion bash`
# completes every command, every subcommand and their options; `cmkctl man` is a man page with
# every command; --version answers; `make install`'s CMake rules install the binaries, cmkctl.1
# and the completion under DESTDIR/PREFIX. cmk-bench and cmk-firewall answer --version and name
# the closest option to a mistyped one.
. "$(dirname "$0")/lib.sh"

declare -A want=(["audit list"]="--principal --operation --target --result --limit --newest-first"
                 ["run list"]="--env --flow" ["firewall fault"]="--ms --duration"
                 ["support run-history"]="--env" ["key create"]="--kty --size --ops --expires --not-before --tag"
                 ["env delete"]="--yes")
for c in "${!want[@]}"; do
    out=$(cmkctl $c --help) || fail "cmkctl $c --help failed"
    grep -q "^Usage: cmkctl $c" <<<"$out" || fail "cmkctl $c --help has no usage line: $out"
    for o in ${want[$c]}; do
        grep -q -- "^  $o" <<<"$out" || fail "cmkctl $c --help does not describe $o: $out"
    done
done
grep -q "default 2048" <<<"$(cmkctl key create --help)" || fail "key create --help shows no default"
ok "every subcommand's --help describes its options (with types and defaults)"

top=$(cmkctl --help)
cmds=$(sed -n "/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p" <<<"$top")
grep -q "^Exit status:" <<<"$top" || fail "cmkctl --help lists no exit statuses"
[ "$(cmkctl --version)" = "cmkctl $(sed -n 's/^project(cmksim VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" ] \
    || fail "cmkctl --version: $(cmkctl --version)"
ok "cmkctl --help lists commands and exit statuses; --version answers"

comp="$RUN/cmkctl.bash"
cmkctl completion bash >"$comp"
# complete WORDS... - what bash completion offers after the words (the last word is the one typed)
complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=(cmkctl "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _cmkctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
offered=$(complete_words "")
for c in $cmds; do grep -qx -- "$c" <<<"$offered" || fail "completion does not offer command $c"; done
offered=$(complete_words key "")
for s in create import show list rotate enable disable purge wrap; do
    grep -qx -- "$s" <<<"$offered" || fail "completion does not offer key $s"
done
offered=$(complete_words key create kv k --)
for o in --kty --size --ops --expires --not-before --tag --run-dir --json; do
    grep -qx -- "$o" <<<"$offered" || fail "completion of key create does not offer $o: $offered"
done
[ "$(complete_words key create kv k --kty "" | sort | tr '\n' ' ')" = "RSA RSA-HSM " ] || fail "completion of --kty values"
[ "$(complete_words --run-dir "$RUN" env "" | grep -cx list)" = 1 ] || fail "completion after a global option"
ok "completion offers every command, subcommand, option and choice"

man=$(cmkctl man)
grep -q '^\.TH CMKCTL 1' <<<"$man" || fail "cmkctl man is not a man page"
for c in $cmds; do grep -q "^\.SS $(sed 's/-/\\\\-/g' <<<"$c")$" <<<"$man" || fail "the man page has no section for $c"; done
if command -v groff >/dev/null; then
    warn=$(groff -man -ww -z <<<"$man" 2>&1) ; [ -z "$warn" ] || fail "groff warns about the man page: $warn"
fi
ok "cmkctl man: a man page with every command"

dest="$RUN/stage"
DESTDIR="$dest" cmake --install "$BIN" --prefix /opt/cmksim >/dev/null || fail "cmake --install failed"
for f in bin/cmkctl bin/cmk-controller bin/cmk-worker bin/cmk-gateway bin/cmk-firewall bin/cmk-bench \
         share/man/man1/cmkctl.1 share/bash-completion/completions/cmkctl; do
    [ -s "$dest/opt/cmksim/$f" ] || fail "make install did not install $f"
done
[ "$("$dest/opt/cmksim/bin/cmkctl" --version)" = "$(cmkctl --version)" ] || fail "the installed cmkctl"
grep -q "^install:" "$SRC/Makefile" || fail "no make install target"
ok "install rules: binaries, cmkctl.1 and the completion under DESTDIR/PREFIX"

"$BIN/cmk-bench" --version | qgrep -q "^cmk-bench " || fail "cmk-bench --version"
"$BIN/cmk-firewall" --version | qgrep -q "^cmk-firewall " || fail "cmk-firewall --version"
out=$("$BIN/cmk-bench" load --worklod x 2>&1) && fail "cmk-bench took --worklod"
grep -q "did you mean --workload" <<<"$out" || fail "cmk-bench: $out"
rc=0; out=$("$BIN/cmk-firewall" check --tga x 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "did you mean --tag" <<<"$out" || fail "cmk-firewall ($rc): $out"
ok "cmk-bench and cmk-firewall: --version, and the closest option to a mistyped one"
