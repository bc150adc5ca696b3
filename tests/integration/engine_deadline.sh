#!/bin/bash
# A stalled engine (tests/tools/stallengine.c: it answers /_ping and
# /version and holds every other call) cannot wedge an operation (issue
# 10, item 2): with the engine deadlines divided by 30 by the test hook
# (the ordinary 30 s becomes 1 s), a deploy fails at about its first
# call's deadline with an error naming the call, the stack's lock is free
# after it (a second deploy is not told "busy" and fails the same way), a
# plan answers too, and the event stream's connect gives up on its
# headers and keeps retrying instead of hanging.
. "$(dirname "$0")/lib.sh"

STALL=$ROOT/build/tests/stallengine
[ -x "$STALL" ] || fail "no $STALL (make tests)"
STALL_PID=

deadline_cleanup() {
	local rc=$?

	set +e
	if [ -n "$SHIPD_PID" ]; then
		kill -TERM "$SHIPD_PID" 2>/dev/null
		reap_shipd 20
	fi
	if [ -n "$STALL_PID" ]; then
		kill -TERM "$STALL_PID" 2>/dev/null
		wait "$STALL_PID" 2>/dev/null
	fi
	(exit "$rc")
	it_cleanup
}
trap deadline_cleanup EXIT

"$STALL" >"$IT_DIR/stall.out" 2>&1 &
STALL_PID=$!
wait_until 5 grep -q '^listening ' "$IT_DIR/stall.out" ||
    fail "stallengine did not start: $(cat "$IT_DIR/stall.out")"
IT_ENGINE=$(sed -n 's/^listening //p' "$IT_DIR/stall.out")

stack_yaml </dev/null
unit web <<EOF2
image: $IMAGE1
EOF2

WANT="listing containers: engine did not answer GET /containers/json within 1.0s"

# call NAME SHIPCTL-ARGS...: shipctl bounded by 30 s (a hang fails the
# test, not the suite); sets OUT, RC and TOOK (ms).
call() {
	local name=$1 t0

	shift
	t0=$(now_ms)
	RC=0
	OUT=$(timeout 30 "$SHIPCTL" -s "$IT_SOCK" "$@" 2>&1) || RC=$?
	TOOK=$(($(now_ms) - t0))
	[ "$RC" != 124 ] || fail "$name: shipctl still waited after 30 s"
	[ "$RC" != 0 ] || fail "$name succeeded on a stalled engine: $OUT"
	echo "  $name: exit $RC after $TOOK ms: $OUT"
}

SHIPD_TEST_ENGINE_DEADLINE_DIV=30 start_shipd

call deploy deploy "$IT_UNITS"
assert_match "$OUT" "$WANT" "what the deploy said"
assert_ge "$TOOK" 950 "the deploy's time (the deadline is 1 s)"
assert_lt "$TOOK" 8000 "the deploy's time"
grep -q "containers/json.*io.shipd.stack%3D$IT_STACK%22" "$IT_DIR/stall.out" ||
    fail "the engine never saw the deploy's call: $(cat "$IT_DIR/stall.out")"
ok "deploy failed in $TOOK ms naming the engine call"

call deploy-again deploy "$IT_UNITS"
assert_match "$OUT" "$WANT" "the second deploy (the lock is free)"
assert_lt "$TOOK" 8000 "the second deploy's time"
ok "a second deploy took the lock and failed the same way"

call plan plan "$IT_UNITS"
assert_match "$OUT" "$WANT" "what the plan said"
assert_lt "$TOOK" 8000 "the plan's time"
ok "plan answers"

wait_until 10 grep -q "engine did not answer GET /events within 1.0s" \
    "$IT_LOG" || fail "the event stream's connect did not give up"
n=$(grep -c 'GET /v1.41/events' "$IT_DIR/stall.out")
wait_until 10 sh -c "[ \$(grep -c 'GET /v1.41/events' '$IT_DIR/stall.out') -gt $n ]" ||
    fail "the event stream did not retry"
ok "the event stream gives up on its headers and retries"

# Still answering after all that, and exits cleanly.
sctl version >/dev/null || fail "shipd stopped answering"
stop_shipd
ok "shipd exits 0 on SIGTERM"
