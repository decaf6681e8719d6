#!/usr/bin/env bash
# Rule SEC-SIG-1: an HTTP trigger's signature is a secret. It is 256 random bits (43 characters
# of base64url); only who may run the flow gets the trigger URL (flow.create's answer and
# `cmkctl flow trigger-url`, a write-class request). A reader gets no signature through flow
# show, flow list, flow export, run show or the runs CSV, and is refused `flow trigger-url`; a
# tenant-admin of another tenant gets nothing at all. Through the gateway the right signature
# runs the flow, and a wrong one of the same length is refused (401) and runs nothing.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl tenant create fabrikam >/dev/null
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl identity add r --role reader >/dev/null
cmkctl identity add mallory --role tenant-admin --tenant fabrikam >/dev/null

created=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-trigger-echo.json" --id echo --json)
path=$(cmkctl flow trigger-url --env "$env" echo)
[ "$path" = "$(json_get "$created" 'j["trigger_path"]')" ] || fail "trigger-url and create disagree: $path"
sig=${path##*sig=}
[ ${#sig} -eq 43 ] || fail "the signature has ${#sig} characters, not 43 (256 bits of base64url): $sig"
[[ "$sig" =~ ^[A-Za-z0-9_-]+$ ]] || fail "the signature is not base64url: $sig"
ok "SEC-SIG-1 a trigger signature is 256 random bits; the maker gets the URL from create and flow trigger-url"

http=$(cat "$RUN/gateway.http")
out=$(curl -s -X POST -H 'content-type: application/json' -d '{"message":"right sig"}' "http://$http$path")
grep -q "right sig" <<<"$out" || fail "the right signature: $out"
# the same length, one character changed: first, then last
for pos in first last; do
    if [ $pos = first ]; then c=${sig:0:1}; rest=${sig:1}; [ "$c" = A ] && n=B || n=A; wrong="$n$rest"
    else c=${sig: -1}; head=${sig:0:42}; [ "$c" = A ] && n=B || n=A; wrong="$head$n"; fi
    [ ${#wrong} -eq 43 ] && [ "$wrong" != "$sig" ] || fail "test bug: $wrong"
    code=$(curl -s -o "$RUN/out.json" -w '%{http_code}' -X POST -d '{"message":"forged"}' "http://$http${path%sig=*}sig=$wrong")
    [ "$code" = 401 ] || fail "a wrong signature of the same length ($pos character): HTTP $code $(cat "$RUN/out.json")"
done
[ "$(json_get "$(cmkctl run list --env "$env" --flow echo --json)" 'len(j["items"])')" = 1 ] || fail "a wrong signature ran the flow"
ok "SEC-SIG-1 the right signature runs the flow; a wrong one of the same length is refused (401) and runs nothing"

run=$(json_get "$(cmkctl run list --env "$env" --flow echo --json)" 'j["items"][0]["run"]')
# no_sig WHAT TEXT - the text carries neither the signature nor a trigger URL
no_sig() {
    grep -qF -- "$sig" <<<"$2" && fail "$1 carries the trigger signature: $2"
    grep -q "trigger_path\|sig=" <<<"$2" && fail "$1 carries a trigger URL: $2"
    return 0
}
for as in "--as r" ""; do
    who=${as:-admin}
    no_sig "flow show ($who)" "$("$BIN/cmkctl" --run-dir "$RUN" $as flow show --env "$env" echo --json)"
    no_sig "flow list ($who)" "$("$BIN/cmkctl" --run-dir "$RUN" $as flow list --env "$env" --json)"
    no_sig "flow export ($who)" "$("$BIN/cmkctl" --run-dir "$RUN" $as flow export --env "$env" echo)"
    shown=$("$BIN/cmkctl" --run-dir "$RUN" $as run show --env "$env" "$run" --json)
    grep -q "right sig" <<<"$shown" || fail "run show ($who) does not show the run: $shown"
    no_sig "run show ($who)" "$shown"
    no_sig "run export-csv ($who)" "$("$BIN/cmkctl" --run-dir "$RUN" $as run export-csv --env "$env" --flow echo)"
done
if out=$(cmkctl --as r flow trigger-url --env "$env" echo 2>&1); then fail "a reader got the trigger URL: $out"; fi
grep -q "may not call" <<<"$out" || fail "the reader's refusal: $out"
no_sig "the reader's refusal" "$out"
ok "SEC-SIG-1 a reader gets no signature through flow show/list/export, run show or the CSV, and is refused flow trigger-url"

for cmd in "flow trigger-url --env $env echo" "flow show --env $env echo" "flow list --env $env" \
           "flow export --env $env echo" "run show --env $env $run"; do
    if out=$("$BIN/cmkctl" --run-dir "$RUN" --as mallory $cmd 2>&1); then fail "another tenant's admin ran '$cmd': $out"; fi
    grep -q "may not call" <<<"$out" || fail "'$cmd' as another tenant's admin: $out"
    no_sig "'$cmd' as another tenant's admin" "$out"
done
ok "SEC-SIG-1 a tenant-admin of another tenant gets nothing (refused, no signature)"

# Save as (a writer) gets the copy's new URL; flow update keeps the URL
copy=$(cmkctl flow save-as --env "$env" echo --name "Echo copy" --json)
cpath=$(json_get "$copy" 'j["trigger_path"]')
[ -n "$cpath" ] && [ "$cpath" != "$path" ] || fail "save-as: $copy"
upd=$(cmkctl flow update --env "$env" echo --name "Echo renamed" --json)
[ "$(json_get "$upd" 'j["trigger_path"]')" = "$path" ] || fail "update changed the URL: $upd"
curl -s -X POST -d '{"message":"after update"}' "http://$http$path" | qgrep -q "after update" || fail "the URL stopped working after an update"
ok "SEC-SIG-1 save-as and update answer writers with the URL; an update keeps it"
