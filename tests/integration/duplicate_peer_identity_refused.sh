#!/usr/bin/env bash
# Rule PEER-2: one live connection per peer identity. A second process holding a copy of the
# shared worker's key registers while the real one is alive: refused and logged, it gets no data
# key (its dek.get is not served), and the real worker keeps serving without the controller
# switching between the two. A restart by the supervisor still replaces the old registration.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env A contoso unitedstates)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
before=$(child_pid worker-shared)

# a raw copy of the worker's identity
cmk_raw --key "$RUN/keys/worker-shared.key" ready worker 4242 idle 1200 \
    send dek.get "{\"env\":\"$env\",\"purpose\":\"data\"}" - idle 2000 >"$RUN/copy.out" 2>&1 ||
    fail "cmk_raw: $(cat "$RUN/copy.out")"
grep "event=peer.duplicate_refused name=worker-shared" "$RUN/logs/controller.log" | qgrep -q "claimed_pid=4242" ||
    fail "the duplicate registration was not refused and logged"
if grep -q "^recv reply" "$RUN/copy.out"; then fail "the copy got an answer to dek.get: $(cat "$RUN/copy.out")"; fi
if grep -q "to=worker-shared" "$RUN/logs/controller.log" && grep "event=dek.granted" "$RUN/logs/controller.log" | qgrep -q "req=$(awk '/^sent dek.get/ {print $3}' "$RUN/copy.out") "; then
    fail "a data key was granted to the copy"
fi
ok "PEER-2 a second registration of a live identity is refused and logged; its dek.get gets no key"

# the issue's reproduction: the real worker binary started a second time with the same name
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name worker-shared --shared >"$RUN/second.log" 2>&1 &
second=$!
refused_second() { [ "$(grep -c "event=peer.duplicate_refused name=worker-shared" "$RUN/logs/controller.log")" -ge 2 ]; }
wait_until 10 refused_second || { kill -9 $second; fail "the second worker process was not refused"; }
for i in 1 2 3 4; do
    [ "$(json_get "$(cmkctl flow run --env "$env" m --json)" 'j["status"]')" = Succeeded ] || { kill -9 $second; fail "run $i failed"; }
done
if grep -q "event=dek.cached" "$RUN/second.log"; then kill -9 $second; fail "the second process got a data key"; fi
{ kill -9 $second; wait $second; } 2>/dev/null || true
[ "$(child_pid worker-shared)" = "$before" ] || fail "the real worker was replaced"
[ "$(json_get "$(cmkctl ping --json)" 'j["all_ok"]')" = True ] || fail "the cluster's own peers were disturbed"
ok "PEER-2 the real worker keeps serving while a second process with its key is refused"

# a restart by the supervisor replaces the registration cleanly
kill -9 "$before"
new_worker() { p=$(child_pid worker-shared); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$before" ] &&
    grep -q "event=peer.ready name=worker-shared role=worker pid=$p" "$RUN/logs/controller.log"; }
wait_until 30 new_worker || fail "the restarted worker did not register"
[ "$(json_get "$(cmkctl flow run --env "$env" m --json)" 'j["status"]')" = Succeeded ] || fail "no run after the restart"
ok "PEER-2 a supervisor restart replaces the registration"
