# lib.sh - shared helpers of the integration tests: a temporary run dir, the real binaries,
# cleanup that leaves no process behind, and small assertions. Sourced, not run.
set -euo pipefail

BIN="${CMK_BIN_DIR:?run through ctest (CMK_BIN_DIR unset)}"
SRC="${CMK_SOURCE_DIR:?run through ctest (CMK_SOURCE_DIR unset)}"
TEST_NAME="$(basename "$0" .sh)"
# short path: ipc:// socket paths must stay under ~100 characters
RUN="$(mktemp -d /tmp/cmkit.XXXXXX)"
export CMK_RUN_DIR="$RUN"

cleanup() {
    local rc=$? j
    # the test's own background jobs first (a `( cmkctl ... > $RUN/x.out; echo $? > $RUN/x.rc ) &`
    # would write into the run dir while it is removed)
    for j in $(jobs -p); do kill -9 "$j" 2>/dev/null || true; done
    "$BIN/cmkctl" down --run-dir "$RUN" --timeout 10s >/dev/null 2>&1 || true
    pkill -9 -f -- "--run-dir $RUN" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then  # 77: skipped (SKIP_RETURN_CODE), said why
        echo "---- $TEST_NAME failed; logs of $RUN:"
        for f in "$RUN"/logs/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done
    fi
    # (a process of the cluster still exiting can write a file while rm walks the tree: again)
    local i
    for i in 1 2 3; do
        rm -rf "$RUN" 2>/dev/null && break
        sleep 0.3
        pkill -9 -f -- "--run-dir $RUN" 2>/dev/null || true
    done
    [ ! -e "$RUN" ] || echo "note: $RUN could not be removed: $(ls -A "$RUN" | head -5 | tr '\n' ' ')" >&2
    exit $rc
}
trap cleanup EXIT
# a test killed from outside (ctest's timeout: SIGKILL, no EXIT trap) leaves no cluster behind
# to load the machine for the tests after it: a sentinel outside the test's process tree
# cleans up once the test's shell is gone (a no-op after a normal exit)
( setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done
                  [ -d "$3" ] || exit 0
                  "$2/cmkctl" down --run-dir "$3" --timeout 5s; pkill -9 -f -- "--run-dir $3"; rm -rf "$3"' \
      sentinel "$$" "$BIN" "$RUN" </dev/null >/dev/null 2>&1 & )

cmkctl() { "$BIN/cmkctl" --run-dir "$RUN" "$@"; }

fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }

# qgrep ARGS... - grep for the end of a pipeline: it reads all of its input before it answers
# (a writer piped into `grep -q` can die of SIGPIPE once grep has its match, and pipefail
# turns that into a failure)
qgrep() { local in; in=$(cat); grep "$@" <<<"$in"; }
ok() { echo "ok: $*"; }

# json_get JSON EXPR - evaluate a python expression on parsed JSON `j`
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($2)" <<<"$1"; }

# wait_until TIMEOUT_S CMD... - poll until CMD succeeds
wait_until() {
    local limit=$(( $1 * 10 )); shift
    for ((i = 0; i < limit; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

# procs_of_run - pids of processes started for this run dir
procs_of_run() { pgrep -f -- "--run-dir $RUN" || true; }

# setup_cmk TENANT REGION - a tenant, a vault with purge protection, an RSA key, an enabled
# policy whose identity has get/wrapKey/unwrapKey. Sets POLICY, IDENTITY, VAULT, KEY.
setup_cmk() {
    local tenant=$1 region=$2
    VAULT="$tenant-kv"; KEY=cmk; POLICY="$tenant-cmk"
    cmkctl tenant create "$tenant" >/dev/null
    cmkctl vault create "$VAULT" --tenant "$tenant" --region "$region" --purge-protection >/dev/null
    cmkctl key create "$VAULT" "$KEY" >/dev/null
    IDENTITY=$(json_get "$(cmkctl policy create "$POLICY" --tenant "$tenant" --vault "$VAULT" --key "$KEY" --region "$region" --json)" 'j["identity"]')
    cmkctl vault grant "$VAULT" --principal "$IDENTITY" --perms get,wrapKey,unwrapKey >/dev/null
    cmkctl policy validate "$POLICY" >/dev/null
}

# new_env NAME TENANT REGION [TYPE] [--managed] - prints the environment id
new_env() {
    local name=$1 tenant=$2 region=$3 type=${4:-production}; shift 3; [ $# -gt 0 ] && shift
    json_get "$(cmkctl env create --tenant "$tenant" --name "$name" --region "$region" --type "$type" "$@" --json)" 'j["id"]'
}

# env_field ENV FIELD - one field of `env cmk-status`
env_field() { json_get "$(cmkctl env cmk-status "$1" --json)" "j.get('$2')"; }

# no_procs - true once no process of this run dir is left (for wait_until)
no_procs() { [ -z "$(procs_of_run)" ]; }

# integrity_checked - controller.db and every partition file pass PRAGMA integrity_check (fails the
# test otherwise); prints how many partition files were checked
integrity_checked() {
    local r db n=0
    r=$(sqlite3 "$RUN/controller.db" 'PRAGMA integrity_check' 2>&1)
    [ "$r" = ok ] || fail "integrity_check of controller.db: $r"
    for db in "$RUN"/partitions/*/*/partition.db; do
        r=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)
        [ "$r" = ok ] || fail "integrity_check of $db: $r"
        n=$((n + 1))
    done
    echo "$n"
}

# add_raw_identity NAME ROLE [ENVS_JSON] - a CURVE key keys/NAME.key and an authorized.json entry
# with ROLE (what a stolen or extra peer key looks like), for tests that drive tests/tools/cmk_raw
add_raw_identity() {
    "$BIN/cmkctl" curve-keygen "$RUN/keys/$1.key" >/dev/null
    python3 - "$RUN/keys" "$1" "$2" "${3:-[]}" <<'PY'
import json, sys, os
d, name, role, envs = sys.argv[1:5]
pub = open(os.path.join(d, name + ".pub")).read().strip()
a = json.load(open(os.path.join(d, "public", "authorized.json")))
a.append({"key": pub, "name": name, "role": role, "envs": json.loads(envs), "tenants": []})
tmp = os.path.join(d, "public", "authorized.json.tmp")
json.dump(a, open(tmp, "w"), indent=1)
os.rename(tmp, os.path.join(d, "public", "authorized.json"))
PY
}

# cmk_raw ARGS... - the raw wire-protocol client (tests/tools/cmk_raw.c) on this run dir
cmk_raw() { "$BIN/cmk_raw" --run-dir "$RUN" "$@"; }

# child_pid NAME - the pid `cmkctl status` shows for a supervised process
child_pid() {
    json_get "$(cmkctl status --json)" "[p['pid'] for p in (j['processes'] if isinstance(j, dict) else j) if p['name'] == '$1'][0]"
}

# ---- least privilege (issue #20): what a process keeps, seen from /proc and from inside ----

# least_privilege_up [cmkctl up args] - a cluster whose processes probe their own confinement
# (confine.probe) once confined; partitions/probe-other-env is the partition none of them owns
least_privilege_up() {
    mkdir -p "$RUN/partitions/probe-other-env"
    cmkctl up --set confine.probe=true "$@" >/dev/null
}

# pid_of NAME - pid of a cluster process by name (controller, worker-shared, gateway, ...)
pid_of() {
    if [ "$1" = controller ]; then head -1 "$RUN/controller.pid"; else child_pid "$1"; fi
}

# kept_uid0 - 1 when the cluster kept uid 0 (started as root with cluster.user root or "", or
# from a tree cluster.user cannot reach: confine.kept_root)
kept_uid0() {
    [ "$(id -u)" = 0 ] || { echo 0; return; }
    if grep -q "event=confine.kept_root" "$RUN/logs/controller.log" 2>/dev/null ||
       grep -q "event=confine role=controller uid=0 " "$RUN/logs/controller.log" 2>/dev/null; then echo 1; else echo 0; fi
}

# assert_least_privilege_status PID [PERMITTED] - /proc/PID/status: not root (the cluster user
# when the test runs as root, our own uid otherwise; uid 0 where kept_uid0), no effective
# capability, no permitted, inheritable or ambient one but PERMITTED (a hex mask, default 0),
# a bounding set within PERMITTED when started as root, a seccomp filter, no_new_privs
assert_least_privilege_status() {
    local st="/proc/$1/status" keep=${2:-0} want cap v
    [ -r "$st" ] || fail "no process $1"
    if [ "$(id -u)" != 0 ]; then want=$(id -u)
    elif [ "$(kept_uid0)" = 1 ]; then
        echo "note: uid 0 kept ($(grep -m1 -o 'reason="[^"]*"' "$RUN/logs/controller.log" || echo "cluster.user root")): capabilities dropped"
        want=0
    else want=$(id -u nobody); fi
    read -r _ ruid euid suid _ < <(grep '^Uid:' "$st")
    [ "$ruid $euid $suid" = "$want $want $want" ] || fail "pid $1 runs as uid $ruid/$euid/$suid, not $want"
    grep -q "^CapEff:[[:space:]]*0000000000000000" "$st" || fail "pid $1 keeps effective capabilities: $(grep "^CapEff:" "$st")"
    for cap in CapInh CapAmb; do
        grep -q "^$cap:[[:space:]]*0000000000000000" "$st" || fail "pid $1 keeps capabilities: $(grep "^$cap:" "$st")"
    done
    v=$(awk '/^CapPrm:/ {print $2}' "$st")
    [ $((0x$v & ~keep)) = 0 ] || fail "pid $1 keeps permitted capabilities: CapPrm $v (allowed: $keep)"
    if [ "$(id -u)" = 0 ]; then
        v=$(awk '/^CapBnd:/ {print $2}' "$st")
        [ $((0x$v & ~keep)) = 0 ] || fail "pid $1 keeps a bounding set: CapBnd $v (allowed: $keep)"
    fi
    grep -q "^NoNewPrivs:[[:space:]]*1" "$st" || fail "pid $1 has no no_new_privs"
    grep -q "^Seccomp:[[:space:]]*2" "$st" || fail "pid $1 has no seccomp filter: $(grep '^Seccomp:' "$st")"
}

# probe_line LOG - the confine.probe line a process wrote (waits for it)
probe_line() {
    wait_until 20 grep -q "event=confine.probe" "$1" || fail "no confine.probe line in $1"
    grep -m1 "event=confine.probe" "$1"
}

# expect_probe LINE KIND KEY=VALUE... - each outcome as expected; KIND landlock: skipped (and
# said) where Landlock is not applied - a sanitizer build or a kernel without it
expect_probe() {
    local line=$1 kind=$2 kv; shift 2
    if [ "$kind" = landlock ] && { [ -n "${ASAN_OPTIONS:-}" ] || ! grep -q "landlock_abi=[1-9]" <<<"$(grep -h "event=confine " "$RUN"/logs/*.log | head -1)"; }; then
        echo "note: Landlock not applied here (sanitizer build or kernel without it): not checking $*"
        return 0
    fi
    for kv in "$@"; do
        grep -q " ${kv}\( \|\$\)" <<<"$line" || fail "expected $kv: $line"
    done
}
