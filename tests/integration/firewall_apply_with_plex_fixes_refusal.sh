#!/usr/bin/env bash
# Rules EGR-2, EGR-9: the fix the seed prescribes works live. A firewall that allows only the
# legacy ranges refuses a CMK environment's HTTP action; the customer adds PowerPlatformPlex.WestUS
# (with-plex.json) with `cmkctl firewall apply` (firewall.apply, forwarded to the firewall
# process) without a restart, and the next action gets through. Allowing the wrong region
# (wrong-region.json, re-read on SIGHUP) does not help. `cmkctl firewall status` shows the
# rules and the kernel's counters; `cmkctl firewall fault` injects resets and timeouts.
. "$(dirname "$0")/lib.sh"

SEED="Http request failed as there is an error: 'No connection could be made because the target machine actively refused it.'"
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi
# applied_more_than N - the firewall logged more than N applies
applied_more_than() { [ "$(grep -c "event=firewall.applied" "$RUN/logs/firewall.log")" -gt "$1" ]; }
# apply_config NAME - put a shipped config in the firewall's file and make it re-read it (SIGHUP)
apply_config() {
    local before
    before=$(grep -c "event=firewall.applied" "$RUN/logs/firewall.log" || true)
    cp "$SRC/configs/firewalls/$1.json" "$RUN/customer-fw.json"
    kill -HUP "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["pid"]')"
    wait_until 10 applied_more_than "$before" || fail "$1 was not applied"
    [ "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["config"]')" = "$1" ] || fail "state file not updated"
}

cp "$SRC/configs/firewalls/legacy-only.json" "$RUN/customer-fw.json"
cmkctl up --set firewall.config="$RUN/customer-fw.json" --set firewall.mode=kernel >/dev/null
port=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["endpoint_port"]')
url="http://127.0.0.1:$port/anything"
fwpid=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["pid"]')

set +e
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["message"]')" = "$SEED" ] || fail "legacy-only: $out"
ok "EGR-2 legacy-only refuses the CMK environment's action"

cmkctl firewall apply "$SRC/configs/firewalls/with-plex.json" >"$RUN/apply.json" || fail "apply: $(cat "$RUN/apply.json")"
[ "$(json_get "$(cat "$RUN/apply.json")" 'j["previous"]')" = legacy-only ] || fail "apply: $(cat "$RUN/apply.json")"
[ "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["config"]')" = with-plex ] || fail "state file not updated"
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "after with-plex: $out"
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = 4:power-platform-plex ] || fail "rule: $out"
[ "$(json_get "$out" 'j["firewall"]["config"]')" = with-plex ] || fail "config: $out"
[ "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["pid"]')" = "$fwpid" ] || fail "the firewall restarted"
ok "EGR-2 with PowerPlatformPlex.WestUS allowed (applied live) the action succeeds"

apply_config wrong-region
set +e
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["message"]')" = "$SEED" ] || fail "wrong-region: $out"
out=$(probe --infrastructure dedicated --region eastus --url "$url")
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = 4:power-platform-plex-eastus ] || fail "eastus: $out"
ok "EGR-2 PowerPlatformPlex of another region does not help a WestUS environment"

# a broken config is refused with its line, and the one in force stays
printf '{\n "name": "broken",\n "default": "sometimes",\n "rules": []\n}\n' >"$RUN/customer-fw.json"
kill -HUP "$fwpid"
wait_until 10 grep -q "event=firewall.reload_failed .*customer-fw.json:3" "$RUN/logs/firewall.log" \
    || fail "broken config not refused with its line"
[ "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["config"]')" = wrong-region ] || fail "config in force changed"
ok "EGR-2 a broken config is refused with its line; the config in force stays"

# status: the rules in force and the kernel's counters (the refusal above is counted)
st=$(cmkctl firewall status --json)
[ "$(json_get "$st" 'j["mode"]')" = kernel ] || fail "status: $st"
[ "$(json_get "$st" 'len(j["rules"])')" = 4 ] || fail "rules: $st"
[ "$(json_get "$st" '[c["verdict"] for c in j["counters"] if c["rule"] == 0][0]')" = reject ] || fail "counters: $st"
ok "EGR-9 cmkctl firewall status shows the rules in force and the kernel's counters"

# faults at the customer endpoint: a reset, then a timeout, then none
apply_config with-plex
cmkctl firewall fault reset --duration 1m >/dev/null
set +e
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["outcome"]')" = reset ] || fail "fault reset: $out"
cmkctl firewall fault timeout --duration 1m >/dev/null
set +e
out=$(probe --infrastructure dedicated --region unitedstates --timeout-ms 1000 --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["outcome"]')" = timeout ] || fail "fault timeout: $out"
cmkctl firewall fault none >/dev/null
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "after the fault: $out"
ok "EGR-9 cmkctl firewall fault injects a reset and a timeout, and clears"
