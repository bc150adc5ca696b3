#!/bin/bash
# A deploy that fails after its begin was recorded, before any container
# changed (here: the engine refuses to create one of the stack's networks,
# made to on demand with SHIPD_TEST_REFUSE_NETWORK), is recorded failed:
# its revision says so in `history`, none is left in_progress, the journal
# has its end (nothing to recover after a restart), the lock is free,
# nothing was rolled back, and the next deploy goes through.
. "$(dirname "$0")/lib.sh"

REFUSED=${IT_STACK}_extra

stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
health: {test: [CMD, /bin/svc-check]}
EOF

history_json() { sctl --json history --stack "$IT_STACK"; }
status_json() { sctl --json status --stack "$IT_STACK"; }
revision_file() { tr -d '\n' <"$IT_STATE/stacks/$IT_STACK/revisions/$1.json"; }
field() {	# revision key: a string field of its record
	revision_file "$1" | sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p"
}

SHIPD_TEST_REFUSE_NETWORK=$REFUSED start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
before=$(cid web)

printf 'networks: [extra]\n' >> "$IT_UNITS/stack.yaml"
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "deploy succeeded although $REFUSED was refused: $out"
ok "the engine refused $REFUSED; the deploy failed (exit $rc)"

assert_eq "$(field 2 result)" failed "revision 2's result"
grep -qs in_progress "$IT_STATE"/stacks/"$IT_STACK"/revisions/*.json &&
    fail "a revision is left in_progress: revision 2 is $(field 2 result)"
assert_match "$(history_json | tr -d '\n')" '"failed"' "history"
assert_match "$(status_json)" '"lock": *null' "lock released"
assert_match "$(status_json)" '"current": *1[,}]' "current stays 1"
assert_eq "$(cid web)" "$before" "web's container"
[ "$(docker inspect -f '{{.State.Running}}' "$before")" = true ] ||
    fail "web stopped"
assert_match "$out" "creating the stack's networks and volumes: .*not found" \
    "the failure says what"
assert_match "$(field 2 reason)" "^creating the stack's networks" \
    "revision 2's reason"
ok "revision 2 recorded failed; revision 1 untouched"

# After a restart (the engine no longer told to refuse) there is nothing
# left to recover for it.
stop_shipd
start_shipd
wait_until 20 sh -c "'$SHIPCTL' -s '$IT_SOCK' --json status --stack \
    '$IT_STACK' | grep -q '\"lock\": *null'" || fail "lock held after restart"
assert_eq "$(field 2 result)" failed "revision 2 after a restart"
assert_eq "$(cid web)" "$before" "web's container after a restart"

sctl deploy "$IT_UNITS" >/dev/null || fail "deploy with the network allowed"
assert_match "$(status_json)" '"current": *3[,}]' "current after the next deploy"
ok "the next deploy went through as revision 3"
