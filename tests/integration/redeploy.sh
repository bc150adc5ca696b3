#!/bin/bash
# A redeploy recreates exactly the services whose spec or image changed;
# every other container keeps its ID.  A deploy with no change touches
# nothing and records no revision.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
for s in db cache; do
	unit $s <<EOF
image: $IMAGE1
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
done
unit api <<EOF
image: \${API_IMAGE:-$IMAGE1}
environment: {MODE: "\${API_MODE:-one}"}
depends_on: {db: healthy, cache: healthy}
replicas: 2
init: true
health: {http: {path: /health, port: 8080}}
EOF
unit web <<EOF
image: $IMAGE1
depends_on: {api: healthy}
init: true
EOF

ids() {
	docker ps --no-trunc --filter "label=io.shipd.stack=$IT_STACK" \
	    --format '{{.Names}} {{.ID}}' | sort
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
ids > "$IT_DIR/ids1"
[ "$(wc -l < "$IT_DIR/ids1")" = 5 ] || fail "want 5 containers: $(cat "$IT_DIR/ids1")"

out=$(sctl deploy "$IT_UNITS") || fail "second deploy"
ids > "$IT_DIR/ids2"
diff "$IT_DIR/ids1" "$IT_DIR/ids2" >/dev/null || fail "a no-change deploy recreated containers"
echo "$out" | grep -qx "nothing to change: revision 1 stands" || fail "summary: $out"
[ "$(sctl history --stack "$IT_STACK" | grep -c committed)" = 1 ] ||
    fail "a no-change deploy recorded a revision"
ok "a deploy with no change keeps every container and records no revision"

out=$(API_MODE=two sctl deploy "$IT_UNITS") || fail "third deploy"
echo "$out" | grep -Eq "api +recreate +changed: environment" || { echo "$out"; fail "plan"; }
ids > "$IT_DIR/ids3"
changed=$(diff "$IT_DIR/ids2" "$IT_DIR/ids3" | grep '^>' | awk '{print $2}' | sort | tr '\n' ' ')
[ "$changed" = "$IT_STACK-api-1 $IT_STACK-api-2 " ] ||
    fail "changed containers: '$changed', want only api's"
docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IT_STACK-api-1" |
    grep -qx MODE=two || fail "api-1 does not run the new environment"
ok "changing api's environment recreated api only (db, cache, web kept)"

out=$(API_MODE=two API_IMAGE=$IMAGE2 sctl deploy "$IT_UNITS") || fail "fourth deploy"
echo "$out" | grep -Eq "api +recreate" || { echo "$out"; fail "image change not planned"; }
ids > "$IT_DIR/ids4"
[ "$(diff "$IT_DIR/ids3" "$IT_DIR/ids4" | grep -c '^>')" = 2 ] || fail "image change touched more than api"
ok "changing api's image recreated api only"
[ "$(sctl history --stack "$IT_STACK" | grep -c committed)" = 3 ] || fail "history"
ok "history has three committed revisions (none for the deploy with no change)"
