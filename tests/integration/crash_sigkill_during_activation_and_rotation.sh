#!/usr/bin/env bash
# Rule CRASH-3: key operations survive a SIGKILL of the controller and are applied exactly once.
# Activation (legacy BYOK): the controller is killed while the new tenant key is Installing (at
# a seeded point of its 10 minutes) and again right after it became Active; after each
# `cmkctl up` on the same run dir (virtual clock) the key becomes Active once - one Active key,
# the previous one Available, one tenantkey.key_active audit record, the environment on the new
# key - and the environment's data stays readable.
# Rotation (enterprise policy): the controller is killed at a seeded moment right after an
# acknowledged `key rotate`, and again once the rotation is applied (at once, or 24 hours later
# on the controller's clock); each rotation makes exactly one new key version, the environment's
# data key (the same one, not a new one) ends wrapped by the newest version, each rotation is
# applied once (one rotation.applied audit record per rotation), and the data stays readable.
# Every partition file passes `PRAGMA integrity_check`. CRASH_SEED=N replays the kill points.
. "$(dirname "$0")/lib.sh"

CRASH_SEED=${CRASH_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
echo "CRASH_SEED=$CRASH_SEED"
RANDOM=$CRASH_SEED
T="$RUN/t"; mkdir -p "$T"; echo "s3cret-pass" >"$T/pw"

UP=(up --set clock.mode=virtual)
cmkctl "${UP[@]}" >/dev/null
no_daemons() { ! pgrep -f -- "/cmk-[a-z]+ --run-dir $RUN( |\$)" >/dev/null; }
# crash_controller WHAT - SIGKILL the controller (its children die with it), start again
crash_controller() {
    local pid
    pid=$(cat "$RUN/controller.pid")
    kill -9 "$pid"
    echo "SIGKILL controller (pid $pid) $1"
    wait_until 15 no_daemons || fail "processes left after the controller died: $(procs_of_run)"
    cmkctl "${UP[@]}" >/dev/null || fail "cmkctl up again after the controller's SIGKILL ($1)"
}
# readable ENV FLOW RUN TEXT - the run made before reads back, and a new run succeeds
readable() {
    local out
    out=$(cmkctl run show --env "$1" "$3" --json) || fail "run $3 of $1 unreadable: $out"
    [ "$(json_get "$out" 'j["trigger"]["body"]["text"]')" = "$4" ] || fail "run $3 lost its trigger: $out"
    out=$(cmkctl flow run --env "$1" "$2" --body '{"text":"after"}' --json) || fail "run in $1: $out"
    [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "a new run in $1: $out"
}
audits() { json_get "$(cmkctl audit list --operation "$1" --json)" "sum(1 for i in j['items'] if i['target'] == '$2')"; }

# ---- activation: the controller killed while k2 is Installing, then right after it is Active
cmkctl tenant create contoso >/dev/null
cmkctl tenant enable-byok contoso >/dev/null 2>&1
sbx=$(new_env Sandbox contoso unitedstates sandbox --managed)
cmkctl tenant-key generate --tenant contoso --region unitedstates --name k1 --password-file "$T/pw" --out "$T/k1.pfx" >/dev/null 2>&1
cmkctl clock advance 11m >/dev/null
cmkctl env apply-tenant-key "$sbx" --yes >/dev/null 2>&1 || fail "apply-tenant-key"
cmkctl flow create --env "$sbx" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
rb=$(json_get "$(cmkctl flow run --env "$sbx" m --body '{"text":"before k2"}' --json)" 'j["run"]')
cmkctl tenant-key generate --tenant contoso --region unitedstates --name k2 --password-file "$T/pw" --out "$T/k2.pfx" >/dev/null 2>&1
cmkctl clock advance 24h >/dev/null
keys() { cmkctl tenant-key list --tenant contoso --json 2>/dev/null; }
state() { json_get "$(keys)" "[k['state'] for k in j['items'] if k['name'] == '$1'][0]"; }
cmkctl tenant-key activate --tenant contoso k2 >/dev/null 2>&1 || fail "activate k2"
[ "$(state k2)" = Installing ] || fail "k2 not Installing: $(keys)"
m1=$(( RANDOM % 10 ))
[ "$m1" = 0 ] || cmkctl clock advance "${m1}m" >/dev/null
sleep "0.$(( RANDOM % 5 ))"
crash_controller "while k2 is Installing (${m1} of its 10 minutes passed)"
[ "$(state k2)" = Installing ] || fail "k2 is not Installing after the restart: $(keys)"
[ "$(state k1)" = Active ] || fail "k1 not Active while k2 installs: $(keys)"
cmkctl clock advance "$(( 11 - m1 ))m" >/dev/null
k2_active() { [ "$(state k2)" = Active ]; }
wait_until 10 k2_active || fail "k2 never became Active after the restart: $(keys)"
crash_controller "right after k2 became Active"
cmkctl clock advance 11m >/dev/null
[ "$(json_get "$(keys)" "sum(1 for k in j['items'] if k['state'] == 'Active')")" = 1 ] || fail "not exactly one Active key: $(keys)"
[ "$(state k2)" = Active ] && [ "$(state k1)" = Available ] || fail "k2 Active, k1 Available expected: $(keys)"
[ "$(audits tenantkey.key_active contoso/k2)" = 1 ] || fail "k2's activation audited $(audits tenantkey.key_active contoso/k2) times"
[ "$(json_get "$(cmkctl env byok-state "$sbx" --json)" 'j["key"]')" = k2 ] || fail "the environment is not on k2: $(cmkctl env byok-state "$sbx")"
readable "$sbx" m "$rb" "before k2"
ok "activation interrupted twice: k2 Active once, k1 Available, the environment on k2, its data readable"

# ---- rotation: the controller killed right after an acknowledged rotate, then once applied
setup_cmk fabrikam unitedstates
env=$(new_env Prod fabrikam unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env" >/dev/null || fail "policy add-env"
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
rr=$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"before rotation"}' --json)" 'j["run"]')
# dek - "id version" of the environment's data key wrapped by the policy's key (controller.db)
dek() { sqlite3 -readonly "$RUN/controller.db" "SELECT id || ' ' || kek_version FROM deks WHERE env = '$env' AND kek_kind = 'vault' AND state = 'active'"; }
newest() { json_get "$(cmkctl key show "$VAULT" "$KEY" --json)" 'j["version"]'; }
nversions() { json_get "$(cmkctl key versions "$VAULT" "$KEY" --json)" 'len(j["items"])'; }
d0=$(dek)
[ "$(wc -l <<<"$d0")" = 1 ] && [ "${d0#* }" = "$(newest)" ] || fail "the data key is not wrapped by the key's version: '$d0' vs $(newest)"
dek_id=${d0%% *}
n0=$(nversions)
for round in 1 2; do
    cmkctl key rotate "$VAULT" "$KEY" >/dev/null || fail "rotate (round $round)"
    v=$(newest)
    sleep "0.$(( RANDOM % 4 ))"
    crash_controller "right after rotation $round was acknowledged"
    [ "$(nversions)" = $(( n0 + round )) ] || fail "round $round: $(nversions) versions, not $(( n0 + round ))"
    [ "$(newest)" = "$v" ] || fail "round $round: the newest version changed across the restart"
    cmkctl clock advance 24h >/dev/null
    cmkctl clock advance 1m >/dev/null
    applied() { [ "$(dek)" = "$dek_id $v" ]; }
    wait_until 10 applied || fail "round $round: the data key is not wrapped by $v: '$(dek)'"
    crash_controller "once rotation $round was applied"
    cmkctl clock advance 24h >/dev/null
    [ "$(dek)" = "$dek_id $v" ] || fail "round $round: after the second restart the data key is '$(dek)', not '$dek_id $v'"
    [ "$(nversions)" = $(( n0 + round )) ] || fail "round $round: versions changed after the second restart: $(nversions)"
    [ "$(audits rotation.applied "$env")" = "$round" ] || fail "round $round: rotation.applied audited $(audits rotation.applied "$env") times"
    readable "$env" m "$rr" "before rotation"
    ok "rotation $round interrupted twice: one new version ($v), applied once, the same data key wrapped by it, data readable"
done

cmkctl down >/dev/null
n=$(integrity_checked)
[ "$n" -ge 2 ] || fail "only $n partition files"
ok "$n partition files pass integrity_check (CRASH_SEED=$CRASH_SEED)"
