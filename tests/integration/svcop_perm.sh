#!/bin/bash
# The read-only tier and stop, start, restart, ps: a --read-group member
# (another uid, through setpriv) runs ps, human and --json, but its stop,
# start and restart are refused (exit 4), audited, and change nothing.
. "$(dirname "$0")/lib.sh"

READER_UID=60211
GROUP=shipdlf$$
trap 'rc=$?; set +e; groupdel "$GROUP" >/dev/null 2>&1; (exit "$rc"); it_cleanup' EXIT
groupadd "$GROUP" || fail "groupadd $GROUP"
gid=$(getent group "$GROUP" | cut -d: -f3)
chmod 0755 "$IT_DIR" "$IT_UNITS"

as_reader() {
	setpriv --reuid=$READER_UID --regid=$READER_UID --groups="$gid" \
	    "$SHIPCTL" -s "$IT_SOCK" "$@"
}

stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
init: true
EOF
chmod 0644 "$IT_UNITS"/*.yaml
start_shipd --group nogroup --read-group "$GROUP"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
id=$(cid api)

out=$(as_reader ps --stack "$IT_STACK" 2>&1) || fail "reader's ps: $out"
assert_match "$out" "^api +shipd-test/svc:1 +1/1 +1/1 +up " "reader's ps"
out=$(as_reader --json ps --stack "$IT_STACK" 2>&1) || fail "reader's ps --json: $out"
echo "$out" | jq -e '.services[0].service == "api"' >/dev/null || fail "reader's ps --json: $out"
ok "a --read-group member runs ps"

before=$(docker inspect -f '{{.State.Status}} {{.State.StartedAt}}' "$id")
for c in stop start restart; do
	rc=0
	out=$(as_reader $c --stack "$IT_STACK" api 2>&1) || rc=$?
	assert_eq "$rc" 4 "reader's $c: exit"
	assert_match "$out" "$c changes state: the read-only socket" "reader's $c: message"
done
assert_eq "$(docker inspect -f '{{.State.Status}} {{.State.StartedAt}}' "$id")" \
    "$before" "api (running, not restarted) after the refusals"
denied=$(jq -r "select(.event == \"denied\" and .uid == $READER_UID) | .cmd" \
    "$IT_STATE/audit.log" | tr '\n' ' ')
assert_eq "$denied" "stop start restart " "the refusals in the audit log"
ok "the reader's stop, start and restart are refused (exit 4) and audited"
