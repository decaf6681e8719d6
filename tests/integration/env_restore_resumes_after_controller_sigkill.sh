#!/usr/bin/env bash
# Rule ENVOP-7: a restore interrupted by a controller SIGKILL (here while the target's worker
# is stopped, so the restore is certainly under way) is recorded in controller.db and starts
# again when the controller is back: the target ends with exactly the backed-up flows, nothing
# duplicated, and the operation is audited. While it is under way, another operation on the
# same environment is refused. (heartbeat.liveness is raised so that the stopped worker is not
# taken for dead and restarted, which would let the first restore finish.)
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set heartbeat.liveness=60 >/dev/null
setup_cmk contoso unitedstates
a=$(new_env SandA contoso unitedstates sandbox --managed)
b=$(new_env SandB contoso unitedstates sandbox --managed)
cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id greet --name "Canary Greeting Flow" >/dev/null
cmkctl flow create --env "$a" --file "$SRC/configs/flows/recurrence-compose.json" --id beat --name "Canary Heartbeat" >/dev/null
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null
cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id bonly --name "B Only" >/dev/null
bak=$(json_get "$(cmkctl env backup "$a" --json)" 'j["id"]')

names_of() { json_get "$(cmkctl flow list --env "$1" --json)" '" | ".join(sorted(f["name"] for f in j["items"]))'; }
ops() { python3 -c "import sqlite3,sys; print(' '.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\"SELECT status FROM env_ops WHERE kind='env.restore' ORDER BY started, status\")))" "$RUN/controller.db"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
restored() { [ "$(names_of "$b")" = "Canary Greeting Flow | Canary Heartbeat" ]; }

wpid=$(pgrep -f -- "--run-dir $RUN .*--name worker-$b( |$)")
[ -n "$wpid" ] || fail "no dedicated worker for $b"
kill -STOP "$wpid"
cmkctl --timeout 1s env restore "$bak" --to "$b" --yes >/dev/null 2>&1 && fail "the restore answered while the target's worker was stopped"
[ "$(ops)" = Running ] || fail "the restore is not recorded as running: $(ops)"
out=$(cmkctl env copy "$a" "$b" --yes 2>&1) && fail "a copy over an environment being restored was allowed: $out"
grep -qF "under way" <<<"$out" || fail "a second operation on the same environment: $out"
cpid=$(cat "$RUN/controller.pid")
kill -9 "$cpid"
kill -CONT "$wpid"
wait_until 20 gone "$cpid" || fail "controller still alive"
wait_until 20 gone "$wpid" || fail "the old worker outlived its controller"

cmkctl up --set clock.mode=virtual --set heartbeat.liveness=60 >/dev/null
wait_until 20 restored || fail "the restore did not finish after the restart: B has $(names_of "$b")"
[ "$(ops)" = "Resumed Succeeded" ] || fail "operation records after the restart: $(ops)"
[ "$(names_of "$a")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "the source changed: $(names_of "$a")"
gid=$(json_get "$(cmkctl flow list --env "$b" --json)" '[f["id"] for f in j["items"] if f["name"]=="Canary Greeting Flow"][0]')
[ "$(json_get "$(cmkctl flow run --env "$b" "$gid" --body '{"text":"b"}' --json)" 'j["status"]')" = Succeeded ] || fail "restored flow does not run"
cmkctl audit list --operation env.restore --json | qgrep -q '"result":[[:space:]]*"ok"' || fail "the resumed restore is not audited"
ok "ENVOP-7 a restore interrupted by a controller SIGKILL starts again after the restart and ends with exactly the backed-up flows"
