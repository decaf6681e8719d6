#!/bin/sh
# make_byok.sh - an independent .byok producer that uses only the openssl CLI (plus od/tr), to
# check cmksim's .byok import against something that shares no code with it. It plays the
# customer's HSM as Azure's BYOK specification describes it:
#
#   ciphertext = RSA-OAEP(SHA-1, MGF1-SHA-1; KEK public key; fresh 256-bit AES key)
#             || AES-256 key wrap with padding (RFC 5649; that AES key; target key, PKCS#8 DER)
#
# usage: make_byok.sh KEK_PUBLIC_PEM KEK_KID TARGET_PRIVATE_KEY_PEM OUT.byok [ENC]
# ENC overrides header.enc (to produce a wrong one on purpose); default CKM_RSA_AES_KEY_WRAP.
set -eu
kek_pub=$1
kid=$2
target=$3
out=$4
enc=${5:-CKM_RSA_AES_KEY_WRAP}

work=$(mktemp -d "${TMPDIR:-/tmp}/make_byok.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the target key as PKCS#8 PrivateKeyInfo DER
openssl pkcs8 -topk8 -nocrypt -in "$target" -outform DER -out "$work/target.der"
# an ephemeral 256-bit transfer key
openssl rand -out "$work/aes.bin" 32
aes_hex=$(od -An -v -tx1 "$work/aes.bin" | tr -d ' \n')
# the transfer key under the KEK: RSA-OAEP with SHA-1 and MGF1-SHA-1
openssl pkeyutl -encrypt -pubin -inkey "$kek_pub" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 -in "$work/aes.bin" -out "$work/rsa.bin"
# the target key under the transfer key: AES key wrap with padding (RFC 5649, ICV A65959A6)
openssl enc -id-aes256-wrap-pad -K "$aes_hex" -iv A65959A6 -in "$work/target.der" \
    -out "$work/wrapped.bin"
cat "$work/rsa.bin" "$work/wrapped.bin" > "$work/ct.bin"
ct=$(openssl base64 -A -in "$work/ct.bin" | tr '+/' '-_' | tr -d '=')
rm -f "$work/aes.bin"

cat > "$out" <<JSON
{
  "schema_version": "1.0.0",
  "header": {
    "kid": "$kid",
    "alg": "dir",
    "enc": "$enc"
  },
  "ciphertext": "$ct",
  "generator": "make_byok.sh; $(openssl version | cut -d' ' -f1-2)"
}
JSON
