#!/usr/bin/env bash
# run-fuzzers.sh - run libFuzzer targets for a bounded time each, JOBS at a time (make fuzz).
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS JOBS SURFACE...
#
# Each target BUILD_DIR/tests/fuzz/fuzz_<surface> runs for SECONDS (-max_total_time) over
# tests/fuzz/corpus/<surface>/ (read: libFuzzer only adds to the first directory it is given,
# tests/fuzz/corpus-new/<surface>/, which git ignores). A crash, leak, timeout (10 s per input)
# or broken contract leaves its input in BUILD_DIR/artifacts/ and fails the run; the log of
# each target is BUILD_DIR/logs/<surface>.log. Prints one line per target.
set -uo pipefail
BUILD=$1 SECONDS_EACH=$2 JOBS=$3
shift 3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$BUILD/artifacts" "$BUILD/logs"

# one - fuzz one surface; exit status 0 when nothing was found
one() {
    local s=$1 log="$BUILD/logs/$1.log"
    mkdir -p "$SRC/tests/fuzz/corpus-new/$s"
    if "$BUILD/tests/fuzz/fuzz_$s" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$s-" \
        "$SRC/tests/fuzz/corpus-new/$s" "$SRC/tests/fuzz/corpus/$s" >"$log" 2>&1; then
        printf 'fuzz: %-13s ok   %9s runs, %4s new inputs (%ss)\n' "$s" \
            "$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")" \
            "$(awk '/^stat::new_units_added/ {print $2}' "$log")" "$SECONDS_EACH"
    else
        printf 'fuzz: %-13s FAILED - input in %s/artifacts/%s-*, log %s:\n' "$s" "$BUILD" "$s" "$log"
        grep -E -A25 'contract broken|ERROR: |SUMMARY' "$log" | head -40 | sed 's/^/    /'
        return 1
    fi
}
export -f one
export BUILD SECONDS_EACH SRC

printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {}
rc=$?
[ $rc = 0 ] && echo "fuzz: no crash, leak, timeout or broken contract in $# targets"
exit $rc
