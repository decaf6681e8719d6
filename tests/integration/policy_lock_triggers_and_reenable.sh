#!/usr/bin/env bash
# Rules LOCK-1..9: an environment under a policy is locked at once ("Environment disabled") when
# the identity's permission is revoked, the key is disabled, deleted, the key version in use is
# disabled, the vault is deleted, its network access is switched off, or the key expires (deleting
# the policy is refused while it is linked: LOCK-8, POL-8); locked means requests are refused and the worker wiped its keys, and
# nothing is lost; "Re-enable environment" completes within 5 minutes once access is back.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
rid=$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"before the lock"}' --json)" 'j["run"]')

expect_locked() {
    [ "$(env_field "$env" state)" = Locked ] || fail "$1: not locked: $(cmkctl env cmk-status "$env")"
    out=$(cmkctl flow run --env "$env" m 2>&1 || true)
    grep -q "Environment disabled" <<<"$out" || fail "$1: request not refused: $out"
    grep -q "event=env.released" "$RUN/logs/worker-$env.log" || fail "$1: the worker did not wipe its keys"
}
reenable() {
    cmkctl env reenable "$env" >/dev/null || fail "$1: re-enable refused: $(cmkctl env reenable "$env" 2>&1)"
    cmkctl clock advance 5m >/dev/null
    [ "$(env_field "$env" state)" = Ready ] || fail "$1: not Ready 5 minutes after re-enable"
    cmkctl run show --env "$env" "$rid" --json | qgrep -q "before the lock" || fail "$1: data lost"
    [ "$(json_get "$(cmkctl flow run --env "$env" m --json)" 'j["status"]')" = Succeeded ] || fail "$1: runs fail after re-enable"
    ok "$1 LOCK-RE: locked, refused, re-enabled, nothing lost"
}

cmkctl vault revoke "$VAULT" --principal "$IDENTITY" --perms unwrapKey >/dev/null
expect_locked "permission revoked"
out=$(cmkctl env reenable "$env" 2>&1 || true)
grep -q "not back yet" <<<"$out" || fail "re-enable before access is back: $out"
cmkctl vault grant "$VAULT" --principal "$IDENTITY" --perms unwrapKey >/dev/null
reenable "LOCK-1 identity's permission revoked"

cmkctl key disable "$VAULT" "$KEY" >/dev/null; expect_locked "key disabled"
cmkctl key enable "$VAULT" "$KEY" >/dev/null; reenable "LOCK-2 key disabled"

cmkctl key delete "$VAULT" "$KEY" >/dev/null; expect_locked "key deleted"
cmkctl key recover "$VAULT" "$KEY" >/dev/null; reenable "LOCK-3 key deleted"

v=$(json_get "$(cmkctl key show "$VAULT" "$KEY" --json)" 'j["version"]')
cmkctl key disable "$VAULT" "$KEY" --version "$v" >/dev/null; expect_locked "version in use disabled"
cmkctl key enable "$VAULT" "$KEY" --version "$v" >/dev/null; reenable "LOCK-4 key version in use disabled"

cmkctl vault update "$VAULT" --public-network-access off >/dev/null; expect_locked "network access off"
cmkctl vault update "$VAULT" --public-network-access on >/dev/null; reenable "LOCK-5 vault network access switched off"

cmkctl vault delete "$VAULT" >/dev/null; expect_locked "vault deleted"
cmkctl vault recover "$VAULT" >/dev/null; reenable "LOCK-6 vault deleted"

cmkctl key update "$VAULT" "$KEY" --expires +1d >/dev/null
cmkctl clock advance 1d1h >/dev/null; expect_locked "key expired"
cmkctl key update "$VAULT" "$KEY" --expires +400d >/dev/null; reenable "LOCK-7 key expired"

cmkctl audit list --principal system --operation env.lock | grep -c env.lock | qgrep -q 7 || fail "locks not audited"
cmkctl audit verify >/dev/null || fail "audit chain"

# LOCK-8: deleting the policy under a linked environment would be a dead end (issue 16, item 5):
# it is refused, naming the environment, and locks nothing (POL-8)
out=$(cmkctl policy delete "$POLICY" 2>&1) && fail "policy delete with a linked environment exited 0: $out"
grep -q "$env" <<<"$out" || fail "refusal does not name the linked environment: $out"
[ "$(env_field "$env" state)" = Ready ] || fail "the refused delete locked the environment"
ok "LOCK-8 policy delete refused while the environment is linked (no lock, no dead end)"
