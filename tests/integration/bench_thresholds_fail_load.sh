#!/usr/bin/env bash
# Rule BENCH-TH: a workload's thresholds decide cmk-bench load's exit status, as k6's do. The
# smoke workload with thresholds it meets exits 0; with one it cannot meet (a billion runs/s,
# a p99 of 0 ms) it exits 1, naming the phase, the measure and the bound - after writing its
# report. (The bounds are set so that no machine is fast or slow enough to flip the result.)
. "$(dirname "$0")/lib.sh"

wl() { python3 - "$SRC/configs/workloads/smoke.json" "$1" <<'PY'
import json, os, sys
w = json.load(open(sys.argv[1]))
w["flows"]["definition"] = os.path.join(os.path.dirname(sys.argv[1]), w["flows"]["definition"])
w["phases"] = [{"name": "closed", "duration": "1s"}]
w["thresholds"] = json.loads(sys.argv[2])
print(json.dumps(w))
PY
}
wl '{"failed_pct": 100, "p99_ms": 1000000000}' >"$RUN/meets.json"
wl '{"runs_s": 1000000000}' >"$RUN/runs.json"
wl '{"p99_ms": 0}' >"$RUN/p99.json"

cmkctl up >/dev/null
"$BIN/cmk-bench" load --run-dir "$RUN" --workload "$RUN/meets.json" --json "$RUN/meets.out.json" >/dev/null 2>"$RUN/meets.err" \
    || fail "thresholds met, yet exit $?: $(tail -3 "$RUN/meets.err")"
ok "thresholds met: exit 0"

for t in runs p99; do
    rc=0; "$BIN/cmk-bench" load --run-dir "$RUN" --workload "$RUN/$t.json" --json "$RUN/$t.out.json" >/dev/null 2>"$RUN/$t.err" || rc=$?
    [ $rc = 1 ] || fail "$t threshold not met, yet exit $rc: $(tail -3 "$RUN/$t.err")"
    grep -q "threshold not met: phase closed" "$RUN/$t.err" || fail "$t: $(tail -3 "$RUN/$t.err")"
    [ -s "$RUN/$t.out.json" ] || fail "$t: no report written before the threshold failed the run"
done
grep -q "under the workload's runs_s 1000000000" "$RUN/runs.err" || fail "runs_s message: $(tail -1 "$RUN/runs.err")"
grep -q "over the workload's p99_ms 0.00" "$RUN/p99.err" || fail "p99_ms message: $(tail -1 "$RUN/p99.err")"
ok "a threshold not met (runs_s, p99_ms): exit 1 naming the phase, the measure and the bound; the report is written"
