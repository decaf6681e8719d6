#!/usr/bin/env bash
# Rule AUD-1: the audit log records every admin operation and every automatic one; its entries
# are hash-chained and `cmkctl audit verify` detects a changed or removed entry.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (make deps installs it)"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env" >/dev/null
cmkctl key disable "$VAULT" "$KEY" >/dev/null   # an automatic lock, audited as "system"
cmkctl audit list --operation policy.link | qgrep -q "$env" || fail "admin operation not audited"
cmkctl audit list --principal system | qgrep -q env.lock || fail "automatic operation not audited"
cmkctl audit verify | qgrep -q "intact" || fail "fresh log not intact"
cmkctl down >/dev/null

cp "$RUN/controller.db" "$RUN/pristine.db"
sqlite3 "$RUN/controller.db" "UPDATE audit_log SET principal = 'mallory' WHERE seq = 3"
cmkctl up >/dev/null
set +e; out=$(cmkctl audit verify); rc=$?; set -e
[ $rc -ne 0 ] && grep -q "TAMPERED at entry 3" <<<"$out" || fail "changed entry not detected: $out"
cmkctl down >/dev/null
ok "changed entry detected"

cp "$RUN/pristine.db" "$RUN/controller.db"; rm -f "$RUN/controller.db-wal" "$RUN/controller.db-shm"
sqlite3 "$RUN/controller.db" "DELETE FROM audit_log WHERE seq = 5"
cmkctl up >/dev/null
set +e; out=$(cmkctl audit verify); rc=$?; set -e
[ $rc -ne 0 ] && grep -q "TAMPERED" <<<"$out" || fail "removed entry not detected: $out"
ok "removed entry detected"
