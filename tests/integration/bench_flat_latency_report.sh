#!/usr/bin/env bash
# BENCH-FLAT: configs/workloads/flat-latency.json run small (--scale 0.02: phases of 0.2 s;
# --fill 4000: the fill phase runs until the partition holds 4,000 runs) on a real cluster.
# The report (JSON and Markdown) has the comparison row "p99 at 5,000 runs/s on a partition of
# 4,000 runs within 1.5x of a fresh partition" with both p99s, both p50s and their ratio; the
# "full" phase starts on a partition of exactly the fill (less any run not acknowledged,
# on an overloaded machine) and the environment's run list holds every acknowledged run; a sample is verified and no run is
# lost. Nothing asserts on speed (met or not is the machine's business).
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
"$BIN/cmk-bench" load --run-dir "$RUN" --workload "$SRC/configs/workloads/flat-latency.json" \
    --scale 0.02 --fill 4000 --json "$RUN/flat.json" --md "$RUN/flat.md" >"$RUN/flat.out" 2>"$RUN/flat.err" \
    || fail "cmk-bench load flat-latency: $(tail -5 "$RUN/flat.err")"
grep -q "phase fill: filling to 4000 runs" "$RUN/flat.err" || fail "no fill line: $(cat "$RUN/flat.err")"
env=$(json_get "$(cmkctl env list --json)" "[e['id'] for e in j['items'] if e['name'].startswith('flat-')][0]")
listed=$(json_get "$(cmkctl run list --env "$env" --json)" "len(j['items'])")
python3 - "$RUN/flat.json" "$listed" <<'PY' || fail "flat-latency report: $(tail -5 "$RUN/flat.err")"
import json, sys
j, listed = json.load(open(sys.argv[1])), int(sys.argv[2])
ph = {p["name"]: p for p in j["phases"]}
assert list(ph) == ["fresh", "fill", "full"], list(ph)
assert ph["fresh"]["rate"] == 5000 and ph["full"]["rate"] == 5000, ph
assert ph["fill"]["until_runs"] == 4000 and ph["fill"]["rate"] == 0, ph["fill"]
assert ph["fresh"]["runs_before"] == 2, ph["fresh"]           # one warm-up run per flow
assert ph["fresh"]["acknowledged"] < 4000 - 2, ("the fresh phase filled it already", ph["fresh"])
fill = ph["fill"]
assert fill["submitted"] == 4000 - fill["runs_before"], fill    # just what the fill lacked
assert ph["full"]["runs_before"] == 2 + ph["fresh"]["acknowledged"] + fill["acknowledged"], ph
# the fill, exactly, unless a run failed without an acknowledgement (an overloaded machine)
assert ph["full"]["runs_before"] == 4000 - (fill["submitted"] - fill["acknowledged"]), (ph, j["failure_examples"])
assert ph["full"]["runs_before"] >= 4000 - fill["failed"], ph
stored = j["verify"]["warmup"] + j["verify"]["acknowledged"]
assert stored == ph["full"]["runs_before"] + ph["full"]["acknowledged"], (stored, ph)
assert listed >= stored, ("run list", listed, "stored", stored)   # the partition holds them
assert j["runs_lost"] == 0 and j["verify"]["lost"] == 0, j["verify"]
assert j["verify"]["checked"] == min(2000, stored - 2), j["verify"]   # a sample, not all
t = [t for t in j["targets"] if t["id"] == "flat-latency"]
assert len(t) == 1, j["targets"]
t = t[0]
assert t["what"] == "p99 at 5,000 runs/s on a partition of 4,000 runs within 1.5x of a fresh partition", t
assert t["phase"] == "full" and t["with"] == "fresh" and t["target"] == 1.5 and t["unit"] == "x", t
for k in ("phase_p99_ms", "with_p99_ms", "phase_p50_ms", "with_p50_ms"):
    assert t[k] > 0, (k, t)
assert abs(t["measured"] - t["phase_p99_ms"] / t["with_p99_ms"]) < 1e-9, t
assert t["met"] == (t["measured"] <= 1.5), t
assert t["phase_runs_before"] == 4000 and t["with_runs_before"] == 2, t
PY
grep -q "^| p99 at 5,000 runs/s on a partition of 4,000 runs within 1.5x of a fresh partition | ≤ 1.50 x | [0-9.]* x — full: p99 [0-9.]* ms, p50 [0-9.]* ms .* fresh: p99 [0-9.]* ms, p50 [0-9.]* ms .* | \(yes\|\*\*no\*\*\) |$" "$RUN/flat.md" \
    || fail "Markdown row: $(grep -i 'partition of' "$RUN/flat.md")"
ok "BENCH-FLAT the report compares the full partition's p99 with the fresh one's (both p99s, p50s, ratio, met or not)"
ok "BENCH-FLAT the fill phase filled the partition to exactly --fill runs, all listed, a sample verified, 0 lost"
