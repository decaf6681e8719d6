#!/usr/bin/env bash
# Rule EGR-6: on hosts without namespaces the firewall runs in userspace mode: the same rule
# engine decides each accepted connection on its source address. allow serves; reject closes
# at once with a TCP reset - the handshake has already completed when a user-space program
# sees the connection, so the flow sees a reset ("forcibly closed"), not "actively refused"
# (documented); drop never answers (timeout); report mode serves and logs would_reject.
. "$(dirname "$0")/lib.sh"

RESET_MSG="Http request failed as there is an error: 'An existing connection was forcibly closed by the remote host.'"
TIMEOUT_MSG="Http request failed: the server did not respond within the timeout limit. Please see logic app limits at https://aka.ms/logic-apps-limits-and-config#http-limits"
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
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
# endpoints on host loopback: a free port, so parallel tests do not collide
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$SRC/configs/firewalls/legacy-only.json" "$RUN/customer-fw.json"
cmkctl up --set firewall.config="$RUN/customer-fw.json" --set firewall.mode=userspace \
    --set firewall.endpoint_port="$port" >/dev/null
state=$(cat "$RUN/firewall/state.json")
[ "$(json_get "$state" 'j["mode"]')" = userspace ] || fail "state: $state"
[ "$(json_get "$state" 'j["holder_pid"]')" = 0 ] || fail "a namespace in userspace mode: $state"
url="http://127.0.0.1:$port/anything"

set +e
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["outcome"]')" = reset ] || fail "dedicated: $out"
[ "$(json_get "$out" 'j["error"]["message"]')" = "$RESET_MSG" ] || fail "message: $out"
grep -q "event=fw.decision enforcer=userspace src=127.40.1.* dport=$port verdict=reject rule=default config=legacy-only action=reset" \
    "$RUN/logs/firewall.log" || fail "no reject decision line"
out=$(probe --infrastructure shared --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["status"]')" = 200 ] || fail "shared: $out"
[ "$(json_get "$out" 'json.loads(j["body"])["firewall"]["enforcer"]')" = userspace ] || fail "enforcer: $out"
grep -q "event=fw.decision enforcer=userspace src=127.10.1.* verdict=allow rule=1:logic-apps" \
    "$RUN/logs/firewall.log" || fail "no allow decision line"
ok "EGR-6 userspace legacy-only: CMK action reset (not refused, as documented), shared action served"

apply_config drop-default
set +e
out=$(probe --infrastructure dedicated --region unitedstates --timeout-ms 1500 --url "$url")
set -e
[ "$(json_get "$out" 'j["error"]["message"]')" = "$TIMEOUT_MSG" ] || fail "drop: $out"
grep -q "event=fw.decision enforcer=userspace src=127.40.1.* verdict=drop rule=default config=drop-default action=hold" \
    "$RUN/logs/firewall.log" || fail "no drop decision line"
ok "EGR-6 userspace drop: the action times out"

apply_config report-mode
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["firewall"]["verdict"]')" = would_reject ] || fail "report: $out"
grep -q "event=fw.decision enforcer=userspace src=127.40.1.* verdict=would_reject rule=default config=report-mode action=serve" \
    "$RUN/logs/firewall.log" || fail "no would_reject decision line"
ok "EGR-6 userspace report mode: served, logged would_reject"

apply_config with-plex
out=$(probe --infrastructure dedicated --region unitedstates --url "$url")
[ "$(json_get "$out" 'j["firewall"]["rule"]')" = 4:power-platform-plex ] || fail "with-plex: $out"
ok "EGR-6 userspace with-plex: the action succeeds"
