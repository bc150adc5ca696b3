#!/bin/bash
# scale is held to the rules of the unit files it scales, by the one
# validator the unit loaders use: two replicas cannot publish one host
# port, the count's range holds, and a service another waits for to
# complete runs exactly once.  Nothing changes when it refuses, and the
# refused count is not remembered.
. "$(dirname "$0")/lib.sh"

it_port port
stack_yaml </dev/null
unit edge <<EOF
image: $IMAGE1
ports: ["127.0.0.1:$port:8080"]
init: true
EOF
unit migrate <<EOF
image: $IMAGE1
environment: {SVC_EXIT_AFTER: "0.2", SVC_EXIT_CODE: "0"}
restart: "no"
health: {test: [NONE]}
EOF
unit web <<EOF
image: $IMAGE1
depends_on: {migrate: completed}
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
[ "$(count_containers)" = 3 ] && [ "$(cid edge 1)" = "$keep" ] ||
    fail "a refused scale changed the containers"
ok "scale edge=2 refused: two replicas cannot publish host port $port"

rc=0
out=$(sctl scale --stack "$IT_STACK" edge=100000 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "scale edge=100000 exited $rc"; }
echo "$out" | grep -q "replicas" || { echo "$out"; fail "no reason given"; }
ok "scale beyond the replica range refused"

# The rule that spans units: web waits for migrate to complete, which is
# one run.  A unit file saying replicas: 3 is refused; so is the scale.
desired() {	# SERVICE: the count status reports as wanted
	sctl --json status --stack "$IT_STACK" |
	    grep -Eo "\"service\": *\"$1\", *\"desired\": *[0-9]+" |
	    grep -Eo '[0-9]+$'
}
mig=$(cid migrate 1)
rc=0
out=$(sctl scale --stack "$IT_STACK" migrate=3 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "scale migrate=3 exited $rc, want 2"; }
echo "$out" | grep -q "web.yaml:2:[0-9]*: depends_on: 'migrate' is completed only with exactly one replica, but it has replicas: 3" ||
    { echo "$out"; fail "the refusal does not give the unit rule's message"; }
[ "$(count_containers)" = 3 ] && [ "$(cid migrate 1)" = "$mig" ] &&
    [ -z "$(cid migrate 2)" ] || fail "a refused scale changed the containers"
assert_eq "$(desired migrate)" 1 "migrate's wanted count after the refusal"
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "redeploy"; }
[ -z "$(cid migrate 2)" ] || fail "a redeploy brought the refused count back"
ok "scale migrate=3 refused with the unit rule's message; the count is not kept"

out=$(sctl scale --stack "$IT_STACK" web=2 2>&1) ||
    { echo "$out"; fail "scale web=2 (the dependent) was refused"; }
assert_eq "$(desired web)" 2 "web's wanted count"
ok "the dependent itself scales"

stop_shipd
