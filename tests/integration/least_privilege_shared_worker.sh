#!/usr/bin/env bash
# PRIV-2 (issue #20): the shared worker - which holds the data keys of every environment on the
# Microsoft key - is not root, has no capability, no_new_privs, a seccomp allowlist, and a
# Landlock layer: its partitions, its own key, nothing else of the run dir, no TCP. From inside
# (confine.probe): reading the vault's database, writing outside, signalling or tracing the
# controller, TCP, mknod and execve are refused. It still runs flows.
. "$(dirname "$0")/lib.sh"

least_privilege_up
pid=$(pid_of worker-shared)
assert_least_privilege_status "$pid"
line=$(probe_line "$RUN/logs/worker-shared.log")
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock read_vault_db=EACCES write_outside_run_dir=EACCES connect_tcp=EACCES
cmkctl tenant create contoso >/dev/null
env=$(new_env Dev contoso unitedstates sandbox)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
[ "$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"x"}' --json)" 'j["status"]')" = Succeeded ] \
    || fail "a run failed in the confined shared worker"
ok "PRIV-2 the shared worker: not root, no capability, confined; probes refused ($line); it runs flows"
