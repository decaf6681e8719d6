#!/usr/bin/env bash
# Rules BYOK-1..12 (seeds 003 and 004) through the cluster on the virtual clock: the feature is
# off until enabled and only for environments created after; generated keys are PKCS#12 that
# openssl reads; the first key activates at once (through Installing); no other activation for 24
# hours; wrong passwords and non-2048-bit keys are refused; no lock for 72 hours after a key
# change; the lock needs the active key, its password and the confirmation text; unlocking waits
# an hour and needs the same key; environments unlock one by one; a BYOK environment added to a
# policy is managed by CustomerViaMicrosoft and cannot return to the Microsoft key for 7 days.
. "$(dirname "$0")/lib.sh"
T="$RUN/t"; mkdir -p "$T"; echo "s3cret-pass" > "$T/pw"; echo "wrong" > "$T/bad"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
early=$(new_env Early contoso unitedstates sandbox)
out=$(cmkctl tenant-key list --tenant contoso 2>&1 || true)
grep -q "not turned on" <<<"$out" || fail "feature off: $out"
cmkctl tenant enable-byok contoso >/dev/null 2>&1
sbx=$(new_env Sandbox contoso unitedstates sandbox --managed)
ok "BYOK-1 off until enabled"

cmkctl tenant-key generate --tenant contoso --region unitedstates --name k1 --password-file "$T/pw" --out "$T/k1.pfx" >/dev/null 2>&1
openssl pkcs12 -in "$T/k1.pfx" -passin file:"$T/pw" -nodes -nocerts 2>/dev/null | qgrep -q "PRIVATE KEY" || fail "openssl cannot read the .pfx"
[ "$(json_get "$(cmkctl tenant-key list --tenant contoso --json 2>/dev/null)" 'j["items"][0]["state"]')" = Installing ] || fail "first key not Installing"
cmkctl clock advance 11m >/dev/null
[ "$(json_get "$(cmkctl tenant-key list --tenant contoso --json 2>/dev/null)" 'j["items"][0]["state"]')" = Active ] || fail "first key not Active"
ok "BYOK-2 generated PKCS#12 read by openssl; BYOK-3 first key activates through Installing"

out=$(cmkctl env apply-tenant-key "$early" --yes 2>&1 || true)
grep -q "before the self-managed encryption key feature was turned on" <<<"$out" || fail "early environment: $out"
cmkctl env apply-tenant-key "$sbx" --yes >/dev/null 2>&1 || fail "apply to a sandbox"
cmkctl flow create --env "$sbx" --file "$SRC/configs/flows/manual-compose.json" --id work >/dev/null
ok "BYOK-4 only environments created after enablement"

# workload - runs the flow until the file $RUN/stop exists; failures go to $RUN/failed-runs
workload() {
    rm -f "$RUN/stop" "$RUN/failed-runs" "$RUN/good-runs"
    ( while [ ! -e "$RUN/stop" ]; do
          s=$(json_get "$(cmkctl flow run --env "$sbx" work --json 2>&1)" 'j["status"]' 2>/dev/null || echo ERROR)
          if [ "$s" = Succeeded ]; then echo ok >> "$RUN/good-runs"; else echo "$s" >> "$RUN/failed-runs"; fi
      done ) &
    WORKLOAD=$!
    # wait for the workload's first run, not for a fixed time (a busy machine is slow)
    wait_until 60 test -e "$RUN/good-runs" -o -e "$RUN/failed-runs" || fail "the workload did not start"
}
stop_workload() {
    touch "$RUN/stop"; wait $WORKLOAD || true
    [ ! -s "$RUN/failed-runs" ] || fail "$1: runs failed: $(sort "$RUN/failed-runs" | uniq -c)"
    [ -s "$RUN/good-runs" ] || fail "$1: the workload ran nothing"
}

# a key made by openssl, and refusals
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k2.key" -out "$T/k2.crt" -days 30 -subj /CN=k2 2>/dev/null
openssl pkcs12 -export -inkey "$T/k2.key" -in "$T/k2.crt" -passout file:"$T/pw" -out "$T/k2.pfx"
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$T/k3.key" -out "$T/k3.crt" -days 30 -subj /CN=k3 2>/dev/null
openssl pkcs12 -export -inkey "$T/k3.key" -in "$T/k3.crt" -passout file:"$T/pw" -out "$T/k3.pfx"
out=$(cmkctl tenant-key upload "$T/k2.pfx" --tenant contoso --region unitedstates --name k2 --password-file "$T/bad" 2>&1 || true)
grep -q "the password does not open this .pfx file" <<<"$out" || fail "wrong password: $out"
out=$(cmkctl tenant-key upload "$T/k3.pfx" --tenant contoso --region unitedstates --name k3 --password-file "$T/pw" 2>&1 || true)
grep -q "1024-bit RSA key; the encryption key must be a 2048-bit RSA key" <<<"$out" || fail "1024-bit: $out"
cmkctl tenant-key upload "$T/k2.pfx" --tenant contoso --region unitedstates --name k2 --password-file "$T/pw" >/dev/null 2>&1 || fail "upload"
[ "$(json_get "$(cmkctl tenant-key list --tenant contoso --json 2>/dev/null)" '[k["state"] for k in j["items"] if k["name"]=="k2"][0]')" = Available ] || fail "second key should be Available"
out=$(cmkctl tenant-key activate --tenant contoso k2 2>&1 || true)
grep -q "24 hours after the last activation" <<<"$out" || fail "activation gap: $out"
cmkctl clock advance 24h >/dev/null
workload
cmkctl tenant-key activate --tenant contoso k2 >/dev/null 2>&1 || fail "activation after 24 hours"
cmkctl clock advance 11m >/dev/null
n0=$({ cat "$RUN/good-runs" "$RUN/failed-runs" 2>/dev/null || true; } | wc -l)
more_runs() { [ "$({ cat "$RUN/good-runs" "$RUN/failed-runs" 2>/dev/null || true; } | wc -l)" -gt "$n0" ]; }
wait_until 60 more_runs || fail "no run after the activation"
stop_workload "activation"
ok "BYOK-5 refusals (password, size); BYOK-6 no activation within 24 hours; activation with no downtime"

# lock: 72-hour guard, the active key, the confirmation text
out=$(cmkctl tenant lock contoso --key-file "$T/k2.pfx" --password-file "$T/pw" --confirm x 2>&1 || true)
grep -q "72 hours" <<<"$out" || fail "lock guard: $out"
cmkctl clock advance 72h >/dev/null
text=$(json_get "$(cmkctl tenant-key status --tenant contoso --region unitedstates --json 2>/dev/null)" 'j["lock_confirmation_text"]')
out=$(cmkctl tenant lock contoso --key-file "$T/k1.pfx" --password-file "$T/pw" --confirm "$text" 2>&1 || true)
grep -q "not the Active key" <<<"$out" || fail "lock with another key: $out"
out=$(cmkctl tenant lock contoso --key-file "$T/k2.pfx" --password-file "$T/pw" --confirm "not the text" 2>&1 || true)
grep -q "confirmation text does not match" <<<"$out" || fail "confirmation: $out"
cmkctl tenant lock contoso --key-file "$T/k2.pfx" --password-file "$T/pw" --confirm "$text" >/dev/null 2>&1 || fail "lock"
[ "$(json_get "$(cmkctl env show "$sbx" --json)" 'j["state"]')" = Locked ] || fail "environment not locked"
out=$(cmkctl tenant-key generate --tenant contoso --region unitedstates --name k4 --password-file "$T/pw" --out "$T/k4.pfx" 2>&1 || true)
grep -q "until all locked environments are unlocked" <<<"$out" || fail "generate while locked: $out"
ok "BYOK-7 lock guard, active key, confirmation; BYOK-8 no new key while locked"

out=$(cmkctl tenant unlock-key contoso --key-file "$T/k2.pfx" --password-file "$T/pw" 2>&1 || true)
grep -q "one hour" <<<"$out" || fail "unlock within the hour: $out"
cmkctl clock advance 61m >/dev/null
out=$(cmkctl tenant unlock-key contoso --key-file "$T/k1.pfx" --password-file "$T/pw" 2>&1 || true)
grep -q "not the key that locked" <<<"$out" || fail "unlock with another key: $out"
cmkctl tenant unlock-key contoso --key-file "$T/k2.pfx" --password-file "$T/pw" >/dev/null 2>&1 || fail "unlock key"
cmkctl clock advance 11m >/dev/null
cmkctl env unlock "$sbx" >/dev/null 2>&1 || fail "env unlock"
[ "$(json_get "$(cmkctl env show "$sbx" --json)" 'j["state"]')" = Ready ] || fail "environment not unlocked"
ok "BYOK-9 unlock after an hour with the same key; BYOK-10 environments unlock one by one"

cmkctl env show "$sbx" | qgrep -q "Dataverse search" || fail "features on the Microsoft key not listed"
ok "BYOK-11 features that stay on the Microsoft-managed key are listed"

# migration to CMK
cmkctl vault create contoso-kv --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl key create contoso-kv cmk >/dev/null
cmkctl policy create byok-move --tenant contoso --vault contoso-kv --key cmk --region unitedstates >/dev/null
cmkctl policy grant-identity byok-move >/dev/null
cmkctl policy validate byok-move >/dev/null
workload
cmkctl policy add-env byok-move "$sbx" >/dev/null || fail "BYOK environment not added to the policy"
n0=$({ cat "$RUN/good-runs" "$RUN/failed-runs" 2>/dev/null || true; } | wc -l)
more_runs() { [ "$({ cat "$RUN/good-runs" "$RUN/failed-runs" 2>/dev/null || true; } | wc -l)" -gt "$n0" ]; }
wait_until 60 more_runs || fail "no run after the move to CMK"
stop_workload "migration to CMK"
[ "$(json_get "$(cmkctl env byok-state "$sbx" --json 2>/dev/null)" 'j["managed_by"]')" = CustomerViaMicrosoft ] || fail "not CustomerViaMicrosoft"
out=$(cmkctl policy remove-env "$sbx" 2>&1 || true)
grep -q "7 days" <<<"$out" || fail "return within 7 days: $out"
ok "BYOK-12 migration to CMK with no downtime: CustomerViaMicrosoft, no return for 7 days"
