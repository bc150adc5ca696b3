#!/bin/bash
# backup with stop: true quiesces the service and everything depending on
# it, dependents first, copies while they are stopped, and starts them
# again dependencies first, each gated on health; a service outside that
# set keeps running throughout.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"], stop: true}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
replicas: 2
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
unit web <<EOF
image: $IMAGE1
depends_on: {api: healthy}
init: true
EOF
unit cache <<EOF
image: $IMAGE1
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" sh -c 'echo precious > /data/file' || fail "writing data"
# The engine keeps few past events for --since (256 on 20.10): on a busy
# engine the first stops would be gone, so follow them live from before.
t0=$(date +%s.%N)
docker events --since "$t0" \
    --filter "label=io.shipd.stack=$IT_STACK" --filter event=die --filter event=start \
    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.shipd.service"}}' \
    > "$IT_DIR/events" &
evpid=$!
out=$(sctl backup --stack "$IT_STACK" 2>&1) || fail "backup: $out"
wait_until 30 sh -c '[ "$(wc -l < "$1")" -ge 8 ]' _ "$IT_DIR/events" ||
    fail "8 die/start events did not come: $(cat "$IT_DIR/events")"
kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null || true
order=$(sort -n "$IT_DIR/events" | awk '{print $2 ":" $3}' | tr '\n' ' ')
assert_eq "$order" "die:web die:api die:api die:db start:db start:api start:api start:web " \
    "stop/start order"
ok "web, api (both replicas), db stopped in that order and started in reverse; cache untouched"

id=$(sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
m=$(cat "$IT_STATE/backups/$IT_STACK/$id/manifest.json")
assert_match "$m" '"stopped": true' "manifest says the copy was made stopped"
tar -xOf "$IT_STATE/backups/$IT_STACK/$id/db-0.tar" data/file | grep -qx precious ||
    fail "the archive does not hold the data"
for s in db api web cache; do
	assert_eq "$(docker inspect -f '{{.State.Running}}' "$IT_STACK-$s-1")" true "$s running"
done
assert_eq "$(docker inspect -f '{{.State.Running}}' "$IT_STACK-api-2")" true "api-2 running"
docker exec "$IT_STACK-api-1" /bin/svc-check >/dev/null || fail "api not healthy after the backup"
ok "the copy was taken stopped and everything runs again"
stop_shipd
