#!/bin/bash
# A container killed while its archive streams fails the backup cleanly
# (nothing marked good, nothing partial left); a second backup of the
# same stack meanwhile is refused by the stack lock; and a
# shipd stopped mid-backup exits cleanly, the next backup clearing what
# the interrupted one left.  SHIPD_TEST_BACKUP_BPS slows shipd's writes
# so the stream is still running when the test acts.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
backup: {paths: ["/data"]}
EOF

partial_size() {	# bytes of the archive being written, 0 if none
	local f

	f=$(find "$IT_STATE/backups/$IT_STACK" -path '*.partial/db-0.tar' 2>/dev/null | head -1)
	[ -n "$f" ] && stat -c %s "$f" 2>/dev/null || echo 0
}
streaming() { [ "$(partial_size)" -ge "$1" ]; }
bk_count() { sctl --json backups --stack "$IT_STACK" | grep -o '"id":"' | wc -l; }

SHIPD_TEST_BACKUP_BPS=4M start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/big bs=1M count=16 2>/dev/null ||
    fail "writing 16 MiB"

# ---- killed mid-stream ------------------------------------------------------
sctl backup --stack "$IT_STACK" > "$IT_DIR/backup.out" 2>&1 &
bk=$!
wait_until 20 streaming 1048576 || fail "the archive never started streaming"

rc=0
out=$(sctl backup --stack "$IT_STACK" 2>&1) || rc=$?
assert_eq "$rc" 6 "a second backup while one runs (busy)"
assert_match "$out" "busy: backup" "second backup refused by the lock"
ok "a second backup is refused while one runs"

docker kill "$IT_STACK-db-1" >/dev/null || fail "docker kill"
rc=0
wait "$bk" || rc=$?
out=$(cat "$IT_DIR/backup.out")
assert_eq "$rc" 1 "exit status of the interrupted backup"
assert_match "$out" "died while it was copied" "failure message"
assert_eq "$(bk_count)" 0 "backups marked good"
ls -d "$IT_STATE/backups/$IT_STACK/"*.partial 2>/dev/null && fail "partial backup left behind"
ok "the container killed mid-stream failed the backup; nothing marked good, nothing left"

# ---- shipd stopped mid-backup ------------------------------------------------
docker start "$IT_STACK-db-1" >/dev/null || fail "docker start"
sctl backup --stack "$IT_STACK" > "$IT_DIR/backup2.out" 2>&1 &
bk=$!
wait_until 20 streaming 1048576 || fail "the second archive never started streaming"
stop_shipd
wait "$bk" || true
assert_eq "$(bk_count 2>/dev/null || echo 0)" 0 "backups after shutdown"
ok "shipd stopped mid-backup exited 0 with every handle closed"

start_shipd
sctl backup --stack "$IT_STACK" --quiet || fail "backup after the restart"
assert_eq "$(bk_count)" 1 "backups after a good one"
ls -d "$IT_STATE/backups/$IT_STACK/"*.partial 2>/dev/null && fail "stale partial backup kept"
ok "the next backup succeeds and clears the interrupted one's leftovers"
stop_shipd
