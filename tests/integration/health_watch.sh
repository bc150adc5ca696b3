#!/bin/bash
# Health is watched all the time: an http-checked service whose /health
# turns 404 after its deploy shows unhealthy in status, its health comes
# from the engine's state or shipd's own probes (not the Status text), and
# update.monitor fails a deploy whose new replica turns unhealthy after
# passing its gate.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
environment: {SVC_NAME: web}
health: {http: {port: 8080, path: /health}, interval: 1s, timeout: 1s, retries: 2}
on_unhealthy: none
EOF
unit cmd <<EOF
image: $IMAGE1
environment: {SVC_NAME: cmd}
health: {test: [CMD, /bin/svc-check], interval: 1s}
EOF

# Replica 1 of service $1 in status --json.
health_of() {
	sctl --json status --stack "$IT_STACK" | jq -r --arg s "$1" \
	    '.containers[] | select(.service == $s and .replica == 1) | .health'
}
ready_of() {
	sctl --json status --stack "$IT_STACK" | jq -r --arg s "$1" \
	    '.services[] | select(.service == $s) | "\(.ready)/\(.desired)"'
}
is_health() {	# service want
	[ "$(health_of "$1")" = "$2" ]
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
wait_until 10 is_health web healthy ||
    fail "web's own http check never shows healthy: '$(health_of web)'"
wait_until 10 is_health cmd healthy ||
    fail "cmd's engine check never shows healthy: '$(health_of cmd)'"
assert_eq "$(ready_of web)" 1/1 "web ready"
ok "status shows health for an http check and an engine check"

docker exec "$(cid web)" rm -f /tmp/www/health
t0=$(now_ms)
wait_until 10 is_health web unhealthy ||
    fail "web still '$(health_of web)' 10 s after /health turned 404"
took=$(($(now_ms) - t0))
assert_eq "$(ready_of web)" 0/1 "web ready once unhealthy"
ok "web turns unhealthy in status $took ms after /health turned 404"

docker exec "$(cid web)" sh -c 'echo ok > /tmp/www/health'
wait_until 10 is_health web healthy || fail "web does not recover"
ok "web shows healthy again once /health answers"

# A restart: the watch starts again with the engine.
stop_shipd
start_shipd
wait_until 10 is_health web healthy || fail "web not healthy after restart"
ok "health is watched again after shipd restarts"

# update.monitor: healthy at the gate, unhealthy one second later.
first=$(cid web)
unit web <<EOF
image: $IMAGE2
environment: {SVC_NAME: web, SVC_UNHEALTHY_AFTER: "1"}
health: {http: {port: 8080, path: /health}, interval: 1s, timeout: 1s, retries: 2}
on_unhealthy: none
update: {monitor: 6s, healthy_deadline: 10s}
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
echo "$out" | grep -q "web-1 became unhealthy during the monitor period" ||
    { echo "$out"; fail "the monitor failure is not named"; }
echo "$out" | grep -q "rolled back to revision 1" ||
    { echo "$out"; fail "no rollback"; }
[ "$(cid web)" = "$first" ] || fail "the kept container was not brought back"
ok "a replica turning unhealthy 1 s after its gate fails the 6 s monitor"
stop_shipd
