#!/bin/bash
# Supervision against the real engine.  web has shipd's own http check
# (interval 1s, retries 2) and turns unhealthy 2 s after each start
# (SVC_UNHEALTHY_AFTER); app depends on web with restart: true (compose's
# flag, recorded in the unit); other depends on web without it.  shipd
# restarts web within interval * retries plus its start, restarts app after
# it (engine events in that order), leaves other alone, counts restarts in
# status with the reason and a heal event each time, and after
# SHIPD_TEST_HEAL_LOOP_COUNT restarts declares a crash loop and stops.  eng
# (an engine check) turns unhealthy for good: each restart fails its
# gate, the next comes after the backoff, then the crash loop.  A
# shipd restarted shows the same counts, reason and loop, and its
# shipd_restarts_total goes on from there.  A deploy clears the loop; a
# down forgets the counts.
. "$(dirname "$0")/lib.sh"

export SHIPD_TEST_HEAL_BACKOFF_MS=200 SHIPD_TEST_HEAL_BACKOFF_MAX_MS=400
export SHIPD_TEST_HEAL_LOOP_COUNT=2
# compose's restart: true (the only spelling: the unit files' depends_on
# has none) through a compose project deployed as the test's stack.
cat > "$IT_UNITS/compose.yaml" <<EOF
name: $IT_STACK
services:
  web:
    image: $IMAGE1
    environment: {SVC_NAME: web, SVC_UNHEALTHY_AFTER: "2"}
    x-shipd:
      health: {http: {port: 8080, path: /health}, interval: 1s, timeout: 1s, retries: 2}
  app:
    image: $IMAGE1
    environment: {SVC_NAME: app}
    depends_on:
      web: {condition: service_started, restart: true}
  other:
    image: $IMAGE1
    environment: {SVC_NAME: other}
    depends_on: [web]
  eng:
    image: $IMAGE1
    environment: {SVC_NAME: eng}
    healthcheck:
      test: [CMD-SHELL, "test ! -e /tmp/sick && /bin/svc-check"]
      interval: 1s
      retries: 2
EOF

svc_field() {	# service field
	sctl --json status --stack "$IT_STACK" | jq -r --arg s "$1" \
	    --arg f "$2" '.services[] | select(.service == $s) | .[$f]'
}
restarts_at_least() {	# service n
	[ "$(svc_field "$1" restarts)" -ge "$2" ]
}
crash_loop() {
	[ "$(svc_field "$1" crash_loop)" = true ]
}
started_at() {	# service: the engine's StartedAt of replica 1
	docker inspect -f '{{.State.StartedAt}}' "$(cid "$1")"
}
changed() {	# service old-StartedAt
	[ "$(started_at "$1")" != "$2" ]
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
# After the deploy (before it there is no stack to follow); web turns
# unhealthy 2 s after it at the earliest.
sctl --json events --stack "$IT_STACK" > "$IT_DIR/events" 2>&1 &
EVPID=$!
wait_until 5 grep -q '"subscribed"' "$IT_DIR/events" ||
    fail "events never subscribed"
t0=$(now_ms)
app0=$(started_at app)
other0=$(started_at other)
web0=$(started_at web)

# Healthy for 2 s, then unhealthy after 2 failed probes 1 s apart
# (interval * retries), then stopped and started again: well within 10 s.
wait_until 10 restarts_at_least web 1 ||
    fail "web never restarted: restarts '$(svc_field web restarts)'"
took=$(($(now_ms) - t0))
assert_match "$(svc_field web last_reason)" "^unhealthy: " "the reason"
wait_until 10 changed web "$web0" || fail "web's container did not restart"
wait_until 10 changed app "$app0" || fail "app was not restarted after web"
ok "an unhealthy web is restarted ${took} ms after its deploy, app after it"

# The third unhealthy spell is a crash loop (two restarts allowed).
wait_until 30 crash_loop web ||
    fail "no crash loop: restarts '$(svc_field web restarts)'"
assert_eq "$(svc_field web restarts)" 2 "restarts before the loop"
ok "web's repeated failures are a crash loop after 2 restarts"
! wait_until 4 restarts_at_least web 3 || fail "restarted during a crash loop"
[ "$(started_at other)" = "$other0" ] ||
    fail "other (no restart: true) was restarted"
assert_eq "$(svc_field other restarts)" 0 "other's restarts"
ok "no restart in a crash loop; other (without restart: true) left alone"

# eng's engine check fails from now on, restarted or not (the file stays
# in the container): no restart brings it back healthy.  The engine says
# "unhealthy" once per spell, often while the restart still runs: each
# failed restart is followed by the next after the backoff, and the third
# is refused as a crash loop, not waited on forever.  (After web's loop:
# the two would queue on the stack's lock.)
docker exec "$(cid eng)" touch /tmp/sick
wait_until 30 crash_loop eng ||
    fail "eng: no crash loop: restarts '$(svc_field eng restarts)'"
assert_eq "$(svc_field eng restarts)" 2 "eng's restarts before the loop"
ok "eng, which no restart brings back healthy, is restarted with backoff, then a crash loop"

kill "$EVPID" 2>/dev/null || true
wait "$EVPID" 2>/dev/null || true
eng_ev=$(jq -r 'select(.event == "heal" and .service == "eng") | .action' \
    "$IT_DIR/events" | tr '\n' ' ')
assert_match "$eng_ev" "^restart failed restart failed crash_loop $" \
    "eng's heal events"
ev=$(jq -r 'select(.event == "heal") | .action' "$IT_DIR/events" |
    tr '\n' ' ')
assert_match "$ev" "restart .*restart .*crash_loop" "heal events"
# The engine's order within the first heal: web stopped and started, then
# app stopped and started.
order=$(jq -r 'select(.event == "engine") |
    select(.action == "start" or .action == "die") |
    "\(.service):\(.action)"' "$IT_DIR/events" | tr '\n' ' ')
assert_match "$order" "web:die web:start app:die app:start" \
    "restart order"
ok "heal events name each restart and the crash loop; web before app"

# shipd restarted: the counts, the reason and the loop are read back from
# the state dir (heal.json), and shipd_restarts_total goes on from 2
# rather than starting again at 0.
reason=$(svc_field web last_reason)
stop_shipd
start_shipd --metrics-listen 127.0.0.1:0
assert_eq "$(svc_field web restarts)" 2 "restarts after shipd restarted"
assert_eq "$(svc_field web last_reason)" "$reason" \
    "last reason after shipd restarted"
assert_eq "$(svc_field web crash_loop)" true "crash loop after shipd restarted"
port=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' \
    "$IT_LOG" | tail -1)
[ -n "$port" ] || fail "shipd did not log the metrics port"
restarts_metric=$(curl -sf --max-time 2 "http://127.0.0.1:$port/metrics" |
    grep "^shipd_restarts_total{" | grep "stack=\"$IT_STACK\"" |
    grep 'service="web"' | grep 'reason="unhealthy"' | awk '{print $2}')
assert_eq "$restarts_metric" 2 "shipd_restarts_total after shipd restarted"
ok "after a shipd restart status shows web's 2 restarts, reason and loop; the counter goes on at 2"

# A deploy starts afresh: the loop is forgotten.
sed -i 's/SVC_UNHEALTHY_AFTER: "2"/SVC_UNHEALTHY_AFTER: "600"/' \
    "$IT_UNITS/compose.yaml"
sctl deploy "$IT_UNITS" >/dev/null || fail "second deploy"
assert_eq "$(svc_field web crash_loop)" false "crash loop after a deploy"
wait_until 5 sh -c "jq -e '.web.crash_loop == false and .web.restarts == 2' \
    '$IT_STATE/stacks/$IT_STACK/heal.json'" ||
    fail "heal.json still records the loop: $(cat "$IT_STATE/stacks/$IT_STACK/heal.json")"
ok "a deploy clears the crash loop, in heal.json too"

# down forgets the counts with the containers they were about: heal.json
# is empty by the time down answers, and the stack deployed again shows 0.
sctl down --stack "$IT_STACK" >/dev/null || fail "down"
assert_eq "$(jq -c . "$IT_STATE/stacks/$IT_STACK/heal.json")" "{}" \
    "heal.json when down answered"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy after down"
assert_eq "$(svc_field web restarts)" 0 "restarts after down and deploy"
assert_eq "$(svc_field web crash_loop)" false "crash loop after down and deploy"
ok "down forgets the restart counts, in heal.json too: deployed again, web shows 0"
stop_shipd
