#!/bin/bash
# Environments (docs/units.md): the demo in units/ deployed as two of its
# environments side by side on one shipd, each its own stack (the
# environment's stack.yaml overlay names it), with what the overlays and
# ENV.env change checked on the engine's containers: replicas, an
# environment variable, a memory limit, the published port.  Then -e wins
# over SHIPD_ENV, and a missing environment lists the ones there are.
. "$(dirname "$0")/lib.sh"

cp -r "$ROOT/units/." "$IT_UNITS/"
# A loaded CI host is slow to answer a probe: the copy's checks are
# patient (what is under test is the environments, not the demo's timing).
sed -i 's/^  timeout: 1s$/  timeout: 5s/; s/^  retries: 3$/  retries: 10/' \
    "$IT_UNITS"/*.yaml
ST=$IT_STACK-st
PR=$IT_STACK-pr
printf 'name: %s\n' "$ST" > "$IT_UNITS/env/staging/stack.yaml"
printf 'name: %s\nretain: 3\n' "$PR" > "$IT_UNITS/env/production/stack.yaml"
it_at_exit 'it_remove_labelled "io.shipd.stack=$ST"; it_remove_labelled "io.shipd.stack=$PR"' 
# The caller's environment wins over ENV.env: ports of this run's own.
it_port PST
it_port PPR

ctr() {		# stack service replica
	docker ps -q --filter "label=io.shipd.stack=$1" \
	    --filter "name=^/$1-$2-$3\$"
}
nrep() {	# stack service
	docker ps -q --filter "label=io.shipd.stack=$1" \
	    --filter "label=io.shipd.service=$2" | wc -l
}
envvar() {	# container name
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
	    sed -n "s/^$2=//p"
}

start_shipd
# Two stacks: the deploys run side by side.
WEB_PORT=$PST sctl deploy -e staging "$IT_UNITS" >"$IT_DIR/st.out" 2>&1 &
st=$!
SHIPD_ENV=production WEB_PORT=$PPR sctl deploy "$IT_UNITS" \
    >"$IT_DIR/pr.out" 2>&1 ||
    fail "SHIPD_ENV=production deploy: $(cat "$IT_DIR/pr.out")"
wait "$st" || fail "deploy -e staging: $(cat "$IT_DIR/st.out")"

assert_eq "$(nrep "$ST" api)" 2 "staging api replicas (staging.env)"
assert_eq "$(nrep "$PR" api)" 3 "production api replicas (production.env)"
assert_eq "$(nrep "$ST" worker)" 1 "staging worker replicas"
assert_eq "$(nrep "$PR" worker)" 2 "production worker replicas (overlay)"
ok "replicas differ per environment"
assert_eq "$(envvar "$ST-api-1" APP_ENV)" staging "staging APP_ENV"
assert_eq "$(envvar "$PR-api-1" APP_ENV)" production "production APP_ENV"
assert_eq "$(envvar "$PR-api-1" SVC_NAME)" api "base environment kept"
assert_eq "$(docker inspect -f '{{.HostConfig.Memory}}' "$ST-api-1")" \
    67108864 "staging api memory (base)"
assert_eq "$(docker inspect -f '{{.HostConfig.Memory}}' "$PR-api-1")" \
    134217728 "production api memory (overlay)"
ok "environment and resources merged from the overlays"
wait_until 10 wget -q -O /dev/null "http://127.0.0.1:$PST/health" ||
    fail "staging web not on port $PST"
wait_until 10 wget -q -O /dev/null "http://127.0.0.1:$PPR/health" ||
    fail "production web not on port $PPR"
ok "each environment publishes its own port"

# Nothing to change: -e wins over SHIPD_ENV, the same stacks result.
out=$(SHIPD_ENV=staging WEB_PORT=$PPR sctl plan -e production "$IT_UNITS" 2>&1) ||
    fail "plan -e production (SHIPD_ENV=staging) is not a no-op: $out"
out=$(WEB_PORT=$PST SHIPD_ENV=staging sctl plan "$IT_UNITS" 2>&1) ||
    fail "plan with SHIPD_ENV=staging is not a no-op: $out"
ok "plan -e over SHIPD_ENV: no change for either stack"

out=$(sctl validate -e qa "$IT_UNITS" 2>&1) && fail "validate -e qa passed"
assert_match "$out" "no environment 'qa'.*environments here: development, production, staging" \
    "missing environment"
ok "a missing environment lists development, production, staging"

# Commands that take the stack from the directory follow SHIPD_ENV too.
out=$(cd "$IT_UNITS" && SHIPD_ENV=staging WEB_PORT=$PST sctl --json status)
assert_match "$out" "\"$ST\"" "status in DIR with SHIPD_ENV=staging"
out=$(cd "$IT_UNITS" && SHIPD_ENV=production WEB_PORT=$PPR sctl --json status)
assert_match "$out" "\"$PR\"" "status in DIR with SHIPD_ENV=production"
ok "SHIPD_ENV picks the stack of commands run in the directory"

# A compose project takes its environments as -f files: -e is refused.
mkdir -p "$IT_DIR/proj"
printf 'services:\n  web:\n    image: %s\n' "$IMAGE1" > "$IT_DIR/proj/compose.yaml"
out=$(sctl validate -e production "$IT_DIR/proj" 2>&1) &&
    fail "validate -e on a compose project passed"
assert_match "$out" "-e is for unit directories" "-e on a compose project"
out=$(SHIPD_ENV=production sctl validate "$IT_DIR/proj" 2>&1) ||
    fail "SHIPD_ENV broke a compose project: $out"
assert_match "$out" "SHIPD_ENV=production is for unit directories" \
    "SHIPD_ENV note for a compose project"
ok "compose projects: -e refused, SHIPD_ENV noted and not used"
