#!/usr/bin/env bash
# Rules AUTHZ-1..AUTHZ-5 with the real processes: the authorization matrix (docs/SECURITY.md) is
# enforced on the controller's front door and back channel by the caller's CURVE identity.
# A reader reads but cannot create keys, delete policies or environments; a tenant-admin manages
# its tenant's vault and environment but is refused on another tenant's; the gateway's and a
# worker's keys cannot reach key operations, data-key lists or policies on the front door; on
# the back channel a non-peer cannot register and a non-worker peer gets no data key; identities
# added at run time work at once and stop working when removed. Every refusal is audited (EPERM).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
C_VAULT=$VAULT C_KEY=$KEY C_POLICY=$POLICY
c_env=$(new_env prod contoso unitedstates production)
setup_cmk fabrikam europe
F_VAULT=$VAULT F_POLICY=$POLICY
f_env=$(new_env prod fabrikam europe production)

# refused AS TYPE-AND-ARGS... - the command (as identity AS) fails with EPERM; stderr to $RUN/err
refused() {
    local as=$1; shift
    if "$BIN/cmkctl" --run-dir "$RUN" $as "$@" >"$RUN/out" 2>"$RUN/err"; then
        fail "'$as $*' was allowed: $(cat "$RUN/out")"
    fi
    grep -q "may not call" "$RUN/err" || fail "'$as $*' failed, but not as a refusal: $(cat "$RUN/err")"
}
# audited PRINCIPAL OPERATION - an EPERM entry for it is in the audit log
audited() {
    cmkctl audit list --result EPERM --principal "$1" --operation "$2" --json |
        python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['items'] else 1)" ||
        fail "the refusal of $2 for $1 is not in the audit log"
}

# --- AUTHZ-1: the reader identity made at start reads, and nothing else
[ -f "$RUN/keys/reader.key" ] || fail "no keys/reader.key made at start"
cmkctl --as reader env list | qgrep -q "$c_env" || fail "reader cannot list environments"
cmkctl --as reader env show "$f_env" >/dev/null || fail "reader cannot show an environment"
cmkctl --as reader policy show "$C_POLICY" >/dev/null || fail "reader cannot show a policy"
cmkctl --as reader audit list >/dev/null || fail "reader cannot list the audit log"
refused "--as reader" key create "$C_VAULT" other
grep -qF "cmkctl: identity 'reader' (role reader) may not call 'key.create': it is a keys operation; use an admin identity" "$RUN/err" ||
    fail "reader's key.create refusal: $(cat "$RUN/err")"
refused "--as reader" policy delete "$C_POLICY"
grep -qF "may not call 'policy.delete': it is a keys operation" "$RUN/err" || fail "message: $(cat "$RUN/err")"
refused "--as reader" env delete "$c_env" --yes
grep -qF "may not call 'env.delete': it is a write operation" "$RUN/err" || fail "message: $(cat "$RUN/err")"
refused "--as reader" identity add mallory --role admin
refused "--as reader" call shutdown
cmkctl ping >/dev/null || fail "the cluster stopped on a refused shutdown"
for op in key.create policy.delete env.delete identity.add shutdown; do audited reader "$op"; done
ok "AUTHZ-1 reader lists and shows; key.create, policy.delete, env.delete, identity.add, shutdown get EPERM with the message; audited"

# --- AUTHZ-2: a tenant-admin of contoso acts on contoso only
cmkctl identity add alice --role tenant-admin --tenant contoso >/dev/null
[ "$(stat -c %a "$RUN/keys/alice.key")" = 600 ] || fail "keys/alice.key is not mode 0600"
cmkctl identity list | grep -E "^alice +tenant-admin +contoso" >/dev/null || fail "identity list: $(cmkctl identity list)"
cmkctl --as alice vault create alice-kv --tenant contoso --region unitedstates >/dev/null || fail "alice cannot create a contoso vault"
cmkctl --as alice key create alice-kv k1 >/dev/null || fail "alice cannot create a key in her vault"
a_env=$(json_get "$(cmkctl --as alice env create --tenant contoso --name dev --region unitedstates --type sandbox --json)" 'j["id"]')
cmkctl --as alice env show "$c_env" >/dev/null || fail "alice cannot show a contoso environment"
cmkctl --as alice env list --tenant contoso | qgrep -q "$a_env" || fail "alice cannot list contoso's environments"
cmkctl --as alice env delete "$a_env" --yes >/dev/null || fail "alice cannot delete her environment"
refused "--as alice" env show "$f_env"
grep -qF "it belongs to tenant fabrikam" "$RUN/err" || fail "message: $(cat "$RUN/err")"
refused "--as alice" env delete "$f_env" --yes
refused "--as alice" vault create alice-fab-kv --tenant fabrikam --region europe
refused "--as alice" key create "$F_VAULT" k2
refused "--as alice" policy delete "$F_POLICY"
refused "--as alice" env list
grep -qF "without naming what it acts on" "$RUN/err" || fail "message: $(cat "$RUN/err")"
refused "--as alice" tenant list
refused "--as alice" clock advance 1d
cmkctl env show "$f_env" >/dev/null || fail "fabrikam's environment is gone"
for op in env.show env.delete vault.create key.create policy.delete env.list tenant.list clock.advance; do audited alice "$op"; done
ok "AUTHZ-2 a tenant-admin manages its tenant's vault, key and environment; refused on another tenant's; audited"

# --- AUTHZ-3: peers' keys on the front door: no key operations, no data keys, no policies
for peer in gateway worker-shared firewall; do
    key="--curve-key $RUN/keys/$peer.key"
    refused "$key" key unwrap "$C_VAULT" "$C_KEY" --value AAAA
    refused "$key" call dek.list "{\"env\": \"$c_env\"}"
    refused "$key" policy delete "$C_POLICY"
    for op in key.unwrap dek.list policy.delete; do audited "$peer" "$op"; done
done
cmkctl policy show "$C_POLICY" >/dev/null || fail "the policy is gone"
cmkctl call dek.list "{\"env\": \"$c_env\"}" >/dev/null || fail "admin cannot list data keys"
ok "AUTHZ-3 the gateway's, the shared worker's and the firewall's keys get EPERM for key.unwrap, dek.list, policy.delete; audited"

# --- AUTHZ-4: the back channel. A peer of role gateway (its own key, so the real gateway is
# undisturbed) asking for a data key, and a reader trying to register as a peer.
"$BIN/cmkctl" curve-keygen "$RUN/keys/gw-rogue.key" >/dev/null
python3 - "$RUN/keys" <<'EOF'
import json, sys, os
d = sys.argv[1]
pub = open(os.path.join(d, "gw-rogue.pub")).read().strip()
a = json.load(open(os.path.join(d, "public", "authorized.json")))
a.append({"key": pub, "name": "gw-rogue", "role": "gateway", "envs": [], "tenants": []})
tmp = os.path.join(d, "public", "authorized.json.tmp")
json.dump(a, open(tmp, "w"), indent=1)
os.rename(tmp, os.path.join(d, "public", "authorized.json"))
EOF
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name gw-rogue --env "$c_env" >"$RUN/rogue.log" 2>&1 &
rogue=$!
got_refusal() { grep -q "may not call 'dek.get' on the back channel" "$RUN/rogue.log"; }
wait_until 10 got_refusal || { kill -9 $rogue 2>/dev/null; fail "gw-rogue got no refusal: $(tail -5 "$RUN/rogue.log")"; }
{ kill -9 $rogue; wait $rogue; } 2>/dev/null || true
audited gw-rogue dek.get
"$BIN/cmk-worker" --run-dir "$RUN" --config "$RUN/config.json" --name reader --env "$c_env" >"$RUN/rogue2.log" 2>&1 &
rogue=$!
ready_refused() {
    cmkctl audit list --result EPERM --principal reader --operation ready --json |
        python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['items'] else 1)"
}
wait_until 10 ready_refused || { kill -9 $rogue 2>/dev/null; fail "the reader registered as a peer"; }
{ kill -9 $rogue; wait $rogue; } 2>/dev/null || true
[ "$(json_get "$(cmkctl ping --json)" 'j["all_ok"]')" = True ] || fail "the cluster's own peers were disturbed"
grep -q "event=authz.refused" "$RUN/logs/controller.log" || fail "no authz.refused log line"
ok "AUTHZ-4 back channel: a gateway-role peer is refused dek.get, a reader cannot register as a peer; audited and logged"

# --- AUTHZ-5: identities at run time: an added admin works at once; a removed one is refused
cmkctl identity add ops1 --role admin >/dev/null
cmkctl --as ops1 tenant create northwind >/dev/null || fail "a new admin identity was not let in"
cmkctl identity remove ops1 >/dev/null
[ ! -f "$RUN/keys/ops1.key" ] || fail "keys/ops1.key left behind"
if cmkctl --curve-key "$RUN/keys/alice.key" --as ops1 ping >/dev/null 2>&1; then fail "--as with --curve-key accepted"; fi
cp "$RUN/keys/alice.key" "$RUN/alice-copy.key"
cmkctl identity remove alice >/dev/null
if "$BIN/cmkctl" --run-dir "$RUN" --timeout 2s --curve-key "$RUN/alice-copy.key" env list --tenant contoso >/dev/null 2>&1; then
    fail "alice's key still gets in after identity remove"
fi
refused "--as reader" identity remove admin
if cmkctl identity remove reader >/dev/null 2>"$RUN/err"; then fail "the cluster's reader identity was removed"; fi
if cmkctl identity add master --role admin >/dev/null 2>&1; then fail "identity add overwrote keys/master.key"; fi
if cmkctl identity add eve --role worker >/dev/null 2>&1; then fail "identity add gave a peer role"; fi
if cmkctl identity add eve --role tenant-admin --tenant nosuch >/dev/null 2>&1; then fail "tenant-admin of an unknown tenant"; fi
cmkctl audit list --operation identity.add --json | qgrep -q '"ops1"' || fail "identity.add not audited"
cmkctl audit verify >/dev/null || fail "audit chain broken"
ok "AUTHZ-5 identity add works at once (key mode 0600), identity remove shuts it out; cluster identities are protected; audited"
