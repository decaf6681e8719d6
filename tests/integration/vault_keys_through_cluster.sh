#!/usr/bin/env bash
# Rule VAULT-1: through a running cluster, cmkctl creates a vault, creates, rotates, disables,
# deletes and recovers a key, wraps and unwraps (interoperating with openssl), imports a key
# made by `openssl genpkey` and a .byok made by an independent openssl-only script, and every
# refusal says what is wrong and what to do. Every operation is in the hash-chained audit log.
. "$(dirname "$0")/lib.sh"
T="$RUN/t"; mkdir -p "$T"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl tenant create fabrikam >/dev/null
cmkctl vault create contoso-kv --tenant contoso --region unitedstates --purge-protection --retention-days 7 >/dev/null
cmkctl vault create fabrikam-kv --tenant fabrikam --region europe >/dev/null

# refusals on vault creation
out=$(cmkctl vault create bad-kv --tenant contoso --region unitedstates --retention-days 3 2>&1 || true)
grep -q "7" <<<"$out" && grep -q "90" <<<"$out" || fail "retention out of range: $out"
out=$(cmkctl vault create contoso-kv --tenant contoso --region unitedstates 2>&1 || true)
grep -qi "exist\|taken" <<<"$out" || fail "duplicate vault: $out"
ok "vaults"

# create, rotate, versions
k=$(cmkctl key create contoso-kv cmk-key --size 3072 --json)
v1=$(json_get "$k" 'j["version"]')
[ "$(json_get "$k" 'j["keySize"]')" = 3072 ] || fail "key size"
out=$(cmkctl key create contoso-kv small --size 1024 2>&1 || true)
grep -q "2048" <<<"$out" || fail "1024-bit key accepted: $out"
v2=$(json_get "$(cmkctl key rotate contoso-kv cmk-key --json)" 'j["version"]')
[ "$v1" != "$v2" ] || fail "rotate made no new version"
[ "$(json_get "$(cmkctl key versions contoso-kv cmk-key --json)" 'len(j["items"])')" = 2 ] || fail "versions"
ok "create, rotate"

# wrap with the vault, unwrap with the vault; wrap with openssl, unwrap with the vault
dek=$(openssl rand -base64 32)
w=$(json_get "$(cmkctl key wrap contoso-kv cmk-key --value "$dek" --json)" 'j["value"]')
u=$(json_get "$(cmkctl key unwrap contoso-kv cmk-key --value "$w" --json)" 'j["value"]')
[ "$u" = "$dek" ] || fail "vault wrap/unwrap round trip"
cmkctl key show contoso-kv cmk-key --pem --json | json_get "$(cat)" 'j["public_pem"]' > "$T/pub.pem"
openssl rand -out "$T/dek.bin" 32
for md in sha1:RSA-OAEP sha256:RSA-OAEP-256; do
    openssl pkeyutl -encrypt -pubin -inkey "$T/pub.pem" -pkeyopt rsa_padding_mode:oaep \
        -pkeyopt rsa_oaep_md:${md%%:*} -pkeyopt rsa_mgf1_md:${md%%:*} -in "$T/dek.bin" -out "$T/wrapped.bin"
    cmkctl key unwrap contoso-kv cmk-key --in "$T/wrapped.bin" --alg ${md#*:} --out "$T/unwrapped.bin" >/dev/null
    cmp -s "$T/dek.bin" "$T/unwrapped.bin" || fail "openssl-wrapped DEK (${md#*:}) not unwrapped"
done
ok "wrap/unwrap, openssl interop"

# disable: refused with a clear message; enable again
cmkctl key disable contoso-kv cmk-key >/dev/null
out=$(cmkctl key wrap contoso-kv cmk-key --value "$dek" 2>&1 || true)
grep -qi "disabled" <<<"$out" || fail "disabled key used: $out"
cmkctl key enable contoso-kv cmk-key >/dev/null
cmkctl key wrap contoso-kv cmk-key --value "$dek" >/dev/null || fail "enabled key refused"
# permission refusal names the permission and the command that grants it
cmkctl vault revoke contoso-kv --principal admin --perms unwrapKey >/dev/null
out=$(cmkctl key unwrap contoso-kv cmk-key --value "$w" 2>&1 || true)
grep -q "lacks permission 'unwrapKey'" <<<"$out" && grep -q "cmkctl vault grant" <<<"$out" || fail "permission message: $out"
cmkctl vault grant contoso-kv --principal admin --perms unwrapKey >/dev/null
ok "disable/enable, permission refusal"

# import a key from openssl genpkey, and a PKCS#12
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/imported.pem" 2>/dev/null
cmkctl key import contoso-kv imported --file "$T/imported.pem" >/dev/null || fail "PEM import"
openssl pkey -in "$T/imported.pem" -pubout -out "$T/imported.pub.pem"
openssl pkeyutl -encrypt -pubin -inkey "$T/imported.pub.pem" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$T/dek.bin" -out "$T/w2.bin"
cmkctl key unwrap contoso-kv imported --in "$T/w2.bin" --out "$T/u2.bin" >/dev/null
cmp -s "$T/dek.bin" "$T/u2.bin" || fail "imported key does not unwrap"
ok "PEM import"

# .byok: a key-exchange key, a .byok made by an independent openssl-only script, import
kek=$(cmkctl key create contoso-kv kek --kty RSA-HSM --ops import --json)
kid=$(json_get "$kek" 'j["key"]["kid"]')
cmkctl key show contoso-kv kek --pem --json | json_get "$(cat)" 'j["public_pem"]' > "$T/kek.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/hsm.pem" 2>/dev/null
sh "$SRC/tests/data/vault/make_byok.sh" "$T/kek.pem" "$kid" "$T/hsm.pem" "$T/hsm.byok"
b=$(cmkctl key import-byok contoso-kv from-hsm --file "$T/hsm.byok" --json)
[ "$(json_get "$b" 'j["key"]["kty"]')" = RSA-HSM ] || fail ".byok import: $b"
# and cmkctl's own HSM side
cmkctl key byok-export --kek contoso-kv/kek --target "$T/hsm.pem" --out "$T/own.byok" >/dev/null
cmkctl key import-byok contoso-kv from-cmkctl --file "$T/own.byok" >/dev/null || fail "byok-export round trip"
# a .byok for another vault's KEK is refused
cmkctl key create fabrikam-kv kek2 --kty RSA-HSM --ops import >/dev/null
out=$(cmkctl key import-byok fabrikam-kv x --file "$T/hsm.byok" 2>&1 || true)
[ -n "$out" ] && ! grep -q '"kid"' <<<"$out" || fail "foreign .byok accepted"
ok ".byok import (independent producer and byok-export)"

# backup restores only into a vault of the same tenant
cmkctl key backup contoso-kv imported --out "$T/imported.bak" >/dev/null
cmkctl key delete contoso-kv imported >/dev/null
out=$(cmkctl key restore fabrikam-kv --file "$T/imported.bak" 2>&1 || true)
grep -qi "tenant" <<<"$out" || fail "cross-tenant restore: $out"
ok "backup/restore tenant rule"

# delete, purge refused under purge protection, recover; purge after the retention on the clock
cmkctl key delete contoso-kv cmk-key >/dev/null
out=$(cmkctl key wrap contoso-kv cmk-key --value "$dek" 2>&1 || true)
grep -qi "deleted" <<<"$out" || fail "deleted key used: $out"
out=$(cmkctl key purge contoso-kv cmk-key --yes 2>&1 || true)
grep -q "purge protection" <<<"$out" || fail "purge under protection: $out"
cmkctl key recover contoso-kv cmk-key >/dev/null
cmkctl key wrap contoso-kv cmk-key --value "$dek" >/dev/null || fail "recovered key refused"
cmkctl key delete contoso-kv from-cmkctl >/dev/null
cmkctl clock advance 8d >/dev/null
out=$(cmkctl key recover contoso-kv from-cmkctl 2>&1 || true)
grep -qi "no key\|not found\|purged\|no deleted" <<<"$out" || fail "key not purged after retention: $out"
ok "delete, purge protection, recover, purge after retention"

# rotation policy fires on the virtual clock
cmkctl key create contoso-kv rotating >/dev/null
cmkctl key policy contoso-kv rotating --rotate-after P30D >/dev/null
cmkctl clock advance 31d >/dev/null
[ "$(json_get "$(cmkctl key versions contoso-kv rotating --json)" 'len(j["items"])')" = 2 ] || fail "policy did not rotate"
ok "rotation policy"

# the audit log holds every operation and verifies
cmkctl audit list --operation "key.*" --result EPERM | qgrep -q "key.unwrap" || fail "refusal not audited"
cmkctl audit verify | qgrep -q intact || fail "audit verify"
ok "audit"
