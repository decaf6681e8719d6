#!/usr/bin/env bash
# Rule SKEL-4: every daemon starts and stops clean under valgrind: no leaks, no invalid reads.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (make deps installs it)"

vg="valgrind --error-exitcode=99 --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite --track-fds=no --suppressions=$SRC/tests/valgrind.supp --log-file=$RUN/vg.%p.log"
export CMK_CONTROLLER_WRAPPER="$vg"
# valgrind cannot follow OpenSSL's AES-NI/PCLMUL assembly and takes its ciphertext for
# uninitialised memory (then flags SQLite for writing it); use OpenSSL's portable code paths
export OPENSSL_ia32cap="~0x200000200000000"
mkdir -p "$RUN"
cmkctl up --set "supervisor.wrapper=$vg" --set heartbeat.interval=1s --set cluster.start_timeout=90s \
    --set supervisor.stop_timeout=30s >/dev/null
cmkctl --timeout 30s ping | grep -c pong | qgrep -q 5 || fail "not every process answered under valgrind"
# the console's poller and HTTP threads run too: one snapshot read through them
snapshot() { curl -s -m 30 -H "Authorization: Bearer $(cat "$RUN/console.token")" "http://$(cat "$RUN/console.http")/api/world" | qgrep -q '"processes"'; }
wait_until 60 snapshot || fail "the console under valgrind did not serve a snapshot"
cmkctl --timeout 60s down >/dev/null
wait_until 60 no_procs || fail "processes left: $(procs_of_run)"
# Every process that exited reports a summary; helper processes killed on purpose (the
# firewall's namespace holder) end without one and are not counted.
n=0
for f in "$RUN"/vg.*.log; do
    grep -q "ERROR SUMMARY" "$f" || continue
    grep -q "ERROR SUMMARY: 0 errors" "$f" || { cat "$f"; fail "valgrind errors in $f"; }
    if grep -q "definitely lost: [1-9]" "$f"; then cat "$f"; fail "leak in $f"; fi
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "expected a clean valgrind summary from each of the 5 daemons, found $n"
! grep -q "status=99" "$RUN/logs/controller.log" || fail "a child exited with valgrind's error status"
ok "$n processes clean under valgrind"
