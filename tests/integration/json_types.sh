#!/bin/bash
# Every --json command against the real engine, each line checked against
# one table, tests/json_types.txt: a member has one JSON type wherever it
# appears (a reply, an event, shipctl's own error), a member the table
# does not list fails too, so a new one comes with its row (and its row in
# docs/protocol.md).  The final line of each command carries "ok"; an
# error is {"ok":false,"error":{"code","message"}} wherever it comes from.
. "$(dirname "$0")/lib.sh"

TYPES=$ROOT/tests/json_types.txt
OUT=$IT_DIR/out
mkdir -p "$OUT"
n=0

# j NAME WANT-RC ARGS...: one shipctl --json run, its stdout kept for the
# checks below, its exit status checked.
j() {
	local name=$1 want=$2 rc=0
	shift 2
	n=$((n + 1))
	"$SHIPCTL" -s "$IT_SOCK" "$@" > "$OUT/$(printf %02d $n)-$name" \
	    2>"$IT_DIR/stderr" || rc=$?
	[ "$rc" = "$want" ] || fail "$name ($*): exit $rc, want $want: $(cat "$OUT/$(printf %02d $n)-$name" "$IT_DIR/stderr" | head -c 800)"
}

stack_yaml <<EOF
volumes: [data]
EOF
write() {	# image web-env
	unit db <<EOF
image: $1
volumes: ["data:/data"]
environment: {SVC_NAME: db, SVC_WRITE: /data/log}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
backup: {paths: [/data], keep: 3}
EOF
	unit web <<EOF
image: $1
replicas: 2
depends_on: [db]
environment: {SVC_NAME: web$2}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 3s}
stop_grace: 1s
EOF
}

start_shipd
write "$IMAGE1" ""
j validate 0 --json validate "$IT_UNITS"
j plan 1 plan --json "$IT_UNITS"
j deploy 0 -j deploy "$IT_UNITS"
# An events and a logs -f stream for the rest of the test.
"$SHIPCTL" -s "$IT_SOCK" events --stack "$IT_STACK" --all --json \
    > "$OUT/90-events" 2>&1 &
evpid=$!
"$SHIPCTL" -s "$IT_SOCK" logs -f --stack "$IT_STACK" --json \
    > "$OUT/91-logs-f" 2>&1 &
logpid=$!
wait_until 10 grep -q '"subscribed"' "$OUT/90-events" ||
    fail "events never subscribed"
j version 0 version --json
j help 0 help --json
j help-one 0 --json help status
j status-all 0 status --json
j status 0 status --stack "$IT_STACK" --json
j top 0 top --stack "$IT_STACK" --json
j history 0 history --stack "$IT_STACK" --json
j backup 0 backup --stack "$IT_STACK" --json
j backups-all 0 backups --json
j backups 0 backups --stack "$IT_STACK" --json
j logs 0 logs --stack "$IT_STACK" -n 3 --json
j scale 0 scale --stack "$IT_STACK" web=1 --json
j ps 0 ps --stack "$IT_STACK" --json
j restart 0 restart --stack "$IT_STACK" web --json
# config prints the stack model (docs/units.md), not a reply: only its
# final-line shape is this test's.
"$SHIPCTL" config "$IT_UNITS" --json | jq -e '.ok == true and
    (.stack | type == "object") and (keys == ["ok", "stack"])' >/dev/null ||
    fail "config --json: not one line with ok and the stack"
# A deploy that never gets healthy: while it runs, status shows it and
# its lock, a second deploy is refused busy with its own exit status, and
# a cancel stops it (it rolls back what it touched).
write "$IMAGE1" ", SVC_NEVER_HEALTHY: '1'"
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" --json > "$OUT/50-deploy-fails" \
    2>"$IT_DIR/stderr-bg" &
dpid=$!
under_way() {
	sctl --json status --stack "$IT_STACK" > "$IT_DIR/st" &&
	    jq -e '(.operations | length) > 0 and .lock != null' "$IT_DIR/st"
}
wait_until 20 under_way || fail "status never showed the deploy: $(cat "$IT_DIR/st")"
cp "$IT_DIR/st" "$OUT/51-status-busy"
j deploy-busy 6 deploy "$IT_UNITS" --json
j cancel 0 cancel --stack "$IT_STACK" --json
rc=0
wait "$dpid" || rc=$?
[ "$rc" = 1 ] || fail "the unhealthy deploy exited $rc, want 1: $(tail -n 3 "$OUT/50-deploy-fails")"
write "$IMAGE2" ""
j deploy2 0 deploy "$IT_UNITS" --json
j rollback-data 0 rollback --stack "$IT_STACK" --with-data --json
j history2 0 history --stack "$IT_STACK" --json
j status-kept 0 status --stack "$IT_STACK" --json
bid=$(jq -r '.backups[0].id' "$OUT"/*-backups | head -1)
j restore 0 restore --stack "$IT_STACK" "$bid" --json
j verify 0 backup --verify "$bid" --stack "$IT_STACK" --json
# Errors: shipd's and shipctl's own.
j cancel-idle 1 cancel --stack "$IT_STACK" --json
j unknown-stack 1 status --stack "$IT_STACK-typo" --json
j usage 2 status --bogus --json
j usage-cmd 2 --json frobnicate
j no-daemon 3 -s "$IT_DIR/nothing.sock" status --json
printf 'image: [\n' > "$IT_DIR/bad.yaml"
mkdir -p "$IT_DIR/bad" && mv "$IT_DIR/bad.yaml" "$IT_DIR/bad/x.yaml"
printf 'name: %s-bad\n' "$IT_STACK" > "$IT_DIR/bad/stack.yaml"
j invalid 2 validate "$IT_DIR/bad" --json
j down 0 down --stack "$IT_STACK" --json
wait_until 20 sh -c "! kill -0 $logpid 2>/dev/null" ||
    fail "logs -f did not end with the stack removed"
wait "$logpid" || fail "logs -f exited $?"
# events goes on until interrupted (a stack may come back): it has no
# final line, only its events, the "stack removed" one last.
wait_until 20 grep -q '"type":"stack"' "$OUT/90-events" ||
    fail "events never said the stack was removed"
kill -TERM "$evpid"
wait "$evpid" 2>/dev/null || true

# Each file: JSON lines only; the last carries ok, true when the command
# exited 0; ok:false has the error shape.
for f in "$OUT"/*; do
	jq -e . "$f" >/dev/null 2>&1 || fail "$(basename "$f"): not JSON lines: $(head -c 400 "$f")"
	[ "$f" != "$OUT/90-events" ] || continue
	last=$(tail -n 1 "$f")
	echo "$last" | jq -e 'has("ok") and (.ok | type == "boolean")' \
	    >/dev/null || fail "$(basename "$f"): last line has no ok: $last"
	case $(basename "$f") in
	*-deploy-fails|*-deploy-busy|*-cancel-idle|*-unknown-stack|*-usage*|*-no-daemon|*-invalid)
		echo "$last" | jq -e '.ok == false and (keys == ["error", "ok"]) and
		    (.error.code | type == "string") and
		    (.error.message | type == "string")' >/dev/null ||
		    fail "$(basename "$f"): not the error shape: $last" ;;
	*)	echo "$last" | jq -e '.ok == true' >/dev/null ||
		    fail "$(basename "$f"): last line not ok: $last" ;;
	esac
done
ok "every command's last --json line carries ok; errors have one shape"
assert_match "$(cat "$OUT"/*-unknown-stack)" '"code":"not_found"' "unknown stack"
assert_match "$(cat "$OUT"/*-usage)" '"code":"usage"' "usage error"
assert_match "$(tail -n 1 "$OUT"/*-deploy-busy)" '"code":"busy"' "busy"
assert_match "$(cat "$OUT"/*-no-daemon)" '"code":"no_daemon"' "no daemon"

# Every member of every line against the table.  The "id" of an event
# line is the request's, as the client sent it (an integer from shipctl).
cat "$OUT"/* > "$IT_DIR/all"
jq -r --rawfile table "$TYPES" '
	def want: [$table | split("\n")[] | select(test("^[a-z]")) |
	    capture("^(?<k>[a-z_0-9]+)\\s+(?<t>\\S+)")] |
	    map({(.k): (.t | split("|"))}) | add;
	def ty: if type == "number" then
		(if . == floor then "integer" else "number" end)
	    else type end;
	want as $w |
	(if has("event") then del(.id) else . end) |
	[.. | objects | to_entries[] |
	    select(. as $e | ($w[$e.key] // []) | index($e.value | ty) |
	    not) |
	    "\(.key): \(.value | ty) (table: \($w[.key] // ["absent"] |
	    join("|")))"] | .[]' "$IT_DIR/all" > "$IT_DIR/offtable" ||
    fail "the type check itself failed"
bad=$(sort -u "$IT_DIR/offtable")
[ -z "$bad" ] || fail "members off the table tests/json_types.txt:
$bad"
ok "$(cat "$OUT"/* | wc -l) lines of $n commands and two streams: every member has its one type"

# And the values that had two types before: replica and revision in
# status, replica, time and exit_code in events.
assert_eq "$(jq -c '[.containers[] | .replica | type] | unique' "$OUT"/*-status)" \
    '["number"]' "status replica"
assert_eq "$(jq -c '[.containers[] | .revision | type] | unique' "$OUT"/*-status)" \
    '["number"]' "status revision"
assert_match "$(jq -r '.containers[0].created' "$OUT"/*-status)" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "status created"
assert_eq "$(jq -c 'select(.event == "engine" and .replica != null) |
    [(.replica | type), (.time | type)]' "$OUT/90-events" | sort -u)" \
    '["number","string"]' "events replica and time"
ok "replica and revision integers, times RFC 3339, in status and events"
