#!/usr/bin/env bash
# Rule LIVE-6 (issue 15): 300 slow HTTP clients (one header byte every 2 s, from 127.0.0.2,
# loopback only, bounded in count and time) do not make a normal trigger call or /health time
# out: the gateway holds at most gateway.per_ip_connections of them and closes idle ones after
# gateway.connection_timeout. A trigger URL still works after the gateway is killed with
# SIGKILL: the port chosen at first start is kept in the run dir and used again.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --managed --json)" 'j["id"]')
f=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-trigger-echo.json" --id echo --json)
path=$(json_get "$f" 'j["trigger_path"]')
http=$(cat "$RUN/gateway.http")
call() { curl -s -m 10 -X POST -H 'content-type: application/json' -d "{\"message\":\"$1\"}" "http://$http$path"; }
grep -q "before" <<<"$(call before)" || fail "trigger call before the abuse"

# 300 slow clients for at most 40 s, from another loopback address than the normal caller
host=${http%:*}; port=${http##*:}
timeout 60 python3 - "$host" "$port" > "$RUN/slow.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
socks, refused = [], 0
for i in range(300):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind(("127.0.0.2", 0)); s.connect((host, port)); s.send(b"G"); socks.append(s)
    except OSError:
        refused += 1
end = time.time() + 40
while time.time() < end and socks:
    time.sleep(2)
    alive = []
    for s in socks:
        try:
            s.send(b"E"); alive.append(s)
        except OSError:
            pass
    socks = alive
print("connected", 300 - refused, "alive at end", len(socks))
PY
slow=$!
t_end=$((SECONDS + 30))
n=0
while (( SECONDS < t_end )); do   # normal callers keep being answered during the abuse
    t0=$SECONDS
    grep -q "during-$n" <<<"$(call "during-$n")" || fail "trigger call $n during the abuse timed out or failed"
    curl -sf -m 10 "http://$http/health" >/dev/null || fail "/health during the abuse"
    (( SECONDS - t0 < 10 )) || fail "a call took $((SECONDS - t0)) s during the abuse"
    n=$((n + 1))
done
wait $slow || true
ok "$n trigger and /health calls answered during 300 slow clients ($(cat "$RUN/slow.out"))"

gw=$(json_get "$(cmkctl status --json)" '[p["pid"] for p in j["processes"] if p["name"]=="gateway"][0]')
kill -9 "$gw"
newgw() { [ "$(json_get "$(cmkctl status --json)" '[p for p in j["processes"] if p["name"]=="gateway"][0]["pid"]')" != "$gw" ] \
          && curl -sf -m 5 "http://$http/health" >/dev/null; }
wait_until 60 newgw || fail "the gateway did not come back on $http"
[ "$(cat "$RUN/gateway.http")" = "$http" ] || fail "the gateway moved from $http to $(cat "$RUN/gateway.http")"
grep -q "after" <<<"$(call after)" || fail "the trigger URL does not work after the gateway's SIGKILL"
ok "trigger URL $http still works after kill -9 of the gateway"
