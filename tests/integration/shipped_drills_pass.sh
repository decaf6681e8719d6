#!/usr/bin/env bash
# Rule DRILL-1: every shipped firewall drill (configs/drills/*.json) gives its expected outcomes
# against a fresh cluster with the kernel firewall (nftables in the project's own namespace),
# and writes its report in Markdown and JSON naming the missing prefix and the fix.
. "$(dirname "$0")/lib.sh"
cd "$SRC"
mkdir -p "$RUN/reports"
for d in configs/drills/*.json; do
    grep -q '"steps"' "$d" || continue   # data files of the drills, not drills
    name=$(basename "$d" .json)
    out=$("$BIN/cmkctl" drill run "$d" --report-dir "$RUN/reports" 2>&1) || { echo "$out" | tail -30; fail "$name"; }
    [ -s "$RUN/reports/$name.md" ] && [ -s "$RUN/reports/$name.json" ] || fail "$name: no report"
    json_get "$(cat "$RUN/reports/$name.json")" 'j["result"]' | qgrep -q "as expected" || fail "$name: report says otherwise"
    grep -q "## The fix" "$RUN/reports/$name.md" || fail "$name: report has no fix"
    ok "$name"
done
grep -q "127.40.1.0/24" "$RUN/reports/legacy-only-firewall-breaks-after-cmk.md" || fail "the report does not name the missing prefix"
grep -q "actively refused it" "$RUN/reports/legacy-only-firewall-breaks-after-cmk.md" || fail "the report does not quote the error"
grep -q "127.40.9.0/24" "$RUN/reports/weekly-service-tag-update.json" || fail "the update drill does not name the new prefix"
ok "reports name the missing prefix, the error and the fix"

# the fault drill (EGR-10): its report shows each fault, what was expected and what was observed
f="$RUN/reports/edge-faults-reset-and-timeout"
grep -q "^| # | phase | step | expected | observed | outcome |" "$f.md" || fail "fault drill: no expected/observed columns"
grep -q "| break | the HTTP action is reset, on the kept-alive connection too | exit 0; output has \"An existing connection was forcibly closed by the remote host.\" | exit 0; \"Get_order: Http request failed as there is an error: 'An existing connection was forcibly closed by the remote host.'\"; HTTP actions: reset 1 | as expected |" "$f.md" \
    || fail "fault drill: the reset step's expected/observed: $(grep 'is reset' "$f.md")"
grep -q "cmkctl firewall fault timeout --duration 10m" "$f.md" || fail "fault drill: the timeout fault is not in the report"
python3 - "$f.json" <<'PY' || fail "fault drill: the gateway's verdicts"
import json, sys
steps = json.load(open(sys.argv[1]))["steps"]
brk = [s for s in steps if s["phase"] == "break"][-1]
assert brk["egress"].get("reset", 0) >= 1 and brk["egress"].get("timeout", 0) >= 1, brk.get("egress")
assert "HTTP actions: timeout 1" in brk["observed"], brk["observed"]
PY
ok "DRILL-1 EGR-10 the fault drill's report shows the reset and the timeout, expected and observed"

# the timeline: every step timed, the gateway's egress by verdict after it (a refusal during
# the break, through again after the fix), and the picture when gnuplot is installed
r="$RUN/reports/legacy-only-firewall-breaks-after-cmk.json"
python3 - "$r" <<'PY' || fail "legacy-only drill timeline data"
import json, sys
j = json.load(open(sys.argv[1]))
steps = j["steps"]
assert all("t_s" in s and "took_s" in s for s in steps), "steps are not timed"
assert [s["t_s"] for s in steps] == sorted(s["t_s"] for s in steps), "step times go backwards"
brk = [s for s in steps if s["phase"] == "break"][-1]
ver = [s for s in steps if s["phase"] == "verify"][-1]
assert brk["egress"].get("refused", 0) >= 1, brk.get("egress")
assert ver["egress"].get("allow", 0) > brk["egress"].get("allow", 0), (brk.get("egress"), ver.get("egress"))
PY
if command -v gnuplot >/dev/null; then
    head -c 4 "$RUN/reports/legacy-only-firewall-breaks-after-cmk.png" | qgrep -q PNG || fail "no timeline picture"
    grep -q "legacy-only-firewall-breaks-after-cmk.png" "$RUN/reports/legacy-only-firewall-breaks-after-cmk.md" || fail "report does not show the picture"
    ok "DRILL-1 OBS-4 the report has a timeline picture: steps, phases, egress by verdict"
else
    ok "DRILL-1 timeline data checked; no picture: gnuplot is not installed (apt-get install gnuplot-nox)"
fi
