#!/usr/bin/env bash
# Rule BAD-7 (issue 17): every field of every request is read by its declared type and limits
# (common/op_fields.c). The reproductions of the issue, through `cmkctl call` (bodies from
# --file) and, where cmkctl itself refuses the text first, through a raw client that sends the
# bytes as they are (tests/tools/cmk_raw sendraw), so the cluster is shown to refuse them on its
# own: each is refused with EINVAL (exit 2) and a message naming the field and what it takes,
# and nothing is created; `--json tenant list` stays valid JSON.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl vault create kvault --tenant contoso --region unitedstates >/dev/null

# refused WANT TYPE [BODY | --file F] - `cmkctl call` fails with exit 2 and WANT in its message
refused() {
    local want=$1 rc=0; shift
    "$BIN/cmkctl" --run-dir "$RUN" call "$@" >"$RUN/out" 2>"$RUN/err" || rc=$?
    [ $rc = 2 ] || fail "call $1 exited $rc (want 2, bad input): $(cat "$RUN/out" "$RUN/err")"
    grep -qF -- "$want" "$RUN/err" || fail "call $1: the message lacks '$want': $(cat "$RUN/err")"
}
# raw_refused WANT TYPE FILE - the controller answers FILE's bytes with EINVAL and WANT
raw_refused() {
    local out
    out=$(cmk_raw --key "$RUN/keys/admin.key" --front sendraw "$2" "$3" - expect error 20000) ||
        fail "no error answer to the raw $2 ($3): $out"
    grep -q '"code":"EINVAL"' <<<"$out" || fail "raw $2 ($3): not EINVAL: $out"
    grep -qF -- "$1" <<<"$out" || fail "raw $2 ($3): the message lacks '$1': $out"
}
tenants() { json_get "$(cmkctl --json tenant list)" '" ".join(sorted(t["id"] for t in j["items"]))'; }

# wrong types and values out of range
refused "field 'managed': must be true or false (got \"yes\")" env.create \
    '{"tenant":"contoso","name":"Yes","region":"unitedstates","type":"sandbox","managed":"yes"}'
[ "$(json_get "$(cmkctl env list --tenant contoso --json)" 'len(j["items"]) if isinstance(j, dict) else len(j)')" = 0 ] ||
    fail "an environment was created: $(cmkctl env list --tenant contoso)"
refused "field 'size': must be one of 2048, 3072, 4096 (got \"big\")" key.create '{"vault":"kvault","name":"k9","size":"big"}'
refused "field 'size': must be one of 2048, 3072, 4096 (got 1024)" key.create '{"vault":"kvault","name":"k9","size":1024}'
if cmkctl key show kvault k9 >/dev/null 2>&1; then fail "key k9 was created"; fi
refused "field 'id': must be a string of at most 63 characters (got 123)" tenant.show '{"id":123}'
refused "field 'retention_days': must be a whole number from 7 to 90 (got 1.0000000000000001e+300)" vault.create \
    '{"tenant":"contoso","vault":"kvault2","region":"unitedstates","retention_days":1e300}'
if cmkctl vault show kvault2 >/dev/null 2>&1; then fail "vault kvault2 was created"; fi
refused "field 'limit': must be a whole number from 1 to 10000" support.raise-cmk-limit '{"tenant":"contoso","limit":1e12}'
refused "field 'by': bad duration 'soon'" clock.advance '{"by":"soon"}'
refused "field 'op': must be one of state, apply, return, unlock, reset (got \"aply\")" env.byok '{"env":"x","op":"aply"}'
ok "managed \"yes\", size \"big\", id 123, retention_days 1e300, limit 1e12, by \"soon\", op \"aply\": EINVAL naming the field; nothing created"

# long names: over the field's limit, and over the type's body limit
python3 -c 'import json; print(json.dumps({"id": "longname", "name": "a" * 1000}))' >"$RUN/long.json"
refused "field 'name': must be a string of at most 128 characters (got a string of 1000 characters)" \
    tenant.create --file "$RUN/long.json"
python3 -c 'import json; print(json.dumps({"id": "hugename", "name": "a" * 120000}))' >"$RUN/huge.json"
refused "the body of 'tenant.create' is" tenant.create --file "$RUN/huge.json"
[ "$(tenants)" = contoso ] || fail "tenants after long names: $(tenants)"
ok "a 1,000-character tenant name and a 120,000-character one refused; no tenant made"

# invalid UTF-8: cmkctl passes the bytes through, the controller refuses them
printf '{"id":"badutf","name":"bad\xff\xfe"}' >"$RUN/utf.json"
refused "field 'name': not valid UTF-8 (byte 0xff)" tenant.create --file "$RUN/utf.json"
printf '{"id":"badutf","name":"caf\xc3\xa9 \xe2\x82\xac"}' >"$RUN/goodutf.json"
cmkctl call tenant.create --file "$RUN/goodutf.json" >/dev/null || fail "a valid UTF-8 name was refused"
cmkctl --json tenant list | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "--json tenant list is not valid JSON"
[ "$(tenants)" = "badutf contoso" ] || fail "tenants after UTF-8: $(tenants)"
ok "a name with invalid UTF-8 refused naming it; a valid non-ASCII name taken; --json tenant list is valid JSON"

# a NUL in an id: refused by cmkctl on the text and by the controller on the wire
printf '{"id":"nul\\u0000x"}' >"$RUN/nul.json"
refused "field 'id': must not contain a NUL character (\\u0000)" tenant.create --file "$RUN/nul.json"
raw_refused "field 'id': must not contain a NUL character" tenant.create "$RUN/nul.json"
printf '{"id":"nul\000x"}' >"$RUN/nulbyte.json"
raw_refused "field 'id': contains a NUL byte" tenant.create "$RUN/nulbyte.json"
[ "$(tenants)" = "badutf contoso" ] || fail "a tenant was made from an id with a NUL: $(tenants)"
ok "a NUL (\\u0000 or a raw byte) in an id refused naming the field; no truncated id stored"

# a body nested 10,000 deep says so
python3 -c 'print("{\"id\":\"deep\",\"x\":" + "[" * 10000 + "]" * 10000 + "}")' >"$RUN/deep.json"
refused "the body nests objects and arrays more than 128 levels deep" tenant.create --file "$RUN/deep.json"
raw_refused "more than 128 levels deep" tenant.create "$RUN/deep.json"
ok "a body nested 10,000 deep: 'nests ... more than 128 levels deep' (cmkctl and the controller)"

# duplicate member names, at the top and inside
refused "field 'id' is given twice; send each member once" tenant.create '{"id":"dupa","id":"dupb"}'
refused "field 'package.flows' is given twice" flow.import '{"env":"x","package":{"flows":[],"flows":[]}}'
[ "$(tenants)" = "badutf contoso" ] || fail "a tenant was made from a body with a duplicate id: $(tenants)"
ok "duplicate member names refused, naming the member; nothing created"

# what is right still goes through, and the cluster is unharmed
cmkctl call key.create '{"vault":"kvault","name":"k1","size":3072}' >/dev/null || fail "a 3072-bit key.create was refused"
cmkctl call env.create '{"tenant":"contoso","name":"Dev","region":"unitedstates","type":"sandbox","managed":true}' \
    >/dev/null || fail "env.create with managed true was refused"
cmkctl ping >/dev/null || fail "ping after the bad requests"
ok "well-typed requests still succeed"
