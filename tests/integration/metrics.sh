#!/bin/bash
# shipd --metrics-listen: /metrics passes promtool check metrics, answers
# while a deploy sits in its gate (the loop is not blocked), and shows the
# deploy's counters, gate times, replicas and per-container engine stats
# move; shipctl top shows the same replicas and drops one stopped behind
# shipd's back.  One shipd, one deploy.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool is missing (scripts/deps.sh installs prometheus)"

stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
replicas: 2
init: true
environment: {SVC_HEALTHY_AFTER: "3"}
health: {test: [CMD, /bin/svc-check], interval: 1s, start_period: 30s, start_interval: 100ms}
stop_grace: 1s
EOF

# The configuration file's metrics: listen: is checked like the option.
printf 'metrics:\n  listen: localhost:9464\n' > "$IT_DIR/bad.yaml"
rc=0
out=$("$SHIPD" -c "$IT_DIR/bad.yaml" --check-config 2>&1) || rc=$?
assert_eq "$rc" 2 "--check-config of a bad metrics.listen: exit"
assert_match "$out" "bad.yaml:2:11: metrics.listen: 'localhost:9464' is not HOST:PORT" \
    "--check-config of a bad metrics.listen"
printf 'metrics:\n  listen: 127.0.0.1:9464\n' > "$IT_DIR/good.yaml"
out=$("$SHIPD" -c "$IT_DIR/good.yaml" --check-config) ||
    fail "--check-config of a good metrics.listen"
assert_match "$out" '^metrics: 127.0.0.1:9464$' "--check-config names the address"
ok "metrics: listen: in the configuration file is checked as HOST:PORT"

# Port 0: the kernel picks one; shipd's log names it.
start_shipd --metrics-listen 127.0.0.1:0
port=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$IT_LOG" | head -1)
[ -n "$port" ] || fail "shipd did not log the metrics port"
URL=http://127.0.0.1:$port/metrics
scrape() { curl -sf --max-time 2 "$URL"; }
# check TEXT: promtool's verdict on non-empty text (it passes empty input).
check() {
	[ -n "$1" ] || fail "empty /metrics"
	printf '%s\n' "$1" | promtool check metrics ||
	    fail "promtool check metrics failed on the output above"
}
# value TEXT SERIES-REGEX: the sample's value, or "" when absent.
value() {
	printf '%s\n' "$1" | awk -v re="^$2 " '$0 ~ re { print $NF; exit }'
}
S="stack=\"$IT_STACK\""

m=$(scrape) || fail "no answer on $URL"
check "$m"
assert_eq "$(value "$m" "shipd_engine_reachable")" 1 "engine reachable"
assert_eq "$(value "$m" "shipd_deploys_total\\{$S,result=\"ok\"\\}")" "" \
    "deploys before any"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" \
    404 "GET / status"
ok "/metrics passes promtool check metrics; / is 404"

sctl deploy "$IT_UNITS" >"$IT_DIR/deploy.out" 2>&1 &
deploy_pid=$!
in_gate() {
	sctl --json status --stack "$IT_STACK" | jq -e '.operations[0] |
	    .kind == "deploy" and .phase == "apply"'
}
wait_until 60 in_gate || fail "the deploy never reached its gate"
t0=$(now_ms)
m=$(scrape) || fail "/metrics did not answer within 2 s during the deploy"
took=$(($(now_ms) - t0))
in_gate >/dev/null || fail "the deploy left its gate before the scrape ended"
check "$m"
ok "/metrics answered in ${took} ms while the deploy waited in its gate"
wait "$deploy_pid" || { cat "$IT_DIR/deploy.out"; fail "deploy"; }

m=$(scrape)
check "$m"
assert_eq "$(value "$m" "shipd_deploys_total\\{$S,result=\"ok\"\\}")" 1 \
    "deploys ok after the deploy"
assert_eq "$(value "$m" "shipd_deploy_duration_seconds_count\\{$S\\}")" 1 \
    "deploy duration count"
assert_eq "$(value "$m" "shipd_gate_duration_seconds_count\\{$S,service=\"api\",result=\"passed\"\\}")" \
    2 "gates passed"
assert_eq "$(value "$m" "shipd_gate_duration_seconds_bucket\\{$S,service=\"api\",result=\"passed\",le=\"1\"\\}")" \
    0 "gates under 1 s (each took 3 s or more)"
assert_eq "$(value "$m" "shipd_replicas_desired\\{$S,service=\"api\"\\}")" 2 \
    "replicas desired"
assert_eq "$(value "$m" "shipd_control_requests_total\\{command=\"deploy\",result=\"ok\"\\}")" \
    1 "deploy requests ok"
ok "the deploy moved deploys_total, its duration, 2 gate times, requests"

# The stats streams: a sample for each replica, then running and healthy.
samples() {
	m=$(scrape)
	[ "$(printf '%s\n' "$m" | grep -c "^shipd_container_memory_bytes{$S,service=\"api\"")" = 2 ] &&
	[ "$(value "$m" "shipd_replicas_healthy\\{$S,service=\"api\"\\}")" = 2 ]
}
wait_until 10 samples || { printf '%s\n' "$m" | grep "$IT_STACK"; fail "no engine stats for both replicas"; }
check "$m"
assert_eq "$(value "$m" "shipd_replicas_running\\{$S,service=\"api\"\\}")" 2 \
    "replicas running"
mem=$(value "$m" "shipd_container_memory_bytes\\{$S,service=\"api\",replica=\"1\",container=\"$IT_STACK-api-1\"\\}")
[ -n "$mem" ] && [ "${mem%.*}" -gt 0 ] || fail "replica 1's memory: '$mem'"
ok "both replicas' engine stats (replica 1: $mem bytes), 2 running, 2 healthy"

top_json() { sctl --json top --stack "$IT_STACK"; }
wait_until 10 eval '[ "$(top_json | jq "[.containers[] | select(.sampled)] | length")" = 2 ]' ||
    fail "top: want 2 sampled replicas"
j=$(top_json)
assert_eq "$(echo "$j" | jq -r '[.containers[].replica] | join(",")')" 1,2 "top replicas"
assert_eq "$(echo "$j" | jq -r '.containers[0].health')" healthy "top health"
echo "$j" | jq -e '.containers[0] | (.cpu_percent|type) == "number" and
    .memory_limit_bytes > 0 and (.uptime_ms|type) == "number" and
    (.started|type) == "string"' >/dev/null || fail "top fields: $j"
out=$(sctl top --stack "$IT_STACK")
assert_match "$out" '^STACK +SERVICE +REPLICA +CPU% +MEM / LIMIT' "top header"
assert_eq "$(echo "$out" | grep -c " api ")" 2 "top rows"
ok "shipctl top (not a terminal: one snapshot) and --json list both replicas"

docker stop -t 1 "$(cid api 2)" >/dev/null
one_left() { [ "$(top_json | jq '.containers | length')" = 1 ]; }
wait_until 10 one_left || fail "top still lists the stopped replica"
wait_until 10 eval '[ "$(value "$(scrape)" "shipd_replicas_running\\{$S,service=\"api\"\\}")" = 1 ]' ||
    fail "replicas_running did not drop to 1"
check "$(scrape)"
ok "a replica stopped behind shipd's back leaves top and replicas_running"

stop_shipd
ok "shipd stopped cleanly with the listener and the streams open"
