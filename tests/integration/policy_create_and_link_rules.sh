#!/usr/bin/env bash
# Rules POL-1..7: creating an Encryption policy checks the vault (soft delete, purge
# protection), the key (RSA/RSA-HSM, 2048 or 3072 bits) and the identity's access, each failure
# saying what to fix; only managed environments of the policy's region, not trial or teams, can
# be added; at most 25 CMK environments per tenant unless a support ticket raised the limit; the
# environment is disabled while it is added and the add is a pollable operation; a failed add
# leaves it on the Microsoft-managed key and can be run again; removing reverts it.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set policy.cmk_env_limit=2 >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl vault create nopp-kv --tenant contoso --region unitedstates >/dev/null
cmkctl key create nopp-kv k >/dev/null
out=$(cmkctl policy create p0 --tenant contoso --vault nopp-kv --key k --region unitedstates 2>&1 || true)
grep -q "purge protection" <<<"$out" || fail "vault without purge protection: $out"
cmkctl vault create big-kv --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl key create big-kv k4096 --size 4096 >/dev/null
out=$(cmkctl policy create p1 --tenant contoso --vault big-kv --key k4096 --region unitedstates 2>&1 || true)
grep -q "2048 or 3072" <<<"$out" || fail "4096-bit key: $out"
ok "POL-1 vault and key checks"

cmkctl key create big-kv k3072 --size 3072 >/dev/null
p=$(cmkctl policy create p2 --tenant contoso --vault big-kv --key k3072 --region unitedstates --json)
[ "$(json_get "$p" 'j["state"]')" = NotConfigured ] || fail "policy without access should be NotConfigured: $p"
json_get "$p" 'j["health_reason"]' | qgrep -q "cmkctl policy grant-identity p2" || fail "no fix named: $p"
id=$(json_get "$p" 'j["identity"]')
cmkctl vault grant big-kv --principal "$id" --perms get,wrapKey,unwrapKey >/dev/null
[ "$(json_get "$(cmkctl policy validate p2 --json)" 'j["state"]')" = Enabled ] || fail "validate after grant"
ok "POL-2 identity access checked, validate enables"

unmanaged=$(new_env Unmanaged contoso unitedstates production)
out=$(cmkctl policy add-env p2 "$unmanaged" 2>&1 || true)
grep -q "only managed environments" <<<"$out" || fail "unmanaged: $out"
eu=$(new_env Europe contoso europe production --managed)
out=$(cmkctl policy add-env p2 "$eu" 2>&1 || true)
grep -q "same region" <<<"$out" || fail "region mismatch: $out"
trial=$(new_env Trial contoso unitedstates trial --managed)
out=$(cmkctl policy add-env p2 "$trial" 2>&1 || true)
grep -q "trial environments cannot" <<<"$out" || fail "trial: $out"
teams=$(new_env Teams contoso unitedstates teams --managed)
out=$(cmkctl policy add-env p2 "$teams" 2>&1 || true)
grep -q "teams environments cannot" <<<"$out" || fail "teams: $out"
ok "POL-3 managed, same region, not trial or teams"

a=$(new_env A contoso unitedstates production --managed)
b=$(new_env B contoso unitedstates sandbox --managed)
c=$(new_env C contoso unitedstates production --managed)
op=$(cmkctl policy add-env p2 "$a" --no-wait --json)
[ "$(json_get "$op" 'j["status"]')" = Running ] || fail "add is not an operation: $op"
cmkctl policy operation "$(json_get "$op" 'j["id"]')" | qgrep -q Succeeded || fail "operation did not succeed"
[ "$(env_field "$a" encryption_status)" = Encrypted ] || fail "encryption status"
[ "$(env_field "$a" infrastructure)" = dedicated ] || fail "infrastructure"
cmkctl policy add-env p2 "$b" >/dev/null
out=$(cmkctl policy add-env p2 "$c" 2>&1 || true)
grep -q "raise-cmk-limit" <<<"$out" || fail "limit (2 in this test; 25 by default): $out"
cmkctl support raise-cmk-limit --tenant contoso --to 3 >/dev/null
cmkctl policy add-env p2 "$c" >/dev/null || fail "add after the limit was raised"
ok "POL-4 CMK environment limit and the support ticket; POL-5 pollable add"

# a failed add: the identity lost wrapKey; the environment stays on the Microsoft-managed key
cmkctl support raise-cmk-limit --tenant contoso --to 10 >/dev/null
d=$(new_env D contoso unitedstates production --managed)
cmkctl vault revoke big-kv --principal "$id" --perms wrapKey >/dev/null
cmkctl vault grant big-kv --principal "$id" --perms wrapKey >/dev/null
cmkctl key disable big-kv k3072 >/dev/null
out=$(cmkctl policy add-env p2 "$d" 2>&1 || true)
[ "$(env_field "$d" encryption)" = microsoft ] || fail "failed add changed the key"
[ "$(env_field "$d" state)" = Ready ] || fail "failed add left the environment disabled"
cmkctl key enable big-kv k3072 >/dev/null
for e in "$a" "$b" "$c"; do cmkctl env reenable "$e" >/dev/null 2>&1 || true; done
cmkctl clock advance 5m >/dev/null
cmkctl policy validate p2 >/dev/null
cmkctl policy add-env p2 "$d" >/dev/null || fail "add could not be run again"
ok "POL-6 failed add stays on the Microsoft-managed key and can be run again"

cmkctl policy remove-env "$d" >/dev/null || fail "remove"
[ "$(env_field "$d" encryption)" = microsoft ] && [ "$(env_field "$d" infrastructure)" = shared ] || fail "remove did not revert"
out=$(cmkctl policy move-env "$c" --to p2 2>&1 || true)
grep -q "two operations" <<<"$out" || fail "move-env does not say it is two outages: $out"
[ "$(env_field "$c" encryption)" = customer ] || fail "move-env did not end under the new policy: $out"
ok "POL-7 remove reverts; move is two operations"
