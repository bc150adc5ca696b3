#!/bin/bash
# Ordered boot, by the engine's own events.  First: with shipd down, a
# stack's containers are stopped behind its back (docker stop); shipd
# started again brings them back in dependency order, each gated: db
# (healthy after 1 s) before api, api healthy before web starts.  A
# service shipctl stop left stopped stays stopped.  Then, as the engine
# does at boot: everything stopped and started again at once behind
# shipd's back while db's check is held failing; shipd started finds api
# and web running ahead of a db that is not healthy, stops them (web
# first), and once db is healthy starts api, then web once api is
# healthy.  side, whose cache was healthy already, is left running.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
check="health: {test: [CMD, /bin/svc-check], interval: 1s, start_interval: 200ms}"
# db's check fails while /tmp/hold exists, inside a long start_period so
# that a held check stays "starting" rather than turning unhealthy.
unit db <<EOF
image: $IMAGE1
environment: {SVC_NAME: db, SVC_HEALTHY_AFTER: "1"}
health: {test: [CMD-SHELL, "test ! -e /tmp/hold && /bin/svc-check"], interval: 1s, start_interval: 200ms, start_period: 60s}
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
unit cache <<EOF
image: $IMAGE1
environment: {SVC_NAME: cache}
$check
EOF
unit side <<EOF
image: $IMAGE1
environment: {SVC_NAME: side}
depends_on: {cache: healthy}
EOF

running() {	# service
	[ "$(docker inspect -f '{{.State.Running}}' "$(cid "$1")")" = true ]
}
health() {	# service
	docker inspect -f '{{.State.Health.Status}}' "$(cid "$1")"
}
healthy() {	# service...
	local s

	for s in "$@"; do
		[ "$(health "$s")" = healthy ] || return 1
	done
}
idle() {	# no operation holds the stack
	[ "$(sctl --json status --stack "$IT_STACK" | jq -r .lock)" = null ]
}
since() {	# line: db's, api's and web's events after it
	tail -n +"$(($1 + 1))" "$IT_DIR/ev" |
	    grep -E '^(db|api|web):(start|die|health_status: healthy)$' |
	    tr '\n' ' '
}
seen() {	# line event: the event came after that line
	tail -n +"$(($1 + 1))" "$IT_DIR/ev" | grep -q "^$2\$"
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
it_at_exit "kill $EVPID 2>/dev/null; wait $EVPID 2>/dev/null"
trap it_cleanup EXIT
docker stop -t 1 "$(cid web)" "$(cid api)" "$(cid db)" "$(cid spare)" \
    "$(cid side)" "$(cid cache)" >/dev/null
# The stream was up in time for what follows if it saw the stops.
wait_until 10 grep -q '^db:die$' "$IT_DIR/ev" ||
    fail "docker events did not follow the stops"
mark=$(wc -l < "$IT_DIR/ev")
start_shipd
wait_until 30 running web || fail "web not brought back"
running db && running api || fail "db or api not brought back"
! running spare || fail "spare, left stopped by shipctl stop, was started"
order=$(tail -n +"$((mark + 1))" "$IT_DIR/ev" |
    grep -E '^(db|api|web):(start|health_status: healthy)$' | tr '\n' ' ')
assert_match "$order" \
    "^db:start db:health_status: healthy api:start api:health_status: healthy web:start $" \
    "boot order"
ok "stopped behind shipd's back, the stack comes back in order: $order"
wait_until 30 idle || fail "the boot's start did not end"
wait_until 10 running side || fail "side not brought back"
stop_shipd

# As the engine does at boot: all at once, db's check held failing.
docker exec "$(cid db)" touch /tmp/hold
docker stop -t 1 "$(cid web)" "$(cid api)" "$(cid db)" "$(cid side)" \
    "$(cid cache)" >/dev/null
docker start "$(cid db)" "$(cid api)" "$(cid web)" "$(cid cache)" \
    "$(cid side)" >/dev/null
wait_until 20 healthy api cache || fail "api or cache not healthy"
running web && running side || fail "web or side not running"
assert_eq "$(health db)" starting "db's held check"
mark=$(wc -l < "$IT_DIR/ev")
side0=$(docker inspect -f '{{.State.StartedAt}}' "$(cid side)")
start_shipd
wait_until 15 seen "$mark" api:die ||
    fail "shipd did not stop api, running ahead of a db not healthy: $(since "$mark")"
# db is let through only now: api may not start before this.
rel=$(wc -l < "$IT_DIR/ev")
docker exec "$(cid db)" rm /tmp/hold
wait_until 30 seen "$mark" web:start ||
    fail "web not started again: $(since "$mark")"
wait_until 30 idle || fail "the boot's start did not end"
running web && running api || fail "api or web not running"
# shipd's gate may pass db on its own start_interval probe before the
# engine's next probe says healthy, so db's engine event may follow
# api's start; that api started only after db was let through is what
# the release's position in the stream shows.
assert_match "$(since "$mark")" \
    "^web:die api:die (db:health_status: healthy )?api:start (db:health_status: healthy )?api:health_status: healthy web:start $" \
    "ahead of db: stopped, then started in order"
seen "$rel" api:start || fail "api started before db was let through: $(since "$mark")"
ok "started at once, api and web were stopped and came back in order: $(since "$mark")"
assert_eq "$(docker inspect -f '{{.State.StartedAt}}' "$(cid side)")" \
    "$side0" "side's start (its cache was healthy)"
! seen "$mark" side:die && ! seen "$mark" cache:die ||
    fail "side or cache was stopped"
! running spare || fail "spare, left stopped by shipctl stop, was started"
sctl --json status --stack "$IT_STACK" |
    jq -e '[.services[] | select(.service == "api" or .service == "web") |
    .stopped] | length == 2 and all(. == false)' >/dev/null ||
    fail "ordered boot's stop left api or web marked stopped"
ok "side, whose dependency was healthy, was left running; spare stays stopped"
stop_shipd
