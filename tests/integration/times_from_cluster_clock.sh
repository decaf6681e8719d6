#!/usr/bin/env bash
# Rule CLOCK-2: flows' created/modified times and runs' start/end times come from the
# controller's clock, virtual included: a flow changed and a run started after
# `cmkctl clock advance 10d` are stamped 10 days on (workers learn the clock from the
# controller-owned clock_ms of every routed request; a client's clock_ms changes nothing).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Prod contoso unitedstates)

# ms since the epoch of an ISO-8601 UTC time as the cli prints it
ms_of() {
    python3 -c "import calendar,datetime,sys; t=datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ'); print(calendar.timegm(t.timetuple())*1000 + t.microsecond//1000)" "$1"
}
clock_now() { json_get "$(cmkctl clock --json)" 'j["now_ms"]'; }
# within A B C - A <= B <= C
within() { [ "$1" -le "$2" ] && [ "$2" -le "$3" ]; }

t0=$(clock_now)
f=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id mc --json)
t1=$(clock_now)
created=$(ms_of "$(json_get "$f" 'j["created"]')")
within "$t0" "$created" "$t1" || fail "created $created not within the clock's $t0..$t1"
ok "a flow's created time is the cluster's"

cmkctl clock advance 10d >/dev/null
t2=$(clock_now)
python3 -c "import sys; sys.exit(0 if $t2 - $t1 >= 10*86400000 else 1)" || fail "clock did not advance"

u=$(cmkctl flow update --env "$env" mc --name "Greeting" --json)
t3=$(clock_now)
updated=$(ms_of "$(json_get "$u" 'j["updated"]')")
within "$t2" "$updated" "$t3" || fail "updated $updated not within the clock's $t2..$t3 (10 days on)"
[ "$(ms_of "$(json_get "$u" 'j["created"]')")" = "$created" ] || fail "created changed on update: $u"
ok "a flow's modified time is 10 days on after clock advance 10d"

r=$(cmkctl flow run --env "$env" mc --body '{"text":"Ada"}' --json)
t4=$(clock_now)
rid=$(json_get "$r" 'j["run"]')
start=$(ms_of "$(json_get "$r" 'j["start"]')")
within "$t3" "$start" "$t4" || fail "run start $start not within the clock's $t3..$t4: $r"
listed=$(json_get "$(cmkctl run list --env "$env" --json)" "[i['start'] for i in j['items'] if i['run'] == '$rid'][0]")
[ "$(ms_of "$listed")" = "$start" ] || fail "run list shows $listed"
show=$(cmkctl run show --env "$env" "$rid" --json)
python3 - "$show" "$t3" "$t4" <<'PY' || fail "run show's times are not the cluster's: $show"
import json, sys
j = json.loads(sys.argv[1]); lo, hi = int(sys.argv[2]), int(sys.argv[3])
rec = j.get("record", j)
acts = rec.get("actions", [])
acts = list(acts.values()) if isinstance(acts, dict) else acts
times = [rec["startMs"], rec["endMs"]] + [a[k] for a in acts for k in ("startMs", "endMs")]
assert acts, "no actions in the record"
sys.exit(0 if all(lo <= int(t) <= hi for t in times) else 1)
PY
ok "a run started after clock advance 10d is stamped 10 days on (start, end, actions)"

# a client cannot set the clock a worker stamps with: clock_ms is the controller's field
t5=$(clock_now)
body=$(printf '{"env":"%s","flow":"mc","body":{"text":"x"},"clock_ms":1000}' "$env")
out=$(cmkctl call flow.run "$body")
s2=$(ms_of "$(json_get "$out" 'j["start"]')")
within "$t5" "$s2" "$(clock_now)" || fail "a client's clock_ms stamped the run: $out"
ok "a client's clock_ms changes nothing"
