#!/bin/bash
# update.monitor: a new container that passes its gate but dies within
# the monitor period fails the deploy, which rolls back to the kept one.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
write() {	# image extra-env
	unit api <<EOF
image: $1
environment: {SVC_NAME: api$2}
init: true
restart: "no"
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {monitor: 3s, healthy_deadline: 10s}
EOF
}

start_shipd
write "$IMAGE1" ""
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
first=$(cid api)

write "$IMAGE2" ", SVC_EXIT_AFTER: \"1.5\", SVC_EXIT_CODE: \"4\""
rc=0
t0=$(now_ms)
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
took=$(($(now_ms) - t0))
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
echo "$out" | grep -q "api-1 exited with code 4 during the api monitor period" ||
    { echo "$out"; fail "the monitor failure is not named"; }
echo "$out" | grep -q "rolled back to revision 1" || { echo "$out"; fail "no rollback"; }
[ "$(cid api)" = "$first" ] || fail "the kept container was not brought back"
ok "a container dying 1.5 s after its gate fails the 3 s monitor and rolls back ($took ms)"

write "$IMAGE2" ""
t0=$(now_ms)
sctl deploy "$IT_UNITS" >/dev/null || fail "a healthy deploy with a monitor failed"
took=$(($(now_ms) - t0))
[ "$took" -ge 3000 ] || fail "the deploy returned after $took ms, before the monitor period"
ok "a healthy deploy waits out the monitor period ($took ms) and commits"
