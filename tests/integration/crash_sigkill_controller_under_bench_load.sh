#!/usr/bin/env bash
# Rule CRASH-4: `cmk-bench load` keeps going when the controller is SIGKILLed under it and
# started again on the same run dir (`cmkctl up`): the bench reconnects by itself, the runs in
# flight at the crash are failures by cause (no reply within the request timeout), never lost
# runs; afterwards run.show finds every acknowledged run (runs_lost 0), no client request of the
# bench is held by two runs, and every partition and controller.db pass `PRAGMA integrity_check`.
# CRASH_SEED=N replays the kill point.
. "$(dirname "$0")/lib.sh"

CRASH_SEED=${CRASH_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
echo "CRASH_SEED=$CRASH_SEED"
RANDOM=$CRASH_SEED

cmkctl up >/dev/null
python3 - "$SRC/configs/workloads/smoke.json" "$RUN/crash.json" "$SRC/configs/flows/manual-compose.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
w.update(name="crash", clients=4, connections=2, request_timeout="3s",
         phases=[{"name": "closed", "duration": "6s"}], verify="all")
w["environments"]["count"] = 2
w["flows"]["definition"] = sys.argv[3]
json.dump(w, open(sys.argv[2], "w"))
PY
# (bounded: a bench that never reconnects would wait for ever)
timeout 120 "$BIN/cmk-bench" load --run-dir "$RUN" --workload "$RUN/crash.json" --json "$RUN/load.json" \
    >"$RUN/load.out" 2>"$RUN/load.err" &
bench=$!
trap 'rc=$?; set +e; kill "$bench" 2>/dev/null; wait; (exit $rc); cleanup' EXIT

# once runs flow (the bench has set up its environments), at a seeded moment
runs_acked() { grep -q "runs/s" "$RUN/load.err"; }
wait_until 30 runs_acked || fail "the bench never got going: $(tail -5 "$RUN/load.err")"
sleep "$(( RANDOM % 2 )).$(( RANDOM % 10 ))"
no_daemons() { ! pgrep -f -- "/cmk-[a-z]+ --run-dir $RUN( |\$)" >/dev/null; }
pid=$(cat "$RUN/controller.pid")
kill -9 "$pid"
echo "SIGKILL controller (pid $pid) under the bench"
wait_until 15 no_daemons || fail "processes left after the controller died: $(procs_of_run)"
cmkctl up >/dev/null || fail "cmkctl up again after the controller's SIGKILL"
wait "$bench" || fail "cmk-bench load failed after the controller came back: $(tail -5 "$RUN/load.err")"
python3 - "$RUN/load.json" <<'PY' || fail "runs lost or unexpected failures: $(tail -5 "$RUN/load.err")"
import json, sys
j = json.load(open(sys.argv[1]))
v = j["verify"]
assert j["runs_lost"] == 0, v
assert v["found"] == v["acknowledged"] > 0 and v["errors"] == 0, v
assert set(j["failures"]) <= {"timeout"}, (j["failures"], j["failure_examples"])
print("acknowledged %d, found %d, in flight at the crash (timeout) %d"
      % (v["acknowledged"], v["found"], j["failures"].get("timeout", 0)))
PY
# the bench kept running after the restart: runs acknowledged by the new controller
after=$(awk '/event=start role=worker/ { n = 0 } /event=run.ended/ { n++ } END { print n + 0 }' "$RUN/logs/worker-shared.log")
[ "$after" -gt 0 ] || fail "no run ended on the worker started after the crash"
ok "the bench reconnected, no acknowledged run lost"

cmkctl down >/dev/null
python3 - "$RUN" <<'PY' || fail "a bench client request applied twice"
import glob, sqlite3, sys
seen = {}
for db in glob.glob(sys.argv[1] + "/partitions/*/*/partition.db"):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    for flow, creq, n in con.execute("SELECT flow_id, client_req, COUNT(*) FROM runs WHERE client_req <> ''"
                                     " GROUP BY flow_id, client_req"):
        seen[(db.split("/")[-3], flow, creq)] = seen.get((db.split("/")[-3], flow, creq), 0) + n
    con.close()
twice = [k for k, n in seen.items() if n > 1]
assert seen and not twice, twice[:5]
PY
r=$(sqlite3 "$RUN/controller.db" 'PRAGMA integrity_check' 2>&1)
[ "$r" = ok ] || fail "integrity_check of controller.db: $r"
for db in "$RUN"/partitions/*/*/partition.db; do
    r=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)
    [ "$r" = ok ] || fail "integrity_check of $db: $r"
done
ok "no client request applied twice; partitions and controller.db pass integrity_check (CRASH_SEED=$CRASH_SEED)"
