#!/usr/bin/env bash
# PRIV-3 (issue #20, CONF-1): a dedicated worker is confined to its environment's partition:
# not root, no capability, no_new_privs, a seccomp allowlist; Landlock lets it open nothing
# but its partition and its own key, no TCP. From inside (confine.probe): another partition,
# the vault's database, signalling or tracing the controller, TCP, mknod, execve - refused.
. "$(dirname "$0")/lib.sh"

least_privilege_up
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates sandbox --managed)
cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id m >/dev/null
cmkctl policy add-env "$POLICY" "$env" >/dev/null
log="$RUN/logs/worker-$env.log"
wait_until 20 test -f "$log" || fail "no dedicated worker log"
line=$(probe_line "$log")
pid=$(pid_of "worker-$env")
assert_least_privilege_status "$pid"
expect_probe "$line" seccomp mknod=EPERM kill_parent=EPERM ptrace_parent=EPERM execve=EPERM
expect_probe "$line" landlock open_other_partition=EACCES read_vault_db=EACCES \
    write_outside_run_dir=EACCES connect_tcp=EACCES
[ "$(json_get "$(cmkctl flow run --env "$env" m --body '{"text":"confined"}' --json)" 'j["status"]')" = Succeeded ] \
    || fail "a run failed in the confined dedicated worker"
ok "PRIV-3 the dedicated worker: not root, no capability, confined to its partition; probes refused ($line); it runs flows"
