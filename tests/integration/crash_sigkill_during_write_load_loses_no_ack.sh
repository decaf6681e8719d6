#!/usr/bin/env bash
# Rule CRASH-1: under a write-heavy load (three clients sending `flow run` with unique client
# requests, each retried until acknowledged, and one client creating flows), a SIGKILL at a
# random moment of any process - the controller (then `cmkctl up` again on the same run dir),
# the shared worker, a dedicated worker, the gateway while HTTP-action flows run, the firewall
# whose endpoint those actions call - loses no acknowledged run or flow and applies none twice:
# afterwards every acknowledged run is listed by the cluster, its client request is held by
# exactly one run across the environment's partitions (the acknowledged one), no run is left
# Running, every acknowledged flow is stored once, and every partition file passes
# `PRAGMA integrity_check`.
# The rounds are random; CRASH_SEED=N replays one (the seed is printed first); CRASH_ROUNDS=N
# kills every process N times (default once).
. "$(dirname "$0")/lib.sh"

CRASH_SEED=${CRASH_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
echo "CRASH_SEED=$CRASH_SEED"
RANDOM=$CRASH_SEED

UP=(up --set egress.timeout=3s)
cmkctl "${UP[@]}" >/dev/null
setup_cmk contoso unitedstates
shared=$(new_env Shared contoso unitedstates production --managed)
ded=$(new_env Dedicated contoso unitedstates production --managed)
for e in "$shared" "$ded"; do
    cmkctl flow create --env "$e" --file "$SRC/configs/flows/manual-compose.json" --id compose >/dev/null
    cmkctl flow create --env "$e" --file "$SRC/configs/flows/http-action.json" --id http >/dev/null
done
cmkctl policy add-env "$POLICY" "$ded" >/dev/null || fail "policy add-env"
[ "$(env_field "$ded" infrastructure)" = dedicated ] || fail "$ded is not dedicated: $(cmkctl env cmk-status "$ded")"

# pid_of NAME, state_of NAME - from the status table (no python: the clients need the cores)
pid_of() { cmkctl status | awk -v n="$1" '$1 == n { print $3 }'; }
state_of() { cmkctl status | awk -v n="$1" '$1 == n { print $4 }'; }

# client N - runs with client requests cN-1, cN-2, ...; each sent again (same client request)
# until the answer is an ended run; one line "env flow creq run" per acknowledged run in
# $RUN/acked.N, one per client request never acknowledged in $RUN/gaveup.N
client() {
    local n=0 env flow creq out="" rid try
    while [ ! -e "$RUN/stop" ] && [ -d "$RUN" ]; do
        n=$((n + 1)); creq="c$1-$n"
        if (( n % 2 )); then env=$shared; else env=$ded; fi
        if (( n % 3 == 0 )); then flow=http; else flow=compose; fi
        for ((try = 0; ; try++)); do
            if (( try == 15 )); then echo "$env $flow $creq $out" >>"$RUN/gaveup.$1"; break; fi
            if out=$(cmkctl --timeout 5s flow run --env "$env" "$flow" --client-req "$creq" \
                     --body "{\"text\":\"$creq\"}" --json 2>>"$RUN/client.$1.err"); then
                [[ $out =~ \"run\":[[:space:]]*\"([^\"]+)\" ]] || { echo "no run id: $out" >&2; exit 1; }
                rid=${BASH_REMATCH[1]}
                if ! [[ $out =~ \"status\":[[:space:]]*\"Running\" ]]; then
                    echo "$env $flow $creq $rid" >>"$RUN/acked.$1"
                    break
                fi
            fi
            sleep 0.3
        done
    done
}
# flow_client - creates flows f-1, f-2, ... (alternating environments), each sent again until
# acknowledged ("has a flow ... already" means an earlier attempt was applied); one line
# "env flow" per acknowledged flow in $RUN/flows.acked, one per flow given up in $RUN/gaveup.f
flow_client() {
    local n=0 env id out try
    while [ ! -e "$RUN/stop" ] && [ -d "$RUN" ]; do
        n=$((n + 1)); id="f-$n"
        if (( n % 2 )); then env=$shared; else env=$ded; fi
        for ((try = 0; ; try++)); do
            if (( try == 15 )); then echo "$env $id $out" >>"$RUN/gaveup.f"; break; fi
            if out=$(cmkctl --timeout 5s flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" \
                     --id "$id" 2>&1) || [[ $out == *"has a flow '$id' already"* ]]; then
                echo "$env $id" >>"$RUN/flows.acked"
                break
            fi
            sleep 0.3
        done
    done
}
clients=()
# the client loops go with the test, whatever its outcome (then lib.sh's cleanup)
trap 'rc=$?; set +e; touch "$RUN/stop" 2>/dev/null; kill "${clients[@]}" 2>/dev/null; wait; (exit $rc); cleanup' EXIT
: >"$RUN/flows.acked"; : >"$RUN/gaveup.f"
flow_client & clients+=($!)
for c in 1 2 3; do : >"$RUN/acked.$c"; : >"$RUN/gaveup.$c"; client $c & clients+=($!); done

# no_daemons - the cluster's processes are gone (the clients' cmkctl may still wait)
no_daemons() { ! pgrep -f -- "/cmk-[a-z]+ --run-dir $RUN( |\$)" >/dev/null; }
acked() { cat "$RUN"/acked.* | wc -l; }
grow_to() { [ "$(acked)" -ge "$1" ]; }

# every process is killed once, in a seeded order, at a seeded moment of the load
# (CRASH_ROUNDS=N: N passes over the processes)
victims=()
for ((r = 0; r < ${CRASH_ROUNDS:-1}; r++)); do victims+=(controller worker-shared "worker-$ded" gateway firewall); done
for ((i = ${#victims[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1))); t=${victims[i]}; victims[i]=${victims[j]}; victims[j]=$t
done
round=0
for victim in "${victims[@]}"; do
    round=$((round + 1))
    want=$(( $(acked) + 5 + RANDOM % 20 ))
    wait_until 60 grow_to "$want" || fail "round $round: the load does not progress ($(acked) acknowledged)"
    sleep "0.$((RANDOM % 10))"
    pid=$(pid_of "$victim")
    [ -n "$pid" ] && [ "$pid" != 0 ] || fail "round $round: no $victim to kill"
    echo "round $round: SIGKILL $victim (pid $pid) after $(acked) acknowledged runs"
    kill -9 "$pid"
    if [ "$victim" = controller ]; then
        wait_until 15 no_daemons || fail "processes left after the controller died: $(procs_of_run)"
        cmkctl "${UP[@]}" >/dev/null || fail "cmkctl up again after the controller's SIGKILL"
    else
        back() { [ "$(state_of "$victim")" = ready ] && [ "$(pid_of "$victim")" != "$pid" ]; }
        wait_until 30 back || fail "round $round: $victim not restarted: $(cmkctl status)"
    fi
done
want=$(( $(acked) + 10 ))
wait_until 60 grow_to "$want" || fail "the load does not progress after the last kill"
touch "$RUN/stop"
wait "${clients[@]}"
total=$(acked)
[ -z "$(cat "$RUN"/gaveup.*)" ] || fail "client requests never acknowledged once the cluster was back: $(cat "$RUN"/gaveup.*)"
echo "$total runs acknowledged over ${#victims[@]} kills"

# every acknowledged run is listed by the cluster, ended, and its record reads back
for e in "$shared" "$ded"; do
    for f in compose http; do
        cmkctl run list --env "$e" --flow "$f" --json >"$RUN/list.$e.$f.json" || fail "run list $e $f"
    done
done
python3 - "$RUN" <<'PY' || fail "an acknowledged run is missing from run list or not ended"
import glob, json, sys
run = sys.argv[1]
listed = {}
for p in glob.glob(run + "/list.*.json"):
    _, e, f, _ = p.rsplit("/", 1)[1].split(".")
    for it in json.load(open(p))["items"]:
        listed[it["run"]] = (e, it["flow"], it["status"])
bad = []
for p in glob.glob(run + "/acked.*"):
    for line in open(p):
        env, flow, creq, rid = line.split()
        got = listed.get(rid)
        if got is None or got[:2] != (env, flow) or got[2] == "Running":
            bad.append((creq, rid, got))
assert not bad, bad[:10]
PY
sample=$(shuf -n 5 --random-source=<(yes "$CRASH_SEED") "$RUN"/acked.1 2>/dev/null || head -n 5 "$RUN/acked.1")
while read -r e f creq rid; do
    out=$(cmkctl run show --env "$e" "$rid" --json) || fail "run show $rid ($creq): $out"
    [ "$(json_get "$out" 'j["trigger"]["body"]["text"]')" = "$creq" ] || fail "run $rid lost its trigger: $out"
done <<<"$sample"
ok "every one of $total acknowledged runs is listed, ended and readable"

# every acknowledged flow is listed by the cluster
nf=$(wc -l <"$RUN/flows.acked")
[ "$nf" -gt 0 ] || fail "no flow was created"
for e in "$shared" "$ded"; do cmkctl flow list --env "$e" --json >"$RUN/flows.$e.json" || fail "flow list $e"; done
python3 - "$RUN" <<'PY' || fail "an acknowledged flow is missing from flow list"
import json, sys
run = sys.argv[1]
missing = []
for line in open(run + "/flows.acked"):
    env, fid = line.split()
    ids = [f["id"] for f in json.load(open("%s/flows.%s.json" % (run, env)))["items"]]
    if ids.count(fid) != 1:
        missing.append((env, fid, ids.count(fid)))
assert not missing, missing[:10]
PY
ok "every one of $nf acknowledged flow creations is listed once"

# no client request is held by two runs, across the shared and dedicated partitions
cmkctl down >/dev/null
python3 - "$RUN" <<'PY' || fail "a run is lost or applied twice in the partitions"
import glob, sqlite3, sys
run = sys.argv[1]
rows = {}   # (env, flow, keyed hash of the client request id) -> run ids
by_id = {}  # run id -> [(env, flow)] (client request ids are stored as keyed hashes, SEC-SEAL-1)
for db in glob.glob(run + "/partitions/*/*/partition.db"):
    env = db.split("/")[-3]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    for rid, flow, creq in con.execute("SELECT id, flow_id, client_req FROM runs WHERE client_req <> ''"):
        rows.setdefault((env, flow, creq), []).append(rid)
        by_id.setdefault(rid, []).append((env, flow))
    con.close()
running = []
for db in glob.glob(run + "/partitions/*/*/partition.db"):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    running += con.execute("SELECT id, flow_id, client_req FROM runs WHERE status = 'Running'").fetchall()
    con.close()
assert not running, "runs left Running after every request was answered: %s" % running[:5]
twice = {k: v for k, v in rows.items() if len(v) > 1}
assert not twice, "client requests applied twice: %s" % list(twice.items())[:5]
bad = []
for p in glob.glob(run + "/acked.*"):
    for line in open(p):
        env, flow, creq, rid = line.split()
        if by_id.get(rid) != [(env, flow)]:
            bad.append((env, flow, creq, rid, by_id.get(rid)))
assert not bad, "acknowledged runs not stored exactly once: %s" % bad[:5]
flows = {}
for db in glob.glob(run + "/partitions/*/*/partition.db"):
    env = db.split("/")[-3]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    for (fid,) in con.execute("SELECT id FROM flows"):
        flows[(env, fid)] = flows.get((env, fid), 0) + 1
    con.close()
bad = [l.split() for l in open(run + "/flows.acked") if flows.get(tuple(l.split())) != 1]
assert not bad, "acknowledged flows not stored exactly once: %s" % bad[:5]
PY
n=$(integrity_checked)
[ "$n" -ge 2 ] || fail "only $n partition files"
ok "no client request applied twice; $n partition files pass integrity_check (CRASH_SEED=$CRASH_SEED)"
