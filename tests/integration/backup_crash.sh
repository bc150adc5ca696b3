#!/bin/bash
# shipd killed with SIGKILL during a stop: true backup: while it copies
# with db and its dependent api stopped (seen from the engine, so at no
# journal boundary), and at the journal's records (SHIPD_TEST_KILL_AT:
# backup:begin, backup:stop before the stop is taken, backup:start after
# the copy, before the restart).  The restarted shipd must bring db and api
# back to running and healthy, record the backup failed (journal end and
# audit log, no backup listed), empty the journal once that end is written,
# and remove the .partial directory it left.
# SHIPD_TEST_BACKUP_BPS slows the copy so the test can act during it.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"], stop: true}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

running() { docker inspect -f '{{.State.Running}}' "$IT_STACK-$1-1"; }
both_up() {
	[ "$(running db)" = true ] && [ "$(running api)" = true ] &&
	    [ "$(docker inspect -f '{{.State.Health.Status}}' "$IT_STACK-db-1")" = healthy ] &&
	    [ "$(docker inspect -f '{{.State.Health.Status}}' "$IT_STACK-api-1")" = healthy ]
}
both_down() { [ "$(running db)" = false ] && [ "$(running api)" = false ]; }
partials() { find "$IT_STATE/backups/$IT_STACK" -maxdepth 1 -name '*.partial' 2>/dev/null | wc -l; }
bk_count() { sctl --json backups --stack "$IT_STACK" | grep -o '"id":"' | wc -l; }
settled() { sctl --json status --stack "$IT_STACK" | grep -q '"lock":null'; }
journal_empty() { [ ! -s "$IT_STATE/journal" ]; }

# check LABEL: after the restart, everything back and the job failed.
check() {
	local label=$1 audits

	wait_until 60 both_up || fail "$label: db $(running db), api $(running api) 60 s after the restart"
	wait_until 10 settled || fail "$label: the stack's lock is still held"
	# The job's end recorded, nothing else under way: the journal is
	# emptied (a recovered job ending after recovery settled must do it).
	wait_until 10 journal_empty ||
	    fail "$label: journal not emptied: $(tr '\n' '|' < "$IT_STATE/journal")"
	assert_eq "$(partials)" 0 "$label: .partial directories left"
	assert_eq "$(bk_count)" 0 "$label: backups listed"
	audits=$(grep -c '"cmd":"backup".*"result":"failed".*"recovered":true' \
	    "$IT_STATE/audit.log" || true)
	assert_eq "$audits" "$n_failed" "$label: backups recorded failed in the audit log"
	grep -q "removed $IT_STATE/backups/$IT_STACK/.*\.partial" "$IT_LOG" ||
	    [ "$label" = backup:begin ] || [ "$label" = backup:stop ] ||
	    fail "$label: no log line for the removed .partial"
	docker exec "$IT_STACK-db-1" cat /data/file | grep -qx precious ||
	    fail "$label: db's data changed"
	ok "$label: db and api running and healthy again, backup recorded failed, no .partial"
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" sh -c 'echo precious > /data/file &&
    dd if=/dev/urandom of=/data/big bs=1M count=8 2>/dev/null' ||
    fail "writing data"
stop_shipd
n_failed=0

# ---- killed while it copies, the services stopped ---------------------------
SHIPD_TEST_BACKUP_BPS=1M start_shipd
sctl backup --stack "$IT_STACK" > "$IT_DIR/backup.out" 2>&1 &
bk=$!
wait_until 30 both_down || fail "the backup never had db and api stopped"
wait_until 30 sh -c "ls -d '$IT_STATE/backups/$IT_STACK/'*.partial" ||
    fail "no partial backup while copying"
kill9_shipd
wait "$bk" 2>/dev/null || true
assert_eq "$(partials)" 1 "partial backups left by the killed shipd"
start_shipd
n_failed=$((n_failed + 1))
check "killed during the stopped copy"

# ---- killed at each journal record ----------------------------------------
for at in backup:begin backup:stop backup:start; do
	stop_shipd
	SHIPD_TEST_KILL_AT=$at start_shipd
	rc=0
	sctl backup --stack "$IT_STACK" >/dev/null 2>&1 || rc=$?
	wait_until 10 shipd_gone || fail "$at: shipd did not die at $at (backup exited $rc)"
	reap_shipd 5 || true
	[ "$at" != backup:start ] || both_down ||
	    fail "$at: db and api were not stopped when shipd died"
	start_shipd
	n_failed=$((n_failed + 1))
	check "$at"
done

# The journal says how each ended; a later backup works as before.
out=$(sctl backup --stack "$IT_STACK" 2>&1) || fail "backup after the crashes: $out"
assert_eq "$(bk_count)" 1 "backups after a good one"
wait_until 30 both_up || fail "db and api after a good backup"
# Every job ended and nothing else is under way: the journal is history.
wait_until 10 sh -c "[ ! -s '$IT_STATE/journal' ]" ||
    fail "the journal still holds $(wc -l < "$IT_STATE/journal") records"
ok "a backup after the crashes succeeds; the journal is empty"
stop_shipd
# Run with SHIPD=build-san/shipd, the sanitizers must have said nothing.
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG"; then
	grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG" | head -60 >&2
	fail "the sanitizers reported a problem"
fi
