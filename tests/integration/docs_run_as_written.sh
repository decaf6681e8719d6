#!/usr/bin/env bash
# Rule DOC-1: the README and docs/DRILLS.md run as written. Every ```sh block is taken out of the
# file and run line by line, from a directory laid out like the clone (build/, configs/,
# tests/data/ as links), with only the run directory (/tmp/c1) replaced by this test's; a
# line that fails fails the test. The states the README's comments claim are checked where
# they are claimed: the environment is Locked after `key disable` (and the output says
# "Environment disabled"), Ready again after `key enable`, `env reenable` and `clock advance 5m`;
# a line whose comment says "# exit N" must end with that status (cmk-firewall diff: 1 = changed).
# (Build and benchmark commands - make, which runs this very test - are fenced ```console.)
. "$(dirname "$0")/lib.sh"

work="$RUN/clone"
mkdir -p "$work"
ln -s "$BIN" "$work/build"
ln -s "$SRC/configs" "$work/configs"
mkdir -p "$work/tests"
ln -s "$SRC/tests/data" "$work/tests/data"
unset CMK_RUN_DIR

# sh_blocks FILE - every ```sh block, blocks separated by a line "#--block--"
sh_blocks() { awk '/^```sh[[:space:]]*$/{f=1; next} /^```/{if (f) print "#--block--"; f=0} f' "$1"; }

state_of() { json_get "$("$BIN/cmkctl" --run-dir "$RUN/c1" env show Prod --json)" 'j["state"]'; }

# run_block - the lines of a block, one by one (a line ending in \ continues), in one shell
run_file() {
    local file=$1 line cmd="" out n=0 rc want
    while IFS= read -r line; do
        if [ "$line" = "#--block--" ]; then continue; fi
        cmd+="$line"
        if [[ $line == *\\ ]]; then cmd="${cmd%\\}"; continue; fi
        [ -n "${cmd//[[:space:]]/}" ] || { cmd=""; continue; }
        cmd=${cmd//\/tmp\/c1/$RUN\/c1}
        n=$((n + 1))
        # a comment "# exit N: ..." says which status the line ends with (default 0)
        want=0; [[ $cmd =~ \#\ exit\ ([0-9]+) ]] && want=${BASH_REMATCH[1]}
        rc=0; out=$(cd "$work" && eval "$cmd" 2>&1) || rc=$?
        [ "$rc" = "$want" ] || fail "$file, command $n exited $rc (its comment says $want): $cmd
$out"
        case $cmd in
        *"key disable"*)
            [ "$(state_of)" = Locked ] || fail "README: after key disable the environment is $(state_of), not Locked"
            grep -q "Environment disabled" <<<"$out" || fail "README: key disable does not show the lock: $out"
            grep -q "cmkctl key enable" <<<"$out" || fail "README: key disable does not name the way back: $out"
            ok "README: key disable locks Prod and says so" ;;
        *"clock advance 5m"*)
            wait_until 10 test "$(state_of)" = Ready || fail "README: after reenable and clock advance the environment is $(state_of)"
            ok "README: Prod is Ready after key enable, env reenable, clock advance 5m" ;;
        *"policy create"*)
            grep -q "cmkctl policy grant-identity" <<<"$out" || fail "README: policy create does not name policy grant-identity: $out"
            [ "$(grep -o "cmkctl [a-z-]* grant[a-z-]*" <<<"$out" | sort -u | wc -l)" = 1 ] || fail "README: policy create names more than one grant command: $out"
            ok "README: policy create names one grant command, policy grant-identity" ;;
        esac
        # the README's C="..." and T=... must carry to the next lines
        if [[ $cmd =~ ^[A-Z]+= ]]; then eval "${cmd//build\//$work/build/}"; fi
        cmd=""
    done < <(sh_blocks "$SRC/$file")
    [ "$n" -gt 0 ] || fail "$file has no sh block"
    ok "$file: $n commands ran as written"
}

run_file README.md
[ ! -e "$RUN/c1/controller.lock" ] || fail "README: down left the lock file behind"

run_file docs/DRILLS.md
ls "$work/reports/"*.md >/dev/null 2>&1 || fail "DRILLS.md: the drill wrote no report in reports/"
ok "docs/DRILLS.md: the drill and the real service-tag files run as written"
