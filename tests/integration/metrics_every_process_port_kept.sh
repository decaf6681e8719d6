#!/usr/bin/env bash
# Rules OBS-1, OBS-2: every process (controller, shared and dedicated workers, gateway, firewall)
# serves Prometheus metrics with the standard process_* metrics on a loopback port that
# `cmkctl status` lists and <run>/metrics/<name>.port records; a restarted process keeps its
# port; the controller's file_sd targets follow dedicated workers as they come and go; the
# counters move with the work (runs, requests, audit appends, locks by cause).
. "$(dirname "$0")/lib.sh"

cmkctl up >/dev/null
[ -f "$RUN/prometheus.yml" ] || fail "cmkctl up wrote no scrape config"
grep -q "$RUN/metrics/targets.json" "$RUN/prometheus.yml" || fail "scrape config does not read targets.json"

url_of() { json_get "$(cmkctl status --json)" "[p['metrics'] for p in j['processes'] if p['name']=='$1'][0]"; }
metric() { curl -sf --max-time 5 "$(url_of "$1")" | awk -v m="$2" '$1 == m { print $2 }'; }

for p in controller worker-shared gateway firewall; do
    u=$(url_of $p)
    case "$u" in http://127.0.0.1:*/metrics) ;; *) fail "$p has no loopback metrics endpoint: '$u'" ;; esac
    [ "$u" = "http://$(cat "$RUN/metrics/$p.port")/metrics" ] || fail "$p: status and port file disagree"
    body=$(curl -sf --max-time 5 "$u") || fail "$p: GET $u failed"
    for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
             process_start_time_seconds process_max_fds; do
        grep -q "^$m " <<<"$body" || fail "$p lacks $m"
    done
    grep -q "^cmk_process_info{process=\"$p\"" <<<"$body" || fail "$p: no cmk_process_info"
done
ok "OBS-1 four processes serve process_* metrics on the ports status lists"

# work moves the counters
cmkctl tenant create contoso >/dev/null
env=$(new_env Prod contoso unitedstates production --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id hello >/dev/null
for i in 1 2 3; do cmkctl flow run --env "$env" hello --body '{"text":"x"}' >/dev/null; done
runs_ok() { [ "$(metric worker-shared 'cmk_worker_runs_total{status="Succeeded"}')" -ge 3 ]; }
wait_until 5 runs_ok || fail "worker runs counter: $(curl -s "$(url_of worker-shared)" | grep runs_total)"
[ "$(metric worker-shared cmk_worker_run_duration_seconds_count)" -ge 3 ] || fail "run latency histogram"
[ "$(metric controller 'cmk_controller_requests_total{type="env.create",result="ok"}')" = 1 ] || fail "requests by type"
[ "$(metric controller 'cmk_controller_audit_appends_total{result="ok"}')" -ge 1 ] || fail "audit appends"
cmkctl env show nope >/dev/null 2>&1 || true
[ "$(metric controller 'cmk_controller_requests_total{type="env.show",result="ENOENT"}')" = 1 ] || fail "requests by result"
envs_ready() { [ "$(metric controller 'cmk_controller_environments{state="Ready"}')" = 1 ]; }
wait_until 5 envs_ready || fail "environments by state"
ok "OBS-1 runs, request results, audit appends and environments by state are counted"

# a restarted process comes back on the same port
port=$(cat "$RUN/metrics/worker-shared.port")
old=$(json_get "$(cmkctl status --json)" "[p['pid'] for p in j['processes'] if p['name']=='worker-shared'][0]")
kill -9 "$old"
back() { [ "$(json_get "$(cmkctl status --json)" "[p['state']=='ready' and p['pid']!=$old for p in j['processes'] if p['name']=='worker-shared'][0]")" = True ]; }
wait_until 15 back || fail "worker not restarted"
[ "$(cat "$RUN/metrics/worker-shared.port")" = "$port" ] || fail "port changed: $port -> $(cat "$RUN/metrics/worker-shared.port")"
wait_until 5 curl -sf --max-time 2 "http://$port/metrics" || fail "restarted worker does not serve $port"
restarts() { [ "$(metric controller 'cmk_controller_child_restarts_total{process="worker-shared"}')" = 1 ]; }
wait_until 5 restarts || fail "restarts not counted"
ok "OBS-2 a restarted worker serves its metrics on the same port; its restart is counted"

# a dedicated worker appears in the targets, and its metrics are served; a lock is counted by cause
setup_cmk fabrikam unitedstates
denv=$(new_env Fab fabrikam unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$denv" >/dev/null
dname="worker-$denv"
in_targets() { python3 -c "import json,sys; t=json.load(open('$RUN/metrics/targets.json')); sys.exit(0 if any(x['labels']['process']==sys.argv[1] for x in t) else 1)" "$1"; }
wait_until 15 in_targets "$dname" || fail "dedicated worker not in targets.json: $(cat "$RUN/metrics/targets.json")"
curl -sf --max-time 5 "http://$(cat "$RUN/metrics/$dname.port")/metrics" | qgrep -q '^process_open_fds ' \
    || fail "dedicated worker (confined) serves no process metrics"
cmkctl key disable "$VAULT" "$KEY" >/dev/null
locked() { [ "$(metric controller 'cmk_controller_env_locks_total{cause="key_disabled"}')" = 1 ] &&
           [ "$(metric controller 'cmk_controller_environments_locked{cause="key_disabled"}')" = 1 ]; }
wait_until 20 locked || fail "lock by cause: $(curl -s "$(url_of controller)" | grep -i lock)"
ok "OBS-2 a dedicated worker joins targets.json and serves metrics; a key-disabled lock is counted by cause"
