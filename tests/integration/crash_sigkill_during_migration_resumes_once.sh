#!/usr/bin/env bash
# Rule CRASH-2: a migration to the dedicated infrastructure (`policy add-env`) interrupted by a
# SIGKILL - of the controller (then `cmkctl up` again on the same run dir), of the source
# (shared) worker, of the target (dedicated) worker - right after the operation is acknowledged
# or after a seeded random number of flows has reached the target - resumes and ends once: the
# operation ends Succeeded, every flow is in exactly one of the two partitions (the migratable
# ones on the dedicated side, the held ones on the shared side), `env migration` counts every
# moved flow, each definition reads back as it was saved, the run history from before the
# migration is listed once, moved flows run, and every partition file passes
# `PRAGMA integrity_check`. CRASH_SEED=N replays the kill points.
. "$(dirname "$0")/lib.sh"

CRASH_SEED=${CRASH_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
echo "CRASH_SEED=$CRASH_SEED"
RANDOM=$CRASH_SEED

UP=(up --set clock.mode=virtual --set migration.step_delay=150ms)
cmkctl "${UP[@]}" >/dev/null
setup_cmk contoso unitedstates

pid_of() { cmkctl status | awk -v n="$1" '$1 == n { print $3 }'; }
no_daemons() { ! pgrep -f -- "/cmk-[a-z]+ --run-dir $RUN( |\$)" >/dev/null; }
# on_target ENV N - at least N flows have reached the dedicated partition
on_target() {
    local db="$RUN/partitions/$1/dedicated/partition.db" n
    [ -f "$db" ] || return 1
    n=$(sqlite3 -readonly "$db" 'SELECT COUNT(*) FROM flows' 2>/dev/null) || return 1
    [ "${n:-0}" -ge "$2" ]
}

nflows=$(ls "$SRC"/configs/flows/*.json | wc -l)
for victim in controller source target; do
    env=$(new_env "Env-$victim" contoso unitedstates production --managed)
    for f in "$SRC"/configs/flows/*.json; do
        cmkctl flow create --env "$env" --file "$f" --id "$(basename "$f" .json)" >/dev/null
    done
    # run history from before the migration (stays on the shared side)
    before=()
    for i in 1 2 3; do
        out=$(cmkctl flow run --env "$env" manual-compose --client-req "pre-$i" --body "{\"text\":\"pre-$i\"}" --json)
        before+=("$(json_get "$out" 'j["run"]')")
    done
    movable=$(( nflows - $(cmkctl flows mmk --env "$env" --cannot-migrate --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))') ))
    [ "$movable" -ge 3 ] || fail "only $movable flows can move"

    op=$(json_get "$(cmkctl policy add-env "$POLICY" "$env" --no-wait --json)" 'j["id"]')
    # k = 0: right after add-env is acknowledged (the link, before or as the first flow moves)
    k=$(( RANDOM % (movable - 2) ))
    if [ "$k" = 0 ]; then sleep "0.$(( RANDOM % 3 ))"; else
        wait_until 30 on_target "$env" "$k" || fail "$victim: the migration never reached $k flows on the target"
    fi
    case $victim in
        controller) name=controller ;;
        source) name=worker-shared ;;
        target) name="worker-$env" ;;
    esac
    has_pid() { local p; p=$(pid_of "$name"); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != - ]; }
    wait_until 20 has_pid || fail "no $name to kill"
    pid=$(pid_of "$name")
    kill -9 "$pid"
    echo "$victim: SIGKILL $name (pid $pid) with $k+ of $movable flows on the target"
    if [ "$victim" = controller ]; then
        wait_until 15 no_daemons || fail "processes left after the controller died: $(procs_of_run)"
        cmkctl "${UP[@]}" >/dev/null || fail "cmkctl up again after the controller's SIGKILL"
    fi
    out=$(cmkctl --timeout 60s policy operation "$op" 2>&1) || true
    grep -q Succeeded <<<"$out" || fail "$victim: the operation did not end Succeeded: $out"
    grep -q "$movable flows moved" <<<"$out" || fail "$victim: the operation does not count $movable moved flows: $out"
    mig=$(cmkctl env migration "$env" --json)
    [ "$(json_get "$mig" 'j["status"]')" = Done ] || fail "$victim: migration status: $mig"
    [ "$(json_get "$mig" 'j["moved"]')" = "$movable" ] || fail "$victim: env migration counts $(json_get "$mig" 'j["moved"]') moved flows, not $movable"

    # every flow in exactly one partition, on the side it belongs to
    python3 - "$RUN" "$env" "$SRC/configs/flows" "$(cmkctl flows mmk --env "$env" --cannot-migrate --json)" <<'PY' || fail "$victim: flows lost or duplicated across the partitions"
import glob, json, os, sqlite3, sys
run, env, flowdir, held_json = sys.argv[1:5]
want = {os.path.basename(p)[:-5] for p in glob.glob(flowdir + "/*.json")}
held = {f.get("FlowName", f.get("id")) for f in json.loads(held_json)["items"]}
side = {}
for s in ("shared", "dedicated"):
    con = sqlite3.connect("file:%s/partitions/%s/%s/partition.db?mode=ro" % (run, env, s), uri=True)
    side[s] = [r[0] for r in con.execute("SELECT id FROM flows")]
    con.close()
allf = side["shared"] + side["dedicated"]
assert len(allf) == len(set(allf)), "a flow is in both partitions: %s" % sorted(set(side["shared"]) & set(side["dedicated"]))
assert set(allf) == want, "missing %s, unexpected %s" % (sorted(want - set(allf)), sorted(set(allf) - want))
assert set(side["shared"]) == held, "shared side %s, held %s" % (sorted(side["shared"]), sorted(held))
PY
    list=$(cmkctl flow list --env "$env" --json)
    [ "$(json_get "$list" 'len(j["items"])')" = "$nflows" ] || fail "$victim: flow list: $(json_get "$list" 'sorted(f["id"] for f in j["items"])')"
    # definitions read back as saved (through the worker that now serves each flow)
    for f in "$SRC"/configs/flows/*.json; do
        id=$(basename "$f" .json)
        cmkctl flow show --env "$env" "$id" --json >"$RUN/show.$id.json" || fail "$victim: flow show $id"
    done
    python3 - "$RUN" "$SRC/configs/flows" <<'PY' || fail "$victim: a definition changed across the migration"
import glob, json, os, sys
run, flowdir = sys.argv[1:3]
for p in glob.glob(flowdir + "/*.json"):
    fid = os.path.basename(p)[:-5]
    got = json.load(open("%s/show.%s.json" % (run, fid)))["definition"]
    assert got == json.load(open(p)), fid
PY
    hist=$(cmkctl support run-history --env "$env" --json)
    for r in "${before[@]}"; do
        [ "$(json_get "$hist" "sum(1 for i in j['items'] if i['run'] == '$r')")" = 1 ] || fail "$victim: run $r not in the run history once: $hist"
    done
    out=$(cmkctl flow run --env "$env" manual-compose --body '{"text":"after"}' --json)
    [ "$(json_get "$out" 'j["status"]')" = Succeeded ] || fail "$victim: a moved flow does not run: $out"
    ok "$victim killed mid-migration: Succeeded once, $movable flows moved, none lost or doubled, definitions and history intact"
done

cmkctl down >/dev/null
n=$(integrity_checked)
[ "$n" = 6 ] || fail "$n partition files, not 6"
ok "6 partition files pass integrity_check (CRASH_SEED=$CRASH_SEED)"
