#!/usr/bin/env bash
# Rules LOCK-9, LOCK-10, ROT-1: a locked environment not re-enabled is deleted after 7 days
# (sandbox) or 30 days (production) — not a second before; a new key version is applied to
# linked environments by re-wrapping their data keys (24 hours later, see ROT-2), with no
# downtime: a workload keeps running across the rotation with no failed run.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
sbx=$(new_env Sandbox contoso unitedstates sandbox --managed)
prod=$(new_env Prod contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$sbx" >/dev/null
cmkctl policy add-env "$POLICY" "$prod" >/dev/null
cmkctl flow create --env "$prod" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null

# rotation under a running workload: no failed run, and the data key is re-wrapped
(
    for i in $(seq 1 60); do
        s=$(json_get "$(cmkctl flow run --env "$prod" m --body '{"text":"load"}' --json 2>&1)" 'j["status"]' 2>/dev/null || echo ERROR)
        [ "$s" = Succeeded ] || { echo "run $i: $s" >> "$RUN/failed-runs"; }
        touch "$RUN/load-running"
    done
) &
load=$!
wait_until 60 test -e "$RUN/load-running" || fail "the workload did not start"
before=$(json_get "$(cmkctl key show "$VAULT" "$KEY" --json)" 'j["version"]')
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
# applied policy.rotation_apply (24 h) after the rotation (ROT-2), still under the workload
cmkctl clock advance 24h >/dev/null
wait $load
[ ! -s "$RUN/failed-runs" ] || fail "runs failed across the rotation: $(cat "$RUN/failed-runs")"
after=$(json_get "$(cmkctl key show "$VAULT" "$KEY" --json)" 'j["version"]')
[ "$before" != "$after" ] || fail "no new version"
cmkctl audit list --operation rotation.applied | qgrep -q "$prod" || fail "rotation not applied to $prod"
[ "$(env_field "$prod" key_version)" = "$after" ] || fail "$prod's data key not re-wrapped to $after"
ok "ROT-1 rotation re-wraps data keys with no failed run"

# lock both by revoking access, then count the days
cmkctl vault revoke "$VAULT" --principal "$IDENTITY" --perms unwrapKey >/dev/null
[ "$(env_field "$sbx" state)" = Locked ] && [ "$(env_field "$prod" state)" = Locked ] || fail "not locked"
exists() { cmkctl env show "$1" >/dev/null 2>&1; }
locked_ms=$(python3 -c "import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp()*1000))" "$(env_field "$sbx" locked_at)")
# advance_to MS - move the clock to locked_at + MS. The virtual clock flows in real time
# between reading it and the advance (two cmkctl processes: seconds on a loaded machine), so
# the checks below stand MARGIN before each deadline, not one second.
MARGIN=30
advance_to() {
    local now; now=$(json_get "$(cmkctl clock --json)" 'int(j["now_ms"])')
    cmkctl clock advance "$(( (locked_ms + $1 - now) / 1000 ))s" >/dev/null
}
advance_to $(( 7*86400*1000 - MARGIN*1000 ))
exists "$sbx" || fail "sandbox deleted before 7 days"
cmkctl clock advance "$(( MARGIN + 1 ))s" >/dev/null
! exists "$sbx" || fail "sandbox not deleted after 7 days"
exists "$prod" || fail "production deleted after 7 days"
[ ! -d "$RUN/partitions/$sbx" ] || fail "sandbox data left on disk"
# a controller restart in between: the deletion timer is resumed from controller.db
cmkctl down >/dev/null
cmkctl up --set clock.mode=virtual >/dev/null
advance_to $(( 30*86400*1000 - MARGIN*1000 ))
exists "$prod" || fail "production deleted before 30 days"
cmkctl clock advance "$(( MARGIN + 1 ))s" >/dev/null
! exists "$prod" || fail "production not deleted after 30 days"
cmkctl audit list --operation env.delete | qgrep -q "$prod" || fail "deletion not audited"
ok "LOCK-9 sandbox deleted after 7 days, LOCK-10 production after 30 (across a controller restart)"
