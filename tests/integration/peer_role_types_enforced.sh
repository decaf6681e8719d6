#!/usr/bin/env bash
# Rule PEER-3: each peer role sends only its own message types on the back channel (the
# back_types table in controller/broker/broker.c): a firewall-role peer asking for a data key
# or sending a front request is answered with an error and logged; a peer registers with its
# key's role whatever its `ready` claims.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
add_raw_identity rogue-fw firewall
add_raw_identity rogue-gw gateway

cmk_raw --key "$RUN/keys/rogue-fw.key" ready firewall 4242 idle 700 \
    send dek.get '{"env":"env-x","purpose":"data"}' - expect error 5000 \
    send env.create '{"tenant":"t","name":"n","region":"unitedstates"}' - expect error 5000 idle 300 \
    >"$RUN/fw.out" 2>&1 || fail "cmk_raw: $(cat "$RUN/fw.out")"
[ "$(grep -c '^recv error' "$RUN/fw.out")" -eq 2 ] || fail "expected two error answers: $(cat "$RUN/fw.out")"
for t in dek.get env.create; do
    grep "event=back.type_refused" "$RUN/logs/controller.log" | qgrep -q "peer=rogue-fw role=firewall pid=4242 type=$t" ||
        fail "refusal of $t not logged"
done
ok "PEER-3 a firewall-role peer's dek.get and env.create are refused with an error and logged"

# a gateway key claiming to be a worker is registered as a gateway
cmk_raw --key "$RUN/keys/rogue-gw.key" ready worker 4343 idle 700 \
    send dek.get '{"env":"env-x","purpose":"data"}' - expect error 5000 >"$RUN/gw.out" 2>&1 ||
    fail "cmk_raw: $(cat "$RUN/gw.out")"
grep -q "event=peer.role_mismatch name=rogue-gw claimed=worker key_role=gateway" "$RUN/logs/controller.log" ||
    fail "role mismatch not logged"
grep "event=back.type_refused" "$RUN/logs/controller.log" | qgrep -q "peer=rogue-gw role=gateway" ||
    fail "rogue-gw was not held to the gateway's types"
[ "$(json_get "$(cmkctl ping --json)" 'j["all_ok"]')" = True ] || fail "the cluster's own peers were disturbed"
ok "PEER-3 a peer registers with its key's role, whatever its ready claims"
