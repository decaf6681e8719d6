#!/usr/bin/env bash
# LOG-2 (issues #15, #20): a confined process still rotates its own log. Past log.max_size a
# daemon renames its log NAME.log.1 and starts a new one (common/log.c); its Landlock layer
# grants <run>/logs for that. Under an HTTP-action load the confined gateway (one line per
# outbound decision) passes the smallest size many times: NAME.log.1 appears, the current log
# stays near the bound, and the gateway is the same process, still confined.
. "$(dirname "$0")/lib.sh"

cmkctl up --set log.max_size=65536 >/dev/null
pid=$(pid_of gateway)
grep -q "event=confine role=gateway" "$RUN/logs/gateway.log" || fail "the gateway did not confine itself"
"$BIN/cmk-bench" load --run-dir "$RUN" --workload "$SRC/configs/workloads/http-shared.json" \
    --requests 1500 --clients 16 --verify none >/dev/null || fail "the load failed"
wait_until 30 test -s "$RUN/logs/gateway.log.1" || fail "gateway.log was never rotated: $(ls -l "$RUN/logs")"
size=$(stat -c %s "$RUN/logs/gateway.log")
[ "$size" -lt $((65536 * 4)) ] || fail "gateway.log is $size bytes, past 4x log.max_size: not rotated"
[ "$(pid_of gateway)" = "$pid" ] || fail "the gateway restarted during the load"
grep -q "Seccomp:[[:space:]]*2" "/proc/$pid/status" || fail "the gateway is not under its seccomp filter"
ok "LOG-2 the confined gateway rotated its log under load ($(stat -c %s "$RUN/logs/gateway.log.1") bytes in gateway.log.1, $size in gateway.log)"
