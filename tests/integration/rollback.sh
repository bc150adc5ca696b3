#!/bin/bash
# A new image that never becomes healthy is rolled back automatically by
# restarting the kept container (same container, no create); a client
# that keeps calling the service sees the old version answer again.  The
# gap is measured for stop-first (host port) and start-first (service
# name on the stack network, where it must be zero).  Then rollback and
# rollback --to on demand.
. "$(dirname "$0")/lib.sh"

it_port port
stack_yaml </dev/null
write_units() {	# image env-extra
	unit web <<EOF
image: $1
ports: ["$port:8080"]
environment: {SVC_NAME: web$2}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {order: stop-first, healthy_deadline: 3s}
stop_grace: 2s
EOF
	unit api <<EOF
image: $1
environment: {SVC_NAME: api$2}
init: true
health: {http: {path: /health, port: 8080}, interval: 1s}
update: {order: start-first, healthy_deadline: 3s}
stop_grace: 2s
EOF
}

start_shipd
write_units "$IMAGE1" ""
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
web1=$(cid web)
api1=$(cid api)
[ "$(curl -fsS "http://127.0.0.1:$port/version")" = 1 ] || fail "v1 does not answer"

# Clients: one on the host through the published port (web), one on the
# stack network through the service name (api).  Each line: ms ok|fail.
( while :; do
	if curl -fsS -m 1 "http://127.0.0.1:$port/version" >/dev/null 2>&1; then
		echo "$(now_ms) ok"; else echo "$(now_ms) fail"; fi
	sleep 0.02
  done ) > "$IT_DIR/web.log" 2>/dev/null &
hostclient=$!
docker run -d --name "$IT_STACK-client" --label "io.shipd.stack=$IT_STACK" \
    --network "${IT_STACK}_default" --entrypoint /bin/sh "$IMAGE1" -c \
    'while :; do
	# busybox-static cannot resolve names itself (no NSS in a scratch
	# image): ask the engine DNS with nslookup, then call the address.
	ip=$(nslookup api 2>/dev/null | awk "/^Address: / { print \$2 }" | tail -1)
	if [ -n "$ip" ] && timeout 1 wget -q -O- "http://$ip:8080/version" >/dev/null 2>&1
	then echo ok; else echo "fail ip=$ip"; fi
	usleep 20000
     done' >/dev/null
wait_until 10 grep -q ok "$IT_DIR/web.log" || fail "host client never succeeded"
wait_until 10 sh -c "docker logs $IT_STACK-client 2>/dev/null | grep -q ok" ||
    fail "network client never succeeded"

write_units "$IMAGE2" "-bad"
sed -i 's/environment: {SVC_NAME: \(.*\)-bad}/environment: {SVC_NAME: \1, SVC_NEVER_HEALTHY: "1"}/' \
    "$IT_UNITS/web.yaml" "$IT_UNITS/api.yaml"
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "a failed deploy exited $rc"; }
echo "$out" | grep -q "rolled back to revision 1" || { echo "$out"; fail "no rollback reported"; }
ok "a deploy whose new image never becomes healthy fails and rolls back"

[ "$(cid web)" = "$web1" ] || fail "web was not brought back as the same container"
[ "$(cid api)" = "$api1" ] || fail "api was not brought back as the same container"
[ -z "$(docker ps -aq --filter "label=io.shipd.stack=$IT_STACK" --filter "label=io.shipd.revision=2")" ] ||
    fail "containers of the failed revision were left behind"
wait_until 10 sh -c "curl -fsS http://127.0.0.1:$port/version | grep -qx 1" ||
    fail "v1 does not answer after the rollback"
ok "the kept containers are running again (same IDs), the failed ones are gone"

# Let the client record ten more calls, then stop it; the window from the
# first failure to the last is the gap.
n=$(wc -l < "$IT_DIR/web.log")
wait_until 10 sh -c "[ \$(wc -l < '$IT_DIR/web.log') -ge $((n + 10)) ]" ||
    fail "the host client stopped recording"
kill "$hostclient"
gap=$(awk '$2 == "fail" { if (!s) s = $1; e = $1 } END { print (s ? e - s : 0) }' "$IT_DIR/web.log")
docker logs "$IT_STACK-client" > "$IT_DIR/api.log" 2>&1 || fail "client log: $(cat "$IT_DIR/api.log")"
docker rm -f "$IT_STACK-client" >/dev/null
apifails=$(grep -c fail "$IT_DIR/api.log" || true)
echo "  stop-first (web, host port): unavailable for about $gap ms (healthy_deadline 3s + rollback)"
echo "  start-first (api, by name): $apifails failed requests of $(wc -l < "$IT_DIR/api.log")"
[ "$apifails" = 0 ] || fail "start-first: clients by service name saw $apifails failures"
ok "start-first: zero failed requests through the whole failed deploy and rollback"

out=$(sctl history --stack "$IT_STACK")
echo "$out" | grep -Eq '^2 .*failed' || { echo "$out"; fail "history: revision 2 not failed"; }
echo "$out" | grep -Eq '^1\* ' || { echo "$out"; fail "history: current is not 1"; }
ok "history: revision 2 failed, current stays 1"

write_units "$IMAGE2" ""
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy of a good v2"
[ "$(curl -fsS "http://127.0.0.1:$port/version")" = 2 ] || fail "v2 does not answer"
t0=$(now_ms)
sctl rollback --stack "$IT_STACK" > "$IT_DIR/rb.out" || fail "rollback"; cat "$IT_DIR/rb.out"
took=$(($(now_ms) - t0))
[ "$(curl -fsS "http://127.0.0.1:$port/version")" = 1 ] || fail "rollback did not bring v1 back"
[ "$(cid web)" = "$web1" ] || fail "rollback recreated web instead of restarting the kept one"
echo "  shipctl rollback took $took ms"
ok "shipctl rollback brings the kept v1 containers back"

sctl rollback --stack "$IT_STACK" --to 3 >/dev/null || fail "rollback --to 3"
[ "$(curl -fsS "http://127.0.0.1:$port/version")" = 2 ] || fail "rollback --to 3 did not bring v2"
sctl history --stack "$IT_STACK" | grep -Eq '^5\* .*committed' || fail "history after rollback --to"
ok "rollback --to 3 deploys revision 3 again as revision 5"
