#!/bin/bash
# shipd SIGKILLed in the middle of a stop, and of a start, and started
# again: recovery undoes the half-done operation, consistently.  A stop
# killed while db (5 s to exit on SIGTERM) is being stopped, web already
# down: recovery waits for that stop, then starts every service again
# (nothing was marked stopped).  A start killed while api's gate waits
# (healthy only after 30 s), db already started: recovery stops db and api
# again (the marks stop left still stand).  Each time the journal ends
# empty, the lock is free, the containers are the same.  A start
# cancelled in api's gate is recorded failed and leaves nothing it
# started marked stopped.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit db <<EOF
image: $IMAGE1
entrypoint: ["sh", "-c", "trap 'sleep 5; exit 0' TERM; while :; do sleep 1 & wait; done"]
stop_grace: 30s
EOF
unit api <<EOF
image: $IMAGE1
init: true
environment: {SVC_HEALTHY_AFTER: "\${API_AFTER:-0}"}
depends_on: {db: started}
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 10m}
EOF

status_json() { sctl --json status --stack "$IT_STACK"; }
settled() {	# no lock, nothing under way, the journal emptied
	status_json | jq -e '.lock == null and (.operations | length) == 0' >/dev/null &&
	    [ ! -s "$IT_STATE/journal" ]
}
state() { docker inspect -f '{{.State.Status}}' "$(cid "$1")"; }
marked() { jq -r '.stopped // {} | keys | join(" ")' "$IT_STATE/stacks/$IT_STACK/svcstate.json" 2>/dev/null; }
kills() { grep -c "event kill ${1:0:12}" "$IT_LOG" || true; }
signalled() { [ "$(kills "$1")" -gt "$2" ]; }

start_shipd
API_AFTER=0 sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
db=$(cid db); api=$(cid api)

# ---- a stop killed half way ------------------------------------------------
k=$(kills "$db")
sctl stop --stack "$IT_STACK" db >"$IT_DIR/stop.out" 2>&1 &
sp=$!
wait_until 20 signalled "$db" "$k" || fail "db was never signalled: $(cat "$IT_DIR/stop.out")"
assert_eq "$(state api)" exited "api (stopped first) when db's stop began"
kill9_shipd
wait "$sp" 2>/dev/null || true
start_shipd
wait_until 60 settled || fail "never settled after the killed stop: $(status_json)"
assert_eq "$(state db)" running "db after recovery"
assert_eq "$(state api)" running "api after recovery"
assert_eq "$(marked)" "" "stopped marks after the undone stop"
assert_eq "$(cid db) $(cid api)" "$db $api" "the containers"
grep -q "db replica 1 was being stopped when shipd stopped" "$IT_LOG" ||
    fail "recovery did not wait for db's stop"
ok "a stop killed half way is undone: db's stop waited for, both started again"

# ---- a start killed half way -----------------------------------------------
sctl stop --stack "$IT_STACK" db >/dev/null || fail "stop db"
assert_eq "$(marked)" "api db" "stopped marks after stop db"
# api now takes 30 s to be healthy: a deploy recreates it, left stopped
API_AFTER=30 sctl deploy "$IT_UNITS" >/dev/null || fail "deploy of the slow api"
assert_eq "$(state db)" exited "db after a deploy while stopped"
api=$(cid api)
[ "$(state api)" = created ] || [ "$(state api)" = exited ] ||
    fail "the recreated api was started: $(state api)"
ok "a deploy that changes a stopped service creates it and leaves it stopped"
sctl start --stack "$IT_STACK" db >"$IT_DIR/start.out" 2>&1 &
sp=$!
wait_until 30 sh -c "[ \"\$(docker inspect -f '{{.State.Status}}' $api)\" = running ]" ||
    fail "api never started: $(cat "$IT_DIR/start.out")"
kill9_shipd
wait "$sp" 2>/dev/null || true
start_shipd
wait_until 60 settled || fail "never settled after the killed start: $(status_json)"
assert_eq "$(state db)" exited "db after recovery of the start"
assert_eq "$(state api)" exited "api after recovery of the start"
assert_eq "$(marked)" "api db" "stopped marks after the undone start"
ok "a start killed half way is undone: db and api stopped again, still marked"

# ---- a start cancelled in api's gate --------------------------------------
sctl start --stack "$IT_STACK" api >"$IT_DIR/start2.out" 2>&1 &
sp=$!
wait_until 30 sh -c "[ \"\$(docker inspect -f '{{.State.Status}}' $api)\" = running ]" ||
    fail "api never started: $(cat "$IT_DIR/start2.out")"
sctl cancel --stack "$IT_STACK" >/dev/null || fail "cancel"
rc=0; wait "$sp" || rc=$?
assert_eq "$rc" 1 "the cancelled start's exit"
assert_match "$(cat "$IT_DIR/start2.out")" "cancelled" "the cancelled start's message"
wait_until 20 settled || fail "never settled after cancel"
assert_eq "$(marked)" "" "marks after the cancelled start (db came up, api was started)"
assert_eq "$(state db)" running "db after the cancelled start"
h=$(sctl --json history --stack "$IT_STACK")
echo "$h" | jq -e '[.revisions[] | select(.operation)] | last | .kind == "start" and .result == "failed"' \
    >/dev/null || fail "history of the cancelled start: $h"
ok "a cancelled start is recorded failed; what it started is no longer marked"
