#!/bin/bash
# Image builds (docs/units.md, "build"): two services built from contexts
# FROM the test image deploy; .dockerignore keeps a file out of the image;
# changing one context rebuilds only that service; rollback goes back to
# the previous build's image ID though the tag has moved; a failing RUN
# names its step and shows its output, and nothing is stopped; a client
# killed while sending a context leaves shipd serving.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
mkdir -p "$IT_UNITS/web" "$IT_UNITS/api"
printf 'FROM %s\nCOPY . /ctx/\n' "$IMAGE1" > "$IT_UNITS/web/Dockerfile"
echo one > "$IT_UNITS/web/hello.txt"
echo secret > "$IT_UNITS/web/secret.txt"
mkdir -p "$IT_UNITS/web/logs"
echo x > "$IT_UNITS/web/logs/a.log"
echo keep > "$IT_UNITS/web/logs/keep.log"
printf '# test\nsecret.txt\nlogs\n!logs/keep.log\n' > "$IT_UNITS/web/.dockerignore"
printf 'FROM %s\nCOPY a.txt /a.txt\n' "$IMAGE1" > "$IT_UNITS/api/Dockerfile"
echo a > "$IT_UNITS/api/a.txt"
unit web <<'EOF'
build: ./web
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
EOF
unit api <<'EOF'
build: {context: ./api, args: {X: "1"}}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
EOF

img_id() {	# service: the ID the tag names
	docker image inspect -f '{{.Id}}' "shipd/$IT_STACK-$1:latest"
}
ctr_img() {	# service: the image ID its container runs
	docker inspect -f '{{.Image}}' "$(cid "$1")"
}
in_image() {	# service path: whether path is in the image
	docker run --rm --label "$IT_LABEL" --entrypoint /bin/sh \
	    "shipd/$IT_STACK-$1:latest" -c "test -e $2"
}

start_shipd
out=$(sctl deploy "$IT_UNITS" 2>&1) || fail "first deploy: $out"
assert_match "$out" "web: built shipd/$IT_STACK-web:latest" "web built"
web1=$(img_id web)
api1=$(img_id api)
assert_eq "$(ctr_img web)" "$web1" "web runs its built image"
assert_eq "$(ctr_img api)" "$api1" "api runs its built image"
assert_eq "$(docker image inspect -f '{{index .Config.Labels "io.shipd.stack"}}' "$web1")" \
    "$IT_STACK" "the built image carries the stack label"
ok "a stack with two build contexts deploys"

in_image web /ctx/hello.txt || fail "hello.txt missing from the image"
! in_image web /ctx/secret.txt || fail ".dockerignore: secret.txt is in the image"
! in_image web /ctx/logs/a.log || fail ".dockerignore: logs/a.log is in the image"
in_image web /ctx/logs/keep.log || fail ".dockerignore: !logs/keep.log is not"
ok ".dockerignore leaves secret.txt and logs/ out, brings logs/keep.log back"

out=$(sctl build "$IT_UNITS" 2>&1) || fail "build again: $out"
assert_match "$out" "api: up to date" "unchanged api reused"
assert_match "$out" "web: up to date" "unchanged web reused"
! printf '%s\n' "$out" | grep -q "sending the context" ||
    fail "an unchanged context was sent: $out"
ok "unchanged contexts are not sent or built"

echo two > "$IT_UNITS/web/hello.txt"
out=$(sctl deploy "$IT_UNITS" 2>&1) || fail "second deploy: $out"
assert_match "$out" "api: up to date" "api not rebuilt"
assert_match "$out" "web: built" "web rebuilt"
web2=$(img_id web)
[ "$web2" != "$web1" ] || fail "web's image did not change"
assert_eq "$(img_id api)" "$api1" "api's image ID"
assert_eq "$(ctr_img web)" "$web2" "web runs the new build"
assert_eq "$(ctr_img api)" "$api1" "api still runs its first build"
ok "changing web's context rebuilt web only"

sctl rollback --stack "$IT_STACK" >/dev/null || fail "rollback"
assert_eq "$(img_id web)" "$web2" "the tag still names the new build"
assert_eq "$(ctr_img web)" "$web1" "rollback runs the first build's image ID"
ok "rollback goes back to the previous build's image ID, not the tag"

before=$(cid web)
printf 'FROM %s\nRUN echo boom-output-here; exit 3\n' "$IMAGE1" > "$IT_UNITS/web/Dockerfile"
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 1 "a failed build's exit status"
assert_match "$out" "build of shipd/$IT_STACK-web:latest failed at Step 2/[0-9]+ : RUN echo boom-output-here" \
    "the failure names the step"
assert_match "$out" "output:" "the failure shows output"
assert_match "$(printf '%s\n' "$out" | sed -n '/output:/,$p')" "boom-output-here" \
    "the step's output is shown"
assert_eq "$(cid web)" "$before" "web's container after a failed build"
assert_eq "$(docker inspect -f '{{.State.Running}}' "$before")" true \
    "web still runs"
ok "a failing RUN names its step and shows its output; nothing stopped"

# A client that dies while it sends a context: shipd drops that build
# and goes on serving.
mkdir -p "$IT_UNITS/big"
printf 'FROM %s\n' "$IMAGE1" > "$IT_UNITS/big/Dockerfile"
# Random bytes: the engine takes them slowly, so the kill comes long
# before the end.
head -c $((256 * 1024 * 1024)) /dev/urandom > "$IT_UNITS/big/blob"
unit big <<'EOF'
build: ./big
EOF
"$SHIPCTL" -s "$IT_SOCK" build "$IT_UNITS" big > "$IT_DIR/big.out" 2>&1 &
bigpid=$!
wait_until 30 grep -q "sending the context" "$IT_DIR/big.out" ||
    fail "the big context was never asked for: $(cat "$IT_DIR/big.out")"
kill -KILL "$bigpid"
wait "$bigpid" 2>/dev/null || true
sctl version >/dev/null || fail "shipd after a client died mid-context"
! docker image inspect "shipd/$IT_STACK-big:latest" >/dev/null 2>&1 ||
    fail "a half-sent context made an image"
rm -rf "$IT_UNITS/big" "$IT_UNITS/big.yaml"
printf 'FROM %s\nCOPY . /ctx/\n' "$IMAGE1" > "$IT_UNITS/web/Dockerfile"
echo three > "$IT_UNITS/web/hello.txt"
out=$(sctl build "$IT_UNITS" web 2>&1) || fail "build after a dead client: $out"
assert_match "$out" "web: built" "build after a dead client"
ok "a client killed while sending its context leaves shipd serving"

# The engine may have begun the cut build (it takes a cut stream as a
# short context) before shipd's cancel reached it: its intermediate
# images carry only the base's and the first LABEL steps' labels.  Ours
# are those dangling ones with io.shipd.build-hash made after web2 that
# name no other stack: a test running alongside may roll back to its
# previous build, dangling since its rebuild.
docker image ls -aq --filter dangling=true --filter label=io.shipd.build-hash \
    --filter "since=$web2" | sort -u | while read -r i; do
	s=$(docker image inspect -f \
	    '{{with index .Config.Labels "io.shipd.stack"}}{{.}}{{end}}' "$i") ||
	    continue
	[ -z "$s" ] || [ "$s" = "$IT_STACK" ] && echo "$i"
done | xargs -r docker rmi -f >/dev/null 2>&1 || true

stop_shipd
