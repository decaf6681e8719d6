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
    local rc=$?
    "$BIN/cmkctl" down --run-dir "$RUN" --timeout 10s >/dev/null 2>&1 || true
    pkill -9 -f -- "--run-dir $RUN" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then  # 77: skipped (SKIP_RETURN_CODE), said why
        echo "---- $TEST_NAME failed; logs of $RUN:"
        for f in "$RUN"/logs/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done
    fi
    rm -rf "$RUN"
    exit $rc
}
trap cleanup EXIT

cmkctl() { "$BIN/cmkctl" --run-dir "$RUN" "$@"; }

fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
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
a = json.load(open(os.path.join(d, "authorized.json")))
a.append({"key": pub, "name": name, "role": role, "envs": json.loads(envs), "tenants": []})
tmp = os.path.join(d, "authorized.json.tmp")
json.dump(a, open(tmp, "w"), indent=1)
os.rename(tmp, os.path.join(d, "authorized.json"))
PY
}

# cmk_raw ARGS... - the raw wire-protocol client (tests/tools/cmk_raw.c) on this run dir
cmk_raw() { "$BIN/cmk_raw" --run-dir "$RUN" "$@"; }

# child_pid NAME - the pid `cmkctl status` shows for a supervised process
child_pid() {
    json_get "$(cmkctl status --json)" "[p['pid'] for p in (j['processes'] if isinstance(j, dict) else j) if p['name'] == '$1'][0]"
}
