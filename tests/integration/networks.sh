#!/bin/bash
# Extra networks: a stack with `networks: [backend]` deploys on engines that
# take one network at create (API < 1.44, connecting the others before
# start), every replica answers to its service name on each of its
# networks, and a unit's own `networks:` isolates services from each other.
. "$(dirname "$0")/lib.sh"

# resolve FROM NAME: the address the engine's DNS gives NAME, asked from
# service FROM's container (busybox-static cannot resolve names itself).
resolve() {
	docker exec "$IT_STACK-$1-1" nslookup "$2" 2>/dev/null |
	    awk '/^Address: / && $2 !~ /^127\.0\.0\.11/ { print $2 }' | tail -1
}

# reach FROM NAME: NAME resolves from FROM and answers HTTP there.
reach() {
	local ip

	ip=$(resolve "$1" "$2")
	[ -n "$ip" ] && docker exec "$IT_STACK-$1-1" timeout 2 \
	    wget -q -O- "http://$ip:8080/" >/dev/null 2>&1
}

# aliases SERVICE NET: the aliases replica 1 has on <stack>_NET.
aliases() {
	docker inspect -f "{{with index .NetworkSettings.Networks \"${IT_STACK}_$2\"}}{{join .Aliases \" \"}}{{end}}" \
	    "$IT_STACK-$1-1"
}

nets_of() {
	docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' \
	    "$IT_STACK-$1-1"
}

# svc NAME IMAGE [NETWORKS-LINE]
svc() {
	unit "$1" <<EOF
image: $2
init: true
environment: {SVC_NAME: $1}
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {order: start-first}
${3:-}
EOF
}

stack_yaml <<EOF
networks: [backend]
EOF
for s in api db web all; do svc "$s" "$IMAGE1"; done

start_shipd
echo "engine API: $(docker version --format '{{.Server.APIVersion}}')"
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "deploy with an extra network"; }
for s in api db web all; do
	n=$(nets_of "$s")
	assert_eq "$n" "${IT_STACK}_backend ${IT_STACK}_default " "networks of $s"
	assert_match "$(aliases "$s" backend)" "(^| )$s( |$)" "alias of $s on backend"
	assert_match "$(aliases "$s" default)" "(^| )$s( |$)" "alias of $s on default"
done
wait_until 20 reach api db || fail "api cannot reach db by name"
ok "a stack with networks: [backend] deploys; every replica is on both networks under its name"

# Per-service membership: api and db on backend only, web on default only,
# all (no networks key) on every network of the stack.
svc api "$IMAGE1" "networks: [backend]"
svc db "$IMAGE1" "networks: [backend]"
svc web "$IMAGE1" "networks: [default]"
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "deploy with per-service networks"; }
assert_eq "$(nets_of api)" "${IT_STACK}_backend " "networks of api"
assert_eq "$(nets_of db)" "${IT_STACK}_backend " "networks of db"
assert_eq "$(nets_of web)" "${IT_STACK}_default " "networks of web"
assert_eq "$(nets_of all)" "${IT_STACK}_backend ${IT_STACK}_default " "networks of all"
assert_match "$(aliases db backend)" "(^| )db( |$)" "alias of db on backend after start-first"
wait_until 20 reach api db || fail "api cannot reach db on backend"
wait_until 20 reach db api || fail "db cannot reach api on backend"
wait_until 20 reach all db || fail "all cannot reach db"
wait_until 20 reach all web || fail "all cannot reach web"
[ -z "$(resolve web db)" ] || fail "web, not on backend, resolves db"
[ -z "$(resolve web api)" ] || fail "web, not on backend, resolves api"
[ -z "$(resolve api web)" ] || fail "api, not on default, resolves web"
ok "services on backend reach each other by name; a service not on it cannot"

# A start-first update of a service on two networks: its successor joins
# both, and answers to its name on both once healthy.
svc all "$IMAGE2"
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "start-first update on two networks"; }
assert_eq "$(docker inspect -f '{{.Config.Image}}' "$IT_STACK-all-1")" "$IMAGE2" "image of all"
assert_eq "$(nets_of all)" "${IT_STACK}_backend ${IT_STACK}_default " "networks of the new all"
assert_match "$(aliases all backend)" "(^| )all( |$)" "alias of the new all on backend"
assert_match "$(aliases all default)" "(^| )all( |$)" "alias of the new all on default"
wait_until 20 reach api all || fail "api cannot reach the new all"
ok "a start-first successor on two networks is named on both"

# A network no stack.yaml declares is an error naming the place.
svc web "$IMAGE1" "networks: [default, frontend]"
rc=0
out=$(sctl validate "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "validate of an unknown network exited $rc"; }
assert_match "$out" "web\.yaml:6:[0-9]+: .*'frontend' is not a network of the stack" \
    "the unknown network's message"
ok "an unknown network is an error at file:line:col"
