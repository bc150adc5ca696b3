#!/bin/bash
# The read-only tier and the audit log against the real engine.  shipd runs
# with --read-group, a group made for this test: a member of it (another
# uid, through setpriv) reaches SOCKET.ro and may run status, history and
# plan, but its deploy is refused (exit 4) and the refusal is in the audit
# log with its uid and pid; a uid in no group cannot connect at all (exit
# 4).  Root's deploy is audited when it starts and when it ends, the two
# lines paired by "req"; a shipd SIGKILLed in the middle of a deploy has
# left the start line, and the next shipd's recovery of it is audited; one
# stopped with SIGTERM in the middle records its end as shutting_down.
. "$(dirname "$0")/lib.sh"

READER_UID=60201
OUTSIDER_UID=60202
GROUP=shipdit$$
# Remove the group, then the cleanup of lib.sh with the test's status.
trap 'rc=$?; set +e; groupdel "$GROUP" >/dev/null 2>&1; (exit "$rc"); it_cleanup' EXIT
groupadd "$GROUP" || fail "groupadd $GROUP"
gid=$(getent group "$GROUP" | cut -d: -f3)
# The other uids need a way to the socket and to the unit files.
chmod 0755 "$IT_DIR" "$IT_UNITS"

as_reader() {
	setpriv --reuid=$READER_UID --regid=$READER_UID --groups="$gid" \
	    "$SHIPCTL" -s "$IT_SOCK" "$@"
}
as_outsider() {
	setpriv --reuid=$OUTSIDER_UID --regid=$OUTSIDER_UID --clear-groups \
	    "$SHIPCTL" -s "$IT_SOCK" "$@"
}
audit() {	# jq filter over the audit log, one JSON value a line
	jq -c "$1" "$IT_STATE/audit.log"
}

api() {		# extra environment line
	unit api <<EOF2
image: $IMAGE1
$1
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 10m}
EOF2
	chmod 0644 "$IT_UNITS"/*.yaml
}

stack_yaml </dev/null
api ""
start_shipd --group nogroup --read-group "$GROUP"

# The sockets: the main one keeps its group, the read-only one has ours.
assert_eq "$(stat -c '%a %G' "$IT_SOCK")" "660 nogroup" "the control socket"
assert_eq "$(stat -c '%a %G' "$IT_SOCK.ro")" "660 $GROUP" "the read-only socket"

# Root deploys: a start line, then an end line with the same req.
sctl deploy "$IT_UNITS" >/dev/null || fail "root's deploy failed"
starts=$(audit 'select(.cmd == "deploy" and .event == "start") | .req')
ends=$(audit 'select(.cmd == "deploy" and .event == "end" and .result == "ok") | .req')
assert_eq "$(echo "$starts" | wc -l)" 1 "deploy start lines"
assert_eq "$ends" "$starts" "the end line's req"
order=$(audit 'select(.cmd == "deploy") | .event' | tr -d '"' | tr '\n' ' ')
assert_eq "$order" "start end " "the order of the deploy's lines"
line=$(audit 'select(.cmd == "deploy" and .event == "start")')
assert_match "$line" "\"uid\":0,\"pid\":[0-9]+,\"cmd\":\"deploy\",\"args\":\\{[^}]*\"stack\":\"$IT_STACK\"" \
    "the start line"
ok "root's deploy: audited at its start and at its end"

# The reader may read.
out=$(as_reader status --stack "$IT_STACK" 2>&1) || fail "reader's status: $out"
assert_match "$out" "api" "reader's status"
out=$(as_reader history --stack "$IT_STACK" 2>&1) || fail "reader's history: $out"
assert_match "$out" "committed" "reader's history"
out=$(as_reader plan "$IT_UNITS" 2>&1) || fail "reader's plan: $out"
as_reader version >/dev/null 2>&1 || fail "reader's version"
ok "a --read-group member runs status, history, plan and version"

# ... but not change anything.
api 'environment: {SVC_VERSION: "2"}'
rc=0
out=$(as_reader deploy "$IT_UNITS" 2>&1) || rc=$?
assert_eq "$rc" 4 "reader's deploy: exit"
assert_match "$out" "deploy changes state: the read-only socket" "reader's deploy: message"
rc=0
out=$(as_reader down --stack "$IT_STACK" 2>&1) || rc=$?
assert_eq "$rc" 4 "reader's down: exit"
rc=0
out=$(as_reader --json scale --stack "$IT_STACK" api=2 2>&1) || rc=$?
assert_eq "$rc" 4 "reader's scale: exit"
assert_match "$out" '"code": *"permission_denied"' "reader's scale: JSON error code"
assert_eq "$(count_containers)" 1 "containers after the refused commands"
denied=$(audit "select(.event == \"denied\" and .uid == $READER_UID) | .cmd" |
    tr -d '"' | tr '\n' ' ')
assert_eq "$denied" "deploy down scale " "the refusals in the audit log"
audit "select(.event == \"denied\" and .cmd == \"deploy\") |
    (.pid > 0 and .result == \"permission_denied\" and .args.stack == \"$IT_STACK\")" |
    grep -qx true || fail "the refused deploy's line: $(audit 'select(.event == "denied")')"
ok "the reader's deploy, down and scale are refused (exit 4) and audited"

# A uid in neither group reaches no socket.
rc=0
out=$(as_outsider status 2>&1) || rc=$?
assert_eq "$rc" 4 "outsider's status: exit"
assert_match "$out" "Permission denied" "outsider's status: message"
rc=0
out=$(as_outsider status --json 2>/dev/null) || rc=$?
assert_eq "$rc" 4 "outsider's status --json: exit"
assert_eq "$(echo "$out" | jq -c '[.ok, .error.code]')" '[false,"permission_denied"]' \
    "outsider's status --json: the error line"
ok "a uid in neither group is refused on connect (exit 4; with --json the error line)"

# SIGKILL in the middle of a deploy: its start line is there, no end.
api 'environment: {SVC_NEVER_HEALTHY: "1"}'
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" >"$IT_DIR/deploy.out" 2>&1 &
in_apply() {
	sctl --json status --stack "$IT_STACK" |
	    jq -e '.operations[0] | .kind == "deploy" and .phase == "apply"'
}
wait_until 60 in_apply || fail "the second deploy never reached apply"
kill9_shipd
wait || true
req=$(audit 'select(.cmd == "deploy" and .event == "start") | .req' | tail -1)
[ "$req" != "$starts" ] || fail "the killed deploy left no start line"
assert_eq "$(audit "select(.req == $req) | .event" | tr -d '"' | tr '\n' ' ')" \
    "start " "the killed deploy's audit lines"
ok "a shipd killed mid-deploy left the deploy's start line"

start_shipd --group nogroup --read-group "$GROUP"
recovered() {
	sctl --json status --stack "$IT_STACK" | jq -e '(.operations // []) | length == 0'
}
wait_until 60 recovered || fail "the killed deploy was not recovered"
rec=$(audit 'select(.cmd == "recover") | [.event, .result, .args.stack, .uid] | join(" ")' |
    tr -d '"' | tr '\n' ',')
assert_eq "$rec" "start  $IT_STACK 0,end ok $IT_STACK 0," "the recovery's audit lines"
ok "the next shipd recovered it, audited at its start and end"

# SIGTERM in the middle of a deploy: its end says shipd stopped first.
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" >"$IT_DIR/deploy2.out" 2>&1 &
wait_until 60 in_apply || fail "the third deploy never reached apply"
stop_shipd
wait || true
req=$(audit 'select(.cmd == "deploy" and .event == "start") | .req' | tail -1)
assert_eq "$(audit "select(.req == $req) | [.event, .result // \"\"] | join(\" \")" |
    tr -d '"' | tr '\n' ',')" "start ,end shutting_down," "the stopped deploy's audit lines"
[ ! -e "$IT_SOCK" ] && [ ! -e "$IT_SOCK.ro" ] ||
    fail "a socket is left after shutdown: $(ls "$IT_DIR")"
ok "a deploy under way at SIGTERM ends shutting_down in the audit log; both sockets go"

start_shipd --group nogroup --read-group "$GROUP"
wait_until 60 recovered || fail "the stopped deploy was not recovered"
stop_shipd
