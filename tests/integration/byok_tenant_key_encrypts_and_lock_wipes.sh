#!/usr/bin/env bash
# Rules BYOK-13..15 (issue 16, item 2): legacy BYOK is real encryption. Applying the tenant key
# re-wraps the environment's data key under it (controller.db's deks: the tenant key, an RSA-2048
# wrap, not the Microsoft-managed key) and `env show` names it; a tenant lock refuses the
# environment's data key and makes the worker wipe its keys, exactly like a CMK lock; unlocking
# with the same key restores them and the data is read again; after BYOK -> CMK and a later
# `policy remove-env`, `env byok-state` no longer says CustomerViaMicrosoft.
. "$(dirname "$0")/lib.sh"
T="$RUN/t"; mkdir -p "$T"; echo "s3cret-pass" > "$T/pw"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl tenant enable-byok contoso >/dev/null 2>&1
env=$(new_env Sandbox contoso unitedstates sandbox --managed)
cmkctl tenant-key generate --tenant contoso --region unitedstates --name k1 --password-file "$T/pw" --out "$T/k1.pfx" >/dev/null 2>&1
cmkctl clock advance 11m >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id work >/dev/null
rid=$(json_get "$(cmkctl flow run --env "$env" work --body '{"text":"before BYOK"}' --json)" 'j["run"]')
dek() { sqlite3 "$RUN/controller.db" "SELECT kek_kind || '|' || COALESCE(kek_key, '') || '|' || length(wrapped) FROM deks WHERE env = '$env' AND purpose = '$1' AND state = 'active'"; }
[ "$(dek data | cut -d'|' -f1)" = mmk ] || fail "before BYOK the data key is not under the Microsoft-managed key: $(dek data)"

cmkctl env apply-tenant-key "$env" --yes >/dev/null 2>&1 || fail "apply-tenant-key: $(cmkctl env apply-tenant-key "$env" --yes 2>&1)"
[ "$(dek data)" = "tenant|k1|256" ] || fail "the data key is not wrapped by the tenant key (RSA-2048): $(dek data)"
j=$(cmkctl env show "$env" --json)
[ "$(json_get "$j" 'j["encryption"]')" = self-managed ] || fail "env show encryption: $j"
[ "$(json_get "$j" 'j["encryption_key"]')" = "tenant-key:contoso/k1" ] || fail "env show does not name the tenant key: $j"
cmkctl run show --env "$env" "$rid" --json | qgrep -q "before BYOK" || fail "data written before BYOK not readable after"
[ "$(json_get "$(cmkctl flow run --env "$env" work --json)" 'j["status"]')" = Succeeded ] || fail "runs fail under the tenant key"
ok "BYOK-13 apply-tenant-key re-wraps the data key under the tenant key; env show names it; data readable"

cmkctl clock advance 72h >/dev/null
text=$(json_get "$(cmkctl tenant-key status --tenant contoso --region unitedstates --json 2>/dev/null)" 'j["lock_confirmation_text"]')
cmkctl tenant lock contoso --key-file "$T/k1.pfx" --password-file "$T/pw" --confirm "$text" >/dev/null 2>&1 || fail "lock"
[ "$(json_get "$(cmkctl env show "$env" --json)" 'j["state"]')" = Locked ] || fail "environment not locked"
released() { grep "event=env.released" "$RUN/logs/worker-shared.log" | qgrep -q "$env"; }
wait_until 10 released || fail "the worker did not wipe the environment's keys: $(grep env.released "$RUN/logs/worker-shared.log")"
out=$(cmkctl flow run --env "$env" work 2>&1 || true)
grep -q "Environment disabled" <<<"$out" || fail "a run of a locked environment: $out"
out=$(cmkctl run show --env "$env" "$rid" 2>&1 || true)
grep -q "before BYOK" <<<"$out" && fail "data of a locked environment readable: $out"
cmkctl audit list --operation dek.get | grep "$env" | qgrep -q "Environment disabled\|EUNAVAIL\|locked" || fail "dek.get not refused while locked: $(cmkctl audit list --operation dek.get | tail -3)"
j=$(cmkctl env show "$env" --json)
[ "$(json_get "$j" 'j.get("status")')" = "Environment disabled" ] || fail "env show of a BYOK-locked environment: $j"
json_get "$j" 'j["lock_cause"]' | qgrep -q "tenant" || fail "lock cause: $j"
json_get "$j" 'j["deletion_due"]' >/dev/null || fail "no deletion due date: $j"
ok "BYOK-14 a tenant lock refuses the data key and the worker wipes its keys, like a CMK lock; env show says Environment disabled"

cmkctl clock advance 61m >/dev/null
cmkctl tenant unlock-key contoso --key-file "$T/k1.pfx" --password-file "$T/pw" >/dev/null 2>&1 || fail "unlock key"
cmkctl clock advance 11m >/dev/null
cmkctl env unlock "$env" >/dev/null 2>&1 || fail "env unlock: $(cmkctl env unlock "$env" 2>&1)"
cmkctl run show --env "$env" "$rid" --json | qgrep -q "before BYOK" || fail "data not readable after unlock"
[ "$(json_get "$(cmkctl flow run --env "$env" work --json)" 'j["status"]')" = Succeeded ] || fail "runs fail after unlock"
[ "$(dek data | cut -d'|' -f1,2)" = "tenant|k1" ] || fail "after unlock the data key is not under the tenant key: $(dek data)"
ok "BYOK-14 unlock with the same key restores the keys; the data is read again"

cmkctl vault create contoso-kv --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl key create contoso-kv cmk >/dev/null
cmkctl policy create byok-move --tenant contoso --vault contoso-kv --key cmk --region unitedstates >/dev/null
cmkctl policy grant-identity byok-move >/dev/null
cmkctl policy validate byok-move >/dev/null
cmkctl policy add-env byok-move "$env" >/dev/null || fail "add-env of the BYOK environment"
[ "$(json_get "$(cmkctl env byok-state "$env" --json 2>/dev/null)" 'j["managed_by"]')" = CustomerViaMicrosoft ] || fail "not CustomerViaMicrosoft after add-env"
[ "$(dek data | cut -d'|' -f1)" = mmk ] || fail "held flows' data key still under the BYOK key after the move to CMK: $(dek data)"
cmkctl clock advance 7d1h >/dev/null
cmkctl policy remove-env "$env" >/dev/null || fail "remove-env after 7 days: $(cmkctl policy remove-env "$env" 2>&1)"
state=$(cmkctl env byok-state "$env" --json 2>/dev/null)
[ "$(json_get "$state" 'j.get("managed_by")')" != CustomerViaMicrosoft ] || fail "byok-state still says CustomerViaMicrosoft after remove-env: $state"
ok "BYOK-15 after BYOK -> CMK -> remove-env, byok-state no longer says CustomerViaMicrosoft"
