#!/usr/bin/env bash
# Rule EGR-10: `cmkctl firewall fault reset|timeout` hits flows' HTTP actions, not only the
# probe - connections the gateway keeps pooled from before the fault included. A run whose
# HTTP action meets a reset gets "... forcibly closed by the remote host."; one that meets a
# timeout ends after the action's timeout (egress.timeout) with Logic Apps' timeout message;
# after `fault none`, or once the fault's duration is over, the actions get through again. In
# kernel mode the fault is an nftables table in the firewall's namespace (reject with tcp reset /
# drop) that every packet to the endpoints crosses; in userspace mode the endpoints apply it
# per request. Both modes run when the host allows namespaces. Nothing asserts on time.
. "$(dirname "$0")/lib.sh"

RESET_MSG="Http request failed as there is an error: 'An existing connection was forcibly closed by the remote host.'"
TIMEOUT_MSG="Http request failed: the server did not respond within the timeout limit. Please see logic app limits at https://aka.ms/logic-apps-limits-and-config#http-limits"
modes="userspace"
if unshare -Urn true 2>/dev/null; then
    modes="kernel userspace"
elif [ "${CMK_REQUIRE_NETNS:-0}" = 1 ]; then
    fail "no user+network namespaces on this host"
fi

# run_flow - run the flow once; prints the run's JSON (status, failed_action, action_error)
run_flow() { cmkctl flow run --env "$ENV" call --json; }
# action_error JSON - the failed action's error, "" when none failed
action_error() { json_get "$1" 'j.get("action_error", "")'; }
# flow_ok - the flow's HTTP action gets through (for wait_until)
flow_ok() { out=$(run_flow) && [ -z "$(action_error "$out")" ]; }

for mode in $modes; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sed "s/127.0.0.1:18080/127.0.0.1:$port/" "$SRC/configs/flows/http-action.json" >"$RUN/http-action.json"
    cmkctl up --set firewall.mode="$mode" --set firewall.endpoint_port="$port" --set egress.timeout=2s >/dev/null
    [ "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["mode"]')" = "$mode" ] || fail "$mode: not in $mode mode"
    cmkctl tenant create contoso >/dev/null
    ENV=$(new_env Prod contoso unitedstates)
    cmkctl flow create --env "$ENV" --file "$RUN/http-action.json" --id call >/dev/null

    # two runs before the fault: both get through on one connection the gateway keeps pooled
    for i in 1 2; do
        out=$(run_flow)
        [ -z "$(action_error "$out")" ] || fail "$mode: before the fault: $out"
    done
    [ "$(grep -c "event=fw.decision .*dport=$port " "$RUN/logs/firewall.log")" = 1 ] \
        || fail "$mode: the two runs did not share one pooled connection: $(grep fw.decision "$RUN/logs/firewall.log")"

    # reset: the next run's action meets it on the pooled connection
    cmkctl firewall fault reset --duration 10m >"$RUN/fault.out"
    out=$(run_flow)
    [ "$(action_error "$out")" = "$RESET_MSG" ] || fail "$mode: fault reset: $out"
    [ "$(json_get "$out" 'j["failed_action"]')" = Get_order ] || fail "$mode: failed action: $out"
    grep -q "event=egress.decision .*flow=call .*verdict=reset" "$RUN/logs/gateway.log" \
        || fail "$mode: no reset decision line in the gateway's log"
    if [ "$mode" = kernel ]; then
        st=$(cmkctl firewall status --json)
        [ "$(json_get "$st" 'j["kernel_fault"]["kind"]')" = reset ] || fail "status: $st"
    else
        grep -q "event=fw.fault_hit .*kind=reset served_before=2" "$RUN/logs/firewall.log" \
            || fail "userspace: the pooled connection did not meet the reset"
    fi
    ok "EGR-10 $mode: fault reset fails a flow's HTTP action on a pooled connection with the reset error"

    # none: through again; then a timeout on the new pooled connection ends within the timeout
    cmkctl firewall fault none >/dev/null
    wait_until 20 flow_ok || fail "$mode: after fault none: $out"
    flow_ok || fail "$mode: after fault none (second run): $out"
    cmkctl firewall fault timeout --duration 10m >/dev/null
    out=$(run_flow)
    [ "$(action_error "$out")" = "$TIMEOUT_MSG" ] || fail "$mode: fault timeout: $out"
    [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "$mode: the run did not end: $out"
    grep -q "event=egress.decision .*flow=call .*verdict=timeout" "$RUN/logs/gateway.log" \
        || fail "$mode: no timeout decision line in the gateway's log"
    ok "EGR-10 $mode: fault timeout makes a flow's HTTP action time out after egress.timeout; the run ends"

    # a fault with a duration ends by itself
    cmkctl firewall fault reset --duration 1s >/dev/null
    wait_until 30 flow_ok || fail "$mode: the 1s fault did not end: $out"
    ok "EGR-10 $mode: a fault's duration ends it; the HTTP actions get through again"
    cmkctl down >/dev/null
    wait_until 20 test -z "$(procs_of_run)" || fail "$mode: processes left after down"
    rm -rf "${RUN:?}"/* 
done
