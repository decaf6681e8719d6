#!/usr/bin/env bash
# Rule CONN-1 (issue 16, item 1; seed 000: "CMKs aren't leveraged to encrypt non-OAuth
# connections. These non-Microsoft Entra based connections continue to be encrypted at rest
# using MMKs."): connections move with the environment. A connection created before `policy
# add-env` is found afterwards; OAuth connections live in the dedicated partition sealed under
# the data key the customer's key wraps, non-OAuth ones under the Microsoft-managed key; flows
# that use them run before and after the migration; `remove-env` brings them back.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
printf 'oauth-refresh-token-%s' "$RANDOM" >"$RUN/oauth.secret"
printf 'api-key-%s' "$RANDOM" >"$RUN/apikey.secret"
oa=$(json_get "$(cmkctl conn create --env "$env" --name entra --secret-file "$RUN/oauth.secret" --json)" 'j["id"]')
na=$(json_get "$(cmkctl conn create --env "$env" --name apikey --secret-file "$RUN/apikey.secret" --non-oauth --json)" 'j["id"]')

# a flow (manual trigger, List Flows as Admin V2) through each connection
for c in "$oa" "$na"; do
    python3 - "$SRC/configs/flows/list-flows-admin-v2.json" "$c" >"$RUN/flow-$c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["triggers"] = {"manual": {"type": "Request", "kind": "Button"}}
d["actions"]["List_Flows_as_Admin_V2"]["inputs"]["host"]["connectionName"] = sys.argv[2]
print(json.dumps(d))
PY
    cmkctl flow create --env "$env" --file "$RUN/flow-$c.json" --id "uses-$c" >/dev/null
done
runs_through() { # FLOW CONN - a run of FLOW succeeds and its action used CONN
    local j rid
    j=$(cmkctl flow run --env "$env" "$1" --json)
    [ "$(json_get "$j" 'j["status"]')" = Succeeded ] || fail "run of $1: $j"
    rid=$(json_get "$j" 'j["run"]')
    cmkctl run show --env "$env" "$rid" --json | qgrep -q "$2" || fail "run of $1 did not use connection $2: $(cmkctl run show --env "$env" "$rid" --json)"
}
runs_through "uses-$oa" "$oa"; runs_through "uses-$na" "$na"
# a connection that is not there fails the action, naming it
python3 - "$RUN/flow-$oa.json" >"$RUN/flow-missing.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["actions"]["List_Flows_as_Admin_V2"]["inputs"]["host"]["connectionName"] = "conn-missing"
print(json.dumps(d))
PY
cmkctl flow create --env "$env" --file "$RUN/flow-missing.json" --id uses-missing >/dev/null
j=$(cmkctl flow run --env "$env" uses-missing --json 2>&1 || true)
[ "$(json_get "$j" 'j["status"]')" = Failed ] || fail "a run through a missing connection did not fail: $j"
ok "CONN-1 flows run through their connections on the shared infrastructure"

cmkctl policy add-env "$POLICY" "$env" >/dev/null
deks=$(cmkctl call dek.list "{\"env\":\"$env\"}")
dek_of() { json_get "$deks" "[d['id'] for d in j['items'] if d['purpose']=='$1'][0]"; }
kek_of() { json_get "$deks" "[d['kek'] for d in j['items'] if d['purpose']=='$1'][0]"; }
s=$(cmkctl conn show --env "$env" "$oa" --json) || fail "OAuth connection not found after add-env"
[ "$(json_get "$s" 'j["sealed_under_dek"]')" = "$(dek_of cmk)" ] || fail "OAuth connection not under the customer-key data key: $s / $deks"
kek_of cmk | qgrep -q "$VAULT/$KEY/" || fail "the cmk data key is not wrapped by the customer's key: $deks"
s=$(cmkctl conn show --env "$env" "$na" --json) || fail "non-OAuth connection not found after add-env"
[ "$(json_get "$s" 'j["sealed_under_dek"]')" = "$(dek_of mmk)" ] || fail "non-OAuth connection not under the Microsoft-managed data key: $s / $deks"
[ "$(kek_of mmk)" = microsoft-managed ] || fail "the mmk data key is not wrapped by the Microsoft-managed key: $deks"
[ "$(sqlite3 "$RUN/partitions/$env/dedicated/partition.db" "SELECT COUNT(*) FROM connections")" = 2 ] || fail "connections not in the dedicated partition"
[ "$(sqlite3 "$RUN/partitions/$env/shared/partition.db" "SELECT COUNT(*) FROM connections")" = 0 ] || fail "connections left in the shared partition"
ok "CONN-1 after add-env: both connections found in the dedicated partition, OAuth under the customer's key, non-OAuth under the Microsoft-managed key"

runs_through "uses-$oa" "$oa"; runs_through "uses-$na" "$na"
n=$(cmkctl conn create --env "$env" --name after --secret-file "$RUN/oauth.secret" --json)
[ "$(json_get "$n" 'j["sealed_under_dek"]')" = "$(dek_of cmk)" ] || fail "a connection made after CMK is not under the customer's key: $n"
ok "CONN-1 flows using the connections still run after the migration"

cmkctl policy remove-env "$env" >/dev/null
for c in "$oa" "$na"; do cmkctl conn show --env "$env" "$c" >/dev/null || fail "connection $c lost by remove-env"; done
[ "$(sqlite3 "$RUN/partitions/$env/shared/partition.db" "SELECT COUNT(*) FROM connections")" = 3 ] || fail "connections not back in the shared partition"
runs_through "uses-$oa" "$oa"; runs_through "uses-$na" "$na"
ok "CONN-1 remove-env brings the connections back to the shared infrastructure"
