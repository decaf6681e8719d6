#!/usr/bin/env bash
# Rule CLI-6: --json everywhere, exit codes a script can use, bodies of any size. Under --json an
# error is one JSON object {"error": {"code", "message", "exit"}} (stderr) and `scenario run`
# prints one JSON document; a flow run that ends Failed exits 5 (a refusal exits 1, bad input
# 2, no cluster 3); `cmkctl call TYPE --file F` and `cmkctl call TYPE -` (stdin) send bodies
# larger than an argument list can hold (128 KiB and more).
. "$(dirname "$0")/lib.sh"

# a JSON error, before any cluster exists
rc=0; err=$(cmkctl --json env list --tenat x 2>&1 >/dev/null) || rc=$?
[ $rc = 2 ] || fail "--json usage error exit $rc"
[ "$(json_get "$err" 'j["error"]["code"]')" = EINVAL ] || fail "--json error object: $err"
grep -q "did you mean --tenant" <<<"$(json_get "$err" 'j["error"]["message"]')" || fail "--json error message: $err"
rc=0; err=$(cmkctl --json status 2>&1 >/dev/null) || rc=$?
[ $rc = 3 ] && [ "$(json_get "$err" 'j["error"]["code"]')" = EUNAVAIL ] || fail "--json no-cluster error ($rc): $err"
ok "--json errors are {\"error\": {\"code\", \"message\"}} with the exit status"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env_id=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --json)" 'j["id"]')
cmkctl flow create --env Prod --file "$SRC/configs/flows/condition-terminate.json" --id ct >/dev/null

rc=0; cmkctl flow run --env Prod ct --body '{"number":5}' >/dev/null || rc=$?
[ $rc = 0 ] || fail "a Succeeded run exited $rc"
rc=0; out=$(cmkctl flow run --env Prod ct --body '{"number":500}') || rc=$?
[ $rc = 5 ] || fail "a Failed run exited $rc (want 5): $out"
grep -q "Failed" <<<"$out" || fail "the Failed run's output: $out"
rc=0; out=$(cmkctl flow run --env Prod ct --body '{"number":500}' --json) || rc=$?
[ $rc = 5 ] && [ "$(json_get "$out" 'j["status"]')" = Failed ] || fail "--json Failed run ($rc): $out"
rc=0; cmkctl flow run --env Prod nosuchflow >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "a refused run exited $rc (want 1)"
grep -q "5  the flow run ran and ended Failed" <<<"$(cmkctl --help)" || fail "cmkctl --help does not list exit 5"
grep -q "| 5 |" "$SRC/README.md" || fail "the README does not list exit 5"
ok "exit statuses: 0 Succeeded, 5 Failed run, 1 refused; listed in --help and the README"

# bodies from a file and from stdin, past the 128 KiB a single argument can carry
# a flow whose definition carries a 200 KiB description: a 200 KiB flow.create body
python3 - "$SRC/configs/flows/manual-compose.json" "$env_id" >"$RUN/big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["description"] = "x" * 200000
print(json.dumps({"env": sys.argv[2], "name": "big", "definition": d}))
PY
[ "$(stat -c %s "$RUN/big.json")" -gt 131072 ] || fail "the test body is not over 128 KiB"
out=$(cmkctl call flow.create --file "$RUN/big.json" 2>&1) || fail "call --file with a 200 KiB body: $out"
[ "$(json_get "$(cmkctl flow list --env Prod --json)" 'len([f for f in j["items"] if f["name"] == "big"])')" = 1 ] \
    || fail "the flow sent with call --file is not there"
out=$(echo '{"id": "fabrikam", "name": "Fabrikam"}' | cmkctl call tenant.create -) || fail "call - (stdin): $out"
[ "$(json_get "$out" 'j["id"]')" = fabrikam ] || fail "call - (stdin) reply: $out"
rc=0; out=$(echo '[1,2]' | cmkctl call tenant.create - 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "not a JSON object" <<<"$out" || fail "a stdin body that is no object ($rc): $out"
rc=0; out=$(cmkctl call tenant.create '{}' --file "$RUN/big.json" 2>&1) || rc=$?
[ $rc = 2 ] || fail "two bodies accepted: $out"
ok "call --file and call - send bodies over 128 KiB; bad bodies refused"

# scenario run --json: one document with every step
cat >"$RUN/sc.json" <<'JSON'
{ "name": "tiny", "steps": [ { "name": "list tenants", "cmd": ["tenant", "list"], "expect": { "exit": 0 } },
                             { "name": "a refusal", "cmd": ["tenant", "show", "nobody"], "expect": { "exit": 1 } } ] }
JSON
out=$(cmkctl scenario run "$RUN/sc.json" --json) || fail "scenario run --json: $out"
[ "$(json_get "$out" 'j["ok"] and len(j["steps"]) == 2 and j["steps"][1]["exit"] == 1')" = True ] \
    || fail "scenario run --json document: $out"
ok "scenario run --json prints one JSON document"
