#!/usr/bin/env bash
# Rules ING-1, EGR-7, EGR-8: the gateway's HTTP server (address in <run>/gateway.http) serves
# /metrics as Prometheus text and HTTP-trigger URLs. A trigger call without its `sig` is
# answered 401 without reaching the controller; with one it is forwarded as flow.invoke and an
# error reply becomes a JSON error with the mapped status; other paths are 404. Outbound
# actions go only to loopback: other addresses and host names are refused by policy without
# any traffic.
. "$(dirname "$0")/lib.sh"

probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 3000 "$@"; }
cmkctl up --set supervisor.firewall=false >/dev/null
http=$(cat "$RUN/gateway.http")
[[ "$http" == 127.0.0.1:* ]] || fail "gateway.http: $http"
trigger="http://$http/workflows/env-1/flow-1/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"

# no sig: 401, and the controller never hears of it
code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"x":1}' "$trigger")
[ "$code" = 401 ] || fail "no sig: $code $(cat "$RUN/out.json")"
[ "$(json_get "$(cat "$RUN/out.json")" 'j["error"]["code"]')" = DirectApiAuthorizationRequired ] || fail "body: $(cat "$RUN/out.json")"
! grep -q "flow.invoke" "$RUN/logs/controller.log" || fail "the controller was called without sig"
ok "ING-1 a trigger call without sig gets 401 without reaching the controller"

# with sig: forwarded as flow.invoke; whatever the controller answers is mapped
code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' -X POST -d 'hello' "$trigger&sig=bad-signature")
wait_until 5 grep -q "flow.invoke" "$RUN/logs/controller.log" || fail "flow.invoke never reached the controller"
grep -q "event=ingress.invoke flow=flow-1 method=POST status=$code" "$RUN/logs/gateway.log" || fail "no ingress line for $code"
case "$code" in
400) msg=$(json_get "$(cat "$RUN/out.json")" 'j["error"]["message"]')   # EPROTO until flow.invoke exists
     [[ "$msg" == *flow.invoke* ]] || fail "400 without the controller's reason: $msg" ;;
401|404|503) json_get "$(cat "$RUN/out.json")" 'j["error"]["message"]' >/dev/null || fail "not a JSON error" ;;
200|202) ;;
*) fail "unexpected status $code: $(cat "$RUN/out.json")" ;;
esac
ok "ING-1 a trigger call with sig is forwarded as flow.invoke and its reply mapped ($code)"

code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' "http://$http/workflows/env-1/triggers/manual/paths/invoke?sig=x")
[ "$code" = 404 ] || fail "bad path: $code"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$http/health")" = 200 ] || fail "health"
ok "ING-1 other paths are 404 with a JSON error"

# outbound actions only to loopback, names never resolved
set +e
out=$(probe --url "http://192.0.2.1/anything")
rc1=$?
out2=$(probe --url "http://example.com/")
rc2=$?
out3=$(probe --url "http://nowhere.invalid/")
set -e
[ $rc1 -ne 0 ] && [ "$(json_get "$out" 'j["error"]["outcome"]')" = policy ] || fail "non-loopback: $out"
[ $rc2 -ne 0 ] && [ "$(json_get "$out2" 'j["error"]["outcome"]')" = policy ] || fail "host name: $out2"
[ "$(json_get "$out3" 'j["error"]["message"]')" = "Http request failed as there is an error: 'No such host is known. (nowhere.invalid)'" ] \
    || fail "dns: $out3"
ok "EGR-8 destinations other than loopback are refused by policy; *.invalid fails as DNS does"

metrics=$(curl -sf "http://$http/metrics")
grep -qx '# TYPE cmk_gateway_egress_requests_total counter' <<<"$metrics" || fail "metrics: $metrics"
grep -qx 'cmk_gateway_egress_requests_total{tag="LogicApps.WestUS",outcome="policy"} 2' <<<"$metrics" || fail "policy count: $metrics"
grep -qx 'cmk_gateway_ingress_requests_total{status="401"} 1' <<<"$metrics" || fail "ingress count: $metrics"
grep -qx 'cmk_gateway_egress_inflight 0' <<<"$metrics" || fail "inflight: $metrics"
ok "EGR-7 /metrics: Prometheus text with egress and ingress counters"
cmkctl metrics | qgrep -qx 'cmk_gateway_egress_requests_total{tag="LogicApps.WestUS",outcome="policy"} 2' \
    || fail "cmkctl metrics (the gateway's metrics request) disagrees"
ok "EGR-7 the same counters through cmkctl metrics (the gateway's metrics request)"
