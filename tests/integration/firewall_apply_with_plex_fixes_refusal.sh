#!/usr/bin/env bash
# Rule EGR-2: the fix the seed prescribes works live. A firewall that allows only the legacy
# ranges refuses a CMK environment's HTTP action; the customer adds PowerPlatformPlex.WestUS
# (with-plex.json) and re-applies the config without a restart (SIGHUP: the firewall re-reads
# its config file, the same path as the firewall.apply request); the next action gets through.
# Allowing the wrong region (wrong-region.json: PowerPlatformPlex.EastUS) does not help.
. "$(dirname "$0")/lib.sh"

SEED="Http request failed as there is an error: 'No connection could be made because the target machine actively refused it.'"
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi
# apply_config NAME - put a shipped config in the firewall's file and make it re-read it
apply_config() {
    local before
    before=$(grep -c "event=firewall.applied" "$RUN/logs/firewall.log" || true)
    cp "$SRC/configs/firewalls/$1.json" "$RUN/customer-fw.json"
    kill -HUP "$(json_get "$(cat "$RUN/firewall/state.json")" 'j["pid"]')"
    wait_until 10 grep -q "event=firewall.applied config=$1 " "$RUN/logs/firewall.log" \
        || fail "$1 was not applied"
    [ "$(grep -c "event=firewall.applied" "$RUN/logs/firewall.log")" -gt "$before" ] || fail "no new apply"
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

apply_config with-plex
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
