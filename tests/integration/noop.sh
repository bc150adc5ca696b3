#!/bin/bash
# A deploy with nothing to change records no revision and prunes nothing:
# three identical deploys leave history and the kept containers of the
# revision before as they were (retain: 2 used to let them prune every
# kept container of revision 1).  `rollback` then goes back to the
# revision that differs, and the stack really changes back.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
retain: 2
EOF
write() {	# mode
	unit web <<EOF
image: $IMAGE1
environment: {MODE: "$1"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
EOF
}
mode() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
	    "$IT_STACK-web-1" | sed -n 's/^MODE=//p'
}
revisions() {
	sctl --json history --stack "$IT_STACK" | grep -o '"revision": *[0-9]*' |
	    grep -o '[0-9]*$' | sort -n | tr '\n' ' '
}

start_shipd
write one
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
v1=$(cid web)
write two
sctl deploy "$IT_UNITS" >/dev/null || fail "second deploy"
v2=$(cid web)
kept=$(cid web 1-r1)
[ -n "$kept" ] && [ "$kept" = "$v1" ] || fail "revision 1's container is not kept as web-1-r1"
assert_eq "$(revisions)" "1 2 " "history after two deploys"

for i in 1 2 3; do
	sctl deploy "$IT_UNITS" > "$IT_DIR/same$i.out" ||
	    { cat "$IT_DIR/same$i.out"; fail "identical deploy $i"; }
done
assert_eq "$(cid web 1-r1)" "$v1" "revision 1's kept container"
assert_eq "$(revisions)" "1 2 " "history after three identical deploys"
sctl history --stack "$IT_STACK" | grep -Eq '^2\* ' || fail "current is not 2"
assert_eq "$(cid web)" "$v2" "web after the identical deploys"
assert_eq "$(count_containers)" 2 "containers of the stack"
for i in 1 2 3; do
	grep -qx "nothing to change: revision 2 stands" "$IT_DIR/same$i.out" ||
	    { cat "$IT_DIR/same$i.out"; fail "identical deploy $i does not say so"; }
done
ok "three identical deploys: no revision, revision 1's kept container intact"

out=$(sctl --json deploy "$IT_UNITS") || { echo "$out"; fail "identical deploy, --json"; }
assert_match "$out" '"unchanged": *true' "the result says unchanged"
assert_match "$out" '"revision": *2' "the result names the revision that stands"
ok "the result says unchanged, with the revision that stands"

out=$(sctl rollback --stack "$IT_STACK" 2>&1) || { echo "$out"; fail "rollback"; }
echo "$out" | grep -q "from revision 2 to 1" || { echo "$out"; fail "rollback did not go to revision 1"; }
assert_eq "$(mode)" one "web's MODE after the rollback"
assert_eq "$(cid web)" "$v1" "web after the rollback (the kept container, renamed back)"
sctl history --stack "$IT_STACK" | grep -Eq '^3\* .*committed' || fail "history after the rollback"
ok "rollback after the no-ops goes to revision 1 and the stack changes back"

out=$(sctl rollback --stack "$IT_STACK" 2>&1) || { echo "$out"; fail "second rollback"; }
echo "$out" | grep -q "from revision 3 to 2" || { echo "$out"; fail "second rollback did not go to revision 2"; }
assert_eq "$(mode)" two "web's MODE after the second rollback"
ok "rolling back again goes to revision 2, the one that differs"
