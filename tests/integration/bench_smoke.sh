#!/usr/bin/env bash
# cmk-bench smoke test: `cmk-bench write` with tiny sizes for a couple of seconds and
# `cmk-bench load` against a real cluster for about three seconds (configs/workloads/smoke.json).
# Both JSON documents carry their fields, every acknowledged run is found again afterwards
# (runs_lost == 0), and bad options are refused with exit status 2. Nothing here asserts on
# time or speed: the numbers belong in docs/BENCHMARKS.md, not in a test.
. "$(dirname "$0")/lib.sh"

bench() { "$BIN/cmk-bench" "$@"; }

# --help teaches with an example; unknown options and subcommands are refused
bench --help | qgrep -q "cmk-bench write" || fail "cmk-bench --help"
bench write --help | qgrep -q "Example" || fail "write --help has no example"
bench load --help | qgrep -q "Example" || fail "load --help has no example"
set +e
bench write --no-such-option >/dev/null 2>&1; rc=$?
bench frobnicate >/dev/null 2>&1; rc2=$?
bench write --sizes 0 >/dev/null 2>&1; rc3=$?
set -e
[ $rc = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] || fail "bad input exit statuses: $rc $rc2 $rc3 (want 2)"
ok "help and refusals"

# write: every mode, batched and durable, interleaved; seal cost; unwrap cost
bench write --sizes 256,1k --records 400 --reps 2 --durable-time 40ms --writers 8 --seal-time 20ms \
    --dir "$RUN" --json "$RUN/write.json" --md "$RUN/write.md" >"$RUN/write.out" 2>"$RUN/write.err" \
    || { cat "$RUN/write.err"; fail "cmk-bench write failed"; }
python3 - "$RUN/write.json" <<'PY' || fail "write JSON lacks fields"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["kind"] == "write" and j["command"].startswith("cmk-bench write")
m = j["machine"]; assert m["nproc"] >= 1 and m["cpu"]
modes = {(r["size"], r["mode"]) for r in j["batched"]}
for size in (256, 1024):
    for mode in ("plain", "mmk", "cmk"):
        assert (size, mode) in modes, (size, mode)
for r in j["batched"]:
    assert r["reps"] == 2 and r["rows_s"]["median"] > 0 and r["rows_per_rep"] == 400
    for k in ("p50", "p99", "p999"): assert r["latency_us"][k] > 0
    if r["mode"] != "plain": assert r["ratio_to_plain"]["n"] == 2
configs = {r["config"] for r in j["durable"]}
assert configs == {"fsync-per-write", "group-full", "group-timer", "group-normal"}, configs
for r in j["durable"]:
    assert r["failed"] == 0 and r["rows_s"]["median"] > 0
assert len(j["seal"]) == 2 and all(s["ns_per_seal"] > 0 for s in j["seal"])
assert {u["kek"] for u in j["unwrap"]} == {"mmk", "cmk"}
assert isinstance(j["openssl_speed"]["available"], bool)
if j["openssl_speed"]["available"]: assert all("openssl_mb_s" in s for s in j["seal"])
else: assert j["openssl_speed"]["message"]
assert isinstance(j["sqlcipher"]["available"], bool)
if not j["sqlcipher"]["available"]: assert "skipped" in j["sqlcipher"]["message"]
else:  # both configurations, as the library reports them, and every sealed row set against both
    cfgs = {c["mode"]: c for c in j["sqlcipher"]["configs"]}
    assert set(cfgs) == {"sqlcipher-default", "sqlcipher-tuned"}, cfgs
    assert cfgs["sqlcipher-tuned"]["cipher_page_size"] == 4096
    assert cfgs["sqlcipher-default"]["kdf_iter"] > 0 and cfgs["sqlcipher-default"]["cipher_page_size"] > 0
    for size in (256, 1024):
        for mode in ("sqlcipher-default", "sqlcipher-tuned"):
            assert (size, mode) in modes, (size, mode)
    for r in j["batched"]:
        if r["mode"] in ("mmk", "cmk"):
            assert r["ratio_to_sqlcipher_default"]["n"] == 2 and r["ratio_to_sqlcipher_tuned"]["n"] == 2
ids = {t["id"] for t in j["targets"]}
assert {"batched-256", "batched-1k", "durable-64"} <= ids, ids
assert not any("sqlcipher" in i for i in ids), ids  # a comparison, not a target
PY
grep -q "## cmk-bench write" "$RUN/write.md" || fail "write Markdown"
grep -q "### Durable" "$RUN/write.out" || fail "write summary on stdout"
[ -z "$(ls "$RUN" | grep cmk-bench- || true)" ] || fail "cmk-bench write left its trial directory behind"
ok "cmk-bench write: every mode and section in the JSON"

# load: a cluster, the smoke workload (2 s closed loop, 1 s at half that rate), run.show of all
cmkctl up >/dev/null
bench load --run-dir "$RUN" --workload "$SRC/configs/workloads/smoke.json" \
    --json "$RUN/load.json" --md "$RUN/load.md" >"$RUN/load.out" 2>"$RUN/load.err" \
    || { cat "$RUN/load.err"; fail "cmk-bench load failed"; }
python3 - "$RUN/load.json" <<'PY' || fail "load JSON lacks fields or lost runs"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["kind"] == "load" and j["runs_lost"] == 0, j.get("runs_lost")
v = j["verify"]
assert v["acknowledged"] > 0 and v["checked"] == v["acknowledged"] == v["found"], v
assert [p["name"] for p in j["phases"]] == ["closed", "paced"]
for p in j["phases"]:
    assert p["acknowledged"] > 0 and p["runs_s"] > 0 and p["latency_ms"]["p99"] > 0
    assert "controller" in p["cpu_pct"] and "worker-shared" in p["cpu_pct"]
assert j["phases"][1]["rate"] > 0
assert isinstance(j["failures"], dict)
names = {p["name"] for p in j["processes"]}
assert {"controller", "worker-shared", "gateway", "cmk-bench"} <= names, names
for p in j["processes"]:
    if p["readable"]: assert p["rss_kb"] > 0 and p["cpu_s"] >= 0
assert len(j["timeline"]) >= 3 and all("p99_ms" in b for b in j["timeline"])
assert {t["id"] for t in j["targets"]} == {"runs-10k", "p99-half-rate", "runs-lost"}
PY
grep -q "Runs lost: 0" "$RUN/load.md" || fail "load Markdown"
ok "cmk-bench load: runs driven through the cluster, none lost"

# load, HTTP triggers: client threads POST to the flows' URLs on the gateway; the run id comes
# back in x-ms-workflow-run-id and every acknowledged run is found again
bench load --run-dir "$RUN" --workload "$SRC/configs/workloads/http-trigger.json" --duration 2s \
    --clients 4 --json "$RUN/http.json" >"$RUN/http.out" 2>"$RUN/http.err" \
    || { cat "$RUN/http.err"; fail "cmk-bench load with HTTP triggers failed"; }
python3 - "$RUN/http.json" <<'PY' || fail "HTTP-trigger load: lost runs or failures"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["workload"]["trigger"] == "http"
assert j["runs_lost"] == 0 and j["verify"]["acknowledged"] > 0, j["verify"]
assert j["verify"]["found"] == j["verify"]["acknowledged"], j["verify"]
assert not j["failures"], j["failure_examples"]
assert "runs-5k-http" in {t["id"] for t in j["targets"]}
PY
ok "cmk-bench load: HTTP-trigger runs through the gateway's URLs, none lost"

# load, child flows: each run of a parent runs its environment's child flow
bench load --run-dir "$RUN" --workload "$SRC/configs/workloads/child-flows.json" --duration 1s \
    --clients 4 --json "$RUN/child.json" >"$RUN/child.out" 2>"$RUN/child.err" \
    || { cat "$RUN/child.err"; fail "cmk-bench load with child flows failed"; }
python3 - "$RUN/child.json" <<'PY' || fail "child-flow load: lost runs or failures"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["workload"]["child"].endswith("child-child.json")
assert j["runs_lost"] == 0 and j["verify"]["acknowledged"] > 0, j["verify"]
assert not j["failures"], j["failure_examples"]
PY
ok "cmk-bench load: parent flows run their child flow, none lost"
