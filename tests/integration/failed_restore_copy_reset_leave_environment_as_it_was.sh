#!/usr/bin/env bash
# Rule ENVOP-8 (issue 16, item 4): a restore, copy or reset that fails part-way leaves the target
# environment exactly as it was - its flows (listed, runnable), its runs, `env show`, its data
# keys - says why in words a person can act on (cmkctl exits nonzero), and can be run again.
# The flows go into a staging area in every partition of the target and are swapped in only
# once all are there and the commit is recorded; past the commit the operation only goes
# forward, also across a controller SIGKILL. envops.step_gate holds each step (one flow staged,
# or the commit) until <run>/envops.step exists, so the failures land mid-way for certain:
#   restore: the target's dedicated worker is stopped with a flow on its way, then SIGKILLed;
#   copy:    the customer key is disabled after the first flow is staged;
#   reset:   the dedicated worker does not answer (nothing deleted); then a reset whose commit
#            is under way when the controller is SIGKILLed finishes after the restart.
# (heartbeat.liveness is raised so that a stopped worker is not taken for dead meanwhile.)
. "$(dirname "$0")/lib.sh"

UP=(--set clock.mode=virtual --set envops.step_gate=true --set request.timeout=3s --set heartbeat.liveness=60)
cmkctl up "${UP[@]}" >/dev/null
setup_cmk contoso unitedstates
a=$(new_env SandA contoso unitedstates sandbox --managed)
b=$(new_env SandB contoso unitedstates sandbox --managed)
cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id greet --name "Canary Greeting Flow" >/dev/null
cmkctl flow create --env "$a" --file "$SRC/configs/flows/recurrence-compose.json" --id beat --name "Canary Heartbeat" >/dev/null
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null
cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id bonly --name "B Only" >/dev/null
cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id bsecond --name "B Second" >/dev/null
rid=$(json_get "$(cmkctl flow run --env "$b" bonly --body '{"text":"history"}' --json)" 'j["run"]')
bak=$(json_get "$(cmkctl env backup "$a" --json)" 'j["id"]')
bak_b=$(json_get "$(cmkctl env backup "$b" --json)" 'j["id"]')

names_of() { json_get "$(cmkctl flow list --env "$1" --json)" '" | ".join(sorted(f["name"] for f in j["items"]))'; }
deks_of() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT group_concat(id || kek_kind || coalesce(kek_version,'') || hex(wrapped) || state, ',') FROM (SELECT * FROM deks WHERE env = ? ORDER BY id)\", (sys.argv[2],)).fetchone()[0])" "$RUN/controller.db" "$1"; }
op_of() { python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(\"SELECT status, phase, message FROM env_ops WHERE kind=? ORDER BY started DESC, rowid DESC LIMIT 1\", (sys.argv[2],)).fetchone(); print(r[0], r[1], r[2])" "$RUN/controller.db" "$1"; }
worker_pid() { pgrep -f -- "--run-dir $RUN .*--name worker-$1( |$)"; }
gated() { grep -q "event=envops.gated .*op=$1 .*step=$2 staged=$3 " "$RUN/logs/controller.log"; }
consumed() { [ ! -e "$RUN/envops.step" ]; }
step() { touch "$RUN/envops.step"; wait_until 20 consumed || fail "the operation did not take its step"; }
finished() { [ -s "$RUN/$1.rc" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# run_bg NAME CMD... - a cmkctl command in the background; its output in NAME.out, status in NAME.rc
run_bg() { local n=$1; shift; rm -f "$RUN/$n.rc"; ( rc=0; cmkctl --timeout 120s "$@" >"$RUN/$n.out" 2>&1 || rc=$?; echo $rc >"$RUN/$n.rc" ) & }
snapshot() { # what must not change: names, show, data keys, the run, the backups
    echo "names=$(names_of "$b")"
    echo "show=$(cmkctl env show "$b" --json)"
    echo "deks=$(deks_of "$b")"
    echo "run=$(json_get "$(cmkctl run show --env "$b" "$rid" --json)" 'j.get("status"), j.get("run", j.get("id"))')"
    echo "backups=$(json_get "$(cmkctl env backups "$b" --json)" '[x["id"] for x in j["items"]]')"
}
as_it_was() { # WHAT
    local now
    now=$(snapshot)
    [ "$now" = "$before" ] || fail "$1: the environment changed:$(diff <(echo "$before") <(echo "$now"))"
    [ "$(json_get "$(cmkctl flow run --env "$b" bonly --body '{"text":"after"}' --json)" 'j["status"]')" = Succeeded ] ||
        fail "$1: B's flow does not run"
    cmkctl run show --env "$b" "$rid" --json | qgrep -q history || fail "$1: B's run history lost"
}
before=$(snapshot)
[ "$(names_of "$b")" = "B Only | B Second" ] || fail "setup: B has $(names_of "$b")"

# ---- restore: the target's dedicated worker hangs with the second flow on its way, then dies
run_bg r1 env restore "$bak" --to "$b" --yes
step
wait_until 20 gated env.restore put 1 || fail "the restore did not stage its first flow"
wpid=$(worker_pid "$b")
[ -n "$wpid" ] || fail "no dedicated worker for $b"
kill -STOP "$wpid"
step                      # the second flow is sent to the stopped worker: no answer
wait_until 60 finished r1 || fail "the failed restore did not answer"
kill -9 "$wpid"           # ... which then dies
[ "$(cat "$RUN/r1.rc")" != 0 ] || fail "cmkctl env restore exited 0 after the worker died: $(cat "$RUN/r1.out")"
grep -qF "Restoring backup $bak into $b failed and changed nothing" "$RUN/r1.out" || fail "restore failure says: $(cat "$RUN/r1.out")"
grep -qF "Run it again" "$RUN/r1.out" || fail "restore failure does not say what to do: $(cat "$RUN/r1.out")"
op_of env.restore | qgrep -q "^Failed prepare .*changed nothing" || fail "env_ops: $(op_of env.restore)"
last_op() { json_get "$(cmkctl env backups "$b" --json)" 'j["operations"][0]["kind"], j["operations"][0]["status"], j["operations"][0]["message"]'; }
last_op | qgrep -q "^env.restore Failed Restoring backup $bak into $b failed and changed nothing" || fail "env backups does not show why: $(last_op)"
cmkctl env backups "$b" | qgrep -q "Latest operations" || fail "env backups does not list the operations"
worker_ready() {
    local p; p=$(worker_pid "$b"); [ -n "$p" ] && [ "$p" != "$wpid" ] &&
    [ "$(json_get "$(cmkctl status --json)" "[p.get('state') for p in (j['processes'] if isinstance(j, dict) else j) if p['name'] == 'worker-$b'][0]")" = ready ]
}
wait_until 30 worker_ready || fail "the dedicated worker was not restarted"
as_it_was "after the failed restore"
ok "ENVOP-8 a restore whose target worker hangs and dies mid-way leaves the environment as it was and says why (exit nonzero)"

# run again; this time the worker is SIGKILLed between two flows: the staging area is durable,
# the restarted worker takes the rest, and the restore ends with exactly the backed-up flows
run_bg r2 env restore "$bak" --to "$b" --yes
step
wait_until 20 gated env.restore put 1 || fail "the re-run did not stage its first flow"
wpid=$(worker_pid "$b")
kill -9 "$wpid"
wait_until 30 worker_ready || fail "the dedicated worker was not restarted"
[ "$(names_of "$b")" = "B Only | B Second" ] || fail "B changed while its restore was staged: $(names_of "$b")"
step; step                 # the second flow, then the commit
wait_until 60 finished r2 || fail "the re-run restore did not answer"
[ "$(cat "$RUN/r2.rc")" = 0 ] || fail "the re-run restore failed: $(cat "$RUN/r2.out")"
[ "$(names_of "$b")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "B after the re-run restore: $(names_of "$b")"
gid=$(json_get "$(cmkctl flow list --env "$b" --json)" '[f["id"] for f in j["items"] if f["name"]=="Canary Greeting Flow"][0]')
[ "$(json_get "$(cmkctl flow run --env "$b" "$gid" --body '{"text":"b"}' --json)" 'j["status"]')" = Succeeded ] || fail "restored flow does not run"
ok "ENVOP-8 the restore runs again and succeeds, also across a worker SIGKILL between two flows"

# B back to its own flows for the next case (its backup, stepped through)
run_bg r3 env restore "$bak_b" --yes
step; step; step
wait_until 60 finished r3 && [ "$(cat "$RUN/r3.rc")" = 0 ] || fail "restoring B's own backup: $(cat "$RUN/r3.out")"
[ "$(names_of "$b")" = "B Only | B Second" ] || fail "B after its own restore: $(names_of "$b")"
rid=$(json_get "$(cmkctl flow run --env "$b" bonly --body '{"text":"history"}' --json)" 'j["run"]')
before=$(snapshot)

# ---- copy: the customer key is disabled after the first flow is staged
run_bg c1 env copy "$a" "$b" --yes
step
wait_until 20 gated env.copy put 1 || fail "the copy did not stage its first flow"
cmkctl key disable "$VAULT" "$KEY" >/dev/null
[ "$(env_field "$b" state)" = Locked ] || fail "B not locked by the disabled key"
step
wait_until 60 finished c1 || fail "the failed copy did not answer"
[ "$(cat "$RUN/c1.rc")" != 0 ] || fail "cmkctl env copy exited 0 with the key disabled: $(cat "$RUN/c1.out")"
grep -qF "Copying $a over $b failed and changed nothing" "$RUN/c1.out" || fail "copy failure says: $(cat "$RUN/c1.out")"
grep -qF "cmkctl env reenable $b" "$RUN/c1.out" || fail "copy failure does not say to re-enable: $(cat "$RUN/c1.out")"
cmkctl key enable "$VAULT" "$KEY" >/dev/null
cmkctl env reenable "$a" >/dev/null && cmkctl env reenable "$b" >/dev/null
cmkctl clock advance 5m >/dev/null
ready() { [ "$(env_field "$b" state)" = Ready ] && [ "$(env_field "$a" state)" = Ready ]; }
wait_until 30 ready || fail "not Ready after re-enable: $(cmkctl env cmk-status "$b")"
as_it_was "after the failed copy"
ok "ENVOP-8 a copy interrupted by a disabled key leaves the environment as it was and names the remedy"

run_bg c2 env copy "$a" "$b" --yes
step; step; step
wait_until 60 finished c2 || fail "the re-run copy did not answer"
[ "$(cat "$RUN/c2.rc")" = 0 ] || fail "the re-run copy failed: $(cat "$RUN/c2.out")"
[ "$(names_of "$b")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "B after the re-run copy: $(names_of "$b")"
ok "ENVOP-8 the copy runs again and succeeds"

run_bg r4 env restore "$bak_b" --yes
step; step; step
wait_until 60 finished r4 && [ "$(cat "$RUN/r4.rc")" = 0 ] || fail "restoring B's own backup: $(cat "$RUN/r4.out")"
rid=$(json_get "$(cmkctl flow run --env "$b" bonly --body '{"text":"history"}' --json)" 'j["run"]')
before=$(snapshot)

# ---- reset: a worker that does not answer fails it before anything is deleted
wpid=$(worker_pid "$b")
kill -STOP "$wpid"
out=$(cmkctl --timeout 60s env reset "$b" --yes 2>&1) && fail "reset succeeded with a stopped worker: $out"
grep -qF "Resetting $b failed and changed nothing" <<<"$out" || fail "reset failure says: $out"
kill -CONT "$wpid"
as_it_was "after the failed reset"
[ "$(env_field "$b" encryption)" = customer ] || fail "the failed reset changed the encryption"
ok "ENVOP-8 a reset that can't reach every partition deletes nothing"

# ---- reset: the controller dies while the commit is under way; the restart finishes it
run_bg x1 env reset "$b" --yes
wait_until 20 gated env.reset swap 0 || fail "the reset did not reach its commit"
kill -STOP "$wpid"
step                                   # commit: the shared partition swaps, the dedicated can't
commit_seen() { op_of env.reset | qgrep -q "^Running commit"; }
wait_until 20 commit_seen || fail "the reset did not commit: $(op_of env.reset)"
cpid=$(cat "$RUN/controller.pid")
kill -9 "$cpid"
kill -9 "$wpid"
wait_until 20 gone "$cpid" || fail "controller still alive"
cmkctl up "${UP[@]}" >/dev/null
reset_done() { op_of env.reset | qgrep -q "^Succeeded commit"; }
wait_until 60 reset_done || fail "the interrupted reset was not finished after the restart: $(op_of env.reset)"
op_of env.reset | qgrep -qF "finished after a controller restart" || fail "env_ops: $(op_of env.reset)"
[ -z "$(names_of "$b")" ] || fail "flows left after the rolled-forward reset: $(names_of "$b")"
[ "$(json_get "$(cmkctl env backups "$b" --json)" 'len(j["items"])')" = 0 ] || fail "backups left after the reset"
on_mmk() { [ "$(json_get "$(cmkctl env show "$1" --json)" 'j["encryption"], j["policy"], j["state"]')" = "microsoft None Ready" ]; }
wait_until 30 on_mmk "$b" || fail "not back on the Microsoft-managed key after the reset: $(cmkctl env show "$b")"
[ "$(names_of "$a")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "A changed: $(names_of "$a")"
ok "ENVOP-8 a reset past its commit when the controller is SIGKILLed is finished after the restart, nothing half-deleted"
