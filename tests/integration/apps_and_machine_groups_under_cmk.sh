#!/usr/bin/env bash
# Rules APP-1, APP-2, RPA-1 (seed 000): in a CMK-protected environment a non-solution Power
# Apps-trigger flow cannot be referenced from an app; with the environment setting that creates
# new flows in Dataverse solutions, new flows are solution flows and registration works; hosted
# RPA machine groups keep their VM disks on the Microsoft-managed key after CMK until reprovisioned.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl machine-group create --env "$env" --name "Hosted bots" >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null

# APP-1: a non-solution Power Apps flow made after CMK cannot be registered
cmkctl flow create --env "$env" --file "$SRC/configs/flows/powerapps-v2.json" --id app-flow >/dev/null
out=$(cmkctl app register-flow --env "$env" app-flow 2>&1 || true)
grep -q "can't be referenced from an app" <<<"$out" || fail "registration of a non-solution flow: $out"
cmkctl flow update --env "$env" app-flow --solution >/dev/null
cmkctl app register-flow --env "$env" app-flow | qgrep -q "registered" || fail "solution flow not registered"
ok "APP-1 only solution flows can be referenced from an app under CMK"

# APP-2: with the setting on, new flows are solution flows and registration works
cmkctl env settings "$env" --create-flows-in-solutions on >/dev/null
f=$(cmkctl flow create --env "$env" --file "$SRC/configs/flows/powerapps-v1.json" --id app-flow-2 --json)
[ "$(json_get "$f" 'j["in_solution"]')" = True ] || fail "new flow not in a solution: $f"
cmkctl app register-flow --env "$env" app-flow-2 | qgrep -q "registered" || fail "registration with the setting"
ok "APP-2 the setting makes new flows solution flows"

# RPA-1: machine group disks
g=$(cmkctl machine-group list --env "$env" --json)
[ "$(json_get "$g" 'j["items"][0]["disks_encrypted_with"]')" = "Microsoft-managed key" ] || fail "disks changed without reprovisioning: $g"
gid=$(json_get "$g" 'j["items"][0]["id"]')
g=$(cmkctl machine-group reprovision --env "$env" "$gid" --json)
[ "$(json_get "$g" 'j["items"][0]["disks_encrypted_with"]')" = "customer-managed key" ] || fail "reprovision: $g"
ok "RPA-1 machine group disks move to the customer key only when reprovisioned"
