#!/bin/bash
# A deploy judges what it touches: an unrelated service that is unhealthy
# neither holds up nor fails the deploy of another, nor its rollback; an
# unhealthy service that a changed one waits on is named by pre-flight
# before anything is stopped.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
# h is healthy for its first deploy, then its /health turns 404 for good.
unit h <<EOF
image: $IMAGE1
environment: {SVC_NAME: h, SVC_UNHEALTHY_AFTER: "5"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s, retries: 1}
on_unhealthy: none
EOF
c_unit() {	# extra lines
	unit c <<EOF
image: $IMAGE1
environment: {SVC_NAME: c, V: "\${C_V:-1}", SVC_NEVER_HEALTHY: "\${C_BAD:-0}"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 4s}
$1
EOF
}
c_unit ""

h_health() {
	docker inspect -f '{{.State.Health.Status}}' "$(cid h)"
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
h1=$(cid h)
wait_until 30 sh -c "[ \"\$(docker inspect -f '{{.State.Health.Status}}' $h1)\" = unhealthy ]" ||
    fail "h did not turn unhealthy (health $(h_health))"
ok "h is unhealthy"

# c changes; h, unrelated and unchanged, stays unhealthy.
c1=$(cid c)
rc=0
t0=$(now_ms)
out=$(C_V=2 sctl deploy "$IT_UNITS" 2>&1) || rc=$?
took=$(($(now_ms) - t0))
[ "$rc" = 0 ] || { echo "$out"; fail "deploy of c exited $rc with h unhealthy"; }
assert_lt "$took" 20000 "the deploy's time (ms)"
[ "$(cid c)" != "$c1" ] || fail "c was not recreated"
[ "$(cid h)" = "$h1" ] || fail "h was touched"
assert_eq "$(h_health)" unhealthy "h's health after the deploy"
sctl history --stack "$IT_STACK" | grep -Eq '^2\*? .* committed ' ||
    fail "revision 2 is not committed: $(sctl history --stack "$IT_STACK")"
ok "a deploy of c commits in $took ms while unrelated h is unhealthy"

# c's new version never becomes healthy: the deploy fails on c alone and
# its rollback, which touches only c, succeeds.
c2=$(cid c)
rc=0
out=$(C_V=3 C_BAD=1 sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "a deploy of a never-healthy c exited $rc"; }
echo "$out" | grep -Eq "$IT_STACK-c-1 (is unhealthy|did not become healthy)" ||
    { echo "$out"; fail "the failure does not name c"; }
echo "$out" | grep -q "rolled back to revision 2" ||
    { echo "$out"; fail "the rollback did not succeed"; }
! echo "$out" | grep -q "failed too" || { echo "$out"; fail "the rollback failed"; }
! echo "$out" | grep -q "$IT_STACK-h-1" || { echo "$out"; fail "h was judged"; }
[ "$(cid c)" = "$c2" ] || fail "the rollback did not bring c's kept container back"
ok "a failed deploy of c rolls back touching c only"

# Now c waits on h being healthy: pre-flight says h is unhealthy, by
# name, and nothing is stopped.
c_unit "depends_on: {h: healthy}"
n=$(count_containers)
rc=0
out=$(C_V=4 sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "a deploy of c depending on unhealthy h exited $rc"; }
echo "$out" | grep -q "pre-flight dependencies: FAILED: h is unhealthy ($IT_STACK-h-1" ||
    { echo "$out"; fail "pre-flight did not name h"; }
echo "$out" | grep -q "and c, which this deploy changes, waits for it to be healthy" ||
    { echo "$out"; fail "pre-flight did not name c"; }
[ "$(cid c)" = "$c2" ] || fail "c was replaced"
assert_eq "$(docker inspect -f '{{.State.Status}}' "$c2")" running "c's state"
assert_eq "$(count_containers)" "$n" "containers after a failed pre-flight"
ok "pre-flight names unhealthy h that c waits on; c is left running"
