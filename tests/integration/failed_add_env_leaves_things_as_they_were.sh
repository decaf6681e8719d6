#!/usr/bin/env bash
# Rule POL-6b (issue 16, item 4): "if it fails, your data continues to be encrypted with
# Microsoft managed key. You can re-run the Add environments operation again." An add-env that
# fails once the flows are moving (here: the dedicated worker cannot open its partition) leaves
# the environment on the Microsoft-managed key and the shared infrastructure, its flows
# reachable and runnable, and a re-run works.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual --set request.timeout=3s >/dev/null
setup_cmk contoso unitedstates
env=$(new_env Prod contoso unitedstates production --managed)
for f in a b c; do
    cmkctl flow create --env "$env" --file "$SRC/configs/flows/manual-compose.json" --id "$f" >/dev/null
done
rid=$(json_get "$(cmkctl flow run --env "$env" a --body '{"text":"before"}' --json)" 'j["run"]')

# the dedicated worker cannot make its partition: a plain file where its directory goes
mkdir -p "$RUN/partitions/$env"
: >"$RUN/partitions/$env/dedicated"
out=$(cmkctl policy add-env "$POLICY" "$env" 2>&1) && fail "add-env succeeded with a broken partition: $out"
grep -q "stays on the Microsoft-managed key" <<<"$out" || fail "failure does not say the key is unchanged: $out"
grep -q "add-env" <<<"$out" || fail "failure does not say to run it again: $out"
[ "$(env_field "$env" encryption)" = microsoft ] || fail "failed add left encryption=$(env_field "$env" encryption)"
[ "$(env_field "$env" infrastructure)" = shared ] || fail "failed add left infrastructure=$(env_field "$env" infrastructure)"
[ "$(env_field "$env" state)" = Ready ] || fail "failed add left state=$(env_field "$env" state)"
[ "$(env_field "$env" policy)" = None ] || fail "failed add left policy=$(env_field "$env" policy)"
for f in a b c; do
    cmkctl flow show --env "$env" "$f" >/dev/null || fail "flow $f unreachable after the failed add"
done
[ "$(json_get "$(cmkctl flow run --env "$env" b --json)" 'j["status"]')" = Succeeded ] || fail "runs fail after the failed add"
cmkctl run show --env "$env" "$rid" --json | qgrep -q before || fail "run history lost"
pgrep -f -- "--run-dir $RUN.*--env $env" >/dev/null && fail "the dedicated worker still runs after the failed add"
ok "POL-6b a failed add-env leaves the environment on the Microsoft-managed key and shared infrastructure, flows reachable"

rm -f "$RUN/partitions/$env/dedicated"
cmkctl policy add-env "$POLICY" "$env" >/dev/null || fail "re-run of add-env refused: $(cmkctl policy add-env "$POLICY" "$env" 2>&1)"
[ "$(env_field "$env" encryption)" = customer ] || fail "re-run did not apply the key"
[ "$(env_field "$env" infrastructure)" = dedicated ] || fail "re-run did not move to dedicated"
for f in a b c; do
    [ "$(json_get "$(cmkctl flow run --env "$env" "$f" --json)" 'j["status"]')" = Succeeded ] || fail "flow $f does not run after the re-run"
done
ok "POL-6b re-running add-env works"

