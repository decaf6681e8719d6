#!/usr/bin/env bash
# BENCH-EV: `cmk-bench load` with timed events (configs/workloads/cmk-events.json): two dedicated
# environments under an enterprise policy and a shared one take runs while the key rotates, a
# dedicated worker is SIGKILLed, the key is disabled (the environments lock) and enabled again
# (re-enable), the shared environment is put under CMK and the firewall config is swapped.
# Every event succeeds, runs refused while locked are counted as "Environment disabled"
# failures and nothing else fails (a run sent while its flow moved to the dedicated worker must
# not fail with "no flow"), and no acknowledged run is lost. Nothing asserts on time.
. "$(dirname "$0")/lib.sh"

"$BIN/cmk-bench" load --up --run-dir "$RUN" --workload "$SRC/configs/workloads/cmk-events.json" \
    --json "$RUN/load.json" --md "$RUN/load.md" >"$RUN/load.out" 2>"$RUN/load.err" \
    || { tail -20 "$RUN/load.err"; fail "cmk-bench load with events failed"; }
python3 - "$RUN/load.json" <<'PY' || { tail -20 "$RUN/load.err"; fail "events, failures or lost runs"; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["runs_lost"] == 0, j["verify"]
ev = j["events"]
assert [e["do"] for e in ev] == ["rotate-key", "kill-worker", "disable-key", "enable-key",
                                 "reenable", "apply-cmk", "firewall"], ev
for e in ev:
    assert e["result"] == "ok", e
assert "2 locked" in ev[4]["message"], ev[4]
assert set(j["failures"]) <= {"EUNAVAIL"}, j["failure_examples"]
assert j["failures"].get("EUNAVAIL", 0) > 0, "no run was refused while the key was disabled"
assert "Environment disabled" in j["failure_examples"]["EUNAVAIL"], j["failure_examples"]
w = j["workload"]
assert w["dedicated"] == 2 and w["infrastructure"] == "mixed" and w["cmk"]["policy"]
names = {p["name"] for p in j["processes"]}
assert sum(1 for n in names if n.startswith("worker-env-")) >= 2, names
killed = ev[1]["message"].split("SIGKILL to ")[1].split(" ")[0]
p = [p for p in j["processes"] if p["name"] == killed][0]
assert p["restarts_during_run"] >= 1, p
assert j["verify"]["found"] == j["verify"]["acknowledged"] > 0, j["verify"]
PY
grep -q "### Events" "$RUN/load.md" || fail "no Events table in the Markdown"
ok "every event ran, locked runs refused with 'Environment disabled', no run lost"
