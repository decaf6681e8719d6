#!/usr/bin/env bash
# CONF-1 (issue #10): a dedicated worker confines itself once started - Landlock limits it to
# its environment's partition directory (tests/unit/confine_test.c shows on the real kernel that
# such a process cannot open another environment's partition even by its full path), and a
# seccomp filter refuses what it never needs (running programs, tracing, mounting...). Its
# /proc status shows the filter and no_new_privs; it keeps serving its flows under CMK; the shared
# worker is not confined to one environment. Sanitizer builds skip Landlock and say why.
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates sandbox --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
log="$RUN/logs/worker-$env.log"
wait_until 20 grep -q "event=worker.confined\|event=worker.not_confined" "$log" || fail "no confinement line in $log"
pid=$(json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name'] == 'worker-$env'][0]")
grep -q "^Seccomp:[[:space:]]*2" "/proc/$pid/status" || fail "no seccomp filter: $(grep Seccomp /proc/$pid/status)"
grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status" || fail "no_new_privs not set"
if grep -q "event=worker.confined" "$log"; then
    grep -q "dirs=$RUN/partitions/$env\$" "$log" || grep -q "dirs=$RUN/partitions/$env " "$log" \
        || fail "confined to something else than its partition: $(grep worker.confined "$log")"
    ok "CONF-1 the dedicated worker is confined to $RUN/partitions/$env (Landlock) with seccomp"
elif [ -n "${ASAN_OPTIONS:-}" ] && grep -q "sanitizer build" "$log"; then
    ok "CONF-1 seccomp on; Landlock skipped in the sanitizer build, as it says"
else
    fail "not confined: $(grep worker.not_confined "$log")"
fi
# confined, it still does its work: runs under CMK, stored in its partition
for i in 1 2 3; do
    [ "$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"confined"}' --json)" 'j["status"]')" = Succeeded ] \
        || fail "a run failed in the confined worker"
done
[ "$(json_get "$(cmkctl run list --env "$env" --flow m --json)" 'len(j["items"])')" -ge 3 ] || fail "runs not stored"
spid=$(json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name'] == 'worker-shared'][0]")
grep -q "^Seccomp:[[:space:]]*0" "/proc/$spid/status" || fail "the shared worker should not be confined to one environment"
ok "the confined worker serves its flows; the shared worker is not confined to one environment"
