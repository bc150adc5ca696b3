#!/bin/bash
# SIGTERM while a backup or a restore has services quiesced: while a
# stop: true backup copies with the services stopped, while a restore
# writes its safety backup with them stopped, and while a quiesce's stop
# request is still with the engine.  Each time shipd exits 0 within 20 s,
# and the ASan+UBSan build (build-san/shipd, when built) reports nothing:
# no use after free, no leak at exit.  SHIPD_TEST_BACKUP_BPS slows shipd's
# writes so the copy is still running when the test acts.
. "$(dirname "$0")/lib.sh"

if [ -x "$ROOT/build-san/shipd" ]; then
	SHIPD=$ROOT/build-san/shipd
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
else
	echo "  note: build-san/shipd is not built (make SAN=1 all); running $SHIPD"
fi

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
backup: {paths: ["/data"], stop: true}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: started}
init: true
EOF

partial_size() {	# bytes of the newest partial archive of db, 0 if none
	local f

	f=$(find "$IT_STATE/backups/$IT_STACK" -path '*.partial/db-0.tar' 2>/dev/null | sort | tail -1)
	[ -n "$f" ] && stat -c %s "$f" 2>/dev/null || echo 0
}
streaming() { [ "$(partial_size)" -ge "$1" ]; }
running() { docker inspect -f '{{.State.Running}}' "$IT_STACK-$1-1"; }

# stop_clean WHAT: SIGTERM, exit 0, and nothing from the sanitizers.
stop_clean() {
	stop_shipd
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG"; then
		grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG" | head -60 >&2
		fail "$1: the sanitizers reported a problem"
	fi
}

SHIPD_TEST_BACKUP_BPS=1M start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/big bs=1M count=8 2>/dev/null ||
    fail "writing 8 MiB"

# ---- a stop: true backup, copying while the services are stopped ----------
sctl backup --stack "$IT_STACK" > "$IT_DIR/backup.out" 2>&1 &
bk=$!
wait_until 30 streaming 1048576 || fail "the archive never started streaming"
assert_eq "$(running db)" false "db while it is copied"
assert_eq "$(running api)" false "api (depends on db) while db is copied"
stop_clean "SIGTERM during a stop: true copy"
rc=0
wait "$bk" || rc=$?
[ "$rc" != 0 ] || fail "the interrupted backup reported success"
ok "SIGTERM while a backup had db and api stopped: shipd exits 0, sanitizers quiet"

docker start "$IT_STACK-db-1" "$IT_STACK-api-1" >/dev/null || fail "docker start"

# ---- a restore, writing its safety backup with the services stopped -------
# The backup SIGTERM left open is recovered at start (its services
# stopped again and started) under the stack's lock, which a backup
# refuses rather than waits for: wait for the recovery first.
start_shipd
wait_until 60 sh -c "'$SHIPCTL' -s '$IT_SOCK' --json status --stack '$IT_STACK' | grep -q '\"lock\":null'" ||
    fail "the interrupted backup's recovery never ended"
out=$(sctl backup --stack "$IT_STACK" --quiet 2>&1) || fail "backup: $out"
id=$(sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | tail -1)
[ -n "$id" ] || fail "no backup to restore"
stop_clean "SIGTERM after a backup"
SHIPD_TEST_BACKUP_BPS=1M start_shipd
sctl restore --stack "$IT_STACK" "$id" > "$IT_DIR/restore.out" 2>&1 &
rs=$!
wait_until 60 streaming 1048576 || fail "the safety backup never started streaming"
assert_eq "$(running db)" false "db while the restore holds it stopped"
stop_clean "SIGTERM during a restore's safety backup"
rc=0
wait "$rs" || rc=$?
[ "$rc" != 0 ] || fail "the interrupted restore reported success"
ok "SIGTERM while a restore had db and api stopped: shipd exits 0, sanitizers quiet"

docker start "$IT_STACK-db-1" "$IT_STACK-api-1" >/dev/null || fail "docker start"

# ---- a quiesce whose stop request is still with the engine -----------------
# api now ignores SIGTERM, so stopping it takes its whole stop_grace.
unit api <<EOF
image: $IMAGE1
depends_on: {db: started}
init: true
entrypoint: ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]
stop_grace: 60s
EOF
start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy with a slow-stopping api"
kills=$(grep -c 'event kill' "$IT_LOG" || true)
sctl backup --stack "$IT_STACK" > "$IT_DIR/backup2.out" 2>&1 &
bk=$!
wait_until 20 grep -q 'api.*stopping' "$IT_DIR/backup2.out" ||
    fail "the backup never began stopping api: $(cat "$IT_DIR/backup2.out")"
# The stop is with the engine once it has sent api its SIGTERM (which api
# ignores, so the stop stays in flight for its 60 s grace).
wait_until 10 sh -c "[ \$(grep -c 'event kill' '$IT_LOG') -gt $kills ]" ||
    fail "the engine never signalled api for the backup's stop"
t0=$(now_ms)
stop_clean "SIGTERM while api's stop is in flight"
assert_lt $(($(now_ms) - t0)) 20000 "shutdown time with a stop in flight"
rc=0
wait "$bk" || rc=$?
[ "$rc" != 0 ] || fail "the interrupted backup reported success"
ok "SIGTERM while a quiesce's stop was with the engine: shipd exits 0 at once, sanitizers quiet"
