#!/usr/bin/env bash
# Rule BENCH-FC: a load whose HTTP actions the customer firewall refuses reports them under
# "Failures by cause" - even though the flow's own error handling (runAfter Failed, as in
# configs/flows/http-action.json) lets each run end Succeeded. A short load of one shared
# environment behind a firewall that rejects everything: every run counts as failed, by the
# cause the gateway's error names ("firewall refused" in kernel mode, where the reject is a
# TCP reset to the SYN; "connection reset" in userspace mode, where the handshake completed
# first), in the JSON, in the Markdown and per second in the timeline. Nothing asserts on time.
. "$(dirname "$0")/lib.sh"

mode=userspace cause="connection reset"
if unshare -Urn true 2>/dev/null; then
    mode=kernel cause="firewall refused"
elif [ "${CMK_REQUIRE_NETNS:-0}" = 1 ]; then
    fail "no user+network namespaces on this host"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/127.0.0.1:18080/127.0.0.1:$port/" "$SRC/configs/flows/http-action.json" >"$RUN/http-action.json"
cat >"$RUN/reject-all.json" <<'EOF'
{ "name": "reject-all", "comment": "refuses every source", "mode": "enforce", "default": "reject", "rules": [] }
EOF
cat >"$RUN/refused.json" <<EOF
{
  "name": "refused",
  "description": "HTTP-action runs behind a firewall that refuses them",
  "tenant": "bench",
  "environments": { "count": 1, "infrastructure": "shared", "region": "unitedstates", "type": "sandbox", "name_prefix": "fc" },
  "flows": { "per_environment": 1, "definition": "http-action.json", "body": { "text": "refused" } },
  "clients": 4,
  "connections": 1,
  "request_timeout": "10s",
  "cluster": { "firewall.mode": "$mode", "firewall.endpoint_port": "$port", "firewall.config": "$RUN/reject-all.json" },
  "phases": [ { "name": "refused", "requests": 40 } ],
  "verify": "all"
}
EOF

"$BIN/cmk-bench" load --up --run-dir "$RUN" --workload "$RUN/refused.json" \
    --json "$RUN/load.json" --md "$RUN/load.md" >"$RUN/load.out" 2>"$RUN/load.err" \
    || { tail -20 "$RUN/load.err"; fail "cmk-bench load failed"; }
python3 - "$RUN/load.json" "$cause" <<'PY' || { cat "$RUN/load.md"; fail "refusals not reported by cause"; }
import json, sys
j, cause = json.load(open(sys.argv[1])), sys.argv[2]
assert j["runs_lost"] == 0, j["verify"]
assert j["failures"] == {cause: 40}, j["failures"]
assert "Http request failed" in j["failure_examples"][cause], j["failure_examples"]
ph = j["phases"][0]
assert ph["acknowledged"] == 40 and ph["failed"] == 40, ph
assert sum(b.get("failed_by", {}).get(cause, 0) for b in j["timeline"]) == 40, j["timeline"]
PY
grep -q "Failures by cause: $cause 40" "$RUN/load.md" || fail "Markdown: $(grep 'Failures by cause' "$RUN/load.md")"
ok "BENCH-FC $mode: 40 HTTP actions refused by the firewall are 40 failures by cause \"$cause\""
