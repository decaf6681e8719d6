#!/usr/bin/env bash
# Rules TRUTH-1..3 (issue 16, item 11): `policy validate` exits nonzero when the policy is not
# valid (and says why); `vault list --deleted` lists only the deleted vaults; the policy view
# does not say "Encrypted" for an environment that was removed from it or reset.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl vault create contoso-kv --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl key create contoso-kv cmk >/dev/null
id=$(json_get "$(cmkctl policy create p --tenant contoso --vault contoso-kv --key cmk --region unitedstates --json)" 'j["identity"]')
if out=$(cmkctl policy validate p 2>&1); then fail "validate of a policy whose identity has no access exited 0: $out"; fi
grep -q "not valid" <<<"$out" || fail "validate does not say it is not valid: $out"
grep -q "NotConfigured" <<<"$out" || fail "validate does not show the policy: $out"
cmkctl vault grant contoso-kv --principal "$id" --perms get,wrapKey,unwrapKey >/dev/null
cmkctl policy validate p >/dev/null || fail "validate of a valid policy exits nonzero"
cmkctl key disable contoso-kv cmk >/dev/null
if out=$(cmkctl policy validate p --json 2>&1); then fail "validate with the key disabled exited 0"; fi
cmkctl key enable contoso-kv cmk >/dev/null
cmkctl policy validate p >/dev/null || fail "validate after the key came back"
ok "TRUTH-1 policy validate exits nonzero when the policy is not valid"

cmkctl vault create gone-kv --tenant contoso --region unitedstates >/dev/null
cmkctl vault delete gone-kv >/dev/null
del=$(cmkctl vault list --deleted --json)
json_get "$del" '" ".join(v["name"] for v in j["items"])' | qgrep -qw gone-kv || fail "deleted vault not listed: $del"
json_get "$del" '" ".join(v["name"] for v in j["items"])' | qgrep -qw contoso-kv && fail "vault list --deleted lists a live vault: $del"
all=$(cmkctl vault list --json)
json_get "$all" '" ".join(v["name"] for v in j["items"])' | qgrep -qw contoso-kv || fail "vault list lost the live vault: $all"
json_get "$all" '" ".join(v["name"] for v in j["items"])' | qgrep -qw gone-kv && fail "vault list shows a deleted vault: $all"
ok "TRUTH-2 vault list --deleted lists only the deleted vaults"

a=$(new_env Alpha contoso unitedstates production --managed)
s=$(new_env Sandy contoso unitedstates sandbox --managed)
cmkctl policy add-env p "$a" >/dev/null
cmkctl policy add-env p "$s" >/dev/null
view=$(cmkctl policy show p --json)
[ "$(json_get "$view" "[e['encryption_status'] for e in j['environments'] if e['env']=='$a'][0]")" = Encrypted ] || fail "linked environment not Encrypted: $view"
cmkctl policy remove-env "$a" >/dev/null
cmkctl env reset "$s" --yes >/dev/null
view=$(cmkctl policy show p --json)
json_get "$view" "[e['env'] for e in j['environments']]" | qgrep -q "$a" && fail "removed environment still listed as linked: $view"
json_get "$view" "[e['env'] for e in j['environments']]" | qgrep -q "$s" && fail "reset environment still listed as linked: $view"
json_get "$view" "[e['env'] for e in j['removed_environments']]" | qgrep -q "$a" || fail "removed environment not listed apart: $view"
grep -q Encrypted <<<"$view" && fail "the policy view still says Encrypted: $view"
[ "$(env_field "$a" encryption_status)" = NotEncrypted ] || fail "env cmk-status of a removed environment: $(env_field "$a" encryption_status)"
ok "TRUTH-3 the policy view no longer says Encrypted for a removed or reset environment"
