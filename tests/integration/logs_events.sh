#!/bin/bash
# logs (every replica, prefixed; --tail; -f follows new lines) and events
# (the stack's engine events as they happen) through shipd.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit talk <<EOF
image: $IMAGE1
replicas: 2
environment: {SVC_LOG_EVERY: "0.2"}
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' logs --stack '$IT_STACK' talk | grep -q 'talk-2 | tick 2'" ||
    fail "logs do not show replica 2's lines"
out=$(sctl logs --stack "$IT_STACK" talk)
echo "$out" | grep -q '^talk-1 | tick 1$' || { echo "$out"; fail "replica 1 missing"; }
[ "$(sctl logs --stack "$IT_STACK" --tail 1 talk | wc -l)" = 2 ] ||
    fail "--tail 1 must give one line per replica"
ok "logs shows both replicas, prefixed; --tail 1 gives one line each"

"$SHIPCTL" -s "$IT_SOCK" logs --stack "$IT_STACK" -f --tail 0 talk > "$IT_DIR/follow" &
fpid=$!
wait_until 10 grep -q 'talk-1 | tick' "$IT_DIR/follow" || fail "logs -f shows no new line"
wait_until 10 grep -q 'talk-2 | tick' "$IT_DIR/follow" || fail "logs -f misses replica 2"
kill "$fpid"
wait "$fpid" 2>/dev/null || true
sctl version >/dev/null || fail "shipd died when a follower left"
ok "logs -f follows new lines until the client goes"

"$SHIPCTL" -s "$IT_SOCK" events --stack "$IT_STACK" > "$IT_DIR/events" 2>"$IT_DIR/events.err" &
epid=$!
wait_until 10 grep -q "watching stack" "$IT_DIR/events.err" || fail "events did not subscribe"
docker restart -t 1 "$IT_STACK-talk-2" >/dev/null
wait_until 10 grep -Eq "$IT_STACK-talk-2 +die" "$IT_DIR/events" || fail "no die event: $(cat "$IT_DIR/events")"
wait_until 10 grep -Eq "$IT_STACK-talk-2 +start" "$IT_DIR/events" || fail "no start event"
kill "$epid"
wait "$epid" 2>/dev/null || true
ok "events shows die and start of a restarted replica"
