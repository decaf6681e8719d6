#!/usr/bin/env bash
# Rule POL-8 (issue 16, item 5): no dead ends. `policy delete` of a policy with linked
# environments is refused, naming them (remove them first), as the real service does; nothing
# is locked by the refusal; once they are removed the policy can be deleted.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
a=$(new_env Alpha contoso unitedstates production --managed)
b=$(new_env Beta contoso unitedstates sandbox --managed)
cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null

if out=$(cmkctl policy delete "$POLICY" 2>&1); then fail "policy delete with linked environments exited 0: $out"; fi
grep -q "cannot be deleted" <<<"$out" || fail "refusal does not say so: $out"
grep -q "$a" <<<"$out" && grep -q "$b" <<<"$out" || fail "refusal does not name the linked environments: $out"
grep -q "remove-env" <<<"$out" || fail "refusal does not say what to do: $out"
[ "$(env_field "$a" state)" = Ready ] || fail "the refused delete changed $a: $(env_field "$a" state)"
[ "$(json_get "$(cmkctl policy show "$POLICY" --json)" 'j["state"]')" = Enabled ] || fail "the refused delete disabled the policy"
[ "$(json_get "$(cmkctl flow run --env "$a" m --json)" 'j["status"]')" = Succeeded ] || fail "flows stopped after the refused delete"
cmkctl audit list --operation policy.delete | qgrep -q policy.delete || fail "the refusal is not audited"
ok "POL-8 policy delete with linked environments is refused, naming them; nothing locked"

cmkctl policy remove-env "$a" >/dev/null
if out=$(cmkctl policy delete "$POLICY" 2>&1); then fail "delete with one environment still linked exited 0: $out"; fi
grep -q "$b" <<<"$out" || fail "refusal does not name the remaining environment: $out"
grep -q "$a" <<<"$out" && fail "refusal names a removed environment: $out"
cmkctl policy remove-env "$b" >/dev/null
cmkctl policy delete "$POLICY" >/dev/null || fail "delete after every environment was removed: $(cmkctl policy delete "$POLICY" 2>&1)"
[ "$(env_field "$a" encryption)" = microsoft ] && [ "$(env_field "$a" state)" = Ready ] || fail "removed environment changed by the delete"
ok "POL-8 once the environments are removed, the policy is deleted"
