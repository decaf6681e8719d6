#!/usr/bin/env bash
# Rule AUD-3: an operation that must be audited is refused with a clear error when its audit
# record cannot be written. The run dir lives on a small tmpfs (a private mount namespace: as
# root `unshare -m`, otherwise a user namespace `unshare -Urm`); once it is full, `key.wrap`
# and a worker's `dek.get` are refused naming the audit log, and work again once there is room.
if [ -z "${CMK_AUDIT_NS:-}" ]; then
    if [ "$(id -u)" = 0 ]; then exec env CMK_AUDIT_NS=1 unshare -m bash "$0"; fi
    if unshare -Urm true 2>/dev/null; then exec env CMK_AUDIT_NS=1 unshare -Urm bash "$0"; fi
    echo "skip: $(basename "$0" .sh): not root and no user namespaces (unshare -Urm) to mount a small tmpfs"
    exit 0
fi
. "$(dirname "$0")/lib.sh"
OUTER=$RUN
RUN=$OUTER/fs
export CMK_RUN_DIR=$RUN
mkdir "$RUN"
mount -t tmpfs -o size=32m,mode=0700 tmpfs "$RUN" || { echo "skip: cannot mount a tmpfs here"; rm -rf "$OUTER"; exit 0; }
ns_cleanup() {
    local rc=$?
    "$BIN/cmkctl" down --run-dir "$RUN" --timeout 10s >/dev/null 2>&1 || true
    pkill -9 -f -- "--run-dir $RUN" 2>/dev/null || true
    if [ $rc -ne 0 ]; then
        echo "---- $TEST_NAME failed; logs of $RUN:"
        for f in "$RUN"/logs/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done
    fi
    umount -l "$RUN" 2>/dev/null || true
    rm -rf "$OUTER"
    exit $rc
}
trap ns_cleanup EXIT

cmkctl up --set supervisor.firewall=false >/dev/null
setup_cmk contoso unitedstates
env=$(new_env A contoso unitedstates)
add_raw_identity rogue-w worker '["*"]'
value=$(head -c 32 /dev/urandom | base64)
cmkctl key wrap "$VAULT" "$KEY" --value "$value" >/dev/null || fail "key wrap failed with room on disk"
dek() { cmk_raw --key "$RUN/keys/rogue-w.key" ready worker 4242 idle 600 \
        send dek.get "{\"env\":\"$env\",\"purpose\":\"data\"}" - expect "$1" 8000; }
dek reply >"$RUN/dek1.out" 2>&1 || fail "dek.get failed with room on disk: $(cat "$RUN/dek1.out")"

# fill the file system to the last page (again before each operation: SQLite may give space
# back, e.g. by truncating its WAL)
n=0
fill() { n=$((n + 1)); dd if=/dev/zero of="$RUN/fill$n" bs=1M 2>/dev/null || true
         dd if=/dev/zero of="$RUN/fill$n.b" bs=4k 2>/dev/null || true; }
fill
set +e; out=$(cmkctl key wrap "$VAULT" "$KEY" --value "$value" 2>&1); rc=$?; set -e
[ $rc -ne 0 ] || fail "key.wrap succeeded although its audit record could not be written: $out"
grep -qi "audit" <<<"$out" || fail "the refusal does not say why: $out"
ok "AUD-3 key.wrap is refused when its audit record cannot be written: $out"
fill
out=$(dek error 2>&1) || fail "dek.get was not refused on a full disk: $out"
grep "^recv error" <<<"$out" | qgrep -qi "audit" || fail "the dek.get refusal does not say why: $out"
if grep -q "^recv reply" <<<"$out"; then fail "a data key was handed out unaudited: $out"; fi
ok "AUD-3 dek.get is refused when its audit record cannot be written"

rm -f "$RUN"/fill*
cmkctl key wrap "$VAULT" "$KEY" --value "$value" >/dev/null || fail "key wrap still refused once there is room"
cmkctl audit verify | qgrep -q intact || fail "the audit log is not intact after the full disk: $(cmkctl audit verify)"
ok "AUD-3 with room again the operations are audited and the chain is intact"
