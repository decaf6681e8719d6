#!/usr/bin/env bash
# Rule SKEL-3: every socket uses CURVE and the ZAP handler refuses unknown keys: a client with a
# key the cluster does not know gets no answer, and the refusal is logged.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
cmkctl curve-keygen "$RUN/stranger.key" | qgrep -q "public" || fail "keygen"
[ "$(stat -c %a "$RUN/stranger.key")" = 600 ] || fail "secret key file is not 0600"
set +e
out=$(cmkctl ping --curve-key "$RUN/stranger.key" --timeout 2s 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "stranger got an answer: $out"
grep -q "no answer" <<<"$out" || fail "message: $out"
grep -q "event=zap.refused mechanism=CURVE" "$RUN/logs/controller.log" || fail "refusal not logged"
grep -qF "$(cat "$RUN/stranger.pub")" "$RUN/logs/controller.log" || fail "refused key not named in the log"
ok "SKEL-3b unknown key refused and logged; the client is not left waiting"

# the admin key still works, and a worker's key cannot act as the admin's front-door client
cmkctl ping | qgrep -q pong || fail "admin refused"
[ "$(stat -c %a "$RUN/keys")" = 700 ] || fail "keys dir not 0700"
ok "admin key works"
