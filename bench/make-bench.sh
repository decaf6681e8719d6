#!/usr/bin/env bash
# make-bench.sh BIN_DIR - `make bench`: the standard set of cmk-bench runs, on this machine, one
# after the other: encrypt-on-write at four record sizes, then flow loads on clusters of their
# own (Compose-only runs, the same on one partition fresh and filled to 2 million runs, HTTP actions through the gateway, HTTP triggers through the gateway's
# URLs, child flows, CMK events under load, 200 dedicated environments). Each result goes to docs/bench/
# (JSON, Markdown, and a PNG plot when gnuplot is installed), and the "Full results" section of
# docs/BENCHMARKS.md - everything after its marker line - is rewritten from them, with the
# command that produced each. The narrative above the marker (targets, what bounds them) is
# written by a person reading these numbers.
set -euo pipefail
BIN="${1:?usage: bench/make-bench.sh BIN_DIR}"
cd "$(dirname "$0")/.."
OUT=docs/bench
DOC=docs/BENCHMARKS.md
MARK='<!-- make bench: everything below this line is written by bench/make-bench.sh -->'
mkdir -p "$OUT"
grep -qF "$MARK" "$DOC" || { echo "make-bench: $DOC has no marker line: $MARK" >&2; exit 1; }

runs=()
# run NAME ARGS... - one cmk-bench run; its Markdown is kept for the document
run() {
    local name=$1; shift
    echo "== cmk-bench $* ($name)" >&2
    "$BIN/cmk-bench" "$@" --json "$OUT/$name.json" --md "$OUT/$name.md" --png "$OUT/$name.png" >/dev/null
    runs+=("$name")
}
load() {  # load NAME WORKLOAD [ARGS...] - a cluster of its own, removed afterwards
    local name=$1 wl=$2; shift 2
    local dir; dir=$(mktemp -d /tmp/cmkb.XXXXXX)
    local rc=0
    run "$name" load --up --run-dir "$dir" --workload "configs/workloads/$wl.json" "$@" || rc=$?
    rm -rf "$dir"
    return $rc
}

run write write --sizes 256,1024,4096,65536 --records 20000 --reps 5
load load-compose compose-shared
load load-flat-latency flat-latency
load load-http-actions http-shared
load load-http-triggers http-trigger
load load-child-flows child-flows
load load-cmk-events cmk-events
load load-dedicated-200 dedicated-200

{
    sed "/$(printf '%s' "$MARK" | sed 's/[][\/.*^$]/\\&/g')/q" "$DOC"
    echo
    echo "Written by \`make bench\` on $(date -u +%Y-%m-%dT%H:%MZ); each section names the command that measured it."
    for n in "${runs[@]}"; do
        echo
        sed 's/^## /### /; s/^### \([A-Z]\)/#### \1/' "$OUT/$n.md"
        [ -f "$OUT/$n.png" ] && printf '\n![%s](bench/%s.png)\n' "$n" "$n"
    done
} > "$DOC.new"
mv "$DOC.new" "$DOC"
echo "make-bench: wrote $DOC and $OUT/" >&2
