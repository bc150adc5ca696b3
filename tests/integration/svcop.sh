#!/bin/bash
# shipctl stop, start, restart and ps against the real engine.  db <- api
# <- web (api waits for db healthy, web for api started), x alone.  stop db
# takes web, then api, then db down, in that order by the engine's own
# events, and says so; the containers stay, a deploy of the unchanged
# stack and a restart of shipd leave them stopped; start db brings db, api,
# web back in dependency order, each started only once what it waits for
# is healthy; restart api stops and starts the same containers (new start
# time) and restarts web after it; history lists stop, start, restart with
# no new revision; an unknown service is not_found with nothing changed;
# ps shows all of it, human and --json; down forgets the stopped marks.
. "$(dirname "$0")/lib.sh"

it_port PORT
stack_yaml </dev/null
common="init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}"
unit db <<EOF
image: $IMAGE1
environment: {SVC_HEALTHY_AFTER: "1"}
$common
EOF
unit api <<EOF
image: $IMAGE1
replicas: 2
depends_on: {db: healthy}
$common
EOF
unit web <<EOF
image: $IMAGE1
depends_on: {api: started}
ports: ["127.0.0.1:$PORT:8080"]
$common
EOF
unit x <<EOF
image: $IMAGE1
$common
EOF

state() { docker inspect -f '{{.State.Status}}' "$(cid "$1" "${2:-1}")"; }
started_at() { docker inspect -f '{{.State.StartedAt}}' "$(cid "$1" "${2:-1}")"; }
record() {	# engine events of the stack from now on into $IT_DIR/$1
	# --since now: what happens while it subscribes is replayed
	docker events --since "$(date +%s.%N)" \
	    --filter "label=$IT_LABEL" --filter type=container \
	    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.shipd.service"}} {{index .Actor.Attributes "io.shipd.replica"}} {{index .Actor.Attributes "exitCode"}}' \
	    > "$IT_DIR/$1" &
	evpid=$!
}
# Order comes from the stream itself (one engine, one stream: a total
# order), as line numbers, not from the gaps between timestamps.
first() {	# line of the first ACTION SERVICE in file
	grep -nE "^[0-9]+ $2 $3 " "$IT_DIR/$1" | head -1 | cut -d: -f1
}
last() {
	grep -nE "^[0-9]+ $2 $3 " "$IT_DIR/$1" | tail -1 | cut -d: -f1
}
# Deadlines below are for events the engine has already sent by the
# time shipctl answered: generous, since they cost nothing when met.

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
rev=$(sctl --json history --stack "$IT_STACK" | jq '.current')
ids=$(for s in db api web x; do cid $s; done; cid api 2)

# ---- an unknown service: not_found, nothing changed --------------------
rc=0
out=$(sctl stop --stack "$IT_STACK" db nosuch 2>&1) || rc=$?
assert_eq "$rc" 1 "stop of an unknown service: exit"
assert_match "$out" "no service 'nosuch'" "stop of an unknown service: message"
out=$(sctl --json restart --stack "$IT_STACK" nosuch 2>&1) || true
assert_match "$out" '"code": *"not_found"' "restart of an unknown service: code"
assert_eq "$(state db)" running "db after the refused stop"
ok "an unknown service is not_found, naming it, and nothing is stopped"

# ---- stop db: dependents first ------------------------------------------
record stop.ev
out=$(sctl stop --stack "$IT_STACK" db) || { echo "$out"; fail "stop db"; }
wait_until 60 grep -q " die db " "$IT_DIR/stop.ev" || fail "no die of db seen"
kill "$evpid"; wait "$evpid" 2>/dev/null || true
for s in db api web; do assert_eq "$(state $s)" exited "$s after stop db"; done
assert_eq "$(state api 2)" exited "api replica 2 after stop db"
assert_eq "$(state x)" running "x (independent) after stop db"
assert_match "$out" "dependents were stopped first: (web, api|api, web)" "stop's summary"
assert_match "$(echo "$out" | grep -n '^  ' | tr '\n' ' ')" "web +stop +depends on db.*api +stop +depends on db.*db +stop" "stop's plan order"
w=$(last stop.ev die web); a1=$(first stop.ev die api); a2=$(last stop.ev die api); d=$(first stop.ev die db)
assert_lt "$w" "$a1" "web died before api"
assert_lt "$a2" "$d" "api died before db"
ok "stop db stopped web, then api (both replicas), then db, and said so"

# ---- stopped stays stopped ----------------------------------------------
out=$(sctl deploy "$IT_UNITS") || { echo "$out"; fail "redeploy"; }
assert_match "$out" "nothing to change" "deploy of the unchanged stack"
for s in db api web; do assert_eq "$(state $s)" exited "$s after the redeploy"; done
stop_shipd
start_shipd
wait_until 60 sh -c "! '$SHIPCTL' -s '$IT_SOCK' --json status --stack '$IT_STACK' | jq -e '.operations | length > 0'" ||
    fail "recovery still under way"
for s in db api web; do assert_eq "$(state $s)" exited "$s after shipd restarted"; done
assert_eq "$(for s in db api web x; do cid $s; done; cid api 2)" "$ids" "the containers"
ok "a deploy of the unchanged stack and a restart of shipd leave them stopped"

# ---- ps -------------------------------------------------------------------
out=$(sctl ps --stack "$IT_STACK") || fail "ps"
assert_match "$(echo "$out" | head -1)" "^SERVICE +IMAGE +REPLICAS +HEALTH +PORTS +STATUS" "ps header"
assert_match "$(echo "$out" | grep '^db ')" "^db +shipd-test/svc:1 +0/1 +0/1 +stopped" "ps db"
assert_match "$(echo "$out" | grep '^api ')" "^api +shipd-test/svc:1 +0/2 +0/2 +stopped" "ps api"
assert_match "$(echo "$out" | grep '^x ')" "^x +shipd-test/svc:1 +1/1 +1/1 +up [0-9]+(s|m)" "ps x"
js=$(sctl --json ps --stack "$IT_STACK") || fail "ps --json"
echo "$js" | jq -e '.services[] | select(.service == "web") |
    .stopped == true and .status == "stopped" and .desired == 1 and .running == 0 and
    (.stopped_since | test("^[0-9-]+T[0-9:]+Z$"))' >/dev/null || fail "ps --json web: $js"
echo "$js" | jq -e '.services[] | select(.service == "x") |
    .stopped == false and .running == 1 and .ready == 1 and (.status | startswith("up "))' >/dev/null ||
    fail "ps --json x: $js"
out=$(sctl status --stack "$IT_STACK") || fail "status"
assert_match "$(echo "$out" | grep '^db ')" "^db +0/1 +0 \(stopped\)" "status db"
ok "ps shows stopped services as stopped and x up, human and --json; so does status"

# ---- start db: dependency order, gated ----------------------------------
record start.ev
out=$(sctl start --stack "$IT_STACK" db) || { echo "$out"; fail "start db"; }
wait_until 60 grep -q " start web " "$IT_DIR/start.ev" || fail "no start of web seen"
kill "$evpid"; wait "$evpid" 2>/dev/null || true
for s in db api web; do assert_eq "$(state $s)" running "$s after start db"; done
assert_match "$out" "replica 1 healthy" "start gates on health"
assert_match "$out" "with the stopped services they need or that need them: (api, web|web, api)" "start's summary"
d=$(first start.ev start db); a=$(first start.ev start api); w=$(first start.ev start web)
# healthy: shipd's first probe that passed (exit 0), or the engine's verdict
healthy_db=$(grep -nE "^[0-9]+ (exec_die db 1 0|health_status: healthy db 1 *)$" "$IT_DIR/start.ev" | head -1 | cut -d: -f1)
[ -n "$healthy_db" ] || { cat "$IT_DIR/start.ev"; fail "no passed probe of db"; }
assert_lt "$d" "$a" "db started before api"
assert_lt "$healthy_db" "$a" "db was healthy before api started"
assert_lt "$a" "$w" "api started before web"
assert_eq "$(for s in db api web x; do cid $s; done; cid api 2)" "$ids" "the containers"
ok "start db started db, then api once db was healthy, then web, the same containers"

# ---- restart api: in place, then its dependents -------------------------
before1=$(started_at api 1); before2=$(started_at api 2); beforew=$(started_at web)
befored=$(started_at db)
record restart.ev
out=$(sctl restart --stack "$IT_STACK" api) || { echo "$out"; fail "restart api"; }
wait_until 60 grep -q " start web " "$IT_DIR/restart.ev" || fail "no start of web seen"
kill "$evpid"; wait "$evpid" 2>/dev/null || true
[ "$(started_at api 1)" != "$before1" ] || fail "api replica 1 was not restarted"
[ "$(started_at api 2)" != "$before2" ] || fail "api replica 2 was not restarted"
[ "$(started_at web)" != "$beforew" ] || fail "web was not restarted after api"
assert_eq "$(started_at db)" "$befored" "db's start time (not a dependent)"
assert_eq "$(for s in db api web x; do cid $s; done; cid api 2)" "$ids" "the containers"
# parallelism 1: replica 1 is started again before replica 2 stops
s1=$(grep -nE "^[0-9]+ start api 1" "$IT_DIR/restart.ev" | head -1 | cut -d: -f1)
k2=$(grep -nE "^[0-9]+ die api 2" "$IT_DIR/restart.ev" | head -1 | cut -d: -f1)
assert_lt "$s1" "$k2" "api replica 1 up again before replica 2 went down"
assert_lt "$(last restart.ev start api)" "$(first restart.ev die web)" "web restarted after api"
ok "restart api restarted both replicas one at a time, then web; same containers, new start times"

# ---- history --------------------------------------------------------------
h=$(sctl --json history --stack "$IT_STACK")
assert_eq "$(echo "$h" | jq -r '[.revisions[] | select(.operation) | .kind] | join(" ")')" \
    "stop start restart" "history's operations"
assert_eq "$(echo "$h" | jq '.current')" "$rev" "current revision"
assert_eq "$(echo "$h" | jq '[.revisions[] | select(.operation | not)] | length')" 1 "revisions"
echo "$h" | jq -e '[.revisions[] | select(.kind == "stop")][0] | .result == "done" and
    ([.changes[].service] | sort) == ["api", "db", "web"]' >/dev/null || fail "the stop's entry: $h"
out=$(sctl history --stack "$IT_STACK")
assert_match "$(echo "$out" | grep ' stop ')" "^- .* stop +done +stop web, stop api, stop db" "history's stop row"
ok "history lists stop, start and restart with no new revision"

# ---- down forgets the marks -----------------------------------------------
sctl stop --stack "$IT_STACK" web >/dev/null || fail "stop web"
sctl down --stack "$IT_STACK" >/dev/null || fail "down"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy after down"
assert_eq "$(state web)" running "web after down and deploy"
sctl --json ps --stack "$IT_STACK" | jq -e '[.services[] | .stopped] | any | not' >/dev/null ||
    fail "a stopped mark outlived down"
ok "down forgets what stop left stopped: the next deploy starts everything"
