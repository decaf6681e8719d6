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
    json_get "$(cat "$RUN/reports/$name.json")" 'j["result"]' | grep -q "as expected" || fail "$name: report says otherwise"
    grep -q "## The fix" "$RUN/reports/$name.md" || fail "$name: report has no fix"
    ok "$name"
done
grep -q "127.40.1.0/24" "$RUN/reports/legacy-only-firewall-breaks-after-cmk.md" || fail "the report does not name the missing prefix"
grep -q "actively refused it" "$RUN/reports/legacy-only-firewall-breaks-after-cmk.md" || fail "the report does not quote the error"
grep -q "127.40.9.0/24" "$RUN/reports/weekly-service-tag-update.json" || fail "the update drill does not name the new prefix"
ok "reports name the missing prefix, the error and the fix"
