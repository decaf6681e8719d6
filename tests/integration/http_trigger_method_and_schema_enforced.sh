#!/usr/bin/env bash
# Rule ING-5: an HTTP trigger behaves as the platform's Request trigger. The method it declares
# ("inputs.method") is the only one taken: others get 405 with an Allow header; a body that is
# not JSON when JSON is expected (the trigger declares a schema, or Content-Type says JSON) gets
# 400 with the parser's reason; a body that does not match the declared schema
# ("inputs.schema": type, required, properties) gets 400 naming the first mismatch. None of
# these starts a run. A definition whose method or schema is malformed is refused when saved.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Prod contoso unitedstates production --managed)
cat >"$RUN/orders.json" <<'JSON'
{ "triggers": { "manual": { "type": "Request", "kind": "Http", "inputs": { "method": "POST",
      "schema": { "type": "object", "required": ["order"],
                  "properties": { "order": { "type": "object", "required": ["id"],
                                             "properties": { "id": { "type": "integer" },
                                                             "note": { "type": "string" } } } } } } } },
  "actions": { "Echo": { "type": "Response", "kind": "Http",
                         "inputs": { "statusCode": 200, "body": "@triggerBody()" }, "runAfter": {} } } }
JSON
f=$(cmkctl flow create --env "$env" --file "$RUN/orders.json" --id orders --json)
url="http://$(cat "$RUN/gateway.http")$(json_get "$f" 'j["trigger_path"]')"
runs() { json_get "$(cmkctl run list --env "$env" --flow orders --json)" 'len(j["items"])'; }

for m in GET DELETE PUT BREW; do
    hdrs=$(curl -s -D - -o "$RUN/out.json" -X "$m" -d '{"order":{"id":1}}' "$url")
    grep -q "^HTTP/1.1 405" <<<"$hdrs" || fail "$m: $(head -1 <<<"$hdrs")"
    grep -qi "^Allow: POST" <<<"$hdrs" || fail "$m: no Allow: POST header: $hdrs"
    grep -q "accepts only POST" "$RUN/out.json" || fail "$m: $(cat "$RUN/out.json")"
done
[ "$(runs)" = 0 ] || fail "a refused method started a run"
ok "GET, DELETE, PUT, BREW: 405 with Allow: POST, no run"

code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"order": {"id": 1' "$url")
[ "$code" = 400 ] || fail "malformed JSON: HTTP $code"
msg=$(json_get "$(cat "$RUN/out.json")" 'j["error"]["message"]')
grep -q "not valid JSON (at byte" <<<"$msg" || fail "malformed JSON: $msg"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'hello' "$url")
[ "$code" = 400 ] || fail "a text body to a trigger with a schema: HTTP $code"
[ "$(runs)" = 0 ] || fail "a malformed body started a run"
ok "a body that is not JSON: 400 with the reason, no run"

check_400() { # BODY EXPECTED-MESSAGE
    local code
    code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$1" "$url")
    [ "$code" = 400 ] || fail "$1: HTTP $code"
    grep -qF "$2" <<<"$(json_get "$(cat "$RUN/out.json")" 'j["error"]["message"]')" || fail "$1: $(cat "$RUN/out.json")"
}
check_400 '{}' "body: missing required property 'order'"
check_400 '{"order": {"id": "7"}}' "body.order.id: expected integer, got string"
check_400 '{"order": {"id": 7, "note": 3}}' "body.order.note: expected string, got integer"
check_400 '[1]' "body: expected object, got array"
[ "$(runs)" = 0 ] || fail "a body not matching the schema started a run"
ok "a body that does not match the schema: 400 naming the first mismatch, no run"

out=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"order": {"id": 7, "note": "ok"}}' "$url")
[ "$(json_get "$out" 'j["order"]["id"]')" = 7 ] || fail "a matching body: $out"
[ "$(runs)" = 1 ] || fail "the matching call did not run once"
ok "a matching POST runs the flow"

sed 's/"method": "POST"/"method": "FETCH"/' "$RUN/orders.json" >"$RUN/bad1.json"
out=$(cmkctl flow create --env "$env" --file "$RUN/bad1.json" --id bad1 2>&1) && fail "method FETCH accepted"
grep -q "triggers.manual.inputs.method" <<<"$out" || fail "bad method: $out"
sed 's/"type": "integer"/"type": "int"/' "$RUN/orders.json" >"$RUN/bad2.json"
out=$(cmkctl flow create --env "$env" --file "$RUN/bad2.json" --id bad2 2>&1) && fail "schema type int accepted"
grep -q "schema.properties.order.properties.id.type: unknown type 'int'" <<<"$out" || fail "bad schema: $out"
ok "a definition with a bad method or schema is refused when saved, naming the path"
