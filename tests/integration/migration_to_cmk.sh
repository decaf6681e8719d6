#!/usr/bin/env bash
# Rules MIG-1..8 (seed 000, "Support for customer-managed keys"): adding an environment to a
# policy moves its flows to the dedicated infrastructure, re-sealed under the customer key; the
# flows that cannot be migrated (Power Apps V1 not in a solution, HTTP and Teams triggers, List
# flows as Admin (v1), and their parents, transitively) stay on the Microsoft-managed key with the
# seed's remedies; `flows mmk` is the pre-flight and progress check; the warning "Power Automate
# flows are still protected with the Microsoft Managed Key" shows while any flow stays; creation
# and updates are blocked during migration while runs keep being accepted; a migration killed by
# a controller SIGKILL resumes with nothing lost or duplicated; run history rules.
. "$(dirname "$0")/lib.sh"

# the migration is held at its first flow (migration.step_gate: nothing moves until a
# <run>/migration.step file exists), so it is caught in the middle however busy the machine;
# the controller restarted below runs without the gate
cmkctl up --set clock.mode=virtual --set migration.step_gate=true >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
for f in "$SRC"/configs/flows/*.json; do cmkctl flow create --env "$env" --file "$f" --id "$(basename "$f" .json)" >/dev/null; done
# a chain three levels deep above an HTTP-trigger flow: all three parents stay on the MMK
mk_parent() {  # mk_parent ID CHILD
    printf '{"triggers":{"manual":{"type":"Request","kind":"Button"}},"actions":{"Call":{"type":"Workflow","inputs":{"host":{"workflowReferenceName":"%s"}}}}}' "$2" > "$RUN/$1.json"
    cmkctl flow create --env "$env" --file "$RUN/$1.json" --id "$1" >/dev/null
}
mk_parent level1 http-trigger-echo; mk_parent level2 level1; mk_parent level3 level2
old=$(json_get "$(cmkctl flow run --env "$env" manual-compose --body '{"text":"input-before-migration"}' --json)" 'j["run"]')

pre=$(cmkctl flows mmk --env "$env" --cannot-migrate --json)
held=$(json_get "$pre" '" ".join(sorted(f["FlowName"] for f in j["items"]))')
[ "$held" = "http-trigger-echo level1 level2 level3 list-flows-admin-v1 powerapps-v1 teams-trigger" ] || fail "pre-flight: $held"
[ "$(json_get "$(cmkctl flows mmk --env "$env" --json)" 'len(j["items"])')" = 15 ] || fail "pre-flight: all flows are on the MMK"
ok "MIG-1 FLOW-7 pre-flight lists every category (parents three levels deep)"

# start the migration, and meanwhile: creation refused, runs accepted
op=$(json_get "$(cmkctl policy add-env "$POLICY" "$env" --no-wait --json)" 'j["id"]')
mig_running() { [ "$(json_get "$(cmkctl env migration "$env" --json)" 'j["status"]')" = Running ]; }
wait_until 30 mig_running || fail "the migration never started: $(cmkctl env migration "$env")"
out=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" 2>&1 || true)
grep -q "Creation and updates of flows are blocked during migration" <<<"$out" || fail "create during migration: $out"
[ "$(json_get "$(cmkctl flow run --env "$env" condition-terminate --body '{"number":1}' --json)" 'j["status"]')" != "" ] || fail "run during migration"
ok "MIG-2 creation blocked, runs accepted during migration"

# one flow moves; then the controller is killed mid-migration; the restarted one resumes it
touch "$RUN/migration.step"
step1() { grep -q "event=migration.gated env=$env moved=1 " "$RUN/logs/controller.log"; }
wait_until 60 step1 || fail "the first step of the migration did not happen: $(grep migration "$RUN/logs/controller.log" | tail -3)"
kill -9 "$(cat "$RUN/controller.pid")"
wait_until 10 no_procs || true
cmkctl up --set clock.mode=virtual --set migration.step_delay=150ms >/dev/null
done_() { [ "$(json_get "$(cmkctl env migration "$env" --json)" 'j["status"]')" = Done ]; }
wait_until 90 done_ || fail "migration did not finish after the restart: $(cmkctl env migration "$env")"
list=$(cmkctl flow list --env "$env" --json)
[ "$(json_get "$list" 'len(j["items"])')" = 15 ] || fail "flows lost or duplicated: $(json_get "$list" '[f["id"] for f in j["items"]]')"
[ "$(json_get "$list" 'len(set(f["id"] for f in j["items"]))')" = 15 ] || fail "a flow is on both sides"
cmk=$(json_get "$list" '" ".join(sorted(f["id"] for f in j["items"] if f["protected_by"]=="customer-managed key"))')
[ "$cmk" = "child-child child-parent condition-terminate http-action list-flows-admin-v2 manual-compose powerapps-v2 recurrence-compose" ] || fail "moved: $cmk"
ok "MIG-3 a controller SIGKILL mid-migration: resumed, nothing lost or duplicated"
ok "PRE-1 PRE-2 superseded by seed 000: an environment with flows is accepted and its flows made before add-env are under the customer-managed key"

# flows moved are sealed in the dedicated partition, under the customer-managed key
[ -f "$RUN/partitions/$env/dedicated/partition.db" ] || fail "no dedicated partition"
if cat "$RUN/partitions/$env/dedicated/"partition.db* | grep -aq "workflowReferenceName"; then fail "definitions in the clear"; fi
ok "MIG-4 PRE-4 moved flows are re-sealed in the dedicated partition"

# warning and remedies
cmkctl env cmk-status "$env" | qgrep -q "Power Automate flows are still protected with the Microsoft Managed Key" || fail "no warning"
after=$(json_get "$(cmkctl flows mmk --env "$env" --json)" '" ".join(sorted(f["FlowName"] for f in j["items"]))')
[ "$after" = "http-trigger-echo level1 level2 level3 list-flows-admin-v1 powerapps-v1 teams-trigger" ] || fail "progress: $after"
ok "MIG-5 warning and progress check"

# run history: details list only new runs; CSV old and new; support summary for 30 days
[ "$(json_get "$(cmkctl run list --env "$env" --flow manual-compose --json)" 'len(j["items"])')" = 0 ] || fail "old runs on the details page"
new=$(json_get "$(cmkctl flow run --env "$env" manual-compose --body '{"text":"after CMK"}' --json)" 'j["run"]')
runs=$(json_get "$(cmkctl run list --env "$env" --flow manual-compose --json)" '" ".join(r["run"] for r in j["items"])')
[ "$runs" = "$new" ] || fail "details list: $runs"
csv=$(cmkctl run export-csv --env "$env" --flow manual-compose)
grep -q "$old" <<<"$csv" && grep -q "$new" <<<"$csv" || fail "CSV lacks old or new runs"
grep -q "input-before-migration" <<<"$csv" || fail "CSV lacks the old run's inputs"
summary=$(cmkctl support run-history --env "$env" --json)
grep -q "$old" <<<"$summary" && grep -q "$new" <<<"$summary" || fail "support summary"
! grep -q "input-before-migration" <<<"$summary" || fail "support summary carries inputs"
ok "MIG-6 run history: details after CMK only, CSV old and new, support summary"

# remedies: Save as for an HTTP flow (new URL, CMK side), V2 for List flows, delete the rest
copy=$(cmkctl flow save-as --env "$env" http-trigger-echo --name "Echo (CMK)" --json)
[ "$(json_get "$copy" 'j["id"]')" != http-trigger-echo ] || fail "save-as kept the id"
cmkctl flow list --env "$env" --json | json_get "$(cat)" '[f for f in j["items"] if f["name"]=="Echo (CMK)"][0]["protected_by"]' | qgrep -q customer || fail "the copy is not on the CMK side"
for f in http-trigger-echo teams-trigger powerapps-v1 level3 level2 level1; do cmkctl flow delete --env "$env" "$f" >/dev/null; done
cmkctl flow update --env "$env" list-flows-admin-v1 --file "$SRC/configs/flows/list-flows-admin-v2.json" >/dev/null
cmkctl support protect-flows --env "$env" >/dev/null || fail "protect-flows"
[ "$(json_get "$(cmkctl flows mmk --env "$env" --json)" 'len(j["items"])')" = 0 ] || fail "flows left on the MMK"
! cmkctl env cmk-status "$env" | qgrep -q "still protected with the Microsoft Managed Key" || fail "warning did not disappear"
ok "MIG-7 remedies applied, the warning disappears"

cmkctl clock advance 31d >/dev/null
out=$(cmkctl support run-history --env "$env" 2>&1 || true)
grep -q "up to 30 days after migration" <<<"$out" || fail "support run history after 30 days: $out"
ok "MIG-8 run history by support ticket refused after 30 days"
