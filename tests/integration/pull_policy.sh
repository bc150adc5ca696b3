#!/bin/bash
# pull_policy (docs/units.md): never uses a local image and refuses a
# missing one without pulling; always pulls first (no registry here, so
# it fails, naming the policy); a build: service whose image was not
# built (deploy --no-build) is refused, not pulled.  Nothing runs after a
# refusal.  shipctl pull pulls what has no build: and names what failed.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
start_shipd

unit web <<EOF
image: $IMAGE1
pull_policy: never
EOF
sctl deploy "$IT_UNITS" >/dev/null || fail "never, with the image present"
ok "pull_policy: never deploys a local image"

missing="shipd-test/missing-$$:1"
unit web <<EOF
image: $missing
pull_policy: never
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 1 "never, image missing: exit status"
assert_match "$out" "$missing: not present on the engine, and pull_policy: never" \
    "never, image missing: message"
ok "pull_policy: never refuses a missing image without a pull"

unit web <<EOF
image: $IMAGE1
pull_policy: always
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 1 "always, no registry: exit status"
assert_match "$out" "pull_policy: always, and pulling it failed" \
    "always, no registry: message"
ok "pull_policy: always pulls first (and fails without a registry)"

mkdir -p "$IT_UNITS/ctx"
printf 'FROM %s\n' "$IMAGE1" > "$IT_UNITS/ctx/Dockerfile"
unit web <<'EOF'
build: ./ctx
EOF
rc=0
out=$(sctl deploy --no-build "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 1 "--no-build, never built: exit status"
assert_match "$out" "shipd/$IT_STACK-web:latest: not present on the engine: it is built" \
    "--no-build, never built: message"
ok "a build: image that was not built is refused, not pulled"

unit cache <<EOF
image: $IMAGE1
EOF
rc=0
out=$(sctl pull "$IT_UNITS" web 2>&1) || rc=$?
assert_eq "$rc" 2 "pull of a build: service: exit status"
assert_match "$out" "web: nothing to pull \(it has build:\)" "pull of a build: service"
rc=0
out=$(sctl pull "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 1 "pull without a registry: exit status"
assert_match "$out" "pull failed: $IMAGE1: " "pull names the image that failed"
assert_eq "$(docker image inspect -f ok "$IMAGE1")" ok "the local image is still there"
ok "shipctl pull leaves build: services out and names a failed pull"
stop_shipd
