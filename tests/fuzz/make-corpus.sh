#!/usr/bin/env bash
# make-corpus.sh - (re)make the seed corpus of every fuzz target in tests/fuzz/corpus/<surface>/.
#
# Seeds are small real inputs: the repo's own configs, flows and service tags (trimmed), wire
# frames and requests written here, and key files made with openssl for the targets' fixed
# password ("fuzz-password") and key-exchange key (tests/fuzz/keys/kek.pem, a throw-away test
# key). Nothing is downloaded. Run from anywhere; the result is committed, so run it only to
# change the seeds (key files come out different each time: new random keys).
#   tests/fuzz/make-corpus.sh [--keep-keys]    --keep-keys: reuse keys/kek.pem if present
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
C=$HERE/corpus
KEK_KID_NAME="fuzz-westus-kek"
PASSWORD="fuzz-password"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for d in wire json_request flowdef flowexpr flowclass fwconfig servicetags config gw_ingress pfx byok; do
  mkdir -p "$C/$d"
done

# --- flow definitions: the example flows, and an invalid one per kind of mistake ------------
cp "$SRC"/configs/flows/*.json "$C/flowdef/"
cat > "$C/flowdef/bad-runafter-cycle.json" <<'J'
{"triggers":{"manual":{"type":"Request","kind":"Button"}},"actions":{"A":{"type":"Compose","inputs":1,"runAfter":{"B":["Succeeded"]}},"B":{"type":"Compose","inputs":2,"runAfter":{"A":["Succeeded"]}}}}
J
cat > "$C/flowdef/bad-expression.json" <<'J'
{"triggers":{"manual":{"type":"Request","kind":"Http"}},"actions":{"A":{"type":"Compose","inputs":"@concat('a',"}}}
J
cat > "$C/flowdef/condition-nested.json" <<'J'
{"triggers":{"t":{"type":"Recurrence","recurrence":{"frequency":"Minute","interval":5}}},"actions":{"C":{"type":"If","expression":{"and":[{"equals":["@triggerBody()?['x']","yes"]}]},"actions":{"Y":{"type":"Compose","inputs":"@{utcNow('yyyy-MM-dd')} ok"}},"else":{"actions":{"N":{"type":"Terminate","inputs":{"runStatus":"Failed","runError":{"code":"X","message":"no"}}}}}}}}
J

# --- expressions -----------------------------------------------------------------------------
i=0
while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" > "$C/flowexpr/expr-$(printf %02d $i).txt"
done <<'E'
plain text
@@starts with at
@'quoted ''x'''
@concat('a', 'b', 1, true)
@string(triggerBody()['list'])
@json('{"a":[1]}')['a'][0]
@add(1.5, 2)
@div(7, 0)
@equals(triggerBody()?['x'], 'yes')
@if(greater(parameters('n'), 3), body('A')?['s'], outputs('A').statusCode)
Hello @{triggerBody()?['x']} at @{utcNow('o')}
@coalesce(null, variables('v')[1])
@toUpper(substring('abc', 1))
@length(triggerOutputs()['headers'])
@not(contains('abc', 'b'))
@int('99999999999999999999')
@body('Missing')
@triggerBody()?.list?[2]?.k
E

# --- flow sets for classification ------------------------------------------------------------
python3 - "$SRC" "$C/flowclass" <<'P'
import json, sys, os
src, out = sys.argv[1], sys.argv[2]
def load(n):
    return json.load(open(os.path.join(src, "configs/flows", n)))
sets = {
  "parent-child.json": [
    {"id": "child-child", "name": "Child", "in_solution": True, "definition": load("child-child.json")},
    {"id": "child-parent", "name": "Parent", "in_solution": True, "definition": load("child-parent.json")}],
  "categories.json": [
    {"id": "pa1", "definition": load("powerapps-v1.json")},
    {"id": "pa2", "in_solution": True, "definition": load("powerapps-v2.json")},
    {"id": "teams", "definition": load("teams-trigger.json")},
    {"id": "lf1", "definition": load("list-flows-admin-v1.json")},
    {"id": "lf2", "definition": load("list-flows-admin-v2.json")}],
  "duplicate-id.json": [
    {"id": "same", "definition": load("manual-compose.json")},
    {"id": "same", "definition": load("manual-compose.json")}],
}
# a cycle of child flows: a calls b, b calls a, b is a Power Apps v1 flow
def calls(child, trigger_kind="Button"):
    return {"triggers": {"manual": {"type": "Request", "kind": trigger_kind}},
            "actions": {"Run": {"type": "Workflow", "inputs": {"host": {"workflowReferenceName": child}}}}}
sets["cycle.json"] = [{"id": "a", "in_solution": True, "definition": calls("b")},
                      {"id": "b", "in_solution": False, "definition": calls("a", "PowerApp")}]
for name, s in sets.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(s, f, separators=(",", ":"))
P

# --- firewall configs ------------------------------------------------------------------------
cp "$SRC"/configs/firewalls/*.json "$C/fwconfig/"
cat > "$C/fwconfig/ports-and-lists.json" <<'J'
{ "name": "ports", "mode": "report", "default": "drop",
  "rules": [ { "action": "allow", "source": ["10.0.0.1/8", "2603:1000::/40", {"tag": "PowerPlatformPlex.WestUS"}],
               "port": [80, 443, "8000-8100"] },
             { "name": "any", "action": "deny", "source": "any", "port": "22" } ] }
J
cat > "$C/fwconfig/bad-unknown-key.json" <<'J'
{ "default": "reject", "rules": [ { "action": "allow", "source": "10.0.0.0/8", "prot": 443 } ] }
J

# --- service tags: the repo's file and a trimmed real one --------------------------------------
cp "$SRC/configs/service-tags.json" "$C/servicetags/cmksim.json"
REAL=/work/shared/data/servicetags/ServiceTags_Public_20251109.json
if [ -f "$REAL" ]; then
  python3 - "$REAL" "$C/servicetags/public-trimmed.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
keep = [v for v in d["values"] if v["name"] in
        ("PowerPlatformPlex", "PowerPlatformPlex.WestUS", "LogicApps.WestUS", "AzureConnectors.WestUS")]
for v in keep:
    v["properties"]["addressPrefixes"] = v["properties"]["addressPrefixes"][:6]
d["values"] = keep
json.dump(d, open(sys.argv[2], "w"), indent=1)
P
fi

# --- config files ----------------------------------------------------------------------------
cp "$SRC/configs/default.json" "$C/config/default.json"
printf '{"heartbeat":{"interval":"1s"},"log":{"level":"debug"}}' > "$C/config/override.json"
printf '{"heartbeat":{"interval":5}}' > "$C/config/bad-type.json"
printf '{"no":{"such":"param"}}' > "$C/config/bad-name.json"

# --- gateway request paths -------------------------------------------------------------------
printf '/workflows/env-1/flow-1/triggers/manual/paths/invoke' > "$C/gw_ingress/trigger.txt"
printf '/workflows/../flow/triggers/manual/paths/invoke' > "$C/gw_ingress/dotdot.txt"
printf '/workflows/env-1/flow-1/triggers/manual/paths/invoke/extra' > "$C/gw_ingress/extra.txt"
printf '/metrics' > "$C/gw_ingress/metrics.txt"
printf '/workflows/%s/f/triggers/manual/paths/invoke' "$(head -c 200 /dev/zero | tr '\0' a)" > "$C/gw_ingress/long-env.txt"

# --- JSON request bodies (http.request) ------------------------------------------------------
printf '%s' '{"env":"env-1","flow":"f","run":"r","action":"HTTP","infrastructure":"dedicated","region":"unitedstates","kind":"http","method":"post","uri":"http://127.0.0.1:8080/x","headers":{"Content-Type":"application/json"},"body":"{\"a\":1}","timeout_ms":5000}' > "$C/json_request/dedicated.json"
printf '%s' '{"env":"env-1","infrastructure":"shared","region":"europe","uri":"https://127.0.0.1/"}' > "$C/json_request/shared-minimal.json"
printf '%s' '{"env":"env-1","infrastructure":"dedicated","region":"unitedstates","uri":"ftp://x","timeout_ms":1e300}' > "$C/json_request/bad-uri.json"
printf '%s' '{"env":"env-1","infrastructure":"dedicated","region":"unitedstates","uri":"http://x/","headers":{"Bad Name":"v"}}' > "$C/json_request/bad-header.json"

# --- wire frames: [flags] then frames of [2-byte length][bytes] --------------------------------
python3 - "$C/wire" <<'P'
import sys, os, struct
out = sys.argv[1]
def msg(routed, frames):
    b = bytes([1 if routed else 0])
    for f in frames:
        b += struct.pack(">H", len(f)) + f
    return b
seeds = {
  "ping.bin": msg(False, [b"CMK/2 ping req-1\n"]),
  "routed-body.bin": msg(True, [b"\x00\x6b\x8b\x45\x67",
                                b'CMK/2 env.create r-2\n{"tenant":"t1","name":"env-1","region":"unitedstates"}']),
  "bins.bin": msg(False, [b'CMK/2 dek.put r-3\n{"env":"e"}', b"\x00\x01\x02", b""]),
  "error.bin": msg(False, [b'CMK/2 error r-4\n{"code":"EPERM","message":"no"}']),
  "bad-tag.bin": msg(False, [b"CMK/1 ping r-5\n{}"]),
  "bad-body.bin": msg(False, [b"CMK/2 ping r-6\n[1,2]"]),
  "four-frames.bin": msg(False, [b"CMK/1", b"ping", b"r-7", b"{}"]),
  "no-newline.bin": msg(False, [b"CMK/2 ping r-8"]),
}
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
P

# --- key files: .pfx (AES-256, SHA-256 MAC), PEM, DER; .byok for keys/kek.pem ----------------
if [ "${1:-}" != "--keep-keys" ] || [ ! -f "$HERE/keys/kek.pem" ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$HERE/keys/kek.pem" 2>/dev/null
fi
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/target.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMP/small.pem" 2>/dev/null
openssl req -new -x509 -key "$TMP/target.pem" -subj "/CN=fuzz" -days 30 -out "$TMP/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$TMP/target.pem" -in "$TMP/cert.pem" -passout "pass:$PASSWORD" \
  -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out "$C/pfx/target.pfx"
openssl pkcs12 -export -nokeys -in "$TMP/cert.pem" -passout "pass:$PASSWORD" -out "$C/pfx/cert-only.pfx"
cp "$TMP/target.pem" "$C/pfx/target-pkcs8.pem"
openssl pkey -in "$TMP/target.pem" -outform DER -out "$C/pfx/target.der"
openssl pkey -in "$TMP/target.pem" -aes256 -passout "pass:$PASSWORD" -out "$C/pfx/target-encrypted.pem"
cp "$TMP/small.pem" "$C/pfx/small-1024.pem"

# .byok: RSA-OAEP(SHA-1) of a 256-bit AES key || AES key wrap with padding of the PKCS#8 key
byok() { # byok TARGET.pem OUT [KID]
  local kid=${3:-https://cmksim-byok.vault.azure.net/keys/$KEK_KID_NAME}
  local k; k=$(openssl rand -hex 32)
  openssl pkey -in "$1" -outform DER -out "$TMP/t.der"
  openssl enc -id-aes256-wrap-pad -K "$k" -iv A65959A6 -in "$TMP/t.der" -out "$TMP/w.bin"
  python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('$k'))" > "$TMP/aes.bin"
  openssl pkey -in "$HERE/keys/kek.pem" -pubout -out "$TMP/kek.pub"
  openssl pkeyutl -encrypt -pubin -inkey "$TMP/kek.pub" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 -in "$TMP/aes.bin" -out "$TMP/ek.bin"
  python3 - "$TMP/ek.bin" "$TMP/w.bin" "$kid" "$2" <<'P'
import base64, json, sys
ct = open(sys.argv[1], "rb").read() + open(sys.argv[2], "rb").read()
doc = {"schema_version": "1.0.0",
       "header": {"kid": sys.argv[3], "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"},
       "ciphertext": base64.urlsafe_b64encode(ct).decode().rstrip("="),
       "generator": "tests/fuzz/make-corpus.sh (openssl)"}
json.dump(doc, open(sys.argv[4], "w"))
P
}
byok "$TMP/target.pem" "$C/byok/target.byok"
byok "$TMP/small.pem" "$C/byok/small-1024.byok"
byok "$TMP/target.pem" "$C/byok/other-kek.byok" "https://cmksim-byok.vault.azure.net/keys/other-kek"
python3 - "$C/byok/target.byok" "$C/byok/damaged.byok" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
c = list(d["ciphertext"]); c[-10] = "A" if c[-10] != "A" else "B"; d["ciphertext"] = "".join(c)
json.dump(d, open(sys.argv[2], "w"))
P
echo "corpus in $C:"; for d in "$C"/*/; do printf '  %-14s %s files\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
