#!/bin/bash
# A deploy that changes a service with backup: backs it up first, tagged
# with the new revision; after the new version changed the data,
# `rollback --with-data` brings back the old containers and the data as
# it was before that deploy.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
environment: {MODE: "\${MODE:-one}"}
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"]}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
init: true
EOF

data() { docker exec "$IT_STACK-db-1" cat /data/f; }

start_shipd
MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "deploy one"
docker exec "$IT_STACK-db-1" sh -c 'echo before > /data/f' || fail "writing data"

out=$(MODE=two sctl deploy "$IT_UNITS" 2>&1) || fail "deploy two: $out"
bk=$(sctl --json backups --stack "$IT_STACK")
assert_match "$bk" '"reason":"deploy"' "the deploy's backup"
assert_match "$bk" '"revision":2' "the deploy's backup is tagged with its revision"
# What a migration in the new version might do to the data.
docker exec "$IT_STACK-db-1" sh -c 'echo migrated > /data/f' || fail "changing data"
ok "the deploy backed up db first, tagged with revision 2"

out=$(sctl rollback --stack "$IT_STACK" --with-data 2>&1) || fail "rollback --with-data: $out"
assert_eq "$(data)" before "data after rollback --with-data"
mode=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IT_STACK-db-1" |
    sed -n 's/^MODE=//p')
assert_eq "$mode" one "db's MODE after the rollback"
assert_match "$(sctl --json backups --stack "$IT_STACK")" '"reason":"safety"' \
    "the safety backup of the rolled-back data"
ok "rollback --with-data restored the data the deploy backed up"
stop_shipd
