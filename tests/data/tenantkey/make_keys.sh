#!/bin/sh
# make_keys.sh - test keys for the legacy tenant key suites, made with the openssl CLI only
# (so that .pfx interop is checked against files cmksim did not make):
#
#   a.pfx b.pfx c.pfx  RSA-2048 key + self-signed certificate, password "pass-a" / "pass-b" /
#                      "pass-c" (openssl req -x509 -newkey rsa:2048, then openssl pkcs12 -export)
#   a.key b.key c.key  their private keys (PEM, unencrypted), for .byok exports
#   r1024.pfx r1024.key  a 1024-bit RSA key (refused: not 2048-bit), password "pass-1024"
#   ec.pfx             a P-256 EC key (refused: not RSA), password "pass-ec"
#   r3072.key          a 3072-bit RSA key (refused: not 2048-bit), for a .byok export
#
# usage: make_keys.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

pfx() { # pfx NAME NEWKEY PASSWORD
    openssl req -x509 -newkey "$2" -keyout "$1.key" -nodes -subj "/CN=$1 test key" -days 30 \
        -out "$1.crt" 2>/dev/null
    openssl pkcs12 -export -inkey "$1.key" -in "$1.crt" -name "$1" -passout "pass:$3" \
        -out "$1.pfx"
}

pfx a rsa:2048 pass-a
pfx b rsa:2048 pass-b
pfx c rsa:2048 pass-c
pfx r1024 rsa:1024 pass-1024
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ec.key -nodes \
    -subj "/CN=ec test key" -days 30 -out ec.crt 2>/dev/null
openssl pkcs12 -export -inkey ec.key -in ec.crt -name ec -passout pass:pass-ec -out ec.pfx
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out r3072.key 2>/dev/null
