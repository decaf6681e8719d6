#!/usr/bin/env bash
# Rules ROT-2..ROT-5: a new key version (by hand or by the vault's rotation policy) is applied to
# linked environments 24 hours later (policy.rotation_apply) by re-wrapping their data keys, with
# no downtime, and a pending rotation survives a controller restart (ROT-2); disabling the
# previous version while it still wraps a data key locks the environment, nothing is lost and it
# can be re-enabled once the version is back (ROT-3); disabling the previous version after the
# re-wrap but earlier than 28 days (policy.old_version_grace) after the rotation makes the policy's
# health Warning without a lock, later than that nothing is warned (ROT-4); the vault's rotation
# policy goes through the same path (ROT-5).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env" >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
rid=$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"before the rotations"}' --json)" 'j["run"]')

current() { json_get "$(cmkctl key show "$1" "$2" --json)" 'j["version"]'; }
status_of() { cmkctl policy env-status "$1" --json; }
field() { json_get "$(status_of "$1")" "$2"; }
health() { json_get "$(cmkctl policy show "$1" --json)" 'j["health"]'; }
reason() { json_get "$(cmkctl policy show "$1" --json)" 'j.get("health_reason") or ""'; }
run_ok() { [ "$(json_get "$(cmkctl flow run --env "$1" m --json 2>&1)" 'j["status"]' 2>/dev/null)" = Succeeded ]; }

# ---- ROT-2: applied 24 hours later, no failed run across the rotation and its application
v1=$(current "$VAULT" "$KEY")
[ "$(field "$env" 'j["key_version"]')" = "$v1" ] || fail "env-status does not show the version in use: $(status_of "$env")"
(
    for i in $(seq 1 80); do
        s=$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"load"}' --json 2>&1)" 'j["status"]' 2>/dev/null || echo ERROR)
        [ "$s" = Succeeded ] || echo "run $i: $s" >> "$RUN/failed-runs"
        touch "$RUN/load-running"
    done
) &
load=$!
wait_until 60 test -e "$RUN/load-running" || fail "the workload did not start"
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
v2=$(current "$VAULT" "$KEY")
[ "$v1" != "$v2" ] || fail "no new version"
st=$(status_of "$env")
[ "$(json_get "$st" 'j["key_version"]')" = "$v1" ] || fail "re-wrapped at once, not 24 hours later: $st"
[ "$(json_get "$st" 'j["rotation"]["status"]')" = pending ] || fail "no pending rotation: $st"
[ "$(json_get "$st" 'j["rotation"]["to_version"]')" = "$v2" ] || fail "pending rotation to the wrong version: $st"
json_get "$st" 'j["rotation_due"]' | qgrep -q Z || fail "no rotation_due: $st"
cmkctl audit list --operation rotation.pending | qgrep -q "$env" || fail "rotation.pending not audited"
! cmkctl audit list --operation rotation.applied | qgrep -q "$env" || fail "applied before 24 hours"
cmkctl clock advance 23h >/dev/null
[ "$(field "$env" 'j["key_version"]')" = "$v1" ] || fail "applied before 24 hours"
cmkctl clock advance 1h >/dev/null
st=$(status_of "$env")
[ "$(json_get "$st" 'j["key_version"]')" = "$v2" ] || fail "not applied after 24 hours: $st"
[ "$(json_get "$st" 'j["rotation"]["status"]')" = applied ] || fail "rotation not marked applied: $st"
cmkctl audit list --principal system --operation rotation.applied | qgrep -q "$env" || fail "rotation.applied not audited"
wait $load
run_ok "$env" || fail "runs fail after the rotation was applied"
[ ! -s "$RUN/failed-runs" ] || fail "runs failed across the rotation: $(cat "$RUN/failed-runs")"
ok "ROT-2 rotation applied 24 hours later by re-wrapping, no failed run across it"

# a pending rotation survives a controller restart and is applied when due
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
v3=$(current "$VAULT" "$KEY")
cmkctl down >/dev/null
cmkctl up --set clock.mode=virtual >/dev/null
[ "$(field "$env" 'j["rotation"]["status"]')" = pending ] || fail "pending rotation lost in the restart"
[ "$(field "$env" 'j["key_version"]')" = "$v2" ] || fail "applied early after the restart"
cmkctl clock advance 24h >/dev/null
[ "$(field "$env" 'j["key_version"]')" = "$v3" ] || fail "pending rotation not applied after the restart: $(status_of "$env")"
run_ok "$env" || fail "runs fail after the restart"
ok "ROT-2 a pending rotation survives a controller restart"

# ---- ROT-3: the previous version disabled while it still wraps the data key: lock
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
v4=$(current "$VAULT" "$KEY")
out=$(cmkctl key disable "$VAULT" "$KEY" --version "$v3" 2>&1) || fail "disable refused: $out"
[ "$(field "$env" 'j["state"]')" = Locked ] || fail "not locked: $(status_of "$env")"
lr=$(field "$env" 'j["lock_reason"]')
grep -q "$v3" <<<"$lr" && grep -q "rotation to version $v4 was not applied yet" <<<"$lr" || fail "lock reason: $lr"
[ "$(health "$POLICY")" = Unhealthy ] || fail "policy not Unhealthy"
out=$(cmkctl flow run --env "$env" m 2>&1 || true)
grep -q "Environment disabled" <<<"$out" || fail "request not refused: $out"
out=$(cmkctl env reenable "$env" 2>&1 || true)
grep -q "not back yet" <<<"$out" || fail "re-enable while the version is disabled: $out"
cmkctl key enable "$VAULT" "$KEY" --version "$v3" >/dev/null
cmkctl env reenable "$env" >/dev/null || fail "re-enable refused: $(cmkctl env reenable "$env" 2>&1)"
cmkctl clock advance 5m >/dev/null
[ "$(field "$env" 'j["state"]')" = Ready ] || fail "not Ready 5 minutes after re-enable"
cmkctl run show --env "$env" "$rid" --json | qgrep -q "before the rotations" || fail "data lost"
run_ok "$env" || fail "runs fail after re-enable"
[ "$(health "$POLICY")" = Healthy ] || fail "policy not Healthy again: $(reason "$POLICY")"
cmkctl clock advance 24h >/dev/null
[ "$(field "$env" 'j["key_version"]')" = "$v4" ] || fail "rotation not applied after the re-enable"
ok "ROT-3 previous version disabled before the rotation was applied: locked, nothing lost, re-enabled"

# ---- ROT-4: previous version disabled after the re-wrap: Warning before 28 days, nothing after
T1=$VAULT; K1=$KEY; P1=$POLICY
setup_cmk fabrikam unitedstates
env2=$(new_env Prod2 fabrikam unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env2" >/dev/null
cmkctl flow create --env "$env2" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
w1=$(current "$VAULT" "$KEY")
cmkctl key rotate "$T1" "$K1" >/dev/null
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
v5=$(current "$T1" "$K1"); w2=$(current "$VAULT" "$KEY")
cmkctl clock advance 24h >/dev/null
[ "$(field "$env" 'j["key_version"]')" = "$v5" ] && [ "$(field "$env2" 'j["key_version"]')" = "$w2" ] || fail "not applied"
cmkctl clock advance 9d >/dev/null
cmkctl key disable "$T1" "$K1" --version "$v4" >/dev/null
[ "$(health "$P1")" = Warning ] || fail "policy not Warning: $(health "$P1") $(reason "$P1")"
r=$(reason "$P1")
grep -q "previous key version $v4 was disabled 10 days after the rotation" <<<"$r" && grep -q "earlier than 28 days" <<<"$r" ||
    fail "warning reason: $r"
st=$(status_of "$env")
[ "$(json_get "$st" 'j["state"]')" = Ready ] || fail "locked on a warning: $st"
json_get "$st" '"\n".join(j.get("warnings", []))' | qgrep -q "earlier than 28 days" || fail "env-status lacks the warning: $st"
run_ok "$env" || fail "runs fail under the warning"
[ "$(health "$POLICY")" = Healthy ] || fail "the other policy is not Healthy"
cmkctl clock advance 19d >/dev/null
cmkctl key disable "$VAULT" "$KEY" --version "$w1" >/dev/null
[ "$(health "$POLICY")" = Healthy ] || fail "warned after 28 days: $(reason "$POLICY")"
st=$(status_of "$env2")
[ "$(json_get "$st" 'j.get("rotation_warning")')" = None ] || fail "env warned after 28 days: $st"
[ "$(json_get "$st" 'j["state"]')" = Ready ] && run_ok "$env2" || fail "env2 not working: $st"
[ "$(health "$P1")" = Healthy ] || fail "warning of $P1 still there after 28 days: $(reason "$P1")"
ok "ROT-4 previous version disabled at day 10: Warning, no lock; after day 28: nothing"

# ---- ROT-5: the vault's rotation policy goes through the same path
cmkctl key policy "$VAULT" "$KEY" --rotate-after P30D >/dev/null
cmkctl clock advance 3d >/dev/null
w3=$(current "$VAULT" "$KEY")
[ "$w3" != "$w2" ] || fail "the rotation policy did not rotate"
[ "$(field "$env2" 'j["key_version"]')" = "$w3" ] || fail "auto-rotation not applied: $(status_of "$env2")"
cmkctl audit list --operation rotation.pending | grep "$env2" | qgrep -q "$w3" || fail "auto-rotation not pending first"
run_ok "$env2" || fail "runs fail after the auto-rotation"
ok "ROT-5 the vault's rotation policy: pending, then applied"

# ---- apply-rotation: the admin's shortcut
cmkctl key rotate "$T1" "$K1" >/dev/null
v6=$(current "$T1" "$K1")
[ "$(field "$env" 'j["key_version"]')" = "$v5" ] || fail "applied before apply-rotation"
out=$(cmkctl policy apply-rotation "$P1" --json)
json_get "$out" 'j["applied"]' | qgrep -q "$env" || fail "apply-rotation: $out"
[ "$(field "$env" 'j["key_version"]')" = "$v6" ] || fail "apply-rotation did not re-wrap"
cmkctl audit list --operation policy.apply-rotation | qgrep -q admin || fail "apply-rotation not audited"
run_ok "$env" || fail "runs fail after apply-rotation"
cmkctl audit verify >/dev/null || fail "audit chain"
ok "ROT-6 policy apply-rotation applies pending rotations now"
