#!/usr/bin/env bash
# Rules ENVOP-1..6 (seed 003, "Environment database operations"): a backup is sealed under the
# environment's current key and its file holds no flow in the clear; it restores into the same
# environment or another under the same customer-managed key, never under another key or the
# Microsoft-managed key; a backup taken under the Microsoft-managed key can't be restored after
# the environment came under a customer-managed key; copy overwrites only another environment
# with the same customer-managed key (two Microsoft-managed ones may); restore, copy and backup
# are refused while the environment is locked; reset is for sandboxes only, deletes the flows
# and the backups and returns the environment to the Microsoft-managed key. Every operation,
# allowed or refused, is audited.
. "$(dirname "$0")/lib.sh"

cmkctl up --set clock.mode=virtual >/dev/null
setup_cmk contoso unitedstates
a=$(new_env SandA contoso unitedstates sandbox --managed)
b=$(new_env SandB contoso unitedstates sandbox --managed)
c=$(new_env SandC contoso unitedstates sandbox --managed)
m=$(new_env Plain contoso unitedstates sandbox --managed)
p=$(new_env Prod contoso unitedstates production --managed)

cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id greet --name "Canary Greeting Flow" >/dev/null
cmkctl flow create --env "$a" --file "$SRC/configs/flows/recurrence-compose.json" --id beat --name "Canary Heartbeat" >/dev/null
cmkctl flow run --env "$a" greet --body '{"text":"before"}' >/dev/null

names_of() { json_get "$(cmkctl flow list --env "$1" --json)" '" | ".join(sorted(f["name"] for f in j["items"]))'; }
restore_refused() { # BACKUP TARGET PATTERN WHAT
    local out
    if out=$(cmkctl env restore "$1" --to "$2" --yes 2>&1); then fail "$4: restore allowed: $out"; fi
    grep -qF -- "$3" <<<"$out" || fail "$4: wrong refusal: $out"
}
copy_refused() { # SOURCE TARGET PATTERN WHAT
    local out
    if out=$(cmkctl env copy "$1" "$2" --yes 2>&1); then fail "$4: copy allowed: $out"; fi
    grep -qF -- "$3" <<<"$out" || fail "$4: wrong refusal: $out"
}

# ---- a backup taken on the Microsoft-managed key
r=$(cmkctl env backup "$a" --label mmk-era --json)
mmk_bak=$(json_get "$r" 'j["id"]')
[ "$(json_get "$r" 'j["encryption_at_backup"]')" = microsoft ] || fail "MMK backup state: $r"
[ "$(json_get "$r" 'j["wrapped_by"]')" = "Microsoft-managed key" ] || fail "MMK backup key: $r"

# ---- A and B come under the policy's key; C under another key
cmkctl policy add-env "$POLICY" "$a" >/dev/null
cmkctl policy add-env "$POLICY" "$b" >/dev/null
cmkctl vault create other-kv --tenant contoso --region unitedstates --purge-protection >/dev/null
cmkctl key create other-kv k2 >/dev/null
id2=$(json_get "$(cmkctl policy create other-cmk --tenant contoso --vault other-kv --key k2 --region unitedstates --json)" 'j["identity"]')
cmkctl vault grant other-kv --principal "$id2" --perms get,wrapKey,unwrapKey >/dev/null
cmkctl policy validate other-cmk >/dev/null
cmkctl policy add-env other-cmk "$c" >/dev/null
for e in "$a" "$b" "$c"; do
    [ "$(env_field "$e" encryption)" = customer ] || fail "$e not on a customer key: $(cmkctl env cmk-status "$e")"
done

restore_refused "$mmk_bak" "$a" "a past backup taken when the environment was encrypted with the Microsoft-managed key can't be restored to an environment that is currently encrypted with the customer-managed key" "MMK-era backup into the same env under CMK"
ok "ENVOP-2 a backup taken under the Microsoft-managed key can't be restored after the environment came under a customer-managed key"

# ---- a backup under the customer key: sealed, nothing in the clear
r=$(cmkctl env backup "$a" --label cmk --json)
bak=$(json_get "$r" 'j["id"]'); file=$(json_get "$r" 'j["path"]')
[ "$(json_get "$r" 'j["encryption_at_backup"]')" = customer ] || fail "CMK backup state: $r"
[ "$(json_get "$r" 'j["wrapped_by"]')" = "customer-managed key" ] || fail "CMK backup key: $r"
[ "$(json_get "$r" 'j["flows"]')" = 2 ] || fail "backup should hold 2 flows: $r"
[ -f "$file" ] && [ "$(stat -c %a "$file")" = 600 ] || fail "backup file missing or not 0600: $file"
[ "$(head -c 8 "$file")" = "CMKBAK1" ] || fail "backup file header"
for s in "Canary Greeting Flow" "Canary Heartbeat" "Hello @{triggerBody" "heartbeat" "Compose"; do
    if grep -aqF -- "$s" "$file"; then fail "backup file holds '$s' in the clear"; fi
done
l=$(cmkctl env backups "$a" --json)
json_get "$l" '[b["id"] for b in j["items"]]' | qgrep -q "$bak" || fail "backup not listed: $l"
json_get "$l" '[b["wrapped_by"] for b in j["items"] if b["id"]=="'"$bak"'"][0]' | qgrep -q "^contoso-kv/cmk/" || fail "wrap not named: $l"
json_get "$l" '[b["encryption_at_backup"] for b in j["items"] if b["id"]=="'"$mmk_bak"'"][0]' | qgrep -q microsoft || fail "MMK-era state not listed: $l"
# a flipped byte in the file is refused, and the original restores
cp "$file" "$RUN/orig.bak"
python3 - "$file" <<'EOF'
import sys
p = sys.argv[1]; d = bytearray(open(p, 'rb').read()); d[len(d) // 2] ^= 1; open(p, 'wb').write(d)
EOF
restore_refused "$bak" "$a" "does not open" "tampered backup file"
cp "$RUN/orig.bak" "$file"
ok "ENVOP-6 a backup is sealed under a fresh data key wrapped by the environment's customer key; its file holds no flow in the clear and a changed byte is refused"

# ---- restore into itself: what changed after the backup goes back
cmkctl flow delete --env "$a" greet >/dev/null
cmkctl flow update --env "$a" beat --name "Renamed After Backup" >/dev/null
cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id extra --name "Made After Backup" >/dev/null
r=$(cmkctl env restore "$bak" --yes --json)
[ "$(json_get "$r" 'j["flows"]')" = 2 ] && [ "$(json_get "$r" 'j["new_ids"]')" = False ] || fail "restore into itself: $r"
[ "$(names_of "$a")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "flows after restore: $(names_of "$a")"
cmkctl flow show --env "$a" greet --json | qgrep -qF "Hello @{triggerBody" || fail "definition not restored"
[ "$(json_get "$(cmkctl flow run --env "$a" greet --body '{"text":"after"}' --json)" 'j["status"]')" = Succeeded ] || fail "restored flow does not run"

# ---- into another environment under the same key: new ids, same names and definitions
cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id bonly --name "B Only" >/dev/null
r=$(cmkctl env restore "$bak" --to "$b" --yes --json)
[ "$(json_get "$r" 'j["new_ids"]')" = True ] || fail "restore into B: $r"
[ "$(names_of "$b")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "flows of B after restore: $(names_of "$b")"
gid=$(json_get "$(cmkctl flow list --env "$b" --json)" '[f["id"] for f in j["items"] if f["name"]=="Canary Greeting Flow"][0]')
[ "$gid" != greet ] || fail "a flow restored into another environment kept its id"
[ "$(json_get "$(cmkctl flow run --env "$b" "$gid" --body '{"text":"b"}' --json)" 'j["status"]')" = Succeeded ] || fail "restored flow in B does not run"
cmkctl flow show --env "$a" greet >/dev/null || fail "A's flow disappeared when restoring into B"

restore_refused "$bak" "$c" "a backup can be restored only to the environment it was taken from ('SandA') or to another environment encrypted with the same customer-managed key" "another customer key"
restore_refused "$bak" "$m" "restoring a backup is allowed only when the environment's current encryption state matches the state when the backup was taken" "Microsoft-managed target"
ok "ENVOP-1 a backup restores into its own environment or another under the same customer-managed key (new flow ids), not under another key or the Microsoft-managed key"

# ---- copy
cmkctl flow create --env "$m" --file "$SRC/configs/flows/manual-compose.json" --id plain --name "Plain Flow" >/dev/null
copy_refused "$a" "$c" "the environment to overwrite is restricted to another environment encrypted with the same customer-managed key" "copy to another customer key"
copy_refused "$a" "$m" "the environment to overwrite is restricted to another environment encrypted with the same customer-managed key" "copy to a Microsoft-managed env"
copy_refused "$m" "$a" "the environment to overwrite is restricted to another environment encrypted with the same customer-managed key" "copy from a Microsoft-managed env"
cmkctl flow create --env "$b" --file "$SRC/configs/flows/manual-compose.json" --id bextra --name "B Extra" >/dev/null
r=$(cmkctl env copy "$a" "$b" --yes --json)
[ "$(names_of "$b")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "B after copy: $(names_of "$b") ($r)"
cmkctl env copy "$m" "$p" --yes >/dev/null || fail "copy between two Microsoft-managed environments refused"
[ "$(names_of "$p")" = "Plain Flow" ] || fail "Prod after copy: $(names_of "$p")"
ok "ENVOP-3 copy overwrites only another environment with the same customer-managed key (two Microsoft-managed ones may)"

# ---- locked: restore, copy, backup, reset refused; nothing lost
cmkctl key disable "$VAULT" "$KEY" >/dev/null
[ "$(env_field "$a" state)" = Locked ] && [ "$(env_field "$b" state)" = Locked ] || fail "not locked: $(cmkctl env cmk-status "$a")"
restore_refused "$bak" "$a" "locked environments can't be restored from backup" "restore into a locked env"
copy_refused "$a" "$b" "locked environments can't be copied from or to" "copy of a locked env"
out=$(cmkctl env backup "$a" 2>&1) && fail "backup of a locked env allowed: $out"
grep -qF "is locked" <<<"$out" || fail "backup of a locked env: $out"
out=$(cmkctl env reset "$a" --yes 2>&1) && fail "reset of a locked env allowed: $out"
grep -qF "a locked environment can't be reset" <<<"$out" || fail "reset of a locked env: $out"
cmkctl key enable "$VAULT" "$KEY" >/dev/null
cmkctl env reenable "$a" >/dev/null && cmkctl env reenable "$b" >/dev/null
cmkctl clock advance 5m >/dev/null
[ "$(env_field "$a" state)" = Ready ] || fail "A not Ready after re-enable"
[ "$(names_of "$a")" = "Canary Greeting Flow | Canary Heartbeat" ] || fail "A lost flows while locked"
cmkctl env restore "$bak" --yes >/dev/null || fail "restore refused after re-enable"
ok "ENVOP-4 restore and copy (and backup and reset) are refused while the environment is locked"

# ---- reset
out=$(cmkctl env reset "$p" --yes 2>&1) && fail "reset of production allowed: $out"
grep -qF "only sandbox environments can be reset" <<<"$out" || fail "reset of production: $out"
[ "$(names_of "$p")" = "Plain Flow" ] || fail "a refused reset deleted data"
cmkctl env backup "$a" --label last >/dev/null
r=$(cmkctl env reset "$a" --yes --json)
[ "$(json_get "$r" 'j["backups_deleted"]')" = 3 ] || fail "reset should delete 3 backups: $r"
[ -z "$(names_of "$a")" ] || fail "flows left after reset: $(names_of "$a")"
[ ! -e "$file" ] || fail "backup file left after reset"
[ "$(json_get "$(cmkctl env backups "$a" --json)" 'len(j["items"])')" = 0 ] || fail "backups listed after reset"
on_mmk() { [ "$(json_get "$(cmkctl env show "$1" --json)" 'j["encryption"], j["policy"], j["state"]')" = "microsoft None Ready" ]; }
wait_until 30 on_mmk "$a" || fail "not back on the Microsoft-managed key after reset: $(cmkctl env show "$a")"
[ "$(json_get "$(cmkctl env byok-state "$a" --json 2>/dev/null)" 'j["managed_by"]')" = Microsoft ] || fail "BYOK view after reset"
restore_refused "$mmk_bak" "$a" "no backup" "a backup deleted by reset"
cmkctl flow create --env "$a" --file "$SRC/configs/flows/manual-compose.json" --id fresh --name "After Reset" >/dev/null
[ "$(json_get "$(cmkctl flow run --env "$a" fresh --body '{"text":"x"}' --json)" 'j["status"]')" = Succeeded ] || fail "reset env does not run flows"
ok "ENVOP-5 reset (sandbox only) deletes the flows and the backups and returns the environment to the Microsoft-managed key"

# ---- every operation audited, allowed or refused
for o in env.backup env.restore env.copy env.reset; do
    l=$(cmkctl audit list --operation "$o" --json)
    json_get "$l" 'sum(1 for e in (j["items"] if isinstance(j, dict) else j) if e["result"] == "ok")' | qgrep -qv '^0$' || fail "$o: no allowed entry: $l"
    json_get "$l" 'sum(1 for e in (j["items"] if isinstance(j, dict) else j) if e["result"] != "ok")' | qgrep -qv '^0$' || fail "$o: no refused entry"
done
cmkctl audit verify >/dev/null || fail "audit chain"
ok "ENVOP-1..6 every backup, restore, copy and reset is audited, allowed or refused"
