#!/usr/bin/env bash
# Rule EGR-4: a firewall that silently drops what it does not allow (drop-default.json) gives
# a CMK environment's HTTP action no answer at all: the flow fails with the timeout error,
# not "actively refused". Shared-infrastructure actions still get through; the firewall's
# kernel counters show the drops.
. "$(dirname "$0")/lib.sh"

TIMEOUT_MSG="Http request failed: the server did not respond within the timeout limit. Please see logic app limits at https://aka.ms/logic-apps-limits-and-config#http-limits"
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" "$@"; }
if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi

cmkctl up --set firewall.config="$SRC/configs/firewalls/drop-default.json" --set firewall.mode=kernel >/dev/null
port=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["endpoint_port"]')
url="http://127.0.0.1:$port/anything"

set +e
out=$(probe --infrastructure dedicated --region unitedstates --timeout-ms 1500 --url "$url")
rc=$?
set -e
[ $rc -ne 0 ] || fail "a dropped connection got an answer: $out"
[ "$(json_get "$out" 'j["error"]["message"]')" = "$TIMEOUT_MSG" ] || fail "message: $out"
[ "$(json_get "$out" 'j["error"]["outcome"]')" = timeout ] || fail "outcome: $out"
[ "$(json_get "$out" 'j["error"]["code"]')" = ETIMEOUT ] || fail "code: $out"
grep -q "event=egress.decision .*tag=PowerPlatformPlex.WestUS .*fw_config=drop-default .*verdict=timeout" \
    "$RUN/logs/gateway.log" || fail "no timeout decision line"
ok "EGR-4 drop-default: the CMK environment's action times out with Logic Apps' timeout message"

out=$(probe --infrastructure shared --region unitedstates --timeout-ms 5000 --url "$url")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "shared: $out"
wait_until 10 grep -q "event=fw.kernel_count rule=default verdict=drop" "$RUN/logs/firewall.log" \
    || fail "the firewall did not count the drop"
grep -qx 'cmk_gateway_egress_requests_total{tag="PowerPlatformPlex.WestUS",outcome="timeout"} 1' \
    <<<"$(curl -sf "http://$(cat "$RUN/gateway.http")/metrics")" || fail "timeout not counted"
ok "EGR-4 shared actions pass, the drop is counted by the firewall and the gateway"
