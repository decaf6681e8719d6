#!/usr/bin/env bash
# Rule LIVE-4 (issue 15): `clock advance 400d` with a per-minute and a daily recurrence returns
# within a minute, kills no child, and fires each recurrence per the catch-up policy (the last
# recurrence.catchup_max = 10 occurrences of the jump; the skipped ones summarized in one log
# line each); an advance over 100 years, or one that would overflow, is refused clearly.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --managed --json)" 'j["id"]')
mkrec() { # mkrec ID FREQUENCY
    python3 - "$SRC/configs/flows/recurrence-compose.json" "$2" > "$RUN/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = next(iter(d["triggers"].values()))
t["recurrence"] = {"frequency": sys.argv[2], "interval": 1}
print(json.dumps(d))
PY
    cmkctl flow create --env "$env" --file "$RUN/$1.json" --id "$1" >/dev/null
}
mkrec perminute Minute
mkrec daily Day
pids() { json_get "$(cmkctl status --json)" '" ".join(str(p["pid"]) for p in sorted(j["processes"], key=lambda p: p["name"]))'; }
before=$(pids)

t0=$SECONDS
cmkctl clock advance 400d >/dev/null
took=$((SECONDS - t0))
(( took < 60 )) || fail "clock advance 400d took $took s"
ok "clock advance 400d returned in $took s"

runs() { json_get "$(cmkctl run list --env "$env" --flow "$1" --json)" 'len(j["items"])'; }
ten() { [ "$(runs perminute)" = 10 ] && [ "$(runs daily)" = 10 ]; }
wait_until 60 ten || fail "expected 10 runs of each recurrence, got $(runs perminute) and $(runs daily)"
grep -q "event=recurrence.caught_up .*flow=perminute skipped=575990 " "$RUN/logs/controller.log" \
    || fail "no catch-up summary for the per-minute flow: $(grep caught_up "$RUN/logs/controller.log" | head -3)"
grep -q "event=recurrence.caught_up .*flow=daily skipped=390 " "$RUN/logs/controller.log" || fail "no summary for daily"
lines=$(grep -c "recurrence\." "$RUN/logs/controller.log")
(( lines < 100 )) || fail "$lines recurrence log lines for one advance"
ok "each recurrence fired its last 10 occurrences; skipped ones summarized ($lines lines)"

out=$(cmkctl clock advance 9223372036854775807ms 2>&1 || true)
# refused by the field's declaration (0s to 36500d) or by the clock's own 100-year bound
grep -qE "more than the 100 years one advance may move the clock|field 'by': must be a duration from 0s to 36500d" <<<"$out" || fail "overflowing advance: $out"
out=$(cmkctl clock advance 36526d 2>&1 || true)
grep -qE "100 years|to 36500d" <<<"$out" || fail "advance over 100 years: $out"
year=$(json_get "$(cmkctl clock show --json)" 'j["now"][:4]')
[ "$year" -ge 2026 ] && [ "$year" -le 2200 ] || fail "the clock shows year $year"
ok "advances over 100 years refused; the clock did not wrap ($year)"

[ "$before" = "$(pids)" ] || fail "children restarted: $before -> $(pids)"
ok "no child killed"
