#!/usr/bin/env bash
# PRIV-6 (issue #20): started as root where the processes keep uid 0 (cluster.user root here;
# in CI a clone cluster.user cannot reach, which gives the same), the firewall still makes its
# kernel-mode namespace - mapping uid 0 into it needs CAP_SETFCAP - and only then drops every
# capability and confines itself. Checked: the firewall runs in kernel mode, applies nftables
# rules there, and afterwards has no capability in any set (bounding set included), a seccomp
# filter and no_new_privs; the controller keeps CAP_SETFCAP and CAP_SETPCAP permitted only
# (never effective, for the firewall it restarts); the other processes keep nothing.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "skip: only meaningful when started as root (uid 0 kept)"; exit 77; }
least_privilege_up --set cluster.user=root --set firewall.mode=kernel
[ "$(kept_uid0)" = 1 ] || fail "the cluster did not keep uid 0 with cluster.user=root"
mode=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["mode"]')
[ "$mode" = kernel ] || fail "the firewall is in $mode mode, not kernel"
fw=$(pid_of firewall)
assert_least_privilege_status "$fw"
grep -q "event=confine role=firewall uid=0 .*kept_caps=0 " "$RUN/logs/firewall.log" \
    || fail "the firewall did not drop what its namespace needed: $(grep 'event=confine ' "$RUN/logs/firewall.log")"
line=$(probe_line "$RUN/logs/firewall.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES write_outside_run_dir=EACCES connect_tcp=EACCES
cmkctl firewall apply "$SRC/configs/firewalls/with-plex.json" >/dev/null \
    || fail "the confined firewall cannot apply a config in its namespace"
ok "PRIV-6 uid 0 kept: the firewall made its namespace (kernel mode), then dropped every capability; it applies nftables rules ($line)"
# 0x80000100 = CAP_SETFCAP | CAP_SETPCAP
assert_least_privilege_status "$(pid_of controller)" 0x80000100
for p in worker-shared gateway console; do assert_least_privilege_status "$(pid_of "$p")"; done
ok "PRIV-6 the controller keeps CAP_SETFCAP and CAP_SETPCAP permitted only (none effective); worker, gateway, console keep none"
# the firewall restarted by the controller makes its namespace again, and drops it all again
kill -9 "$fw"
wait_until 30 sh -c "[ \$(grep -c 'event=firewall.ready mode=kernel' '$RUN/logs/firewall.log') -ge 2 ]" \
    || fail "the restarted firewall is not in kernel mode: $(grep firewall.ready "$RUN/logs/firewall.log" | tail -1)"
wait_until 20 sh -c "[ \"\$(\"$BIN/cmkctl\" --run-dir '$RUN' status --json | python3 -c \"import json,sys; j=json.load(sys.stdin); print([p['pid'] for p in (j['processes'] if isinstance(j, dict) else j) if p['name'] == 'firewall'][0])\")\" != $fw ]" \
    || fail "the firewall did not come back after a kill"
assert_least_privilege_status "$(pid_of firewall)"
ok "PRIV-6 a restarted firewall makes its namespace again with what the controller kept, then drops it"
