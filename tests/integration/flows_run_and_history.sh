#!/usr/bin/env bash
# Rules FLOW-1..6: flows of every trigger and action kind are created (validated at save time)
# and run through the controller on the worker that serves their environment; child flows
# answer their parent with a Response; run history lists runs and shows each in full; the
# "All runs" CSV export caps at 100; a retried submission runs once; an acknowledged run
# survives a SIGKILL of the worker; the partition file holds no flow content in the clear.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --managed --json)" 'j["id"]')

# every sample, with its file name as id (the parent refers to its child by id)
for f in "$SRC"/configs/flows/*.json; do
    id=$(basename "$f" .json)
    cmkctl flow create --env "$env" --file "$f" --id "$id" >/dev/null || fail "create $id"
done
[ "$(json_get "$(cmkctl flow list --env "$env" --json)" 'len(j["items"])')" = "$(ls "$SRC"/configs/flows/*.json | wc -l)" ] || fail "flow count"
ok "every sample saved"

# a definition that is not valid is refused with the path of its first error
bad='{"triggers":{"manual":{"type":"Request","kind":"Button"}},"actions":{"A":{"type":"Compose","inputs":1,"runAfter":{"Nope":["Succeeded"]}}}}'
echo "$bad" > "$RUN/bad.json"
out=$(cmkctl flow create --env "$env" --file "$RUN/bad.json" 2>&1 || true)
grep -q "actions.A.runAfter" <<<"$out" || fail "invalid definition message: $out"
ok "invalid definition refused with its path"

run_status() { json_get "$(cmkctl flow run --env "$env" "$1" ${2:+--body "$2"} --json)" 'j["status"]'; }
[ "$(run_status manual-compose '{"text":"Ada"}')" = Succeeded ] || fail "manual-compose"
[ "$(run_status powerapps-v2 '{"text":"order","number":3}')" = Succeeded ] || fail "powerapps-v2"
[ "$(run_status powerapps-v1 '{"Compose_Inputs":"x"}')" = Succeeded ] || fail "powerapps-v1"
[ "$(run_status teams-trigger)" = Succeeded ] || fail "teams-trigger"
[ "$(run_status recurrence-compose)" = Succeeded ] || fail "recurrence-compose"
[ "$(run_status list-flows-admin-v2)" = Succeeded ] || fail "list flows v2"
[ "$(run_status list-flows-admin-v1)" = Succeeded ] || fail "list flows v1"
[ "$(run_status condition-terminate)" != "" ] || fail "condition-terminate"
parent=$(cmkctl flow run --env "$env" child-parent --body '{"number":2}' --json)
[ "$(json_get "$parent" 'j["status"]')" = Succeeded ] || fail "child flow: $parent"
echo_run=$(cmkctl flow run --env "$env" http-trigger-echo --body '{"hello":"world"}' --json)
[ "$(json_get "$echo_run" 'j["response"]["statusCode"]')" = 200 ] || fail "Response action: $echo_run"
ok "every trigger and action kind runs; child flows answer their parent"

# run history: the list, and one run in full with its inputs and outputs
rid=$(json_get "$(cmkctl flow run --env "$env" manual-compose --body '{"text":"Grace Hopper"}' --json)" 'j["run"]')
cmkctl run list --env "$env" --flow manual-compose | qgrep -q "$rid" || fail "run list"
show=$(cmkctl run show --env "$env" "$rid" --json)
grep -q "Grace Hopper" <<<"$show" || fail "run show lacks the trigger input"
ok "FLOW-2 run history"

# a retried submission (same client request id) runs once
a=$(json_get "$(cmkctl flow run --env "$env" manual-compose --client-req req-42 --json)" 'j["run"]')
b=$(cmkctl flow run --env "$env" manual-compose --client-req req-42 --json)
[ "$(json_get "$b" 'j["run"]')" = "$a" ] && [ "$(json_get "$b" 'j.get("duplicate")')" = True ] || fail "retry ran twice: $b"
ok "FLOW-4 retried submission runs once"

# the CSV export caps at 100 records
for i in $(seq 1 105); do cmkctl flow run --env "$env" manual-compose --client-req "csv-$i" >/dev/null; done
cmkctl run export-csv --env "$env" --flow manual-compose --out "$RUN/runs.csv" >/dev/null
rows=$(python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))) - 1)" "$RUN/runs.csv")
[ "$rows" = 100 ] || fail "CSV has $rows records"
ok "FLOW-3 CSV export caps at 100"

# nothing of the flows' content is in the clear on disk
part="$RUN/partitions/$env/shared"
[ "$(stat -c %a "$part")" = 700 ] || fail "partition dir not 0700"
[ "$(stat -c %a "$part/partition.db")" = 600 ] || fail "partition file not 0600"
for needle in "Grace Hopper" "Survivor" "hello" "workflowReferenceName" "triggerBody"; do
    if cat "$part"/partition.db* | grep -aq "$needle"; then fail "'$needle' found in the clear in the partition"; fi
done
ok "FLOW-6 partition holds no flow content in the clear"

# an acknowledged run survives a SIGKILL of the worker
rid=$(json_get "$(cmkctl flow run --env "$env" manual-compose --body '{"text":"Survivor"}' --json)" 'j["run"]')
wpid=$(json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name']=='worker-shared'][0]")
kill -9 "$wpid"
back() { cmkctl run show --env "$env" "$rid" --json >/dev/null 2>&1; }
wait_until 20 back || fail "run lost after SIGKILL"
grep -q Survivor <<<"$(cmkctl run show --env "$env" "$rid" --json)" || fail "run content lost"
ok "FLOW-5 acknowledged run survives SIGKILL; worker comes back with its history"
