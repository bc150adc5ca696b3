#!/bin/bash
# One daemon per state dir: while shipd A waits for a deploy's gate, a
# second shipd B on another socket and the same state dir exits 1 naming
# A's pid and the dir, and touches nothing (no socket, no recovery): A's
# deploy still commits.  After SIGKILL of A a new shipd starts on the dir.
. "$(dirname "$0")/lib.sh"

B_SOCK=$IT_DIR/b.sock
B_LOG=$IT_DIR/b.log
B_PID=
# Only on failure is B still running (today's main lets it run).
cleanup_b() {
	[ -n "$B_PID" ] || return 0
	kill -KILL "$B_PID" 2>/dev/null || true
	wait "$B_PID" 2>/dev/null || true
	[ -s "$B_LOG" ] && { echo "--- B's log" >&2; tail -n 20 "$B_LOG" >&2; }
}
trap 'rc=$?; cleanup_b; (exit $rc); it_cleanup' EXIT

stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
environment: {MODE: "\${MODE:-one}", SVC_HEALTHY_AFTER: "\${HA:-0}"}
health: {test: [CMD, /bin/svc-check], interval: 1s, start_interval: 100ms,
    start_period: 30s}
update: {healthy_deadline: 60s}
EOF

result_of() {	# revision
	tr -d '\n' <"$IT_STATE/stacks/$IT_STACK/revisions/$1.json" |
	    sed -n 's/.*"result": *"\([a-z_]*\)".*/\1/p'
}
gating() {	# revision 2's replica is up, its gate not yet passed
	[ "$(docker ps -q --filter "label=$IT_LABEL" \
	    --filter "label=io.shipd.revision=2" | wc -l)" = 1 ] &&
	[ -s "$IT_STATE/journal" ]
}
b_gone() {
	! kill -0 "$B_PID" 2>/dev/null ||
	    grep -q '^[0-9]* ([^)]*) Z' "/proc/$B_PID/stat" 2>/dev/null
}

start_shipd
A_PID=$SHIPD_PID
MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
ok "shipd A (pid $A_PID) committed revision 1"

# Revision 2 turns healthy only after 4 s: B comes while A's deploy waits.
MODE=two HA=4 sctl deploy "$IT_UNITS" >"$IT_DIR/d2.out" 2>&1 &
d2=$!
wait_until 30 gating || fail "revision 2's replica never came up"

"$SHIPD" -f -d -s "$B_SOCK" --state-dir "$IT_STATE" \
    --engine "$IT_ENGINE" >"$B_LOG" 2>&1 &
B_PID=$!
wait_until 10 b_gone || fail "shipd B still runs on A's state dir after 10 s"
rc=0; wait "$B_PID" || rc=$?
B_PID=
assert_eq "$rc" 1 "exit status of shipd B"
grep -q "state dir $IT_STATE is in use by shipd pid $A_PID" "$B_LOG" ||
    fail "B did not name A's pid and the state dir: $(cat "$B_LOG")"
[ ! -e "$B_SOCK" ] || fail "B created its socket $B_SOCK"
grep -q 'recover' "$B_LOG" && fail "B started a recovery: $(cat "$B_LOG")"
ok "shipd B exited 1 naming A's pid $A_PID and the state dir"

rc=0; wait "$d2" || rc=$?
[ "$rc" = 0 ] || fail "deploy of revision 2 through A: $(cat "$IT_DIR/d2.out")"
assert_eq "$(result_of 2)" committed "revision 2"
kill -0 "$A_PID" || fail "shipd A is gone"
assert_match "$(sctl --json status --stack "$IT_STACK")" '"current": *2[,}]' \
    "current revision"
ok "A's deploy went on and committed revision 2"

kill9_shipd
start_shipd
assert_eq "$(head -n 1 "$IT_STATE/shipd.lock")" "$SHIPD_PID" "pid in shipd.lock"
assert_match "$(sctl --json status --stack "$IT_STACK")" '"current": *2[,}]' \
    "current revision after the restart"
stop_shipd
ok "after SIGKILL of A a new shipd started on the state dir"
