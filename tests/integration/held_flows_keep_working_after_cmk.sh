#!/usr/bin/env bash
# Rule MIG-11 (issue 16, item 9; seed 000 promises no business disruption): flows held on the
# Microsoft-managed key keep working after CMK. A held flow (List flows as Admin V1) that calls
# a child flow which migrated reaches the child where it lives (the controller relays the call,
# flow.child-run, to the dedicated worker); a held flow that uses a connection - moved to the
# dedicated partition, OAuth ones under the customer's key, non-OAuth ones under the
# Microsoft-managed key - still opens it there (conn.use). Only the shared worker relays, for a
# flow kept on it, within an environment it serves; a worker of another environment is refused.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
printf 'oauth-refresh-token-%s' "$RANDOM" >"$RUN/oauth.secret"
printf 'api-key-%s' "$RANDOM" >"$RUN/apikey.secret"
oa=$(json_get "$(cmkctl conn create --env "$env" --name entra --secret-file "$RUN/oauth.secret" --json)" 'j["id"]')
na=$(json_get "$(cmkctl conn create --env "$env" --name apikey --secret-file "$RUN/apikey.secret" --non-oauth --json)" 'j["id"]')

# the child migrates; the parent is held (List flows as Admin V1) and calls it
cmkctl flow create --env "$env" --file "$SRC/configs/flows/child-child.json" --id child-child >/dev/null
python3 - "$SRC/configs/flows" >"$RUN/parent.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/list-flows-admin-v1.json"))
p = json.load(open(sys.argv[1] + "/child-parent.json"))
d["triggers"] = {"manual": {"type": "Request", "kind": "Button",
                            "inputs": {"schema": {"type": "object", "properties": {"number": {"type": "number"}}}}}}
d["actions"]["Run_a_Child_Flow"] = p["actions"]["Run_a_Child_Flow"]
d["actions"]["Report"] = p["actions"]["Report"]
print(json.dumps(d))
PY
cmkctl flow create --env "$env" --file "$RUN/parent.json" --id held-parent >/dev/null
# held flows through each connection (List flows as Admin V1 through a stored connection)
for c in "$oa" "$na"; do
    python3 - "$SRC/configs/flows/list-flows-admin-v1.json" "$c" >"$RUN/flow-$c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["triggers"] = {"manual": {"type": "Request", "kind": "Button"}}
d["actions"]["List_Flows_as_Admin"]["inputs"]["host"]["connectionName"] = sys.argv[2]
print(json.dumps(d))
PY
    cmkctl flow create --env "$env" --file "$RUN/flow-$c.json" --id "held-$c" >/dev/null
done

parent_runs() {
    local r
    r=$(cmkctl flow run --env "$env" held-parent --body '{"number":21}' --json)
    [ "$(json_get "$r" 'j["status"]')" = Succeeded ] || fail "held parent run: $r"
    grep -q "The child answered 42" <<<"$(cmkctl run show --env "$env" "$(json_get "$r" 'j["run"]')" --json)" ||
        fail "the child's answer is not in the parent's run: $(cmkctl run show --env "$env" "$(json_get "$r" 'j["run"]')" --json)"
}
conn_runs() { # FLOW CONN - a run of FLOW succeeds through CONN; prints its run show
    local j
    j=$(cmkctl flow run --env "$env" "$1" --json)
    [ "$(json_get "$j" 'j["status"]')" = Succeeded ] || fail "run of $1: $j"
    j=$(cmkctl run show --env "$env" "$(json_get "$j" 'j["run"]')" --json)
    grep -q "$2" <<<"$j" || fail "run of $1 did not use connection $2: $j"
    echo "$j"
}
parent_runs
conn_runs "held-$oa" "$oa" >/dev/null
conn_runs "held-$na" "$na" >/dev/null
ok "before CMK: the parent reaches its child, the flows open their connections"

cmkctl policy add-env "$POLICY" "$env" >/dev/null
mmk=$(cmkctl flows mmk --env "$env" --json)
for f in held-parent "held-$oa" "held-$na"; do
    grep -q "\"$f\"" <<<"$mmk" || fail "$f is not held on the Microsoft-managed key: $mmk"
done
grep -q '"child-child"' <<<"$mmk" && fail "the child did not migrate: $mmk"
[ "$(sqlite3 "$RUN/partitions/$env/shared/partition.db" "SELECT COUNT(*) FROM flows WHERE id = 'child-child'")" = 0 ] ||
    fail "the child is still in the shared partition"
ok "after CMK the child lives on the dedicated worker, the parent and connection flows are held"

parent_runs
grep -q "event=run.child_remote .*child=child-child" "$RUN/logs/worker-shared.log" || fail "the shared worker did not relay the call"
grep -q "event=relay type=flow.child-run as=flow.run from=worker-shared to=worker-$env" "$RUN/logs/controller.log" ||
    fail "the controller did not relay the call to the dedicated worker"
grep -q "event=run.ended flow=child-child status=Succeeded" "$RUN/logs/worker-$env.log" ||
    fail "the child did not run on the dedicated worker"
ok "MIG-11 a held flow's child-flow call reaches the migrated child on the dedicated worker"

deks=$(cmkctl call dek.list "{\"env\":\"$env\"}")
dek_of() { json_get "$deks" "[d['id'] for d in j['items'] if d['purpose']=='$1'][0]"; }
s=$(conn_runs "held-$oa" "$oa")
grep -q "$(dek_of cmk)" <<<"$s" || fail "the OAuth connection was not opened under the customer-key data key: $s"
s=$(conn_runs "held-$na" "$na")
grep -q "$(dek_of mmk)" <<<"$s" || fail "the non-OAuth connection was not opened under the Microsoft-managed data key: $s"
grep -q "event=relay type=conn.use as=conn.show from=worker-shared to=worker-$env" "$RUN/logs/controller.log" ||
    fail "the connection was not opened on the dedicated worker"
ok "MIG-11 a held flow's connection is opened where it moved (OAuth under the customer's key, non-OAuth under the Microsoft-managed key)"

# a child that is turned off fails the parent's action with the child worker's reason, no hang
cmkctl flow disable --env "$env" child-child >/dev/null
r=$(cmkctl flow run --env "$env" held-parent --body '{"number":1}' --json || true)
[ "$(json_get "$r" 'j["status"]')" = Failed ] || fail "a held parent calling a turned-off child: $r"
grep -q "turned off" <<<"$r" || fail "the parent's failure does not say why: $r"
cmkctl flow enable --env "$env" child-child >/dev/null
ok "MIG-11 a turned-off migrated child fails the held parent's action with its reason"

# a worker relays only within an environment it serves
add_raw_identity rogue-worker worker '["env-other"]'
cmk_raw --key "$RUN/keys/rogue-worker.key" ready worker 4545 idle 300 \
    send flow.child-run "{\"env\":\"$env\",\"flow\":\"child-child\",\"body\":{\"number\":1}}" - expect error 5000 \
    send conn.use "{\"env\":\"$env\",\"conn\":\"$oa\"}" - expect error 5000 idle 200 \
    >"$RUN/rogue.out" 2>&1 || fail "cmk_raw: $(cat "$RUN/rogue.out")"
[ "$(grep -c "^recv error.*does not serve environment $env" "$RUN/rogue.out")" -eq 2 ] ||
    fail "a worker of another environment was relayed: $(cat "$RUN/rogue.out")"
ok "MIG-11 a worker that does not serve the environment cannot relay into it"
