#!/usr/bin/env bash
# Rule SKEL-2: the controller restarts a child that dies (capped exponential backoff); a
# SIGKILLed worker comes back, registers, and answers ping again.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
pid_of() { json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name']=='$1'][0]"; }
state_of() { json_get "$(cmkctl status --json)" "[p['state'] for p in j['processes'] if p['name']=='$1'][0]"; }

old=$(pid_of worker-shared)
kill -9 "$old"
new_ready() { [ "$(state_of worker-shared)" = ready ] && [ "$(pid_of worker-shared)" != "$old" ]; }
wait_until 15 new_ready || fail "worker not restarted: $(cmkctl status)"
new=$(pid_of worker-shared)
restarts=$(json_get "$(cmkctl status --json)" "[p['restarts'] for p in j['processes'] if p['name']=='worker-shared'][0]")
[ "$restarts" = 1 ] || fail "restarts=$restarts"
cmkctl ping --target worker-shared | qgrep -q pong || fail "restarted worker does not answer"
grep -q "event=child.exited name=worker-shared pid=$old signal=9" "$RUN/logs/controller.log" || fail "death not logged"
ok "worker $old killed, $new restarted and answers"

# the gateway too, and twice in a row (backoff grows, both come back)
for round in 1 2; do
    g=$(pid_of gateway)
    kill -9 "$g"
    gw_back() { [ "$(state_of gateway)" = ready ] && [ "$(pid_of gateway)" != "$g" ]; }
    wait_until 15 gw_back || fail "gateway not restarted (round $round)"
done
cmkctl ping | grep -c pong | qgrep -q 5 || fail "not every process answers after restarts"
ok "gateway restarted twice"

# a SIGTERM to the controller stops the whole cluster
ctl=$(cat "$RUN/controller.pid")
kill -TERM "$ctl"
wait_until 10 no_procs || fail "processes left after SIGTERM: $(procs_of_run)"
ok "SIGTERM stops the cluster"
