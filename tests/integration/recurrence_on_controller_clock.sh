#!/usr/bin/env bash
# Rule FLOW-8: a Recurrence trigger runs its flow on the controller's clock: advancing a virtual
# clock by 16 minutes runs a 5-minute recurrence three times, in order; a flow turned off does
# not run; deleting it drops the schedule; schedules survive a controller restart.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/recurrence-compose.json" --id every5 >/dev/null
cmkctl flow schedules --env "$env" | qgrep -q "every5" || fail "no schedule"
runs() { json_get "$(cmkctl run list --env "$env" --flow every5 --json)" 'len(j["items"])'; }
[ "$(runs)" = 0 ] || fail "ran before its time"
cmkctl clock advance 16m >/dev/null
n3() { [ "$(runs)" = 3 ]; }
wait_until 10 n3 || fail "expected 3 runs after 16 minutes, got $(runs)"
ok "SKEL-7 FLOW-8 three runs in 16 minutes of a 5-minute recurrence"

cmkctl down >/dev/null
cmkctl up --set clock.mode=virtual >/dev/null
cmkctl clock advance 5m >/dev/null
n4() { [ "$(runs)" = 4 ]; }
wait_until 10 n4 || fail "schedule lost across a restart: $(runs) runs"
ok "the schedule survives a controller restart"

# a second recurrence that stays on is the barrier: once its occurrences of the jump have run,
# the turned-off flow's would have run too
cmkctl flow create --env "$env" --file "$SRC/configs/flows/recurrence-compose.json" --id witness >/dev/null
cmkctl flow disable --env "$env" every5 >/dev/null
cmkctl clock advance 20m >/dev/null
witness_ran() { [ "$(json_get "$(cmkctl run list --env "$env" --flow witness --json)" 'len(j["items"])')" -ge 3 ]; }
wait_until 20 witness_ran || fail "the flow left on did not run in 20 minutes"
[ "$(runs)" = 4 ] || fail "a flow turned off ran"
cmkctl flow enable --env "$env" every5 >/dev/null
cmkctl clock advance 6m >/dev/null
n5() { [ "$(runs)" = 5 ]; }
wait_until 10 n5 || fail "turned on again, it did not run: $(runs)"
cmkctl flow delete --env "$env" every5 >/dev/null
! cmkctl flow schedules --env "$env" | qgrep -q every5 || fail "schedule left after delete"
ok "turned off it does not run; turned on it does; deleted, its schedule goes"
