#!/usr/bin/env bash
# Rule CLI-5: what destroys asks first. env delete, env reset, env restore, env copy, vault
# purge and key purge ask on a terminal (typed "yes") and, without one, need --yes: without it
# they are refused (exit 2) naming --yes, and nothing is destroyed. tenant lock has its own
# typed confirmation (--confirm TEXT, printed by a first call).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
id=$(new_env Sbx contoso unitedstates sandbox)
cmkctl vault create kvault --tenant contoso --region unitedstates --retention-days 7 >/dev/null
cmkctl key create kvault k >/dev/null

# refused_without_yes ARGS... - exit 2, the message names --yes
refused_without_yes() {
    local out rc=0
    out=$(cmkctl "$@" </dev/null 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "cmkctl $* without --yes exited $rc: $out"
    grep -q "run it again with --yes" <<<"$out" || fail "cmkctl $* without --yes: $out"
}
refused_without_yes env delete "$id"
refused_without_yes env reset "$id"
refused_without_yes env copy "$id" "$id"
refused_without_yes env restore bak-nothing
[ "$(json_get "$(cmkctl env show "$id" --json)" 'j["state"]')" = Ready ] || fail "a refused delete touched the env"
cmkctl key delete kvault k >/dev/null
refused_without_yes key purge kvault k
cmkctl key recover kvault k >/dev/null || fail "a refused purge purged the key"
cmkctl vault delete kvault >/dev/null
refused_without_yes vault purge kvault
cmkctl vault recover kvault >/dev/null || fail "a refused purge purged the vault"
ok "without a terminal and without --yes: delete, reset, copy, restore, purge refused, nothing destroyed"

if command -v script >/dev/null; then
    # on a terminal: asked; anything but "yes" keeps the environment
    out=$(echo no | script -qec "$BIN/cmkctl --run-dir $RUN env delete $id" /dev/null 2>&1 || true)
    grep -q "Type yes to go on" <<<"$out" || fail "no question on a terminal: $out"
    cmkctl env show "$id" >/dev/null || fail "answering no deleted the environment"
    echo yes | script -qec "$BIN/cmkctl --run-dir $RUN env delete $id" /dev/null >/dev/null 2>&1 || true
    wait_until 5 bash -c "! '$BIN/cmkctl' --run-dir '$RUN' env show '$id' >/dev/null 2>&1" \
        || fail "answering yes on a terminal did not delete"
    ok "on a terminal: asked; no keeps it, yes deletes"
    id=$(new_env Sbx2 contoso unitedstates sandbox)
fi
cmkctl env delete "$id" --yes >/dev/null || fail "env delete --yes refused"
out=$(cmkctl env show "$id" 2>&1) && fail "env delete --yes did not delete: $out"
ok "--yes deletes without asking"
