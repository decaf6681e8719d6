#!/usr/bin/env bash
# Rule CLI-4: cmkctl tells a stopped cluster from a slow one at once. No controller holds
# <run>/controller.lock (never started, stopped with `down`, or killed): every command says
# "no cluster is running in D (start one with: cmkctl up --run-dir D)" with exit 3 in well
# under the --timeout (asserted with a generous 2 s: the only timing assertion of the suite).
# A controller that is alive but does not answer (SIGSTOP) is waited for, and reported as no
# answer. `down` leaves no socket, lock or pid file behind.
. "$(dirname "$0")/lib.sh"

# dead_answer - a command on a cluster that is not running: the message, exit 3, under 2 s
# (the best of three tries, so that a loaded machine's scheduling is not taken for waiting:
# waiting for an answer would take the whole 15 s --timeout every time)
dead_answer() {
    local t0 t1 out rc best=999999
    for try in 1 2 3; do
        rc=0
        t0=$(date +%s%N)
        out=$("$BIN/cmkctl" --run-dir "$RUN" --timeout 15s "$@" 2>&1) || rc=$?
        t1=$(date +%s%N)
        [ "$rc" = 3 ] || fail "cmkctl $* on a stopped cluster exited $rc (want 3): $out"
        [ "$out" = "cmkctl: no cluster is running in $RUN (start one with: cmkctl up --run-dir $RUN)" ] \
            || fail "cmkctl $* on a stopped cluster: $out"
        [ $(( (t1 - t0) / 1000000 )) -lt $best ] && best=$(( (t1 - t0) / 1000000 ))
        [ $best -lt 2000 ] && break
    done
    [ $best -lt 2000 ] || fail "cmkctl $* took $best ms at best to say no cluster runs"
}

dead_answer status
ok "never started: answered at once"

cmkctl up >/dev/null
cmkctl status >/dev/null || fail "status of a running cluster"
cmkctl down >/dev/null
dead_answer status
dead_answer env list
left=$(find "$RUN" -maxdepth 2 \( -type s -o -name controller.lock -o -name controller.pid \) | tr '\n' ' ')
[ -z "$left" ] || fail "down left behind: $left"
ok "after down: answered at once; no socket, lock or pid file left"

cmkctl up >/dev/null
pid=$(cat "$RUN/controller.pid")
kill -9 "$pid"
wait_until 10 bash -c "! kill -0 $pid 2>/dev/null" || fail "controller $pid did not die"
dead_answer status
dead_answer tenant list
ok "controller killed: answered at once (the lock died with it), though its files remain"
cmkctl down >/dev/null
left=$(find "$RUN" -maxdepth 2 \( -type s -o -name controller.lock -o -name controller.pid \) | tr '\n' ' ')
[ -z "$left" ] || fail "down after a crash left behind: $left"
ok "down after a crash cleans what the dead cluster left"

# a slow (stopped) controller is alive: it is waited for, and it is not "no cluster"
cmkctl up >/dev/null
pid=$(cat "$RUN/controller.pid")
kill -STOP "$pid"
rc=0; out=$(cmkctl --timeout 1s status 2>&1) || rc=$?
kill -CONT "$pid"
[ "$rc" = 3 ] || fail "a stopped controller: exit $rc: $out"
grep -q "no answer from the controller" <<<"$out" || fail "a stopped controller was called dead: $out"
cmkctl status >/dev/null || fail "the controller did not come back after SIGCONT"
ok "a controller that is alive but slow is waited for and reported as not answering"
