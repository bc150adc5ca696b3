#!/bin/bash
# backup.timeout bounds each hook: a pre hook that never ends (sleep 1000)
# fails a stop: true backup soon after the limit, and so does a post hook,
# which runs after the copy; either way nothing is kept, no .partial is
# left, the stack's lock is free again and what was stopped runs again.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
hooked() {	# pre-argv post-argv
	unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"], stop: true, pre: $1, post: $2, timeout: 2s}
EOF
}
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

running() { docker inspect -f '{{.State.Running}}' "$IT_STACK-$1-1"; }
both_up() {
	[ "$(running db)" = true ] && [ "$(running api)" = true ] &&
	    [ "$(docker inspect -f '{{.State.Health.Status}}' "$IT_STACK-api-1")" = healthy ]
}
bk_count() { sctl --json backups --stack "$IT_STACK" | grep -o '"id":"' | wc -l; }
partials() { find "$IT_STATE/backups/$IT_STACK" -maxdepth 1 -name '*.partial' 2>/dev/null | wc -l; }

# hung WHICH: the backup fails within the limit and a margin, naming it.
hung() {
	local t0 rc=0 out dt

	t0=$(now_ms)
	out=$(timeout 60 "$SHIPCTL" -s "$IT_SOCK" backup --stack "$IT_STACK" 2>&1) || rc=$?
	dt=$(($(now_ms) - t0))
	[ "$rc" != 124 ] || fail "$1: the backup was still waiting for its hook after 60 s"
	assert_eq "$rc" 1 "$1: exit status of the backup"
	assert_match "$out" "$1 hook failed .*did not finish within 2(\.0)?s" "$1: the failure"
	assert_ge "$dt" 2000 "$1: ms until the backup failed"
	assert_lt "$dt" 30000 "$1: ms until the backup failed"
	assert_eq "$(bk_count)" 0 "$1: backups kept"
	assert_eq "$(partials)" 0 "$1: .partial directories left"
	wait_until 30 both_up || fail "$1: db $(running db), api $(running api) after the backup"
	sctl --json status --stack "$IT_STACK" | grep -q '"lock":null' ||
	    fail "$1: the stack's lock is still held"
	ok "$1 hook hung: the backup failed after ${dt} ms, db and api running, nothing kept"
}

start_shipd
hooked '["sleep", "1000"]' '["true"]'
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
hung pre

hooked '["true"]' '["sleep", "1000"]'
sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy with a hung post hook"
# The copy is taken stopped, so db and api are stopped and started again.
# The engine keeps few past events for --since (256 on 20.10), and tests
# running alongside make many: follow them live from before.
t0=$(date +%s.%N)
docker events --since "$t0" \
    --filter "label=io.shipd.stack=$IT_STACK" --filter event=start \
    --format '{{index .Actor.Attributes "io.shipd.service"}}' > "$IT_DIR/starts" &
evpid=$!
it_at_exit 'kill "$evpid" 2>/dev/null'
hung post
wait_until 10 grep -qx db "$IT_DIR/starts" ||
    fail "db was not stopped and started for the copy"
kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null || true
ok "with a hung post hook, what was stopped for the copy was started again"
stop_shipd
# Run with SHIPD=build-san/shipd, the sanitizers must have said nothing.
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG"; then
	grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_LOG" | head -60 >&2
	fail "the sanitizers reported a problem"
fi
