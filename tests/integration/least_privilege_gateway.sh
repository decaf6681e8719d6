#!/usr/bin/env bash
# PRIV-4 (issue #20): the gateway is not root, has no capability, no_new_privs, a seccomp
# allowlist and a Landlock layer of its own (its keys, its temporary directory, the firewall's
# state, the service tags). It forks the spawner of its namespace helpers before it confines
# itself, since a Landlock domain may not reach into the firewall's namespace holder. From inside
# (confine.probe): reading the vault's database, opening a partition, writing outside the run
# dir, signalling or tracing the controller, mknod and execve are refused; it still serves HTTP
# triggers and sends outbound actions through the kernel firewall's namespace.
. "$(dirname "$0")/lib.sh"

if ! unshare -Urn true 2>/dev/null; then
    [ "${CMK_REQUIRE_NETNS:-0}" = 1 ] && fail "no user+network namespaces on this host"
    echo "skip: this host allows no unprivileged user+network namespaces (kernel mode)"; exit 0
fi
least_privilege_up --set firewall.config="$SRC/configs/firewalls/legacy-only.json" --set firewall.mode=kernel
pid=$(pid_of gateway)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/gateway.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES open_other_partition=EACCES write_outside_run_dir=EACCES
curl -sf "http://$(cat "$RUN/gateway.http")/metrics" >/dev/null || fail "the confined gateway does not serve /metrics"

# outbound actions still cross the kernel firewall, and follow it when it restarts: the
# spawner (outside the gateway's Landlock domain) enters each new namespace
probe() { "$BIN/cmk-gateway" probe --run-dir "$RUN" --timeout-ms 5000 "$@"; }
holder() { json_get "$(cat "$RUN/firewall/state.json")" 'j.get("holder_pid", 0)'; }
url="http://127.0.0.1:$(json_get "$(cat "$RUN/firewall/state.json")" 'j["endpoint_port"]')/anything"
out=$(probe --infrastructure shared --region unitedstates --url "$url") || fail "a shared action did not pass legacy-only: $out"
first=$(holder)
qgrep -q "event=egress.nsock_ready .*holder_pid=$first " < "$RUN/logs/gateway.log" || fail "no helper in the namespace of holder $first"
kill -KILL "$(pid_of firewall)"
new_ns() { local h; h=$(holder) && [ "$h" != 0 ] && [ "$h" != "$first" ]; }
wait_until 60 new_ns || fail "the firewall did not come back with a new namespace"
second=$(holder)
out=$(probe --infrastructure shared --region unitedstates --url "$url") || fail "after the firewall restarted, a shared action failed: $out"
qgrep -q "event=egress.nsock_ready .*holder_pid=$second " < "$RUN/logs/gateway.log" || fail "the gateway did not enter the namespace of the new holder $second"
set +e
out=$(probe --infrastructure dedicated --region unitedstates --url "$url"); rc=$?
set -e
[ $rc -ne 0 ] && [ "$(json_get "$out" 'j["error"]["outcome"]')" = refused ] || fail "a dedicated action got past the new firewall: $out"
[ "$(pid_of gateway)" = "$pid" ] || fail "the gateway restarted"
ok "PRIV-4 the confined gateway follows the firewall's namespace across a firewall restart (holder $first -> $second): shared passes, PowerPlatformPlex refused"
ok "PRIV-4 the gateway: not root, no capability, seccomp, no_new_privs, its own Landlock layer; probes refused ($line); it serves HTTP"
