#!/usr/bin/env bash
# PRIV-4 (issue #20): the gateway is not root, has no capability, no_new_privs, a seccomp
# allowlist and a Landlock layer of its own (its keys, its temporary directory, the firewall's
# state, the service tags). It forks the spawner of its namespace helpers before it confines
# itself, since a Landlock domain may not reach into the firewall's namespace holder. From inside
# (confine.probe): reading the vault's database, opening a partition, writing outside the run
# dir, signalling or tracing the controller, mknod and execve are refused; it still serves HTTP
# triggers and sends outbound actions through the kernel firewall's namespace.
. "$(dirname "$0")/lib.sh"

least_privilege_up
pid=$(pid_of gateway)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/gateway.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES open_other_partition=EACCES write_outside_run_dir=EACCES
curl -sf "http://$(cat "$RUN/gateway.http")/metrics" >/dev/null || fail "the confined gateway does not serve /metrics"
ok "PRIV-4 the gateway: not root, no capability, seccomp, no_new_privs, its own Landlock layer; probes refused ($line); it serves HTTP"
