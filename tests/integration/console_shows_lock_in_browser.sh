#!/usr/bin/env bash
# Rules CONSOLE-1..3 in a real browser (Debian's chromium, headless) against the console of a
# running cluster: CONSOLE-1 every request without the token gets 401, the token arrives once
# in the query and becomes an HttpOnly SameSite=Strict cookie (or comes as a bearer header),
# the console only reads; CONSOLE-2 the environments page lists the environments with type,
# region and encryption; CONSOLE-3 after `key disable` the environment shows Locked and
# "Environment disabled" within seconds, and Ready again after `key enable`, `env reenable`
# and `clock advance 5m`. Saves a screenshot of the locked environment under the build
# directory (console-locked.png). One headless chromium start and page load takes 5-30 s on a
# busy 2-core machine, so the test has a longer ctest timeout (tests/CMakeLists.txt).
. "$(dirname "$0")/lib.sh"

# CMK_CHROMIUM names another browser binary ("" to see the skip)
CHROMIUM=${CMK_CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ] || ! command -v "$CHROMIUM" >/dev/null; then
    echo "SKIP: $TEST_NAME: chromium is not installed (\`make\` installs it when run as root; otherwise: sudo apt-get install chromium)"
    exit 77
fi
command -v curl >/dev/null || fail "curl is not installed (make deps installs it)"
PROFILE="$RUN/chromium-profile"
mkdir -p "$PROFILE"

# browse URL ARGS... - run headless chromium on URL (a fresh browser: the session cookie does not
# outlive it, so every load brings the token in the query and follows the redirect with the
# cookie); --virtual-time-budget lets the page's fetches and timers run first
browse() {
    local url=$1; shift
    HOME="$RUN" timeout 150 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --no-default-browser-check --disable-extensions --disable-crash-reporter \
        --user-data-dir="$PROFILE" --virtual-time-budget=3000 "$@" "$url" 2>>"$RUN/chromium.err"
}
# dom - the rendered page, into $RUN/dom.html
dom() {
    local t=$(date +%s%3N)
    browse "$URL" --dump-dom >"$RUN/dom.html"
    LOAD_MS=$(( $(date +%s%3N) - t ))
}
# row_state ENV - the State of ENV's row on the environments page ("" if not listed)
row_state() { grep -o "data-env=\"$1\" data-state=\"[A-Za-z]*\"" "$RUN/dom.html" | head -1 | sed 's/.*data-state="//; s/"//'; }
# page_shows ENV STATE [TEXT] - the page shows ENV in STATE (and TEXT somewhere)
page_shows() {
    dom || return 1
    [ "$(row_state "$1")" = "$2" ] || return 1
    [ -z "${3:-}" ] || qgrep -q "$3" "$RUN/dom.html"
}
# wait_page SECONDS ENV STATE [TEXT] - poll the page (each load takes a few seconds) until it shows
wait_page() {
    local deadline=$(( $(date +%s) + $1 )); shift
    while [ "$(date +%s)" -lt "$deadline" ]; do
        page_shows "$@" && return 0
        sleep 0.5
    done
    return 1
}

out=$(cmkctl up --set clock.mode=virtual)
URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/?token=[0-9a-f]*' <<<"$out") || fail "cmkctl up printed no console URL: $out"
BASE=${URL%%/\?token=*}
TOKEN=${URL##*token=}
[ "$(cat "$RUN/console.token")" = "$TOKEN" ] || fail "the printed token is not the one in console.token"
[ "$(stat -c %a "$RUN/console.token")" = 600 ] || fail "console.token is not mode 0600"
[ "$(cat "$RUN/console.http")" = "${BASE#http://}" ] || fail "console.http does not name the printed address"
ok "cmkctl up prints the console URL ($BASE) with its token (console.token, 0600)"

# CONSOLE-1: the token or nothing
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
for path in / /index.html /app.js /api/world /api/health /api/reports/x.md /nosuch; do
    [ "$(code "$BASE$path")" = 401 ] || fail "GET $path without the token is not 401"
done
[ "$(code "$BASE/?token=0000")" = 401 ] || fail "a wrong token in the query is not 401"
WRONG=$([ "${TOKEN:0:1}" = a ] && echo b || echo a)${TOKEN:1}
[ "$(code -H "Authorization: Bearer $WRONG" "$BASE/api/world")" = 401 ] || fail "a wrong bearer token is not 401"
[ "$(code -b "cmk_console=$WRONG" "$BASE/api/world")" = 401 ] || fail "a wrong cookie is not 401"
[ "$(code -b "cmk_console=$TOKEN" -H "Authorization: Bearer $TOKEN" -X POST "$BASE/api/world")" = 405 ] || fail "POST is not refused"
hdr=$(curl -s -D - -o /dev/null "$URL")
grep -qi '^set-cookie: cmk_console=[0-9a-f]*; Path=/; HttpOnly; SameSite=Strict' <<<"$hdr" || fail "the token does not become an HttpOnly SameSite=Strict cookie: $hdr"
grep -qi '^location: /' <<<"$hdr" || fail "the token stays in the URL: $hdr"
grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" <<<"$hdr" || fail "no Content-Security-Policy: $hdr"
[ "$(code -b "cmk_console=$TOKEN" "$BASE/api/health")" = 200 ] || fail "the cookie is not accepted"
[ "$(code -H "Authorization: Bearer $TOKEN" "$BASE/api/health")" = 200 ] || fail "the bearer token is not accepted"
ok "CONSOLE-1: 401 without the token; query token -> HttpOnly SameSite=Strict cookie; bearer works; POST refused"

# a CMK environment (the README's rehearsal) and a Microsoft-managed sandbox
setup_cmk contoso unitedstates
PROD=$(new_env Prod contoso unitedstates production --managed)
DEV=$(new_env Dev contoso unitedstates sandbox --managed)
cmkctl flow create --env Prod --file "$SRC/configs/flows/manual-compose.json" --id hello >/dev/null
cmkctl policy add-env "$POLICY" Prod >/dev/null
cmkctl vault grant "$VAULT" --principal console --perms get,list >/dev/null
for i in 1 2 3; do cmkctl flow run --env Prod hello --body '{"text":"console"}' >/dev/null; done
[ "$(env_field "$PROD" state)" = Ready ] || fail "Prod is not Ready before the test"

# CONSOLE-2: the environments page lists the environments
wait_page 60 "$PROD" Ready || fail "the page does not list Prod as Ready: $(head -c 3000 "$RUN/dom.html"; tail -5 "$RUN/chromium.err")"
[ "$(row_state "$DEV")" = Ready ] || fail "the page does not list Dev"
python3 - "$RUN/dom.html" "$PROD" "$DEV" <<'PY' || fail "the environments table lacks a column value"
import re, sys
html = open(sys.argv[1]).read()
def row(env):
    m = re.search(r'<tr data-env="%s".*?</tr>' % env, html, re.S)
    assert m, env
    return re.sub(r"<[^>]+>", " ", m.group(0))
prod, dev = row(sys.argv[2]), row(sys.argv[3])
for want in ("Prod", "Production", "unitedstates", "contoso", "Customer-managed key", "contoso-cmk", "dedicated"):
    assert want in prod, (want, prod)
for want in ("Dev", "Sandbox", "Microsoft-managed key", "shared"):
    assert want in dev, (want, dev)
assert "contoso-kv" in html and "cmk" in html, "the key vault is not shown"
PY
ok "CONSOLE-2: the environments page lists Prod (production, customer-managed key) and Dev (sandbox, Microsoft-managed key)"

# CONSOLE-3: key disabled -> Locked with "Environment disabled" and the deletion date
# api_locked - the console's JSON (what the page polls every second) shows Prod Locked (grep,
# not python: on a loaded machine python's start alone can take a second)
api_state() {
    curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/world" | qgrep -q "\"id\":\"$PROD\"[^{}]*\"state\":\"$1\""
}
api_locked() { api_state Locked; }
api_state Ready || fail "the console's JSON does not show Prod Ready before the key is disabled"
t0=$(date +%s)
t0ms=$(date +%s%3N)
cmkctl key disable "$VAULT" "$KEY" >/dev/null
wait_until 5 api_locked || fail "the console's /api/world does not show Prod Locked within 5 s of key disable"
ok "CONSOLE-3: the console's data shows Prod Locked $(( $(date +%s%3N) - t0ms )) ms after key disable"
wait_page 45 "$PROD" Locked "class=\"banner\" data-env=\"$PROD\"><span class=\"icon\">!</span><div><b>Environment disabled</b>" || fail "the page does not show Prod Locked with 'Environment disabled': $(grep -o 'data-env="[^"]*" data-state="[^"]*"' "$RUN/dom.html")"
grep -q "Deleted on" "$RUN/dom.html" || fail "the page does not show the deletion due date"
grep -q "is disabled" "$RUN/dom.html" || fail "the page does not show the lock's cause"
ok "CONSOLE-3: Locked and 'Environment disabled' (with cause and deletion date) in the browser's page $(( $(date +%s) - t0 ))s after key disable (one headless chromium start and page load took ${LOAD_MS} ms here)"
browse "$URL" --window-size=1360,1500 --hide-scrollbars --screenshot="$BIN/console-locked.png" >/dev/null
[ -s "$BIN/console-locked.png" ] || fail "no screenshot of the locked environment"

cmkctl key enable "$VAULT" "$KEY" >/dev/null
cmkctl env reenable Prod >/dev/null
cmkctl clock advance 5m >/dev/null
wait_page 45 "$PROD" Ready || fail "the page does not show Prod Ready again: $(grep -o 'data-env="[^"]*" data-state="[^"]*"' "$RUN/dom.html")"
! grep -q "class=\"banner\" data-env=\"$PROD\"" "$RUN/dom.html" || fail "the 'Environment disabled' banner stays after re-enable"
ok "CONSOLE-3: Ready again after key enable, env reenable and clock advance 5m"
ok "screenshot of the locked environment: $BIN/console-locked.png"

# the console is supervised like the others: killed, it comes back on the same port and token
pid=$(json_get "$(cmkctl status --json)" '[p["pid"] for p in j["processes"] if p["name"]=="console"][0]')
kill -9 "$pid"
back() { [ "$(code -H "Authorization: Bearer $TOKEN" "$BASE/api/health")" = 200 ] && [ "$(json_get "$(cmkctl status --json)" '[p["pid"] for p in j["processes"] if p["name"]=="console"][0]')" != "$pid" ]; }
wait_until 20 back || fail "the console did not come back on $BASE after SIGKILL"
ok "the console restarted after SIGKILL on the same address with the same token"
