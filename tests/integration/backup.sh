#!/bin/bash
# Backup and restore end to end: known bytes in a service's volume are
# backed up (hooks run, manifest hashes match the files), corrupted, and
# restored, with the dependent stopped first and started last; the safety
# backup undoes the restore; --verify catches a flipped byte and restore
# refuses a damaged backup; a failing hook fails loudly and leaves no
# backup; retention keeps `keep` manual backups.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
write_db() {	# pre-hook-command
	unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup:
  paths: ["/data"]
  pre: ["sh", "-c", "$1"]
  post: ["sh", "-c", "rm -f /data/dump.txt"]
  keep: 3
EOF
}
write_db "echo dumped > /data/dump.txt"
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

bk_ids() { sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4; }
payload_sum() { docker exec "$IT_STACK-db-1" sha256sum /data/payload | cut -d' ' -f1; }
bkdir() { echo "$IT_STATE/backups/$IT_STACK/$1"; }

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/payload bs=64k count=16 2>/dev/null ||
    fail "writing the payload"
want=$(payload_sum)

# ---- backup: quiet on success, hooks, manifest ----------------------------
out=$(sctl backup --stack "$IT_STACK" --quiet 2>&1) || fail "backup: $out"
assert_eq "$out" "" "backup --quiet output"
id=$(bk_ids | tail -1)
[ -n "$id" ] || fail "backups lists nothing after a backup"
m=$(cat "$(bkdir "$id")/manifest.json")
assert_match "$m" '"result": "ok"' "manifest result"
assert_match "$m" '"service": "db"' "manifest service"
tarsum=$(sha256sum "$(bkdir "$id")/db-0.tar" | cut -d' ' -f1)
assert_match "$m" "\"sha256\": \"$tarsum\"" "manifest sha256 of db-0.tar"
tar -tf "$(bkdir "$id")/db-0.tar" | grep -qx 'data/dump.txt' ||
    fail "the pre hook's dump is not in the archive"
tar -tf "$(bkdir "$id")/db-0.tar" | grep -qx 'data/payload' || fail "payload not in the archive"
docker exec "$IT_STACK-db-1" test ! -e /data/dump.txt || fail "the post hook did not run"
ls -d "$IT_STATE/backups/$IT_STACK/"*.partial 2>/dev/null && fail "partial backup left behind"
ok "backup $id: hooks ran, manifest sha256 matches the tar, quiet on success"

# ---- restore: original bytes back, dependents stopped first ---------------
docker exec "$IT_STACK-db-1" sh -c 'echo garbage > /data/payload' || fail "corrupting"
[ "$(payload_sum)" != "$want" ] || fail "corruption did not change the payload"
# The engine keeps few past events for --since (256 on 20.10), and tests
# running alongside make many: follow the restore's live from before it.
t0=$(date +%s.%N)
docker events --since "$t0" \
    --filter "label=io.shipd.stack=$IT_STACK" --filter event=die --filter event=start \
    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.shipd.service"}}' \
    > "$IT_DIR/events" &
evpid=$!
it_at_exit 'kill "$evpid" 2>/dev/null'
out=$(sctl restore --stack "$IT_STACK" "$id" 2>&1) || fail "restore: $out"
assert_eq "$(payload_sum)" "$want" "payload after restore"
safety=$(printf '%s\n' "$out" | sed -n 's/.*safety backup \([0-9-]*\)$/\1/p')
[ -n "$safety" ] || fail "restore did not name its safety backup: $out"
wait_until 30 sh -c '[ "$(wc -l < "$1")" -ge 4 ]' _ "$IT_DIR/events" ||
    fail "4 die/start events did not come: $(cat "$IT_DIR/events")"
kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null || true
order=$(sort -n "$IT_DIR/events" | awk '{print $2 ":" $3}' | tr '\n' ' ')
assert_eq "$order" "die:api die:db start:db start:api " "stop/start order"
# shipd's gate probes with the unit's check itself; the engine's own
# health status may still say starting.
docker exec "$IT_STACK-api-1" /bin/svc-check >/dev/null ||
    fail "api is not healthy after the restore"
ok "restore put the original bytes back; api stopped before db and started after it"

# ---- the safety backup undoes the restore ----------------------------------
sctl restore --stack "$IT_STACK" --quiet "$safety" >/dev/null 2>&1 || fail "restore of the safety backup"
assert_eq "$(docker exec "$IT_STACK-db-1" cat /data/payload)" garbage "payload after undo"
sctl restore --stack "$IT_STACK" --quiet "$id" >/dev/null 2>&1 || fail "restore again"
assert_eq "$(payload_sum)" "$want" "payload after restoring again"
ok "the safety backup holds what the restore replaced"

# ---- verify: intact, then a flipped byte ------------------------------------
out=$(sctl backup --verify "$id" 2>&1) || fail "verify of an intact backup: $out"
assert_match "$out" "intact" "verify output"
tarf=$(bkdir "$id")/db-0.tar
b=$(od -An -tu1 -j 700 -N1 "$tarf" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the one byte, as an escape
printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$tarf" bs=1 seek=700 conv=notrunc 2>/dev/null
rc=0
out=$(sctl backup --verify "$id" 2>&1) || rc=$?
assert_eq "$rc" 1 "verify exit status on a damaged backup"
assert_match "$out" "damaged" "verify output on a damaged backup"
assert_match "$out" "db-0.tar: sha256" "verify names the file"
assert_match "$(sctl backups --stack "$IT_STACK")" "DAMAGED" "backups shows the failed verification"
docker exec "$IT_STACK-db-1" sh -c 'echo after > /data/payload'
rc=0
out=$(sctl restore --stack "$IT_STACK" "$id" 2>&1) || rc=$?
assert_eq "$rc" 1 "restore of a damaged backup"
assert_match "$out" "nothing was restored" "restore of a damaged backup"
assert_eq "$(docker exec "$IT_STACK-db-1" cat /data/payload)" after "data after a refused restore"
ok "--verify catches a flipped byte; restore refuses the damaged backup"

# ---- a failing hook fails the backup, loudly --------------------------------
before=$(bk_ids | wc -l)
write_db "echo cannot dump >&2; exit 3"
sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy with a failing hook"
rc=0
out=$(sctl backup --stack "$IT_STACK" --quiet 2>&1) || rc=$?
assert_eq "$rc" 1 "backup exit status with a failing pre hook"
assert_match "$out" "pre hook failed \\(exit 3\\): cannot dump" "failure message"
assert_eq "$(bk_ids | wc -l)" "$before" "backups after a failed one"
ls -d "$IT_STATE/backups/$IT_STACK/"*.partial 2>/dev/null && fail "partial backup left behind"
ok "a failing pre hook fails the backup with its output and leaves no backup"

# ---- retention: keep 3 ------------------------------------------------------
write_db "true"
sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy"
for i in 1 2 3 4; do
	sctl backup --stack "$IT_STACK" --quiet || fail "backup $i"
done
# Classes are counted apart (backup_retain.sh): the 3 newest manual ones.
ids=$(sctl --json backups --stack "$IT_STACK" |
    jq -r '.backups[] | select(.class == "manual") | .id')
assert_eq "$(printf '%s\n' "$ids" | wc -l)" 3 "manual backups kept"
printf '%s\n' "$ids" | grep -qx "$id" && fail "the oldest backup was not pruned"
ok "retention keeps the 3 newest manual backups"
stop_shipd
