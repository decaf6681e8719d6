#!/usr/bin/env bash
# OVL-1, OVL-2 (issue #10, overload): requests in flight to one worker are bounded
# (request.max_inflight): one more gets a clear busy error at once instead of queueing without
# limit; the gateway bounds the outbound HTTP actions it performs at once (gateway.max_inflight)
# the same way. The requests already in flight still complete; after the burst, work goes on.
# A firewall latency fault keeps the first requests in flight; nothing asserts on time.
. "$(dirname "$0")/lib.sh"

cmkctl up --set request.max_inflight=2 >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Dev contoso unitedstates sandbox)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-action.json" --id h >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id c >/dev/null
cmkctl firewall fault latency --ms 3000 --duration 60s >/dev/null
inflight_is() { cmkctl metrics 2>/dev/null | qgrep -q "^cmk_gateway_egress_inflight $1"; }

# OVL-1: two slow runs fill worker-shared's bound; a third request is refused at once
cmkctl flow run --env "$env" h --json >"$RUN/r1.json" 2>&1 &
p1=$!
cmkctl flow run --env "$env" h --json >"$RUN/r2.json" 2>&1 &
p2=$!
wait_until 20 inflight_is 2 \
    || fail "the two slow runs never got in flight together"
set +e
out=$(cmkctl flow run --env "$env" c 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "a third request was accepted beyond request.max_inflight=2: $out"
grep -q "worker-shared is busy: 2 requests are in flight to it (request.max_inflight)" <<<"$out" \
    || fail "no clear busy error: $out"
grep -q "EBUSY\|busy" <<<"$out" || fail "not a busy error: $out"
wait $p1 $p2 || true
for f in r1 r2; do
    [ "$(json_get "$(cat "$RUN/$f.json")" 'j["status"]')" = Succeeded ] || fail "$f did not complete: $(cat "$RUN/$f.json")"
done
[ "$(json_get "$(cmkctl flow run --env "$env" c --json)" 'j["status"]')" = Succeeded ] || fail "no run after the burst"
ok "OVL-1 in flight to a worker bounded: busy error at once, the others complete, work goes on"

# OVL-2: the gateway performing one outbound action at a time; a second gets EBUSY
cmkctl down >/dev/null
cmkctl up --set gateway.max_inflight=1 >/dev/null
cmkctl firewall fault latency --ms 3000 --duration 60s >/dev/null
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" "$@"; }
port=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["endpoint_port"]')
probe --infrastructure shared --region unitedstates --url "http://127.0.0.1:$port/anything" >"$RUN/p1.json" 2>&1 &
pp=$!
wait_until 20 inflight_is 1 || fail "the first action never got in flight"
set +e
out=$(probe --infrastructure shared --region unitedstates --url "http://127.0.0.1:$port/anything" 2>&1)
set -e
[ "$(json_get "$out" 'j["error"]["code"]')" = EBUSY ] || fail "second action: $out"
grep -q "the gateway is busy: 1 outbound HTTP actions are in flight (gateway.max_inflight)" <<<"$out" || fail "message: $out"
wait $pp || fail "the first action failed: $(cat "$RUN/p1.json")"
ok "OVL-2 the gateway's outbound actions bounded: busy error, the first one completes"
