#!/bin/bash
# Two stacks interrupted at once (shipd SIGKILLed while both deploys wait
# for their gates): after the restart both are recovered, each to its
# end, and commands for them that arrive while their recovery is still
# under way wait for it instead of being refused busy; then both answer
# status and deploy as before.
. "$(dirname "$0")/lib.sh"

# The second stack: its own name, units and label, cleaned up here
# (the common cleanup knows only the first).
B_STACK=${IT_STACK:0:60}-b
B_UNITS=$IT_DIR/units-b
B_LABEL=io.shipd.stack=$B_STACK
cleanup_b() {
	docker ps -aq --filter "label=$B_LABEL" | xargs -r docker rm -f -v \
	    >/dev/null 2>&1 || true
	docker network ls -q --filter "label=$B_LABEL" |
	    xargs -r docker network rm >/dev/null 2>&1 || true
}
trap 'rc=$?; cleanup_b; (exit $rc); it_cleanup' EXIT

# One service; its recovery (the kept container started again, gated)
# takes SVC_HEALTHY_AFTER seconds, long enough for a command to come in.
stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
environment: {MODE: "\${MODE:-one}", SVC_HEALTHY_AFTER: "\${HA:-2}"}
health: {test: [CMD, /bin/svc-check], interval: 1s, start_interval: 100ms}
update: {healthy_deadline: 120s}
EOF
mkdir -p "$B_UNITS"
cp "$IT_UNITS/api.yaml" "$B_UNITS/"
printf 'name: %s\n' "$B_STACK" > "$B_UNITS/stack.yaml"

status_json() { sctl --json status --stack "$1"; }
result_of() {	# stack revision
	tr -d '\n' <"$IT_STATE/stacks/$1/revisions/$2.json" |
	    sed -n 's/.*"result": *"\([a-z_]*\)".*/\1/p'
}
gating() {	# both revision-2 replicas are up, waiting for their gates
	[ "$(docker ps -q --filter "label=io.shipd.revision=2" \
	    --filter "label=io.shipd.stack=$IT_STACK" | wc -l)" = 1 ] &&
	[ "$(docker ps -q --filter "label=io.shipd.revision=2" \
	    --filter "label=$B_LABEL" | wc -l)" = 1 ]
}

start_shipd
MODE=one HA=0 sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy of $IT_STACK"
MODE=one HA=0 sctl deploy "$B_UNITS" >/dev/null || fail "first deploy of $B_STACK"
ok "both stacks at revision 1"

# Revision 2 never becomes healthy within the test: both deploys wait.
MODE=two HA=600 sctl deploy "$IT_UNITS" >"$IT_DIR/a2.out" 2>&1 &
a2=$!
MODE=two HA=600 sctl deploy "$B_UNITS" >"$IT_DIR/b2.out" 2>&1 &
b2=$!
wait_until 60 gating || fail "the revision-2 replicas never came up"
kill9_shipd
wait "$a2" "$b2" 2>/dev/null || true
ok "shipd killed with both stacks' revision 2 under way"

start_shipd
# At once, while the recoveries (each ~2 s of gate) run.
MODE=three HA=0 sctl deploy "$IT_UNITS" >"$IT_DIR/a3.out" 2>&1 &
a3=$!
MODE=three HA=0 sctl deploy "$B_UNITS" >"$IT_DIR/b3.out" 2>&1 &
b3=$!
rc=0; wait "$a3" || rc=$?
[ "$rc" = 0 ] || fail "deploy of $IT_STACK during its recovery: $(cat "$IT_DIR/a3.out")"
rc=0; wait "$b3" || rc=$?
[ "$rc" = 0 ] || fail "deploy of $B_STACK during its recovery: $(cat "$IT_DIR/b3.out")"
ok "deploys sent during recovery waited for it and went through"

for s in "$IT_STACK" "$B_STACK"; do
	assert_eq "$(result_of "$s" 2)" failed "$s revision 2"
	assert_eq "$(result_of "$s" 3)" committed "$s revision 3"
	st=$(status_json "$s") || fail "status of $s"
	assert_match "$st" '"current": *3[,}]' "$s current"
	assert_match "$st" '"lock": *null' "$s lock"
	grep -qs in_progress "$IT_STATE/stacks/$s"/revisions/*.json &&
	    fail "$s: a revision is left in_progress"
done
grep -q 'journal: recovery finished' "$IT_LOG" || fail "recovery never finished"
ok "both stacks recovered (revision 2 failed) and deployed revision 3"
