#!/usr/bin/env bash
# Rules VAULT-3 and LOCK-11 (issue 16, item 7): the key vault firewall - IP rules, virtual network
# rules and the trusted-Microsoft-services exception (`cmkctl vault network-rule`, `vault update
# --default-action/--bypass`). A rule that shuts the policy's identity out ("Adding a virtual
# network or adding an IP range outside of Microsoft services' reach") locks the linked
# environments ("Environment disabled"); an IP rule within Microsoft services' reach, the
# trusted-services exception or removing the rule, then `env reenable`, brings them back.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
rid=$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"before the firewall"}' --json)" 'j["run"]')
acl() { cmkctl vault network-rule list "$VAULT" --json; }
state() { env_field "$env" state; }
locked() { [ "$(state)" = Locked ]; }

a=$(acl)
[ "$(json_get "$a" 'j["defaultAction"], j["bypass"], j["ipRules"], j["virtualNetworkRules"]')" = "Allow AzureServices [] []" ] || fail "a new vault's firewall: $a"
out=$(cmkctl vault network-rule add "$VAULT" --ip 300.1.2.3 2>&1 || true)
grep -q "not an IPv4 address" <<<"$out" || fail "bad IP accepted: $out"
out=$(cmkctl vault network-rule add "$VAULT" --vnet myvnet 2>&1 || true)
grep -q "subnet id" <<<"$out" || fail "bad subnet id accepted: $out"
cmkctl vault network-rule add "$VAULT" --ip 203.0.113.7/24 >/dev/null
a=$(acl)
[ "$(json_get "$a" 'j["defaultAction"], j["ipRules"]')" = "Deny ['203.0.113.0/24']" ] || fail "adding an IP rule: $a"
cmkctl policy validate "$POLICY" >/dev/null || fail "the trusted-services exception does not let the identity through"
[ "$(state)" = Ready ] || fail "locked although trusted Microsoft services may bypass the firewall"
ok "VAULT-3 the firewall: IP and virtual network rules validated, a rule selects networks, trusted services bypass it"

cmkctl vault update "$VAULT" --bypass None >/dev/null
wait_until 10 locked || fail "an IP range outside Microsoft services' reach without the exception did not lock: $(cmkctl env cmk-status "$env")"
j=$(cmkctl env show "$env" --json)
[ "$(json_get "$j" 'j.get("status")')" = "Environment disabled" ] || fail "env show: $j"
json_get "$j" 'j["lock_cause"]' | qgrep -q "firewall" || fail "the cause does not name the firewall: $j"
out=$(cmkctl flow run --env "$env" m 2>&1 || true)
grep -q "Environment disabled" <<<"$out" || fail "runs not refused: $out"
grep -q "event=env.released" "$RUN/logs/worker-$env.log" || fail "the worker did not wipe its keys"
out=$(cmkctl env reenable "$env" 2>&1 || true)
grep -q "not back yet" <<<"$out" || fail "re-enable while shut out: $out"
ok "LOCK-11 an IP range outside Microsoft services' reach (no trusted-services exception) locks the environment"

cmkctl vault network-rule add "$VAULT" --ip 127.20.0.0/16 >/dev/null
cmkctl env reenable "$env" >/dev/null || fail "re-enable with an IP rule within reach: $(cmkctl env reenable "$env" 2>&1)"
cmkctl clock advance 5m >/dev/null
[ "$(state)" = Ready ] || fail "not Ready after re-enable"
cmkctl run show --env "$env" "$rid" --json | qgrep -q "before the firewall" || fail "data lost"
[ "$(json_get "$(cmkctl flow run --env "$env" m --json)" 'j["status"]')" = Succeeded ] || fail "runs fail after re-enable"
cmkctl vault network-rule remove "$VAULT" --ip 127.20.0.0/16 >/dev/null
wait_until 10 locked || fail "removing the rule within reach did not lock"
cmkctl vault network-rule remove "$VAULT" --ip 203.0.113.0/24 >/dev/null
[ "$(json_get "$(acl)" 'j["defaultAction"]')" = Allow ] || fail "the last rule removed: $(acl)"
cmkctl env reenable "$env" >/dev/null || fail "re-enable after the rule was removed"
cmkctl clock advance 5m >/dev/null
[ "$(state)" = Ready ] || fail "not Ready after removing the rule and re-enabling"
ok "LOCK-11 an IP rule within reach, or removing the rule, then env reenable brings the environment back"

subnet=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/corp/subnets/apps
cmkctl vault network-rule add "$VAULT" --vnet "$subnet" >/dev/null
wait_until 10 locked || fail "adding a virtual network (no exception) did not lock"
cmkctl vault network-rule remove "$VAULT" --vnet "$subnet" >/dev/null
cmkctl vault update "$VAULT" --bypass AzureServices >/dev/null
cmkctl env reenable "$env" >/dev/null || fail "re-enable after the virtual network rule was removed"
cmkctl clock advance 5m >/dev/null
[ "$(state)" = Ready ] || fail "not Ready after the virtual network rule"
[ "$(json_get "$(cmkctl flow run --env "$env" m --json)" 'j["status"]')" = Succeeded ] || fail "runs fail at the end"
cmkctl audit list --operation vault.network-rule | qgrep -q network-rule || fail "firewall changes not audited"
ok "LOCK-11 adding a virtual network locks; removing it and env reenable bring the environment back"
