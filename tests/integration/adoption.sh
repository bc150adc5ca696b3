#!/bin/bash
# shipd killed with SIGKILL while the stack runs: the containers keep
# running, and a new shipd adopts them by label: status is right and a
# redeploy recreates nothing.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit db <<EOF
image: $IMAGE1
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
unit api <<EOF
image: $IMAGE1
depends_on: {db: healthy}
replicas: 2
init: true
health: {http: {path: /health, port: 8080}}
EOF

ids() {
	docker ps --no-trunc --filter "label=io.shipd.stack=$IT_STACK" \
	    --format '{{.Names}} {{.ID}} {{.State}}' | sort
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
ids > "$IT_DIR/before"
kill9_shipd
ids > "$IT_DIR/while-down"
diff "$IT_DIR/before" "$IT_DIR/while-down" >/dev/null || fail "containers changed while shipd was down"
ok "containers keep running while shipd is down"

start_shipd
out=$(sctl status --stack "$IT_STACK")
[ "$(echo "$out" | grep -c running)" = 3 ] || { echo "$out"; fail "status after restart"; }
out=$(sctl deploy "$IT_UNITS") || fail "redeploy after restart"
echo "$out" | grep -qx "nothing to change: revision 1 stands" || { echo "$out"; fail "redeploy changed something"; }
ids > "$IT_DIR/after"
diff "$IT_DIR/before" "$IT_DIR/after" >/dev/null || fail "adoption recreated containers"
sctl history --stack "$IT_STACK" | grep -q '^1\*' || fail "history after restart"
ok "after SIGKILL a new shipd adopts every container: status right, nothing recreated"
