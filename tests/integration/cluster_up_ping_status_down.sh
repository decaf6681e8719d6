#!/usr/bin/env bash
# Rule SKEL-1: the cluster comes up from config, every process answers ping through the
# controller, status lists every process, and `cmkctl down` leaves no process behind.
. "$(dirname "$0")/lib.sh"

out=$(cmkctl up --json)
[ "$(json_get "$out" 'j["processes"]')" = 5 ] || fail "expected 5 processes ready, got: $out"
ok "up: 5 processes"

ping=$(cmkctl ping --json)
[ "$(json_get "$ping" 'j["all_ok"]')" = True ] || fail "ping not all ok: $ping"
names=$(json_get "$ping" '" ".join(sorted(p["name"] for p in j["processes"]))')
[ "$names" = "console controller firewall gateway worker-shared" ] || fail "ping answered by: $names"
ok "ping: $names"

cmkctl ping --target gateway | qgrep -q pong || fail "single-target ping"
out=$(cmkctl ping --target nosuch 2>&1 || true)
grep -q "no process named 'nosuch'" <<<"$out" || fail "unknown target message: $out"

st=$(cmkctl status --json)
[ "$(json_get "$st" 'all(p["state"]=="ready" and p["pid"]>0 for p in j["processes"])')" = True ] || fail "status: $st"
table=$(cmkctl status)
for col in NAME ROLE PID STATE UPTIME HEARTBEAT RESTARTS; do
    grep -q "$col" <<<"$table" || fail "status table lacks $col"
done
ok "status table"

# a second `up` on the same run dir is refused with a clear message
if cmkctl up 2>err.txt; then fail "second up accepted"; fi
grep -q "already runs" err.txt || fail "second up message: $(cat err.txt)"
rm -f err.txt

[ -n "$(procs_of_run)" ] || fail "no processes found before down"
cmkctl down | qgrep -q stopped || fail "down output"
wait_until 5 no_procs || fail "processes left after down: $(procs_of_run)"
[ ! -e "$RUN/controller.pid" ] || fail "pid file left behind"
cmkctl down | qgrep -q "no cluster is running" || fail "down twice"
ok "down leaves no process"
