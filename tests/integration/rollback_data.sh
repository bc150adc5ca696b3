#!/bin/bash
# The deploy pipeline's backup phase and rollback --with-data: a deploy
# that changes a service with backup: backs it up first, tagged with the
# revision; rolling that deploy back with --with-data brings back the
# old containers and the data they had before it; a redeploy of the
# rolled-back units that fails its gate rolls back to that rollback.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
write() {	# image
	unit db <<EOF
image: $1
volumes: ["data:/data"]
environment: {SVC_NAME: db, SVC_WRITE: /data/log}
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: [/data], keep: 3}
EOF
}
datalog() { docker exec "$(cid db)" cat /data/log; }

start_shipd
write "$IMAGE1"
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
before=$(datalog)
echo "$before" | grep -q '^1 db ' || fail "v1 wrote no data: $before"

write "$IMAGE2"
out=$(sctl deploy "$IT_UNITS") || { echo "$out"; fail "second deploy"; }
echo "$out" | grep -q "backup .* taken" || { echo "$out"; fail "no backup before the deploy"; }
sctl history --stack "$IT_STACK" >/dev/null
datalog | grep -q '^2 db ' || fail "v2 wrote no data"
ok "a deploy changing a service with backup: backs it up first"

out=$(sctl rollback --stack "$IT_STACK" --with-data) || { echo "$out"; fail "rollback --with-data"; }
after=$(datalog)
echo "$after" | grep -q '^2 db ' && fail "v2's data survived the rollback: $after"
echo "$after" | grep -qF "$(echo "$before" | head -1)" || fail "v1's data is gone: $after"
[ "$(docker exec "$(cid db)" cat /etc/svc-version 2>/dev/null || docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(cid db)" | sed -n 's/^VERSION=//p')" = 1 ] ||
    fail "db does not run v1 after the rollback"
ok "rollback --with-data brings back v1's containers and the data from before the deploy"

rc=0
out=$(sctl rollback --stack "$IT_STACK" --with-data 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "a rollback --with-data of a revision without a backup succeeded"
echo "$out" | grep -q "took no backup" || { echo "$out"; fail "refusal not explained"; }
ok "rollback --with-data of a revision that took no backup is refused, explained"

# Revision 2's units again, with a service that never becomes healthy and
# waits for db: the deploy renames db's kept v2 container back, fails,
# and must roll back to revision 3 (it once could not: "rename back: No
# such container", its rollback had removed the very container it was to
# bring back).
v1=$(cid db)
write "$IMAGE2"
unit sick <<EOF
image: $IMAGE1
environment: {SVC_NEVER_HEALTHY: "1"}
init: true
depends_on: {db: healthy}
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 1s}
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "the failing deploy exited $rc, want 1"; }
echo "$out" | grep -q "restore 1 kept container of revision 2" ||
    { echo "$out"; fail "the deploy did not bring db's kept container back"; }
echo "$out" | grep -q "; rolled back to revision 3 in " ||
    { echo "$out"; fail "the failed deploy did not roll back"; }
assert_eq "$(cid db)" "$v1" "db's container after the rollback"
[ "$(docker inspect -f '{{.State.Running}}' "$v1")" = true ] || fail "db is not running"
[ -n "$(docker ps -aq --filter "name=^/$IT_STACK-db-1-r2\$")" ] ||
    fail "revision 2's container is no longer kept"
datalog | grep -qF "$(echo "$before" | head -1)" || fail "db's data changed"
ok "after rollback --with-data, a redeploy of revision 2 that fails rolls back to 3"
