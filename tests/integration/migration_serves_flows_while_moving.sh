#!/usr/bin/env bash
# Rule MIG-9: while an environment's flows move to dedicated infrastructure, every flow keeps
# running: a flow not moved yet is served by the shared worker, a moved
# one by the dedicated worker. No run fails during the move. The migration is stepped by hand
# (migration.step_gate: one flow moves per <run>/migration.step file), so every flow is run at
# every stage of the move, however slow the machine.
. "$(dirname "$0")/lib.sh"

cmkctl up --set migration.step_gate=true >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Moving contoso unitedstates production --managed)
for k in 1 2 3 4; do
    cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id "m$k" >/dev/null
done
op=$(json_get "$(cmkctl policy add-env "$POLICY" "$env" --no-wait --json)" 'j["id"]')
status() { json_get "$(cmkctl policy operation "$op" --no-wait --json)" 'j["status"]'; }
at_step() { grep -q "event=migration.gated env=$env moved=$1 " "$RUN/logs/controller.log"; }

runs=0
for step in 0 1 2 3; do
    wait_until 60 at_step "$step" || fail "the migration did not reach step $step: $(grep migration "$RUN/logs/controller.log" | tail -3)"
    [ "$(status)" = Running ] || fail "the add-env operation is not Running at step $step: $(status)"
    for f in m1 m2 m3 m4; do
        out=$(cmkctl flow run --env "$env" "$f" --body '{"text":"x"}' --json 2>&1) || fail "run of $f failed with $step of 4 flows moved: $out"
        [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "run of $f with $step moved: $out"
        runs=$((runs + 1))
    done
    touch "$RUN/migration.step"
done
finished() { [ "$(status)" != Running ]; }
wait_until 60 finished || fail "the move did not end after its last step"
[ "$(status)" = Succeeded ] || fail "the move ended $(status)"
ok "MIG-9 MIG-10 $runs runs at every stage of the move (0 to 3 of 4 flows moved): none failed"

# afterwards every flow is on the dedicated side
for f in m1 m4; do
    out=$(cmkctl flow run --env "$env" "$f" --json)
    [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "after the move, $f: $out"
done
grep -q "event=migration.done to=dedicated moved=4" "$RUN/logs/controller.log" || fail "not all four flows moved"
ok "MIG-9 CORE-3 after the move, flows run on the dedicated worker (the in-memory flow homes followed the move)"
