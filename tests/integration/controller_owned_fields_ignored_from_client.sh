#!/usr/bin/env bash
# Rule CORE-2: fields the operation table marks controller-owned (env, region, infrastructure,
# encryption, requested_by) are set by the controller before a request is routed, whatever the
# client put in its body. A client that adds "infrastructure": "dedicated" to a shared
# environment's flow.run does not make its HTTP action leave from PowerPlatformPlex: it leaves
# from the legacy LogicApps range and a legacy-only firewall lets it through, as for any
# shared environment. Also: a request over its type's body limit is refused before it is
# authorized or handled (CORE-1), and an unknown type names the closest known one.
. "$(dirname "$0")/lib.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$SRC/configs/firewalls/legacy-only.json" "$RUN/customer-fw.json"
sed "s/127.0.0.1:18080/127.0.0.1:$port/" "$SRC/configs/flows/http-action.json" >"$RUN/http-action.json"
cmkctl up --set firewall.config="$RUN/customer-fw.json" --set firewall.mode=userspace \
    --set firewall.endpoint_port="$port" >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Shared contoso unitedstates)
cmkctl flow create --env "$env" --file "$RUN/http-action.json" --id http >/dev/null

# the forged body: every placement field the controller decides, set by the client
body=$(python3 -c 'import json,sys; print(json.dumps({"env": sys.argv[1], "flow": "http", "body": {"text": "7"},
    "infrastructure": "dedicated", "region": "europe", "encryption": "customer", "requested_by": "worker-shared"}))' "$env")
out=$(cmkctl call flow.run "$body")
[ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "the shared environment's run did not get through legacy-only: $out"
line=$(grep "env=$env .*event=egress.decision flow=http " "$RUN/logs/gateway.log" | tail -n 1)
[ -n "$line" ] || fail "no egress decision for the run"
grep -q "tag=LogicApps.WestUS" <<<"$line" || fail "the action left from another range than the shared one: $line"
if grep -q "env=$env .*tag=PowerPlatformPlex" "$RUN/logs/gateway.log"; then
    fail "a client's infrastructure field moved the action to PowerPlatformPlex"
fi
ok "CORE-2 a client's infrastructure/region/encryption/requested_by change nothing: egress stays LogicApps.WestUS"

# limits from the operation table: a 100 KiB tenant.create body (its limit is 64 KiB) is refused
# before it is authorized or handled, and nothing is created
big=$(python3 -c 'import json; print(json.dumps({"id": "fabrikam", "name": "x" * (100 << 10)}))')
set +e
err=$(cmkctl call tenant.create "$big" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "a 100 KiB tenant.create body was accepted"
grep -q "the body of 'tenant.create' is .* bytes; at most 65536 are accepted" <<<"$err" || fail "limit message: $err"
if cmkctl tenant show fabrikam >/dev/null 2>&1; then fail "the refused tenant was created"; fi
set +e
err=$(cmkctl call flow.rn "{}" 2>&1)
set -e
grep -q "unknown request 'flow.rn'; did you mean 'flow.run'?" <<<"$err" || fail "unknown type message: $err"
ok "CORE-1 a body over its type's limit is refused; an unknown type names the closest one"
