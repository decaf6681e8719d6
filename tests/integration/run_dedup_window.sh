#!/usr/bin/env bash
# Rule RUN-DEDUP-WINDOW: a flow.run's client_req is a duplicate of the run of its flow with the
# same client_req that started at most worker.dedup_window before it: the retry is answered with
# that run and "duplicate": true, within the window, after a SIGKILL of the worker too (the
# window's requests are loaded again from the runs' rows); once the window has passed, the same
# client_req starts a new run, which later retries then find. The partition has no index on
# runs.client_req (worker/partition_reqs.c).
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set worker.dedup_window=2m --set supervisor.firewall=false >/dev/null
cmkctl tenant create contoso >/dev/null
env=$(json_get "$(cmkctl env create --tenant contoso --name Prod --region unitedstates --managed --json)" 'j["id"]')
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id mc >/dev/null || fail "flow create"

run_req() { cmkctl flow run --env "$env" mc --client-req "$1" --json; }
a=$(run_req retry-1)
ida=$(json_get "$a" 'j["run"]')
[ "$(json_get "$a" 'j.get("duplicate", False)')" = False ] || fail "first run is a duplicate: $a"
b=$(run_req retry-1)
[ "$(json_get "$b" 'j["run"]')" = "$ida" ] && [ "$(json_get "$b" 'j.get("duplicate")')" = True ] ||
    fail "retry within the window ran again: $b"
ok "a retry within the window gets the first run, duplicate"

cmkctl clock advance 90s >/dev/null
wpid=$(child_pid worker-shared)
kill -9 "$wpid"
newpid() { p=$(child_pid worker-shared) && [ -n "$p" ] && [ "$p" != "$wpid" ]; }
wait_until 20 newpid || fail "the worker did not come back"
retry_dup() { c=$(run_req retry-1) && [ "$(json_get "$c" 'j["run"]')" = "$ida" ] && [ "$(json_get "$c" 'j.get("duplicate")')" = True ]; }
wait_until 20 retry_dup || fail "retry after a worker SIGKILL, 90 s into a 2 min window, ran again: $(run_req retry-1)"
ok "after a SIGKILL of the worker, the window's requests are found again"

cmkctl clock advance 60s >/dev/null  # 150 s after the first run: past its window
d=$(run_req retry-1)
idd=$(json_get "$d" 'j["run"]')
[ "$idd" != "$ida" ] && [ "$(json_get "$d" 'j.get("duplicate", False)')" = False ] ||
    fail "a request past the window was not run again: $d"
e=$(run_req retry-1)
[ "$(json_get "$e" 'j["run"]')" = "$idd" ] && [ "$(json_get "$e" 'j.get("duplicate")')" = True ] ||
    fail "the new run is not the one found: $e"
ok "past the window the same client request runs again, and that run is then the one found"

cmkctl down >/dev/null
db=$(ls "$RUN"/partitions/"$env"/*/partition.db | head -1)
idx=$(python3 -c "import sqlite3,sys; c=sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True); print(c.execute(\"SELECT count(*) FROM sqlite_master WHERE type='index' AND sql LIKE '%client_req%'\").fetchone()[0])" "$db")
[ "$idx" = 0 ] || fail "an index on runs.client_req is still there"
ok "no index on runs.client_req"
