#!/usr/bin/env bash
# Rule AUD-4 (long operations): adding an environment to a policy, removing it, re-enabling a
# locked environment and applying a policy's pending key rotations are recorded when they
# start; when that record cannot be written they are refused naming the audit log and nothing
# changed (the environment stays where it was, Locked stays Locked, the rotation stays
# pending). With the log back each runs again, audited at its start and its end, and the chain
# is intact. The fault, as in audit_fails_closed_for_identities_and_policies.sh: the audit head
# file is replaced by a directory, so no append can anchor the head.
. "$(dirname "$0")/lib.sh"

# no health check while the log is broken (its vault reads would be refused unaudited too)
cmkctl up --set supervisor.firewall=false --set clock.mode=virtual --set policy.health_interval=1h >/dev/null
setup_cmk contoso unitedstates
add=$(new_env Adding contoso unitedstates production --managed)
rem=$(new_env Removing contoso unitedstates production --managed)
lck=$(new_env Locked contoso unitedstates production --managed)
cmkctl policy add-env "$POLICY" "$rem" >/dev/null || fail "add-env $rem with a working audit log"
# a second policy on the same key, with its own identity, so that its lock is its own
id2=$(json_get "$(cmkctl policy create locking --tenant contoso --vault "$VAULT" --key "$KEY" --region unitedstates --json)" 'j["identity"]')
cmkctl vault grant "$VAULT" --principal "$id2" --perms get,wrapKey,unwrapKey >/dev/null
cmkctl policy validate locking >/dev/null
cmkctl policy add-env locking "$lck" >/dev/null || fail "add-env $lck with a working audit log"
# a lock whose cause is gone again: only the re-enable is left
cmkctl vault revoke "$VAULT" --principal "$id2" --perms unwrapKey >/dev/null
[ "$(env_field "$lck" state)" = Locked ] || fail "not locked after the revoke: $(cmkctl env cmk-status "$lck")"
[ "$(env_field "$rem" state)" = Ready ] || fail "$rem locked by another policy's identity"
cmkctl vault grant "$VAULT" --principal "$id2" --perms unwrapKey >/dev/null
# a pending rotation for the linked environments
cmkctl key rotate "$VAULT" "$KEY" >/dev/null
[ "$(json_get "$(cmkctl env cmk-status "$rem" --json)" 'j["rotation"]["status"]')" = pending ] \
    || fail "no pending rotation: $(cmkctl env cmk-status "$rem")"

head="$RUN/keys/audit.head"
[ -f "$head" ] || fail "no audit head file at $head"
rm -f "$head"; mkdir "$head"

refused() { # refused WHAT CMD... - the command fails and says it could not be audited
    local what=$1 out rc; shift
    set +e; out=$("$@" 2>&1); rc=$?; set -e
    [ $rc -ne 0 ] || fail "$what succeeded although its audit record could not be written: $out"
    grep -qi "could not be audited" <<<"$out" || fail "$what: the refusal does not name the audit log: $out"
}
refused "policy add-env" cmkctl policy add-env "$POLICY" "$add"
[ "$(env_field "$add" state)" = Ready ] || fail "add-env refused but $add is $(env_field "$add" state)"
[ "$(env_field "$add" encryption)" = microsoft ] || fail "add-env refused but $add is encrypted by $(env_field "$add" encryption)"
[ "$(env_field "$add" policy)" = None ] || fail "add-env refused but $add is in policy $(env_field "$add" policy)"
refused "policy remove-env" cmkctl policy remove-env "$rem"
[ "$(env_field "$rem" state)" = Ready ] || fail "remove-env refused but $rem is $(env_field "$rem" state)"
[ "$(env_field "$rem" encryption)" = customer ] || fail "remove-env refused but $rem left its key"
refused "env reenable" cmkctl env reenable "$lck"
[ "$(env_field "$lck" state)" = Locked ] || fail "reenable refused but $lck is $(env_field "$lck" state)"
refused "policy apply-rotation" cmkctl policy apply-rotation "$POLICY"
[ "$(json_get "$(cmkctl env cmk-status "$rem" --json)" 'j["rotation"]["status"]')" = pending ] \
    || fail "apply-rotation refused but the rotation of $rem is no longer pending"
ok "AUD-4 add-env, remove-env, env reenable and apply-rotation are refused unaudited; nothing changed"

rmdir "$head"
cmkctl clock advance 10m >/dev/null # a re-enable that had started would be complete by now
[ "$(env_field "$lck" state)" = Locked ] || fail "the refused re-enable completed anyway: $lck is $(env_field "$lck" state)"
cmkctl policy add-env "$POLICY" "$add" >/dev/null || fail "add-env still refused with the log back"
[ "$(env_field "$add" encryption)" = customer ] || fail "$add not on its customer-managed key after add-env"
cmkctl policy apply-rotation "$POLICY" >/dev/null || fail "apply-rotation still refused"
[ "$(json_get "$(cmkctl env cmk-status "$rem" --json)" 'j["rotation"]["status"]')" = applied ] \
    || fail "the rotation of $rem was not applied: $(cmkctl env cmk-status "$rem")"
cmkctl policy remove-env "$rem" >/dev/null || fail "remove-env still refused: $(cmkctl env cmk-status "$rem")"
[ "$(env_field "$rem" encryption)" = microsoft ] || fail "$rem not back on the Microsoft-managed key"
cmkctl env reenable "$lck" >/dev/null || fail "reenable still refused: $(cmkctl env reenable "$lck" 2>&1)"
cmkctl clock advance 10m >/dev/null
[ "$(env_field "$lck" state)" = Ready ] || fail "$lck not Ready after the re-enable"
cmkctl audit verify | qgrep -q intact || fail "the audit log is not intact: $(cmkctl audit verify)"
started() { # started OP TARGET - how many records of OP on TARGET say it started
    json_get "$(cmkctl audit list --operation "$1" --result ok --json)" \
        "len([e for e in (j['items'] if isinstance(j, dict) else j) if e.get('target') == '$2' and str(e.get('detail') or '').startswith('started')])"
}
for pair in "policy.link $add" "policy.unlink $rem" "env.reenable $lck" "policy.apply-rotation $(json_get "$(cmkctl policy show "$POLICY" --json)" 'j["id"]')" "rotation.apply $rem"; do
    set -- $pair
    [ "$(started "$1" "$2")" -ge 1 ] || fail "no start record of $1 on $2: $(cmkctl audit list --operation "$1")"
done
cmkctl audit list --operation policy.unlink --json | qgrep -q "back on the Microsoft-managed key" \
    || fail "the end of remove-env is not audited: $(cmkctl audit list --operation policy.unlink)"
cmkctl audit list --operation rotation.applied | qgrep -q "$rem" || fail "the end of the rotation is not audited"
ok "AUD-4 with the log back each runs again, audited when it starts and when it ends; the chain is intact"
