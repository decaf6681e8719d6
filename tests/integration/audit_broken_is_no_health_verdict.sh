#!/usr/bin/env bash
# Rule AUD-5: an audit log that cannot be written is no verdict on the keys. The vault refuses
# the policy identity's reads while their audit records cannot be written (fail closed, AUD-4);
# the health monitor must not read that as "the key is unreachable" and lock every CMK
# environment: it logs policy.health_no_verdict and keeps the environments as they are. A real
# lock trigger found once the log is back still locks, as always.
. "$(dirname "$0")/lib.sh"

cmkctl up --set supervisor.firewall=false --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env" >/dev/null || fail "add-env with a working audit log"
[ "$(env_field "$env" state)" = Ready ] || fail "not Ready after add-env: $(cmkctl env cmk-status "$env")"

head="$RUN/keys/audit.head"
[ -f "$head" ] || fail "no audit head file at $head"
rm -f "$head"; mkdir "$head"          # no append can anchor the head now
cmkctl clock advance 3m >/dev/null    # three health checks (policy.health_interval 1m)
no_verdict() { qgrep -q "event=policy.health_no_verdict policy=" < "$RUN/logs/controller.log"; }
wait_until 30 no_verdict || fail "no health check found the audit log broken"
[ "$(env_field "$env" state)" = Ready ] || fail "a broken audit log locked $env: $(cmkctl env cmk-status "$env")"
ok "AUD-5 with the audit log unwritable the health check gives no verdict; $env stays Ready"

rmdir "$head"
cmkctl vault revoke "$VAULT" --principal "$IDENTITY" --perms unwrapKey >/dev/null
locked() { [ "$(env_field "$env" state)" = Locked ]; }
cmkctl clock advance 2m >/dev/null
wait_until 30 locked || fail "a revoked unwrapKey did not lock $env once the log was back: $(cmkctl env cmk-status "$env")"
ok "AUD-5 with the log back, a real lock trigger (unwrapKey revoked) still locks $env"
