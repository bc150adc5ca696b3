#!/bin/bash
# down removes containers dependents first, then networks; named volumes
# stay unless --volumes.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
environment: {SVC_WRITE: /data/hello}
init: true
health: {test: [CMD, /bin/svc-check]}
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

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
docker events --filter "label=io.shipd.stack=$IT_STACK" --filter event=destroy \
    --format '{{.TimeNano}} {{index .Actor.Attributes "io.shipd.service"}}' > "$IT_DIR/destroyed" &
evpid=$!
# make sure the recorder runs before down starts
wait_until 5 sh -c "ps -p $evpid >/dev/null"
out=$(sctl down --stack "$IT_STACK") || fail "down: $out"
[ "$(count_containers)" = 0 ] || fail "containers left after down"
[ -z "$(docker network ls -q --filter "label=io.shipd.stack=$IT_STACK")" ] || fail "network left"
[ -n "$(docker volume ls -q --filter "label=io.shipd.stack=$IT_STACK")" ] || fail "volume removed without --volumes"
wait_until 10 sh -c "[ \$(wc -l < '$IT_DIR/destroyed') -ge 3 ]" || fail "destroy events missing"
kill "$evpid"
order=$(sort -n "$IT_DIR/destroyed" | awk '{print $2}' | tr '\n' ' ')
[ "$order" = "web api db " ] || fail "removal order '$order', want web api db"
ok "down removed web, api, db in that order and the network; kept the volume"

sctl deploy "$IT_UNITS" >/dev/null || fail "deploy again"
sctl down --stack "$IT_STACK" --volumes >/dev/null || fail "down --volumes"
[ -z "$(docker volume ls -q --filter "label=io.shipd.stack=$IT_STACK")" ] || fail "volume kept with --volumes"
ok "down --volumes removes the named volume too"
