#!/usr/bin/env bash
# PRIV-4 (issue #20): the gateway is not root, has no capability, no_new_privs and a seccomp
# allowlist; it keeps the controller's Landlock layer (it must reach into the firewall's
# namespace, which a layer of its own would forbid - docs/SECURITY.md). From inside
# (confine.probe): signalling or tracing the controller, mknod, execve and writing outside the
# run dir are refused; it still serves HTTP triggers and outbound actions (TCP is its job).
. "$(dirname "$0")/lib.sh"

least_privilege_up
pid=$(pid_of gateway)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/gateway.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock write_outside_run_dir=EACCES
curl -sf "http://$(cat "$RUN/gateway.http")/metrics" >/dev/null || fail "the confined gateway does not serve /metrics"
ok "PRIV-4 the gateway: not root, no capability, seccomp, no_new_privs; probes refused ($line); it serves HTTP"
