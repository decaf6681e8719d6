#!/usr/bin/env bash
# PRIV-1 (issue #20): the controller keeps only what its job needs. Started as root it hands the
# run dir to cluster.user and becomes it (no capability, empty bounding set); started as
# another user it stays that user. no_new_privs, a seccomp allowlist, and a Landlock layer:
# it writes only beneath its run dir, runs only its three children's programs, signals only its
# descendants. From inside its confinement (confine.probe): writing outside the run dir,
# signalling or tracing another process, mknod and running /bin/true are refused. TCP is not
# refused to it: its children (the gateway) inherit its layer (docs/SECURITY.md).
. "$(dirname "$0")/lib.sh"

least_privilege_up
pid=$(pid_of controller)
# where uid 0 is kept, the controller keeps CAP_SETFCAP | CAP_SETPCAP permitted (not effective)
# for the firewall it starts: it makes its namespace with them (PRIV-6)
if [ "$(kept_uid0)" = 1 ]; then assert_least_privilege_status "$pid" 0x80000100
else assert_least_privilege_status "$pid"; fi
line=$(probe_line "$RUN/logs/controller.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM
expect_probe "$line" landlock write_outside_run_dir=EACCES execve=EACCES
if [ "$(id -u)" = 0 ] && ! grep -q "event=confine.kept_root" "$RUN/logs/controller.log"; then
    [ "$(stat -c %U "$RUN/keys/controller.key")" = nobody ] || fail "the run dir was not handed to nobody"
    [ "$(stat -c %a "$RUN/keys/controller.key")" = 600 ] || fail "keys lost their mode 0600"
    ok "PRIV-1 started as root, the controller runs as nobody and owns its run dir (keys 0600)"
fi
cmkctl ping | qgrep -q pong || fail "no pong"
ok "PRIV-1 the controller: not root, no capability, seccomp, no_new_privs; probes refused: $line"
cmkctl down >/dev/null
wait_until 20 no_procs || fail "processes left after down: $(procs_of_run)"
ok "PRIV-1 cmkctl down still stops the confined cluster"
