#!/usr/bin/env bash
# Rule EGR-5: a firewall config in report mode (report-mode.json) never blocks: a CMK
# environment's HTTP action succeeds, and the firewall logs and counts what enforce mode would
# have done (would_reject), so the customer can find the missing PowerPlatformPlex rule
# before switching to enforce.
. "$(dirname "$0")/lib.sh"

probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi

cmkctl up --set firewall.config="$SRC/configs/firewalls/report-mode.json" --set firewall.mode=kernel >/dev/null
port=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["endpoint_port"]')
url="http://127.0.0.1:$port/anything"

out=$(probe --infrastructure dedicated --region unitedstates --flow audit-me --url "$url")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "report mode blocked: $out"
[ "$(json_get "$out" 'j["firewall"]["verdict"]')" = would_reject ] || fail "verdict: $out"
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = default ] || fail "rule: $out"
grep -q "event=fw.decision enforcer=kernel src=127.40.1.* verdict=would_reject rule=default config=report-mode action=serve" \
    "$RUN/logs/firewall.log" || fail "the firewall did not log would_reject"
wait_until 10 grep -q "event=fw.kernel_count rule=default verdict=would_reject" "$RUN/logs/firewall.log" \
    || fail "the kernel did not count would_reject"
grep -q "event=egress.decision flow=audit-me .*fw_verdict=would_reject verdict=ok status=200" \
    "$RUN/logs/gateway.log" || fail "the gateway's decision line misses would_reject"
ok "EGR-5 report mode: the action succeeds and the firewall logs and counts would_reject"

out=$(probe --infrastructure shared --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["firewall"]["verdict"]')" = allow ] || fail "shared: $out"
ok "EGR-5 report mode: allowed ranges are plain allow"
