#!/usr/bin/env bash
# Rule PEER-1: a reply on the back channel counts only from the registration (CURVE identity
# and routing id) the request was forwarded to. Another peer that learnt the request id (here a
# second raw client, given it on purpose) answers first with a forged body: the broker drops it
# and logs both identities, and the client gets the genuine answer.
. "$(dirname "$0")/lib.sh"

# a killed firewall stays down for the test, so a raw client can stand in for it
cmkctl up --set supervisor.restart_min=60s --set supervisor.restart_max=60s >/dev/null
fw=$(child_pid firewall)
kill -9 "$fw"
wait_until 20 grep -q "event=child.restart_scheduled name=firewall" "$RUN/logs/controller.log" ||
    fail "the firewall's death was not noticed"
add_raw_identity rogue worker

# the stand-in firewall: takes the request, waits while the forger answers, then answers itself
cmk_raw --key "$RUN/keys/firewall.key" --name firewall ready firewall 424242 \
    catch firewall.status "$RUN/fwd.id" 30000 idle 2000 forge "$RUN/fwd.id" reply '{"genuine":true}' 1000 idle 500 \
    >"$RUN/standin.out" 2>&1 &
standin=$!
wait_until 20 grep -q "event=peer.ready name=firewall role=firewall pid=424242" "$RUN/logs/controller.log" ||
    fail "the stand-in did not register: $(cat "$RUN/standin.out")"
cmk_raw --key "$RUN/keys/rogue.key" ready worker 434343 forge "$RUN/fwd.id" reply '{"forged":true}' 30000 idle 500 \
    >"$RUN/rogue.out" 2>&1 &
rogue=$!
out=$(cmkctl call firewall.status '{}' --json) || fail "firewall.status failed: $out"
wait $standin || fail "stand-in: $(cat "$RUN/standin.out")"
wait $rogue || fail "rogue: $(cat "$RUN/rogue.out")"
grep -q '"genuine"' <<<"$out" || fail "the client did not get the genuine answer: $out"
if grep -q '"forged"' <<<"$out"; then fail "the forged reply reached the client: $out"; fi
id=$(cat "$RUN/fwd.id")
[ ${#id} -eq 32 ] || fail "forward id '$id' is not 128 bits of hex"
grep "event=back.forged_reply" "$RUN/logs/controller.log" | grep "from=rogue " | qgrep -q "sent_to=firewall " ||
    fail "the forged reply was not logged with both identities: $(grep forged "$RUN/logs/controller.log")"
ok "PEER-1 a reply from a peer the request was not sent to is dropped and logged with both identities"
