#!/usr/bin/env bash
# Rule AUD-2: the audit chain's head is anchored outside controller.db (keys/audit.head, an
# HMAC under keys/audit-head.key over the newest seq and hash, rewritten atomically by every
# append). Deleting the newest audit rows and rewriting audit_head in controller.db so that the
# chain in the database is self-consistent is reported by `cmkctl audit verify`; so is an
# altered head file.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (make deps installs it)"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
cmkctl key create "$VAULT" second >/dev/null
cmkctl key disable "$VAULT" second >/dev/null
[ -f "$RUN/keys/audit.head" ] || fail "no keys/audit.head"
[ "$(stat -c %a "$RUN/keys/audit-head.key")" = 600 ] || fail "keys/audit-head.key is not 0600"
cmkctl audit verify | qgrep -q "intact" || fail "fresh log not intact"
cmkctl down >/dev/null

n=$(sqlite3 "$RUN/controller.db" "SELECT max(seq) FROM audit_log")
[ "$n" -gt 3 ] || fail "too few audit entries ($n) to cut"
cp "$RUN/controller.db" "$RUN/pristine.db"
cp "$RUN/keys/audit.head" "$RUN/pristine.head"
# cut the newest two entries and make the database's own head agree with what is left
keep=$((n - 2))
sqlite3 "$RUN/controller.db" "DELETE FROM audit_log WHERE seq > $keep;
  UPDATE audit_head SET seq = $keep, hash = (SELECT hash FROM audit_log WHERE seq = $keep) WHERE id = 1"
cmkctl up >/dev/null
set +e; out=$(cmkctl audit verify); rc=$?; set -e
[ $rc -ne 0 ] && grep -q "TAMPERED" <<<"$out" && grep -q "keys/audit.head" <<<"$out" ||
    fail "a cut tail with a rewritten audit_head was not reported: $out"
ok "AUD-2 deleting the newest entries and rewriting audit_head is reported by audit verify"
cmkctl down >/dev/null

# the head file cannot be forged without its key
cp "$RUN/pristine.db" "$RUN/controller.db"; rm -f "$RUN/controller.db-wal" "$RUN/controller.db-shm"
python3 - "$RUN/pristine.head" "$RUN/keys/audit.head" "$keep" <<'PY'
import sys
dom, seq, h, mac = open(sys.argv[1]).read().split()
open(sys.argv[2], "w").write(f"{dom} {sys.argv[3]} {h} {mac}\n")
PY
cmkctl up >/dev/null
set +e; out=$(cmkctl audit verify); rc=$?; set -e
[ $rc -ne 0 ] && grep -q "altered" <<<"$out" || fail "an altered head file was not reported: $out"
ok "AUD-2 an altered keys/audit.head is reported"
