#!/usr/bin/env bash
# Rule KEY-2 with the real processes: a dedicated worker can unwrap only its own environment's
# data key. A worker started with environment A's identity but asking for environment B's key is
# refused by the controller (the ZAP identity, not what the worker claims, decides), the refusal
# is audited, and B's dedicated worker keeps working.
# Since PEER-2 (one live connection per identity) such a second process cannot even register
# while A's worker is alive; the KEY-2 part therefore runs while A's worker is down (stopped,
# killed by the supervisor, its restart held back by supervisor.restart_min).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set supervisor.restart_min=30s --set supervisor.restart_max=30s >/dev/null
setup_cmk contoso unitedstates
a=$(new_env A contoso unitedstates production --managed)
b=$(new_env B contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null
grep -q "event=dek.prefetched" "$RUN/logs/worker-$a.log" || wait_until 5 grep -q "event=dek.prefetched" "$RUN/logs/worker-$a.log" || fail "worker A did not get its own key"

# A's identity while A's worker is alive: refused at registration (PEER-2), no key
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name "worker-$a" --env "$b" > "$RUN/copy.log" 2>&1 &
copy=$!
dup_refused() { grep -q "event=peer.duplicate_refused name=worker-$a" "$RUN/logs/controller.log"; }
wait_until 10 dup_refused || { kill -9 $copy 2>/dev/null; fail "a second worker-$a was not refused while A's is alive"; }
{ kill -9 $copy; wait $copy; } 2>/dev/null || true
if grep -q "event=dek.cached" "$RUN/copy.log"; then fail "the refused copy got a data key"; fi
ok "a second process with worker-$a's key is refused while worker-$a is alive"

# A's worker down (stopped, then killed by the supervisor when its heartbeats stop)
kill -STOP "$(child_pid "worker-$a")"
wait_until 20 grep -q "event=peer.gone name=worker-$a" "$RUN/logs/controller.log" || fail "worker-$a did not expire"
# A's identity asking for B's key
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name "worker-$a" --env "$b" > "$RUN/rogue.log" 2>&1 &
rogue=$!
refused() { grep -q "event=dek.prefetch_failed" "$RUN/rogue.log"; }
wait_until 10 refused || { kill -9 $rogue 2>/dev/null; fail "the rogue worker got no refusal: $(tail -5 "$RUN/rogue.log")"; }
kill -9 $rogue 2>/dev/null || true
grep -q "does not serve environment $b" "$RUN/rogue.log" || fail "refusal message: $(grep prefetch "$RUN/rogue.log")"
cmkctl audit list --operation dek.get --result EPERM | qgrep -q "worker-$a" || fail "refusal not audited"
ok "worker-$a cannot unwrap the key of $b"

cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
[ "$(json_get "$(cmkctl flow run --env "$b" m --json)" 'j["status"]')" = Succeeded ] || fail "B stopped working"
ok "B's own worker keeps working"
