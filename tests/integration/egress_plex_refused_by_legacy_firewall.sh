#!/usr/bin/env bash
# Rules EGR-1, EGR-3, EGR-7: after CMK, a dedicated environment's HTTP action leaves from
# PowerPlatformPlex.<region>; a customer firewall that allows only the legacy ranges
# (legacy-only.json, enforced by nftables in the firewall's own user+network namespace)
# refuses it with a real TCP reset, and the flow sees exactly the seed's message. Shared-
# infrastructure actions (LogicApps, AzureConnectors) still get through. Every request is one
# decision line at the gateway and a counter at /metrics; the firewall counts the refusal.
. "$(dirname "$0")/lib.sh"

SEED="Http request failed as there is an error: 'No connection could be made because the target machine actively refused it.'"
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi

cmkctl up --set firewall.config="$SRC/configs/firewalls/legacy-only.json" --set firewall.mode=kernel >/dev/null
state=$(cat "$RUN/firewall/state.json")
[ "$(json_get "$state" 'j["mode"]')" = kernel ] || fail "firewall not in kernel mode: $state"
[ "$(json_get "$state" 'j["config"]')" = legacy-only ] || fail "state: $state"
[ "$(stat -c %a "$RUN/firewall")" = 700 ] || fail "firewall state dir is not 0700"
port=$(json_get "$state" 'j["endpoint_port"]')
url="http://127.0.0.1:$port/anything"

# a CMK environment's HTTP action: refused, with the seed's words
set +e
out=$(probe --infrastructure dedicated --region unitedstates --env env-cmk --flow f1 --url "$url")
rc=$?
set -e
[ $rc -ne 0 ] || fail "dedicated request got through legacy-only: $out"
[ "$(json_get "$out" 'j["error"]["message"]')" = "$SEED" ] || fail "message: $out"
[ "$(json_get "$out" 'j["error"]["outcome"]')" = refused ] || fail "outcome: $out"
[ "$(json_get "$out" 'j["error"]["tag"]')" = PowerPlatformPlex.WestUS ] || fail "tag: $out"
src=$(json_get "$out" 'j["error"]["source_ip"]')
[[ "$src" == 127.40.1.* ]] || fail "source $src not in PowerPlatformPlex.WestUS (127.40.1.0/24)"
ok "EGR-1 dedicated (PowerPlatformPlex.WestUS from $src) refused by legacy-only in kernel mode with the seed's message"

# the same for another region: PowerPlatformPlex.WestEurope is not allowed either
set +e
out=$(probe --infrastructure dedicated --region europe --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["tag"]')" = PowerPlatformPlex.WestEurope ] || fail "europe tag: $out"
[ "$(json_get "$out" 'j["error"]["message"]')" = "$SEED" ] || fail "europe message: $out"

# shared infrastructure: HTTP from LogicApps, connectors from AzureConnectors - allowed
out=$(probe --infrastructure shared --region unitedstates --url "$url?probe=1")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "shared http: $out"
[ "$(json_get "$out" 'j["tag"]')" = LogicApps.WestUS ] || fail "shared tag: $out"
src=$(json_get "$out" 'j["source_ip"]')
[ "$(json_get "$out" 'json.loads(j["body"])["origin"]')" = "$src" ] || fail "endpoint saw another source: $out"
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = 1:logic-apps ] || fail "rule: $out"
out=$(probe --infrastructure shared --kind connector --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["tag"]')" = AzureConnectors.WestUS ] || fail "connector tag: $out"
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = 3:azure-connectors ] || fail "connector rule: $out"
ok "EGR-3 shared HTTP (LogicApps) and connector (AzureConnectors) actions pass legacy-only"

# one decision line per request; counters per tag and outcome
grep -q "env=env-cmk .*event=egress.decision flow=f1 .*tag=PowerPlatformPlex.WestUS src=127.40.1.* dst=127.0.0.1:$port .*fw_mode=kernel fw_config=legacy-only .*verdict=refused .*error=\"$SEED\"" \
    "$RUN/logs/gateway.log" || fail "no refused decision line"
grep -q "event=egress.decision .*tag=LogicApps.WestUS .*fw_rule=1:logic-apps fw_verdict=allow verdict=ok status=200" \
    "$RUN/logs/gateway.log" || fail "no ok decision line"
[ "$(grep -c 'event=egress.decision' "$RUN/logs/gateway.log")" = 4 ] || fail "not one line per request"
metrics=$(curl -sf "http://$(cat "$RUN/gateway.http")/metrics")
grep -qx 'cmk_gateway_egress_requests_total{tag="PowerPlatformPlex.WestUS",outcome="refused"} 1' <<<"$metrics" || fail "metrics: $metrics"
grep -qx 'cmk_gateway_egress_requests_total{tag="LogicApps.WestUS",outcome="ok"} 1' <<<"$metrics" || fail "metrics: $metrics"
grep -qx 'cmk_gateway_egress_requests_total{tag="AzureConnectors.WestUS",outcome="ok"} 1' <<<"$metrics" || fail "metrics: $metrics"
# the firewall saw it too: the kernel's reject counter rose (polled every second)
wait_until 10 grep -q "event=fw.kernel_count rule=default verdict=reject" "$RUN/logs/firewall.log" \
    || fail "the firewall did not count the refusal"
grep -q "event=fw.decision enforcer=kernel src=127.10.1.* verdict=allow rule=1:logic-apps config=legacy-only" \
    "$RUN/logs/firewall.log" || fail "no firewall decision line for the allowed connection"
ok "EGR-7 decision lines, /metrics counters per tag and outcome, firewall counters"

# only worker keys may send outbound actions: the admin's key gets no answer
set +e
out=$(probe --key "$RUN/keys/admin.key" --wait-ms 1500 --url "$url" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "no answer" <<<"$out" || fail "admin key was served: $out"
ok "EGR-1 the gateway serves worker keys only"
