#!/bin/bash
# Deploy order, proven from total orders, never from wall-clock gaps: no
# service starts before its dependencies met their conditions (healthy =
# first successful probe or health_status; completed = exit 0), and
# independent services do not wait for each other.
#
# a's health is held: /health answers 404 until the test copies the file
# in (docker cp: no exec, so no probe-like event), and the engine logs
# that copy as extract-to-dir in the same event stream.  So "b waited for
# a" is "b's start comes after the release and after a's first good
# probe" in the engine's own order, and "d did not wait for a" is "d
# started while a was still held" (the test releases a only once it saw
# d, c and m start): load can make any step slower, but it cannot reorder
# the stream or make a healthy early.  That independent services are
# brought up together comes from shipd's own event order: a and d both
# begin before either has a step done.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
common="init: true
health: {test: [CMD, /bin/svc-check], interval: 5s}"
# Held until released; the start period keeps the engine from calling it
# unhealthy (and failing its gate) meanwhile, the deadline caps the hold.
unit a <<EOF
image: $IMAGE1
environment: {SVC_NEVER_HEALTHY: "1"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 5s, start_period: 120s}
update: {healthy_deadline: 120s}
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

ev=$IT_DIR/events
start_shipd
# Record the engine's events live: its buffer for --since is short.
docker events --filter "label=io.shipd.stack=$IT_STACK" --filter type=container \
    --format '{{.Action}} {{index .Actor.Attributes "io.shipd.service"}} {{index .Actor.Attributes "exitCode"}}' \
    > "$ev" &
evpid=$!
sctl --json deploy "$IT_UNITS" > "$IT_DIR/deploy.out" &
deploypid=$!

# line N of the first event matching the extended regex ("" if none)
at() { grep -nE "^$1 *\$" "$ev" | head -1 | cut -d: -f1; }
seen() { [ -n "$(at "$1")" ]; }
# healthy: the first exec_die with exit code 0 (shipd's startup probe),
# or the engine's health_status: healthy, whichever came first
healthy() { at "(exec_die $1 0|health_status: healthy $1)"; }

# While a is held: everything that does not wait for a's health starts.
for s in "start d" "start c" "start m" "die m 0"; do
	wait_until 90 seen "$s" || { cat "$ev"; fail "no '$s' while a is held unhealthy: it waited for a's health"; }
done
seen "start b" && fail "b started while a was held unhealthy"
seen "start f" && fail "f started while a (and so b) was held unhealthy"
ok "d, c (a: started) and m (a: started) started, m completed, while a was held unhealthy; b and f waited"

echo ok > "$IT_DIR/health"
docker cp "$IT_DIR/health" "$(cid a):/tmp/www/health" || fail "docker cp"
wait "$deploypid" || { cat "$IT_DIR/deploy.out"; fail "deploy failed"; }
ok "deploy of 6 services succeeded once a was released"
wait_until 30 seen "start f" || { cat "$ev"; fail "no start of f recorded"; }
kill "$evpid"

release=$(at "extract-to-dir a")
[ -n "$release" ] || { cat "$ev"; fail "the release of a is not in the engine's events"; }
for s in a b c d m f; do
	seen "start $s" || { cat "$ev"; fail "no start event for $s"; }
done
[ -n "$(healthy a)" ] || fail "no healthy evidence for a"
[ -n "$(healthy b)" ] || fail "no healthy evidence for b"

before() {	# line1 line2 what: line1 comes first in the engine's stream
	[ "$1" -lt "$2" ] || { cat "$ev"; fail "$3 (event line $1 is not before $2)"; }
}
before "$release" "$(healthy a)" "a was healthy before it was released"
before "$(healthy a)" "$(at "start b")" "b started before a was healthy"
before "$(at "start a")" "$(at "start c")" "c started before a started"
before "$(at "start a")" "$(at "start m")" "m started before a started"
before "$(at "die m 0")" "$(at "start f")" "f started before m completed"
before "$(healthy b)" "$(at "start f")" "f started before b was healthy"
before "$(at "start d")" "$release" "d waited for a's health"
before "$(at "start c")" "$release" "c (a: started) waited for a's health"
ok "no service started before its dependencies met their conditions"

# shipd's own order (one loop, one stream): a and d both begin before
# either has created or started anything, i.e. in the same wave.
order=$(jq -r 'select(.event == "service" and .status == "begin") // select(.event == "step") |
    if .event == "service" then "begin \(.service)" else "step \(.service) \(.step)" end' \
    "$IT_DIR/deploy.out")
line() { echo "$order" | grep -nE "^$1\$" | head -1 | cut -d: -f1; }
first_step() { echo "$order" | grep -nE "^step $1 " | head -1 | cut -d: -f1; }
for x in "$(line "begin a")" "$(line "begin d")" "$(first_step a)" "$(first_step d)"; do
	[ -n "$x" ] || { echo "$order"; fail "no begin or step events for a and d"; }
done
[ "$(line "begin d")" -lt "$(first_step a)" ] || { echo "$order"; fail "d began only after a's first step"; }
[ "$(line "begin a")" -lt "$(first_step d)" ] || { echo "$order"; fail "a began only after d's first step"; }
ok "independent services a and d were begun together, before either's first step"
