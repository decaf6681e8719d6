#!/usr/bin/env bash
# Rule LIVE-3 (issue 15): every run ends. A child-flow action whose child is missing or turned
# off fails at once with a clear error and the run goes on by its runAfter rules; a flow that
# calls itself three times per level makes a bounded number of runs (run.max_descendants) and
# ends; flow create refuses a child that does not exist; a run still Running past run.timeout is
# failed by the sweeper (cluster clock). Also LIVE-1b: a flow whose Compose doubles a 1 KiB input
# to 128 MiB fails with "the run's data passed 16 MiB" while the worker keeps serving (no restart).
. "$(dirname "$0")/lib.sh"

# a loopback listener that accepts and never answers (the sweeper's hanging HTTP action)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
timeout 120 python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(8); held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
hang_pid=$!
trap 'kill $hang_pid 2>/dev/null || true; cleanup' EXIT

cmkctl up --set run.timeout=2s --set egress.timeout=60s >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --managed --json)" 'j["id"]')
pid0=$(json_get "$(cmkctl status --json)" '[p["pid"] for p in j["processes"] if p["name"]=="worker-shared"][0]')

cd "$RUN"
manual='"triggers":{"manual":{"type":"Request","kind":"Button"}}'
call() { printf '"%s":{"type":"Workflow","inputs":{"host":{"workflowReferenceName":"%s"}},"runAfter":{}}' "$1" "$2"; }
printf '{%s,"actions":{"A":{"type":"Compose","inputs":"kid","runAfter":{}}}}' "$manual" > kid.json
printf '{%s,"actions":{%s,"Handle":{"type":"Compose","inputs":"handled","runAfter":{"Call":["Failed"]}}}}' \
    "$manual" "$(call Call kid)" > parent.json

# flow create refuses a child that does not exist (as the designer does)
out=$(cmkctl flow create --env "$env" --file parent.json --id parent 2>&1 || true)
grep -q "calls child flow 'kid', which does not exist in environment" <<<"$out" || fail "create with a missing child: $out"
ok "flow create refuses a missing child"
cmkctl flow create --env "$env" --file kid.json --id kid >/dev/null
cmkctl flow create --env "$env" --file parent.json --id parent >/dev/null

t0=$SECONDS
cmkctl flow disable --env "$env" kid >/dev/null
r=$(cmkctl flow run --env "$env" parent --json)
[ "$(json_get "$r" 'j["status"]')" = Succeeded ] || fail "a handled disabled child: $r"
grep -q "turned off" <<<"$(json_get "$r" 'j.get("action_error","")')" || fail "disabled child error: $r"
cmkctl flow delete --env "$env" kid >/dev/null
r=$(cmkctl flow run --env "$env" parent --json)
[ "$(json_get "$r" 'j["status"]')" = Succeeded ] || fail "a handled missing child: $r"
grep -q "does not exist" <<<"$(json_get "$r" 'j.get("action_error","")')" || fail "missing child error: $r"
(( SECONDS - t0 < 90 )) || fail "the child-flow failures took $((SECONDS - t0)) s"
ok "a disabled or missing child fails its action at once; runAfter Failed runs"

# a flow that calls itself three times per level: bounded runs, the run ends
printf '{%s,"actions":{%s,%s,%s}}' "$manual" "$(call A selfie)" "$(call B selfie)" "$(call C selfie)" > selfie.json
cmkctl flow create --env "$env" --file selfie.json --id selfie >/dev/null
r=$(cmkctl flow run --env "$env" selfie --json)
[ "$(json_get "$r" 'j["status"]')" = Failed ] || fail "self-calling flow: $r"
wait_until 30 bash -c "[ \"\$('$BIN/cmkctl' --run-dir '$RUN' run list --env '$env' --flow selfie --json | python3 -c 'import json,sys; print(sum(1 for x in json.load(sys.stdin)[\"items\"] if x[\"status\"]==\"Running\"))')\" = 0 ]" \
    || fail "self-calling runs still Running"
n=$(json_get "$(cmkctl run list --env "$env" --flow selfie --json)" 'len(j["items"])')
[ "$n" -le 101 ] || fail "self-calling flow made $n runs (over 1 + run.max_descendants)"
ok "self-calling flow: $n runs, all ended"

# the data budget: a ~2 KB flow doubling a 1 KiB input to 128 MiB fails fast, clearly
acts='"D1":{"type":"Compose","inputs":"@concat(triggerBody()[%27t%27],triggerBody()[%27t%27])","runAfter":{}}'
for i in $(seq 2 17); do
    acts="$acts,\"D$i\":{\"type\":\"Compose\",\"inputs\":\"@concat(outputs(%27D$((i-1))%27),outputs(%27D$((i-1))%27))\",\"runAfter\":{\"D$((i-1))\":[\"Succeeded\"]}}"
done
printf '{%s,"actions":{%s}}' "$manual" "$acts" | sed "s/%27/'/g" > double.json
cmkctl flow create --env "$env" --file double.json --id double >/dev/null
kib=$(python3 -c 'print("x" * 1024)')
t0=$SECONDS
r=$(cmkctl flow run --env "$env" double --body "{\"t\":\"$kib\"}" --json)
[ "$(json_get "$r" 'j["status"]')" = Failed ] || fail "doubling flow: $r"
grep -q "the run's data passed 16 MiB" <<<"$(json_get "$r" 'j["error"]["message"]')" || fail "budget message: $r"
(( SECONDS - t0 < 90 )) || fail "the doubling flow took $((SECONDS - t0)) s"
ok "data budget: $(json_get "$r" 'j["error"]["message"]')"

# the sweeper: an HTTP action that never gets an answer; run.timeout=2s fails the run
printf '{%s,"actions":{"Hang":{"type":"Http","inputs":{"method":"GET","uri":"http://127.0.0.1:%s/hang"},"runAfter":{}}}}' \
    "$manual" "$port" > hang.json
cmkctl flow create --env "$env" --file hang.json --id hang >/dev/null
t0=$SECONDS
r=$(cmkctl flow run --env "$env" hang --json)
[ "$(json_get "$r" 'j["status"]')" = Failed ] || fail "hanging run: $r"
grep -q "run.timeout" <<<"$(json_get "$r" 'j["error"]["message"]')" || fail "sweeper message: $r"
ok "the sweeper failed a run past run.timeout after $((SECONDS - t0)) s"

# the shared worker kept serving throughout: never restarted
pid1=$(json_get "$(cmkctl status --json)" '[p["pid"] for p in j["processes"] if p["name"]=="worker-shared"][0]')
[ "$pid0" = "$pid1" ] || fail "the shared worker restarted ($pid0 -> $pid1)"
[ "$(json_get "$(cmkctl flow run --env "$env" parent --json)" 'j["status"]')" = Succeeded ] || fail "a normal run after"
ok "LIVE-2 no worker restart: heartbeats were never starved by the runs"
