#!/usr/bin/env bash
# PRIV-7 (issue #20): the console (cmk-console) writes its token and address and binds its port,
# then confines itself before any thread starts: not root, no capability, no_new_privs, a
# seccomp allowlist, Landlock to its reports directory, its own key and temporary directory, no
# TCP bind or connect. From inside (confine.probe): the vault's database, another partition,
# writing outside the run dir, signalling or tracing the controller, TCP, mknod and execve are
# refused. It still serves the browser and reads the cluster.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"
least_privilege_up
pid=$(pid_of console)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/console.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES open_other_partition=EACCES \
    write_outside_run_dir=EACCES connect_tcp=EACCES
base="http://$(tr -d '\n' <"$RUN/console.http")"
token=$(tr -d '\n' <"$RUN/console.token")
wait_until 20 sh -c "curl -sf -H 'Authorization: Bearer $token' '$base/api/world' | grep -q '\"processes\"\|\"tenants\"\|\"envs\"'" \
    || fail "the confined console serves no world: $(curl -s -H "Authorization: Bearer $token" "$base/api/world" | head -c 300)"
ok "PRIV-7 the console: not root, no capability, confined; probes refused ($line); it serves the browser"
