#!/usr/bin/env bash
# Rule SEC-SEAL-1 (issue 16 item 3): nothing a customer wrote is at rest in the clear. Unique
# markers go into every customer-supplied field that reaches a partition (flow display names,
# renames, Save-as and import names, definitions and their descriptions, connection names and
# secrets OAuth and not, HTTP trigger bodies and headers, run inputs, client request ids, and the
# HTTP trigger's signature), in a shared environment on the Microsoft-managed key and in a
# dedicated environment under a customer-managed key (flows migrated by add-env and created
# after it), then a backup is taken and restored into another environment. `grep -a -r` over
# every file of the run dir (controller.db, partitions, their WAL, backups, logs) finds none of
# them, with the cluster running (WAL files present) and after it stopped. The grep is shown to
# work: it finds the environments' ids, which are kept in the clear.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"

M="mk$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" # unique to this run
cmkctl up >/dev/null
setup_cmk contoso unitedstates
shared=$(new_env Shared contoso unitedstates sandbox --managed)
cmk=$(new_env Dedicated contoso unitedstates sandbox --managed)
other=$(new_env Target contoso unitedstates sandbox --managed)
http=$(cat "$RUN/gateway.http")

# a definition whose description and Compose input carry markers
mkdef() { # FILE TAG
    cat >"$1" <<EOF
{"description":"$M-DESCRIPTION-$2",
 "triggers":{"manual":{"type":"Request","kind":"Button","inputs":{"schema":{"type":"object"}}}},
 "actions":{"Note":{"type":"Compose","inputs":{"text":"$M-DEFINITION-$2","got":"@triggerBody()"},"runAfter":{}}}}
EOF
}
# fill ENV TAG - flows, runs, connections of one environment, every field marked
fill() {
    local env=$1 tag=$2 p sig
    mkdef "$RUN/../def-$M-$tag.json" "$tag" # outside the run dir, which is grepped
    cmkctl flow create --env "$env" --file "$RUN/../def-$M-$tag.json" --id "note-$tag" --name "$M-FLOWNAME-$tag" >/dev/null
    rm -f "$RUN/../def-$M-$tag.json"
    cmkctl flow run --env "$env" "note-$tag" --body "{\"in\":\"$M-RUNINPUT-$tag\"}" --client-req "$M-CLIENTREQ-$tag" >/dev/null
    cmkctl flow update --env "$env" "note-$tag" --name "$M-RENAMED-$tag" >/dev/null
    cmkctl flow save-as --env "$env" "note-$tag" --name "$M-SAVEAS-$tag" >/dev/null
    cmkctl flow export --env "$env" "note-$tag" --out "$RUN/../pkg-$M-$tag.json" >/dev/null
    cmkctl flow import --env "$env" --file "$RUN/../pkg-$M-$tag.json" --name "$M-IMPORTED-$tag" >/dev/null
    rm -f "$RUN/../pkg-$M-$tag.json"
    printf '%s' "$M-OAUTHSECRET-$tag" >"$RUN/../s1-$M"; printf '%s' "$M-BASICSECRET-$tag" >"$RUN/../s2-$M"
    cmkctl conn create --env "$env" --name "$M-CONNOAUTH-$tag" --secret-file "$RUN/../s1-$M" >/dev/null
    cmkctl conn create --env "$env" --name "$M-CONNBASIC-$tag" --secret-file "$RUN/../s2-$M" --non-oauth >/dev/null
    rm -f "$RUN/../s1-$M" "$RUN/../s2-$M"
}
# an HTTP-trigger flow called through the gateway: body, header and signature are customer data
http_fill() {
    local env=$1 tag=$2 p
    cmkctl flow create --env "$env" --file "$SRC/configs/flows/http-trigger-echo.json" --id "echo-$tag" --name "$M-HTTPFLOW-$tag" >/dev/null
    p=$(cmkctl flow trigger-url --env "$env" "echo-$tag")
    SIGS+=("${p##*sig=}")
    curl -s -X POST -H 'content-type: application/json' -H "x-note: $M-HEADER-$tag" \
        -d "{\"message\":\"$M-TRIGGERBODY-$tag\"}" "http://$http$p" | qgrep -q "$M-TRIGGERBODY-$tag" \
        || fail "the HTTP trigger of $env did not run"
}
SIGS=()

# shared environment, Microsoft-managed key
fill "$shared" s
http_fill "$shared" s
# flows made before the customer key moves with add-env; more are made after it
fill "$cmk" pre
http_fill "$cmk" pre
cmkctl policy add-env "$POLICY" "$cmk" >/dev/null
[ "$(env_field "$cmk" encryption)" = customer ] || fail "$cmk is not under the customer key: $(cmkctl env cmk-status "$cmk")"
fill "$cmk" post
http_fill "$cmk" post
# a backup of each, one restored into another environment
cmkctl env backup "$shared" --label "nightly" >/dev/null
bak=$(json_get "$(cmkctl env backup "$cmk" --json)" 'j["id"]')
sbak=$(json_get "$(cmkctl env backups "$shared" --json)" 'j["items"][0]["id"]')
cmkctl env restore "$sbak" --to "$other" --yes >/dev/null
cmkctl flow list --env "$other" --json | qgrep -q "$M-IMPORTED-s" || fail "the restore did not bring the flows: $(cmkctl flow list --env "$other")"
ok "markers written: flows, renames, save-as, import, definitions, descriptions, runs, client request ids, connections, HTTP triggers; backup $bak; restore into $other"

# everything reads back through the API (the markers are there, sealed)
cmkctl flow list --env "$cmk" --json | qgrep -q "$M-RENAMED-pre" || fail "flow list lost a name"
cmkctl flow show --env "$cmk" note-post --json | qgrep -q "$M-DEFINITION-post" || fail "flow show lost a definition"

# grep_run WHEN - no marker and no signature in any file of the run dir
grep_run() {
    local hits
    hits=$(grep -a -r -l -F -e "$M" "$RUN" || true)
    [ -z "$hits" ] || fail "$1: customer strings in the clear in: $hits ($(grep -a -r -o -h -F -e "$M" $hits | sort -u | head -5 | tr '\n' ' '))"
    for s in "${SIGS[@]}"; do
        hits=$(grep -a -r -l -F -e "$s" "$RUN" || true)
        [ -z "$hits" ] || fail "$1: a trigger signature in the clear in: $hits"
    done
    # the grep can fail: the environments' ids are kept in the clear
    grep -a -r -q -F -e "$cmk" "$RUN"/partitions || fail "$1: the grep sees nothing (test bug)"
}
ls "$RUN"/partitions/*/*/partition.db-wal >/dev/null 2>&1 || fail "no WAL file while running (test bug)"
grep_run "while running"
ok "SEC-SEAL-1 while the cluster runs: no marker in any file of the run dir (databases, WAL, backups, logs)"
cmkctl down --timeout 20s >/dev/null
wait_until 20 no_procs || fail "processes left after down"
grep_run "after down"
ok "SEC-SEAL-1 after stop: no marker in any file of the run dir"
