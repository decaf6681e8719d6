#!/usr/bin/env bash
# Rule KEY-2 with the real processes: a dedicated worker can unwrap only its own environment's
# data key. A worker started with environment A's identity but asking for environment B's key is
# refused by the controller (the ZAP identity, not what the worker claims, decides), the refusal
# is audited, and B's dedicated worker keeps working.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
a=$(new_env A contoso unitedstates production --managed)
b=$(new_env B contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null
grep -q "event=dek.prefetched" "$RUN/logs/worker-$a.log" || wait_until 5 grep -q "event=dek.prefetched" "$RUN/logs/worker-$a.log" || fail "worker A did not get its own key"

# A's identity asking for B's key
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name "worker-$a" --env "$b" > "$RUN/rogue.log" 2>&1 &
rogue=$!
refused() { grep -q "event=dek.prefetch_failed" "$RUN/rogue.log"; }
wait_until 10 refused || { kill -9 $rogue 2>/dev/null; fail "the rogue worker got no refusal: $(tail -5 "$RUN/rogue.log")"; }
kill -9 $rogue 2>/dev/null || true
grep -q "does not serve environment $b" "$RUN/rogue.log" || fail "refusal message: $(grep prefetch "$RUN/rogue.log")"
cmkctl audit list --operation dek.get --result EPERM | grep -q "worker-$a" || fail "refusal not audited"
ok "worker-$a cannot unwrap the key of $b"

cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
[ "$(json_get "$(cmkctl flow run --env "$b" m --json)" 'j["status"]')" = Succeeded ] || fail "B stopped working"
ok "B's own worker keeps working"
