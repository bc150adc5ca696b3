#!/bin/bash
# A failed gate with a replica still queued for the parallelism slot
# (replicas 2, parallelism 1): the deploy fails, rolls back and answers
# within its deadline, replica 2 is never touched, and the lock is free
# for the next command.  A few rounds, since the hang hung on ordering.
. "$(dirname "$0")/lib.sh"

api() {		# extra environment line
	unit api <<EOF
image: $IMAGE1
replicas: 2
$1
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {parallelism: 1, healthy_deadline: 2s}
EOF
}

stack_yaml </dev/null
api ""
start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "the first deploy failed"
id2=$(cid api 2)
[ -n "$id2" ] || fail "no api-2 after the first deploy"
ok "revision 1 up with two replicas"

for round in 1 2 3; do
	api 'environment: {SVC_NEVER_HEALTHY: "1"}'
	rc=0
	t0=$(now_ms)
	# A hang shows as timeout's 124, not as a test that never ends.
	out=$(timeout 60 "$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" 2>&1) ||
	    rc=$?
	took=$(($(now_ms) - t0))
	[ "$rc" != 124 ] || fail "round $round: the deploy did not answer within 60 s"
	[ "$rc" = 1 ] || { echo "$out"; fail "round $round: deploy exited $rc, want 1"; }
	echo "$out" | grep -q "$IT_STACK-api-1 did not become healthy within 2.0s" ||
	    { echo "$out"; fail "round $round: the failure does not name api-1"; }
	echo "$out" | grep -q "rolled back to revision 1" ||
	    { echo "$out"; fail "round $round: no rollback reported"; }
	assert_lt "$took" 30000 "round $round: ms to fail and roll back"
	assert_eq "$(cid api 2)" "$id2" "round $round: api-2, queued, untouched"
	# The lock is free: the stack's next deploy is not refused busy.
	api ""
	out=$(timeout 60 "$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" 2>&1) ||
	    { echo "$out"; fail "round $round: the lock was not released"; }
	ok "round $round: failed and rolled back in ${took} ms, lock released"
done

[ "$(count_containers --filter status=running)" = 2 ] ||
    fail "not two replicas running at the end"
ok "revision 1's two replicas still running"
