#!/usr/bin/env bash
# Rule DIR-1: tenants and environments (name, region, type, managed flag, encryption,
# infrastructure, state) persist in controller.db across a controller restart; bad input is
# refused with a message that says what to do.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
cmkctl tenant create contoso --name "Contoso Ltd" >/dev/null
out=$(cmkctl tenant create contoso 2>&1 || true)
grep -q "exists already" <<<"$out" || fail "duplicate tenant: $out"
out=$(cmkctl tenant create "Bad Id" 2>&1 || true)
grep -q "lowercase letters" <<<"$out" || fail "bad tenant id: $out"

prod=$(cmkctl env create --tenant contoso --name "Contoso Prod" --region unitedstates --managed --json)
id=$(json_get "$prod" 'j["id"]')
[ "$(json_get "$prod" 'j["managed"]')" = True ] || fail "managed flag"
[ "$(json_get "$prod" 'j["encryption"]')" = microsoft ] || fail "new env is on the Microsoft-managed key"
[ "$(json_get "$prod" 'j["infrastructure"]')" = shared ] || fail "new env is on shared infrastructure"
[ "$(json_get "$prod" 'j["state"]')" = Ready ] || fail "new env state"
sbx=$(cmkctl env create --tenant contoso --name Sandbox --region europe --type sandbox --json)
sid=$(json_get "$sbx" 'j["id"]')

for bad in "--region mars:unknown region" "--type lab:--type takes one of production" "--tenant nobody:no tenant"; do
    args=${bad%%:*}; msg=${bad#*:}
    set -- --name X
    [[ $args == --region* ]] || set -- "$@" --region unitedstates
    [[ $args == --tenant* ]] || set -- "$@" --tenant contoso
    out=$(cmkctl env create "$@" $args 2>&1 || true)
    grep -qF -- "$msg" <<<"$out" || fail "env create $args: $out"
done
out=$(cmkctl env create --tenant contoso --name "Contoso Prod" --region europe 2>&1 || true)
grep -q "already" <<<"$out" || fail "duplicate env name: $out"

cmkctl env enable-managed Sandbox >/dev/null
[ "$(json_get "$(cmkctl env show "$sid" --json)" 'j["managed"]')" = True ] || fail "enable-managed"
cmkctl env list | qgrep -q "Contoso Prod" || fail "list"
ok "create, refusals, enable-managed"

# persistence across a restart of the whole cluster
cmkctl down >/dev/null
cmkctl up >/dev/null
[ "$(json_get "$(cmkctl env list --tenant contoso --json)" 'len(j["items"])')" = 2 ] || fail "lost environments"
[ "$(json_get "$(cmkctl tenant show contoso --json)" 'j["name"]')" = "Contoso Ltd" ] || fail "lost tenant"
ok "persisted"

cmkctl env delete "$id" --yes >/dev/null
out=$(cmkctl env show "$id" 2>&1 || true)
grep -q "no environment" <<<"$out" || fail "deleted env still shown: $out"
[ "$(stat -c %a "$RUN/controller.db")" = 600 ] || fail "controller.db not 0600"
ok "delete"
