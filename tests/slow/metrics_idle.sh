#!/bin/bash
# shipd idle with IDLE_REPLICAS (default 20) running containers, their
# stats streams open, the autoscaler evaluating them every second (the
# service is autoscaled with min = max, so it never acts) and /metrics
# scraped every second, for IDLE_SECONDS
# (default 600): shipd's RSS may grow by at most IDLE_RSS_KB (default
# 2048) KiB between the end of a warm-up and the end of the run, and its
# CPU stay under IDLE_CPU_PCT (default 5) percent of one CPU.  Prints the
# figures.  Slow: `make test-metrics-idle`, out of tests/integration/.
. "$(dirname "$0")/../integration/lib.sh"

n=${IDLE_REPLICAS:-20}
secs=${IDLE_SECONDS:-600}
rss_limit=${IDLE_RSS_KB:-2048}
cpu_limit=${IDLE_CPU_PCT:-5}
warm=${IDLE_WARMUP:-20}

stack_yaml </dev/null
unit idle <<EOF
image: $IMAGE1
replicas: $n
resources: { cpus: 0.5, memory: 64m }
autoscale: { min: $n, max: $n, cpu: 70%, memory: 80%, window: 10s }
init: true
stop_grace: 1s
EOF

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# utime + stime, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

start_shipd --metrics-listen 127.0.0.1:0
port=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$IT_LOG" | head -1)
[ -n "$port" ] || fail "shipd did not log the metrics port"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy of $n replicas"
series() {
	curl -sf --max-time 2 "http://127.0.0.1:$port/metrics" |
	    grep -c "^shipd_container_cpu_percent{stack=\"$IT_STACK\""
}
wait_until 60 eval '[ "$(series)" = "$n" ]' || fail "not $n stats streams"

# Scrape every second for the whole run, as a Prometheus would (faster).
( while :; do curl -sf --max-time 2 -o /dev/null \
    "http://127.0.0.1:$port/metrics" || true; sleep 1; done ) &
scraper=$!
it_at_exit 'kill "$scraper" 2>/dev/null'

sleep "$warm"	# the warm-up: allocations settle (a period, not a condition)
r0=$(rss_kb "$SHIPD_PID"); c0=$(cpu_ticks "$SHIPD_PID"); t0=$(now_ms)
sleep "$secs"	# the measured run itself
r1=$(rss_kb "$SHIPD_PID"); c1=$(cpu_ticks "$SHIPD_PID"); t1=$(now_ms)
[ "$(series)" = "$n" ] || fail "stats streams lost during the run"
# The autoscaler averaged every replica over its window (and, held by
# min = max, never acted).
as=$(sctl --json status --stack "$IT_STACK" | jq -c '.services[] | .autoscale')
[ "$(echo "$as" | jq -r '.memory_average | type')" = number ] ||
    fail "the autoscaler has no average: $as"
[ "$(echo "$as" | jq -r .last_decision)" = null ] ||
    fail "the autoscaler acted: $as"

hz=$(getconf CLK_TCK)
cpu=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v ms="$((t1 - t0))" \
    'BEGIN { printf "%.2f", c / hz * 1000 / ms * 100 }')
echo "idle: $n containers, ${secs}s after ${warm}s warm-up, scraped 1/s:" \
    "RSS $r0 -> $r1 KiB ($((r1 - r0)) KiB), CPU $cpu% of one CPU" \
    "($((c1 - c0)) ticks)"
[ "$((r1 - r0))" -le "$rss_limit" ] ||
    fail "RSS grew $((r1 - r0)) KiB (limit $rss_limit)"
awk -v c="$cpu" -v l="$cpu_limit" 'BEGIN { exit !(c < l) }' ||
    fail "CPU $cpu% (limit $cpu_limit%)"
ok "RSS and CPU flat with $n stats streams and the listener"
stop_shipd
