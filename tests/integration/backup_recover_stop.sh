#!/bin/bash
# shipd killed while the engine is stopping a service for a stop: true
# backup, then for a restore (the stop request sent, the service taking
# 5 s to exit on SIGTERM), and started again at once, as systemd's
# RestartSec would.  The restarted shipd must wait for that stop before
# starting the service again: a start of a container still running is a
# no-op, its gate passes, and the old stop then leaves it exited.  After
# each, db is running and still running once the old stop would have
# ended, the job is recorded failed and the journal is empty.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
# sh traps TERM and takes 5 s to exit (with code 0, as a clean stop).
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
entrypoint: ["sh", "-c", "trap 'sleep 5; exit 0' TERM; while :; do sleep 1 & wait; done"]
stop_grace: 30s
backup: {paths: ["/data"], stop: true}
EOF

settled() {
	sctl --json status --stack "$IT_STACK" | grep -q '"lock":null' &&
	    [ ! -s "$IT_STATE/journal" ]
}
state_of() { docker inspect -f '{{.State.Status}} {{.State.StartedAt}}' "$1"; }
kills() { grep -c "event kill ${id:0:12}" "$IT_LOG" || true; }
signalled() { [ "$(kills)" -gt "$1" ]; }

# killed_stopping JOB ARGS...: run the job, kill shipd once the engine has
# signalled db for its stop, restart at once and check db stays up.
killed_stopping() {
	local job=$1 k t_kill st started until_ms left
	shift
	k=$(kills)
	sctl "$job" --stack "$IT_STACK" "$@" >"$IT_DIR/job.out" 2>&1 &
	jp=$!
	wait_until 20 signalled "$k" ||
	    fail "$job: the engine never signalled db: $(cat "$IT_DIR/job.out")"
	t_kill=$(now_ms)
	kill9_shipd
	wait "$jp" 2>/dev/null || true
	assert_eq "$(state_of "$id" | cut -d' ' -f1)" running \
	    "$job: db right after the kill (its stop under way)"
	start_shipd
	assert_lt $(($(now_ms) - t_kill)) 4000 \
	    "$job: restart time (the old stop must still be under way)"
	wait_until 60 settled || fail "$job: never settled: $(sctl --json status --stack "$IT_STACK" 2>&1 | head -c 600) journal: $(head -c 1500 "$IT_STATE/journal")"
	assert_eq "$(cid db)" "$id" "$job: db is the same container"
	read -r st started <<<"$(state_of "$id")"
	assert_eq "$st" running "$job: db after recovery"
	until_ms=$((t_kill + 8000))
	went_down() { [ "$(state_of "$id")" != "running $started" ]; }
	left=$(((until_ms - $(now_ms) + 999) / 1000))
	if [ "$left" -gt 0 ] && wait_until "$left" went_down; then
		fail "$job: db went down after recovery: $(state_of "$id")"
	fi
	assert_eq "$(state_of "$id")" "running $started" \
	    "$job: db once the old stop would have ended"
	grep -q "$job .*interrupted" "$IT_LOG" ||
	    fail "$job: recovery did not record the job interrupted"
	ok "$job killed with a 5 s stop under way, restarted at once: db back and staying up"
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
id=$(cid db)
[ -n "$id" ] || fail "no db container"

# A backup to restore later, taken without a kill.
sctl backup --stack "$IT_STACK" >/dev/null || fail "first backup"
bid=$(sctl --json backups --stack "$IT_STACK" |
    grep -o '"id":"[^"]*"' | cut -d'"' -f4 | tail -1)
[ -n "$bid" ] || fail "no backup listed"

killed_stopping backup
killed_stopping restore "$bid"
