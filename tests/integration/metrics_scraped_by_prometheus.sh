#!/usr/bin/env bash
# Rule OBS-3: a real Prometheus (Debian's `prometheus`), started with the scrape config that
# `cmkctl up` writes, scrapes every process of a running cluster: its HTTP API answers up == 1
# for the controller, the shared worker, a dedicated worker, the gateway and the firewall, and
# the runs counter after a few runs. Loopback only; Prometheus keeps its data in the run dir.
# Skipped (ctest skip code 77) with the reason where prometheus is not installed.
. "$(dirname "$0")/lib.sh"

PROM=$(command -v prometheus || true)
if [ -z "$PROM" ]; then
    echo "skip: Debian's prometheus is not installed (make installs it as root; or: sudo apt-get install -y prometheus)"
    exit 77
fi

cmkctl up --set metrics.scrape_interval=1s >/dev/null
grep -q "scrape_interval: 1s" "$RUN/prometheus.yml" || fail "scrape config: $(cat "$RUN/prometheus.yml")"

# a dedicated worker too: file_sd picks it up when the controller rewrites targets.json
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$env" >/dev/null
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id hello >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PROM" --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/prometheus" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$RUN/logs/prometheus.log" 2>&1 &
prom_pid=$!
trap 'rc=$?; kill $prom_pid 2>/dev/null; wait $prom_pid 2>/dev/null; (exit $rc); cleanup' EXIT
API="http://127.0.0.1:$port/api/v1"

# query EXPR - the result vector as JSON lines [{metric}, value]
query() { curl -sf --max-time 5 --get "$API/query" --data-urlencode "query=$1"; }
# up_of PROCESS - "1" once Prometheus scraped it successfully
up_of() { json_get "$(query "up{process=\"$1\"}")" "[r['value'][1] for r in j['data']['result']][0] if j['data']['result'] else ''"; }

wait_until 30 curl -sf --max-time 2 "http://127.0.0.1:$port/-/ready" || fail "prometheus not ready: $(tail -5 "$RUN/logs/prometheus.log")"
# every process with a metrics endpoint (controller, workers, gateway, firewall, console)
procs=$(json_get "$(cmkctl status --json)" "' '.join(p['name'] for p in j['processes'] if p.get('metrics'))")
nprocs=$(wc -w <<<"$procs")
[ "$nprocs" -ge 5 ] || fail "expected at least 5 processes with metrics, status has: $procs"
for p in $procs; do
    is_up() { [ "$(up_of "$1")" = 1 ]; }
    wait_until 40 is_up "$p" || fail "up{process=\"$p\"} is not 1: $(query 'up')"
done
ok "OBS-3 Prometheus scrapes every process: up == 1 for $procs"

for i in 1 2 3 4 5; do cmkctl flow run --env "$env" hello --body '{"text":"x"}' >/dev/null; done
runs() { json_get "$(query "sum(cmk_worker_runs_total{process=\"worker-$env\",status=\"Succeeded\"})")" \
         "int(float(j['data']['result'][0]['value'][1])) if j['data']['result'] else 0"; }
five() { [ "$(runs)" -ge 5 ]; }
wait_until 30 five || fail "runs counter in Prometheus: $(runs), want 5"
cpu=$(json_get "$(query 'count(process_cpu_seconds_total)')" "j['data']['result'][0]['value'][1]")
[ "$cpu" = "$nprocs" ] || fail "process_cpu_seconds_total from $cpu processes, want $nprocs"
ok "OBS-3 Prometheus has the dedicated worker's 5 runs and process metrics of all $nprocs processes"

# the Grafana dashboard's every query is valid PromQL for this Prometheus, and the panels on
# runs, requests, CPU and memory have data (one python for all: each query is a loopback GET)
python3 - "$SRC/configs/grafana/cmksim-dashboard.json" "$API" <<'PY' || fail "dashboard queries"
import json, sys, time, urllib.parse, urllib.request
dash, api = json.load(open(sys.argv[1])), sys.argv[2]
def query(expr):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
for e in exprs:
    assert query(e)["status"] == "success", e
for e in ['sum by (status) (rate(cmk_worker_runs_total[1m]))', 'process_resident_memory_bytes{job="cmksim"}',
          'sum by (result) (rate(cmk_controller_requests_total[1m]))']:
    deadline = time.time() + 30
    while not query(e)["data"]["result"]:
        assert time.time() < deadline, "no data for " + e
        time.sleep(0.5)
print("ok: OBS-3 the %d queries of configs/grafana/cmksim-dashboard.json are valid; runs, requests and memory have data" % len(exprs))
PY
