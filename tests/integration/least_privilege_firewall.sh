#!/usr/bin/env bash
# PRIV-5 (issue #20): the firewall makes its user+network namespace as the cluster user (no
# root, no capability outside it), then works confined: no_new_privs, a seccomp allowlist,
# Landlock to its state directory and configs, TCP bind to its endpoints' port only. From inside
# (confine.probe): the vault's database, another partition, signalling or tracing the
# controller, TCP connect, mknod and execve are refused; its nftables rules still apply.
. "$(dirname "$0")/lib.sh"

least_privilege_up
pid=$(pid_of firewall)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/firewall.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES open_other_partition=EACCES \
    write_outside_run_dir=EACCES connect_tcp=EACCES
mode=$(json_get "$(cat "$RUN/firewall/state.json")" 'j["mode"]')
if [ "$mode" = kernel ]; then
    cmkctl firewall apply "$SRC/configs/firewalls/with-plex.json" >/dev/null \
        || fail "the confined firewall cannot apply a config in its namespace"
    ok "PRIV-5 the firewall applies nftables rules in its namespace while confined"
else
    echo "note: no user namespaces on this host: the firewall runs in userspace mode ($mode)"
fi
ok "PRIV-5 the firewall: not root, no capability, confined; probes refused ($line)"
