#!/usr/bin/env bash
# BENCH-EV: `cmk-bench load` with timed events (configs/workloads/cmk-events.json): two dedicated
# environments under an enterprise policy and a shared one take runs while the key rotates, a
# dedicated worker is SIGKILLed, the key is disabled (the environments lock) and enabled again
# (re-enable), the shared environment is put under CMK and the firewall is swapped for a
# legacy-only one, then for one with PowerPlatformPlex. Every event succeeds, runs refused while
# locked are counted as "Environment disabled" failures, the flows' HTTP actions refused while
# legacy-only is in force are failures by cause "firewall refused" (BENCH-FC; "connection
# reset" in userspace mode) and none after with-plex is in force. A run whose worker was
# SIGKILLed while its HTTP action was out stays Running (its resent request is answered with
# it, "duplicate": true; the sweeper fails it after run.timeout): a failure "status:Running",
# not a lost run. Nothing else fails (a run sent while its flow moved to the dedicated worker
# must not fail with "no flow"), and no acknowledged run is lost. Nothing asserts on time.
. "$(dirname "$0")/lib.sh"

cause="connection reset"
unshare -Urn true 2>/dev/null && cause="firewall refused"

"$BIN/cmk-bench" load --up --run-dir "$RUN" --workload "$SRC/configs/workloads/cmk-events.json" \
    --json "$RUN/load.json" --md "$RUN/load.md" >"$RUN/load.out" 2>"$RUN/load.err" \
    || { tail -20 "$RUN/load.err"; fail "cmk-bench load with events failed"; }
python3 - "$RUN/load.json" "$cause" <<'PY' || { tail -20 "$RUN/load.err"; fail "events, failures or lost runs"; }
import json, sys
j, cause = json.load(open(sys.argv[1])), sys.argv[2]
assert j["runs_lost"] == 0, j["verify"]
ev = j["events"]
assert [e["do"] for e in ev] == ["rotate-key", "kill-worker", "disable-key", "enable-key",
                                 "reenable", "apply-cmk", "firewall", "firewall"], ev
for e in ev:
    assert e["result"] == "ok", e
assert "2 locked" in ev[4]["message"], ev[4]
assert set(j["failures"]) <= {"EUNAVAIL", cause, "status:Running"}, j["failure_examples"]
# the legacy-only firewall refused the PowerPlatformPlex actions while it was in force ...
assert j["failures"].get(cause, 0) > 0, "no HTTP action was refused while legacy-only was in force"
assert "Http request failed" in j["failure_examples"][cause], j["failure_examples"]
legacy, plex = ev[6], ev[7]
assert "legacy-only" in legacy["message"] and "with-plex" in plex["message"], ev
refused = [b for b in j["timeline"] if b.get("failed_by", {}).get(cause)]
assert refused and min(b["t_s"] for b in refused) >= legacy["t_s"] - 1, (legacy, refused)
# ... and not once with-plex was (a bucket a second after the swap ended)
after = [b for b in j["timeline"] if b["t_s"] >= plex["t_s"] + plex["took_ms"] / 1000.0 + 1]
assert not [b for b in after if b.get("failed_by", {}).get(cause)], j["timeline"]
assert not after or sum(b["runs"] for b in after) > 0, after   # runs succeed again
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
grep -q "^Failures by cause: .*$cause [0-9]" "$RUN/load.md" || fail "Markdown: $(grep 'Failures by cause' "$RUN/load.md")"
grep -q "^| [0-9.]* | events | .* $cause [0-9]* |$" "$RUN/load.md" || fail "the timeline does not show the refusals"
ok "every event ran, locked runs refused with 'Environment disabled', no run lost"
ok "BENCH-FC the firewall swap refuses the PowerPlatformPlex actions ('$cause') until with-plex is applied"
