#!/usr/bin/env bash
# Rule LOCK-VIS (issue 16, item 6): a lock is visible where an admin looks. `env show` and
# `env cmk-status` of a locked environment say "Environment disabled" with the cause and the
# deletion due date (30 days for production, 7 for sandboxes); `flow list` says that the flows
# protected by the customer-managed key are unavailable while locked instead of silently
# listing only the flows kept on the Microsoft-managed key. Re-enabled, all of it goes away.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
sbx=$(new_env Sbx contoso unitedstates sandbox --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id moved >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-trigger-echo.json" --id held >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
cmkctl policy add-env "$POLICY" "$sbx" >/dev/null
show=$(cmkctl env show "$env")
grep -q "Environment disabled" <<<"$show" && fail "env show of a healthy environment says disabled: $show"

cmkctl key disable "$VAULT" "$KEY" >/dev/null
wait_until 10 bash -c "[ \"\$('$BIN/cmkctl' --run-dir '$RUN' env cmk-status '$env' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = Locked ]" || fail "not locked"
for view in show cmk-status; do
    j=$(cmkctl env "$view" "$env" --json)
    [ "$(json_get "$j" 'j.get("status")')" = "Environment disabled" ] || fail "env $view does not say Environment disabled: $j"
    json_get "$j" 'j["lock_cause"]' | qgrep -qi "disabled" || fail "env $view has no cause: $j"
    locked=$(json_get "$j" 'j["locked_at"]'); due=$(json_get "$j" 'j["deletion_due"]')
    days=$(python3 -c "from datetime import datetime as d; f=lambda s: d.fromisoformat(s.replace('Z','+00:00')); print(round((f('$due')-f('$locked')).total_seconds()/86400))")
    [ "$days" = 30 ] || fail "env $view: production deletion due $days days after the lock, not 30: $j"
    json_get "$j" 'j["remedy"]' | qgrep -q "env reenable" || fail "env $view does not say how to come back: $j"
done
text=$(cmkctl env show "$env")
grep -q "Environment disabled" <<<"$text" || fail "env show (text) does not say it: $text"
j=$(cmkctl env show "$sbx" --json)
days=$(python3 -c "import json; from datetime import datetime as d; j=json.loads('''$j'''); f=lambda s: d.fromisoformat(s.replace('Z','+00:00')); print(round((f(j['deletion_due'])-f(j['locked_at'])).total_seconds()/86400))")
[ "$days" = 7 ] || fail "sandbox deletion due $days days after the lock, not 7: $j"
ok "LOCK-VIS env show and env cmk-status say Environment disabled, the cause and the deletion due date"

list=$(cmkctl flow list --env "$env")
grep -q "Environment disabled" <<<"$list" || fail "flow list of a locked environment does not say the CMK flows are unavailable: $list"
grep -q "customer-managed key are unavailable" <<<"$list" || fail "flow list note: $list"
grep -q held <<<"$list" || fail "flow list lost the flow kept on the Microsoft-managed key: $list"
ok "LOCK-VIS flow list says the CMK flows are unavailable while locked"

cmkctl key enable "$VAULT" "$KEY" >/dev/null
cmkctl env reenable "$env" >/dev/null
cmkctl clock advance 5m >/dev/null
j=$(cmkctl env show "$env" --json)
[ "$(json_get "$j" 'j.get("status")')" = None ] || fail "re-enabled environment still says $(json_get "$j" 'j.get("status")')"
list=$(cmkctl flow list --env "$env")
grep -q "unavailable" <<<"$list" && fail "flow list after re-enable still says unavailable: $list"
grep -q moved <<<"$list" || fail "flow list after re-enable misses the moved flow: $list"
ok "LOCK-VIS re-enabled: no message, every flow listed"
