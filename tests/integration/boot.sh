#!/bin/bash
# Ordered boot: with shipd down, a stack's containers are stopped behind
# its back (docker stop); shipd started again brings them back in
# dependency order, each gated: db (healthy after 1 s) before api, api
# healthy before web starts, by the engine's own events.  A service
# shipctl stop left stopped stays stopped.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
check="health: {test: [CMD, /bin/svc-check], interval: 1s, start_interval: 200ms}"
unit db <<EOF
image: $IMAGE1
environment: {SVC_NAME: db, SVC_HEALTHY_AFTER: "1"}
$check
EOF
unit api <<EOF
image: $IMAGE1
environment: {SVC_NAME: api, SVC_HEALTHY_AFTER: "1"}
$check
depends_on: {db: healthy}
EOF
unit web <<EOF
image: $IMAGE1
environment: {SVC_NAME: web}
depends_on: {api: healthy}
EOF
unit spare <<EOF
image: $IMAGE1
environment: {SVC_NAME: spare}
EOF

running() {	# service
	[ "$(docker inspect -f '{{.State.Running}}' "$(cid "$1")")" = true ]
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
sctl stop --stack "$IT_STACK" spare >/dev/null || fail "stop spare"
stop_shipd
# Followed live: the engine keeps only its last few hundred events for a
# --since replay, and it is shared.
docker events --filter "label=$IT_LABEL" --filter type=container \
    --format '{{index .Actor.Attributes "io.shipd.service"}}:{{.Action}}' \
    > "$IT_DIR/ev" &
EVPID=$!
trap 'rc=$?; kill "$EVPID" 2>/dev/null || true; (exit $rc); it_cleanup' EXIT
docker stop -t 1 "$(cid web)" "$(cid api)" "$(cid db)" "$(cid spare)" \
    >/dev/null
# The stream was up in time for what follows if it saw the stops.
wait_until 10 grep -q '^db:die$' "$IT_DIR/ev" ||
    fail "docker events did not follow the stops"
start_shipd
wait_until 30 running web || fail "web not brought back"
running db && running api || fail "db or api not brought back"
! running spare || fail "spare, left stopped by shipctl stop, was started"
kill "$EVPID" 2>/dev/null || true
wait "$EVPID" 2>/dev/null || true
order=$(grep -E ':(start|health_status: healthy)$' "$IT_DIR/ev" |
    tr '\n' ' ')
assert_match "$order" \
    "^db:start db:health_status: healthy api:start api:health_status: healthy web:start $" \
    "boot order"
ok "stopped behind shipd's back, the stack comes back in order: $order"
stop_shipd
