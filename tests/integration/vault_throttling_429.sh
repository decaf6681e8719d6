#!/usr/bin/env bash
# Rule VAULT-2: the vault throttles like Azure Key Vault's per-vault service limits (on by
# default, configurable): past the limit a call is refused HTTP-429-style with retry-after.
. "$(dirname "$0")/lib.sh"

cmkctl up --set vault.limit_rsa2048=5 >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl vault create contoso-kv --tenant contoso --region unitedstates >/dev/null
cmkctl key create contoso-kv k2048 >/dev/null
dek=$(openssl rand -base64 32)
refused=""
for i in 1 2 3 4 5 6 7; do
    if ! out=$(cmkctl key wrap contoso-kv k2048 --value "$dek" 2>&1); then refused="$out"; break; fi
done
[ -n "$refused" ] || fail "7 wraps against a limit of 5 all passed"
grep -qi "429\|too many\|throttl" <<<"$refused" && grep -qi "retry after" <<<"$refused" || fail "message: $refused"
ok "throttled: $refused"
cmkctl down >/dev/null

cmkctl up --set vault.limit_rsa2048=5 --set vault.throttle=false >/dev/null
for i in 1 2 3 4 5 6 7 8; do cmkctl key wrap contoso-kv k2048 --value "$dek" >/dev/null || fail "throttled with vault.throttle=false"; done
ok "throttling can be switched off"
