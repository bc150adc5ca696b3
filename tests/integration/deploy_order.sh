#!/bin/bash
# Deploy order, proven from the engine's own event timestamps: no service
# starts before its dependencies met their conditions (healthy = first
# successful probe or health_status; completed = exit 0), and independent
# services start concurrently.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
common="init: true
health: {test: [CMD, /bin/svc-check], interval: 5s}"
unit a <<EOF
image: $IMAGE1
environment: {SVC_HEALTHY_AFTER: "3"}
$common
EOF
unit b <<EOF
image: $IMAGE1
depends_on: {a: healthy}
$common
EOF
unit c <<EOF
image: $IMAGE1
depends_on: {a: started}
$common
EOF
unit d <<EOF
image: $IMAGE1
$common
EOF
unit m <<EOF
image: $IMAGE1
environment: {SVC_EXIT_AFTER: "0.5", SVC_EXIT_CODE: "0"}
depends_on: {a: started}
restart: "no"
health: {test: [NONE]}
EOF
unit f <<EOF
image: $IMAGE1
depends_on: {m: completed, b: healthy}
$common
EOF

start_shipd
# Record the engine's events live: its buffer for --since is short.
docker events --filter "label=io.shipd.stack=$IT_STACK" --filter type=container \
    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.shipd.service"}} {{index .Actor.Attributes "exitCode"}}' \
    > "$IT_DIR/events" &
evpid=$!
sctl deploy "$IT_UNITS" > "$IT_DIR/deploy.out" || {
	cat "$IT_DIR/deploy.out"; fail "deploy failed"; }
ok "deploy of 6 services succeeded"
# the last start (f) must be in the file before we stop recording
wait_until 10 grep -q " start f" "$IT_DIR/events" || fail "no events recorded"
kill "$evpid"

started() { grep -E "^[0-9]+ start $1 *$" "$IT_DIR/events" | head -1 | cut -d' ' -f1; }
# healthy: the first exec_die with exit code 0 (shipd's startup probe),
# or the engine's health_status: healthy, whichever came first
healthy() {
	grep -E "^[0-9]+ (exec_die $1 0|health_status: healthy $1 *)$" \
	    "$IT_DIR/events" | head -1 | cut -d' ' -f1
}
completed() { grep -E "^[0-9]+ die $1 0$" "$IT_DIR/events" | head -1 | cut -d' ' -f1; }

for s in a b c d m f; do
	[ -n "$(started $s)" ] || { cat "$IT_DIR/events"; fail "no start event for $s"; }
done
[ -n "$(healthy a)" ] || fail "no healthy evidence for a"
[ -n "$(completed m)" ] || fail "no exit 0 for m"

before() {	# t1 t2 what
	[ "$1" -le "$2" ] || fail "$3 ($1 > $2)"
}
before "$(healthy a)" "$(started b)" "b started before a was healthy"
before "$(started a)" "$(started c)" "c started before a started"
before "$(started a)" "$(started m)" "m started before a started"
before "$(completed m)" "$(started f)" "f started before m completed"
before "$(healthy b)" "$(started f)" "f started before b was healthy"
ok "no service started before its dependencies met their conditions"

# d and a have no dependencies: both start in the first wave, long
# before a is healthy (a takes 3 s), and c (a: started) does not wait
# for a's health either.
created() { grep -E "^[0-9]+ create $1 *$" "$IT_DIR/events" | head -1 | cut -d' ' -f1; }
before "$(started d)" "$(healthy a)" "d waited for a"
before "$(started c)" "$(healthy a)" "c (a: started) waited for a's health"
# concurrent: each was created before the other had started
before "$(created a)" "$(started d)" "d started before a was even created"
before "$(created d)" "$(started a)" "a started before d was even created"
ok "independent services a and d were brought up concurrently"
