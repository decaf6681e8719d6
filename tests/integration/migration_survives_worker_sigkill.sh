#!/usr/bin/env bash
# Rule MIG-3b: a migration interrupted by a SIGKILL of the shared worker, or of the dedicated
# worker, completes once the worker is back, with no flow lost or duplicated.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set migration.step_delay=150ms >/dev/null
setup_cmk contoso unitedstates
pid_of() { json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name']=='$1'][0]"; }
for victim in shared dedicated; do
    env=$(new_env "Env-$victim" contoso unitedstates production --managed)
    for f in "$SRC"/configs/flows/*.json; do cmkctl flow create --env "$env" --file "$f" --id "$(basename "$f" .json)" >/dev/null; done
    op=$(json_get "$(cmkctl policy add-env "$POLICY" "$env" --no-wait --json)" 'j["id"]')
    sleep 0.5
    if [ "$victim" = shared ]; then name=worker-shared; else name="worker-$env"; fi
    pid=$(pid_of "$name")
    [ -n "$pid" ] && [ "$pid" != 0 ] || fail "no $name to kill"
    kill -9 "$pid"
    cmkctl policy operation "$op" | qgrep -q Succeeded || fail "migration did not complete after $name was killed"
    list=$(cmkctl flow list --env "$env" --json)
    [ "$(json_get "$list" 'len(j["items"])')" = 12 ] || fail "flows lost or duplicated ($victim): $(json_get "$list" 'sorted(f["id"] for f in j["items"])')"
    [ "$(json_get "$list" 'len(set(f["id"] for f in j["items"]))')" = 12 ] || fail "a flow is on both sides ($victim)"
    ok "the $victim worker killed mid-migration: completed, nothing lost or duplicated"
done
