#!/bin/bash
# shipctl cancel against the real engine: a deploy waits at a gate that
# would take ten minutes (a healthcheck that never passes); status shows
# it in phase apply with its age; cancel stops it, the deploy's own client
# gets "cancelled by uid U", the stack is back on revision 1, the lock is
# free and history records revision 2 failed with the reason.
. "$(dirname "$0")/lib.sh"

HANGUP=${CTLHANGUP:-$ROOT/build/tests/ctlhangup}
[ -x "$HANGUP" ] || fail "$HANGUP is not built (make tests)"

# The request line shipctl sends for a command, caught on a socket of our
# own (as hangup.sh does).
capture() {
	local sock=$IT_DIR/capture.sock

	"$HANGUP" -c "$sock" >"$IT_DIR/line" &
	wait_until 5 test -S "$sock" || fail "capture socket"
	"$SHIPCTL" -s "$sock" "$@" >/dev/null 2>&1 || true
	wait $! || fail "capture of shipctl $*"
	cat "$IT_DIR/line"
}

api() {		# extra environment line
	unit api <<EOF
image: $IMAGE1
$1
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 10m}
EOF
}

stack_yaml </dev/null
api ""
start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "the first deploy failed"
id1=$(cid api 1)
ok "revision 1 up"

# Nothing under way: an error, exit 1.
rc=0
out=$(sctl cancel --stack "$IT_STACK" 2>&1) || rc=$?
assert_eq "$rc" 1 "cancel with nothing under way: exit"
assert_match "$out" "no operation under way on stack $IT_STACK" \
    "cancel with nothing under way: message"

api 'environment: {SVC_NEVER_HEALTHY: "1"}'
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" >"$IT_DIR/deploy.out" 2>&1 &
deploy_pid=$!

in_apply() {
	local st

	st=$(sctl --json status --stack "$IT_STACK") || return 1
	echo "$st" | jq -e '.operations[0] | .kind == "deploy" and .phase == "apply"
		and .revision == 2 and .phase_ms >= 1000'
}
wait_until 60 in_apply ||
    { sctl --json status --stack "$IT_STACK"; fail "status never showed the deploy in apply for a second"; }
st=$(sctl status --stack "$IT_STACK")
assert_match "$st" "$IT_STACK +deploy +2 +apply +[0-9.]+m?s +[0-9.]+m?s +$(id -u)" \
    "status's operation row"
ok "status shows the deploy in phase apply with its age"

# A deploy --wait queued behind it whose client hangs up at once leaves
# the queue (it is answered, and audited, with nobody to read it).
line=$(capture deploy --wait "$IT_UNITS")
"$HANGUP" "$IT_SOCK" 1 "$line" || fail "shipd stopped answering after the hang-up"
wait_until 20 grep -q 'the client went away while deploy waited for the lock' \
    "$IT_STATE/audit.log" || fail "the queued deploy was not dropped: $(tail -3 "$IT_STATE/audit.log")"
assert_eq "$(sctl --json status --stack "$IT_STACK" | jq -c '[.operations[] | .phase]')" \
    '["apply"]' "operations after the queued client hung up"
ok "a queued deploy whose client hung up left the queue"

t0=$(now_ms)
out=$(sctl cancel --stack "$IT_STACK" 2>&1) ||
    { echo "$out"; fail "cancel failed"; }
assert_eq "$out" "cancelled deploy of $IT_STACK (revision 2) in phase apply" \
    "cancel's answer"
rc=0
timeout 60 tail --pid="$deploy_pid" -f /dev/null || fail "the deploy did not end within 60 s of the cancel"
wait "$deploy_pid" || rc=$?
took=$(($(now_ms) - t0))
assert_eq "$rc" 1 "the cancelled deploy's exit"
out=$(cat "$IT_DIR/deploy.out")
assert_match "$out" "cancelled by uid $(id -u)" "the deploy's error names the canceller"
assert_match "$out" "rolled back to revision 1" "the deploy's error says it rolled back"
assert_lt "$took" 30000 "ms from cancel to the deploy's end"
ok "the deploy failed and rolled back ${took} ms after the cancel"

st=$(sctl --json status --stack "$IT_STACK")
assert_eq "$(echo "$st" | jq -c '[.lock, .operations, .current]')" \
    '[null,[],1]' "lock, operations, current after the cancel"
assert_eq "$(cid api 1)" "$id1" "api-1 is revision 1's container again"
assert_eq "$(docker inspect -f '{{.State.Running}}' "$id1")" true "api-1 running"
hist=$(sctl history --stack "$IT_STACK")
assert_match "$hist" "2 .* failed .*cancelled by uid $(id -u)" "history's revision 2"
ok "back on revision 1, lock free, history says revision 2 failed (cancelled)"

# The lock really is free: the next deploy goes.
api ""
sctl deploy "$IT_UNITS" >/dev/null || fail "the deploy after the cancel failed"
ok "the next deploy goes through"

stop_shipd
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$IT_LOG" ||
    fail "sanitizer report in shipd's log"
ok "shipd exits 0 on SIGTERM, clean"
