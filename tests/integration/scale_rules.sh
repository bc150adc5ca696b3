#!/bin/bash
# scale is held to the rules of the unit file it scales, by the one
# validator the unit loaders use: two replicas cannot publish one host
# port, and the count's range holds.  Nothing changes when it refuses.
. "$(dirname "$0")/lib.sh"

port=$((20000 + ($$ * 11) % 20000))
stack_yaml </dev/null
unit edge <<EOF
image: $IMAGE1
ports: ["127.0.0.1:$port:8080"]
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
keep=$(cid edge 1)

rc=0
out=$(sctl scale --stack "$IT_STACK" edge=2 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "scale edge=2 exited $rc, want 2"; }
echo "$out" | grep -q "host port $port" ||
    { echo "$out"; fail "the refusal does not name host port $port"; }
[ "$(count_containers)" = 1 ] && [ "$(cid edge 1)" = "$keep" ] ||
    fail "a refused scale changed the containers"
ok "scale edge=2 refused: two replicas cannot publish host port $port"

rc=0
out=$(sctl scale --stack "$IT_STACK" edge=100000 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "scale edge=100000 exited $rc"; }
echo "$out" | grep -q "replicas" || { echo "$out"; fail "no reason given"; }
ok "scale beyond the replica range refused"

stop_shipd
