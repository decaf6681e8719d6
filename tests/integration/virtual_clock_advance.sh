#!/usr/bin/env bash
# Rule CLOCK-1: with clock.mode=virtual, `cmkctl clock advance` moves the controller's clock
# and the offset survives a restart; a real clock refuses to be advanced.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
before=$(json_get "$(cmkctl clock --json)" 'j["now_ms"]')
after=$(json_get "$(cmkctl clock advance 72h --json)" 'j["now_ms"]')
python3 -c "import sys; d=$after-$before; sys.exit(0 if 72*3600e3 <= d < 72*3600e3+60e3 else 1)" || fail "advanced by $((after-before)) ms"
out=$(cmkctl clock advance soon 2>&1 || true)
grep -q "bad duration" <<<"$out" || fail "bad duration accepted: $out"
cmkctl down >/dev/null
cmkctl up --set clock.mode=virtual >/dev/null
[ "$(json_get "$(cmkctl clock --json)" 'j["offset"]')" = 3d ] || fail "offset lost on restart"
cmkctl down >/dev/null
ok "virtual clock"

cmkctl up >/dev/null
out=$(cmkctl clock advance 1h 2>&1 || true)
grep -q "the clock is real" <<<"$out" || fail "real clock advanced: $out"
ok "real clock refuses"
