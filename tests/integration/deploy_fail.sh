#!/bin/bash
# A service that never becomes healthy fails the deploy with a message
# naming the service, replica, state and last check output; services that
# depend on it are never created; shipctl exits non-zero.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit db <<EOF
image: $IMAGE1
environment: {SVC_NEVER_HEALTHY: "1"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 2s}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
init: true
EOF
unit web <<EOF
image: $IMAGE1
depends_on: {api: started}
init: true
EOF
unit other <<EOF
image: $IMAGE1
init: true
EOF

start_shipd
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
echo "$out" | grep -q "$IT_STACK-db-1 did not become healthy within 2.0s (state running, health starting)" ||
    { echo "$out"; fail "message does not name replica, state, deadline"; }
echo "$out" | grep -q "last check: " ||
    { echo "$out"; fail "message lacks the last check output"; }
ok "deploy failed naming db-1, its state and the last check"

[ -z "$(cid api)" ] || fail "api was created although db never became healthy"
[ -z "$(cid web)" ] || fail "web was created"
[ -n "$(cid other)" ] || fail "an independent service was not created"
echo "$out" | grep -Eq "api +skipped" || { echo "$out"; fail "api not reported skipped"; }
ok "dependents of db were never created and are reported skipped"

sctl history --stack "$IT_STACK" | grep -q failed || fail "history lacks the failed revision"
ok "history records the failed revision"

# A one-shot that exits non-zero fails its completed gate at once.
unit db <<EOF
image: $IMAGE1
environment: {SVC_EXIT_AFTER: "0.2", SVC_EXIT_CODE: "3"}
restart: "no"
health: {test: [NONE]}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: completed}
init: true
EOF
rc=0
t0=$(now_ms)
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
took=$(($(now_ms) - t0))
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
echo "$out" | grep -q "db-1 exited with code 3" || { echo "$out"; fail "no exit code"; }
[ "$took" -lt 10000 ] || fail "a failed one-shot took ${took} ms to report"
ok "a one-shot exiting 3 fails the deploy at once (${took} ms)"
