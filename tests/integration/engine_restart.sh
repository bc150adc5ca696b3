#!/bin/bash
# dockerd restarted under a running shipd: shipd notices, reconnects its
# event stream, and keeps serving; gates after the restart still see
# events.
# shipd-test: exclusive (it stops dockerd and starts it again)
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit svc <<EOF
image: $IMAGE1
init: true
restart: always
health: {test: [CMD, /bin/svc-check]}
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
"$SHIPCTL" -s "$IT_SOCK" events --stack "$IT_STACK" > "$IT_DIR/events" 2>&1 &
epid=$!
wait_until 10 grep -q "watching stack" "$IT_DIR/events" || fail "events did not subscribe"

pid=$(pidof dockerd) || fail "no dockerd"
kill -TERM $pid
wait_until 60 sh -c "! kill -0 $pid 2>/dev/null" || fail "dockerd did not stop"
wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' version | grep -q unreachable" ||
    fail "shipd did not notice the engine went away"
ok "shipd notices dockerd going away and keeps answering"

"$ROOT/scripts/engine.sh" >/dev/null || fail "dockerd did not come back"
wait_until 30 sh -c "'$SHIPCTL' -s '$IT_SOCK' version | grep -q 'negotiated 1.41'" ||
    fail "shipd did not reconnect"
wait_until 30 grep -q "connection restored" "$IT_DIR/events" || fail "no resync after the restart"
ok "shipd reconnects its event stream after dockerd restarts"

# live-restore is off: restart: always brings the container back
wait_until 30 sh -c "docker ps -q --filter label=io.shipd.stack=$IT_STACK | grep -q ." ||
    fail "the container did not come back"
docker restart -t 1 "$IT_STACK-svc-1" >/dev/null
wait_until 10 grep -Eq "$IT_STACK-svc-1 +start" "$IT_DIR/events" || fail "no events after the reconnect"
kill "$epid"
ok "events flow again after the reconnect"

out=$(sctl deploy "$IT_UNITS") || { echo "$out"; fail "deploy after the engine restart"; }
ok "deploy works after the engine restart"
