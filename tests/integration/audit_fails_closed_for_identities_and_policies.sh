#!/usr/bin/env bash
# Rule AUD-4: the operations an admin makes on who may do what and on policies fail closed like
# the vault's: when their audit record cannot be written, `identity add`, `identity remove`,
# `policy create`, `policy delete` and `support raise-cmk-limit` are refused naming the audit
# log, and nothing changed (no identity, no key file, no policy, the limit as it was); once the
# log can be written again they succeed and the chain is intact. The fault: the audit head
# file (keys/audit.head, renamed into place on every append) is replaced by a directory, so no
# append can anchor the head - the operations' own writes would still succeed.
. "$(dirname "$0")/lib.sh"

cmkctl up --set supervisor.firewall=false >/dev/null
setup_cmk contoso unitedstates
cmkctl identity add keeper --role reader >/dev/null || fail "identity add with a working audit log"
limit=$(json_get "$(cmkctl tenant show contoso --json)" 'j.get("cmk_env_limit")')

head="$RUN/keys/audit.head"
[ -f "$head" ] || fail "no audit head file at $head"
rm -f "$head"; mkdir "$head"

refused() { # refused WHAT CMD... - the command fails and says it could not be audited
    local what=$1 out rc; shift
    set +e; out=$("$@" 2>&1); rc=$?; set -e
    [ $rc -ne 0 ] || fail "$what succeeded although its audit record could not be written: $out"
    grep -qi "could not be audited" <<<"$out" || fail "$what: the refusal does not name the audit log: $out"
}
refused "identity add" cmkctl identity add intruder --role admin
cmkctl identity list --json | qgrep -q '"intruder"' && fail "identity 'intruder' was added unaudited"
[ ! -e "$RUN/keys/intruder.key" ] || fail "identity 'intruder' left its key file behind"
refused "identity remove" cmkctl identity remove keeper
cmkctl identity list --json | qgrep -q '"keeper"' || fail "identity 'keeper' was removed unaudited"
refused "policy create" cmkctl policy create shadow --tenant contoso --vault "$VAULT" --key "$KEY" --region unitedstates
cmkctl policy list --json | qgrep -q '"shadow"' && fail "policy 'shadow' was created unaudited"
refused "policy delete" cmkctl policy delete "$POLICY"
json_get "$(cmkctl policy show "$POLICY" --json)" 'j["state"]' | qgrep -qv Disabled || fail "policy deleted unaudited"
refused "support raise-cmk-limit" cmkctl support raise-cmk-limit --tenant contoso --to 40
[ "$(json_get "$(cmkctl tenant show contoso --json)" 'j.get("cmk_env_limit")')" = "$limit" ] \
    || fail "the CMK limit changed unaudited"
ok "AUD-4 identity add/remove, policy create/delete and the limit ticket are refused unaudited; nothing changed"

rmdir "$head"
cmkctl identity add intruder --role reader >/dev/null || fail "identity add still refused with the log back"
cmkctl identity remove keeper >/dev/null || fail "identity remove still refused"
cmkctl policy create shadow --tenant contoso --vault "$VAULT" --key "$KEY" --region unitedstates >/dev/null \
    || fail "policy create still refused"
cmkctl policy delete shadow >/dev/null || fail "policy delete still refused"
cmkctl support raise-cmk-limit --tenant contoso --to 40 >/dev/null || fail "raise-cmk-limit still refused"
cmkctl audit verify | qgrep -q intact || fail "the audit log is not intact: $(cmkctl audit verify)"
for op in identity.add identity.remove policy.create policy.delete support.raise-cmk-limit; do
    n=$(json_get "$(cmkctl audit list --operation "$op" --result ok --json)" 'len(j["items"]) if isinstance(j, dict) else len(j)')
    [ "$n" -ge 1 ] || fail "no audit entry for $op: $(cmkctl audit list --operation "$op")"
done
ok "AUD-4 with the log back each of them runs again, audited, and the chain is intact"
