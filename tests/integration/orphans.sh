#!/bin/bash
# Removing a service is never silent: a unit file moved or renamed out of
# the directory shows as a removal in plan (one row per service), deploy
# refuses such a plan naming the services, with nothing changed and no
# revision recorded, until --remove-orphans; then the summary counts what
# it removed.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
init: true
EOF
unit worker <<EOF
image: $IMAGE1
replicas: 2
init: true
EOF
unit db <<EOF
image: $IMAGE1
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
web=$(cid web); db=$(cid db); w1=$(cid worker 1); w2=$(cid worker 2)
[ "$(count_containers)" = 4 ] || fail "want 4 containers after the first deploy"

mkdir "$IT_DIR/aside"
mv "$IT_UNITS/worker.yaml" "$IT_DIR/aside/"
rc=0
out=$(sctl plan "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "plan exited $rc, want 1 (changes)"; }
assert_eq "$(echo "$out" | grep -Ec '^  worker +remove +no longer in the stack$')" 1 \
    "plan rows removing worker"
echo "$out" | grep -q "deploy needs --remove-orphans" ||
    { echo "$out"; fail "plan does not say deploy needs --remove-orphans"; }
sctl --json plan "$IT_UNITS" | grep -Eq '"service": *"worker", *"action": *"remove",.*"remove_containers": *2' ||
    fail "plan --json does not count worker's 2 containers"
ok "plan shows worker's removal once, with its 2 containers"

# Renaming db.yaml would drop the database as well.
mv "$IT_UNITS/db.yaml" "$IT_UNITS/db.yaml.bak"
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "deploy removing services exited $rc, want 2"; }
echo "$out" | grep -q "deploy would remove services no longer in the stack: db (1 container), worker (2 containers); nothing was changed" ||
    { echo "$out"; fail "the refusal does not name db and worker"; }
echo "$out" | grep -q -- "--remove-orphans" ||
    { echo "$out"; fail "the refusal does not say how to go ahead"; }
[ "$(count_containers)" = 4 ] && [ "$(cid web)" = "$web" ] &&
    [ "$(cid db)" = "$db" ] && [ "$(cid worker 1)" = "$w1" ] &&
    [ "$(cid worker 2)" = "$w2" ] || fail "a refused deploy changed the containers"
[ "$(count_containers --filter status=running)" = 4 ] ||
    fail "a refused deploy stopped containers"
assert_eq "$(sctl history --stack "$IT_STACK" | tail -n +2 | wc -l)" 1 \
    "revisions recorded after the refusal"
ok "deploy refuses to remove db and worker, naming them; nothing changed"

mv "$IT_UNITS/db.yaml.bak" "$IT_UNITS/db.yaml"
out=$(sctl deploy --remove-orphans "$IT_UNITS" 2>&1) ||
    { echo "$out"; fail "deploy --remove-orphans"; }
echo "$out" | grep -q "(0 of 2 services changed, 1 removed)" ||
    { echo "$out"; fail "the summary does not count the removal"; }
wait_until 10 sh -c "[ -z \"\$(docker ps -aq --filter label=$IT_LABEL --filter label=io.shipd.service=worker)\" ]" ||
    fail "worker's containers are still there"
[ "$(cid web)" = "$web" ] && [ "$(cid db)" = "$db" ] ||
    fail "deploy --remove-orphans touched web or db"
sctl history --stack "$IT_STACK" | tail -1 |
    grep -Eq '^[0-9]+\* .*committed +remove worker$' ||
    { sctl history --stack "$IT_STACK"; fail "history of the new revision lacks the removal"; }
ok "deploy --remove-orphans removed worker and says so: 0 of 2 changed, 1 removed"

# The result names the removal too.
mv "$IT_UNITS/web.yaml" "$IT_DIR/aside/"
sctl --json deploy --remove-orphans "$IT_UNITS" |
    grep -Eq '"service": *"web", *"action": *"remove", *"status": *"done"' ||
    fail "the deploy's result has no done removal of web"
[ -z "$(cid web)" ] || fail "web is still there"
ok "the deploy result lists the removed service as done"

stop_shipd
