#!/usr/bin/env bash
# Rule ING-2: an HTTP-trigger flow is called from a real HTTP client through its URL on the
# gateway: the right signature runs the flow and returns its Response; a wrong one is refused
# (401) without running it; after "Save as" the copy has a new URL and the old URL keeps
# pointing at the old flow.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(new_env Prod contoso unitedstates production --managed)
f=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-trigger-echo.json" --id echo --json)
path=$(json_get "$f" 'j["trigger_path"]')
http=$(cat "$RUN/gateway.http")
out=$(curl -s -X POST -H 'content-type: application/json' -d '{"message":"from curl"}' "http://$http$path")
grep -q "from curl" <<<"$out" || fail "trigger call: $out"
hdrs=$(curl -s -D - -o /dev/null -X POST -d '{"message":"headers"}' "http://$http$path")
run_id=$(grep -i '^x-ms-workflow-run-id:' <<<"$hdrs" | tr -d '\r' | awk '{print $2}')
[ -n "$run_id" ] || fail "no x-ms-workflow-run-id header: $hdrs"
cmkctl run show --env "$env" "$run_id" --json | qgrep -q '"headers"' || fail "the run id header names no run of this flow"
[ "$(json_get "$(cmkctl run list --env "$env" --flow echo --json)" 'len(j["items"])')" = 2 ] || fail "the runs are not in the history"
ok "ING-3 the right signature runs the flow and returns its Response, with its run id (x-ms-workflow-run-id)"

bad="${path%sig=*}sig=forged"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://$http$bad")
[ "$code" = 401 ] || fail "forged signature: HTTP $code"
[ "$(json_get "$(cmkctl run list --env "$env" --flow echo --json)" 'len(j["items"])')" = 2 ] || fail "a forged call ran the flow"
ok "a wrong signature is refused and runs nothing"

copy=$(cmkctl flow save-as --env "$env" echo --name "Echo copy" --json)
cpath=$(json_get "$copy" 'j["trigger_path"]')
[ "$cpath" != "$path" ] || fail "Save as kept the URL"
curl -s -X POST -d '{"message":"old url"}' "http://$http$path" | qgrep -q "old url" || fail "the old URL stopped working"
curl -s -X POST -d '{"message":"new url"}' "http://$http$cpath" | qgrep -q "new url" || fail "the new URL does not work"
[ "$(json_get "$(cmkctl run list --env "$env" --flow echo --json)" 'len(j["items"])')" = 3 ] || fail "old URL did not run the old flow"
ok "Save as gives a new URL; the old one keeps pointing at the old flow"
