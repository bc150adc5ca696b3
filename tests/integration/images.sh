#!/bin/bash
# The test image itself, through the docker CLI alone: versions differ,
# health follows SVC_HEALTHY_AFTER / SVC_NEVER_HEALTHY / SVC_UNHEALTHY_AFTER,
# one-shots exit with their code, SVC_WRITE and SVC_TCP_PORT work, and a
# stop takes well under a second with and without --init.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

check() {	# container: /bin/svc-check passes
	docker exec "$1" /bin/svc-check >/dev/null 2>&1
}
failing() {	# container: /bin/svc-check fails
	! check "$1"
}
get() {		# container path
	docker exec "$1" wget -q -O- "http://127.0.0.1:8080$2"
}
health() {	# container: the engine's view of its health
	docker inspect -f '{{.State.Health.Status}}' "$1"
}
is_health() {	# container status
	[ "$(health "$1")" = "$2" ]
}

# ---- the two tags -----------------------------------------------------------
id1=$(docker image inspect -f '{{.Id}}' "$IMAGE1")
id2=$(docker image inspect -f '{{.Id}}' "$IMAGE2")
[ "$id1" != "$id2" ] || fail ":1 and :2 have the same image ID"
for img in "$IMAGE1" "$IMAGE2"; do
	assert_eq "$(docker image inspect -f \
	    '{{index .Config.Labels "io.shipd.test"}}' "$img")" 1 "$img label"
	assert_eq "$(docker image inspect -f '{{.Config.Healthcheck}}' "$img")" \
	    "<nil>" "$img has no HEALTHCHECK of its own"
done

# Everything is reached with docker exec on the container's loopback, so
# no container needs a network.
run() {		# name args...
	local n=$1

	shift
	it_run "$n" --network none "$@"
}

# Start everything that only needs watching at once; each check below
# waits on its own container.
v1=$(run v1 -e SVC_NAME=alpha "$IMAGE1")
v2=$(run v2 -e SVC_NAME=beta "$IMAGE2")
never=$(run never -e SVC_NEVER_HEALTHY=1 \
    --health-cmd /bin/svc-check --health-interval 200ms --health-retries 2 \
    "$IMAGE1")
tcp=$(run tcp -e SVC_TCP_PORT=9000 "$IMAGE1")
inited=$(run inited --init "$IMAGE2")
# last, so that the "not yet healthy" probe comes right after its start
t0=$(now_ms)
late=$(run late -e SVC_HEALTHY_AFTER=2.5 \
    --health-cmd /bin/svc-check --health-interval 200ms "$IMAGE1")
if check "$late" && [ $(($(now_ms) - t0)) -lt 2500 ]; then
	fail "late: healthy before SVC_HEALTHY_AFTER=2.5 passed"
fi

wait_until 30 check "$v1" || fail "v1 never became healthy"
wait_until 30 check "$v2" || fail "v2 never became healthy"
assert_eq "$(get "$v1" /version)" 1 "/version of :1"
assert_eq "$(get "$v2" /version)" 2 "/version of :2"
assert_eq "$(docker exec "$v2" cat /etc/svc-version)" 2 "/etc/svc-version"
assert_match "$(get "$v1" /)" '<h1>alpha</h1>' "/ names SVC_NAME"
assert_eq "$(get "$v1" /health)" ok "/health body"
ok "versions: :1 and :2 differ in image ID, /version and /etc/svc-version"

wait_until 30 check "$late" || fail "late never became healthy"
took=$(($(now_ms) - t0))
assert_ge "$took" 2500 "late became healthy too early (ms)"
wait_until 30 is_health "$late" healthy ||
    fail "engine health of late: $(health "$late")"
ok "SVC_HEALTHY_AFTER=2.5: healthy after ${took} ms, also by the engine's own /bin/svc-check"

wait_until 30 is_health "$never" unhealthy ||
    fail "never: engine says $(health "$never")"
check "$never" && fail "never: /health passed"
get "$never" / >/dev/null || fail "never: httpd is not serving /"
ok "SVC_NEVER_HEALTHY=1: the engine marks it unhealthy while / still answers"

# started only now: its healthy window is short by design
t0=$(now_ms)
flaky=$(run flaky -e SVC_UNHEALTHY_AFTER=3 "$IMAGE1")
wait_until 30 check "$flaky" || fail "flaky never became healthy"
wait_until 30 failing "$flaky" || fail "flaky never became unhealthy"
took=$(($(now_ms) - t0))
assert_ge "$took" 3000 "flaky turned unhealthy too early (ms)"
ok "SVC_UNHEALTHY_AFTER=3: healthy, then unhealthy after ${took} ms"

wait_until 30 docker exec "$tcp" nc 127.0.0.1 9000 ||
    fail "nothing listens on SVC_TCP_PORT"
docker exec "$tcp" nc 127.0.0.1 9001 </dev/null >/dev/null 2>&1 &&
    fail "a closed port accepted a connection"
ok "SVC_TCP_PORT=9000 accepts connections"

# ---- one-shots ----------------------------------------------------------------
for code in 3 0; do
	t0=$(now_ms)
	c=$(run "exit$code" -e SVC_EXIT_AFTER=0.5 -e "SVC_EXIT_CODE=$code" \
	    "$IMAGE1")
	rc=$(timeout 20 docker wait "$c") || fail "exit$code did not exit"
	took=$(($(now_ms) - t0))
	assert_eq "$rc" "$code" "exit code"
	assert_ge "$took" 500 "exit$code exited too early (ms)"
done
ok "SVC_EXIT_AFTER=0.5 exits with SVC_EXIT_CODE (3, then 0)"

# ---- SVC_WRITE into a volume -----------------------------------------------------
vol=$IT_STACK-data
docker volume create --label "$IT_LABEL" "$vol" >/dev/null
for img in "$IMAGE1" "$IMAGE2"; do
	c=$(run "write${img##*:}" -v "$vol:/data" -e SVC_NAME=writer \
	    -e SVC_WRITE=/data/sub/log -e SVC_EXIT_AFTER=0 "$img")
	assert_eq "$(timeout 20 docker wait "$c")" 0 "writer exit"
done
out=$(docker run --rm --network none --label "$IT_LABEL" -v "$vol:/data" \
    --entrypoint cat "$IMAGE1" /data/sub/log)
assert_match "$out" '^1 writer [0-9]+$' "first line written by :1"
assert_eq "$(printf '%s\n' "$out" | wc -l)" 2 "lines in the written file"
assert_match "$(printf '%s\n' "$out" | tail -n 1)" '^2 writer [0-9]+$' \
    "last line written by :2"
ok "SVC_WRITE appends 'VERSION NAME EPOCH' into a volume"

# ---- prompt stops -------------------------------------------------------------
# Unloaded, a stop takes about 100 ms; a service that ignored TERM would
# take the whole 10 s grace and exit 137.  The bound leaves room for a busy
# CI machine without letting that case through.
wait_until 30 check "$inited" || fail "inited never became healthy"
for c in "$v1" "$inited"; do
	t0=$(now_ms)
	docker stop -t 10 "$c" >/dev/null
	took=$(($(now_ms) - t0))
	echo "  stop of $(docker inspect -f '{{.Name}}' "$c") took ${took} ms"
	assert_eq "$(docker inspect -f '{{.State.ExitCode}}' "$c")" 0 \
	    "exit code after SIGTERM"
	assert_lt "$took" 2000 "docker stop -t 10 (ms)"
done
ok "docker stop -t 10 returns at once with exit 0, with and without --init"
