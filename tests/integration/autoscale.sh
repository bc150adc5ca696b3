#!/bin/bash
# The autoscaler against the real engine and its real stats.  api burns its
# CPU limit (resources.cpus 0.1) while a file on a bind mount exists
# (SVC_BURN); autoscale: min 1, max 3, cpu 30%, up 1 per 5 s, down 50% per
# 5 s, window 5 s, stabilization 10 s.  A first scale-up whose replica
# fails its health gate is reported and backs off.  It scales 1 -> 2 -> 3, one replica
# at a time, at least `every` apart, never above max; a deploy while it
# wants more is left alone (no autoscale in it) and keeps the count; a
# no-op redeploy keeps 3; with the burn ended it comes back to 1 after
# stabilization.  scale api=2 is refused naming the bounds, scale
# api=1:2 sets them.  Each decision is in history, events, status and the
# metrics (promtool checks them) and webhooks.  Prints the timeline of the decisions.
. "$(dirname "$0")/lib.sh"

export SHIPD_TEST_AUTOSCALE_BACKOFF_MS=2000

image=${AUTOSCALE_TEST_IMAGE:-$IMAGE1}
mkdir -p "$IT_DIR/burn"
touch "$IT_DIR/burn/on"
RECV_LOG=$IT_DIR/hooks.jsonl
: > "$RECV_LOG"
python3 "$ROOT/tests/tools/hookrecv.py" "$IT_DIR/port" "$RECV_LOG" &
RECV_PID=$!
it_at_exit 'kill "$RECV_PID" 2>/dev/null'
wait_until 10 test -s "$IT_DIR/port" || fail "webhook receiver did not start"
stack_yaml <<EOF
notify:
  - url: http://127.0.0.1:$(cat "$IT_DIR/port")/ok
    events: [autoscale]
    retries: 0
EOF
unit api <<EOF
image: $image
environment: {SVC_NAME: api, SVC_BURN: /burn/on, ROUND: "\${ROUND:-1}"}
volumes: ["$IT_DIR/burn:/burn"]
resources: {cpus: 0.1}
stop_grace: 1s
update:
  monitor: \${MONITOR:-0s}
  healthy_deadline: 3s
# Unhealthy while the file sick exists: a scale's new replica fails its gate.
health:
  test: ["CMD-SHELL", "test ! -e /burn/sick"]
  interval: 10s
  timeout: 2s
  retries: 1
  start_interval: 200ms
on_unhealthy: none
autoscale:
  min: 1
  max: \${MAX:-3}
  cpu: 30%
  up: {max_step: 1, every: 5s}
  down: {max_percent: 50%, every: 5s}
  window: 5s
  stabilization: 10s
EOF

status_json() { sctl --json status --stack "$IT_STACK"; }
desired() {
	status_json | jq -r '.services[] | select(.service == "api") | .desired'
}
running() { count_containers --filter status=running; }
# The highest count seen, checked at every poll.
MAXSEEN=0
watch_count() {	# want: succeed once desired is want and that many run
	local d r
	d=$(desired) r=$(running)
	[ "$d" -gt "$MAXSEEN" ] && MAXSEEN=$d
	[ "$r" -gt "$MAXSEEN" ] && MAXSEEN=$r
	[ "$d" = "$1" ] && [ "$r" = "$1" ]
}
reach() {	# want seconds: prints ms since t0 when reached
	local deadline=$(($(now_ms) + $2 * 1000))
	while ! watch_count "$1"; do
		[ "$(now_ms)" -lt "$deadline" ] ||
		    fail "api never reached $1 replicas (desired $(desired), running $(running))"
		sleep 0.2
	done
	echo $(($(now_ms) - t0))
}

start_shipd --metrics-listen 127.0.0.1:0
port=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$IT_LOG" | head -1)
t0=$(now_ms)
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
assert_eq "$(desired)" 1 "the first deploy's count (replicas = min)"
sctl --json events --stack "$IT_STACK" --filter type=autoscale \
    > "$IT_DIR/events" 2>&1 &
EVPID=$!
it_at_exit 'kill $EVPID 2>/dev/null'
wait_until 5 grep -q '"subscribed"' "$IT_DIR/events" ||
    fail "events never subscribed"

# The first scale-up fails (the health check fails while the file sick
# exists, so the scale's gate does): reported,
# and after a backoff tried again.
touch "$IT_DIR/burn/sick"
failed() {
	jq -e 'select(.event == "autoscale" and .action == "failed")' \
	    "$IT_DIR/events"
}
wait_until 40 failed || fail "no failed autoscale event"
tf=$(($(now_ms) - t0))
assert_eq "$(desired)" 1 "desired after the failed scale"
assert_match "$(failed | jq -r .reason)" "1 -> 2; failed: " "the failure's reason"
rm -f "$IT_DIR/burn/sick"
ok "a failed scale-up (at ${tf} ms) is reported and leaves the count at 1"

t2=$(reach 2 30)
ok "burning: 1 -> 2 at ${t2} ms, after the backoff"

# While it wants a third, a deploy that takes a while (a 2 s monitor): the
# autoscaler leaves it alone, and the deploy keeps 2.
d0=$(now_ms)
out=$(ROUND=2 MONITOR=2s sctl --json deploy "$IT_UNITS") ||
    { echo "$out"; fail "the deploy in the middle"; }
d1=$(now_ms)
n=$(echo "$out" | jq -s -r '.[] | select(.event == "plan") | .services[] |
    select(.service == "api") | .replicas')
assert_eq "$n" 2 "the deploy's count for api"
assert_eq "$(desired)" 2 "desired after the deploy"
ok "a deploy during the burn ($((d1 - d0)) ms) keeps 2 replicas"

t3=$(reach 3 30)
gap=$((t3 - t2))
assert_ge "$gap" 5000 "time between the two scale-ups"
ok "2 -> 3 at ${t3} ms, ${gap} ms after the first"
# Max: no fourth, however long it burns (the window twice over).
t_end=$(($(now_ms) + 6000))
while [ "$(now_ms)" -lt "$t_end" ]; do
	watch_count 3 || true
	sleep 0.5
done
assert_eq "$MAXSEEN" 3 "the most replicas seen"
ROUND=2 MONITOR=2s sctl deploy "$IT_UNITS" >/dev/null || fail "no-op redeploy"
assert_eq "$(desired)" 3 "desired after a no-op redeploy"
assert_eq "$(running)" 3 "running after a no-op redeploy"
ok "never above max 3; a no-op redeploy keeps 3"

# Status: the bounds, the target, the averages, the last decision.
a=$(status_json | jq -c '.services[] | select(.service == "api") | .autoscale')
assert_eq "$(echo "$a" | jq -r '"\(.min_replicas) \(.max_replicas) \(.cpu_target)"')" \
    "1 3 30" "status bounds and target"
assert_match "$(echo "$a" | jq -r .last_decision)" \
    '^cpu [0-9]+% of 30% target over 5s: 2 -> 3$' "status last decision"
avg=$(echo "$a" | jq -r '.cpu_average | floor')
assert_ge "$avg" 40 "cpu average while burning"
ok "status: bounds 1..3, target 30%, average ${avg}%, $(echo "$a" | jq -r .last_decision)"

rm -f "$IT_DIR/burn/on"
tb=$(($(now_ms) - t0))
tdown2=$(reach 2 40)
tdown1=$(reach 1 40)
assert_ge "$((tdown2 - tb))" 10000 "stabilization before the first scale-down"
assert_ge "$((tdown1 - tdown2))" 5000 "time between the scale-downs"
ok "burn ended at ${tb} ms: 3 -> 2 at ${tdown2} ms, 2 -> 1 at ${tdown1} ms"

# Every decision: an event pair, a history row, a counter.
kill "$EVPID" 2>/dev/null || true
wait "$EVPID" 2>/dev/null || true
steps=$(jq -r 'select(.event == "autoscale" and .action == "scale") |
    "\(.from)->\(.to)"' "$IT_DIR/events" | tr '\n' ' ')
assert_match "$steps" "^1->2 1->2 2->3 3->2 2->1 " "autoscale events"
jq -e 'select(.event == "autoscale" and .action == "scale") |
    select((.to - .from) > 1)' "$IT_DIR/events" >/dev/null &&
    fail "a step of more than max_step 1"
hist=$(sctl --json history --stack "$IT_STACK" | jq -r '.revisions[] |
    select(.kind == "autoscale") | .reason')
assert_eq "$(echo "$hist" | grep -c 'target over 5s: ')" 5 "history rows"
assert_eq "$(sctl --json history --stack "$IT_STACK" | jq -r '[.revisions[] |
    select(.kind == "autoscale") | .result] | join(" ")')" \
    "failed done done done done" "history results"
assert_match "$hist" "cpu [0-9]+% of 30% target over 5s: 1 -> 2" "history reason"
m=$(curl -sf --max-time 2 "http://127.0.0.1:$port/metrics") || fail "no /metrics"
if command -v promtool >/dev/null; then
	printf '%s\n' "$m" | promtool check metrics ||
	    fail "promtool check metrics"
fi
S="stack=\"$IT_STACK\",service=\"api\""
assert_match "$m" "shipd_autoscale_decisions_total\\{$S,direction=\"up\"\\} 3" \
    "up decisions counted"
assert_match "$m" "shipd_autoscale_decisions_total\\{$S,direction=\"down\"\\} 2" \
    "down decisions counted"
assert_match "$m" "shipd_autoscale_desired_replicas\\{$S\\} 1" "desired gauge"
assert_match "$m" "shipd_autoscale_failures_total\\{$S\\} 1" "failures counted"
hooks=$(jq -r 'select(.body.event == "autoscale") | .body |
    "\(.detail.from)->\(.detail.to):\(.detail.ok):\(.services | join(","))"' \
    "$RECV_LOG" | tr '\n' ' ')
assert_eq "$hooks" "1->2:false:api 1->2:true:api 2->3:true:api 3->2:true:api 2->1:true:api " \
    "autoscale webhooks"
jq -e 'select(.body.event == "autoscale") | .body | select(.detail.metric
    == "cpu" and .detail.target == 30 and (.detail.value | type) ==
    "number" and (.reason | test("target over 5s")))' "$RECV_LOG" \
    >/dev/null || fail "the autoscale webhook's body"
ok "events $steps; 5 history rows; metrics counted (promtool passes)"

# The operator: a count is refused, bounds are taken.
rc=0
out=$(sctl scale --stack "$IT_STACK" api=2 2>&1) || rc=$?
assert_eq "$rc" 2 "scale api=2: exit"
assert_match "$out" "api is autoscaled between 1 and 3 replicas.*api=MIN:MAX" \
    "scale api=2: message"
sctl scale --stack "$IT_STACK" api=2:2 >/dev/null || fail "scale api=2:2"
wait_until 20 watch_count 2 || fail "bounds 2:2 did not bring api to 2"
sctl scale --stack "$IT_STACK" api=1:2 >/dev/null || fail "scale api=1:2"
a=$(status_json | jq -c '.services[] | select(.service == "api") | .autoscale')
assert_eq "$(echo "$a" | jq -r '"\(.min_replicas) \(.max_replicas)"')" "1 2" \
    "bounds after scale api=1:2"
sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy after bounds"
a=$(status_json | jq -c '.services[] | select(.service == "api") | .autoscale')
assert_eq "$(echo "$a" | jq -r .max_replicas)" 2 "bounds after a redeploy"
ok "scale api=2 refused naming the bounds; api=2:2 moves it to 2, api=1:2 sets 1..2, kept by a deploy"

# The unit file's own bounds change: they stand again, and the deploy
# brings the count within them (3 from api=3:3 into the file's new 1..2).
sctl scale --stack "$IT_STACK" api=3:3 >/dev/null || fail "scale api=3:3"
wait_until 20 watch_count 3 || fail "bounds 3:3 did not bring api to 3"
out=$(MAX=2 sctl --json deploy "$IT_UNITS") || { echo "$out"; fail "deploy with max 2"; }
n=$(echo "$out" | jq -s -r '.[] | select(.event == "plan") | .services[] |
    select(.service == "api") | .replicas')
assert_eq "$n" 2 "the deploy's count for api under the file's max 2"
a=$(status_json | jq -c '.services[] | select(.service == "api") | .autoscale')
assert_eq "$(echo "$a" | jq -r '"\(.min_replicas) \(.max_replicas)"')" "1 2" \
    "the file's new bounds"
ok "api=3:3 holds 3; a deploy whose file says max 2 brings it to 2"

# shipd restarts: the count stands, and the autoscaler goes on from what
# runs (idle at 2: down to 1 once a window is averaged again).
stop_shipd
start_shipd
assert_eq "$(desired)" 2 "desired after shipd restarted"
tr0=$(now_ms)
wait_until 30 watch_count 1 || fail "no scale-down after shipd restarted"
ok "after a restart of shipd: still 2, then down to 1 in $(($(now_ms) - tr0)) ms"

stop_shipd
echo "timeline (ms since the first deploy): 1->2 failed $tf, 1->2 $t2, deploy $((d0 - t0))-$((d1 - t0)), 2->3 $t3, burn off $tb, 3->2 $tdown2, 2->1 $tdown1"
