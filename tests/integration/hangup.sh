#!/bin/bash
# Clients that hang up at once: every command, sent on a connection closed
# the moment the request is written (a Ctrl-C early in shipctl), must leave
# shipd up and clean (the sanitizer build: no report), the mutating ones
# must still finish, and shipd must exit 0 on SIGTERM.  Run it against
# build-san/shipd to see a use-after-free as a report rather than a crash.
. "$(dirname "$0")/lib.sh"

HANGUP=${CTLHANGUP:-$ROOT/build/tests/ctlhangup}
[ -x "$HANGUP" ] || fail "$HANGUP is not built (make tests)"
N=20

stack_yaml </dev/null
unit talk <<EOF
image: $IMAGE1
environment: {SVC_LOG_EVERY: "0.2"}
init: true
EOF

# shipd is alive and its log has no sanitizer report.
clean() {
	kill -0 "$SHIPD_PID" 2>/dev/null || fail "shipd died after $1"
	! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$IT_LOG" ||
	    fail "sanitizer report after $1"
}

# hangup WHAT [-r] LINE: N hang-ups of one request, then shipd must still
# answer (the tool pings it) and be clean.
hangup() {
	local what=$1

	shift
	"$HANGUP" "${@:1:$#-1}" "$IT_SOCK" "$N" "${!#}" ||
	    fail "$what: shipd stopped answering"
	clean "$what"
	ok "$what: $N hang-ups, shipd answers"
}

# The request line shipctl sends for a command, caught on a socket of our
# own (shipctl then fails: nobody answers it).
capture() {
	local sock=$IT_DIR/capture.sock

	"$HANGUP" -c "$sock" >"$IT_DIR/line" &
	wait_until 5 test -S "$sock" || fail "capture socket"
	"$SHIPCTL" -s "$sock" "$@" >/dev/null 2>&1 || true
	wait $! || fail "capture of shipctl $*"
	cat "$IT_DIR/line"
}

req() {		# CMD ARGS-JSON
	printf '{"v":1,"id":1,"cmd":"%s","args":%s}' "$1" "$2"
}

unlocked() {
	sctl --json status --stack "$IT_STACK" | grep -q '"lock":null'
}

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' logs --stack '$IT_STACK' talk | grep -q tick" ||
    fail "no log lines"
S="\"stack\":\"$IT_STACK\""

# The issue's case first: the container list still pending.
hangup "logs of an unknown stack" "$(req logs '{"stack":"x","service":"y"}')"
hangup "logs" "$(req logs "{$S,\"service\":\"talk\"}")"
hangup "logs -f" "$(req logs "{$S,\"service\":\"talk\",\"follow\":true}")"
hangup "logs -f, once streaming" -r \
    "$(req logs "{$S,\"service\":\"talk\",\"follow\":true,\"tail\":0}")"
hangup "logs of every service" "$(req logs "{$S,\"until\":4102444800}")"
hangup "logs -f of every service, once streaming" -r \
    "$(req logs "{$S,\"follow\":true}")"
hangup "status of a stack" "$(req status "{$S}")"
hangup "status" "$(req status '{}')"
hangup "events" "$(req events "{$S}")"
hangup "events, filtered" \
    "$(req events "{$S,\"all\":true,\"services\":[\"talk\"],\"types\":[\"container\"]}")"
hangup "history" "$(req history "{$S}")"
hangup "backups" "$(req backups "{$S}")"
hangup "verify" "$(req verify "{$S,\"id\":\"20260101T000000Z-aaaaaa\"}")"
hangup "version" "$(req version '{}')"
hangup "ping" "$(req ping '{}')"
hangup "plan" "$(capture plan "$IT_UNITS")"
hangup "attach with nothing under way" "$(req attach "{$S}")"
# Mutating, but with nothing under way it answers at once.
hangup "cancel" "$(req cancel "{$S}")"

# Mutating: one at a time, each must still run to its end.
N=1
unit talk <<EOF
image: $IMAGE1
environment: {SVC_LOG_EVERY: "0.2", CHANGED: "1"}
init: true
EOF
hangup "deploy" "$(capture deploy "$IT_UNITS")"
wait_until 60 sh -c "'$SHIPCTL' -s '$IT_SOCK' --json history --stack '$IT_STACK' | grep -q '\"revision\":2'" ||
    fail "the deploy whose client hung up did not go on"
wait_until 60 unlocked || fail "the deploy left its lock"
hangup "scale" "$(req scale "{$S,\"replicas\":{\"talk\":2}}")"
wait_until 60 sh -c "[ \$(docker ps -q --filter label=$IT_LABEL --filter status=running | wc -l) = 2 ]" ||
    fail "the scale whose client hung up did not go on"
wait_until 60 unlocked || fail "the scale left its lock"
hangup "rollback" "$(req rollback "{$S}")"
wait_until 60 sh -c "'$SHIPCTL' -s '$IT_SOCK' --json history --stack '$IT_STACK' | grep -q '\"revision\":3'" ||
    fail "the rollback whose client hung up did not go on"
wait_until 60 unlocked || fail "the rollback left its lock"
hangup "backup" "$(req backup "{$S}")"
wait_until 60 unlocked || fail "the backup left its lock"
hangup "restore" "$(req restore "{$S,\"id\":\"20260101T000000Z-aaaaaa\"}")"
wait_until 60 unlocked || fail "the restore left its lock"
hangup "down" "$(req down "{$S}")"
wait_until 60 sh -c "[ \$(docker ps -aq --filter label=$IT_LABEL | wc -l) = 0 ]" ||
    fail "the down whose client hung up did not go on"
wait_until 60 unlocked || fail "the down left its lock"

# SIGTERM with a follower streaming: its streams are cancelled, its state
# freed once, and shipd exits 0.
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy after down"
"$SHIPCTL" -s "$IT_SOCK" logs --stack "$IT_STACK" -f talk >"$IT_DIR/follow" 2>&1 &
fpid=$!
wait_until 10 grep -q tick "$IT_DIR/follow" || fail "logs -f shows nothing"
stop_shipd
wait "$fpid" 2>/dev/null || true
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$IT_LOG" ||
    fail "sanitizer report at shutdown"
ok "shipd exits 0 on SIGTERM, clean"
