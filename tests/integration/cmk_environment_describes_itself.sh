#!/usr/bin/env bash
# Rules SELF-1, SELF-2 (issue 16, item 10): what an environment says about itself comes from the
# seeds. SELF-1: `env show` of an environment under a customer-managed key lists what the
# customer's key covers (seed 004: audit log, files and images, Dataverse search, elastic tables,
# data lake; seed 000: flows and their history, OAuth connections) and keeps on the
# Microsoft-managed key only what seed 000 says stays there (non-OAuth connections, and the flows
# the migration held back, if any); an environment on Azure SQL storage (Microsoft-managed key)
# lists seed 003's features that stay on the Microsoft-managed key. SELF-2: the BYOK lock
# confirmation text names the region of the tenant's Active key (not always unitedstates), and
# that text locks.
. "$(dirname "$0")/lib.sh"
T="$RUN/t"; mkdir -p "$T"; echo "s3cret-pass" > "$T/pw"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso europe
env=$(new_env Prod contoso europe production --managed)
j=$(cmkctl env show "$env" --json)
json_get "$j" '"\n".join(j["features_on_microsoft_key"])' | qgrep -q "^Dataverse search$" ||
    fail "an environment on the Microsoft-managed key does not list seed 003's features: $j"
[ "$(json_get "$j" '"features_on_customer_key" in j')" = False ] || fail "a Microsoft-key environment claims customer-key features: $j"

cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id plain >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/list-flows-admin-v1.json" --id held-v1 >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
j=$(cmkctl env show "$env" --json)
cmk=$(json_get "$j" '"\n".join(j["features_on_customer_key"])')
for f in "Dataverse search" "Elastic tables" "Audit log" "Uploaded files and images" "Data lake" "OAuth (Microsoft Entra) connections" "Power Automate cloud and desktop flows"; do
    grep -q "$f" <<<"$cmk" || fail "env show of a CMK environment does not say the customer's key covers '$f': $j"
done
mmk=$(json_get "$j" '"\n".join(j["features_on_microsoft_key"])')
grep -q "Dataverse search\|Elastic tables\|Audit" <<<"$mmk" && fail "env show of a CMK environment keeps search/elastic/audit on the Microsoft key: $j"
grep -q "Non-OAuth" <<<"$mmk" || fail "non-OAuth connections not listed on the Microsoft key: $j"
grep -q "can't be migrated automatically: 1 " <<<"$mmk" || fail "the held flow is not listed on the Microsoft key: $j"
ok "SELF-1 env show of a CMK environment: covered by the customer's key per seeds 000/004; on the Microsoft key only non-OAuth connections and the 1 held flow"

# the held flow moves once remedied (V2 instead of V1): the Microsoft-key list no longer names flows
cmkctl flow update --env "$env" held-v1 --file "$SRC/configs/flows/list-flows-admin-v2.json" >/dev/null
cmkctl support protect-flows --env "$env" >/dev/null || fail "protect-flows"
[ "$(json_get "$(cmkctl flows mmk --env "$env" --json)" 'len(j["items"])')" = 0 ] || fail "flows left on the MMK"
j=$(cmkctl env show "$env" --json)
json_get "$j" '"\n".join(j["features_on_microsoft_key"])' | qgrep -q "can't be migrated" &&
    fail "env show still lists held flows after they all moved: $j"
ok "SELF-1 once no flow is held, only non-OAuth connections stay on the Microsoft key"

# SELF-2: a BYOK tenant whose keys are in europe is asked to type "... in europe"
cmkctl tenant create fabrikam >/dev/null
cmkctl tenant enable-byok fabrikam >/dev/null 2>&1
new_env Sandbox fabrikam europe sandbox --managed >/dev/null
cmkctl tenant-key generate --tenant fabrikam --region europe --name k1 --password-file "$T/pw" --out "$T/k1.pfx" >/dev/null 2>&1
cmkctl clock advance 11m >/dev/null
cmkctl clock advance 72h >/dev/null
s=$(cmkctl tenant-key status --tenant fabrikam --json 2>/dev/null)
text=$(json_get "$s" 'j["lock_confirmation_text"]')
[ "$text" = "lock all environments of fabrikam in europe" ] || fail "the lock confirmation text does not name europe: $s"
out=$(cmkctl tenant lock fabrikam --key-file "$T/k1.pfx" --password-file "$T/pw" 2>/dev/null || true)
grep -q "lock all environments of fabrikam in europe" <<<"$out" || fail "tenant lock asks for another text: $out"
cmkctl tenant lock fabrikam --key-file "$T/k1.pfx" --password-file "$T/pw" --confirm "$text" >/dev/null 2>&1 ||
    fail "the displayed text does not lock: $(cmkctl tenant lock fabrikam --key-file "$T/k1.pfx" --password-file "$T/pw" --confirm "$text" 2>&1)"
ok "SELF-2 the BYOK lock confirmation names the region of the tenant's Active key (europe), and it locks"
