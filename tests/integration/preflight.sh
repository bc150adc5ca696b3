#!/bin/bash
# Pre-flight: a host port held by a process outside the stack and a
# missing image are both reported, and nothing is changed (nor numbered:
# the next deploy is revision 1).  A second
# deploy while one runs is refused at once naming the owner; with --wait
# it queues and then runs.
. "$(dirname "$0")/lib.sh"

it_port port
stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
ports: ["$port:8080"]
init: true
EOF
unit worker <<EOF
image: shipd-test/no-such-image:7
init: true
EOF

start_shipd
# a process outside the stack holds the port
mkdir -p "$IT_DIR/www"
# (bounded by timeout, so it cannot outlive a failed test for long)
timeout 60 busybox httpd -f -p "$port" -h "$IT_DIR/www" &
ncpid=$!
wait_until 5 sh -c "curl -s -o /dev/null http://127.0.0.1:$port/; [ \$? != 7 ]" ||
    fail "the port holder did not start"
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
echo "$out" | grep -q "ports: web publishes $port/tcp, which another process" ||
    { echo "$out"; fail "the port check did not name the port"; }
echo "$out" | grep -q "images: shipd-test/no-such-image:7" ||
    { echo "$out"; fail "the image check did not name the image"; }
[ "$(count_containers)" = 0 ] || fail "a failed pre-flight created containers"
[ -z "$(docker network ls -q --filter "label=io.shipd.stack=$IT_STACK")" ] ||
    fail "a failed pre-flight created a network"
grep -q '"uid":0,.*"cmd":"deploy",.*"result":"preflight_failed"' "$IT_STATE/audit.log" ||
    fail "the audit log lacks the refused deploy: $(cat "$IT_STATE/audit.log")"
ok "a taken port and a missing image are both reported; nothing changed; audited"
kill "$ncpid"

rm "$IT_UNITS/worker.yaml"
unit web <<EOF
image: $IMAGE1
environment: {SVC_HEALTHY_AFTER: "3"}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" > "$IT_DIR/first.out" 2>&1 &
first=$!
wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' --json status --stack '$IT_STACK' | grep -q '\"kind\":\"deploy\"'" ||
    fail "status never showed the lock"
# The first deploy has its stack; the ones below change web again, so
# that the queued one has something to do (the same stack would change
# nothing and record no revision).
unit web <<EOF
image: $IMAGE1
environment: {SVC_HEALTHY_AFTER: "3", ROUND: "2"}
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 6 ] || { echo "$out"; fail "a concurrent deploy exited $rc, want 6 (busy)"; }
echo "$out" | grep -Eq "is busy: deploy by uid [0-9]+ \(pid [0-9]+\) since" ||
    { echo "$out"; fail "the refusal does not name the owner"; }
ok "a concurrent deploy is refused at once, naming the owner"

out=$(sctl deploy --wait "$IT_UNITS" 2>&1) || { echo "$out"; fail "deploy --wait failed"; }
echo "$out" | grep -q "^waiting: " || { echo "$out"; fail "--wait did not queue"; }
wait "$first" || { cat "$IT_DIR/first.out"; fail "the first deploy failed"; }
# The refused deploy recorded nothing and took no number.
grep -q "deployed $IT_STACK revision 1 in " "$IT_DIR/first.out" ||
    { cat "$IT_DIR/first.out"; fail "the first deploy after the refused one is not revision 1"; }
sctl history --stack "$IT_STACK" | grep -c committed | grep -qx 2 ||
    fail "want two committed revisions"
ok "deploy --wait queued behind the running deploy and then ran"
