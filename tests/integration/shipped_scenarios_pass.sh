#!/usr/bin/env bash
# Rule SCN-1: every shipped scenario (configs/scenarios/*.json, `make run` runs the default one)
# passes against a fresh cluster, and leaves no process behind.
. "$(dirname "$0")/lib.sh"
cd "$SRC"
for sc in configs/scenarios/*.json; do
    rm -rf "$RUN"; mkdir -p "$RUN"
    out=$("$BIN/cmkctl" scenario run "$sc" --run-dir "$RUN" 2>&1) || { echo "$out" | tail -30; fail "$sc failed"; }
    grep -q "all .* steps ok" <<<"$out" || fail "$sc: no success line"
    wait_until 10 no_procs || fail "$sc left processes: $(procs_of_run)"
    ok "$sc"
done
