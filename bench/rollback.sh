#!/bin/bash
# Rollback and update availability, shipd beside docker-compose, on one
# 3-service stack (db <- api <- web), medians of BENCH_RUNS (default 5):
#
#   auto-rollback  a new api image that never becomes healthy: time from
#                  the failed gate to the old revision healthy again
#                  (shipd reports it), and for compose: reverting the file
#                  and `up -d` until healthy (compose has no rollback)
#   rollback       `shipctl rollback` to the previous revision
#   unavailable    how long clients of api see failures while api is
#                  updated to a new version: shipd stop-first, shipd
#                  start-first (clients by service name), compose up -d
#
# Run from the repository root after `make all images` (make bench-rollback).
set -eu
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-5}
SHIPD=$PWD/build/shipd
SHIPCTL=$PWD/build/shipctl
WORK=$(mktemp -d /tmp/shipd-bench-rb.XXXXXX)
SOCK=$WORK/shipd.sock
STACK=sbench-rb
PROJECT=sbenchrb
command -v docker-compose >/dev/null || { echo "bench: docker-compose missing" >&2; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)) }'; }
cleanup() {
	"$SHIPCTL" -s "$SOCK" down --stack "$STACK" --volumes >/dev/null 2>&1 || true
	[ -n "${SHIPD_PID:-}" ] && kill "$SHIPD_PID" 2>/dev/null && wait "$SHIPD_PID" 2>/dev/null
	docker-compose -p "$PROJECT" -f "$WORK/compose.yml" down -v -t 1 >/dev/null 2>&1 || true
	docker ps -aq --filter "label=io.shipd.stack=$STACK" | xargs -r docker rm -f >/dev/null 2>&1
	docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r docker rm -f >/dev/null 2>&1
	docker ps -aq --filter "label=io.shipd.bench=$STACK" | xargs -r docker rm -f >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the stack in both formats ----------------------------------------------

units() {	# image order bad
	mkdir -p "$WORK/units"
	printf 'name: %s\n' "$STACK" > "$WORK/units/stack.yaml"
	cat > "$WORK/units/db.yaml" <<EOF
image: shipd-test/svc:1
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
EOF
	cat > "$WORK/units/api.yaml" <<EOF
image: $1
environment: {SVC_NAME: api${3:+, SVC_NEVER_HEALTHY: "1"}}
depends_on: {db: healthy}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
update: {order: $2, healthy_deadline: 3s}
stop_grace: 2s
EOF
	cat > "$WORK/units/web.yaml" <<EOF
image: shipd-test/svc:1
depends_on: {api: healthy}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
EOF
}

compose() {	# image
	cat > "$WORK/compose.yml" <<EOF
version: "2.4"
services:
  db:
    image: shipd-test/svc:1
    init: true
    healthcheck: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
  api:
    image: $1
    environment: {SVC_NAME: api}
    init: true
    depends_on: {db: {condition: service_healthy}}
    healthcheck: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
    stop_grace_period: 2s
  web:
    image: shipd-test/svc:1
    init: true
    depends_on: {api: {condition: service_healthy}}
    healthcheck: {test: [CMD, /bin/svc-check], interval: 1s, timeout: 1s, retries: 3}
EOF
}

dc() { docker-compose -p "$PROJECT" -f "$WORK/compose.yml" "$@" >/dev/null 2>&1; }

healthy() {	# label filter: every container of it healthy
	local ids
	ids=$(docker ps -q --filter "$1")
	[ -n "$ids" ] || return 1
	! docker inspect -f '{{.State.Health.Status}}' $ids | grep -vqx healthy
}

wait_healthy() {
	local deadline=$(($(now_ms) + 60000))
	until healthy "$1"; do
		[ "$(now_ms)" -lt "$deadline" ] || { echo "bench: never healthy: $1" >&2; return 1; }
		sleep 0.02
	done
}

# A client on the stack's network calling api by name every 20 ms; prints
# the longest run of failures in ms at the end.
client_start() {	# network
	docker run -d --name "$STACK-client" --label "io.shipd.bench=$STACK" \
	    --network "$1" --entrypoint /bin/sh shipd-test/svc:1 -c '
	    while :; do
		ip=$(nslookup api 2>/dev/null | awk "/^Address: / { print \$2 }" | tail -1)
		t=$(date +%s%N 2>/dev/null || date +%s)
		if [ -n "$ip" ] && timeout 1 wget -q -O- "http://$ip:8080/version" >/dev/null 2>&1
		then echo "ok $(cut -d" " -f1 /proc/uptime)"; else echo "fail $(cut -d" " -f1 /proc/uptime)"; fi
		usleep 20000
	    done' >/dev/null
	local deadline=$(($(now_ms) + 10000))
	until docker logs "$STACK-client" 2>/dev/null | grep -q ok; do
		[ "$(now_ms)" -lt "$deadline" ] || break
		sleep 0.05
	done
}

client_gap_ms() {
	local gap
	gap=$(docker logs "$STACK-client" 2>/dev/null | awk '
	    $1 == "fail" { if (!s) s = $2; e = $2; next }
	    $1 == "ok" && s { g = e - s + 0.02; if (g > m) m = g; s = 0 }
	    END { if (s) { g = e - s + 0.02; if (g > m) m = g }; printf "%d", m * 1000 }')
	docker rm -f "$STACK-client" >/dev/null
	echo "${gap:-0}"
}

# ---- shipd --------------------------------------------------------------------

"$SHIPD" -s "$SOCK" --state-dir "$WORK/state" >"$WORK/shipd.log" 2>&1 &
SHIPD_PID=$!
for _ in $(seq 100); do "$SHIPCTL" -s "$SOCK" version >/dev/null 2>&1 && break; sleep 0.05; done
sctl() { "$SHIPCTL" -s "$SOCK" "$@"; }

declare -a auto manual stopfirst startfirst c_revert c_gap
for i in $(seq "$RUNS"); do
	units shipd-test/svc:1 stop-first
	sctl deploy "$WORK/units" >/dev/null
	units shipd-test/svc:2 stop-first bad
	out=$(sctl deploy "$WORK/units" 2>&1 || true)
	auto+=("$(echo "$out" | sed -n 's/.*rolled back to revision [0-9]* in \([0-9.]*\)s.*/\1/p' | awk '{ printf "%d", $1 * 1000 }')")

	units shipd-test/svc:2 stop-first
	sctl deploy "$WORK/units" >/dev/null
	t0=$(now_ms)
	sctl rollback --stack "$STACK" >/dev/null
	manual+=("$(($(now_ms) - t0))")

	client_start "${STACK}_default"
	units shipd-test/svc:2 stop-first
	sctl deploy "$WORK/units" >/dev/null
	stopfirst+=("$(client_gap_ms)")

	units shipd-test/svc:1 start-first
	sctl deploy "$WORK/units" >/dev/null
	client_start "${STACK}_default"
	units shipd-test/svc:2 start-first
	sctl deploy "$WORK/units" >/dev/null
	startfirst+=("$(client_gap_ms)")
	sctl down --stack "$STACK" --volumes >/dev/null
done
kill "$SHIPD_PID"; wait "$SHIPD_PID" 2>/dev/null || true; SHIPD_PID=

# ---- compose --------------------------------------------------------------------

for i in $(seq "$RUNS"); do
	compose shipd-test/svc:1
	dc up -d
	wait_healthy "label=com.docker.compose.project=$PROJECT"
	# compose has no rollback: the bad image's container is replaced by
	# reverting the file and running up -d again
	compose shipd-test/svc:2
	dc up -d --no-deps api || true
	compose shipd-test/svc:1
	t0=$(now_ms)
	dc up -d --no-deps api
	wait_healthy "label=com.docker.compose.project=$PROJECT"
	c_revert+=("$(($(now_ms) - t0))")

	client_start "${PROJECT}_default"
	compose shipd-test/svc:2
	dc up -d --no-deps api
	wait_healthy "label=com.docker.compose.project=$PROJECT"
	c_gap+=("$(client_gap_ms)")
	dc down -v -t 1
done

m() { printf '%s\n' "$@" | median; }
echo "rollback bench: $RUNS run(s), medians, ms; stack db <- api <- web, 1 s health intervals"
printf '%-44s %8s %8s\n' "" shipd compose
printf '%-44s %8s %8s\n' "failed gate -> old revision healthy" "$(m "${auto[@]}")" "$(m "${c_revert[@]}")"
printf '%-44s %8s %8s\n' "shipctl rollback (kept containers)" "$(m "${manual[@]}")" "-"
printf '%-44s %8s %8s\n' "api unavailable during update, stop-first" "$(m "${stopfirst[@]}")" "$(m "${c_gap[@]}")"
printf '%-44s %8s %8s\n' "api unavailable during update, start-first" "$(m "${startfirst[@]}")" "-"
echo "(compose: revert the file and up -d; it has no rollback and no start-first)"
