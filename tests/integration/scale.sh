#!/bin/bash
# scale up gates every new replica on health; scale down removes the
# highest-numbered replicas; the count survives a redeploy until the unit
# file's own replicas changes.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
replicas: \${N:-2}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

running() { count_containers --filter status=running; }
start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
[ "$(running)" = 2 ] || fail "want 2 replicas"
keep1=$(cid api 1)

out=$(sctl scale --stack "$IT_STACK" api=4) || { echo "$out"; fail "scale up"; }
[ "$(running)" = 4 ] || fail "want 4 running after scale up"
for n in 3 4; do
	echo "$out" | grep -q "api replica $n healthy" || { echo "$out"; fail "replica $n not gated"; }
done
[ "$(cid api 1)" = "$keep1" ] || fail "scale up recreated replica 1"
ok "scale api=4 created replicas 3 and 4, each gated on health"

sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy"
[ "$(running)" = 4 ] || fail "a redeploy undid the scale"
ok "a redeploy keeps the scaled count"

out=$(sctl scale --stack "$IT_STACK" api=1) || { echo "$out"; fail "scale down"; }
[ "$(count_containers)" = 1 ] || fail "want 1 container after scale down"
[ "$(cid api 1)" = "$keep1" ] || fail "scale down did not keep replica 1"
ok "scale api=1 removed replicas 4, 3, 2 and kept 1"

N=3 sctl deploy "$IT_UNITS" >/dev/null || fail "deploy with replicas 3"
[ "$(running)" = 3 ] || fail "the unit file's new count did not win"
ok "a changed replicas in the unit file overrides the scale"

rc=0
sctl scale --stack "$IT_STACK" nosuch=2 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "scale of an unknown service exited $rc"
rc=0
sctl scale --stack "$IT_STACK" api=many 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "scale api=many exited $rc"
ok "bad scale arguments are refused (exit 2)"
