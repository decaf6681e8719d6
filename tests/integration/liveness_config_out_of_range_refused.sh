#!/usr/bin/env bash
# Rule LIVE-5 (issue 15): a config value outside its declared range, or a config file naming a
# parameter twice, is refused by `cmkctl up` and by every daemon before anything starts, naming
# the parameter and the range; nothing is left running.
. "$(dirname "$0")/lib.sh"

refused() { # refused EXPECTED ARGS... - `cmkctl up ARGS` fails naming EXPECTED; nothing runs
    local want=$1; shift
    if cmkctl up "$@" >out.txt 2>&1; then fail "up accepted $*: $(cat out.txt)"; fi
    grep -qF -- "$want" out.txt || fail "up $*: message lacks '$want': $(cat out.txt)"
    [ -z "$(procs_of_run)" ] || fail "processes left after a refused up ($*): $(procs_of_run)"
    [ ! -e "$RUN/controller.pid" ] || fail "a controller started for $*"
}
cd "$RUN"
refused "heartbeat.liveness = 0 is out of range; the range is 2..100 heartbeats" --set heartbeat.liveness=0
refused "firewall.endpoint_port = 99999 is out of range; the range is 1..65535" --set firewall.endpoint_port=99999
refused "firewall.endpoint_port = 0 is out of range" --set firewall.endpoint_port=0
refused "gateway.http must be host:port" --set gateway.http=127.0.0.1:99999
refused "heartbeat.interval" --set heartbeat.interval=9223372036854775807ms
refused "heartbeat.interval" --set heartbeat.interval=9223372036854775808ms
ok "out-of-range values refused at up, nothing started"

printf '{"heartbeat": {"liveness": 5, "liveness": 6}}\n' > dup.json
refused "'heartbeat.liveness' appears twice" --config "$RUN/dup.json"
ok "a duplicate key in a config file is an error"

# every daemon refuses the same value on its own command line, before it starts anything
for d in cmk-controller cmk-worker cmk-gateway; do
    set +e
    out=$(timeout 20 "$BIN/$d" --run-dir "$RUN/d-$d" --set heartbeat.liveness=0 2>&1); rc=$?
    set -e
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "$d accepted heartbeat.liveness=0 (rc $rc): $out"
    grep -qF "heartbeat.liveness = 0 is out of range" <<<"$out" || fail "$d message: $out"
done
ok "every daemon refuses an out-of-range value"

# in range, the cluster comes up
out=$(cmkctl up --set heartbeat.liveness=2 --json)
[ "$(json_get "$out" 'j["processes"]')" = 5 ] || fail "up in range: $out"  # with the console
ok "in-range values are accepted"
