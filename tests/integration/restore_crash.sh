#!/bin/bash
# shipd killed with SIGKILL during a restore: while its safety backup copies
# with the services stopped (seen from the engine), after the stop before
# anything is written (SHIPD_TEST_KILL_AT=restore:write:<first service>),
# mid-write (restore:write:<second service>: the first one's archive is
# back), and once everything is written (restore:written).  The restarted
# shipd must bring every service back to running and healthy; a restore
# that had written everything is finished and recorded done, any other is
# recorded failed (audit log, journal end) naming the safety backup; no
# .partial is left.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data, files]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"]}
EOF
unit files <<EOF
image: $IMAGE1
volumes: ["files:/files"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/files"]}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy, files: healthy}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

running() { docker inspect -f '{{.State.Running}}' "$IT_STACK-$1-1"; }
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$IT_STACK-$1-1")" = healthy ]; }
all_up() {
	local s

	for s in db files api; do
		[ "$(running $s)" = true ] && healthy $s || return 1
	done
}
partials() { find "$IT_STATE/backups/$IT_STACK" -maxdepth 1 -name '*.partial' 2>/dev/null | wc -l; }
settled() { sctl --json status --stack "$IT_STACK" | grep -q '"lock":null'; }
data() { docker exec "$IT_STACK-db-1" cat /data/file; }
files() { docker exec "$IT_STACK-files-1" cat /files/file; }
put() { docker exec "$IT_STACK-db-1" sh -c "echo $1 > /data/file" &&
    docker exec "$IT_STACK-files-1" sh -c "echo $1 > /files/file"; }
audited() {	# result: lines of recovered restores with that result
	grep '"cmd":"restore"' "$IT_STATE/audit.log" | grep '"recovered":true' |
	    grep -c "\"result\":\"$1\"" || true
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
put v1 || fail "writing v1"
docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/big bs=1M count=8 2>/dev/null ||
    fail "writing 8 MiB"
out=$(sctl backup --stack "$IT_STACK" 2>&1) || fail "backup: $out"
id=$(sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | tail -1)
[ -n "$id" ] || fail "no backup"
# The restore writes the services in the manifest's order.
order=$(grep -o '"service": *"[a-z]*"' "$IT_STATE/backups/$IT_STACK/$id/manifest.json" |
    cut -d'"' -f4 | tr '\n' ' ')
first=${order%% *}
second=$(echo "$order" | awk '{print $2}')
[ -n "$second" ] || fail "the backup holds one service: $order"
stop_shipd
failed=0
done_=0

# check LABEL SAFETY(named|-) RESULT(ok|failed)
check() {
	wait_until 90 all_up || fail "$1: db $(running db), files $(running files), api $(running api) after the restart"
	wait_until 10 settled || fail "$1: the stack's lock is still held"
	assert_eq "$(partials)" 0 "$1: .partial directories left"
	if [ "$3" = ok ]; then
		done_=$((done_ + 1))
		assert_eq "$(data) $(files)" "v1 v1" "$1: data after the finished restore"
	else
		failed=$((failed + 1))
		[ "$2" != named ] || grep '"cmd":"restore"' "$IT_STATE/audit.log" | tail -1 |
		    grep -q 'safety backup: shipctl restore' ||
		    fail "$1: the failure does not name the safety backup"
	fi
	assert_eq "$(audited ok) $(audited failed)" "$done_ $failed" \
	    "$1: restores recorded done and failed"
	ok "$1: every service running and healthy, restore recorded $3, no .partial"
}

# ---- killed while the safety backup copies, the services stopped -----------
put v2 || fail "writing v2"
SHIPD_TEST_BACKUP_BPS=1M start_shipd
sctl restore --stack "$IT_STACK" "$id" > "$IT_DIR/restore.out" 2>&1 &
rs=$!
wait_until 30 sh -c "ls -d '$IT_STATE/backups/$IT_STACK/'*.partial" ||
    fail "no safety backup being written"
if [ "$(running db)" != false ] || [ "$(running api)" != false ]; then
	fail "db and api were not stopped during the safety backup"
fi
kill9_shipd
wait "$rs" 2>/dev/null || true
start_shipd
check "killed during the safety backup" - failed
assert_eq "$(data) $(files)" "v2 v2" "data after a restore killed before writing"

# ---- killed at the journal's records ---------------------------------------
for at in "restore:write:$first" "restore:write:$second" restore:written; do
	put v2 || fail "$at: writing v2"
	stop_shipd
	SHIPD_TEST_KILL_AT=$at start_shipd
	rc=0
	sctl restore --stack "$IT_STACK" "$id" >/dev/null 2>&1 || rc=$?
	wait_until 10 shipd_gone || fail "$at: shipd did not die at $at (restore exited $rc)"
	reap_shipd 5 || true
	[ "$(running api)" = false ] || fail "$at: api was not stopped when shipd died"
	start_shipd
	case $at in
	restore:write:"$first")
		check "$at" named failed
		assert_eq "$(data) $(files)" "v2 v2" "$at: nothing was written" ;;
	restore:write:*)
		check "$at" named failed
		[ "$first" = db ] && want="v1 v2" || want="v2 v1"
		assert_eq "$(data) $(files)" "$want" "$at: the first service's archive is back" ;;
	*)	check "$at" - ok ;;
	esac
done
stop_shipd
# Run with SHIPD=build-san/shipd, the sanitizers must have said nothing.
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG"; then
	grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG" | head -60 >&2
	fail "the sanitizers reported a problem"
fi
