#!/bin/bash
# Compose builds end to end (issue 12): a compose project with two build:
# contexts FROM the test image, sharing their settings through an x-
# anchor and merge keys, deploys; changing one context rebuilds only that
# service on the next deploy; rollback runs the previous build's image ID
# though the tag has moved.  The built images carry the stack label and
# go with it in it_cleanup.
. "$(dirname "$0")/lib.sh"

P=$IT_UNITS
mkdir -p "$P/web" "$P/api"
printf 'FROM %s\nCOPY page.txt /page.txt\n' "$IMAGE1" > "$P/web/Dockerfile"
echo one > "$P/web/page.txt"
printf 'FROM %s\nARG FLAVOUR\nRUN echo "$FLAVOUR" > /flavour\n' \
    "$IMAGE1" > "$P/api/Dockerfile"
cat > "$P/compose.yaml" <<YAML
name: $IT_STACK
x-svc: &svc
  init: true
  healthcheck:
    test: ["CMD", "/bin/svc-check"]
    interval: 1s
    timeout: 2s
    retries: 30
services:
  web:
    <<: *svc
    build: ./web
    environment: {SVC_NAME: web}
  api:
    <<: *svc
    build:
      context: ./api
      args: {FLAVOUR: plain}
    environment: {SVC_NAME: api}
    depends_on:
      web: {condition: service_healthy}
YAML

img_id() {	# service: the ID the tag names
	docker image inspect -f '{{.Id}}' "shipd/$IT_STACK-$1:latest"
}
ctr_img() {	# service: the image ID its container runs
	docker inspect -f '{{.Image}}' "$(cid "$1")"
}

start_shipd
out=$(sctl deploy "$P" 2>&1) || fail "first deploy: $out"
assert_match "$out" "web: built shipd/$IT_STACK-web:latest" "web built"
assert_match "$out" "api: built shipd/$IT_STACK-api:latest" "api built"
web1=$(img_id web)
api1=$(img_id api)
assert_eq "$(ctr_img web)" "$web1" "web runs its built image"
assert_eq "$(ctr_img api)" "$api1" "api runs its built image"
assert_eq "$(docker exec "$(cid api)" cat /flavour)" plain \
    "the build arg reached the api build"
web_health() {
	[ "$(docker inspect -f '{{.State.Health.Status}}' "$(cid web)")" = healthy ]
}
wait_until 30 web_health ||
    fail "the merged healthcheck never made web healthy: $(docker inspect \
    -f '{{.State.Health.Status}}' "$(cid web)")"
ok "the merged healthcheck runs in web"
ok "a compose project with two build contexts deploys"

echo two > "$P/web/page.txt"
out=$(sctl deploy "$P" 2>&1) || fail "second deploy: $out"
assert_match "$out" "api: up to date" "api not rebuilt"
assert_match "$out" "web: built" "web rebuilt"
web2=$(img_id web)
[ "$web2" != "$web1" ] || fail "web's image did not change"
assert_eq "$(img_id api)" "$api1" "api's image ID"
assert_eq "$(ctr_img web)" "$web2" "web runs the new build"
assert_eq "$(ctr_img api)" "$api1" "api still runs its first build"
assert_eq "$(docker exec "$(cid web)" cat /page.txt)" two "web's new page"
ok "changing web's context rebuilt web only"

sctl rollback --stack "$IT_STACK" >/dev/null || fail "rollback"
assert_eq "$(img_id web)" "$web2" "the tag still names the new build"
assert_eq "$(ctr_img web)" "$web1" "rollback runs the first build's image ID"
assert_eq "$(ctr_img api)" "$api1" "api after rollback"
assert_eq "$(docker exec "$(cid web)" cat /page.txt)" one "web's old page"
ok "rollback goes back to the previous build's image ID, not the tag"

stop_shipd
