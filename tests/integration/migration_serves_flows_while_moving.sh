#!/usr/bin/env bash
# Rule MIG-9: while an environment's flows move to dedicated infrastructure, every flow keeps
# running: a flow not moved yet is served by the shared worker, a moved
# one by the dedicated worker. No run fails during the move.
. "$(dirname "$0")/lib.sh"

cmkctl up --set migration.step_delay=500ms >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Moving contoso unitedstates production --managed)
for k in 1 2 3 4; do
    cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id "m$k" >/dev/null
done
op=$(json_get "$(cmkctl policy add-env "$POLICY" "$env" --no-wait --json)" 'j["id"]')
status() { json_get "$(cmkctl policy operation "$op" --no-wait --json)" 'j["status"]'; }

runs=0; during=0
while :; do
    st=$(status)
    for f in m1 m2 m3 m4; do
        out=$(cmkctl flow run --env "$env" "$f" --body '{"text":"x"}' --json 2>&1) || fail "run of $f failed while moving ($st): $out"
        [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "run of $f: $out"
        runs=$((runs + 1))
        [ "$st" = Running ] && during=$((during + 1))
    done
    [ "$st" = Running ] || break
done
[ "$st" = Succeeded ] || fail "the move ended $st"
[ "$during" -gt 0 ] || fail "no run happened while the flows were moving (last status $st)"
ok "MIG-9 MIG-10 $runs runs, $during of them during the move: none failed"

# afterwards every flow is on the dedicated side
for f in m1 m4; do
    out=$(cmkctl flow run --env "$env" "$f" --json)
    [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "after the move, $f: $out"
done
grep -q "event=migration.done to=dedicated moved=4" "$RUN/logs/controller.log" || fail "not all four flows moved"
ok "MIG-9 CORE-3 after the move, flows run on the dedicated worker (the in-memory flow homes followed the move)"
